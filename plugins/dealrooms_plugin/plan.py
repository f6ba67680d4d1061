"""Schedule and forecast: planned and projected dates, slip, critical path, health.

Pure functions of a validated :class:`~.model.Deal` and a date; no I/O and no
MkDocs. Everything the deal room says about time comes from here.

The model, in the words a rep would use:

* A milestone's **planned** date is its ``due`` (offsets resolved against the
  deal's ``target_date``).
* Its **projected** date is when it will realistically be done: a done
  milestone's ``done_on``; an open one no earlier than its planned date, no
  earlier than today (an overdue step cannot finish in the past), and no
  earlier than each predecessor's projected date plus the gap the plan left
  between the two. So a predecessor that slips by N days pushes its
  dependants by N days; a step that is itself later than that push (e.g. it
  is overdue too) absorbs it.
* The deal's **projected date** is ``target_date`` moved by the largest slip
  on the chains leading to the last milestone (by planned date). Slip of
  milestones off those chains shows as overdue items, not as a later go-live.
* Its **health** comes from the slip, the overdue steps and the proposal's
  validity (:func:`assess_health`), always with the reasons, in data.

The deal pages repeat these rules in the visitor's browser
(``assets/dealrooms.js``), so a page opened weeks after its build shows that
day's figures; ``tests/browser/test_today.py`` checks both agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any, Iterable, Literal, Mapping

from .errors import DealroomsError
from .model import Deal, Milestone, TargetOffset

Health = Literal["on_track", "at_risk", "off_track"]
HEALTH_ORDER: dict[str, int] = {"off_track": 0, "at_risk": 1, "on_track": 2}


@dataclass(frozen=True)
class Thresholds:
    """When a deal stops being on track (``health:`` in the plugin options).

    A deal is *off track* when its slip or its number of overdue milestones
    reaches the ``off_track_*`` value, else *at risk* when either reaches the
    ``at_risk_*`` value, else *on track*.
    """

    at_risk_slip_days: int = 1
    off_track_slip_days: int = 14
    at_risk_overdue: int = 1
    off_track_overdue: int = 3

    def health(self, slip_days: int, overdue: int) -> Health:
        """The health label for a slip (days) and a number of overdue milestones."""
        if slip_days >= self.off_track_slip_days or overdue >= self.off_track_overdue:
            return "off_track"
        if slip_days >= self.at_risk_slip_days or overdue >= self.at_risk_overdue:
            return "at_risk"
        return "on_track"


# A proposal is judged against the plan's signature: the milestone with one of
# these ids (the ones the templates use), else the deal's target date.
SIGNATURE_IDS = ("signature", "contract")

ReasonKind = Literal["late", "overdue", "slip", "proposal_expired", "proposal_before_signature",
                     "proposal_before_target", "on_time"]
# Among findings of the same severity, the one a buyer can act on comes first:
# a late step (someone can finish it), then the slip it causes, then the proposal.
_REASON_ORDER = {"late": 0, "overdue": 0, "slip": 1, "proposal_expired": 2, "proposal_before_signature": 2,
                 "proposal_before_target": 2, "on_time": 3}


@dataclass(frozen=True)
class HealthReason:
    """One finding behind a deal's health, as data; the words are in :mod:`.view` (and the pages' script).

    ``health`` is the level this finding alone gives. Kinds and their fields:
    ``late`` (one overdue step: ``step``, ``days`` late), ``overdue`` (``count``
    overdue steps), ``slip`` (the outcome moves ``days`` past the target),
    ``proposal_expired`` (``date`` it expired), ``proposal_before_signature``
    / ``proposal_before_target`` (it expires on ``date``, before ``deadline``),
    ``on_time`` (nothing to report).
    """

    kind: ReasonKind
    health: Health
    days: int = 0
    count: int = 0
    step: str | None = None  # milestone id
    date: dt.date | None = None  # the proposal's valid_until
    deadline: dt.date | None = None  # the signature's projected date, or the target


ON_TIME = HealthReason("on_time", "on_track")


def signature_step(milestones: Iterable["MilestonePlan"]) -> "MilestonePlan | None":
    """The plan's signature (see SIGNATURE_IDS), or None when it has none."""
    by_id = {m.id: m for m in milestones}
    return next((by_id[i] for i in SIGNATURE_IDS if i in by_id), None)


def assess_health(
    thresholds: Thresholds,
    today: dt.date,
    target: dt.date,
    slip_days: int,
    overdue: tuple["MilestonePlan", ...],
    valid_until: dt.date | None,
    signature: "MilestonePlan | None",
) -> tuple[Health, tuple[HealthReason, ...]]:
    """A deal's health and every finding behind it, worst first: the one rule for pages and ``status``.

    Slip and overdue steps count by the thresholds; a proposal that has
    expired, or expires before the signature (its projected date, which is
    never before the planned one) or, without a signature step, before the
    target, makes the deal at least at risk. Once the signature is done, the
    proposal's date no longer matters. The pages' script applies the same
    rules in the visitor's browser (``assets/dealrooms.js``, ``assess``).
    """
    found: list[HealthReason] = []
    if len(overdue) == 1:
        step = overdue[0]
        found.append(HealthReason("late", thresholds.health(0, 1), days=step.late_days, step=step.id))
    elif overdue:
        found.append(HealthReason("overdue", thresholds.health(0, len(overdue)), count=len(overdue)))
    if slip_days > 0:
        found.append(HealthReason("slip", thresholds.health(slip_days, 0), days=slip_days))
    if valid_until is not None and (signature is None or signature.is_open):
        if valid_until < today:
            found.append(HealthReason("proposal_expired", "at_risk", date=valid_until))
        elif signature is not None and valid_until < signature.projected:
            found.append(HealthReason("proposal_before_signature", "at_risk", date=valid_until,
                                      deadline=signature.projected))
        elif signature is None and valid_until < target:
            found.append(HealthReason("proposal_before_target", "at_risk", date=valid_until, deadline=target))
    found.sort(key=lambda r: (HEALTH_ORDER[r.health], _REASON_ORDER[r.kind]))
    health: Health = found[0].health if found else "on_track"
    return health, tuple(found) or (ON_TIME,)


def shown_reasons(health: Health, reasons: tuple[HealthReason, ...]) -> tuple[HealthReason, ...]:
    """What the badge says after the health label: the first finding at the deal's level, and the
    proposal's finding whenever there is one (a separate thing for the buyer to act on, and the
    contradiction buyers notice first: an expired offer beside a calm badge)."""
    first = next((r for r in reasons if r.health == health), ON_TIME)
    proposal = [r for r in reasons if r.kind.startswith("proposal") and r is not first]
    return (first, *proposal[:1])


@dataclass(frozen=True)
class MilestonePlan:
    """One milestone with its planned and projected dates as of ``today``."""

    milestone: Milestone
    planned: dt.date
    projected: dt.date
    overdue: bool  # open and its planned date is before today
    late_days: int  # overdue: today - planned; done late: done_on - planned; else 0
    critical: bool  # on the chain that decides the deal's projected date
    driven_by: str | None = None  # the predecessor whose slip pushed the projected date, if any

    @property
    def id(self) -> str:
        return self.milestone.id

    @property
    def is_open(self) -> bool:
        return self.milestone.status != "done"

    @property
    def slip_days(self) -> int:
        return (self.projected - self.planned).days


@dataclass(frozen=True)
class Schedule:
    """A deal's plan and forecast as of ``today``."""

    today: dt.date
    target_date: dt.date
    projected_date: dt.date
    milestones: tuple[MilestonePlan, ...]  # in the order of the deal file
    critical_path: tuple[str, ...]  # milestone ids, first to last
    health: Health
    cause: MilestonePlan | None  # the late step that moves the projected date, if any
    reasons: tuple[HealthReason, ...] = (ON_TIME,)  # why, worst first (assess_health)
    thresholds: Thresholds = Thresholds()  # what the health was judged by

    @property
    def shown_reasons(self) -> tuple[HealthReason, ...]:
        """The reasons the health badge names (see :func:`shown_reasons`)."""
        return shown_reasons(self.health, self.reasons)

    @property
    def slip_days(self) -> int:
        return (self.projected_date - self.target_date).days

    @property
    def overdue(self) -> tuple[MilestonePlan, ...]:
        return tuple(m for m in self.milestones if m.overdue)

    @property
    def open(self) -> tuple[MilestonePlan, ...]:
        """Open milestones, soonest planned first."""
        return tuple(sorted((m for m in self.milestones if m.is_open), key=lambda m: (m.planned, m.projected)))

    @property
    def next_milestone(self) -> MilestonePlan | None:
        """What comes next: the open milestone with the earliest planned date."""
        pending = self.open
        return pending[0] if pending else None

    def get(self, milestone_id: str) -> MilestonePlan:
        return next(m for m in self.milestones if m.id == milestone_id)


def resolve_due(due: dt.date | TargetOffset, target: dt.date) -> dt.date:
    """An absolute due date, resolving offsets from the target date.

    ``bd`` counts business days (Monday to Friday) and never lands on a
    weekend: ``target-1bd`` of a Monday is the Friday before; ``target-0bd``
    is the target itself, whatever day it is.
    """
    if isinstance(due, dt.date):
        return due
    if due.unit == "d":
        return target + dt.timedelta(days=due.sign * due.amount)
    if due.unit == "w":
        return target + dt.timedelta(weeks=due.sign * due.amount)
    day, remaining = target, due.amount
    while remaining:
        day += dt.timedelta(days=due.sign)
        if day.weekday() < 5:
            remaining -= 1
    return day


def schedule(deal: Deal, today: dt.date, thresholds: Thresholds = Thresholds()) -> Schedule:
    """Plan and forecast a deal as of ``today`` (see the module docstring for the rules)."""
    target = deal.deal.target_date
    by_id = {m.id: m for m in deal.milestones}
    planned = {m.id: resolve_due(m.due, target) for m in deal.milestones}
    projected: dict[str, dt.date] = {}
    driven_by: dict[str, str | None] = {}

    for ident in _topological(deal.milestones):
        m = by_id[ident]
        own = planned[ident]
        if m.status == "done":
            # What happened is a fact; predecessors no longer matter.
            projected[ident], driven_by[ident] = m.done_on or own, None
            continue
        date, driver = max(own, today), None
        for dep in _deps(m, by_id):
            bound = _bound(dep, ident, planned, projected)
            if bound > date:
                date, driver = bound, dep
        projected[ident], driven_by[ident] = date, driver

    def slip(ident: str) -> int:
        return (projected[ident] - planned[ident]).days

    lasts = _last_milestones(deal.milestones, planned)
    chain = _open_chain(lasts, by_id)
    # Done milestones count only as the outcome itself (a done last milestone):
    # an earlier done step's slip is already in the open steps it pushed, and a
    # step behind a done one cannot hold anything up any more.
    slips = [slip(i) for i in chain if by_id[i].status != "done" or i in lasts]
    deal_slip = max([0, *slips])
    projected_date = target + dt.timedelta(days=deal_slip)

    path = _critical_path(lasts, by_id, planned, projected)
    on_path = set(path)
    plans = tuple(
        MilestonePlan(
            milestone=m,
            planned=planned[m.id],
            projected=projected[m.id],
            overdue=m.status != "done" and planned[m.id] < today,
            late_days=_late_days(m, planned[m.id], today),
            critical=m.id in on_path,
            driven_by=driven_by[m.id],
        )
        for m in deal.milestones
    )
    result = {p.id: p for p in plans}
    cause = _cause(path, result, deal_slip)
    valid_until = deal.proposal.valid_until if deal.proposal else None
    health, reasons = assess_health(
        thresholds, today, target, deal_slip, tuple(p for p in plans if p.overdue), valid_until, signature_step(plans)
    )
    return Schedule(today, target, projected_date, plans, tuple(path), health, cause, reasons, thresholds)


def _deps(m: Milestone, by_id: dict[str, Milestone]) -> list[str]:
    # The loader rejects unknown ids; a Deal built in code may still have them.
    return [d for d in m.after if d in by_id and d != m.id]


def _bound(dep: str, ident: str, planned: dict[str, dt.date], projected: dict[str, dt.date]) -> dt.date:
    """Earliest date ``ident`` can be done given predecessor ``dep``: its projected date plus the planned gap.

    A dependant planned *before* its predecessor (a plan that contradicts
    itself) gets a gap of 0: it is still not done before the predecessor.
    """
    gap = max((planned[ident] - planned[dep]).days, 0)
    return projected[dep] + dt.timedelta(days=gap)


def _late_days(m: Milestone, planned: dt.date, today: dt.date) -> int:
    if m.status != "done":
        return max((today - planned).days, 0)
    if m.done_on:
        return max((m.done_on - planned).days, 0)
    return 0


def _topological(milestones: tuple[Milestone, ...]) -> list[str]:
    """Milestone ids, every predecessor before its dependants (graphlib, so no recursion limit)."""
    by_id = {m.id: m for m in milestones}
    try:
        return list(TopologicalSorter({m.id: _deps(m, by_id) for m in milestones}).static_order())
    except CycleError:
        # load.py reports cycles with file and line; this guards deals built in code.
        cycle = dependency_cycle({m.id: m.after for m in milestones})
        raise DealroomsError("dependency cycle " + " → ".join(cycle or ())) from None


def dependency_cycle(after: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle among milestones, or None when there is none.

    ``after`` maps each milestone id, in file order, to the ids it waits for;
    ids that are not keys (unknown milestones) and a milestone waiting for
    itself are left out, as those are reported on their own. The cycle reads
    in the direction a rep writes ``after:``, starting and ending at the
    same milestone: ``["a", "c", "b", "a"]`` is "a after c, c after b, b
    after a". The search starts at the first milestone in file order, so the
    same deal always names the same cycle.
    """
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for ident in after:
        sorter.add(ident)  # file order first: graphlib searches for cycles in insertion order
    for ident, deps in after.items():
        for dep in deps:
            if dep in after and dep != ident:
                # Edges point from a milestone to what it waits for, so the reported
                # cycle follows ``after:`` instead of running backwards.
                sorter.add(dep, ident)
    try:
        sorter.prepare()
    except CycleError as error:
        return list(error.args[1])
    return None


def _last_milestones(milestones: tuple[Milestone, ...], planned: dict[str, dt.date]) -> list[str]:
    """The milestone(s) with the latest planned date: the outcome the plan leads to."""
    if not milestones:
        return []
    latest = max(planned.values())
    return [m.id for m in milestones if planned[m.id] == latest]


def _open_chain(lasts: list[str], by_id: dict[str, Milestone]) -> list[str]:
    """``lasts`` and the milestones they (transitively) wait for, not looking behind done ones."""
    seen: list[str] = []
    stack = list(lasts)
    while stack:
        ident = stack.pop()
        if ident in seen:
            continue
        seen.append(ident)
        if by_id[ident].status != "done":
            stack.extend(_deps(by_id[ident], by_id))
    return seen


def _critical_path(
    lasts: list[str], by_id: dict[str, Milestone], planned: dict[str, dt.date], projected: dict[str, dt.date]
) -> list[str]:
    """The chain ending at the last milestone: at each step, the predecessor that binds it most.

    The tightest predecessor is the one with the latest bound (projected date
    plus planned gap), i.e. the largest slip; ties go to the later planned
    date, then to the later position in the file, so the path is stable.
    """
    if not lasts:
        return []
    position = {ident: i for i, ident in enumerate(by_id)}
    current = max(lasts, key=lambda i: ((projected[i] - planned[i]).days, position[i]))
    path = [current]
    while deps := _deps(by_id[current], by_id):
        current = max(deps, key=lambda d: (_bound(d, current, planned, projected), planned[d], position[d]))
        path.append(current)
    return list(reversed(path))


def _cause(path: list[str], plans: dict[str, MilestonePlan], deal_slip: int) -> MilestonePlan | None:
    """The late step that drives the slip, for "Security review is 4 days late".

    Slip propagates forward along the critical path, so the delay is in the
    last run of steps carrying the deal's slip (an earlier run was recovered:
    a step after it finished on time). Within that run, an open overdue step
    is named first: it is late *now* and someone can act on it; otherwise the
    run's first step, where the delay entered the plan (e.g. done late).
    """
    if deal_slip <= 0:
        return None
    run: list[str] = []
    current: list[str] = []
    for ident in path:
        if plans[ident].slip_days >= deal_slip:
            current.append(ident)
            run = current
        else:
            current = []
    if run:
        overdue = [i for i in run if plans[i].overdue]
        return plans[overdue[0] if overdue else run[0]]
    # The slip came from a chain the critical path does not follow (ties); name the latest step anyway.
    late = [plans[i] for i in path if plans[i].slip_days > 0]
    return max(late, key=lambda p: p.slip_days) if late else None


# --- stages -------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """A sales stage from the plugin's ``stages:`` option."""

    name: str
    exit_criteria: tuple[str, ...] = ()  # milestone ids that must be done to leave this stage
    probability: float | None = None  # forecast probability in percent, 0-100


@dataclass(frozen=True)
class StageCheck:
    """How a deal's ``stage`` compares with the milestones it has completed."""

    stage: str | None  # the deal's stage as written
    index: int | None  # its position in the configured stages; None when unknown or unset
    probability: float | None
    supported: str | None  # the furthest stage its completed exit criteria support
    missing: tuple[tuple[str, str], ...]  # (stage, milestone id) exit criteria of earlier stages not done
    not_in_plan: tuple[str, ...]  # of those, ids that are not milestones of this deal at all
    message: str | None  # why the deal is flagged; None when it is not

    @property
    def flagged(self) -> bool:
        return self.message is not None


def _stage_key(name: str) -> str:
    # deal.stage is free text: "Negotiation", "negotiation" and "closed won" match the configured names.
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def check_stage(deal: Deal, stages: tuple[Stage, ...]) -> StageCheck:
    """Check the deal's ``stage`` against its completed milestones.

    Being in stage *k* means the exit criteria of every earlier stage are
    done. The deal is flagged when some are not (its stage is ahead of what
    it has completed) or when its stage is not one of the configured stages.
    Without configured stages or without a stage, nothing is flagged.
    """
    stage = deal.deal.stage
    if not stages or not stage:
        return StageCheck(stage, None, None, None, (), (), None)
    keys = [_stage_key(s.name) for s in stages]
    if _stage_key(stage) not in keys:
        names = ", ".join(s.name for s in stages)
        return StageCheck(stage, None, None, None, (), (), f"unknown stage {stage!r} (stages are: {names})")
    index = keys.index(_stage_key(stage))
    done = {m.id for m in deal.milestones if m.status == "done"}
    ids = {m.id for m in deal.milestones}

    def unmet(s: Stage) -> list[str]:
        return [c for c in s.exit_criteria if c not in done]

    supported = 0  # the first stage whose exit criteria are not all done: the deal cannot be past it
    while supported < len(stages) - 1 and not unmet(stages[supported]):
        supported += 1
    missing = tuple((s.name, c) for s in stages[:index] for c in unmet(s))
    not_in_plan = tuple(dict.fromkeys(c for _, c in missing if c not in ids))
    message = None
    if missing:
        titles = {m.id: m.title for m in deal.milestones}
        listed = ", ".join(f"{titles.get(c, c)} ({c}{'' if c in ids else ', not in the plan'})" for _, c in missing)
        message = (
            f"stage {stage!r} is ahead of the plan: exit criteria not done: {listed}; "
            f"the completed milestones support {stages[supported].name!r}"
        )
    return StageCheck(stage, index, stages[index].probability, stages[supported].name, missing, not_in_plan, message)
