"""The engine pipeline: from validated deals to a site folder, for every adapter.

Two levels, both free of MkDocs:

- :func:`render_deal` turns one loaded deal into its finished files
  (``{path inside the deal: bytes}``): logo slot, plan, view, calendar, page
  bodies, the adapter's page shell, sealing. :func:`render_key` names that
  output by the *contents* of everything that shapes it, so equal keys mean
  equal bytes.
- :class:`Pipeline` keeps the deals of one project up to date (the catalog),
  renders only deals whose key changed (the output cache, on disk for builds
  and previews), writes them into a site folder, and knows every file the
  build may publish (:mod:`.outputs`). ``mkdocs build``, ``mkdocs serve`` and
  its live edits, ``dealrooms publish``, the benchmarks and the tests all go
  through it.

An adapter supplies a :class:`BuildContext`: the day, the options, the Jinja
environment of the page bodies, a *page shell* (a callable that wraps page
bodies into finished pages and sitemap: Material's, for the
MkDocs adapter) and, for protected builds, a *sealer*.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, Protocol

import jinja2

from . import __version__
from .calendar import deal_calendar
from .catalog import Catalog, Changes
from .errors import Problem
from .history import GitHistory
from .load import LoadedDeal
from .outcache import OutputCache, Row
from .outputs import AllowedOutputs, settle
from .plan import Stage, Thresholds, schedule
from .render import RenderedPage, day_text, render_pages
from .view import build_view
from .workers import can_fork, fork_context, forking

if TYPE_CHECKING:  # passwords loads zxcvbn's word lists (0.2 s): only protected builds need them
    from .passwords import Access

PACKAGE = Path(__file__).resolve().parent  # code, templates and assets: part of every render key
CALENDAR = "calendar.ics"  # inside each deal: one event per milestone, stable UIDs
NO_LOGO = "assets/logo.svg"  # sealed deals without a logo get an empty one: the blob count says nothing
OUTPUT_LAYOUT = "layout-2"  # part of every render key: changes when a deal's set of files changes
CATALOG_FILE = "catalog.json"
LEGACY_CATALOG = "catalog.pickle"  # older versions: plain-text deal data, never read again


@dataclass(frozen=True)
class Chrome:
    """What the page shell shows around the bodies of one deal (the shell escapes all of it)."""

    slug: str
    site_name: str  # buyer's name, in the header
    seller: str
    logo_file: str | None  # path inside the deal, e.g. "assets/logo.svg"
    generated_on: str  # ISO date of the build
    locale: str = "en"  # the deal's locale: the shell's language (theme words, <html lang>)
    generated_on_text: str = ""  # the build date in the deal's format
    plan_last_changed: str | None = None  # ISO date, from the plan's git history
    plan_last_changed_text: str = ""


class PageShell(Protocol):
    """Wraps a deal's page bodies into its finished pages and sitemap."""

    def __call__(self, chrome: Chrome, bodies: list[RenderedPage]) -> dict[str, bytes]: ...


class Sealer(Protocol):
    """Encrypts a deal's finished files (protected builds)."""

    def seals(self, slug: str) -> bool:
        """Whether this deal is sealed (has a key)."""
        ...

    def fingerprint(self, slug: str) -> str:
        """Part of the deal's render key: changes with its key and the unlock page, never shows the password."""
        ...

    def seal(self, slug: str, files: dict[str, bytes], locale: str) -> dict[str, bytes]: ...


ProblemPages = Callable[[str, list[Problem]], dict[str, bytes]]  # slug, problems -> the pages showing them


@dataclass(frozen=True)
class BuildContext:
    """Everything besides the deal itself that shapes its output.

    ``signature`` stands for what the callables cannot show: the contents of
    the package and of theme overrides, and the shell's own settings (see
    :func:`content_signature`). It is part of every render key.
    """

    today: dt.date
    fragments: jinja2.Environment  # page bodies (:func:`..render.make_env`)
    shell: PageShell
    signature: str
    thresholds: Thresholds = Thresholds()
    stages: tuple[Stage, ...] = ()
    sealer: Sealer | None = None
    problem_pages: ProblemPages | None = None  # previews: an invalid deal's pages list its problems
    history: GitHistory | None = None  # the plans' git histories ("What changed"); None: no history shown


def content_signature(roots: Iterable[Path], *settings: str) -> str:
    """A digest of the files below ``roots`` (contents and relative paths) and of ``settings``.

    Never modification times or absolute paths: touching a file or a fresh
    checkout in another folder changes nothing.
    """
    digest = hashlib.sha256()
    for root in roots:
        found: list[str] = []
        for dirpath, dirnames, names in os.walk(root):
            # Pruned while walking: compiled bytecode embeds source times and differs per checkout.
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            found.extend(Path(dirpath, name).relative_to(root).as_posix() for name in names)
        for relative in sorted(found):
            digest.update(f"{relative}\0".encode())
            digest.update(hashlib.sha256((Path(root) / relative).read_bytes()).digest())
        digest.update(b"\1")
    for setting in settings:
        digest.update(setting.encode("utf-8") + b"\0")
    return digest.hexdigest()


def render_key(loaded: LoadedDeal, ctx: BuildContext) -> str:
    """The name of a deal's output: equal keys, equal bytes (by content, never by time or place)."""
    sealed = ctx.sealer.fingerprint(loaded.slug) if ctx.sealer else "plain"
    history = ctx.history.key(loaded.path) if ctx.history else ""
    parts = [OUTPUT_LAYOUT, loaded.digest, ctx.today.isoformat(), __version__, repr(ctx.thresholds), repr(ctx.stages),
             ctx.signature, sealed, history]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def render_deal(loaded: LoadedDeal, ctx: BuildContext) -> dict[str, bytes]:
    """One deal's finished files, ``{path inside the deal: bytes}``: plan, pages, calendar, logo, sealed when protected."""
    return seal_deal_files(loaded, ctx, render_plain(loaded, ctx))


def render_plain(loaded: LoadedDeal, ctx: BuildContext) -> dict[str, bytes]:
    """A deal's files before sealing (what :func:`render_deal` gives for a public deal)."""
    deal = loaded.deal
    logo_file = None
    files: dict[str, bytes] = {}
    if loaded.logo is not None:  # checked when loaded, relative to the file that declares it
        logo_file = f"assets/logo{loaded.logo.suffix.lower()}"
        files[logo_file] = loaded.logo.read_bytes()
    plan = schedule(deal, ctx.today, ctx.thresholds)
    history = ctx.history.of(loaded.path, ctx.today) if ctx.history else None
    view = build_view(loaded.slug, deal, plan, logo=logo_file, history=history)
    files[CALENDAR] = deal_calendar(loaded.slug, deal, plan)
    bodies = render_pages(view, ctx.fragments, calendar_file=CALENDAR)
    locale = deal.deal.locale
    changed = view.plan_last_changed
    chrome = Chrome(
        slug=loaded.slug,
        site_name=deal.deal.buyer.name,
        seller=deal.deal.seller.name,
        logo_file=logo_file,
        generated_on=ctx.today.isoformat(),
        locale=locale,
        generated_on_text=day_text(ctx.today, locale),
        plan_last_changed=changed.isoformat() if changed else None,
        plan_last_changed_text=day_text(changed, locale) if changed else "",
    )
    files.update(ctx.shell(chrome, bodies))
    return files


def seal_deal_files(loaded: LoadedDeal, ctx: BuildContext, files: dict[str, bytes]) -> dict[str, bytes]:
    """A deal's plain files sealed with its key when the context has a sealer and the deal is protected."""
    if ctx.sealer is None or not ctx.sealer.seals(loaded.slug):
        return files
    files = {**files}
    files.setdefault(NO_LOGO, b"")  # every sealed deal has the same set of files
    return ctx.sealer.seal(loaded.slug, files, loaded.deal.deal.locale)  # nothing deal-specific stays readable


def render_many(
    deals: list[LoadedDeal], ctx: BuildContext, workers: int = 1, *, started: Callable[[], None] | None = None
) -> Iterator[tuple[LoadedDeal, dict[str, bytes]]]:
    """Render these deals, in ``workers`` processes when there are enough of them; yields as they finish.

    The context holds the adapter's page shell (for MkDocs, a Jinja
    environment and MkDocs' config), which cannot be pickled. The workers are
    therefore forked: each starts with the parent's context and deals in
    memory and gets only slugs, in chunks, and returns each deal's finished
    files, sealed when protected: the sealer's keys were derived before (its
    key derivation runs no thread by now), and a worker seals one file after
    another (see :func:`..protect.seal_deal`). Where fork is not available,
    or for a handful of deals, this renders here, one after another.

    ``started`` is called once no more processes will be forked: from then
    on, the caller may start threads (a fork copies only the calling thread).
    """
    if not can_fork(workers, len(deals), PARALLEL_MIN):
        if started is not None:
            started()
        for loaded in deals:
            yield loaded, render_deal(loaded, ctx)
        return
    global _FORKED
    by_slug = {loaded.slug: loaded for loaded in deals}
    slugs = list(by_slug)
    size = max(1, min(CHUNK_MAX, -(-len(slugs) // (workers * 4))))  # small enough to balance, large enough to pay
    _FORKED = (ctx, by_slug)
    try:
        with forking(), ProcessPoolExecutor(workers, mp_context=fork_context()) as pool:
            # With fork, the first submit starts every worker.
            futures = [pool.submit(_render_chunk, slugs[i:i + size]) for i in range(0, len(slugs), size)]
            if started is not None:
                started()
            for future in as_completed(futures):
                for slug, files in future.result():
                    yield by_slug[slug], files
    finally:
        _FORKED = None


PARALLEL_MIN = 4  # fewer deals render faster here than a pool starts
# Deals per task: a chunk is ~50 ms of work per deal, and the last chunks decide how long one
# core waits for the other at the end (32 left one core idle for up to 1.6 s at 1,000 deals).
CHUNK_MAX = 8
_FORKED: tuple[BuildContext, dict[str, LoadedDeal]] | None = None  # what forked workers render from


def _render_chunk(slugs: list[str]) -> list[tuple[str, dict[str, bytes]]]:
    """In a forked worker: the finished (sealed when protected) files of these deals."""
    if _FORKED is None:
        raise RuntimeError("render worker started without a context (only forked workers can render)")
    ctx, by_slug = _FORKED
    return [(slug, render_deal(by_slug[slug], ctx)) for slug in slugs]


# --- every deal of a project ----------------------------------------------------


@dataclass
class Published:
    """What one :meth:`Pipeline.publish` did."""

    rendered: list[str] = field(default_factory=list)  # slugs rendered now
    reused: list[str] = field(default_factory=list)  # slugs whose kept output was unchanged
    failed: list[str] = field(default_factory=list)  # invalid deals (their problem pages, if any, were written)
    refused: list[str] = field(default_factory=list)  # slugs that would replace a shared file: skipped
    seconds: float = 0.0


@dataclass(frozen=True)
class BuildResult:
    """What a finished build published, for reports and zips (``dealrooms publish``)."""

    deals: tuple[str, ...]  # valid deals, sorted
    allowed: AllowedOutputs  # every file of the output
    build_time: int  # the time every output file carries
    published: Published
    access: Mapping[str, Access] = field(default_factory=dict)  # protected builds: each deal's password source


@dataclass(frozen=True)
class Update:
    """What one live :meth:`Pipeline.update` did."""

    changes: Changes
    published: Published

    def __bool__(self) -> bool:
        return bool(self.changes)


class Pipeline:
    """Every deal of one project, from its files to a site folder.

    ``cache_dir`` holds the validated deals (``catalog.json``) and the kept
    output (``output_cache``, a folder name inside it); both are reused by the
    next process. Without it, nothing outlives the object. One pipeline may
    serve many builds (``mkdocs serve`` keeps it): each build calls
    :meth:`refresh`, :meth:`expect`, then :meth:`publish`, then
    :meth:`check_output`; live edits call :meth:`update`. Callers make sure
    two calls never run at once.
    """

    def __init__(
        self,
        deals_dir: Path,
        *,
        project_dir: Path | None = None,
        cache_dir: Path | None = None,
        output_cache: str = "output",
        shard: tuple[int, int] | None = None,
    ):
        self.deals_dir = Path(deals_dir)
        self.project_dir = project_dir
        self.shard = shard
        if cache_dir is not None:
            _private_cache(Path(cache_dir))
        self.catalog = Catalog(self.deals_dir, Path(cache_dir) / CATALOG_FILE if cache_dir else None, shard,
                               project_dir=project_dir)
        self.output_dir = Path(cache_dir) / output_cache if cache_dir else None
        self.outcache = OutputCache(self.output_dir) if self.output_dir else None
        self._memory: dict[str, tuple[str, dict[str, bytes]]] = {}  # without a cache folder: slug -> (key, files)
        self._rows: dict[str, tuple[str, Row]] = {}  # without a cache folder: slug -> (key, index row)
        self.keys: dict[str, str] = {}
        """The render key of each deal's output in the last :meth:`publish` (what its index row is kept by)."""
        self.allowed = AllowedOutputs()
        # A live edit leaves the cache files to be written later (see update): rewriting the
        # whole catalog and manifest on every save would make an edit cost grow with the deals.
        self._deferring = False
        self._unsaved: set[str] = set()

    def serves(self, deals_dir: Path, shard: tuple[int, int] | None, output_dir: Path | None) -> bool:
        """Whether this pipeline is the one for these deals and output cache (else the adapter makes a new one)."""
        return (self.deals_dir, self.shard, self.output_dir) == (Path(deals_dir), shard, output_dir)

    @property
    def deals(self) -> dict[str, LoadedDeal]:
        """The valid deals, by slug."""
        return self.catalog.deals

    @property
    def problems(self) -> dict[str, list[Problem]]:
        """The invalid deals' problems, by slug."""
        return self.catalog.problems

    def refresh(self, touched: Iterable[Path] | None = None, *, workers: int = 1) -> Changes:
        """Read what changed in the deals folder (``touched``: what a watcher saw, when known).

        ``workers``: processes that read and validate deal files at once (see :meth:`..catalog.Catalog.refresh`).
        """
        changes = self.catalog.refresh(touched, workers=workers)
        for slug in changes.changed + changes.removed:
            self._memory.pop(slug, None)
            self.keys.pop(slug, None)
            self._rows.pop(slug, None)
        if changes:
            self._persist("catalog")
        return changes

    def expect(self, shared: Iterable[str] = ()) -> list[str]:
        """Start a build whose shared files (theme, root pages, assets) are ``shared``; the deals they collide with."""
        self.allowed = AllowedOutputs(frozenset(shared))
        return self.allowed.collisions(self.catalog.entries)

    def hold(self, site_dir: Path) -> None:
        """Before the adapter empties ``site_dir``: set the previous output of kept deals aside for reuse."""
        if self.outcache is not None:
            self.outcache.hold(Path(site_dir), self.catalog.entries)

    def publish(
        self, site_dir: Path, ctx: BuildContext, slugs: Iterable[str] | None = None, *, workers: int = 1
    ) -> Published:
        """Write these deals (all by default) into ``site_dir``, rendering only those whose key changed.

        ``workers``: processes that render at once (see :func:`render_many`).
        """
        started = time.perf_counter()
        site_dir = Path(site_dir)
        site_dir.mkdir(parents=True, exist_ok=True)
        everything = slugs is None
        done = Published()
        todo: list[tuple[LoadedDeal, str]] = []
        for slug in list(self.catalog.entries) if slugs is None else slugs:
            entry = self.catalog.entries.get(slug)
            if entry is None:
                continue
            if self.allowed.collisions([slug]):  # never replace a shared folder (builds refuse such deals earlier)
                done.refused.append(slug)
                continue
            self.keys.pop(slug, None)
            if entry.deal is None:
                done.failed.append(slug)
                target = site_dir / slug
                shutil.rmtree(target, ignore_errors=True)
                pages = ctx.problem_pages(slug, entry.problems) if ctx.problem_pages else {}
                self.allowed.deals[slug] = frozenset(pages)
                _write_tree(target, pages)
                continue
            todo.append((entry.deal, render_key(entry.deal, ctx)))
        keys = {loaded.slug: key for loaded, key in todo}
        self.keys.update(keys)
        misses = [loaded for loaded, key in todo if not self._kept(loaded.slug, key)]
        # Stale output is removed by a thread, which may start once the workers are forked.
        removing = self.outcache.start_removing if self.outcache is not None else None
        for loaded, files in render_many(misses, ctx, workers, started=removing):
            self._keep(loaded.slug, keys[loaded.slug], files)
            self._place(loaded.slug, site_dir / loaded.slug, fresh=True)
            done.rendered.append(loaded.slug)
        fresh = set(done.rendered)
        for loaded, _ in todo:
            if loaded.slug not in fresh:
                self._place(loaded.slug, site_dir / loaded.slug, fresh=False)
                done.reused.append(loaded.slug)
        if self.outcache is not None:
            if everything and self.shard is None:
                self.outcache.forget_others(set(self.catalog.entries))
            self.outcache.release(wait=not self._deferring)  # a live edit leaves the trash to the background
            self._persist("output")
        done.seconds = time.perf_counter() - started
        return done

    def kept_row(self, slug: str) -> Row | None:
        """The index row kept for the output :meth:`publish` last placed for ``slug``, if any.

        A row is kept under the deal's render key, which already names
        everything a row shows (the deal's contents, the day, thresholds,
        stages, templates), so a kept row is never stale.
        """
        key = self.keys.get(slug)
        if key is None:
            return None
        if self.outcache is not None:
            return self.outcache.row(slug, key)
        kept = self._rows.get(slug)
        return kept[1] if kept is not None and kept[0] == key else None

    def keep_rows(self, rows: Mapping[str, Row]) -> None:
        """Keep these deals' index rows next to their output (on disk: the next preview schedules none of them)."""
        for slug, row in rows.items():
            key = self.keys.get(slug)
            if key is None:
                continue  # not published (refused): nothing to keep the row next to
            if self.outcache is not None:
                self.outcache.keep_row(slug, key, row)
            else:
                self._rows[slug] = (key, row)
        if self.outcache is not None:
            self._persist("output")

    def _kept(self, slug: str, key: str) -> bool:
        """Whether the output of ``slug`` for ``key`` is kept (on disk, or in memory without a cache folder)."""
        if self.outcache is not None:
            return self.outcache.lookup(slug, key) is not None
        cached = self._memory.get(slug)
        return cached is not None and cached[0] == key

    def _keep(self, slug: str, key: str, files: dict[str, bytes]) -> None:
        if self.outcache is not None:
            self.outcache.store(slug, key, files)
        else:
            self._memory[slug] = (key, files)

    def _place(self, slug: str, target: Path, *, fresh: bool) -> None:
        """Put the kept output of ``slug`` at ``target`` and allow its files."""
        if self.outcache is not None:
            self.allowed.deals[slug] = frozenset(self.outcache.entries[slug].files)
            self.outcache.place(slug, target)  # one write per file: cache and site share it
            return
        files = self._memory[slug][1]
        self.allowed.deals[slug] = frozenset(files)
        if fresh or not target.is_dir():
            shutil.rmtree(target, ignore_errors=True)  # no stale files from an earlier render
            _write_tree(target, files)

    def update(
        self,
        site_dir: Path,
        ctx: BuildContext,
        touched: Iterable[Path] | None = None,
        *,
        writing: Callable[[], ContextManager[object]] = contextlib.nullcontext,
    ) -> Update:
        """A live edit: read the deals ``touched`` (None: look at all), write only those that changed.

        ``writing`` wraps the writes (a preview server holds page requests
        meanwhile); reading and validating happen before it.
        """
        self._deferring = True  # written by the next build or save(), not on every edit
        try:
            changes = self.refresh(touched)
            if not changes:
                return Update(changes, Published())
            with writing():
                for slug in changes.removed:
                    shutil.rmtree(Path(site_dir) / slug, ignore_errors=True)
                    self.allowed.deals.pop(slug, None)
                published = self.publish(site_dir, ctx, changes.changed)
            return Update(changes, published)
        finally:
            self._deferring = False

    def save(self) -> None:
        """Write what live edits left unwritten (the catalog, the output manifest); a preview calls it on exit."""
        self._persist()

    def _persist(self, *parts: str) -> None:
        """Write these caches now, or later while a live edit runs; anything left over goes along."""
        self._unsaved.update(parts)
        if self._deferring:
            return
        if "catalog" in self._unsaved:
            self.catalog.save()
        if "output" in self._unsaved and self.outcache is not None:
            self.outcache.save()
        self._unsaved.clear()

    def check_output(self, site_dir: Path, *, when: float | None = None) -> list[str]:
        """Remove from ``site_dir`` every file this build did not produce; return their paths.

        ``when``: the time every output file gets (see :func:`build_time`).
        """
        return settle(Path(site_dir), self.allowed, when=when)


def build_time() -> int:
    """The build's time for every output file: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())


def collision_message(slugs: list[str], deals_dir: Path) -> str:
    """The error for deals whose web address is taken by the site's shared files."""
    names = ", ".join(f"{deals_dir / slug}.yml" for slug in slugs)
    return (
        f"{names}: the deal's web address /{slugs[0]}/ is taken by the site's shared files "
        "(theme assets, search, root pages); building it would replace them in every deal room. "
        "Rename the deal file, e.g. acme-assets.yml; nothing was built."
    )


def problems_message(problems: Mapping[str, list[Problem]]) -> str:
    """The error that stops a build when deals are invalid: every problem, one per line."""
    lines = [str(p) for slug_problems in problems.values() for p in slug_problems]
    return f"{len(lines)} problem(s) in {len(problems)} deal file(s); nothing was built:\n" + "\n".join(lines)


def _private_cache(cache_dir: Path) -> None:
    """The cache holds deal data: readable by its owner only; the old pickle cache goes."""
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(cache_dir, 0o700)
    (cache_dir / LEGACY_CATALOG).unlink(missing_ok=True)


def _write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
