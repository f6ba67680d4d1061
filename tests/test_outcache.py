"""The persistent output cache used by incremental builds."""

from __future__ import annotations

from pathlib import Path

from dealrooms_plugin.outcache import OutputCache


def test_store_lookup_and_link(tmp_path: Path) -> None:
    source = tmp_path / "deal.yml"
    source.write_text("deal: 1\n")
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k1", [source], {"index.html": b"<p>hi</p>", "plan/index.html": b"plan"})
    cache.save()

    again = OutputCache(tmp_path / "cache")  # a new process
    assert again.lookup("deal", "k1") is not None
    assert again.lookup("deal", "k2") is None  # another today, version or option
    site = tmp_path / "site" / "deal"
    assert again.link_into("deal", site) == 2
    assert (site / "plan" / "index.html").read_bytes() == b"plan"

    source.write_text("deal: 2\n")  # an input changed
    assert again.lookup("deal", "k1") is None


def test_missing_output_file_is_a_miss(tmp_path: Path) -> None:
    source = tmp_path / "deal.yml"
    source.write_text("x")
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k", [source], {"index.html": b"x"})
    (tmp_path / "cache" / "deals" / "deal" / "index.html").unlink()
    assert cache.lookup("deal", "k") is None


def test_forget_deleted_deals(tmp_path: Path) -> None:
    source = tmp_path / "a.yml"
    source.write_text("x")
    cache = OutputCache(tmp_path / "cache")
    cache.store("a", "k", [source], {"index.html": b"x"})
    cache.store("b", "k", [source], {"index.html": b"y"})
    cache.forget_others({"a"})
    cache.save()
    assert set(OutputCache(tmp_path / "cache").entries) == {"a"}
    assert not (tmp_path / "cache" / "deals" / "b").exists()


def test_corrupt_manifest_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "manifest.json").write_text("{not json")
    assert OutputCache(tmp_path / "cache").entries == {}
