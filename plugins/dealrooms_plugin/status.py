"""The rep's overview of every deal, and reminders of what is coming due.

Plain functions returning frozen dataclasses, so ``dealrooms status`` (text
and ``--json``) and the rep's index page under ``mkdocs serve`` show the same
rows in the same order. No MkDocs, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import DealroomsError, Problem
from .labels import HEALTH_LABELS
from .load import LoadedDeal
from .model import Deal
from .owners import Owner, resolve_owner
from .plan import HEALTH_ORDER, Health, Stage, StageCheck, Thresholds, check_stage, schedule
from .view import UNDATED, ProposalValidity, validity


@dataclass(frozen=True)
class NextStep:
    """The open milestone that comes next in a deal."""

    id: str
    title: str
    owner: Owner
    planned: dt.date
    projected: dt.date
    overdue: bool


@dataclass(frozen=True)
class StatusRow:
    """One deal in the overview; an invalid deal has only ``slug`` and ``problems``."""

    slug: str
    valid: bool
    title: str | None = None
    buyer: str | None = None
    stage: str | None = None
    target_date: dt.date | None = None
    projected_date: dt.date | None = None
    slip_days: int | None = None
    overdue: int | None = None
    next_milestone: NextStep | None = None
    proposal: ProposalValidity = UNDATED
    health: Health | None = None
    cause_id: str | None = None  # the late step that moves the projected date
    cause_title: str | None = None
    cause_late_days: int | None = None
    stage_check: StageCheck | None = None
    problems: tuple[str, ...] = ()

    @property
    def proposal_text(self) -> str:
        """``expired``, ``expires today``, ``N days`` or ``—`` (no proposal or no date)."""
        return self.proposal.short_text

    @property
    def stage_warning(self) -> str | None:
        return self.stage_check.message if self.stage_check else None

    @property
    def needs_attention(self) -> bool:
        return (
            not self.valid
            or self.health != "on_track"
            or self.stage_warning is not None
            or self.proposal.needs_attention
        )

    def sort_key(self) -> tuple[Any, ...]:
        """Attention first: invalid, off track, at risk, on track; then flags, overdue, slip, expiry."""
        if not self.valid:
            return (0, 0, 0, 0, 0, self.slug)
        expiry = self.proposal.days_left if self.proposal.days_left is not None else 10**6
        return (
            1 + HEALTH_ORDER[self.health or "on_track"],
            0 if self.stage_warning else 1,
            -(self.overdue or 0),
            -(self.slip_days or 0),
            expiry,
            self.slug,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping with ISO dates (the ``status --json`` contract)."""
        step = self.next_milestone
        return {
            "slug": self.slug,
            "valid": self.valid,
            "title": self.title,
            "buyer": self.buyer,
            "stage": self.stage,
            "target_date": _iso(self.target_date),
            "projected_date": _iso(self.projected_date),
            "slip_days": self.slip_days,
            "overdue": self.overdue,
            "next_milestone": None
            if step is None
            else {
                "id": step.id,
                "title": step.title,
                "owner": step.owner.name,
                "owner_side": step.owner.side,
                "owner_emails": list(step.owner.emails),
                "planned": _iso(step.planned),
                "projected": _iso(step.projected),
                "overdue": step.overdue,
            },
            "proposal_valid_until": _iso(self.proposal.valid_until),
            "proposal_days_left": self.proposal.days_left,
            "health": self.health,
            "cause": None
            if self.cause_id is None
            else {"id": self.cause_id, "title": self.cause_title, "late_days": self.cause_late_days},
            "stage_warning": self.stage_warning,
            "stage_probability": self.stage_check.probability if self.stage_check else None,
            "problems": list(self.problems),
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def status_row(
    slug: str, deal: Deal, today: dt.date, thresholds: Thresholds = Thresholds(), stages: tuple[Stage, ...] = ()
) -> StatusRow:
    """The overview row of one valid deal."""
    plan = schedule(deal, today, thresholds)
    nxt = plan.next_milestone
    step = (
        None
        if nxt is None
        else NextStep(nxt.id, nxt.milestone.title, resolve_owner(deal, nxt.milestone.owner), nxt.planned, nxt.projected, nxt.overdue)
    )
    cause = plan.cause
    return StatusRow(
        slug=slug,
        valid=True,
        title=deal.deal.title,
        buyer=deal.deal.buyer.name,
        stage=deal.deal.stage,
        target_date=plan.target_date,
        projected_date=plan.projected_date,
        slip_days=plan.slip_days,
        overdue=len(plan.overdue),
        next_milestone=step,
        proposal=validity(deal.proposal.valid_until if deal.proposal else None, today),
        health=plan.health,
        cause_id=cause.id if cause else None,
        cause_title=cause.milestone.title if cause else None,
        cause_late_days=cause.late_days if cause else None,
        stage_check=check_stage(deal, stages),
    )


def status_rows(
    loaded_deals: Mapping[str, LoadedDeal],
    today: dt.date,
    thresholds: Thresholds = Thresholds(),
    stages: tuple[Stage, ...] = (),
    problems: Mapping[str, list[Problem]] | None = None,
) -> list[StatusRow]:
    """Every deal's overview row, the ones that need attention first.

    ``problems`` (slug -> problems, as in ``LoadResult.problems``) adds the
    invalid deals as rows of their own, at the top.
    """
    rows = [status_row(slug, loaded.deal, today, thresholds, stages) for slug, loaded in loaded_deals.items()]
    rows += [StatusRow(slug, False, problems=tuple(str(p) for p in ps)) for slug, ps in (problems or {}).items()]
    return sorted(rows, key=StatusRow.sort_key)


def _health_text(health: Health) -> str:
    # The table shouts what needs attention: "on track", but "AT RISK".
    label = HEALTH_LABELS[health]
    return label.lower() if health == "on_track" else label.upper()


def format_table(rows: list[StatusRow]) -> str:
    """The overview as a plain-text table (``dealrooms status``)."""
    header = ("DEAL", "STAGE", "TARGET", "PROJECTED", "SLIP", "OVERDUE", "NEXT (OWNER, DUE)", "PROPOSAL", "HEALTH")
    lines: list[tuple[str, ...]] = [header]
    notes: list[str] = []
    for row in rows:
        if not row.valid:
            lines.append((row.slug, "", "", "", "", "", "invalid: run `dealrooms check`", "", "INVALID"))
            continue
        step = row.next_milestone
        nxt = "—" if step is None else f"{_cut(step.title, 34)} ({step.owner.label}, {step.planned.isoformat()})"
        lines.append((
            row.slug,
            (row.stage or "—") + (" (!)" if row.stage_warning else ""),
            _iso(row.target_date) or "",
            _iso(row.projected_date) or "",
            f"{row.slip_days:+d}d" if row.slip_days else "0",
            str(row.overdue or 0),
            nxt,
            row.proposal_text,
            _health_text(row.health or "on_track"),
        ))
        if row.cause_title and row.slip_days:
            notes.append(f"{row.slug}: {row.cause_title} is {row.cause_late_days} day(s) late; "
                         f"the target moves from {row.target_date} to {row.projected_date}")
        if row.stage_warning:
            notes.append(f"{row.slug}: {row.stage_warning}")
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
    return text + ("\n\n" + "\n".join(notes) if notes else "")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# --- reminders ----------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """An open milestone coming due (or overdue): the input for a follow-up e-mail."""

    slug: str
    buyer: str
    milestone_id: str
    title: str
    status: str
    planned: dt.date
    projected: dt.date
    days: int  # planned - today; negative when overdue
    owner: Owner

    @property
    def overdue(self) -> bool:
        return self.days < 0

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "milestone": self.milestone_id,
            "title": self.title,
            "status": self.status,
            "due": self.planned.isoformat(),
            "projected": self.projected.isoformat(),
            "days": self.days,
            "overdue": self.overdue,
            "owner": self.owner.name,
            "owner_side": self.owner.side,
            "emails": list(self.owner.emails),
        }


WINDOW = re.compile(r"^\s*(\d+)\s*(d|w)?\s*$")


def parse_window(text: str) -> int:
    """``7d``, ``2w`` or ``10`` (days) -> a number of days."""
    match = WINDOW.match(text or "")
    if not match:
        raise DealroomsError(f"--due-within: bad period {text!r}; expected days or weeks, e.g. 7d or 2w")
    amount, unit = int(match.group(1)), match.group(2) or "d"
    return amount * (7 if unit == "w" else 1)


def reminders(
    loaded_deals: Mapping[str, LoadedDeal], today: dt.date, within_days: int, thresholds: Thresholds = Thresholds()
) -> list[Reminder]:
    """Open milestones due within ``within_days`` of ``today`` or overdue, by due date."""
    horizon = today + dt.timedelta(days=within_days)
    found: list[Reminder] = []
    for slug, loaded in loaded_deals.items():
        deal = loaded.deal
        for p in schedule(deal, today, thresholds).open:
            if p.planned <= horizon:
                found.append(Reminder(
                    slug, deal.deal.buyer.name, p.id, p.milestone.title, p.milestone.status,
                    p.planned, p.projected, (p.planned - today).days, resolve_owner(deal, p.milestone.owner),
                ))
    return sorted(found, key=lambda r: (r.slug, r.planned, r.milestone_id))


def format_reminders(items: list[Reminder], within_days: int) -> str:
    """Reminders grouped by deal, one line per milestone with owner and e-mail addresses."""
    if not items:
        return f"Nothing due within {within_days} day(s) and nothing overdue."
    out: list[str] = []
    for slug in dict.fromkeys(r.slug for r in items):
        group = [r for r in items if r.slug == slug]
        out.append(f"{slug} ({group[0].buyer})")
        for r in group:
            when = f"{-r.days} day(s) OVERDUE" if r.overdue else ("due today" if r.days == 0 else f"due in {r.days} day(s)")
            emails = ", ".join(r.owner.emails) or "no e-mail address"
            out.append(f"  {r.planned.isoformat()}  {when:<18} {r.title} — {r.owner.description}: {emails}")
        out.append("")
    return "\n".join(out).rstrip()
