"""The depth scrub of the Information flow page: the core's grids of every depth 1..L, cached,
drawn as one figure whose frames the browser scrubs through.

Every grid comes from ``analysis.scrub.depth_scrub`` on the same model, input and loss as
the page's trace, so the frame of depth L is the page's own grid.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.figures.scrub import scrub_figure, time_stride
from app.parts import layout
from app.runs import budget, compute
from app.words.i18n import N_
from app.words.i18n import gettext as _
from deeprnn_core.analysis.scrub import DepthScrub, depth_scrub
from deeprnn_core.engine import cost

SCRUB = N_(
    "Depth scrub: drag the plot's depth slider (or press play) to see the grid of the network "
    "of depth 1, 2, …, L: the lower layers of this one, with the output head on the top layer "
    "shown. Every frame is in the page already, so dragging redraws in the browser with no "
    "rerun. One colour scale serves every depth. Orange: $X_t$; green: $O_t$."
)
SCRUB_SECONDS = 4.0  # one scrub, computed once per setting then cached
# building the figure: plotly validates every frame's traces, ~8 ms per depth measured at
# L = 32, T = 100 on a quiet machine (0.25-0.3 s, more than the scrub's own 0.07 s there)
FRAME_SECONDS = 12e-3


def scrub_seconds(spec: compute.TraceSpec, reference: bool = False) -> float:
    """Estimated wall time (the core's cost model at the server's measured speed, or in the
    budget's fixed reference units): one forward, and one backward per layer with every depth
    that reaches it side by side; and a frame of the figure per depth."""
    c = spec.config
    frames = FRAME_SECONDS * c.num_layers * budget.speed("trace", reference)
    scrub = cost.scrub_seconds(c, spec.steps, spec.batch, spec.dtype)
    return budget.at_speed(scrub, c, reference) + frames


@st.cache_data(max_entries=4, show_spinner=False)  # draw says what runs, in the run's language
def grids(spec: compute.TraceSpec) -> DepthScrub:
    """The depth scrub of ``spec``'s model and input (its dropout masks too)."""
    model, tr = compute.get_trace(spec)
    return depth_scrub(
        model, tr.input, spec.loss_kind, dtype=spec.dtype, training=spec.training,
        dropout_seed=spec.seed,
    )  # fmt: skip


def draw(run: layout.Run, color_by: str) -> bool:
    """Every depth's grid as frames of one figure: the browser scrubs, the server is idle.
    False (and a notice) when it would take too long: the page then draws depth L only."""
    spec = run.spec
    seconds, reference = scrub_seconds(spec), scrub_seconds(spec, reference=True)
    if reference > SCRUB_SECONDS:  # the settings alone decide
        st.info(
            _(
                "Scrubbing depth would run the backward pass of every depth 1..L, priced at "
                "{price}, over the {budget} s budget: lower L, T, h or B to scrub. The grid below "
                "is depth L only."
            ).format(price=budget.priced(reference, seconds), budget=f"{SCRUB_SECONDS:g}"),
            icon=":material/info:",
        )
        return False
    st.caption(
        _(
            "The backward pass of every depth 1..{L} and a frame for each: about {seconds} s here."
        ).format(L=spec.config.num_layers, seconds=f"{seconds:.2g}")
    )
    with st.spinner(_("Running the backward pass of every depth 1..L…")):
        scrub = grids(spec)
    L, T = scrub.hidden_norm.shape
    if color_by == "grad":
        norms, bad = scrub.grad_hidden_norm, scrub.nonfinite_grad
    else:  # |H| of layer l is the same at every depth that has it
        below = np.tril(np.ones((L, L), dtype=bool))[:, :, None]  # [D-1, l-1]: l <= D
        norms = np.where(below, scrub.hidden_norm[None], np.nan)
        bad = below & scrub.nonfinite_hidden[None]
    stride = time_stride(L, T, bool(bad.any()))
    fig = scrub_figure(norms, bad, scrub.attenuation, spec.config.cells, color_by, stride)
    layout.chart(fig, "scrub_chart")
    notes = [_(SCRUB)]
    if stride > 1:
        notes.append(
            _("To keep the {L} frames under 2 MB, each shows one step in {stride} (and t = T).")
            .format(L=L, stride=stride)
        )  # fmt: skip
    if bad.any():
        notes.append(_("Magenta cells hold inf / nan (overflow)."))
    st.caption(" ".join(notes))
    return True
