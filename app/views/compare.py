"""Plain vs deep: the seed's comparison table, with measured numbers for L = 1 and L."""

import pandas as pd
import streamlit as st

from app import compute, layout, training_rows

EXPLAIN = (
    "The seed's table compares a plain (one-layer) RNN with a deep one. Here the numeric rows "
    "are measured by the core for L = 1 and for the current L, everything else equal (the "
    "plain network uses the first layer's cell and activation)."
)
QUALITATIVE = [
    ("Expressiveness", "limited", "strong",
     "Each layer adds a nonlinearity on top of the one below, so the top layer can compute "
     "more abstract functions of the input (see the timescales on Hidden states)."),
    ("Training difficulty", "moderate", "higher",
     "More parameters and longer gradient paths (T + L − 1 cells from (1, 1) to (T, L)) make "
     "optimisation more sensitive to initialisation and learning rate."),
    ("Gradient problems", "present", "more severe",
     "Every extra layer multiplies the backward signal by one more Jacobian: compare the "
     "attenuation rows above."),
    ("Typical use", "simple sequences", "complex sequences",
     "Speech, translation and other tasks with structure at several timescales."),
]  # fmt: skip
REMEDIES = (
    "The seed's remedies are in the sidebar under *Remedies*: gradient clipping, dropout, "
    "residual connections and layer normalisation (learning-rate schedules need training, "
    "which this app does not do)."
)


def fmt_ratio(value: float) -> str:
    return f"{value:.3g}" if value == value else "nan (overflow)"


@layout.guarded
def draw(run: layout.Run) -> None:
    deep, plain_spec = run.summary, compute.plain(run.spec)
    plain = compute.summarize(plain_spec)
    t_plain, t_deep = compute.trace_time(plain_spec), compute.trace_time(run.spec)
    L = run.spec.config.num_layers
    rows = [
        ("Layers L", "1", f"{L}", "The seed: single layer vs stacked layers."),
        ("Parameters (Model.num_params)", f"{plain.num_params:,}", f"{deep.num_params:,}",
         "W_xh^(l), W_hh^(l), b_h^(l) per layer plus the head W_hq, b_q."),
        ("FLOPs per time step (analysis.flops_per_step)", f"{plain.flops_per_step:,}",
         f"{deep.flops_per_step:,}", "The seed's O(h²) vs O(L h²), for this batch."),
        ("Measured trace time, forward + backward (analysis.time_trace)",
         f"{t_plain * 1e3:.1f} ms", f"{t_deep * 1e3:.1f} ms",
         f"T = {run.spec.steps}, B = {run.spec.batch}, measured once on this server."),
        ("Gradient attenuation |G_1^(1)| / |G_T^(L)| (analysis.attenuation)",
         fmt_ratio(plain.attenuation), fmt_ratio(deep.attenuation),
         "Below 1: vanishing; above 1: exploding."),
    ]  # fmt: skip
    columns = ["plain RNN (L = 1)", f"deep RNN (L = {L})", "why"]
    table = pd.DataFrame([row[1:] for row in rows + QUALITATIVE], columns=columns,
                         index=[row[0] for row in rows + QUALITATIVE])  # fmt: skip
    st.table(table)
    st.caption(
        "Top five rows: measured by deeprnn_core for these settings. Bottom four: the seed's "
        "qualitative rows, with the reason for each."
    )
    st.markdown(REMEDIES)


run = layout.start("Plain vs deep", EXPLAIN)
draw(run)
training_rows.draw(run.settings)
