"""The tutorial's (d2l) time x layer diagram, live: one node per (t, l), X_t below, O_t above.

One heatmap of the node colours (it also carries the hover text of every cell), a transparent
scatter on top to make cells clickable (plotly cannot select heatmap cells), and the arrows as
one NaN-separated line trace: a handful of traces at any size. Browser time grows with the
number of scatter points (each is an SVG node), so above MAX_PICKER_CELLS the clickable points
thin out along t; the arrows are drawn only while a step is wide enough to read them.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import (
    MARGIN,
    OVERFLOW_COLOR,
    build_plain,
    compact,
    log10_positive,
    log_ticks,
    overflow_heatmap,
    overflow_legend,
    sym,
)
from deeprnn_core.engine.order import computation_order

# Margins set by hand instead of plotly's automargin, which draws a figure twice whenever its
# layout is new (every slider move): once to measure the labels, once with the margins they need.
FIXED = dict(automargin=False)
MAX_ARROW_STEPS = 80  # more steps and one is under ~11 px wide: arrows would be a grey smear
MAX_ARROW_CELLS = 600  # ~1200 arrows: each costs the browser a little on every redraw
MAX_PICKER_CELLS = 600  # clickable points (SVG nodes); above, every k-th step is
PLOT_WIDTH_PX = 900  # about the plot area on a laptop screen, to size the arrowheads
ZERO_COLOR, ZERO_NAME = "#ffffff", "exactly 0"
QUANTITY = {"hidden": f"|{sym('H')}|", "grad": f"|{sym('G')}|"}
HOVER = (
    f"t = %{{x}}, l = %{{y}}<br>{QUANTITY['hidden']} = %{{customdata[0]:.4g}}"
    f"<br>{QUANTITY['grad']} = %{{customdata[1]:.4g}}<extra></extra>"
)


NARROW_PX = 640  # Streamlit stacks columns below this width: a phone
ARROW_STEP_PX = 12  # the least width of a step whose arrows can be read


def narrow_min_width(num_layers: int, steps: int) -> int | None:
    """The width (px) the grid keeps on a narrow screen, scrolled sideways inside its box, so
    that its per-cell arrows stay readable (a phone's 390 px gave a step 5 px: hairlines with
    arrows printed over them); None where no arrows are drawn (the colours alone shrink)."""
    if not arrows_drawn(num_layers, steps):
        return None
    return 200 + ARROW_STEP_PX * steps  # the layer labels, the colour bar and the steps


def arrows_drawn(num_layers: int, steps: int) -> bool:
    """Whether the grid is small enough to draw every arrow legibly and fast."""
    return steps <= MAX_ARROW_STEPS and num_layers * steps <= MAX_ARROW_CELLS


def picker_stride(num_layers: int, steps: int) -> int:
    """Every how many steps a cell is clickable (1: every cell)."""
    columns = max(1, MAX_PICKER_CELLS // num_layers)  # clickable steps per layer
    return max(1, -(-steps // columns))


def lit_mask(num_layers: int, steps: int, step: int) -> tuple[np.ndarray, str, tuple[int, int]]:
    """Which cells the core has computed after ``step`` cell updates, in the core's order
    (engine.order.computation_order: forward steps 1..LT, backward LT+1..2LT).

    Returns the (L, T) bool mask (of H in the forward phase, of G in the backward phase), the
    phase and the 1-based (t, l) of the cell computed last ((0, 0) before the first).
    """
    order = computation_order(num_layers, steps)
    step = int(np.clip(step, 0, len(order)))
    lit = np.zeros((num_layers, steps), dtype=bool)
    if step == 0:
        return lit, "forward", (0, 0)
    phase, l, t = order[step - 1]
    done = np.array([cell[1:] for cell in order[:step] if cell[0] == phase]) - 1  # (n, 2)
    lit[done[:, 0], done[:, 1]] = True
    return lit, phase, (t, l)


def time_axis(steps: int) -> dict:
    """The time axis of a grid: one tick per step while few (plotly would put ticks at
    0.6 .. 1.4 for T = 1), plotly's own integer ticks beyond."""
    ticks = dict(tick0=1, dtick=1) if steps <= 12 else {}
    return dict(title="time step t", range=[0.5, steps + 0.5], showgrid=False, zeroline=False,
                **ticks)  # fmt: skip


def layer_axis(cells: tuple[str, ...], output_row: bool = True) -> dict:
    """The layer axis: X_t below layer 1, O_t above layer L (``output_row``), the layer
    numbers between; in a stack of mixed cells every layer named with its cell type."""
    L = len(cells)
    mixed = len(set(cells)) > 1
    stride = 1 if L <= 16 or mixed else 2 if L <= 32 else 4
    rows = list(range(1, L + 1, stride))
    labels = [f"{l} {cells[l - 1]}" if mixed else str(l) for l in rows]
    ticks, text = [0, *rows], [sym("X", "t", None), *labels]
    if output_row:
        ticks, text = ticks + [L + 1], text + [sym("O", "t", None)]
    return dict(title="layer l", tickvals=ticks, ticktext=text, range=[-0.7, L + 1.7],
                showgrid=False, zeroline=False)  # fmt: skip


def arrow_path(num_layers: int, steps: int, height: int) -> str:
    """Every arrow, memory (t-1 -> t) and depth (l-1 -> l), as one SVG path in data units: a
    shaft and a V-shaped head each. One layout shape is far cheaper for the browser than a
    scatter trace or arrow markers (measured: ~0.1 s per redraw at the defaults)."""
    per_t = PLOT_WIDTH_PX / steps  # px per step and per layer, to draw heads ~5 px long
    per_l = (height - 90) / (num_layers + 2.4)
    long_x, wide_x, long_y, wide_y = 5 / per_t, 3 / per_t, 5 / per_l, 3 / per_l
    parts = []
    for l in range(1, num_layers + 1):  # memory passing: H_{t-1}^(l) -> H_t^(l)
        for t in range(2, steps + 1):
            x0, x1 = t - 1 + 0.24, t - 0.24
            parts.append(
                f"M{x0:.3f},{l}L{x1:.3f},{l}M{x1 - long_x:.3f},{l + wide_y:.3f}"
                f"L{x1:.3f},{l}L{x1 - long_x:.3f},{l - wide_y:.3f}"
            )
    for t in range(1, steps + 1):  # depth passing: X_t -> layer 1 -> ... -> layer L -> O_t
        for l in range(1, num_layers + 2):
            y0, y1 = l - 1 + 0.26, l - 0.26
            parts.append(
                f"M{t},{y0:.3f}L{t},{y1:.3f}M{t - wide_x:.3f},{y1 - long_y:.3f}"
                f"L{t},{y1:.3f}L{t + wide_x:.3f},{y1 - long_y:.3f}"
            )
    return "".join(parts)


def flow_grid(
    hidden_norm: np.ndarray,
    grad_hidden_norm: np.ndarray,
    nonfinite_hidden: np.ndarray,
    nonfinite_grad: np.ndarray,
    input_norm: np.ndarray,
    output_norm: np.ndarray,
    color_by: str = "hidden",
    lit: np.ndarray | None = None,
    current: tuple[int, int] | None = None,
    selected: tuple[int, int] | None = None,
    cells: tuple[str, ...] | None = None,
) -> go.Figure:
    """The (t, l) grid coloured by log10 |H_t^(l)| or log10 |G_t^(l)|.

    Args:
        hidden_norm, grad_hidden_norm: (L, T) norms (analysis.cell_norms).
        nonfinite_hidden, nonfinite_grad: (L, T) bool, cells holding inf / nan.
        input_norm, output_norm: (T,) |X_t| and |O_t|, shown on hover in the bottom/top rows.
        color_by: "hidden" or "grad".
        lit: (L, T) bool of cells computed so far (step-through); the rest are dimmed.
        current: (t, l) of the cell just computed; selected: (t, l) of the inspected cell.
        cells: each layer's cell type; a mixed stack names it on the layer axis.
    Arrows: the layout shape named "arrows" (small grids only, see arrows_drawn).
    Traces (by name): "cells" (z = log10 of the colour quantity, customdata = (L, T, 2) both
    norms), "inf / nan (overflow)", "exactly 0", "not yet computed", "X_t", "O_t", "cell picker"
    (transparent points, row-major (l, t), every picker_stride-th step, customdata both norms),
    "computing", "selected".
    """
    L, T = hidden_norm.shape
    t_axis, l_axis = np.arange(1, T + 1, dtype=np.float32), np.arange(1, L + 1, dtype=np.float32)
    values = hidden_norm if color_by == "hidden" else grad_hidden_norm
    bad = nonfinite_hidden if color_by == "hidden" else nonfinite_grad
    z = log10_positive(values)  # (L, T)
    both = np.stack([compact(hidden_norm), compact(grad_hidden_norm)], axis=-1)  # (L, T, 2)
    gap = 4 if T <= 60 else 1 if T <= 200 else 0
    height = int(np.clip(200 + 40 * (L + 2), 420, 820))
    traces = [
        dict(
            type="heatmap", z=z, x=t_axis, y=l_axis, colorscale="Viridis", xgap=gap,
            ygap=gap if L <= 40 else 0, customdata=both, hovertemplate=HOVER, name="cells",
            colorbar=dict(title=dict(text=f"{QUANTITY[color_by]}<br>(log scale)"), **log_ticks(z)),
        )
    ]  # fmt: skip
    zero = values == 0  # log scale: exactly 0 has no colour, so it gets its own
    if bad.any():
        traces.append(overflow_heatmap(bad, t_axis, l_axis, xgap=gap, ygap=gap))
    if zero.any():
        marks = overflow_heatmap(zero, t_axis, l_axis, ZERO_COLOR, ZERO_NAME, xgap=gap, ygap=gap)
        traces.append(marks)
    if lit is not None and not lit.all():
        dim = np.where(lit, np.nan, 1.0).astype(np.float32)
        white = "rgba(255,255,255,0.82)"
        traces.append(
            dict(type="heatmap", z=dim, x=t_axis, y=l_axis, colorscale=[[0, white], [1, white]],
                       showscale=False, hoverinfo="skip", name="not yet computed", zmin=0, zmax=1)
        )  # fmt: skip
    shapes = []
    if arrows_drawn(L, T):
        line = dict(color="rgba(50,50,50,0.6)", width=1.2)
        path = arrow_path(L, T, height)
        shapes.append(dict(type="path", path=path, name="arrows", layer="above", line=line))
    for name, row, norms in (("X_t", 0, input_norm), ("O_t", L + 1, output_norm)):
        color = "#f28e2b" if row == 0 else "#59a14f"  # a thin one-row heatmap: no SVG per step
        traces.append(
            dict(
                type="heatmap", z=np.ones((1, T), dtype=np.float32), x=t_axis,
                y=np.array([row - 0.25, row + 0.25], dtype=np.float32), name=name, xgap=gap,
                colorscale=[[0, color], [1, color]], showscale=False, zmin=0, zmax=1,
                customdata=compact(norms)[None], hovertemplate=f"t = %{{x}}: "
                f"|{sym(name[0], 't', None)}| = %{{customdata:.4g}}<extra></extra>",
            )
        )  # fmt: skip
    stride = picker_stride(L, T)
    columns = np.arange(0, T, stride)
    tt, ll = np.meshgrid(t_axis[columns], l_axis)  # (L, T / stride), row-major (l, t)
    traces.append(
        dict(
            type="scatter", x=tt.ravel(), y=ll.ravel(), mode="markers", name="cell picker",
            showlegend=False,
            marker=dict(size=10, color="rgba(0,0,0,0)"),
            customdata=both[:, columns].reshape(-1, 2), hovertemplate=HOVER,
        )
    )  # fmt: skip
    for name, cell, color in (("computing", current, "#e15759"), ("selected", selected, "black")):
        if cell and cell[0] >= 1:
            traces.append(
                dict(
                    type="scatter", x=[cell[0]], y=[cell[1]], mode="markers", name=name,
                    hoverinfo="skip", showlegend=False,
                    marker=dict(symbol="square-open", size=16, color=color, line=dict(width=3)),
                )
            )  # fmt: skip
    if bad.any():
        traces.append(overflow_legend(int(bad.sum())))
    if zero.any():
        traces.append(overflow_legend(int(zero.sum()), ZERO_COLOR, ZERO_NAME))
    y_axis = layer_axis(cells or ("rnn",) * L)
    return build_plain(traces, height, xaxis=time_axis(T) | FIXED, yaxis=y_axis | FIXED,
                 margin=MARGIN | dict(l=left_margin(y_axis["ticktext"])),
                 shapes=shapes, plot_bgcolor="#d9d9d9", clickmode="event+select",
                 showlegend=bool(bad.any() or zero.any()))  # fmt: skip


def left_margin(ticktext: list[str], title: bool = True) -> int:
    """Pixels left of the plot for these tick labels (HTML tags do not count) and an axis
    title: set by hand with FIXED axes."""
    longest = max((len(re.sub(r"<[^>]+>", "", text)) for text in ticktext), default=1)
    return 22 + 8 * longest + (24 if title else 0)


def cell_vectors(
    hidden_vec: np.ndarray, grad_vec: np.ndarray, t: int, l: int, sample: int
) -> tuple[go.Figure, go.Figure]:
    """H_t^(l) and G_t^(l) of one sample, unit by unit (filled steps, one per unit, drawn as
    one path: bars cost the browser one element each); inf / nan marked at 0.

    Two figures, each with its own range (G can be 1e-40 where H is 0.5), for two columns that
    sit side by side on a wide screen and stack on a narrow one (one figure with two axes
    overlapped itself at 390 px). Traces (by name): "H" in the first, "G" in the second, and
    "overflow H" / "overflow G" when needed.
    """
    titles = (f"{sym('H', t, l)}, sample {sample}", f"{sym('G', t, l)} = ∂Loss / ∂{sym('H', t, l)}")
    return tuple(
        cell_vector(vec, name, title, color)
        for vec, name, title, color in (
            (hidden_vec, "H", titles[0], "#4e79a7"), (grad_vec, "G", titles[1], "#f28e2b")
        )
    )  # fmt: skip


def cell_vector(vec: np.ndarray, name: str, title: str, color: str) -> go.Figure:
    """One of cell_vectors' figures: ``vec`` unit by unit, inf / nan marked at 0."""
    units = np.arange(1, vec.shape[0] + 1, dtype=np.float32)
    vec = compact(vec)
    ok = np.isfinite(vec)
    traces = [  # a filled step line: one SVG path, where bars would be h of them
        dict(type="scatter", x=units, y=np.where(ok, vec, np.nan).astype(vec.dtype), name=name,
                   mode="lines", line=dict(shape="hvh", color=color, width=1),
                   fill="tozeroy", showlegend=False,
                   hovertemplate=f"unit %{{x}}: {name} = %{{y:.4g}}<extra></extra>")
    ]  # fmt: skip
    if not ok.all():
        traces.append(
            dict(type="scatter", x=units[~ok], y=np.zeros(int((~ok).sum()), dtype=np.float32),
                       mode="markers", name=f"overflow {name}",
                       marker=dict(symbol="x", size=10, color=OVERFLOW_COLOR),
                       text=[str(v) for v in vec[~ok]],
                       hovertemplate="unit %{x}: %{text}<extra></extra>")
        )  # fmt: skip
    return build_plain(
        traces, 300,
        xaxis=dict(title="hidden unit", **FIXED),
        yaxis=dict(title="value", exponentformat="e", **FIXED),
        margin=MARGIN | dict(l=90, t=50),  # room for labels such as -1.5e-05
        title=dict(text=title, x=0.5, xanchor="center", font=dict(size=16)),
    )  # fmt: skip
