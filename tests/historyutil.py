"""A throw-away git repository of deal files, with commit dates set by the test (works on a bare CI machine)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

MKDOCS = """\
site_name: Deals
docs_dir: deals
plugins:
  - dealrooms:
      deals_dir: deals
      protect: false
"""

# Kick-off 20 Nov, security review 18 Jan, signature on the target, 1 March; each waits for the one before.
DEAL = """\
deal:
  title: Acme × Orbisoft
  buyer: {name: Acme}
  seller: {name: Orbisoft}
  target_date: 2027-03-01
people:
  - {id: mia, name: Mia Berg, side: buyer, email: mia@acme.example}
  - {id: sam, name: Sam Hale, side: seller}
milestones:
  - {id: kickoff, title: Kick-off, owner: sam, due: 2026-11-20}
  - {id: security, title: Security review, owner: mia, due: 2027-01-18, after: [kickoff]}
  - {id: signature, title: Contract signed, owner: mia, due: 2027-03-01, after: [security]}
"""

# The three edits of the "Done when", each a commit of its own.
SLIPPED = DEAL.replace("due: 2027-01-18", "due: 2027-01-25")  # a week later: the signature keeps 35 days after it
ADDED = SLIPPED + "  - {id: pilot, title: Pilot <b>on site</b>, owner: sam, due: 2027-02-01, after: [kickoff]}\n"
DONE = ADDED.replace("due: 2026-11-20}", "due: 2026-11-20, status: done, done_on: 2026-11-30}")  # 10 days late


class Repo:
    """A git work tree in ``root``; every commit gets the author date it is given."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")

    def git(self, *args: str, date: str = "2026-11-01T10:00:00+01:00") -> str:
        env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        done = subprocess.run(["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def commit(self, relative: str, text: str, message: str, date: str) -> str:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.git("add", relative)
        self.git("commit", "-q", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git that reads no user or system settings and never looks above ``tmp_path`` for a repository."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Sam Hale")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "sam@orbisoft.example")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def three_commits(repo: Repo, relative: str = "deals/acme.yml") -> list[str]:
    """The deal created on 1 Nov, then: a step slips (5 Nov), a step is added (12 Nov), a step is done (2 Dec)."""
    return [
        repo.commit(relative, DEAL, "Plan agreed in the kick-off call", "2026-11-01T10:00:00+01:00"),
        repo.commit(relative, SLIPPED, "Security review slips: <script>alert(1)</script>", "2026-11-05T09:00:00+01:00"),
        repo.commit(relative, ADDED, "Add the pilot", "2026-11-12T23:30:00-05:00"),  # 13 Nov in UTC; 12 Nov for the author
        repo.commit(relative, DONE, "Kick-off done", "2026-12-02T08:00:00+01:00"),
    ]
