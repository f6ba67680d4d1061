"""Messages for deals that extend templates: each names the file the item comes from, counted in that file.

Golden cases in tests/template_cases/ (deals beside their own ``_templates/``),
as in test_messages.py: each ``*.expected`` holds the exact lines of
``dealrooms check``. Regenerate with ``pytest --update-golden`` and review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dealrooms_plugin import InvalidDeal, load_deal

CASES = Path(__file__).parent / "template_cases"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InvalidDeal) as caught:
        load_deal(path, deals_dir=path.parent)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yml")), ids=lambda p: p.stem)
def test_golden_template_messages(case: Path, golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    golden(case.with_suffix(".expected"), "\n".join(problems_of(case)) + "\n")


def test_the_reps_own_steps_are_counted_in_the_reps_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # The merged plan has the template's five steps first; the rep's file has three.
    monkeypatch.chdir(CASES)
    lines = problems_of(CASES / "template-own-steps.yml")
    assert lines[0].startswith("template-own-steps.yml:11: milestones[0].owner: unknown person 'ilsa'")  # overrides 'proposal'
    assert lines[1].startswith("template-own-steps.yml:15: milestones[1].due: bad offset 'target-8x'")  # a new step
    assert lines[2].startswith("template-own-steps.yml:16: milestones[2].title: required field missing")
    assert not [line for line in lines if "template '" in line]  # nothing here comes from the template


def test_a_templates_step_names_the_template_its_own_index_and_the_deal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    lines = problems_of(CASES / "template-chain.yml")
    # 'dpa' is the sixth step of the merged plan but the second of plan-eu.yml, which extends plan.yml.
    assert lines[0] == (
        "_templates/plan-eu.yml:8: milestones[1].owner: unknown person 'dpo' (people are: ilse); "
        "step 'dpa' of template 'plan-eu', merged into template-chain.yml "
        "(hint: use a person id from people:, or buyer, seller or partner)"
    )
    assert lines[1].startswith("template-chain.yml:10: milestones[0].after: dependency cycle legal → dpa → legal")


def test_every_line_names_a_file_of_the_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    for case in CASES.glob("*.yml"):
        for line in problems_of(case):
            name = line.split(":", 1)[0]
            assert name == case.name or (name.startswith("_templates/") and f"merged into {case.name}" in line), line
