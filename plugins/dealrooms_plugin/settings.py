"""Project settings read from ``mkdocs.yml`` without importing MkDocs.

The CLI needs ``deals_dir`` (and later other plugin options) from the same
file the MkDocs plugin reads; this reads the ``dealrooms`` plugin entry with a
YAML loader that tolerates MkDocs's ``!ENV`` and ``!!python/name`` tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import DealroomsError


class _TolerantLoader(yaml.SafeLoader):
    pass


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TolerantLoader.add_multi_constructor("!", _ignore_tag)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore_tag)


@dataclass(frozen=True)
class Settings:
    """The ``dealrooms`` plugin options, resolved against the config file's folder."""

    root: Path
    deals_dir: Path
    options: dict[str, Any] = field(default_factory=dict)


def read_settings(config_file: Path = Path("mkdocs.yml")) -> Settings:
    """Read the dealrooms options from ``mkdocs.yml``."""
    config_file = Path(config_file)
    if not config_file.is_file():
        raise DealroomsError(f"{config_file}: not found; run this in the folder with mkdocs.yml, or name the deal files")
    try:
        data = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_TolerantLoader) or {}
    except yaml.YAMLError as exc:
        raise DealroomsError(f"{config_file}: invalid YAML: {exc}") from None
    options: dict[str, Any] = {}
    for entry in data.get("plugins") or []:
        if isinstance(entry, dict) and "dealrooms" in entry:
            options = dict(entry["dealrooms"] or {})
    root = config_file.resolve().parent
    return Settings(root, root / options.get("deals_dir", "dealrooms"), options)
