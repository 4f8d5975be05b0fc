"""The session's language (words.i18n holds the catalog): from ``?lang=`` first, else the
browser's (st.context.locale), else English; the sidebar's switch; and the ``lang`` parameter
every shared link carries. A bad ``?lang=`` value falls back with a notice."""

from __future__ import annotations

import streamlit as st

from app.words import i18n
from app.words.i18n import gettext as _

PARAM = "lang"
KEY = "language"  # session state: the chosen language; the widget's own key is KEY + "_choice"
_BAD = "language_refused"


def load() -> str:
    """Once per session, pick the language; on every run, make it this run's (i18n.use)."""
    if KEY not in st.session_state:
        given = st.query_params.get(PARAM)
        try:
            browser = st.context.locale
        except Exception:  # noqa: BLE001 - no browser context (AppTest, bare mode)
            browser = None
        lang, refused = i18n.pick(given, browser)
        st.session_state[KEY] = lang
        st.session_state[_BAD] = given if refused else None
    i18n.use(st.session_state[KEY])
    return st.session_state[KEY]


def current() -> str:
    return st.session_state.get(KEY, "en")


def notice() -> str | None:
    """Why the URL's ``lang`` was not used, or None."""
    bad = st.session_state.get(_BAD)
    if bad is None:
        return None
    return _("URL parameter lang = {value} is not a language here (en, zh); using {lang}.").format(
        value=repr(str(bad)[:20]), lang=i18n.NAMES[current()]
    )


def _chosen() -> None:
    st.session_state[KEY] = st.session_state[KEY + "_choice"]
    st.session_state[_BAD] = None


def widget(box=None) -> None:
    """The sidebar's language switch (each language named in itself)."""
    box = box or st.sidebar
    st.session_state[KEY + "_choice"] = current()
    box.radio(
        _("Language"), i18n.LANGUAGES, format_func=i18n.NAMES.get, horizontal=True,
        key=KEY + "_choice", on_change=_chosen, help=_("The words of the app: 中文 or English."),
    )  # fmt: skip
