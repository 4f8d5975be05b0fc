"""theory.linear next to the measurement (Gradient flow's theory panel for the element-wise
cells): the LRU's row below the top over t, or the minGRU / minLSTM gate factor per layer."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import base_layout, sym
from app.words.i18n import N_
from app.words.i18n import gettext as _

LABELS = {  # the traces' names (meta: the trace's role, the same in every language)
    "measured": N_("measured"),
    "exact": N_("predicted from λ (exact)"),
    "modulus": N_("predicted from |λ| only"),
    "predicted": N_("mean field"),
}


def lru_row(predicted: np.ndarray, modulus: np.ndarray, measured: np.ndarray, r2: float,
            r2_modulus: float) -> go.Figure:  # fmt: skip
    """|G_t^(L-1)| for t = 1..T-1: measured (solid), exact from λ (dashed), from |λ| alone
    (dotted); log y; both R² in the title. Traces meta "measured", "exact", "modulus"."""
    t = np.arange(1, measured.shape[0] + 1)
    fig = go.Figure()
    for name, y, dash, width in (("measured", measured, "solid", 3), ("exact", predicted, "dash",
                                 2), ("modulus", modulus, "dot", 2)):  # fmt: skip
        label = _(LABELS[name])
        fig.add_trace(
            go.Scatter(
                x=t,
                y=np.where(y > 0, y, np.nan),
                mode="lines",
                name=label,
                meta=name,
                line=dict(dash=dash, width=width),
                hovertemplate=f"t = %{{x}}: {label} %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_xaxes(title=_("time step t"))
    fig.update_yaxes(title=f"|{sym('G')}<sub>t</sub><sup>(L−1)</sup>|  " + _("(log scale)"),
                     type="log", exponentformat="power")  # fmt: skip
    title = _("The row below the top LRU: R² = {r2} (λ), {r2_modulus} (|λ| only)").format(
        r2=f"{r2:.3f}", r2_modulus=f"{r2_modulus:.3f}"
    )
    return base_layout(fig, 380, title=dict(text=title, x=0, font=dict(size=14)))


def gate_factor(predicted: np.ndarray, measured: np.ndarray, r2: float) -> go.Figure:
    """The per-step factor E[a²] of E|G|² through time per layer l (mean over t): measured
    (solid, markers) and mean field (dashed); R² over the (L, T) grid in the title. Traces meta
    "measured", "predicted"."""
    layers = np.arange(1, predicted.shape[0] + 1)
    fig = go.Figure()
    for name, values, dash in (("measured", measured, "solid"), ("predicted", predicted, "dash")):
        y = np.nanmean(values, axis=1)
        label = _(LABELS[name])
        fig.add_trace(go.Scatter(x=layers, y=y, mode="lines+markers", name=label, meta=name,
                                 line=dict(dash=dash),
                                 hovertemplate=f"l = %{{x}}: {label} E[a²] %{{y:.4f}}"
                                 "<extra></extra>"))  # fmt: skip
    fig.update_xaxes(title=_("layer l"), dtick=1 if layers.size <= 16 else 4)
    fig.update_yaxes(title=_("E[a²] per step (mean over t)"))
    title = _("Gate factor through time, a = 1 − z or f′: R² = {r2} over the (l, t) grid").format(
        r2=f"{r2:.3f}"
    )
    return base_layout(fig, 360, title=dict(text=title, x=0, font=dict(size=14)))
