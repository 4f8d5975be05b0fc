"""Hidden states: H_t^(l) unit by unit over time, per layer, and one timescale per layer."""

import numpy as np
import streamlit as st

from app import figures
from app.parts import layout
from app.runs import compute
from app.settings import state
from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _
from deeprnn_core.analysis.measures import clear_change

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "Each heatmap is one layer's state $H_t^{(l)}$ for one sample: a row per hidden unit, a "
    "column per time step, one shared colour scale (red positive, blue negative). Look for how "
    "the texture changes with depth; the timescales below measure it."
)
TIMESCALE = N_(  # {tutorial}: the tutorial's link in the page's language
    "The tutorial this app follows, {tutorial}, says *different layers capture different "
    "levels of abstraction*. One measurable sign: the **lag-1 autocorrelation** ρ of "
    "$H_t^{(l)}$ over time (mean over units and samples) and the **timescale** −1/ln ρ it "
    "implies, in steps. A larger timescale means the layer keeps information longer and "
    "varies more slowly."
)  # fmt: skip

CELL_GRAD = N_(
    "$|\\partial \\text{Loss} / \\partial C_t^{(l)}|$, the gradient of the LSTM's cell state "
    "(the norm of Trace.grad_cell_state). Its direct path one step back, from "
    "$C_t^{(l)}$ to $C_{t-1}^{(l)}$, multiplies it by the forget gate f only, with no weight "
    "matrix in between: where f stays near 1 this gradient fades slowly. This is the path "
    "along which an LSTM carries gradient far back."
)


def chosen_layers(run: layout.Run, container) -> tuple[tuple[int, ...], int]:
    """The layers to draw: the user's pick, else spread from bottom to top; and how many fit."""
    L, T, h = run.spec.config.num_layers, run.spec.steps, run.spec.config.hidden_size
    fit = figures.layers_that_fit(h, T, wanted=6)
    picked = state.widget("layers_shown", container, options=tuple(range(1, L + 1)))
    layers = tuple(sorted(picked))[:fit] if picked else figures.spread_layers(L, min(fit, 4))
    if picked and len(picked) > fit:
        st.info(
            ngettext(
                "At h = {h}, T = {T} one figure holds {fit} layer: drawing {layers}.",
                "At h = {h}, T = {T} one figure holds {fit} layers: drawing {layers}.",
                fit,
            ).format(h=h, T=T, fit=fit, layers=layers)
        )
    return layers, fit


def timescale_words(timescale: np.ndarray) -> str:
    """What the measured timescales say about depth here: top layer against layer 1."""
    L = len(timescale)
    first, last = timescale[0], timescale[-1]
    if L == 1:
        return _("With one layer there is no depth to compare.")
    if np.isnan(first) or np.isnan(last):
        return _(
            "The timescale of layer 1 or layer L is undefined here (overflow, a constant "
            "layer or T < 3): no comparison across depth."
        )
    shown = {0: _("0 steps"), np.inf: "∞"}
    a, b = (shown.get(v, _("{n} steps").format(n=f"{v:.3g}")) for v in (first, last))
    if max(first, last) < 1:
        return _(
            "Both timescales are under one step (layer 1: {first}, top layer: {last}): each "
            "layer forgets within a step, so there is no timescale to compare across depth."
        ).format(first=a, last=b)
    infinite = np.isinf(first) or np.isinf(last)
    sign = (1 if last > first else -1 if last < first else 0) if infinite else clear_change(
        float(first), float(last))  # fmt: skip
    return {
        0: _("Here the top layer's timescale ({last}) is **about the same as** layer 1's "
             "({first})."),
        1: _("Here the top layer's timescale ({last}) is **longer than** layer 1's ({first})."),
        -1: _("Here the top layer's timescale ({last}) is **shorter than** layer 1's "
              "({first})."),
    }[sign].format(first=a, last=b)  # fmt: skip


@layout.guarded
def draw(run: layout.Run) -> None:
    s, tr = run.summary, run.trace
    cols = st.columns([1, 4])
    sample = state.widget("sample", cols[0], high=run.spec.batch)
    layers, fit = chosen_layers(run, cols[1])
    hidden = tr.hidden[np.asarray(layers) - 1, :, sample - 1, :]  # (n, T, h), a copy
    layout.chart(figures.hidden_heatmaps(hidden, layers, sample), "hidden_heatmaps")
    if fit < 4:
        st.caption(
            ngettext(
                "At this h × T, {fit} layer heatmap fits in one figure; pick others above.",
                "At this h × T, {fit} layer heatmaps fit in one figure; pick others above.",
                fit,
            ).format(fit=fit)
        )
    st.subheader(_("Timescale per layer"))
    st.markdown(_(TIMESCALE).replace("{tutorial}", layout.tutorial()))
    layout.chart(figures.timescale_bars(s.autocorrelation, s.timescale), "timescales")
    st.markdown(timescale_words(s.timescale))
    with st.expander(_("Table: ρ and timescale per layer")):
        st.dataframe(
            {
                _("layer l"): np.arange(1, len(s.autocorrelation) + 1),
                _("lag-1 autocorrelation ρ"): s.autocorrelation,
                _("timescale (steps)"): s.timescale,
            },
            hide_index=True,
        )

    if figures.gated_layers(run.spec.config.cells):
        st.subheader(_("Gate saturation"))
        st.markdown(_(layout.SATURATION))
        layout.draw_gate_saturation(run.spec, "gates")
    cell_grad = compute.cell_grad_norm(run.spec)
    if cell_grad is not None:
        st.subheader(_("LSTM cell-state gradient"))
        st.markdown(_(CELL_GRAD))
        layout.chart(figures.cell_grad_lines(cell_grad, run.spec.config.cells), "cell_grad")


COMPUTED = (
    N_(
        "ρ and the timescale per layer: `analysis.layer_timescales`; the gate saturation: "
        "`analysis.gate_saturation`."
    ),
)
run = layout.start("Hidden states", EXPLAIN, COMPUTED)
draw(run)
