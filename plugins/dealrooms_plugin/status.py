"""The rep's overview of every deal, reminders of what is coming due, and what changed since a date.

Plain functions returning frozen dataclasses, so ``dealrooms status`` (text
and ``--json``) and the rep's index page under ``mkdocs serve`` show the same
rows in the same order. No MkDocs, no I/O: plan histories are read by
:mod:`.history` and handed in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import DealroomsError, Problem
from .history import NO_HISTORY, Change, History
from .labels import HEALTH_LABELS
from .load import LoadedDeal
from .model import Deal
from .owners import Owner, resolve_owner
from .plan import HEALTH_ORDER, Health, Stage, StageCheck, Thresholds, check_stage, schedule
from .view import UNDATED, ProposalValidity, health_text, validity


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
    health_reason: str | None = None  # "At risk: the proposal expired on 2026-10-31": the deal pages' badge, in words
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
            "health_reason": self.health_reason,
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
        health_reason=health_text(plan, "en", {m.id: m.title for m in deal.milestones}),
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
        if row.health != "on_track" and row.health_reason:
            notes.append(f"{row.slug}: {row.health_reason}")
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


def format_reminders(items: list[Reminder], within_days: int, meetings: Sequence[MeetingReminder] = ()) -> str:
    """Reminders grouped by deal, by date: one line per milestone with owner and e-mail addresses, one per meeting."""
    if not items and not meetings:
        return f"Nothing due within {within_days} day(s) and nothing overdue."
    out: list[str] = []
    buyers = {r.slug: r.buyer for r in items} | {m.slug: m.buyer for m in meetings}
    for slug in sorted(buyers):
        lines: list[tuple[dt.date, int, str]] = []
        for r in (r for r in items if r.slug == slug):
            when = f"{-r.days} day(s) OVERDUE" if r.overdue else ("due today" if r.days == 0 else f"due in {r.days} day(s)")
            emails = ", ".join(r.owner.emails) or "no e-mail address"
            lines.append((r.planned, 0, f"  {r.planned.isoformat()}  {when:<20} {r.title} — {r.owner.description}: {emails}"))
        for m in (m for m in meetings if m.slug == slug):
            when = "meeting today" if m.days == 0 else f"meeting in {m.days} day(s)"
            detail = ", ".join(x for x in (m.time, m.location) if x)
            lines.append((m.date, 1, f"  {m.date.isoformat()}  {when:<20} {m.title}" + (f" — {detail}" if detail else "")))
        out.append(f"{slug} ({buyers[slug]})")
        out.extend(line for *_, line in sorted(lines, key=lambda x: x[:2]))
        out.append("")
    return "\n".join(out).rstrip()


# --- meetings coming up ---------------------------------------------------------


@dataclass(frozen=True)
class MeetingReminder:
    """A meeting coming up within the reminder window: what to prepare before the call."""

    slug: str
    buyer: str
    title: str
    date: dt.date
    time: str | None
    location: str | None
    days: int  # date - today; 0 on the day

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "meeting",
            "slug": self.slug,
            "title": self.title,
            "date": self.date.isoformat(),
            "time": self.time,
            "location": self.location,
            "days": self.days,
        }


def meeting_reminders(loaded_deals: Mapping[str, LoadedDeal], today: dt.date, within_days: int) -> list[MeetingReminder]:
    """Meetings from ``today`` to ``within_days`` days ahead, by deal and date (past meetings are not reminders)."""
    horizon = today + dt.timedelta(days=within_days)
    found = [
        MeetingReminder(slug, loaded.deal.deal.buyer.name, m.title, m.date, m.time, m.location, (m.date - today).days)
        for slug, loaded in loaded_deals.items()
        for m in loaded.deal.meetings
        if today <= m.date <= horizon
    ]
    return sorted(found, key=lambda r: (r.slug, r.date, r.time or "", r.title))


def reminders_json(items: list[Reminder], meetings: list[MeetingReminder]) -> list[dict[str, Any]]:
    """``status --due-within --json``: steps (``kind: milestone``) and meetings (``kind: meeting``), by deal and date."""
    rows = [(r.slug, r.planned, 0, {"kind": "milestone", **r.to_json()}) for r in items]
    rows += [(m.slug, m.date, 1, m.to_json()) for m in meetings]
    return [row for *_, row in sorted(rows, key=lambda r: r[:3])]


# --- what changed since a date ---------------------------------------------------


@dataclass(frozen=True)
class DealChanges:
    """One deal's plan changes since a date, for the forecast call (``status --since``)."""

    slug: str
    title: str
    buyer: str
    since: dt.date
    history: History

    @property
    def changes(self) -> tuple[Change, ...]:
        """The changes on ``since`` or later, newest first."""
        return self.history.since(self.since)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (the ``status --since --json`` contract)."""
        return {
            "slug": self.slug,
            "title": self.title,
            "buyer": self.buyer,
            "since": self.since.isoformat(),
            "plan_last_changed": _iso(self.history.last_changed),
            "changes": [c.to_json() for c in self.changes],
            "notes": list(self.history.notes),
        }


def changes_since(
    loaded_deals: Mapping[str, LoadedDeal], histories: Mapping[str, History], since: dt.date
) -> list[DealChanges]:
    """Every valid deal's changes since ``since``: the deals that changed first (most changes first), then the others, by slug.

    ``histories`` maps slugs to :func:`.history.deal_history` results; a deal
    without one has no history (no git, an untracked file).
    """
    items = [
        DealChanges(slug, loaded.deal.deal.title, loaded.deal.deal.buyer.name, since, histories.get(slug, NO_HISTORY))
        for slug, loaded in loaded_deals.items()
    ]
    return sorted(items, key=lambda d: (-len(d.changes), d.slug))


def format_changes(items: list[DealChanges], since: dt.date) -> str:
    """``status --since`` as text: per deal, each change with its date, commit and what moved."""
    out: list[str] = []
    quiet: list[str] = []
    for item in items:
        if not item.changes:
            quiet.append(item.slug)
            continue
        out.append(f"{item.slug} ({item.buyer}): plan last changed {_iso(item.history.last_changed)}")
        for change in item.changes:
            who = f"  {change.author}" if change.author else ""
            what = f": {_cut(change.subject, 60)}" if change.subject else ""
            out.append(f"  {change.date.isoformat()}  {change.short_commit or 'uncommitted'}{who}{what}")
            out.extend(f"    {line}" for line in change_lines(change))
        out.append("")
    for item in items:
        out.extend(f"note: {note}" for note in item.history.notes)
    if quiet:
        out.append(f"No plan changes since {since.isoformat()}: {', '.join(quiet)}")
    return "\n".join(out).rstrip() or "No deals."


def change_lines(change: Change) -> list[str]:
    """One line per fact of a change, for ``status --since``."""
    lines = []
    if change.first:
        lines.append("plan created")
    if change.target_moved:
        lines.append(f"target     {_iso(change.target_from)} → {_iso(change.target_to)}")
    lines += [f"moved      {m.title}: {m.planned_from.isoformat()} → {m.planned_to.isoformat()} ({m.days:+d}d)"
              for m in change.moved]
    lines += [f"added      {s.title}" for s in change.added]
    lines += [f"removed    {s.title}" for s in change.removed]
    lines += [f"done       {s.title}" + (f" ({s.done_on.isoformat()})" if s.done_on else "") for s in change.completed]
    lines += [f"reopened   {s.title}" for s in change.reopened]
    lines += [f"owner      {o.title}: {', '.join(w.name for w in o.owners_from)} → {', '.join(w.name for w in o.owners_to)}"
              for o in change.owners]
    if change.projected_from is not None and change.projected_days:
        lines.append(f"projected  {_iso(change.projected_from)} → {_iso(change.projected_to)} ({change.projected_days:+d}d)")
    elif change.projected_to is not None:
        lines.append(f"projected  {_iso(change.projected_to)} (unchanged)" if change.projected_from else
                     f"projected  {_iso(change.projected_to)}")
    return lines
