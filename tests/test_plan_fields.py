"""Issue 13's deal fields: joint owners, deliverables, meetings with outcomes, goal progress, agreement."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from dealrooms_plugin.calendar import deal_calendar
from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import InvalidDeal
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.model import json_schema
from dealrooms_plugin.owners import resolve_owner
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import make_env, render_pages
from dealrooms_plugin.view import build_view

from test_owners import MKDOCS, TODAY, _page_owners

DEAL = """\
deal:
  title: Halden Health × Orbisoft
  buyer: {name: Halden Health}
  seller: {name: Orbisoft}
  target_date: 2027-03-01
people:
  - {id: ingrid, name: Ingrid Dahl, side: buyer, email: ingrid@halden.example}
  - {id: sam, name: Sam Hale, side: seller, title: Account Executive, email: sam@orbisoft.example}
  - {id: greta, name: Greta Solheim, side: partner, company: Nordlicht Consulting, email: greta@nordlicht.example}
milestones:
  - id: integration
    title: Integration configured
    owner: OWNER
    due: 2027-01-11
EXTRA
"""


def _write(tmp_path: Path, owner: str = "ingrid", extra: str = "") -> Path:
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (tmp_path / "deals").mkdir(exist_ok=True)
    path = tmp_path / "deals" / "halden.yml"
    path.write_text(DEAL.replace("OWNER", owner).replace("EXTRA", extra), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(InvalidDeal) as caught:
        load_deal(path)
    return [str(p) for p in caught.value.problems]


def test_a_step_owned_jointly_shows_every_owner_on_pages_status_reminders_and_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "[ingrid, partner]")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", TODAY)
    deal = load_deal(path).deal
    assert deal.milestones[0].owner == ("ingrid", "partner")
    owner = resolve_owner(deal, deal.milestones[0].owner)
    assert owner.name == "Ingrid Dahl & Nordlicht Consulting"
    assert owner.sides == ("buyer", "partner")
    assert owner.emails == ("ingrid@halden.example", "greta@nordlicht.example")
    assert owner.description == "Ingrid Dahl (Halden Health; buyer) and Nordlicht Consulting (partner)"

    plan = schedule(deal, dt.date.fromisoformat(TODAY))
    pages = {p.spec.name: p.html for p in render_pages(build_view("halden", deal, plan), make_env())}
    assert _page_owners(pages["overview"]) == {"Ingrid Dahl", "Nordlicht Consulting"}
    assert _page_owners(pages["plan"]) >= {"Ingrid Dahl", "Nordlicht Consulting"}

    runner = CliRunner()
    table = runner.invoke(main, ["status"])
    assert "Integration configured (Ingrid Dahl & Nordlicht Consulting, 2027-01-11)" in table.output
    due = runner.invoke(main, ["status", "--due-within", "7d"])
    assert "— Ingrid Dahl (Halden Health; buyer) and Nordlicht Consulting (partner): ingrid@halden.example, greta@nordlicht.example" in due.output
    (reminder,) = [r for r in json.loads(runner.invoke(main, ["status", "--due-within", "7d", "--json"]).stdout)
                   if r.get("kind", "milestone") == "milestone"]
    assert reminder["owner"] == "Ingrid Dahl & Nordlicht Consulting"
    (event,) = Calendar.from_ical(deal_calendar("halden", deal, plan)).walk("VEVENT")
    assert "Ingrid Dahl (Halden Health; buyer) and Nordlicht Consulting (partner)" in str(event["DESCRIPTION"])


def test_one_owner_in_a_list_is_that_owner_and_repeats_are_dropped(tmp_path: Path) -> None:
    assert load_deal(_write(tmp_path, "[ingrid]")).deal.milestones[0].owner == ("ingrid",)
    assert load_deal(_write(tmp_path, "[ingrid, sam, ingrid]")).deal.milestones[0].owner == ("ingrid", "sam")


def test_owner_list_problems_name_the_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _problems(_write(tmp_path, "[ingrid, hana]")) == [
        "deals/halden.yml:13: milestones[0].owner[1]: unknown person 'hana' (people are: ingrid, sam, greta)"
        " (hint: use a person id from people:, or buyer, seller or partner)"
    ]
    assert _problems(_write(tmp_path, "[]")) == [
        "deals/halden.yml:13: milestones[0].owner: expected at least one owner, found an empty list"
    ]
    [bad] = _problems(_write(tmp_path, "[ingrid, Sam Hale]"))
    assert bad.startswith("deals/halden.yml:13: milestones[0].owner[1]: expected a person id or one of buyer, seller, partner")


DELIVERABLES = """\
    deliverable: Signed DPA
  - id: pilot
    title: Pilot report
    owner: sam
    due: 2027-02-01
    deliverable: {text: Pilot report (PDF), link: "https://example.com/pilot.pdf"}
"""


def test_deliverables_as_text_or_with_a_web_link(tmp_path: Path) -> None:
    deal = load_deal(_write(tmp_path, extra=DELIVERABLES)).deal
    assert deal.milestones[0].deliverable.text == "Signed DPA" and deal.milestones[0].deliverable.link is None
    assert (deal.milestones[1].deliverable.text, deal.milestones[1].deliverable.link) == (
        "Pilot report (PDF)", "https://example.com/pilot.pdf")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "//evil.example/x"])
def test_a_deliverable_link_is_a_web_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str) -> None:
    monkeypatch.chdir(tmp_path)
    [problem] = _problems(_write(tmp_path, extra=f'    deliverable: {{text: DPA, link: "{link}"}}\n'))
    assert "milestones[0].deliverable.link: expected a web address starting with https://" in problem


MEETINGS_GOALS_AGREED = """\
goals:
  - {id: hours, metric: Planning hours per month, baseline: 1380, target: 300, current: 900, measured_on: 2026-12-01,
     unit: hours, value_per_year: 250000}
meetings:
  - date: 2026-12-02
    title: Steering committee
    expected_outcome: Go/no-go for the pilot
    prepare: Send the pilot scope to Ingrid
    decisions: Pilot **approved** for January
    notes: Budget confirmed by finance.
agreed: {by: ingrid, on: 2026-11-10}
"""


def test_meeting_outcomes_goal_progress_and_agreement(tmp_path: Path) -> None:
    deal = load_deal(_write(tmp_path, extra=MEETINGS_GOALS_AGREED)).deal
    meeting = deal.meetings[0]
    assert (meeting.expected_outcome, meeting.prepare, meeting.decisions, meeting.notes) == (
        "Go/no-go for the pilot", "Send the pilot scope to Ingrid", "Pilot **approved** for January", "Budget confirmed by finance.")
    goal = deal.goals[0]
    assert (goal.current, goal.measured_on, str(goal.value_per_year)) == (900, dt.date(2026, 12, 1), "250000")
    assert (deal.agreed.by, deal.agreed.on) == ("ingrid", dt.date(2026, 11, 10))


@pytest.mark.parametrize(
    ("agreed", "message"),
    [
        ("{by: ingird, on: 2026-11-10}",
         "agreed.by: unknown person 'ingird' (buyer-side people are: ingrid) (hint: did you mean 'ingrid'?)"),
        ("{by: sam, on: 2026-11-10}",
         "agreed.by: 'sam' is on the seller side; expected a buyer-side person"
         " (hint: the buyer agrees the plan: name the buyer's champion or sponsor)"),
        ("{by: ingrid}", "agreed.on: required field missing (hint: add 'on:' here)"),
    ],
)
def test_agreement_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agreed: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    [problem] = _problems(_write(tmp_path, extra=f"agreed: {agreed}\n"))
    assert problem == f"deals/halden.yml:15: {message}"


def test_the_schema_describes_the_new_fields() -> None:
    schema = json.dumps(json_schema())
    for name in ("deliverable", "expected_outcome", "prepare", "decisions", "current", "measured_on", "value_per_year",
                 "agreed", "Agreement"):
        assert f'"{name}"' in schema, name
    milestone = json_schema()["$defs"]["Milestone"]["properties"]["owner"]
    assert {"type": "array"}.items() <= milestone["anyOf"][1].items()
