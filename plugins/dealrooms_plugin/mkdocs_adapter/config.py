"""Options of the ``dealrooms`` plugin in ``mkdocs.yml``.

```yaml
plugins:
  - search
  - dealrooms:
      deals_dir: dealrooms   # one <slug>.yml per deal; _files and _folders are not deals
      protect: true          # encrypt every deal's microsite with its own password
      secrets_file: .dealrooms-secrets.yml   # passwords (git-ignored); see `dealrooms password`
      allow_password_reuse: false   # true: several deals may share one password (refused by default)
      brand_name: Orbisoft   # optional: the seller's brand on the unlock page
      brand_logo: branding/orbisoft.svg
      brand_color: "#1f3a93"
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

    secrets_file = c.Type(str, default=".dealrooms-secrets.yml")
    """Passwords as `slug: password` lines, relative to mkdocs.yml; keep it out of git."""

    allow_password_reuse = c.Type(bool, default=False)
    """Let several deals share one password. Off by default: whoever holds one deal's password could open
    the others, so the build and `dealrooms password --set` refuse it and name the deals that share one.
    Turn on only when the same people must open all of them, e.g. two deals with one buyer."""

    kdf_iterations = c.Type(int, default=600_000)
    """PBKDF2-HMAC-SHA256 iterations for deal keys (at least 600,000); raising it re-keys every deal."""

    brand_name = c.Optional(c.Type(str))
    """The seller's name on the unlock page of protected deals (same for every deal)."""

    brand_logo = c.Optional(c.Type(str))
    """The seller's logo (SVG/PNG/WebP/JPEG, relative to mkdocs.yml) on the unlock page."""

    brand_color = c.Optional(c.Type(str))
    """Accent colour of the unlock page, e.g. '#1f3a93' (default: the theme's primary colour)."""

    cache_dir = c.Type(str, default=".cache/dealrooms")
    """Where builds keep validated deals and finished output between runs (relative to mkdocs.yml; keep it out of git)."""

    shard = c.Optional(c.Type(str))
    """`K/N`: build only the K-th of N deterministic subsets of deals (CI matrices); DEALROOMS_SHARD overrides."""

    health = c.Type(dict, default={})
    """Health thresholds: at_risk_slip_days, off_track_slip_days, at_risk_overdue, off_track_overdue."""

    stages = c.Type(list, default=[])
    """Sales stages: [{name, exit_criteria: [milestone ids], probability}]."""
