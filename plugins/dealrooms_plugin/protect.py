"""Seal a deal's microsite: every byte of deal content encrypted, one password per deal.

Cryptography (from the ``cryptography`` package, nothing hand-rolled):

* key: PBKDF2-HMAC-SHA256 over the NFC-normalised, whitespace-trimmed password,
  a random 128-bit salt per deal and >= 600,000 iterations -> 256-bit key;
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

Deriving a key takes ~0.1-0.5 s on purpose. Keys are derived once per deal per
build, in parallel, and cached outside the output and the repository (see
:class:`KeyCache`) until the password or the parameters change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
import tempfile
import unicodedata
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import jinja2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .errors import DealroomsError

VERSION = 1
CIPHER = "AES-256-GCM"
KDF = "PBKDF2-HMAC-SHA256"
MIN_ITERATIONS = 600_000
DEFAULT_ITERATIONS = 600_000
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
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


# --- keys -------------------------------------------------------------------


def normalise_password(password: str) -> bytes:
    """What is fed to PBKDF2; ``unlock.js`` does the same (trim, NFC, UTF-8)."""
    return unicodedata.normalize("NFC", password.strip()).encode("utf-8")


@dataclass(frozen=True)
class DealKey:
    """A deal's derived key and the public parameters needed to derive it again."""

    key: bytes = field(repr=False)
    salt: bytes
    iterations: int = DEFAULT_ITERATIONS
    version: int = VERSION

    @property
    def fingerprint(self) -> str:
        """Changes whenever the key does; safe to log or put in cache keys."""
        return hashlib.sha256(b"dealrooms key fingerprint\0" + self.key).hexdigest()[:16]

    def params(self) -> dict[str, object]:
        return {
            "v": self.version,
            "cipher": CIPHER,
            "kdf": KDF,
            "iterations": self.iterations,
            "salt": _b64(self.salt),
        }


def derive_key(password: str, salt: bytes, iterations: int = DEFAULT_ITERATIONS) -> DealKey:
    """PBKDF2-HMAC-SHA256 -> 256-bit AES key (slow on purpose)."""
    if iterations < MIN_ITERATIONS:
        raise DealroomsError(f"kdf_iterations: {iterations} is too few; use at least {MIN_ITERATIONS:,}")
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, iterations=iterations)
    return DealKey(kdf.derive(normalise_password(password)), salt, iterations)


def default_cache_dir() -> Path:
    """``$DEALROOMS_CACHE_DIR``, else ``$XDG_CACHE_HOME/dealrooms``, else ``~/.cache/dealrooms``."""
    if os.environ.get("DEALROOMS_CACHE_DIR"):
        return Path(os.environ["DEALROOMS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dealrooms"


class KeyCache:
    """Derived keys kept on this machine, never in the output or the repository.

    One file per (deal, password, parameters): its name is a SHA-256 of those,
    its content the random salt chosen the first time and the derived key. A
    changed password or iteration count misses the cache, so it gets a new
    salt and key. Folder mode 0700, files 0600, written atomically. Disable
    with ``DEALROOMS_KEY_CACHE=off``.
    """

    def __init__(self, folder: Path | None = None, enabled: bool | None = None):
        self.folder = (folder or default_cache_dir()) / "keys"
        if enabled is None:
            enabled = os.environ.get("DEALROOMS_KEY_CACHE", "on").lower() not in ("0", "off", "false", "no")
        self.enabled = enabled

    def _entry(self, slug: str, password: str, iterations: int) -> Path:
        material = json.dumps(
            {"v": VERSION, "kdf": KDF, "iterations": iterations, "slug": slug,
             "password": normalise_password(password).decode("utf-8")},
            sort_keys=True,
        ).encode("utf-8")
        return self.folder / (hashlib.sha256(b"dealrooms key cache\0" + material).hexdigest() + ".json")

    def get(self, slug: str, password: str, iterations: int) -> DealKey | None:
        if not self.enabled:
            return None
        try:
            data = json.loads(self._entry(slug, password, iterations).read_text(encoding="utf-8"))
            key = DealKey(_unb64(data["key"]), _unb64(data["salt"]), int(data["iterations"]), int(data["v"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if len(key.key) != KEY_BYTES or len(key.salt) != SALT_BYTES or key.iterations != iterations or key.version != VERSION:
            return None
        return key

    def put(self, slug: str, password: str, key: DealKey) -> None:
        if not self.enabled:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.folder, 0o700)
            target = self._entry(slug, password, key.iterations)
            data = json.dumps({"v": key.version, "iterations": key.iterations, "salt": _b64(key.salt), "key": _b64(key.key)})
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")  # mkstemp creates files 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs time


def deal_keys(
    passwords: Mapping[str, str],
    *,
    iterations: int = DEFAULT_ITERATIONS,
    cache: KeyCache | None = None,
    workers: int | None = None,
) -> dict[str, DealKey]:
    """Each deal's key: from the cache, or derived (new random salt) on all cores."""
    cache = cache if cache is not None else KeyCache()
    keys: dict[str, DealKey] = {}
    todo: list[str] = []
    for slug, password in passwords.items():
        cached = cache.get(slug, password, iterations)
        if cached is not None:
            keys[slug] = cached
        else:
            todo.append(slug)

    def derive(slug: str) -> DealKey:
        return derive_key(passwords[slug], secrets.token_bytes(SALT_BYTES), iterations)

    if len(todo) > 1:  # cryptography's PBKDF2 releases the GIL: threads use every core
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            derived = dict(zip(todo, pool.map(derive, todo)))
    else:
        derived = {slug: derive(slug) for slug in todo}
    for slug, key in derived.items():
        cache.put(slug, passwords[slug], key)
        keys[slug] = key
    return dict(sorted(keys.items()))


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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
