"""Calendar export: a deal's milestones and upcoming meetings as an ``.ics`` file.

Re-importing the file must update events instead of duplicating them, and two
builds of the same deal on the same day must be byte-identical (the site is
rebuilt often and diffed). So every UID is derived from the deal slug and the
milestone id, and DTSTAMP comes from the schedule's ``today``, never the wall
clock.
"""

from __future__ import annotations

import datetime as dt
import re

from icalendar import Calendar, Event

from .model import Deal, Meeting
from .plan import MilestonePlan, Schedule

PRODID = "-//Dealrooms//Deal room calendar//EN"
MEETING_MINUTES = 60  # a meeting in the deal file has a start time but no end
STATUS_TEXT = {"not_started": "not started", "in_progress": "in progress", "done": "done", "blocked": "blocked"}


def milestone_uid(slug: str, milestone_id: str) -> str:
    """The stable UID of a milestone's event: ``<milestone-id>@<slug>.dealrooms``."""
    return f"{milestone_id}@{slug}.dealrooms"


def meeting_uid(slug: str, meeting: Meeting) -> str:
    """A meeting has no id: its date and title identify it (a new time updates the event)."""
    words = re.sub(r"[^a-z0-9]+", "-", meeting.title.lower()).strip("-") or "meeting"
    return f"meeting-{meeting.date:%Y%m%d}-{words}@{slug}.dealrooms"


def deal_calendar(slug: str, deal: Deal, schedule: Schedule, *, url: str | None = None) -> bytes:
    """The deal's calendar as iCalendar bytes.

    One all-day event per milestone (file order) at its planned date, with
    owner, status and the projected date (when it differs) in the
    description; then one event per meeting on or after ``schedule.today``.
    ``url``, when given, is the deal room's address, linked from every event.
    """
    stamp = dt.datetime.combine(schedule.today, dt.time(0, 0), tzinfo=dt.timezone.utc)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", deal.deal.title)
    for plan in schedule.milestones:
        cal.add_component(_milestone_event(slug, deal, plan, schedule, stamp, url))
    for meeting in sorted(deal.meetings, key=lambda m: (m.date, m.time or "", m.title)):
        if meeting.date >= schedule.today:
            cal.add_component(_meeting_event(slug, deal, meeting, stamp, url))
    return cal.to_ical()


def _milestone_event(
    slug: str, deal: Deal, plan: MilestonePlan, schedule: Schedule, stamp: dt.datetime, url: str | None
) -> Event:
    m = plan.milestone
    event = Event()
    event.add("uid", milestone_uid(slug, m.id))
    event.add("dtstamp", stamp)
    event.add("dtstart", plan.planned)
    event.add("dtend", plan.planned + dt.timedelta(days=1))  # DTEND of an all-day event is exclusive
    event.add("summary", f"{'✓ ' if m.status == 'done' else ''}{m.title}")
    event.add("description", _milestone_description(deal, plan, schedule, url))
    event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy all day
    event.add("categories", [deal.deal.buyer.name])
    if url:
        event.add("url", url)
    return event


def _milestone_description(deal: Deal, plan: MilestonePlan, schedule: Schedule, url: str | None) -> str:
    m = plan.milestone
    lines = [f"Owner: {_owner(deal, m.owner)}"]
    status = STATUS_TEXT[m.status]
    if m.status == "done" and m.done_on:
        status += f" on {m.done_on.isoformat()}"
    elif plan.overdue:
        status += f", {plan.late_days} day(s) overdue"
    lines.append(f"Status: {status}")
    if plan.projected != plan.planned and plan.is_open:
        lines.append(f"Planned: {plan.planned.isoformat()}; projected: {plan.projected.isoformat()} "
                     f"({plan.slip_days:+d} days)")
    if m.after:
        titles = {p.id: p.milestone.title for p in schedule.milestones}
        lines.append("After: " + "; ".join(titles.get(d, d) for d in m.after))
    if plan.critical and schedule.slip_days > 0 and plan.is_open:
        lines.append(f"On the critical path: the target date moves from {schedule.target_date.isoformat()} "
                     f"to {schedule.projected_date.isoformat()}")
    if m.notes:
        lines += ["", m.notes.strip()]
    lines += ["", f"Deal: {deal.deal.title}"]
    if url:
        lines.append(url)
    return "\n".join(lines)


def _owner(deal: Deal, owner_id: str) -> str:
    person = deal.person(owner_id)
    companies = {"buyer": deal.deal.buyer.name, "seller": deal.deal.seller.name}
    if person is None:
        return f"{companies.get(owner_id, 'Partners')} ({owner_id})"
    company = person.company or companies.get(person.side, "")
    detail = ", ".join(x for x in (person.title, company) if x)
    return f"{person.name} ({detail}; {person.side})" if detail else f"{person.name} ({person.side})"


def _meeting_event(slug: str, deal: Deal, meeting: Meeting, stamp: dt.datetime, url: str | None) -> Event:
    event = Event()
    event.add("uid", meeting_uid(slug, meeting))
    event.add("dtstamp", stamp)
    if meeting.time:
        hours, minutes = (int(x) for x in meeting.time.split(":"))
        # The deal file gives local time without a zone: a floating time is exactly that.
        start = dt.datetime.combine(meeting.date, dt.time(hours % 24, minutes % 60))
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(minutes=MEETING_MINUTES))
    else:
        event.add("dtstart", meeting.date)
        event.add("dtend", meeting.date + dt.timedelta(days=1))
    event.add("summary", meeting.title)
    if meeting.location:
        event.add("location", meeting.location)
    description = [meeting.agenda.strip()] if meeting.agenda else []
    description.append(f"Deal: {deal.deal.title}")
    if url:
        description.append(url)
        event.add("url", url)
    event.add("description", "\n\n".join(description))
    event.add("categories", [deal.deal.buyer.name])
    return event
