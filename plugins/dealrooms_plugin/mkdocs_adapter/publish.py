"""``dealrooms publish``: build every deal into a fresh folder, then swap it in atomically.

The build runs through the MkDocs API into a new folder beside ``site_dir``.
Only a successful build replaces the published site: on Linux the two folders
are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call, elsewhere by two
renames in quick succession. A failed build (invalid deal, missing password)
leaves the previous output untouched. Deals that no longer exist vanish with
the old folder. ``--zip`` writes one self-contained ``<slug>.zip`` per deal
(the deal's folder plus the shared assets) for upload to any static host.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import DealroomsError, display_path

DEFAULT_ZIP_DIR = "dist"


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
    config_file: Path, *, make_zips: bool = False, zip_dir: Path | None = None, shard: str | None = None
) -> Report:
    """Build every deal (or shard ``K/N`` of them) and swap the result into ``site_dir``; raise DealroomsError on failure."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    started = time.perf_counter()
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
        if shard:
            dealrooms = config.plugins.get("dealrooms")
            if dealrooms is None:
                raise DealroomsError(f"{display_path(config_file)}: the dealrooms plugin is not enabled")
            dealrooms.config["shard"] = shard
        target = Path(config.site_dir).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.publish-", dir=target.parent))
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read the site
        config["site_dir"] = str(staging)
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
        logger.removeHandler(collector)

    plugin = config.plugins.get("dealrooms")
    deals = sorted(plugin.catalog.deals) if plugin is not None and plugin.catalog is not None else []
    protection = getattr(plugin, "protection", None)
    old = _deal_folders(target) if target.is_dir() else set()
    base = urlsplit(config.site_url).path if config.site_url else "/"
    base = base if base.endswith("/") else base + "/"
    reports = []
    for slug in deals:
        access = protection.access.get(slug) if protection else None
        protected = bool(access and access.protected)
        source = access.source if access and access.source else ("protect: false" if not protection else "-")
        files = [p for p in (staging / slug).rglob("*") if p.is_file()]
        reports.append(DealReport(slug, f"{base}{slug}/", protected, source, len(files), sum(p.stat().st_size for p in files)))

    _swap(staging, target)
    report = Report(target, reports, sorted(old - set(deals)), warnings=collector.lines(logging.WARNING))
    if make_zips:
        folder = zip_dir or Path(config.config_file_path).parent / DEFAULT_ZIP_DIR
        report.zips = write_zips(target, deals, folder, stale=report.removed)
    report.seconds = time.perf_counter() - started
    return report


def _deal_folders(site: Path) -> set[str]:
    """Folders of a built site that hold a deal (all but the shared assets and search)."""
    return {p.name for p in site.iterdir() if p.is_dir() and p.name not in ("assets", "search") and (p / "index.html").is_file()}


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


def write_zips(site: Path, deals: list[str], folder: Path, *, stale: list[str] = ()) -> list[Path]:
    """One ``<slug>.zip`` per deal: its folder plus everything shared, ready to upload as a site."""
    folder.mkdir(parents=True, exist_ok=True)
    others = set(deals)
    shared = [p for p in site.rglob("*") if p.is_file() and p.relative_to(site).parts[0] not in others]
    out = []
    for slug in deals:
        target = folder / f"{slug}.zip"
        tmp = folder / f".{slug}.zip.tmp"
        members = sorted(shared + [p for p in (site / slug).rglob("*") if p.is_file()])
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in members:
                archive.write(path, path.relative_to(site).as_posix())
        os.replace(tmp, target)
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
