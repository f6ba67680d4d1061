"""The persistent output cache used by incremental builds."""

from __future__ import annotations

from pathlib import Path

import json
import stat

from dealrooms_plugin.outcache import FORMAT, OutputCache


def kept_folder(root: Path, slug: str) -> Path:
    """The one folder of ``slug``'s kept output (named after the deal and its key)."""
    (folder,) = (root / "deals").glob(f"{slug}.*")
    return folder


def test_store_lookup_and_link(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k1", {"index.html": b"<p>hi</p>", "plan/index.html": b"plan"})
    cache.save()

    again = OutputCache(tmp_path / "cache")  # a new process
    assert again.lookup("deal", "k1") is not None
    assert again.lookup("deal", "k2") is None  # another key: other contents, today, version or option
    site = tmp_path / "site" / "deal"
    assert again.link_into("deal", site) == 2
    assert (site / "plan" / "index.html").read_bytes() == b"plan"


def test_missing_output_file_is_a_miss(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k", {"index.html": b"x"})
    (kept_folder(tmp_path / "cache", "deal") / "index.html").unlink()
    assert cache.lookup("deal", "k") is None


def test_forget_deleted_deals(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.store("a", "k", {"index.html": b"x"})
    cache.store("b", "k", {"index.html": b"y"})
    cache.forget_others({"a"})
    cache.save()
    assert set(OutputCache(tmp_path / "cache").entries) == {"a"}
    assert not list((tmp_path / "cache" / "deals").glob("b.*"))


def test_corrupt_manifest_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "manifest.json").write_text("{not json")
    assert OutputCache(tmp_path / "cache").entries == {}


def _site_with(cache: OutputCache, site: Path, slugs: list[str]) -> None:
    for slug in slugs:
        cache.place(slug, site / slug)
    cache.release()


def test_held_folders_move_back_only_when_they_are_exactly_the_kept_files(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    for slug in ("same", "touched", "restored"):
        cache.store(slug, "k", {"index.html": b"page", "plan/index.html": b"plan"})
    site = tmp_path / "site"
    _site_with(cache, site, ["same", "touched", "restored"])
    folder_before = (site / "same").stat().st_ino
    (site / "touched" / "notes.txt").write_text("added by hand")  # not what the cache holds
    (site / "restored" / "plan" / "index.html").unlink()
    (site / "restored" / "plan" / "index.html").write_bytes(b"plan")  # same bytes, another file

    cache.hold(site, ["same", "touched", "restored", "unknown"])
    assert not (site / "same").exists()
    _site_with(cache, site, ["same", "touched", "restored"])

    assert (site / "same").stat().st_ino == folder_before  # moved back whole
    assert not (site / "touched" / "notes.txt").exists()  # linked anew, without the stray file
    kept = kept_folder(tmp_path / "cache", "restored") / "plan" / "index.html"
    assert (site / "restored" / "plan" / "index.html").stat().st_ino == kept.stat().st_ino
    assert not (tmp_path / "cache" / "held").exists()


def test_output_of_a_build_killed_before_saving_is_never_taken_for_another_key(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k1", {"index.html": b"first"})
    cache.save()
    # A build renders the deal for another key (an edit, another day) and is killed before saving.
    killed = OutputCache(tmp_path / "cache")
    killed.store("deal", "k2", {"index.html": b"second"})
    # The next build has the first key again (the edit was undone): it must get the first output.
    again = OutputCache(tmp_path / "cache")
    found = again.lookup("deal", "k1")
    if found is not None:
        again.link_into("deal", tmp_path / "site")
        assert (tmp_path / "site" / "index.html").read_bytes() == b"first"
    assert again.lookup("deal", "k2") is None  # never saved: unknown
    again.forget_others({"deal"})  # output no manifest entry names is removed
    assert b"second" not in [p.read_bytes() for p in (tmp_path / "cache" / "deals").rglob("index.html")]


def test_a_manifest_naming_paths_outside_the_deal_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    (root / "deals" / "deal.k").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("not for the site")
    for files in (["../../../secret.txt"], ["/etc/passwd"], ["a/../../x"], [".hidden"], [3]):
        (root / "manifest.json").write_text(json.dumps(
            {"format": FORMAT, "deals": {"deal": {"key": "k", "files": files}}}))
        assert OutputCache(root).entries == {}, files
    (root / "manifest.json").write_text(json.dumps(
        {"format": FORMAT, "deals": {"../up": {"key": "k", "files": ["index.html"]}}}))
    assert OutputCache(root).entries == {}


def test_cache_folders_are_private_and_the_manifest_is_0600(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.hold(tmp_path / "site", [])
    cache.store("deal", "k", {"index.html": b"x"})
    cache.save()
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache" / "deals").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache" / "manifest.json").stat().st_mode) == 0o600


def test_an_index_row_is_kept_for_its_key_only_and_read_back_as_data(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k1", {"index.html": b"<p>hi</p>"})
    cache.keep_row("deal", "k1", ((2, 1, 0, "deal"), "<tr><td>Deal</td></tr>"))
    cache.keep_row("deal", "k0", ((9,), "<tr>stale</tr>"))  # not the kept output's key: ignored
    cache.save()

    again = OutputCache(tmp_path / "cache")  # a new process
    assert again.row("deal", "k1") == ((2, 1, 0, "deal"), "<tr><td>Deal</td></tr>")  # a tuple again: sortable
    assert again.row("deal", "k2") is None
    again.store("deal", "k2", {"index.html": b"<p>new</p>"})  # output for a new key starts without a row
    assert again.row("deal", "k2") is None

    manifest = tmp_path / "cache" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["deals"]["deal"]["row"] = [[{"__class__": "os.system"}], "<tr></tr>"]  # not a sort key: the manifest is void
    manifest.write_text(json.dumps(data))
    assert OutputCache(tmp_path / "cache").entries == {}


def test_stale_output_goes_to_the_trash_and_is_removed_in_the_background(tmp_path: Path) -> None:
    # Removing files waits for the disk on some file systems (mounted with discard): never where they stand.
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k1", {"index.html": b"first", "plan/index.html": b"plan"})
    old = kept_folder(tmp_path / "cache", "deal")
    cache.store("deal", "k2", {"index.html": b"second"})
    assert not old.exists() and kept_folder(tmp_path / "cache", "deal").name.startswith("deal.k2")
    trash = tmp_path / "cache" / "trash"
    (moved,) = list(trash.iterdir())  # one rename, not removed yet: no thread runs before start_removing
    assert (moved / "plan" / "index.html").read_bytes() == b"plan"
    assert stat.S_IMODE(trash.stat().st_mode) == 0o700
    cache.release()  # a build waits for the trash at its end
    assert list(trash.iterdir()) == []


def test_trash_left_by_a_killed_build_is_emptied_by_the_next(tmp_path: Path) -> None:
    killed = OutputCache(tmp_path / "cache")
    killed.store("deal", "k1", {"index.html": b"first"})
    killed.store("deal", "k2", {"index.html": b"second"})  # killed before it emptied its trash
    killed.save()
    assert len(list((tmp_path / "cache" / "trash").iterdir())) == 1
    site = tmp_path / "site"
    nxt = OutputCache(tmp_path / "cache")
    nxt.hold(site, ["deal"])
    nxt.place("deal", site / "deal")
    nxt.release()
    assert list((tmp_path / "cache" / "trash").iterdir()) == []
    assert (site / "deal" / "index.html").read_bytes() == b"second"


def test_a_live_edit_leaves_the_trash_to_the_background(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path / "cache")
    cache.store("deal", "k1", {"index.html": b"first"})
    cache.store("deal", "k2", {"index.html": b"second"})
    cache.release(wait=False)
    remover = cache._remover
    assert remover is not None and remover.daemon  # never keeps a preview from exiting
    cache.release()  # the next build waits for it
    assert list((tmp_path / "cache" / "trash").iterdir()) == []
