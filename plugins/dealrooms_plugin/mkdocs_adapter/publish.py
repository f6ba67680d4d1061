"""``dealrooms publish``: build every deal into a fresh folder, then swap it in atomically.

The build runs through the MkDocs API into a new folder beside ``site_dir``.
Only a successful build replaces the published site: on Linux the two folders
are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call, elsewhere by two
renames in quick succession. A failed build (invalid deal, missing password)
leaves the previous output untouched. Deals that no longer exist vanish with
the old folder. ``--zip`` writes one self-contained ``<slug>.zip`` per deal
(the deal's folder plus the shared assets) for upload to any static host.

A publish holds the project's build lock from start to end, so two of them
(or a publish and a build) run one after the other. Staging folders left by
a publish that was killed are removed by the next one. Every file in a zip
must be part of the build's output (:mod:`..outputs`), and carries the
build's time, so a zip does not tell when each deal last changed.

``dealrooms publish SLUG...`` publishes only the named deals into a site
that is already there: the build runs as for every deal (every deal is
checked, unchanged ones are reused from the output cache), then each named
deal's folder is swapped into the site on its own, atomically, and nothing
else in the site is touched (bytes and modification times). The site's
shared files (theme, assets, root pages) must be those of this build: a
change there concerns every deal, so it refuses and asks for a full publish.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..buildlock import BuildLock
from ..errors import DealroomsError, display_path
from ..load import discover_deals, slug_of
from ..outputs import AllowedOutputs

DEFAULT_ZIP_DIR = "dist"
# Root files whose bytes change with the build's date alone (the sitemap's lastmod): not a reason to refuse
# publishing some deals, and left as they are in the site.
DATED_SHARED = frozenset({"sitemap.xml", "sitemap.xml.gz"})


@dataclass(frozen=True)
class DealReport:
    slug: str
    url: str
    protected: bool
    source: str
    files: int
    size: int


@dataclass
class Report:
    site_dir: Path
    deals: list[DealReport]
    removed: list[str]
    zips: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    only: tuple[str, ...] = ()  # publish SLUG...: the named deals; every other deal of the site was left as it was
    kept: list[str] = field(default_factory=list)  # with ``only``: the other deals of the site, untouched
    rendered: list[str] = field(default_factory=list)  # deals rendered by this build (the others came from the cache)


class _Collector(logging.Handler):
    """Keeps MkDocs's warnings and errors (the API prints nothing by itself)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


def publish(
    config_file: Path, *, make_zips: bool = False, zip_dir: Path | None = None, shard: str | None = None,
    only: tuple[str, ...] = (),
) -> Report:
    """Build every deal (or shard ``K/N`` of them) and swap the result into ``site_dir``; raise DealroomsError on failure.

    ``only``: publish just these deals (by slug) into the existing site, each
    folder replaced whole, everything else in the site left as it is. An
    unknown slug, or ``only`` together with ``shard``, is refused before
    anything is built.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    from .config import plugin_settings

    started = time.perf_counter()
    only = tuple(dict.fromkeys(only))  # named twice is published once
    if only and shard:
        raise DealroomsError(
            f"--shard and deal names do not go together: a shard publishes its share of every deal, "
            f"deal names publish just those ({', '.join(only)}); use one or the other"
        )
    config_file = Path(config_file)
    if not config_file.is_file():
        raise DealroomsError(f"{display_path(config_file)}: not found; run this in the folder with mkdocs.yml or pass -f")
    collector = _Collector()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    try:
        try:
            config = load_config(str(config_file))
        except (ConfigurationError, Abort) as exc:
            raise DealroomsError(f"{display_path(config_file)}: {exc}") from None
        dealrooms = config.plugins.get("dealrooms")
        if dealrooms is None:
            raise DealroomsError(f"{display_path(config_file)}: the dealrooms plugin is not enabled")
        if only:
            settings = plugin_settings(dealrooms.config)
            _check_known(only, discover_deals(settings.deals_dir, project_dir=settings.root))
        lock = BuildLock(dealrooms.cache_dir(config))
        lock.acquire(notify=lambda message: print(message, file=sys.stderr, flush=True))
        # MkDocs keeps one instance of the plugin per process: the request must not outlive this publish.
        dealrooms.shard_request = shard
        try:
            return _publish_locked(config, dealrooms, collector, build, started, make_zips, zip_dir, only)
        finally:
            dealrooms.shard_request = None
            lock.release_all()
    finally:
        logger.removeHandler(collector)


def _publish_locked(config, plugin, collector: _Collector, build, started: float,  # type: ignore[no-untyped-def]
                    make_zips: bool, zip_dir: Path | None, only: tuple[str, ...] = ()) -> Report:
    """The publish itself, while this process holds the project's build lock."""
    target = Path(config.site_dir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)  # no other publish runs now: what is left was killed
    old = _deal_folders(target) if target.is_dir() else set()
    # The build links unchanged deals' kept output into the staging folder: the same files (inodes)
    # as in the published site, whose times the build then sets. The deals left out keep theirs.
    times = _file_times(target, old - set(only)) if only else {}
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.publish-", dir=target.parent))
    os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read the site
    config["site_dir"] = str(staging)
    try:
        try:
            build(config)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, KeyboardInterrupt):
                raise
            errors = collector.lines(logging.ERROR) or [str(exc) or type(exc).__name__]
            raise DealroomsError(
                f"the build failed; the published site in {display_path(target)} was left untouched.\n"
                + "\n".join(errors)
            ) from None
    finally:
        _restore_times(times)

    result = plugin.last_build  # set by every finished build
    if only:
        try:
            return _publish_only(config, result, staging, target, old, only, collector, started, make_zips, zip_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    deals = list(result.deals)
    reports = _deal_reports(config, result, staging, deals)
    _swap(staging, target)
    report = Report(target, reports, sorted(old - set(deals)), warnings=collector.lines(logging.WARNING),
                    rendered=list(result.published.rendered))
    if make_zips:
        folder = zip_dir or Path(config.config_file_path).parent / DEFAULT_ZIP_DIR
        report.zips = write_zips(target, deals, folder, stale=report.removed, allowed=result.allowed,
                                 when=result.build_time)
    report.seconds = time.perf_counter() - started
    return report


def _deal_reports(config, result, site: Path, deals: list[str]) -> list[DealReport]:  # type: ignore[no-untyped-def]
    """The table's rows: each deal's address, protection and size in ``site``."""
    base = urlsplit(config.site_url).path if config.site_url else "/"
    base = base if base.endswith("/") else base + "/"
    reports = []
    for slug in deals:
        access = result.access.get(slug)
        protected = bool(access and access.protected)
        source = access.source if access and access.source else ("protect: false" if not result.access else "-")
        files = [p for p in (site / slug).rglob("*") if p.is_file()]
        reports.append(DealReport(slug, f"{base}{slug}/", protected, source, len(files), sum(p.stat().st_size for p in files)))
    return reports


def _publish_only(config, result, staging: Path, target: Path, old: set[str], only: tuple[str, ...],  # type: ignore[no-untyped-def]
                  collector: _Collector, started: float, make_zips: bool, zip_dir: Path | None) -> Report:
    """Move the named deals' folders from the finished build in ``staging`` into the published site.

    Everything is checked, and the zips written, before the first folder
    moves: a refusal leaves the site as it was.
    """
    reports = _deal_reports(config, result, staging, list(only))
    if target.is_dir():
        differing = _shared_differences(staging, target, result.allowed.shared)
        if differing:
            raise DealroomsError(
                f"{display_path(target)}: the site's shared files differ from this build's "
                f"({', '.join(differing[:5])}{' ...' if len(differing) > 5 else ''}); Dealrooms, the theme or "
                f"mkdocs.yml changed, which concerns every deal. Nothing was published: run `dealrooms publish` "
                f"without deal names to publish them all."
            )
    report = Report(target, reports, [], warnings=collector.lines(logging.WARNING), only=only,
                    kept=sorted(old - set(only)), rendered=list(result.published.rendered))
    if make_zips:
        folder = zip_dir or Path(config.config_file_path).parent / DEFAULT_ZIP_DIR
        report.zips = write_zips(staging, list(only), folder, allowed=result.allowed, when=result.build_time)
    if not target.is_dir():
        # Nothing published yet: the site is this build's shared files and the named deals.
        for slug in set(result.deals) - set(only):
            shutil.rmtree(staging / slug)
        os.rename(staging, target)
    else:
        for slug in only:
            _replace_folder(staging / slug, target / slug)
    report.seconds = time.perf_counter() - started
    return report


def _check_known(only: tuple[str, ...], deal_files: list[Path]) -> None:
    """Refuse names that are not deals of the project, listing the deals (as ``dealrooms password`` does)."""
    known = sorted({slug_of(p) for p in deal_files})
    unknown = [slug for slug in only if slug not in known]
    if unknown:
        names = ", ".join(repr(slug) for slug in unknown)
        raise DealroomsError(f"unknown deal{'s' if len(unknown) > 1 else ''} {names} (deals are: {', '.join(known) or 'none'}); "
                             "nothing was published")


def _shared_differences(staging: Path, site: Path, shared: frozenset[str]) -> list[str]:
    """The shared files (theme, assets, root pages) that the site lacks or holds with other bytes."""
    out = []
    for path in sorted(shared - DATED_SHARED):
        built, there = staging / path, site / path
        if not built.is_file():
            continue  # listed by MkDocs but not written (e.g. a page excluded from this build)
        if there.is_symlink() or not there.is_file() or there.read_bytes() != built.read_bytes():
            out.append(path)
    return out


def _replace_folder(new: Path, old: Path) -> None:
    """Put the folder ``new`` at ``old`` in one step where the system can (the old one is deleted)."""
    if not old.exists():
        os.rename(new, old)
    elif _exchange(new, old):
        shutil.rmtree(new, ignore_errors=True)  # now holds the previous folder
    else:
        aside = old.with_name(f".{old.name}.old-{os.getpid()}")
        os.rename(old, aside)
        os.rename(new, old)
        shutil.rmtree(aside, ignore_errors=True)


def _file_times(site: Path, slugs: set[str]) -> dict[str, tuple[int, int]]:
    """Access and modification times (ns) of everything in these deals' folders of ``site``."""
    times = {}
    for slug in slugs:
        for where, _, names in os.walk(site / slug):  # every folder is a `where` once
            for path in [where, *(os.path.join(where, name) for name in names)]:
                st = os.stat(path, follow_symlinks=False)
                times[path] = (st.st_atime_ns, st.st_mtime_ns)
    return times


def _restore_times(times: dict[str, tuple[int, int]]) -> None:
    for path in times:
        try:
            os.utime(path, ns=times[path], follow_symlinks=False)
        except OSError:
            pass  # gone meanwhile (not ours to recreate)


def _deal_folders(site: Path) -> set[str]:
    """Folders of a built site that hold a deal (all but the shared assets and search)."""
    return {p.name for p in site.iterdir() if p.is_dir() and p.name not in ("assets", "search") and (p / "index.html").is_file()}


def _remove_stale(target: Path) -> None:
    """Staging and old folders of publishes that were killed before they cleaned up."""
    for pattern in (f".{target.name}.publish-*", f".{target.name}.old-*"):
        for leftover in target.parent.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2 RENAME_EXCHANGE); False when unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` where ``target`` is; the old output is deleted afterwards."""
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous site
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def write_zips(
    site: Path, deals: list[str], folder: Path, *, allowed: AllowedOutputs, when: float,
    stale: list[str] = (),  # type: ignore[assignment]
) -> list[Path]:
    """One ``<slug>.zip`` per deal: its folder plus everything shared, ready to upload as a site.

    Each zip holds exactly the build's shared files and that deal's own ones
    (``allowed``), every member dated ``when``; a file of the site that is not
    part of the build's output stops it before any zip is written.
    """
    found = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() or p.is_symlink()}
    strays = sorted(path for path in found if not allowed.allows(path) or (site / path).is_symlink())
    if strays:
        raise DealroomsError(
            f"{display_path(site)}: {len(strays)} file(s) are not part of the build's output; no zip was written:\n"
            + "\n".join(f"  {path}" for path in strays[:20])
            + "\nRun `dealrooms publish` again: a fresh build replaces the folder."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".*.zip.tmp"):  # from a publish that was killed while writing
        leftover.unlink(missing_ok=True)
    stamp = time.localtime(max(when, 315532800))[:6]  # zip dates start in 1980
    out = []
    for slug in deals:
        target = folder / f"{slug}.zip"
        tmp = folder / f".{slug}.zip.tmp"
        members = [path for path in allowed.members(slug) if path in found]
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in members:
                info = zipfile.ZipInfo(path, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, (site / path).read_bytes(), compresslevel=6)
        os.replace(tmp, target)
        os.utime(target, (when, when))
        out.append(target)
    for slug in stale:
        (folder / f"{slug}.zip").unlink(missing_ok=True)
    return out


def format_report(report: Report) -> str:
    """The table ``dealrooms publish`` prints."""
    head = ("Deal", "URL path", "Protected", "Password source", "Files", "Size")
    rows = [(d.slug, d.url, "yes" if d.protected else "NO", d.source, str(d.files), _size(d.size)) for d in report.deals]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {4, 5}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(head), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]
    total = sum(d.size for d in report.deals)
    out.append(f"{len(report.deals)} deal(s), {_size(total)}, published to {display_path(report.site_dir)} in {report.seconds:.1f} s")
    if report.only:
        out.append(f"published only {', '.join(report.only)}; "
                   f"{len(report.kept)} other deal(s) in {display_path(report.site_dir)} left as they were")
    if report.removed:
        out.append(f"removed deleted deal(s): {', '.join(report.removed)}")
    unprotected = [d.slug for d in report.deals if not d.protected]
    if unprotected:
        out.append(f"NOT protected (anyone with the link can read them): {', '.join(unprotected)}")
    if report.zips:
        out.append(f"zips: {', '.join(display_path(z) for z in report.zips)}")
    return "\n".join(out)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
