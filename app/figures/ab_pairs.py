"""The A/B page's figures: both sides in one figure each, on shared colour and axis ranges,
and the ratio |G^A| / |G^B| per (t, l) on a diverging log colour scale centred at 1."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import (
    OVERFLOW_COLOR,
    OVERFLOW_NAME,
    base_layout,
    compact,
    legend_strip,
    log10_positive,
    log_ticks,
    overflow_heatmap,
    overflow_legend,
    subplot_grid,
    sym,
)
from app.figures.gradients import add_grad_lines, add_param_bars, top

ZERO_COLOR, ZERO_NAME = "#ffffff", "exactly 0"
UNDEFINED_COLOR, UNDEFINED_NAME = "#252525", "undefined: |G| = 0 on a side"
MIN_RATIO_DECADES = 0.5  # the ratio scale spans at least 10^±0.5, so noise near 1 stays pale
G_NORM = f"|{sym('G')}|"


MARGIN = dict(l=70, r=20, t=40, b=55)  # fixed: the axes have no automargin (subplot_grid)
SIDE_AXES = (dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2"))


def _grid_height(num_layers: int) -> int:
    return int(np.clip(170 + 24 * num_layers, 300, 720))


def _pair_layout(labels: tuple[str, str], x_title: str, y_title: str, **y_axis) -> dict:
    """Two subplots side by side (A left, B right) sharing both axes' ranges."""
    layout = subplot_grid([list(labels)])
    for name in ("xaxis", "xaxis2"):
        layout[name].update(title=x_title, showgrid=False, zeroline=False)
    for name in ("yaxis", "yaxis2"):
        layout[name].update(y_axis)
    layout["yaxis"]["title"] = y_title
    return layout


def _layer_axis(num_layers: int) -> dict:
    """The y axis of a time x layer grid: the layer numbers."""
    dtick = 1 if num_layers <= 16 else 2 if num_layers <= 32 else 4
    return dict(dtick=dtick, range=[0.5, num_layers + 0.5], showgrid=False, zeroline=False)


def grid_pair(
    grad_a: np.ndarray, grad_b: np.ndarray, bad_a: np.ndarray, bad_b: np.ndarray,
    labels: tuple[str, str],
) -> go.Figure:  # fmt: skip
    """The time x layer grid of log10 |G_t^(l)| of A (left) and B (right), one colour scale.

    Args:
        grad_a, grad_b: (L, T) |G_t^(l)| of each side (analysis.cell_norms).
        bad_a, bad_b: (L, T) bool, cells holding inf / nan.
        labels: the two subplot titles.
    Traces: heatmaps "A |G|" and "B |G|" (z = log10 |G|, customdata = |G|) sharing
    "coloraxis", then "inf / nan (overflow)" and "exactly 0" marks per side, and legend entries.
    """
    L, T = grad_a.shape
    t_axis, l_axis = np.arange(1, T + 1, dtype=np.float32), np.arange(1, L + 1, dtype=np.float32)
    fig = go.Figure(layout=_pair_layout(labels, "time step t", "layer l", **_layer_axis(L)))
    gap = 2 if T <= 60 else 0
    both_z = []
    counts = {OVERFLOW_COLOR: 0, ZERO_COLOR: 0}
    for axes, side, grad, bad in zip(SIDE_AXES, "AB", (grad_a, grad_b), (bad_a, bad_b)):
        z = log10_positive(grad)  # (L, T)
        both_z.append(z)
        fig.add_trace(
            go.Heatmap(z=z, x=t_axis, y=l_axis, coloraxis="coloraxis", name=f"{side} |G|",
                       customdata=compact(grad), xgap=gap, ygap=gap if L <= 40 else 0,
                       hovertemplate=f"{side}: t = %{{x}}, l = %{{y}}<br>{G_NORM} = "
                                     "%{customdata:.4g}<extra></extra>", **axes)
        )  # fmt: skip
        for mask, color, name in ((bad, OVERFLOW_COLOR, OVERFLOW_NAME),
                                  (grad == 0, ZERO_COLOR, ZERO_NAME)):  # fmt: skip
            if mask.any():
                counts[color] += int(mask.sum())
                fig.add_trace(overflow_heatmap(mask, t_axis, l_axis, color, name, xgap=gap,
                                               ygap=gap, **axes))  # fmt: skip
    if counts[OVERFLOW_COLOR]:
        fig.add_trace(overflow_legend(counts[OVERFLOW_COLOR]))
    if counts[ZERO_COLOR]:
        fig.add_trace(overflow_legend(counts[ZERO_COLOR], ZERO_COLOR, ZERO_NAME))
    z = np.concatenate([v.ravel() for v in both_z])
    finite = z[np.isfinite(z)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    fig.update_layout(
        coloraxis=dict(colorscale="Viridis", cmin=low, cmax=max(high, low + 1e-6),
                       colorbar=dict(title=dict(text=f"{G_NORM}<br>(log scale)"),
                                     **log_ticks(finite))),
    )  # fmt: skip
    legend = legend_strip(bool(sum(counts.values())), MARGIN)
    return base_layout(fig, _grid_height(L), plot_bgcolor="#d9d9d9", **legend)


def ratio_heatmap(
    ratio: np.ndarray, grad_a: np.ndarray, grad_b: np.ndarray, bad_a: np.ndarray,
    bad_b: np.ndarray,
) -> go.Figure:  # fmt: skip
    """|G^A| / |G^B| per (t, l) as log10 on a symmetric, diverging scale (blue: A keeps more
    gradient, red: less, white: the same).

    Args:
        ratio: (L, T) analysis.grad_hidden_norm_ratio(A, B).
        grad_a, grad_b: (L, T) each side's |G_t^(l)|, for the hover.
        bad_a, bad_b: (L, T) bool, cells of either side holding inf / nan.
    Traces: "ratio" (z = log10 ratio, nan where undefined; customdata (L, T, 3) = ratio,
    |G^A|, |G^B|), "inf / nan (overflow)" where a side overflowed, "undefined: ..." where the
    ratio is 0, inf or nan without an overflow (a side's |G| is exactly 0), legend entries.
    """
    L, T = ratio.shape
    t_axis, l_axis = np.arange(1, T + 1, dtype=np.float32), np.arange(1, L + 1, dtype=np.float32)
    z = log10_positive(ratio)  # (L, T)
    finite = z[np.isfinite(z)]
    bound = max(MIN_RATIO_DECADES, float(np.abs(finite).max()) if finite.size else 0.0)
    custom = np.stack([compact(ratio), compact(grad_a), compact(grad_b)], axis=-1)  # (L, T, 3)
    gap = 2 if T <= 60 else 0
    fig = go.Figure(
        go.Heatmap(
            z=z, x=t_axis, y=l_axis, name="ratio", customdata=custom, colorscale="RdBu",
            zmin=-bound, zmax=bound, zmid=0, xgap=gap, ygap=gap if L <= 40 else 0,
            colorbar=dict(title=dict(text=f"|{sym('G')}<sup>A</sup>| / |{sym('G')}<sup>B</sup>|"
                                          "<br>(log scale)"),
                          **_ratio_ticks(bound)),
            hovertemplate="t = %{x}, l = %{y}<br>|G<sup>A</sup>| / |G<sup>B</sup>| = "
                          "%{customdata[0]:.4g}<br>|G<sup>A</sup>| = %{customdata[1]:.4g}, "
                          "|G<sup>B</sup>| = %{customdata[2]:.4g}<extra></extra>",
        )
    )  # fmt: skip
    overflow = bad_a | bad_b
    undefined = ~np.isfinite(z) & ~overflow
    for mask, color, name in ((overflow, OVERFLOW_COLOR, OVERFLOW_NAME),
                              (undefined, UNDEFINED_COLOR, UNDEFINED_NAME)):  # fmt: skip
        if mask.any():
            name = name or OVERFLOW_NAME
            fig.add_trace(overflow_heatmap(mask, t_axis, l_axis, color, name, xgap=gap, ygap=gap))
            fig.add_trace(overflow_legend(int(mask.sum()), color, name))
    fig.update_layout(
        yaxis=dict(title="layer l", automargin=False, **_layer_axis(L)),
        xaxis=dict(title="time step t", automargin=False, showgrid=False),
    )
    legend = legend_strip(bool(overflow.any() or undefined.any()), MARGIN)
    return base_layout(fig, _grid_height(L), plot_bgcolor="#d9d9d9", **legend)


def _ratio_ticks(bound: float) -> dict:
    """Colourbar ticks of a symmetric log10 scale, labelled as ratios (1e-6 .. 1 .. 1e6)."""
    if bound < 1:
        vals = [-bound, np.log10(0.5), 0.0, np.log10(2), bound]
        vals = sorted({round(v, 6) for v in vals if abs(v) <= bound})
        return dict(tickvals=vals, ticktext=[f"{10**v:.3g}" for v in vals])
    stride = max(1, int(np.ceil(2 * np.floor(bound) / 8)))
    vals = list(range(-int(np.floor(bound)), int(np.floor(bound)) + 1))
    vals = [v for v in vals if v % stride == 0]
    return dict(tickvals=vals, ticktext=[f"1e{v}" if v else "1" for v in vals])


def lines_pair(
    grad_a: np.ndarray, grad_b: np.ndarray, bad_a: np.ndarray, bad_b: np.ndarray,
    labels: tuple[str, str],
) -> go.Figure:  # fmt: skip
    """|G_t^(l)| against t, one line per layer, A left and B right on one shared log y axis.

    Traces: per side and layer a line named "l = <l>" with meta "<side> l = <l>"
    (y = that side's grad_hidden_norm[l-1]), then per side "<side>: inf / nan (overflow): ..."
    marks.
    """
    log = dict(type="log", exponentformat="power")
    fig = go.Figure(layout=_pair_layout(labels, "time step t", f"{G_NORM}  (log scale)", **log))
    height = max(top(grad_a), top(grad_b))
    add_grad_lines(fig, grad_a, bad_a, height, side="A", **SIDE_AXES[0])
    add_grad_lines(fig, grad_b, bad_b, height, side="B", **SIDE_AXES[1])
    legend = dict(orientation="v", x=1.02, y=1, title="layer")
    return base_layout(fig, 420, legend=legend, margin=MARGIN | dict(r=90))


def param_pair(
    norms_a: dict[str, np.ndarray], norms_b: dict[str, np.ndarray], labels: tuple[str, str]
) -> go.Figure:
    """Per layer |dLoss/dW_xh^(l)| and |dLoss/dW_hh^(l)| (after clipping) of A and B, shared
    log y. Traces: markers with meta "A W_xh", "A W_hh", "B W_xh", "B W_hh", overflow marks."""
    L = norms_a["W_xh"].shape[0]
    log = dict(type="log", exponentformat="power")
    layout = _pair_layout(labels, "layer l", "gradient norm  (log scale)", **log)
    for name in ("xaxis", "xaxis2"):
        layout[name].update(dtick=1 if L <= 16 else 4)
    fig = go.Figure(layout=layout)
    height = max(top(v) for norms in (norms_a, norms_b) for v in norms.values())
    add_param_bars(fig, norms_a, height, side="A", **SIDE_AXES[0])
    add_param_bars(fig, norms_b, height, side="B", **SIDE_AXES[1])
    legend = dict(orientation="h", yanchor="top", y=-0.28, x=0)  # below: titles sit above
    return base_layout(fig, 380, legend=legend, margin=MARGIN | dict(b=95))
