"""Seal a deal's microsite: every byte of deal content encrypted, one password per deal.

Cryptography (from the ``cryptography`` package, nothing hand-rolled):

* key: see :mod:`.keys` (PBKDF2-HMAC-SHA256, per-deal salt, cached per machine);
* every item: AES-256-GCM with a fresh random 96-bit nonce and the item's path
  inside the deal as associated data (a page cannot be swapped for another);
* the browser (``assets/unlock.js``) derives the same key with WebCrypto.

A sealed deal folder holds:

* one unlock page per HTML page, at the same path (deep links keep working),
  rendered from ``templates/protect/unlock.html``: generic wording, the
  seller's brand, the parameters (version, cipher, KDF, iterations, salt), a
  key-check value and that page's ciphertext;
* ``blobs/<opaque>.bin`` for every other file (search index, sitemap, calendar,
  logo): names are HMACs of the path under a key derived from the deal key, so
  they reveal nothing and stay stable while the password does.

Plaintexts are compressed (zlib; the browser has ``DecompressionStream``) and
padded to 4 KiB buckets (Padmé above 64 KiB), so sizes say little about how
many milestones or people a deal has.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import jinja2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DealroomsError
from .keys import CIPHER, KDF, VERSION, DealKey, _b64, _unb64

NONCE_BYTES = 12
CHECK_PLAINTEXT = b"dealrooms key check v1"
CHECK_PATH = "#check"
BLOB_DIR = "blobs"
BUCKET = 4096
PARALLEL_THRESHOLD = 256 * 1024  # bytes of input above which a deal is sealed on all cores

TEMPLATES = Path(__file__).resolve().parent / "templates" / "protect"
UNLOCK_TEMPLATE = "unlock.html"
DEFAULT_COLOR = "#4051b5"  # Material's indigo
COLOR = r"^(#[0-9a-fA-F]{3,8}|(rgb|hsl)a?\([0-9.,%\s]+\))$"

FLAG_RAW = 0
FLAG_ZLIB = 1


# --- items ------------------------------------------------------------------


def aad(path: str) -> bytes:
    """Associated data binding a ciphertext to its place in the deal."""
    return f"dealrooms:v{VERSION}:{path}".encode("utf-8")


def padded_size(n: int) -> int:
    """4 KiB buckets up to 64 KiB, Padmé above (at most ~12 % overhead)."""
    if n <= 16 * BUCKET:
        return max(BUCKET, -(-n // BUCKET) * BUCKET)
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def frame(data: bytes) -> bytes:
    """``flag | length (u32, big-endian) | body | zero padding``; body zlib-compressed when that helps."""
    body, flag = zlib.compress(data, 6), FLAG_ZLIB
    if len(body) >= len(data):
        body, flag = data, FLAG_RAW
    head = struct.pack(">BI", flag, len(body))
    size = len(head) + len(body)
    return head + body + bytes(padded_size(size) - size)


def unframe(data: bytes) -> bytes:
    flag, length = struct.unpack(">BI", data[:5])
    body = data[5 : 5 + length]
    if len(body) != length or flag not in (FLAG_RAW, FLAG_ZLIB):
        raise ValueError("bad frame")
    return zlib.decompress(body) if flag == FLAG_ZLIB else body


def encrypt(key: DealKey, path: str, data: bytes) -> bytes:
    """``nonce (12 bytes) | AES-256-GCM ciphertext and tag`` of the framed data."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key.key).encrypt(nonce, frame(data), aad(path))


def decrypt(key: bytes, path: str, blob: bytes) -> bytes:
    """Inverse of :func:`encrypt` (used by tests and tools; the browser has its own)."""
    return unframe(AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad(path)))


def key_check(key: DealKey) -> bytes:
    """Decrypts only under the right key: tells a wrong password from a damaged page."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key.key).encrypt(nonce, CHECK_PLAINTEXT, aad(CHECK_PATH))


def blob_name(key: DealKey, path: str) -> str:
    """Opaque, stable file name of a sealed non-HTML file."""
    names = HKDF(algorithm=hashes.SHA256(), length=32, salt=key.salt, info=b"dealrooms v1 blob names").derive(key.key)
    return f"{BLOB_DIR}/{hmac.new(names, path.encode('utf-8'), hashlib.sha256).hexdigest()[:24]}.bin"


# --- the unlock page ----------------------------------------------------------


@dataclass(frozen=True)
class Brand:
    """What the unlock page shows of the seller (same for every deal)."""

    name: str | None = None
    logo: str | None = None  # path from the site root, e.g. "assets/dealrooms/brand.svg"
    color: str = DEFAULT_COLOR

    def __post_init__(self) -> None:
        import re

        if not re.match(COLOR, self.color.strip()):
            raise DealroomsError(f"brand_color: {self.color!r} is not a colour; expected e.g. '#1f3a93'")


class UnlockPage:
    """Renders the generic unlock page (autoescaped Jinja).

    ``overrides`` are folders searched before the packaged template, so a
    theme's ``custom_dir/dealrooms/unlock.html`` can replace it.
    """

    def __init__(self, brand: Brand | None = None, overrides: Iterable[Path] = ()):
        self.brand = brand or Brand()
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([*map(str, overrides), str(TEMPLATES)]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.template = env.get_template(UNLOCK_TEMPLATE)

    def render(self, *, deal_root: str, site_root: str, lock: dict[str, object]) -> bytes:
        return self.template.render(brand=self.brand, deal_root=deal_root, site_root=site_root, lock=lock).encode("utf-8")


# --- sealing ------------------------------------------------------------------


_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="dealrooms-seal")
    return _pool


def seal_deal(
    files: Mapping[str, bytes],
    key: DealKey,
    unlock: UnlockPage,
    *,
    site_from_deal: str = "../",
) -> dict[str, bytes]:
    """A plain deal output (``{path inside the deal: bytes}``) -> its sealed output.

    ``site_from_deal`` is the relative URL from the deal's folder to the site
    root, where ``assets/dealrooms/unlock.js`` lives.
    """
    pages = sorted(p for p in files if p.endswith(".html"))
    others = sorted(p for p in files if not p.endswith(".html"))
    manifest = {path: blob_name(key, path) for path in others}
    check = _b64(key_check(key))

    def seal_other(path: str) -> tuple[str, bytes]:
        return manifest[path], encrypt(key, path, files[path])

    def seal_page(path: str) -> tuple[str, bytes]:
        payload = json.dumps({"html": files[path].decode("utf-8"), "files": manifest}, ensure_ascii=False)
        deal_root = "../" * path.count("/")
        lock = {**key.params(), "check": check, "path": path, "root": deal_root or "./",
                "data": _b64(encrypt(key, path, payload.encode("utf-8")))}
        return path, unlock.render(deal_root=deal_root, site_root=deal_root + site_from_deal, lock=lock)

    jobs = [(seal_other, p) for p in others] + [(seal_page, p) for p in pages]
    if sum(len(files[p]) for p in files) >= PARALLEL_THRESHOLD:
        pool = _executor()
        results = [f.result() for f in [pool.submit(fn, p) for fn, p in jobs]]
    else:
        results = [fn(p) for fn, p in jobs]
    return dict(results)


def read_lock(page: bytes) -> dict[str, object]:
    """The parameters and ciphertext embedded in a sealed page (for tools and tests)."""
    text = page.decode("utf-8")
    start = text.index('id="dr-lock-params"')
    start = text.index(">", start) + 1
    end = text.index("</script>", start)
    return json.loads(text[start:end])


def open_page(key: bytes, page: bytes) -> dict[str, object]:
    """Decrypt a sealed page: ``{"html": ..., "files": {path: blob}}``."""
    lock = read_lock(page)
    return json.loads(decrypt(key, str(lock["path"]), _unb64(str(lock["data"]))))
