"""The Content-Security-Policy of the pages Dealrooms writes through its page shell.

Browser proof that Material still works under the policy is in
tests/browser/test_deal_pages.py; these tests check the policy's text and
where its script hashes come from.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buildutil import build_site, copy_examples, set_plugin_options
from dealrooms_plugin import csp

SLUGS = ("kestrel-freight", "halden-health", "marlow-vine")
META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
INJECTED = "window.__pwned = 'hashed from deal text'"


def plain_project(base: Path) -> Path:
    copy_examples(base)
    return base


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = plain_project(tmp_path_factory.mktemp("csp"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALROOMS_TODAY", "2026-11-22")
        mp.chdir(project)
        return build_site(project)


def deal_pages(site: Path) -> list[Path]:
    return [page for slug in SLUGS for page in sorted((site / slug).rglob("*.html"))]


def all_pages(site: Path) -> list[Path]:
    """Every page the build writes: the deals' and the site's own (index.html, 404.html)."""
    return sorted(site.rglob("*.html"))


def test_policy_is_strict() -> None:
    text = csp.policy(["'sha256-abc'"])
    directives = dict(d.split(" ", 1) for d in text.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self' 'sha256-abc'"
    for name in ("object-src", "base-uri", "form-action", "frame-src"):
        assert directives[name] == "'none'"
    assert not re.search(r"https?:|\*|'unsafe-eval'", text)
    assert "'unsafe-inline'" not in directives["script-src"]


def test_every_deal_page_starts_its_head_with_the_policy(site: Path) -> None:
    pages = deal_pages(site)
    assert len(pages) == 5 * len(SLUGS)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        head = html.index("<head>") + len("<head>")
        match = META.search(html)
        assert match and match.start() == head, f"{page}: the policy is not first in <head>"
        assert html.count('http-equiv="Content-Security-Policy"') == 1
        assert html.encode("utf-8").find(b'<meta charset="utf-8">') < 1024, f"{page}: charset declared too late"


def test_the_sites_own_pages_carry_the_policy_too(site: Path) -> None:
    roots = [site / "index.html", site / "404.html"]
    assert set(roots) <= set(all_pages(site))
    for page in roots:
        html = page.read_text(encoding="utf-8")
        match = META.search(html)
        assert match and match.start() == html.index("<head>") + len("<head>"), page
        allowed = set(re.findall(r"'sha256-[^']+'", match.group(1)))
        assert allowed == set(csp.inline_script_hashes(html)), page


def test_the_policy_allows_exactly_the_pages_inline_scripts(site: Path) -> None:
    for page in all_pages(site):
        html = page.read_text(encoding="utf-8")
        allowed = set(re.findall(r"'sha256-[^']+'", META.search(html).group(1)))  # type: ignore[union-attr]
        scripts = set(csp.inline_script_hashes(html))
        assert scripts and allowed == scripts, page


def test_script_hashes_read_like_a_whole_page_parse(site: Path) -> None:
    """The hashes come from the script elements alone (fast); a parse of the whole page finds the same."""
    for page in all_pages(site):
        html = page.read_text(encoding="utf-8")
        parser = csp._InlineScripts()
        parser.feed(html)
        parser.close()
        assert csp.inline_script_hashes(html) == sorted({csp.script_hash(s) for s in parser.sources}), page
    tricky = ('<p>a</p><SCRIPT>one()</SCRIPT ><script type="application/json">{"no": 1}</script>'
              '<script src="x.js"></script><script type="module">two()</ script><script>three("</p>")</script>')
    assert csp.inline_script_hashes(tricky) == sorted(csp.script_hash(s) for s in ("one()", "two()", 'three("</p>")'))


def test_hashes_never_come_from_deal_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the sanitiser switched off, a script from a deal's summary reaches the page,
    but the page's policy does not allow it: hashes are taken from the shell alone."""
    import dealrooms_plugin.render as render

    project = plain_project(tmp_path)
    deal = project / "dealrooms" / "kestrel-freight.yml"
    deal.write_text(deal.read_text(encoding="utf-8").replace(
        "  summary: |\n", f"  summary: |\n    <script>{INJECTED}</script>\n"), encoding="utf-8")
    monkeypatch.setattr(render, "sanitise_html", lambda html: html)
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-11-22")
    monkeypatch.chdir(project)
    site = build_site(project)
    html = (site / "kestrel-freight" / "index.html").read_text(encoding="utf-8")
    assert f"<script>{INJECTED}</script>" in html  # the sanitiser really was off
    assert csp.script_hash(INJECTED) not in META.search(html).group(1)  # type: ignore[union-attr]


def test_preview_policy_allows_inline_scripts_but_nothing_else() -> None:
    """mkdocs serve injects an inline live-reload script that changes per request."""
    text = csp.preview_meta()
    assert "script-src 'self' 'unsafe-inline';" in text and "sha256" not in text
    assert "object-src 'none'" in text and "base-uri 'none'" in text


def test_deal_text_in_the_page_shell_is_escaped_and_never_hashed(project: Path) -> None:
    """The shell (header, footer, logo alt text) shows the buyer's and seller's names: as text.

    MkDocs' theme environment does not autoescape, and the shell's inline
    scripts are hashed from the rendered shell, so a name printed raw there
    would be markup, and a script in it would be allowed by the page's policy.
    """
    from buildutil import build_site, set_plugin_options

    payload = "<svg><script>window.__pwned='shell'</script></svg>"
    deal = project / "dealrooms" / "kestrel-freight.yml"
    text = deal.read_text(encoding="utf-8")
    text = text.replace("seller: {name: Orbisoft}", 'seller: {name: "%s"}' % payload.replace('"', '\\"'))
    text = text.replace("buyer: {name: Kestrel Freight", 'buyer: {name: "%s"' % payload.replace('"', '\\"'))
    deal.write_text(text, encoding="utf-8")
    set_plugin_options(project, protect=False)
    site = build_site(project)
    for page in (site / "kestrel-freight").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>window.__pwned" not in html, page
        assert "&lt;script&gt;window.__pwned" in html, page
        policy = html[html.index("script-src"):html.index(";", html.index("script-src"))]
        for script in re.findall(r"<script>(.*?)</script>", html, re.S):
            assert "__pwned" not in script
        assert policy.count("sha256-") == len(re.findall(r"<script>", html))  # only the shell's own scripts


def test_a_buyer_name_with_an_ampersand_is_escaped_exactly_once(project: Path) -> None:
    from buildutil import build_site, set_plugin_options

    set_plugin_options(project, protect=False)
    site = build_site(project)
    for page in (site / "marlow-vine").rglob("*.html"):  # "Marlow & Vine"
        html = page.read_text(encoding="utf-8")
        assert "&amp;amp;" not in html, page
        assert "Marlow &amp; Vine" in html
