"""Pages of the site root: the public placeholder, the rep's index, error pages."""

from __future__ import annotations

import datetime as dt
from html import escape

import jinja2
from mkdocs.config.defaults import MkDocsConfig

from ..catalog import Catalog
from ..errors import Problem
from ..plan import Thresholds, schedule
from ..render import PAGES, PageSpec, RenderedPage, html_to_text
from ..view import HEALTH_LABELS, validity
from .shell import Chrome, render_shell

PUBLIC_INDEX = """\
---
search:
  exclude: true
hide: [navigation, toc]
---
# Private deal rooms

This site hosts private deal rooms. Open the link you received from your contact;
it leads straight to your deal room.
"""


def public_index() -> str:
    """The root page of a built site: says nothing about any deal."""
    return PUBLIC_INDEX


RowCache = dict[str, tuple[tuple[str, dt.date, Thresholds], str]]


def rep_index(catalog: Catalog, today: dt.date, thresholds: Thresholds, cache: RowCache | None = None) -> str:
    """The rep's index of every deal (an HTML body), shown only under ``mkdocs serve``.

    ``cache`` keeps each deal's row by its input digest, so an edit recomputes
    one row, not one per deal.
    """
    cache = {} if cache is None else cache
    rows = []
    for slug, loaded in catalog.deals.items():
        key = (loaded.digest, today, thresholds)
        cached = cache.get(slug)
        if cached and cached[0] == key:
            rows.append(cached[1])
            continue
        deal = loaded.deal
        plan = schedule(deal, today, thresholds)
        valid = validity(deal.proposal.valid_until if deal.proposal else None, today)
        proposal = {"none": "—", "expired": "expired", "expires_today": "expires today"}.get(
            valid.state, f"{valid.days_left} days"
        )
        row = (
            f"<tr><td><a href='{slug}/'><strong>{escape(deal.deal.buyer.name)}</strong></a><br><small>{escape(slug)}</small></td>"
            f"<td>{escape((deal.deal.stage or '').replace('_', ' '))}</td><td>{deal.deal.target_date}</td>"
            f"<td>{plan.projected_date}</td><td>{plan.slip_days:+d}</td><td>{len(plan.overdue)}</td>"
            f"<td>{proposal}</td><td><span class='dr-health dr-health--{plan.health}'>{HEALTH_LABELS[plan.health]}</span></td></tr>"
        )
        cache[slug] = (key, row)
        rows.append(row)
    problems = "".join(
        f"<li><a href='{slug}/'>{escape(slug)}</a><pre>{escape(chr(10).join(str(p) for p in ps))}</pre></li>"
        for slug, ps in catalog.problems.items()
    )
    table = (
        "<div class='dr-table-wrap'><table class='dr-table dr-index'><thead><tr><th>Deal</th><th>Stage</th><th>Target</th>"
        "<th>Projected</th><th>Slip</th><th>Overdue</th><th>Proposal</th><th>Health</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return (
        "<h1>Deal rooms <small>(preview)</small></h1>"
        f"<p class='dr-lead'>{len(rows)} deal(s) as of {today.isoformat()}. This index exists only under "
        "<code>mkdocs serve</code>; a built site has no list of deals.</p>"
        + (f"<div class='admonition danger dr-error'><p class='admonition-title'>Deals with problems</p><ul>{problems}</ul></div>" if problems else "")
        + table
    )


def error_pages(env: jinja2.Environment, config: MkDocsConfig, slug: str, problems: list[Problem]) -> dict[str, bytes]:
    """Under ``mkdocs serve``: every page of an invalid deal shows its problems."""
    items = "".join(f"<li><code>{escape(str(p))}</code></li>" for p in problems)
    body = (
        "<h1>This deal has problems</h1>"
        f"<div class='admonition danger dr-error'><p class='admonition-title'>{len(problems)} problem(s) — "
        "fix them and save; this page reloads by itself</p>"
        f"<ul>{items}</ul></div><p>Run <code>dealrooms check</code> to see the same list in a terminal.</p>"
    )
    spec = PageSpec("overview", "Problems", "", "alert")
    chrome = Chrome(slug=slug, site_name=slug, seller="", logo_file=None, generated_on="")
    out = render_shell(env, config, chrome, [RenderedPage(spec, body, html_to_text(body))], {})
    page = out["index.html"]
    return {"index.html": page, **{f"{p.path}index.html": page for p in PAGES if p.path}}
