"""Translations: catalogs in step with the sources, the deal's locale checked, pages in the deal's language."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from icalendar import Calendar

from dealrooms_plugin import i18n
from dealrooms_plugin.calendar import deal_calendar
from dealrooms_plugin.errors import InvalidDeal
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule

from buildutil import build_site, set_plugin_options

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "plugins" / "dealrooms_plugin"
LOCALES = PACKAGE / "locales"
REQUIRED = {"en", "de", "fr", "es", "vi", "th", "ro"}


def _source_messages() -> set[str]:
    """Every msgid in the sources, extracted the way `./dev i18n` does (babel.cfg)."""
    method_map = [("plugins/dealrooms_plugin/**.py", "python"), ("plugins/dealrooms_plugin/templates/**.html", "jinja2")]
    options = {"plugins/dealrooms_plugin/templates/**.html": {
        "extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trimmed": "true",
        "trim_blocks": "true", "lstrip_blocks": "true",
    }}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2),
                "npgettext": ((1, "c"), 2, 3), "ntranslate": (2, 3)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options, keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_catalog_lists_every_message_in_the_sources() -> None:
    with (LOCALES / "dealrooms.pot").open("rb") as fp:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}
    sources = _source_messages()
    assert sources - template == set(), "run ./dev i18n: these messages are not in dealrooms.pot"
    assert template - sources == set(), "run ./dev i18n: dealrooms.pot lists messages the sources no longer use"


@pytest.mark.parametrize("language", sorted(REQUIRED - {"en"}))
def test_each_compiled_catalog_is_its_po_file_compiled(language: str) -> None:
    folder = LOCALES / language / "LC_MESSAGES"
    with (folder / "dealrooms.po").open("rb") as fp:
        catalog = read_po(fp)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (folder / "dealrooms.mo").read_bytes() == compiled.getvalue(), "run ./dev i18n to compile the catalogs"


def test_the_required_languages_are_available() -> None:
    assert REQUIRED <= set(i18n.languages())


@pytest.mark.parametrize(
    ("written", "normalised"),
    [("de", "de"), ("en_GB", "en_GB"), ("en-GB", "en_GB"), ("EN", "en"), ("de_AT", "de_AT"), ("th", "th")],
)
def test_a_supported_locale_is_normalised(written: str, normalised: str) -> None:
    assert str(i18n.parse_locale(written)) == normalised


@pytest.mark.parametrize(
    ("written", "message", "hint"),
    [
        ("vn", "unknown locale 'vn'; expected a language code like de or en_GB", "did you mean 'vi'?"),
        ("zz_ZZ", "unknown locale 'zz_ZZ'; expected a language code like de or en_GB", None),
        ("ja", "no translation for 'Japanese' (ja)", "add a catalog for it (README, 'Translations'), or pick a listed language"),
    ],
)
def test_an_unknown_or_untranslated_locale_is_refused(written: str, message: str, hint: str | None) -> None:
    with pytest.raises(i18n.UnsupportedLocale) as caught:
        i18n.parse_locale(written)
    assert caught.value.message.startswith(message)
    if hint:
        assert caught.value.hint == hint


def test_a_bad_locale_in_a_deal_file_is_a_problem_with_its_line(project: Path) -> None:
    deal = project / "dealrooms" / "marlow-vine.yml"
    text = deal.read_text(encoding="utf-8")
    deal.write_text(re.sub(r"(?m)^  locale: .*$", "  locale: vn", text), encoding="utf-8")
    line = next(i for i, row in enumerate(deal.read_text(encoding="utf-8").splitlines(), 1) if row.strip() == "locale: vn")
    with pytest.raises(InvalidDeal) as caught:
        load_deal(deal, project_dir=project)
    [problem] = caught.value.problems
    assert str(problem) == (
        f"dealrooms/marlow-vine.yml:{line}: deal.locale: unknown locale 'vn'; expected a language code like de or en_GB"
        " (hint: did you mean 'vi'?)"
    ) or (problem.line == line and problem.hint == "did you mean 'vi'?")


def test_a_goal_s_target_is_not_called_a_date(project: Path) -> None:
    # One message, "Target", names the timeline's target date and a goal's target value
    # (Value page: Baseline, Now, Target); a word for a date ("Zieltermin", "Échéance")
    # would call 350 hours a deadline.
    deals = project / "dealrooms"
    for slug, locale in (("kestrel-freight", "de"), ("halden-health", "fr")):
        deal = deals / f"{slug}.yml"
        deal.write_text(re.sub(r"(?m)^  locale: .*$", f"  locale: {locale}", deal.read_text(encoding="utf-8")),
                        encoding="utf-8")
    set_plugin_options(project, protect=False)
    site = build_site(project)
    for slug, target, date_words in (("kestrel-freight", "Ziel", ("Zieltermin",)), ("halden-health", "Objectif", ("Échéance",))):
        labels = re.findall(r"<dt>([^<]*)</dt>", (site / slug / "value" / "index.html").read_text(encoding="utf-8"))
        assert target in labels, (slug, labels)
        assert not set(labels) & set(date_words), (slug, labels)


def test_template_callables_escape_arguments_but_not_the_catalog_text() -> None:
    gettext = i18n.template_callables("en")["gettext"]
    assert str(gettext("Target: %(date)s", date="<b>x</b>")) == "Target: &lt;b&gt;x&lt;/b&gt;"
    assert str(gettext("100%% sure")) == "100% sure"


def test_a_german_deal_room_is_german(project: Path) -> None:
    deal = project / "dealrooms" / "marlow-vine.yml"
    deal.write_text(re.sub(r"(?m)^  locale: .*$", "  locale: de", deal.read_text(encoding="utf-8")), encoding="utf-8")
    set_plugin_options(project, protect=False)
    site = build_site(project)
    overview = (site / "marlow-vine" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="de"' in overview
    english = (site / "kestrel-freight" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in english
    # Material's own words follow the deal (the label of its tabs), the other deal stays English.
    assert 'aria-label="Hauptnavigation"' in overview and 'aria-label="Tabs"' in english


# --- the catalogs themselves ----------------------------------------------------------

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?[a-z][^>]*>")


def _catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "dealrooms.po").open("rb") as fp:
        return read_po(fp)


def _forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def _ids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


@pytest.mark.parametrize("language", sorted(REQUIRED - {"en"}))
def test_every_message_is_translated_and_reviewed(language: str) -> None:
    catalog = _catalog(language)
    untranslated = [_ids(m)[0] for m in catalog if m.id and not all(_forms(m))]
    fuzzy = [_ids(m)[0] for m in catalog if m.id and m.fuzzy]
    assert untranslated == [], f"{language}: translate these in locales/{language}/LC_MESSAGES/dealrooms.po"
    assert fuzzy == [], f"{language}: review these (remove the fuzzy flag once checked)"


@pytest.mark.parametrize("language", sorted(REQUIRED - {"en"}))
def test_translations_keep_the_placeholders_and_markup_of_their_message(language: str) -> None:
    wrong = []
    for message in _catalog(language):
        if not message.id or not all(_forms(message)):
            continue
        ids = _ids(message)
        names = {name for text in ids for name in PLACEHOLDER.findall(text)}
        tags = sorted(TAG.findall(ids[-1]))
        for form in _forms(message):
            if set(PLACEHOLDER.findall(form)) != names or sorted(TAG.findall(form)) != tags:
                wrong.append((ids[0], form))
                continue
            try:  # a lone % (French "10 %") would break formatting at render time
                form % {name: "x" for name in names}
            except (ValueError, TypeError, KeyError) as exc:
                wrong.append((ids[0], f"{form} ({exc})"))
    assert wrong == []


@pytest.mark.parametrize("language", sorted(REQUIRED - {"en"}))
def test_plural_messages_have_as_many_forms_as_the_language(language: str) -> None:
    catalog = _catalog(language)
    expected = {"de": 2, "fr": 2, "es": 2, "vi": 1, "th": 1, "ro": 3}[language]
    assert catalog.num_plurals == expected
    plurals = [m for m in catalog if m.id and isinstance(m.id, tuple)]
    assert plurals, "the catalog has no plural messages: were they extracted without their plural (see below)?"
    assert [(m.id[0], len(_forms(m))) for m in plurals if len(_forms(m)) != expected] == []


def _source_plurals() -> set[tuple[str, str]]:
    method_map = [("plugins/dealrooms_plugin/**.py", "python"), ("plugins/dealrooms_plugin/templates/**.html", "jinja2")]
    options = {"plugins/dealrooms_plugin/templates/**.html": {
        "extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trimmed": "true",
        "trim_blocks": "true", "lstrip_blocks": "true",
    }}
    keywords = {"ngettext": (1, 2), "npgettext": ((1, "c"), 2, 3), "ntranslate": (2, 3)}
    return {tuple(message) for _f, _l, message, _c, _x in extract_from_dir(str(ROOT), method_map, options, keywords)
            if not isinstance(message, str)}


def test_plural_messages_keep_their_plural_in_the_template_catalog() -> None:
    # `pybabel extract -k ngettext` (no argument spec) keeps only the singular, and
    # every language then shows English plurals ("3 days late" on a German page);
    # i18n.ntranslate(locale, singular, plural, n) needs -k ntranslate:2,3.
    with (LOCALES / "dealrooms.pot").open("rb") as fp:
        template = {m.id for m in read_po(fp) if m.id and isinstance(m.id, tuple)}
    sources = _source_plurals()
    assert sources, "no plural messages found in the sources"
    assert sources - template == set(), "extract with -k ngettext:1,2 (./dev i18n)"


@pytest.mark.parametrize("language", sorted(REQUIRED - {"en"}))
def test_plurals_are_translated_at_render_time(language: str) -> None:
    english = {n: i18n.ntranslate("en", "%(num)s day", "%(num)s days", n) for n in (1, 3, 25)}
    for n, text in english.items():
        assert i18n.ntranslate(language, "%(num)s day", "%(num)s days", n) != text
    assert i18n.ntranslate(language, "%(num)s day", "%(num)s days", 3).startswith("3")


# --- the calendar -----------------------------------------------------------------------


def _calendar_events(project: Path, locale: str) -> dict[str, str]:
    deal_file = project / "dealrooms" / "kestrel-freight.yml"
    deal_file.write_text(re.sub(r"(?m)^  locale: .*$", f"  locale: {locale}", deal_file.read_text(encoding="utf-8")),
                         encoding="utf-8")
    deal = load_deal(deal_file, project_dir=project).deal
    data = deal_calendar("kestrel-freight", deal, schedule(deal, dt.date(2026, 11, 20)))
    return {str(e["UID"]).split("@")[0]: str(e["DESCRIPTION"]) for e in Calendar.from_ical(data).walk("VEVENT")}


def test_a_german_deal_s_calendar_is_german(project: Path) -> None:
    events = _calendar_events(project, "de")
    security = events["security-review"]
    assert "Verantwortlich: Marta Kowalczyk (Head of IT Security, Kestrel Freight; Käufer)" in security
    assert "Status: in Arbeit, 7 Tage überfällig" in security
    assert "Geplant: 2026-11-13; voraussichtlich: 2026-11-20 (+7 Tage)" in security
    assert "Auf dem kritischen Pfad: Der Zieltermin verschiebt sich vom 2027-02-15 auf den 2027-02-22" in security
    assert "Status: erledigt am 2026-10-06" in events["discovery"]
    assert "Verantwortlich: Orbisoft (Verkäufer)" in events["integration"]
    assert "Nach: Security questionnaire returned" in events["pilot-results"]
    meeting = next(text for uid, text in events.items() if uid.startswith("meeting-"))
    assert "\nDeal: " in "\n" + meeting.split("\n\n")[-1]
    # None of the English words the calendar adds is left (owner names, titles and step titles are deal text).
    for text in events.values():
        for english in ("Owner:", "Status: in progress", "overdue", "Planned:", "projected:", "critical path",
                        "After:", "done on", "; buyer)", "(seller)"):
            assert english not in text


def test_a_thai_deal_s_calendar_has_one_plural_form(project: Path) -> None:
    security = _calendar_events(project, "th")["security-review"]
    assert "สถานะ: กำลังดำเนินการ เลยกำหนด 7 วัน" in security
    assert "(+7 วัน)" in security


# --- the unlock page ----------------------------------------------------------------------


def _unlock_html(language: str | None) -> str:
    from dealrooms_plugin.protect import Brand, UnlockPage

    unlock = UnlockPage(Brand("Orbisoft"))
    language_given = {"locale": language} if language else {}
    return unlock.render(deal_root="../", site_root="../../", lock={}, **language_given).decode("utf-8")


def _unlock_texts(html: str) -> dict[str, str]:
    import json

    start = html.index(">", html.index('id="dr-unlock-text"')) + 1
    return json.loads(html[start:html.index("</script>", start)])


def test_the_unlock_page_is_in_the_deal_s_language() -> None:
    german = _unlock_html("de")
    assert '<html lang="de">' in german
    assert "Dieser Deal-Room ist privat." in german and "Fragen Sie Ihren Ansprechpartner bei Orbisoft." in german
    texts = _unlock_texts(german)
    assert texts["wrong"].startswith("Mit diesem Passwort") and texts["lock"] == "Sperren"
    thai = _unlock_html("th")
    assert '<html lang="th">' in thai and "พื้นที่โครงการนี้เป็นพื้นที่ส่วนตัว" in thai
    # Without a locale (render's default) the page is the English source text.
    english = _unlock_html(None)
    assert '<html lang="en">' in english and "This deal room is private." in english
    assert _unlock_texts(english)["lock"] == "Lock"


def test_unlock_js_shows_only_words_the_page_gives_it() -> None:
    script = (PACKAGE / "assets" / "unlock.js").read_text(encoding="utf-8")
    # t("key"), t(cond ? "a" : "b"), and the lock menu's ["this", "lock_this"] (+ "_note")
    used = set(re.findall(r"""\bt\(\s*"(\w+)"\s*\)""", script))
    for pair in re.findall(r'\bt\([^)]*\? "(\w+)" : "(\w+)"\)', script):
        used |= set(pair)
    for key in re.findall(r'"(lock_\w+)"\]', script):
        used |= {key, f"{key}_note"}
    texts = _unlock_texts(_unlock_html("de"))
    assert {"wrong", "open", "hide", "lock_this_note"} <= used <= set(texts), "unlock.js asks for words the page lacks"
    assert all(texts.values())
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)
    literals = " ".join(m[1:-1] for m in re.findall(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', code))
    english = [m for m in _unlock_texts(_unlock_html(None)).values() if m in literals]
    assert english == [], "unlock.js must take these words from the page (#dr-unlock-text), not write them"
