"""The Tuning map's form in the address bar: a shared link opens the same study (the same
StudySpec, so the same key in the database), as the sidebar's settings do for the other pages.

The form's fields are the page's own (not sidebar settings): URL parameters ``tm*``, decoded
as hostile input (a bad value goes back to the form's default with a notice naming it), kept
per session under ``stored(FIELD)`` so that leaving the page and coming back keeps the form.
Pure apart from the session-state helpers at the end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from app.settings.controls import quote
from app.words.i18n import gettext as _
from deeprnn_core import CELLS, TASKS

DEPTHS = (1, 2, 3, 4, 6, 8)
LOG_LRS = tuple(x / 2 for x in range(-10, 1))  # -5 .. 0 in half decades
# field: (URL name, default, the form widget's key)
# The default map is one where the tutorial's claim can be checked: on the character model
# every depth learns at 200 updates (on the adding problem at T = 20 none did at 100, so the page
# could only say so); measured 2026-12-07: good windows 1.33 / 1.33 / 0.67 decades (lstm) and
# 0.67 at every L (tanh rnn) at L = 1 / 2 / 4, validation loss 42.8-47.7 against the unigram
# baseline's 56.1; 126 trials, priced at about 95 s on two workers.
FIELDS = {
    "task": ("tmtask", "chars", "tm_task"),
    "cells": ("tmcells", ("rnn", "lstm"), "tm_cells"),
    "depths": ("tmdepths", (1, 2, 4), "tm_depths"),
    "seeds": ("tmseeds", 3, "tm_seeds"),
    "lrs": ("tmlr", (-4.0, 0.0), "tm_lrs"),
    "count": ("tmnlr", 7, "tm_count"),
    "steps": ("tmsteps", 200, "tm_steps"),
    "hidden": ("tmh", 16, "tm_h"),
}
BOUNDS = {"seeds": (1, 20), "count": (2, 9), "steps": (5, 2000), "hidden": (2, 128)}
BY_URL = {url: field for field, (url, _d, _k) in FIELDS.items()}
DEFAULTS = {field: default for field, (_u, default, _k) in FIELDS.items()}


def decode(field: str, text: str) -> Any:
    """The value of ``field`` written ``text`` in a URL; ValueError says why not."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if field == "task":
        if text not in TASKS:
            raise ValueError(  # the URL's spellings, as code: typed as they are
                _("not one of {names}").format(names=", ".join(f"`{t}`" for t in TASKS))
            )
        return text
    if field == "cells":
        bad = [t for t in items if t not in CELLS]
        if bad or not items or len(set(items)) != len(items):
            raise ValueError(_("a list of distinct cell types from {names}").format(
                names=", ".join(CELLS)))  # fmt: skip
        return tuple(items)
    if field == "depths":
        try:
            depths = tuple(sorted({int(t) for t in items}))
        except ValueError:
            depths = ()
        if not depths or any(d not in DEPTHS for d in depths):
            raise ValueError(_("a list of depths from {names}").format(
                names=", ".join(map(str, DEPTHS))))  # fmt: skip
        return depths
    if field == "lrs":
        try:
            lo, hi = (float(t) for t in items)
        except ValueError:
            lo = hi = None
        if lo is None or lo not in LOG_LRS or hi not in LOG_LRS or lo >= hi:
            raise ValueError(_("two log10 learning rates lo < hi from {low} to {high} in half "
                               "decades").format(low=LOG_LRS[0], high=LOG_LRS[-1]))  # fmt: skip
        return (lo, hi)
    low, high = BOUNDS[field]
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(_("a whole number from {low} to {high}").format(low=low, high=high))
    return int(text)


def encode(field: str, value: Any) -> str:
    if field in ("cells", "depths", "lrs"):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def from_query(params: Mapping[str, str | list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The form's values from the ``tm*`` parameters of ``params`` (defaults for the rest),
    and a notice per bad value (the others belong to the sidebar: not read here)."""
    values, notices = dict(DEFAULTS), []
    for name, given in params.items():
        field = BY_URL.get(name)
        if field is None:
            continue
        text = given if isinstance(given, str) else (list(given) or [""])[-1]
        try:
            values[field] = decode(field, text)
        except ValueError as err:
            notices.append(
                _("URL parameter {name} = {text} is not valid ({why}); using the default "
                  "{default}.").format(name=quote(name), text=quote(text), why=err,
                                       default=quote(encode(field, DEFAULTS[field])))
            )  # fmt: skip
    return values, notices


def to_query(values: Mapping[str, Any]) -> dict[str, str]:
    """The URL parameters of the form's ``values`` (those that differ from the defaults)."""
    return {
        FIELDS[field][0]: encode(field, value)
        for field, value in values.items()
        if value != DEFAULTS[field]
    }


# --- Streamlit session
_STORED, _NOTICES = "tuning:values", "tuning:notices"


def load() -> None:
    """Once per session, at its first run (whichever page that is, as state.load does for the
    sidebar's settings): the form's values from the URL."""
    if _STORED not in st.session_state:
        query = st.query_params
        values, notices = from_query({name: query.get_all(name) for name in query})
        st.session_state[_STORED], st.session_state[_NOTICES] = values, notices


def prime() -> list[str]:
    """Before the form is drawn: give each form widget its kept value (a widget's own state is
    dropped while another page runs). Returns the URL's notices, shown until the form is
    applied with other values."""
    load()
    for field, value in st.session_state[_STORED].items():
        key = FIELDS[field][2]
        if key not in st.session_state:
            st.session_state[key] = list(value) if field in ("cells", "depths") else value
    return st.session_state[_NOTICES]


def form_values() -> dict[str, Any]:
    """The form's widgets' values (after it is drawn), as fields."""
    values = {field: st.session_state.get(key, DEFAULTS[field]) for field, (_u, _d, key) in
              FIELDS.items()}  # fmt: skip
    values["cells"], values["depths"] = tuple(values["cells"]), tuple(sorted(values["depths"]))
    values["lrs"] = tuple(float(v) for v in values["lrs"])
    return values


def keep(values: Mapping[str, Any]) -> dict[str, str]:
    """After the form: keep its ``values`` for the session (dropping the URL's notices once
    they differ from what the URL gave) and return their URL parameters."""
    if dict(values) != st.session_state.get(_STORED):
        st.session_state[_NOTICES] = []
    st.session_state[_STORED] = dict(values)
    return to_query(values)


def kept() -> dict[str, str]:
    """The URL parameters of the form as last kept (an incomplete form keeps the link)."""
    return to_query(st.session_state.get(_STORED, DEFAULTS))


def names() -> tuple[str, ...]:
    """Every URL parameter of the form (the router leaves them to this page)."""
    return tuple(url for url, _d, _k in FIELDS.values())
