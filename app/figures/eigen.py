"""Where the eigenvalues are: the unit circle and, per layer, what multiplies the gradient at
each step back through time (analysis.eigen): eig(W_hh) of a plain rnn layer with Pascanu's
1 / γ circle, the LRU's λ, and for the cells whose factor is a diagonal that changes with t
(minGRU 1 − z_t, minLSTM f'_t, the LSTM's forget gate f_t) its spread over the trace on the
real axis: 5-95 % thin, 25-75 % thick, a dot at the median, each layer a hair below the axis."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import base_layout
from app.figures.gradients import layer_colors
from app.words.i18n import N_
from app.words.i18n import gettext as _

MAX_FIXED_LAYERS = 8  # eigenvalue clouds drawn at most: h markers each (SVG nodes)


def eigen_figure(layers: list, num_layers: int) -> go.Figure:
    """The complex plane with the unit circle and one trace group per layer.

    Args:
        layers: analysis.recurrence_eigen(model, trace): LayerEigen per layer that has one.
        num_layers: L, for the layer colours (shared with the other gradient figures).
    Traces: "unit circle"; per fixed layer "l = k (cell)" markers at its eigenvalues; per gate
    layer "l = k (cell)" with its 5-95 % and 25-75 % segments and median dot; "1/γ (l = k)"
    dashed circles where Pascanu's radius is not 1. Hover names the layer and the value.
    """
    fig = go.Figure()
    angle = np.linspace(0.0, 2 * np.pi, 361)
    fig.add_trace(go.Scatter(x=np.cos(angle), y=np.sin(angle), mode="lines", name="unit circle",
                             line=dict(color="#888", width=1), hoverinfo="skip"))  # fmt: skip
    colors = layer_colors(num_layers)
    radii = sorted({round(e.bound, 12) for e in layers if np.isfinite(e.bound) and e.bound != 1})
    for r in radii:
        fig.add_trace(go.Scatter(x=r * np.cos(angle), y=r * np.sin(angle), mode="lines",
                                 name=f"1/γ = {r:g} (Pascanu)", hoverinfo="skip",
                                 line=dict(color="#888", width=1, dash="dash")))  # fmt: skip
    fixed = [e.layer for e in layers if e.fixed]
    drawn = set(fixed)
    if len(fixed) > MAX_FIXED_LAYERS:  # evenly spaced, the first and the last among them
        picks = np.linspace(0, len(fixed) - 1, MAX_FIXED_LAYERS).round().astype(int)
        drawn = {fixed[i] for i in picks}
    for e in layers:
        name, color = f"l = {e.layer} ({e.cell})", colors[e.layer - 1]
        if e.fixed:
            if e.layer not in drawn:
                continue
            v = np.asarray(e.values, dtype=complex)
            fig.add_trace(go.Scatter(
                x=v.real, y=v.imag, mode="markers",
                name=name, customdata=np.abs(v),
                marker=dict(color=color, size=6), legendgroup=name,
                hovertemplate=f"{name} {e.label}: %{{x:.3f}} %{{y:+.3f}}i, "
                              "|·| = %{customdata:.4f}<extra></extra>"))  # fmt: skip
            continue
        q05, q25, q50, q75, q95 = e.values
        y = -0.03 * e.layer
        fig.add_trace(go.Scatter(x=[q05, q95], y=[y, y], mode="lines", name=name,
                                 legendgroup=name, line=dict(color=color, width=2),
                                 hoverinfo="skip"))  # fmt: skip
        fig.add_trace(go.Scatter(x=[q25, q75], y=[y, y], mode="lines", showlegend=False,
                                 legendgroup=name, line=dict(color=color, width=7),
                                 hoverinfo="skip"))  # fmt: skip
        text = (f"l = {e.layer} ({e.cell}) {e.label} over the trace: median {q50:.3f}, "
                f"25-75 % {q25:.3f}-{q75:.3f}, 5-95 % {q05:.3f}-{q95:.3f}")  # fmt: skip
        fig.add_trace(go.Scatter(x=[q50], y=[y], mode="markers", showlegend=False, text=[text],
                                 legendgroup=name, marker=dict(color=color, size=9),
                                 hovertemplate="%{text}<extra></extra>"))  # fmt: skip
    title = None
    if len(drawn) < len(fixed):
        title = _("Eigenvalues of layers {drawn} of {total} drawn (every layer in the list "
                  "below)").format(drawn=", ".join(map(str, sorted(drawn))),
                                   total=len(fixed))  # fmt: skip
    base_layout(
        fig,
        460,
        xaxis_title="Re",
        yaxis_title="Im",
        **({"title": dict(text=title, font=dict(size=13))} if title else {}),
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1, zeroline=True)
    fig.update_xaxes(zeroline=True)
    return fig


VARIANT_NAMES = {
    ("none", "lambda"): N_("no normalization, ∂/∂λ"),
    ("gamma", "lambda"): N_("γ = √(1−λ²) its own parameter, ∂/∂λ"),
    ("gamma", "nu"): N_("γ its own parameter, ∂/∂ν, λ = exp(−exp ν) (the LRU)"),
    ("coupled", "nu"): N_("γ(λ) differentiated with λ, ∂/∂ν"),
}


def memory_figure(curves: list[tuple]) -> go.Figure:
    """The curse of memory on log axes against 1 − λ: E[h²] (dotted) and E[(∂h/∂p)²] (solid),
    closed forms as lines, the Monte-Carlo measurement as markers, one colour per variant.

    Args:
        curves: [(closed, measured)] per variant, theory.memory.Memory each.
    Traces: "<variant>: E[(∂h/∂p)²]" and "… measured" per variant, "<variant>: E[h²]" lines.
    """
    fig = go.Figure()
    colors = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")
    for (closed, measured), color in zip(curves, colors):
        name = VARIANT_NAMES[(closed.normalization, closed.parametrization)]
        gap = 1.0 - closed.lam
        fig.add_trace(go.Scatter(x=gap, y=closed.sensitivity, mode="lines", line_color=color,
                                 name=f"{name}: E[(∂h/∂p)²]", legendgroup=name,
                                 hovertemplate="1−λ = %{x:.3g}: %{y:.3g}<extra>closed form"
                                               "</extra>"))  # fmt: skip
        fig.add_trace(go.Scatter(x=1.0 - measured.lam, y=measured.sensitivity, mode="markers",
                                 marker=dict(color=color, size=8), legendgroup=name,
                                 name=f"{name}: measured", hovertemplate="1−λ = %{x:.3g}: "
                                 "%{y:.3g}<extra>measured</extra>"))  # fmt: skip
        if closed.parametrization == "lambda":  # E[h²] does not depend on the parametrisation
            fig.add_trace(go.Scatter(x=gap, y=closed.state, mode="lines", legendgroup=name,
                                     line=dict(color=color, dash="dot"), name=f"{name}: E[h²]",
                                     hovertemplate="1−λ = %{x:.3g}: %{y:.3g}<extra>E[h²]"
                                                   "</extra>"))  # fmt: skip
    base_layout(fig, 460, xaxis_title="1 − λ (memory grows to the left)",
                yaxis_title="stationary second moment")  # fmt: skip
    fig.update_xaxes(type="log", autorange="reversed")
    fig.update_yaxes(type="log")
    return fig
