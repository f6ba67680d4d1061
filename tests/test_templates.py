"""Templates: the shipped ones work, `extends` merges, and mistakes are reported with file and line."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import InvalidDeal
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.scaffold import template_data, template_names

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "dealrooms" / "_templates").glob("*.yml"))

BASE = """\
people:
  - {id: sam, name: Sam Hale, side: seller, email: sam@orbisoft.example}
milestones:
  - {id: kickoff, title: Kick-off, owner: sam, due: target-8w}
  - id: security
    title: Security review
    owner: buyer
    due: target-6w
    after: [kickoff]
  - {id: legal, title: MSA agreed, owner: buyer, due: target-4w, after: [security]}
"""

DEAL_HEAD = """\
deal:
  title: A × S
  buyer: {name: A}
  seller: {name: S}
  target_date: 2027-03-01
"""


@pytest.fixture
def deals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "deals"
    (folder / "_templates").mkdir(parents=True)
    (folder / "_templates" / "base.yml").write_text(BASE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # problems show paths relative to the working directory
    return folder


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, deals_dir: Path) -> list[str]:
    with pytest.raises(InvalidDeal) as info:
        load_deal(path, deals_dir=deals_dir)
    return [str(p) for p in info.value.problems]


# --- the shipped templates --------------------------------------------------------


def test_there_is_a_shipped_template() -> None:
    assert "saas-enterprise" in [p.stem for p in SHIPPED]


@pytest.mark.parametrize("template", SHIPPED, ids=lambda p: p.stem)
def test_shipped_template_is_a_short_relative_acyclic_plan(template: Path, tmp_path: Path) -> None:
    folder = tmp_path / "deals"
    shutil.copytree(template.parent, folder / "_templates")
    deal_file = write(folder / "x.yml", f"extends: {template.stem}\n" + DEAL_HEAD)
    deal = load_deal(deal_file, deals_dir=folder).deal
    assert 5 <= len(deal.milestones) <= 15  # short plans win
    assert all(not isinstance(m.due, dt.date) for m in deal.milestones)  # every date relative to the target
    plan = schedule(deal, dt.date(2026, 11, 1))
    assert plan.critical_path[-1] == max(plan.milestones, key=lambda p: p.planned).id
    assert max(p.planned for p in plan.milestones) == deal.deal.target_date


def test_saas_enterprise_dates_for_a_target() -> None:
    folder = ROOT / "dealrooms"
    data = template_data(folder, "saas-enterprise")
    ids = [m["id"] for m in data["milestones"]]
    assert ids[0] == "discovery" and ids[-1] == "go-live" and "security-review" in ids
    assert "saas-enterprise" in template_names(folder)


@pytest.mark.parametrize("template", SHIPPED, ids=lambda p: p.stem)
def test_new_from_each_shipped_template_passes_check(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(template.parent, tmp_path / "dealrooms" / "_templates")
    (tmp_path / "mkdocs.yml").write_text("site_name: X\nplugins:\n  - dealrooms:\n      deals_dir: dealrooms\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-11-22")
    created = CliRunner().invoke(main, ["new", "acme", "--template", template.stem, "--seller", "Orbisoft"])
    assert created.exit_code == 0, created.output
    check = CliRunner().invoke(main, ["check"])
    assert check.exit_code == 0, check.output
    deal = load_deal(tmp_path / "dealrooms" / "acme.yml").deal
    assert deal.deal.target_date == dt.date(2027, 2, 20)  # today + 90 days
    plan = schedule(deal, dt.date(2026, 11, 22))
    assert plan.overdue == () and plan.health == "on_track"  # the default target leaves room for the whole plan


# --- extends: merging ---------------------------------------------------------------


def test_deal_overrides_template_milestones_by_id_and_adds_its_own(deals: Path) -> None:
    deal_file = write(deals / "a.yml", "extends: base\n" + DEAL_HEAD + """\
people:
  - {id: mia, name: Mia Berg, side: buyer}
milestones:
  - {id: security, owner: mia, status: done, done_on: 2027-01-20}
  - {id: pilot, title: Pilot, owner: mia, due: target-2w, after: [legal]}
""")
    deal = load_deal(deal_file, deals_dir=deals).deal
    assert [p.id for p in deal.people] == ["sam", "mia"]  # lists concatenate
    assert [m.id for m in deal.milestones] == ["kickoff", "security", "legal", "pilot"]
    security = deal.milestones[1]
    assert (security.title, security.owner, security.status, security.after) == (
        "Security review", ("mia",), "done", ("kickoff",))  # untouched fields come from the template
    plan = schedule(deal, dt.date(2027, 1, 1))
    assert plan.get("kickoff").planned == dt.date(2027, 1, 4)
    assert plan.get("pilot").planned == dt.date(2027, 2, 15)


def test_templates_extend_templates(deals: Path) -> None:
    write(deals / "_templates" / "eu.yml", """\
        extends: base
        milestones:
          - {id: legal, due: target-3w}
          - {id: dpa, title: DPA signed, owner: buyer, due: target-3w, after: [security]}
    """)
    deal = load_deal(write(deals / "a.yml", "extends: eu\n" + DEAL_HEAD), deals_dir=deals).deal
    assert [m.id for m in deal.milestones] == ["kickoff", "security", "legal", "dpa"]
    assert schedule(deal, dt.date(2027, 1, 1)).get("legal").planned == dt.date(2027, 2, 8)
    assert [m["id"] for m in template_data(deals, "eu")["milestones"]] == ["kickoff", "security", "legal", "dpa"]


# --- mistakes, with file and line ------------------------------------------------------


def test_missing_template_points_at_extends(deals: Path) -> None:
    deal_file = write(deals / "a.yml", DEAL_HEAD + "extends: enterprise\n")
    assert problems_of(deal_file, deals) == [
        "deals/a.yml:6: extends: unknown template 'enterprise' (hint: templates are: base)"
    ]


def test_bad_offset_in_a_template_is_reported_against_the_template(deals: Path) -> None:
    write(deals / "_templates" / "base.yml", BASE.replace("due: target-6w", "due: target-6x"))
    deal_file = write(deals / "a.yml", "extends: base\n" + DEAL_HEAD)
    assert problems_of(deal_file, deals) == [
        "deals/_templates/base.yml:8: milestones[1].due: bad offset 'target-6x'; expected target-30d, target-6w, "
        "target+2w or target-10bd (d = days, w = weeks, bd = business days); step 'security' of template 'base', "
        "merged into deals/a.yml"
    ]


@pytest.mark.parametrize("bad", ["target-1.5w", "target-", "target-3 weeks", "targets-3w"])
def test_bad_offsets_in_a_deal(deals: Path, bad: str) -> None:
    deal_file = write(deals / "a.yml", DEAL_HEAD + f"milestones:\n  - {{id: a, title: A, owner: buyer, due: {bad}}}\n")
    (problem,) = problems_of(deal_file, deals)
    assert problem.startswith(f"deals/a.yml:7: milestones[0].due: bad offset '{bad}'")


def test_unknown_after_in_a_template_points_at_the_template(deals: Path) -> None:
    write(deals / "_templates" / "base.yml", BASE.replace("after: [security]", "after: [securty]"))
    deal_file = write(deals / "a.yml", "extends: base\n" + DEAL_HEAD)
    assert problems_of(deal_file, deals) == [
        "deals/_templates/base.yml:10: milestones[2].after[0]: unknown milestone 'securty'; step 'legal' of template "
        "'base', merged into deals/a.yml (hint: did you mean 'security'?)"
    ]


def test_unknown_after_in_a_deal_points_at_the_deal(deals: Path) -> None:
    deal_file = write(deals / "a.yml", "extends: base\n" + DEAL_HEAD + "milestones:\n  - {id: legal, after: [pilot]}\n")
    assert problems_of(deal_file, deals) == [
        # The deal's own first step (the third of the merged plan).
        "deals/a.yml:8: milestones[0].after[0]: unknown milestone 'pilot' (hint: milestones are: kickoff, security, legal)"
    ]


def test_a_deal_replaces_the_dependencies_of_a_template_step(deals: Path) -> None:
    # `after` of an overridden step is replaced, not appended to: a deal can drop a dependency.
    deal_file = write(deals / "a.yml", "extends: base\n" + DEAL_HEAD + (
        "milestones:\n  - {id: kickoff, status: done, done_on: 2027-01-04}\n  - {id: legal, after: [kickoff]}\n"))
    deal = load_deal(deal_file, deals_dir=deals).deal
    assert deal.milestones[2].after == ("kickoff",)
    plan = schedule(deal, dt.date(2027, 1, 25))  # security is 7 days overdue, but legal no longer waits for it
    assert plan.get("legal").projected == dt.date(2027, 2, 1)
    same = write(deals / "b.yml", "extends: base\n" + DEAL_HEAD + "milestones:\n  - {id: legal, after: [security]}\n")
    assert load_deal(same, deals_dir=deals).deal.milestones[2].after == ("security",)  # not duplicated


def test_cycle_through_template_and_deal_names_the_milestones(deals: Path) -> None:
    deal_file = write(deals / "a.yml", "extends: base\n" + DEAL_HEAD + "milestones:\n  - id: kickoff\n    after: [legal]\n")
    (problem,) = problems_of(deal_file, deals)
    assert problem.startswith("deals/a.yml:9: milestones[0].after: dependency cycle kickoff → legal → security → kickoff")


def test_template_that_extends_itself(deals: Path) -> None:
    write(deals / "_templates" / "loop.yml", "extends: loop\nmilestones: []\n")
    deal_file = write(deals / "a.yml", "extends: loop\n" + DEAL_HEAD)
    assert problems_of(deal_file, deals) == [
        "deals/_templates/loop.yml:1: extends: template 'loop' extends itself (directly or through other templates)"
    ]


def test_check_command_reports_template_problems_with_lines(deals: Path) -> None:
    write(deals / "_templates" / "base.yml", BASE.replace("owner: buyer, due: target-4w", "owner: legal-team, due: target-4w"))
    write(deals / "a.yml", "extends: base\n" + DEAL_HEAD)
    result = CliRunner().invoke(main, ["check", str(deals / "a.yml")])
    assert result.exit_code == 1
    assert "deals/_templates/base.yml:10: milestones[2].owner: unknown person 'legal-team'" in result.output
