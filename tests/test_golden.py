"""Golden files fail when missing: only `pytest --update-golden` writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from goldenutil import assert_golden


def test_a_missing_golden_fails_and_says_how_to_create_it(tmp_path: Path) -> None:
    path = tmp_path / "case.expected"
    with pytest.raises(pytest.fail.Exception, match=r"case\.expected is missing; create it with `pytest --update-golden`"):
        assert_golden(path, "line\n", update=False)
    assert not path.exists()


def test_update_writes_the_golden_then_compares(tmp_path: Path) -> None:
    path = tmp_path / "snapshots" / "deal" / "plan.html"
    assert_golden(path, "<p>new</p>\n", update=True)
    assert path.read_text(encoding="utf-8") == "<p>new</p>\n"
    assert_golden(path, "<p>new</p>\n", update=False)


def test_a_different_text_fails_without_touching_the_golden(tmp_path: Path) -> None:
    path = tmp_path / "case.expected"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_golden(path, "new\n", update=False)
    assert path.read_text(encoding="utf-8") == "old\n"

