"""The results table (text and Markdown) and the chart."""

from __future__ import annotations

from pathlib import Path

COLUMNS = [
    ("N", "deals"),
    ("baseline s", "hand-written sites, one process, MkDocs API"),
    ("plain s", "Dealrooms full build, protect: false"),
    ("speedup", "baseline / plain"),
    ("prot. 1st s", "protected, keys derived"),
    ("prot. 2nd s", "protected, keys cached"),
    ("prot/plain", "protected (keys cached) / plain"),
    ("incr. s", "mkdocs build again, nothing changed"),
    ("edit med ms", "save -> served page updated, median"),
    ("edit p90 ms", "same, 90th percentile"),
    ("RSS MB", "peak RSS of the full build (max of plain/protected)"),
    ("kB/deal", "mean (max) of site/<slug>/, plain"),
    ("kB/deal prot", "mean (max), protected"),
]


def _f(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def rows(results: dict) -> list[list[str]]:
    out = []
    for key in sorted(results["sizes"], key=int):
        e = results["sizes"][key]
        p = e.get("protected", {})
        available = p.get("available")
        serve = e.get("serve") or {}
        rss = [e["plain"]["peak_rss_mb"]] + ([p["first"]["peak_rss_mb"], p["second"]["peak_rss_mb"]] if available else [])
        out.append([
            str(e["n"]),
            _f(e["baseline"]["seconds"]),
            _f(e["plain"]["seconds"]),
            _f(e["ratios"]["baseline_over_plain"], 1) + "×",
            _f(p["first"]["seconds"]) if available else "n/a",
            _f(p["second"]["seconds"]) if available else "n/a",
            (_f(e["ratios"]["protected_cached_over_plain"]) + "×") if available else "n/a",
            _f(e["incremental"]["seconds"]),
            _f(serve.get("median_ms"), 0),
            _f(serve.get("p90_ms"), 0),
            _f(max(rss), 0),
            f"{_f(e['output']['per_deal_kb_mean'], 1)} ({_f(e['output']['per_deal_kb_max'], 1)})",
            f"{_f(p['output']['per_deal_kb_mean'], 1)} ({_f(p['output']['per_deal_kb_max'], 1)})" if available else "n/a",
        ])
    return out


def text_table(results: dict) -> str:
    header = [c[0] for c in COLUMNS]
    body = rows(results)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    line = lambda cells: "  ".join(str(c).rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in body]
    r = results.get("ratios") or {}
    if r.get("edit_median_largest_over_smallest") is not None:
        out.append(f"edit latency N={r['largest_n']} / N={r['smallest_n']}: median {r['edit_median_largest_over_smallest']}×, "
                   f"p90 {r['edit_p90_largest_over_smallest']}×")
    for t in results.get("targets", []):
        mark = {True: "MET   ", False: "MISSED", None: "n/a   "}[t["met"]]
        out.append(f"{mark} {t['label']} (N={t['n']}): {_f(t['value'])} {t['unit']} (target {t['direction']} {t['target']:g} {t['unit']})")
    return "\n".join(out)


def markdown(results: dict) -> str:
    meta = results["meta"]
    m = meta["machine"]
    lines = [
        "# Dealrooms benchmark results",
        "",
        f"{meta['date']} · {m['cores']} cores · {m['memory_gb']} GB · {m['cpu']} · Python {m['python']} · "
        f"MkDocs {m['versions'].get('mkdocs')} · Material {m['versions'].get('mkdocs-material')} · "
        f"commit {m['git_commit']}{' + uncommitted plugin changes' if m.get('plugins_dirty') else ''}"
        + (f" (plugin source sha256 {m['plugin_source_sha256']})" if m.get("plugin_source_sha256") else ""),
        "",
        f"Seed {meta['seed']}, sizes {', '.join(map(str, meta['sizes']))}, {meta['edits']} timed edits per size, "
        f"{meta['repeat']} plain full build(s) per size (median)"
        + (f", whole run {meta['duration_seconds']:.0f} s" if meta.get("duration_seconds") else "") + ".",
        "",
        "| " + " | ".join(c[0] for c in COLUMNS) + " |",
        "|" + "|".join("---:" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    lines += ["", "Columns: " + "; ".join(f"**{c[0]}** {c[1]}" for c in COLUMNS) + ".", ""]
    r = results.get("ratios") or {}
    if r:
        lines += ["Ratios at the largest N: " + ", ".join(f"{k} = {v}" for k, v in r.items()), ""]
    if results.get("targets"):
        lines += ["| target (issues 6 and 11) | N | measured | goal | |", "|---|---:|---:|---:|---|"]
        for t in results["targets"]:
            mark = {True: "met", False: "**missed**", None: "n/a"}[t["met"]]
            lines.append(f"| {t['label']} | {t['n']} | {_f(t['value'])} {t['unit']} | {t['direction']} {t['target']:g} {t['unit']} | {mark} |")
        lines.append("")
    for key in sorted(results["sizes"], key=int):
        e = results["sizes"][key]
        notes = []
        for name in ("plain", "incremental", "clone"):
            if "rendered" in e.get(name, {}):
                notes.append(f"{name}: rendered {e[name]['rendered']}, reused {e[name]['reused']}")
        p = e.get("protected", {})
        if not p.get("available"):
            notes.append("protected: not available (" + p.get("reason", "").strip().splitlines()[-1][:160] + ")" if p.get("reason") else "protected: not available")
        elif not p.get("sealed"):
            notes.append("protected: WARNING the plan page still shows the buyer's name")
        s = e.get("serve")
        if s:
            notes.append(f"serve start-up {s['startup_seconds']} s, warm-up edit {s['warmup_ms']} ms, "
                         f"plugin's own update time median {_f(s['server_ms_median'], 0)} ms")
            cached = s.get("cached_start")
            if cached:
                notes.append(f"serve start-up with output kept {cached['seconds']} s (rendered {cached.get('rendered')}, "
                             f"reused {cached.get('reused')})")
        if e.get("clone"):
            notes.append(f"fresh clone rebuild {e['clone']['seconds']} s")
        loads = _loads(e)
        if loads:
            notes.append(f"1-min load average before the measurements {min(loads):.1f}–{max(loads):.1f} on {m['cores']} cores")
        notes.append(f"baseline: {e['baseline']['loop_seconds']} s inside the loop, peak RSS {e['baseline']['peak_rss_mb']} MB, "
                     f"{e['baseline']['per_site_kb_mean']} kB per site (each carries its own theme)")
        lines.append(f"- N={key}: " + "; ".join(notes))
    return "\n".join(lines) + "\n"


def _loads(entry: dict) -> list[float]:
    """Every recorded load average of one size (other work on the machine skews timings)."""
    found: list[float] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "load_before":
                    found.extend(v if isinstance(v, list) else [v])
                else:
                    walk(v)

    walk(entry)
    return found


def chart(results: dict, path: Path) -> bool:
    """Build time and edit latency against N (log scales). False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    entries = [results["sizes"][k] for k in sorted(results["sizes"], key=int)]
    ns = [e["n"] for e in entries]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    series = [
        ("hand-written baseline (MkDocs API)", [e["baseline"]["seconds"] for e in entries], "o-", "#9e9e9e"),
        ("Dealrooms full build, plain", [e["plain"]["seconds"] for e in entries], "s-", "#3f51b5"),
        ("Dealrooms protected, keys cached",
         [e["protected"]["second"]["seconds"] if e["protected"].get("available") else None for e in entries], "^-", "#e91e63"),
        ("Dealrooms protected, first (key derivation)",
         [e["protected"]["first"]["seconds"] if e["protected"].get("available") else None for e in entries], "v:", "#e91e63"),
        ("Dealrooms rebuild, nothing changed", [e["incremental"]["seconds"] for e in entries], "d--", "#009688"),
    ]
    for label, ys, style, color in series:
        points = [(n, y) for n, y in zip(ns, ys) if y is not None]
        if points:
            left.plot(*zip(*points), style, color=color, label=label)
    left.axhline(5, color="#009688", lw=0.8, ls=":")
    left.set(xscale="log", yscale="log", xlabel="deals (N)", ylabel="wall time, s (fresh process)",
             title="Build time")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    served = [e for e in entries if e.get("serve")]
    if served:
        xs = [e["n"] for e in served]
        med = [e["serve"]["median_ms"] for e in served]
        p90 = [e["serve"]["p90_ms"] for e in served]
        right.plot(xs, med, "o-", color="#3f51b5", label="median")
        right.plot(xs, p90, "s--", color="#ff9800", label="p90")
        for x, y in zip(xs, med):
            right.annotate(f"{y:.0f} ms", (x, y), textcoords="offset points", xytext=(4, 6), fontsize=8)
        right.axhline(300, color="#e91e63", lw=1, ls=":", label="target: median ≤ 300 ms")
        right.set_ylim(0, max(max(p90) * 1.2, 350))
    right.set(xscale="log", xlabel="deals (N)", ylabel="ms from save to served page", title="Live edit under mkdocs serve")
    right.grid(True, which="both", alpha=0.3)
    if served:
        right.legend(fontsize=8)
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (left.xaxis, left.yaxis, right.xaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    left.set_xticks(ns)
    right.set_xticks(ns)
    fig.suptitle(f"Dealrooms benchmark · {results['meta']['machine']['cores']} cores · {results['meta']['date'][:10]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
