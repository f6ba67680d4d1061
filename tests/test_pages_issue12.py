"""The buyer's pages (issue 12): the plan by date, one date family, the Value page's
points and money, no repeated role, the proposal's Accept / Ask links, a header
that is a deal room's (co-branded, no search)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from buildutil import build_site, copy_examples
from dealrooms_plugin import pageview
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import make_env, render_pages
from dealrooms_plugin.view import build_view

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 22)


def deal(slug: str, **changes):
    loaded = load_deal(ROOT / "dealrooms" / f"{slug}.yml").deal
    return loaded.model_copy(update=changes) if changes else loaded


def pages(the_deal, slug: str = "deal", today: dt.date = TODAY) -> dict[str, str]:
    view = build_view(slug, the_deal, schedule(the_deal, today))
    return {p.spec.name: p.html for p in render_pages(view, make_env(), calendar_file="calendar.ics")}


def text(html: str) -> str:
    """The words a reader sees: scripts' data and tags dropped, entities decoded, spaces collapsed."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def plan_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="dr-step-row[^"]*"[^>]*>.*?</tr>', html, flags=re.S)


# --- the plan -------------------------------------------------------------------------


def test_the_plan_lists_every_step_once_in_date_order_across_sides() -> None:
    d = deal("kestrel-freight")
    rows = plan_rows(pages(d)["plan"])
    dues = [re.search(r'data-dr-due="([\d-]+)"', row).group(1) for row in rows]
    assert len(rows) == len(d.milestones)
    assert dues == sorted(dues)
    titles = [re.search(r"<strong>(.*?)</strong>", row).group(1) for row in rows]
    # A seller step (6 Oct) comes before the buyer's (20 Oct): one order, not one table per side.
    assert titles[:3] == ["Discovery workshop with depot planners", "Pilot scope agreed (3 depots)",
                          "Security questionnaire returned"]


def test_each_step_shows_its_side_and_both_its_status_and_its_lateness() -> None:
    html = pages(deal("kestrel-freight"))["plan"]
    rows = {re.search(r"<strong>(.*?)</strong>", row).group(1): row for row in plan_rows(html)}
    late = rows["Security questionnaire returned"]  # in progress, due 13 Nov, 9 days before TODAY
    assert 'data-dr-status="in_progress"' in late and 'data-dr-due="2026-11-13"' in late
    status_cell = re.search(r'<td data-label="Status">(.*?)</td>', late, flags=re.S).group(1)
    assert text(status_cell) == "In progress · 9 days late"
    assert text(re.search(r'<td data-label="Owner">(.*?)</td>', late, flags=re.S).group(1)).endswith("Buyer")
    seller_row = rows["TMS integration live in test"]
    assert text(re.search(r'<td data-label="Owner">(.*?)</td>', seller_row, flags=re.S).group(1)) == "Orbisoft Seller"
    # The late flag is a word in the status cell: no marker drawn over the title's cell.
    assert "dr-tr--late" not in html
    assert text(re.search(r'<td data-label="Step">(.*?)</td>', late, flags=re.S).group(1)).startswith("Security")


def test_the_plan_is_grouped_by_month_with_headings_in_the_deals_language() -> None:
    html = pages(deal("kestrel-freight"))["plan"]
    months = re.findall(r'<th colspan="5" scope="rowgroup" id="month-([\d-]+)">(.*?)</th>', html)
    assert months == [("2026-10", "October 2026"), ("2026-11", "November 2026"), ("2026-12", "December 2026"),
                      ("2027-01", "January 2027"), ("2027-02", "February 2027")]
    german = pages(deal("kestrel-freight", deal=deal("kestrel-freight").deal.model_copy(update={"locale": "de"})))
    assert "Oktober 2026" in german["plan"]


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["plan", "value", "proposal"])
@pytest.mark.parametrize("slug", ["kestrel-freight", "halden-health"])  # en_GB deals
def test_a_page_writes_every_date_in_one_family(slug: str, page: str) -> None:
    words = text(pages(deal(slug), slug)[page])
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", words), "an ISO date in the page text"
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", words), "a numeric date in the page text"
    # en_GB writes the day first ("15 Feb 2027", "20 Nov"); "Feb 15, 2027" is the US family.
    assert not re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\w* \d{1,2}\b", words)


# --- value ---------------------------------------------------------------------------------


def goal_section(html: str, goal_id: str) -> str:
    return re.search(rf'<section class="dr-goal[^"]*">\s*<h2 id="{goal_id}">.*?</section>', html, flags=re.S).group(0)


def test_a_percentage_goal_changes_by_percentage_points_never_by_a_relative_percent() -> None:
    on_time = goal_section(pages(deal("kestrel-freight"))["value"], "on-time")  # 91 % -> 97 %
    words = text(on_time)
    # The example has a current value (issue 13): baseline, now and target, then the change in points.
    assert words.startswith("On-time delivery rate Baseline 91% Now 92.5% measured on 13 Nov 2026 Target 97% "
                            "25% of the way from the baseline to the target; 4.5 percentage points to go. "
                            "+6 percentage points by 30 Sept 2027")
    assert "6.6" not in words
    assert "line-through" not in on_time and "dr-goal__from" not in on_time


def test_a_goal_in_a_currency_is_money_and_other_goals_keep_their_unit() -> None:
    html = pages(deal("kestrel-freight"))["value"]
    assert text(goal_section(html, "overtime")).startswith("Planner overtime cost per year €310,000 → €90,000 -71% by 31 Dec 2027")
    hours = text(goal_section(html, "hours"))  # with a current value (issue 13): baseline, now, target
    assert hours.startswith("Manual planning hours per month Baseline 1,180 hours Now 960 hours measured on 13 Nov 2026 "
                            "Target 350 hours") and "-70.3% by 30 Jun 2027" in hours
    german = pages(deal("kestrel-freight", deal=deal("kestrel-freight").deal.model_copy(update={"locale": "de"})))
    assert "310.000 € → 90.000 €" in text(goal_section(german["value"], "overtime"))
    assert [unescape(v).replace("\xa0", " ") for v in re.findall(r"<dd>(.*?)</dd>", goal_section(german["value"], "on-time"))] == [
        "91 %", "92,5 %", "97 %"]


@pytest.mark.parametrize(
    ("unit", "kind"),
    [("%", "percent"), ("percent", "percent"), ("EUR", "money"), ("USD", "money"), ("MNOK", "quantity"),
     ("hours", "quantity"), ("eur", "quantity"), ("ABC", "quantity"), (None, "quantity")],
)
def test_a_goals_kind_comes_from_its_unit(unit: str | None, kind: str) -> None:
    goal = deal("kestrel-freight").goals[0].model_copy(update={"unit": unit})
    assert pageview.goal_kind(goal) == kind


def test_half_a_point_is_plural_and_exact() -> None:
    goal = deal("kestrel-freight").goals[1].model_copy(update={"baseline": 91.5, "target": 92.0})
    figures = pageview.goal_figures(goal)
    assert (str(figures.points), figures.points_count) == ("0.5", 2)


# --- people -----------------------------------------------------------------------------------


def test_a_role_that_repeats_the_title_is_not_shown_again() -> None:
    html = pages(deal("kestrel-freight"))["people"]
    amara = re.search(r"<strong>Amara Okafor</strong>.*?</li>", html, flags=re.S).group(0)
    assert text(amara).lower().count("account executive") == 1
    dov = re.search(r"<strong>Dov Abramson</strong>.*?</li>", html, flags=re.S).group(0)
    assert text(dov).startswith("Dov Abramson CFO Economic buyer")


# --- the proposal ---------------------------------------------------------------------------------


def link(html: str, cls: str) -> tuple[str, dict[str, list[str]]]:
    href = unescape(re.search(rf'class="[^"]*{cls}[^"]*" href="([^"]*)"', html).group(1))
    parts = urlsplit(href)
    return f"{parts.scheme}:{unquote(parts.path)}", parse_qs(parts.query)


def test_accept_and_ask_are_mail_links_to_the_sellers_account_executive() -> None:
    html = pages(deal("kestrel-freight"))["proposal"]
    to, query = link(html, "dr-action--accept")
    assert to == "mailto:amara@orbisoft.example"
    assert query["subject"] == ["We accept the proposal: Kestrel Freight × Orbisoft — route planning rollout"]
    assert query["body"][0].startswith("Hello Amara,\r\n\r\nWe accept your proposal for Kestrel Freight × Orbisoft")
    assert "(total €106,780.00)" in query["body"][0]
    to, query = link(html, "dr-action--ask")
    assert to == "mailto:amara@orbisoft.example"
    assert query["subject"] == ["Question about the proposal: Kestrel Freight × Orbisoft — route planning rollout"]
    assert ">Accept</a>" in html and ">Ask a question</a>" in html


def test_deal_text_in_a_mail_link_is_encoded_and_never_leaves_the_attribute() -> None:
    d = deal("marlow-vine")
    title = 'Marlow & Vine "><img src=x onerror=alert(1)> ?cc=spy@evil.example&bcc=x#y'
    html = pages(d.model_copy(update={"deal": d.deal.model_copy(update={"title": title})}))["proposal"]
    href = re.search(r'class="[^"]*dr-action--ask[^"]*" href="([^"]*)"', html).group(1)
    assert re.fullmatch(r"mailto:[\w.@-]+\?subject=[A-Za-z0-9%._~-]+&amp;body=[A-Za-z0-9%._~-]+", href), href
    _, query = link(html, "dr-action--ask")
    assert query["subject"] == [f"Question about the proposal: {title}"]  # as written: never &amp;
    assert set(query) == {"subject", "body"}
    assert "<img" not in html


def test_the_contact_is_the_account_executive_else_the_first_seller_with_an_email() -> None:
    d = deal("kestrel-freight")
    assert pageview.seller_contact(d).id == "amara"
    roles = {"amara": "solutions_engineer", "hana": "Account Executive"}  # not the first seller, written as a title
    people = tuple(p.model_copy(update={"role": roles.get(p.id, p.role)}) for p in d.people)
    assert pageview.seller_contact(d.model_copy(update={"people": people})).id == "hana"
    people = tuple(p.model_copy(update={"role": None}) for p in d.people)
    assert pageview.seller_contact(d.model_copy(update={"people": people})).id == "amara"  # the first seller with an e-mail
    people = tuple(p.model_copy(update={"email": None}) if p.side == "seller" else p for p in d.people)
    html = pages(d.model_copy(update={"people": people}))["proposal"]
    assert "dr-action--accept" not in html and "mailto:" not in html


def test_the_proposal_names_the_parties_its_date_and_validity() -> None:
    html = pages(deal("kestrel-freight"))["proposal"]
    offer = text(re.search(r'<div class="dr-offer">.*?</div>', html, flags=re.S).group(0))
    assert offer == ("From Orbisoft Amara Okafor, Account Executive · amara@orbisoft.example "
                     "For Kestrel Freight Kestrel Freight × Orbisoft — route planning rollout "
                     "As of 22 Nov 2026 Valid until 19 Dec 2026")


def test_mailto_encodes_every_part() -> None:
    assert pageview.mailto("a@b.example", "A & B?", "x\ny") == "mailto:a@b.example?subject=A%20%26%20B%3F&body=x%0D%0Ay"
    assert pageview.mailto('a"?cc=c@d.e', "") == "mailto:a%22%3Fcc%3Dc@d.e"


# --- the header: co-branded, no search ------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    copy_examples(project)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALROOMS_TODAY", "2026-11-22")
        mp.chdir(project)
        return build_site(project)


@pytest.mark.parametrize("path", ["", "plan/", "people/", "value/", "proposal/"])
def test_the_header_names_both_companies_and_offers_no_search(site: Path, path: str) -> None:
    html = (site / "kestrel-freight" / path / "index.html").read_text(encoding="utf-8")
    header = re.search(r'<header class="md-header.*?</header>', html, flags=re.S).group(0)
    assert re.search(r'<img src="[./]*assets/logo\.svg" alt="Kestrel Freight">', header)  # the buyer's logo, named
    assert text(re.search(r'<div class="dr-cobrand">.*?</div>', header, flags=re.S).group(0)) == "Shared by Orbisoft"
    assert 'name="search"' not in html and 'for="__search"' not in html
    assert "<svg" not in re.search(r'class="md-header__button md-logo".*?</a>', header, flags=re.S).group(0)
