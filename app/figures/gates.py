"""Gated cells: how saturated each GRU / LSTM gate is per (t, l), and the LSTM's cell-state
gradient |dLoss/dC_t^(l)|."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import (
    OVERFLOW_COLOR,
    OVERFLOW_NAME,
    base_layout,
    compact,
    legend_strip,
    overflow_heatmap,
    overflow_legend,
    overflow_markers,
    subplot_grid,
    sym,
)
from app.figures.gradients import layer_colors, top
from deeprnn_core.cells import REGISTRY

# each gated cell type's gates in torch's order, and their titles, as the registry states them
GATES_OF = {name: cell.gate_names() for name, cell in REGISTRY.items() if cell.gates}
GATE_TITLES = {
    gate: f"{gate}: {role} ({'σ' if kind == 'sigmoid' else 'tanh'})"
    for cell in REGISTRY.values()
    for gate, kind, role in cell.gates
}
ABSENT_COLOR, ABSENT_NAME = "#cfcfcf", "layer without this gate"


def gated_layers(cells: tuple[str, ...]) -> bool:
    """Whether any layer is of a gated cell type (GRU, LSTM)."""
    return any(c in GATES_OF for c in cells)


def gate_title(gate: str, fraction: np.ndarray) -> str:
    """A panel's title; it says so when the panel is blank because nothing saturated (0 % is
    the colour scale's white) or everything did."""
    seen = fraction[np.isfinite(fraction)]
    if seen.size and (seen == 0).all():
        return f"{GATE_TITLES[gate]}: 0 % saturated"
    if seen.size and (seen == 1).all():
        return f"{GATE_TITLES[gate]}: 100 % saturated"
    return GATE_TITLES[gate]


def saturation_heatmaps(saturation: dict[str, np.ndarray], cells: tuple[str, ...]) -> go.Figure:
    """Small multiples, one per gate: the fraction of units near 0 or 1 (tanh: -1 or 1) per
    (t, l). A row per cell type present (GRU: r, z, n; LSTM: i, f, g, o), one colour scale 0..1.

    Args:
        saturation: analysis.gate_saturation(trace): gate -> (L, T), nan for layers without it.
        cells: the cell type of each layer (config.cells), to tell a layer without the gate
            from an overflowed cell (both are nan in ``saturation``).
    A panel whose gate is 0 % (blank) or 100 % saturated everywhere says so in its title.
    Traces: per gate a heatmap named "<gate>" (z = saturation[gate]), "layer without this gate"
    marks, "inf / nan (overflow)" marks where a gated layer's fraction is nan, legend entries.
    """
    kinds = [kind for kind in GATES_OF if kind in cells]
    cols = max(len(GATES_OF[k]) for k in kinds)
    titles = [[gate_title(g, saturation[g]) for g in GATES_OF[k]] + [""] * (cols - len(GATES_OF[k]))
              for k in kinds]  # fmt: skip
    L, T = next(iter(saturation.values())).shape
    layout = subplot_grid(titles, hgap=0.03, vgap=0.22)
    dtick = 1 if L <= 8 else 2 if L <= 16 else 4
    for name, axis in layout.items():
        if name.startswith("yaxis"):
            axis.update(dtick=dtick, range=[0.5, L + 0.5], showgrid=False, zeroline=False)
        elif name.startswith("xaxis"):
            title = "time step t" if axis["showticklabels"] else ""
            axis.update(showgrid=False, zeroline=False, title=title)
    layout["yaxis"]["title"] = "layer l"
    fig = go.Figure(layout=layout)
    t_axis, l_axis = np.arange(1, T + 1, dtype=np.float32), np.arange(1, L + 1, dtype=np.float32)
    counts = {ABSENT_COLOR: 0, OVERFLOW_COLOR: 0}
    for row, kind in enumerate(kinds):
        has = np.array([c == kind for c in cells])[:, None].repeat(T, axis=1)  # (L, T)
        for col, gate in enumerate(GATES_OF[kind]):
            k = row * cols + col + 1
            axes = dict(xaxis=f"x{k if k > 1 else ''}", yaxis=f"y{k if k > 1 else ''}")
            fraction = saturation[gate]
            fig.add_trace(
                go.Heatmap(z=compact(fraction), x=t_axis, y=l_axis, coloraxis="coloraxis",
                           name=gate, hovertemplate=f"{gate}: t = %{{x}}, l = %{{y}}<br>"
                           "%{z:.1%} of units saturated<extra></extra>", **axes)
            )  # fmt: skip
            for mask, color, name in (
                (~has, ABSENT_COLOR, ABSENT_NAME),
                (has & np.isnan(fraction), OVERFLOW_COLOR, OVERFLOW_NAME),
            ):
                if mask.any():
                    counts[color] += int(mask.sum())
                    fig.add_trace(overflow_heatmap(mask, t_axis, l_axis, color, name, **axes))
    for color, name in ((ABSENT_COLOR, ABSENT_NAME), (OVERFLOW_COLOR, OVERFLOW_NAME)):
        if counts[color]:
            fig.add_trace(overflow_legend(counts[color], color, name))
    fig.update_layout(
        coloraxis=dict(colorscale="Blues", cmin=0, cmax=1,
                       colorbar=dict(title=dict(text="fraction<br>saturated"), tickformat=".0%")),
    )  # fmt: skip
    height = len(kinds) * int(np.clip(110 + 14 * L, 200, 420)) + 80
    margin = dict(l=70, r=20, t=40, b=55)
    return base_layout(fig, height, **legend_strip(bool(sum(counts.values())), margin))


def cell_grad_lines(cell_grad_norm: np.ndarray, cells: tuple[str, ...]) -> go.Figure:
    """|dLoss/dC_t^(l)| against t for each layer with a cell state (LSTM), log y; inf / nan
    marked at the top.

    Args:
        cell_grad_norm: (L, T) norm of trace.grad_cell_state over batch and units (nan rows
            for layers without a cell state).
        cells: config.cells.
    Traces: "l = <l>" per LSTM layer (y = cell_grad_norm[l-1]), then "inf / nan (overflow)".
    """
    L, T = cell_grad_norm.shape
    t_axis = np.arange(1, T + 1, dtype=np.float32)
    lstm = [l for l in range(1, L + 1) if REGISTRY[cells[l - 1]].cell_state]
    colors = layer_colors(L)
    fig = go.Figure()
    for l in lstm:
        color = colors[l - 1]
        y = compact(cell_grad_norm[l - 1])
        fig.add_trace(
            go.Scatter(x=t_axis, y=np.where(np.isfinite(y), y, np.nan).astype(y.dtype),
                       mode="lines" if T > 1 else "markers", name=f"l = {l}",
                       line=dict(color=color, width=1.6), marker_color=color,
                       hovertemplate=f"l = {l}, t = %{{x}}: %{{y:.4g}}<extra>|∂Loss/∂C|</extra>")
        )  # fmt: skip
    rows = np.array([l - 1 for l in lstm], dtype=int)
    bad = ~np.isfinite(cell_grad_norm[rows])  # (n, T)
    if bad.any():
        ls, ts = np.nonzero(bad)
        stride = -(-len(ls) // 2000)  # at most 2000 marks; the legend says how many cells
        ls, ts = ls[::stride], ts[::stride]
        text = [f"l = {rows[i] + 1}, t = {t + 1}: {cell_grad_norm[rows[i], t]}"
                for i, t in zip(ls, ts)]  # fmt: skip
        height = top(cell_grad_norm[rows])
        marks = overflow_markers(t_axis[ts], np.full(len(ts), height), text)
        marks.name += f": {int(bad.sum())} cells"
        fig.add_trace(marks)
    fig.update_xaxes(title="time step t")
    fig.update_yaxes(title=f"|∂Loss / ∂{sym('C')}|  (log scale)", type="log",
                     exponentformat="power")  # fmt: skip
    return base_layout(fig, 360, legend=dict(orientation="v", x=1.02, y=1, title="LSTM layer"))
