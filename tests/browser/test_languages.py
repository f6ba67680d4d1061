"""Deal rooms in the buyer's language, in real headless Chromium: no English label left.

Each example deal is copied with ``locale`` set to de, fr, es, vi, th and ro and
built plain. Every page is opened with the clock moved past the build (so the
browser-side texts are shown too); from everything a buyer can read (text,
labels, tooltips, the print summary, the texts the page's script shows) the
deal's own text is removed (titles, names, notes: every string of its YAML), and
no English message of the catalog may be left. ``<html lang>`` is the deal's.
A protected German deal's unlock page, its messages and the lock menu are
German. At 390 px the longer German, Thai and Vietnamese words still fit.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from browserutil import StaticServer
from buildutil import build_site, copy_examples
from protectutil import copy_project, password_for, set_passwords

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "plugins" / "dealrooms_plugin" / "locales"
LANGUAGES = ["de", "fr", "es", "vi", "th", "ro"]
EXAMPLES = ["kestrel-freight", "halden-health", "marlow-vine"]
PAGES = ["", "plan/", "people/", "value/", "proposal/"]
BUILT = "2026-11-22"
LATER = dt.datetime(2027, 1, 10, 10, 0)  # past targets, expiries and due dates: the script's own texts show
# Material's own words, which come from its language files, not our catalogs.
MATERIAL_ENGLISH = ["Skip to content", "Back to top", "Table of contents", "Made with", "Type to start searching"]

# Everything a buyer can read: text (hidden parts too: the print summary, the
# texts the script swaps in), labels, tooltips, alt texts; JSON blocks' strings.
READABLE = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const tag = node.parentElement ? node.parentElement.tagName : "";
    if (tag !== "SCRIPT" && tag !== "STYLE" && tag !== "TEMPLATE") { out.push(node.textContent); }
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt], [data-label]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt", "data-label"]) {
      if (el.hasAttribute(name)) { out.push(el.getAttribute(name)); }
    }
  }
  const strings = (value) => {
    if (typeof value === "string") { out.push(value); }
    else if (value && typeof value === "object") { Object.values(value).forEach(strings); }
  };
  for (const el of document.querySelectorAll('script[type="application/json"]')) {
    try { strings(JSON.parse(el.textContent)); } catch (e) { /* not ours */ }
  }
  out.push(document.title);
  return out;
}"""


def _space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "dealrooms.po").open("rb") as fp:
        return read_po(fp)


def english_fragments(language: str) -> list[str]:
    """The English words of every message, cut at placeholders and markup, that the language does not share.

    "Expires in %(days)s (%(date)s)" gives "Expires in"; fragments of three
    letters or fewer are left out, and so are those the translation keeps
    (German "Status", "Plan", "Partner").
    """
    found = set()
    for message in _catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        translated = " ".join(forms)
        for text in ids:
            for part in re.split(r"%\(\w+\)s|<[^>]+>|&amp;|\n", html_lib.unescape(text)):
                part = _space(part).strip(" ,.;:()·—→")
                if sum(c.isalpha() for c in part) > 3 and part not in translated:
                    found.add(part)
    return sorted(found, key=len, reverse=True)


def deal_strings(deal_file: Path) -> list[str]:
    """Every string the deal file writes (titles, names, notes, terms ...), as written and as the page renders it."""
    from dealrooms_plugin.render import humanize, markdown

    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(_space(value))
            found.update(_space(line) for line in value.splitlines())
            # As the page shows it: the Markdown rendered, whole and element by element
            # (a list's items, a bold word), as the page's text nodes are collected.
            rendered = html_lib.unescape(str(markdown(value)))
            found.add(_space(re.sub(r"<[^>]+>", " ", rendered)))
            found.update(_space(chunk) for chunk in re.split(r"<[^>]+>", rendered))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    data = yaml.safe_load(deal_file.read_text(encoding="utf-8"))
    walk(data)
    stage = (data.get("deal") or {}).get("stage")
    if stage:
        found.add(humanize(stage))  # "Stage: %(stage)s" shows the deal's own stage id, humanized
    return sorted((s for s in found if len(s) > 1), key=len, reverse=True)


def english_left(readable: list[str], deal_text: list[str], fragments: list[str]) -> list[str]:
    """The English fragments still found once the deal's own text is taken out."""
    # The script's message templates keep their placeholders (%(days)s): names, not words.
    text = re.sub(r"%\(\w+\)s", " ", "\n".join(_space(t) for t in readable if t and t.strip()))
    for own in deal_text:  # whole words only: a deal's "in" must not eat the "in" of "Expires in"
        text = re.sub(rf"(?<!\w){re.escape(own)}(?!\w)", "\n", text)
    return [f for f in fragments if re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples, each copied once per language (``kestrel-freight-de`` ...), nothing else."""
    project = tmp_path_factory.mktemp("languages")
    copy_examples(project)
    deals = project / "dealrooms"
    for slug in EXAMPLES:
        source = deals / f"{slug}.yml"
        text = source.read_text(encoding="utf-8")
        for language in LANGUAGES:
            (deals / f"{slug}-{language}.yml").write_text(
                re.sub(r"(?m)^  locale: .*$", f"  locale: {language}", text), encoding="utf-8")
        source.unlink()
    return project


@pytest.fixture(scope="module")
def server(project: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALROOMS_TODAY", BUILT)
        mp.chdir(project)
        site = build_site(project)
    srv = StaticServer(site)
    yield srv
    srv.close()


def _open(browser, url: str, *, width: int = 1280, clock: dt.datetime | None = LATER):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if clock:
        page.clock.set_fixed_time(clock)
    page.goto(url, wait_until="networkidle")
    assert errors == [], errors
    return page


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_label_is_left_on_any_page(session_browser, project: Path, server: StaticServer,
                                              language: str) -> None:
    fragments = english_fragments(language)
    assert "Next steps" in fragments or language == "xx"  # the check knows the words it looks for
    left = {}
    for example in EXAMPLES:
        slug = f"{example}-{language}"
        deal_text = deal_strings(project / "dealrooms" / f"{slug}.yml")
        for path in PAGES:
            page = _open(session_browser, f"{server.url}{slug}/{path}")
            try:
                assert page.evaluate("document.documentElement.lang") == language
                readable = page.evaluate(READABLE)
            finally:
                page.close()
            found = english_left(readable, deal_text, fragments + MATERIAL_ENGLISH)
            if found:
                left[f"{slug}/{path}"] = found
    assert left == {}, "English left on these pages (translate in locales/<lang>/LC_MESSAGES/dealrooms.po)"


def test_the_check_finds_english_where_it_is_left(project: Path) -> None:
    # The same check on an English text: it must see the labels (and not the deal's own words).
    deal_text = deal_strings(project / "dealrooms" / "kestrel-freight-de.yml")
    readable = ["Next steps", "Security questionnaire returned", "Marta Kowalczyk", "Nächste Schritte",
                "Expires in 3 Tage (19.12.2026)", "Stage: Evaluation"]
    left = english_left(readable, deal_text, english_fragments("de"))
    assert set(left) == {"Next steps", "Expires in", "Stage"}


@pytest.mark.parametrize("language", ["de", "vi", "th"])
@pytest.mark.parametrize("path", PAGES)
def test_the_longer_words_fit_on_a_phone(session_browser, server: StaticServer, language: str, path: str) -> None:
    page = _open(session_browser, f"{server.url}kestrel-freight-{language}/{path}", width=390)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth")
        # Buttons, chips, card labels, tabs and table headers must show their whole label.
        clipped = page.evaluate("""() => [...document.querySelectorAll(
            '.md-button, .dr-button, .dr-chip, .dr-card__label, .md-tabs__link, th, .dr-badge, .dr-health')]
            .filter(el => el.offsetParent && el.scrollWidth > el.clientWidth + 1
                          && getComputedStyle(el).overflowX !== 'visible')
            .map(el => el.textContent.trim())""")
    finally:
        page.close()
    assert overflow <= 390
    assert clipped == []


# --- the unlock page of a protected German deal -----------------------------------------


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("unlock-de")
    project = copy_project(base / "project")
    deals = project / "dealrooms"
    text = (deals / "kestrel-freight.yml").read_text(encoding="utf-8")
    (deals / "kestrel-freight.yml").write_text(re.sub(r"(?m)^  locale: .*$", "  locale: de", text), encoding="utf-8")
    for other in ("halden-health", "marlow-vine"):
        (deals / f"{other}.yml").unlink()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALROOMS_TODAY", BUILT)
        mp.chdir(project)
        set_passwords(mp, project, base / "cache")
        site = build_site(project)
    srv = StaticServer(site)
    yield srv
    srv.close()


def _unlock_fragments() -> list[str]:
    """The English words of the unlock page: its template's and unlock.js's messages."""
    template = (ROOT / "plugins" / "dealrooms_plugin" / "templates" / "protect" / "unlock.html").read_text("utf-8")
    ids = set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', template))
    return [f for f in english_fragments("de") if any(f in i for i in ids)]


def test_a_german_deal_s_unlock_page_is_german(session_browser, protected: StaticServer) -> None:
    fragments = _unlock_fragments()
    assert "This deal room is private" in fragments
    page = _open(session_browser, protected.url + "kestrel-freight/plan/", clock=None)
    try:
        assert page.evaluate("document.documentElement.lang") == "de"
        assert page.locator("#dr-unlock-title").inner_text() == "Dieser Deal-Room ist privat."
        assert english_left(page.evaluate(READABLE), [], fragments) == []
        page.fill("#dr-password", "not-the-password")
        page.click("#dr-submit")
        page.wait_for_selector("#dr-unlock-message:not(:empty)")  # the page's policy allows no eval
        assert page.locator("#dr-unlock-message").inner_text().startswith("Mit diesem Passwort")
        page.click("#dr-reveal")
        assert page.locator("#dr-reveal").inner_text() == "Ausblenden"
        page.fill("#dr-password", password_for("kestrel-freight"))
        page.click("#dr-submit")
        page.wait_for_selector("[data-dr-lock-toggle]")
        assert page.evaluate("document.documentElement.lang") == "de"
        toggle = page.locator("[data-dr-lock-toggle]")
        assert toggle.inner_text().strip() == "Sperren"
        toggle.click()
        items = [" ".join(t.split()) for t in page.locator(".dr-lock__item").all_inner_texts()]
        assert items == ["Diesen Deal-Room sperren Gespeichertes Passwort auf diesem Gerät löschen",
                         "Alle Deal-Rooms auf diesem Gerät vergessen "
                         "Jeder in diesem Browser geöffnete Deal-Room fragt erneut nach seinem Passwort"]
    finally:
        page.close()
