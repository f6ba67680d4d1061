"""One build or publish at a time in a project.

Two builds at once would share the output cache's holding folder and the
site folder (one empties what the other is filling); two publishes would
swap their staging folders over each other. So ``mkdocs build`` and
``dealrooms publish`` take a lock file in the project's cache folder. A
second one waits and says who holds the lock: the holder writes its process
id, command and start time beside the lock. The operating system releases
the lock when its holder dies, even by ``kill -9``, so a stale lock never
blocks a project.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = "build.lock"
HOLDER_NAME = "build.lock.holder"


class BuildLock:
    """The lock of one project's builds; re-entrant within a thread (publish runs a build)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.holder_file = self.folder / HOLDER_NAME
        self._held = 0
        self._file_lock: FileLock | None = None

    def acquire(self, notify: Callable[[str], None] | None = None) -> None:
        """Take the lock, waiting for another build; ``notify`` hears once who it waits for."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self._lock()
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if notify:
                notify(f"waiting for {self.holder()} to finish (lock: {self.path})")
            lock.acquire()
        self._held += 1
        if lock.lock_counter == 1:
            self._write_holder()

    def release(self) -> None:
        """Give back one :meth:`acquire`; a release without one does nothing."""
        if not self._held:
            return
        self._held -= 1
        lock = self._lock()
        if lock.lock_counter == 1:
            self.holder_file.unlink(missing_ok=True)
        lock.release()

    def release_all(self) -> None:
        while self._held:
            self.release()

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it (``another build`` when unknown)."""
        try:
            data = json.loads(self.holder_file.read_text(encoding="utf-8"))
            return f"{data['command']} (pid {int(data['pid'])}, started {data['started']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another build"

    def _lock(self) -> FileLock:
        # One instance per path in this process: publish holds the lock while
        # the build it runs takes it again, which must not wait for itself.
        # Kept referenced: a lock object that is garbage-collected closes its
        # file, and the operating system then releases the lock.
        if self._file_lock is None:
            self._file_lock = FileLock(self.path, is_singleton=True, mode=0o600)
        return self._file_lock

    def _write_holder(self) -> None:
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else "python"
        data = {"pid": os.getpid(), "command": command[:200],
                "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        temporary = self.holder_file.with_name(self.holder_file.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(temporary, self.holder_file)
