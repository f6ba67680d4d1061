"""Plan checks: warnings a rep can act on, in `dealrooms check` (and with --strict, failures)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.checks import MAX_STEPS, deal_warnings
from dealrooms_plugin.cli import main
from dealrooms_plugin.load import load_deal

from historyutil import Repo, git_env  # noqa: F401 - git_env is a fixture

TODAY = dt.date(2026, 11, 23)
MKDOCS = "site_name: Deals\nplugins:\n  - dealrooms:\n      deals_dir: deals\n"

HEAD = """\
deal:
  title: Acme × Orbisoft
  buyer: {name: Acme}
  seller: {name: Orbisoft}
  target_date: 2027-03-01
people:
  - {id: ilse, name: Ilse V., side: buyer}
  - {id: dov, name: Dov K., side: seller}
"""

GOOD = HEAD + """\
milestones:
  - {id: scope, title: Pilot scope agreed, owner: [ilse, dov], due: 2026-12-01}
  - {id: pilot, title: Pilot run, owner: dov, due: 2027-01-15, after: [scope]}
  - {id: signature, title: Order form signed, owner: ilse, due: 2027-02-01, after: [pilot]}
proposal:
  valid_until: 2027-02-15
  items: [{name: Licence, unit_price: 1000}]
"""


def _deal(tmp_path: Path, text: str, name: str = "acme.yml") -> Path:
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (tmp_path / "deals").mkdir(exist_ok=True)
    path = tmp_path / "deals" / name
    path.write_text(text, encoding="utf-8")
    return path


def _warnings(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    path = _deal(tmp_path, text)
    return [str(w) for w in deal_warnings(load_deal(path), TODAY)]


def test_a_good_plan_has_no_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _warnings(tmp_path, GOOD, monkeypatch) == []


def test_a_step_planned_before_the_step_it_waits_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("owner: dov, due: 2027-01-15", "owner: dov, due: 2026-11-28")
    assert _warnings(tmp_path, text, monkeypatch) == [
        "deals/acme.yml:11: warning: milestones[1].due: planned for 2026-11-28, before 'scope' (2026-12-01) that it waits for"
        " (hint: move it after 2026-12-01, or remove 'scope' from after:)"
    ]


def test_an_expired_proposal_and_one_expiring_before_the_signature(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expired = GOOD.replace("valid_until: 2027-02-15", "valid_until: 2026-11-13")
    assert _warnings(tmp_path, expired, monkeypatch) == [
        "deals/acme.yml:14: warning: proposal.valid_until: the proposal expired on 2026-11-13"
        " (hint: renew the offer and set a new valid_until)"
    ]
    early = GOOD.replace("valid_until: 2027-02-15", "valid_until: 2027-01-20")
    assert _warnings(tmp_path, early, monkeypatch) == [
        "deals/acme.yml:14: warning: proposal.valid_until: the proposal expires on 2027-01-20, before 'Order form signed'"
        " (2027-02-01) (hint: extend valid_until to 2027-02-01 or later, or plan the signature earlier)"
    ]


def test_a_target_in_the_past_and_a_plan_without_buyer_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = HEAD.replace("2027-03-01", "2026-11-01") + """\
milestones:
  - {id: demo, title: Demo, owner: dov, due: 2026-10-20, status: done}
  - {id: offer, title: Offer sent, owner: seller, due: 2026-10-25}
"""
    assert _warnings(tmp_path, text, monkeypatch) == [
        "deals/acme.yml:5: warning: deal.target_date: the target date 2026-11-01 is in the past"
        " (hint: agree a new target with the buyer and set it here)",
        "deals/acme.yml:9: warning: milestones: no open step is owned by the buyer's side; a mutual plan has work on both sides"
        " (hint: give the buyer the steps only they can do (security review, sign-off), or own them jointly)",
        "deals/acme.yml:10: warning: milestones[0].status: done, but without done_on"
        " (hint: add done_on: 2026-11-23 (the day it was done), so lateness and history stay true)",
    ]


def _steps(count: int) -> str:
    rows = [f"  - {{id: s{i}, title: Step {i}, owner: {'ilse' if i % 2 else 'dov'}, due: 2027-01-{1 + i % 28:02d}}}"
            for i in range(count)]
    return HEAD + "milestones:\n" + "\n".join(rows) + "\n"


def test_long_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _warnings(tmp_path, _steps(15), monkeypatch) == []
    assert _warnings(tmp_path, _steps(21), monkeypatch) == [
        "deals/acme.yml:9: warning: milestones: 21 steps; plans of 11-15 steps do best"
        " (hint: merge small steps, or move detail into their notes)"
    ]
    assert _warnings(tmp_path, _steps(MAX_STEPS + 5), monkeypatch) == [
        "deals/acme.yml:9: warning: milestones: 35 steps; plans of more than 30 steps do no better than no plan"
        " (hint: keep 11-15 steps the buyer can follow: merge small ones, move detail into notes)"
    ]


def test_a_warning_about_a_template_step_names_the_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deals" / "_templates").mkdir(parents=True)
    (tmp_path / "deals" / "_templates" / "eu.yml").write_text(
        "milestones:\n"
        "  - {id: scope, title: Pilot scope agreed, owner: ilse, due: target-8w}\n"
        "  - {id: dpa, title: DPA signed, owner: ilse, due: target-12w, after: [scope]}\n",
        encoding="utf-8",
    )
    warnings = _warnings(tmp_path, "extends: eu\n" + HEAD, monkeypatch)
    assert warnings == [
        "deals/_templates/eu.yml:3: warning: milestones[1].due: planned for 2026-12-07, before 'scope' (2027-01-04)"
        " that it waits for; step 'dpa' of template 'eu', merged into deals/acme.yml"
        " (hint: move it after 2027-01-04, or remove 'scope' from after:)"
    ]


def test_check_lists_warnings_and_strict_fails_on_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _deal(tmp_path, GOOD.replace("valid_until: 2027-02-15", "valid_until: 2026-11-13"))
    monkeypatch.setenv("DEALROOMS_TODAY", TODAY.isoformat())
    runner = CliRunner()
    relaxed = runner.invoke(main, ["check"])
    assert relaxed.exit_code == 0
    assert "deals/acme.yml:14: warning: proposal.valid_until: the proposal expired on 2026-11-13" in relaxed.stdout
    assert "0 problem(s) and 1 plan warning(s) in 1 deal file(s); the deals build" in relaxed.stderr
    strict = runner.invoke(main, ["check", "--strict"])
    assert strict.exit_code == 1 and "--strict: warnings fail the check" in strict.stderr
    (tmp_path / "mkdocs.yml").write_text(MKDOCS + "      strict: true\n", encoding="utf-8")
    assert runner.invoke(main, ["check"]).exit_code == 1  # the plugin option does the same


def test_a_plan_changed_after_it_was_agreed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_env: None) -> None:
    monkeypatch.chdir(tmp_path)
    _deal(tmp_path, "")  # mkdocs.yml and the deals folder
    repo = Repo(tmp_path)  # a real repository: the plan's history comes from git
    agreed = GOOD + "agreed: {by: ilse, on: 2026-11-10}\n"
    repo.commit("deals/acme.yml", agreed, "Plan agreed", "2026-11-10T10:00:00+01:00")
    path = tmp_path / "deals" / "acme.yml"
    assert [str(w) for w in deal_warnings(load_deal(path), TODAY)] == []
    repo.commit("deals/acme.yml", agreed.replace("due: 2027-01-15", "due: 2027-01-22"), "Pilot moves", "2026-11-20T10:00:00+01:00")
    assert [str(w) for w in deal_warnings(load_deal(path), TODAY)] == [
        "deals/acme.yml:16: warning: agreed: the plan changed on 2026-11-20, after it was agreed on 2026-11-10"
        " (hint: walk the buyer through the change; once they agree, set agreed.on to that day)"
    ]
