"""Where each deal's password comes from, how strong it must be, and new passphrases.

A protected deal's password is looked up, in order, in:

1. the environment variable ``DEALROOMS_PASSWORD_<SLUG>`` (slug upper-cased,
   ``-`` -> ``_``, e.g. ``DEALROOMS_PASSWORD_KESTREL_FREIGHT``);
2. the secrets file (``.dealrooms-secrets.yml`` beside ``mkdocs.yml`` by
   default, git-ignored; plugin option ``secrets_file``): ``slug: password``;
3. the environment variable the deal names itself: ``access: {password_env: NAME}``.

``access: public`` opts a deal out. Passwords are trimmed. A password is
refused when it is shorter than 12 characters or zxcvbn judges it guessable,
counting the deal's own names (slug, buyer, seller, people, companies) as the
first words a guesser tries; one password on several deals is refused unless
the plugin option ``allow_password_reuse`` is on. Nothing here ever prints a
password, except ``dealrooms password``, whose job is to show it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import secrets
import shlex
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Mapping

import yaml
from zxcvbn import zxcvbn
from zxcvbn.feedback import get_feedback

from .errors import DealroomsError, display_path
from .keys import normalise_password
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


def how_to_set(slug: str, deal: Deal, secrets_path: Path) -> str:
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

# zxcvbn's top score: at least 10^10 guesses. The sealed pages sit on a public
# host, so a guesser works offline at PBKDF2 speed for as long as they like.
MIN_SCORE = 4
# zxcvbn slows down sharply on long input (and refuses more than 72
# characters); a password whose first 64 characters are strong is strong.
MAX_JUDGED = 64


def deal_words(slug: str, deal: Deal | None) -> dict[str, str]:
    """Words a guesser tries first for this deal -> what they are ("the buyer's name").

    The slug and its parts, the buyer's and seller's names, people's names and
    companies: each whole, joined, and word by word, lower-cased. Only the slug
    when the deal file is invalid (``deal`` None).
    """
    named = [(slug, "the deal's slug")]
    if deal is not None:
        named += [(deal.deal.buyer.name, "the buyer's name"), (deal.deal.seller.name, "the seller's name")]
        named += [(person.name, "a person's name in the deal") for person in deal.people]
        named += [(person.company, "a company in the deal") for person in deal.people if person.company]
    words: dict[str, str] = {}
    for text, label in named:
        lowered = text.lower()
        parts = [w for w in re.split(r"[\W_]+", lowered) if len(w) >= 2]
        # "Lumina Clinical" is typed as lumina-clinical or luminaclinical as often as with a space.
        joined = [sep.join(parts) for sep in ("", " ", "-", "_", ".")] if len(parts) > 1 else []
        for word in (lowered, *joined, *parts):
            words.setdefault(word, label)
    return words


def rules(known: Mapping[str, str]) -> str:
    """What a verdict of :func:`weakness` depends on besides the password: changes when any of it does."""
    return hashlib.sha256(json.dumps(
        [sorted(known), MIN_LENGTH, MIN_SCORE, MAX_JUDGED, _zxcvbn_version()]).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def _zxcvbn_version() -> str:
    # Read from the package's metadata file: once per process, not once per deal (0.3 ms each).
    return metadata.version("zxcvbn")


def weakness(password: str, known: Mapping[str, str] | None = None) -> str | None:
    """Why a password is refused, or None when it is acceptable.

    Judged by zxcvbn, with ``known`` words (see :func:`deal_words`) counted as
    the first a guesser tries. The reason never quotes the password.
    """
    password = password.strip()
    if len(password) < MIN_LENGTH:
        return f"too short (at least {MIN_LENGTH} characters needed)"  # not its length: logs are shared
    known = known or {}
    result = zxcvbn(password[:MAX_JUDGED], user_inputs=list(known))
    if result["score"] >= MIN_SCORE:
        return None
    reasons = []
    labels = dict.fromkeys(
        known.get(match["matched_word"], "a word of this deal")
        for match in result["sequence"] if match.get("dictionary_name") == "user_inputs"
    )
    if labels:
        reasons.append("It contains " + " and ".join(labels) + ", which a guesser tries first")
    # zxcvbn explains only scores up to 2; asking as if for 0 explains a 3 as well.
    feedback = result["feedback"] if result["feedback"]["warning"] else get_feedback(0, result["sequence"])
    reasons += [text.rstrip(".") for text in [feedback["warning"], *feedback["suggestions"]] if text]
    detail = ". ".join(reasons or ["it follows a pattern that guessing tools try early"])
    return f"too easy to guess (about 10^{int(result['guesses_log10'])} guesses; 10^10 needed): {detail}."


def shared(access: Mapping[str, Access]) -> list[list[str]]:
    """Groups of deals (two or more) that would open with one password; each group sorted."""
    by_password: dict[bytes, list[str]] = {}
    for slug, a in access.items():
        if a.password:
            by_password.setdefault(normalise_password(a.password), []).append(slug)
    return sorted(sorted(slugs) for slugs in by_password.values() if len(slugs) > 1)


def reuse_message(groups: list[list[str]]) -> str:
    """The deals that share a password, never the password itself."""
    lines = [f"  {', '.join(group)}" for group in groups]
    return (
        f"{len(groups)} password(s) are shared by several deals; whoever has one of these deals can open the others:\n"
        + "\n".join(lines)
        + "\nGive each deal its own with `dealrooms password SLUG --rotate`, or set `allow_password_reuse: true`"
        " for the dealrooms plugin in mkdocs.yml if the same people must open them all."
    )


def refusal(slug: str, password: str, deals_dir: Path, secrets_map: Mapping[str, str], secrets_file: Path, *,
            allow_reuse: bool = False, environ: Mapping[str, str] | None = None) -> str | None:
    """Why ``password`` may not be ``slug``'s (too weak, or another deal's), with how to fix it; None when it may.

    What ``dealrooms password`` checks, by the rules of the build: the deal's
    own words count against it, and every other deal's password (from any
    source) is compared unless ``allow_reuse``.
    """
    from .load import load_deals  # the deals are loaded only when a password is judged

    loaded = load_deals(deals_dir)
    own = loaded.deals.get(slug)
    why = weakness(password, deal_words(slug, own.deal if own else None))
    if why:
        return (f"{slug}: password refused: it is {why}\n"
                f"Run `dealrooms password {slug} --rotate` to generate a strong passphrase instead.")
    if allow_reuse:
        return None
    environ = os.environ if environ is None else environ
    access = {slug: Access(slug, True, password)}
    for other, other_deal in loaded.deals.items():
        if other != slug:
            access[other] = resolve(other, other_deal.deal, secrets_map, secrets_file, environ)
    for other in loaded.problems:  # an invalid deal still has a password where the build would look first
        found = (environ.get(env_name(other), "") or secrets_map.get(other, "")).strip()
        if other != slug and found:
            access[other] = Access(other, True, found)
    groups = [group for group in shared(access) if slug in group]
    return reuse_message(groups) if groups else None


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


def exposed(path: Path) -> str | None:
    """A warning when other users of this machine can read or change the secrets file, with the fix."""
    if os.name == "nt":  # no POSIX modes; the folder's ACLs decide
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (f"{display_path(path)} can be read by other users of this machine (mode {mode:04o}); "
            f"run `chmod 600 {shlex.quote(display_path(path))}`")


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
