"""The sealing engine: keys, items and seal_deal, without MkDocs (the key cache: test_keys.py);
one whole protected build checks that padding hides the plan's length on real pages."""

from __future__ import annotations

import base64
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from dealrooms_plugin import csp, protect
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin import keys
from dealrooms_plugin.keys import DealKey
from dealrooms_plugin.protect import Brand, UnlockPage, seal_deal
from buildutil import build_site
from protectutil import copy_project, lock_of, open_item, open_page, set_passwords, slugs

PASSWORD = "tulip-ferry-crane-wafer-sonic-42"
SALT = bytes(range(16))


@pytest.fixture(scope="module")
def key() -> DealKey:
    return keys.derive_key(PASSWORD, SALT)


@pytest.fixture(scope="module")
def plain_files() -> dict[str, bytes]:
    # As the shell writes pages: its policy first, allowing its own template script by hash.
    template_script = "var __md_scope=new URL('..',location)"
    page = ("<!doctype html><html><head>" + str(csp.meta([csp.script_hash(template_script)]))
            + "<title>Plan · Kestrel Freight</title><script>" + template_script + "</script></head><body>{}</body></html>")
    return {
        "index.html": page.format("<h1>Overview</h1><p>Ilse Verhoeven, ilse@kestrel.example</p>").encode(),
        "plan/index.html": page.format("<h1>Plan</h1><p>Security questionnaire returned</p>" * 50).encode(),
        "sitemap.xml": b"<urlset><url><loc>/kestrel-freight/plan/</loc></url></urlset>",
        "assets/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'><title>Kestrel Freight</title></svg>",
        "calendar.ics": b"BEGIN:VCALENDAR\r\nSUMMARY:Weekly plan review with Kestrel\r\nEND:VCALENDAR\r\n",
    }


@pytest.fixture(scope="module")
def sealed(plain_files: dict[str, bytes], key: DealKey) -> dict[str, bytes]:
    return seal_deal(plain_files, key, UnlockPage(Brand("Orbisoft")))


def test_key_is_pbkdf2_sha256_with_at_least_600000_iterations(key: DealKey) -> None:
    assert key.iterations >= 600_000 and len(key.key) == 32 and key.salt == SALT
    assert keys.derive_key(PASSWORD, SALT).key == key.key
    assert keys.derive_key(" " + PASSWORD + "\n", SALT).key == key.key  # trimmed like the browser does
    assert keys.derive_key(PASSWORD, bytes(16)).key != key.key  # the salt matters
    with pytest.raises(DealroomsError, match="at least 600,000"):
        keys.derive_key(PASSWORD, SALT, 100_000)


def test_items_are_aes_gcm_with_random_nonces_bound_to_their_path(key: DealKey) -> None:
    one = protect.encrypt(key, "plan/index.html", b"hello")
    two = protect.encrypt(key, "plan/index.html", b"hello")
    assert one[:12] != two[:12] and one != two  # fresh 96-bit nonce per item
    assert protect.decrypt(key.key, "plan/index.html", one) == b"hello"
    assert open_item(key.key, "plan/index.html", one) == b"hello"  # independent reader agrees
    with pytest.raises(InvalidTag):
        protect.decrypt(key.key, "people/index.html", one)  # cannot be moved to another page
    tampered = bytearray(one)
    tampered[20] ^= 1
    with pytest.raises(InvalidTag):
        protect.decrypt(key.key, "plan/index.html", bytes(tampered))


def test_sizes_are_padded_to_a_floor_then_coarse_buckets() -> None:
    floor = protect.FLOOR
    assert floor == 16 * 1024
    assert protect.padded_size(1) == protect.padded_size(floor) == floor  # every normal deal's items look alike
    assert [protect.padded_size(n) for n in (floor + 1, 24577, 32769, 50000, 65537)] == [
        24576, 32768, 49152, 65536, 98304]
    for low in (4096, 8192, 12288, floor):
        assert protect.padded_size(1, low) == protect.padded_size(low, low) == low
        for n in range(1, 600_000, 977):
            size = protect.padded_size(n, low)
            assert size >= n and size % 4096 == 0
            assert size <= max(low, n * 1.5, 8192)  # 4097 bytes above a 4 KiB floor: 8 KiB
    assert [protect.padded_size(n, 8192) for n in (8193, 12289)] == [12288, 16384]
    assert protect.padded_size(4097, 4096) == 8192
    big = protect.padded_size(300_000)
    assert 300_000 <= big <= 300_000 * 1.13  # Padmé above 256 KiB
    for n in (10, 5000, 70_000):
        assert len(protect.frame(bytes(n))) == protect.padded_size(len(protect.frame(bytes(n))))
    assert len(protect.frame(bytes(10), 8192)) == 8192


def test_each_kind_of_item_has_its_own_floor() -> None:
    # The same for every deal: only the kind shows in a size, and every sealed deal has every kind.
    assert protect.floor_for("plan/index.html") == 16 * 1024
    assert [protect.floor_for(p) for p in ("index.html", "people/index.html", "value/index.html",
                                           "proposal/index.html")] == [8 * 1024] * 4
    assert protect.floor_for("calendar.ics") == 12 * 1024
    assert protect.floor_for("sitemap.xml") == 4096
    assert protect.floor_for("assets/logo.svg") == protect.floor_for("assets/logo.png") == 16 * 1024


def test_sealed_deal_has_unlock_pages_and_opaque_blobs_only(sealed: dict[str, bytes], plain_files: dict[str, bytes]) -> None:
    pages = [p for p in sealed if p.endswith(".html")]
    blobs = [p for p in sealed if not p.endswith(".html")]
    assert sorted(pages) == ["index.html", "plan/index.html"]  # same URLs: deep links keep working
    assert len(blobs) == 3 and all(b.startswith("blobs/") and b.endswith(".bin") for b in blobs)
    everything = b"".join(sealed.values()) + "".join(sealed).encode()
    for secret in (b"Kestrel", b"Ilse", b"questionnaire", b"Weekly plan review", b"sitemap", b"calendar", b"logo",
                   PASSWORD.encode()):
        assert secret not in everything
    for page in pages:
        html = sealed[page].decode()
        assert html.count('type="password"') == 1
        assert "This deal room is private." in html and "Enter the password you received." in html
        assert "Orbisoft" in html


def test_unlock_pages_are_identical_for_every_deal_apart_from_parameters(plain_files: dict[str, bytes]) -> None:
    unlock = UnlockPage(Brand("Orbisoft"))
    a = seal_deal(plain_files, keys.derive_key(PASSWORD, SALT), unlock)["index.html"]
    # Another deal: other content in the same page shell (same template scripts, so the same policy).
    other = plain_files["index.html"].replace(b"Ilse Verhoeven, ilse@kestrel.example", b"Halden Health")
    b = seal_deal({"index.html": other}, keys.derive_key("another-password-0815", bytes(16)), unlock)["index.html"]

    def generic(page: bytes) -> str:
        html = page.decode().split('<script type="application/json" id="dr-lock-params">')[0]
        return html.replace(lock_of(page)["salt"], "SALT")

    assert generic(a) == generic(b)


def test_unlock_pages_from_a_frame_are_the_bytes_of_a_full_render(plain_files: dict[str, bytes], key: DealKey) -> None:
    """After the first page of a shape, unlock pages come from a frame: the same bytes, with a lock that needs escaping."""
    unlock = UnlockPage(Brand("Orbisoft"))
    hostile = {"path": "index.html", "data": "</script><script>alert(1)</script>&<>'\"", "depth": 1}
    args = dict(deal_root="", site_root="../", script_hashes=["'sha256-abc'"], locale="de")
    first = unlock.render(lock={"path": "index.html", "data": "first"}, **args)
    framed = unlock.render(lock=hostile, **args)
    assert all(unlock._frames.values())  # the shape is framed
    full = UnlockPage(Brand("Orbisoft")).render(lock=hostile, **args)  # a new page object renders in full
    assert framed == full and first != framed
    assert b"</script><script>alert(1)" not in framed  # tojson escapes it, in the frame too
    assert seal_deal(plain_files, key, unlock).keys() == seal_deal(plain_files, key, UnlockPage(Brand("Orbisoft"))).keys()


@pytest.mark.parametrize("title", ["{{ lock.path }}", "{{ lock.path if lock | length > 1 else 'a' }}"])
def test_an_unlock_template_that_reads_the_lock_renders_every_page_in_full(tmp_path: Path, title: str) -> None:
    """A field read fails on the stand-in; a use that does not fail gives other bytes than a full render."""
    (tmp_path / "unlock.html").write_text(
        f'<title>{title}</title><script type="application/json" id="dr-lock-params">{{{{ lock | tojson }}}}</script>',
        encoding="utf-8")
    unlock = UnlockPage(Brand("Orbisoft"), [tmp_path])
    pages = [unlock.render(deal_root="", site_root="../", lock={"path": name, "data": "x"}) for name in ("a", "b", "c")]
    assert list(unlock._frames.values()) == [None]
    assert [page.split(b"</title>")[0] for page in pages] == [b"<title>a", b"<title>b", b"<title>c"]


def test_independent_decryption_recovers_page_and_files(sealed: dict[str, bytes], plain_files: dict[str, bytes]) -> None:
    lock, payload = open_page(PASSWORD, sealed["plan/index.html"])
    assert lock["v"] == 1 and lock["iterations"] >= 600_000 and lock["path"] == "plan/index.html"
    assert payload["html"].encode() == plain_files["plan/index.html"]
    key = keys.derive_key(PASSWORD, base64.b64decode(lock["salt"]), lock["iterations"]).key
    for path, blob in payload["files"].items():
        assert open_item(key, path, sealed[blob]) == plain_files[path]
    # The key check tells a wrong password from a damaged page.
    check = base64.b64decode(lock["check"])
    assert protect.AESGCM(key).decrypt(check[:12], check[12:], b"dealrooms:v1:#check") == protect.CHECK_PLAINTEXT
    with pytest.raises(InvalidTag):
        open_page("wrong-password-123456", sealed["plan/index.html"])


def test_large_deals_are_sealed_in_parallel_with_the_same_result(key: DealKey) -> None:
    files = {f"p{i}/index.html": (f"<p>page {i}</p>" + "x" * 90_000).encode() for i in range(6)}
    sealed = seal_deal(files, key, UnlockPage())
    assert sorted(sealed) == sorted(files)
    for path in files:
        assert open_page(PASSWORD, sealed[path])[1]["html"].encode() == files[path]


def test_brand_colour_is_checked() -> None:
    with pytest.raises(DealroomsError, match="brand_color"):
        Brand(color="red;} body{display:none")


class Elements(HTMLParser):
    """Start tags in document order: (tag, attributes, inside <noscript>), and the text inside <noscript>."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None], bool]] = []
        self.noscript_text = ""
        self._noscript = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._noscript += tag == "noscript"
        self.found.append((tag, dict(attrs), self._noscript > 0))

    def handle_endtag(self, tag: str) -> None:
        self._noscript -= tag == "noscript"

    def handle_data(self, data: str) -> None:
        if self._noscript:
            self.noscript_text += data

    def one(self, tag: str, **attrs: str) -> dict[str, str | None]:
        hits = [a for t, a, _ in self.found if t == tag and all(a.get(k) == v for k, v in attrs.items())]
        assert len(hits) == 1, (tag, attrs, hits)
        return hits[0]


def test_unlock_page_policy_comes_first_and_allows_only_the_sealed_pages_scripts(
    sealed: dict[str, bytes], plain_files: dict[str, bytes]
) -> None:
    html = sealed["index.html"].decode()
    head = Elements(html.split("<head>", 1)[1])
    first = head.found[0]
    assert first[0] == "meta" and first[1]["http-equiv"] == "Content-Security-Policy"  # a policy covers what follows it
    policy = str(first[1]["content"])
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["form-action"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["default-src"] == "'none'"
    assert "blob:" in directives["img-src"]  # the decrypted logo is a blob: URL
    assert "blob:" not in directives["connect-src"] + directives["worker-src"]  # no search index, no worker
    script_src = directives["script-src"].split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    # The unlock page has no inline script of its own, and its policy allows exactly
    # the inline scripts the opened page's own policy allows (it is written into this document).
    assert csp.inline_script_hashes(html) == []
    expected = csp.declared_script_hashes(plain_files["index.html"].decode())
    assert len(expected) == 1 and sorted(script_src) == sorted(["'self'", *expected])
    assert csp.script_hash("var __md_scope=new URL('..',location)") in script_src


def test_a_script_the_pages_own_policy_does_not_allow_is_not_allowed_by_its_unlock_page(
    plain_files: dict[str, bytes], key: DealKey
) -> None:
    """Hashes come from the page's declared policy, never from hashing the page: an injected script stays blocked."""
    injected = "alert(document.domain)"
    page = plain_files["index.html"].decode().replace("<h1>", f"<script>{injected}</script><h1>")
    sealed_page = seal_deal({"index.html": page.encode()}, key, UnlockPage())["index.html"].decode()
    assert csp.script_hash(injected) not in sealed_page
    assert csp.script_hash("var __md_scope=new URL('..',location)") in sealed_page


def test_without_javascript_the_unlock_form_cannot_send_the_password(sealed: dict[str, bytes]) -> None:
    page = Elements(sealed["plan/index.html"].decode())
    field = page.one("input", type="password")
    assert "name" not in field and "form" not in field  # nothing to submit, even if a form were sent
    form = page.one("form")
    assert "hidden" in form and not {"action", "method", "target"} & form.keys()  # unlock.js shows it
    assert "disabled" in page.one("fieldset")
    assert [t for t, a, _ in page.found if "name" in a and t in ("input", "button", "select", "textarea")] == []
    assert not [t for t, a, inside in page.found if inside and t in ("form", "input", "a", "img")]
    text = " ".join(page.noscript_text.split())
    assert "needs JavaScript" in text and "decrypted only here, in your browser" in text


def test_lock_parameters_do_not_place_the_page(sealed: dict[str, bytes]) -> None:
    # The browser places a page by its URL; the page's own idea of its deal root
    # ("root": "../") would let a page copied to another depth lie about it.
    for path, page in sealed.items():
        if path.endswith(".html"):
            lock = lock_of(page)
            assert "root" not in lock and lock["depth"] == 1 and lock["path"] == path
    with pytest.raises(ValueError, match="site_from_deal"):
        seal_deal({"index.html": b"<p>x</p>"}, keys.derive_key(PASSWORD, SALT), UnlockPage(), site_from_deal="/site/")


# --- padding on real pages ------------------------------------------------------------

STEP_COUNTS = (5, 30, 60)
PAGE_KINDS = ("index.html", "plan/index.html", "people/index.html", "value/index.html", "proposal/index.html")


def deal_with_steps(steps: int, seed: int) -> dict:
    """A generated benchmark deal with ``steps`` milestones of varied titles, 40 % with notes."""
    import random

    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks.generate import STEPS, WORDS, deal_document

    doc = deal_document(seed, seed)
    rng = random.Random(steps * 31 + seed)
    template = doc["milestones"]
    milestones = []
    for i in range(steps):
        m = {k: v for k, v in template[i % len(template)].items() if k != "after"}
        m["id"] = f"m{i}"
        m["title"] = " ".join(rng.choice(WORDS + STEPS) for _ in range(rng.randint(2, 5)))
        if i:
            m["after"] = [f"m{i - 1}"]
        if rng.random() < 0.4:
            m["notes"] = " ".join(rng.choice(WORDS + STEPS).lower() for _ in range(rng.randint(8, 40))) + "."
        milestones.append(m)
    doc["milestones"] = milestones
    return doc


def test_every_page_of_deals_up_to_60_steps_has_the_same_size(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import random

    import yaml

    project = copy_project(tmp_path / "project", brand=False)
    for example in (project / "dealrooms").glob("*.yml"):
        example.unlink()
    for steps in STEP_COUNTS:
        doc = deal_with_steps(steps, seed=steps)
        (project / "dealrooms" / f"steps-{steps}.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    from benchmarks.generate import STEPS, WORDS  # importable once deal_with_steps ran

    # The worst ordinary case the floors are measured on: a 40-word note of varied words on each of 60 steps.
    doc = deal_with_steps(60, seed=61)
    rng = random.Random(61)
    for milestone in doc["milestones"]:
        milestone["notes"] = " ".join(rng.choice(WORDS + STEPS).lower() for _ in range(40)) + "."
    (project / "dealrooms" / "notes-60.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    monkeypatch.chdir(project)
    set_passwords(monkeypatch, project, tmp_path / "cache")
    site = build_site(project)
    sizes: dict[str, dict[str, int | list[int]]] = {}
    for slug in slugs(project):
        files = {p.relative_to(site / slug).as_posix(): p.stat().st_size for p in (site / slug).rglob("*") if p.is_file()}
        pages = {p: n for p, n in files.items() if p.endswith(".html")}
        assert len(pages) == 5, pages
        sizes[slug] = {**pages, "blobs": sorted(n for p, n in files.items() if not p.endswith(".html"))}
        assert sum(files.values()) <= 150_000, f"{slug}: {sum(files.values())} bytes (issue 6: at most 150 kB per deal)"
    first, *others = sizes.values()
    for other in others:
        assert other == first, f"sizes differ between deals of {STEP_COUNTS} steps: {sizes}"

    def sealed(path: str) -> int:
        return 12 + protect.floor_for(path) + 16  # nonce | the item's floor | tag

    kinds = ("assets/logo.svg", "calendar.ics", "sitemap.xml")  # the blobs, names hidden (no search index)
    assert first["blobs"] == sorted(sealed(kind) for kind in kinds)
    for page in PAGE_KINDS:
        assert len(base64.b64decode(lock_of((site / slugs(project)[0] / page).read_bytes())["data"])) == sealed(page)
