"""Rendering: the five page bodies of a deal, as normalised HTML snapshots.

Snapshots live in tests/snapshots/; regenerate with `pytest --update-golden`
and review the diff like code.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2
import pytest

from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import PAGES, Dedent, make_env, render_pages
from dealrooms_plugin.view import build_view, validity

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots"
TODAY = dt.date(2026, 11, 22)


def normalise(html: str) -> str:
    """One tag or text run per line, whitespace collapsed: diffs stay readable."""
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r">\s*<", ">\n<", html)
    return "\n".join(line.strip() for line in html.splitlines() if line.strip()) + "\n"


def rendered(slug: str, today: dt.date = TODAY) -> dict[str, str]:
    loaded = load_deal(ROOT / "dealrooms" / f"{slug}.yml")
    view = build_view(slug, loaded.deal, schedule(loaded.deal, today), logo="assets/logo.svg")
    return {page.spec.name: page.html for page in render_pages(view, make_env(), calendar_file="calendar.ics")}


@pytest.mark.parametrize("slug", ["kestrel-freight", "halden-health", "marlow-vine"])
@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_page_snapshot(slug: str, page: str, golden) -> None:
    golden(SNAPSHOTS / slug / f"{page}.html", normalise(rendered(slug)[page]))


def test_expired_proposal_says_expired() -> None:
    pages = rendered("marlow-vine")
    assert "Expired on" in pages["proposal"]
    assert "Expired on" in pages["overview"]
    assert "has expired" in pages["proposal"]


def test_proposal_close_to_expiry_says_days_left() -> None:
    pages = rendered("kestrel-freight", today=dt.date(2026, 12, 12))
    assert "Expires in 7 days" in pages["proposal"]
    assert "Expires today" in rendered("kestrel-freight", today=dt.date(2026, 12, 19))["proposal"]


@pytest.mark.parametrize(
    ("days", "state"),
    [(-1, "expired"), (0, "expires_today"), (1, "expiring"), (14, "expiring"), (15, "valid")],
)
def test_validity_states(days: int, state: str) -> None:
    assert validity(TODAY + dt.timedelta(days=days), TODAY).state == state
    assert validity(None, TODAY).state == "none"


def test_every_fact_of_the_deal_is_shown() -> None:
    loaded = load_deal(ROOT / "dealrooms" / "halden-health.yml")
    html = "".join(rendered("halden-health").values())
    deal = loaded.deal
    for m in deal.milestones:
        assert m.title in html
    for p in deal.people:
        assert p.name in html and (p.email is None or f"mailto:{p.email}" in html)
    for g in deal.goals:
        assert g.metric in html
    for item in deal.proposal.items:
        assert item.name in html
    assert "Implementation partner" in html  # roles humanised
    assert "Nordlicht Consulting" in html  # the partner side has its company


def test_overdue_items_are_flagged_with_days_late() -> None:
    pages = rendered("kestrel-freight")
    assert "9 days late" in pages["overview"]
    assert "dr-step--late" in pages["overview"]


def test_text_is_escaped() -> None:
    loaded = load_deal(ROOT / "dealrooms" / "marlow-vine.yml")
    view = build_view("marlow-vine", loaded.deal, schedule(loaded.deal, TODAY))
    html = render_pages(view, make_env())[0].html
    assert "Marlow &amp; Vine" in html and "Marlow & Vine" not in html


def test_templates_are_overridable(tmp_path: Path) -> None:
    (tmp_path / "dealrooms").mkdir()
    (tmp_path / "dealrooms" / "people.html").write_text("<p>Custom people page for {{ d.deal.deal.buyer.name }}</p>")
    loaded = load_deal(ROOT / "dealrooms" / "kestrel-freight.yml")
    view = build_view("kestrel-freight", loaded.deal, schedule(loaded.deal, TODAY))
    pages = {p.spec.name: p.html for p in render_pages(view, make_env([tmp_path]))}
    assert pages["people"] == "<p>Custom people page for Kestrel Freight</p>"
    assert "Mutual action plan" in pages["plan"]


def test_templates_compile_without_their_indentation_but_pre_and_values_keep_theirs() -> None:
    env = jinja2.Environment(extensions=[Dedent])
    source = "<ul>\n    <li>{{ x }}</li>\n</ul>\n  <PRE class=a>\n    kept\n</pre >\n\t<p>\n      a</p>"
    assert env.from_string(source).render(x="  value\n  two") == (
        "<ul>\n<li>  value\n  two</li>\n</ul>\n<PRE class=a>\n    kept\n</pre >\n<p>\na</p>")
