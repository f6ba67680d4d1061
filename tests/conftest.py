"""Shared fixtures: a copy of the example project in tmp_path, a pinned today, golden-file checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

from goldenutil import UPDATE_FLAG, assert_golden

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-22"

# MkDocs and Material print banners that are noise in test output.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(UPDATE_FLAG, action="store_true", help="write golden files and HTML snapshots (a missing one fails without it)")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """``golden(path, text)``: text must equal the golden file; written first only under ``--update-golden``."""
    update = bool(request.config.getoption(UPDATE_FLAG))

    def check(path: Path, actual: str) -> None:
        assert_golden(path, actual, update=update)

    return check


@pytest.fixture(scope="session", autouse=True)
def private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Key cache and its machine secret in a temporary folder, never the real home (builds in subprocesses too)."""
    home = tmp_path_factory.mktemp("user")
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DEALROOMS_TODAY", TODAY)
    return TODAY


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project (mkdocs.yml, dealrooms/, theme_overrides/) in a temp folder."""
    for name in ("dealrooms", "theme_overrides"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    monkeypatch.chdir(tmp_path)
    return tmp_path
