"""The reference engine on screen: the plain code that computes what the pages show
(``deeprnn_core.engine.reference``, which the tests hold the fast engine to, 1e-12)."""

from __future__ import annotations

import streamlit as st

from deeprnn_core.engine import reference

CONTEXT = 6  # lines of the stack's loop shown on each side of the marked one
HOLDS = (
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
    with box.expander(f"The code that ran this step ({shown.cell_name} cell, {phase} pass)"):
        st.caption(
            f"{HOLDS} The marked line computes "
            + ("$H_t^{(l)}$; it calls the cell's `step`" if phase == "forward" else "$G_t^{(l)}$")
            + f" (lines {first + 1}-{marked + CONTEXT + 1} of `reference.run`), then the "
            f"{shown.cell_name} cell's `{what}`:"
        )
        st.code(window, language="python")
        st.code(shown.cell, language="python")


def cell_code(cells: tuple[str, ...]) -> None:
    """An expander with each cell type's reference step, forward and backward."""
    kinds = tuple(dict.fromkeys(cells))  # in order, once each
    with st.expander(f"The code of the cell{'s' if len(kinds) > 1 else ''}: {', '.join(kinds)}"):
        st.caption(HOLDS)
        for name in kinds:
            st.code(reference.cell_source(name), language="python")
