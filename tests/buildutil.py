"""Helpers for whole-site builds in a temporary project."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config


def set_plugin_options(project: Path, **options: object) -> None:
    """Change the dealrooms plugin options in the project's mkdocs.yml."""
    config_file = project / "mkdocs.yml"
    text = config_file.read_text(encoding="utf-8")
    for key, value in options.items():
        rendered = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
        text, count = re.subn(rf"(?m)^(\s+){key}: .*$", rf"\g<1>{key}: {rendered}", text)
        if not count:
            text = re.sub(r"(?m)^(\s+)- dealrooms:\s*$", rf"\g<0>\n\g<1>    {key}: {rendered}", text)
    config_file.write_text(text, encoding="utf-8")


EXAMPLES_TODAY = "2026-11-22"


def copy_examples(project: Path) -> Path:
    """The example project (deals, theme overrides, mkdocs.yml) copied into ``project``, set to build plain."""
    import shutil

    root = Path(__file__).resolve().parent.parent
    for name in ("dealrooms", "theme_overrides"):
        shutil.copytree(root / name, project / name)
    shutil.copy(root / "mkdocs.yml", project / "mkdocs.yml")
    set_plugin_options(project, protect=False)
    return project


def build_examples(project: Path, today: str = EXAMPLES_TODAY) -> Path:
    """The example project (deals, theme overrides, mkdocs.yml) copied into ``project`` and built plain."""
    import pytest

    copy_examples(project)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALROOMS_TODAY", today)
        mp.chdir(project)
        return build_site(project)


def build_site(project: Path, **overrides: object) -> Path:
    """Build the project through the MkDocs API; return the site folder."""
    config = load_config(str(project / "mkdocs.yml"), **overrides)
    build(config)
    return Path(config.site_dir)


def all_text(folder: Path) -> dict[Path, str]:
    """Every file below ``folder`` as text (gzip files unpacked), for grepping."""
    out = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            out[path] = data.decode("utf-8", errors="replace")
    return out
