"""One benchmark run: for each N, baseline vs Dealrooms builds, live edits, memory, output size."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from . import baseline
from .generate import deal_document, deal_yaml, password_env, slug, write_deals
from .measure import (REPO, KB, base_env, edit_latency, free_port, mkdocs_build, output_sizes, render_counts, run_timed,
                      serve_start, tree_bytes)

TODAY = "2026-11-22"  # pinned: the generator's today, so both sides show the same dates
PLAN_PAGE = "plan/"

TARGETS = {  # issues 6 and 11, for 1000 deals on the 2-core machine
    "build_speedup": 12.0,  # baseline / Dealrooms plain full build, at least (issue 11; issue 6 asked 4)
    "edit_median_ms": 150.0,  # at most (issue 11; issue 6 asked 300)
    "edit_growth": 1.5,  # edit median at N / at 1 deal, at most
    "protected_overhead": 1.25,  # protected (keys cached) / plain, at most
    "peak_rss_mb": 1024.0,  # at most
    "per_deal_kb": 150.0,  # at most, excluding shared assets
    "incremental_seconds": 5.0,  # under
    "clone_seconds": 3.0,  # at most: nothing changed, a fresh clone elsewhere with the cache folder copied (issue 11)
    "serve_start_seconds": 3.0,  # at most: `mkdocs serve` to the first served deal page, output cached (issue 11)
}


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- projects -----------------------------------------------------------------------


def make_project(folder: Path, count: int, seed: int, protect: bool) -> Path:
    """A copy of the repo's project (mkdocs.yml, theme_overrides/) with ``count`` generated deals."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    text, found = re.subn(r"(?m)^(\s+)protect: .*$", rf"\g<1>protect: {'true' if protect else 'false'}", text)
    if not found:
        text = re.sub(r"(?m)^(\s+)- dealrooms:\s*$", rf"\g<0>\n\g<1>    protect: {'true' if protect else 'false'}", text)
    (folder / "mkdocs.yml").write_text(text, encoding="utf-8")
    if (REPO / "theme_overrides").is_dir():
        shutil.copytree(REPO / "theme_overrides", folder / "theme_overrides", dirs_exist_ok=True)
    deals = folder / _deals_dir(text)
    write_deals(deals, count, seed, nonce=uuid.uuid4().hex)
    return folder


def _deals_dir(config_text: str) -> str:
    found = re.search(r"(?m)^\s+deals_dir:\s*(\S+)", config_text)
    return found.group(1) if found else "dealrooms"


def deals_folder(project: Path) -> Path:
    return project / _deals_dir((project / "mkdocs.yml").read_text(encoding="utf-8"))


def fresh_inputs(project: Path, count: int, seed: int) -> None:
    """Same content, new bytes (a nonce comment): any render cache keyed by input digest misses."""
    write_deals(deals_folder(project), count, seed, nonce=uuid.uuid4().hex)


def env_for(cache: Path, **extra: str) -> dict[str, str]:
    return base_env(DEALROOMS_TODAY=TODAY, DEALROOMS_CACHE_DIR=str(cache), **extra)


def _build_record(run, **extra) -> dict:
    record = {"seconds": round(run.seconds, 3), "peak_rss_mb": round(run.peak_rss_mb, 1), "ok": run.ok,
              "load_before": round(run.load_before, 2)}
    counts = render_counts(run.output)
    if counts:
        record.update(counts)
    if not run.ok:
        record["error"] = run.tail()
    record.update(extra)
    return record


# --- the pieces ----------------------------------------------------------------------


def measure_baseline(work: Path, docs: dict[str, dict]) -> dict:
    folder = work / "baseline"
    shutil.rmtree(folder, ignore_errors=True)
    baseline.write_sites(folder, docs)
    say(f"baseline: building {len(docs)} hand-written site(s) in one process")
    run = run_timed([sys.executable, "-m", "benchmarks.baseline", str(folder)], folder, base_env())
    if not run.ok:
        raise RuntimeError(f"baseline build failed:\n{run.tail(30)}")
    inner = json.loads(run.output.strip().splitlines()[-1])
    sites = [folder / s / "site" for s in docs]
    missing = [s for s in sites if not (s / "plan" / "index.html").is_file()]
    if missing:
        raise RuntimeError(f"baseline site(s) without a plan page: {missing[:3]}")
    per_site = [tree_bytes(s) for s in sites]
    record = _build_record(run, loop_seconds=round(inner["loop_seconds"], 3),
                           slowest_site_seconds=round(inner["slowest_site_seconds"], 3),
                           per_site_kb_mean=round(statistics.fmean(per_site) / KB, 1), folder=str(folder))
    say(f"baseline: {run.seconds:.1f} s ({inner['loop_seconds']:.1f} s of builds)")
    return record


def measure_plain(work: Path, count: int, seed: int, repeat: int) -> tuple[dict, dict, dict, Path]:
    """Full plain builds (cold: fresh inputs' bytes, fresh cache), output sizes, then a no-change rebuild."""
    project = make_project(work / "plain", count, seed, protect=False)
    runs = []
    cache = work / "cache-plain-0"
    for i in range(repeat):
        cache = work / f"cache-plain-{i}"
        shutil.rmtree(cache, ignore_errors=True)
        if i:
            fresh_inputs(project, count, seed)
        say(f"dealrooms plain full build {i + 1}/{repeat}")
        run = mkdocs_build(project, env_for(cache))
        if not run.ok:
            raise RuntimeError(f"dealrooms build failed:\n{run.tail(30)}")
        runs.append(run)
        say(f"  {run.seconds:.2f} s, peak RSS {run.peak_rss_mb:.0f} MB")
    slugs = [slug(i) for i in range(count)]
    missing = [s for s in slugs if not (project / "site" / s / "plan" / "index.html").is_file()]
    if missing:
        raise RuntimeError(f"dealrooms output without a plan page: {missing[:3]}")
    median = statistics.median(r.seconds for r in runs)
    plain = _build_record(min(runs, key=lambda r: abs(r.seconds - median)),
                          runs_seconds=[round(r.seconds, 3) for r in runs])
    plain["seconds"] = round(median, 3)
    plain["peak_rss_mb"] = round(max(r.peak_rss_mb for r in runs), 1)
    plain["load_before"] = [round(r.load_before, 2) for r in runs]
    sizes = {k: round(v, 2) for k, v in output_sizes(project / "site", slugs).items()}
    say("dealrooms incremental build (nothing changed)")
    run = mkdocs_build(project, env_for(cache))
    incremental = _build_record(run)
    say(f"  {run.seconds:.2f} s")
    clone = measure_clone(project, work, cache)
    return plain, incremental, clone, sizes, project


def measure_clone(project: Path, work: Path, cache: Path) -> dict:
    """A rebuild with nothing changed in a fresh copy elsewhere: new paths, every file new, the cache folder copied.

    What CI does with a restored cache: every deal must be reused (render
    keys and the catalog cache name files by content, never by time or place).
    """
    clone = work / "clone" / "checkout"
    shutil.rmtree(clone.parent, ignore_errors=True)
    shutil.copytree(project, clone, ignore=shutil.ignore_patterns("site"), symlinks=True)
    now = time.time()
    for path in clone.rglob("*"):
        if ".cache" not in path.relative_to(clone).parts:
            os.utime(path, (now, now), follow_symlinks=False)
    say("dealrooms rebuild in a fresh clone with the cache folder copied")
    run = mkdocs_build(clone, env_for(cache))
    if not run.ok:
        raise RuntimeError(f"dealrooms build in the clone failed:\n{run.tail(30)}")
    record = _build_record(run)
    say(f"  {run.seconds:.2f} s, rendered {record.get('rendered')}, reused {record.get('reused')}")
    shutil.rmtree(clone.parent, ignore_errors=True)
    return record


def measure_protected(work: Path, count: int, seed: int) -> dict:
    """Protected builds: the first derives every key (empty key cache), the second has them cached."""
    project = make_project(work / "protected", count, seed, protect=True)
    cache = work / "cache-protected"
    shutil.rmtree(cache, ignore_errors=True)
    env = env_for(cache, **password_env(count, seed))
    say("dealrooms protected build 1 (key derivation)")
    first = mkdocs_build(project, env)
    if not first.ok:
        say("  protection not available: " + first.tail(3).replace("\n", " | "))
        return {"available": False, "reason": first.tail(8)}
    say(f"  {first.seconds:.2f} s")
    slugs = [slug(i) for i in range(count)]
    plan = project / "site" / slugs[0] / "plan" / "index.html"
    buyer = deal_document(0, seed)["deal"]["buyer"]["name"]
    sealed = plan.is_file() and buyer not in plan.read_text(encoding="utf-8", errors="replace")
    sizes = {k: round(v, 2) for k, v in output_sizes(project / "site", slugs).items()}
    fresh_inputs(project, count, seed)  # re-render and re-seal everything, keys from the cache
    say("dealrooms protected build 2 (keys cached, every deal re-rendered)")
    second = mkdocs_build(project, env)
    say(f"  {second.seconds:.2f} s")
    return {"available": True, "sealed": sealed, "first": _build_record(first), "second": _build_record(second),
            "output": sizes}


def measure_edits(project: Path, work: Path, count: int, seed: int, edits: int) -> dict:
    """Live-edit latency under mkdocs serve, editing the middle deal of the project."""
    index = count // 2
    document = deal_document(index, seed)
    deal_file = deals_folder(project) / f"{slug(index)}.yml"
    original = deal_file.read_text(encoding="utf-8")

    def render(marker: str) -> str:
        doc = json.loads(json.dumps(document))
        doc["milestones"][0]["title"] = f"{doc['milestones'][0]['title']} {marker}"
        return deal_yaml(doc)

    cache = work / "cache-serve"
    shutil.rmtree(cache, ignore_errors=True)
    port = free_port()  # one address for every start: it is part of the pages, so of the kept output's keys
    page = f"{slug(index)}/{PLAN_PAGE}"
    say(f"mkdocs serve with {count} deal(s): {edits} timed edits of {slug(index)}")
    try:
        latency = edit_latency(project, env_for(cache), deal_file, render, page, edits, port=port)
    finally:
        deal_file.write_text(original, encoding="utf-8")
    summary = latency.summary()
    say(f"  median {summary['median_ms']:.0f} ms, p90 {summary['p90_ms']:.0f} ms (start-up {summary['startup_seconds']} s)")
    # The edits replaced one deal's kept preview: the first start renders it again, the second reuses every deal.
    serve_start(project, env_for(cache), page, port)
    summary["cached_start"] = serve_start(project, env_for(cache), page, port)
    say(f"  start-up with every deal's output kept: {summary['cached_start']['seconds']:.2f} s "
        f"(rendered {summary['cached_start'].get('rendered')}, reused {summary['cached_start'].get('reused')})")
    return summary


# --- one run -------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    mem = 0.0
    try:
        mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))) / 1024 / 1024
    except (OSError, StopIteration):
        pass
    versions = {}
    for name in ("mkdocs", "mkdocs-material", "dealrooms"):
        try:
            from importlib.metadata import version
            versions[name] = version(name)
        except Exception:  # noqa: BLE001
            versions[name] = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "plugins"], cwd=REPO, capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "", False
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((REPO / "plugins" / "dealrooms_plugin").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return {"cores": os.cpu_count(), "memory_gb": round(mem, 1), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions, "git_commit": commit, "plugins_dirty": dirty,
            "plugin_source_sha256": digest.hexdigest()[:16]}


def run(sizes: list[int], *, edits: int = 7, repeat: int = 1, seed: int = 7, serve: bool = True,
        protect: bool = True, out_dir: Path | None = None, work_dir: Path | None = None, keep: bool = False) -> dict:
    """Measure every size; write results.json / results.md / chart.png into ``out_dir``; return the results."""
    out_dir = out_dir or (REPO / "benchmarks" / "out")
    out_dir.mkdir(parents=True, exist_ok=True)
    base_work = work_dir or Path(tempfile.mkdtemp(prefix="dealrooms-bench-"))
    started = time.perf_counter()
    results: dict = {
        "meta": {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "today_pinned": TODAY,
                 "seed": seed, "sizes": sizes, "edits": edits, "repeat": repeat, "machine": machine(),
                 "work_dir": str(base_work)},
        "sizes": {},
    }
    try:
        for count in sizes:
            say(f"=== N = {count} ===")
            work = base_work / f"n{count}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            docs = {slug(i): deal_document(i, seed) for i in range(count)}
            entry: dict = {"n": count}
            entry["baseline"] = measure_baseline(work, docs)
            if not keep:
                shutil.rmtree(work / "baseline", ignore_errors=True)  # 2.6 MB of theme per site
            entry["plain"], entry["incremental"], entry["clone"], entry["output"], project = measure_plain(
                work, count, seed, repeat)
            entry["protected"] = measure_protected(work, count, seed) if protect else {"available": False, "reason": "skipped (--no-protect)"}
            if serve:
                entry["serve"] = measure_edits(project, work, count, seed, edits)
            entry["ratios"] = ratios(entry)
            results["sizes"][str(count)] = entry
            if not keep:
                for name in ("plain/site", "protected/site"):
                    shutil.rmtree(work / name, ignore_errors=True)
            write_outputs(results, out_dir)  # after every size, so a long run leaves partial results
    finally:
        if not keep and work_dir is None:
            shutil.rmtree(base_work, ignore_errors=True)
    results["meta"]["duration_seconds"] = round(time.perf_counter() - started, 1)
    results["ratios"] = overall_ratios(results)
    results["targets"] = targets(results)
    write_outputs(results, out_dir)
    return results


def ratios(entry: dict) -> dict:
    plain = entry["plain"]["seconds"]
    out = {"baseline_over_plain": round(entry["baseline"]["seconds"] / plain, 2),
           "baseline_loop_over_plain": round(entry["baseline"]["loop_seconds"] / plain, 2)}
    protected = entry.get("protected", {})
    if protected.get("available"):
        out["protected_first_over_plain"] = round(protected["first"]["seconds"] / plain, 2)
        out["protected_cached_over_plain"] = round(protected["second"]["seconds"] / plain, 2)
    return out


def overall_ratios(results: dict) -> dict:
    sizes = results["sizes"]
    if not sizes:
        return {}
    largest = sizes[str(max(int(n) for n in sizes))]
    smallest = sizes[str(min(int(n) for n in sizes))]
    out = {"largest_n": largest["n"], "smallest_n": smallest["n"], **largest["ratios"]}
    if "serve" in largest and "serve" in smallest:
        out["edit_median_largest_over_smallest"] = round(largest["serve"]["median_ms"] / smallest["serve"]["median_ms"], 2)
        out["edit_p90_largest_over_smallest"] = round(largest["serve"]["p90_ms"] / smallest["serve"]["p90_ms"], 2)
    return out


def targets(results: dict) -> list[dict]:
    """Issue 6's targets, evaluated at the largest N of this run."""
    sizes = results["sizes"]
    if not sizes:
        return []
    largest = sizes[str(max(int(n) for n in sizes))]
    n = largest["n"]
    r = results["ratios"]
    out = []

    def add(name: str, label: str, value: float | None, goal: float, higher_is_better: bool, unit: str = "") -> None:
        met = None if value is None else (value >= goal if higher_is_better else value <= goal)
        if name == "incremental_seconds" and value is not None:
            met = value < goal
        out.append({"name": name, "label": label, "n": n, "value": value, "target": goal, "unit": unit,
                    "direction": ">=" if higher_is_better else ("<" if name == "incremental_seconds" else "<="), "met": met})

    add("build_speedup", "full build: baseline / Dealrooms (plain)", r.get("baseline_over_plain"), TARGETS["build_speedup"], True, "x")
    serve = largest.get("serve")
    add("edit_median_ms", "live edit median", serve and serve["median_ms"], TARGETS["edit_median_ms"], False, "ms")
    add("edit_growth", f"live edit median at N={n} / at N={r.get('smallest_n')}", r.get("edit_median_largest_over_smallest"),
        TARGETS["edit_growth"], False, "x")
    protected = largest.get("protected", {})
    add("protected_overhead", "protected (keys cached) / plain", r.get("protected_cached_over_plain"),
        TARGETS["protected_overhead"], False, "x")
    rss = [largest["plain"]["peak_rss_mb"]] + ([protected["first"]["peak_rss_mb"], protected["second"]["peak_rss_mb"]]
                                              if protected.get("available") else [])
    add("peak_rss_mb", "peak RSS of the full build (plain and protected)", max(rss), TARGETS["peak_rss_mb"], False, "MB")
    per_deal = [largest["output"]["per_deal_kb_max"]] + ([protected["output"]["per_deal_kb_max"]] if protected.get("available") else [])
    add("per_deal_kb", "largest deal folder (plain and protected)", max(per_deal), TARGETS["per_deal_kb"], False, "kB")
    add("incremental_seconds", "incremental build, nothing changed", largest["incremental"]["seconds"],
        TARGETS["incremental_seconds"], False, "s")
    clone = largest.get("clone") or {}
    reused_all = clone.get("reused") == n and clone.get("rendered") == 0
    add("clone_seconds", "rebuild in a fresh clone, cache folder copied (every deal reused)",
        clone.get("seconds") if reused_all else None, TARGETS["clone_seconds"], False, "s")
    start = (serve or {}).get("cached_start") or {}
    add("serve_start_seconds", "mkdocs serve start to first deal page, output cached", start.get("seconds"),
        TARGETS["serve_start_seconds"], False, "s")
    return out


def write_outputs(results: dict, out_dir: Path) -> None:
    from .report import chart, markdown

    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out_dir / "results.md").write_text(markdown(results), encoding="utf-8")
    if results["sizes"]:
        chart(results, out_dir / "chart.png")
