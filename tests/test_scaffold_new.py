"""`dealrooms new`: templates listed in its help, no seller copied from another deal, past steps flagged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.scaffold import earliest_fitting_target, steps_before, template_data, template_description

MKDOCS = "site_name: Deals\ndocs_dir: deals\nplugins:\n  - dealrooms:\n      deals_dir: deals\n      protect: false\n"

PLAN = """\
# Field sales plan in five steps: discovery to go-live.
# (This line belongs to the same paragraph.)
#
# Everything after the first paragraph is for whoever edits the template.
milestones:
  - {id: discovery, title: Discovery call, owner: seller, due: target-10w}
  - {id: demo, title: Demo, owner: seller, due: target-8bd, after: [discovery]}
  - {id: signature, title: Contract signed, owner: buyer, due: target-3w, after: [demo]}
"""

# An example deal of another company: its seller must never end up in a new deal.
EXAMPLE = """\
deal:
  title: Halden × Lumina
  buyer: {name: Halden Health}
  seller: {name: Lumina Clinical}
  target_date: 2027-04-01
milestones:
  - {id: kickoff, title: Kick-off, owner: seller, due: target-8w}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "deals" / "_templates").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (tmp_path / "deals" / "_templates" / "field.yml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "deals" / "_templates" / "bare.yml").write_text("milestones: []\n", encoding="utf-8")
    (tmp_path / "deals" / "halden.yml").write_text(EXAMPLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-11-23")
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


# --- new --help lists the templates ---------------------------------------------------


def test_help_lists_the_projects_templates_with_their_descriptions(project: Path) -> None:
    result = run("new", "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the help wraps lines
    assert "Templates (in deals/_templates/): bare (no description: start the file with a # comment line) " \
           "field Field sales plan in five steps: discovery to go-live. (This line belongs to the same paragraph.)" in text
    assert "Everything after" not in text


def test_help_reads_the_config_named_before_it(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run("new", "-f", str(project / "mkdocs.yml"), "--help")
    assert "Field sales plan in five steps" in result.output


def test_help_without_a_project_says_none_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("new", "--help")
    assert result.exit_code == 0
    assert "Templates: none found, no project here (mkdocs.yml not found" in " ".join(result.output.split())


def test_help_of_a_project_without_templates(project: Path) -> None:
    for path in (project / "deals" / "_templates").iterdir():
        path.unlink()
    assert "Templates: none in deals/_templates/." in " ".join(run("new", "--help").output.split())


def test_the_shipped_templates_describe_themselves() -> None:
    folder = Path(__file__).resolve().parent.parent / "dealrooms" / "_templates"
    for path in folder.glob("*.yml"):
        description = template_description(path)
        assert description and len(description) <= 110, (path.name, description)


def test_a_description_is_printable_and_short(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text("# Plan \x1b[31mred\x1b[0m " + "word " * 100 + "\nmilestones: []\n", encoding="utf-8")
    description = template_description(path)
    assert description is not None and "\x1b" not in description and description.startswith("Plan [31mred[0m word")
    assert len(description) == 160 and description.endswith("…")


# --- the seller ------------------------------------------------------------------


def test_new_never_copies_another_deals_seller_and_check_refuses_until_it_is_set(project: Path) -> None:
    result = run("new", "acme-corp", "--template", "field")
    assert result.exit_code == 0, result.output
    path = project / "deals" / "acme-corp.yml"
    text = path.read_text(encoding="utf-8")
    assert "Lumina" not in text
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("  seller: {}  # TODO: your company's name"))
    assert f"to do: deals/acme-corp.yml:{line}: your company's name (seller)" in result.stderr
    check = run("check")
    assert check.exit_code == 1
    problems = [row for row in check.stdout.splitlines() if ": warning: " not in row]  # other deals' plan warnings
    assert problems == [f"deals/acme-corp.yml:{line}: deal.seller.name: required field missing (hint: add 'name:' here)"]
    path.write_text(text.replace("seller: {}", "seller: {name: Orbisoft}"), encoding="utf-8")
    assert run("check").exit_code == 0
    assert load_deal(path, deals_dir=project / "deals").deal.deal.title == "Acme Corp"  # no "×" with a placeholder


def test_the_seller_comes_from_the_option_or_the_projects_brand(project: Path) -> None:
    assert run("new", "acme", "--seller", "Orbisoft").exit_code == 0
    (project / "mkdocs.yml").write_text(MKDOCS + "      brand_name: Northwind\n", encoding="utf-8")
    assert run("new", "bolt").exit_code == 0
    assert run("check").exit_code == 0
    acme = load_deal(project / "deals" / "acme.yml").deal.deal
    bolt = load_deal(project / "deals" / "bolt.yml").deal.deal
    assert (acme.seller.name, acme.title) == ("Orbisoft", "Acme × Orbisoft")
    assert (bolt.seller.name, bolt.title) == ("Northwind", "Bolt × Northwind")


def test_a_templates_own_seller_is_inherited_not_written(project: Path) -> None:
    (project / "deals" / "_templates" / "ours.yml").write_text("deal:\n  seller: {name: Orbisoft}\n" + PLAN.split("\n", 4)[4],
                                                                encoding="utf-8")
    assert run("new", "acme", "-t", "ours").exit_code == 0
    text = (project / "deals" / "acme.yml").read_text(encoding="utf-8")
    assert "seller:" not in text.split("people:")[0]
    assert load_deal(project / "deals" / "acme.yml").deal.deal.seller.name == "Orbisoft"
    assert run("check").exit_code == 0


def test_a_broken_template_still_writes_nothing(project: Path) -> None:
    (project / "deals" / "_templates" / "bad.yml").write_text(
        "milestones:\n  - {id: a, title: A, owner: buyer, due: target-3x}\n", encoding="utf-8")
    result = run("new", "eta", "--template", "bad")
    assert result.exit_code != 0 and "bad.yml:2: milestones[0].due: bad offset 'target-3x'" in str(result.exception)
    assert "seller" not in str(result.exception)  # the seller left to fill in is not the reason
    assert not (project / "deals" / "eta.yml").exists()


# --- steps before today ---------------------------------------------------------------


def test_steps_before_today_are_flagged_with_a_target_that_fits(project: Path) -> None:
    # Today is Monday 2026-11-23; for a target of 2027-01-15 discovery (target-10w) is 2026-11-06.
    result = run("new", "acme", "-t", "field", "--target", "2027-01-15", "--seller", "Orbisoft")
    assert result.exit_code == 0, result.output
    text = (project / "deals" / "acme.yml").read_text(encoding="utf-8")
    assert "#   - {id: discovery, owner: seller}  # 2026-11-06 (target-10w) Discovery call" \
           "  <- TODO: before today: done already, or move target_date" in text
    assert "# 2027-01-05 (target-8bd) Demo\n" in text  # ahead: not flagged
    assert "# TODO: 1 step(s) fall before today for this target date (discovery):" in text
    assert "or move target_date to 2027-02-01 or later (the whole plan then lies ahead)." in text
    assert "note: 1 template step(s) fall before today for this target (discovery): mark them done, " \
           "or move target_date; 2027-02-01 or later fits the whole plan" in result.stderr
    # Flagged, not moved: the deal keeps the template's dates, so the plan shows the step as overdue.
    deal = load_deal(project / "deals" / "acme.yml").deal
    assert [p.milestone.id for p in schedule(deal, dt.date(2026, 11, 23)).overdue] == ["discovery"]


def test_the_suggested_target_is_the_first_that_fits(project: Path) -> None:
    base = template_data(project / "deals", "field")
    today = dt.date(2026, 11, 23)
    fits = earliest_fitting_target(base, dt.date(2027, 1, 15), today)
    assert fits == dt.date(2027, 2, 1)
    assert steps_before(base, fits, today) == [] and steps_before(base, fits - dt.timedelta(days=1), today) == ["discovery"]


def test_no_note_when_the_whole_plan_lies_ahead(project: Path) -> None:
    result = run("new", "acme", "-t", "field", "--seller", "Orbisoft")  # 90 days ahead
    assert "note:" not in result.stderr
    assert "before today" not in (project / "deals" / "acme.yml").read_text(encoding="utf-8")
