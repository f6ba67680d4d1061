"""The plain deal rooms in real headless Chromium."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from browserutil import StaticServer

pytestmark = pytest.mark.browser
PAGES = ["", "plan/", "people/", "value/", "proposal/"]


@pytest.fixture(scope="module")
def site(examples_site):  # type: ignore[no-untyped-def]
    """The example deals, built plain as of 2026-11-22, once per session (conftest)."""
    return examples_site


@pytest.fixture(scope="module")
def server(site: Path):
    srv = StaticServer(site)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def browser(session_browser):  # type: ignore[no-untyped-def]
    # One Playwright per process: a second sync_playwright() beside the session's fails.
    return session_browser


def open_page(browser, url: str, *, width: int = 1280, clock: dt.datetime | None = None):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.errors = []  # type: ignore[attr-defined]
    page.requests = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("request", lambda request: page.requests.append(request.url))
    if clock:
        page.clock.set_fixed_time(clock)
    page.goto(url, wait_until="networkidle")
    return page


def test_proposal_expiry_follows_the_visitors_clock(browser, server: StaticServer) -> None:
    url = server.url + "kestrel-freight/proposal/"  # valid until 19 Dec 2026; built on 22 Nov 2026
    page = open_page(browser, url)
    assert page.locator(".dr-validity").first.inner_text().startswith("Valid until")

    later = open_page(browser, url, clock=dt.datetime(2027, 1, 10, 9, 0))
    text = later.locator(".dr-validity").first.inner_text()
    assert text.startswith("Expired on"), text
    assert "danger" in later.locator("[data-dr-validity]").get_attribute("class")
    assert "has expired" in later.locator("[data-dr-validity-note]").inner_text()

    close = open_page(browser, url, clock=dt.datetime(2026, 12, 14, 18, 0))
    assert close.locator(".dr-validity").first.inner_text().startswith("Expires in 5 days")


def test_every_page_fits_a_phone_and_has_no_errors(browser, server: StaticServer) -> None:
    for slug in ("kestrel-freight", "halden-health", "marlow-vine"):
        for path in PAGES:
            page = open_page(browser, server.url + f"{slug}/{path}", width=390)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{slug}/{path} scrolls sideways by {overflow}px on a phone"
            assert page.errors == [], f"{slug}/{path}: {page.errors}"
            page.close()


def test_no_request_leaves_the_host(browser, server: StaticServer) -> None:
    for path in PAGES:
        page = open_page(browser, server.url + f"halden-health/{path}")
        foreign = [u for u in page.requests if not u.startswith(server.url) and not u.startswith("data:")]
        assert foreign == []
        page.close()


def test_tabs_navigate_between_the_five_pages(browser, server: StaticServer) -> None:
    page = open_page(browser, server.url + "marlow-vine/")
    assert page.title() == "Overview · Marlow &amp; Vine" or page.title() == "Overview · Marlow & Vine"
    page.locator(".md-tabs__link", has_text="Proposal").click()
    page.wait_for_url("**/marlow-vine/proposal/")
    assert "Expired on" in page.locator(".dr-validity").first.inner_text()


CSP_WATCH = """window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_material_works_under_the_content_security_policy(browser, server: StaticServer) -> None:
    """Tabs, instant loading and the Dealrooms script run with the policy in place, and nothing trips it."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.add_init_script(CSP_WATCH)
    page.goto(server.url + "kestrel-freight/", wait_until="networkidle")
    assert page.locator('meta[http-equiv="Content-Security-Policy"]').count() == 1
    assert page.locator("input.md-search__input").count() == 0  # deal rooms have no search box
    page.locator(".md-tabs__link", has_text="Proposal").click()
    page.wait_for_url("**/kestrel-freight/proposal/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".dr-validity").first.inner_text().startswith("Valid until")  # dealrooms.js ran
    assert page.evaluate("window.__violations") == []
    assert not [m for m in console if "Content Security Policy" in m], console
