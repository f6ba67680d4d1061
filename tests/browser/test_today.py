"""True on the day it is opened: a deal room built on one day and opened six weeks later, in real
Chromium with the clock moved forward, shows the same figures as a deal room built on that later day.

The build is the reference: pages built with DEALROOMS_TODAY=LATER are what the buyer should see
on LATER, and the pages' script (assets/dealrooms.js) must arrive there from a build made on
EARLIER. English is compared word for word; German (whose words come from the catalogs) by its
numbers, its structure and its health; a protected deal after unlocking like a plain one.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from browserutil import StaticServer
from buildutil import build_site, copy_examples
from protectutil import build_protected_examples

pytestmark = pytest.mark.browser
EARLIER = "2026-11-23"
LATER = "2027-01-04"  # six weeks on: more steps late, the kestrel proposal expired, health worse
LATER_CLOCK = dt.datetime(2027, 1, 4, 9, 30)
ENGLISH = ("kestrel-freight", "halden-health", "marlow-vine")
GERMAN = "kestrel-de"


def _project(base: Path) -> Path:
    project = base / "project"
    copy_examples(project)
    kestrel = (project / "dealrooms" / "kestrel-freight.yml").read_text(encoding="utf-8")
    german = re.sub(r"(?m)^(\s*)locale: .*$", r"\1locale: de", kestrel)
    assert german != kestrel
    (project / "dealrooms" / f"{GERMAN}.yml").write_text(german, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same project built on EARLIER and on LATER."""
    base = tmp_path_factory.mktemp("today")
    project = _project(base)
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        for day in (EARLIER, LATER):
            mp.setenv("DEALROOMS_TODAY", day)
            out[day] = shutil.copytree(build_site(project), base / f"site-{day}")
    return out


@pytest.fixture(scope="module")
def servers(sites: dict[str, Path]):  # type: ignore[no-untyped-def]
    running = {day: StaticServer(site) for day, site in sites.items()}
    yield {day: srv.url for day, srv in running.items()}
    for srv in running.values():
        srv.close()


def open_page(browser, url: str, *, clock: dt.datetime | None = None, script: bool = True, width: int = 1280):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=script)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if clock:
        page.clock.set_fixed_time(clock)
    page.goto(url, wait_until="networkidle")
    return page


def words(text: str) -> str:
    return " ".join(text.split())


def figures(page) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Everything on the overview that depends on the day, as the visitor sees it."""
    visible = lambda selector: [words(e.inner_text()) for e in page.locator(selector).all() if e.is_visible()]  # noqa: E731
    every = lambda selector: [words(t) for t in page.locator(selector).all_text_contents()]  # noqa: E731
    # Lists: a figure may be on the page twice (the print summary repeats the health, for one).
    return {
        "health": [e.get_attribute("class") for e in page.locator("[data-dr-health] .dr-health").all()],
        "badge": every("[data-dr-health]"),
        "days_label": every("[data-dr-figure=days-to-target-label]"),
        "days": every("[data-dr-figure=days-to-target]"),
        "overdue": every("[data-dr-figure=overdue-count]"),
        "overdue_note": every("[data-dr-figure=overdue-note]"),
        "overdue_card_alert": "dr-card--alert" in (page.locator("[data-dr-overdue-card]").first.get_attribute("class") or ""),
        "overdue_list": visible(".dr-overdue li"),
        "next_steps": visible(".dr-steps li"),
        "late_steps": page.locator(".dr-step--late").count(),
        "chips": every("[data-dr-chip]"),
        "slip": visible("[data-dr-slip] .dr-slip"),
        "validity": every(".dr-validity"),
    }


def numbers(value: object) -> object:
    """Only the numbers of a figure's words (German is compared by its numbers and structure)."""
    if isinstance(value, list):
        return [numbers(v) for v in value]
    if isinstance(value, str):
        return re.findall(r"\d+", value)
    return value


@pytest.mark.parametrize("slug", ENGLISH)
def test_opened_six_weeks_later_the_overview_shows_that_days_figures(session_browser, servers, slug: str) -> None:
    built_later = figures(open_page(session_browser, servers[LATER] + f"{slug}/", script=False))
    opened_later = open_page(session_browser, servers[EARLIER] + f"{slug}/", clock=LATER_CLOCK)
    assert opened_later.errors == []  # type: ignore[attr-defined]
    seen = figures(opened_later)
    assert seen == built_later
    # And the day really changed something: the build of EARLIER, without a script, says other things.
    built_earlier = figures(open_page(session_browser, servers[EARLIER] + f"{slug}/", script=False))
    assert built_earlier["days"] != seen["days"] and built_earlier["overdue"] != seen["overdue"]


def test_the_kestrel_deal_six_weeks_later_in_words(session_browser, servers) -> None:  # type: ignore[no-untyped-def]
    page = open_page(session_browser, servers[EARLIER] + "kestrel-freight/", clock=LATER_CLOCK)
    seen = figures(page)
    assert set(seen["badge"]) == {"Off track: 4 steps are late; the proposal expired on 19 Dec"}
    assert (seen["days_label"][0].lower(), seen["days"][0], seen["overdue"][0]) == ("days to target", "42", "4")
    assert seen["overdue_note"][0] == "4 steps need attention"
    assert seen["overdue_list"][0] == "Security questionnaire returned — due 13 Nov 2026, 52 days late · Marta Kowalczyk"
    assert words(page.locator("[data-dr-slip-text]").inner_text()) == (
        "Security questionnaire returned is 52 days late; at this pace the outcome moves from 15 February "
        "to 8 April (52 days later).")
    assert words(page.locator(".dr-asof").first.inner_text()).startswith(
        "Figures as of today, 4 Jan 2027 (this page was built on 23 Nov 2026).")
    # On the build's own day the script leaves the build's words alone.
    same_day = open_page(session_browser, servers[EARLIER] + "kestrel-freight/", clock=dt.datetime(2026, 11, 23, 12))
    assert figures(same_day) == figures(open_page(session_browser, servers[EARLIER] + "kestrel-freight/", script=False))
    assert "Figures as of 23 Nov 2026, the day this page was built." in words(same_day.locator(".dr-asof").first.inner_text())


def test_past_the_target_the_card_counts_days_past_it(session_browser, servers) -> None:  # type: ignore[no-untyped-def]
    page = open_page(session_browser, servers[EARLIER] + "marlow-vine/", clock=dt.datetime(2027, 2, 8, 9))  # target 29 Jan
    seen = figures(page)
    assert (seen["days_label"][0].lower(), seen["days"][0]) == ("days past target", "10")


def test_a_german_deal_room_recomputes_with_german_words(session_browser, servers) -> None:  # type: ignore[no-untyped-def]
    built_later = figures(open_page(session_browser, servers[LATER] + f"{GERMAN}/", script=False))
    page = open_page(session_browser, servers[EARLIER] + f"{GERMAN}/", clock=LATER_CLOCK)
    assert page.errors == []  # type: ignore[attr-defined]
    seen = figures(page)
    assert set(seen["health"]) == set(built_later["health"]) == {"dr-health dr-health--off_track"}
    assert {k: numbers(v) for k, v in seen.items()} == {k: numbers(v) for k, v in built_later.items()}
    # The words the script wrote are the deal's language, not the English of the source.
    english = figures(open_page(session_browser, servers[EARLIER] + "kestrel-freight/", clock=LATER_CLOCK))
    for key in ("days_label", "overdue_note", "badge", "chips"):
        assert seen[key] == built_later[key], key  # the script's words are the catalog's, as the build's
    pill = page.locator("[data-dr-health] .dr-health").first.inner_text()
    assert pill and pill != "Off track" and english["badge"][0].startswith("Off track")  # a German label, written by the script


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("today-protected")
    with pytest.MonkeyPatch.context() as mp:
        project, site, passwords = build_protected_examples(mp, base)  # built on 2026-11-22
    srv = StaticServer(site)
    yield srv.url, passwords
    srv.close()


def test_an_unlocked_protected_deal_room_recomputes_too(session_browser, servers, protected) -> None:  # type: ignore[no-untyped-def]
    url, passwords = protected
    slug = "kestrel-freight"
    built_later = figures(open_page(session_browser, servers[LATER] + f"{slug}/", script=False))
    context = session_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.clock.set_fixed_time(LATER_CLOCK)
    page.goto(url + f"{slug}/")
    field = page.locator("input[type=password]")
    field.fill(passwords[slug])
    field.press("Enter")
    page.locator("[data-dr-health]").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert errors == []
    seen = figures(page)
    assert seen == built_later
    # Material's instant navigation to the Plan page and back recomputes again.
    page.locator(".md-tabs__link", has_text="Plan").first.click()
    page.wait_for_url("**/plan/")
    page.locator(".md-tabs__link", has_text="Overview").first.click()
    page.locator("[data-dr-health]").first.wait_for()
    assert figures(page) == built_later
