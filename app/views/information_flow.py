"""Information flow: the tutorial's (d2l) time x layer diagram, live, with a step-through and a cell
inspector."""

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import figures
from app.figures import theory as theory_figures
from app.figures.flow import (
    MAX_ARROW_CELLS,
    MAX_ARROW_STEPS,
    NARROW_PX,
    arrows_drawn,
    narrow_min_width,
    picker_stride,
)
from app.parts import code, depth_frames, layout
from app.runs import compute
from app.runs import theory as compute_theory
from app.settings import state
from app.words import core_text
from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _
from deeprnn_core.engine.order import PHASES, order_text
from deeprnn_core.theory import mean_field as theory

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "The time × layer diagram of a deep RNN from {tutorial}, computed live. "
    "Each square is one hidden state $H_t^{(l)}$: time $t$ runs left to right, layers from "
    "the input $X_t$ (bottom) to the output $O_t$ (top). Arrows pass $H_{t-1}^{(l)}$ along "
    "the layer (memory) and $H_t^{(l-1)}$ up to the next layer (depth). Colour by $|G|$ = "
    "$|\\partial \\text{Loss} / \\partial H_t^{(l)}|$: when the bottom-left cells are many "
    "powers of ten darker than the top-right one, the gradient **vanishes** on its way back."
)
THEORY = {
    "prediction": N_(
        "Colour: the mean-field prediction of E|G_t^(l)|²/h per sample (for "
        "this run's gains and input; Gradient flow compares it with a seed average). Hover a "
        "cell for this run's |H| and |G| next to it."
    ),
    "ratio": N_(
        "Colour: this run's |G_t^(l)|²/(B·h) over the predicted E|G_t^(l)|²/h. White: the run "
        "follows the mean field; blue: its gradient is below the prediction; red: above it. "
        "This is one weight draw: the level of the whole grid moves with the draw of the head "
        "W_hq, through which the loss enters, and at small h whole rows can be off by powers of "
        "ten. Gradient flow compares the shape with a seed average."
    ),
}


# On a narrow screen (a phone) the grid keeps the width its arrows need, inside a box that
# scrolls sideways (style only: Streamlit puts it in no box of its own)
NARROW_CSS = (
    f"<style>@media (max-width: {NARROW_PX}px) {{ .st-key-flow_grid_box {{ overflow-x: auto; }} "
    ".st-key-flow_grid_box .st-key-flow_chart { min-width: WIDTHpx; } }</style>"
)


def order_caption(L: int, T: int) -> str:
    """The core's order of computation, in the core's words (engine.order_text)."""
    forward, backward = (core_text.order(phase, L, T, order_text(phase, L, T)) for phase in PHASES)
    return _(
        "Order of computation in the core: {forward}. Then the {backward}. Each layer reads "
        "the whole sequence of the layer below. Another order that respects the arrows (time "
        "step by time step across the layers) gives the same numbers; this is the one that ran."
    ).format(forward=forward, backward=backward)


def pick_cell() -> None:
    """on_select callback: a click on a cell selects it for the inspector below."""
    event = st.session_state.get("flow_chart")
    points = event["selection"]["points"] if event else []
    for point in points:
        t, l = int(round(point["x"])), int(round(point["y"]))
        if 1 <= l <= state.get("num_layers") and t >= 1:  # not the X_t / O_t rows
            state.put("cell_t", t)
            state.put("cell_l", l)
            return


class Walk(NamedTuple):
    """The step-through's position (figures.lit_mask of ``step``, computed once per run)."""

    step: int  # cell updates done, 0..2LT
    lit: np.ndarray  # (L, T) bool: the cells of this pass computed so far
    phase: str  # "forward" or "backward"
    current: tuple[int, int]  # (t, l) of the cell computed last, (0, 0) before the first


def walk_caption(walk: Walk, L: int, T: int) -> str:
    forward = walk.phase == "forward"
    done = walk.step if forward else walk.step - L * T
    t, l = walk.current
    if forward:
        text = ngettext(
            "**Forward pass**: {done} of {cells} cell $H_t^{{(l)}}$ computed",
            "**Forward pass**: {done} of {cells} cells $H_t^{{(l)}}$ computed",
            L * T,
        )
    else:
        text = ngettext(
            "**Backward pass**: {done} of {cells} cell $G_t^{{(l)}}$ computed",
            "**Backward pass**: {done} of {cells} cells $G_t^{{(l)}}$ computed",
            L * T,
        )
    text = text.format(done=done, cells=L * T)
    if t:
        text += _("; last: t = {t}, l = {l}").format(t=t, l=l)
    return text + "."


# Not cached: built at once (figures.encoding.build) the grid takes ~4 ms and the vectors ~2 ms,
# less than st.cache_data spends hashing the spec and pickling the figure on a miss, and every
# slider move is a miss.
def grid_figure(spec: compute.TraceSpec, color_by: str, walk: Walk | None, selected) -> go.Figure:
    """The time x layer grid of ``spec``'s trace; ``walk``: the step-through's position."""
    s = compute.summarize(spec)
    return figures.flow_grid(
        s.hidden_norm, s.grad_hidden_norm, s.nonfinite_hidden, s.nonfinite_grad,
        s.input_norm, s.output_norm, color_by=color_by, lit=walk.lit if walk else None,
        current=walk.current if walk else None, selected=selected, cells=spec.config.cells,
    )  # fmt: skip


def vectors_figure(spec: compute.TraceSpec, t: int, l: int, b: int) -> tuple[go.Figure, go.Figure]:
    """H_t^(l) and G_t^(l) of sample b, unit by unit: two figures."""
    tr = compute.get_trace(spec)[1]
    hidden_vec = tr.hidden[l - 1, t - 1, b - 1]  # (h,)
    grad_vec = tr.grad_hidden[l - 1, t - 1, b - 1]  # (h,)
    return figures.cell_vectors(hidden_vec, grad_vec, t, l, b)


@st.fragment
@layout.guarded
def explorer(run: layout.Run) -> None:
    """The grid and the inspector; a fragment, so stepping or clicking does not re-run the
    page (the trace is cached anyway: only figures are redrawn). The controls above the grid
    are drawn after it, into their place: the grid reaches the browser first."""
    s = run.summary
    L, T = s.hidden_norm.shape
    above = st.container()
    scrubbing = L > 1 and state.clamped("scrub")
    walk = state.clamped("walk") and not scrubbing
    t, l = state.clamped("cell_t", high=T), state.clamped("cell_l", high=L)
    b = state.clamped("sample", high=run.spec.batch) if run.spec.batch > 1 else 1
    if walk:  # the pass decides the colour: H in the forward pass, G in the backward
        step = state.clamped("walk_step", high=2 * L * T)
        walk = Walk(step, *figures.lit_mask(L, T, step))
        color_by = "hidden" if walk.phase == "forward" else "grad"
    else:
        walk, color_by = None, state.clamped("color_by")
    mode = "off" if walk else state.clamped("flow_theory")
    if not (scrubbing and depth_frames.draw(run, color_by)):
        grid(run, color_by if mode == "off" else "grad", walk, (t, l), mode)
    controls(above, L, T, run.spec.batch, scrubbing, walk, run.spec.config.cells)
    inspector(run, t, l, b)


def controls(
    box, L: int, T: int, B: int, scrubbing: bool, walk: Walk | None, cells: tuple[str, ...]
) -> None:
    """The explorer's widgets, in ``box`` above the grid (their values were read before)."""
    cols = box.columns([3, 2, 3, 1, 1, 1])
    if L > 1:
        state.widget("scrub", cols[1])
    state.widget("walk", cols[2], disabled=scrubbing)
    state.widget("cell_t", cols[3], high=T)
    state.widget("cell_l", cols[4], high=L)
    if B > 1:
        state.widget("sample", cols[5], high=B)
    if walk:
        state.widget("walk_step", box, high=2 * L * T)
        if walk.phase == "forward":
            cols[0].markdown(_("Colour: state |H| (forward pass)"))
        else:
            cols[0].markdown(_("Colour: gradient |G| (backward pass)"))
        box.markdown(walk_caption(walk, L, T))
        box.caption(order_caption(L, T))  # the order the step-through follows
        t, l = walk.current if walk.current[0] else (1, 1)  # before the first: layer 1's
        code.step_listing(box, walk.phase, cells[l - 1], t, l)
    else:
        state.widget("color_by", cols[0])
        state.widget("flow_theory", box)


def grid(run: layout.Run, color_by: str, walk: Walk | None, selected, mode: str) -> None:
    """The time x layer grid (coloured by the theory in ``mode``) and its notes."""
    L, T = run.summary.hidden_norm.shape
    fig = grid_figure(run.spec, color_by, walk, selected)
    if mode != "off":
        theory_colours(run.spec, fig, mode)
    if (width := narrow_min_width(L, T)) is not None:  # a phone scrolls the grid sideways
        st.html(NARROW_CSS.replace("WIDTH", str(width)))
    with st.container(key="flow_grid_box"):
        layout.chart(fig, "flow_chart", on_select=pick_cell, selection_mode="points")
    notes = []
    if not arrows_drawn(L, T):
        notes.append(
            _(
                "Arrows are drawn up to T = {steps} and {cells} cells: every cell still takes "
                "$H_{{t-1}}^{{(l)}}$ from its left and $H_t^{{(l-1)}}$ from below."
            ).format(steps=MAX_ARROW_STEPS, cells=MAX_ARROW_CELLS)
        )
    if (stride := picker_stride(L, T)) > 1:
        notes.append(
            _("At this size a click picks one step in {stride}; set t for any other.").format(
                stride=stride
            )
        )
    if notes:
        st.caption(" ".join(notes))


def theory_colours(spec: compute.TraceSpec, fig, mode: str) -> None:
    """Colour ``fig``'s cells by the mean-field prediction or by measured / predicted; or say
    why there is no prediction for this run."""
    gap = compute_theory.prediction_gap(spec)
    if gap:
        st.info(
            _(
                "No prediction to colour by: the mean-field theory covers {scope}, with random "
                "weights of known variance; this run has {gap}. The grid shows |G|."
            ).format(scope=core_text.rule(theory.SCOPE), gap=gap),
            icon=":material/info:",
        )
        return
    measured, predicted = compute_theory.grid_theory(spec)
    s = compute.summarize(spec)
    theory_figures.colour_grid(fig, (s.hidden_norm, s.grad_hidden_norm), measured, predicted, mode)
    st.caption(_(THEORY[mode]))


def inspector(run: layout.Run, t: int, l: int, b: int) -> None:
    """The vectors of one cell of the page's trace (depth L)."""
    st.markdown(  # one element, heading and text: each costs the browser a redraw per rerun
        _("### Inside cell t = {t}, l = {l}").format(t=t, l=l)
        + "\n\n"
        + _(
            "Click a cell above (or set t and l) to see its vectors for one sample: the state "
            "$H_t^{(l)}$ unit by unit, and $G_t^{(l)}$, how the loss changes with each unit."
        )
    )
    for column, fig, key in zip(
        st.columns(2), vectors_figure(run.spec, t, l, b), ("cell_vectors", "cell_vectors_g")
    ):  # side by side, stacked on a narrow screen
        with column:
            layout.chart(fig, key)
    state.write_url()  # a fragment rerun skips the router, which writes the URL otherwise


COMPUTED = (
    N_(
        "The grid: `analysis.cell_norms` of the trace; the step-through's order: "
        "`deeprnn_core.computation_order`; the depth scrub: `analysis.scrub.depth_scrub`; the "
        "predicted colours: `theory.predict`."
    ),
)
run = layout.start("Information flow", EXPLAIN, COMPUTED)
explorer(run)
