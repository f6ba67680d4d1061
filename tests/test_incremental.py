"""Issue 6 behaviour, not timed: incremental builds, loading caches, shards."""

from __future__ import annotations

import json
import logging
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from buildutil import build_site, set_plugin_options
from dealrooms_plugin.catalog import Catalog, in_shard, parse_shard
from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import DealroomsError


def rendered_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rendered" in r.getMessage() and "deal(s)" in r.getMessage()]


def build_in_new_process(project: Path) -> str:
    """`mkdocs build` as a separate process, like a rep or CI runs it."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_unchanged_rebuild_in_a_new_process_skips_every_deal(project: Path) -> None:
    set_plugin_options(project, protect=False)
    assert "rendered 3 deal(s), reused 0 unchanged" in build_in_new_process(project)
    first = (project / "site" / "kestrel-freight" / "plan" / "index.html").read_bytes()
    assert "rendered 0 deal(s), reused 3 unchanged" in build_in_new_process(project)
    assert (project / "site" / "kestrel-freight" / "plan" / "index.html").read_bytes() == first

    deal = project / "dealrooms" / "marlow-vine.yml"
    deal.write_text(deal.read_text().replace("MSA redlines agreed", "MSA redlines signed"))
    assert "rendered 1 deal(s), reused 2 unchanged" in build_in_new_process(project)
    assert "MSA redlines signed" in (project / "site" / "marlow-vine" / "plan" / "index.html").read_text()


def test_a_new_today_renders_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_plugin_options(project, protect=False)
    build_in_new_process(project)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-12-01")
    assert "rendered 3 deal(s), reused 0 unchanged" in build_in_new_process(project)


def test_theme_override_change_renders_again(project: Path) -> None:
    set_plugin_options(project, protect=False)
    build_in_new_process(project)
    override = project / "theme_overrides" / "dealrooms" / "people.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text("<h1>Our people</h1>")
    assert "rendered 3 deal(s), reused 0 unchanged" in build_in_new_process(project)
    assert "<h1>Our people</h1>" in (project / "site" / "halden-health" / "people" / "index.html").read_text()


def test_catalog_cache_reuses_validated_deals(project: Path) -> None:
    cache = project / "cache.json"
    first = Catalog(project / "dealrooms", cache)
    first.refresh()
    first.save()
    second = Catalog(project / "dealrooms", cache)
    second.refresh()
    assert second.deals["kestrel-freight"] is not first.deals["kestrel-freight"]  # read from the cache, not re-parsed...
    assert second.deals["kestrel-freight"].deal == first.deals["kestrel-freight"].deal
    deal = project / "dealrooms" / "kestrel-freight.yml"
    deal.write_text(deal.read_text().replace("owner: marta", "owner: nobody"))
    third = Catalog(project / "dealrooms", cache)
    third.refresh()  # ...and a changed file is validated again
    assert "kestrel-freight" in third.problems


class _Planted:
    """Unpickling this runs a shell command: what a planted cache file could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_cache_file_runs_nothing_and_the_cache_is_private(project: Path, tmp_path: Path) -> None:
    set_plugin_options(project, protect=False)
    marker = tmp_path / "code-ran"
    cache = project / ".cache" / "dealrooms"
    cache.mkdir(parents=True)
    payload = pickle.dumps({"format": ("dealrooms-catalog", 1, "x"), "deals": _Planted(marker)})
    for name in ("catalog.pickle", "catalog.json"):
        (cache / name).write_bytes(payload)
    build_in_new_process(project)
    assert not marker.exists(), "the cache file ran code"
    assert not (cache / "catalog.pickle").exists()  # old plain-text deal data is removed, never read
    data = json.loads((cache / "catalog.json").read_text(encoding="utf-8"))  # data, parsed
    assert set(data["deals"]) == {f"{s}.yml" for s in ("halden-health", "kestrel-freight", "marlow-vine")}
    assert stat.S_IMODE((cache / "catalog.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "output").stat().st_mode) == 0o700


def test_a_tampered_cache_record_is_validated_again(project: Path) -> None:
    cache = project / "cache.json"
    first = Catalog(project / "dealrooms", cache)
    first.refresh()
    first.save()
    data = json.loads(cache.read_text(encoding="utf-8"))
    record = data["deals"]["kestrel-freight.yml"]
    record["deal"]["deal"]["target_date"] = {"not": "a date"}  # what the model would never accept
    record["deal"]["people"][0]["name"] = "Planted Name"
    cache.write_text(json.dumps(data), encoding="utf-8")
    second = Catalog(project / "dealrooms", cache)
    second.refresh()
    assert second.deals["kestrel-freight"].deal == first.deals["kestrel-freight"].deal  # parsed from the YAML again


def test_refresh_of_touched_deal_files_looks_only_at_them(project: Path) -> None:
    deals = project / "dealrooms"
    catalog = Catalog(deals)
    catalog.refresh()
    kestrel, marlow = deals / "kestrel-freight.yml", deals / "marlow-vine.yml"
    for path in (kestrel, marlow):
        path.write_text(path.read_text() + "# edited\n")
    # the watcher saw one deal file (and an editor's swap file): only that deal is looked at
    changes = catalog.refresh({kestrel.absolute(), deals.absolute() / ".kestrel-freight.yml.swp"})
    assert changes.changed == ("kestrel-freight",) and changes.removed == ()
    # a file that is not a deal (a template, a logo) may feed any deal: a full scan
    changes = catalog.refresh({(deals / "logos" / "kestrel.svg").absolute()})
    assert changes.changed == ("marlow-vine",)
    # a touched deal file that is gone is removed; a new one is added
    added = deals / "new-deal.yml"
    added.write_text(kestrel.read_text())
    kestrel.unlink()
    changes = catalog.refresh({kestrel.absolute(), added.absolute()})
    assert changes.changed == ("new-deal",) and changes.removed == ("kestrel-freight",)
    assert set(catalog.deals) == {"halden-health", "marlow-vine", "new-deal"}
    assert not catalog.refresh()  # the targeted refreshes left nothing for a full scan to find


def test_shards_partition_the_deals() -> None:
    slugs = [f"deal-{i:04d}" for i in range(300)]
    parts = [{s for s in slugs if in_shard(s, (k, 3))} for k in (1, 2, 3)]
    assert set().union(*parts) == set(slugs)
    assert sum(len(p) for p in parts) == len(slugs)
    assert all(60 < len(p) < 140 for p in parts)
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1-3"):
        with pytest.raises(DealroomsError):
            parse_shard(bad)


def test_shard_builds_together_equal_the_full_build(project: Path, tmp_path: Path) -> None:
    set_plugin_options(project, protect=False)
    full = {p.relative_to(project / "site"): p.read_bytes() for p in build_site(project).rglob("*") if p.is_file()}
    combined: dict[Path, bytes] = {}
    for k in (1, 2, 3):
        set_plugin_options(project, shard=f"{k}/3")
        site = build_site(project, site_dir=str(tmp_path / f"shard{k}"))
        for path in site.rglob("*"):
            if path.is_file():
                relative = path.relative_to(site)
                if relative in combined and relative.parts[0] in {"kestrel-freight", "halden-health", "marlow-vine"}:
                    pytest.fail(f"{relative} built by two shards")
                combined[relative] = path.read_bytes()
    assert set(combined) == set(full)
    differing = [p for p in full if combined[p] != full[p] and p.name not in ("sitemap.xml", "sitemap.xml.gz")]
    assert differing == []


def test_publish_shard_option(project: Path) -> None:
    set_plugin_options(project, protect=False)
    result = CliRunner().invoke(main, ["publish", "--shard", "9/3"])
    assert result.exit_code == 2 and "K must be between 1 and N" in result.output
    result = CliRunner().invoke(main, ["publish", "--shard", "1/3"])
    assert result.exit_code == 0, result.output
    built = {p.name for p in (project / "site").iterdir() if p.is_dir()} & {"kestrel-freight", "halden-health", "marlow-vine"}
    assert built == {s for s in ("kestrel-freight", "halden-health", "marlow-vine") if in_shard(s, (1, 3))}
    # MkDocs keeps one plugin instance per process: the next build in it is not sharded
    site = build_site(project)
    assert {"kestrel-freight", "halden-health", "marlow-vine"} <= {p.name for p in site.iterdir()}


def test_serve_edit_rerenders_only_that_deal(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What `mkdocs serve` does on a save: the plugin instance persists and re-renders one deal."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    set_plugin_options(project, protect=False)
    config = load_config(str(project / "mkdocs.yml"))
    plugin = config.plugins["dealrooms"]
    # MkDocs keeps one instance of a plugin with on_startup per process: put it back in build mode after.
    plugin.on_startup(command="serve", dirty=False)
    try:
        _edit_under_serve(project, config, plugin, caplog)
    finally:
        plugin.on_startup(command="build", dirty=False)


def _edit_under_serve(project, config, plugin, caplog) -> None:
    from mkdocs.commands.build import build

    caplog.set_level(logging.INFO, logger="mkdocs.plugins.dealrooms")
    build(config)

    class FakeServer:  # the epoch handshake of MkDocs's LiveReloadServer
        import threading

        _epoch_cond = threading.Condition()
        _rebuild_cond = threading.Condition()
        _wanted_epoch = _visible_epoch = 0

    from dealrooms_plugin.mkdocs_adapter.live import LiveReload

    server = FakeServer()
    plugin.live = LiveReload(server)
    deal = project / "dealrooms" / "halden-health.yml"
    deal.write_text(deal.read_text().replace("Integration design review", "Integration design sign-off"))
    plugin.live_update()
    lines = rendered_lines(caplog)
    assert "rendered 3 deal(s), reused 0 unchanged" in lines[0]
    assert "rendered 1 deal(s), reused 0 unchanged" in lines[-1]  # only the changed deal was touched
    assert server._visible_epoch == server._wanted_epoch > 0  # browsers told to reload
    assert "Integration design sign-off" in (Path(config.site_dir) / "halden-health" / "index.html").read_text()


# One `mkdocs serve` start's build, in a new process like a real start (only the cache folder carries over),
# counting what it renders and which deals it schedules (pages and the rep's index rows).
PREVIEW_START = """
import json, sys
from mkdocs.commands.build import build
from mkdocs.config import load_config
import dealrooms_plugin.build as engine
import dealrooms_plugin.status as status

scheduled = []

def counting(real):
    def schedule(deal, *args, **kwargs):
        scheduled.append(deal.deal.buyer.name)
        return real(deal, *args, **kwargs)
    return schedule

engine.schedule = counting(engine.schedule)
status.schedule = counting(status.schedule)
config = load_config("mkdocs.yml", site_dir=sys.argv[1])  # serve builds into a new temporary folder
plugin = config.plugins["dealrooms"]
plugin.on_startup(command="serve", dirty=False)
build(config)
published = plugin.last_build.published
print(json.dumps({"rendered": published.rendered, "reused": len(published.reused), "scheduled": scheduled}))
"""


def test_a_preview_started_from_kept_output_renders_and_schedules_nothing(project: Path, tmp_path: Path) -> None:
    """A new `mkdocs serve` over kept output renders no deal and schedules none (the rep's index rows are kept
    too); a deal changed since renders again and its row shows the change."""
    set_plugin_options(project, protect=False)

    def start(n: int) -> tuple[dict, str]:
        site = tmp_path / f"serve-{n}"
        result = subprocess.run([sys.executable, "-c", PREVIEW_START, str(site)], cwd=project,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1]), (site / "index.html").read_text(encoding="utf-8")

    first, _ = start(1)
    assert len(first["rendered"]) == 3 and first["scheduled"]  # a cold preview renders and schedules every deal
    second, index = start(2)
    assert (second["rendered"], second["reused"], second["scheduled"]) == ([], 3, [])
    assert "Kestrel Freight" in index and "Halden Health" in index  # the kept rows, in the index
    deal = project / "dealrooms" / "kestrel-freight.yml"
    deal.write_text(deal.read_text().replace("name: Kestrel Freight,", "name: Kestrel Freight Group,"))
    third, index = start(3)
    assert third["rendered"] == ["kestrel-freight"] and third["reused"] == 2
    assert set(third["scheduled"]) == {"Kestrel Freight Group"}  # its pages and its row, nothing else
    assert "Kestrel Freight Group" in index


def test_a_deal_taken_from_the_cache_file_is_validated_only_when_used(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dealrooms_plugin import catalog as catalog_module

    cache = project / "cache.json"
    first = Catalog(project / "dealrooms", cache)
    first.refresh()
    first.save()
    validated: list[object] = []
    original = catalog_module.Deal.model_validate
    monkeypatch.setattr(catalog_module.Deal, "model_validate",
                        lambda data, *a, **k: validated.append(data) or original(data, *a, **k))
    second = Catalog(project / "dealrooms", cache)
    second.refresh()
    assert second.parsed == 0 and validated == []  # a rebuild whose output is kept needs no model
    kept = second.deals["kestrel-freight"]
    assert kept.digest == first.deals["kestrel-freight"].digest  # from the files: names the output without the model
    assert kept.deal == first.deals["kestrel-freight"].deal
    assert len(validated) == 1
    assert kept.deal is kept.deal and len(validated) == 1  # once


def test_a_cache_file_written_by_other_code_is_not_read(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dealrooms_plugin import catalog as catalog_module

    cache = project / "cache.json"
    first = Catalog(project / "dealrooms", cache)
    first.refresh()
    first.save()
    monkeypatch.setattr(catalog_module, "code_digest", lambda: "another checkout")
    second = Catalog(project / "dealrooms", cache)
    second.refresh()
    assert second.parsed == 3  # records are read only by the code that wrote them


def test_a_cold_refresh_reads_deal_files_in_worker_processes_with_the_same_result(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dealrooms_plugin import catalog as catalog_module

    for i in range(20):  # enough deal files for a pool
        (project / "dealrooms" / f"extra-{i:02d}.yml").write_bytes((project / "dealrooms" / "marlow-vine.yml").read_bytes())
    broken = project / "dealrooms" / "broken.yml"
    broken.write_text((project / "dealrooms" / "kestrel-freight.yml").read_text().replace("owner: marta", "owner: nobody"))
    log = tmp_path / "pids.txt"
    original = catalog_module.load_deal

    def counted(path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
        with log.open("a") as f:
            f.write(f"{os.getpid()} {Path(path).stem}\n")
        return original(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_module, "load_deal", counted)
    serial = Catalog(project / "dealrooms", tmp_path / "serial.json")
    serial.refresh()
    log.unlink()
    parallel = Catalog(project / "dealrooms", tmp_path / "parallel.json")
    changes = parallel.refresh(workers=2)
    lines = [line.split() for line in log.read_text().splitlines()]
    assert sorted(stem for _, stem in lines) == sorted(p.stem for p in (project / "dealrooms").glob("*.yml"))
    # Read in worker processes, never here; how the chunks split between the two depends on the machine's load.
    assert str(os.getpid()) not in {pid for pid, _ in lines} and 1 <= len({pid for pid, _ in lines}) <= 2
    assert parallel.parsed == serial.parsed == 24
    assert list(changes.changed) == list(serial.entries)  # the folder's order, as one process gives it
    assert {s: (d.digest, d.deal, d.sources) for s, d in parallel.deals.items()} == {
        s: (d.digest, d.deal, d.sources) for s, d in serial.deals.items()}
    assert parallel.problems == serial.problems and "broken" in parallel.problems
    assert {s: e.stamps for s, e in parallel.entries.items()} == {s: e.stamps for s, e in serial.entries.items()}
