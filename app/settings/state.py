"""The session side of the controls (settings.controls holds the table and the URL codec):
each setting's value in session state, its widget, a sidebar section and the address bar. The
sidebar that draws them all is settings.sidebar."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import streamlit as st

from app.settings import language
from app.settings.controls import BY_KEY, CONTROLS, Settings, from_query, to_query
from app.words.i18n import gettext as _
from app.words.i18n import ngettext

_LOADED, _NOTICE, _PAGE, _NEW_PAGE = "_url_loaded", "_url_notice", "_page", "_new_page"
_PAGE_QUERY = "_page_query"


# --- Streamlit session
# Each setting lives in session state under stored(key), apart from its widget (key ``key``).
# A widget's own state is dropped when a page that does not draw it runs (and a widget drawn on
# two pages is two widgets), so the stored value is the truth: copied into the widget before it
# is drawn, and back by the widget's on_change callback.
def stored(key: str) -> str:
    """The session-state key of a setting's value."""
    return f"setting:{key}"


def load(skip: tuple[str, ...] = ("lang",)) -> None:
    """Once per session, fill the settings from the URL (defaults for the rest). The
    parameters in ``skip`` belong to someone else (the language; the lesson's step)."""
    if st.session_state.get(_LOADED):
        return
    query = st.query_params
    values, notices = from_query({name: query.get_all(name) for name in query if name not in skip})
    for key, value in values.items():
        st.session_state[stored(key)] = value
    st.session_state[_NOTICE] = (tuple(notices), values)
    st.session_state[_LOADED] = True


def begin_run(page: str) -> None:
    """Note which page this run draws: on another page every widget is a new one."""
    st.session_state[_NEW_PAGE] = st.session_state.get(_PAGE) != page
    st.session_state[_PAGE] = page
    st.session_state[_PAGE_QUERY] = {}


def set_page_query(query: dict[str, str]) -> None:
    """The page's own URL parameters this run (the Tuning map's form), written after the
    settings by write_url."""
    st.session_state[_PAGE_QUERY] = dict(query)


def page_query() -> dict[str, str]:
    return dict(st.session_state.get(_PAGE_QUERY, {}))


def from_url() -> tuple[tuple[str, ...], dict]:
    """The URL's notices and the values it gave (``load`` keeps them for the session)."""
    return st.session_state.get(_NOTICE, ((), {}))


def url_notices() -> tuple[str, ...]:
    """The URL's notices, as long as nothing was changed since the URL was read."""
    notices, values = from_url()
    return notices if notices and asdict(current()) == values else ()


def get(key: str) -> Any:
    """The current value of setting ``key``."""
    return st.session_state.get(stored(key), BY_KEY[key].default)


def put(key: str, value: Any) -> None:
    """Set setting ``key`` (from a callback, or before its widget is drawn)."""
    st.session_state[stored(key)] = value


def current():
    """The Settings now."""
    return Settings(**{c.key: get(c.key) for c in CONTROLS})


def write_url() -> None:
    """Put every setting in the address bar (re-applied on every run: navigation clears it),
    then the page's own parameters (page_query) and the language. A fragment's rerun, which
    skips the router, writes the same."""
    query = to_query(current()) | page_query() | {language.PARAM: language.current()}
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def reset() -> None:
    """Callback: every control back to its default."""
    for c in CONTROLS:
        put(c.key, c.default)


def _changed(key: str) -> None:
    """on_change callback: the widget's new value becomes the setting."""
    value = st.session_state[key]
    put(key, tuple(value) if isinstance(BY_KEY[key].default, tuple) else value)


def clamped(key: str, high: float | None = None) -> Any:
    """The value widget(key, high=high) will show: the setting, clamped to its bounds (for a
    page that sends its figure before it draws the controls above it)."""
    c, value = BY_KEY[key], get(key)
    if c.kind in ("slider", "number"):
        kind = type(c.default)
        value = min(max(value, kind(c.low)), kind(c.high if high is None else high))
    return value


def widget(
    key: str, container=None, *, high: float | None = None, options=None, shown=None, **kwargs
) -> Any:
    """Draw the control ``key`` and return its value. ``high`` tightens the upper bound and
    ``options`` gives the choices of a layer picker; a stored value outside them is clamped.
    ``shown``: the value a disabled control displays instead of the setting (what an uploaded
    model fixes), the setting itself left as it is for when the upload is removed."""
    c, box = BY_KEY[key], container or st
    if shown is not None:
        value = shown
        if st.session_state.get(_NEW_PAGE, True) or st.session_state.get(key) != value:
            st.session_state[key] = list(value) if c.kind == "layers" else value
        common = dict(key=key, help=c.help, disabled=True)
        if c.kind in ("slider", "number"):
            kind = type(c.default)
            low, high = kind(c.low), kind(max(c.high, value))
            make = box.slider if c.kind == "slider" else box.number_input
            return make(c.label, low, high, step=kind(c.step), **common)
        if c.kind in ("select", "radio"):
            names = dict(zip(c.options, c.labels or c.options))
            make = box.selectbox if c.kind == "select" else box.radio
            return make(c.label, c.options, format_func=names.get, **common)
        if c.kind == "check":
            return box.checkbox(c.label, **common)
        return box.text_input(c.label, **common)
    value = clamped(key, high)
    if c.kind in ("slider", "number"):
        kind = type(c.default)
        low, high = kind(c.low), kind(c.high if high is None else high)
    elif c.kind == "layers":
        options = tuple(options or ())
        if dropped := [v for v in value if v not in options]:
            box.info(
                ngettext(
                    "{label}: {values} is not a layer of this network (1 to {top}); left out.",
                    "{label}: {values} are not layers of this network (1 to {top}); left out.",
                    len(dropped),
                ).format(
                    label=_(c.label).split(" (")[0].split("(")[0],
                    values=", ".join(map(str, dropped)),
                    top=max(options, default=0),
                ),
                icon=":material/info:",
            )
        value = tuple(v for v in value if v in options)
    put(key, value)
    if c.kind in ("slider", "number") and high <= low:  # a slider cannot span one value
        box.caption(_("{label}: {value} (only value)").format(label=_(c.label), value=value))
        return value
    # The same key on another page is another widget (its id holds the page) that would start
    # at its default: set it then, and whenever the setting changed elsewhere (a click, a
    # reset, a clamp). Not on every run: each set value is re-sent to the browser.
    shown = list(value) if c.kind == "layers" else value
    if st.session_state.get(_NEW_PAGE, True) or st.session_state.get(key) != shown:
        st.session_state[key] = shown
    label = _(c.label)  # the catalog's (app/locale): English as it is
    common = dict(key=key, help=_(c.help) if c.help else "", on_change=_changed, args=(key,),
                  **kwargs)  # fmt: skip
    if c.kind == "slider":  # the value given: without one, Streamlit reads its whole session
        # state to guess single or range (get_session_state().filtered_state, ~0.5 ms a slider)
        return box.slider(label, low, high, value=kind(value), step=kind(c.step), **common)
    if c.kind == "number":
        return box.number_input(label, low, high, step=kind(c.step), **common)
    if c.kind in ("select", "radio"):
        names = {o: _(str(t)) for o, t in zip(c.options, c.labels or c.options)}
        extra = {"horizontal": True} if c.kind == "radio" else {}
        make = box.selectbox if c.kind == "select" else box.radio
        return make(label, c.options, format_func=names.get, **common, **extra)
    if c.kind == "check":
        return box.checkbox(label, **common)
    if c.kind == "text":
        return box.text_input(label, max_chars=300, **common)
    return tuple(box.multiselect(label, options, max_selections=6, **common))


def section(label: str, key: str, expanded: bool = False, container=None):
    """A sidebar expander whose content is drawn only while it is open (opening it reruns the
    script): a closed section costs the server and the browser nothing on a rerun. Returns the
    expander, or None while it is closed.

    ``expanded``: open at first. A click's state is kept under stored(key) and given back as
    ``expanded``, so the section stays as the user left it on every page (an expander on
    another page, or with another ``expanded``, is another widget)."""
    is_open = st.session_state.get(stored(key), expanded)
    box = (container or st.sidebar).expander(
        label, is_open, key=key, on_change=_toggled, args=(key,)
    )
    return box if box.open else None


def _toggled(key: str) -> None:
    st.session_state[stored(key)] = bool(st.session_state[key])
