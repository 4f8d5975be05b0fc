"""Mean-field theory next to the measurement: the phase diagram, predicted gradient lines, the
grid coloured by prediction or by measured / predicted, and measured Jacobian spectra."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import (
    base_layout,
    compact,
    log10_positive,
    log_ticks,
    subplot_grid,
    sym,
)
from app.figures.gradients import layer_colors
from app.words.i18n import N_
from app.words.i18n import gettext as _

# blue below 1 (the gradient shrinks), white at 1, red above (it grows)
DIVERGING = [
    [0.0, "#2166ac"],
    [0.35, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.65, "#f4a582"],
    [1.0, "#b2182b"],
]
FACTOR_RANGE = 1.0  # colour range of log10(factor per step): 0.1x .. 10x
PICK_STEP = 0.15  # spacing of the clickable points over the gain plane
CHI = {"time": "χ<sub>h</sub>", "depth": "χ<sub>x</sub>"}
CHI_NAME = {"time": "chi_h", "depth": "chi_x"}


def _factor_bar(title: str, x: float, decades: float = FACTOR_RANGE) -> dict:
    """A colourbar in log10 units from -decades to +decades, labelled with the factors (the
    ends say the colour also covers everything beyond them)."""
    vals = list(np.linspace(-decades, decades, 5))
    text = [f"{10**v:.3g}" for v in vals]
    text[0], text[-1] = f"≤ {text[0]}", f"≥ {text[-1]}"
    return dict(
        title=dict(text=title, side="right"), x=x, len=0.9, thickness=14,
        tickvals=vals, ticktext=text,
    )  # fmt: skip


def phase_figure(diagram, current: tuple[float, float], points=None) -> go.Figure:
    """Two heatmaps over (sigma_h, sigma_x): the predicted E|G|^2 factor per step through time
    (chi_h) and through depth (chi_x), log colour diverging around 1.

    Args:
        diagram: phase.PhaseDiagram (arrays (m, n) over sigma_x (m,) x sigma_h (n,)).
        current: (sigma_h, sigma_x) of the sidebar, marked with a star.
        points: phase.PhasePoints measured by a small sweep, drawn in the same colours.
    Traces (by name / meta): "chi_h", "chi_x" heatmaps (z = log10 chi); "boundary <panel>"
    (contour of that panel's log10 chi at 0: the predicted sign change); "chi_h + chi_x = 1"
    (contour of log10(chi_h + chi_x) at 0, on both panels, meta "critical <panel>");
    "measured time" / "measured depth" (z-coloured markers, customdata (measured, predicted));
    "current" (one per panel); "pick" points (transparent, clickable, x = sigma_h, y = sigma_x).
    """
    fig = go.Figure()
    titles = ["Through time: χ<sub>h</sub> per step", "Through depth: χ<sub>x</sub> per step"]
    fig.update_layout(**subplot_grid([titles], hgap=0.2))
    x, y = compact(diagram.sigma_h), compact(diagram.sigma_x)
    with np.errstate(all="ignore"):
        total = np.log10(diagram.chi_total).astype(np.float32)
    picks = np.round(np.arange(PICK_STEP, float(x.max()) + 1e-9, PICK_STEP), 2)
    px, py = (a.ravel().astype(np.float32) for a in np.meshgrid(picks, picks))
    for k, (panel, chi) in enumerate((("time", diagram.chi_h), ("depth", diagram.chi_x))):
        axes = dict(xaxis="x" if k == 0 else "x2", yaxis="y" if k == 0 else "y2")
        z = log10_positive(chi)
        fig.add_trace(
            go.Heatmap(
                z=z, x=x, y=y, name=CHI_NAME[panel], meta=CHI_NAME[panel], colorscale=DIVERGING,
                zmin=-FACTOR_RANGE, zmax=FACTOR_RANGE,
                colorbar=_factor_bar(f"{CHI[panel]}: E|G|² factor per step", 0.41 + 0.6 * k),
                customdata=compact(chi),
                hovertemplate=f"σ<sub>h</sub> = %{{x:.3g}}, σ<sub>x</sub> = %{{y:.3g}}<br>"
                f"{CHI[panel]} = %{{customdata:.3g}}<extra></extra>", **axes,
            )
        )  # fmt: skip
        fig.add_trace(
            go.Contour(
                z=z,
                x=x,
                y=y,
                name="χ = 1 (this panel)",
                meta=f"boundary {panel}",
                showscale=False,
                colorscale=[[0, "#555"], [1, "#555"]],
                hoverinfo="skip",
                contours=dict(start=0, end=0, size=1, coloring="lines"),
                line=dict(color="#555", width=1.5),
                showlegend=k == 0,
                **axes,
            )
        )
        fig.add_trace(
            go.Contour(
                z=total, x=x, y=y, name="χ<sub>h</sub> + χ<sub>x</sub> = 1",
                meta=f"critical {panel}", showscale=False, colorscale=[[0, "black"], [1, "black"]],
                contours=dict(
                    start=0, end=0, size=1, coloring="lines"),
                line=dict(color="black", width=2.5, dash="dash"), hoverinfo="skip",
                showlegend=k == 0, **axes,
            )
        )  # fmt: skip
        if points is not None:
            measured = points.rate_time if panel == "time" else points.rate_depth
            predicted = points.predicted_time if panel == "time" else points.predicted_depth
            fig.add_trace(
                go.Scatter(
                    x=compact(points.sigma_h), y=compact(points.sigma_x), mode="markers",
                    name="measured ▲ grows ▼ shrinks", meta=f"measured {panel}",
                    showlegend=k == 0,
                    marker=dict(size=16, color=log10_positive(measured), colorscale=DIVERGING,
                                symbol=np.where(measured > 1, "triangle-up", "triangle-down"),
                                cmin=-FACTOR_RANGE, cmax=FACTOR_RANGE,
                                line=dict(color="black", width=1.5)),
                    customdata=np.stack([compact(measured), compact(predicted)], -1),
                    hovertemplate="σ<sub>h</sub> = %{x:.3g}, σ<sub>x</sub> = %{y:.3g}<br>"
                    "measured %{customdata[0]:.3g} per step, predicted %{customdata[1]:.3g}"
                    "<extra>sweep</extra>", **axes,
                )
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=[current[0]], y=[current[1]], mode="markers", name="current",
                meta=f"current {panel}", showlegend=k == 0, hoverinfo="skip",
                marker=dict(symbol="star", size=20, color="#ffd92f",
                            line=dict(color="black", width=1.5)), **axes,
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=px, y=py, mode="markers", name="pick", showlegend=False, meta=f"pick {panel}",
                marker=dict(size=12, color="rgba(0,0,0,0)"),
                hovertemplate="click: σ<sub>h</sub> = %{x:.2f}, σ<sub>x</sub> = %{y:.2f}"
                "<extra></extra>", **axes,
            )
        )  # fmt: skip
    for n in ("", "2"):
        fig.layout[f"xaxis{n}"].update(title="σ<sub>h</sub> = recurrent gain (W<sub>hh</sub>)")
        fig.layout[f"yaxis{n}"].update(showticklabels=True)
    fig.layout.yaxis.update(title="σ<sub>x</sub> = input/depth gain (W<sub>xh</sub>)")
    legend = dict(orientation="h", yref="container", y=1, yanchor="top", x=0)
    margin = dict(l=70, r=20, t=80, b=60)
    return base_layout(fig, 470, clickmode="event+select", margin=margin, legend=legend)


def add_predicted_lines(fig: go.Figure, predicted_norm: np.ndarray) -> go.Figure:
    """Add one dashed line per layer, "predicted l = 1".., y = ``predicted_norm`` (L, T) in the
    figure's units (e.g. the grad_lines figure's |G_t^(l)|), coloured as the measured lines."""
    L, T = predicted_norm.shape
    t_axis = np.arange(1, T + 1, dtype=np.float32)
    for l, color in zip(range(1, L + 1), layer_colors(L)):
        fig.add_trace(
            go.Scatter(x=t_axis, y=compact(predicted_norm[l - 1]), mode="lines",
                       name=f"predicted l = {l}", meta=f"predicted l = {l}",
                       legendgroup=f"l{l}", showlegend=l == 1,
                       line=dict(color=color, width=1.6, dash="dash"),
                       hovertemplate=f"l = {l}, t = %{{x}}: predicted %{{y:.4g}}<extra></extra>")
        )  # fmt: skip
    if L > 1:
        fig.data[-L].name = "predicted (dashed)"
    return fig


def add_predicted_sweep(
    fig: go.Figure,
    depths: np.ndarray,
    predicted: np.ndarray,
    name: str = "mean-field prediction",
    meta: str = "predicted",
    color: str = "#e15759",
    **axes,
) -> go.Figure:
    """Add a mean-field curve (e.g. phase.PredictedSweep.corner, (D,); nan: no path) to a Depth
    sweep figure as a dashed line named ``name`` with ``meta``, on subplot ``axes``."""
    fig.add_trace(
        go.Scatter(x=np.asarray(depths, dtype=np.float32), y=compact(predicted), mode="lines",
                   name=name, meta=meta, line=dict(color=color, width=2, dash="dash"),
                   hovertemplate=f"{name}<br>L = %{{x}}: %{{y:.3g}}<extra></extra>", **axes)
    )  # fmt: skip
    return fig


MEASURED_SIDE = {  # what the solid lines are, by phase.measured_grad_sq's average
    "mean": N_("mean of {seeds} seeds × batch"),
    "log": N_("typical draw: mean of log10 over {seeds} seeds"),
}


def predicted_vs_measured(
    predicted_sq: np.ndarray, measured_sq: np.ndarray, r2: float, seeds: int, average: str = "mean"
):
    """E|G_t^(l)|^2 / h against t per layer: measured (solid: the mean over seeds and batch,
    or with ``average`` "log" the typical draw) and predicted (dashed), log y, R^2 of log10 in
    the title, which says which is drawn. Traces "measured l = 1".. (meta
    "measured l = 1"..) then "predicted l = 1".. (the first named "predicted (dashed)"; meta
    "predicted l = 1"..)."""
    L, T = measured_sq.shape
    fig = go.Figure()
    t_axis = np.arange(1, T + 1, dtype=np.float32)
    for l, color in zip(range(1, L + 1), layer_colors(L)):
        y = compact(measured_sq[l - 1])
        fig.add_trace(
            go.Scatter(x=t_axis, y=np.where(np.isfinite(y), y, np.nan).astype(y.dtype),
                       mode="lines", name=f"measured l = {l}", meta=f"measured l = {l}",
                       legendgroup=f"l{l}", line=dict(color=color, width=2),
                       hovertemplate=f"l = {l}, t = %{{x}}: measured %{{y:.4g}}<extra></extra>")
        )  # fmt: skip
    add_predicted_lines(fig, predicted_sq)
    fig.update_xaxes(title="time step t")
    fig.update_yaxes(title=f"E|{sym('G')}|² / h  (log scale)", type="log", exponentformat="power")
    side = _(MEASURED_SIDE[average]).format(seeds=seeds)
    title = _("Measured (solid, {side}) vs mean-field (dashed): R² = {r2}").format(
        side=side, r2=f"{r2:.3f}"
    )
    return base_layout(fig, 430, title=dict(text=title, x=0, font=dict(size=14)),
                       margin=dict(l=60, r=20, t=90, b=50),
                       legend=dict(orientation="v", x=1.02, y=1, title="layer",
                                   traceorder="normal"))  # fmt: skip


def grid_colouring(measured_sq: np.ndarray, predicted_sq: np.ndarray, mode: str):
    """What the Information flow grid shows when coloured by the theory: ``mode`` "prediction"
    (log10 of the predicted E|G|^2 / h) or "ratio" (log10 measured / predicted, 0 = agree).
    Both (L, T). Returns (z (L, T) float32 log10 values, colourbar title, diverging)."""
    if mode == "prediction":
        return log10_positive(predicted_sq), f"predicted E|{sym('G')}|²/h<br>(log scale)", False
    if mode == "ratio":
        with np.errstate(all="ignore"):
            ratio = np.asarray(measured_sq, np.float64) / np.asarray(predicted_sq, np.float64)
        return log10_positive(ratio), "measured / predicted<br>(log scale)", True
    raise ValueError(f"mode must be 'prediction' or 'ratio', got {mode!r}")


THEORY_HOVER = {"prediction": "predicted E|G|²/h", "ratio": "measured / predicted"}


def colour_grid(
    fig: go.Figure,
    norms: tuple[np.ndarray, np.ndarray],
    measured_sq: np.ndarray,
    predicted_sq: np.ndarray,
    mode: str,
) -> go.Figure:
    """Recolour the flow grid's "cells" heatmap (figures.flow_grid) by ``grid_colouring``: the
    prediction on a log scale, or measured / predicted diverging around 1 (symmetric, at least
    one decade each way). ``norms``: the grid's (|H|, |G|), each (L, T), which stay in the
    hover as customdata[..., 0:2]; the colour's value joins them as customdata[..., 2]."""
    z, title, diverging = grid_colouring(measured_sq, predicted_sq, mode)
    cells = next(t for t in fig.data if t.name == "cells")
    if diverging:
        finite = np.abs(z[np.isfinite(z)])
        decades = float(np.clip(np.ceil(finite.max()) if finite.size else 1, 1, 12))
        cells.update(colorscale=DIVERGING, zmin=-decades, zmax=decades,
                     colorbar=_factor_bar(title, 1.02, decades))  # fmt: skip
    else:
        ticks = log_ticks(z)
        cells.update(colorscale="Viridis", zmin=None, zmax=None,
                     colorbar=dict(title=dict(text=title), **ticks))  # fmt: skip
    with np.errstate(over="ignore"):
        value = np.power(10.0, z, dtype=np.float64).astype(np.float32)  # nan stays nan
    custom = np.stack([compact(norms[0]), compact(norms[1]), value], axis=-1)  # (L, T, 3)
    hover = cells.hovertemplate.replace(
        "<extra></extra>", f"<br>{THEORY_HOVER[mode]} = %{{customdata[2]:.4g}}<extra></extra>"
    )
    cells.update(z=z, customdata=custom, hovertemplate=hover, meta=f"theory {mode}")
    return fig


def spectra_figure(time: np.ndarray, depth: np.ndarray, cell_time=None) -> go.Figure:
    """Measured mean squared singular value of the step Jacobians per cell, heatmaps over
    (t, l) with a log colour diverging around 1 (symmetric, wide enough for the data).
    ``cell_time`` (LSTM layers: mean f_t^2 of the cell-state step, nan elsewhere) adds a panel.
    Traces "time", "depth" (and "cell") with z = log10 of the (L, T) arrays, customdata values."""
    L, T = time.shape
    panels = [
        ("time", time, f"∂{sym('H')} / ∂{sym('H', 't−1')}: through time"),
        ("depth", depth, f"∂{sym('H')} / ∂{sym('H', 't', 'l−1')}: through depth"),
    ]
    if cell_time is not None and np.isfinite(cell_time).any():
        panels.append(("cell", cell_time, f"∂{sym('C')} / ∂{sym('C', 't−1')}: LSTM cell state"))
    logs = [log10_positive(values) for _n, values, _t in panels]
    finite = np.concatenate([z[np.isfinite(z)] for z in logs] + [np.zeros(1, np.float32)])
    decades = float(np.clip(np.ceil(np.abs(finite).max()), 1, 6))
    fig = go.Figure()
    n = len(panels)
    fig.update_layout(**subplot_grid([[title for _n, _v, title in panels]], hgap=0.08))
    t_axis, l_axis = np.arange(1, T + 1, dtype=np.float32), np.arange(1, L + 1, dtype=np.float32)
    for k, ((name, values, _title), z) in enumerate(zip(panels, logs)):
        axes = dict(xaxis="x" if k == 0 else f"x{k + 1}", yaxis="y" if k == 0 else f"y{k + 1}")
        fig.add_trace(
            go.Heatmap(z=z, x=t_axis, y=l_axis, name=name, meta=name, colorscale=DIVERGING,
                       zmin=-decades, zmax=decades, customdata=compact(values),
                       showscale=k == n - 1,
                       colorbar=_factor_bar("mean squared singular value", 1.01, decades),
                       hovertemplate="t = %{x}, l = %{y}: %{customdata:.3g}<extra></extra>",
                       **axes)
        )  # fmt: skip
        suffix = "" if k == 0 else str(k + 1)
        fig.layout[f"xaxis{suffix}"].update(title="time step t")
        fig.layout[f"yaxis{suffix}"].update(dtick=1 if L <= 16 else 4)
    fig.layout.yaxis.update(title="layer l")
    return base_layout(fig, 360, margin=dict(l=60, r=110, t=50, b=50))
