"""One owner resolution: the deal pages, `dealrooms status`, the reminders and calendar.ics name the same owner."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from dealrooms_plugin.calendar import deal_calendar
from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.model import Deal
from dealrooms_plugin.owners import PARTNERS, resolve_owner, resolve_owners, side_company
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import make_env, render_pages
from dealrooms_plugin.view import build_view

TODAY = "2027-01-08"
TITLE = "Integration configured"

MKDOCS = """\
site_name: Deals
plugins:
  - dealrooms:
      deals_dir: deals
"""

# One open step, due three days after TODAY: it is the deal's next step, it is
# due within a week, and it is the only owner on the plan and overview pages.
DEAL = """\
deal:
  title: Halden Health × Orbisoft
  buyer: {{name: Halden Health}}
  seller: {{name: Orbisoft}}
  target_date: 2027-03-01
people:
  - {{id: ingrid, name: Ingrid Dahl, side: buyer, email: ingrid@halden.example}}
  - {{id: sam, name: Sam Hale, side: seller, title: Account Executive, email: sam@orbisoft.example}}
  - {{id: greta, name: Greta Solheim, side: partner, company: Nordlicht Consulting, title: Delivery Manager, email: greta@nordlicht.example}}
  - {{id: ole, name: Ole Brekke, side: partner, company: Nordlicht Consulting, email: ole@nordlicht.example}}
milestones:
  - {{id: integration, title: {title}, owner: {owner}, due: 2027-01-11}}
"""


def _project(tmp_path: Path, owner: str) -> Path:
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (tmp_path / "deals").mkdir(exist_ok=True)
    deal_file = tmp_path / "deals" / "halden.yml"
    deal_file.write_text(DEAL.format(title=TITLE, owner=owner), encoding="utf-8")
    return deal_file


def _page_owners(html: str) -> set[str]:
    # The owner chip: the name (its coloured dot is CSS, dr-owner::before).
    return {m.strip() for m in re.findall(r'class="dr-owner[^"]*"[^>]*>([^<]+)', html)}


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        ("partner", "Nordlicht Consulting"),  # the case the three old resolutions disagreed on
        ("seller", "Orbisoft"),
        ("greta", "Greta Solheim"),
        ("ingrid", "Ingrid Dahl"),
    ],
)
def test_pages_status_reminders_and_calendar_name_the_same_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner: str, name: str
) -> None:
    deal_file = _project(tmp_path, owner)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", TODAY)
    deal = load_deal(deal_file).deal
    plan = schedule(deal, dt.date.fromisoformat(TODAY))

    pages = {p.spec.name: p.html for p in render_pages(build_view("halden", deal, plan), make_env())}
    assert _page_owners(pages["plan"]) == {name}
    assert _page_owners(pages["overview"]) == {name}
    assert f"· {name}</span>" in pages["plan"]  # the timeline row

    runner = CliRunner()
    table = runner.invoke(main, ["status"])
    assert table.exit_code == 0, table.output
    assert f"{TITLE} ({name}, 2027-01-11)" in table.output
    rows = json.loads(runner.invoke(main, ["status", "--json"]).stdout)
    assert rows[0]["next_milestone"]["owner"] == name

    due = runner.invoke(main, ["status", "--due-within", "7d"])
    assert due.exit_code == 0, due.output
    assert f"{TITLE} — {name} (" in due.output
    (reminder,) = json.loads(runner.invoke(main, ["status", "--due-within", "7d", "--json"]).stdout)
    assert reminder["owner"] == name

    (event,) = Calendar.from_ical(deal_calendar("halden", deal, plan)).walk("VEVENT")
    assert f"Owner: {name} (" in str(event["DESCRIPTION"])


def _deal(tmp_path: Path, owner: str = "partner", people: str | None = None) -> Deal:
    deal_file = _project(tmp_path, owner)
    if people is not None:
        text = deal_file.read_text(encoding="utf-8")
        start, end = text.index("people:"), text.index("milestones:")
        deal_file.write_text(text[:start] + people + text[end:], encoding="utf-8")
    return load_deal(deal_file).deal


def test_a_person_owner(tmp_path: Path) -> None:
    greta = resolve_owner(_deal(tmp_path), "greta")
    assert (greta.id, greta.name, greta.side, greta.company, greta.title) == (
        "greta", "Greta Solheim", "partner", "Nordlicht Consulting", "Delivery Manager",
    )
    assert greta.emails == ("greta@nordlicht.example",) and greta.person is not None
    assert greta.label == "Greta Solheim"
    assert greta.description == "Greta Solheim (Delivery Manager, Nordlicht Consulting; partner)"
    sam = resolve_owner(_deal(tmp_path), "sam")
    assert sam.company == "Orbisoft"  # no company of their own: their side's
    assert sam.description == "Sam Hale (Account Executive, Orbisoft; seller)"
    with pytest.raises(AttributeError):
        sam.name = "x"  # type: ignore[misc]  # frozen


def test_a_whole_side_owns_with_everyone_on_it(tmp_path: Path) -> None:
    partner = resolve_owner(_deal(tmp_path), "partner")
    assert (partner.name, partner.side, partner.company, partner.title, partner.person) == (
        "Nordlicht Consulting", "partner", "Nordlicht Consulting", None, None,
    )
    assert partner.emails == ("greta@nordlicht.example", "ole@nordlicht.example")
    assert partner.description == "Nordlicht Consulting (partner)"
    assert resolve_owner(_deal(tmp_path), "buyer").emails == ("ingrid@halden.example",)


def test_partner_side_names_its_companies_and_falls_back_only_without_one(tmp_path: Path) -> None:
    two = _deal(tmp_path, people=(
        "people:\n"
        "  - {id: a, name: A, side: partner, company: Nordlicht Consulting}\n"
        "  - {id: b, name: B, side: partner, company: Fjord Systems}\n"
    ))
    assert resolve_owner(two, "partner").name == side_company(two, "partner") == "Fjord Systems & Nordlicht Consulting"
    unnamed = _deal(tmp_path, people="people:\n  - {id: a, name: A, side: partner}\n")
    assert resolve_owner(unnamed, "partner").name == PARTNERS


def test_several_owners_resolve_in_order_and_unknown_ids_are_errors(tmp_path: Path) -> None:
    deal = _deal(tmp_path)
    assert [o.name for o in resolve_owners(deal, ["ole", "greta", "buyer"])] == ["Ole Brekke", "Greta Solheim", "Halden Health"]
    with pytest.raises(DealroomsError, match="unknown owner 'nobody'; expected a person id or one of buyer, seller, partner"):
        resolve_owner(deal, "nobody")
