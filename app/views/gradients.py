"""Gradient flow: |G_t^(l)| against t per layer, parameter-gradient norms, the attenuation."""

import pandas as pd
import streamlit as st

from app import figures, layout, lesson

EXPLAIN = (
    "$G_t^{(l)} = \\partial \\text{Loss} / \\partial H_t^{(l)}$ is the total derivative: every "
    "path back from the loss, through time and through depth. On a log scale, a straight "
    "downward slope from right to left means the gradient shrinks by the same factor at "
    "every step back: it **vanishes** (or **explodes** if the lines rise)."
)
MEASURES = (
    'One ratio cannot stand for "the gradient problem": each measure below follows one path '
    "back from the top-right cell (t = T, l = L) and is named for it (analysis.measures). The "
    "per-step rate is the geometric mean factor per Jacobian on that path; the weight ratios "
    "compare the root-mean-square entry of the bottom layer's gradient with the top layer's "
    "(W_xh^(1) is d × h, the others h × h), which says whether the bottom layer learns."
)
PARAMS = (
    "Per layer, the norm of $\\partial \\text{Loss} / \\partial W_{xh}^{(l)}$ (weights on the "
    "path through depth, from layer l−1) next to $\\partial \\text{Loss} / \\partial "
    "W_{hh}^{(l)}$ (the path through time). Layers whose bars are orders of magnitude lower "
    "barely learn."
)


@layout.guarded
def draw(run: layout.Run) -> None:
    s = run.summary
    L, T = s.grad_norm.shape
    value, sentence = figures.attenuation_words(s.attenuation, L, T)
    cols = st.columns([2, 1, 1])
    cols[0].metric(
        "$|G_1^{(1)}| \\,/\\, |G_T^{(L)}|$ (analysis.attenuation)",
        value,
        help="How much of the gradient at the top-right cell reaches the bottom-left one.",
    )
    cols[0].markdown(sentence)
    cols[1].metric("Loss", f"{s.loss:.4g}")
    clipped = "" if run.spec.clip_norm is None else f" → {s.grad_norm_clipped:.3g} clipped"
    cols[2].metric("Parameter-gradient norm", f"{s.grad_norm_total:.3g}{clipped}")
    layout.chart(figures.grad_lines(s.grad_norm, s.nonfinite_grad), "grad_lines")
    st.subheader("Measures along each path")
    st.markdown(MEASURES)
    columns = ["path", "formula", "value", "Jacobians on the path", "the gradient along it"]
    rows = lesson.table_rows(s.measures, L, T)
    st.table(pd.DataFrame(rows, columns=columns).set_index("path"))
    st.subheader("Parameter gradients per layer")
    st.markdown(PARAMS)
    if run.spec.clip_norm is not None:
        st.caption(f"Shown after clipping to a global norm of {run.spec.clip_norm:g}.")
    layout.chart(figures.param_grad_bars(s.param_grad_norms), "param_grads")


run = layout.start("Gradient flow", EXPLAIN)
draw(run)
