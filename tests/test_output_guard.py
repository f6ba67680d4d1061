"""The output allow-list: a build writes only what it knows, zips hold only that,
no deal replaces a shared folder, and every file carries the build's time."""

from __future__ import annotations

import datetime as dt
import os
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from mkdocs.exceptions import Abort

from buildutil import build_site, set_plugin_options
from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin.mkdocs_adapter.publish import write_zips
from dealrooms_plugin.outputs import AllowedOutputs, settle

HOOK = '''
from pathlib import Path

def on_post_build(config, **kwargs):
    site = Path(config.site_dir)
    (site / "leak.txt").write_text("left by another plugin")
    (site / "drafts" / "notes").mkdir(parents=True)
    (site / "drafts" / "notes" / "q3.txt").write_text("pipeline notes")
    (site / "kestrel-freight" / "extra.html").write_text("not the deal's")
'''


def test_a_file_the_build_did_not_produce_fails_the_build_and_is_removed(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    set_plugin_options(project, protect=False)
    (project / "hooks.py").write_text(HOOK, encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "hooks:\n  - hooks.py\n", encoding="utf-8")
    with pytest.raises(Abort):
        build_site(project)
    assert "3 file(s) in" in caplog.text and "not part of this build's output and were removed" in caplog.text
    for name in ("leak.txt", "drafts/notes/q3.txt", "kestrel-freight/extra.html"):
        assert f"  {name}" in caplog.text
    site = project / "site"
    assert not (site / "leak.txt").exists() and not (site / "drafts").exists()
    assert not (site / "kestrel-freight" / "extra.html").exists()
    assert (site / "kestrel-freight" / "index.html").is_file()  # the build's own files stay


def test_the_examples_build_with_nothing_stray(project: Path) -> None:
    set_plugin_options(project, protect=False)
    site = build_site(project)
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "404.html", "sitemap.xml", "sitemap.xml.gz", "search/search_index.json"} <= names
    assert "kestrel-freight/calendar.ics" in names


def test_a_deal_whose_folder_is_a_root_page_is_refused(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Not a reserved name, but a page of the site's own docs: the deal would replace it."""
    set_plugin_options(project, protect=False)
    docs = project / "docs"
    (docs / "pricing").mkdir(parents=True)
    (docs / "pricing" / "index.md").write_text("# Our pricing\n", encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("docs_dir: dealrooms", "docs_dir: docs"), encoding="utf-8")
    deal = (project / "dealrooms" / "marlow-vine.yml").read_text(encoding="utf-8")
    (project / "dealrooms" / "pricing.yml").write_text(deal, encoding="utf-8")
    with pytest.raises(Abort):
        build_site(project)
    assert "pricing.yml: the deal's web address /pricing/ is taken by the site's shared files" in caplog.text
    assert "Traceback" not in caplog.text
    page = project / "site" / "pricing" / "index.html"
    assert not page.exists() or "Marlow" not in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("slug", ["assets", "search"])
def test_publish_of_a_deal_named_like_a_shared_folder_fails(project: Path, slug: str) -> None:
    set_plugin_options(project, protect=False)
    deal = (project / "dealrooms" / "marlow-vine.yml").read_text(encoding="utf-8")
    (project / "dealrooms" / f"{slug}.yml").write_text(deal, encoding="utf-8")
    result = CliRunner().invoke(main, ["publish", "--zip"])
    assert result.exit_code != 0
    assert "published to" not in result.output
    assert f"{slug}.yml" in str(result.exception)
    assert not (project / "dist").exists()


def test_zips_refuse_a_file_that_is_not_part_of_the_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for path in ("index.html", "assets/app.js", "acme/index.html", "acme/blobs/a.bin", "acme.yml"):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(path)
    allowed = AllowedOutputs(frozenset({"index.html", "assets/app.js"}), {"acme": frozenset({"index.html", "blobs/a.bin"})})
    with pytest.raises(DealroomsError, match=r"1 file\(s\) are not part of the build's output; no zip was written:\n  acme.yml"):
        write_zips(site, ["acme"], tmp_path / "dist", allowed=allowed, when=time.time())
    assert not (tmp_path / "dist").exists()
    (site / "acme.yml").unlink()
    (zipped,) = write_zips(site, ["acme"], tmp_path / "dist", allowed=allowed, when=time.time())
    with zipfile.ZipFile(zipped) as archive:
        assert archive.namelist() == ["acme/blobs/a.bin", "acme/index.html", "assets/app.js", "index.html"]


def test_settle_reports_links_and_unknown_folders(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "acme").mkdir(parents=True)
    (site / "acme" / "index.html").write_text("ok")
    (site / "acme" / "deal.yml").symlink_to(tmp_path)  # a link is never output, whatever it points to
    (site / "logos").mkdir()
    (site / "logos" / "x.svg").write_text("<svg/>")
    allowed = AllowedOutputs(frozenset(), {"acme": frozenset({"index.html"})})
    assert settle(site, allowed, remove=False) == ["acme/deal.yml", "logos/x.svg"]
    assert settle(site, allowed) == ["acme/deal.yml", "logos/x.svg"]
    assert settle(site, allowed) == []
    assert sorted(p.name for p in site.rglob("*")) == ["acme", "index.html"]


def test_every_output_file_and_zip_member_carries_the_build_time(project: Path) -> None:
    """An unchanged deal must not keep the time of the build that first wrote it."""
    set_plugin_options(project, protect=False)
    assert CliRunner().invoke(main, ["publish", "--zip"]).exit_code == 0
    long_ago = dt.datetime(2001, 2, 3, 4, 5, 6).timestamp()
    for path in (project / "site").rglob("*"):  # as if the first build had run long ago
        os.utime(path, (long_ago, long_ago), follow_symlinks=False)
    edited = project / "dealrooms" / "marlow-vine.yml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("MSA redlines agreed", "MSA redlines signed"), encoding="utf-8")
    started = time.time()
    result = CliRunner().invoke(main, ["publish", "--zip"])
    assert result.exit_code == 0, repr(result.exception)
    times = {p.relative_to(project / "site").as_posix(): p.stat().st_mtime for p in (project / "site").rglob("*")}
    old = sorted(path for path, mtime in times.items() if mtime < started - 2)
    assert not old, old[:10]
    assert len(set(times.values())) == 1  # one time for everything: it says nothing about any deal
    for archive_path in (project / "dist").glob("*.zip"):
        with zipfile.ZipFile(archive_path) as archive:
            stamps = {info.date_time for info in archive.infolist()}
        assert len(stamps) == 1, (archive_path.name, stamps)
        assert dt.datetime(*stamps.pop()).timestamp() >= started - 4  # zip times have a 2 s resolution


def test_source_date_epoch_sets_the_build_time(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_plugin_options(project, protect=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    site = build_site(project)
    assert {p.stat().st_mtime for p in site.rglob("*")} == {1700000000}


def test_under_serve_a_deal_named_like_a_shared_folder_never_replaces_it(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The preview keeps running with such a deal, and the shared folder stays whole."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    set_plugin_options(project, protect=False)
    deal = (project / "dealrooms" / "marlow-vine.yml").read_text(encoding="utf-8")
    (project / "dealrooms" / "search.yml").write_text(deal, encoding="utf-8")
    config = load_config(str(project / "mkdocs.yml"))
    plugin = config.plugins["dealrooms"]
    plugin.on_startup(command="serve", dirty=False)
    try:
        build(config)
    finally:
        plugin.on_startup(command="build", dirty=False)
    site = Path(config.site_dir)
    assert (site / "search" / "search_index.json").is_file()  # Material's index, not replaced
    assert not (site / "search" / "index.html").exists()  # no deal (or its error page) in its place
    assert "search.yml: the deal's web address /search/ is taken" in caplog.text
    assert (site / "marlow-vine" / "index.html").is_file()
