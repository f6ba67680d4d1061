"""Options of the ``dealrooms`` plugin in ``mkdocs.yml``.

```yaml
plugins:
  - search
  - dealrooms:
      deals_dir: dealrooms   # one <slug>.yml per deal; _files and _folders are not deals
      protect: true          # encrypt every deal's microsite with its own password
```
"""

from __future__ import annotations

from mkdocs.config import config_options as c
from mkdocs.config.base import Config


class DealroomsConfig(Config):
    enabled = c.Type(bool, default=True)
    """Turn the plugin off without removing it."""

    deals_dir = c.Type(str, default="dealrooms")
    """Folder of deal YAML files, relative to mkdocs.yml."""

    protect = c.Type(bool, default=True)
    """Encrypt each deal's microsite with its own password (off for local preview only)."""

    health = c.Type(dict, default={})
    """Health thresholds: at_risk_slip_days, off_track_slip_days, at_risk_overdue, off_track_overdue."""

    stages = c.Type(list, default=[])
    """Sales stages: [{name, exit_criteria: [milestone ids], probability}]."""
