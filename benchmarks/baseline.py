"""The baseline: the same deals as hand-written MkDocs Material sites.

What a team without Dealrooms would do: one small MkDocs project per deal,
five Markdown pages each (overview, plan table, people, value, proposal),
the same theme settings as the Dealrooms project, built one after the other
in one Python process through the MkDocs API (``load_config`` + ``build``).

Writing the Markdown is not timed (the sites are "hand-written", they exist
before the build); only the builds are. Run as a worker::

    python -m benchmarks.baseline SITES_FOLDER      # prints one JSON line
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path

import yaml

TODAY = dt.date(2026, 11, 22)  # the generator's "today"; DEALROOMS_TODAY pins the same date for Dealrooms
SIDES = ("buyer", "seller", "partner")


def _date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _long(value: str | dt.date) -> str:
    d = _date(value)
    return f"{d:%b} {d.day}, {d.year}"


def _money(amount: float, currency: str) -> str:
    sign = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")
    return f"{sign}{amount:,.2f}"


def _human(text: str) -> str:
    return text.replace("_", " ").capitalize()


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def deal_pages(doc: dict, today: dt.date = TODAY) -> dict[str, str]:
    """Five Markdown pages for one deal, as a rep would write them by hand."""
    deal, people, milestones = doc["deal"], doc["people"], doc["milestones"]
    goals, proposal = doc.get("goals", []), doc.get("proposal")
    names = {p["id"]: p["name"] for p in people}
    buyer, seller = deal["buyer"]["name"], deal["seller"]["name"]
    owner = lambda m: names.get(m["owner"], {"buyer": buyer, "seller": seller}.get(m["owner"], m["owner"]))  # noqa: E731
    target = _date(deal["target_date"])
    done = [m for m in milestones if m.get("status") == "done"]
    open_ = [m for m in milestones if m.get("status") != "done"]
    overdue = [m for m in open_ if _date(m["due"]) < today]
    total = sum(i["quantity"] * i["unit_price"] * (1 - i.get("discount_percent", 0) / 100) for i in proposal["items"]) if proposal else 0
    currency = proposal.get("currency", "EUR") if proposal else "EUR"

    overview = [f"# {deal['title']}", "", f"*Mutual action plan · {buyer} & {seller}*", ""]
    if overdue:
        worst = max(overdue, key=lambda m: (today - _date(m["due"])).days)
        overview += ["!!! warning \"The target date is at risk\"",
                     f"    {worst['title']} is {(today - _date(worst['due'])).days} days late.", ""]
    overview += [f"**Stage:** {_human(deal.get('stage', ''))} · **Target:** {_long(target)}", "",
                 "| Days to target | Progress | Overdue | Proposal |", "| --- | --- | --- | --- |",
                 f"| {(target - today).days} ({_long(target)}) | {len(done)}/{len(milestones)} | {len(overdue)} | "
                 f"{_money(total, currency)}" + (f" (valid until {_long(proposal['valid_until'])})" if proposal else "") + " |",
                 "", "## Next steps", ""]
    for m in sorted(open_, key=lambda m: m["due"])[:3]:
        late = (today - _date(m["due"])).days
        overview.append(f"- **{_long(m['due'])}** {m['title']} — {owner(m)}" + (f" *({late} days late)*" if late > 0 else ""))
    overview += ["", "[See the whole plan →](plan.md)", "", "## Why", "", deal.get("summary", "").strip(), ""]

    plan = ["# Plan", "", f"{len(milestones)} steps to {_long(target)}, {len(done)} done.", "",
            "| # | Milestone | Owner | Due | Status | After |", "| --- | --- | --- | --- | --- | --- |"]
    for i, m in enumerate(milestones, 1):
        status = _human(m.get("status", "not_started"))
        if m.get("done_on"):
            status += f" ({_long(m['done_on'])})"
        elif m.get("status") != "done" and _date(m["due"]) < today:
            status += f" — **{(today - _date(m['due'])).days} days late**"
        plan.append(f"| {i} | {_cell(m['title'])} | {_cell(owner(m))} | {_long(m['due'])} | {status} | "
                    f"{', '.join(m.get('after', [])) or '—'} |")
    plan.append("")

    team = ["# People", "", "Who is involved on each side, and how to reach them.", ""]
    for side in SIDES:
        members = [p for p in people if p["side"] == side]
        if not members:
            continue
        firm = {"buyer": buyer, "seller": seller}.get(side) or " & ".join(sorted({p.get("company", "Partner") for p in members}))
        team += [f"## {firm} ({side})", "", "| Name | Title | Role | Email |", "| --- | --- | --- | --- |"]
        team += [f"| {p['name']} | {p.get('title', '')} | {_human(p.get('role', ''))} | <{p['email']}> |" for p in members]
        team.append("")

    value = ["# Value", "", f"The results {buyer} expects, measured against today's baseline.", "",
             "| Metric | Baseline → target | Change | By |", "| --- | --- | --- | --- |"]
    for g in goals:
        base = g.get("baseline")
        change = f"{(g['target'] - base) / base * 100:+.1f} %" if base else "—"
        value.append(f"| {_cell(g['metric'])} | {base} → {g['target']} {g.get('unit', '')} | {change} | "
                     f"{_long(g['by']) if g.get('by') else '—'} |")
    value.append("")

    offer = ["# Proposal", ""]
    if proposal:
        offer += [f"!!! info \"Valid until {_long(proposal['valid_until'])}\"",
                  "    The prices and conditions below are guaranteed until this date.", "",
                  "| Item | Quantity | Unit price | Total |", "| --- | ---: | ---: | ---: |"]
        for item in proposal["items"]:
            line = item["quantity"] * item["unit_price"] * (1 - item.get("discount_percent", 0) / 100)
            offer.append(f"| {_cell(item['name'])} | {item['quantity']} | {_money(item['unit_price'], currency)} | "
                         f"{_money(line, currency)} |")
        offer += [f"| **Total** | | | **{_money(total, currency)}** |", "", proposal.get("terms", ""), ""]
    else:
        offer += ["No proposal yet.", ""]
    return {"index.md": "\n".join(overview), "plan.md": "\n".join(plan), "people.md": "\n".join(team),
            "value.md": "\n".join(value), "proposal.md": "\n".join(offer)}


def site_config(doc: dict) -> dict:
    """mkdocs.yml of one hand-written deal site: the Dealrooms project's theme settings."""
    return {
        "site_name": doc["deal"]["buyer"]["name"],
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": "material", "font": False, "features": ["navigation.tabs", "search.highlight"],
                  "palette": {"primary": "indigo", "accent": "indigo"}},
        "plugins": ["search"],
        "markdown_extensions": ["tables", "admonition", "attr_list"],
        "nav": [{"Overview": "index.md"}, {"Plan": "plan.md"}, {"People": "people.md"},
                {"Value": "value.md"}, {"Proposal": "proposal.md"}],
    }


def write_sites(folder: Path, docs: dict[str, dict]) -> list[Path]:
    """One MkDocs project per deal: ``folder/<slug>/mkdocs.yml`` and ``docs/*.md``."""
    projects = []
    for slug, doc in docs.items():
        project = folder / slug
        (project / "docs").mkdir(parents=True, exist_ok=True)
        (project / "mkdocs.yml").write_text(yaml.safe_dump(site_config(doc), sort_keys=False, allow_unicode=True), encoding="utf-8")
        for name, text in deal_pages(doc).items():
            (project / "docs" / name).write_text(text, encoding="utf-8")
        projects.append(project)
    return projects


def build_sites(folder: Path) -> dict:
    """Build every site below ``folder`` in this process, one after the other; return timings."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    projects = sorted(p.parent for p in folder.glob("*/mkdocs.yml"))
    started = time.perf_counter()
    slowest = 0.0
    for project in projects:
        t = time.perf_counter()
        build(load_config(str(project / "mkdocs.yml")))
        slowest = max(slowest, time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    return {"sites": len(projects), "loop_seconds": elapsed, "slowest_site_seconds": slowest}


if __name__ == "__main__":
    print(json.dumps(build_sites(Path(sys.argv[1]))))
