"""A persistent cache of each deal's finished output, named by its render key.

``mkdocs build`` empties the site folder and starts a new process each time,
so an in-memory cache does not help there. This one keeps, per deal, the key
its output was rendered for (:func:`..build.render_key`: a digest of the
*contents* of the deal's files, the templates, the options, the day and the
version, never modification times or absolute paths) and the output files
themselves. When the key is unchanged, a build skips rendering the deal and
hard-links the kept files into the new site (copying where links are
impossible). Creating thousands of folders is what costs most then, so the
previous build's deal folders are set aside before MkDocs empties the site
and moved back whole when they still are exactly the kept files.

The cache lives outside the output and the repository (``.cache/`` is
git-ignored). It holds exactly what is published: for protected deals that is
ciphertext only. Its folders are private (0700); the files themselves are the
site's files (hard links), so they keep the site's permissions.

A build can be killed at any point. Each deal's kept output sits in a folder
named after its key, so output written by a build that never saved its
manifest is never mistaken for the output of another key; folders no manifest
entry names are removed. The manifest is parsed as data and checked: a path
in it that would leave the deal's folder makes the whole manifest count as
empty.

Removing files is slow on some disks (a file system mounted with
``discard`` waits for the disk on every deleted file and folder: about 10 ms
per deal folder on the benchmark machine, so 20 s when a cold rebuild replaces
1,000 deals). Nothing is therefore removed where it stands: stale output is
first renamed into ``trash/`` (one rename, and never read again), and a
background thread empties that folder while the build renders (see
:meth:`OutputCache.start_removing`); a build waits for it at the end (a live
edit does not). Trash left by a killed build is emptied by the next one.

Next to each deal's files, the manifest may keep the deal's line in the
preview's index of deals (:data:`Row`), under the same key: a preview that
starts from kept output then schedules no deal at all. It is as trusted as the
kept pages beside it (same private folder), and checked as data all the same.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

MANIFEST = "manifest.json"
TRASH = "trash"  # stale output, renamed here and removed in the background
FORMAT = 3  # 3: no per-file source hashes (the key holds the contents)
KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # becomes part of a folder name
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # no "..", no leading dot, no separators


def file_digest(path: Path) -> str | None:
    """The SHA-256 of a file's contents, None when it cannot be read (the one file-hash helper)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


Row = tuple[tuple[int | str, ...], str]  # a deal's line in the preview's index: (sort key, HTML)


@dataclass(frozen=True)
class CachedDeal:
    key: str
    files: tuple[str, ...]  # paths inside the deal's output
    row: Row | None = None  # kept for the same key as the files (see :meth:`OutputCache.keep_row`)


class OutputCache:
    """Per-deal output kept between builds, in ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.entries: dict[str, CachedDeal] = {}
        try:
            data = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") == FORMAT:
                self.entries = {slug: _entry(slug, e) for slug, e in data["deals"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.entries = {}
        self._dirty = False
        self._doomed: queue.SimpleQueue[str | None] = queue.SimpleQueue()  # trash paths to remove
        self._remover: threading.Thread | None = None
        self._names = itertools.count()
        self._swept = False  # whether the trash of earlier (killed) builds was queued

    def lookup(self, slug: str, key: str) -> CachedDeal | None:
        """The kept output of ``slug`` if it was rendered for ``key`` and is still complete."""
        entry = self.entries.get(slug)
        if entry is None or entry.key != key:
            return None
        folder = os.fspath(self._folder(slug, key))  # plain strings: a preview start checks every kept file
        if not all(os.path.isfile(os.path.join(folder, f)) for f in entry.files):
            return None
        return entry

    def row(self, slug: str, key: str) -> Row | None:
        """The kept index line of ``slug`` if it was made for ``key``."""
        entry = self.entries.get(slug)
        return entry.row if entry is not None and entry.key == key else None

    def keep_row(self, slug: str, key: str, row: Row) -> None:
        """Keep the index line of ``slug`` next to its output for ``key`` (ignored when that output is not kept)."""
        entry = self.entries.get(slug)
        if entry is not None and entry.key == key and entry.row != row:
            self.entries[slug] = replace(entry, row=(tuple(row[0]), row[1]))
            self._dirty = True

    def store(self, slug: str, key: str, files: dict[str, bytes]) -> None:
        """Keep a freshly rendered deal's output (written to a new folder, then swapped in)."""
        folder = self._folder(slug, key)
        self._private(folder.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{slug}.", dir=folder.parent))
        for relative, data in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self._discard(folder)  # left by a build killed before it saved its manifest
        os.replace(staging, folder)
        previous = self.entries.get(slug)
        if previous is not None and previous.key != key:
            self._discard(self._folder(slug, previous.key))
        self.entries[slug] = CachedDeal(key, tuple(sorted(files)))
        self._dirty = True

    def link_into(self, slug: str, target: Path) -> int:
        """Hard-link (or copy) the cached output of ``slug`` into ``target``; return the file count."""
        entry = self.entries[slug]
        # Plain strings, not Path objects: a preview start links some ten thousand files, and making a
        # Path for each was a fifth of the time spent here (profiled at 1,000 deals).
        source, root = os.fspath(self._folder(slug, entry.key)), os.fspath(target)
        made: set[str] = set()
        for relative in entry.files:
            destination = os.path.join(root, relative)
            parent = os.path.dirname(destination)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            kept = os.path.join(source, relative)
            try:
                os.link(kept, destination)
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(kept, destination)
        return len(entry.files)

    def hold(self, site_dir: Path, slugs: Iterable[str]) -> None:
        """Before the site folder is emptied: move the previous build's output of
        these deals aside, one rename each, so that :meth:`place` can move an
        unchanged deal back instead of making its folders and links again."""
        held = self._held()
        # Left by a build that failed or was killed: its deals are rebuilt from the kept output.
        self._discard(held)
        self._private(self.root)
        held.mkdir(parents=True, exist_ok=True)
        for slug in slugs:
            if slug in self.entries:
                try:
                    os.rename(site_dir / slug, held / slug)
                except OSError:  # not built before, or on another file system
                    pass

    def place(self, slug: str, target: Path) -> None:
        """Put the kept output of ``slug`` at ``target``: the held folder of the
        previous build when it is exactly the kept files, else new hard links."""
        held = self._held() / slug
        if held.is_dir():
            if not target.exists() and self._same_files(slug, held):
                os.rename(held, target)
                return
            self._discard(held)  # the previous build's output of another key: trash at once
        self._discard(target)  # no stale files from an earlier build
        self.link_into(slug, target)

    def release(self, *, wait: bool = True) -> None:
        """Drop what :meth:`hold` set aside and :meth:`place` did not take back.

        ``wait``: until the trash is empty (a build); else it is emptied in
        the background (a live edit: the preview process keeps running).
        """
        self._discard(self._held())
        self.start_removing()
        if wait:
            self._doomed.put(None)
            assert self._remover is not None
            self._remover.join()
            self._remover = None

    def start_removing(self) -> None:
        """Start emptying the trash in a background thread (idempotent).

        Never before worker processes are forked (:func:`..build.render_many`):
        a fork copies only the calling thread.
        """
        if not self._swept:
            self._swept = True
            trash = self.root / TRASH
            if trash.is_dir():  # left by builds that were killed
                for entry in os.scandir(trash):
                    self._doomed.put(entry.path)
        if self._remover is None or not self._remover.is_alive():
            self._remover = threading.Thread(target=self._remove_doomed, name="dealrooms-trash", daemon=True)
            self._remover.start()

    def _remove_doomed(self) -> None:
        while (path := self._doomed.get()) is not None:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _discard(self, path: Path | str) -> None:
        """Move ``path`` (a folder in this cache or the site) into the trash, to be removed later."""
        trash = self.root / TRASH
        target = os.path.join(trash, f"{os.getpid()}.{next(self._names)}")
        try:
            os.rename(path, target)
        except FileNotFoundError:
            if not os.path.lexists(path):
                return  # nothing there
            self._private(trash)  # the trash folder itself was missing
            try:
                os.rename(path, target)
            except OSError:
                shutil.rmtree(path, ignore_errors=True)
                return
        except OSError:  # another file system (a site folder elsewhere): remove it here
            shutil.rmtree(path, ignore_errors=True)
            return
        self._doomed.put(target)

    def _same_files(self, slug: str, folder: Path) -> bool:
        """Whether ``folder`` holds the kept files of ``slug`` (the same inodes) and nothing else."""
        entry = self.entries[slug]
        found = {
            os.path.relpath(os.path.join(where, name), folder).replace(os.sep, "/")
            for where, _, names in os.walk(folder)
            for name in names
        }
        if found != set(entry.files):
            return False
        source = self._folder(slug, entry.key)
        for relative in entry.files:
            kept, there = os.stat(source / relative), os.stat(folder / relative)
            if (kept.st_ino, kept.st_dev) != (there.st_ino, there.st_dev):
                return False
        return True

    def forget_others(self, slugs: set[str]) -> None:
        """Drop deals that no longer exist, and output no entry names (from builds that were killed)."""
        for slug in set(self.entries) - slugs:
            del self.entries[slug]
            self._dirty = True
        kept = {self._folder(slug, entry.key).name for slug, entry in self.entries.items()}
        deals = self.root / "deals"
        if deals.is_dir():
            for folder in os.scandir(deals):
                if folder.name not in kept:
                    self._discard(folder.path)

    def save(self) -> None:
        if not self._dirty:
            return
        self._private(self.root)
        data = {
            "format": FORMAT,
            "deals": {
                slug: {"key": e.key, "files": list(e.files), **({"row": [list(e.row[0]), e.row[1]]} if e.row else {})}
                for slug, e in sorted(self.entries.items())
            },
        }
        temporary = self.root / f".{MANIFEST}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=1))
        os.replace(temporary, self.root / MANIFEST)
        self._dirty = False

    def _folder(self, slug: str, key: str) -> Path:
        return self.root / "deals" / f"{slug}.{key[:16]}"

    @staticmethod
    def _private(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)

    def _held(self) -> Path:
        return self.root / "held"


def _entry(slug: str, data: dict) -> CachedDeal:
    """One manifest entry, checked: the paths in it stay inside the deal's folders."""
    key, files = data["key"], data["files"]
    if not (SLUG.match(slug) and isinstance(key, str) and KEY.match(key)):
        raise ValueError(f"bad manifest entry {slug!r}")
    if not (isinstance(files, list) and all(isinstance(f, str) and _safe(f) for f in files)):
        raise ValueError(f"bad files of {slug!r}")
    return CachedDeal(key, tuple(files), _row(slug, data.get("row")))


def _row(slug: str, data: object) -> Row | None:
    """A kept index line, checked: a sort key of numbers and text, and the line's HTML."""
    if data is None:
        return None
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], list) and isinstance(data[1], str)
            and all(type(part) in (int, str) for part in data[0])):  # bool is no sort key part
        raise ValueError(f"bad index row of {slug!r}")
    return tuple(data[0]), data[1]


def _safe(relative: str) -> bool:
    """A path inside a deal's folder: relative, no ``..``, no hidden or empty steps."""
    return all(SEGMENT.match(step) for step in relative.split("/"))
