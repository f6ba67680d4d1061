"""`dealrooms status --since`: each deal's plan changes since a day, from the deal files' git history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main
from historyutil import DEAL, DONE, MKDOCS, Repo, git_env, three_commits  # noqa: F401 (fixture)

BETA = DEAL.replace("Acme", "Beta")


@pytest.fixture
def repo(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-12-07")
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    return Repo(tmp_path)


def run(*args: str):
    result = CliRunner().invoke(main, ["status", *args])
    assert result.exit_code == 0, result.output
    return result


def test_since_json_lists_the_exact_changes_of_each_deal(repo: Repo) -> None:
    _, _, added, done = three_commits(repo)
    (repo.root / "deals" / "beta.yml").write_text(BETA, encoding="utf-8")  # never committed: no history, no error
    found = json.loads(run("--since", "2026-11-10", "--json").stdout)
    none = {"moved": [], "added": [], "removed": [], "completed": [], "reopened": [], "owners": [], "target": None}
    assert found == [
        {
            "slug": "acme", "title": "Acme × Orbisoft", "buyer": "Acme", "since": "2026-11-10",
            "plan_last_changed": "2026-12-02",
            "changes": [
                {**none, "commit": done, "date": "2026-12-02", "author": "Sam Hale", "subject": "Kick-off done",
                 "first": False, "completed": [{"id": "kickoff", "title": "Kick-off", "done_on": "2026-11-30"}],
                 "projected": {"from": "2027-03-01", "to": "2027-03-11", "days": 10}},
                {**none, "commit": added, "date": "2026-11-12", "author": "Sam Hale", "subject": "Add the pilot",
                 "first": False, "added": [{"id": "pilot", "title": "Pilot <b>on site</b>"}],
                 "projected": {"from": "2027-03-01", "to": "2027-03-01", "days": 0}},
            ],
            "notes": [],
        },
        {"slug": "beta", "title": "Beta × Orbisoft", "buyer": "Beta", "since": "2026-11-10", "plan_last_changed": None,
         "changes": [], "notes": []},
    ]


def test_since_text_says_what_moved_per_change(repo: Repo) -> None:
    _, slipped, _, done = three_commits(repo)
    text = run("--since", "2026-11-01").stdout
    assert text.splitlines()[:3] == [
        "acme (Acme): plan last changed 2026-12-02",
        f"  2026-12-02  {done[:7]}  Sam Hale: Kick-off done",
        "    done       Kick-off (2026-11-30)",
    ]
    assert "    projected  2027-03-01 → 2027-03-11 (+10d)" in text
    assert (f"  2026-11-05  {slipped[:7]}  Sam Hale: Security review slips: <script>alert(1)</script>\n"
            "    moved      Security review: 2027-01-18 → 2027-01-25 (+7d)\n"
            "    projected  2027-03-01 (unchanged)") in text
    assert "    plan created" in text


def test_uncommitted_edits_show_as_today(repo: Repo) -> None:
    three_commits(repo)
    (repo.root / "deals" / "acme.yml").write_text(DONE.replace("title: Kick-off, owner: sam", "title: Kick-off, owner: mia"),
                                                  encoding="utf-8")
    text = run("--since", "2026-12-05").stdout
    assert text.splitlines()[:3] == [
        "acme (Acme): plan last changed 2026-12-07",
        "  2026-12-07  uncommitted",
        "    owner      Kick-off: Sam Hale → Mia Berg",
    ]


def test_the_same_deal_outside_git_has_no_history_and_no_error(tmp_path: Path, git_env: None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (tmp_path / "deals").mkdir()
    (tmp_path / "deals" / "acme.yml").write_text(DONE, encoding="utf-8")
    (found,) = json.loads(run("--since", "2026-11-01", "--json").stdout)
    assert (found["slug"], found["plan_last_changed"], found["changes"], found["notes"]) == ("acme", None, [], [])
    assert run("--since", "2026-11-01").stdout.strip() == "No plan changes since 2026-11-01: acme"


def test_a_bad_version_is_a_note_not_a_failure(repo: Repo) -> None:
    repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    broken = repo.commit("deals/acme.yml", "deal: [\n", "Half a file", "2026-11-02T10:00:00+01:00")
    repo.commit("deals/acme.yml", DONE, "Fixed", "2026-11-03T10:00:00+01:00")
    (found,) = json.loads(run("--since", "2026-11-01", "--json").stdout)
    assert [c["subject"] for c in found["changes"]] == ["Fixed", "Plan"]
    (note,) = found["notes"]
    assert note.startswith(f"deals/acme.yml at {broken[:7]} (2026-11-02): this version does not load (line 2: YAML syntax error")
    assert f"note: {note}" in run("--since", "2026-11-01").stdout


@pytest.mark.parametrize("args", [["--since", "1 Nov"], ["--since", "2026-11-01", "--due-within", "7d"]])
def test_bad_since_options_are_refused_in_one_line(repo: Repo, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["status", *args])
    assert result.exit_code == 2
    assert ("'1 Nov' is not a date; expected YYYY-MM-DD, e.g. 2026-11-01" in result.output
            or "--since and --due-within are two different lists; use one at a time" in result.output)
    assert "Traceback" not in result.output
