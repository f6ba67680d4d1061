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
import json
import os
import secrets
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .errors import DealroomsError

VERSION = 1
CIPHER = "AES-256-GCM"
KDF = "PBKDF2-HMAC-SHA256"
MIN_ITERATIONS = 600_000
DEFAULT_ITERATIONS = 600_000
SALT_BYTES = 16
KEY_BYTES = 32

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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
