"""The buyer's Plan, People, Value and Proposal pages on narrow phones, in real Chromium."""

from __future__ import annotations


import pytest

from browserutil import StaticServer

pytestmark = pytest.mark.browser
PAGES = ["plan/", "people/", "value/", "proposal/"]


@pytest.fixture(scope="module")
def server(examples_server):  # type: ignore[no-untyped-def]
    """The example deals, built plain as of 2026-11-22, once per session (conftest)."""
    return examples_server


@pytest.mark.parametrize(("width", "path"), [(w, p) for w in (320, 390) for p in PAGES])
def test_the_buyers_pages_fit_a_narrow_phone(session_browser, server: StaticServer, width: int, path: str) -> None:
    for slug in ("kestrel-freight", "halden-health", "marlow-vine"):
        page = session_browser.new_page(viewport={"width": width, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + f"{slug}/{path}", wait_until="networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{slug}/{path} scrolls sideways by {overflow}px at {width}px"
        # The seller's brand stays in the header, inside the screen.
        box = page.locator(".dr-cobrand").bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, f"{slug}/{path}: the brand leaves the header"
        assert errors == [], f"{slug}/{path}: {errors}"
        page.close()


def test_no_search_index_is_requested(session_browser, server: StaticServer) -> None:
    page = session_browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server.url + "kestrel-freight/plan/", wait_until="networkidle")
    assert page.locator("form[name=search]").count() == 0
    assert not [url for url in requests if "search" in url], requests
    page.close()
