"""What changed in a deal's plan: its history, read from the deal file's git commits.

A mutual action plan is kept current, and the buyer should see what moved
since the last call without comparing the page with memory. When the deal
file sits in a git work tree, every commit that touched it (following
renames) is a version of the plan; each version is loaded with the project's
own loader, and two consecutive versions give one :class:`Change`: steps
moved (planned date from -> to), added, removed, completed, reopened, owners
changed, the target moved, and how the projected outcome moved.

Rules, chosen for what a buyer reads ("on 12 Nov the security review moved
by a week, and the go-live with it"):

* **Dates.** A change is dated by its commit's *author* date, in the
  author's own time zone (the day the rep made the edit, also after a
  rebase).
* **Forecast.** Each version is scheduled as of its own date, and a
  change's projected outcome runs from the forecast after the previous
  change listed to the forecast after this one. The entries chain: what a
  buyer reads since the last call adds up to how far the outcome moved
  since then, lateness that built up between two edits included ("kick-off
  done, 10 days late; go-live 1 Mar -> 11 Mar"). Scheduling every version
  as of today instead would make old versions look late for reasons that
  did not exist when they were written. The forecast as of today is the
  overview's own.
* **Uncommitted edits** count as one more change, dated today, without a
  commit: the page shows the plan of the working tree, so its history must
  end there too ("plan last changed today"). A committed tree gives none.
* **Only changes of the plan are kept**: a step moved, added, removed,
  done, reopened or reassigned, the target moved, or the edit itself moved
  the forecast (a dependency, a ``done_on``). Edits to the proposal, the
  people or the wording leave no entry. The oldest version read is the
  starting point (``first=True``): the plan as it was created.
* **Versions that do not load** (invalid YAML, a template since removed)
  are skipped with a note for the rep; the next version that loads is
  compared with the last one that did.
* **No git, not a work tree, an untracked file, a linked deal file, a git
  that fails or takes longer than** :data:`GIT_TIMEOUT`: an empty history,
  never an error. At most :data:`MAX_COMMITS` commits are read.

Commit subjects and author names are untrusted text (anyone can commit
anything): they are data here, escaped by the templates that show them.
Nothing in this module imports MkDocs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import load
from .errors import DealroomsError, InvalidDeal, Problem, display_path
from .model import Deal, Milestone
from .owners import resolve_owner
from .plan import Schedule, schedule

MAX_COMMITS = 200
"""Most commits of one deal file read (the newest); older ones are left out, and the history says so."""
GIT_TIMEOUT = 5.0
"""Seconds one git command may take before the history is given up (empty, with a note)."""
SUBJECT_CHARS = 200
"""Commit subjects and author names are cut to this many characters: a page shows one line of each."""


@dataclass(frozen=True)
class StepRef:
    """A step named in a change: its id and its title in the version that has it."""

    id: str
    title: str


@dataclass(frozen=True)
class StepMove:
    """A step whose planned date moved."""

    id: str
    title: str
    planned_from: dt.date
    planned_to: dt.date

    @property
    def days(self) -> int:
        """Days it moved: positive later, negative earlier."""
        return (self.planned_to - self.planned_from).days


@dataclass(frozen=True)
class StepDone:
    """A step that became done."""

    id: str
    title: str
    done_on: dt.date | None


@dataclass(frozen=True)
class Who:
    """An owner as the version of the plan named it: the id as written, and the name it resolved to."""

    id: str
    name: str


@dataclass(frozen=True)
class OwnerChange:
    """A step whose owners changed."""

    id: str
    title: str
    owners_from: tuple[Who, ...]
    owners_to: tuple[Who, ...]


@dataclass(frozen=True)
class Change:
    """One change of the plan: one commit (or the uncommitted edits) compared with the version before it."""

    commit: str | None  # full commit id; None for uncommitted edits in the working tree
    date: dt.date  # the author date, in the author's time zone; today for uncommitted edits
    author: str  # untrusted text, as committed
    subject: str  # the commit's first line, untrusted text
    first: bool = False  # the plan as first read: nothing to compare with
    moved: tuple[StepMove, ...] = ()
    added: tuple[StepRef, ...] = ()
    removed: tuple[StepRef, ...] = ()
    completed: tuple[StepDone, ...] = ()
    reopened: tuple[StepRef, ...] = ()  # done before, open again
    owners: tuple[OwnerChange, ...] = ()
    target_from: dt.date | None = None  # set only when the target date moved
    target_to: dt.date | None = None
    # The forecast outcome date after the previous change listed (each as of its own date), and after this one.
    projected_from: dt.date | None = None  # None on the first version
    projected_to: dt.date | None = None

    @property
    def short_commit(self) -> str | None:
        return self.commit[:7] if self.commit else None

    @property
    def projected_days(self) -> int:
        """How far the projected outcome moved: positive later, 0 when it did not move (or on the first version)."""
        if self.projected_from is None or self.projected_to is None:
            return 0
        return (self.projected_to - self.projected_from).days

    @property
    def target_moved(self) -> bool:
        return self.target_from is not None and self.target_to is not None and self.target_from != self.target_to

    @property
    def steps_changed(self) -> bool:
        """Whether a step moved, came, went, was done, reopened or reassigned, or the target moved."""
        return bool(self.moved or self.added or self.removed or self.completed or self.reopened or self.owners
                    or self.target_moved)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping with ISO dates (part of the ``status --since --json`` contract)."""

        def who(owners: tuple[Who, ...]) -> list[dict[str, str]]:
            return [{"id": w.id, "name": w.name} for w in owners]

        return {
            "commit": self.commit,
            "date": self.date.isoformat(),
            "author": self.author,
            "subject": self.subject,
            "first": self.first,
            "moved": [{"id": m.id, "title": m.title, "from": m.planned_from.isoformat(), "to": m.planned_to.isoformat(),
                       "days": m.days} for m in self.moved],
            "added": [{"id": s.id, "title": s.title} for s in self.added],
            "removed": [{"id": s.id, "title": s.title} for s in self.removed],
            "completed": [{"id": s.id, "title": s.title, "done_on": _iso(s.done_on)} for s in self.completed],
            "reopened": [{"id": s.id, "title": s.title} for s in self.reopened],
            "owners": [{"id": o.id, "title": o.title, "from": who(o.owners_from), "to": who(o.owners_to)}
                       for o in self.owners],
            "target": None if not self.target_moved else {"from": _iso(self.target_from), "to": _iso(self.target_to)},
            "projected": {"from": _iso(self.projected_from), "to": _iso(self.projected_to), "days": self.projected_days},
        }


@dataclass(frozen=True)
class History:
    """A deal's plan changes, newest first, and notes for the rep about what could not be read."""

    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()  # for the rep (build log, ``status``), never for a buyer page
    truncated: bool = False  # more than MAX_COMMITS commits: the oldest were not read

    @property
    def last_changed(self) -> dt.date | None:
        """The date the plan last changed (the newest change); None without a history."""
        return self.changes[0].date if self.changes else None

    def changed_after(self, day: dt.date) -> dt.date | None:
        """The date of the newest change after ``day`` to a plan that existed then, or None.

        The file's first version is not a change: a plan agreed on 10 Nov
        and first committed on 12 Nov has not changed since it was agreed.
        """
        return next((c.date for c in self.changes if c.date > day and not c.first), None)

    def since(self, day: dt.date) -> tuple[Change, ...]:
        """The changes made on ``day`` or later, newest first."""
        return tuple(c for c in self.changes if c.date >= day)

    def latest(self, count: int) -> tuple[Change, ...]:
        """The ``count`` newest changes."""
        return self.changes[:max(count, 0)]

    def to_json(self) -> dict[str, Any]:
        return {
            "plan_last_changed": _iso(self.last_changed),
            "changes": [c.to_json() for c in self.changes],
            "notes": list(self.notes),
            "truncated": self.truncated,
        }


NO_HISTORY = History()


def history_digest(history: History) -> str:
    """A digest of everything in ``history``: part of a deal's render key, so a new commit re-renders the deal."""
    text = json.dumps(history.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(b"dealrooms history v1\0" + text.encode("utf-8")).hexdigest()


def history_keys(deals_dir: Path, names: Iterable[str], *, timeout: float = GIT_TIMEOUT) -> dict[str, str]:
    """A key per deal file (by file name in ``deals_dir``) that changes whenever its git history does.

    One ``git log`` of the whole folder, no version loaded: cheap enough for
    every build, so a render key can include it and :func:`deal_history`
    runs only for deals that render. A key covers the commits and file
    contents of the file under its current name and the names it had before
    (renames inside the folder); uncommitted edits are not in it, as the
    file's own bytes and today are already part of a render key. A file
    without history gets ``""``; without git, outside a work tree or when git
    is slower than ``timeout``, every file does.
    """
    wanted = {name: name for name in names}
    records: dict[str, list[str]] = {name: [] for name in wanted}
    if not wanted:
        return {}
    try:
        out = _git(Path(deals_dir), ["log", "--first-parent", "-m", "-M", "--relative", "--no-abbrev", "--raw", "-z",
                                     "--no-color", "--format=%x1e%H", "--", "."], timeout)
    except _NoGit:
        return {name: "" for name in wanted}
    current_of = dict(wanted)  # a name in the log -> the deal file it is (or became)
    for commit, status, blob, paths in _raw_entries(out):
        name = paths[-1].decode("utf-8", "surrogateescape")
        deal = current_of.get(name)
        if deal is None:
            continue
        records[deal].append(f"{commit}:{status.decode('ascii', 'replace')}:{blob}")
        if status[:1] == b"R" and len(paths) == 2:
            current_of[paths[0].decode("utf-8", "surrogateescape")] = deal  # older commits knew it by that name
    return {name: hashlib.sha256("\n".join(found).encode()).hexdigest() if found else "" for name, found in records.items()}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# --- reading the history ------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    commit: str | None
    date: dt.date
    author: str
    subject: str
    deal: Deal


def deal_history(
    path: Path,
    *,
    today: dt.date,
    deals_dir: Path | None = None,
    project_dir: Path | None = None,
    max_commits: int = MAX_COMMITS,
    timeout: float = GIT_TIMEOUT,
) -> History:
    """The plan history of the deal file at ``path`` (see the module docstring for the rules).

    ``deals_dir`` and ``project_dir`` are those :func:`.load.load_deal` takes:
    every version's templates resolve against the *current* project (a
    template's own history is not followed). ``today`` dates uncommitted
    edits.
    """
    path = Path(path)
    deals_dir = Path(deals_dir) if deals_dir else path.parent
    project_dir = Path(project_dir) if project_dir else Path(os.path.abspath(deals_dir)).parent
    if path.is_symlink() or not path.is_file():
        return NO_HISTORY  # git keeps a link as its target's name, not as the plan
    notes: list[str] = []
    try:
        commits, truncated = _file_commits(path, max_commits, timeout)
        if not commits:
            return NO_HISTORY
        blobs = _read_objects(path.parent, [blob for _, blob in commits], timeout, limit=load.MAX_YAML_BYTES)
        metas = _read_objects(path.parent, [commit for commit, _ in commits], timeout)
    except _NoGit as exc:
        return History(notes=(exc.note,) if exc.note else ())

    versions: list[_Version] = []
    for commit, blob in reversed(commits):  # oldest first
        when, author, subject = _commit_meta(metas.get(commit, b""))
        content = blobs.get(blob)
        label = f"{display_path(path)} at {commit[:7]} ({when.isoformat()})"
        if content is None:
            notes.append(f"{label}: this version is larger than {load.MAX_YAML_BYTES // 1024} KiB or missing; skipped")
            continue
        deal = _version_deal(content, path, deals_dir, project_dir, label, notes)
        if deal is not None:
            versions.append(_Version(commit, when, author, subject, deal))
    try:
        current = _read_capped(path)
    except OSError:
        current = None
    newest = blobs.get(commits[0][1])
    if current is not None and newest is not None and current != newest:
        deal = _version_deal(current, path, deals_dir, project_dir, f"{display_path(path)} (uncommitted)", notes)
        if deal is not None:
            versions.append(_Version(None, today, "", "", deal))
    if truncated:
        notes.append(f"{display_path(path)}: only the newest {max_commits} commits are read")
    return History(tuple(reversed(plan_changes(versions))), tuple(notes), truncated)


def plan_changes(versions: Iterable[_Version]) -> list[Change]:
    """The changes between consecutive versions (oldest first) that altered the plan.

    Each version is scheduled as of its own date, and a change's projected
    dates run from the forecast after the previous change shown to the
    forecast after this one: the entries chain, so the moves since a call
    add up to how far the outcome moved since then, lateness included. A
    version is a change of the plan when a step moved, came, went, was
    done, reopened or reassigned, the target moved, or the edit itself
    moved the forecast (a new dependency, a ``done_on``); other edits are
    not listed, and the next change is measured from them.
    """
    changes: list[Change] = []
    before: tuple[_Version, Schedule] | None = None
    shown: dt.date | None = None  # the forecast after the last change listed
    for version in versions:
        plan = schedule(version.deal, version.date)
        head = dict(commit=version.commit, date=version.date, author=version.author, subject=version.subject)
        if before is None:
            change = Change(**head, first=True, projected_to=plan.projected_date)  # type: ignore[arg-type]
            keep = True
        else:
            old_version, old_plan = before
            change = _compare(old_version.deal, old_plan, version.deal, plan, head, shown)
            # The edit's own effect: the old plan as of the same day.
            keep = change.steps_changed or schedule(old_version.deal, version.date).projected_date != plan.projected_date
        if keep:
            changes.append(change)
            shown = plan.projected_date
        before = (version, plan)
    return changes


def _compare(
    old_deal: Deal, old_plan: Schedule, new_deal: Deal, new_plan: Schedule, head: dict[str, Any], shown: dt.date | None
) -> Change:
    """What differs between two schedules of consecutive versions."""
    old, new = _by_id(old_plan), _by_id(new_plan)
    moved, completed, reopened, owners = [], [], [], []
    for ident, step in new.items():
        was = old.get(ident)
        if was is None:
            continue
        title = step.milestone.title
        if was.planned != step.planned:
            moved.append(StepMove(ident, title, was.planned, step.planned))
        if was.milestone.status != "done" and step.milestone.status == "done":
            completed.append(StepDone(ident, title, step.milestone.done_on))
        elif was.milestone.status == "done" and step.milestone.status != "done":
            reopened.append(StepRef(ident, title))
        if _owner_ids(was.milestone) != _owner_ids(step.milestone):
            owners.append(OwnerChange(ident, title, _owners(old_deal, was.milestone), _owners(new_deal, step.milestone)))
    target_moved = old_plan.target_date != new_plan.target_date
    return Change(
        **head,
        moved=tuple(moved),
        added=tuple(StepRef(i, p.milestone.title) for i, p in new.items() if i not in old),
        removed=tuple(StepRef(i, p.milestone.title) for i, p in old.items() if i not in new),
        completed=tuple(completed),
        reopened=tuple(reopened),
        owners=tuple(owners),
        target_from=old_plan.target_date if target_moved else None,
        target_to=new_plan.target_date if target_moved else None,
        projected_from=shown,
        projected_to=new_plan.projected_date,
    )


def _by_id(plan: Schedule) -> dict[str, Any]:
    return {p.id: p for p in plan.milestones}


def _owner_ids(milestone: Milestone) -> tuple[str, ...]:
    # One owner id, or (with joint owners) several.
    owner: Any = milestone.owner
    return (owner,) if isinstance(owner, str) else tuple(owner)


def _owners(deal: Deal, milestone: Milestone) -> tuple[Who, ...]:
    found = []
    for ident in _owner_ids(milestone):
        try:
            found.append(Who(ident, resolve_owner(deal, ident).name))
        except DealroomsError:  # a validated version has none; a deal built in code might
            found.append(Who(ident, ident))
    return tuple(found)


# --- loading one version ---------------------------------------------------------


def _version_deal(content: bytes, path: Path, deals_dir: Path, project_dir: Path, label: str, notes: list[str]) -> Deal | None:
    try:
        return load_version(content, path, deals_dir=deals_dir, project_dir=project_dir)
    except InvalidDeal as exc:
        first = exc.problems[0] if exc.problems else None
        why = _where(first, path) + first.message if first else "invalid"
        more = f" and {len(exc.problems) - 1} more problem(s)" if len(exc.problems) > 1 else ""
        notes.append(f"{label}: this version does not load ({why}{more}); its changes count with the next one that does")
    except (DealroomsError, RecursionError, ValueError, OSError) as exc:
        notes.append(f"{label}: this version does not load ({exc}); skipped")
    return None


def _where(problem: Problem, path: Path) -> str:
    """``line 12: milestones[1].owner: `` in the deal file itself, ``FILE:LINE: ...`` in a template."""
    line = f":{problem.line}" if problem.line is not None else ""
    where = f"line {problem.line}" if problem.file == path and line else display_path(problem.file) + line
    return f"{where}: {problem.path + ': ' if problem.path else ''}"


def load_version(content: bytes, path: Path, *, deals_dir: Path, project_dir: Path) -> Deal:
    """A past version of the deal file at ``path`` (its bytes), validated as :func:`.load.load_deal` would.

    Templates and the logo are the current project's, with the same checks
    (a template leading outside the project is refused). Raises
    :class:`~.errors.InvalidDeal`, naming ``path`` in its problems.
    """
    loaded = load.load_deal(path, deals_dir=deals_dir, project_dir=project_dir, content=content)
    return loaded.deal


# --- git ------------------------------------------------------------------------


class _NoGit(Exception):
    """Git cannot give a history here (not installed, not a work tree, failed, too slow)."""

    def __init__(self, note: str | None = None):
        super().__init__(note)
        self.note = note


def _git(cwd: Path, args: list[str], timeout: float, stdin: bytes | None = None) -> bytes:
    # Settings that would change the output's format are pinned; nothing prompts or pages.
    command = ["git", "-c", "log.showSignature=false", "-c", "color.ui=never", "-c", "core.quotePath=false", *args]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
    try:
        done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, timeout=timeout, env=env, check=False)
    except FileNotFoundError:
        raise _NoGit() from None  # git is not installed: no history, nothing to say
    except subprocess.TimeoutExpired:
        raise _NoGit(f"{display_path(cwd)}: git took longer than {timeout:g} s; no plan history this time") from None
    except OSError as exc:
        raise _NoGit(f"{display_path(cwd)}: git could not run ({exc.strerror}); no plan history") from None
    if done.returncode != 0:
        raise _NoGit()  # not a work tree, or a path git does not know: no history
    return done.stdout


def _file_commits(path: Path, max_commits: int, timeout: float) -> tuple[list[tuple[str, str]], bool]:
    """(commit, blob of the file at that commit), newest first, following renames; and whether more were left out.

    Only the first-parent line is read: the history of the branch the deal
    room is published from, a merge counting as one change.
    """
    out = _git(path.parent, [
        "log", "--follow", "--first-parent", "-m", "--no-abbrev", "--raw", "-z", "--no-color",
        f"--max-count={max_commits + 1}", "--format=%x1e%H", "--", path.name,
    ], timeout)
    found: list[tuple[str, str]] = []
    for commit, status, blob, _ in _raw_entries(out):
        if not found and status[:1] == b"D":
            return [], False  # deleted in the newest commit: the file here is not the tracked one
        if status[:1] != b"D" and commit not in {c for c, _ in found}:
            found.append((commit, blob))
    return found[:max_commits], len(found) > max_commits


def _raw_entries(out: bytes) -> Iterator[tuple[str, bytes, str, tuple[bytes, ...]]]:
    """(commit, status, new blob id, paths) from ``git log --raw -z --format=%x1e%H``; a rename has two paths."""
    tokens = out.split(b"\0")
    i = 0
    commit: str | None = None
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token.startswith(b"\x1e"):
            commit = token[1:].decode("ascii", "replace").strip()
            continue
        raw = token.lstrip(b"\n")
        if not raw.startswith(b":") or commit is None:
            continue
        fields = raw[1:].split()
        if len(fields) < 5:
            continue
        count = 2 if fields[4][:1] in (b"R", b"C") else 1  # the path(s), by count: a file name may hold any byte
        paths = tuple(tokens[i:i + count])
        i += count
        yield commit, fields[4], fields[3].decode("ascii", "replace"), paths


def _read_objects(cwd: Path, ids: list[str], timeout: float, limit: int | None = None) -> dict[str, bytes]:
    """Git objects by id, in one ``cat-file --batch``; objects larger than ``limit`` bytes are left out."""
    wanted = list(dict.fromkeys(ids))
    if limit is not None:
        sizes = _git(cwd, ["cat-file", "--batch-check"], timeout, "\n".join(wanted).encode() + b"\n")
        small = set()
        for line in sizes.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].isdigit() and int(parts[2]) <= limit:
                small.add(parts[0].decode("ascii"))
        wanted = [w for w in wanted if w in small]
    if not wanted:
        return {}
    out = _git(cwd, ["cat-file", "--batch"], timeout, "\n".join(wanted).encode() + b"\n")
    objects: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.find(b"\n", at)
        if end < 0:
            break
        parts = out[at:end].split()
        at = end + 1
        if len(parts) != 3 or not parts[2].isdigit():
            continue  # "<id> missing"
        size = int(parts[2])
        objects[parts[0].decode("ascii")] = out[at:at + size]
        at += size + 1
    return objects


def _commit_meta(raw: bytes) -> tuple[dt.date, str, str]:
    """The author date (in the author's time zone), author name and subject of a raw commit object."""
    head, _, message = raw.partition(b"\n\n")
    when, author = dt.date(1970, 1, 1), ""
    for line in head.split(b"\n"):
        if line.startswith(b"author "):
            text = line[7:].decode("utf-8", "replace")
            name, _, rest = text.rpartition(" <")
            stamp = rest.rpartition("> ")[2].split()
            author = name.strip()
            try:
                seconds, zone = int(stamp[0]), stamp[1]
                offset = (1 if zone[0] == "+" else -1) * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
                when = dt.datetime.fromtimestamp(seconds, dt.timezone(offset)).date()
            except (IndexError, ValueError, OverflowError, OSError):
                pass  # a malformed date keeps the epoch: the change is still listed
            break
    subject = " ".join(message.decode("utf-8", "replace").strip().split("\n\n")[0].split())
    return when, _cut(author), _cut(subject)


def _cut(text: str) -> str:
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1] + "…"


def _read_capped(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(load.MAX_YAML_BYTES + 1)


class GitHistory:
    """The plan histories of one build's deals, for :class:`.build.BuildContext`.

    :meth:`key` (part of every render key) comes from one ``git log`` of the
    deals folder for the whole build; :meth:`of` reads a deal's versions only
    when the deal renders, and not at all for a file without history (no
    git, not a work tree, untracked), so a project outside git pays one
    failed ``git`` call per build.
    """

    def __init__(self, deals_dir: Path, project_dir: Path | None = None, *, timeout: float = GIT_TIMEOUT):
        self.deals_dir = Path(deals_dir)
        self.project_dir = project_dir
        self.timeout = timeout
        self._keys: dict[str, str] | None = None

    def _name(self, path: Path) -> str:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(self.deals_dir))).as_posix()

    def key(self, path: Path) -> str:
        """A key that changes with the git history of the deal file at ``path`` ("" without one)."""
        if self._keys is None:
            names = [self._name(p) for p in load.discover_deals(self.deals_dir, project_dir=self.project_dir)]
            self._keys = history_keys(self.deals_dir, names, timeout=self.timeout)
        name = self._name(path)
        if name not in self._keys:  # a deal the first listing did not have (added during a preview)
            self._keys.update(history_keys(self.deals_dir, [name], timeout=self.timeout))
        return self._keys[name]

    def of(self, path: Path, today: dt.date) -> History:
        """The plan history of the deal file at ``path`` (:data:`NO_HISTORY` when it has none)."""
        if not self.key(path):
            return NO_HISTORY
        return deal_history(path, today=today, deals_dir=self.deals_dir, project_dir=self.project_dir, timeout=self.timeout)
