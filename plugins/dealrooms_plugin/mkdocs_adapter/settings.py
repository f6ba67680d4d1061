"""Project settings for the ``dealrooms`` command, read the way ``mkdocs build`` reads them.

MkDocs' own loader resolves ``!ENV`` tags and merges ``INHERIT`` parents, so
every command sees the same options as the build. Only the YAML is loaded:
the theme and the other plugins are not set up, which keeps commands fast
and independent of the rest of the site's configuration.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import ConfigurationError
from mkdocs.utils.yaml import get_yaml_loader, yaml_load

from ..errors import DealroomsError, display_path
from ..settings import Settings, settings_from_config


def read_settings(config_file: Path = Path("mkdocs.yml")) -> Settings:
    """The validated dealrooms options of ``config_file``; DealroomsError (one line per problem) when it cannot be used."""
    config_file = Path(config_file)
    if not config_file.is_file():
        raise DealroomsError(f"{display_path(config_file)}: not found; run this in the folder with mkdocs.yml, "
                             "or name it with -f")
    # With a config, the loader also knows MkDocs' `!relative` tag (used in markdown_extensions).
    loader = get_yaml_loader(config=MkDocsConfig(config_file_path=str(config_file)))
    try:
        with open(config_file, "rb") as f:
            data = yaml_load(f, loader)
    except ConfigurationError as exc:  # invalid YAML, a missing INHERIT file
        raise DealroomsError(f"{display_path(config_file)}: {exc}") from None
    except (ValueError, TypeError) as exc:  # !ENV with a malformed node
        raise DealroomsError(f"{display_path(config_file)}: {exc}") from None
    return settings_from_config(config_file, data)
