"""Protected deal rooms in real headless Chromium: unlock, navigate, lock, tamper,
the Content-Security-Policy, no JavaScript, swapped pages and file:// URLs."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browserutil import StaticServer
from protectutil import build_protected_examples, derive, lock_of, sensitive_strings, slugs

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


@pytest.fixture(scope="module")
def swapped_server(built, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A copy of the site where sealed pages of one deal were copied over others:
    plan over people (same depth), plan over the overview (shallower), and the
    overview over value (deeper); the proposal page claims to be the value page."""
    site = tmp_path_factory.mktemp("swapped") / "site"
    shutil.copytree(built[1], site)
    deal = site / DEAL
    shutil.copy(deal / "plan" / "index.html", deal / "people" / "index.html")
    shutil.copy(deal / "index.html", deal / "value" / "index.html")
    shutil.copy(deal / "plan" / "index.html", deal / "index.html")
    proposal = (deal / "proposal" / "index.html").read_text(encoding="utf-8")
    (deal / "proposal" / "index.html").write_text(
        proposal.replace('"path": "proposal/index.html"', '"path": "value/index.html"'), encoding="utf-8")
    assert lock_of((deal / "proposal" / "index.html").read_bytes())["path"] == "value/index.html"
    srv = StaticServer(site)
    yield srv
    srv.close()


# Records Content-Security-Policy violations in window.__csp. document.open() (how
# unlock.js shows the decrypted page) drops every event listener: listen again after it.
CSP_WATCH = """
window.__csp = window.__csp || [];
(function () {
  function listen() {
    document.addEventListener("securitypolicyviolation", function (e) {
      window.__csp.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
    });
  }
  listen();
  var open = Document.prototype.open;
  Document.prototype.open = function () { var r = open.apply(this, arguments); listen(); return r; };
})();
"""


@pytest.fixture
def context(session_browser):  # type: ignore[no-untyped-def]
    """A fresh browser profile (empty storage) that records every request."""
    ctx = session_browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.requests = []  # type: ignore[attr-defined]
    ctx.errors = []  # type: ignore[attr-defined]
    ctx.on("request", lambda request: ctx.requests.append(request.url))
    ctx.on("page", lambda page: page.on("pageerror", lambda exc: ctx.errors.append(str(exc))))
    yield ctx
    foreign = [u for u in ctx.requests
               if urlsplit(u).scheme not in ("blob", "data", "file") and urlsplit(u).hostname != "127.0.0.1"]
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not ctx.errors, ctx.errors
    ctx.close()


def unlock(page, password: str) -> None:  # type: ignore[no-untyped-def]
    field = page.locator("input[type=password]")
    assert field.count() == 1
    field.fill(password)
    field.press("Enter")


def wait_unlocked(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(".md-header [data-dr-lock-toggle]").wait_for(timeout=15_000)


def wait_damaged(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("html.dr-damaged").wait_for(state="attached", timeout=15_000)  # no wait_for_function: the policy forbids eval
    assert page.locator("#dr-unlock-title").inner_text() == "This page is damaged."
    assert "ask your contact for a new link" in page.locator(".dr-unlock__card").inner_text()
    assert page.locator(".md-content").count() == 0


def stored_keys(page) -> list:  # type: ignore[no-untyped-def]
    """What this origin's IndexedDB holds for deals: [{salt, type, extractable}]."""
    return page.evaluate("""() => new Promise((resolve) => {
      const request = indexedDB.open("dealrooms", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("keys");
      request.onsuccess = () => {
        const db = request.result, out = [];
        const cursor = db.transaction("keys").objectStore("keys").openCursor();
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) { db.close(); resolve(out); return; }
          out.push({salt: c.key, type: Object.prototype.toString.call(c.value), extractable: c.value.extractable});
          c.continue();
        };
      };
    })""")


def test_right_password_reveals_deal_and_next_pages_open_directly(context, server, built) -> None:  # type: ignore[no-untyped-def]
    project, _, passwords = built
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/plan/")
    page.locator("#dr-password").wait_for(state="visible")  # shown once no remembered key was found (async)
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
    assert "dealrooms.key." in "".join(page.evaluate("Object.keys(sessionStorage)"))  # this tab only
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dealrooms.key.'))") == []
    assert not any(passwords[DEAL] in v for v in page.evaluate("Object.values(sessionStorage)"))  # the key, not the password
    assert stored_keys(page) == []  # nothing kept on the device without "Remember on this device"


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


def test_unlocked_deal_room_works_without_search(context, server, built) -> None:  # type: ignore[no-untyped-def]
    """Deal rooms have no search (no box, no index): the unlocked pages ask for none and
    unlock.js leaves the page's requests alone (it used to reroute Material's to a decrypted index)."""
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    page.goto(server.url + f"{DEAL}/")
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    assert page.locator("form[name=search], .md-search").count() == 0
    assert page.evaluate("[fetch, XMLHttpRequest.prototype.open].map(String)") == [
        "function fetch() { [native code] }", "function open() { [native code] }"]
    page.locator(".md-tabs__link", has_text="Plan").click()  # tabs: a new page, unlocked again
    page.wait_for_url("**/plan/")
    wait_unlocked(page)
    assert MILESTONE in page.locator(".md-content").inner_text()
    page.locator(".md-tabs__link", has_text="Proposal").click()
    page.wait_for_url("**/proposal/")
    wait_unlocked(page)
    assert page.title().startswith("Proposal")
    assert not [u for u in context.requests if "search" in urlsplit(u).path], context.requests
    assert not missing, missing


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
    wait_damaged(page)


def test_remembered_key_is_a_non_extractable_crypto_key_not_bytes(context, server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/people/")
    page.locator("#dr-remember").check()
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    salt = lock_of((built[1] / DEAL / "index.html").read_bytes())["salt"]
    raw = base64.b64encode(derive(built[2][DEAL], lock_of((built[1] / DEAL / "index.html").read_bytes()))).decode()
    # A script of another deal (same origin) finds no key bytes in any storage ...
    other = context.new_page()
    other.goto(server.url + f"{OTHER}/")
    everything = other.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert raw not in everything and "dealrooms.key." not in everything
    # ... only a CryptoKey it cannot export.
    assert stored_keys(other) == [{"salt": salt, "type": "[object CryptoKey]", "extractable": False}]
    exported = other.evaluate("""() => new Promise((resolve) => {
      const r = indexedDB.open("dealrooms", 1);
      r.onsuccess = () => {
        const get = r.result.transaction("keys").objectStore("keys").get(%r);
        get.onsuccess = () => crypto.subtle.exportKey("raw", get.result).then(() => "exported", (e) => e.name);
        get.onsuccess = () => crypto.subtle.exportKey("raw", get.result).then(() => resolve("exported"), (e) => resolve(e.name));
      };
    })""" % salt)
    assert exported == "InvalidAccessError"
    # Keys remembered as bytes by earlier versions are moved out of localStorage on the next visit.
    other.evaluate("localStorage.setItem('dealrooms.key.' + %r, %r)" % (salt, raw))
    other.reload()
    other.locator("input[type=password]").wait_for()
    assert other.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dealrooms.key.'))") == []
    assert [k["extractable"] for k in stored_keys(other)] == [False]


def test_lock_menu_locks_this_deal_or_forgets_every_deal_by_keyboard(context, server, built) -> None:  # type: ignore[no-untyped-def]
    passwords = built[2]
    page = context.new_page()
    page.goto(server.url + f"{DEAL}/people/")
    page.locator("#dr-remember").check()
    unlock(page, passwords[DEAL])
    wait_unlocked(page)
    other_tab = context.new_page()  # a new tab: no sessionStorage, but remembered on this device
    other_tab.goto(server.url + f"{DEAL}/plan/")
    wait_unlocked(other_tab)
    other_tab.goto(server.url + f"{OTHER}/")
    unlock(other_tab, passwords[OTHER])  # this tab only
    wait_unlocked(other_tab)

    toggle = page.locator("[data-dr-lock-toggle]")
    assert toggle.is_visible() and "Lock" in toggle.inner_text()
    menu = page.locator("#dr-lock-menu")
    assert toggle.get_attribute("aria-expanded") == "false" and menu.is_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and menu.is_visible()
    items = page.locator("#dr-lock-menu button")
    assert [" ".join(t.split()) for t in items.all_inner_texts()] == [
        "Lock this deal room Forget its password on this device",
        "Forget all deal rooms on this device Every deal room opened in this browser asks for its password again"]
    assert page.evaluate("document.activeElement.dataset.drLock") == "this"  # focus moved into the menu
    page.keyboard.press("Escape")
    assert menu.is_hidden() and page.evaluate("document.activeElement.hasAttribute('data-dr-lock-toggle')")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.drLock") == "all"
    page.keyboard.press("Enter")  # forget every deal on this device

    page.locator("input[type=password]").wait_for(timeout=10_000)
    other_tab.locator("input[type=password]").wait_for(timeout=10_000)  # told to forget too: locked
    for tab in (page, other_tab):
        assert tab.evaluate("Object.keys(localStorage).concat(Object.keys(sessionStorage))"
                            ".filter(k => k.startsWith('dealrooms.key.'))") == []
    assert stored_keys(page) == []
    for url in (f"{DEAL}/", f"{OTHER}/"):
        third = context.new_page()
        third.goto(server.url + url)
        assert third.locator("input[type=password]").count() == 1 and third.locator(".md-content").count() == 0


def test_lock_this_deal_room_keeps_the_others(context, server, built) -> None:  # type: ignore[no-untyped-def]
    passwords = built[2]
    page = context.new_page()
    page.goto(server.url + f"{OTHER}/")
    page.locator("#dr-remember").check()
    unlock(page, passwords[OTHER])
    wait_unlocked(page)
    page.goto(server.url + f"{DEAL}/")
    page.locator("#dr-remember").check()
    unlock(page, passwords[DEAL])
    wait_unlocked(page)
    page.locator("[data-dr-lock-toggle]").click()
    page.locator("[data-dr-lock=this]").click()
    page.locator("input[type=password]").wait_for(timeout=10_000)
    page.goto(server.url + f"{OTHER}/people/")
    wait_unlocked(page)  # still remembered
    assert len(stored_keys(page)) == 1


def test_policy_holds_before_and_after_unlock_and_material_keeps_working(context, server, built) -> None:  # type: ignore[no-untyped-def]
    context.add_init_script(CSP_WATCH)
    console: list[str] = []
    page = context.new_page()
    page.on("console", lambda msg: console.append(msg.text))
    page.goto(server.url + f"{DEAL}/")
    head = page.evaluate("[document.head.firstElementChild.httpEquiv, document.head.firstElementChild.content]")
    assert head[0] == "Content-Security-Policy" and "form-action 'none'" in head[1]
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    assert page.locator(".md-header .md-logo img").get_attribute("src").startswith("blob:")
    page.locator(".md-tabs__link", has_text="Plan").click()  # tabs: a new page, unlocked again
    page.wait_for_url("**/plan/")
    wait_unlocked(page)
    page.locator("[data-dr-lock-toggle]").click()
    page.wait_for_timeout(300)  # violation events are dispatched asynchronously
    assert page.evaluate("window.__csp") == []
    assert not [m for m in console if "Content Security Policy" in m], console
    # The unlocked page is still under the policy: an injected inline script does not run.
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran") is None
    assert {v.split(" ")[0] for v in page.evaluate("window.__csp")} == {"script-src-elem"}  # and it was reported


@pytest.mark.parametrize("width", [390, 1280])
def test_without_javascript_the_password_goes_nowhere(session_browser, server, built, width, tmp_path) -> None:  # type: ignore[no-untyped-def]
    password = built[2][DEAL]
    ctx = session_browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 844})
    requests: list[str] = []
    ctx.on("request", lambda request: requests.append(request.url + " " + (request.post_data or "")))
    try:
        page = ctx.new_page()
        url = server.url + f"{DEAL}/plan/"
        page.goto(url)
        field = page.locator("input[type=password]")
        if field.is_visible() and field.is_editable():  # as it was: typing and Enter sent ?password=...
            field.fill(password)
            field.press("Enter")
            page.wait_for_timeout(500)
            assert not [r for r in requests if password in r], "the password left the page"
            page.goto(url)
        assert not field.is_visible() and not field.is_editable()
        note = page.locator(".dr-unlock__noscript")
        assert note.is_visible()
        assert "needs JavaScript" in note.inner_text() and "decrypted only here, in your browser" in note.inner_text()
        shots = Path(os.environ.get("DEALROOMS_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"unlock-nojs-{width}.png"), full_page=True)
        assert page.locator(".dr-unlock__card").bounding_box()["width"] <= width

        # Even with the form forced open (a broken stylesheet, an edited page), nothing sends it.
        def opened(route):  # type: ignore[no-untyped-def]
            html = route.fetch().text().replace(" hidden>", ">").replace(" disabled>", ">")
            route.fulfill(body=html, content_type="text/html")

        page.route(url, opened)
        requests.clear()
        page.goto(url)
        assert field.is_visible() and field.is_editable()
        field.fill(password)
        # A submission blocked by form-action 'none' starts no navigation: don't wait for one.
        field.press("Enter", no_wait_after=True)
        page.wait_for_timeout(500)
        assert page.url == url
        assert not [r for r in requests if password in r or "?" in r], requests
    finally:
        ctx.close()


def test_swapped_pages_are_damaged(context, swapped_server, built) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(swapped_server.url + f"{DEAL}/people/")  # the plan's page, copied over People (same depth)
    wait_damaged(page)  # found before asking for a password
    assert page.locator("input[type=password]").is_hidden()
    page.goto(swapped_server.url + f"{DEAL}/")  # the plan's page copied over the overview (shallower)
    wait_damaged(page)
    # A page whose parameters claim the URL it was copied to: found when decrypting.
    page.goto(swapped_server.url + f"{DEAL}/value/")  # the overview, copied one folder deeper
    stuck = page.locator(".dr-unlock__stuck")
    stuck.wait_for(state="visible", timeout=10_000)  # its relative links miss the script: it cannot run at all
    assert page.locator("input[type=password]").is_hidden() and page.locator(".md-content").count() == 0
    page.goto(swapped_server.url + f"{DEAL}/proposal/")  # the proposal, claiming to be the value page
    wait_damaged(page)
    page.goto(swapped_server.url + f"{DEAL}/plan/")  # intact
    unlock(page, built[2][DEAL])
    wait_unlocked(page)
    page.goto(swapped_server.url + f"{DEAL}/people/")  # key known: still refused
    wait_damaged(page)


def test_opened_from_a_file_the_page_explains_how_to_serve_it(context, built) -> None:  # type: ignore[no-untyped-def]
    site = built[1]
    page = context.new_page()
    page.goto((site / DEAL / "plan" / "index.html").as_uri())
    page.locator("html.dr-file").wait_for(state="attached", timeout=10_000)
    card = page.locator(".dr-unlock__card")
    assert page.locator("#dr-unlock-title").inner_text() == "Open this deal room from a web address."
    command = page.locator(".dr-unlock__command").inner_text()
    assert command == f'python3 -m http.server 8000 --directory "{site}"'
    assert page.locator("#dr-unlock-served-url").inner_text() == f"http://localhost:8000/{DEAL}/plan/index.html"
    assert "check your connection" not in card.inner_text().lower()
    assert page.locator("input[type=password]").is_hidden()


def test_phone_width_unlock(session_browser, server, built) -> None:  # type: ignore[no-untyped-def]
    ctx = session_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(server.url + f"{DEAL}/")
        box = page.locator(".dr-unlock__card").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        unlock(page, built[2][DEAL])
        wait_unlocked(page)
        toggle = page.locator("[data-dr-lock-toggle]")
        assert toggle.is_visible()
        toggle.tap()
        menu = page.locator("#dr-lock-menu").bounding_box()
        assert menu and menu["x"] >= 0 and menu["x"] + menu["width"] <= 390  # the choices fit on a phone
    finally:
        ctx.close()
