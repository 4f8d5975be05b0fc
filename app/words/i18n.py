"""The app's two languages through gettext: the catalog app/locale/zh/LC_MESSAGES/deeprnn.po
(English msgids, Chinese msgstrs; `make messages` extracts and compiles it with babel).

Pure: no Streamlit. The language of the current run is a ContextVar, set once per run by the
router (``use``) and read by ``gettext`` / ``ngettext``, so word and figure functions take no
language argument. Numbers go through babel's formatting for the current language.
"""

from __future__ import annotations

import contextlib
import functools
import gettext as stdlib_gettext
from contextvars import ContextVar
from pathlib import Path

from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "deeprnn"
LANGUAGES = ("en", "zh")  # English is the msgid language; Chinese the catalog's
NAMES = {"en": "English", "zh": "中文"}  # each language named in itself (never translated)
BABEL_LOCALE = {"en": "en_US", "zh": "zh_Hans_CN"}
_CURRENT: ContextVar[str] = ContextVar("deeprnn_language", default="en")


@functools.cache
def translations(lang: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: the msgids as they are)."""
    if lang == "en":
        return stdlib_gettext.NullTranslations()
    return stdlib_gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def use(lang: str) -> None:
    """Set the language of this run (an unknown one is English)."""
    _CURRENT.set(lang if lang in LANGUAGES else "en")


def language() -> str:
    """The language of this run."""
    return _CURRENT.get()


@contextlib.contextmanager
def using(lang: str):
    """Within the block, ``lang`` (tests, the handout built in another language)."""
    token = _CURRENT.set(lang if lang in LANGUAGES else "en")
    try:
        yield
    finally:
        _CURRENT.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language (import as ``_`` for extraction)."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The plural form of the current language for ``count`` (Chinese has one form)."""
    return translations(language()).ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    """Mark a string for the catalog without translating it now (tables at import time)."""
    return message


def sentences(*texts: str) -> str:
    """Whole sentences one after another, as the current language runs them on: a space after
    English's full stop, none after Chinese's (。). Empty ones are left out."""
    return ("" if language() == "zh" else " ").join(t for t in texts if t)


def count(value: int) -> str:
    """A whole number grouped as the current language writes it (1,234)."""
    return format_decimal(value, locale=BABEL_LOCALE[language()])


def decimal(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits: grouped decimals from 1e-3 to 1e6, else
    scientific (3.21e-13), the same in both languages."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        rounded = float(f"{value:.{digits}g}")
        return format_decimal(rounded, format="#,##0.#########", locale=BABEL_LOCALE[language()])
    return f"{value:.{digits - 1}e}"


def pick(query_value: str | None, browser_locale: str | None) -> tuple[str, bool]:
    """The language from ``?lang=`` (first), else the browser's locale ("zh-CN" -> zh), else
    English; and whether the URL's value was refused (not one of LANGUAGES)."""
    browser = "zh" if browser_locale and str(browser_locale).lower().startswith("zh") else "en"
    if query_value is None:
        return browser, False
    return (query_value, False) if query_value in LANGUAGES else (browser, True)
