"""The ``dealrooms`` MkDocs plugin: a thin adapter over the engine.

Hooks check ``enabled`` and hand work to the engine (catalog, plan, view,
render) and to :mod:`.shell`, which wraps page bodies in Material's shell.
Every deal is validated before anything is written; a deal whose inputs are
unchanged is not rendered again (its previous bytes are reused).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files

from .. import __version__
from ..catalog import Catalog, parse_shard
from ..errors import DealroomsError
from ..load import LoadedDeal
from ..outcache import OutputCache
from ..calendar import deal_calendar
from ..plan import Thresholds, schedule, stages_from_options
from ..render import TEMPLATES, make_env, render_pages
from ..today import today
from ..view import build_view
from . import pages as site_pages
from .config import DealroomsConfig
from .live import DealWatcher, LiveReload
from .protection import Protection
from .shell import Chrome, install_shell, render_root_page, render_shell

log = get_plugin_logger("dealrooms")
ASSETS = Path(__file__).resolve().parent.parent / "assets"
SHARED_ASSETS = ("dealrooms.css", "dealrooms.js")
CALENDAR = "calendar.ics"  # inside each deal: one event per milestone, stable UIDs


class DealroomsPlugin(BasePlugin[DealroomsConfig]):
    # Defining on_startup keeps this instance across rebuilds of `mkdocs serve`,
    # which is what lets an edit re-render only the deal that changed.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.is_serve = command == "serve"
        self.catalog: Catalog | None = None
        self.rendered: dict[str, tuple[str, dict[str, bytes]]] = {}
        self.index_rows: site_pages.RowCache = {}

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        if not hasattr(self, "is_serve"):  # on_startup is skipped when MkDocs is driven through its API
            self.on_startup(command="build", dirty=False)
        root = Path(config.config_file_path).parent
        self.deals_dir = (root / self.config.deals_dir).resolve()
        cache_dir = (root / self.config.cache_dir).resolve()
        try:
            self.today = today()
            shard_text = os.environ.get("DEALROOMS_SHARD") or self.config.shard
            self.shard = parse_shard(shard_text) if shard_text else None
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        if self.catalog is None or (self.catalog.deals_dir, self.catalog.shard) != (self.deals_dir, self.shard):
            self.catalog = Catalog(self.deals_dir, cache_dir / "catalog.pickle", self.shard)
        # Builds are new processes that start from an empty site folder: finished
        # deals are kept on disk. `serve` keeps them in memory instead.
        self.outcache = None if self.is_serve else OutputCache(cache_dir / "output")
        try:
            self.thresholds = Thresholds.from_options(self.config.health)
            self.stages = stages_from_options(self.config.stages)
        except DealroomsError as exc:
            raise PluginError(f"mkdocs.yml: plugins.dealrooms: {exc}") from None
        overrides = [Path(config.theme.custom_dir) / "dealrooms"] if config.theme.custom_dir else []
        self.fragment_env = make_env([d.parent for d in overrides])
        for asset in SHARED_ASSETS:
            target = config.extra_css if asset.endswith(".css") else config.extra_javascript
            if f"assets/dealrooms/{asset}" not in target:
                target.append(f"assets/dealrooms/{asset}")
        self.protection: Protection | None = None  # set by on_pre_build for protected builds
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        assert self.catalog is not None
        started = time.perf_counter()
        try:
            changes = self.catalog.refresh()
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        for slug in changes.changed + changes.removed:
            self.rendered.pop(slug, None)
        if changes:
            self.catalog.save()
        problems = self.catalog.problems
        if problems and not self.is_serve:
            lines = [str(p) for slug_problems in problems.values() for p in slug_problems]
            raise PluginError(
                f"{len(lines)} problem(s) in {len(problems)} deal file(s); nothing was built:\n" + "\n".join(lines)
            )
        for slug_problems in problems.values():
            for p in slug_problems:
                log.error(str(p))
        log.debug("loaded %d deal(s) in %.3f s", len(self.catalog.entries), time.perf_counter() - started)
        # Protected builds: every password checked and every key derived before anything is written.
        # `mkdocs serve` never needs passwords and serves plain pages.
        self.protection = Protection.prepare(self.config, config, self.catalog) if self.config.protect and not self.is_serve else None
        if self.outcache is not None:  # MkDocs empties the site folder next; keep the deals' folders for reuse
            self.outcache.hold(Path(config.site_dir), self.catalog.entries)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        # Nothing from the deals folder is published as-is (YAML, logos, templates).
        kept = Files([f for f in files if not _is_inside(Path(f.abs_src_path or ""), self.deals_dir)])
        assert self.catalog is not None
        # The rep's index replaces this page under serve (see _publish),
        # so the root search index never mentions a deal.
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
        self.theme_env = env
        return env

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        assert self.catalog is not None
        self.site_dir = Path(config.site_dir)
        self.mkdocs_config = config
        self.search = _search_config(config)
        custom = [Path(config.theme.custom_dir)] if config.theme.custom_dir else []
        self.signature = _templates_signature([TEMPLATES, ASSETS, *custom])
        self._publish(list(self.catalog.entries))

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
        self.watcher = DealWatcher(self.deals_dir, self._live_update)
        self.watcher.start()
        return server

    def on_shutdown(self) -> None:
        watcher = getattr(self, "watcher", None)
        if watcher:
            watcher.stop()

    # --- helpers ------------------------------------------------------------

    def _live_update(self, touched: set[Path] | None = None) -> None:
        """Under serve: re-render only the deals whose files changed (``touched``: what the watcher saw)."""
        assert self.catalog is not None
        started = time.perf_counter()
        changes = self.catalog.refresh(touched)
        if not changes:
            return
        for slug in changes.changed + changes.removed:
            self.rendered.pop(slug, None)
        for slug in changes.changed:
            for problem in self.catalog.problems.get(slug, []):
                log.error(str(problem))
        with self.live.updating():
            for slug in changes.removed:
                shutil.rmtree(self.site_dir / slug, ignore_errors=True)
            self._publish(list(changes.changed))
        log.info("live update of %s in %.0f ms", ", ".join(changes.changed + changes.removed),
                 1000 * (time.perf_counter() - started))

    def _publish(self, slugs: list[str]) -> None:
        """Write these deals into the site (reusing unchanged renders), and the rep's index."""
        assert self.catalog is not None
        started = time.perf_counter()
        rendered = reused = 0
        config = self.mkdocs_config
        for slug in slugs:
            entry = self.catalog.entries.get(slug)
            if entry is None:
                continue
            target = self.site_dir / slug
            if entry.deal is None:
                shutil.rmtree(target, ignore_errors=True)
                _write_tree(target, site_pages.error_pages(self.theme_env, config, slug, entry.problems))
                continue
            key = self._render_key(entry.deal)
            if self.outcache is not None:
                if self.outcache.lookup(slug, key) is not None:
                    reused += 1
                else:
                    self.outcache.store(slug, key, [], self._render_deal(entry.deal, config, self.search))
                    rendered += 1
                self.outcache.place(slug, target)  # one write per file: cache and site share it
                continue
            cached = self.rendered.get(slug)
            if cached and cached[0] == key:
                files = cached[1]
                reused += 1
            else:
                files = self._render_deal(entry.deal, config, self.search)
                self.rendered[slug] = (key, files)
                rendered += 1
                shutil.rmtree(target, ignore_errors=True)  # no stale files from an earlier render
            _write_tree(target, files)
        if self.outcache is not None:
            self.outcache.release()
            if self.shard is None:
                self.outcache.forget_others(set(self.catalog.entries))
            self.outcache.save()
        if self.is_serve:
            body = site_pages.rep_index(
                self.fragment_env, self.catalog, self.today, self.thresholds, self.stages, self.index_rows
            )
            (self.site_dir / "index.html").write_bytes(render_root_page(self.theme_env, config, "Deal rooms", body))
        log.info("rendered %d deal(s), reused %d unchanged, in %.2f s", rendered, reused, time.perf_counter() - started)

    def _render_key(self, loaded: LoadedDeal) -> str:
        parts = [loaded.digest, self.today.isoformat(), __version__, repr(self.thresholds), repr(self.stages), self.signature,
                 self.protection.fingerprint(loaded.slug) if self.protection else "plain"]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _render_deal(self, loaded: LoadedDeal, config: MkDocsConfig, search: dict) -> dict[str, bytes]:
        deal = loaded.deal
        logo_file = None
        files: dict[str, bytes] = {}
        if deal.deal.buyer.logo:
            logo_path = (loaded.path.parent / deal.deal.buyer.logo).resolve()
            logo_file = f"assets/logo{logo_path.suffix.lower()}"
            files[logo_file] = logo_path.read_bytes()
        plan = schedule(deal, self.today, self.thresholds)
        view = build_view(loaded.slug, deal, plan, logo=logo_file)
        files[CALENDAR] = deal_calendar(loaded.slug, deal, plan)
        bodies = render_pages(view, self.fragment_env, calendar_file=CALENDAR)
        chrome = Chrome(
            slug=loaded.slug,
            site_name=deal.deal.buyer.name,
            seller=deal.deal.seller.name,
            logo_file=logo_file,
            generated_on=self.today.isoformat(),
        )
        files.update(render_shell(self.theme_env, config, chrome, bodies, search))
        if self.protection:
            files = self.protection.seal(loaded.slug, files)  # nothing deal-specific stays readable
        return files


def _search_config(config: MkDocsConfig) -> dict:
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    options = getattr(plugin, "config", {}) or {}
    keys = ("lang", "separator", "pipeline", "fields")
    found = {k: options[k] for k in keys if k in options and options[k] is not None}
    return found or {"lang": ["en"], "separator": r"[\s\-]+", "pipeline": ["stopWordFilter"]}


def _templates_signature(roots: list[Path]) -> str:
    """Any change to templates, assets or theme overrides invalidates rendered deals."""
    stamps = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for name in names:
                st = os.stat(os.path.join(dirpath, name))
                stamps.append(f"{dirpath}/{name}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(stamps)).encode()).hexdigest()


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
