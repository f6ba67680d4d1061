"""The deal room's layout in real Chromium: what dealrooms.css promises, in English and German.

Measured from the rendered boxes, never from screenshots: things that line up do
(figures of a row of cards, a late step's date), labels stay whole and in the
deal's language, nothing runs into its neighbour at 320 px.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browserutil import StaticServer
from buildutil import build_site, copy_examples

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The examples, plus Kestrel Freight in German (``kestrel-de``): long words, other labels."""
    project = tmp_path_factory.mktemp("look")
    copy_examples(project)
    deals = project / "dealrooms"
    text = (deals / "kestrel-freight.yml").read_text(encoding="utf-8")
    (deals / "kestrel-de.yml").write_text(re.sub(r"(?m)^  locale: .*$", "  locale: de", text), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALROOMS_TODAY", "2026-11-23")
        mp.chdir(project)
        site = build_site(project)
    srv = StaticServer(site)
    yield srv
    srv.close()


def _open(browser, url: str, width: int):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url, wait_until="networkidle")
    return page


def test_the_menu_button_is_named_by_its_text_and_the_header_has_no_inline_style(session_browser, server: StaticServer) -> None:
    page = _open(session_browser, server.url + "kestrel-freight/", 390)
    try:
        label = page.locator('header label[for="__drawer"]')
        # A <label> may not carry aria-label (axe: aria-prohibited-attr); its own text names it.
        assert label.get_attribute("aria-label") is None
        assert label.locator(".dr-sr").text_content().strip() != ""
        assert page.locator("header style").count() == 0
        # The seller's brand is styled by dealrooms.css.
        assert page.locator(".dr-cobrand").evaluate("el => getComputedStyle(el).display") == "flex"
    finally:
        page.close()


@pytest.mark.parametrize("slug", ["kestrel-freight", "kestrel-de"])
def test_phone_cards_label_every_cell_but_the_first_in_the_deal_s_language(session_browser, server: StaticServer, slug: str) -> None:
    page = _open(session_browser, server.url + f"{slug}/plan/", 390)
    try:
        labels = page.evaluate("""() => [...document.querySelector('.dr-table--plan tr.dr-step-row').cells]
            .map(td => getComputedStyle(td, '::before').content)""")
    finally:
        page.close()
    # The step's title needs no "Step:" (nor "Schritt:") before it; owner, status, due and done do.
    assert labels[0] == "none", labels
    assert all(label not in ("none", "normal") for label in labels[1:]), labels


@pytest.mark.parametrize("width", [1280, 390])
def test_meetings_and_changes_are_not_numbered(session_browser, server: StaticServer, width: int) -> None:
    page = _open(session_browser, server.url + "kestrel-freight/plan/", width)
    try:
        styles = page.evaluate("""() => [...document.querySelectorAll('ol.dr-meetings, ol.dr-changes')]
            .map(ol => getComputedStyle(ol).listStyleType)""")
    finally:
        page.close()
    assert styles and set(styles) == {"none"}, styles


@pytest.mark.parametrize("slug", ["kestrel-freight", "kestrel-de"])
@pytest.mark.parametrize("width", [1280, 390, 320])
def test_a_goal_s_baseline_now_and_target_stand_in_one_row(session_browser, server: StaticServer, slug: str, width: int) -> None:
    page = _open(session_browser, server.url + f"{slug}/value/", width)
    try:
        rows = page.evaluate("""() => [...document.querySelectorAll('dl.dr-goal__track')].map(dl =>
            [...dl.querySelectorAll('.dr-goal__stop dt')].map(dt => {
                const r = dt.getBoundingClientRect();
                return [Math.round(r.top), Math.round(r.height), parseFloat(getComputedStyle(dt).lineHeight)];
            }))""")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    finally:
        page.close()
    assert rows, "no goal with a current value"
    for stops in rows:
        assert len({top for top, _, _ in stops}) == 1, f"{slug} at {width}px: stops on more than one row {stops}"
        # Each label on one line: "AUSGANGSWERT" is never broken inside the word.
        assert all(height <= line * 1.5 for _, height, line in stops), f"{slug} at {width}px: a label wraps {stops}"
    assert overflow <= 0


@pytest.mark.parametrize("slug", ["kestrel-freight", "kestrel-de"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_row_of_cards_shows_its_figures_on_one_line(session_browser, server: StaticServer, slug: str, width: int) -> None:
    page = _open(session_browser, server.url + f"{slug}/", width)
    try:
        cards = page.evaluate("""() => [...document.querySelectorAll('.dr-cards > .dr-card')].map(card => {
            const v = card.querySelector('.dr-card__value').getBoundingClientRect();
            const l = card.querySelector('.dr-card__label').getBoundingClientRect();
            return {row: Math.round(card.getBoundingClientRect().top), value: Math.round(v.top), label: Math.round(l.left - card.getBoundingClientRect().left)};
        })""")
    finally:
        page.close()
    rows: dict[int, set[int]] = {}
    for card in cards:
        rows.setdefault(card["row"], set()).add(card["value"])
    # German labels wrap to two lines in some cards ("TAGE BIS ZUM ZIELTERMIN"): the figures still line up.
    assert all(len(tops) == 1 for tops in rows.values()), cards
    # A card with a coloured edge (overdue) keeps its words where the other cards have theirs.
    assert len({card["label"] for card in cards}) == 1, cards


@pytest.mark.parametrize("width", [1280, 390])
def test_a_late_step_s_date_lines_up_with_the_others(session_browser, server: StaticServer, width: int) -> None:
    page = _open(session_browser, server.url + "marlow-vine/", width)
    try:
        steps = page.evaluate("""() => [...document.querySelectorAll('li.dr-step')].map(li => [
            li.classList.contains('dr-step--late'), Math.round(li.querySelector('.dr-step__date').getBoundingClientRect().left)])""")
    finally:
        page.close()
    assert {late for late, _ in steps} == {True, False}, "the example needs a late and an on-time step"
    assert len({left for _, left in steps}) == 1, steps


def test_the_timeline_s_month_labels_do_not_overlap_on_a_small_phone(session_browser, server: StaticServer) -> None:
    page = _open(session_browser, server.url + "kestrel-de/plan/", 320)
    try:
        boxes = page.evaluate("""() => [...document.querySelectorAll('.dr-timeline__axis .dr-tick')].map(t => {
            const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.right, r.bottom]; })""")
        axis = page.locator(".dr-timeline__axis").bounding_box()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    finally:
        page.close()
    boxes.sort(key=lambda box: box[1])
    for (name, _, right, _), (following, left, _, _) in zip(boxes, boxes[1:]):
        assert right <= left + 0.5, f"{name!r} runs into {following!r}: {boxes}"
    assert axis is not None and all(bottom <= axis["y"] + axis["height"] + 0.5 for *_, bottom in boxes), boxes
    # "In Arbeit 10 Tage Verzug Prognose: 23. Nov." wraps between its parts instead of widening the page.
    assert overflow <= 0
