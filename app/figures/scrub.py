"""The time x layer grid of every depth 1..L as plotly frames: the browser scrubs through depth.

One frame per depth D holds that network's grid (layers above D blank, O_t above layer D).
The slider and the play button animate between frames inside plotly.js, so dragging through
depth never calls the server. The colour scale is the same in every frame, so a colour means
the same |G| (or |H|) at every depth.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import OVERFLOW_COLOR, base_layout, log10_positive, log_ticks, sym
from app.figures.flow import QUANTITY, layer_axis, time_axis

FRAME_BYTES = 1_200_000  # typed-array bytes of all frames (~1.6 MB as base64): under 2 MB
CLEAR = "rgba(0,0,0,0)"


def time_stride(num_layers: int, steps: int, overflow: bool) -> int:
    """Every how many steps a frame keeps a column, so all frames fit in FRAME_BYTES."""
    per_cell = 4 + (1 if overflow else 0)  # float32 log-norm, int8 overflow mark
    return max(1, -(-num_layers * num_layers * steps * per_cell // FRAME_BYTES))


def kept_steps(steps: int, stride: int) -> np.ndarray:
    """0-based steps a frame draws: every ``stride``-th from t = 1, and always t = T."""
    return np.unique(np.r_[np.arange(0, steps, stride), steps - 1])


def scrub_figure(
    norms: np.ndarray,
    nonfinite: np.ndarray,
    attenuation: np.ndarray,
    cells: tuple[str, ...],
    color_by: str = "grad",
    stride: int = 1,
) -> go.Figure:
    """The grid of depth D = 1..L, one frame each, starting at depth L.

    Args:
        norms: (L, L, T) [D-1, l-1, t-1] |G_t^(l)| (or |H_t^(l)|) of the depth-D network,
            nan for l > D (deeprnn_core.analysis.scrub.DepthScrub).
        nonfinite: (L, L, T) bool, cells holding inf / nan.
        attenuation: (L,) |G_1^(1)| / |G_T^(D)| of each depth, shown in each frame's title.
        cells: the cell type of each layer (labels the layer axis of mixed stacks).
        color_by: "grad" or "hidden", the quantity in ``norms``.
        stride: draw every stride-th step (kept_steps), to bound the bytes sent.
    Traces (by name): "cells" (z = log10 of the quantity, (L, T') float32), "inf / nan
    (overflow)" (int8 1 where overflowed, only when some frame overflowed), "O_t" (markers on
    row D + 1), "X_t". Frames are named "1".."L" and replace the first three traces.
    """
    L, _, T = norms.shape
    steps = kept_steps(T, stride)
    t_axis = (steps + 1).astype(np.float32)
    l_axis = np.arange(1, L + 1, dtype=np.float32)
    z = log10_positive(norms[:, :, steps])  # (L, L, T')
    bad = nonfinite[:, :, steps]
    finite = z[np.isfinite(z)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    quantity = QUANTITY[color_by]
    hover = f"t = %{{x}}, l = %{{y}}<br>{quantity} = 10<sup>%{{z:.2f}}</sup><extra></extra>"
    gap = 2 if len(steps) <= 60 else 0
    marker = dict(symbol="square", size=max(3, min(14, 600 // len(steps))))
    ratio = sym("G", "1", "1") + " / " + sym("G", "T", "D")

    def frame_traces(depth: int) -> list:
        traces = [
            go.Heatmap(z=z[depth - 1], x=t_axis, y=l_axis, zmin=zmin, zmax=zmax,
                       colorscale="Viridis", xgap=gap, ygap=gap if L <= 40 else 0, name="cells",
                       hovertemplate=hover,
                       colorbar=dict(title=dict(text=f"{quantity}<br>(log scale)"),
                                     **log_ticks(np.array([zmin, zmax], dtype=np.float32)))),
            go.Scatter(x=t_axis, y=np.full(len(steps), depth + 1, dtype=np.float32),
                       mode="markers", name="O_t", marker=marker | dict(color="#59a14f"),
                       hoverinfo="skip", showlegend=False),
        ]  # fmt: skip
        if bad.any():
            traces.insert(1, go.Heatmap(
                z=bad[depth - 1].astype(np.int8), x=t_axis, y=l_axis, zmin=0, zmax=1,
                colorscale=[[0, CLEAR], [0.5, CLEAR], [0.5, OVERFLOW_COLOR], [1, OVERFLOW_COLOR]],
                showscale=False, hoverinfo="skip", name="inf / nan (overflow)",
                xgap=gap, ygap=gap if L <= 40 else 0,
            ))  # fmt: skip
        return traces

    def title(depth: int) -> str:
        value = attenuation[depth - 1]
        shown = f"{value:.3g}" if np.isfinite(value) else "not finite (overflow)"
        return f"Depth L = {depth}: {ratio} = {shown}"

    first = frame_traces(L)
    fig = go.Figure(first)
    fig.add_trace(
        go.Scatter(x=t_axis, y=np.zeros(len(steps), dtype=np.float32), mode="markers",
                   name="X_t", marker=marker | dict(color="#f28e2b"), hoverinfo="skip",
                   showlegend=False)
    )  # fmt: skip
    changed = list(range(len(first)))
    fig.frames = [
        go.Frame(data=frame_traces(d), traces=changed, name=str(d),
                 layout=dict(title=dict(text=title(d))))
        for d in range(1, L + 1)
    ]  # fmt: skip
    instant = dict(mode="immediate", frame=dict(duration=0, redraw=True),
                   transition=dict(duration=0))  # fmt: skip
    play = dict(mode="immediate", fromcurrent=False, frame=dict(duration=400, redraw=True),
                transition=dict(duration=0))  # fmt: skip
    slider = dict(
        active=L - 1, currentvalue=dict(visible=False), pad=dict(t=75), len=0.86, x=0.14,
        steps=[dict(label=str(d), method="animate", args=[[str(d)], instant])
               for d in range(1, L + 1)],
    )  # fmt: skip
    buttons = dict(
        type="buttons", direction="left", x=0, y=0, xanchor="left", yanchor="top",
        pad=dict(t=75), showactive=False,
        buttons=[dict(label="▶ play", method="animate", args=[None, play]),
                 dict(label="❚❚", method="animate", args=[[None], instant])],
    )  # fmt: skip
    fig.update_xaxes(time_axis(T))
    fig.update_yaxes(layer_axis(cells, output_row=False))
    height = int(np.clip(260 + 40 * (L + 2), 480, 900))
    return base_layout(fig, height, title=dict(text=title(L), x=0.01), sliders=[slider],
                       updatemenus=[buttons], plot_bgcolor="#d9d9d9", showlegend=False,
                       margin=dict(l=60, r=20, t=50, b=150))  # fmt: skip
