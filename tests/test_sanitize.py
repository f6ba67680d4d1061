"""The Markdown sanitiser: one test per allow-list rule, on normalised HTML.

Deal Markdown (summary, milestone notes, proposal terms, meeting agenda) is
untrusted text: it is converted, then cleaned by nh3 against the allow-lists
in ``dealrooms_plugin.render``. Each case below is Markdown in, the exact HTML
out; a rule that loosens shows up as a changed line here.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from dealrooms_plugin import model
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.plan import schedule
from dealrooms_plugin.render import make_env, markdown, render_pages, sanitise_html
from dealrooms_plugin.view import build_view

ROOT = Path(__file__).resolve().parent.parent
REL = 'rel="noopener noreferrer nofollow"'


def clean(text: str) -> str:
    """Sanitised Markdown, whitespace between tags removed."""
    return re.sub(r">\n+<", "><", str(markdown(text))).strip()


CASES = {
    # formatting, headings, lists, tables, code, quotes stay
    "formatting": ("**bold** *em* `code` ~~x~~ <u>u</u> <sub>2</sub> <kbd>K</kbd>",
                   "<p><strong>bold</strong> <em>em</em> <code>code</code> ~~x~~ <u>u</u> <sub>2</sub> <kbd>K</kbd></p>"),
    "headings": ("## Scope\n\n#### Detail", "<h2>Scope</h2><h4>Detail</h4>"),
    "lists": ("1. one\n2. two\n\n- a\n- b", "<ol><li>one</li><li>two</li></ol><ul><li>a</li><li>b</li></ul>"),
    "ordered list start": ("3. three\n4. four", '<ol start="3"><li>three</li><li>four</li></ol>'),
    "definition lists": ("Term\n:   Meaning", "<dl><dt>Term</dt><dd>Meaning</dd></dl>"),
    "table with alignment": ("| a | b |\n|:--|--:|\n| 1 | 2 |",
                             '<table><thead><tr><th align="left">a</th><th align="right">b</th></tr></thead>'
                             '<tbody><tr><td align="left">1</td><td align="right">2</td></tr></tbody></table>'),
    "code block keeps markup as text": ("```\n<script>alert(1)</script>\n```",
                                        "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>"),
    "blockquote": ("> quoted", "<blockquote><p>quoted</p></blockquote>"),
    "abbreviation": ("SLA\n\n*[SLA]: Service level agreement",
                     '<p><abbr title="Service level agreement">SLA</abbr></p>'),
    # links: http, https, mailto, tel and relative, each with rel
    "https link": ("[site](https://example.com/x?a=1)", f'<p><a href="https://example.com/x?a=1" {REL}>site</a></p>'),
    "http link": ("<http://example.com>", f'<p><a href="http://example.com" {REL}>http://example.com</a></p>'),
    "mailto link": ("[mail](mailto:ann@example.com)", f'<p><a href="mailto:ann@example.com" {REL}>mail</a></p>'),
    "tel link": ("[call](tel:+442079460321)", f'<p><a href="tel:+442079460321" {REL}>call</a></p>'),
    "relative link": ("[plan](../plan/#next)", f'<p><a href="../plan/#next" {REL}>plan</a></p>'),
    "link title": ('[x](https://e.com "Title")', f'<p><a href="https://e.com" title="Title" {REL}>x</a></p>'),
    "footnotes keep their ids": ("x[^1]\n\n[^1]: note",
                                 f'<p>x<sup id="fnref:1"><a href="#fn:1" {REL}>1</a></sup></p><div><hr><ol>'
                                 f'<li id="fn:1"><p>note&nbsp;<a href="#fnref:1" title="Jump back to footnote 1 in the text" '
                                 f'{REL}>↩</a></p></li></ol></div>'),
    # links elsewhere lose their target, keep their text
    "javascript: link": ("[x](javascript:alert(1))", f"<p><a {REL}>x</a></p>"),
    "JavaScript: in capitals": ("[x](JaVaScRiPt:alert(1))", f"<p><a {REL}>x</a></p>"),
    "entity-encoded javascript:": ("[x](&#x6A;avascript:alert(1))", f"<p><a {REL}>x</a></p>"),
    "leading space before javascript:": ('<a href=" javascript:alert(1)">x</a>', f"<p><a {REL}>x</a></p>"),
    "data: link": ("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", f"<p><a {REL}>x</a></p>"),
    "vbscript: link": ('<a href="vbscript:msgbox(1)">x</a>', f"<p><a {REL}>x</a></p>"),
    "file: link": ("[x](file:///etc/passwd)", f"<p><a {REL}>x</a></p>"),
    "protocol-relative link": ("[x](//evil.example/)", f"<p><a {REL}>x</a></p>"),
    "backslash protocol-relative link": ('<a href="/\\evil.example/">x</a>', f"<p><a {REL}>x</a></p>"),
    "double backslash link": ('<a href="\\\\evil.example/">x</a>', f"<p><a {REL}>x</a></p>"),
    # raw HTML that runs or loads something goes, with its content where that is code
    "script": ("before<script>alert(1)</script>after", "<p>beforeafter</p>"),
    "unclosed script": ("<script>alert(1)", ""),
    "split script tag": ("<<script>script>alert(1)<</script>/script>", "<p>&lt;/script&gt;</p>"),
    "event handler": ('<b onclick="alert(1)" onmouseover=alert(1)>bold</b>', "<p><b>bold</b></p>"),
    "image": ("![logo](https://tracker.example/pixel.gif) text", "<p> text</p>"),
    "image with onerror": ("<img src=x onerror=alert(1)>", "<p></p>"),
    "svg onload": ("<svg onload=alert(1)>", "<p></p>"),
    "svg script": ("<svg><script>alert(1)</script></svg>ok", "<p>ok</p>"),
    "math mXSS": ("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", ""),
    "iframe srcdoc": ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', ""),
    "object and embed": ('<object data="x.swf"></object><embed src="x.swf">', "<p></p>"),
    "meta refresh": ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', "<p></p>"),
    "base href": ('<base href="https://evil.example/">', "<p></p>"),
    "form": ('<form action="https://evil.example/"><input name="password"><button>Go</button></form>', "Go"),
    "style element": ("<style>@import url(https://evil.example/x.css);</style>text", "<p>text</p>"),
    "style attribute": ('<p style="background:url(https://evil.example/x)">x</p>', "<p>x</p>"),
    "template mXSS": ("<template><img src=x onerror=alert(1)></template>t", "<p>t</p>"),
    "noscript mXSS": ('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', '"&gt;'),
    "comment": ("a <!-- <script>alert(1)</script> --> b", "<p>a  b</p>"),
    "class and id": ('<p class="md-header" id="__config">x</p>', "<p>x</p>"),
    "unknown tags keep their text": ("<blink>text</blink>", "<p>text</p>"),
    "escaped markup stays text": ("&lt;script&gt;alert(1)&lt;/script&gt;", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sanitiser_rule(name: str) -> None:
    source, expected = CASES[name]
    assert clean(source) == expected


# Characters Markdown would rewrite (it expands tabs), straight into the HTML step.
HTML_CASES = {
    "tab inside javascript:": ('<a href="java\tscript:alert(1)">x</a>', f"<a {REL}>x</a>"),
    "newline inside javascript:": ('<a href="java\nscript:alert(1)">x</a>', f"<a {REL}>x</a>"),
    "tab-split protocol-relative link": ('<a href="/\t/evil.example/">x</a>', f"<a {REL}>x</a>"),
    "control character before //": ('<a href="\x01//evil.example/">x</a>', f"<a {REL}>x</a>"),
}


@pytest.mark.parametrize("name", list(HTML_CASES))
def test_sanitiser_rule_on_html(name: str) -> None:
    source, expected = HTML_CASES[name]
    assert sanitise_html(source) == expected


def markdown_fields() -> list[tuple[str, ...]]:
    """Every deal field documented as Markdown, as a path of field names from Deal."""
    found = []

    def walk(cls: type, path: tuple[str, ...]) -> None:
        for name, field in cls.model_fields.items():
            if (field.description or "").startswith("Markdown"):
                found.append((*path, name))
            for arg in getattr(field.annotation, "__args__", ()) + (field.annotation,):
                if isinstance(arg, type) and issubclass(arg, model.Model):
                    walk(arg, (*path, name))

    walk(model.Deal, ())
    return found


def test_markdown_fields_are_the_known_four() -> None:
    """A new Markdown field must be added to the rendering test below (and to the README)."""
    assert sorted(markdown_fields()) == sorted([
        ("deal", "summary"), ("milestones", "notes"), ("proposal", "terms"), ("meetings", "agenda"),
        ("meetings", "expected_outcome"), ("meetings", "prepare"), ("meetings", "decisions"), ("meetings", "notes"),
    ])


PAYLOAD = "**kept** <script>window.__pwned=1</script><img src=x onerror=alert(1)> [x](javascript:alert(1))"


def test_every_markdown_field_is_sanitised_on_its_page(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "dealrooms" / "kestrel-freight.yml").read_text(encoding="utf-8"))
    data["deal"]["buyer"].pop("logo")
    data.pop("agreed")  # PyYAML reads its `on:` key as True (YAML 1.1); the loader does not, but this is not about it
    data["deal"]["summary"] = PAYLOAD
    data["milestones"][2]["notes"] = PAYLOAD
    data["proposal"]["terms"] = PAYLOAD
    upcoming = data["meetings"][-1]
    upcoming.update(agenda=PAYLOAD, expected_outcome=PAYLOAD, prepare=PAYLOAD)
    data["meetings"].append({"date": "2026-11-12", "title": "Held", "decisions": PAYLOAD, "notes": PAYLOAD})
    (tmp_path / "deal.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded = load_deal(tmp_path / "deal.yml")
    today = dt.date(2026, 11, 22)
    pages = {p.spec.name: p.html for p in render_pages(build_view("deal", loaded.deal, schedule(loaded.deal, today)), make_env())}
    # The pages' own data block (ui.live) is the one script element a page has; deal text is not in it as markup.
    everything = re.sub(r'<script type="application/json" data-dr-live>[^<]*</script>', "", "".join(pages.values()))
    # summary, agenda, expected outcome and preparation (overview); notes, the meetings' six (plan); terms (proposal)
    assert everything.count("<strong>kept</strong>") >= 4 + 8
    for page in ("overview", "plan", "proposal"):
        assert "<strong>kept</strong>" in pages[page]
    assert "<script" not in everything and "onerror" not in everything and "javascript:" not in everything
