"""Browser tests share one headless Chromium per test session."""

from __future__ import annotations

import pytest

from browserutil import launch_browser


@pytest.fixture(scope="session")
def session_browser():  # type: ignore[no-untyped-def]
    """One Debian chromium for the whole session (each test opens its own context)."""
    yield from launch_browser()
