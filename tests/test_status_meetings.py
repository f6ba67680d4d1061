"""`dealrooms status --due-within` lists the meetings in the period next to the steps coming due."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from historyutil import MKDOCS

DEAL = """\
deal:
  title: Acme × Orbisoft
  buyer: {name: Acme}
  seller: {name: Orbisoft}
  target_date: 2027-03-01
people:
  - {id: mia, name: Mia Berg, side: buyer, email: mia@acme.example}
milestones:
  - {id: kickoff, title: Kick-off, owner: mia, due: 2026-11-25}
  - {id: signature, title: Contract signed, owner: mia, due: 2027-03-01, after: [kickoff]}
meetings:
  - {date: 2026-11-20, title: Last week's call}
  - {date: 2026-11-30, time: "15:00", title: Weekly plan review, location: Teams}
  - {date: 2026-11-23, title: Security Q&A}
  - {date: 2026-12-10, title: Steering committee}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-11-23")
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (tmp_path / "deals").mkdir()
    (tmp_path / "deals" / "acme.yml").write_text(DEAL, encoding="utf-8")
    (tmp_path / "deals" / "beta.yml").write_text(
        DEAL.replace("Acme", "Beta").split("milestones:")[0] + "meetings:\n  - {date: 2026-11-24, title: Demo}\n",
        encoding="utf-8")
    return tmp_path


def run(*args: str):
    result = CliRunner().invoke(main, ["status", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_meetings_in_the_period_are_listed_with_the_steps_by_date(project: Path) -> None:
    assert run("--due-within", "7d").splitlines() == [
        "acme (Acme)",
        "  2026-11-23  meeting today        Security Q&A",
        "  2026-11-25  due in 2 day(s)      Kick-off — Mia Berg (Acme; buyer): mia@acme.example",
        "  2026-11-30  meeting in 7 day(s)  Weekly plan review — 15:00, Teams",
        "",
        "beta (Beta)",  # a deal with only a meeting coming up is listed too
        "  2026-11-24  meeting in 1 day(s)  Demo",
    ]


def test_meetings_in_json_say_their_kind(project: Path) -> None:
    items = json.loads(run("--due-within", "7d", "--json"))
    assert [(i["kind"], i["slug"], i.get("milestone") or i["title"]) for i in items] == [
        ("meeting", "acme", "Security Q&A"), ("milestone", "acme", "kickoff"), ("meeting", "acme", "Weekly plan review"),
        ("meeting", "beta", "Demo"),
    ]
    assert items[2] == {"kind": "meeting", "slug": "acme", "title": "Weekly plan review", "date": "2026-11-30",
                        "time": "15:00", "location": "Teams", "days": 7}


def test_past_and_later_meetings_are_not_reminders(project: Path) -> None:
    text = run("--due-within", "2w")
    assert "Steering committee" not in text and "Last week's call" not in text
    assert "Steering committee" in run("--due-within", "17d")
