"""The one place that says what day it is.

Every relative date in a deal room (days to target, overdue, proposal
expiry) is computed against :func:`today`, so builds are reproducible:
``DEALROOMS_TODAY=YYYY-MM-DD`` pins it.
"""

from __future__ import annotations

import datetime as dt
import os

from .errors import DealroomsError

ENV_VAR = "DEALROOMS_TODAY"


def today() -> dt.date:
    """Return today's date, or the date in ``DEALROOMS_TODAY`` when set."""
    pinned = os.environ.get(ENV_VAR, "").strip()
    if not pinned:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(pinned)
    except ValueError:
        raise DealroomsError(
            f"{ENV_VAR}: bad date {pinned!r}; expected YYYY-MM-DD, e.g. {ENV_VAR}=2026-11-20"
        ) from None
