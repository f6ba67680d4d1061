"""The plan's git history in whole builds: "What changed" on the pages, the footer's "plan last changed",
and render keys that follow new commits (issue 13's "Done when")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin.cli import main

from buildutil import build_site
from historyutil import MKDOCS, Repo, git_env, three_commits  # noqa: F401 (fixture)

TODAY = "2026-12-07"


@pytest.fixture
def repo(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("DEALROOMS_TODAY", TODAY)
    repo = Repo(tmp_path / "project")
    (repo.root / "mkdocs.yml").write_text(MKDOCS + "theme: {name: material}\n", encoding="utf-8")
    monkeypatch.chdir(repo.root)
    return repo


def _text(html: str) -> str:
    return " ".join(html.replace("<", " <").split())


def test_three_commits_show_on_the_pages_and_in_status(repo: Repo, tmp_path: Path) -> None:
    three_commits(repo)
    site = build_site(repo.root)
    overview = (site / "acme" / "index.html").read_text(encoding="utf-8")
    plan = (site / "acme" / "plan" / "index.html").read_text(encoding="utf-8")
    assert 'id="what-changed"' in overview and 'id="history"' in plan
    # The newest change first: the kick-off done 10 days late moved the outcome from 1 to 11 March.
    history = plan[plan.index('id="history"'):]
    assert history.index("Kick-off") < history.index("Pilot") < history.index("Security review")
    assert "Pilot &lt;b&gt;on site&lt;/b&gt;" in history  # a step title stays text
    for secret in ("Security review slips", "<script>alert(1)</script>", "Plan agreed in the kick-off call", "Kick-off done"):
        assert secret not in overview and secret not in plan  # commit words never reach a buyer
    assert 'plan last changed on <time datetime="2026-12-02">' in overview

    changes = json.loads(CliRunner().invoke(main, ["status", "--since", "2026-11-01", "--json"]).stdout)
    [acme] = changes
    assert [c["date"] for c in acme["changes"]] == ["2026-12-02", "2026-11-12", "2026-11-05", "2026-11-01"]
    assert acme["plan_last_changed"] == "2026-12-02"

    # The same deal outside git: no history section, nothing breaks.
    outside = tmp_path / "outside"
    shutil.copytree(repo.root, outside, ignore=shutil.ignore_patterns(".git", "site", ".cache"))
    plain = build_site(outside)
    assert 'id="what-changed"' not in (plain / "acme" / "index.html").read_text(encoding="utf-8")
    assert 'id="history"' not in (plain / "acme" / "plan" / "index.html").read_text(encoding="utf-8")
    assert "plan last changed" not in (plain / "acme" / "index.html").read_text(encoding="utf-8")


def test_a_new_commit_renders_the_deal_again(repo: Repo) -> None:
    from historyutil import ADDED, DEAL, SLIPPED

    repo.commit("deals/acme.yml", DEAL, "first", "2026-11-01T10:00:00+01:00")
    repo.commit("deals/acme.yml", SLIPPED, "slip", "2026-11-05T10:00:00+01:00")
    site = build_site(repo.root)
    before = (site / "acme" / "plan" / "index.html").read_text(encoding="utf-8")
    assert "Pilot" not in before
    # The file's bytes go back and forth, so only its history tells the two builds apart.
    repo.commit("deals/acme.yml", ADDED, "add the pilot", "2026-11-12T10:00:00+01:00")
    repo.commit("deals/acme.yml", SLIPPED, "drop the pilot again", "2026-11-20T10:00:00+01:00")
    after = (build_site(repo.root) / "acme" / "plan" / "index.html").read_text(encoding="utf-8")
    assert after != before and "Pilot" in after[after.index('id="history"'):]
