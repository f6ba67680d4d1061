"""Measuring tools: timed subprocesses with their own peak RSS, output sizes,
and live-edit latency under a real ``mkdocs serve``."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
KB = 1000  # sizes are reported in kB (1000 bytes): the stricter reading of "150 KB"


@dataclass
class Run:
    """One finished subprocess: wall time from spawn to exit, its own peak RSS."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str
    load_before: float = 0.0  # 1-minute load average when it started: other work on the machine

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 7200) -> Run:
    """Run ``cmd`` and return its wall time and peak RSS (``os.wait4`` gives this child's own rusage)."""
    log = cwd / f".bench-{uuid.uuid4().hex[:8]}.log"
    load = os.getloadavg()[0]
    with open(log, "w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it is reaped
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    log.unlink(missing_ok=True)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, text, load)


def base_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process: no inherited deal passwords, quiet MkDocs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALROOMS_")}
    env.update(NO_MKDOCS_2_WARNING="1", PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def mkdocs_build(project: Path, env: dict[str, str], timeout: float = 7200) -> Run:
    """``mkdocs build`` exactly as a user runs it, in a fresh process."""
    return run_timed([sys.executable, "-m", "mkdocs", "build"], project, env, timeout)


RENDERED = re.compile(r"rendered (\d+) deal\(s\), reused (\d+)")


def render_counts(output: str) -> dict[str, int] | None:
    """The plugin's own log line: how many deals it rendered and how many it reused."""
    found = RENDERED.findall(output)
    if not found:
        return None
    rendered, reused = found[-1]
    return {"rendered": int(rendered), "reused": int(reused)}


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def output_sizes(site: Path, slugs: list[str]) -> dict[str, float]:
    """Bytes per deal folder (``site/<slug>/``) and of everything shared (``site/assets``, root files)."""
    per_deal = [tree_bytes(site / slug) for slug in slugs]
    total = tree_bytes(site)
    return {
        "per_deal_kb_mean": statistics.fmean(per_deal) / KB if per_deal else 0.0,
        "per_deal_kb_max": max(per_deal) / KB if per_deal else 0.0,
        "shared_kb": (total - sum(per_deal)) / KB,
        "total_mb": total / KB / KB,
    }


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- live edits under mkdocs serve ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """A real ``mkdocs serve --livereload`` on a free port (like tests/serveutil.py)."""

    def __init__(self, project: Path, env: dict[str, str], startup_timeout: float = 1800, port: int | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log_path = project / "serve.log"
        self.log = open(self.log_path, "w+")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--livereload", "-a", f"127.0.0.1:{self.port}"],
            cwd=project, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.wait_for("", lambda text: "Deal rooms" in text, timeout=startup_timeout, interval=0.1)
        self.startup_seconds = time.perf_counter() - started

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return 0, ""

    def wait_for(self, path: str, ok: Callable[[str], bool], timeout: float = 30, interval: float = 0.005) -> str:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mkdocs serve died:\n{self.output()[-3000:]}")
            status, text = self.get(path)
            if status == 200 and ok(text):
                return text
            time.sleep(interval)
        raise TimeoutError(f"timed out waiting for /{path}\n{self.output()[-3000:]}")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


LIVE_UPDATE = re.compile(r"live update of \S+ in (\d+) ms")


@dataclass
class EditLatency:
    edits_ms: list[float] = field(default_factory=list)  # save -> served page shows the edit
    warmup_ms: float | None = None  # the first edit after start-up, not counted
    server_ms: list[float] = field(default_factory=list)  # the plugin's own "live update ... in N ms"
    startup_seconds: float = 0.0
    load_before: float = 0.0

    def summary(self) -> dict:
        return {
            "median_ms": statistics.median(self.edits_ms),
            "p90_ms": percentile(self.edits_ms, 90),
            "min_ms": min(self.edits_ms),
            "max_ms": max(self.edits_ms),
            "edits_ms": [round(x, 1) for x in self.edits_ms],
            "warmup_ms": None if self.warmup_ms is None else round(self.warmup_ms, 1),
            "server_ms_median": statistics.median(self.server_ms) if self.server_ms else None,
            "startup_seconds": round(self.startup_seconds, 2),
            "load_before": round(self.load_before, 2),
        }


def serve_start(project: Path, env: dict[str, str], page: str, port: int) -> dict:
    """Seconds from starting ``mkdocs serve`` to the first served ``page``, and what the plugin rendered.

    The served site's address is part of every page (and of the render
    key), so a start reuses the output kept by an earlier one on the same port.
    """
    started = time.perf_counter()
    serve = Serve(project, env, port=port)
    try:
        serve.wait_for(page, lambda text: True, timeout=600)
        seconds = time.perf_counter() - started
        counts = render_counts(serve.output()) or {}
    finally:
        serve.stop()
    return {"seconds": round(seconds, 3), **counts}


def edit_latency(project: Path, env: dict[str, str], deal_file: Path, render: Callable[[str], str],
                 page: str, edits: int, pause: float = 0.4, port: int | None = None) -> EditLatency:
    """Save ``deal_file`` with a unique marker ``edits + 1`` times under ``mkdocs serve``.

    ``render(marker)`` gives the file's new text (the marker in a milestone
    title); each latency is from just before the write to the first served
    ``page`` containing the marker, polled every 5 ms. The first edit warms
    up (imports, caches) and is reported apart.
    """
    result = EditLatency(load_before=os.getloadavg()[0])
    serve = Serve(project, env, port=port)
    try:
        result.startup_seconds = serve.startup_seconds
        serve.wait_for(page, lambda text: True, timeout=60)
        for i in range(edits + 1):
            marker = f"EDIT{uuid.uuid4().hex[:10].upper()}"
            text = render(marker)
            time.sleep(pause)  # let the previous reload settle
            started = time.perf_counter()
            deal_file.write_text(text, encoding="utf-8")
            serve.wait_for(page, lambda html: marker in html, timeout=120, interval=0.005)
            elapsed = 1000 * (time.perf_counter() - started)
            if i == 0:
                result.warmup_ms = elapsed
            else:
                result.edits_ms.append(elapsed)
        time.sleep(0.2)
        server = [float(x) for x in LIVE_UPDATE.findall(serve.output())]
        result.server_ms = server[1:]  # drop the warm-up edit's
    finally:
        serve.stop()
    return result
