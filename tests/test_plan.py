"""The scheduler: offsets, projected dates, slip, critical path, cause, health, stages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.model import Deal, TargetOffset, parse_due
from dealrooms_plugin.options import validate_options
from dealrooms_plugin.plan import (
    Stage,
    Thresholds,
    check_stage,
    dependency_cycle,
    resolve_due,
    schedule,
)

ROOT = Path(__file__).resolve().parent.parent
D = dt.date


def make_deal(milestones: list[dict[str, Any]], target: str = "2027-03-01", **deal: Any) -> Deal:
    """A deal with the given milestones (owners default to the buyer side)."""
    info = {"title": "T", "buyer": {"name": "Buyer Co"}, "seller": {"name": "Seller Co"}, "target_date": target, **deal}
    items = [{"title": m["id"].title(), "owner": "buyer", **m} for m in milestones]
    return Deal.model_validate({"deal": info, "milestones": items})


# --- offsets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("target-30d", D(2027, 3, 1), D(2027, 1, 30)),
        ("target+2d", D(2027, 3, 1), D(2027, 3, 3)),
        ("target-6w", D(2027, 3, 1), D(2027, 1, 18)),
        ("target+2w", D(2027, 3, 1), D(2027, 3, 15)),
        ("target+0d", D(2027, 3, 1), D(2027, 3, 1)),
        ("target - 3 d", D(2027, 3, 1), D(2027, 2, 26)),  # spaces are tolerated
        # business days, target Monday 1 March 2027
        ("target-1bd", D(2027, 3, 1), D(2027, 2, 26)),  # the Friday before
        ("target-5bd", D(2027, 3, 1), D(2027, 2, 22)),  # a full week back
        ("target-10bd", D(2027, 3, 1), D(2027, 2, 15)),
        ("target+1bd", D(2027, 3, 1), D(2027, 3, 2)),
        ("target+5bd", D(2027, 2, 26), D(2027, 3, 5)),  # Friday + 5bd = next Friday
        ("target+1bd", D(2027, 2, 26), D(2027, 3, 1)),  # Friday + 1bd skips the weekend
        ("target-1bd", D(2027, 2, 27), D(2027, 2, 26)),  # from a Saturday target
        ("target+1bd", D(2027, 2, 27), D(2027, 3, 1)),
        ("target-0bd", D(2027, 2, 27), D(2027, 2, 27)),  # zero keeps the target, even on a weekend
    ],
)
def test_offsets_resolve_against_the_target(text: str, target: dt.date, expected: dt.date) -> None:
    assert resolve_due(parse_due(text), target) == expected


def test_business_days_never_land_on_a_weekend() -> None:
    target = D(2027, 3, 3)  # a Wednesday
    for n in range(1, 40):
        for sign in (1, -1):
            day = resolve_due(TargetOffset(sign, n, "bd"), target)
            assert day.weekday() < 5
            weekdays = sum(
                1 for k in range(1, abs((day - target).days) + 1) if (target + dt.timedelta(days=sign * k)).weekday() < 5
            )
            assert weekdays == n


def test_absolute_dates_are_kept() -> None:
    assert resolve_due(D(2026, 12, 1), D(2027, 3, 1)) == D(2026, 12, 1)


def test_offsets_in_a_deal_are_resolved_in_the_schedule() -> None:
    deal = make_deal([{"id": "a", "due": "target-10bd"}, {"id": "b", "due": "target-2w"}], target="2027-03-01")
    plan = schedule(deal, D(2027, 1, 1))
    assert plan.get("a").planned == D(2027, 2, 15)
    assert plan.get("b").planned == D(2027, 2, 15)


# --- projected dates ----------------------------------------------------------


def test_done_milestone_is_projected_at_done_on_or_planned() -> None:
    deal = make_deal([
        {"id": "a", "due": "2027-01-10", "status": "done", "done_on": "2027-01-14"},
        {"id": "b", "due": "2027-01-20", "status": "done"},
    ])
    plan = schedule(deal, D(2027, 2, 1))
    assert plan.get("a").projected == D(2027, 1, 14)
    assert plan.get("a").late_days == 4
    assert not plan.get("a").overdue
    assert plan.get("b").projected == D(2027, 1, 20)
    assert plan.overdue == ()


def test_overdue_open_milestone_is_projected_today() -> None:
    deal = make_deal([{"id": "a", "due": "2027-01-10", "status": "in_progress"}, {"id": "b", "due": "2027-02-10"}])
    plan = schedule(deal, D(2027, 1, 14))
    a, b = plan.get("a"), plan.get("b")
    assert (a.projected, a.overdue, a.late_days, a.slip_days) == (D(2027, 1, 14), True, 4, 4)
    assert (b.projected, b.overdue, b.late_days) == (D(2027, 2, 10), False, 0)  # independent: not pushed
    assert [m.id for m in plan.overdue] == ["a"]


def test_due_today_is_not_overdue() -> None:
    plan = schedule(make_deal([{"id": "a", "due": "2027-01-10"}]), D(2027, 1, 10))
    assert not plan.get("a").overdue and plan.get("a").projected == D(2027, 1, 10)


def chain_deal() -> Deal:
    return make_deal(
        [
            {"id": "security", "title": "Security review", "due": "target-30d"},  # 2027-01-30
            {"id": "pilot", "due": "target-20d", "after": ["security"]},  # 2027-02-09
            {"id": "contract", "due": "target-10d", "after": ["pilot"]},  # 2027-02-19
            {"id": "go-live", "due": "target+0d", "after": ["contract"]},  # 2027-03-01
        ],
        target="2027-03-01",
    )


def test_slip_propagates_through_dependants_and_moves_the_target() -> None:
    plan = schedule(chain_deal(), D(2027, 2, 3))  # security is 4 days overdue
    assert [plan.get(i).slip_days for i in ("security", "pilot", "contract", "go-live")] == [4, 4, 4, 4]
    assert plan.get("pilot").projected == D(2027, 2, 13)
    assert plan.get("go-live").projected == D(2027, 3, 5)
    assert plan.projected_date == D(2027, 3, 5)
    assert plan.slip_days == 4
    assert plan.critical_path == ("security", "pilot", "contract", "go-live")
    assert all(m.critical for m in plan.milestones)
    assert plan.cause is not None and plan.cause.id == "security" and plan.cause.late_days == 4
    assert plan.get("pilot").driven_by == "security"
    assert plan.health == "at_risk"


def test_no_slip_when_on_time() -> None:
    plan = schedule(chain_deal(), D(2027, 1, 20))
    assert plan.projected_date == plan.target_date == D(2027, 3, 1)
    assert plan.slip_days == 0 and plan.cause is None and plan.health == "on_track"
    assert plan.next_milestone is not None and plan.next_milestone.id == "security"


def test_a_later_overdue_step_absorbs_an_earlier_smaller_slip() -> None:
    # security is done 2 days late, pilot is 10 days overdue: the cause is the pilot.
    deal = make_deal(
        [
            {"id": "security", "due": "2027-01-30", "status": "done", "done_on": "2027-02-01"},
            {"id": "pilot", "due": "2027-02-09", "after": ["security"]},
            {"id": "go-live", "due": "2027-03-01", "after": ["pilot"]},
        ]
    )
    plan = schedule(deal, D(2027, 2, 19))
    assert plan.get("pilot").projected == D(2027, 2, 19)
    assert plan.get("pilot").driven_by is None  # its own lateness, not the predecessor's
    assert plan.get("go-live").projected == D(2027, 3, 11)
    assert plan.slip_days == 10
    assert plan.cause is not None and plan.cause.id == "pilot"


def test_a_recovered_slip_is_not_the_cause() -> None:
    deal = make_deal(
        [
            {"id": "a", "due": "2027-01-10", "status": "done", "done_on": "2027-01-20"},  # 10 days late
            {"id": "b", "due": "2027-01-30", "status": "done", "done_on": "2027-01-30", "after": ["a"]},  # caught up
            {"id": "c", "due": "2027-02-10", "after": ["b"]},  # 3 days overdue
            {"id": "d", "due": "2027-03-01", "after": ["c"]},
        ]
    )
    plan = schedule(deal, D(2027, 2, 13))
    assert plan.slip_days == 3
    assert plan.cause is not None and plan.cause.id == "c"


def test_multiple_predecessors_the_latest_drives_and_is_critical() -> None:
    deal = make_deal(
        [
            {"id": "legal", "due": "2027-02-01"},
            {"id": "security", "due": "2027-02-05"},
            {"id": "sign", "due": "2027-02-15", "after": ["legal", "security"]},
        ],
        target="2027-02-15",
    )
    plan = schedule(deal, D(2027, 2, 10))  # legal 9 days late, security 5 days late
    assert plan.get("sign").projected == D(2027, 2, 24)  # legal.projected + 14 days planned gap
    assert plan.get("sign").driven_by == "legal"
    assert plan.critical_path == ("legal", "sign")
    assert not plan.get("security").critical
    assert plan.projected_date == D(2027, 2, 24)
    assert plan.cause is not None and plan.cause.id == "legal"


def test_dependant_planned_before_its_predecessor_still_waits_for_it() -> None:
    deal = make_deal([{"id": "a", "due": "2027-02-10"}, {"id": "b", "due": "2027-02-01", "after": ["a"]}])
    plan = schedule(deal, D(2027, 1, 1))
    assert plan.get("b").projected == D(2027, 2, 10)


def test_without_dependencies_only_the_last_milestone_moves_the_target() -> None:
    deal = make_deal(
        [{"id": "early", "due": "2027-01-10"}, {"id": "last", "due": "2027-03-01"}], target="2027-03-01"
    )
    plan = schedule(deal, D(2027, 1, 20))
    assert plan.get("early").overdue
    assert plan.projected_date == D(2027, 3, 1)  # the early step is overdue but moves nothing
    assert plan.critical_path == ("last",)
    assert plan.health == "at_risk"  # the overdue item still counts
    late = schedule(deal, D(2027, 3, 4))
    assert late.projected_date == D(2027, 3, 4) and late.cause is not None and late.cause.id == "last"


def test_done_outcome_ignores_earlier_history() -> None:
    deal = make_deal(
        [
            {"id": "a", "due": "2027-01-10", "status": "done", "done_on": "2027-01-25"},
            {"id": "b", "due": "2027-03-01", "status": "done", "done_on": "2027-03-01", "after": ["a"]},
        ]
    )
    plan = schedule(deal, D(2027, 3, 10))
    assert plan.projected_date == D(2027, 3, 1) and plan.slip_days == 0 and plan.health == "on_track"


def test_empty_plan() -> None:
    plan = schedule(make_deal([]), D(2027, 1, 1))
    assert plan.projected_date == plan.target_date and plan.critical_path == () and plan.next_milestone is None


def test_cycle_in_a_deal_built_in_code_is_an_error_not_a_hang() -> None:
    deal = make_deal([
        {"id": "x", "due": "2027-01-01"},
        {"id": "a", "due": "2027-01-01", "after": ["x", "b"]},
        {"id": "b", "due": "2027-01-02", "after": ["a"]},
    ])
    with pytest.raises(DealroomsError, match="^dependency cycle a → b → a$"):
        schedule(deal, D(2027, 1, 1))


@pytest.mark.parametrize(
    ("after", "cycle"),
    [
        # cycle.yml: a after c, b after a, c after b; read from the first milestone along after:
        ({"a": ["c"], "b": ["a"], "c": ["b"]}, ["a", "c", "b", "a"]),
        ({"a": ["b"], "b": ["c"], "c": ["b"]}, ["b", "c", "b"]),  # a only leads into the cycle
        ({"a": ["a", "zz"], "b": ["a"]}, None),  # waiting for itself and unknown ids are reported elsewhere
        ({"a": [], "b": ["a"], "c": ["a", "b"]}, None),
    ],
)
def test_dependency_cycle_names_the_milestones_in_after_order(after: dict[str, list[str]], cycle: list[str] | None) -> None:
    assert dependency_cycle(after) == cycle


def test_long_chain_does_not_recurse() -> None:
    items = [{"id": f"m{i}", "due": "2027-01-01", "after": [f"m{i - 1}"] if i else []} for i in range(3000)]
    plan = schedule(make_deal(items), D(2027, 1, 5))
    assert plan.get("m2999").projected == D(2027, 1, 5) and len(plan.critical_path) == 3000


def test_kestrel_example_names_the_security_review() -> None:
    deal = load_deal(ROOT / "dealrooms" / "kestrel-freight.yml").deal
    plan = schedule(deal, D(2026, 11, 17))  # the questionnaire was due 13 Nov
    assert plan.cause is not None and plan.cause.id == "security-review" and plan.cause.late_days == 4
    assert plan.target_date == D(2027, 2, 15)
    assert plan.projected_date == D(2027, 2, 19)
    assert plan.critical_path[-1] == "rollout" and "security-review" in plan.critical_path
    assert plan.health == "at_risk"


# --- health -------------------------------------------------------------------


def test_health_thresholds() -> None:
    t = Thresholds(at_risk_slip_days=3, off_track_slip_days=10, at_risk_overdue=2, off_track_overdue=4)
    assert t.health(0, 0) == "on_track"
    assert t.health(2, 1) == "on_track"
    assert t.health(3, 0) == "at_risk"
    assert t.health(0, 2) == "at_risk"
    assert t.health(10, 0) == "off_track"
    assert t.health(0, 4) == "off_track"


def test_health_uses_the_given_thresholds() -> None:
    today = D(2027, 2, 3)  # 4 days of slip, 1 overdue
    assert schedule(chain_deal(), today).health == "at_risk"
    lenient = Thresholds(at_risk_slip_days=5, at_risk_overdue=2)
    assert schedule(chain_deal(), today, lenient).health == "on_track"
    strict = Thresholds(off_track_slip_days=3)
    assert schedule(chain_deal(), today, strict).health == "off_track"


# --- stages -------------------------------------------------------------------

STAGES = [
    {"name": "discovery", "exit_criteria": ["discovery"], "probability": 10},
    {"name": "evaluation", "exit_criteria": ["security", "pilot"], "probability": 40},
    {"name": "negotiation", "exit_criteria": ["contract"], "probability": 80},
    {"name": "closed_won", "probability": 100},
]


def staged_deal(stage: str, done: set[str]) -> Deal:
    ids = ["discovery", "security", "pilot", "contract"]
    return make_deal(
        [{"id": i, "due": f"2027-01-{10 + n:02d}", **({"status": "done"} if i in done else {})} for n, i in enumerate(ids)],
        stage=stage,
    )


def test_stage_supported_by_completed_exit_criteria_is_not_flagged() -> None:
    stages = validate_options({"stages": STAGES}, config_file=Path("mkdocs.yml")).sales_stages
    result = check_stage(staged_deal("negotiation", {"discovery", "security", "pilot"}), stages)
    assert not result.flagged
    assert (result.index, result.probability, result.supported, result.missing) == (2, 80.0, "negotiation", ())


def test_stage_ahead_of_its_exit_criteria_is_flagged() -> None:
    stages = validate_options({"stages": STAGES}, config_file=Path("mkdocs.yml")).sales_stages
    result = check_stage(staged_deal("Negotiation", {"discovery", "security"}), stages)
    assert result.flagged
    assert result.missing == (("evaluation", "pilot"),)
    assert result.supported == "evaluation"
    assert result.message == (
        "stage 'Negotiation' is ahead of the plan: exit criteria not done: Pilot (pilot); "
        "the completed milestones support 'evaluation'"
    )


def test_exit_criteria_missing_from_the_plan_are_named() -> None:
    stages = (Stage("evaluation", ("security", "poc")), Stage("negotiation"))
    result = check_stage(staged_deal("negotiation", {"security"}), stages)
    assert result.not_in_plan == ("poc",)
    assert result.message is not None and "poc (poc, not in the plan)" in result.message


def test_unknown_stage_and_no_stages() -> None:
    stages = validate_options({"stages": STAGES}, config_file=Path("mkdocs.yml")).sales_stages
    unknown = check_stage(staged_deal("haggling", set()), stages)
    assert unknown.message == "unknown stage 'haggling' (stages are: discovery, evaluation, negotiation, closed_won)"
    assert not check_stage(staged_deal("haggling", set()), ()).flagged
    first = check_stage(staged_deal("discovery", set()), stages)
    assert not first.flagged and first.supported == "discovery"
