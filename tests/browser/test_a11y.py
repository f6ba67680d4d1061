"""axe-core 4 on every deal-room page in real headless Chromium, at 1280 and 390 px: the
plain examples, the protected ones once unlocked, and the unlock page itself. Any serious
or critical violation fails (colour contrast, names of dialogs and controls, ARIA misuse).

axe-core comes from the ``axe-playwright-python`` package (which ships axe.min.js), or
from the file named by ``DEALROOMS_AXE_JS``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browserutil import StaticServer
from protectutil import build_protected_examples

pytestmark = pytest.mark.browser
SLUGS = ("kestrel-freight", "halden-health", "marlow-vine")
PAGES = ["", "plan/", "people/", "value/", "proposal/"]
WIDTHS = [1280, 390]
HARMFUL = ("serious", "critical")


def axe_source() -> str:
    path = os.environ.get("DEALROOMS_AXE_JS")
    if not path:
        try:
            from importlib.resources import files

            path = str(files("axe_playwright_python") / "axe.min.js")
        except ModuleNotFoundError:
            path = ""
    if not path or not Path(path).is_file():
        message = "axe-core not found: pip install axe-playwright-python, or set DEALROOMS_AXE_JS to axe.min.js"
        if os.environ.get("DEALROOMS_BROWSER_TESTS") == "required":
            pytest.fail(message)
        pytest.skip(message)
    return Path(path).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def plain(examples_server):  # type: ignore[no-untyped-def]
    """The example deals, built plain as of 2026-11-22, once per session (conftest)."""
    return examples_server


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        _, site, passwords = build_protected_examples(mp, tmp_path_factory.mktemp("protected"))
    srv = StaticServer(site)
    yield srv, passwords
    srv.close()


def harmful(page, axe: str, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's serious and critical axe violations, one line per element."""
    page.add_script_tag(content=axe)
    assert page.evaluate("axe.version").startswith("4."), "axe-core 4 expected"
    violations = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [
        f"{where}: {v['id']} ({v['impact']}) {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}"
        for v in violations if v["impact"] in HARMFUL for node in v["nodes"]
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_plain_deal_pages_have_no_serious_violations(session_browser, plain: StaticServer, axe: str, width: int) -> None:
    # bypass_csp: the pages' policy (rightly) refuses the injected axe script.
    context = session_browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    found = []
    for slug in SLUGS:
        for path in PAGES:
            page.goto(plain.url + f"{slug}/{path}", wait_until="networkidle")
            found += harmful(page, axe, f"{slug}/{path} at {width}px")
    context.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_unlock_page_and_unlocked_pages_have_no_serious_violations(session_browser, protected, axe: str, width: int) -> None:  # type: ignore[no-untyped-def]
    server, passwords = protected
    found = []
    for slug in SLUGS:
        context = session_browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(server.url + f"{slug}/", wait_until="networkidle")
        page.locator("#dr-password").wait_for(state="visible")
        found += harmful(page, axe, f"{slug} unlock page at {width}px")
        page.goto(server.url + f"{slug}/", wait_until="networkidle")  # a fresh page: no axe in the unlocked one
        page.locator("#dr-password").wait_for(state="visible")
        page.fill("#dr-password", passwords[slug])
        page.press("#dr-password", "Enter")
        page.locator(".md-header [data-dr-lock-toggle]").wait_for(timeout=15_000)
        for path in PAGES:
            page.goto(server.url + f"{slug}/{path}", wait_until="networkidle")
            page.locator(".md-header [data-dr-lock-toggle]").wait_for(timeout=15_000)
            found += harmful(page, axe, f"{slug}/{path} unlocked at {width}px")
        context.close()
    assert found == [], "\n".join(found)
