"""The ``dealrooms`` MkDocs plugin: a thin adapter over the engine.

Hooks check ``enabled`` and hand work to the engine (catalog, plan, view,
render) and to :mod:`.shell`, which wraps page bodies in Material's shell.
Every deal is validated before anything is written; a deal whose inputs are
unchanged is not rendered again (its previous bytes are reused).

What a build writes is known in advance (:mod:`..outputs`): files from the
deals folder are never published as they are (classified by the path as
written, so a symbolic link cannot smuggle one out), and after the build any
file that is not part of the output is removed and fails the build. One build
or publish runs at a time per project (:mod:`..buildlock`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files

from .. import __version__
from ..buildlock import BuildLock
from ..catalog import Catalog, parse_shard
from ..errors import DealroomsError
from ..load import LoadedDeal
from ..outcache import OutputCache
from ..outputs import AllowedOutputs, settle, stray_message
from ..calendar import deal_calendar
from ..plan import Thresholds, schedule, stages_from_options
from ..render import make_env, render_pages
from ..today import today
from ..view import build_view
from . import pages as site_pages
from .config import DealroomsConfig
from .live import DealWatcher, LiveReload
from .protection import Protection
from .shell import Chrome, install_shell, render_root_page, render_shell, with_policy

log = get_plugin_logger("dealrooms")
PACKAGE = Path(__file__).resolve().parent.parent  # code, templates and assets: part of every render key
ASSETS = PACKAGE / "assets"
SHARED_ASSETS = ("dealrooms.css", "dealrooms.js")
CALENDAR = "calendar.ics"  # inside each deal: one event per milestone, stable UIDs
NO_LOGO = "assets/logo.svg"  # sealed deals without a logo get an empty one: the blob count says nothing
SEARCH_OUTPUTS = ("search/search_index.json",)  # what MkDocs' and Material's search plugins write
OUTPUT_LAYOUT = "layout-2"  # part of every render key: changes when a deal's set of files changes
CATALOG_FILE = "catalog.json"
LEGACY_CATALOG = "catalog.pickle"  # older versions: plain-text deal data, never read again


class DealroomsPlugin(BasePlugin[DealroomsConfig]):
    # Defining on_startup keeps this instance across rebuilds of `mkdocs serve`,
    # which is what lets an edit re-render only the deal that changed.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.is_serve = command == "serve"
        self.catalog: Catalog | None = None
        self.rendered: dict[str, tuple[str, dict[str, bytes]]] = {}
        self.index_rows: site_pages.RowCache = {}
        self.lock: BuildLock | None = None
        self.allowed = AllowedOutputs()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        if not hasattr(self, "is_serve"):  # on_startup is skipped when MkDocs is driven through its API
            self.on_startup(command="build", dirty=False)
        root = Path(os.path.abspath(Path(config.config_file_path).parent))
        # As written, links not resolved: files are classified by where they sit in the project.
        self.deals_dir = Path(os.path.abspath(root / self.config.deals_dir))
        cache_dir = self.cache_dir(config)
        if not self.is_serve:
            # Before anything else: MkDocs empties the site folder right after on_pre_build.
            self.lock = BuildLock(cache_dir)
            self.lock.acquire(notify=log.info)  # not a warning: --strict would fail after the wait
        try:
            self.today = today()
            shard_text = os.environ.get("DEALROOMS_SHARD") or self.config.shard
            self.shard = parse_shard(shard_text) if shard_text else None
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        if self.catalog is None or (self.catalog.deals_dir, self.catalog.shard) != (self.deals_dir, self.shard):
            self.catalog = Catalog(self.deals_dir, cache_dir / CATALOG_FILE, self.shard, project_dir=root)
        if not self.is_serve:
            _private_cache(cache_dir)
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
        # One time for every file of the output: unchanged deals must not tell when they last changed.
        self.build_time = build_time()
        self.allowed = AllowedOutputs()
        reserved = self.allowed.collisions(self.catalog.entries)
        if reserved and not self.is_serve:  # the preview keeps running: _publish skips such a deal
            raise PluginError(_collision_message(reserved, self.deals_dir))
        if self.outcache is not None:  # MkDocs empties the site folder next; keep the deals' folders for reuse
            self.outcache.hold(Path(config.site_dir), self.catalog.entries)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        # Nothing from the deals folder is published as-is (YAML, logos, templates), judged by
        # the path as written *and* by the link's target: a link in the deals folder to a file
        # elsewhere, or a link elsewhere to a deal file, stays out of the site either way.
        kept = Files([f for f in files if not f.abs_src_path or not self._from_deals(f.abs_src_path)])
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
        # Everything MkDocs writes is known now: the files collected (theme assets, root pages,
        # shared assets) and the pages rendered from templates.
        shared = {f.dest_uri for f in files if f.inclusion.is_included() or self.is_serve}
        for template in [*config.theme.static_templates, *config.extra_templates]:
            shared.add(template)
            if template == "sitemap.xml":
                shared.add("sitemap.xml.gz")
        shared.update(SEARCH_OUTPUTS)
        self.allowed = AllowedOutputs(frozenset(shared))
        assert self.catalog is not None
        taken = self.allowed.collisions(self.catalog.entries)
        if taken and not self.is_serve:  # checked before MkDocs writes anything
            raise PluginError(_collision_message(taken, self.deals_dir))
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
        assert self.catalog is not None
        self.site_dir = Path(config.site_dir)
        self.mkdocs_config = config
        self.search = _search_config(config)
        custom = [Path(config.theme.custom_dir)] if config.theme.custom_dir else []
        self.signature = _templates_signature([PACKAGE, *custom])
        self._publish(list(self.catalog.entries))

    @event_priority(-100)  # after every other plugin (search writes its index in on_post_build)
    def _check_output(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        try:
            when = None if self.is_serve else self.build_time
            strays = settle(Path(config.site_dir), self.allowed, when=when)
            if strays and not self.is_serve:
                raise PluginError(stray_message(strays, Path(config.site_dir)))
            for path in strays:  # the preview stays up; the file is gone all the same
                log.warning("removed %s from the preview: not part of the build's output", path)
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
        self.watcher = DealWatcher(self.deals_dir, self._live_update)
        self.watcher.start()
        return server

    def on_shutdown(self) -> None:
        watcher = getattr(self, "watcher", None)
        if watcher:
            watcher.stop()
        self._release()

    def cache_dir(self, config: MkDocsConfig) -> Path:
        """The project's cache folder (validated deals, finished output, the build lock)."""
        return Path(os.path.abspath(Path(config.config_file_path).parent / self.config.cache_dir))

    # --- helpers ------------------------------------------------------------

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release_all()

    def _from_deals(self, source: str) -> bool:
        """Whether a collected file lies in the deals folder, as written or through links."""
        return _within(source, self.deals_dir) or _within(os.path.realpath(source), os.path.realpath(self.deals_dir))

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
            if self.allowed.collisions([slug]):  # never replace a shared folder (live edits; builds fail earlier)
                log.error(_collision_message([slug], self.deals_dir))
                continue
            target = self.site_dir / slug
            if entry.deal is None:
                shutil.rmtree(target, ignore_errors=True)
                pages = site_pages.error_pages(self.theme_env, config, slug, entry.problems)
                self._allow(slug, pages)
                _write_tree(target, pages)
                continue
            key = self._render_key(entry.deal)
            if self.outcache is not None:
                kept = self.outcache.lookup(slug, key)
                if kept is not None:
                    reused += 1
                    self._allow(slug, kept.files)
                else:
                    files = self._render_deal(entry.deal, config, self.search)
                    self.outcache.store(slug, key, [], files)
                    self._allow(slug, files)
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
            self._allow(slug, files)
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

    def _allow(self, slug: str, files: Iterable[str]) -> None:
        self.allowed.deals[slug] = frozenset(files)

    def _render_key(self, loaded: LoadedDeal) -> str:
        parts = [OUTPUT_LAYOUT, loaded.digest, self.today.isoformat(), __version__, repr(self.thresholds), repr(self.stages), self.signature,
                 self.protection.fingerprint(loaded.slug) if self.protection else "plain"]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _render_deal(self, loaded: LoadedDeal, config: MkDocsConfig, search: dict) -> dict[str, bytes]:
        deal = loaded.deal
        logo_file = None
        files: dict[str, bytes] = {}
        if loaded.logo is not None:  # checked when loaded, relative to the file that declares it
            logo_file = f"assets/logo{loaded.logo.suffix.lower()}"
            files[logo_file] = loaded.logo.read_bytes()
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
        files.update(render_shell(self.theme_env, config, chrome, bodies, search, preview=self.is_serve))
        if self.protection and self.protection.keys.get(loaded.slug):
            files.setdefault(NO_LOGO, b"")  # every sealed deal has the same set of files
            files = self.protection.seal(loaded.slug, files)  # nothing deal-specific stays readable
        return files


def _search_config(config: MkDocsConfig) -> dict:
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    options = getattr(plugin, "config", {}) or {}
    keys = ("lang", "separator", "pipeline", "fields")
    found = {k: options[k] for k in keys if k in options and options[k] is not None}
    return found or {"lang": ["en"], "separator": r"[\s\-]+", "pipeline": ["stopWordFilter"]}


def _templates_signature(roots: list[Path]) -> str:
    """Any change to the package's code, templates and assets, or to theme overrides, invalidates rendered deals.

    By content and relative path, never modification times or absolute
    paths: touching a file or a fresh checkout changes nothing.
    """
    digest = hashlib.sha256()
    for root in roots:
        for dirpath, dirnames, names in sorted(os.walk(root)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(names):
                path = Path(dirpath) / name
                digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        digest.update(b"\1")
    return digest.hexdigest()


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in ``folder``, comparing the paths as written (no link is followed)."""
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def build_time() -> int:
    """The build's time for every output file: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())


def _private_cache(cache_dir: Path) -> None:
    """The cache holds deal data: readable by its owner only; the old pickle cache goes."""
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(cache_dir, 0o700)
    (cache_dir / LEGACY_CATALOG).unlink(missing_ok=True)


def _collision_message(slugs: list[str], deals_dir: Path) -> str:
    names = ", ".join(f"{deals_dir / slug}.yml" for slug in slugs)
    return (
        f"{names}: the deal's web address /{slugs[0]}/ is taken by the site's shared files "
        "(theme assets, search, root pages); building it would replace them in every deal room. "
        "Rename the deal file, e.g. acme-assets.yml; nothing was built."
    )


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
