"""Logos (issue 10, finding 6): inside the project, size-capped, typed by content, inert SVGs.

Also: a logo named in a template is found relative to the template, in
`load_deal` and `dealrooms check`, and `LoadedDeal.logo` is that path as written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dealrooms_plugin import InvalidDeal, load_deal
from dealrooms_plugin.logos import MAX_LOGO_BYTES, check_logo

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">{}</svg>'
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def logo_problems(tmp_path: Path, name: str, content: str | bytes) -> list[str]:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return [p.message for p in check_logo(path, project_dir=tmp_path, shown=name)]


@pytest.mark.parametrize("body", [
    '<rect width="10" height="10" fill="url(#g)"/><linearGradient id="g"/>',
    '<image href="data:image/png;base64,iVBORw0KGgo=" width="5" height="5"/><use xlink:href="#g"/>',
    '<style>rect { fill: #123; stroke: url(#g) }</style><rect style="fill: url( \'#g\' )"/>',
    '<title>Kestrel Freight</title><a href="#top"><text>K</text></a>',
])
def test_clean_svgs_pass(tmp_path: Path, body: str) -> None:
    assert logo_problems(tmp_path, "logo.svg", SVG.format(body)) == []


@pytest.mark.parametrize(("body", "expected"), [
    ("\n<script>alert(1)</script>", "logo logo.svg, line 2: <script> is not allowed in a logo"),
    ('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>', "<script> is not allowed"),
    ('<rect onclick="alert(1)"/>', "event handler onclick= is not allowed"),
    ('<g onLoad="alert(1)"/>', "event handler onload= is not allowed"),
    ("<foreignObject><div/></foreignObject>", "<foreignObject> is not allowed"),
    ('<image href="https://tracker.example/p.png"/>', "href='https://tracker.example/p.png' refers to something outside"),
    ('<image xlink:href="/etc/logo.png"/>', "href='/etc/logo.png' refers to something outside"),
    ('<a href="javascript:alert(1)"><text>x</text></a>', "href='javascript:alert(1)' refers to something outside"),
    ('<image href="data:image/svg+xml;base64,PHN2Zy8+"/>', "refers to something outside"),
    ('<a><set attributeName="href" to="javascript:alert(1)"/></a>', "<set> may not change href"),
    ('<style>@import url("https://evil.example/x.css");</style>', "<style> uses @import"),
    ("<style>rect { fill: url(https://evil.example/f.svg#a) }</style>", "<style> loads 'https://evil.example/f.svg#a' from outside"),
    ('<rect style="fill: URL(//evil.example/x)"/>', "attribute style= loads '//evil.example/x' from outside"),
    ('<rect filter="url(other.svg#f)"/>', "attribute filter= loads 'other.svg#f' from outside"),
    ("<style>rect { fill: \\75 rl(https://evil.example) }</style>", "<style> uses CSS escapes"),
    ("<iframe src='https://evil.example'/>", "<iframe> is not allowed"),
])
def test_unsafe_svgs_are_refused_with_a_reason(tmp_path: Path, body: str, expected: str) -> None:
    found = logo_problems(tmp_path, "logo.svg", SVG.format(body))
    assert any(expected in message for message in found), found


@pytest.mark.parametrize(("content", "expected"), [
    ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
     '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg"/>',
     "logo logo.svg, line 2: a <!DOCTYPE> (DTD) is not allowed in a logo"),
    ('<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]>\n'
     '<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>', "(DTD) is not allowed"),
    ('<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="x.xsl"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
     "logo logo.svg, line 2: processing instruction <?xml-stylesheet?> is not allowed"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>', "not a well-formed SVG file (mismatched tag)"),
    ("<?xml version='1.0'?><html><svg/></html>", "expected an <svg> document, found <html>"),
    (PNG, "logo logo.svg is named as SVG but its content is PNG"),
])
def test_svg_documents_that_are_refused(tmp_path: Path, content: str | bytes, expected: str) -> None:
    found = logo_problems(tmp_path, "logo.svg", content)
    assert any(expected in message for message in found), found


def test_raster_logos_are_typed_by_content_and_capped(tmp_path: Path) -> None:
    assert logo_problems(tmp_path, "logo.png", PNG) == []
    assert logo_problems(tmp_path, "logo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 16) == []
    assert logo_problems(tmp_path, "logo.webp", b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 16) == []
    assert logo_problems(tmp_path, "logo.png", SVG.format("<script>alert(1)</script>")) == [
        "logo logo.png is named as PNG but its content is SVG"]
    assert logo_problems(tmp_path, "logo.jpeg", b"GIF89a") == [
        "logo logo.jpeg is named as JPEG but its content is not an image Dealrooms accepts"]
    assert logo_problems(tmp_path, "logo.png", PNG + b"\0" * MAX_LOGO_BYTES) == ["logo logo.png is larger than 512 KiB"]
    assert logo_problems(tmp_path, "logo.gif", b"GIF89a") == ["expected an SVG, PNG, JPEG or WebP file, found 'logo.gif'"]


def test_a_logo_that_leaves_the_project_is_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "secret.svg").write_text(SVG.format(""), encoding="utf-8")
    (project / "linked.svg").symlink_to(outside / "secret.svg")
    (project / "linked-folder").symlink_to(outside)
    for path in (project / "linked.svg", project / "linked-folder" / "secret.svg", project / ".." / "outside" / "secret.svg"):
        [problem] = check_logo(path, project_dir=project, shown="x.svg")
        assert problem.message == f"logo x.svg leads outside the project (to {(outside / 'secret.svg').resolve()})"
    (project / "inside.svg").symlink_to("linked-folder/../linked.svg")  # resolves outside through two links
    assert check_logo(project / "inside.svg", project_dir=project)[0].message.startswith("logo ")


HEAD = "deal:\n  title: T\n  buyer: {name: Kestrel}\n  seller: {name: Orbisoft}\n  target_date: 2027-02-15\n"


def test_a_deal_with_an_unsafe_logo_is_invalid_at_the_logo_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "k.svg").write_text(SVG.format('<rect onmouseover="alert(1)"/>'), encoding="utf-8")
    (tmp_path / "acme.yml").write_text(HEAD.replace("{name: Kestrel}", "{name: Kestrel, logo: logos/k.svg}"), encoding="utf-8")
    with pytest.raises(InvalidDeal) as caught:
        load_deal(tmp_path / "acme.yml")
    assert [str(p) for p in caught.value.problems] == [
        "acme.yml:3: deal.buyer.logo: logo logos/k.svg, line 1: event handler onmouseover= is not allowed in a logo "
        "(hint: remove the attribute; a logo never needs code)"]


def template_project(root: Path) -> Path:
    """A project whose template (not the deal) names the logo, relative to the template."""
    deals = root / "dealrooms"
    (deals / "_templates" / "art").mkdir(parents=True)
    (deals / "_templates" / "art" / "brand.svg").write_text(SVG.format("<title>Kestrel</title>"), encoding="utf-8")
    (deals / "_templates" / "branded.yml").write_text("deal:\n  buyer: {logo: art/brand.svg}\n", encoding="utf-8")
    (deals / "acme.yml").write_text("extends: branded\n" + HEAD, encoding="utf-8")
    (root / "mkdocs.yml").write_text("site_name: x\nplugins:\n  - dealrooms:\n      deals_dir: dealrooms\n", encoding="utf-8")
    return deals


def test_a_logo_named_in_a_template_is_relative_to_the_template(tmp_path: Path) -> None:
    deals = template_project(tmp_path)
    loaded = load_deal(deals / "acme.yml", deals_dir=deals)
    assert loaded.logo == deals / "_templates" / "art" / "brand.svg"  # as written, ready for the build to read
    assert loaded.logo in loaded.sources  # a change to the logo reloads the deal
    result = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", "check"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_loaded_logo_keeps_the_path_as_written(tmp_path: Path) -> None:
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "real.svg").write_text(SVG.format(""), encoding="utf-8")
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "k.svg").symlink_to("../art/real.svg")  # a link that stays inside the project is fine
    deals = tmp_path / "deals"
    deals.mkdir()
    (deals / "acme.yml").write_text(HEAD.replace("{name: Kestrel}", "{name: Kestrel, logo: ../logos/k.svg}"), encoding="utf-8")
    loaded = load_deal(deals / "acme.yml", project_dir=tmp_path)
    assert loaded.logo == deals / ".." / "logos" / "k.svg"
    assert loaded.logo.resolve() == (tmp_path / "art" / "real.svg").resolve()


def test_no_logo_means_none(tmp_path: Path) -> None:
    (tmp_path / "acme.yml").write_text(HEAD, encoding="utf-8")
    assert load_deal(tmp_path / "acme.yml").logo is None
