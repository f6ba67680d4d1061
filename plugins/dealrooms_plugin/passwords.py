"""Where each deal's password comes from, how strong it must be, and new passphrases.

A protected deal's password is looked up, in order, in:

1. the environment variable ``DEALROOMS_PASSWORD_<SLUG>`` (slug upper-cased,
   ``-`` -> ``_``, e.g. ``DEALROOMS_PASSWORD_KESTREL_FREIGHT``);
2. the secrets file (``.dealrooms-secrets.yml`` beside ``mkdocs.yml`` by
   default, git-ignored; plugin option ``secrets_file``): ``slug: password``;
3. the environment variable the deal names itself: ``access: {password_env: NAME}``.

``access: public`` opts a deal out. Passwords are trimmed; shorter than 12
characters or found in a small list of common passwords is refused.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from .errors import DealroomsError, display_path
from .model import Deal

DEFAULT_SECRETS_FILE = ".dealrooms-secrets.yml"
ENV_PREFIX = "DEALROOMS_PASSWORD_"
MIN_LENGTH = 12
DATA = Path(__file__).resolve().parent / "data"
SECRETS_HEADER = (
    "# Dealrooms deal-room passwords: slug: password. Keep this file out of git\n"
    "# (it is git-ignored by default) and send each password to the buyer through\n"
    "# a different channel than the link. Manage it with `dealrooms password SLUG`.\n"
)


def env_name(slug: str) -> str:
    """``kestrel-freight`` -> ``DEALROOMS_PASSWORD_KESTREL_FREIGHT``."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9_]", "_", slug.upper().replace("-", "_"))


@dataclass(frozen=True)
class Access:
    """How one deal is published."""

    slug: str
    protected: bool
    password: str | None = None
    source: str | None = None  # e.g. "env DEALROOMS_PASSWORD_X", "secrets file .dealrooms-secrets.yml"

    def __repr__(self) -> str:  # never print a password by accident
        return f"Access(slug={self.slug!r}, protected={self.protected}, source={self.source!r})"


def resolve(slug: str, deal: Deal, secrets_map: Mapping[str, str], secrets_path: Path,
            environ: Mapping[str, str] | None = None) -> Access:
    """The password of one deal and where it came from (``password`` None when missing)."""
    environ = os.environ if environ is None else environ
    access = deal.access
    if access is not None and access.public:
        return Access(slug, protected=False, source="public (access: public)")
    name = env_name(slug)
    if environ.get(name, "").strip():
        return Access(slug, True, environ[name].strip(), f"env {name}")
    if secrets_map.get(slug, "").strip():
        return Access(slug, True, secrets_map[slug].strip(), f"secrets file {display_path(secrets_path)}")
    own = access.password_env if access is not None else None
    if own and environ.get(own, "").strip():
        return Access(slug, True, environ[own].strip(), f"env {own} (access.password_env)")
    return Access(slug, True, None, None)


def how_to_set(slug: str, deal: Deal, secrets_path: Path, deal_file: Path | None = None) -> str:
    """One line telling the rep how to give a deal a password."""
    own = deal.access.password_env if deal.access is not None else None
    where = f" or set {own} (named by access.password_env)" if own else ""
    return (
        f"  {slug}: run `dealrooms password {slug}` (stores a generated passphrase in {display_path(secrets_path)}), "
        f"or set the environment variable {env_name(slug)}{where}"
    )


def missing_message(missing: list[tuple[str, Deal]], secrets_path: Path) -> str:
    lines = [how_to_set(slug, deal, secrets_path) for slug, deal in missing]
    return (
        f"{len(missing)} protected deal(s) have no password; nothing was built:\n" + "\n".join(lines)
        + "\nA deal can opt out with `access: public`; `protect: false` in mkdocs.yml builds plain sites"
        " for local preview only."
    )


# --- strength ---------------------------------------------------------------


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (DATA / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def weakness(password: str) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    password = password.strip()
    if len(password) < MIN_LENGTH:
        return f"too short ({len(password)} characters); use at least {MIN_LENGTH}, e.g. a generated passphrase"
    lowered = password.lower()
    bare = re.sub(r"[\d\W_]+$", "", lowered)  # "Password2024!" -> "password"
    squashed = re.sub(r"[\W_]+", "", lowered)
    common = common_passwords()
    if lowered in common or bare in common or squashed in common:
        return "found in a list of common passwords; choose another, e.g. a generated passphrase"
    core = next((c for c in common if len(c) >= 6 and c in squashed and len(squashed) - len(c) < 8), None)
    if core:
        return f"built around the common password {core!r}; choose another, e.g. a generated passphrase"
    if len(set(lowered)) <= 3:
        return "too repetitive; choose another, e.g. a generated passphrase"
    return None


# --- passphrases ------------------------------------------------------------


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    """The EFF short word list (1,295 words of 3-5 letters; see data/NOTICE)."""
    words = (DATA / "eff_short_wordlist.txt").read_text(encoding="utf-8").split()
    return tuple(w for w in words if w.isalpha())


def generate_passphrase(words: int = 5) -> str:
    """Five random words and a number, e.g. ``tulip-ferry-crane-wafer-sonic-42`` (~58 bits)."""
    chosen = [secrets.choice(wordlist()) for _ in range(words)]
    return "-".join(chosen + [str(secrets.randbelow(90) + 10)])


# --- the secrets file -----------------------------------------------------


def secrets_path(root: Path, option: str | None) -> Path:
    """The secrets file, relative to the folder of mkdocs.yml."""
    path = Path(os.path.expanduser(option or DEFAULT_SECRETS_FILE))
    return path if path.is_absolute() else root / path


def read_secrets(path: Path) -> dict[str, str]:
    """``{slug: password}`` from the secrets file; empty when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DealroomsError(f"{display_path(path)}: cannot read the secrets file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise DealroomsError(f"{display_path(path)}{where}: invalid YAML in the secrets file") from None
    if not isinstance(data, dict):
        raise DealroomsError(f"{display_path(path)}: expected 'slug: password' lines in the secrets file")
    out = {}
    for slug, password in data.items():
        if not isinstance(password, (str, int)) or isinstance(password, bool):
            raise DealroomsError(f"{display_path(path)}: {slug}: expected a password as text")
        out[str(slug)] = str(password)
    return out


def write_secret(path: Path, slug: str, password: str) -> None:
    """Store one deal's password (file mode 0600, written atomically, other deals kept)."""
    current = read_secrets(path)
    current[slug] = password
    body = yaml.safe_dump(dict(sorted(current.items())), default_flow_style=False, allow_unicode=True, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dealrooms-secrets-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(SECRETS_HEADER + body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


def tracked_by_git(path: Path) -> bool:
    """True when ``path`` is inside a git work tree and not ignored (a leak waiting to happen)."""
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=path.parent,
                                capture_output=True, text=True, timeout=5)
        if inside.returncode != 0:
            return False
        ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=path.parent,
                                 capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return ignored.returncode == 1
