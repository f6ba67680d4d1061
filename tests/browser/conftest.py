"""Browser tests share one headless Chromium per test session."""

from __future__ import annotations

import pytest

from browserutil import StaticServer, launch_browser
from buildutil import build_examples


@pytest.fixture(scope="session")
def session_browser():  # type: ignore[no-untyped-def]
    """One Debian chromium for the whole session (each test opens its own context)."""
    yield from launch_browser()


@pytest.fixture(scope="session")
def examples_site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The example deals built plain as of 2026-11-22, once per session (the tests only read it)."""
    return build_examples(tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="session")
def examples_server(examples_site):  # type: ignore[no-untyped-def]
    """The examples' site served on localhost."""
    srv = StaticServer(examples_site)
    yield srv
    srv.close()
