"""Dealrooms: one YAML file per B2B deal becomes a private deal-room microsite.

The engine (load, validate, plan, view, render, protect) is plain Python and
never imports MkDocs; ``dealrooms_plugin.mkdocs_adapter`` is the thin MkDocs
adapter on top of it.
"""

from .errors import DealroomsError, InvalidDeal, Problem
from .load import discover_deals, load_deal, load_deals
from .model import Deal
from .today import today

__version__ = "0.1.0"

__all__ = [
    "Deal",
    "DealroomsError",
    "InvalidDeal",
    "Problem",
    "discover_deals",
    "load_deal",
    "load_deals",
    "today",
    "__version__",
]
