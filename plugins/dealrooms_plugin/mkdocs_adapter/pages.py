"""Pages of the site root: the public placeholder, the rep's index, error pages."""

from __future__ import annotations

import datetime as dt
from html import escape

import jinja2
from markupsafe import Markup
from mkdocs.config.defaults import MkDocsConfig

from ..catalog import Catalog
from ..errors import Problem
from ..plan import Stage, Thresholds
from ..render import PAGES, PageSpec, RenderedPage
from ..status import StatusRow, status_row
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


RowCache = dict[str, tuple[tuple[object, ...], tuple[object, ...], Markup]]  # slug -> (key, sort key, row HTML)


def rep_index(
    env: jinja2.Environment,
    catalog: Catalog,
    today: dt.date,
    thresholds: Thresholds,
    stages: tuple[Stage, ...],
    cache: RowCache | None = None,
) -> str:
    """The rep's index of every deal (an HTML body), shown only under ``mkdocs serve``.

    ``cache`` keeps each deal's row HTML and sort key by the deal's input
    digest: a save recomputes one row, and the rest is a sort and a join.
    """
    cache = {} if cache is None else cache
    row_template = env.get_template("dealrooms/rep_index_row.html")
    context = (today, thresholds, stages)
    entries = []
    for slug, entry in catalog.entries.items():
        if entry.deal is None:
            continue
        key = (entry.deal.digest, context)
        cached = cache.get(slug)
        if not (cached and cached[0] == key):
            row = status_row(slug, entry.deal.deal, today, thresholds, stages)
            cached = cache[slug] = (key, row.sort_key(), Markup(row_template.render(row=row)))
        entries.append(cached)
    for slug in set(cache) - set(catalog.entries):
        del cache[slug]
    entries.sort(key=lambda cached: cached[1])
    invalid = [StatusRow(slug, False, problems=tuple(str(p) for p in ps)) for slug, ps in catalog.problems.items()]
    return env.get_template("dealrooms/rep_index.html").render(
        count=len(entries) + len(invalid),
        invalid=invalid,
        rows_html=Markup("".join(cached[2] for cached in entries)),
        today=today,
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
    out = render_shell(env, config, chrome, [RenderedPage(spec, body)], {}, preview=True)
    page = out["index.html"]
    return {"index.html": page, **{f"{p.path}index.html": page for p in PAGES if p.path}}
