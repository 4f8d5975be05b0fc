"""Tuning map figures (pure plotly): the median validation loss over (log10 lr x L) of one cell
type with each depth's window of good learning rates outlined, and the window's width against
L. Inputs are deeprnn_core.study.measures' frames; nothing is computed here but layout. Built
per run (never cached), so their words are the catalog's in the run's language."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import base_layout
from app.words.i18n import gettext as _

WINDOW_COLOR = "#e15759"
CELL_COLORS = {"rnn": "#4e79a7", "gru": "#59a14f", "lstm": "#f28e2b"}


def map_figure(spread, windows, cell: str) -> go.Figure:
    """Heatmap of log10(median validation loss over seeds) for ``cell``: x = log10 lr, y = L
    (one row per depth). Hover: the median, the quartiles and the seed count. Each depth's
    window (``windows``' lo..hi) is outlined by a rectangle half a grid step wider on each side;
    a depth with no finite best has no outline. A diverged median (+inf) is left blank.

    Args:
        spread: measures.seed_spread(table) (cell, depth, lr, n, median, q1, q3, iqr).
        windows: measures.good_window(table) (cell, depth, lo, hi, width, ...).
    """
    sub = spread[spread["cell"] == cell]
    lrs = np.sort(sub["lr"].unique())
    depths = np.sort(sub["depth"].unique())
    x = np.log10(lrs)
    shape = (len(depths), len(lrs))
    z, custom = np.full(shape, np.nan), np.full(shape + (4,), np.nan)
    for row in sub.itertuples():
        i, j = int(np.searchsorted(depths, row.depth)), int(np.searchsorted(lrs, row.lr))
        med = row.median
        z[i, j] = np.log10(med) if np.isfinite(med) and med > 0 else np.nan
        custom[i, j] = (med, row.q1, row.q3, row.n)
    fig = go.Figure(
        go.Heatmap(
            x=x, y=np.arange(len(depths)), z=z, customdata=custom, colorscale="Viridis",
            colorbar=dict(title=_("log10 median<br>validation loss")), name=cell,
            hovertemplate=_(
                "log10 learning rate = %{x:.2f}, row %{y}<br>median %{customdata[0]:.4g} "
                "(quartiles %{customdata[1]:.4g} and %{customdata[2]:.4g}, "
                "%{customdata[3]} seeds)"
            ) + "<extra></extra>",
        )
    )  # fmt: skip
    half = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
    for w in windows[windows["cell"] == cell].itertuples():
        if not np.isfinite(w.width):
            continue
        i = int(np.searchsorted(depths, w.depth))
        fig.add_shape(
            type="rect", x0=np.log10(w.lo) - half, x1=np.log10(w.hi) + half, y0=i - 0.5,
            y1=i + 0.5, line=dict(color=WINDOW_COLOR, width=3), name=f"window L={w.depth}",
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=WINDOW_COLOR, width=3),
                   name=_("good learning rates (median within tolerance of the best)"))
    )  # fmt: skip
    base_layout(
        fig, 120 + 45 * len(depths), title=_("{cell}: median validation loss").format(cell=cell)
    )
    fig.update_xaxes(title=_("log10 learning rate"))
    fig.update_yaxes(
        title=_("depth L"), tickvals=list(range(len(depths))), ticktext=[str(d) for d in depths]
    )
    return fig


def width_figure(windows) -> go.Figure:
    """Width of the window (decades of learning rate) against L, one line per cell type."""
    fig = go.Figure()
    for cell, group in windows.groupby("cell", sort=True):
        g = group.sort_values("depth")
        fig.add_trace(
            go.Scatter(
                x=g["depth"].to_numpy(float), y=g["width"].to_numpy(float),
                mode="lines+markers", name=cell, line=dict(color=CELL_COLORS.get(cell)),
                hovertemplate=_("L = %{x}: %{y:.2f} decades") + "<extra>" + cell + "</extra>",
            )
        )  # fmt: skip
    base_layout(fig, 300, title=_("Window of good learning rates against depth"))
    depths = sorted({int(d) for d in windows["depth"]}) if len(windows) else []
    fig.update_xaxes(title=_("depth L"), tickvals=depths)  # the study's depths: whole numbers
    fig.update_yaxes(title=_("width (decades of learning rate)"), rangemode="tozero")
    return fig
