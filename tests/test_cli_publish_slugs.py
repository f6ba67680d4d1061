"""`dealrooms publish SLUG...`: only the named deals are replaced; every other deal's output stays as it was."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from protectutil import copy_project, open_page, password_for, set_passwords, slugs


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-11-23")
    set_passwords(monkeypatch, project, tmp_path / "cache")
    return project


def publish(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["publish", *args])


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file and folder below ``folder``: bytes (files), modification time (ns) and inode."""
    out = {}
    for where, _, names in os.walk(folder):
        for path in [where, *(os.path.join(where, n) for n in names)]:
            st = os.stat(path)
            data = Path(path).read_bytes() if os.path.isfile(path) else b""
            out[os.path.relpath(path, folder)] = (data, st.st_mtime_ns, st.st_ino)
    return out


def html_of(site: Path, slug: str) -> str:
    """The decrypted overview page of a published (sealed) deal."""
    return open_page(password_for(slug), (site / slug / "index.html").read_bytes())[1]["html"]


def edit(project: Path, slug: str, old: str, new: str) -> None:
    path = project / "dealrooms" / f"{slug}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_publish_one_of_three_leaves_the_others_untouched(project: Path) -> None:
    first = publish("--zip")
    assert first.exit_code == 0, first.output + repr(first.exception)
    deals = slugs(project)
    assert len(deals) == 3
    named, others = deals[1], [d for d in deals if d != deals[1]]
    site = project / "site"
    before = {slug: snapshot(site / slug) for slug in deals}
    shared_before = {p: (site / p).read_bytes() for p in ("index.html", "404.html", "assets/dealrooms/dealrooms.css")}
    zips_before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (project / "dist").iterdir()}
    named_before = (site / named / "index.html").read_bytes()
    # The others change too: a named publish must not put their new output into the site.
    edit(project, named, "title:", "title: Renamed —")
    edit(project, others[0], "title:", "title: Not published —")

    result = publish(named, "--zip")
    assert result.exit_code == 0, result.output + repr(result.exception)

    for slug in others:
        assert snapshot(site / slug) == before[slug], f"{slug} was touched"
    assert {p: (site / p).read_bytes() for p in shared_before} == shared_before
    assert (site / named / "index.html").read_bytes() != named_before
    assert "Renamed —" in html_of(site, named)
    assert "Not published —" not in html_of(site, others[0])
    # Only the named deal's zip was written again.
    zips_after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (project / "dist").iterdir()}
    assert {k: v for k, v in zips_after.items() if k != f"{named}.zip"} == {
        k: v for k, v in zips_before.items() if k != f"{named}.zip"}
    assert zips_after[f"{named}.zip"][0] != zips_before[f"{named}.zip"][0]
    with zipfile.ZipFile(project / "dist" / f"{named}.zip") as archive:
        names = archive.namelist()
    assert f"{named}/index.html" in names and not [n for n in names if n.split("/")[0] in others]
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:3]] == [named]  # the table lists the named deal only
    assert f"published only {named}; 2 other deal(s) in site left as they were" in result.stdout
    assert not [p for p in project.iterdir() if p.name.startswith(".site.")]  # no staging left behind


def test_unchanged_other_deals_are_not_rendered_again(project: Path) -> None:
    from dealrooms_plugin.mkdocs_adapter.publish import publish as run_publish

    assert publish().exit_code == 0
    named = slugs(project)[0]
    edit(project, named, "title:", "title: Renamed —")
    report = run_publish(Path("mkdocs.yml"), only=(named,))
    assert report.rendered == [named]
    assert [d.slug for d in report.deals] == [named]


def test_unknown_slug_names_the_deals_and_writes_nothing(project: Path) -> None:
    assert publish().exit_code == 0
    before = snapshot(project / "site")
    result = publish(slugs(project)[0], "brightwater-foods")
    assert result.exit_code != 0
    assert str(result.exception) == (
        f"unknown deal 'brightwater-foods' (deals are: {', '.join(slugs(project))}); nothing was published")
    assert snapshot(project / "site") == before


def test_slugs_with_shard_are_refused(project: Path) -> None:
    result = publish(slugs(project)[0], "--shard", "1/2")
    assert result.exit_code == 2
    assert "--shard and deal names do not go together" in result.output
    assert not (project / "site").exists()


def test_an_invalid_deal_stops_a_named_publish(project: Path) -> None:
    assert publish().exit_code == 0
    before = snapshot(project / "site")
    named, broken = slugs(project)[:2]
    edit(project, broken, "title:", "titel:")
    result = publish(named)
    assert result.exit_code != 0 and "titel" in str(result.exception)
    assert snapshot(project / "site") == before


def test_changed_shared_files_ask_for_a_full_publish(project: Path) -> None:
    assert publish().exit_code == 0
    css = project / "site" / "assets" / "dealrooms" / "dealrooms.css"
    css.write_text("/* an older Dealrooms */\n", encoding="utf-8")
    before = snapshot(project / "site")
    named = slugs(project)[0]
    edit(project, named, "title:", "title: Renamed —")
    result = publish(named)
    assert result.exit_code != 0
    assert "assets/dealrooms/dealrooms.css" in str(result.exception)
    assert "without deal names" in str(result.exception)
    assert snapshot(project / "site") == before


def test_named_publish_without_a_site_writes_just_those_deals(project: Path) -> None:
    named = slugs(project)[0]
    result = publish(named)
    assert result.exit_code == 0, repr(result.exception)
    site = project / "site"
    assert (site / named / "index.html").is_file() and (site / "404.html").is_file()
    assert not [s for s in slugs(project) if s != named and (site / s).exists()]
