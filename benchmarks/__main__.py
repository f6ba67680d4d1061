"""``python -m benchmarks`` (or ``./dev bench``): the whole benchmark in one run.

    ./dev bench                      # sizes 1, 100, 1000 (takes a while)
    ./dev bench --sizes 1,10         # quick look
    ./dev bench --quick              # tiny smoke run: sizes 1 and 5, 3 edits
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .report import text_table
from .suite import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,100,1000", help="comma-separated numbers of deals (default 1,100,1000)")
    parser.add_argument("--edits", type=int, default=7, help="timed live edits per size, after one warm-up (default 7, at least 5 for the issue)")
    parser.add_argument("--repeat", type=int, default=3, help="plain full builds per size; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: sizes 1,5, 3 edits, 1 repeat")
    parser.add_argument("--no-serve", action="store_true", help="skip the live-edit measurement")
    parser.add_argument("--no-protect", action="store_true", help="skip the protected builds")
    parser.add_argument("--out", type=Path, default=None, help="folder for results.json, results.md, chart.png (default benchmarks/out)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated projects (default: a temp folder, removed)")
    parser.add_argument("--keep", action="store_true", help="keep generated projects and sites")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.edits, args.repeat = "1,5", 3, 1
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs positive numbers")
    results = run(sizes, edits=max(1, args.edits), repeat=max(1, args.repeat), seed=args.seed,
                  serve=not args.no_serve, protect=not args.no_protect, out_dir=args.out,
                  work_dir=args.work, keep=args.keep)
    print(text_table(results))
    out = args.out or Path(__file__).resolve().parent / "out"
    print(f"\nwrote {out / 'results.json'}, {out / 'results.md'}, {out / 'chart.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
