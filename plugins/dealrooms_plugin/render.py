"""Render a deal's pages to HTML fragments with Jinja (autoescaped).

Templates live in the package under ``templates/dealrooms/``; a file at the
same path in an override folder (the MkDocs ``custom_dir``, here
``theme_overrides/``) wins. The fragments are the page bodies; an adapter
(MkDocs today) wraps them in its theme's page shell.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Iterable

import jinja2
import markdown as markdown_lib
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from markupsafe import Markup

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
    PageSpec("overview", "Overview", "", "home"),
    PageSpec("plan", "Plan", "plan/", "timeline"),
    PageSpec("people", "People", "people/", "people"),
    PageSpec("value", "Value", "value/", "value"),
    PageSpec("proposal", "Proposal", "proposal/", "proposal"),
)


@dataclass(frozen=True)
class RenderedPage:
    spec: PageSpec
    html: str  # the page body
    text: str  # plain text, for the deal's search index


def make_env(override_dirs: Iterable[Path] = ()) -> jinja2.Environment:
    """A Jinja environment for deal-room fragments; override folders come first."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(d)) for d in override_dirs if Path(d).is_dir()]
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        date=_date, money=_money, number=_number, percent=_percent, markdown=markdown, humanize=humanize,
        days=_days, plural=_plural,
    )
    return env


def render_pages(view: DealView, env: jinja2.Environment, *, calendar_file: str | None = None) -> list[RenderedPage]:
    """Render the five pages of one deal room.

    ``calendar_file`` is the deal's ``.ics`` path relative to the deal root,
    linked from the Plan page when given.
    """
    pages = []
    for spec in PAGES:
        prefix = "../" * spec.path.count("/")

        def url_to(name: str, prefix: str = prefix) -> str:
            return prefix + next(p.path for p in PAGES if p.name == name) or "./"

        html = env.get_template(f"dealrooms/{spec.name}.html").render(
            d=view, page_spec=spec, pages=PAGES, url_to=url_to,
            calendar_url=prefix + calendar_file if calendar_file else None,
        )
        pages.append(RenderedPage(spec, html, html_to_text(html)))
    return pages


# --- filters ----------------------------------------------------------------


def _locale(locale: str | None) -> Locale:
    try:
        return Locale.parse(locale or "en")
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def _date(value: dt.date | None, locale: str = "en", fmt: str = "medium") -> str:
    """``format='medium'`` -> 15 Feb 2027 (en_GB) / Feb 15, 2027 (en)."""
    if value is None:
        return ""
    formats = {"short_day": "d MMM", "day_month": "d MMMM", "weekday": "EEEE d MMMM y"}
    return format_date(value, formats.get(fmt, fmt), locale=_locale(locale))


def _money(value: Decimal | float, currency: str, locale: str = "en") -> str:
    return format_currency(value, currency, locale=_locale(locale))


def _number(value: float | Decimal | None, locale: str = "en") -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=_locale(locale))


def _percent(value: float, locale: str = "en") -> str:
    return format_percent(value / 100, locale=_locale(locale))


def _days(n: int) -> str:
    n = abs(n)
    return f"{n} day" if n == 1 else f"{n} days"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


_MARKDOWN = markdown_lib.Markdown(extensions=["extra", "sane_lists"], output_format="html")


def markdown(text: str | None) -> Markup:
    """Rep-written Markdown to HTML (the rep is trusted; raw HTML passes)."""
    if not text:
        return Markup("")
    _MARKDOWN.reset()
    return Markup(_MARKDOWN.convert(text))


_TAG = re.compile(r"<(script|style|svg)\b.*?</\1>|<[^>]+>", re.S)
_SPACE = re.compile(r"\s+")


def html_to_text(html: str) -> str:
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", html))).strip()
