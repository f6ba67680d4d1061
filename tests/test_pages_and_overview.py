"""The deal pages and the rep's overview (`dealrooms status`) say the same things.

A proposal's validity comes from :func:`dealrooms_plugin.view.validity` (the
overview once counted days itself, with its own cut-off for "needs
attention"), and the next step from the schedule's one order of open steps.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dealrooms_plugin.labels import EXPIRING_SOON_DAYS
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import make_env, render_pages
from dealrooms_plugin.status import status_row
from dealrooms_plugin.view import build_view

EXAMPLES = Path(__file__).resolve().parent.parent / "dealrooms"
DEAL = load_deal(EXAMPLES / "kestrel-freight.yml").deal
VALID_UNTIL = DEAL.proposal.valid_until


@pytest.mark.parametrize(
    ("days", "state", "page", "overview", "attention"),
    [
        (-3, "expired", "Expired on", "expired", True),
        (0, "expires_today", "Expires today", "expires today", True),
        (1, "expiring", "Expires in 1 day", "1 day", True),
        (EXPIRING_SOON_DAYS, "expiring", f"Expires in {EXPIRING_SOON_DAYS} days", f"{EXPIRING_SOON_DAYS} days", True),
        (EXPIRING_SOON_DAYS + 1, "valid", "Valid until", f"{EXPIRING_SOON_DAYS + 1} days", False),
    ],
)
def test_pages_and_overview_agree(days: int, state: str, page: str, overview: str, attention: bool) -> None:
    today = VALID_UNTIL - dt.timedelta(days=days)
    view = build_view("kestrel-freight", DEAL, schedule(DEAL, today))
    row = status_row("kestrel-freight", DEAL, today)
    assert row.proposal == view.proposal.validity
    assert (row.proposal.state, row.proposal_text, row.proposal.needs_attention) == (state, overview, attention)
    proposal_page = next(p.html for p in render_pages(view, make_env()) if p.spec.name == "proposal")
    assert page in proposal_page and f"dr-validity--{state}" in proposal_page
    assert row.to_json()["proposal_days_left"] == days


def test_a_deal_without_a_proposal_date_shows_a_dash() -> None:
    undated = DEAL.model_copy(update={"proposal": DEAL.proposal.model_copy(update={"valid_until": None})})
    row = status_row("kestrel-freight", undated, VALID_UNTIL)
    assert (row.proposal.state, row.proposal_text, row.proposal.needs_attention) == ("none", "—", False)
    assert row.to_json()["proposal_valid_until"] is None


@pytest.mark.parametrize("slug", ["kestrel-freight", "halden-health", "marlow-vine"])
@pytest.mark.parametrize("today", [dt.date(2026, 9, 1), dt.date(2026, 11, 22), dt.date(2027, 2, 1)])
def test_the_next_step_is_the_same_on_the_overview_page_and_in_status(slug: str, today: dt.date) -> None:
    deal = load_deal(EXAMPLES / f"{slug}.yml").deal
    view = build_view(slug, deal, schedule(deal, today))
    step = status_row(slug, deal, today).next_milestone
    assert (view.next_steps[0].plan.id if view.next_steps else None) == (step.id if step else None)
    assert len(view.overdue) == status_row(slug, deal, today).overdue
