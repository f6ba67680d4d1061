"""Every file a build may write, and a check of the output against that list.

A build knows exactly what it writes: the theme's assets and the root pages
MkDocs renders (shared by every deal), Dealrooms' shared assets, and each
deal's finished files. Anything else in the output got there by mistake: a
deal file or logo that a symbolic link smuggled past the filter, another
plugin's leftovers, an earlier build. On a static host it would be readable by
anyone, so a build that finds such a file removes it and fails, and ``publish
--zip`` refuses to pack one.

Deal folders sit at the site root, next to the shared folders: a deal whose
slug names a root file or folder would replace it (and break every deal), so
:meth:`AllowedOutputs.collisions` names such deals before anything is written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .load import RESERVED_SLUGS


@dataclass
class AllowedOutputs:
    """The files of one build's output, as POSIX paths relative to the site folder."""

    shared: frozenset[str] = frozenset()  # outside the deals' folders: theme, root pages, shared assets
    deals: dict[str, frozenset[str]] = field(default_factory=dict)  # slug -> paths inside its folder

    def roots(self) -> set[str]:
        """Names at the site root that belong to everything (``assets``, ``search``, ``index.html`` ...)."""
        return {path.split("/", 1)[0] for path in self.shared} | set(RESERVED_SLUGS)

    def collisions(self, slugs: Iterable[str]) -> list[str]:
        """The slugs whose folder would replace a shared file or folder."""
        roots = self.roots()
        return sorted(slug for slug in slugs if slug in roots)

    def allows(self, path: str) -> bool:
        """Whether ``path`` (relative to the site folder) is part of this build's output."""
        head, _, rest = path.partition("/")
        if rest and head in self.deals:
            return rest in self.deals[head]
        return path in self.shared

    def members(self, slug: str) -> list[str]:
        """What a self-contained copy of one deal holds: the shared files and its own."""
        return sorted(self.shared | {f"{slug}/{path}" for path in self.deals.get(slug, ())})

    def folders(self) -> set[str]:
        """Every folder that holds an allowed file ("" is the site folder itself)."""
        out = {""}
        paths = list(self.shared) + [f"{slug}/{p}" for slug, files in self.deals.items() for p in files]
        for path in paths:
            while "/" in path:
                path = path.rsplit("/", 1)[0]
                if path in out:
                    break
                out.add(path)
        return out


def settle(site: Path, allowed: AllowedOutputs, *, when: float | None = None, remove: bool = True) -> list[str]:
    """Check ``site`` against ``allowed``; return the stray paths (sorted).

    Strays are removed when ``remove`` is set, so a failed protected build
    never leaves one readable. With ``when``, every allowed file and folder
    gets that modification time: the output then says nothing about when
    each deal last changed (kept files are hard links shared with the output
    cache, whose copies get the same time; nothing reads those times).
    """
    folders = allowed.folders()
    strays: list[str] = []

    def walk(folder: Path, relative: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                path = f"{relative}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    if path in folders:
                        walk(Path(entry.path), path + "/")
                        if when is not None:
                            os.utime(entry.path, (when, when), follow_symlinks=False)
                    else:  # a whole folder nothing of this build lives in
                        strays.extend(_files_below(Path(entry.path), path + "/") or [path + "/"])
                        if remove:
                            _remove(Path(entry.path), is_dir=True)
                elif entry.is_file(follow_symlinks=False) and allowed.allows(path):
                    if when is not None:
                        os.utime(entry.path, (when, when), follow_symlinks=False)
                else:  # not ours, or a link (a build writes files, never links)
                    strays.append(path)
                    if remove:
                        _remove(Path(entry.path), is_dir=False)

    if site.is_dir():
        walk(site, "")
        if when is not None:
            os.utime(site, (when, when))
    return sorted(strays)


def _files_below(folder: Path, prefix: str) -> list[str]:
    out = []
    for where, dirs, names in os.walk(folder):
        inside = os.path.relpath(where, folder).replace(os.sep, "/")
        inside = "" if inside == "." else inside + "/"
        out.extend(f"{prefix}{inside}{name}" for name in names + [d for d in dirs if os.path.islink(os.path.join(where, d))])
    return out


def _remove(path: Path, *, is_dir: bool) -> None:
    if is_dir:
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def stray_message(strays: list[str], site: Path, *, limit: int = 20) -> str:
    """The error for files a build did not produce (what, where, and why they matter)."""
    shown = "\n".join(f"  {path}" for path in strays[:limit])
    more = f"\n  ... and {len(strays) - limit} more" if len(strays) > limit else ""
    return (
        f"{len(strays)} file(s) in {site} are not part of this build's output and were removed:\n{shown}{more}\n"
        "Every file of the site must come from the build (theme, root pages, deals); a deal file, logo or folder "
        "reached through a symbolic link, another plugin's output or an old file would be public on the host. "
        "Remove the link or plugin that puts it there and build again."
    )
