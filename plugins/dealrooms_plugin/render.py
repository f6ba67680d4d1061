"""Render a deal's pages to HTML fragments with Jinja (autoescaped).

Templates live in the package under ``templates/dealrooms/``; a file at the
same path in an override folder (the MkDocs ``custom_dir``, here
``theme_overrides/``) wins. The fragments are the page bodies; an adapter
(MkDocs today) wraps them in its theme's page shell.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable

import jinja2
import jinja2.ext
import markdown as markdown_lib
import nh3
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent, get_plus_sign_symbol
from markdown.extensions.tables import TableExtension
from markupsafe import Markup

from . import pageview
from .i18n import N_, SOURCE_LANGUAGE, html_lang, template_callables
from .labels import HEALTH_LABELS, SIDE_LABELS, STATUS_LABELS
from .view import DealView, humanize

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class PageSpec:
    """One page of a deal room."""

    name: str  # template and file stem
    title: str
    path: str  # URL path inside the deal, "" for the overview
    icon: str


PAGES = (
    PageSpec("overview", N_("Overview"), "", "home"),
    PageSpec("plan", N_("Plan"), "plan/", "timeline"),
    PageSpec("people", N_("People"), "people/", "people"),
    PageSpec("value", N_("Value"), "value/", "value"),
    PageSpec("proposal", N_("Proposal"), "proposal/", "proposal"),
)


@dataclass(frozen=True)
class RenderedPage:
    spec: PageSpec
    title: str  # the page's title in the deal's language
    html: str  # the page body (the adapter wraps it in its page shell)


class Dedent(jinja2.ext.Extension):
    """Drops the indentation of template lines when a template is compiled (outside ``<pre>`` and ``<textarea>``).

    Indentation keeps templates readable, but it was a tenth of every page's
    bytes (the page shell's nested markup most of all). HTML reads a newline
    and the spaces after it as one space, so pages look the same; the newline
    stays. Only template text changes, never a value printed into it.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        out, position = [], 0
        for verbatim in _VERBATIM.finditer(source):
            out += [_INDENT.sub("", source[position:verbatim.start()]), verbatim.group(0)]
            position = verbatim.end()
        out.append(_INDENT.sub("", source[position:]))
        return "".join(out)


_VERBATIM = re.compile(r"<(pre|textarea)\b.*?</\1\s*>", re.I | re.S)  # whitespace there is content
_INDENT = re.compile(r"^[ \t]+", re.M)


def make_env(override_dirs: Iterable[Path] = ()) -> jinja2.Environment:
    """A Jinja environment for deal-room fragments; override folders come first."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(d)) for d in override_dirs if Path(d).is_dir()]
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        extensions=["jinja2.ext.i18n", Dedent],
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # The gettext callables come with each render (i18n.template_callables), in
    # Jinja's new style: `{% trans %}` and `_()` format their own placeholders.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    # Whitespace inside {% trans %} collapses, so a wrapped template line is one catalog entry.
    env.policies["ext.i18n.trimmed"] = True
    # The pages' data for the browser (`| tojson`) without the spaces after separators: a tenth of it.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    # English unless a render passes the deal's language (the rep's own pages are English).
    env.globals.update(template_callables(SOURCE_LANGUAGE))
    env.filters.update(
        date=_date, money=_money, number=_number, percent=_percent, markdown=markdown, humanize=humanize,
        days=_days, side_label=_label(SIDE_LABELS), status_label=_label(STATUS_LABELS),
        health_label=_label(HEALTH_LABELS), signed_number=_signed_number, signed_percent=_signed_percent,
        # What the pages show beyond the deal view (pageview.py): decided in Python, formatted here.
        plan_by_date=pageview.plan_by_date, goal_figures=pageview.goal_figures, role_text=pageview.role_text,
        seller_contact=pageview.seller_contact, mailto=pageview.mailto,
    )
    return env


def render_pages(view: DealView, env: jinja2.Environment, *, calendar_file: str | None = None) -> list[RenderedPage]:
    """Render the five pages of one deal room.

    ``calendar_file`` is the deal's ``.ics`` path relative to the deal root,
    linked from the Plan page when given.
    """
    pages = []
    gettext = template_callables(view.locale)
    for spec in PAGES:
        prefix = "../" * spec.path.count("/")

        def url_to(name: str, prefix: str = prefix) -> str:
            return prefix + next(p.path for p in PAGES if p.name == name) or "./"

        # The context documented in theme_overrides/README.md, and nothing more.
        html = env.get_template(f"dealrooms/{spec.name}.html").render(
            d=view, url_to=url_to, calendar_url=prefix + calendar_file if calendar_file else None,
            lang=html_lang(view.locale), **gettext,
        )
        pages.append(RenderedPage(spec, str(gettext["gettext"](spec.title)), html))
    return pages


# --- filters ----------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _locale(locale: str | None) -> Locale:
    # Cached: pages format a few hundred values each, and Locale.parse is not cheap.
    try:
        return Locale.parse(locale or "en")
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def day_text(value: dt.date, locale: str = "en", fmt: str = "medium") -> str:
    """A date as the deal pages write it (the ``date`` filter), for text made outside templates."""
    return _date(value, locale, fmt)


def _date(value: dt.date | None, locale: str = "en", fmt: str = "medium") -> str:
    """``format='medium'`` -> 15 Feb 2027 (en_GB) / Feb 15, 2027 (en).

    One page keeps to one family: ``medium`` for dates with a year,
    ``short_day`` ("20 Nov") where the year is plain from the context,
    ``month_year_long`` ("November 2026") for headings of a month. Never
    ISO dates or the locale's numeric ``short`` form in a buyer's page.
    """
    if value is None:
        return ""
    return _date_text(value, locale, fmt)


@functools.lru_cache(maxsize=4096)
def _date_text(value: dt.date, locale: str, fmt: str) -> str:
    # A deal's pages write the same few dozen dates again and again (timeline, table, overview).
    # CLDR skeletons: the fields wanted, in the order and words of the locale
    # ("20 Nov" in en_GB, "Nov 20" in en, "20. Nov." in de).
    skeletons = {"short_day": "MMMd", "day_month": "MMMMd", "weekday": "yMMMMEEEEd", "month": "MMM",
                 "month_year": "yMMM", "month_year_long": "yMMMM"}
    if fmt in skeletons:
        return format_skeleton(skeletons[fmt], value, locale=_locale(locale))
    return format_date(value, fmt, locale=_locale(locale))


def _money(value: Decimal | float, currency: str, locale: str = "en", whole: bool = False) -> str:
    """``€1,380.00``; with ``whole``, a whole amount drops its minor units (``€1,400,000``, for goals)."""
    loc = _locale(locale)
    if whole and Decimal(str(value)) == Decimal(str(value)).to_integral_value():
        # The locale's own currency pattern without its fraction digits ("¤#,##0.00" -> "¤#,##0").
        pattern = loc.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(value, currency, format=pattern, locale=loc, currency_digits=False)
    return format_currency(value, currency, locale=loc)


def _number(value: float | Decimal | None, locale: str = "en") -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=_locale(locale))


def _percent(value: float | Decimal, locale: str = "en") -> str:
    """``15`` -> ``15%`` (en), ``15 %`` (de); decimals as given (``97.5%``), never rounded away."""
    return format_percent(Decimal(str(value)) / 100, locale=_locale(locale), decimal_quantization=False)


def _signed(text: str, value: float | Decimal, locale: str) -> str:
    # CLDR patterns sign only negatives; a change shows its "+" too, in the locale's symbol.
    return get_plus_sign_symbol(_locale(locale)) + text if value > 0 else text


def _signed_number(value: float | Decimal, locale: str = "en") -> str:
    """A change: ``+6``, ``-6`` (the locale's signs), ``0``."""
    return _signed(format_decimal(Decimal(str(value)), locale=_locale(locale), decimal_quantization=False), value, locale)


def _signed_percent(value: float | Decimal, locale: str = "en") -> str:
    """A relative change in percent: ``+6.6%``, ``-70.3 %`` (de: ``-70,3 %``)."""
    return _signed(_percent(value, locale), value, locale)


def _label(labels: dict[str, str]):
    """A filter: a side, status or health key -> its shared label (labels.py), in the deal's language."""

    @jinja2.pass_context
    def label(context: jinja2.runtime.Context, key: str) -> str:
        return context["gettext"](labels[key])

    return label


@jinja2.pass_context
def _days(context: jinja2.runtime.Context, n: int) -> str:
    """``1 day``, ``7 days`` in the deal's language: a count of days without its sign ("3 days late")."""
    ngettext = context["ngettext"]
    return ngettext("%(num)s day", "%(num)s days", abs(n))


# --- Markdown from the deal file ---------------------------------------------
#
# Deal text is often pasted from a buyer's e-mail or a CRM, so it is treated as
# untrusted: Markdown is converted, then the HTML is cleaned by nh3 (ammonia, an
# html5ever-based allow-list sanitiser) against the allow-lists below. Anything
# not listed is dropped; the text inside an unknown tag stays as text.

# Python-Markdown's "extra" set, listed so that tables can use `align` (an
# attribute we can allow by value) instead of `style` (which we drop).
_EXTENSIONS = [
    "fenced_code", "footnotes", "attr_list", "def_list", "abbr", "md_in_html", "sane_lists",
    TableExtension(use_align_attribute=True),
]

# What deal Markdown may produce: formatting, headings, lists, tables, code,
# quotes and links. No images (a remote image is a tracking pixel, and the
# page's policy refuses them anyway), no media, frames, forms, SVG or MathML
# (they load or run things, and are the usual carriers of mutation XSS), no
# `style` or `class` (no CSS that restyles or overlays the page).
MARKDOWN_TAGS = frozenset({
    "p", "br", "hr", "div", "span",
    "em", "strong", "b", "i", "u", "s", "del", "ins", "mark", "small", "sub", "sup", "abbr", "kbd", "q", "cite",
    "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "pre", "code", "samp", "blockquote",
    "a",
})

# Attributes per tag; every other attribute (event handlers, style, class,
# name, src, ...) is dropped. `id` is kept only for footnotes (see
# _attribute_filter): a free id could shadow one the theme's scripts look up.
MARKDOWN_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "sup": {"id"},
    "li": {"id"},
}
MARKDOWN_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
}

# Links may use these schemes, or be relative (`proposal/`, `#fn:1`).
# javascript:, data:, vbscript:, file: and the rest are refused.
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

# Every link gets this `rel`: no access to this page from the opened one, no
# Referer that names the deal room, no endorsement for search engines.
LINK_REL = "noopener noreferrer nofollow"

# Dropped together with everything inside them (not just the tags): their
# content is code, CSS, or markup that browsers parse differently (mXSS).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "template", "noscript", "noembed", "noframes", "xmp", "iframe", "object", "embed",
    "svg", "math", "textarea", "select", "title",
})

_FOOTNOTE_ID = re.compile(r"^(fn|fnref):[\w-]+$")
# What a browser's URL parser strips (WHATWG URL): tabs and newlines anywhere,
# C0 controls and spaces in front.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_LEADING = "".join(map(chr, range(0x21)))


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if _FOOTNOTE_ID.match(value) else None
    return value


def _relative_url(url: str) -> str | None:
    """Relative links stay, except ``//host`` (also written ``/\\host``, ``/<tab>/host``
    or after control characters, which browsers ignore): it leaves the site while
    looking relative."""
    start = _URL_IGNORED.sub("", url).lstrip(_URL_LEADING)
    return None if start[:2].replace("\\", "/") == "//" else url


_SANITISER = nh3.Cleaner(
    tags=set(MARKDOWN_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in MARKDOWN_ATTRIBUTES.items()},
    tag_attribute_values={tag: {k: set(v) for k, v in values.items()} for tag, values in MARKDOWN_ATTRIBUTE_VALUES.items()},
    attribute_filter=_attribute_filter,
    url_schemes=set(LINK_SCHEMES),
    url_relative=_relative_url,
    link_rel=LINK_REL,
    strip_comments=True,
)
_MARKDOWN = markdown_lib.Markdown(extensions=_EXTENSIONS, output_format="html")


def sanitise_html(html: str) -> str:
    """HTML cleaned against the allow-lists above (the last step of :func:`markdown`)."""
    return _SANITISER.clean(html)


def markdown(text: str | None) -> Markup:
    """Deal Markdown to safe HTML: every Markdown field of a deal goes through here.

    Raw HTML in the text is allowed only as far as the allow-lists above
    allow it; everything else is removed.
    """
    if not text:
        return Markup("")
    _MARKDOWN.reset()
    return Markup(sanitise_html(_MARKDOWN.convert(text)))
