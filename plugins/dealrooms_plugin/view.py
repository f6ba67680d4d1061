"""View data: what each deal-room page shows, computed once per deal.

Plain frozen dataclasses built from a validated deal and its schedule, so
templates only format and lay out; no template does date arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .labels import EXPIRING_SOON_DAYS, HEALTH_LABELS, STATUS_LABELS
from .model import OWNER_SIDES, Deal, Goal, LineItem, Meeting, Person
from .owners import Owner, resolve_owner, side_company
from .plan import MilestonePlan, Schedule

NEXT_STEPS = 3


def humanize(text: str | None) -> str:
    """``economic_buyer`` -> ``Economic buyer``."""
    if not text:
        return ""
    words = text.replace("_", " ").replace("-", " ").split()
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def days_text(n: int) -> str:
    """``1 day``, ``7 days``: a count of days without its sign ("3 days late", "expires in 3 days")."""
    n = abs(n)
    return f"{n} day" if n == 1 else f"{n} days"


@dataclass(frozen=True)
class MilestoneView:
    plan: MilestonePlan
    owner: Owner
    status_label: str
    goal_ids: tuple[str, ...]

    @property
    def m(self):  # noqa: D401 - short alias for templates
        return self.plan.milestone


@dataclass(frozen=True)
class GoalView:
    goal: Goal
    change_percent: float | None  # baseline -> target, relative
    milestones: tuple[MilestoneView, ...]


@dataclass(frozen=True)
class LineView:
    item: LineItem
    total: Decimal
    discount: Decimal


@dataclass(frozen=True)
class ProposalValidity:
    """How long a proposal stays valid, for the deal pages and the rep's overview alike.

    ``state`` is ``none`` (no proposal or no date), ``valid``, ``expiring``
    (within EXPIRING_SOON_DAYS), ``expires_today`` or ``expired``; made by
    :func:`validity` only.
    """

    state: str
    valid_until: dt.date | None
    days_left: int | None  # negative once expired

    @property
    def needs_attention(self) -> bool:
        """Expired, or expiring within EXPIRING_SOON_DAYS: the rep should renew or chase it."""
        return self.state in ("expiring", "expires_today", "expired")

    @property
    def short_text(self) -> str:
        """``expired``, ``expires today``, ``N days`` or ``—``: the wording of the rep's overview."""
        if self.days_left is None:
            return "—"
        if self.state == "expired":
            return "expired"
        if self.state == "expires_today":
            return "expires today"
        return days_text(self.days_left)


UNDATED = ProposalValidity("none", None, None)
"""The validity of a deal without a proposal, or of a proposal without ``valid_until``."""


@dataclass(frozen=True)
class ProposalView:
    currency: str
    lines: tuple[LineView, ...]
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    validity: ProposalValidity
    terms: str


@dataclass(frozen=True)
class Tick:
    x: float  # percent of the timeline width
    label: str
    date: dt.date


@dataclass(frozen=True)
class TimelineRow:
    view: MilestoneView
    x_planned: float
    x_projected: float
    x_done: float | None


@dataclass(frozen=True)
class Timeline:
    start: dt.date
    end: dt.date
    rows: tuple[TimelineRow, ...]
    ticks: tuple[Tick, ...]
    x_today: float | None
    x_target: float


@dataclass(frozen=True)
class DealView:
    slug: str
    deal: Deal
    schedule: Schedule
    today: dt.date
    locale: str
    days_to_target: int
    done_count: int
    total_count: int
    milestones: tuple[MilestoneView, ...]
    next_steps: tuple[MilestoneView, ...]
    overdue: tuple[MilestoneView, ...]
    by_side: tuple[tuple[str, str, tuple[MilestoneView, ...]], ...]  # (side, company, rows)
    people_by_side: tuple[tuple[str, str, tuple[Person, ...]], ...]
    goals: tuple[GoalView, ...]
    proposal: ProposalView | None
    next_meeting: Meeting | None
    timeline: Timeline
    logo: str | None  # file name of the logo inside the deal's output

    @property
    def progress_percent(self) -> int:
        return round(100 * self.done_count / self.total_count) if self.total_count else 0

    @property
    def health_label(self) -> str:
        return HEALTH_LABELS[self.schedule.health]

    @property
    def cause(self) -> MilestoneView | None:
        cause = self.schedule.cause
        return next((v for v in self.milestones if cause and v.plan.id == cause.id), None)


def validity(valid_until: dt.date | None, today: dt.date) -> ProposalValidity:
    """A proposal's validity on ``today``: the one place that decides what "expires soon" means."""
    if valid_until is None:
        return UNDATED
    days = (valid_until - today).days
    if days < 0:
        state = "expired"
    elif days == 0:
        state = "expires_today"
    elif days <= EXPIRING_SOON_DAYS:
        state = "expiring"
    else:
        state = "valid"
    return ProposalValidity(state, valid_until, days)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def proposal_view(deal: Deal, today: dt.date) -> ProposalView | None:
    proposal = deal.proposal
    if proposal is None:
        return None
    lines = []
    for item in proposal.items:
        gross = _money(item.quantity * item.unit_price)
        discount = _money(gross * item.discount_percent / 100)
        lines.append(LineView(item, gross - discount, discount))
    subtotal = sum((line.total + line.discount for line in lines), Decimal(0))
    discount = sum((line.discount for line in lines), Decimal(0))
    return ProposalView(
        proposal.currency, tuple(lines), subtotal, discount, subtotal - discount,
        validity(proposal.valid_until, today), proposal.terms,
    )


def _timeline(views: tuple[MilestoneView, ...], schedule: Schedule) -> Timeline:
    dates = [schedule.today, schedule.target_date, schedule.projected_date]
    for v in views:
        dates += [v.plan.planned, v.plan.projected]
    start, end = min(dates), max(dates)
    # A little air on both sides, and never a zero-length axis.
    pad = max((end - start).days // 20, 3)
    start, end = start - dt.timedelta(days=pad), end + dt.timedelta(days=pad)
    span = (end - start).days

    def x(day: dt.date) -> float:
        return round(100 * (day - start).days / span, 2)

    ticks = []
    month = dt.date(start.year, start.month, 1)
    step = 1 if span <= 200 else 2 if span <= 400 else 3
    while month <= end:
        if month >= start:
            ticks.append(Tick(x(month), "", month))
        year, mon = divmod(month.month - 1 + step, 12)
        month = dt.date(month.year + year, mon + 1, 1)
    rows = tuple(
        TimelineRow(v, x(v.plan.planned), x(v.plan.projected),
                    x(v.m.done_on) if v.m.status == "done" and v.m.done_on else None)
        for v in sorted(views, key=lambda v: (v.plan.planned, v.plan.projected))
    )
    return Timeline(start, end, rows, tuple(ticks), x(schedule.today), x(schedule.target_date))


def build_view(slug: str, deal: Deal, schedule: Schedule, *, logo: str | None = None) -> DealView:
    """Everything the five deal-room pages show, for one deal."""
    today = schedule.today
    views = tuple(
        MilestoneView(p, resolve_owner(deal, p.milestone.owner), STATUS_LABELS[p.milestone.status], p.milestone.goals)
        for p in schedule.milestones
    )
    # The schedule's order of open steps, so that the pages' next step is the one `dealrooms status` names.
    by_id = {v.plan.id: v for v in views}
    open_views = [by_id[p.id] for p in schedule.open]
    overdue = tuple(v for v in open_views if v.plan.overdue)
    by_side = tuple(
        (side, side_company(deal, side), rows)
        for side in OWNER_SIDES
        if (rows := tuple(sorted((v for v in views if v.owner.side == side), key=lambda v: v.plan.planned)))
    )
    people_by_side = tuple(
        (side, side_company(deal, side), people)
        for side in OWNER_SIDES
        if (people := tuple(p for p in deal.people if p.side == side))
    )
    goals = tuple(
        GoalView(
            g,
            round(100 * (g.target - g.baseline) / g.baseline, 1) if g.baseline else None,
            tuple(v for v in views if g.id in v.goal_ids),
        )
        for g in deal.goals
    )
    upcoming = sorted((m for m in deal.meetings if m.date >= today), key=lambda m: (m.date, m.time or ""))
    return DealView(
        slug=slug,
        deal=deal,
        schedule=schedule,
        today=today,
        locale=deal.deal.locale,
        days_to_target=(deal.deal.target_date - today).days,
        done_count=sum(1 for v in views if not v.plan.is_open),
        total_count=len(views),
        milestones=views,
        next_steps=tuple(open_views[:NEXT_STEPS]),
        overdue=overdue,
        by_side=by_side,
        people_by_side=people_by_side,
        goals=goals,
        proposal=proposal_view(deal, today),
        next_meeting=upcoming[0] if upcoming else None,
        timeline=_timeline(views, schedule),
        logo=logo,
    )
