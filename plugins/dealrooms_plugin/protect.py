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
* ``blobs/<opaque>.bin`` for every other file (sitemap, calendar, logo):
  names are HMACs of the path under a key derived from the deal key, so they
  reveal nothing and stay stable while the password does.

Plaintexts are compressed (zlib; the browser has ``DecompressionStream``) and
padded to a floor that depends on the item's kind (see :func:`floor_for` and
:func:`padded_size`), so sizes do not tell how many milestones a normal deal
has.

Each unlock page carries a Content-Security-Policy (:mod:`.csp`) that also
allows, by hash, the inline scripts of the page it unlocks: ``unlock.js``
writes the decrypted page into the unlock page's document, which keeps the
unlock page's policy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import re
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
from jinja2.utils import htmlsafe_json_dumps

from . import csp, i18n
from .errors import DealroomsError
from .keys import CIPHER, KDF, VERSION, DealKey, _b64, _unb64

NONCE_BYTES = 12
CHECK_PLAINTEXT = b"dealrooms key check v1"
CHECK_PATH = "#check"
BLOB_DIR = "blobs"
BUCKET = 4096
# Every item is padded to at least the floor of its kind, so every deal of up to about
# 60 steps has exactly the same sizes, item by item. Measured (zlib level 6) on generated
# deals of 60 steps where every step has a 40-word note of varied words (the worst
# ordinary case): the plan page's payload is 12.9 KB (9.3 KB with notes on 40 % of the
# steps), the calendar 8.7 KB; every other page stays below 4.2 KB whatever the number
# of steps, the sitemap below 200 bytes. One floor for every item (16 KiB, earlier) made
# a protected deal folder 199 kB; floors per kind keep the same property at about 130 kB
# (a deal room has no search index: no floor for one).
FLOOR = 16 * 1024  # the plan page, and any item of a kind not named below (the logo: up to 16 KiB hidden)
PAGE_FLOOR = 8 * 1024  # every other page
FLOORS = {
    "plan/index.html": FLOOR,
    "calendar.ics": 12 * 1024,
    "sitemap.xml": BUCKET,
}
GEOMETRIC_LIMIT = 256 * 1024  # above: Padmé
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


def floor_for(path: str) -> int:
    """The least padded size of the item at ``path`` inside the deal (see :data:`FLOORS`).

    The same for every deal, so only an item's kind (the plan page, the
    calendar ...) shows in its size, which every sealed deal has anyway.
    """
    if path in FLOORS:
        return FLOORS[path]
    return PAGE_FLOOR if path.endswith(".html") else FLOOR


def padded_size(n: int, floor: int = FLOOR) -> int:
    """Size of a framed item of ``n`` bytes after padding; always a multiple of 4 KiB.

    * up to ``floor`` (a multiple of 4 KiB, see :func:`floor_for`): ``floor``,
      so normal deals (up to ~60 steps) all look alike;
    * up to 256 KiB: the next of 2^k and 1.5 * 2^k (12, 16, 24, 32, 48 KiB, ...),
      so larger plans say only roughly how large they are (at most 50 % overhead);
    * above: Padmé (at most ~12 % overhead, O(log log n) bits revealed).
    """
    if n <= floor:
        return floor
    if n <= GEOMETRIC_LIMIT:
        power = 1 << (n - 1).bit_length()  # the smallest power of two >= n
        size = power * 3 // 4 if n <= power * 3 // 4 else power
        return -(-size // BUCKET) * BUCKET  # 6 KiB (above a 4 KiB floor) -> 8 KiB
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def frame(data: bytes, floor: int = FLOOR) -> bytes:
    """``flag | length (u32, big-endian) | body | zero padding``; body zlib-compressed when that helps.

    Padded to :func:`padded_size` with ``floor``.
    """
    # Level 5: a third less time than the default 6 for 1.5 % more bytes, which the floors absorb
    # (tests/test_protect.py: pages of deals up to 60 steps with long notes still share one size).
    body, flag = zlib.compress(data, 5), FLAG_ZLIB
    if len(body) >= len(data):
        body, flag = data, FLAG_RAW
    head = struct.pack(">BI", flag, len(body))
    size = len(head) + len(body)
    return head + body + bytes(padded_size(size, floor) - size)


def unframe(data: bytes) -> bytes:
    flag, length = struct.unpack(">BI", data[:5])
    body = data[5 : 5 + length]
    if len(body) != length or flag not in (FLAG_RAW, FLAG_ZLIB):
        raise ValueError("bad frame")
    return zlib.decompress(body) if flag == FLAG_ZLIB else body


def encrypt(key: DealKey, path: str, data: bytes) -> bytes:
    """``nonce (12 bytes) | AES-256-GCM ciphertext and tag`` of the framed data, padded for its kind."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key.key).encrypt(nonce, frame(data, floor_for(path)), aad(path))


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
            extensions=["jinja2.ext.i18n"],
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # As the deal pages (render.make_env): the words come with each render, in the deal's language.
        env.newstyle_gettext = True  # type: ignore[attr-defined]
        env.policies["ext.i18n.trimmed"] = True
        self.template = env.get_template(UNLOCK_TEMPLATE)
        # Unlock pages differ only in their lock (each page's ciphertext) for one place in the deal, one
        # language and one set of script hashes: rendered once around a stand-in lock, the lock's JSON is
        # put in its place. (frame, the stand-in's JSON) by shape; None: this shape renders in full.
        self._frames: dict[tuple[object, ...], tuple[str, str] | None] = {}

    def render(
        self, *, deal_root: str, site_root: str, lock: dict[str, object], script_hashes: Iterable[str] = (),
        locale: str = i18n.SOURCE_LANGUAGE,
    ) -> bytes:
        """The unlock page for one sealed page; ``script_hashes`` are that page's inline scripts (see :mod:`.csp`).

        The first page of a shape is rendered in full, and again around a
        stand-in lock with the same fields but other values; the frame is
        kept only if putting the real lock's JSON in the stand-in's place
        gives the full render's bytes. So a template that prints a lock field
        anywhere else (``{{ lock.path }}``) keeps rendering every page in full.
        """
        hashes = tuple(sorted(set(script_hashes)))
        shape = (deal_root, site_root, hashes, locale)
        if shape in self._frames:
            kept = self._frames[shape]
            if kept is not None:
                frame, stand_in = kept
                return frame.replace(stand_in, self._lock_json(lock)).encode("utf-8")
            return self._render(deal_root, site_root, lock, hashes, locale).encode("utf-8")
        full = self._render(deal_root, site_root, lock, hashes, locale)
        stand_in_lock = {name: f"dealrooms-stand-in-{i}" for i, name in enumerate(lock)}
        stand_in = self._lock_json(stand_in_lock)
        try:
            frame = self._render(deal_root, site_root, stand_in_lock, hashes, locale)
        except jinja2.TemplateError:  # a template computing with the lock's fields
            frame = ""
        good = frame.count(stand_in) == 1 and frame.replace(stand_in, self._lock_json(lock)) == full
        self._frames[shape] = (frame, stand_in) if good else None
        return full.encode("utf-8")

    def _render(self, deal_root: str, site_root: str, lock: dict[str, object], script_hashes: tuple[str, ...],
                locale: str) -> str:
        return self.template.render(
            brand=self.brand, deal_root=deal_root, site_root=site_root, lock=lock, csp=csp.meta(script_hashes),
            lang=i18n.html_lang(locale), **i18n.template_callables(locale),
        )

    def _lock_json(self, lock: dict[str, object]) -> str:
        """The lock as the template's ``tojson`` filter prints it."""
        env = self.template.environment
        return str(htmlsafe_json_dumps(lock, dumps=env.policies["json.dumps_function"], **env.policies["json.dumps_kwargs"]))


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
    locale: str = i18n.SOURCE_LANGUAGE,
) -> dict[str, bytes]:
    """A plain deal output (``{path inside the deal: bytes}``) -> its sealed output.

    ``site_from_deal`` is the relative URL from the deal's folder to the site
    root, where ``assets/dealrooms/unlock.js`` lives.

    The browser binds each page to its URL: it takes the page's path inside the
    deal from ``location`` (below the folder that served ``unlock.js``, after
    ``depth`` folders for the deal) and refuses the page when that differs
    from the path sealed with it. ``depth`` is the same for every page of a
    build, so a page copied elsewhere in the deal cannot use it to move the
    deal's root.
    """
    if not re.fullmatch(r"(\.\./)+", site_from_deal):
        raise ValueError(f"site_from_deal must be '../' repeated, not {site_from_deal!r}")
    depth = site_from_deal.count("../")
    pages = sorted(p for p in files if p.endswith(".html"))
    others = sorted(p for p in files if not p.endswith(".html"))
    manifest = {path: blob_name(key, path) for path in others}
    check = _b64(key_check(key))

    def seal_other(path: str) -> tuple[str, bytes]:
        return manifest[path], encrypt(key, path, files[path])

    def seal_page(path: str) -> tuple[str, bytes]:
        html = files[path].decode("utf-8")
        payload = json.dumps({"html": html, "files": manifest}, ensure_ascii=False)
        deal_root = "../" * path.count("/")
        lock = {**key.params(), "check": check, "path": path, "depth": depth,
                "data": _b64(encrypt(key, path, payload.encode("utf-8")))}
        # The unlocked page is written into this document, which keeps this
        # policy: allow exactly the template scripts the page's own policy
        # allows (never a hash of the page as a whole, which could include a
        # script that slipped out of deal text).
        return path, unlock.render(deal_root=deal_root, site_root=deal_root + site_from_deal, lock=lock,
                                   script_hashes=csp.declared_script_hashes(html), locale=locale)

    jobs = [(seal_other, p) for p in others] + [(seal_page, p) for p in pages]
    # A forked render worker seals one file after another: its siblings already use every core,
    # and a thread pool the parent made before forking has no threads in the child.
    if sum(len(files[p]) for p in files) >= PARALLEL_THRESHOLD and multiprocessing.parent_process() is None:
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
