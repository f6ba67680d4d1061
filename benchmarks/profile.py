"""Profile one Dealrooms ``mkdocs build`` of N generated deals with cProfile.

    python -m benchmarks.profile --n 1000 [--protect | --incremental] [--out benchmarks/out/profile-1000.prof]

Runs ``python -m cProfile -o FILE -m mkdocs build`` in a fresh process on a
generated project (same set-up as the suite), then prints the top functions
by cumulative and by own time, and the share of the build spent in each of
the plugin's phases. ``--protect`` profiles a protected build with every key
already derived and cached (every deal rendered and sealed again);
``--incremental`` profiles a build with nothing changed since the last one.
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
import tempfile
import uuid
from pathlib import Path

from .generate import password_env, write_deals
from .measure import REPO, run_timed
from .suite import deals_folder, env_for, make_project

# (label, file suffix, function name): cumulative time of these = the phase
PHASES = [
    ("mkdocs build (everything)", "mkdocs/commands/build.py", "build"),
    ("plugin on_pre_build (load + validate all deals)", "mkdocs_adapter/plugin.py", "on_pre_build"),
    ("  catalog refresh (YAML + pydantic)", "dealrooms_plugin/catalog.py", "refresh"),
    ("  catalog save (JSON)", "dealrooms_plugin/catalog.py", "save"),
    ("  protection prepare (passwords, keys)", "mkdocs_adapter/protection.py", "prepare"),
    ("  OutputCache.hold (last build's deal folders set aside)", "dealrooms_plugin/outcache.py", "hold"),
    ("plugin on_post_build (render + write all deals)", "mkdocs_adapter/plugin.py", "on_post_build"),
    ("  Pipeline.publish", "dealrooms_plugin/build.py", "publish"),
    ("  build.render_deal", "dealrooms_plugin/build.py", "render_deal"),
    ("    plan.schedule", "dealrooms_plugin/plan.py", "schedule"),
    ("    view.build_view", "dealrooms_plugin/view.py", "build_view"),
    ("    calendar.deal_calendar (icalendar)", "dealrooms_plugin/calendar.py", "deal_calendar"),
    ("    render.render_pages (deal fragments)", "dealrooms_plugin/render.py", "render_pages"),
    ("    MaterialShell (frames, or Material main.html in full)", "mkdocs_adapter/shell.py", "__call__"),
    ("      mkdocs get_context", "mkdocs/commands/build.py", "get_context"),
    ("      jinja Template.render", "jinja2/environment.py", "render"),
    ("    protection.seal", "mkdocs_adapter/protection.py", "seal"),
    ("  _write_tree (writing files)", "dealrooms_plugin/build.py", "_write_tree"),
    ("  OutputCache.lookup (kept output of the same key)", "dealrooms_plugin/outcache.py", "lookup"),
    ("  OutputCache.store (writing the kept output)", "dealrooms_plugin/outcache.py", "store"),
    ("  OutputCache.place (folder moved back, or hard links)", "dealrooms_plugin/outcache.py", "place"),
    ("    OutputCache.link_into (hard links into site/)", "dealrooms_plugin/outcache.py", "link_into"),
    ("  build.content_signature (package, overrides, shell settings)", "dealrooms_plugin/build.py", "content_signature"),
    ("theme static files copied (Files.copy_static_files)", "mkdocs/structure/files.py", "copy_static_files"),
    ("search plugin on_post_build", "material/plugins/search/plugin.py", "on_post_build"),
    ("clean site dir", "mkdocs/utils/__init__.py", "clean_directory"),
    ("load_config", "mkdocs/config/base.py", "load_config"),
]


def phases(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    table = stats.stats  # type: ignore[attr-defined]
    out = []
    for label, suffix, name in PHASES:
        cumulative, calls = 0.0, 0
        for (filename, _line, func), (_cc, nc, _tt, ct, _callers) in table.items():
            if func == name and filename.replace("\\", "/").endswith(suffix):
                cumulative += ct
                calls += nc
        out.append((label, cumulative, calls))
    return out


def summary(prof: Path, top: int = 25) -> str:
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    buf = io.StringIO()
    buf.write(f"total profiled time {total:.2f} s (cProfile overhead included)\n\nphases (cumulative):\n")
    for label, cumulative, calls in phases(stats):
        if calls:
            buf.write(f"  {label:<55} {cumulative:8.2f} s {100 * cumulative / total:5.1f} %  ({calls} calls)\n")
    for order in ("cumulative", "tottime"):
        s = pstats.Stats(str(prof), stream=buf)
        s.sort_stats(order)
        buf.write(f"\ntop {top} by {order}:\n")
        s.print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--protect", action="store_true", help="profile a protected build (keys derived first, then cached)")
    parser.add_argument("--incremental", action="store_true", help="profile a build with nothing changed since the last one")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.protect and args.incremental:
        parser.error("--protect and --incremental profile different builds; pick one")
    kind = "-protected" if args.protect else "-incremental" if args.incremental else ""
    out = args.out or REPO / "benchmarks" / "out" / f"profile-{args.n}{kind}.prof"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dealrooms-profile-") as tmp:
        project = make_project(Path(tmp) / "project", args.n, args.seed, protect=args.protect)
        env = env_for(Path(tmp) / "cache", **(password_env(args.n, args.seed) if args.protect else {}))
        if args.protect or args.incremental:  # a first build: keys derived, output kept
            warm = run_timed([sys.executable, "-m", "mkdocs", "build"], project, env)
            print(f"first build: {warm.seconds:.1f} s", file=sys.stderr)
        if args.protect:  # new bytes in every deal file: every deal is rendered and sealed again
            write_deals(deals_folder(project), args.n, args.seed, nonce=uuid.uuid4().hex)
        run = run_timed([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "mkdocs", "build"], project, env)
        if not run.ok:
            print(run.tail(30), file=sys.stderr)
            return 1
        print(f"profiled build: {run.seconds:.1f} s wall, peak RSS {run.peak_rss_mb:.0f} MB; profile in {out}", file=sys.stderr)
    text = summary(out)
    out.with_suffix(".txt").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
