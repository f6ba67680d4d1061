"""Builds that cannot lose a deal (issue 10, finding 14): one build or publish at a
time per project, a killed build leaves the next one a complete site, and
leftovers of killed publishes are cleaned."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.generate import write_deals
from buildutil import set_plugin_options
from dealrooms_plugin.buildlock import BuildLock

PUBLISH = [sys.executable, "-c", "from dealrooms_plugin.cli import main; main()", "publish", "--zip"]
BUILD = [sys.executable, "-m", "mkdocs", "build"]


def env(**extra: str) -> dict[str, str]:
    """The environment of a build process: this test's (its pinned today), plus ``extra``."""
    return dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONUNBUFFERED="1", **extra)


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def deal_folders(site: Path) -> int:
    return sum(1 for p in site.glob("*/index.html") if p.parent.name.startswith("deal-")) if site.is_dir() else 0


def many_deals(project: Path, count: int) -> None:
    set_plugin_options(project, protect=False)
    write_deals(project / "dealrooms", count)


def run(command: list[str], project: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=project, env=env(**extra), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def kill_part_way(project: Path, **extra: str) -> None:
    """Start `mkdocs build` and SIGKILL it once some, not all, deals are in the site.

    Deals count only once MkDocs has emptied the site and written its own pages
    (a new ``404.html``): before that, the folders are the previous build's.
    """
    started = time.time() - 1
    proc = subprocess.Popen(BUILD, cwd=project, env=env(**extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    site = project / "site"
    deadline = time.monotonic() + 300

    def part_way() -> bool:
        try:
            fresh = (site / "404.html").stat().st_mtime >= started
        except OSError:
            return False
        return fresh and deal_folders(site) >= 5

    try:
        while not part_way():
            assert proc.poll() is None, f"the build ended before it could be killed:\n{proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no deal appeared in the site"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()


@pytest.mark.parametrize("previous_build", [False, True], ids=["first-build", "rebuild"])
def test_a_build_killed_part_way_leaves_the_next_build_a_complete_site(
    project: Path, tmp_path: Path, previous_build: bool
) -> None:
    many_deals(project, 120)
    clean = tmp_path / "clean"
    shutil.copytree(project, clean)
    if previous_build:
        # The killed build renders every deal for another day while the previous build's deals
        # are moved aside; the next build is for the first day again, so it may reuse nothing
        # the killed build left.
        run(BUILD, project)
        kill_part_way(project, DEALROOMS_TODAY="2026-11-20")
    else:
        kill_part_way(project)
    killed = deal_folders(project / "site")
    assert 5 <= killed < 123, f"{killed} deal(s) in the site: the kill came too late to test anything"

    run(BUILD, project)
    run(BUILD, clean)
    after, expected = site_files(project / "site"), site_files(clean / "site")
    assert sorted(after) == sorted(expected)
    differing = [path for path in expected if after[path] != expected[path]]
    assert differing == []
    assert not (project / ".cache" / "dealrooms" / "output" / "held").exists()


def test_publishes_at_once_all_succeed_one_after_the_other(project: Path) -> None:
    set_plugin_options(project, protect=False)
    procs = [subprocess.Popen(PUBLISH, cwd=project, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    for out, _ in outputs:
        assert "3 deal(s)" in out and "published to site" in out
    assert sorted(p.name for p in (project / "dist").iterdir()) == ["halden-health.zip", "kestrel-freight.zip", "marlow-vine.zip"]
    assert not [p for p in project.iterdir() if p.name.startswith(".site.")]


@pytest.mark.parametrize("command", [BUILD, PUBLISH], ids=["build", "publish"])
def test_a_second_build_or_publish_waits_and_says_who_holds_the_lock(project: Path, command: list[str]) -> None:
    set_plugin_options(project, protect=False)
    lock = BuildLock(project / ".cache" / "dealrooms")
    lock.acquire()
    try:
        proc = subprocess.Popen(command, cwd=project, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        assert proc.poll() is None, proc.stdout.read()  # still waiting
        assert not (project / "site").exists() and not [p for p in project.iterdir() if p.name.startswith(".site.")]
    finally:
        lock.release()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "waiting for " in out and f"(pid {os.getpid()}, started " in out
    assert (project / "site" / "kestrel-freight" / "index.html").is_file()
    assert not (project / ".cache" / "dealrooms" / "build.lock.holder").exists()


def test_leftovers_of_a_killed_publish_are_removed(project: Path) -> None:
    set_plugin_options(project, protect=False)
    for name in (".site.publish-k1ll3d", ".site.old-4242"):
        (project / name / "kestrel-freight").mkdir(parents=True)
        (project / name / "kestrel-freight" / "index.html").write_text("half a site")
    (project / "dist").mkdir()
    (project / "dist" / ".kestrel-freight.zip.tmp").write_bytes(b"half a zip")
    result = run(PUBLISH, project)
    assert "published to site" in result.stdout
    assert not [p for p in project.iterdir() if p.name.startswith(".site.")]
    assert not list((project / "dist").glob(".*.tmp"))
