"""A project's settings: the validated plugin options and the folder they are relative to.

The engine does not read ``mkdocs.yml`` itself: an adapter loads it (the MkDocs
adapter with MkDocs' own loader, so ``!ENV`` and ``INHERIT`` mean what they mean
to ``mkdocs build``) and hands the mapping to :func:`settings_from_config`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import DealroomsError, display_path
from .options import PLUGIN, Options, validate_options
from .passwords import secrets_path


@dataclass(frozen=True)
class Settings:
    """The ``dealrooms`` options of one project, and the paths they name."""

    config_file: Path
    options: Options

    @property
    def root(self) -> Path:
        """The folder of ``mkdocs.yml``: option paths are relative to it."""
        return Path(os.path.abspath(self.config_file)).parent

    @property
    def deals_dir(self) -> Path:
        # As written, links not resolved: files are classified by where they sit in the project.
        return Path(os.path.abspath(self.root / self.options.deals_dir))

    @property
    def secrets_file(self) -> Path:
        return secrets_path(self.root, self.options.secrets_file)

    @property
    def cache_dir(self) -> Path:
        return Path(os.path.abspath(self.root / self.options.cache_dir))


def settings_from_config(config_file: Path, config: Mapping[str, Any]) -> Settings:
    """Settings from ``mkdocs.yml`` as loaded (``INHERIT`` merged, ``!ENV`` resolved).

    Without a ``dealrooms`` entry under ``plugins`` every option has its
    default. Raises :class:`~.options.InvalidOptions` for bad options.
    """
    config_file = Path(config_file)
    if not isinstance(config, Mapping):
        raise DealroomsError(f"{display_path(config_file)}: expected MkDocs settings (site_name:, plugins: ...)")
    return Settings(config_file, validate_options(plugin_entry(config.get("plugins")), config_file=config_file))


def plugin_entry(plugins: Any) -> Any:
    """The ``dealrooms`` options from ``plugins:``, a list (``- dealrooms: {...}``) or a mapping; None when absent."""
    if isinstance(plugins, Mapping):
        return plugins.get(PLUGIN)
    for entry in plugins or ():
        if isinstance(entry, Mapping) and PLUGIN in entry:
            return entry[PLUGIN]
    return None
