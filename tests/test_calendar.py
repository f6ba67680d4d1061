"""The .ics export: parses with icalendar, one event per milestone, stable UIDs, reproducible bytes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar

from dealrooms_plugin.calendar import deal_calendar, meeting_uid, milestone_uid
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.model import Deal
from dealrooms_plugin.plan import schedule

ROOT = Path(__file__).resolve().parent.parent
KESTREL = ROOT / "dealrooms" / "kestrel-freight.yml"
TODAY = dt.date(2026, 11, 20)


def kestrel() -> Deal:
    return load_deal(KESTREL).deal


def events(data: bytes) -> list:
    return [c for c in Calendar.from_ical(data).walk("VEVENT")]


def test_one_all_day_event_per_milestone_at_its_planned_date() -> None:
    deal = kestrel()
    plan = schedule(deal, TODAY)
    data = deal_calendar("kestrel-freight", deal, plan)
    cal = Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["X-WR-CALNAME"]) == deal.deal.title
    found = {str(e["UID"]): e for e in events(data)}
    for m in deal.milestones:
        event = found[f"{m.id}@kestrel-freight.dealrooms"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert type(start) is dt.date  # all day, not a datetime
        assert start == plan.get(m.id).planned
        assert end == start + dt.timedelta(days=1)
        assert str(event["SUMMARY"]).endswith(m.title)
    milestone_events = [u for u in found if not u.startswith("meeting-")]
    assert len(milestone_events) == len(deal.milestones) == 8


def test_description_has_owner_status_and_projected_date() -> None:
    deal = kestrel()
    data = deal_calendar("kestrel-freight", deal, schedule(deal, TODAY))
    by_uid = {str(e["UID"]): e for e in events(data)}
    security = str(by_uid["security-review@kestrel-freight.dealrooms"]["DESCRIPTION"])
    assert "Owner: Marta Kowalczyk (Head of IT Security, Kestrel Freight; buyer)" in security
    assert "Status: in progress, 7 days overdue" in security
    assert "Planned: 2026-11-13; projected: 2026-11-20 (+7 days)" in security
    assert "the target date moves from 2027-02-15 to 2027-02-22" in security
    pilot = str(by_uid["pilot-results@kestrel-freight.dealrooms"]["DESCRIPTION"])
    assert "projected: 2026-12-11" in pilot and "After: Security questionnaire returned" in pilot
    done = by_uid["discovery@kestrel-freight.dealrooms"]
    assert str(done["SUMMARY"]).startswith("✓ ")
    assert "Status: done on 2026-10-06" in str(done["DESCRIPTION"])
    assert "projected" not in str(done["DESCRIPTION"])  # same as planned: not repeated
    side_owned = str(by_uid["integration@kestrel-freight.dealrooms"]["DESCRIPTION"])
    assert "Owner: Orbisoft (seller)" in side_owned


def test_upcoming_meetings_are_events_and_past_ones_are_not() -> None:
    deal = kestrel()
    data = deal_calendar("kestrel-freight", deal, schedule(deal, TODAY))
    meetings = [e for e in events(data) if str(e["UID"]).startswith("meeting-")]
    # Kestrel's meetings: 12 Nov (held before TODAY), 26 Nov and 4 Dec.
    assert [str(e["UID"]) for e in meetings] == ["meeting-20261126-weekly-plan-review@kestrel-freight.dealrooms",
                                                 "meeting-20261204-pilot-results-review@kestrel-freight.dealrooms"]
    meeting = meetings[0]
    assert str(meeting["UID"]) == "meeting-20261126-weekly-plan-review@kestrel-freight.dealrooms"
    assert meeting.decoded("DTSTART") == dt.datetime(2026, 11, 26, 15, 0)  # floating local time
    assert meeting.decoded("DTEND") == dt.datetime(2026, 11, 26, 16, 0)
    assert str(meeting["LOCATION"]) == "Teams (link in the invite)"
    assert "Security questionnaire status" in str(meeting["DESCRIPTION"])
    later = deal_calendar("kestrel-freight", deal, schedule(deal, dt.date(2026, 12, 5)))
    assert not [e for e in events(later) if str(e["UID"]).startswith("meeting-")]


def test_two_builds_are_byte_identical_and_uids_stable() -> None:
    deal = kestrel()
    first = deal_calendar("kestrel-freight", deal, schedule(deal, TODAY))
    second = deal_calendar("kestrel-freight", load_deal(KESTREL).deal, schedule(load_deal(KESTREL).deal, TODAY))
    assert first == second
    # DTSTAMP follows the schedule's today, not the wall clock.
    stamps = {e.decoded("DTSTAMP") for e in events(first)}
    assert stamps == {dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)}
    # A later build (dates moved) keeps every UID, so calendars update instead of duplicating.
    later = deal_calendar("kestrel-freight", deal, schedule(deal, dt.date(2026, 11, 25)))
    uids = [str(e["UID"]) for e in events(first) if not str(e["UID"]).startswith("meeting-")]
    assert uids == [str(e["UID"]) for e in events(later) if not str(e["UID"]).startswith("meeting-")]
    assert len(set(uids)) == len(uids)


def test_identical_across_processes() -> None:
    code = (
        "import datetime as dt, sys\n"
        "from pathlib import Path\n"
        "from dealrooms_plugin.calendar import deal_calendar\n"
        "from dealrooms_plugin.load import load_deal\n"
        "from dealrooms_plugin.plan import schedule\n"
        f"deal = load_deal(Path({str(KESTREL)!r})).deal\n"
        "sys.stdout.buffer.write(deal_calendar('kestrel-freight', deal, schedule(deal, dt.date(2026, 11, 20))))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].startswith(b"BEGIN:VCALENDAR")


def test_uid_helpers() -> None:
    deal = kestrel()
    assert milestone_uid("acme", "go-live") == "go-live@acme.dealrooms"
    assert meeting_uid("acme", deal.meetings[1]) == "meeting-20261126-weekly-plan-review@acme.dealrooms"


def test_relative_dates_and_all_day_meeting(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(
        "deal: {title: 'A × B', buyer: {name: A}, seller: {name: B}, target_date: 2027-03-01}\n"
        "milestones:\n"
        "  - {id: review, title: 'Review; legal, too', owner: buyer, due: target-10bd}\n"
        "  - {id: go-live, title: Go-live, owner: seller, due: target+0d, after: [review]}\n"
        "meetings:\n"
        "  - {date: 2027-01-05, title: Steering committee}\n",
        encoding="utf-8",
    )
    deal = load_deal(tmp_path / "d.yml").deal
    data = deal_calendar("d", deal, schedule(deal, dt.date(2027, 1, 1)))
    found = {str(e["UID"]): e for e in events(data)}
    assert found["review@d.dealrooms"].decoded("DTSTART") == dt.date(2027, 2, 15)
    assert str(found["review@d.dealrooms"]["SUMMARY"]) == "Review; legal, too"  # escaping round-trips
    assert found["go-live@d.dealrooms"].decoded("DTSTART") == dt.date(2027, 3, 1)
    steering = found["meeting-20270105-steering-committee@d.dealrooms"]
    assert steering.decoded("DTSTART") == dt.date(2027, 1, 5)
