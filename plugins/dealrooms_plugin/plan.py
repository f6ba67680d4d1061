"""Schedule and forecast: planned and projected dates, slip, critical path, health.

Pure functions of a validated :class:`~.model.Deal` and a date; no I/O and no
MkDocs. Everything the deal room says about time comes from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from .model import Deal, Milestone, TargetOffset

Health = Literal["on_track", "at_risk", "off_track"]


@dataclass(frozen=True)
class Thresholds:
    """When a deal stops being on track (configurable in mkdocs.yml)."""

    at_risk_slip_days: int = 1
    off_track_slip_days: int = 14
    at_risk_overdue: int = 1
    off_track_overdue: int = 3


@dataclass(frozen=True)
class MilestonePlan:
    milestone: Milestone
    planned: dt.date
    projected: dt.date
    overdue: bool  # open and its planned date is before today
    late_days: int  # overdue: today - planned; done late: done_on - planned; else 0
    critical: bool  # on the chain that decides the deal's projected date

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
    today: dt.date
    target_date: dt.date
    projected_date: dt.date
    milestones: tuple[MilestonePlan, ...]  # in the order of the deal file
    critical_path: tuple[str, ...]  # milestone ids, first to last
    health: Health
    cause: MilestonePlan | None  # the late step that moves the projected date, if any

    @property
    def slip_days(self) -> int:
        return (self.projected_date - self.target_date).days

    @property
    def overdue(self) -> tuple[MilestonePlan, ...]:
        return tuple(m for m in self.milestones if m.overdue)

    def get(self, milestone_id: str) -> MilestonePlan:
        return next(m for m in self.milestones if m.id == milestone_id)


def resolve_due(due: dt.date | TargetOffset, target: dt.date) -> dt.date:
    """An absolute due date, resolving offsets from the target date."""
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
    """Plan and forecast a deal as of ``today``."""
    target = deal.deal.target_date
    plans: dict[str, MilestonePlan] = {}
    order = _topological(deal.milestones)
    by_id = {m.id: m for m in deal.milestones}
    for ident in order:
        m = by_id[ident]
        planned = resolve_due(m.due, target)
        if m.status == "done":
            projected = m.done_on or planned
        else:
            projected = max(planned, today)
            for dep in m.after:
                pred = plans[dep]
                gap = (planned - pred.planned).days
                projected = max(projected, pred.projected + dt.timedelta(days=max(gap, 0)))
        overdue = m.status != "done" and planned < today
        if overdue:
            late = (today - planned).days
        elif m.status == "done" and m.done_on:
            late = max((m.done_on - planned).days, 0)
        else:
            late = 0
        plans[ident] = MilestonePlan(m, planned, projected, overdue, late, False)

    path = _critical_path(deal.milestones, plans)
    ordered = [plans[m.id] for m in deal.milestones]
    slip = max((plans[i].slip_days for i in path), default=0)
    projected_date = target + dt.timedelta(days=max(slip, 0))
    marked = tuple(
        MilestonePlan(p.milestone, p.planned, p.projected, p.overdue, p.late_days, p.id in path) for p in ordered
    )
    by_new = {p.id: p for p in marked}
    cause = _cause(path, by_new) if slip > 0 else None
    overdue_count = sum(p.overdue for p in marked)
    slip_days = (projected_date - target).days
    if slip_days >= thresholds.off_track_slip_days or overdue_count >= thresholds.off_track_overdue:
        health: Health = "off_track"
    elif slip_days >= thresholds.at_risk_slip_days or overdue_count >= thresholds.at_risk_overdue:
        health = "at_risk"
    else:
        health = "on_track"
    return Schedule(today, target, projected_date, marked, tuple(path), health, cause)


def _topological(milestones: tuple[Milestone, ...]) -> list[str]:
    by_id = {m.id: m for m in milestones}
    done: list[str] = []
    seen: set[str] = set()

    def visit(ident: str) -> None:
        if ident in seen:
            return
        seen.add(ident)
        for dep in by_id[ident].after:
            if dep in by_id:
                visit(dep)
        done.append(ident)

    for m in milestones:
        visit(m.id)
    return done


def _critical_path(milestones: tuple[Milestone, ...], plans: dict[str, MilestonePlan]) -> list[str]:
    """The chain ending at the last milestone: at each step, the predecessor that drives it."""
    if not milestones:
        return []
    last = max(milestones, key=lambda m: (plans[m.id].planned, plans[m.id].projected))
    path = [last.id]
    current = last
    while current.after:
        driver = max(current.after, key=lambda d: (plans[d].projected - plans[d].planned, plans[d].planned))
        path.append(driver)
        current = next(m for m in milestones if m.id == driver)
    return list(reversed(path))


def _cause(path: list[str], plans: dict[str, MilestonePlan]) -> MilestonePlan | None:
    """The first late step on the critical path (the one that started the slip)."""
    for ident in path:
        p = plans[ident]
        if p.slip_days > 0 and (p.overdue or p.late_days > 0):
            return p
    return next((plans[i] for i in path if plans[i].slip_days > 0), None)
