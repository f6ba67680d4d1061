"""View data: what each deal-room page shows, computed once per deal.

Plain frozen dataclasses built from a validated deal and its schedule, so
templates only format and lay out; no template does date arithmetic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any, Callable

from .history import Change, History
from .i18n import html_lang, ntranslate, translate, translations
from .labels import EXPIRING_SOON_DAYS, HEALTH_LABELS, STATUS_LABELS
from .model import OWNER_SIDES, Deal, Goal, LineItem, Meeting, Person
from .owners import Owner, resolve_owner, side_company
from .plan import SIGNATURE_IDS, HealthReason, MilestonePlan, Schedule

NEXT_STEPS = 3
RECENT_CHANGES = 3
"""Changes the overview lists when no meeting has been held yet (otherwise: every change since the last one)."""


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
class Payback:
    """The proposal's price against the value the buyer expects: "€X per year; pays back in N months".

    Made by :func:`payback` only when every figure is there: goals with a
    ``value_per_year`` (in the proposal's currency) and a proposal with a
    total above zero.
    """

    value_per_year: Decimal  # the goals' value_per_year, summed
    currency: str  # the proposal's
    price: Decimal  # the proposal's total
    months: int  # whole months, rounded up: the price divided by the value of one month


@dataclass(frozen=True)
class AgreementView:
    """The buyer's agreement to the plan, and whether the plan changed after it."""

    name: str  # the buyer person who agreed
    on: dt.date
    changed_on: dt.date | None  # when the plan last changed, if that was after ``on``


@dataclass(frozen=True)
class RecentChanges:
    """What the overview's "What changed" section lists.

    ``since`` is the latest meeting held before today: the changes are those
    made on its day or later (none is a statement too: "no change since").
    Without a past meeting, ``since`` is None and the changes are the
    :data:`RECENT_CHANGES` newest.
    """

    changes: tuple[Change, ...]
    since: Meeting | None


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
    plan_last_changed: dt.date | None = None  # history.deal_history(...).last_changed; None without a history
    history: History | None = None  # the plan's git history; None (or empty) shows no history
    upcoming_meetings: tuple[Meeting, ...] = ()  # today or later, soonest first (next_meeting is the first)
    past_meetings: tuple[Meeting, ...] = ()  # before today, the latest first
    recent: RecentChanges | None = None  # the overview's "What changed"; None without a history
    agreement: AgreementView | None = None
    payback: Payback | None = None

    @property
    def changes(self) -> tuple[Change, ...]:
        """The plan's whole history, newest first (the Plan page); empty without one."""
        return self.history.changes if self.history else ()

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

    @property
    def open_steps(self) -> tuple[MilestoneView, ...]:
        """Every open step, soonest first: the overview lists them all and shows the overdue ones
        (the pages' script shows more of them on a later day)."""
        by_id = {v.plan.id: v for v in self.milestones}
        return tuple(by_id[p.id] for p in self.schedule.open)

    def plural(self, singular: str, plural: str) -> dict[str, Any]:
        """:func:`plural_forms` in the deal's language, for templates (``d.plural("%(num)s day", "%(num)s days")``)."""
        return plural_forms(self.locale, singular, plural)

    def title_of(self, step_id: str | None) -> str:
        """A milestone's title by id (a health reason names its step by id)."""
        return next((v.m.title for v in self.milestones if v.plan.id == step_id), step_id or "")

    @property
    def live(self) -> dict[str, Any]:
        """What the pages' script needs to recompute every date-dependent figure on the visitor's day.

        Embedded in the page as JSON (``ui.live`` in ``_macros.html``), so it is
        sealed with the page in protected builds. Dates are ISO; titles are
        deal text, which the script only ever sets as text.
        """
        return self.live_data(titles=True)

    def live_data(self, *, titles: bool) -> dict[str, Any]:
        """:attr:`live`, with the steps' titles only when the page shows a sentence that names a
        step (the health badge, the slip banner). The Plan page's script needs none of them, and
        leaving them out keeps its sealed size within the plan page's padding floor (protect.FLOOR)."""
        t = self.schedule
        proposal = self.deal.proposal
        return {
            "built": self.today.isoformat(),
            "target": self.deal.deal.target_date.isoformat(),
            "lang": html_lang(self.locale),
            "thresholds": self.thresholds,
            "expiring_soon_days": EXPIRING_SOON_DAYS,
            "valid_until": proposal.valid_until.isoformat() if proposal and proposal.valid_until else None,
            "signature_ids": list(SIGNATURE_IDS),
            "steps": [
                {
                    "id": p.id,
                    **({"title": p.milestone.title} if titles else {}),
                    "planned": p.planned.isoformat(),
                    "status": p.milestone.status,
                    "done_on": p.milestone.done_on.isoformat() if p.milestone.done_on else None,
                    "after": list(p.milestone.after),
                }
                for p in t.milestones
            ],
        }

    @property
    def thresholds(self) -> dict[str, int]:
        """The health thresholds the schedule was judged by (plan.Thresholds), for the script."""
        return dataclasses.asdict(self.schedule.thresholds)


# --- words the pages' script needs -------------------------------------------

PLURAL_SAMPLES = 200
"""Counts 0..199 cover every plural rule of gettext catalogs: beyond them, rules
depend only on the last two digits (``n % 100``, ``n % 10``), so the script
reads the form of 100 + n % 100 for a larger n."""

def plural_forms(locale: str, singular: str, plural: str) -> dict[str, Any]:
    """A plural message as the browser needs it: its distinct forms in ``locale``'s
    language, placeholders (``%(num)s``) kept, and which form each count 0..199 takes.

    Asked of the deal's catalog for each count, so the browser picks exactly
    the form the page would have been built with (also when a message is not
    translated yet and falls back to English), without evaluating the
    catalog's Plural-Forms expression (no ``eval`` under the page's
    Content-Security-Policy) and without relying on the browser's CLDR data
    matching Babel's (``Intl.PluralRules`` would need both).
    """
    forms, pick = _plural_table(locale, singular, plural)
    return {"forms": list(forms), "pick": list(pick)}


@functools.lru_cache(maxsize=256)
def _plural_table(locale: str, singular: str, plural: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    # 200 catalog look-ups per message: asked once per language, not once per page.
    catalog = translations(locale)
    forms: list[str] = []
    pick: list[int] = []
    for n in range(PLURAL_SAMPLES):
        text = catalog.ngettext(singular, plural, n)
        if text not in forms:
            forms.append(text)
        pick.append(forms.index(text))
    return tuple(forms), tuple(pick)


def reason_text(reason: HealthReason, locale: str, titles: dict[str, str], day: Callable[[dt.date], str] = dt.date.isoformat) -> str:
    """A health reason as plain text in ``locale`` (``dealrooms status``).

    The same words as the badge on the deal pages (``ui.health_reason`` in
    ``_macros.html``; tests/test_health.py compares them for every kind).
    ``titles`` maps milestone ids to titles; ``day`` formats a date.
    """
    days = ntranslate(locale, "%(num)s day", "%(num)s days", reason.days)
    step = titles.get(reason.step or "", reason.step or "")
    date = day(reason.date) if reason.date else ""
    deadline = day(reason.deadline) if reason.deadline else ""
    if reason.kind == "overdue":
        return ntranslate(locale, "%(num)s step is late", "%(num)s steps are late", reason.count)
    messages = {
        "late": "%(step)s is %(days)s late",
        "slip": "the outcome moves %(days)s past the target",
        "proposal_expired": "the proposal expired on %(date)s",
        "proposal_before_signature": "the proposal expires on %(date)s, before the signature (%(deadline)s)",
        "proposal_before_target": "the proposal expires on %(date)s, before the target date (%(deadline)s)",
        "on_time": "every step is on time",
    }
    return translate(locale, messages[reason.kind], step=step, days=days, date=date, deadline=deadline)


def health_text(schedule: Schedule, locale: str, titles: dict[str, str], day: Callable[[dt.date], str] = dt.date.isoformat) -> str:
    """``At risk: the proposal expired on 2026-10-31``: the badge's words as plain text."""
    reasons = [reason_text(r, locale, titles, day) for r in schedule.shown_reasons]
    reason = reasons[0] if len(reasons) == 1 else translate(locale, "%(first)s; %(second)s", first=reasons[0], second=reasons[1])
    return translate(locale, "%(health)s: %(reason)s", health=translate(locale, HEALTH_LABELS[schedule.health]), reason=reason)


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


def payback(deal: Deal, proposal: ProposalView | None) -> Payback | None:
    """The proposal's price against the goals' value per year, or None unless both are there.

    ``value_per_year`` is in the proposal's currency (model.Goal); a deal
    without a proposal, with a total of zero or without any goal value says
    nothing rather than a figure built on a guess.
    """
    values = [g.value_per_year for g in deal.goals if g.value_per_year is not None]
    if proposal is None or proposal.total <= 0 or not values or sum(values) <= 0:
        return None
    value = sum(values, Decimal(0))
    # Rounded up: "pays back in 4 months" must not promise a month early.
    months = int((proposal.total * 12 / value).to_integral_value(rounding=ROUND_CEILING))
    return Payback(value, proposal.currency, proposal.total, max(months, 1))


def _meeting_key(m: Meeting) -> tuple[dt.date, int, int]:
    hour, _, minute = (m.time or "0:0").partition(":")
    return (m.date, int(hour), int(minute))  # "9:00" before "10:00", which text order would not give


def recent_changes(history: History | None, past_meetings: tuple[Meeting, ...]) -> RecentChanges | None:
    """The overview's "What changed": the changes since the latest meeting held (its day included,
    as an edit made on the day of a call records what the call decided), else the newest few.
    None without a history."""
    if history is None or not history.changes:
        return None
    if past_meetings:
        since = past_meetings[0]
        return RecentChanges(history.since(since.date), since)
    return RecentChanges(history.latest(RECENT_CHANGES), None)


def agreement_view(deal: Deal, history: History | None) -> AgreementView | None:
    """Who agreed the plan and when, and the day it last changed if that was after (from ``history``)."""
    agreed = deal.agreed
    if agreed is None:
        return None
    person = deal.person(agreed.by)
    changed = history.changed_after(agreed.on) if history else None
    return AgreementView(person.name if person else agreed.by, agreed.on, changed)


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


def build_view(
    slug: str,
    deal: Deal,
    schedule: Schedule,
    *,
    logo: str | None = None,
    plan_last_changed: dt.date | None = None,
    history: History | None = None,
) -> DealView:
    """Everything the five deal-room pages show, for one deal.

    ``history``: the plan's git history (:func:`.history.deal_history`), for
    "What changed" on the overview, the Plan page's history and whether the
    plan changed after the buyer agreed it; None (or an empty history) shows
    none of them. ``plan_last_changed``, shown beside the build date, defaults
    to the history's last change.
    """
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
    upcoming = tuple(sorted((m for m in deal.meetings if m.date >= today), key=_meeting_key))
    past = tuple(sorted((m for m in deal.meetings if m.date < today), key=_meeting_key, reverse=True))
    proposal = proposal_view(deal, today)
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
        proposal=proposal,
        next_meeting=upcoming[0] if upcoming else None,
        timeline=_timeline(views, schedule),
        logo=logo,
        plan_last_changed=plan_last_changed or (history.last_changed if history else None),
        history=history,
        upcoming_meetings=upcoming,
        past_meetings=past,
        recent=recent_changes(history, past),
        agreement=agreement_view(deal, history),
        payback=payback(deal, proposal),
    )
