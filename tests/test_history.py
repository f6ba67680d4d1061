"""The plan's history from the deal file's git commits: what moved, was added, removed, done, reassigned."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from dealrooms_plugin.history import (
    NO_HISTORY, Change, OwnerChange, StepDone, StepMove, StepRef, Who, deal_history, history_digest, history_keys,
)
from historyutil import ADDED, DEAL, DONE, SLIPPED, Repo, git_env, three_commits  # noqa: F401 (fixture)

TODAY = dt.date(2026, 12, 7)
D = dt.date.fromisoformat
AUTHOR = "Sam Hale"


@pytest.fixture
def repo(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)  # notes name files as the rep would type them
    return Repo(tmp_path)


def history(repo: Repo, relative: str = "deals/acme.yml", **kwargs):
    return deal_history(repo.root / relative, today=TODAY, **kwargs)


def test_three_commits_give_the_exact_changes_newest_first(repo: Repo) -> None:
    first, slipped, added, done = three_commits(repo)
    found = history(repo)
    assert found.notes == () and not found.truncated
    assert found.changes == (
        # Done 10 days late: as of 2 Dec the security review and the signature move 10 days with it.
        Change(done, D("2026-12-02"), AUTHOR, "Kick-off done",
               completed=(StepDone("kickoff", "Kick-off", D("2026-11-30")),),
               projected_from=D("2027-03-01"), projected_to=D("2027-03-11")),
        # 23:30 at UTC-5 is 13 Nov in UTC: the day is the author's own.
        Change(added, D("2026-11-12"), AUTHOR, "Add the pilot",
               added=(StepRef("pilot", "Pilot <b>on site</b>"),),
               projected_from=D("2027-03-01"), projected_to=D("2027-03-01")),
        # The signature had 35 days of slack after the review: the outcome holds.
        Change(slipped, D("2026-11-05"), AUTHOR, "Security review slips: <script>alert(1)</script>",
               moved=(StepMove("security", "Security review", D("2027-01-18"), D("2027-01-25")),),
               projected_from=D("2027-03-01"), projected_to=D("2027-03-01")),
        Change(first, D("2026-11-01"), AUTHOR, "Plan agreed in the kick-off call", first=True, projected_to=D("2027-03-01")),
    )
    assert found.last_changed == D("2026-12-02")
    assert [c.commit for c in found.since(D("2026-11-05"))] == [done, added, slipped]
    assert [c.commit for c in found.latest(2)] == [done, added]
    assert found.changes[2].moved[0].days == 7 and found.changes[0].projected_days == 10


def test_the_forecast_of_each_version_is_as_of_its_own_day(repo: Repo) -> None:
    # The kick-off (due 20 Nov) is still open when the pilot is added on 25 Nov: 5 days late by then.
    # The change shows the outcome moving since the version before (1 Mar as of 1 Nov) to 6 Mar.
    repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    repo.commit("deals/acme.yml", DEAL + ADDED[len(SLIPPED):], "Add the pilot", "2026-11-25T10:00:00+01:00")
    (change, _) = history(repo).changes
    assert change.added == (StepRef("pilot", "Pilot <b>on site</b>"),)
    assert (change.projected_from, change.projected_to) == (D("2027-03-01"), D("2027-03-06"))


def test_an_edit_that_only_moves_the_forecast_is_a_change(repo: Repo) -> None:
    # A new dependency on the late kick-off: no step moved, but the outcome did.
    late = DEAL.replace("due: 2026-11-20}", "due: 2026-11-03}")
    plain = late.replace(", after: [security]}", "}")
    repo.commit("deals/acme.yml", plain, "Plan", "2026-11-01T10:00:00+01:00")
    commit = repo.commit("deals/acme.yml", plain.replace("due: 2027-03-01}", "due: 2027-03-01, after: [kickoff]}"),
                         "Signature waits for the kick-off", "2026-11-10T10:00:00+01:00")
    change = history(repo).changes[0]
    assert change.commit == commit and not change.steps_changed
    assert (change.projected_from, change.projected_to) == (D("2027-03-01"), D("2027-03-08"))


def test_owner_changes_removed_steps_and_target_moves(repo: Repo) -> None:
    repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    edited = (DEAL.replace("{id: kickoff, title: Kick-off, owner: sam", "{id: kickoff, title: Kick-off, owner: buyer")
              .replace("target_date: 2027-03-01", "target_date: 2027-03-15")
              .replace("  - {id: signature, title: Contract signed, owner: mia, due: 2027-03-01, after: [security]}\n", ""))
    commit = repo.commit("deals/acme.yml", edited, "Buyer runs the kick-off; no signature step", "2026-11-03T10:00:00+01:00")
    change = history(repo).changes[0]
    assert change == Change(
        commit, D("2026-11-03"), AUTHOR, "Buyer runs the kick-off; no signature step",
        removed=(StepRef("signature", "Contract signed"),),
        owners=(OwnerChange("kickoff", "Kick-off", (Who("sam", "Sam Hale"),), (Who("buyer", "Acme"),)),),
        target_from=D("2027-03-01"), target_to=D("2027-03-15"),
        projected_from=D("2027-03-01"), projected_to=D("2027-03-15"),
    )


def test_edits_that_leave_the_plan_alone_are_not_changes(repo: Repo) -> None:
    repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    slipped = repo.commit("deals/acme.yml", SLIPPED, "Slip", "2026-11-05T10:00:00+01:00")
    repo.commit("deals/acme.yml", SLIPPED.replace("Mia Berg", "Mia Berg-Lund"), "Name", "2026-11-09T10:00:00+01:00")
    found = history(repo)
    assert [c.commit for c in found.changes][0] == slipped
    assert found.last_changed == D("2026-11-05")  # "plan last changed": not the later edit of a name


def test_a_renamed_file_keeps_its_history(repo: Repo) -> None:
    first = repo.commit("deals/acme-2026.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    repo.git("mv", "deals/acme-2026.yml", "deals/acme.yml")
    repo.git("commit", "-q", "-m", "Rename", date="2026-11-02T10:00:00+01:00")
    slipped = repo.commit("deals/acme.yml", SLIPPED, "Slip", "2026-11-05T10:00:00+01:00")
    assert [(c.commit, c.first) for c in history(repo).changes] == [(slipped, False), (first, True)]


def test_a_version_that_does_not_load_is_skipped_with_a_note(repo: Repo) -> None:
    first = repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    broken = repo.commit("deals/acme.yml", SLIPPED.replace("owner: mia, due: 2027-01-25", "owner: [mia"), "Oops",
                         "2026-11-04T10:00:00+01:00")
    fixed = repo.commit("deals/acme.yml", SLIPPED, "Fixed", "2026-11-05T10:00:00+01:00")
    found = history(repo)
    # The slip is counted once, with the version that loads again, against the last one that loaded.
    assert [(c.commit, [m.id for m in c.moved]) for c in found.changes] == [(fixed, ["security"]), (first, [])]
    (note,) = found.notes
    assert note.startswith(f"deals/acme.yml at {broken[:7]} (2026-11-04): this version does not load (line 11: YAML syntax error")
    assert "dealrooms-history-" not in note  # problems name the deal file, never the temporary copy


def test_a_version_with_an_unknown_owner_names_the_field(repo: Repo) -> None:
    repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    repo.commit("deals/acme.yml", DEAL.replace("owner: mia", "owner: grimsby", 1), "Bad owner", "2026-11-04T10:00:00+01:00")
    (note,) = history(repo).notes
    assert "does not load (line 11: milestones[1].owner: unknown person 'grimsby'" in note


def test_versions_extend_the_current_template(repo: Repo) -> None:
    template = "milestones:\n  - {id: legal, title: MSA agreed, owner: buyer, due: target-3w}\n"
    (repo.root / "deals" / "_templates").mkdir(parents=True)
    (repo.root / "deals" / "_templates" / "base.yml").write_text(template, encoding="utf-8")
    repo.commit("deals/acme.yml", "extends: base\n" + DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    commit = repo.commit("deals/acme.yml", "extends: base\n" + DEAL + "  - {id: legal, due: target-2w}\n", "Legal later",
                         "2026-11-02T10:00:00+01:00")
    change = history(repo).changes[0]
    assert change.commit == commit
    assert change.moved == (StepMove("legal", "MSA agreed", D("2027-02-08"), D("2027-02-15")),)


def test_uncommitted_edits_are_a_change_of_today(repo: Repo) -> None:
    three_commits(repo)
    (repo.root / "deals" / "acme.yml").write_text(DONE.replace("due: 2027-02-01", "due: 2027-02-08"), encoding="utf-8")
    newest = history(repo).changes[0]
    assert (newest.commit, newest.date, newest.author, newest.subject) == (None, TODAY, "", "")
    assert newest.moved == (StepMove("pilot", "Pilot <b>on site</b>", D("2027-02-01"), D("2027-02-08")),)
    assert history(repo).last_changed == TODAY


def test_no_history_outside_git_for_untracked_files_and_without_git(tmp_path: Path, git_env: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "plain" / "deals" / "acme.yml"
    outside.parent.mkdir(parents=True)
    outside.write_text(DONE, encoding="utf-8")
    assert deal_history(outside, today=TODAY) == NO_HISTORY

    repo = Repo(tmp_path / "repo")
    three_commits(repo)
    untracked = repo.root / "deals" / "beta.yml"
    untracked.write_text(DEAL, encoding="utf-8")
    assert deal_history(untracked, today=TODAY) == NO_HISTORY
    repo.git("add", "deals/beta.yml")  # staged is not committed: still no history
    assert deal_history(untracked, today=TODAY) == NO_HISTORY

    repo.git("rm", "-q", "--cached", "deals/acme.yml")
    repo.git("commit", "-q", "-m", "Untrack", date="2026-11-20T10:00:00+01:00")
    assert deal_history(repo.root / "deals" / "acme.yml", today=TODAY) == NO_HISTORY  # deleted from git, kept on disk

    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no git program at all
    assert deal_history(repo.root / "deals" / "beta.yml", today=TODAY) == NO_HISTORY


def test_a_linked_deal_file_has_no_history(repo: Repo) -> None:
    three_commits(repo)
    os.symlink("acme.yml", repo.root / "deals" / "linked.yml")
    repo.git("add", "deals/linked.yml")
    repo.git("commit", "-q", "-m", "Link", date="2026-11-20T10:00:00+01:00")
    assert history(repo, "deals/linked.yml") == NO_HISTORY


def test_commits_are_capped_and_git_is_timed_out(repo: Repo) -> None:
    commits = three_commits(repo)
    capped = history(repo, max_commits=2)
    assert capped.truncated and [c.commit for c in capped.changes] == [commits[3], commits[2]]
    assert capped.changes[-1].first  # the oldest commit read is the starting point
    assert capped.notes == ("deals/acme.yml: only the newest 2 commits are read",)
    slow = history(repo, timeout=1e-6)
    assert slow.changes == () and "git took longer than" in slow.notes[0]


def test_the_digest_follows_the_history_not_only_the_file(repo: Repo) -> None:
    repo.commit("deals/acme.yml", DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    before = history_digest(history(repo))
    assert history_digest(history(repo)) == before  # same history, same digest
    repo.commit("deals/acme.yml", SLIPPED, "Slip", "2026-11-05T10:00:00+01:00")
    repo.commit("deals/acme.yml", DEAL, "Slip undone", "2026-11-06T10:00:00+01:00")
    assert (repo.root / "deals" / "acme.yml").read_text(encoding="utf-8") == DEAL  # the same file as before
    after = history(repo)
    assert len(after.changes) == 3 and history_digest(after) != before


def test_json_of_a_change(repo: Repo) -> None:
    _, slipped, _, _ = three_commits(repo)
    data = history(repo).to_json()
    assert data["plan_last_changed"] == "2026-12-02"
    assert data["changes"][2] == {
        "commit": slipped, "date": "2026-11-05", "author": AUTHOR,
        "subject": "Security review slips: <script>alert(1)</script>", "first": False,
        "moved": [{"id": "security", "title": "Security review", "from": "2027-01-18", "to": "2027-01-25", "days": 7}],
        "added": [], "removed": [], "completed": [], "reopened": [], "owners": [], "target": None,
        "projected": {"from": "2027-03-01", "to": "2027-03-01", "days": 0},
    }


def test_a_template_linked_from_outside_the_project_is_refused(tmp_path: Path, git_env: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "project")
    monkeypatch.chdir(repo.root)
    elsewhere = tmp_path / "elsewhere.yml"
    elsewhere.write_text("milestones:\n  - {id: leak, title: Not this project's, owner: buyer, due: target-3w}\n",
                         encoding="utf-8")
    (repo.root / "deals" / "_templates").mkdir(parents=True)
    os.symlink(elsewhere, repo.root / "deals" / "_templates" / "base.yml")
    repo.commit("deals/acme.yml", "extends: base\n" + DEAL, "Plan", "2026-11-01T10:00:00+01:00")
    found = history(repo)
    assert found.changes == ()
    (note,) = found.notes
    assert f"does not load (deals/_templates/base.yml:1: this file leads outside the project (to {elsewhere}))" in note


def test_history_keys_change_with_each_deal_s_own_commits_only(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    deals = repo.root / "deals"
    three_commits(repo)
    repo.commit("deals/beta.yml", DEAL, "Beta", "2026-11-02T10:00:00+01:00")
    (deals / "gamma.yml").write_text(DEAL, encoding="utf-8")  # untracked
    names = ["acme.yml", "beta.yml", "gamma.yml"]
    keys = history_keys(deals, names)
    assert keys["acme.yml"] and keys["beta.yml"] and keys["acme.yml"] != keys["beta.yml"] and keys["gamma.yml"] == ""
    assert history_keys(deals, names) == keys  # same history, same keys

    repo.commit("deals/beta.yml", SLIPPED, "Beta slips", "2026-11-20T10:00:00+01:00")
    repo.commit("deals/beta.yml", DEAL, "Beta slip undone", "2026-11-21T10:00:00+01:00")  # the same bytes as before
    after = history_keys(deals, names)
    assert after["acme.yml"] == keys["acme.yml"] and after["beta.yml"] != keys["beta.yml"]

    monkeypatch.setenv("PATH", str(repo.root / "no-git-here"))
    assert history_keys(deals, names) == {"acme.yml": "", "beta.yml": "", "gamma.yml": ""}
