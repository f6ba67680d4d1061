"""Golden files and snapshots: compare, and write only when asked to.

A test that writes its own missing golden and then compares against it
passes whatever the code does, so a deleted or never-committed golden would
hide any regression. Missing goldens therefore fail, and are (re)written only
under ``pytest --update-golden``, whose diff is then reviewed like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

UPDATE_FLAG = "--update-golden"


def assert_golden(path: Path, actual: str, *, update: bool) -> None:
    """Assert that ``actual`` equals the text in ``path``; with ``update``, write it there first.

    A missing file fails with the command that creates it.
    """
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    elif not path.exists():
        pytest.fail(
            f"golden file {path} is missing; create it with `pytest {UPDATE_FLAG}` "
            "(then review and commit it: the test compares against it)",
            pytrace=False,
        )
    assert actual == path.read_text(encoding="utf-8")
