"""The buyer's pages for issue 13: joint owners, deliverables, meetings with outcomes and decisions,
goal progress and payback, the buyer's agreement, and what changed in the plan (from its git history).

Pages are rendered from a view built here, as the build would (history included: the git repository
of tests/historyutil.py, three commits after the first)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from pathlib import Path

import pytest

from dealrooms_plugin.history import History, deal_history
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.model import Agreement, Goal, Meeting
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import make_env, render_pages
from dealrooms_plugin.view import build_view
from historyutil import Repo, git_env, three_commits  # noqa: F401 (git_env is a fixture)

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 22)
HOSTILE = '<img src=x onerror=alert(1)> **kept** <script>window.__pwned=1</script> [x](javascript:alert(1))'


def deal(slug: str, **changes):  # type: ignore[no-untyped-def]
    loaded = load_deal(ROOT / "dealrooms" / f"{slug}.yml").deal
    return loaded.model_copy(update=changes) if changes else loaded


def pages(the_deal, today: dt.date = TODAY, history: History | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    view = build_view("deal", the_deal, schedule(the_deal, today), history=history)
    return {p.spec.name: p.html for p in render_pages(view, make_env(), calendar_file="calendar.ics")}


def text(html: str) -> str:
    """The words a reader sees: the scripts' data and tags dropped, entities decoded, spaces collapsed."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    words = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r" ([.,;:)])", r"\1", words)  # "<time>10 Nov</time>." reads "10 Nov."


def visible(html: str) -> str:
    """:func:`text` without the elements marked ``hidden`` (none of them nest other hidden ones here)."""
    while True:
        match = re.search(r"<(\w+)\b[^>]*\shidden[\s>]", html)
        if not match:
            return text(html)
        tag, start = match.group(1), match.start()
        depth, at = 0, start
        for found in re.finditer(rf"<(/?){tag}\b[^>]*>", html[start:]):
            depth += -1 if found.group(1) else 1
            if depth == 0:
                at = start + found.end()
                break
        html = html[:start] + html[at:]


def section(html: str, heading_id: str) -> str:
    """From the heading with ``heading_id`` to the next heading of the same level (or the end)."""
    match = re.search(rf'<h(\d) id="{heading_id}">', html)
    assert match, heading_id
    end = re.search(rf"<h{match.group(1)}\b", html[match.end():])
    return html[match.start(): match.end() + end.start() if end else len(html)]


def what_changed(html: str) -> str:
    return text(re.search(r'<section class="dr-section dr-what-changed">.*?</section>', html, flags=re.S).group(0))


def plan_row(html: str, step_id: str) -> str:
    return re.search(rf'<tr class="dr-step-row[^"]*"[^>]*data-dr-step="{step_id}".*?</tr>', html, flags=re.S).group(0)


def cell(row: str, label: str) -> str:
    return re.search(rf'<td data-label="{label}">(.*?)</td>', row, flags=re.S).group(1)


# --- joint owners --------------------------------------------------------------------


def test_a_step_owned_by_both_sides_names_both_owners_and_both_sides() -> None:
    html = pages(deal("kestrel-freight"))["plan"]
    row = plan_row(html, "pilot-results")
    assert text(cell(row, "Owner")) == "Ilse Verhoeven & Tomás Ruiz (Orbisoft) Buyer Seller"
    assert 'class="dr-step-row dr-step-row--buyer dr-step-row--seller"' in row
    assert text(cell(plan_row(html, "business-case"), "Owner")) == "Dov Abramson Buyer"


# --- deliverables ----------------------------------------------------------------------


def test_deliverables_on_the_plan_and_the_next_steps_linked_when_a_link_is_given() -> None:
    got = pages(deal("kestrel-freight"))
    linked = ('<span class="dr-deliverable">Produces: <a href="https://orbisoft.example/kestrel/pilot-results" '
              'target="_blank" rel="noopener noreferrer nofollow">Pilot results report</a></span>')
    assert linked in cell(plan_row(got["plan"], "pilot-results"), "Step")
    assert text(cell(plan_row(got["plan"], "security-review"), "Step")).startswith(
        "Security questionnaire returned Produces: Completed security questionnaire Orbisoft sent")
    assert "Produces" not in plan_row(got["plan"], "integration")  # no deliverable, no label
    steps = [text(li) for li in re.findall(r'<li class="dr-step[ "].*?</li>', got["overview"], flags=re.S)]
    assert steps == [
        "13 Nov Security questionnaire returned Marta Kowalczyk 9 days late Produces: Completed security questionnaire",
        "4 Dec Pilot results reviewed with depot managers Ilse Verhoeven & Tomás Ruiz (Orbisoft) Not started "
        "Produces: Pilot results report",
        "11 Dec Business case signed off by the CFO Dov Abramson Not started Produces: Signed-off business case",
    ]
    assert linked in got["overview"]


def test_a_deliverables_text_is_text() -> None:
    d = deal("kestrel-freight")
    step = d.milestones[2].model_copy(update={"deliverable": d.milestones[3].deliverable.model_copy(update={"text": HOSTILE})})
    got = pages(d.model_copy(update={"milestones": (*d.milestones[:2], step, *d.milestones[3:])}))
    for page in ("overview", "plan"):
        assert "&lt;img src=x onerror=alert(1)&gt; **kept** &lt;script&gt;" in got[page]
        assert "<img" not in got[page] and "<script>" not in got[page]


# --- meetings ---------------------------------------------------------------------------


def test_the_overview_shows_the_next_meeting_what_it_is_for_and_what_to_prepare() -> None:
    html = pages(deal("kestrel-freight"))["overview"]
    box = re.search(r"<div class=\"dr-next-meeting\" data-dr-meetings>.*?All meetings →</a></p>\s*</div>", html, flags=re.S).group(0)
    assert visible(box) == (
        "Next meeting Thursday, 26 November 2026 · 15:00 Weekly plan review Teams (link in the invite) "
        "What it is for The security questionnaire closed, or a date the whole team commits to. "
        "Agenda Security questionnaire status; pilot results format. "
        "To prepare Marta: the open pen-test questions. Tomás: draft answers. All meetings →"
    )
    # Every upcoming meeting is there for the script, in date order, all but the next hidden; the past one is not.
    assert re.findall(r'data-dr-meeting="([\d-]+)"( hidden)?', box) == [("2026-11-26", ""), ("2026-12-04", " hidden")]
    assert "Pilot results review" in box and "2026-11-12" not in box


def test_with_no_upcoming_meeting_the_overview_has_no_meeting_section() -> None:
    html = pages(deal("kestrel-freight"), today=dt.date(2026, 12, 5))["overview"]
    assert "data-dr-meetings" not in html and "Next meeting" not in html


def test_the_plan_lists_upcoming_meetings_soonest_first_and_past_ones_with_their_decisions() -> None:
    html = pages(deal("kestrel-freight"))["plan"]
    meetings = section(html, "meetings")
    assert text(section(meetings, "meetings-upcoming")) == (
        "Coming up "
        "26 Nov 2026 · 15:00 Weekly plan review Teams (link in the invite) "
        "What it is for The security questionnaire closed, or a date the whole team commits to. "
        "Agenda Security questionnaire status; pilot results format. "
        "To prepare Marta: the open pen-test questions. Tomás: draft answers. "
        "4 Dec 2026 · 10:00 Pilot results review Kestrel Freight, Utrecht depot "
        "What it is for A go or no-go for the rollout to all 14 depots, from the depot managers. "
        "To prepare Each pilot depot brings its planning hours and on-time figures for November."
    )
    assert text(section(meetings, "meetings-past")) == (
        "Held 12 Nov 2026 · 15:00 Weekly plan review Teams (link in the invite) "
        "Decisions Marta sends the pen-test questions to Orbisoft by 16 Nov; Tomás answers within two days. "
        "The pilot results are reviewed with the depot managers, not only with Ilse. "
        "Notes The security questionnaire will miss 13 Nov; the team keeps the 4 Dec pilot review."
    )
    assert "<ul>\n<li>Marta sends" in meetings  # decisions are Markdown


def test_past_meetings_are_listed_latest_first_and_meetings_of_a_day_by_time() -> None:
    d = deal("kestrel-freight")
    extra = (Meeting(date=dt.date(2026, 11, 26), time="9:30", title="Early call"),
             Meeting(date=dt.date(2026, 10, 1), title="Kick-off call", expected_outcome="A plan both sides own"))
    html = pages(d.model_copy(update={"meetings": d.meetings + extra}))["plan"]
    titles = lambda part: re.findall(r'<p class="dr-meeting__title">(.*?)</p>', part)  # noqa: E731
    assert titles(section(html, "meetings-upcoming")) == ["Early call", "Weekly plan review", "Pilot results review"]
    past = section(html, "meetings-past")
    assert titles(past) == ["Weekly plan review", "Kick-off call"]
    # A past meeting without decisions or notes still says what it was for; one with decisions does not repeat it.
    assert "What it was for A plan both sides own" in text(past)


def test_meeting_texts_are_sanitised_markdown() -> None:
    d = deal("kestrel-freight")
    held = d.meetings[0].model_copy(update={"decisions": HOSTILE, "notes": HOSTILE})
    coming = d.meetings[1].model_copy(update={"expected_outcome": HOSTILE, "prepare": HOSTILE})
    got = pages(d.model_copy(update={"meetings": (held, coming, d.meetings[2])}))
    for page, count in (("overview", 2), ("plan", 4)):
        html = re.sub(r'<script type="application/json" data-dr-live>[^<]*</script>', "", got[page])
        assert html.count("<strong>kept</strong>") == count, page
        assert "<script" not in html and "onerror" not in html and "javascript:" not in html and "<img" not in html


# --- goal progress and payback ---------------------------------------------------------------


def goal_sections(html: str) -> dict[str, str]:
    return {m.group(1): text(m.group(0)) for m in re.finditer(r'<section class="dr-goal[^"]*">\s*<h2 id="([^"]+)">.*?</section>', html, flags=re.S)}


def test_goal_progress_from_baseline_through_now_to_target() -> None:
    html = pages(deal("kestrel-freight"))["value"]
    goals = goal_sections(html)
    assert goals["hours"].startswith(
        "Manual planning hours per month Baseline 1,180 hours Now 960 hours measured on 13 Nov 2026 Target 350 hours "
        "26% of the way from the baseline to the target; 610 hours to go. -70.3% by 30 Jun 2027 worth €180,000 per year")
    # A percentage goal's distance is in percentage points.
    assert goals["on-time"].startswith(
        "On-time delivery rate Baseline 91% Now 92.5% measured on 13 Nov 2026 Target 97% "
        "25% of the way from the baseline to the target; 4.5 percentage points to go. +6 percentage points")
    # Without a current value the goal reads as before: from -> to.
    assert goals["overtime"].startswith("Planner overtime cost per year €310,000 → €90,000 -71% by 31 Dec 2027")
    bars = re.findall(r'<span class="dr-progress dr-progress--goal" role="progressbar" aria-valuenow="(\d+)"', html)
    assert bars == ["26", "25"]


@pytest.mark.parametrize(("changes", "expected", "bar"), [
    # A money goal as money; the share is of the way from baseline to target, for a goal that goes down.
    ({"current": 250000}, "Now €250,000 Target €90,000 27% of the way from the baseline to the target; €160,000 to go.", "27"),
    ({"current": 80000}, "Now €80,000 Target €90,000 Target reached, and passed by €10,000.", "100"),
    ({"current": 90000}, "Now €90,000 Target €90,000 Target reached.", "100"),
    ({"current": 330000}, "Now €330,000 Target €90,000 Further from the target than at the baseline: €240,000 to go.", "0"),
    # Without a baseline there is no way to measure: the distance only, and no bar.
    ({"current": 150000, "baseline": None}, "Now €150,000 Target €90,000 €60,000 from the target.", None),
])
def test_goal_progress_past_the_target_away_from_it_and_without_a_baseline(changes: dict, expected: str, bar: str | None) -> None:
    d = deal("kestrel-freight")
    goals = (*d.goals[:2], d.goals[2].model_copy(update=changes))
    html = pages(d.model_copy(update={"goals": goals}))["value"]
    overtime = goal_sections(html)["overtime"]
    assert expected in overtime
    assert ("measured on" in overtime) is False  # no measured_on given for this goal
    found = re.findall(r'aria-valuenow="(\d+)"', section(html, "overtime"))
    assert found == ([bar] if bar else [])


def test_the_value_page_relates_the_price_to_the_expected_value() -> None:
    html = pages(deal("kestrel-freight"))["value"]
    # €106,780 against €400,000 a year: 3.2 months, said as 4 (never a month early).
    assert text(re.search(r'<div class="dr-payback">.*?</div>', html, flags=re.S).group(0)) == (
        "Expected value €400,000 per year; the proposal (€106,780.00) pays back in 4 months. "
        "From the value per year stated for each goal below, if every target is reached.")


@pytest.mark.parametrize("what", ["no goal value", "no proposal", "a proposal of zero"])
def test_no_payback_without_the_figures(what: str) -> None:
    d = deal("kestrel-freight")
    if what == "no goal value":
        d = d.model_copy(update={"goals": tuple(g.model_copy(update={"value_per_year": None}) for g in d.goals)})
    elif what == "no proposal":
        d = d.model_copy(update={"proposal": None})
    else:
        d = d.model_copy(update={"proposal": d.proposal.model_copy(update={"items": ()})})
    html = pages(d)["value"]
    assert "pays back" not in html and "dr-payback" not in html
    assert ("worth €" in html) == (what == "a proposal of zero")  # a goal's value needs the proposal's currency


def test_payback_in_the_proposals_currency_and_the_deals_language() -> None:
    d = deal("halden-health")
    goals = (d.goals[0].model_copy(update={"value_per_year": 13_440_000}), *d.goals[1:])
    html = pages(d.model_copy(update={"goals": goals}))["value"]
    payback = text(re.search(r'<p class="dr-payback__line">.*?</p>', html, flags=re.S).group(0))
    # Halden's proposal: 1,134,000 + 551,000 + 95,000 = NOK 1,780,000; 1,780,000 * 12 / 13,440,000 = 1.6 months.
    assert payback == "Expected value NOK13,440,000 per year; the proposal (NOK1,780,000.00) pays back in 2 months."
    german = pages(d.model_copy(update={"goals": goals, "deal": d.deal.model_copy(update={"locale": "de"})}))["value"]
    assert "13.440.000 NOK" in text(german) and "1.780.000,00 NOK" in text(german)


# --- agreement ---------------------------------------------------------------------------


def test_the_overview_says_who_agreed_the_plan_and_when() -> None:
    html = pages(deal("kestrel-freight"))["overview"]
    assert '<p class="dr-agreed">Plan agreed by Ilse Verhoeven on <time datetime="2026-11-10">10 Nov</time>.</p>' in html
    assert "dr-agreed" not in pages(deal("kestrel-freight", agreed=None))["overview"]


# --- what changed (git history) ------------------------------------------------------------------


AUTHOR = "Rep Internal-Author"


@pytest.fixture
def history(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> tuple:  # noqa: F811
    """The deal of tests/historyutil.py after its four commits (1, 5, 12 Nov and 2 Dec), read on 5 Dec."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", AUTHOR)
    repo = Repo(tmp_path / "repo")
    three_commits(repo)
    path = repo.root / "deals" / "acme.yml"
    today = dt.date(2026, 12, 5)
    return british(load_deal(path).deal), deal_history(path, today=today), today


def british(the_deal):  # type: ignore[no-untyped-def]
    """The deal in en_GB (dates as "2 Dec"), like the examples."""
    return the_deal.model_copy(update={"deal": the_deal.deal.model_copy(update={"locale": "en_GB"})})


CHANGES = {
    "2 Dec": "2 Dec Kick-off done on 30 Nov. Projected outcome moved from 1 Mar 2027 to 11 Mar 2027 (10 days later).",
    "12 Nov": "12 Nov Pilot <b>on site</b> added.",
    "5 Nov": "5 Nov Security review moved from 18 Jan to 25 Jan (7 days later).",
    "1 Nov": "1 Nov Plan created; outcome projected for 1 Mar 2027.",
}


def test_what_changed_since_the_last_meeting_held(history: tuple) -> None:
    the_deal, found, today = history
    meetings = (Meeting(date=dt.date(2026, 11, 12), title="Plan review"), Meeting(date=dt.date(2026, 12, 9), title="Steering"))
    html = pages(the_deal.model_copy(update={"meetings": meetings}), today, found)["overview"]
    assert what_changed(html) == " ".join([
        "What changed Since the meeting on 12 Nov (Plan review):", CHANGES["2 Dec"], CHANGES["12 Nov"],
        "The plan's full history →"])
    assert '<a href="plan/#history">' in section(html, "what-changed")


def test_what_changed_without_a_meeting_held_lists_the_latest_three(history: tuple) -> None:
    the_deal, found, today = history
    html = pages(the_deal, today, found)["overview"]
    assert what_changed(html) == " ".join([
        "What changed The latest changes to the plan:", CHANGES["2 Dec"], CHANGES["12 Nov"], CHANGES["5 Nov"],
        "The plan's full history →"])


def test_nothing_changed_since_the_last_meeting_says_so(history: tuple) -> None:
    the_deal, found, _ = history
    meetings = (Meeting(date=dt.date(2026, 12, 3), title="Plan review"),)
    html = pages(the_deal.model_copy(update={"meetings": meetings}), dt.date(2026, 12, 5), found)["overview"]
    assert what_changed(html) == (
        "What changed Since the meeting on 3 Dec (Plan review): The plan has not changed since then. The plan's full history →")


def test_the_plan_page_has_the_whole_history_newest_first(history: tuple) -> None:
    the_deal, found, today = history
    assert found.changes[1].author == AUTHOR and "alert(1)" in found.changes[2].subject  # what must not show
    html = pages(the_deal, today, found)["plan"]
    assert text(section(html, "history")) == " ".join([
        "History of the plan Every change to the steps, their dates and owners, and how the projected outcome moved, "
        "newest first.", *CHANGES.values()])
    # A step's title is deal text; commit subjects (one holds a script) and authors are never shown.
    assert "<strong>Pilot &lt;b&gt;on site&lt;/b&gt;</strong> added." in html
    for page in pages(the_deal, today, found).values():
        assert "alert(1)" not in page and "Internal" not in page and "kick-off call" not in page.lower()
        assert found.changes[0].commit[:7] not in page


def test_owner_and_target_changes_and_a_reopened_step(tmp_path: Path, git_env: None) -> None:  # noqa: F811
    from historyutil import DEAL

    repo = Repo(tmp_path / "repo")
    repo.commit("deals/acme.yml", DEAL, "start", "2026-11-01T10:00:00+01:00")
    done = DEAL.replace("due: 2026-11-20}", "due: 2026-11-20, status: done, done_on: 2026-11-20}")
    repo.commit("deals/acme.yml", done, "done", "2026-11-20T10:00:00+01:00")
    later = (DEAL.replace("target_date: 2027-03-01", "target_date: 2027-03-15")
             .replace("owner: mia, due: 2027-01-18", "owner: [mia, sam], due: 2027-01-18"))
    repo.commit("deals/acme.yml", later, "reopen, share, move", "2026-11-24T10:00:00+01:00")
    path = repo.root / "deals" / "acme.yml"
    today = dt.date(2026, 11, 25)
    html = pages(british(load_deal(path).deal), today, deal_history(path, today=today))["plan"]
    assert text(section(html, "history")).split(" newest first. ")[1] == " ".join([
        "24 Nov Kick-off reopened. Security review: owner Mia Berg → Mia Berg & Sam Hale. "
        "Target date moved from 1 Mar 2027 to 15 Mar 2027 (14 days later). "
        # The kick-off, open again, is 4 days late on 24 Nov: the outcome moves 4 days more than the target.
        "Projected outcome moved from 1 Mar 2027 to 19 Mar 2027 (18 days later).",
        "20 Nov Kick-off done on 20 Nov.",
        "1 Nov Plan created; outcome projected for 1 Mar 2027.",
    ])


def test_history_dates_follow_the_deals_language(history: tuple) -> None:
    the_deal, found, today = history
    german = the_deal.model_copy(update={"deal": the_deal.deal.model_copy(update={"locale": "de"})})
    html = pages(german, today, found)["plan"]
    assert '<time datetime="2027-01-18">18. Jan.</time>' in html and '<time datetime="2027-03-11">11.03.2027</time>' in html


def test_no_history_no_section_and_the_same_deal_outside_git_builds_without_one(history: tuple, tmp_path: Path) -> None:
    the_deal, found, today = history
    for given in (None, History()):
        got = pages(the_deal, today, given)
        assert 'id="what-changed"' not in got["overview"] and 'id="history"' not in got["plan"]
        assert "What changed" not in got["overview"] and "History of the plan" not in got["plan"]
    outside = tmp_path / "outside" / "acme.yml"
    outside.parent.mkdir()
    outside.write_text((tmp_path / "repo" / "deals" / "acme.yml").read_text(encoding="utf-8"), encoding="utf-8")
    assert deal_history(outside, today=today) == History()


def test_a_plan_changed_after_the_agreement_says_so(history: tuple) -> None:
    the_deal, found, today = history
    agreed = the_deal.model_copy(update={"agreed": Agreement(by="mia", on=dt.date(2026, 11, 10))})
    html = pages(agreed, today, found)["overview"]
    line = re.search(r'<p class="dr-agreed[^"]*">.*?</p>', html, flags=re.S).group(0)
    assert text(line) == "Plan agreed by Mia Berg on 10 Nov. Changed since, last on 2 Dec."
    assert '<a href="#what-changed">' in line and "dr-agreed--changed" in line
    # Agreed after the last change: no "changed since"; without a history, just the agreement.
    for on, given in ((dt.date(2026, 12, 2), found), (dt.date(2026, 11, 10), None)):
        again = the_deal.model_copy(update={"agreed": Agreement(by="mia", on=on)})
        line = re.search(r'<p class="dr-agreed">.*?</p>', pages(again, today, given)["overview"], flags=re.S).group(0)
        assert "Changed since" not in line


def test_the_plans_last_change_comes_from_the_history(history: tuple) -> None:
    the_deal, found, today = history
    html = pages(the_deal, today, found)["overview"]
    assert "The plan last changed on <time datetime=\"2026-12-02\">2 Dec 2026</time>." in html


# --- the plan page is true on the day it is opened ------------------------------------------------


def test_the_plan_page_carries_the_hooks_the_script_recomputes() -> None:
    html = pages(deal("kestrel-freight"))["plan"]
    assert re.search(r'<script type="application/json" data-dr-live>', html)
    late = plan_row(html, "security-review")  # 9 days late on TODAY
    assert 'data-dr-step="security-review" data-dr-late-class="dr-step-row--overdue"' in late
    assert visible(cell(late, "Status")) == "In progress · 9 days late"
    assert '<span data-dr-late-days="security-review">9 days</span>' in late
    # Open and not late yet: the flag is there for a later day, hidden; the projected date shown (it slipped).
    later = plan_row(html, "business-case")
    assert re.search(r'<small class="dr-text--late dr-late" data-dr-late data-dr-step="business-case" data-dr-show-if-overdue hidden>', later)
    assert visible(cell(later, "Status")) == "Not started"
    assert visible(cell(later, "Due")) == "11 Dec 2026 projected 20 Dec 2026"
    assert 'data-dr-if-slipped="business-case"' in later and 'data-dr-projected="business-case"' in later
    # Done steps have neither: their lateness is fixed.
    done = plan_row(html, "pilot-scope")
    assert "data-dr-show-if-overdue" not in done and "data-dr-if-slipped" not in done
    on_time = plan_row(pages(deal("halden-health"))["plan"], "budget")
    assert re.search(r'data-dr-if-slipped="budget" hidden>', on_time) and visible(cell(on_time, "Due")) == "16 Dec 2026"


def test_the_plan_pages_live_block_carries_no_titles_and_only_the_words_it_needs() -> None:
    import json

    got = pages(deal("kestrel-freight"))
    live = {name: json.loads(re.search(r"<script type=\"application/json\" data-dr-live>(.*?)</script>", got[name], flags=re.S).group(1))
            for name in ("overview", "plan")}
    # The plan page's hooks need no sentence naming a step; a smaller page keeps within the plan page's padding floor.
    assert [sorted(s) for s in live["plan"]["deal"]["steps"]][0] == ["after", "done_on", "id", "planned", "status"]
    assert sorted(live["plan"]["text"]) == ["days", "late", "status"]
    assert live["overview"]["deal"]["steps"][2]["title"] == "Security questionnaire returned"
    assert {k: v for k, v in live["overview"]["deal"].items() if k != "steps"} == {
        k: v for k, v in live["plan"]["deal"].items() if k != "steps"}
