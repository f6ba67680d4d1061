"""Issue 13 in Chromium: the overview's next meeting and the plan page's late flags stay true on the
day the page is opened (assets/dealrooms.js), for a deal room built before that day."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from browserutil import StaticServer
from buildutil import build_site, copy_examples

pytestmark = pytest.mark.browser
BUILT = "2026-11-23"
# Kestrel's meetings: 12 Nov (held), 26 Nov and 4 Dec.
AFTER_THE_FIRST = dt.datetime(2026, 11, 28, 9, 30)
AFTER_THE_LAST = dt.datetime(2026, 12, 7, 9, 30)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The examples built on BUILT and on the day after the first meeting, served."""
    base = tmp_path_factory.mktemp("issue13")
    project = base / "project"
    copy_examples(project)
    servers = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        for day in (BUILT, AFTER_THE_FIRST.date().isoformat()):
            mp.setenv("DEALROOMS_TODAY", day)
            servers[day] = StaticServer(shutil.copytree(build_site(project), base / f"site-{day}"))
    yield {day: server.url for day, server in servers.items()}
    for server in servers.values():
        server.close()


def open_page(browser, url: str, clock: dt.datetime | None = None, script: bool = True):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=script).new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if clock:
        page.clock.set_fixed_time(clock)
    page.goto(url, wait_until="networkidle")
    return page


def next_meeting(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The titles of the meetings the overview shows (visible ones only)."""
    return [m.locator(".dr-meeting__title").inner_text() for m in page.locator("[data-dr-meeting]").all() if m.is_visible()]


def test_opened_after_the_first_meeting_the_overview_shows_the_next_one(session_browser, sites) -> None:  # type: ignore[no-untyped-def]
    url = sites[BUILT] + "kestrel-freight/"
    assert next_meeting(open_page(session_browser, url)) == ["Weekly plan review"]  # 26 Nov, as built on 23 Nov
    later = open_page(session_browser, url, clock=AFTER_THE_FIRST)
    assert later.errors == []  # type: ignore[attr-defined]
    assert next_meeting(later) == ["Pilot results review"]
    shown = later.locator("[data-dr-meeting]:visible")
    assert " ".join(shown.inner_text().split()).startswith("Friday, 4 December 2026 · 10:00 Pilot results review")
    assert later.locator("#next-meeting").is_visible()
    # What the build of that day shows, without a script.
    built_later = open_page(session_browser, sites[AFTER_THE_FIRST.date().isoformat()] + "kestrel-freight/", script=False)
    assert next_meeting(built_later) == ["Pilot results review"]


def test_once_every_meeting_is_past_the_next_meeting_section_goes(session_browser, sites) -> None:  # type: ignore[no-untyped-def]
    page = open_page(session_browser, sites[BUILT] + "kestrel-freight/", clock=AFTER_THE_LAST)
    assert page.errors == []  # type: ignore[attr-defined]
    assert next_meeting(page) == [] and not page.locator("#next-meeting").is_visible()


def plan_cells(page) -> list[tuple[str, str, str, bool]]:  # type: ignore[no-untyped-def]
    """Each plan row as the visitor sees it: its step, status cell, due cell, and whether it is marked overdue."""
    rows = []
    for row in page.locator("tr.dr-step-row").all():
        cells = [" ".join(c.inner_text().split()) for c in row.locator("td").all()]
        rows.append((cells[0].split(" Produces:")[0], cells[2], cells[3], "dr-step-row--overdue" in row.get_attribute("class")))
    return rows


@pytest.mark.parametrize("slug", ["kestrel-freight", "halden-health", "marlow-vine"])
def test_the_plan_page_opened_later_reads_as_built_that_day(session_browser, sites, slug: str) -> None:  # type: ignore[no-untyped-def]
    opened = open_page(session_browser, sites[BUILT] + f"{slug}/plan/", clock=AFTER_THE_FIRST)
    assert opened.errors == []  # type: ignore[attr-defined]
    built = open_page(session_browser, sites[AFTER_THE_FIRST.date().isoformat()] + f"{slug}/plan/", script=False)
    assert plan_cells(opened) == plan_cells(built)
    before = open_page(session_browser, sites[BUILT] + f"{slug}/plan/", script=False)
    if slug == "halden-health":  # the day makes a step late: the script had something to do
        assert plan_cells(before) != plan_cells(opened)
