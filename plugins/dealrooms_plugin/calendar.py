"""Calendar export: a deal's milestones and upcoming meetings as an ``.ics`` file.

Re-importing the file must update events instead of duplicating them, and two
builds of the same deal on the same day must be byte-identical (the site is
rebuilt often and diffed). So every UID is derived from the deal slug and the
milestone id, and DTSTAMP comes from the schedule's ``today``, never the wall
clock.

The buyer imports the file: every word Dealrooms adds to an event (owner,
status, projected date, critical path) is in the deal's language, through the
catalogs. Dates in the descriptions stay ISO (2026-11-13): calendar apps show
the event's own date in the reader's format, and an ISO date reads the same in
every language.
"""

from __future__ import annotations

import datetime as dt
import re

from icalendar import Calendar, Event

from .i18n import N_, ntranslate, translate
from .model import Deal, Meeting
from .owners import Owner, resolve_owner
from .plan import MilestonePlan, Schedule

PRODID = "-//Dealrooms//Deal room calendar//EN"
MEETING_MINUTES = 60  # a meeting in the deal file has a start time but no end

# Whole lines, so each language can order and inflect its own (German nouns keep their capital).
STATUS_LINES = {
    "not_started": N_("Status: not started"),
    "in_progress": N_("Status: in progress"),
    "done": N_("Status: done"),
    "blocked": N_("Status: blocked"),
}
# An owner's side inside a sentence ("Marta Kowalczyk (Head of IT Security, Kestrel Freight; buyer)").
SIDE_WORDS = {"buyer": N_("buyer"), "seller": N_("seller"), "partner": N_("partner")}


def milestone_uid(slug: str, milestone_id: str) -> str:
    """The stable UID of a milestone's event: ``<milestone-id>@<slug>.dealrooms``."""
    return f"{milestone_id}@{slug}.dealrooms"


def meeting_uid(slug: str, meeting: Meeting) -> str:
    """A meeting has no id: its date and title identify it (a new time updates the event)."""
    words = re.sub(r"[^a-z0-9]+", "-", meeting.title.lower()).strip("-") or "meeting"
    return f"meeting-{meeting.date:%Y%m%d}-{words}@{slug}.dealrooms"


def deal_calendar(slug: str, deal: Deal, schedule: Schedule) -> bytes:
    """The deal's calendar as iCalendar bytes.

    One all-day event per milestone (file order) at its planned date, with
    owner, status and the projected date (when it differs) in the
    description; then one event per meeting on or after ``schedule.today``.
    """
    stamp = dt.datetime.combine(schedule.today, dt.time(0, 0), tzinfo=dt.timezone.utc)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", deal.deal.title)
    for plan in schedule.milestones:
        cal.add_component(_milestone_event(slug, deal, plan, schedule, stamp))
    for meeting in sorted(deal.meetings, key=lambda m: (m.date, m.time or "", m.title)):
        if meeting.date >= schedule.today:
            cal.add_component(_meeting_event(slug, deal, meeting, stamp))
    return cal.to_ical()


def _milestone_event(slug: str, deal: Deal, plan: MilestonePlan, schedule: Schedule, stamp: dt.datetime) -> Event:
    m = plan.milestone
    event = Event()
    event.add("uid", milestone_uid(slug, m.id))
    event.add("dtstamp", stamp)
    event.add("dtstart", plan.planned)
    event.add("dtend", plan.planned + dt.timedelta(days=1))  # DTEND of an all-day event is exclusive
    event.add("summary", f"{'✓ ' if m.status == 'done' else ''}{m.title}")
    event.add("description", _milestone_description(deal, plan, schedule))
    event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy all day
    event.add("categories", [deal.deal.buyer.name])
    return event


def _milestone_description(deal: Deal, plan: MilestonePlan, schedule: Schedule) -> str:
    m = plan.milestone
    locale = deal.deal.locale
    lines = [translate(locale, N_("Owner: %(owner)s"), owner=owner_text(resolve_owner(deal, m.owner), locale))]
    if m.status == "done" and m.done_on:
        lines.append(translate(locale, N_("Status: done on %(date)s"), date=m.done_on.isoformat()))
    elif plan.overdue:
        lines.append(ntranslate(locale, "%(status)s, %(num)s day overdue", "%(status)s, %(num)s days overdue",
                                plan.late_days, status=translate(locale, STATUS_LINES[m.status])))
    else:
        lines.append(translate(locale, STATUS_LINES[m.status]))
    if plan.projected != plan.planned and plan.is_open:
        sign = "+" if plan.slip_days >= 0 else "−"
        slip = sign + ntranslate(locale, "%(num)s day", "%(num)s days", abs(plan.slip_days))
        lines.append(translate(locale, N_("Planned: %(planned)s; projected: %(projected)s (%(slip)s)"),
                               planned=plan.planned.isoformat(), projected=plan.projected.isoformat(), slip=slip))
    if m.after:
        titles = {p.id: p.milestone.title for p in schedule.milestones}
        lines.append(translate(locale, N_("After: %(steps)s"), steps="; ".join(titles.get(d, d) for d in m.after)))
    if plan.critical and schedule.slip_days > 0 and plan.is_open:
        lines.append(translate(locale, N_("On the critical path: the target date moves from %(target)s to %(projected)s"),
                               target=schedule.target_date.isoformat(), projected=schedule.projected_date.isoformat()))
    if m.notes:
        lines += ["", m.notes.strip()]
    lines += ["", _deal_line(deal)]
    return "\n".join(lines)


def owner_text(owner: Owner, locale: str) -> str:
    """:attr:`.owners.Owner.description` in the deal's language: the same names, titles and companies.

    ``Marta Kowalczyk (Head of IT Security, Kestrel Freight; buyer)``,
    ``Orbisoft (seller)``; joint owners joined with "and".
    """
    if owner.joint:
        text = owner_text(owner.joint[0], locale)
        for member in owner.joint[1:]:
            text = translate(locale, N_("%(first)s and %(second)s"), first=text, second=owner_text(member, locale))
        return text
    side = translate(locale, SIDE_WORDS[owner.side])
    if owner.person is None:
        return translate(locale, N_("%(name)s (%(side)s)"), name=owner.name, side=side)
    detail = ", ".join(x for x in (owner.title, owner.company) if x)
    return translate(locale, N_("%(name)s (%(detail)s; %(side)s)"), name=owner.name, detail=detail, side=side)


def _deal_line(deal: Deal) -> str:
    return translate(deal.deal.locale, N_("Deal: %(deal)s"), deal=deal.deal.title)


def _meeting_event(slug: str, deal: Deal, meeting: Meeting, stamp: dt.datetime) -> Event:
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
    description.append(_deal_line(deal))
    event.add("description", "\n\n".join(description))
    event.add("categories", [deal.deal.buyer.name])
    return event
