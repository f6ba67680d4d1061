"""The words and thresholds that every output shares.

The deal pages, ``dealrooms status``, the reminders and the calendar each
show a milestone's status, a deal's health and whether a proposal expires
soon. They read the wording and the cut-off from here, so a page and the
rep's overview can never disagree about what "at risk" or "expires soon"
means. Outputs may change the case (the status table shouts "AT RISK"), never
the words.

The words are English source text marked for translation (:func:`.i18n.N_`);
buyer-facing outputs translate them into the deal's language where they are
shown (``{{ _(label) }}`` in templates, :func:`.i18n.translate` in Python).
"""

from __future__ import annotations

from .i18n import N_

# Keys are the values of ``Milestone.status`` (model.Status).
STATUS_LABELS: dict[str, str] = {
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "blocked": N_("Blocked"),
}

# Keys are the values of ``plan.Health``.
HEALTH_LABELS: dict[str, str] = {"on_track": N_("On track"), "at_risk": N_("At risk"), "off_track": N_("Off track")}

# Keys are the sides of a deal (model.Side).
SIDE_LABELS: dict[str, str] = {"buyer": N_("Buyer"), "seller": N_("Seller"), "partner": N_("Partner")}

# A proposal expiring within this many days is shown prominently on the deal
# pages and puts the deal among the ones that need the rep's attention.
EXPIRING_SOON_DAYS = 14
