"""Depth sweep: how much gradient reaches (t=1, l=1) as the network gets deeper."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.encoding import OVERFLOW_COLOR, base_layout, compact, overflow_markers, sym

RATIO = f"|{sym('G', 1, 1)}| / |{sym('G', 'T', 'L')}|"


def sweep_figure(
    depths: np.ndarray,
    quantiles: np.ndarray,
    exploded: np.ndarray,
    seeds: int,
    ylabel: str = RATIO,
):
    """Median and 25-75% band over seeds of a measure (by default the corner ratio |G_1^(1)| /
    |G_T^(L)|) against depth L, log y; ``ylabel`` names the measure.

    Args:
        depths: (D,) 1..L_max.
        quantiles: (3, D) the 25%, 50% and 75% quantiles (DepthSweep.quantiles()).
        exploded: (D,) seeds whose run overflowed at that depth (DepthSweep.exploded).
        seeds: number of seeds.
    Traces (by name): "75%", "25-75% of seeds" (band, filled to the previous trace),
    "median", "no attenuation" (y = 1), then overflow markers where any seed exploded.
    """
    x = np.asarray(depths, dtype=np.float32)
    q25, q50, q75 = (compact(q) for q in quantiles)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=x, y=q75, mode="lines", line=dict(width=0), name="75%",
                   showlegend=False, hoverinfo="skip")
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=q25, mode="lines", line=dict(width=0), fill="tonexty",
                   fillcolor="rgba(78,121,167,0.25)", name="25-75% of seeds", hoverinfo="skip")
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=q50, mode="lines+markers", name=f"median of {seeds} seeds",
                   meta="median", line=dict(color="#4e79a7", width=2.5),
                   hovertemplate="L = %{x}: median %{y:.3g}<extra></extra>")
    )  # fmt: skip
    fig.add_hline(y=1.0, line=dict(color="grey", dash="dot"))
    fig.add_trace(
        go.Scatter(x=[None], y=[None], mode="lines", name="1: neither vanishes nor explodes",
                   line=dict(color="grey", dash="dot"))
    )  # fmt: skip
    bad = np.asarray(exploded) > 0
    if bad.any():
        finite = np.concatenate([q[np.isfinite(q) & (q > 0)] for q in (q25, q50, q75)])
        top = float(finite.max()) * 10 if finite.size else 1.0
        text = [f"L = {int(d)}: {int(n)} of {seeds} seeds overflowed (inf / nan)"
                for d, n in zip(x[bad], np.asarray(exploded)[bad])]  # fmt: skip
        marks = overflow_markers(x[bad], np.full(int(bad.sum()), top), text)
        marks.marker.color = OVERFLOW_COLOR
        fig.add_trace(marks)
    fig.update_xaxes(title="depth L (layers)", dtick=1 if len(x) <= 16 else 4)
    fig.update_yaxes(title=f"{ylabel}  (log scale)", type="log", exponentformat="power")
    return base_layout(fig, 430)


MEASURE_STYLE = {  # measure key -> (colour, dash): a rate shares its ratio's colour, dotted
    "corner": ("#4e79a7", "solid"), "depth": ("#e15759", "solid"), "time": ("#59a14f", "solid"),
    "corner_rate": ("#4e79a7", "dot"), "depth_rate": ("#e15759", "dot"),
    "time_rate": ("#59a14f", "dot"), "w_xh": ("#f28e2b", "dash"), "w_hh": ("#b07aa1", "dash"),
}  # fmt: skip


def measures_figure(depths: np.ndarray, medians: dict[str, np.ndarray], names: dict[str, str]):
    """The median over seeds of every measure against depth L, log y: the ratios in the top
    panel, the per-step rates (which stay near 1) in the bottom one, so neither is squashed.

    Args:
        depths: (D,) 1..L_max.
        medians: measure key -> (D,) median (DepthSweep.measure_quantiles(key, (0.5,))[0]);
            nan where no path or every seed overflowed (a gap).
        names: measure key -> legend name.
    Traces: one line per key (meta = key, y = the median); a dotted line at 1 in each panel.
    """
    x = np.asarray(depths, dtype=np.float32)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38],
                        vertical_spacing=0.08,
                        subplot_titles=("ratio along each path", "per-step rate"))  # fmt: skip
    for key, median in medians.items():
        color, dash = MEASURE_STYLE[key]
        fig.add_trace(
            go.Scatter(x=x, y=compact(median), mode="lines+markers", name=names[key], meta=key,
                       line=dict(color=color, dash=dash, width=2), marker=dict(size=5),
                       hovertemplate=f"{names[key]}<br>L = %{{x}}: %{{y:.3g}}<extra></extra>"),
            row=2 if key.endswith("_rate") else 1, col=1,
        )  # fmt: skip
    for row in (1, 2):
        fig.add_hline(y=1.0, line=dict(color="grey", dash="dot"), row=row, col=1)
        fig.update_yaxes(type="log", exponentformat="power", row=row, col=1)
    fig.update_yaxes(title="median over seeds (log)", row=1, col=1)
    fig.update_yaxes(title="per step (log)", row=2, col=1)
    fig.update_xaxes(title="depth L (layers)", dtick=1 if len(x) <= 16 else 4, row=2, col=1)
    legend = dict(orientation="h", x=0, y=-0.12, yanchor="top", title="measure")
    return base_layout(fig, 700, legend=legend)
