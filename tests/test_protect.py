"""The sealing engine: keys, items and seal_deal, without MkDocs (the key cache: test_keys.py)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidTag

from dealrooms_plugin import protect
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin import keys
from dealrooms_plugin.keys import DealKey
from dealrooms_plugin.protect import Brand, UnlockPage, seal_deal
from protectutil import lock_of, open_item, open_page

PASSWORD = "tulip-ferry-crane-wafer-sonic-42"
SALT = bytes(range(16))


@pytest.fixture(scope="module")
def key() -> DealKey:
    return keys.derive_key(PASSWORD, SALT)


@pytest.fixture(scope="module")
def plain_files() -> dict[str, bytes]:
    page = "<!doctype html><html><head><title>Plan · Kestrel Freight</title></head><body>{}</body></html>"
    return {
        "index.html": page.format("<h1>Overview</h1><p>Ilse Verhoeven, ilse@kestrel.example</p>").encode(),
        "plan/index.html": page.format("<h1>Plan</h1><p>Security questionnaire returned</p>" * 50).encode(),
        "search/search_index.json": json.dumps({"docs": [{"title": "Plan", "text": "Security questionnaire"}]}).encode(),
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


def test_sizes_are_padded_to_buckets() -> None:
    assert protect.padded_size(1) == 4096
    assert protect.padded_size(4097) == 8192
    assert protect.padded_size(65536) == 65536
    big = protect.padded_size(300_000)
    assert 300_000 <= big <= 300_000 * 1.13
    for n in (10, 5000, 70_000):
        assert len(protect.frame(bytes(n))) == protect.padded_size(len(protect.frame(bytes(n))))


def test_sealed_deal_has_unlock_pages_and_opaque_blobs_only(sealed: dict[str, bytes], plain_files: dict[str, bytes]) -> None:
    pages = [p for p in sealed if p.endswith(".html")]
    blobs = [p for p in sealed if not p.endswith(".html")]
    assert sorted(pages) == ["index.html", "plan/index.html"]  # same URLs: deep links keep working
    assert len(blobs) == 4 and all(b.startswith("blobs/") and b.endswith(".bin") for b in blobs)
    everything = b"".join(sealed.values()) + "".join(sealed).encode()
    for secret in (b"Kestrel", b"Ilse", b"questionnaire", b"Weekly plan review", b"search_index", b"calendar", b"logo",
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
    b = seal_deal({"index.html": b"<p>Halden Health</p>"}, keys.derive_key("another-password-0815", bytes(16)), unlock)["index.html"]

    def generic(page: bytes) -> str:
        html = page.decode().split('<script type="application/json" id="dr-lock-params">')[0]
        return html.replace(lock_of(page)["salt"], "SALT")

    assert generic(a) == generic(b)


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
