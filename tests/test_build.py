"""Whole builds of the example project in tmp_path."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort, PluginError

from buildutil import all_text, build_site, set_plugin_options
from dealrooms_plugin.load import load_deal

SLUGS = ("halden-health", "kestrel-freight", "marlow-vine")
PAGES = ("index.html", "plan/index.html", "people/index.html", "value/index.html", "proposal/index.html")


def facts(project: Path, slug: str) -> set[str]:
    """Strings that identify a deal: buyer, people, e-mails, milestones, goals, items."""
    deal = load_deal(project / "dealrooms" / f"{slug}.yml").deal
    found = {deal.deal.buyer.name, deal.deal.title}
    found |= {p.name for p in deal.people} | {p.email for p in deal.people if p.email}
    found |= {m.title for m in deal.milestones} | {g.metric for g in deal.goals}
    found |= {i.name for i in deal.proposal.items} if deal.proposal else set()
    return found


@pytest.fixture
def site(project: Path) -> Path:
    set_plugin_options(project, protect=False)
    return build_site(project)


def test_one_microsite_per_deal(site: Path) -> None:
    for slug in SLUGS:
        for page in PAGES:
            assert (site / slug / page).is_file(), f"{slug}/{page}"
        assert (site / slug / "sitemap.xml").is_file()
    assert not list(site.rglob("*.yml")), "deal YAML must never be published"


def test_each_deal_appears_in_its_own_site_and_nowhere_else(project: Path, site: Path) -> None:
    texts = all_text(site)
    for slug in SLUGS:
        own = {p: t for p, t in texts.items() if p.is_relative_to(site / slug)}
        others = {p: t for p, t in texts.items() if not p.is_relative_to(site / slug)}
        own_text = html.unescape("".join(own.values()))
        for fact in facts(project, slug):
            assert fact in own_text, f"{fact!r} missing from {slug}"
            for path, text in others.items():
                assert fact not in html.unescape(text), f"{fact!r} of {slug} leaks into {path.relative_to(site)}"


def test_no_deal_has_a_search_index_and_the_root_index_names_no_deal(project: Path, site: Path) -> None:
    # A deal room has no search box (its header leaves Material's search form out), so
    # Material never asks for an index: one per deal would be dead output, built every time.
    assert [p.relative_to(site).as_posix() for p in site.rglob("search_index.json")] == ["search/search_index.json"]
    for slug in SLUGS:
        assert not (site / slug / "search").exists(), slug
    # The root index is MkDocs' own (the search plugin, for the site's public pages).
    root_index = html.unescape(json.dumps(json.loads((site / "search" / "search_index.json").read_text()), ensure_ascii=False))
    for slug in SLUGS:
        assert slug not in root_index
        for fact in facts(project, slug):
            assert fact not in root_index, f"{fact!r} of {slug} in the root search index"


def test_site_root_lists_no_deals(site: Path) -> None:
    root = (site / "index.html").read_text() + (site / "sitemap.xml").read_text() + (site / "404.html").read_text()
    for slug in SLUGS:
        assert slug not in root


def test_deal_pages_link_only_inside_the_deal(site: Path) -> None:
    page = (site / "kestrel-freight" / "plan" / "index.html").read_text()
    assert '"base": "../"' in page or '"base":"../"' in page.replace(" ", "")
    assert "halden-health" not in page and "marlow-vine" not in page


def test_expired_and_expiring_proposals(site: Path) -> None:
    assert "Expired on" in (site / "marlow-vine" / "proposal" / "index.html").read_text()
    assert "Valid until" in (site / "kestrel-freight" / "proposal" / "index.html").read_text()


def test_strict_build_passes_on_the_examples(project: Path) -> None:
    set_plugin_options(project, protect=False)
    build_site(project, strict=True)


def test_invalid_deal_fails_the_build_with_the_same_messages(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    set_plugin_options(project, protect=False)
    path = project / "dealrooms" / "kestrel-freight.yml"
    path.write_text(path.read_text().replace("owner: marta", "owner: grimsby"))
    with pytest.raises((PluginError, Abort)):
        build_site(project)
    assert "dealrooms/kestrel-freight.yml:44: milestones[2].owner: unknown person 'grimsby'" in caplog.text
    assert "Traceback" not in caplog.text
    assert not (project / "site" / "halden-health").exists(), "nothing is written when a deal is invalid"


def test_files_starting_with_underscore_are_not_deals(project: Path) -> None:
    set_plugin_options(project, protect=False)
    (project / "dealrooms" / "_draft.yml").write_text("not: a deal\n")
    site = build_site(project)
    assert not (site / "_draft").exists()


def test_unchanged_deals_are_not_rendered_twice(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    set_plugin_options(project, protect=False)
    config = load_config(str(project / "mkdocs.yml"))
    caplog.set_level(logging.INFO, logger="mkdocs.plugins.dealrooms")
    build(config)
    path = project / "dealrooms" / "halden-health.yml"
    path.write_text(path.read_text().replace("Integration design review", "Integration design sign-off"))
    build(config)  # same plugin instance, as under mkdocs serve
    lines = [r.getMessage() for r in caplog.records if "rendered" in r.getMessage()]
    assert "rendered 3 deal(s), reused 0 unchanged" in lines[0]
    assert "rendered 1 deal(s), reused 2 unchanged" in lines[1]
    assert "Integration design sign-off" in (project / "site" / "halden-health" / "index.html").read_text()


def test_build_is_reproducible(project: Path) -> None:
    set_plugin_options(project, protect=False)
    first = {p.relative_to(project / "site"): p.read_bytes() for p in build_site(project).rglob("*") if p.is_file()}
    second = {p.relative_to(project / "site"): p.read_bytes() for p in build_site(project).rglob("*") if p.is_file()}
    differing = [p for p in first if first[p] != second.get(p) and "sitemap.xml" not in str(p)]
    assert differing == []


def test_strict_protected_build_of_the_examples(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for slug in SLUGS:
        monkeypatch.setenv(f"DEALROOMS_PASSWORD_{slug.upper().replace('-', '_')}", f"correct-horse-{slug}-2027")
    monkeypatch.setenv("DEALROOMS_CACHE_DIR", str(project / ".keycache"))
    site = build_site(project, strict=True)  # mkdocs.yml as shipped: protect: true
    for slug in SLUGS:
        page = (site / slug / "index.html").read_text()
        assert "This deal room is private" in page
        assert load_deal(project / "dealrooms" / f"{slug}.yml").deal.deal.buyer.name not in page
