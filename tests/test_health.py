"""Honest health: the proposal counts, every badge says why in words, one rule for pages and status,
and the data the pages' script recomputes the figures from."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from typing import Any

import pytest

from dealrooms_plugin.model import Deal
from dealrooms_plugin.plan import Thresholds, schedule
from dealrooms_plugin.render import _date, make_env, render_pages
from dealrooms_plugin.status import format_table, status_row
from dealrooms_plugin.view import build_view, health_text, plural_forms

D = dt.date
TODAY = D(2026, 11, 23)


def make_deal(milestones: list[dict[str, Any]], *, valid_until: str | None = None, locale: str = "en_GB",
              target: str = "2027-03-01") -> Deal:
    info = {"title": "T", "buyer": {"name": "Buyer Co"}, "seller": {"name": "Seller Co"}, "target_date": target,
            "locale": locale}
    data: dict[str, Any] = {"deal": info, "milestones": [{"title": m["id"].title(), "owner": "buyer", **m} for m in milestones]}
    if valid_until:
        data["proposal"] = {"valid_until": valid_until, "currency": "EUR", "items": [{"name": "Licence", "unit_price": 100}]}
    return Deal.model_validate(data)


ON_TIME = [{"id": "pilot", "due": "2026-12-10"}, {"id": "signature", "due": "2027-01-20", "after": ["pilot"]},
           {"id": "go-live", "due": "2027-03-01", "after": ["signature"]}]


def badge(deal: Deal, today: dt.date = TODAY, thresholds: Thresholds = Thresholds()) -> str:
    """The health badge of the rendered overview, as the buyer reads it."""
    view = build_view("deal", deal, schedule(deal, today, thresholds))
    html = render_pages(view, make_env())[0].html
    found = re.search(r'<span class="dr-health-badge" data-dr-health>(.*?)</span>\n', html, re.S)
    assert found, html[:2000]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


# --- the rules ------------------------------------------------------------------


def test_an_expired_proposal_is_never_on_track() -> None:
    deal = make_deal(ON_TIME, valid_until="2026-11-20")
    plan = schedule(deal, TODAY)
    assert not plan.overdue and plan.slip_days == 0  # nothing else is wrong
    assert plan.health == "at_risk"
    assert [r.kind for r in plan.shown_reasons] == ["proposal_expired"]
    assert badge(deal) == "At risk: the proposal expired on 20 Nov"


def test_a_proposal_that_expires_before_the_signature_puts_the_deal_at_risk() -> None:
    deal = make_deal(ON_TIME, valid_until="2027-01-10")  # signature planned for 20 Jan
    plan = schedule(deal, TODAY)
    assert plan.health == "at_risk"
    assert badge(deal) == "At risk: the proposal expires on 10 Jan, before the signature (20 Jan)"
    # Valid through the signature: nothing to say.
    assert schedule(make_deal(ON_TIME, valid_until="2027-01-25"), TODAY).health == "on_track"
    assert badge(make_deal(ON_TIME, valid_until="2027-01-25")) == "On track: every step is on time"


def test_the_signature_is_judged_at_its_projected_date() -> None:
    # The pilot is 13 days late and pushes the signature from 20 Jan to 2 Feb: a proposal valid to 25 Jan no longer covers it.
    late = [{**ON_TIME[0], "due": "2026-11-10"}, ON_TIME[1], ON_TIME[2]]
    plan = schedule(make_deal(late, valid_until="2027-01-25"), TODAY)
    proposal = [r for r in plan.reasons if r.kind.startswith("proposal")]
    assert [(r.kind, r.deadline) for r in proposal] == [("proposal_before_signature", D(2027, 2, 2))]


def test_once_signed_the_proposal_date_no_longer_matters() -> None:
    signed = [ON_TIME[0] | {"status": "done", "done_on": "2026-11-01"},
              ON_TIME[1] | {"status": "done", "done_on": "2026-11-15"}, ON_TIME[2]]
    plan = schedule(make_deal(signed, valid_until="2026-11-20"), TODAY)
    assert plan.health == "on_track" and [r.kind for r in plan.reasons] == ["on_time"]


def test_without_a_signature_step_the_proposal_must_last_to_the_target() -> None:
    steps = [{"id": "pilot", "due": "2026-12-10"}, {"id": "go-live", "due": "2027-03-01", "after": ["pilot"]}]
    deal = make_deal(steps, valid_until="2027-02-01")
    assert badge(deal) == "At risk: the proposal expires on 1 Feb, before the target date (1 Mar)"
    assert schedule(make_deal(steps, valid_until="2027-03-01"), TODAY).health == "on_track"


def test_the_badge_names_the_late_step_and_the_slip() -> None:
    late = [{**ON_TIME[0], "due": "2026-11-21"}, ON_TIME[1], ON_TIME[2]]
    assert badge(make_deal(late)) == "At risk: Pilot is 2 days late"
    # Slip beyond off_track_slip_days decides the level, so it is what the badge names.
    very_late = [{**ON_TIME[0], "due": "2026-11-01"}, ON_TIME[1], ON_TIME[2]]
    assert badge(make_deal(very_late)) == "Off track: the outcome moves 22 days past the target"
    # An expired proposal is always named too, also when something else decides the level.
    assert badge(make_deal(very_late, valid_until="2026-10-31")) == (
        "Off track: the outcome moves 22 days past the target; the proposal expired on 31 Oct")


def test_many_overdue_steps_are_counted_in_words() -> None:
    steps = [{"id": f"s{i}", "due": f"2026-11-{10 + i}"} for i in range(3)] + [{"id": "go-live", "due": "2027-03-01"}]
    assert badge(make_deal(steps)) == "Off track: 3 steps are late"


def test_thresholds_decide_the_level_and_the_reason_still_says_what_is_late() -> None:
    late = [{**ON_TIME[0], "due": "2026-11-22"}, ON_TIME[1], ON_TIME[2]]
    lenient = Thresholds(at_risk_slip_days=5, off_track_slip_days=30, at_risk_overdue=2, off_track_overdue=5)
    assert schedule(make_deal(late), TODAY, lenient).health == "on_track"
    assert badge(make_deal(late), thresholds=lenient) == "On track: Pilot is 1 day late"
    strict = Thresholds(at_risk_slip_days=1, off_track_slip_days=1, at_risk_overdue=1, off_track_overdue=1)
    assert badge(make_deal(late), thresholds=strict) == "Off track: Pilot is 1 day late"
    # The expired-proposal rule is not a threshold: even the most lenient settings keep it at risk.
    never = Thresholds(at_risk_slip_days=999, off_track_slip_days=999, at_risk_overdue=99, off_track_overdue=99)
    assert schedule(make_deal(ON_TIME, valid_until="2026-11-01"), TODAY, never).health == "at_risk"


# --- one wording: the page's badge and `dealrooms status` ---------------------------------


CASES = {
    "on_time": (ON_TIME, None),
    "late": ([{**ON_TIME[0], "due": "2026-11-21"}, ON_TIME[1], ON_TIME[2]], None),
    "overdue": ([{"id": f"s{i}", "due": f"2026-11-{10 + i}"} for i in range(2)] + [{"id": "go-live", "due": "2027-03-01"}], None),
    "slip": ([{**ON_TIME[0], "due": "2026-11-01"}, ON_TIME[1], ON_TIME[2]], None),
    "proposal_expired": (ON_TIME, "2026-11-20"),
    "proposal_before_signature": (ON_TIME, "2027-01-10"),
    "proposal_before_target": ([{"id": "pilot", "due": "2026-12-10"}, {"id": "go-live", "due": "2027-03-01"}], "2027-02-01"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_status_and_the_page_say_the_same_words_for_every_kind_of_reason(kind: str) -> None:
    steps, valid_until = CASES[kind]
    deal = make_deal(steps, valid_until=valid_until)
    plan = schedule(deal, TODAY)
    assert kind in [r.kind for r in plan.shown_reasons]
    titles = {m.id: m.title for m in deal.milestones}
    text = health_text(plan, "en", titles, day=lambda d: _date(d, "en_GB", "short_day"))
    assert text == badge(deal)


def test_dealrooms_status_shows_the_health_and_why() -> None:
    deal = make_deal(ON_TIME, valid_until="2026-11-20")
    row = status_row("acme", deal, TODAY)
    assert row.health == "at_risk"
    assert row.health_reason == "At risk: the proposal expired on 2026-11-20"
    assert row.to_json()["health_reason"] == row.health_reason
    assert "acme: At risk: the proposal expired on 2026-11-20" in format_table([row])


# --- what the page embeds for the browser ----------------------------------------------


def live_block(deal: Deal, today: dt.date = TODAY) -> dict[str, Any]:
    view = build_view("deal", deal, schedule(deal, today))
    html = render_pages(view, make_env())[0].html
    found = re.findall(r'<script type="application/json" data-dr-live>(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def test_the_overview_embeds_the_plan_and_its_words_as_data() -> None:
    deal = make_deal([{**ON_TIME[0], "title": "</script><script>alert(1)</script>"}, ON_TIME[1], ON_TIME[2]],
                     valid_until="2027-01-25")
    view = build_view("deal", deal, schedule(deal, TODAY))
    html = render_pages(view, make_env())[0].html
    assert "</script><script>alert" not in html  # deal text cannot end the data block
    data = live_block(deal)
    assert data["deal"]["built"] == "2026-11-23" and data["deal"]["target"] == "2027-03-01"
    assert data["deal"]["valid_until"] == "2027-01-25" and data["deal"]["lang"] == "en-GB"
    assert data["deal"]["thresholds"] == {"at_risk_slip_days": 1, "off_track_slip_days": 14, "at_risk_overdue": 1,
                                          "off_track_overdue": 3}
    assert [s["id"] for s in data["deal"]["steps"]] == ["pilot", "signature", "go-live"]
    assert data["deal"]["steps"][0]["title"] == "</script><script>alert(1)</script>"
    text = data["text"]
    assert text["reasons"]["proposal_expired"] == "the proposal expired on %(date)s"
    assert text["badge"] == "%(health)s: %(reason)s"
    assert text["days"]["forms"] == ["%(num)s days", "%(num)s day"]
    assert [text["days"]["forms"][text["days"]["pick"][n]] for n in (0, 1, 2, 21)] == [
        "%(num)s days", "%(num)s day", "%(num)s days", "%(num)s days"]


def test_plural_forms_follow_the_catalog_of_the_deal_language() -> None:
    english = plural_forms("en", "%(num)s day", "%(num)s days")
    assert len(english["pick"]) == 200 and len(english["forms"]) == 2
    german = plural_forms("de", "%(num)s day", "%(num)s days")
    assert german["forms"][german["pick"][1]] != german["forms"][german["pick"][2]]
    assert all("%(num)s" in form for form in german["forms"])
    # Languages without plural forms have one, languages with more have as many as their catalog says.
    for language, count in (("vi", 1), ("th", 1), ("ro", 3)):
        forms = plural_forms(language, "%(num)s day", "%(num)s days")
        if any("day" in form for form in forms["forms"]):
            pytest.skip(f"'%(num)s day' is not translated into {language} yet")
        assert len(forms["forms"]) == count, (language, forms["forms"])


def test_without_javascript_the_page_says_as_of_which_day() -> None:
    deal = make_deal(ON_TIME)
    view = build_view("deal", deal, schedule(deal, TODAY), plan_last_changed=D(2026, 11, 20))
    html = render_pages(view, make_env())[0].html
    note = re.search(r'<p class="dr-asof">(.*?)</p>', html, re.S)
    assert note
    assert " ".join(re.sub(r"<[^>]+>", "", note.group(1)).split()) == (
        "Figures as of 23 Nov 2026, the day this page was built. The plan last changed on 20 Nov 2026.")
    plain = render_pages(build_view("deal", deal, schedule(deal, TODAY)), make_env())[0].html
    assert "last changed" not in plain  # no history, no claim
