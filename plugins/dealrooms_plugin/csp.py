"""Content-Security-Policy for every page Dealrooms writes.

Static hosts rarely let sellers set headers, so the policy travels inside the
page as ``<meta http-equiv="Content-Security-Policy">``, first in ``<head>``
(a meta policy covers only what follows it). It allows scripts, styles, fonts
and requests from the site's own origin, inline scripts only by their SHA-256
hash, and nothing remote. ``blob:`` is allowed for images (a protected
deal's logo is decrypted into a ``blob:`` URL in the browser; its calendar
is a ``blob:`` link, which a policy does not govern). Requests and workers
stay on the site's own origin: deal rooms have no search index or worker.

An unlocked protected page is written into the unlock page's document, which
keeps the unlock page's policy: the unlock page's policy therefore lists the
hashes of the deal page's inline scripts too (see :func:`inline_script_hashes`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import html
from html.parser import HTMLParser
from typing import Iterable

from markupsafe import Markup

# Script types a browser executes; anything else (application/json, ...) is data.
_SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}


def script_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.sources: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        named = {k: (v or "") for k, v in attrs}
        if "src" not in named and named.get("type", "").strip().lower() in _SCRIPT_TYPES:
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.sources.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> list[str]:
    """Hashes of the executable inline scripts of a page *template's* output.

    Call it only on HTML whose inline scripts come from templates, never on
    deal text: hashing a script would allow it. Deal text reaches pages
    through autoescaping and the Markdown sanitiser, which let no ``<script>``
    through.
    """
    parser = _InlineScripts()
    # The parser reads only the script elements: parsing a whole page took 1 ms, five per deal.
    # Each slice runs from `<script` to the end tag the parser itself looks for (CDATA content
    # ends at the first `</script>`), so it sees what it would see in the whole page.
    position = 0
    while (start := _SCRIPT_START.search(html, position)) is not None:
        end = _SCRIPT_END.search(html, start.end())
        position = end.end() if end else len(html)
        parser.feed(html[start.start():position])
    parser.close()
    return sorted({script_hash(source) for source in parser.sources})


_SCRIPT_START = re.compile(r"<script\b", re.I)
_SCRIPT_END = re.compile(r"</\s*script\s*>", re.I)  # as html.parser ends a script's CDATA content


_DECLARED = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', re.I)
_HASH = re.compile(r"'sha256-[A-Za-z0-9+/]+=*'")


def declared_script_hashes(html_text: str) -> list[str]:
    """The inline-script hashes a page's own policy meta allows (none without one).

    The shell computed them from its template around a placeholder body
    (:func:`inline_script_hashes` on template output only), so reusing them
    elsewhere (the unlock page of a protected page) never allows a script
    that came from deal text.
    """
    head = html_text[: html_text.find("</head>")] if "</head>" in html_text else html_text
    found = _DECLARED.search(head)
    return sorted(set(_HASH.findall(html.unescape(found.group(1))))) if found else []


def policy(script_hashes: Iterable[str] = (), *, any_inline_script: bool = False) -> str:
    """The policy text: same-origin only, inline scripts by hash, no plugins, no base, no form posts.

    ``any_inline_script`` is for ``mkdocs serve`` previews only (see :func:`preview_meta`).
    """
    scripts = " ".join(["'self'", "'unsafe-inline'"] if any_inline_script else ["'self'", *sorted(set(script_hashes))])
    return "; ".join([
        "default-src 'none'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",  # Material and our pages set style attributes; styles cannot run code
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ])


def meta(script_hashes: Iterable[str] = ()) -> Markup:
    """``<meta http-equiv="Content-Security-Policy" ...>`` for the top of ``<head>``."""
    return _meta(policy(script_hashes))


def preview_meta() -> Markup:
    """The policy of pages served by ``mkdocs serve``: as :func:`meta`, but any inline script runs.

    MkDocs' live-reload server appends an inline script whose text changes with
    every request, so no hash can allow it. The preview is seen only by the rep
    on localhost, and deal text still goes through the sanitiser; published
    pages always get :func:`meta`.
    """
    return _meta(policy(any_inline_script=True))


def _meta(text: str) -> Markup:
    # Quotes of the policy stay as they are (valid inside a double-quoted
    # attribute): five bytes each as entities would push <meta charset> after
    # the first 1024 bytes, where browsers stop looking for it.
    content = html.escape(text, quote=False).replace('"', "&quot;")
    return Markup(f'<meta http-equiv="Content-Security-Policy" content="{content}">')
