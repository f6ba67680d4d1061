"""The words and thresholds that every output shares.

The deal pages, ``dealrooms status``, the reminders and the calendar each
show a milestone's status, a deal's health and whether a proposal expires
soon. They read the wording and the cut-off from here, so a page and the
rep's overview can never disagree about what "at risk" or "expires soon"
means. Outputs may change the case (the status table shouts "AT RISK"), never
the words.
"""

from __future__ import annotations

# Keys are the values of ``Milestone.status`` (model.Status).
STATUS_LABELS: dict[str, str] = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Done",
    "blocked": "Blocked",
}

# Keys are the values of ``plan.Health``.
HEALTH_LABELS: dict[str, str] = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}

# A proposal expiring within this many days is shown prominently on the deal
# pages and puts the deal among the ones that need the rep's attention.
EXPIRING_SOON_DAYS = 14
