"""All deals of a folder, reloaded incrementally.

A :class:`Catalog` remembers each deal file's inputs (the YAML, templates it
extends, its logo) by size and modification time, and on :meth:`refresh`
re-reads only deals whose inputs changed, appeared or vanished. Adapters use
it to keep the cost of an edit independent of the number of deals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidDeal, Problem
from .load import LoadedDeal, discover_deals, load_deal, slug_of

Stamp = tuple[int, int]  # (mtime_ns, size)


def _stamp(path: Path) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class Entry:
    path: Path
    stamps: dict[Path, Stamp | None]
    deal: LoadedDeal | None
    problems: list[Problem]


@dataclass(frozen=True)
class Changes:
    changed: tuple[str, ...]  # added or modified (valid or not)
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


@dataclass
class Catalog:
    deals_dir: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    _templates_stamp: dict[Path, Stamp | None] = field(default_factory=dict)

    def refresh(self) -> Changes:
        """Bring the catalog up to date with the folder; say which deals changed."""
        paths = {slug_of(p): p for p in discover_deals(self.deals_dir)}
        removed = tuple(sorted(set(self.entries) - set(paths)))
        for slug in removed:
            del self.entries[slug]
        changed = []
        for slug, path in paths.items():
            entry = self.entries.get(slug)
            if entry is not None and entry.path == path and all(_stamp(p) == s for p, s in entry.stamps.items()):
                continue
            self.entries[slug] = self._load(path)
            changed.append(slug)
        return Changes(tuple(changed), removed)

    def _load(self, path: Path) -> Entry:
        stamp_before = _stamp(path)
        try:
            loaded = load_deal(path, deals_dir=self.deals_dir)
        except InvalidDeal as exc:
            # Templates that failed to load are unknown here: watch the file
            # itself and the templates folder, so fixing either retries.
            templates = self.deals_dir / "_templates"
            stamps = {path: stamp_before}
            if templates.is_dir():
                stamps.update({t: _stamp(t) for t in templates.iterdir()})
            return Entry(path, stamps, None, exc.problems)
        stamps = {source: _stamp(source) for source in loaded.sources}
        stamps[path] = stamp_before
        return Entry(path, stamps, loaded, [])

    @property
    def deals(self) -> dict[str, LoadedDeal]:
        return {slug: e.deal for slug, e in sorted(self.entries.items()) if e.deal is not None}

    @property
    def problems(self) -> dict[str, list[Problem]]:
        return {slug: e.problems for slug, e in sorted(self.entries.items()) if e.problems}
