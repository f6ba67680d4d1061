"""Symbolic links in the deals folder never publish what they point to (issue 10, finding 1).

A deal file, a folder of logos and a single logo reached through links, inside
the project and leaving it: the protected build and every zip of `publish --zip`
hold none of their bytes in the clear, and nothing from the deals folder is
copied into the site as it is.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from buildutil import build_site
from dealrooms_plugin.cli import main
from protectutil import copy_project, every_byte, open_page, sensitive_strings, set_passwords, slugs

CRM_MARKER = "crm-export-marker-5f0c2e"
OUTSIDE_MARKER = "outside-the-project-marker-93a1d7"
LOGO_MARKER = "linked-logo-marker-41b8"


def linked_project(base: Path) -> Path:
    """The examples with every kind of link the issue found:

    - ``dealrooms/acme-robotics.yml`` -> ``../crm-export/acme-robotics.yml`` (a deal file)
    - ``dealrooms/logos`` -> ``../brand-logos`` (a folder)
    - ``brand-logos/halden.svg`` -> ``../logo-sources/halden.svg`` (a logo a deal uses, inside the project)
    - ``brand-logos/x.svg`` and ``dealrooms/stray.svg`` -> a file outside the project (used by no
      deal, as ``/etc/passwd`` was)
    """
    project = copy_project(base / "project")
    deals = project / "dealrooms"
    (project / "crm-export").mkdir()
    acme = (deals / "kestrel-freight.yml").read_text(encoding="utf-8")
    acme = acme.replace("Kestrel Freight", "Acme Robotics").replace("kestrel", "acme")
    acme = acme.replace("logos/acme.svg", "logos/kestrel.svg")
    (project / "crm-export" / "acme-robotics.yml").write_text(f"# {CRM_MARKER}\n{acme}", encoding="utf-8")
    (deals / "acme-robotics.yml").symlink_to(Path("..") / "crm-export" / "acme-robotics.yml")

    shutil.move(deals / "logos", project / "brand-logos")
    (deals / "logos").symlink_to(Path("..") / "brand-logos", target_is_directory=True)
    (project / "logo-sources").mkdir()
    halden = project / "brand-logos" / "halden.svg"
    marked = halden.read_text(encoding="utf-8").replace("<svg ", f"<svg data-note='{LOGO_MARKER}' ", 1)
    (project / "logo-sources" / "halden.svg").write_text(marked, encoding="utf-8")
    halden.unlink()
    halden.symlink_to(Path("..") / "logo-sources" / "halden.svg")

    outside = base / "outside" / "passwd"
    outside.parent.mkdir()
    outside.write_text(f"root:x:0:0:{OUTSIDE_MARKER}:/root:/bin/bash\n", encoding="utf-8")
    (project / "brand-logos" / "x.svg").symlink_to(outside)
    (deals / "stray.svg").symlink_to(outside)  # the same, straight in the deals folder
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("links")
    with pytest.MonkeyPatch.context() as mp:
        project = linked_project(base)
        mp.chdir(project)
        mp.setenv("DEALROOMS_TODAY", "2026-11-22")
        passwords = set_passwords(mp, project, base / "keys")
        site = build_site(project, site_dir=str(base / "built"))  # mkdocs build
        result = CliRunner().invoke(main, ["publish", "--zip"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return project, site, passwords, result.stdout


def needles(project: Path) -> set[bytes]:
    """What must never be readable: the linked deal's facts, the markers, the linked files' bytes."""
    strings = sensitive_strings(project)["acme-robotics"] | {CRM_MARKER, OUTSIDE_MARKER, LOGO_MARKER}
    found = {s.encode("utf-8") for s in strings}
    found.add((project / "crm-export" / "acme-robotics.yml").read_bytes()[:200])
    return found


def zip_bytes(folder: Path) -> dict[str, bytes]:
    """Every member of every zip in ``folder`` (gzip members also unpacked)."""
    out = {}
    for archive_path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive_path) as archive:
            for name in archive.namelist():
                data = archive.read(name)
                out[f"{archive_path.name}!{name}"] = data
                if name.endswith(".gz"):
                    out[f"{archive_path.name}!{name}!unpacked"] = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    return out


def test_the_linked_deal_is_a_sealed_deal_like_the_others(built) -> None:  # type: ignore[no-untyped-def]
    project, site, passwords, report = built
    assert "acme-robotics" in slugs(project)
    row = next(line for line in report.splitlines() if line.startswith("acme-robotics "))
    assert " yes " in row
    _, payload = open_page(passwords["acme-robotics"], (site / "acme-robotics" / "index.html").read_bytes())
    assert "Acme Robotics" in payload["html"]


def test_nothing_from_the_deals_folder_is_copied_into_the_site(built) -> None:  # type: ignore[no-untyped-def]
    project, site, _, _ = built
    for folder in (site, project / "site"):
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*")]
        assert not [n for n in names if n.endswith((".yml", ".yaml"))], names
        assert not [n for n in names if n.split("/")[0] == "logos"], names
        assert not [p for p in folder.rglob("*") if p.is_symlink()]
        svgs = [n for n in names if n.endswith(".svg")]
        assert all(n.startswith("assets/") for n in svgs), svgs  # the theme's icons and the seller's brand


def test_no_linked_bytes_anywhere_in_the_build_or_the_zips(built) -> None:  # type: ignore[no-untyped-def]
    project, site, _, _ = built
    outputs = {**every_byte(site), **{f"published/{k}": v for k, v in every_byte(project / "site").items()},
               **zip_bytes(project / "dist")}
    assert any(k.startswith("acme-robotics.zip!") for k in outputs)
    for needle in sorted(needles(project)):
        for variant in {needle, needle.lower(), needle.upper()}:
            hits = [path for path, data in outputs.items() if variant in data]
            assert not hits, f"{needle!r} readable in {hits[:5]}"


def test_other_deals_zips_hold_nothing_of_the_linked_deal(built) -> None:  # type: ignore[no-untyped-def]
    project, _, _, _ = built
    for slug in slugs(project):
        if slug == "acme-robotics":
            continue
        with zipfile.ZipFile(project / "dist" / f"{slug}.zip") as archive:
            names = archive.namelist()
        assert not [n for n in names if "acme" in n or n.endswith((".yml", ".yaml"))], names


def test_a_deal_file_linked_from_outside_the_project_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from mkdocs.exceptions import Abort

    project = copy_project(tmp_path / "project", protect=False, brand=False)
    monkeypatch.chdir(project)
    outside = tmp_path / "elsewhere" / "orion.yml"
    outside.parent.mkdir()
    text = (project / "dealrooms" / "marlow-vine.yml").read_text(encoding="utf-8")
    outside.write_text(f"# {OUTSIDE_MARKER}\n{text}", encoding="utf-8")
    os.symlink(outside, project / "dealrooms" / "orion.yml")
    with pytest.raises(Abort):
        build_site(project, site_dir=str(tmp_path / "site"))
    assert "orion.yml" in caplog.text and "Traceback" not in caplog.text
    written = every_byte(tmp_path / "site") if (tmp_path / "site").exists() else {}
    assert not [k for k, v in written.items() if OUTSIDE_MARKER.encode() in v]
