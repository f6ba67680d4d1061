"""The ``dealrooms`` MkDocs plugin: hooks over the engine pipeline (:mod:`..build`).

The hooks read the options from MkDocs' config, supply Material's page shell
(:mod:`.shell`) and the sealer (:mod:`.protection`), and hand files to MkDocs
and its site folder. Loading, caching, rendering, sharding and the list of
files a build may publish are the engine's :class:`..build.Pipeline`, the
same code ``dealrooms publish``, the benchmarks and the tests call.

Every deal is validated before anything is written. One build or publish runs
at a time per project (:mod:`..buildlock`); within ``mkdocs serve``, MkDocs'
own rebuilds and live edits of deal files take one lock, so they never
overlap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files

from ..build import (PACKAGE, BuildContext, BuildResult, Pipeline, Published, Update, build_time, collision_message,
                     content_signature, problems_message)
from ..buildlock import BuildLock
from ..catalog import parse_shard
from ..checks import build_warnings
from ..errors import DealroomsError
from ..history import GitHistory
from ..outputs import stray_message
from ..plan import Stage, Thresholds
from ..render import make_env
from ..today import today
from . import pages as site_pages
from .config import DealroomsConfig, plugin_settings
from .live import DealWatcher, LiveReload
from .shell import MaterialShell, install_shell, render_root_page, with_policy

if TYPE_CHECKING:  # imported when a build is protected: passwords and keys load zxcvbn and cryptography (0.3 s)
    from .protection import Protection

log = get_plugin_logger("dealrooms")
ASSETS = PACKAGE / "assets"
SHARED_ASSETS = ("dealrooms.css", "dealrooms.js")
# A build lists the plan warnings of this many deals with their lines, and counts the rest.
PLAN_WARNINGS_SHOWN = 10
SEARCH_OUTPUTS = ("search/search_index.json",)  # what MkDocs' and Material's search plugins write
PREVIEW_CACHE = "preview"  # `mkdocs serve` keeps its (unsealed, preview-CSP) output apart from builds' "output"


class DealroomsPlugin(BasePlugin[DealroomsConfig]):
    def __init__(self) -> None:
        super().__init__()
        self.is_serve = False
        self.shard_request: str | None = None
        """``K/N`` set by ``dealrooms publish --shard``; wins over the option and ``DEALROOMS_SHARD``."""
        self.pipeline: Pipeline | None = None  # kept across the rebuilds of `mkdocs serve`
        self.context: BuildContext | None = None  # of the last build: live edits render with it
        self.last_build: BuildResult | None = None
        """What the last finished build published (``dealrooms publish`` reports and zips it)."""
        self.building = threading.Lock()
        """Held from ``on_config`` to the end of ``on_post_build`` and by every live edit: they never overlap."""
        self._holds_building = False
        self.lock: BuildLock | None = None  # between processes (builds and publishes), not under serve
        self.protection: Protection | None = None
        self.deals_dir = Path()
        self.site_dir = Path()
        # Set by on_config for each build (today() is read there: a bad DEALROOMS_TODAY is a build error).
        self.today = dt.date.min
        self.thresholds = Thresholds()
        self.stages: tuple[Stage, ...] = ()
        self.strict = False  # plan warnings fail the build (option `strict`)
        self.fragment_env: jinja2.Environment | None = None
        self.theme_env: jinja2.Environment | None = None  # set by on_env
        self.build_time = 0
        self.mkdocs_config: MkDocsConfig | None = None  # of the last build: live edits render with it
        self._last_published = Published()
        self.live: LiveReload | None = None
        self.watcher: DealWatcher | None = None

    # Defining on_startup keeps this instance across rebuilds of `mkdocs serve`,
    # which is what lets an edit re-render only the deal that changed.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.is_serve = command == "serve"

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        self.building.acquire()  # released by on_post_build or on_build_error
        self._holds_building = True
        try:
            settings = plugin_settings(self.config)  # the typed options, validated when MkDocs loaded them
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        root = settings.root
        self.deals_dir = settings.deals_dir  # as written, links not resolved: see Settings.deals_dir
        cache_dir = settings.cache_dir
        if not self.is_serve:
            # Before anything else: MkDocs empties the site folder right after on_pre_build.
            self.lock = BuildLock(cache_dir)
            self.lock.acquire(notify=log.info)  # not a warning: --strict would fail after the wait
        try:
            self.today = today()
            shard_text = self.shard_request or os.environ.get("DEALROOMS_SHARD") or settings.options.shard
            shard = parse_shard(shard_text) if shard_text else None
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        self.thresholds = settings.options.thresholds
        self.stages = settings.options.sales_stages
        self.strict = settings.options.strict
        output_cache = PREVIEW_CACHE if self.is_serve else "output"
        if self.pipeline is None or not self.pipeline.serves(self.deals_dir, shard, cache_dir / output_cache):
            self.pipeline = Pipeline(self.deals_dir, project_dir=root, cache_dir=cache_dir, output_cache=output_cache,
                                     shard=shard)
        overrides = [Path(config.theme.custom_dir) / "dealrooms"] if config.theme.custom_dir else []
        self.fragment_env = make_env([d.parent for d in overrides])
        for asset in SHARED_ASSETS:
            target = config.extra_css if asset.endswith(".css") else config.extra_javascript
            if f"assets/dealrooms/{asset}" not in target:
                target.append(f"assets/dealrooms/{asset}")
        self.protection = None  # set by on_pre_build for protected builds
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        pipeline = self.pipeline
        try:
            pipeline.refresh(workers=self._workers())  # deal files the catalog cache lacks: read on every core
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        problems = pipeline.problems
        if problems and not self.is_serve:
            raise PluginError(problems_message(problems))
        for slug_problems in problems.values():
            for p in slug_problems:
                log.error(str(p))
        # Protected builds: every password checked and every key derived before anything is written.
        # `mkdocs serve` never needs passwords and serves plain pages.
        if self.config.protect and not self.is_serve:
            from .protection import Protection

            self.protection = Protection.prepare(self.config, config, pipeline.catalog)
        # One time for every file of the output: unchanged deals must not tell when they last changed.
        self.build_time = build_time()
        reserved = pipeline.expect()
        if reserved and not self.is_serve:  # the preview keeps running: publishing skips such a deal
            raise PluginError(collision_message(reserved, self.deals_dir))
        pipeline.hold(Path(config.site_dir))  # MkDocs empties the site folder next; keep the deals' folders

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        # Nothing from the deals folder is published as-is (YAML, logos, templates), judged by
        # the path as written *and* by the link's target: a link in the deals folder to a file
        # elsewhere, or a link elsewhere to a deal file, stays out of the site either way.
        kept = Files([f for f in files if not f.abs_src_path or not self._from_deals(f.abs_src_path)])
        # The rep's index replaces this page under serve, so the root search index never mentions a deal.
        kept.append(File.generated(config, "index.md", content=site_pages.public_index()))
        for asset in SHARED_ASSETS:
            kept.append(File.generated(config, f"assets/dealrooms/{asset}", content=(ASSETS / asset).read_bytes()))
        if self.protection:
            for file in self.protection.files(config):  # unlock page script, style, seller logo
                kept.append(file)
        return kept

    def on_env(self, env: jinja2.Environment, *, config: MkDocsConfig, files: Files) -> jinja2.Environment | None:
        if not self.config.enabled:
            return None
        install_shell(env, config)
        # Everything MkDocs writes is known now: the files collected (theme assets, root pages,
        # shared assets) and the pages rendered from templates.
        shared = {f.dest_uri for f in files if f.inclusion.is_included() or self.is_serve}
        for template in [*config.theme.static_templates, *config.extra_templates]:
            shared.add(template)
            if template == "sitemap.xml":
                shared.add("sitemap.xml.gz")
        shared.update(SEARCH_OUTPUTS)
        self.theme_env = env
        taken = self.pipeline.expect(shared)
        if taken and not self.is_serve:  # checked before MkDocs writes anything
            raise PluginError(collision_message(taken, self.deals_dir))
        self.context = self._context(env, config)
        return env

    def on_post_page(self, output: str, *, page, config: MkDocsConfig) -> str | None:  # type: ignore[no-untyped-def]
        # The site's own pages (the public root page) hold no deal text: hash their scripts whole.
        return with_policy(output, preview=self.is_serve) if self.config.enabled else None

    def on_post_template(self, output_content: str, *, template_name: str, config: MkDocsConfig) -> str | None:
        if self.config.enabled and template_name.endswith(".html"):  # 404.html
            return with_policy(output_content, preview=self.is_serve)
        return None

    def _post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        self.site_dir = Path(config.site_dir)
        published = self.pipeline.publish(self.site_dir, self.context, workers=self._workers())
        self._report(published)
        if self.is_serve:
            self._write_rep_index(config)

    @event_priority(-100)  # after every other plugin (search writes its index in on_post_build)
    def _check_output(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        try:
            site = Path(config.site_dir)
            strays = self.pipeline.check_output(site, when=None if self.is_serve else self.build_time)
            if strays and not self.is_serve:
                raise PluginError(stray_message(strays, site))
            for path in strays:  # the preview stays up; the file is gone all the same
                log.warning("removed %s from the preview: not part of the build's output", path)
            access = self.protection.access if self.protection else {}
            self.last_build = BuildResult(tuple(self.pipeline.deals), self.pipeline.allowed, self.build_time,
                                          self._last_published, access)
        finally:
            self._release()

    on_post_build = CombinedEvent(_post_build, _check_output)

    def on_build_error(self, *, error: Exception) -> None:
        self._release()

    def on_serve(self, server, *, config: MkDocsConfig, builder):  # type: ignore[no-untyped-def]
        if not self.config.enabled:
            return server
        if config.theme.custom_dir:
            server.watch(config.theme.custom_dir)  # template overrides: a full (incremental) rebuild
        if not LiveReload.supported(server):
            log.warning("this MkDocs version's live-reload server is unknown; deal edits trigger full rebuilds")
            server.watch(str(self.deals_dir))
            return server
        if _is_inside(Path(config.docs_dir), self.deals_dir) or _is_inside(self.deals_dir, Path(config.docs_dir)):
            server.unwatch(config.docs_dir)  # MkDocs would poll it and rebuild everything
        self.live = LiveReload(server)
        self.watcher = DealWatcher(self.deals_dir, self.live_update)
        self.watcher.start()
        return server

    def on_shutdown(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self._release()
        # What live edits left for later, so the next start reuses it; never wait long on a build
        # that was interrupted (its lock may be held by this very thread).
        if self.pipeline is not None and self.building.acquire(timeout=5):
            try:
                self.pipeline.save()
            finally:
                self.building.release()

    def cache_dir(self, config: MkDocsConfig) -> Path:
        """The project's cache folder (validated deals, finished output, the build lock)."""
        return plugin_settings(self.config).cache_dir

    def live_update(self, touched: set[Path] | None = None) -> Update:
        """Under serve: bring the served site up to date with the deal files ``touched`` (None: look at all).

        The watcher calls this; it goes through the same engine call as a
        build, under :attr:`building`, so it waits for a rebuild MkDocs is
        running and MkDocs' next rebuild waits for it.
        """
        started = time.perf_counter()
        with self.building:
            writing = functools.partial(self._writing, self.mkdocs_config) if self.live else contextlib.nullcontext
            update = self.pipeline.update(self.site_dir, self.context, touched, writing=writing)
        if update:
            for slug in update.changes.changed:
                for problem in self.pipeline.problems.get(slug, []):
                    log.error(str(problem))
            self._report(update.published)
            log.info("live update of %s in %.0f ms", ", ".join(update.changes.changed + update.changes.removed),
                     1000 * (time.perf_counter() - started))
        return update

    # --- helpers ------------------------------------------------------------

    def _context(self, env: jinja2.Environment, config: MkDocsConfig) -> BuildContext:
        """The engine's context for this build: options, Material's shell, the sealer."""
        self.mkdocs_config = config
        shell = MaterialShell(env, config, preview=self.is_serve)
        custom = [Path(config.theme.custom_dir)] if config.theme.custom_dir else []
        return BuildContext(
            today=self.today,
            fragments=self.fragment_env,
            shell=shell,
            signature=content_signature([PACKAGE, *custom], shell.signature),
            thresholds=self.thresholds,
            stages=self.stages,
            sealer=self.protection,
            problem_pages=functools.partial(site_pages.error_pages, env, config),
            history=GitHistory(self.pipeline.deals_dir, self.pipeline.project_dir),
        )

    @contextlib.contextmanager
    def _writing(self, config: MkDocsConfig) -> Iterator[None]:
        """Around a live edit's writes: page requests wait, then browsers reload (the rep's index too)."""
        with self.live.updating():
            yield
            self._write_rep_index(config)

    def _write_rep_index(self, config: MkDocsConfig) -> None:
        body = site_pages.rep_index(self.fragment_env, self.pipeline, self.today, self.thresholds, self.stages)
        (self.site_dir / "index.html").write_bytes(render_root_page(self.theme_env, config, "Deal rooms", body))

    def _report(self, published: Published) -> None:
        self._last_published = published
        for slug in published.refused:
            log.error(collision_message([slug], self.deals_dir))
        log.info("rendered %d deal(s), reused %d unchanged, in %.2f s",
                 len(published.rendered), len(published.reused), published.seconds)
        self._report_plan_warnings(published)

    def _report_plan_warnings(self, published: Published) -> None:
        """Plan warnings in the build log: for the deals rendered now, or (option ``strict``) for every deal.

        Info lines, not MkDocs warnings: `mkdocs build --strict` is about the
        site; the plan's quality is the rep's call, made strict by the option.
        Unchanged deals were reported when they were rendered, which keeps a
        rebuild with nothing changed from scheduling every plan again.
        """
        deals = self.pipeline.deals
        slugs = list(deals) if self.strict else published.rendered
        found = build_warnings(deals, slugs, self.today, self.thresholds, project_dir=self.pipeline.project_dir,
                               most=None if self.strict else PLAN_WARNINGS_SHOWN)
        for warning in found.shown:
            log.info(str(warning))
        if found.more_deals:
            log.info("%d more plan warning(s) in %d more deal(s): `dealrooms check` lists them",
                     found.more_warnings, found.more_deals)
        if found.shown and self.strict and not self.is_serve:
            raise PluginError(f"{len(found.shown)} plan warning(s) and the option strict is on: fix them, or turn "
                              "strict off (`dealrooms check` lists them)")

    def _workers(self) -> int:
        """Processes that load and render deals now: every core, in forked workers.

        Forking copies only the calling thread, so only while no other runs: a
        build has none, `mkdocs serve` none before its server and watcher start
        (its first build); its later rebuilds work here.
        """
        return _cores() if not self.is_serve or threading.active_count() == 1 else 1

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release_all()
        if self._holds_building:
            self._holds_building = False
            self.building.release()

    def _from_deals(self, source: str) -> bool:
        """Whether a collected file lies in the deals folder, as written or through links."""
        return _within(source, self.deals_dir) or _within(os.path.realpath(source), os.path.realpath(self.deals_dir))


def _cores() -> int:
    """The cores this process may use (a CI container may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in ``folder``, comparing the paths as written (no link is followed)."""
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
