"""The reference engine on screen: the plain code that computes what the pages show
(``deeprnn_core.engine.reference``, which the tests hold the fast engine to, 1e-12)."""

from __future__ import annotations

import streamlit as st

from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _
from deeprnn_core.engine import reference

CONTEXT = 6  # lines of the stack's loop shown on each side of the marked one
HOLDS = N_(
    "This is the reference engine: the same equations as the fast engine that computed the "
    "page's numbers, one step at a time. The tests hold the two equal to 1e-12."
)


def step_listing(box, phase: str, cell: str, t: int, l: int) -> None:
    """In ``box``, an expander with the code that computed the step-through's last cell: the
    stack's loop with the line marked (H_t^(l) forward, G_t^(l) backward), then the cell's
    own step function that line runs."""
    shown = reference.listing(phase, cell)
    lines = shown.stack.splitlines()
    marked = shown.stack_line
    lines[marked] += f"  # ◀ this step: t = {t}, l = {l}"
    first = max(0, marked - CONTEXT)
    window = "\n".join(lines[first : marked + CONTEXT + 1])
    what = "step" if phase == "forward" else "step_back"
    fields = dict(cell=shown.cell_name, first=first + 1, last=marked + CONTEXT + 1, what=what)
    if phase == "forward":
        label = _("The code that ran this step ({cell} cell, forward pass)")
        marks = _(
            "The marked line computes $H_t^{{(l)}}$; it calls the cell's `step` (lines "
            "{first}-{last} of `reference.run`), then the {cell} cell's `{what}`:"
        )
    else:
        label = _("The code that ran this step ({cell} cell, backward pass)")
        marks = _(
            "The marked line computes $G_t^{{(l)}}$ (lines {first}-{last} of `reference.run`), "
            "then the {cell} cell's `{what}`:"
        )
    with box.expander(label.format(**fields)):
        st.caption(_(HOLDS) + " " + marks.format(**fields))
        st.code(window, language="python")
        st.code(shown.cell, language="python")


def cell_code(cells: tuple[str, ...]) -> None:
    """An expander with each cell type's reference step, forward and backward."""
    kinds = tuple(dict.fromkeys(cells))  # in order, once each
    label = ngettext("The code of the cell: {cells}", "The code of the cells: {cells}", len(kinds))
    with st.expander(label.format(cells=", ".join(kinds))):
        st.caption(_(HOLDS))
        for name in kinds:
            st.code(reference.cell_source(name), language="python")
