"""The buyer's language: gettext catalogs (Babel) and the deal's locale.

Every word Dealrooms writes for a buyer goes through the catalogs under
``locales/<language>/LC_MESSAGES/dealrooms.po`` (compiled next to it as
``dealrooms.mo``, both in the package). Templates use Jinja's i18n extension
(``{% trans %}``, ``_()``, ``ngettext``); Python marks words with
:func:`N_` and translates them where they are shown.

A deal's ``locale`` (``de``, ``en_GB``, ``pt_BR``) picks both the catalog
(by language: ``de_AT`` reads ``de``) and the CLDR formats of dates, money
and numbers (by the whole code). English is the source language and needs
no catalog.

Adding a language is one catalog, no code: ``./dev i18n init LANG``, fill
in the ``.po`` file, ``./dev i18n`` (see README, "Translations").
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any, Callable

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from babel.support import NullTranslations, Translations
from markupsafe import Markup

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "dealrooms"
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention, and the extraction keyword
    """Mark ``message`` for translation without translating it (translated where it is shown)."""
    return message


@functools.lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages a deal room can be written in: English and every catalog in the package."""
    found = {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted(found | {SOURCE_LANGUAGE}))


class UnsupportedLocale(ValueError):
    """A deal's ``locale`` that CLDR does not know, or whose language has no catalog."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def parse_locale(code: str) -> Locale:
    """The Babel locale of a deal's ``locale`` value, or :class:`UnsupportedLocale` saying what to write.

    Accepts ``de``, ``en_GB`` and ``en-GB``; refuses codes CLDR does not know
    (``vn`` is the country, ``vi`` the language) and languages without a
    catalog (the page would mix English words with, say, Japanese dates).
    """
    text = str(code).strip()
    try:
        locale = Locale.parse(text.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        close = _close_locales(text)
        hint = f"did you mean {close[0]!r}?" if close else f"deal rooms are written in: {', '.join(languages())}"
        raise UnsupportedLocale(f"unknown locale {text!r}; expected a language code like de or en_GB", hint) from None
    if locale.language not in languages():
        raise UnsupportedLocale(
            f"no translation for {locale.get_display_name('en')!r} ({text}); expected one of {', '.join(languages())}",
            "add a catalog for it (README, 'Translations'), or pick a listed language",
        )
    return locale


def _close_locales(text: str) -> list[str]:
    # Languages Dealrooms speaks first, so 'vn' suggests 'vi', not an obscure CLDR code.
    lowered = text.lower().replace("-", "_")[:16]
    close = difflib.get_close_matches(lowered, languages(), n=1, cutoff=0.5)
    if close:
        return close
    return difflib.get_close_matches(text.replace("-", "_")[:16], locale_identifiers(), n=1, cutoff=0.7)


@functools.lru_cache(maxsize=32)
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for ``locale``'s language (``de_AT`` -> ``de``); English needs none."""
    language = Locale.parse(locale.replace("-", "_")).language
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)


def html_lang(locale: str) -> str:
    """The BCP 47 tag for ``<html lang>``: ``en_GB`` -> ``en-GB``."""
    return str(locale).replace("_", "-")


def template_callables(locale: str) -> dict[str, Callable[..., Any]]:
    """``gettext``, ``ngettext``, ``pgettext`` and ``_`` for one render, in Jinja's new-style form.

    Passed in the render context (Jinja's i18n extension looks the names up
    there), so one environment serves every language. New style: the
    translated text is formatted with ``%(name)s`` placeholders from keyword
    arguments, and under autoescaping the arguments are escaped, the
    catalog's text is not (translators' text is trusted, deal text is not).
    """
    catalog = translations(locale)

    def _format(text: str, variables: dict[str, Any]) -> Markup:
        # Always formatted, as Jinja's own new-style gettext does: `%%` in a
        # message is a literal `%`. Markup % dict escapes each value.
        return Markup(text) % variables

    def gettext(message: str, **variables: Any) -> Markup:
        return _format(catalog.gettext(message), variables)

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return _format(catalog.ngettext(singular, plural, num), variables)

    def pgettext(context: str, message: str, **variables: Any) -> Markup:
        return _format(catalog.pgettext(context, message), variables)

    def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return _format(catalog.npgettext(context, singular, plural, num), variables)

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext, "_": gettext}


def translate(locale: str, message: str, **variables: Any) -> str:
    """One message in ``locale``'s language, as plain text (for Python outputs such as the calendar)."""
    return translations(locale).gettext(message) % variables


def ntranslate(locale: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware :func:`translate`; ``%(num)s`` is the count."""
    variables.setdefault("num", num)
    return translations(locale).ngettext(singular, plural, num) % variables
