"""The benchmark suite's pieces work on 2 deals (no timing is asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baseline  # noqa: E402
from benchmarks.generate import deal_document, slug, write_deals  # noqa: E402
from benchmarks.suite import run  # noqa: E402


def test_generator_is_seeded_and_complete(tmp_path: Path) -> None:
    first = write_deals(tmp_path / "a", 2, seed=3)
    second = write_deals(tmp_path / "b", 2, seed=3)
    assert [p.read_text() for p in first] == [p.read_text() for p in second]
    doc = yaml.safe_load(first[0].read_text())
    assert len(doc["milestones"]) == 25 and any("after" in m for m in doc["milestones"])
    assert len(doc["people"]) == 10 and {p["side"] for p in doc["people"]} == {"buyer", "seller", "partner"}
    assert len(doc["goals"]) == 5 and len(doc["proposal"]["items"]) == 6


def test_baseline_pages_carry_the_deal() -> None:
    doc = deal_document(0)
    pages = baseline.deal_pages(doc)
    assert sorted(pages) == ["index.md", "people.md", "plan.md", "proposal.md", "value.md"]
    assert all(m["title"] in pages["plan.md"] for m in doc["milestones"])
    assert all(p["name"] in pages["people.md"] for p in doc["people"])


def test_suite_on_two_deals(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    results = run([2], serve=False, protect=False, repeat=1, out_dir=out, work_dir=work, keep=True)

    for i in range(2):
        assert (work / "n2" / "baseline" / slug(i) / "site" / "plan" / "index.html").is_file()
        assert (work / "n2" / "plain" / "site" / slug(i) / "plan" / "index.html").is_file()

    saved = json.loads((out / "results.json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert {"meta", "sizes", "ratios", "targets"} <= saved.keys()
    assert {"cores", "memory_gb", "cpu"} <= saved["meta"]["machine"].keys()
    entry = saved["sizes"]["2"]
    assert {"baseline", "plain", "incremental", "protected", "output", "ratios"} <= entry.keys()
    assert {"seconds", "loop_seconds", "peak_rss_mb"} <= entry["baseline"].keys()
    assert {"seconds", "peak_rss_mb", "runs_seconds"} <= entry["plain"].keys()
    assert (entry["clone"]["rendered"], entry["clone"]["reused"]) == (0, 2)  # a fresh clone reuses every deal
    assert {"per_deal_kb_mean", "per_deal_kb_max", "shared_kb"} <= entry["output"].keys()
    assert entry["output"]["per_deal_kb_mean"] > 0
    assert entry["protected"]["available"] is False  # skipped here
    assert {t["name"] for t in saved["targets"]} >= {"build_speedup", "peak_rss_mb", "per_deal_kb", "incremental_seconds",
                                                 "clone_seconds", "serve_start_seconds"}
    assert "| N |" in (out / "results.md").read_text()
