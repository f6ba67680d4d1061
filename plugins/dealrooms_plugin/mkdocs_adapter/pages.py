"""Pages of the site root: the public placeholder, the rep's index, error pages."""

from __future__ import annotations

import datetime as dt
from html import escape

import jinja2
from markupsafe import Markup
from mkdocs.config.defaults import MkDocsConfig

from ..build import Pipeline
from ..checks import deal_findings
from ..errors import Problem
from ..load import dotted
from ..outcache import Row
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


def rep_index(
    env: jinja2.Environment,
    pipeline: Pipeline,
    today: dt.date,
    thresholds: Thresholds,
    stages: tuple[Stage, ...],
) -> str:
    """The rep's index of every deal (an HTML body), shown only under ``mkdocs serve``.

    Call it after :meth:`Pipeline.publish`: each deal's row (its HTML and
    sort key) is kept with the deal's output, under its render key, so a save
    recomputes one row, a preview started from kept output computes none, and
    the rest is a sort and a join.
    """
    row_template = env.get_template("dealrooms/rep_index_row.html")
    catalog = pipeline.catalog
    rows: list[Row] = []
    fresh: dict[str, Row] = {}
    for slug, entry in catalog.entries.items():
        if entry.deal is None:
            continue
        row = pipeline.kept_row(slug)
        if row is None:
            status = status_row(slug, entry.deal.deal, today, thresholds, stages)
            # The rep's own page: the plan warnings `dealrooms check` gives (by field; check gives the lines),
            # never shown to buyers. Not located here: that reads the file again, for every deal of a first preview.
            findings = deal_findings(entry.deal, today, thresholds, project_dir=pipeline.project_dir)
            warnings = [f"{dotted(f.loc)}: {f.message} (hint: {f.hint})" for f in findings]
            row = fresh[slug] = (status.sort_key(), row_template.render(row=status, warnings=warnings))
        rows.append(row)
    if fresh:
        pipeline.keep_rows(fresh)
    rows.sort(key=lambda row: row[0])
    invalid = [StatusRow(slug, False, problems=tuple(str(p) for p in ps)) for slug, ps in catalog.problems.items()]
    return env.get_template("dealrooms/rep_index.html").render(
        count=len(rows) + len(invalid),
        invalid=invalid,
        rows_html=Markup("".join(html for _, html in rows)),  # rendered by the autoescaping row template
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
    out = render_shell(env, config, chrome, [RenderedPage(spec, spec.title, body)], preview=True)
    page = out["index.html"]
    return {"index.html": page, **{f"{p.path}index.html": page for p in PAGES if p.path}}
