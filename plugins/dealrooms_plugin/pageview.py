"""What the Plan, People, Value and Proposal pages show, beyond the deal view.

Pure functions of a :class:`.view.DealView` or a deal's parts, called by the
page templates through filters (registered in :mod:`.render`): they decide
*what* is shown (the order of the plan, a goal's kind, which seller person
answers the buyer, whether a role says more than a title), the templates
only translate and format it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Literal
from urllib.parse import quote

from babel.numbers import get_currency_name
from markupsafe import Markup

from .model import Deal, Goal, Person
from .view import DealView, MilestoneView, humanize

# Roles (snake_case, as reps write them) of the seller person who answers the buyer
# about the proposal, most specific first; otherwise the first seller with an e-mail.
CONTACT_ROLES = ("account_executive", "account_manager", "account_director")

# Units that make a goal a percentage: its change is in percentage points.
PERCENT_UNITS = frozenset({"%", "percent", "per cent", "pct"})

GoalKind = Literal["percent", "money", "quantity"]


# --- the plan, by date ------------------------------------------------------------


@dataclass(frozen=True)
class PlanMonth:
    """The steps planned in one calendar month, in date order (a group of the plan table)."""

    month: dt.date  # the first day of the month
    rows: tuple[MilestoneView, ...]


def plan_by_date(view: DealView) -> tuple[PlanMonth, ...]:
    """Every step of the deal by planned date (then projected date, then title), grouped by month.

    One order for every side: a buyer reads the plan as a calendar, and the
    side is a label on each row, not a section of its own.
    """
    rows = sorted(view.milestones, key=lambda v: (v.plan.planned, v.plan.projected, v.m.title.casefold(), v.plan.id))
    return tuple(
        PlanMonth(month, tuple(group))
        for month, group in itertools.groupby(rows, key=lambda v: v.plan.planned.replace(day=1))
    )


# --- goals ------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalFigures:
    """A goal's numbers as the Value page shows them.

    ``kind`` decides how: a ``percent`` goal (unit ``%``) changes by
    ``points`` (percentage points; a relative change of a percentage is
    meaningless to a CFO), a ``money`` goal (unit an ISO 4217 code such as
    EUR) is written as money in ``currency``, any other goal is a quantity
    with its unit and its ``relative`` change in percent.
    """

    kind: GoalKind
    baseline: Decimal | None
    target: Decimal
    currency: str | None  # money goals
    unit: str | None  # quantity goals: the unit as written
    points: Decimal | None  # percent goals with a baseline: target - baseline
    relative: Decimal | None  # other goals with a non-zero baseline: percent change, one decimal
    # Progress: where the buyer is now, and how far along the way from baseline to target.
    current: Decimal | None = None
    measured_on: dt.date | None = None
    # Percent of the way from baseline to target, whole and rounded down (never "100" before it is
    # reached): above 100 past the target, below 0 when it moved away. None without a current value,
    # a baseline, or a way to go (baseline equal to target).
    share: int | None = None
    gap: Decimal | None = None  # |target - current|: what is left (or how far past it); None without current

    @property
    def points_count(self) -> int:
        """The count that picks the plural of "percentage points": gettext's plural forms take whole
        numbers, so a fraction (0.5 points) counts as 2, which is the plural ("other") in our languages."""
        return _plural_count(self.points)

    @property
    def gap_count(self) -> int:
        """:attr:`points_count` for :attr:`gap` (a percent goal's gap is in percentage points)."""
        return _plural_count(self.gap)

    @property
    def progress(self) -> str | None:
        """``reached`` (at or past the target), ``away`` (further from it than the baseline),
        ``on_the_way``; ``unknown`` with a current value but no share; None without a current value."""
        if self.current is None:
            return None
        if self.current == self.target:
            return "reached"
        if self.share is None:
            return "unknown"
        if self.share >= 100:
            return "reached"
        assert self.baseline is not None  # a share needs one
        # Away: the current value lies past the baseline on the side opposite the target.
        return "away" if (self.current - self.baseline) * (self.target - self.baseline) < 0 else "on_the_way"

    @property
    def bar(self) -> int:
        """The progress bar's fill, 0..100."""
        return min(max(self.share or 0, 0), 100)


def _plural_count(value: Decimal | None) -> int:
    if value is None:
        return 0
    size = abs(value)
    return int(size) if size == size.to_integral_value() else 2


def _decimal(value: float) -> Decimal:
    # Through str: 67.2 stays 67.2 (Decimal(67.2) would be 67.2000000000000028...).
    return Decimal(str(value))


def goal_kind(goal: Goal) -> GoalKind:
    """``percent`` for unit ``%``, ``money`` for a currency code CLDR knows (``EUR``), else ``quantity``."""
    unit = (goal.unit or "").strip()
    if unit.casefold() in PERCENT_UNITS:
        return "percent"
    if len(unit) == 3 and unit.isalpha() and unit.isupper() and _is_currency(unit):
        return "money"
    return "quantity"


def _is_currency(code: str) -> bool:
    # CLDR names every ISO 4217 currency; an unknown code comes back as itself.
    return get_currency_name(code, locale="en") != code


def goal_figures(goal: Goal) -> GoalFigures:
    """The numbers of one goal, by its kind (see :class:`GoalFigures`), and its progress when
    a ``current`` value is given (:func:`goal_share`)."""
    kind = goal_kind(goal)
    baseline = _decimal(goal.baseline) if goal.baseline is not None else None
    target = _decimal(goal.target)
    current = _decimal(goal.current) if goal.current is not None else None
    points = relative = None
    if kind == "percent":
        points = target - baseline if baseline is not None else None
    elif baseline:
        relative = (100 * (target - baseline) / baseline).quantize(Decimal("0.1"))
    return GoalFigures(
        kind=kind, baseline=baseline, target=target,
        currency=(goal.unit or "").strip() if kind == "money" else None,
        unit=goal.unit if kind == "quantity" else None,
        points=points, relative=relative,
        current=current, measured_on=goal.measured_on if current is not None else None,
        share=goal_share(baseline, current, target),
        gap=abs(target - current) if current is not None else None,
    )


def goal_share(baseline: Decimal | None, current: Decimal | None, target: Decimal) -> int | None:
    """How far ``current`` has come from ``baseline`` toward ``target``, in whole percent, rounded down.

    Works for goals that go down (hours 1,180 -> 350) as for goals that go
    up: 0 at the baseline, 100 at the target, more past it, less than 0 when
    the figure moved the other way. None when there is no way to measure it:
    no current value, no baseline, or a baseline already equal to the target.
    """
    if current is None or baseline is None or baseline == target:
        return None
    share = 100 * (current - baseline) / (target - baseline)
    return int(share.to_integral_value(rounding=ROUND_DOWN))  # toward zero: 99.6 is not yet 100


# --- people -----------------------------------------------------------------------


def _words(text: str) -> str:
    return " ".join(humanize(text).casefold().split())


def role_text(person: Person) -> str:
    """The person's deal role, humanised, or ``""`` when it only repeats their title.

    ``account_executive`` beside the title "Account Executive" says nothing
    new; ``economic_buyer`` beside "CFO" does.
    """
    if not person.role:
        return ""
    role = humanize(person.role)
    if person.title and _words(person.role) == _words(person.title):
        return ""
    return role


# --- the proposal's answers ---------------------------------------------------------


def seller_contact(deal: Deal) -> Person | None:
    """The seller person a buyer accepts the proposal with or asks about it.

    The first seller with an e-mail whose role is the earliest in
    :data:`CONTACT_ROLES`, else the first seller with an e-mail, else none.
    """
    sellers = [p for p in deal.people if p.side == "seller" and p.email]
    for role in CONTACT_ROLES:
        for person in sellers:
            if person.role and _words(person.role) == _words(role):
                return person
    return sellers[0] if sellers else None


def mailto(address: str, subject: str = "", body: str = "") -> str:
    """A ``mailto:`` URL (RFC 6068) with every part percent-encoded.

    ``subject`` and ``body`` may be Markup from the translated templates;
    they are unescaped first, so "Marlow & Vine" reaches the mail program as
    written and never as ``&amp;``. Nothing is left that could end the HTML
    attribute or add another header: quotes, ``<``, ``&``, ``?``, ``#`` and
    line breaks are all encoded (line breaks as CRLF, as the RFC asks).
    """

    def plain(text: str) -> str:
        return text.unescape() if isinstance(text, Markup) else str(text)

    def encode(text: str) -> str:
        return quote(plain(text).replace("\r\n", "\n").replace("\n", "\r\n"), safe="")

    url = "mailto:" + quote(plain(address), safe="@")
    params = [f"{name}={encode(text)}" for name, text in (("subject", subject), ("body", body)) if text]
    return url + ("?" + "&".join(params) if params else "")
