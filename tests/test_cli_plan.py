"""`dealrooms status` and `dealrooms new`, through click's runner, on projects built in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule

MKDOCS = """\
site_name: Deals
docs_dir: deals
plugins:
  - dealrooms:
      deals_dir: deals
      protect: false
      health: {at_risk_slip_days: 3, off_track_slip_days: 10}
      stages:
        - {name: evaluation, exit_criteria: [security], probability: 30}
        - {name: negotiation, exit_criteria: [signature], probability: 70}
        - {name: closed_won, probability: 100}
"""

# Dates count back from the target: with target 2027-03-01 (a Monday) the plan is
# kickoff 2027-01-04, security 2027-01-18, legal 2027-02-01, signature 2027-02-15, go-live 2027-03-01.
TEMPLATE = """\
milestones:
  - {id: kickoff, title: Kick-off, owner: seller, due: target-8w}
  - {id: security, title: Security review, owner: buyer, due: target-6w, after: [kickoff]}
  - {id: legal, title: MSA agreed, owner: buyer, due: target-20bd, after: [security]}
  - {id: signature, title: Contract signed, owner: buyer, due: target-2w, after: [legal]}
  - {id: go-live, title: Go-live, owner: buyer, due: target+0d, after: [signature]}
"""

ACME = """\
extends: base
deal:
  title: Acme × Orbisoft
  buyer: {name: Acme}
  seller: {name: Orbisoft}
  stage: negotiation
  target_date: 2027-03-01
people:
  - {id: mia, name: Mia Berg, side: buyer, email: mia@acme.example}
  - {id: sam, name: Sam Hale, side: seller, email: sam@orbisoft.example}
milestones:
  - {id: kickoff, owner: sam, status: done, done_on: 2027-01-04}
  - {id: security, owner: mia}
proposal: {valid_until: 2027-01-20}
"""

BETA = """\
extends: base
deal:
  title: Beta × Orbisoft
  buyer: {name: Beta}
  seller: {name: Orbisoft}
  stage: evaluation
  target_date: 2027-06-07
proposal: {valid_until: 2027-02-02}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    deals = tmp_path / "deals"
    (deals / "_templates").mkdir(parents=True)
    (deals / "_templates" / "base.yml").write_text(TEMPLATE, encoding="utf-8")
    (deals / "acme.yml").write_text(ACME, encoding="utf-8")
    (deals / "beta.yml").write_text(BETA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", "2027-01-23")  # security (due 18 Jan) is 5 days overdue
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def status_json() -> list[dict]:
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # the note about invalid deals goes to stderr


def test_template_dates_resolve_against_the_deal_target(project: Path) -> None:
    deal = load_deal(project / "deals" / "acme.yml", deals_dir=project / "deals").deal
    plan = schedule(deal, dt.date(2027, 1, 1))
    assert [(p.id, p.planned.isoformat()) for p in plan.milestones] == [
        ("kickoff", "2027-01-04"), ("security", "2027-01-18"), ("legal", "2027-02-01"),
        ("signature", "2027-02-15"), ("go-live", "2027-03-01"),
    ]


def test_status_json_moves_the_projected_date_by_the_overdue_days(project: Path) -> None:
    rows = {row["slug"]: row for row in status_json()}
    acme = rows["acme"]
    assert acme["target_date"] == "2027-03-01"
    assert acme["projected_date"] == "2027-03-06"  # security 5 days overdue, through legal and signature
    assert acme["slip_days"] == 5
    assert acme["overdue"] == 1
    assert acme["health"] == "at_risk"  # 5 days: past at_risk_slip_days 3, below off_track 10
    assert acme["cause"] == {"id": "security", "title": "Security review", "late_days": 5}
    assert acme["next_milestone"]["id"] == "security"
    assert acme["next_milestone"]["owner"] == "Mia Berg"
    assert acme["next_milestone"]["owner_emails"] == ["mia@acme.example"]
    assert acme["next_milestone"]["projected"] == "2027-01-23"
    assert acme["proposal_valid_until"] == "2027-01-20" and acme["proposal_days_left"] == -3
    assert acme["stage"] == "negotiation" and acme["stage_probability"] == 70.0
    assert acme["stage_warning"].startswith("stage 'negotiation' is ahead of the plan: exit criteria not done: Security review")


def test_status_json_dependants_follow_day_by_day(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for today, projected, slip, health in [
        # Due today: not late yet, but the proposal (valid until 20 Jan) expires before the signature (15 Feb).
        ("2027-01-18", "2027-03-01", 0, "at_risk"),
        ("2027-01-20", "2027-03-03", 2, "at_risk"),  # 1 overdue item is at risk by default thresholds
        ("2027-01-29", "2027-03-12", 11, "off_track"),
    ]:
        monkeypatch.setenv("DEALROOMS_TODAY", today)
        acme = next(row for row in status_json() if row["slug"] == "acme")
        assert (acme["projected_date"], acme["slip_days"], acme["health"]) == (projected, slip, health), today


def test_status_json_has_the_required_keys_for_every_deal(project: Path) -> None:
    rows = status_json()
    assert [row["slug"] for row in rows] == ["acme", "beta"]  # attention first
    for row in rows:
        assert {"slug", "stage", "target_date", "projected_date", "slip_days", "overdue",
                "proposal_valid_until", "health"} <= set(row)
    beta = rows[1]
    # On time, but its proposal expires (2 Feb) long before the target (7 Jun) and it has no signature step.
    assert (beta["projected_date"], beta["slip_days"], beta["overdue"], beta["health"]) == ("2027-06-07", 0, 0, "at_risk")
    assert beta["proposal_days_left"] == 10 and beta["stage_warning"] is None and beta["cause"] is None


def test_status_table_lists_invalid_deals_first_with_a_pointer(project: Path) -> None:
    (project / "deals" / "broken.yml").write_text("extends: nope\ndeal: {title: X}\n", encoding="utf-8")
    result = run("status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["DEAL", "STAGE", "TARGET", "PROJECTED", "SLIP", "OVERDUE", "NEXT", "(OWNER,", "DUE)",
                                "PROPOSAL", "HEALTH"]
    assert lines[1].startswith("broken") and "invalid: run `dealrooms check`" in lines[1] and "INVALID" in lines[1]
    assert lines[2].startswith("acme")
    for cell in ("negotiation (!)", "2027-03-01", "2027-03-06", "+5d", "Security review (Mia Berg, 2027-01-18)",
                 "expired", "AT RISK"):
        assert cell in lines[2]
    assert lines[3].startswith("beta") and "10 days" in lines[3] and "AT RISK" in lines[3]
    assert "acme: Security review is 5 day(s) late; the target moves from 2027-03-01 to 2027-03-06" in result.output
    assert "1 invalid deal(s): run `dealrooms check`" in result.output
    rows = status_json()
    broken = rows[0]
    assert broken["slug"] == "broken" and broken["valid"] is False and broken["health"] is None
    assert any("unknown template 'nope'" in p for p in broken["problems"])


def test_status_reads_a_named_config_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = project / "sub"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run("status", "--json", "-f", str(project / "mkdocs.yml"))
    assert result.exit_code == 0, result.output
    assert [row["slug"] for row in json.loads(result.output)] == ["acme", "beta"]


def test_due_within_lists_owners_and_emails(project: Path) -> None:
    result = run("status", "--due-within", "7d")
    assert result.exit_code == 0, result.output
    assert "acme (Acme)" in result.output
    assert "2027-01-18  5 day(s) OVERDUE" in result.output
    assert "Security review — Mia Berg (Acme; buyer): mia@acme.example" in result.output
    assert "MSA agreed" not in result.output  # due 1 Feb: 9 days away
    assert "beta" not in result.output
    wider = run("status", "--due-within", "2w", "--json")
    items = json.loads(wider.output)
    assert [(i["slug"], i["milestone"], i["days"]) for i in items] == [("acme", "security", -5), ("acme", "legal", 9)]
    assert items[1]["owner"] == "Acme" and items[1]["emails"] == ["mia@acme.example"]  # a side: its people


def test_due_within_nothing_due(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-12-01")
    result = run("status", "--due-within", "3")
    assert result.output.strip() == "Nothing due within 3 day(s) and nothing overdue."


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["status", "--due-within", "soon"], None, "--due-within: bad period 'soon'; expected days or weeks, e.g. 7d or 2w"),
        (["status"], ("{at_risk_slip_days: 3, off_track_slip_days: 10}", "{at_risk_slip: 3}"),
         "mkdocs.yml:7: plugins.dealrooms.health.at_risk_slip: unknown option; did you mean 'at_risk_slip_days'?"),
        (["status"], ("probability: 30}", "probability: 130}"),
         "mkdocs.yml:9: plugins.dealrooms.stages[0].probability: expected a percentage from 0 to 100, found 130 (hint: e.g. 40)"),
    ],
)
def test_status_errors_are_one_clear_line(project: Path, args: list[str], config: tuple[str, str] | None, message: str) -> None:
    if config:
        path = project / "mkdocs.yml"
        path.write_text(path.read_text().replace(*config), encoding="utf-8")
    result = run(*args)
    assert isinstance(result.exception, DealroomsError)
    assert message in str(result.exception)


# --- new ------------------------------------------------------------------------


def test_new_from_a_template_passes_check_unmodified(project: Path) -> None:
    result = run("new", "gamma-retail", "--template", "base", "--target", "2027-06-01", "--seller", "Orbisoft")
    assert result.exit_code == 0, result.output
    assert "created deals/gamma-retail.yml" in result.output
    path = project / "deals" / "gamma-retail.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count("TODO") >= 3 and "extends: base" in text
    assert "#   - {id: security, owner: buyer}  # 2027-04-20 (target-6w) Security review" in text
    check = run("check")
    assert check.exit_code == 0, check.output
    assert "0 problem(s) and " in check.stderr and "plan warning(s) in 3 deal file(s); the deals build" in check.stderr
    deal = load_deal(path, deals_dir=project / "deals").deal
    assert deal.extends == "base" and deal.deal.target_date == dt.date(2027, 6, 1)
    assert deal.deal.buyer.name == "Gamma Retail" and deal.deal.seller.name == "Orbisoft"  # --seller
    assert deal.deal.stage == "evaluation"  # the first configured stage
    assert [m.id for m in deal.milestones] == ["kickoff", "security", "legal", "signature", "go-live"]
    assert schedule(deal, dt.date(2027, 1, 23)).get("go-live").planned == dt.date(2027, 6, 1)


def test_new_defaults_to_90_days_and_a_basic_plan(project: Path) -> None:
    result = run("new", "delta", "--seller", "Orbisoft")
    assert result.exit_code == 0, result.output
    deal = load_deal(project / "deals" / "delta.yml").deal
    assert deal.deal.target_date == dt.date(2027, 1, 23) + dt.timedelta(days=90)
    assert deal.extends is None and len(deal.milestones) == 5
    plan = schedule(deal, dt.date(2027, 1, 23))
    assert plan.overdue == () and plan.health == "on_track"  # a new deal does not start out late
    assert run("check", str(project / "deals" / "delta.yml")).exit_code == 0


def test_new_warns_in_comments_about_steps_before_today(project: Path) -> None:
    assert run("new", "epsilon", "-t", "base", "--target", "2027-02-15", "--seller", "Orbisoft").exit_code == 0
    text = (project / "deals" / "epsilon.yml").read_text(encoding="utf-8")
    assert "# TODO: 3 step(s) fall before today for this target date (kickoff, security, legal):" in text
    assert run("check").exit_code == 0


def test_new_refuses_to_overwrite(project: Path) -> None:
    before = (project / "deals" / "acme.yml").read_text()
    result = run("new", "acme", "--template", "base")
    assert isinstance(result.exception, DealroomsError)
    assert "deals/acme.yml already exists" in str(result.exception)
    assert (project / "deals" / "acme.yml").read_text() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "zeta", "--template", "enterprise"], "unknown template 'enterprise' (templates are: base)"),
        (["new", "Zeta Corp"], "bad deal name 'Zeta Corp'"),
        (["new", "assets"], "the name 'assets' is reserved"),
    ],
)
def test_new_errors(project: Path, args: list[str], message: str) -> None:
    result = run(*args)
    assert isinstance(result.exception, DealroomsError)
    assert message in str(result.exception)
    assert not list((project / "deals").glob("zeta*"))


def test_new_with_a_broken_template_reports_the_template_line_and_writes_nothing(project: Path) -> None:
    (project / "deals" / "_templates" / "bad.yml").write_text(
        textwrap.dedent("""\
            milestones:
              - {id: a, title: A, owner: buyer, due: target-3x}
        """),
        encoding="utf-8",
    )
    result = run("new", "eta", "--template", "bad")
    assert isinstance(result.exception, DealroomsError)
    assert "bad.yml:2: milestones[0].due: bad offset 'target-3x'" in str(result.exception)
    assert not (project / "deals" / "eta.yml").exists()


def test_bad_target_date_is_a_usage_error(project: Path) -> None:
    result = run("new", "theta", "--target", "next spring")
    assert result.exit_code == 2
    assert "'next spring' is not a date; expected YYYY-MM-DD, e.g. 2027-03-01" in result.output


# --- the same rows for the MkDocs adapter ------------------------------------------


def test_status_rows_are_plain_dataclasses_for_any_adapter(project: Path) -> None:
    from dealrooms_plugin.load import load_deals
    from dealrooms_plugin.options import validate_options
    from dealrooms_plugin.status import status_rows

    result = load_deals(project / "deals")
    options = validate_options({"stages": [{"name": "evaluation", "exit_criteria": ["security"]}, "negotiation"],
                                "health": {"off_track_slip_days": 5}}, config_file=project / "mkdocs.yml")
    rows = status_rows(result.deals, dt.date(2027, 1, 23), options.thresholds, options.sales_stages)
    assert [(r.slug, r.health, r.slip_days, r.proposal_text) for r in rows] == [
        ("acme", "off_track", 5, "expired"), ("beta", "at_risk", 0, "10 days"),
    ]
    acme = rows[0]
    assert acme.needs_attention and acme.stage_check is not None and acme.stage_check.missing == (("evaluation", "security"),)
    assert acme.next_milestone is not None and acme.next_milestone.owner.description == "Mia Berg (Acme; buyer)"
    assert acme.cause_title == "Security review" and acme.cause_late_days == 5
    with pytest.raises(AttributeError):
        acme.slug = "x"  # type: ignore[misc]  # frozen

