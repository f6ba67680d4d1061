"""Links that leave the project (issue 10, finding 1, the loading side).

A deal file, template, folder or logo is classified by the path it is listed
under; where a link leads is checked only to refuse targets outside the
project, with the file and line of the entry that names them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dealrooms_plugin import DealroomsError, InvalidDeal
from dealrooms_plugin.load import discover_deals, load_deal, load_deals

DEAL = "deal:\n  title: T\n  buyer: {name: Kestrel}\n  seller: {name: Orbisoft}\n  target_date: 2027-02-15\n"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``project/dealrooms/`` with one good deal, and ``crm/`` outside the project."""
    project, crm = tmp_path / "project", tmp_path / "crm"
    (project / "dealrooms" / "_templates").mkdir(parents=True)
    crm.mkdir()
    (project / "dealrooms" / "good.yml").write_text(DEAL, encoding="utf-8")
    (crm / "acme.yml").write_text(DEAL, encoding="utf-8")
    (crm / "base.yml").write_text("deal:\n  stage: evaluation\n", encoding="utf-8")
    (crm / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (project / "mkdocs.yml").write_text("site_name: x\nplugins:\n  - dealrooms:\n      deals_dir: dealrooms\n", encoding="utf-8")
    return project, crm


def problems_of(path: Path, **kwargs) -> list[str]:
    with pytest.raises(InvalidDeal) as caught:
        load_deal(path, **kwargs)
    return [str(p) for p in caught.value.problems]


def test_a_linked_deal_file_is_listed_and_refused(layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    project, crm = layout
    monkeypatch.chdir(project)
    deals = project / "dealrooms"
    (deals / "acme.yml").symlink_to(crm / "acme.yml")
    assert deals / "acme.yml" in discover_deals(deals)
    assert problems_of(deals / "acme.yml", deals_dir=deals) == [
        f"dealrooms/acme.yml:1: this file leads outside the project (to {(crm / 'acme.yml').resolve()}) "
        "(hint: copy the file into the project instead of linking to it)"]
    result = load_deals(deals, project_dir=project)
    assert set(result.deals) == {"good"} and set(result.problems) == {"acme"}


def test_a_broken_link_is_reported_not_skipped(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    deals = project / "dealrooms"
    (deals / "gone.yml").symlink_to(project / "nowhere.yml")
    assert deals / "gone.yml" in discover_deals(deals)
    assert "cannot read the file" in problems_of(deals / "gone.yml", deals_dir=deals)[0]


def test_a_linked_template_or_templates_folder_is_refused(layout: tuple[Path, Path]) -> None:
    project, crm = layout
    deals = project / "dealrooms"
    (deals / "_templates" / "base.yml").symlink_to(crm / "base.yml")
    (deals / "acme.yml").write_text("extends: base\n" + DEAL, encoding="utf-8")
    [problem] = problems_of(deals / "acme.yml", deals_dir=deals, project_dir=project)
    assert problem.startswith(f"{deals / '_templates' / 'base.yml'}:1: this file leads outside the project")

    (deals / "_templates" / "base.yml").unlink()
    (deals / "_templates").rmdir()
    (deals / "_templates").symlink_to(crm)
    [problem] = problems_of(deals / "acme.yml", deals_dir=deals, project_dir=project)
    assert "_templates/base.yml:1: this file leads outside the project" in problem


def test_a_linked_deals_folder_is_refused(layout: tuple[Path, Path]) -> None:
    project, crm = layout
    (project / "linked").symlink_to(crm)
    with pytest.raises(DealroomsError, match="the deals folder leads outside the project"):
        discover_deals(project / "linked", project_dir=project)
    # Without a project_dir, the deals folder's parent (as written) is the project: the files are refused.
    assert "this file leads outside the project" in problems_of(project / "linked" / "acme.yml")[0]


def test_a_linked_logo_or_logo_folder_is_refused_at_the_logo_line(layout: tuple[Path, Path]) -> None:
    project, crm = layout
    deals = project / "dealrooms"
    (deals / "logos").symlink_to(crm)
    (deals / "direct.svg").symlink_to(crm / "logo.svg")
    for logo in ("logos/logo.svg", "direct.svg", "../../crm/logo.svg", str(crm / "logo.svg")):
        (deals / "acme.yml").write_text(DEAL.replace("{name: Kestrel}", f"{{name: Kestrel, logo: {logo}}}"), encoding="utf-8")
        [problem] = problems_of(deals / "acme.yml", deals_dir=deals, project_dir=project)
        assert problem.startswith(f"{deals / 'acme.yml'}:3: deal.buyer.logo: logo {logo} leads outside the project"), problem


def test_links_inside_the_project_are_fine(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    deals = project / "dealrooms"
    (project / "shared").mkdir()
    (project / "shared" / "acme.yml").write_text(DEAL, encoding="utf-8")
    (deals / "acme.yml").symlink_to(project / "shared" / "acme.yml")
    loaded = load_deal(deals / "acme.yml", deals_dir=deals, project_dir=project)
    assert loaded.path == deals / "acme.yml"  # the path as listed, not the target


def test_check_refuses_a_linked_deal_file(layout: tuple[Path, Path]) -> None:
    project, crm = layout
    (project / "dealrooms" / "acme.yml").symlink_to(crm / "acme.yml")
    for args in ([], ["dealrooms/acme.yml"]):
        result = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", "check", *args],
                                cwd=project, capture_output=True, text=True)
        assert result.returncode == 1
        assert "dealrooms/acme.yml:1: this file leads outside the project" in result.stdout
