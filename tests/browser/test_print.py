"""Printing the deal rooms from real headless Chromium (page.pdf, print media): the overview
is a one-page executive summary on A4 and on Letter, no page ends on a blank sheet, and
no button, navigation or screen-only chrome reaches the paper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from browserutil import StaticServer
from printutil import blank_pages, page_count

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SLUGS = ("kestrel-freight", "halden-health", "marlow-vine")
TODAY = dt.date(2026, 11, 22)
# Screen furniture that must never print (tabs, header and footer are Material's).
CHROME = [".md-header", ".md-tabs", ".md-footer", ".md-sidebar", ".md-search", ".md-button", ".dr-button",
          ".dr-actions", ".dr-timeline", ".dr-lock"]


@pytest.fixture(scope="module")
def server(examples_server):  # type: ignore[no-untyped-def]
    """The example deals, built plain as of 2026-11-22, once per session (conftest)."""
    return examples_server


def expected(slug: str) -> dict[str, str]:
    """What the summary must say, formatted as the deal's locale formats it."""
    from dealrooms_plugin.load import load_deal
    from dealrooms_plugin.render import _date, _money
    from dealrooms_plugin.view import proposal_view

    deal = load_deal(ROOT / "dealrooms" / f"{slug}.yml").deal
    locale = deal.deal.locale
    proposal = proposal_view(deal, TODAY)
    assert proposal is not None and proposal.validity.valid_until is not None
    return {
        "buyer": deal.deal.buyer.name,
        "seller": deal.deal.seller.name,
        "title": deal.deal.title,
        "target": _date(deal.deal.target_date, locale),
        "price": _money(proposal.total, proposal.currency, locale),
        "validity": _date(proposal.validity.valid_until, locale),
        "as of": _date(TODAY, locale),
    }


def visible_chrome(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [selector for selector in CHROME if any(el.is_visible() for el in page.locator(selector).all())]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_overview_prints_as_a_one_page_executive_summary(session_browser, server: StaticServer, slug: str) -> None:
    page = session_browser.new_page()
    page.goto(server.url + f"{slug}/", wait_until="networkidle")
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper)
        assert page_count(pdf) == 1, f"{slug} on {paper}: {page_count(pdf)} pages"
        assert blank_pages(pdf) == []

    # The words on the sheet, read from the page as printed (no PDF text extraction here).
    screen_steps = page.locator(".dr-steps li strong").all_inner_texts()
    screen_contacts = page.locator(".dr-contacts li strong").all_inner_texts()
    page.emulate_media(media="print")
    summary = page.locator(".dr-print-summary")
    assert summary.is_visible()
    text = summary.inner_text()
    for what, words in expected(slug).items():
        assert words in text, f"{slug}: the summary lacks the {what} ({words!r})"
    assert "Valid until" in text or "Expired on" in text or "Expires" in text
    assert page.locator(".dr-print-summary .dr-health").is_visible()  # the health, and its reason beside it
    for step in screen_steps:
        assert step in text, f"{slug}: next step {step!r} missing"
    for person in screen_contacts:
        assert person in text, f"{slug}: contact {person!r} missing"
    assert page.locator(".dr-print-summary .dr-ps__list li").count() >= 2  # value goals and contacts
    # The screen's overview gives way to the summary; no chrome, buttons or links to other pages.
    assert not page.locator(".dr-cards").is_visible()
    assert not page.locator(".dr-hero").is_visible()
    assert visible_chrome(page) == []
    page.close()


def test_the_summary_is_for_print_only(session_browser, server: StaticServer) -> None:
    page = session_browser.new_page()
    page.goto(server.url + "kestrel-freight/", wait_until="networkidle")
    assert page.locator(".dr-print-summary").count() == 1
    assert not page.locator(".dr-print-summary").is_visible()
    page.close()


@pytest.mark.parametrize("slug", SLUGS)
def test_other_pages_print_without_blank_pages_chrome_or_split_cards(session_browser, server: StaticServer, slug: str) -> None:
    page = session_browser.new_page()
    for path in ("plan/", "proposal/", "people/", "value/"):
        page.goto(server.url + f"{slug}/{path}", wait_until="networkidle")
        for paper in ("A4", "Letter"):
            pdf = page.pdf(format=paper)
            assert blank_pages(pdf) == [], f"{slug}/{path} on {paper}: blank page(s) {blank_pages(pdf)} of {page_count(pdf)}"
        page.emulate_media(media="print")
        assert visible_chrome(page) == [], f"{slug}/{path}"
        # Cards, goals, people and table rows keep together across a page break.
        kept = page.evaluate("""() => [...document.querySelectorAll(
            '.md-typeset table tbody tr, .dr-goal, .dr-person, .md-typeset .admonition, .dr-offer')]
            .map(el => getComputedStyle(el).breakInside)""")
        assert kept and set(kept) == {"avoid"}, f"{slug}/{path}: {set(kept)}"
        if path == "plan/":
            assert page.locator("table.dr-table").first.is_visible()  # the plan prints as its table
        if path == "proposal/":
            offer = page.locator(".dr-offer").inner_text()
            for words in (expected(slug)["buyer"], expected(slug)["seller"], expected(slug)["validity"]):
                assert words in offer, f"{slug}: the printed offer lacks {words!r}"
        page.emulate_media(media=None)
    page.close()
