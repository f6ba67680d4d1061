"""`dealrooms publish`: fresh build, atomic swap, deleted deals removed, one zip per deal."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from protectutil import copy_project, every_byte, open_page, set_passwords, slugs


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    set_passwords(monkeypatch, project, tmp_path / "cache")
    return project


def publish(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["publish", *args])


def test_publish_zip_builds_swaps_and_reports(project: Path) -> None:
    result = publish("--zip")
    assert result.exit_code == 0, result.output + repr(result.exception)
    deals = slugs(project)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Deal", "URL", "path", "Protected", "Password", "source", "Files", "Size"]
    for slug in deals:
        row = next(line for line in lines if line.startswith(slug + " "))
        assert f"/{slug}/" in row and " yes " in row and f"env DEALROOMS_PASSWORD_" in row
        open_page(f"unlock-{slug}-7319-Zq", (project / "site" / slug / "plan" / "index.html").read_bytes())
        with zipfile.ZipFile(project / "dist" / f"{slug}.zip") as archive:
            names = archive.namelist()
        assert f"{slug}/index.html" in names and "assets/dealrooms/unlock.js" in names
        assert not [n for n in names if n.split("/")[0] in set(deals) - {slug}]  # nothing of the other deals
    assert not [p for p in project.iterdir() if p.name.startswith(".site.")]  # no staging left behind


def test_failed_publish_leaves_the_old_output_untouched(project: Path) -> None:
    assert publish("--zip").exit_code == 0
    before = every_byte(project / "site")
    zips = {p.name: p.read_bytes() for p in (project / "dist").iterdir()}
    broken = project / "dealrooms" / f"{slugs(project)[0]}.yml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    result = publish("--zip")
    assert result.exit_code != 0
    message = str(result.exception)
    assert "left untouched" in message and "titel" in message
    assert every_byte(project / "site") == before
    assert {p.name: p.read_bytes() for p in (project / "dist").iterdir()} == zips
    assert not [p for p in project.iterdir() if p.name.startswith(".site.")]


def test_missing_password_fails_publish_naming_the_deal(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slug = slugs(project)[-1]
    monkeypatch.delenv("DEALROOMS_PASSWORD_" + slug.upper().replace("-", "_"))
    result = publish()
    assert result.exit_code != 0
    assert f"{slug}: run `dealrooms password {slug}`" in str(result.exception)
    assert not (project / "site").exists()


def test_deleted_deal_disappears_with_its_zip(project: Path) -> None:
    assert publish("--zip").exit_code == 0
    gone = slugs(project)[0]
    assert (project / "site" / gone).is_dir()
    (project / "dealrooms" / f"{gone}.yml").unlink()
    result = publish("--zip")
    assert result.exit_code == 0, repr(result.exception)
    assert not (project / "site" / gone).exists()
    assert not (project / "dist" / f"{gone}.zip").exists()
    assert f"removed deleted deal(s): {gone}" in result.stdout
    assert all((project / "site" / s / "index.html").is_file() for s in slugs(project))
