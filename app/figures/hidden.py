"""Hidden states H_t^(l), unit by unit over time, and one timescale number per layer."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.encoding import (
    MARGIN,
    base_layout,
    compact,
    finite_or_nan,
    legend_strip,
    overflow_heatmap,
    overflow_legend,
    overflow_markers,
    sym,
)

MAX_CELLS = 300_000  # heatmap cells per figure (~1.2 MB as float32): more layers -> fewer shown


def layers_that_fit(hidden_size: int, steps: int, wanted: int = 4) -> int:
    """How many (h x T) layer heatmaps one figure shows (at least 1, at most ``wanted``)."""
    return int(max(1, min(wanted, MAX_CELLS // max(1, hidden_size * steps))))


def spread_layers(num_layers: int, count: int) -> tuple[int, ...]:
    """``count`` layers from bottom to top, evenly spaced, 1-based (always 1 and L)."""
    count = min(count, num_layers)
    return tuple(int(v) for v in np.unique(np.round(np.linspace(1, num_layers, count))))


def hidden_heatmaps(hidden: np.ndarray, layers: tuple[int, ...], sample: int) -> go.Figure:
    """One heatmap per chosen layer (unit x time), one shared, symmetric colour scale.

    Args:
        hidden: (n, T, h) H_t^(l) of one sample for the n chosen layers (trace.hidden[l-1, :, b]).
        layers: the 1-based layer numbers of those n rows (drawn top layer first).
        sample: the 1-based sample, for the title.
    Traces: for each layer a heatmap named "H^(l)" with z = H[:, unit].T (h, T), then an
    "inf / nan (overflow)" heatmap for any layer holding inf / nan.
    """
    n, T, h = hidden.shape
    order = list(range(n))[
        ::-1
    ]  # the top layer drawn at the top, as in the tutorial's (d2l) diagram
    finite = hidden[np.isfinite(hidden)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    bound = bound if bound > 0 else 1.0
    fig = make_subplots(
        rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.06 if n > 1 else 0,
        subplot_titles=[f"{sym('H', 't', layers[i])}: layer l = {layers[i]}" for i in order],
    )  # fmt: skip
    t_axis, units = np.arange(1, T + 1, dtype=np.float32), np.arange(1, h + 1, dtype=np.float32)
    bad_total = 0
    for row, i in enumerate(order, start=1):
        z = hidden[i].T  # (h, T)
        fig.add_trace(
            go.Heatmap(z=finite_or_nan(z), x=t_axis, y=units, coloraxis="coloraxis",
                       name=f"H^({layers[i]})",
                       hovertemplate=f"l = {layers[i]}, t = %{{x}}, unit %{{y}}"
                                     "<br>value %{z:.4g}<extra></extra>"),
            row=row, col=1,
        )  # fmt: skip
        bad = ~np.isfinite(z)
        if bad.any():
            bad_total += int(bad.sum())
            fig.add_trace(overflow_heatmap(bad, t_axis, units), row=row, col=1)
        fig.update_yaxes(title_text="unit", row=row, col=1)
    if bad_total:
        fig.add_trace(overflow_legend(bad_total))
    fig.update_xaxes(title_text="time step t", row=n, col=1)
    if T <= 12:  # whole steps only (plotly would tick 0.6 .. 1.4 at T = 1)
        fig.update_xaxes(tick0=1, dtick=1)
    fig.update_layout(
        coloraxis=dict(colorscale="RdBu_r", cmin=-bound, cmax=bound,
                       colorbar=dict(title=dict(text=f"{sym('H')}<br>sample {sample}"))),
    )  # fmt: skip
    return base_layout(fig, int(np.clip(60 + 190 * n, 280, 1000)))


def timescale_bars(autocorrelation: np.ndarray, timescale: np.ndarray) -> go.Figure:
    """Per layer: lag-1 autocorrelation rho of H_t^(l) and its timescale -1/ln(rho) in steps.

    Traces: "rho" bars, "timescale" bars, markers for an infinite timescale (rho >= 1) or an
    undefined one (nan: overflow, constant layer or T < 3), and diamonds at 0 for rho <= 0 (a
    bar of height 0 would show nothing). Any legend sits in a strip above the subplot titles.
    """
    L = autocorrelation.shape[0]
    layers = np.arange(1, L + 1, dtype=np.float32)
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.12,
        subplot_titles=(f"lag-1 autocorrelation ρ of {sym('H')}", "timescale −1/ln ρ (steps)"),
    )  # fmt: skip
    fig.add_trace(
        go.Bar(x=layers, y=compact(autocorrelation), name="rho", marker_color="#4e79a7",
               showlegend=False, hovertemplate="l = %{x}: ρ = %{y:.4f}<extra></extra>"),
        row=1, col=1,
    )  # fmt: skip
    tau = compact(timescale)
    shown = np.where(np.isfinite(tau), tau, np.nan).astype(tau.dtype)
    fig.add_trace(
        go.Bar(x=layers, y=shown, name="timescale", marker_color="#59a14f", showlegend=False,
               hovertemplate="l = %{x}: %{y:.3g} steps<extra></extra>"),
        row=1, col=2,
    )  # fmt: skip
    odd = ~np.isfinite(tau)
    top = float(np.nanmax(shown)) * 1.1 if np.isfinite(shown).any() else 1.0
    if odd.any():
        text = ["∞ (ρ ≥ 1)" if v == np.inf else "undefined (nan)" for v in tau[odd]]
        name = "∞ or undefined: overflow, a constant layer, or T < 3"
        marks = overflow_markers(layers[odd], np.full(odd.sum(), top), text, name=name)
        fig.add_trace(marks, row=1, col=2)
    flat = np.isfinite(autocorrelation) & (autocorrelation <= 0)  # tau = 0: a bar of height 0
    if flat.any():
        fig.add_trace(
            go.Scatter(x=layers[flat], y=np.zeros(int(flat.sum()), dtype=np.float32),
                       mode="markers", name="0 steps: ρ ≤ 0, no lag-1 memory",
                       marker=dict(symbol="diamond", size=11, color="#59a14f",
                                   line=dict(width=1, color="#333")),
                       text=[f"{r:.3f}" for r in autocorrelation[flat]],
                       hovertemplate="l = %{x}: ρ = %{text} ≤ 0, timescale 0 steps"
                                     "<extra></extra>"),
            row=1, col=2,
        )  # fmt: skip
    fig.update_xaxes(title_text="layer l", dtick=1 if L <= 16 else 4)
    rho = autocorrelation[np.isfinite(autocorrelation)]
    low = min(0.0, float(rho.min())) if rho.size else 0.0
    fig.update_yaxes(range=[low - 0.05, 1.05], row=1, col=1)
    fig.update_yaxes(range=[-0.06 * top, top * 1.08], row=1, col=2)  # room for the 0 marks
    return base_layout(fig, 300, **legend_strip(bool(odd.any() or flat.any()), MARGIN))
