"""The plan's timeline read on a phone (and a laptop), in real headless Chromium: no line
through text, the Today label in a band of its own, a legend whose keys are the chart's
markers, every detail written out (touch screens show no hover titles), and no page of
the examples scrolling sideways at 320 or 390 px."""

from __future__ import annotations

import base64

import pytest

from browserutil import StaticServer

pytestmark = pytest.mark.browser
SLUGS = ("kestrel-freight", "halden-health", "marlow-vine")
PAGES = ["", "plan/", "people/", "value/", "proposal/"]


@pytest.fixture(scope="module")
def server(examples_server):  # type: ignore[no-untyped-def]
    """The example deals, built plain as of 2026-11-22, once per session (conftest)."""
    return examples_server


def open_plan(browser, server: StaticServer, slug: str, width: int):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
    page.goto(server.url + f"{slug}/plan/", wait_until="networkidle")
    return page


@pytest.mark.parametrize("width", [320, 390])
def test_no_page_scrolls_sideways_on_a_phone(session_browser, server: StaticServer, width: int) -> None:
    page = session_browser.new_page(viewport={"width": width, "height": 800})
    wide = []
    for slug in SLUGS:
        for path in PAGES:
            page.goto(server.url + f"{slug}/{path}", wait_until="networkidle")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                wide.append(f"{slug}/{path}: {overflow}px")
    page.close()
    assert wide == [], f"pages wider than {width}px: {wide}"


# Where each Today/Target line is, and the boxes of the words of the rows it runs past.
LINES_AND_TEXT = """() => {
  const lines = [...document.querySelectorAll('.dr-timeline .dr-line')].map(el => {
    const r = el.getBoundingClientRect();
    return {x: r.left + parseFloat(getComputedStyle(el).borderLeftWidth) / 2, top: r.top + scrollY, bottom: r.bottom + scrollY,
            color: getComputedStyle(el).borderLeftColor};
  });
  const boxes = [];
  const walker = document.createTreeWalker(document.querySelector('.dr-timeline .dr-rows'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || node.parentElement.closest('.dr-sr')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) boxes.push({left: r.left, right: r.right, top: r.top + scrollY, bottom: r.bottom + scrollY, text: node.textContent.trim()});
  }
  return {lines, boxes};
}"""

# Decodes a PNG in a blank page (no Content-Security-Policy there) and returns the colours
# of one pixel column between two heights.
COLUMN = """async ([png, x, top, bottom]) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + png;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(x, top, 1, Math.max(1, bottom - top)).data;
  const out = [];
  for (let i = 0; i < data.length; i += 4) out.push([data[i], data[i + 1], data[i + 2]]);
  return out;
}"""


def _rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    return int(float(parts[0])), int(float(parts[1])), int(float(parts[2]))


@pytest.mark.parametrize("width", [390, 1280])
def test_no_line_runs_through_the_steps_words(session_browser, server: StaticServer, width: int) -> None:
    """Read from the pixels: where a Today or Target line passes a step's words, none of the
    line's colour shows inside the words' boxes."""
    blank = session_browser.new_page()
    crossings, checked = [], 0
    for slug in SLUGS:
        page = open_plan(session_browser, server, slug, width)
        geometry = page.evaluate(LINES_AND_TEXT)
        png = base64.b64encode(page.screenshot(full_page=True)).decode()
        for line in geometry["lines"]:
            colour = _rgb(line["color"])
            for box in geometry["boxes"]:
                if not (box["left"] + 1 < line["x"] < box["right"] - 1 and line["top"] <= box["top"] and box["bottom"] <= line["bottom"]):
                    continue
                checked += 1
                for x in (int(line["x"] - 0.5), int(line["x"] + 0.5)):
                    column = blank.evaluate(COLUMN, [png, x, int(box["top"]) + 1, int(box["bottom"]) - 1])
                    if any(all(abs(a - b) <= 12 for a, b in zip(pixel, colour)) for pixel in column):
                        crossings.append(f"{slug}: line {line['color']} through {box['text']!r}")
                        break
        page.close()
    blank.close()
    assert checked, "no line passes any words: the test checked nothing"
    assert crossings == []


def test_the_today_label_sits_between_the_months_and_the_steps(session_browser, server: StaticServer) -> None:
    """Its own band: under the month axis, above the first step, clear of the legend and of Target."""
    for slug in SLUGS:
        for width in (390, 1280):
            page = open_plan(session_browser, server, slug, width)
            boxes = page.evaluate("""() => {
              const fig = document.querySelector('.dr-timeline');
              const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
              const label = text => [...fig.querySelectorAll('*')].filter(el => !el.children.length && !el.closest('.dr-legend') && el.textContent.trim() === text).map(box)[0];
              return {today: label('Today'), target: label('Target'), axis: box(fig.querySelector('.dr-timeline__axis')),
                      first: box(fig.querySelector('.dr-row')), legend: box(fig.querySelector('.dr-legend'))};
            }""")
            today, target = boxes["today"], boxes["target"]
            where = f"{slug} at {width}px"
            assert today and target, where
            assert boxes["axis"]["bottom"] <= today["top"] and today["bottom"] <= boxes["first"]["top"], where
            assert today["bottom"] <= boxes["legend"]["top"], where
            overlap = not (today["right"] <= target["left"] or target["right"] <= today["left"]
                           or today["bottom"] <= target["top"] or target["bottom"] <= today["top"])
            assert not overlap, f"{where}: Today and Target labels overlap"
            assert 0 <= today["left"] and today["right"] <= width and target["right"] <= width, where
            page.close()


# What a marker looks like, whatever its size and place.
LOOK = ("el => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderTopStyle,"
        " s.borderTopStyle === 'none' ? '' : s.borderTopColor, s.boxShadow].join(' | '); }")


def test_the_legend_shows_the_charts_markers_and_explains_the_critical_path(session_browser, server: StaticServer) -> None:
    for slug in SLUGS:
        page = open_plan(session_browser, server, slug, 390)
        chart = set(page.locator(".dr-row__track .dr-marker").evaluate_all(f"els => els.map({LOOK})"))
        legend = set(page.locator(".dr-legend i").evaluate_all(f"els => els.map({LOOK})"))
        assert chart and chart <= legend, f"{slug}: markers without a legend key: {chart - legend}"
        if page.locator(".dr-row--critical").count():
            dots = set(page.locator(".dr-row--critical .dr-crit").evaluate_all(f"els => els.map({LOOK})"))
            assert page.locator(".dr-row--critical .dr-crit").count() == page.locator(".dr-row--critical").count()
            key = page.locator(".dr-legend__item", has=page.locator(".dr-crit"))
            assert dots <= set(key.locator(".dr-crit").evaluate_all(f"els => els.map({LOOK})"))
            assert "outcome date" in key.inner_text(), "the legend says what the critical path means"
        page.close()


def test_every_detail_of_a_step_is_written_in_its_row(session_browser, server: StaticServer) -> None:
    """Status, and the projected date of a slipping open step, as visible text; nothing only in a
    hover title (touch screens never show one)."""
    words = ("Done", "In progress", "Not started", "Blocked", "late")
    for slug in SLUGS:
        page = open_plan(session_browser, server, slug, 390)
        assert page.locator(".dr-timeline [title]:not(.dr-crit)").count() == 0
        rows = page.locator(".dr-row")
        assert rows.count() > 0
        for i in range(rows.count()):
            row = rows.nth(i)
            text = row.inner_text()
            assert any(w in text for w in words), f"{slug}: no status in {text!r}"
            slipping = row.locator(".dr-slipbar").count() and "dr-row--done" not in (row.get_attribute("class") or "")
            if slipping:
                assert "projected" in text, f"{slug}: no projected date in {text!r}"
        page.close()
