"""Deal keys: PBKDF2 derivation and the per-machine key cache.

* key: PBKDF2-HMAC-SHA256 over the NFC-normalised, whitespace-trimmed password,
  a random 128-bit salt per deal and >= 600,000 iterations -> 256-bit key;
  the browser (``assets/unlock.js``) derives the same key with WebCrypto.

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
import re
import secrets
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import platformdirs
from cryptography.exceptions import InvalidTag
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
KEY_BYTES = 32
APP_NAME = "dealrooms"

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
    """``$DEALROOMS_CACHE_DIR``, else the user's cache folder (``~/.cache/dealrooms`` on Linux)."""
    if os.environ.get("DEALROOMS_CACHE_DIR"):
        return Path(os.environ["DEALROOMS_CACHE_DIR"])
    return platformdirs.user_cache_path(APP_NAME)


def default_secret_file() -> Path:
    """The machine secret of the key cache, in the user's data folder (``~/.local/share/dealrooms`` on Linux).

    Deliberately not below the cache folder: caches get copied, shared between
    CI runs and backed up far more casually than a user's data folder.
    """
    return platformdirs.user_data_path(APP_NAME) / "key-cache.secret"


SECRET_BYTES = 32
CACHE_FORMAT = 2
# <HMAC(slug) 32 hex>-<HMAC(slug, password, parameters) 64 hex>.key, and that
# entry's <stem>.<HMAC(stem, rules) 32 hex>.ok when its password passed a check.
_ENTRY = re.compile(r"^[0-9a-f]{32}-[0-9a-f]{64}(\.key|\.[0-9a-f]{32}\.ok)$")
# Entries of the first format: raw keys under an unsalted SHA-256 name.
_LEGACY_ENTRY = re.compile(r"^[0-9a-f]{64}\.json$")


class KeyCache:
    """Derived keys kept on this machine, never in the output or the repository.

    Deriving a key is slow on purpose, so each deal's key (and the random salt
    chosen the first time) is kept between builds. An entry is useless on its
    own: both its name and its content depend on a per-machine secret (32
    random bytes, :func:`default_secret_file`, mode 0600) that never sits in the
    cache folder.

    * name: ``HMAC(secret, slug)`` + ``HMAC(secret, slug, password,
      parameters)``. Without the secret nobody can test a guessed password
      against a name (the first format's unsalted SHA-256 allowed that at no
      PBKDF2 cost), and the first half finds every entry of one deal.
    * content: salt and key, AES-256-GCM-encrypted under a key derived from the
      secret (HKDF), with the entry's name as associated data, so an entry
      copied under another name, or changed, does not open.

    A changed password or iteration count misses the cache and gets a new salt
    and key; the deal's other entries (and marks, see :meth:`passed`) are deleted then, and by
    :meth:`forget` (``dealrooms password SLUG --rotate``). Folder mode 0700,
    files 0600, written atomically. A cache that cannot be read or written only
    costs time. Disable with ``DEALROOMS_KEY_CACHE=off``.
    """

    def __init__(self, folder: Path | None = None, enabled: bool | None = None, secret_file: Path | None = None):
        self.folder = (folder or default_cache_dir()) / "keys"
        self.secret_file = secret_file or default_secret_file()
        if enabled is None:
            enabled = os.environ.get("DEALROOMS_KEY_CACHE", "on").lower() not in ("0", "off", "false", "no")
        self.enabled = enabled
        self._keys: tuple[bytes, bytes] | None = None

    # --- the machine secret ------------------------------------------------

    def _secret_keys(self, create: bool) -> tuple[bytes, bytes] | None:
        """(naming key, sealing key) from the machine secret; None when there is none."""
        if self._keys is None:
            secret = _read_secret(self.secret_file)
            if secret is None and create:
                secret = _create_secret(self.secret_file)
            if secret is None:
                return None
            self._keys = (_hkdf(secret, b"dealrooms key cache: names"), _hkdf(secret, b"dealrooms key cache: entries"))
        return self._keys

    def _ready_to_write(self) -> tuple[bytes, bytes] | None:
        """The secret's keys, with the folder there and private; None when the cache is off or has no secret.

        Raises OSError, which the writers swallow: a cache that cannot be written only costs time.
        """
        if not self.enabled:
            return None
        keys = self._secret_keys(create=True)
        if keys is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)  # mkdir's mode is masked by umask, and an existing folder keeps its own
        return keys

    # --- entries -----------------------------------------------------------

    def _prefix(self, naming: bytes, slug: str) -> str:
        return hmac.new(naming, b"slug\0" + slug.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _stem(self, naming: bytes, slug: str, password: str, iterations: int) -> str:
        material = json.dumps(
            {"v": VERSION, "kdf": KDF, "iterations": iterations, "slug": slug,
             "password": normalise_password(password).decode("utf-8")},
            sort_keys=True,
        ).encode("utf-8")
        entry = hmac.new(naming, b"entry\0" + material, hashlib.sha256).hexdigest()
        return f"{self._prefix(naming, slug)}-{entry}"

    def _name(self, naming: bytes, slug: str, password: str, iterations: int) -> str:
        return self._stem(naming, slug, password, iterations) + ".key"

    def _mark(self, naming: bytes, slug: str, password: str, iterations: int, rules: str) -> str:
        stem = self._stem(naming, slug, password, iterations)
        tag = hmac.new(naming, b"passed\0" + stem.encode() + b"\0" + rules.encode("utf-8"), hashlib.sha256)
        return f"{stem}.{tag.hexdigest()[:32]}.ok"

    def passed(self, slug: str, password: str, iterations: int, rules: str) -> bool:
        """Whether this password of this deal passed the check described by ``rules`` on this machine before.

        Judging a password costs milliseconds, which add up over thousands of
        deals built again and again with the same passwords. Only this
        machine's secret can name a mark, so a planted file passes nothing.
        """
        keys = self._secret_keys(create=False) if self.enabled else None
        return keys is not None and (self.folder / self._mark(keys[0], slug, password, iterations, rules)).is_file()

    def mark_passed(self, slug: str, password: str, iterations: int, rules: str) -> None:
        """Remember that the password passed ``rules`` (an empty file; earlier marks of it go)."""
        try:
            keys = self._ready_to_write()
            if keys is None:
                return
            mark = self._mark(keys[0], slug, password, iterations, rules)
            stem = mark.split(".", 1)[0]
            for name in os.listdir(self.folder):
                if name.startswith(stem + ".") and name.endswith(".ok") and name != mark:
                    (self.folder / name).unlink(missing_ok=True)
            _write_private(self.folder / mark, b"")
        except OSError:
            pass

    def get(self, slug: str, password: str, iterations: int) -> DealKey | None:
        """The cached key of this deal, password and iteration count; None on a miss."""
        if not self.enabled:
            return None
        keys = self._secret_keys(create=False)
        if keys is None:
            return None
        name = self._name(keys[0], slug, password, iterations)
        try:
            sealed = (self.folder / name).read_bytes()
            plain = AESGCM(keys[1]).decrypt(sealed[:12], sealed[12:], _aad(name))
            data = json.loads(plain)
            key = DealKey(_unb64(data["key"]), _unb64(data["salt"]), int(data["iterations"]), int(data["v"]))
        except (OSError, ValueError, KeyError, TypeError, InvalidTag):
            return None  # missing, damaged or tampered with: derive again
        if len(key.key) != KEY_BYTES or len(key.salt) != SALT_BYTES or key.iterations != iterations or key.version != VERSION:
            return None
        return key

    def put(self, slug: str, password: str, key: DealKey) -> None:
        """Keep ``key``, and delete the deal's entries for any other password or parameters."""
        try:
            keys = self._ready_to_write()
            if keys is None:
                return
            name = self._name(keys[0], slug, password, key.iterations)
            data = json.dumps({"v": key.version, "iterations": key.iterations, "salt": _b64(key.salt), "key": _b64(key.key)})
            nonce = secrets.token_bytes(12)
            _write_private(self.folder / name, nonce + AESGCM(keys[1]).encrypt(nonce, data.encode("utf-8"), _aad(name)))
            self._remove(keys[0], slug, keep=name.removesuffix(".key"))
        except OSError:
            pass

    def forget(self, slug: str) -> int:
        """Delete every cached key of one deal (after its password changed); how many were deleted."""
        keys = self._secret_keys(create=False)
        return self._remove(keys[0], slug) if keys is not None else 0

    def _remove(self, naming: bytes, slug: str, keep: str | None = None) -> int:
        prefix = self._prefix(naming, slug) + "-"
        removed = 0
        try:
            names = os.listdir(self.folder)
        except OSError:
            return 0
        for name in names:
            # Entries of the first format hold raw keys: they go whenever the cache is written.
            mine = name.startswith(prefix) and _ENTRY.match(name) and not (keep and name.startswith(keep + "."))
            if mine or _LEGACY_ENTRY.match(name):
                try:
                    (self.folder / name).unlink()
                    removed += 1
                except OSError:
                    pass
        return removed


def deal_keys(
    passwords: Mapping[str, str],
    *,
    iterations: int = DEFAULT_ITERATIONS,
    cache: KeyCache | None = None,
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
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            derived = dict(zip(todo, pool.map(derive, todo)))
    else:
        derived = {slug: derive(slug) for slug in todo}
    for slug, key in derived.items():
        cache.put(slug, passwords[slug], key)
        keys[slug] = key
    return dict(sorted(keys.items()))


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _aad(name: str) -> bytes:
    return f"dealrooms key cache v{CACHE_FORMAT}:{name}".encode("ascii")


def _read_secret(path: Path) -> bytes | None:
    try:
        secret = path.read_bytes()
    except OSError:
        return None
    return secret if len(secret) == SECRET_BYTES else None


def _create_secret(path: Path) -> bytes | None:
    """32 random bytes in a new 0600 file; the first of two racing builds wins, the other reads its secret."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mkstemp creates files 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(SECRET_BYTES))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # never replaces a secret that exists: its entries would all be lost
            except FileExistsError:
                pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        return None
    return _read_secret(path)


def _write_private(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")  # mkstemp creates files 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
