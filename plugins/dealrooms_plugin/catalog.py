"""All deals of a folder, reloaded incrementally.

A :class:`Catalog` remembers each deal file's inputs (the YAML, templates it
extends, its logo) by size and modification time, and on :meth:`refresh`
re-reads only deals whose inputs changed, appeared or vanished. Adapters use
it to keep the cost of an edit independent of the number of deals.

With a ``cache_file``, validated deals also survive the process: a new build
reuses a deal whose input files have the same content hashes as when it was
validated, without parsing its YAML again (parsing is most of the cost of a
deal that is not re-rendered). Paths in it are relative to the deals folder,
so a clone of the project in another folder, with the cache folder copied
over, reuses every deal.

The cache file is JSON, validated again through the deal model when the
deal is first used: a planted or damaged file can at worst cost a re-parse,
never run code. A deal whose output is kept is never used, so a rebuild with
nothing changed validates nothing (0.5 s at 1,000 deals). The file names the
version and a digest of the package's code (:func:`code_digest`), so records
are only ever read by the code that wrote them. It holds deal data in plain
text, so it is written readable by its owner only (0600, in a 0700 folder).

A cold build reads and validates its deal files in forked worker processes
(``workers`` of :meth:`Catalog.refresh`), like rendering (:mod:`.build`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import __version__
from .errors import DealroomsError, InvalidDeal, Problem
from .load import LoadedDeal, discover_deals, is_deal_name, load_deal, slug_of, sources_digest
from .model import Deal, TargetOffset
from .outcache import file_digest
from .workers import can_fork, fork_context, forking

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


CACHE_VERSION = ["dealrooms-catalog", 4, __version__]  # 3: paths relative to the deals folder; 4: code digest
PARALLEL_MIN = 16  # fewer deal files to read parse faster here than a pool starts
CHUNK = 16  # deal files per task of a worker


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the package's Python code: what turns deal files into models.

    Part of the cache file's format, so a record is only ever read by the code
    that validated it (a development checkout keeps its version number).
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_format() -> list[str | int]:
    """What a cache file must name to be read: the format, the version and :func:`code_digest`."""
    return [*CACHE_VERSION, code_digest()]


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; raises DealroomsError for anything else."""
    from .errors import DealroomsError

    try:
        k, n = (int(part) for part in text.strip().split("/"))
    except ValueError:
        raise DealroomsError(f"shard: expected K/N such as 1/3, found {text!r}") from None
    if not 1 <= k <= n:
        raise DealroomsError(f"shard: K must be between 1 and N, found {text!r}")
    return k, n


def in_shard(slug: str, shard: tuple[int, int] | None) -> bool:
    """Whether a deal belongs to shard K of N: a stable hash of its slug, so shards never overlap."""
    if shard is None:
        return True
    k, n = shard
    return int.from_bytes(hashlib.sha256(slug.encode("utf-8")).digest()[:8], "big") % n == k - 1


@dataclass
class Catalog:
    deals_dir: Path
    cache_file: Path | None = None
    shard: tuple[int, int] | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    project_dir: Path | None = None  # symlinks leaving it are refused (see load_deal)
    parsed: int = 0  # deal files read and validated (not taken from the cache file), for tests and benchmarks
    _persisted: dict[str, dict[str, Any]] | None = None  # the cache file's records by deal path
    _reused: dict[str, LoadedDeal] = field(default_factory=dict)  # deals taken from those records
    _relatives: dict[str, str] = field(default_factory=dict)  # path -> as the cache file names it (see _relative)

    def refresh(self, touched: Iterable[Path] | None = None, *, workers: int = 1) -> Changes:
        """Bring the catalog up to date with the folder; say which deals changed.

        ``touched`` are the files a watcher saw change, when it knows them.
        If all of them are deal files, only those deals are looked at, so an
        edit costs the same with ten deals or ten thousand; anything else (a
        template, a logo, a folder) needs the full scan.

        ``workers``: processes that read and validate the deal files the cache
        file does not hold, when there are enough of them (forked, so only
        while no other thread runs; see :func:`..build.render_many`).
        """
        if touched is not None:
            some = self._touched_deals(touched)
            if some is not None:
                return self._refresh_some(some)
        paths = {slug_of(p): p for p in discover_deals(self.deals_dir, project_dir=self.project_dir)
                 if in_shard(slug_of(p), self.shard)}
        removed = tuple(sorted(set(self.entries) - set(paths)))
        for slug in removed:
            del self.entries[slug]
        changed = [slug for slug, path in paths.items() if not self._current(slug, path)]
        self._load_many([paths[slug] for slug in changed], workers)
        return Changes(tuple(changed), removed)

    def _current(self, slug: str, path: Path) -> bool:
        """Whether the loaded deal ``slug`` is from ``path`` and none of its inputs changed since."""
        entry = self.entries.get(slug)
        return entry is not None and entry.path == path and all(_stamp(p) == s for p, s in entry.stamps.items())

    def _update(self, slug: str, path: Path) -> bool:
        """Reload one deal if its inputs changed since it was loaded; whether it did."""
        if self._current(slug, path):
            return False
        self.entries[slug] = self._load(path)
        return True

    def _load_many(self, paths: list[Path], workers: int) -> None:
        """Load these deal files into the catalog: from the cache file where it holds them, else parsed.

        Parsing and validating is about 5 ms per deal file; with ``workers``
        processes, a cold build of 1,000 deals does it on every core.
        """
        parse: list[Path] = []
        for path in paths:
            entry = self._from_cache_entry(path)
            if entry is None:
                parse.append(path)
            else:
                self.entries[slug_of(path)] = entry
        if not can_fork(workers, len(parse), PARALLEL_MIN):
            for path in parse:
                self.entries[slug_of(path)] = self._parse(path)
            return
        self.parsed += len(parse)
        job = functools.partial(_parse, deals_dir=self.deals_dir, project_dir=self.project_dir)
        with forking(), ProcessPoolExecutor(workers, mp_context=fork_context()) as pool:
            for path, entry in zip(parse, pool.map(job, parse, chunksize=CHUNK)):
                self.entries[slug_of(path)] = entry

    def _touched_deals(self, touched: Iterable[Path]) -> dict[str, Path] | None:
        """The deal files among ``touched`` by slug, or None when a full scan is needed."""
        folder = self.deals_dir.absolute()
        found: dict[str, Path] = {}
        for path in touched:
            path = Path(path).absolute()
            if path.parent != folder:
                return None  # a template, a logo or anything in a subfolder may feed any deal
            if not is_deal_name(path.name):
                continue  # editors' swap and backup files, files starting with _ or .
            slug = slug_of(path)
            if slug in found and found[slug] != path:
                return None  # kestrel.yml and kestrel.yaml: let the full scan decide
            found[slug] = path
        return found

    def _refresh_some(self, touched: dict[str, Path]) -> Changes:
        # the same spelling of each path as a full scan gives
        paths = {slug: self.deals_dir / path.name for slug, path in sorted(touched.items()) if in_shard(slug, self.shard)}
        if any(slug in self.entries and self.entries[slug].path != path for slug, path in paths.items()):
            return self.refresh()  # another file has this slug (kestrel.yml and kestrel.yaml)
        changed: list[str] = []
        removed: list[str] = []
        for slug, path in paths.items():
            if path.is_file():
                if self._update(slug, path):
                    changed.append(slug)
            elif slug in self.entries:
                del self.entries[slug]
                removed.append(slug)
        return Changes(tuple(changed), tuple(removed))

    def _load(self, path: Path) -> Entry:
        return self._from_cache_entry(path) or self._parse(path)

    def _parse(self, path: Path) -> Entry:
        self.parsed += 1
        return _parse(path, deals_dir=self.deals_dir, project_dir=self.project_dir)

    def _from_cache_entry(self, path: Path) -> Entry | None:
        stamp_before = _stamp(path)
        reused = self._from_cache(path)
        if reused is None:
            return None
        stamps = {source: _stamp(source) for source in reused.sources}
        stamps[path] = stamp_before
        return Entry(path, stamps, reused, [])

    def _from_cache(self, path: Path) -> LoadedDeal | None:
        if self.cache_file is None:
            return None
        if self._persisted is None:
            self._persisted = _read_cache(self.cache_file)
        record = self._persisted.get(self._relative(path))
        if record is None:
            return None
        try:
            sources = tuple(self._absolute(source) for source, _ in record["sources"])
            contents = [_read(source) for source in sources]
            if any(data is None or hashlib.sha256(data).hexdigest() != digest
                   for data, (_, digest) in zip(contents, record["sources"])):
                return None
            if not isinstance(record["deal"], dict):
                return None
            logo = self._absolute(record["logo"]) if record["logo"] else None
            # The digest names the deal's output (render keys): made from the files, never taken from the record.
            digest = sources_digest(contents)  # type: ignore[arg-type]
            loaded = KeptDeal.of(record["slug"], path, record["deal"], sources, digest, logo, self._reparse)
        except (KeyError, TypeError, ValueError):
            return None
        if loaded.slug != slug_of(path) or (logo is not None and logo not in sources):
            return None  # a logo is published: only one whose contents were checked above
        self._reused[str(path)] = loaded
        return loaded

    def _reparse(self, kept: KeptDeal) -> Deal:
        """The model of a kept deal whose record the model refused: from its file, which must be unchanged."""
        self._reused.pop(str(kept.path), None)  # the next save() writes a valid record
        entry = self._parse(kept.path)
        if entry.deal is None or entry.deal.digest != kept.digest:
            raise DealroomsError(
                f"{kept.path}: the file changed while it was being built, and the catalog cache "
                f"{self.cache_file} holds a record of it that is not valid; build again"
            )
        return entry.deal.deal

    def save(self) -> None:
        """Persist the valid deals for the next process (when a ``cache_file`` is set)."""
        if self.cache_file is None:
            return
        valid = {self._relative(e.path): e.deal for e in self.entries.values() if e.deal is not None}
        persisted = self._persisted or {}
        reused = {self._relative(Path(p)): loaded for p, loaded in self._reused.items()}
        if set(valid) == set(persisted) and all(reused.get(p) is loaded for p, loaded in valid.items()):
            return  # every deal came from the cache file as it is: nothing to write
        records = {}
        for key, loaded in valid.items():
            if reused.get(key) is loaded and key in persisted:
                records[key] = persisted[key]  # as read: no need to encode it again
            else:
                records[key] = self._record(loaded)
        _write_private(self.cache_file, json.dumps({"format": cache_format(), "deals": records},
                                                   ensure_ascii=False, separators=(",", ":")))
        self._persisted = records
        self._reused = {str(e.path): e.deal for e in self.entries.values() if e.deal is not None}

    def _relative(self, path: Path) -> str:
        """A path as the cache file names it: relative to the deals folder, so a clone elsewhere reuses it.

        Remembered: a rebuild asks for each of 1,000 deals twice (reading, then saving the cache file).
        """
        text = str(path)
        relative = self._relatives.get(text)
        if relative is None:
            relative = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(self.deals_dir))).as_posix()
            self._relatives[text] = relative
        return relative

    def _absolute(self, relative: str) -> Path:
        return Path(os.path.normpath(os.path.join(os.path.abspath(self.deals_dir), relative)))

    def _record(self, loaded: LoadedDeal) -> dict[str, Any]:
        """One deal as plain JSON data: what it was made from, and the validated model."""
        return {
            "slug": loaded.slug,
            "sources": [[self._relative(source), file_digest(source)] for source in loaded.sources],
            "logo": self._relative(loaded.logo) if loaded.logo else None,
            "deal": _plain(loaded.deal),
        }

    @property
    def deals(self) -> dict[str, LoadedDeal]:
        return {slug: e.deal for slug, e in sorted(self.entries.items()) if e.deal is not None}

    @property
    def problems(self) -> dict[str, list[Problem]]:
        return {slug: e.problems for slug, e in sorted(self.entries.items()) if e.problems}


class KeptDeal(LoadedDeal):
    """A deal taken from the cache file, whose model is validated when it is first read.

    Its files have the contents the record was made from (checked by hash),
    and its :attr:`digest` is made from those files: what it renders to is
    named without the model, so a deal whose output is kept never needs it.
    A record the model refuses (damaged, or planted) counts as absent: the
    deal file is parsed instead.
    """

    _record: dict[str, Any]
    _reparse: Any

    @classmethod
    def of(cls, slug: str, path: Path, record: dict[str, Any], sources: tuple[Path, ...], digest: str,
           logo: Path | None, reparse: Any) -> KeptDeal:
        """A kept deal; ``reparse(kept)`` gives its model when the record is refused."""
        kept = object.__new__(cls)  # LoadedDeal's __init__ would set the model
        for name, value in (("slug", slug), ("path", path), ("sources", sources), ("digest", digest), ("logo", logo),
                            ("_record", record), ("_reparse", reparse)):
            object.__setattr__(kept, name, value)
        return kept

    @property  # type: ignore[override]
    def deal(self) -> Deal:
        model = self.__dict__.get("_model")
        if model is None:
            try:
                model = Deal.model_validate(self._record)  # checked again: the file is data, never trusted
            except (ValidationError, TypeError, ValueError):
                model = self._reparse(self)
            object.__setattr__(self, "_model", model)
        return model

    def __reduce__(self) -> Any:  # pickled (to a worker): as the deal it stands for
        return (LoadedDeal, (self.slug, self.path, self.deal, self.sources, self.digest, self.logo))


def _parse(path: Path, *, deals_dir: Path, project_dir: Path | None) -> Entry:
    """Read and validate one deal file (in this process or a worker), with the stamps of its inputs."""
    stamp_before = _stamp(path)
    try:
        loaded = load_deal(path, deals_dir=deals_dir, project_dir=project_dir)
    except InvalidDeal as exc:
        # Templates that failed to load are unknown here: watch the file
        # itself and the templates folder, so fixing either retries.
        templates = deals_dir / "_templates"
        stamps = {path: stamp_before}
        if templates.is_dir():
            stamps.update({t: _stamp(t) for t in templates.iterdir()})
        return Entry(path, stamps, None, exc.problems)
    stamps = {source: _stamp(source) for source in loaded.sources}
    stamps[path] = stamp_before
    return Entry(path, stamps, loaded, [])


# --- the cache file -----------------------------------------------------------


def _plain(value: Any) -> Any:
    """A validated model as the input that validates to it again (dates and offsets as written)."""
    if isinstance(value, BaseModel):
        return {name: _plain(getattr(value, name)) for name in value.model_fields_set}  # defaults come back by themselves
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (TargetOffset, Decimal)):
        return str(value)
    return value


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _read_cache(cache_file: Path) -> dict[str, dict[str, Any]]:
    """The records of a cache file written by this version; anything else reads as empty."""
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != cache_format() or not isinstance(data.get("deals"), dict):
        return {}
    return {k: v for k, v in data["deals"].items() if isinstance(v, dict)}


def _write_private(target: Path, text: str) -> None:
    """Write ``text`` readable by its owner only, atomically (0600 file in a 0700 folder)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(temporary, 0o600)  # O_CREAT's mode only applies to a new file
    os.replace(temporary, target)
