"""Protected deal rooms in real headless Chromium: unlock, navigate, search, lock, tamper."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browserutil import StaticServer
from protectutil import build_protected_examples, lock_of, sensitive_strings, slugs

pytestmark = pytest.mark.browser
DEAL = "kestrel-freight"
OTHER = "halden-health"
MILESTONE = "Security questionnaire returned"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("unlock")
    with pytest.MonkeyPatch.context() as mp:
        project, site, passwords = build_protected_examples(mp, base)
    assert DEAL in slugs(project) and OTHER in slugs(project)
    return project, site, passwords


@pytest.fixture(scope="module")
def server(built):  # type: ignore[no-untyped-def]
    srv = StaticServer(built[1])
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def tampered_server(built, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A copy of the site whose plan page had one byte of ciphertext changed on the way."""
    site = tmp_path_factory.mktemp("tampered") / "site"
    shutil.copytree(built[1], site)
    page = site / DEAL / "plan" / "index.html"
    html = page.read_bytes()
    data = lock_of(html)["data"]
    raw = bytearray(base64.b64decode(data))
    raw[len(raw) // 2] ^= 0x01
    page.write_bytes(html.replace(data.encode(), base64.b64encode(bytes(raw))))
    srv = StaticServer(site)
    yield srv
    srv.close()


@pytest.fixture
def context(session_browser):  # type: ignore[no-untyped-def]
    """A fresh browser profile (empty storage) that records every request."""
    ctx = session_browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.requests = []  # type: ignore[attr-defined]
    ctx.errors = []  # type: ignore[attr-defined]
    ctx.on("request", lambda request: ctx.requests.append(request.url))
    ctx.on("page", lambda page: page.on("pageerror", lambda exc: ctx.errors.append(str(exc))))
    yield ctx
    foreign = [u for u in ctx.requests if urlsplit(u).scheme not in ("blob", "data") and urlsplit(u).hostname != "127.0.0.1"]
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not ctx.errors, ctx.errors
    ctx.close()


def unlock(page, password: str) -> None:  # type: ignore[no-untyped-def]
    field = page.locator("input[type=password]")
    assert field.count() == 1
    field.fill(password)
    field.press("Enter")


def wait_unlocked(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(".md-header [data-dr-lock]").wait_for(timeout=15_000)


def test_right_password_reveals_deal_and_next_pages_open_directly(context, server, built) -> None:  # type: ignore[no-untyped-def]
    project, _, passwords = built
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/plan/")
    body = page.locator("body").inner_text()
    assert "This deal room is private." in body and "Enter the password you received." in body
    assert "Orbisoft" in page.content()  # the seller's brand
    for secret in sensitive_strings(project)[DEAL]:
        assert secret not in page.content()
    unlock(page, passwords[DEAL])
    wait_unlocked(page)
    assert page.title().startswith("Plan · Kestrel Freight")
    assert MILESTONE in page.locator(".md-content").inner_text()
    assert page.locator(".md-header .md-logo img").get_attribute("src").startswith("blob:")  # decrypted logo
    # Material's navigation: the next page opens without asking again.
    page.locator(".md-tabs__link", has_text="People").click()
    page.wait_for_url("**/people/")
    wait_unlocked(page)
    assert "Ilse Verhoeven" in page.locator(".md-content").inner_text()
    assert page.locator("input[type=password]").count() == 0
    page.reload()
    wait_unlocked(page)
    assert "Ilse Verhoeven" in page.locator(".md-content").inner_text()
    page.goto(server.url + f"{DEAL}/proposal/")  # a deep link in the same tab
    wait_unlocked(page)
    assert page.title().startswith("Proposal")
    assert "dealrooms.key." in "".join(page.evaluate("Object.keys(sessionStorage)"))
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dealrooms.key.'))") == []
    assert not any(passwords[DEAL] in v for v in page.evaluate("Object.values(sessionStorage)"))  # the key, not the password


def test_calendar_download_is_decrypted(context, server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/plan/")
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    link = page.locator("a", has_text="Add to calendar")
    assert link.get_attribute("href").startswith("blob:")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "calendar.ics"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("BEGIN:VCALENDAR") and "Security questionnaire" in text


def test_search_finds_a_milestone_after_unlocking(context, server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/")
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("questionnaire", delay=20)
    page.locator(".md-search-result__item").first.wait_for(timeout=10_000)
    assert "questionnaire" in page.locator(".md-search-result").inner_text().lower()
    assert not [u for u in context.requests if u.endswith("search_index.json")]  # answered from the decrypted index


def test_wrong_password_shows_error_and_no_content_then_retry_works(context, server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/value/")
    unlock(page, "not-the-password-at-all-1")
    message = page.locator("#dr-unlock-message")
    message.wait_for(state="visible", timeout=15_000)
    assert "does not open this deal room" in message.inner_text()
    assert page.locator(".md-content").count() == 0 and "Kestrel" not in page.content()
    assert page.locator("input[type=password]").is_editable()
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    assert page.title().startswith("Value")


def test_one_deals_password_does_not_open_another(context, server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/")
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    page.goto(server.url + f"{OTHER}/")
    assert page.locator("input[type=password]").count() == 1  # deal A's stored key is not deal B's
    unlock(page, built[2][DEAL])
    page.locator("#dr-unlock-message").wait_for(state="visible", timeout=15_000)
    assert page.locator(".md-content").count() == 0


def test_tampered_page_shows_the_damage_message(context, tampered_server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(tampered_server.url + f"{DEAL}/")  # intact page: unlocks
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    page.goto(tampered_server.url + f"{DEAL}/plan/")  # damaged page, key already known
    title = page.locator("#dr-unlock-title")
    page.wait_for_function("document.documentElement.classList.contains('dr-damaged')", timeout=15_000)
    assert title.inner_text() == "This page is damaged."
    assert "ask your contact for a new link" in page.locator(".dr-unlock__card").inner_text()
    assert page.locator(".md-content").count() == 0


def test_lock_forgets_the_key_and_remember_keeps_it_across_tabs(context, server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/people/")
    page.locator("#dr-remember").check()
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    other_tab = context.new_page()  # a new tab: no sessionStorage, but remembered on this device
    other_tab.goto(server.url + f"{DEAL}/plan/")
    wait_unlocked(other_tab)
    lock = page.locator("[data-dr-lock]")
    assert lock.is_visible() and "Lock" in lock.inner_text()
    lock.click()
    page.locator("input[type=password]").wait_for(timeout=10_000)
    assert page.evaluate("Object.keys(localStorage).concat(Object.keys(sessionStorage))"
                         ".filter(k => k.startsWith('dealrooms.key.'))") == []
    page.reload()
    assert page.locator("input[type=password]").count() == 1 and page.locator(".md-content").count() == 0
    third = context.new_page()
    third.goto(server.url + f"{DEAL}/")
    assert third.locator("input[type=password]").count() == 1


def test_phone_width_unlock(session_browser, server, built) -> None:  # type: ignore[no-untyped-def]
    ctx = session_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(server.url + f"{DEAL}/")
        box = page.locator(".dr-unlock__card").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        unlock(page, built[2][DEAL])
        wait_unlocked(page)
        assert page.locator("[data-dr-lock]").is_visible()
    finally:
        ctx.close()
