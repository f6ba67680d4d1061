"""Validation messages: golden cases in tests/cases/*.yml with *.expected.

Each expected file holds the exact lines `dealrooms check` prints for the
case (file names only). Regenerate with `pytest --update-golden` and review
the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dealrooms_plugin import InvalidDeal, load_deal
from dealrooms_plugin.errors import display_path

CASES = Path(__file__).parent / "cases"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InvalidDeal) as caught:
        load_deal(path)
    return [str(p).replace(str(path.parent) + "/", "") for p in caught.value.problems]


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yml")), ids=lambda p: p.stem)
def test_golden_messages(case: Path, golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    golden(case.with_suffix(".expected"), "\n".join(problems_of(case)) + "\n")


def test_issue_examples_word_for_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    owner = problems_of(CASES / "unknown-owner.yml")
    assert "unknown-owner.yml:16: milestones[3].owner: unknown person 'grimsby' (people are: ilse, dov, amara)" in owner[0]
    key = problems_of(CASES / "unknown-key.yml")
    assert "unknown-key.yml:15: proposal.valid_untill: unknown field; did you mean 'valid_until'?" in key


def test_every_problem_names_file_line_and_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    for case in CASES.glob("*.yml"):
        for line in problems_of(case):
            name, number, rest = line.split(":", 2)
            assert name == case.name and int(number) >= 1 and rest.strip()


def test_all_problems_of_a_file_are_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    assert len(problems_of(CASES / "missing-and-wrong-types.yml")) >= 10


def test_duplicate_ids_name_both_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    lines = problems_of(CASES / "duplicate-id.yml")
    assert "duplicate-id.yml:8: people[1].id: duplicate person id 'ilse'; also defined at duplicate-id.yml:7" in lines[0]
    assert "duplicate-id.yml:12: milestones[2].id: duplicate milestone id 'kickoff'; also defined at duplicate-id.yml:10" in lines[1]


def test_examples_are_valid() -> None:
    root = Path(__file__).resolve().parent.parent / "dealrooms"
    for path in root.glob("[!_]*.yml"):
        assert load_deal(path).deal.milestones


def test_a_file_below_a_folder_named_with_two_dots_is_named_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `..deals/` lies below the working directory although its relative path starts with "..".
    folder = tmp_path / "..deals"
    folder.mkdir()
    (folder / "acme.yml").write_text("deal: [\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert problems_of(folder / "acme.yml")[0].startswith("..deals/acme.yml:")
    assert display_path(tmp_path.parent / "elsewhere.yml") == str(tmp_path.parent / "elsewhere.yml")
