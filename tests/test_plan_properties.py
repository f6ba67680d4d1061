"""Property-based tests of the scheduler (hypothesis).

Deals are random DAGs: milestone *i* may only wait for milestones before it,
so every generated plan is acyclic, as the loader guarantees for real files.
"Making a milestone later" means it finishes later than before: a done
milestone's ``done_on`` moves later, a milestone done on or before today is
reopened, or time passes (``today`` moves later). Moving a *planned* date is a
re-plan, not a slip, and is deliberately not claimed to be monotone: the gap
to a dependant is part of the plan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dealrooms_plugin.model import Deal
from dealrooms_plugin.plan import Schedule, dependency_cycle, schedule

TARGET = dt.date(2027, 3, 1)
BASE = dt.date(2026, 12, 1)
STATUSES = ("not_started", "in_progress", "blocked", "done")


@st.composite
def deals(draw: st.DrawFn) -> Deal:
    n = draw(st.integers(1, 9))
    items: list[dict[str, Any]] = []
    for i in range(n):
        due: str
        if draw(st.booleans()):
            due = (BASE + dt.timedelta(days=draw(st.integers(0, 100)))).isoformat()
        else:
            due = f"target-{draw(st.integers(0, 60))}{draw(st.sampled_from(['d', 'bd']))}"
        after = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        status = draw(st.sampled_from(STATUSES))
        item: dict[str, Any] = {"id": f"m{i}", "title": f"M{i}", "owner": "buyer", "due": due, "status": status,
                                "after": [f"m{j}" for j in after]}
        if status == "done" and draw(st.booleans()):
            item["done_on"] = (BASE + dt.timedelta(days=draw(st.integers(-20, 110)))).isoformat()
        items.append(item)
    info = {"title": "T", "buyer": {"name": "B"}, "seller": {"name": "S"}, "target_date": TARGET.isoformat()}
    return Deal.model_validate({"deal": info, "milestones": items})


todays = st.integers(-30, 140).map(lambda n: BASE + dt.timedelta(days=n))


def replace_milestone(deal: Deal, ident: str, **changes: Any) -> Deal:
    milestones = tuple(m.model_copy(update=changes) if m.id == ident else m for m in deal.milestones)
    return deal.model_copy(update={"milestones": milestones})


def assert_not_earlier(before: Schedule, after: Schedule) -> None:
    for old in before.milestones:
        assert after.get(old.id).projected >= old.projected, old.id
    assert after.projected_date >= before.projected_date


@settings(max_examples=300, deadline=None)
@given(deals(), todays)
def test_open_milestones_are_never_projected_before_planned_or_today(deal: Deal, today: dt.date) -> None:
    for p in schedule(deal, today).milestones:
        if p.is_open:
            assert p.projected >= p.planned
            assert p.projected >= today
            assert p.slip_days >= 0
            assert p.overdue == (p.planned < today)
            assert p.late_days == max((today - p.planned).days, 0)


@settings(max_examples=300, deadline=None)
@given(deals(), todays)
def test_open_milestones_are_never_projected_before_a_predecessor(deal: Deal, today: dt.date) -> None:
    plan = schedule(deal, today)
    for p in plan.milestones:
        if not p.is_open:
            continue
        for dep in p.milestone.after:
            pred = plan.get(dep)
            assert p.projected >= pred.projected
            # ... and a predecessor's slip reaches it in full, minus nothing: the planned gap is kept.
            gap = max((p.planned - pred.planned).days, 0)
            assert p.projected >= pred.projected + dt.timedelta(days=gap)


@settings(max_examples=300, deadline=None)
@given(deals(), todays)
def test_done_milestones_are_projected_at_their_completion(deal: Deal, today: dt.date) -> None:
    for p in schedule(deal, today).milestones:
        if not p.is_open:
            assert p.projected == (p.milestone.done_on or p.planned)
            assert not p.overdue


@settings(max_examples=300, deadline=None)
@given(deals(), todays, st.integers(1, 60))
def test_time_passing_never_makes_a_projected_date_earlier(deal: Deal, today: dt.date, days: int) -> None:
    assert_not_earlier(schedule(deal, today), schedule(deal, today + dt.timedelta(days=days)))


@settings(max_examples=300, deadline=None)
@given(deals(), todays, st.data())
def test_finishing_a_milestone_later_never_makes_a_projected_date_earlier(deal: Deal, today: dt.date, data: st.DataObject) -> None:
    done = [m for m in deal.milestones if m.status == "done"]
    if not done:
        return
    m = data.draw(st.sampled_from(done))
    before = schedule(deal, today)
    current = before.get(m.id).projected
    later = current + dt.timedelta(days=data.draw(st.integers(1, 40)))
    assert_not_earlier(before, schedule(replace_milestone(deal, m.id, done_on=later), today))


@settings(max_examples=300, deadline=None)
@given(deals(), todays, st.data())
def test_reopening_a_milestone_never_makes_a_projected_date_earlier(deal: Deal, today: dt.date, data: st.DataObject) -> None:
    before = schedule(deal, today)
    # A milestone that is done as of today (done_on not in the future) turns out not to be done.
    done = [m for m in deal.milestones if m.status == "done" and before.get(m.id).projected <= today]
    if not done:
        return
    m = data.draw(st.sampled_from(done))
    reopened = replace_milestone(deal, m.id, status="in_progress", done_on=None)
    assert_not_earlier(before, schedule(reopened, today))


@settings(max_examples=300, deadline=None)
@given(deals(), todays)
def test_deal_forecast_is_consistent(deal: Deal, today: dt.date) -> None:
    plan = schedule(deal, today)
    assert plan.projected_date >= plan.target_date
    assert plan.slip_days == (plan.projected_date - plan.target_date).days
    # The critical path is a real chain of dependencies ending at a last milestone.
    path = plan.critical_path
    assert path and plan.get(path[-1]).planned == max(p.planned for p in plan.milestones)
    for earlier, later in zip(path, path[1:]):
        assert earlier in plan.get(later).milestone.after
    assert not plan.get(path[0]).milestone.after
    assert {p.id for p in plan.milestones if p.critical} == set(path)
    # There is a cause exactly when the target moves, and it carries the whole slip.
    if plan.slip_days > 0:
        assert plan.cause is not None and plan.cause.slip_days >= plan.slip_days
    else:
        assert plan.cause is None
    # Health follows the default thresholds.
    overdue = len(plan.overdue)
    expected = "off_track" if plan.slip_days >= 14 or overdue >= 3 else (
        "at_risk" if plan.slip_days >= 1 or overdue >= 1 else "on_track")
    assert plan.health == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12), st.integers(1, 6))
def test_overdue_first_step_moves_every_dependant_by_the_overdue_days(n: int, overdue: int) -> None:
    # A chain planned a week apart; the first step is `overdue` days late, the rest are in the future.
    first = TARGET - dt.timedelta(days=7 * (n - 1))
    items = [
        {"id": f"m{i}", "title": f"M{i}", "owner": "buyer", "due": (first + dt.timedelta(days=7 * i)).isoformat(),
         "after": [f"m{i - 1}"] if i else []}
        for i in range(n)
    ]
    info = {"title": "T", "buyer": {"name": "B"}, "seller": {"name": "S"}, "target_date": TARGET.isoformat()}
    deal = Deal.model_validate({"deal": info, "milestones": items})
    today = first + dt.timedelta(days=overdue)  # before the second step's due date
    plan = schedule(deal, today)
    assert [p.slip_days for p in plan.milestones] == [overdue] * n
    assert plan.projected_date == TARGET + dt.timedelta(days=overdue)
    assert plan.cause is not None and plan.cause.id == "m0" and plan.cause.late_days == overdue


# --- cycles -------------------------------------------------------------------


def first_cycle_by_depth_first_search(after: dict[str, list[str]]) -> list[str] | None:
    """The reference: a plain recursive search from each milestone in file order, along ``after``.

    The loader's messages name the cycle this search finds; the graphlib
    version in plan.py must name the same one.
    """
    graph = {n: [d for d in deps if d in after and d != n] for n, deps in after.items()}
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = "open"
        stack.append(n)
        for m in graph[n]:
            if state.get(m) == "open":
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = "done"
        return None

    return next((found for n in graph if n not in state and (found := visit(n))), None)


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    """Any ``after`` lists, cycles allowed, with unknown ids and self-references now and then."""
    n = draw(st.integers(1, 8))
    ids = [f"m{i}" for i in draw(st.permutations(range(n)))]
    return {i: draw(st.lists(st.sampled_from([*ids, "unknown"]), max_size=3)) for i in ids}


@settings(max_examples=500, deadline=None)
@given(graphs())
def test_dependency_cycle_is_a_real_cycle_and_the_one_a_depth_first_search_names(after: dict[str, list[str]]) -> None:
    cycle = dependency_cycle(after)
    assert cycle == first_cycle_by_depth_first_search(after)
    if cycle is not None:
        assert cycle[0] == cycle[-1] and len(set(cycle[:-1])) == len(cycle) - 1
        for node, dep in zip(cycle, cycle[1:]):
            assert dep in after[node] and dep != node
