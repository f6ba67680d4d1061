"""Instant live preview: a native file watcher that re-renders one deal.

MkDocs's own watcher polls every 0.5 s, waits 0.1 s more and then rebuilds
the whole site. For deal files we use watchdog's native observer instead and
call back into the plugin, which sends the changed deals through the engine
(:meth:`..build.Pipeline.update`) under the same lock as MkDocs' own rebuilds.

MkDocs has no public way to tell browsers that the served site changed other
than running its whole build loop (``server.watch``), so :class:`LiveReload`
uses the epoch handshake of MkDocs's ``LiveReloadServer`` (private fields,
written under the locks MkDocs documents for them). It is checked for by
name: if a future MkDocs changes it, the plugin falls back to
``server.watch`` (a full, still incremental, rebuild on every change). The
tested range is pinned in ``pyproject.toml`` (``mkdocs>=1.6,<1.7``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger("mkdocs.plugins.dealrooms")
DEBOUNCE_SECONDS = 0.03  # editors write a file in several steps (truncate, write, rename)
RELEVANT = (".yml", ".yaml", ".svg", ".png", ".jpg", ".jpeg", ".webp")


class LiveReload:
    """Publishes a new version of the served site to waiting browsers (MkDocs 1.6's ``LiveReloadServer``)."""

    FIELDS = ("_epoch_cond", "_rebuild_cond", "_wanted_epoch", "_visible_epoch")

    def __init__(self, server: Any):
        self.server = server

    @classmethod
    def supported(cls, server: Any) -> bool:
        return all(hasattr(server, name) for name in cls.FIELDS)

    @contextlib.contextmanager
    def updating(self) -> Iterator[None]:
        """Hold page requests while files change; reload browsers afterwards."""
        server = self.server
        epoch = round(time.monotonic() * 1000)  # MkDocs' own clock for epochs
        # MkDocs writes _wanted_epoch holding _rebuild_cond and reads it holding _epoch_cond: hold both.
        # It never holds _epoch_cond while taking _rebuild_cond, so this order cannot deadlock.
        with server._rebuild_cond, server._epoch_cond:
            server._wanted_epoch = max(server._wanted_epoch, epoch)
        try:
            yield
        finally:
            with server._epoch_cond:
                # Only up to this update's version: a rebuild MkDocs started meanwhile (it waits for the
                # plugin's lock) announces its own version when it is done.
                server._visible_epoch = max(server._visible_epoch, epoch)
                server._epoch_cond.notify_all()


class _Handler(FileSystemEventHandler):
    def __init__(self, trigger: Callable[[list[Path] | None], None]):
        self.trigger = trigger

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's listing or times changed: the events of its files say which
        paths = [str(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        if event.is_directory:
            self.trigger(None)  # a folder appeared, vanished or moved: look at everything
        elif any(p.endswith(RELEVANT) for p in paths):
            self.trigger([Path(p) for p in paths])


class DealWatcher:
    """Watches the deals folder natively and, after a short debounce, calls
    ``update`` with the files that changed (None when it cannot tell)."""

    def __init__(self, folder: Path, update: Callable[[set[Path] | None], None]):
        self.folder = folder
        self.update = update
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._touched: set[Path] | None = set()
        self.observer = Observer()
        self.observer.daemon = True
        self.observer.schedule(_Handler(self._schedule), str(folder), recursive=True)

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        if self._timer:
            self._timer.cancel()

    def _schedule(self, paths: list[Path] | None) -> None:
        with self._lock:
            if paths is None or self._touched is None:
                self._touched = None
            else:
                self._touched.update(paths)
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(DEBOUNCE_SECONDS, self._run)
            self._timer.daemon = True
            self._timer.start()

    def _run(self) -> None:
        with self._lock:
            touched, self._touched = self._touched, set()
        try:
            self.update(touched)
        except Exception:  # the preview must survive anything a save can cause
            log.exception("live update failed; the next save retries")
            with self._lock:
                self._touched = None  # the next update looks at every deal again
