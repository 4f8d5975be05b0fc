"""How numbers become figure data: compact arrays, log colour scales and overflow marks.

Shared by every figure so that an inf / nan cell looks the same everywhere: a magenta mark with
a legend entry "inf / nan (overflow)", never a silently missing cell.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.basevalidators import ColorscaleValidator

OVERFLOW_COLOR = "#e7298a"  # magenta: not in any colour scale used here
OVERFLOW_NAME = "inf / nan (overflow)"
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # smallest normal float32
FONT = dict(family="Source Sans Pro, sans-serif", size=13)


_AXIS = dict(gridcolor="#ececec", zerolinecolor="#cfcfcf", linecolor="#b0b0b0", ticks="outside",
             tickcolor="#b0b0b0", automargin=True)  # fmt: skip
# A small template of our own: plotly's default one adds ~7 kB to every figure, and the app
# draws with Streamlit's theme off (its restyling costs the browser ~0.1 s per redraw).
TEMPLATE = go.layout.Template(
    layout=dict(
        font=FONT, paper_bgcolor="white", plot_bgcolor="white", xaxis=_AXIS, yaxis=_AXIS,
        colorway=["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"],
        hoverlabel=dict(font=FONT), colorscale=dict(sequential="Viridis"),
    )
)  # fmt: skip


def sym(base: str, sub: str = "t", sup: str | None = "l") -> str:
    """The tutorial's (d2l) notation in plotly text: sym("H") = H_t^(l) as HTML sub/superscripts."""
    return f"{base}<sub>{sub}</sub>" + (f"<sup>({sup})</sup>" if sup is not None else "")


def compact(a) -> np.ndarray:
    """``a`` as float32 (plotly sends it as a base64 typed array), unless a finite value is
    beyond float32's range (above 3.4e38 or nonzero below 1.2e-38), then float64: no finite
    number may turn into inf or 0 on screen. Vanishing gradients reach 1e-100 easily."""
    a = np.asarray(a, dtype=np.float64)
    magnitude = np.abs(a[np.isfinite(a) & (a != 0)])
    if magnitude.size and (magnitude.max() > FLOAT32_MAX or magnitude.min() < FLOAT32_TINY):
        return a
    return a.astype(np.float32)


def finite_or_nan(a) -> np.ndarray:
    """``a`` with inf / nan replaced by nan (a gap the overflow mark fills)."""
    a = compact(a)
    return np.where(np.isfinite(a), a, np.nan).astype(a.dtype)


def log10_positive(a) -> np.ndarray:
    """log10 of the positive finite entries of ``a``; nan elsewhere (float32)."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        out = np.where(np.isfinite(a) & (a > 0), np.log10(a), np.nan)
    return out.astype(np.float32)


def log_ticks(log_values: np.ndarray, max_ticks: int = 8) -> dict:
    """Colourbar ticks for a colour axis in log10 units, labelled with the values themselves:
    powers of ten, or 1-2-5 steps when the data spans less than two decades."""
    finite = log_values[np.isfinite(log_values)]
    if finite.size == 0:
        return {}
    low, high = float(finite.min()), float(finite.max())
    if high - low < 2:
        mantissas = (1, 2, 5)
        decades = range(int(np.floor(low)) - 1, int(np.ceil(high)) + 1)
        vals = [np.log10(m) + k for k in decades for m in mantissas]
        vals = [v for v in vals if low - 1e-9 <= v <= high + 1e-9] or [low, high]
        return dict(tickvals=vals, ticktext=[f"{10**v:.3g}" for v in vals])
    stride = max(1, int(np.ceil((np.ceil(high) - np.floor(low) + 1) / max_ticks)))
    vals = list(range(int(np.ceil(low)), int(np.floor(high)) + 1, stride)) or [round(low)]
    return dict(tickvals=vals, ticktext=[f"1e{v}" if v else "1" for v in vals])


def overflow_heatmap(
    mask: np.ndarray, x, y, color: str = OVERFLOW_COLOR, name: str = OVERFLOW_NAME, **kwargs
) -> go.Heatmap:
    """A heatmap painting the True cells of ``mask`` in the overflow colour (others clear)."""
    z = np.where(mask, 1.0, np.nan).astype(np.float32)
    return go.Heatmap(
        z=z,
        x=x,
        y=y,
        colorscale=[[0, color], [1, color]],
        showscale=False,
        hoverinfo="skip",
        name=name,
        zmin=0,
        zmax=1,
        **kwargs,
    )


def overflow_legend(count: int, color: str = OVERFLOW_COLOR, name: str = OVERFLOW_NAME):
    """A legend entry for the overflow colour, naming how many cells it marks."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        marker=dict(symbol="square", size=12, color=color, line=dict(width=1, color="#888")),
        name=f"{name}: {count} cells",
        showlegend=True,
        hoverinfo="skip",
    )


def overflow_markers(x, y, text, name: str = OVERFLOW_NAME, **kwargs) -> go.Scatter:
    """Markers (x) at positions where a line or bar would show inf / nan."""
    return go.Scatter(
        x=np.asarray(x, dtype=np.float32),
        y=compact(y),  # float64 where a mark sits above float32's range (10x a huge norm)
        mode="markers",
        marker=dict(symbol="x", size=10, color=OVERFLOW_COLOR, line=dict(width=1)),
        name=name,
        text=text,
        hovertemplate="%{text}<extra></extra>",
        **kwargs,
    )


def subplot_grid(titles: list[list[str]], hgap: float = 0.04, vgap: float = 0.16) -> dict:
    """Layout of a grid of subplots, one per title (rows of equal length, "" for an empty
    cell), without make_subplots (slow to build): axes x, x2, .. and y, y2, .. row-major,
    every axis matching the first (one shared range), tick labels on the outer axes only.
    Axis margins are fixed (automargin costs the browser ~30 % of a redraw)."""
    rows, cols = len(titles), len(titles[0])
    width, height = (1 - hgap * (cols - 1)) / cols, (1 - vgap * (rows - 1)) / rows
    layout: dict = {"annotations": []}
    for r, row in enumerate(titles):
        for c, title in enumerate(row):
            k = r * cols + c + 1
            n = "" if k == 1 else str(k)
            if not title and k > 1:
                continue  # an empty cell: no axes
            # rounding can leave the last row a hair below 0, which plotly refuses
            x0, y0 = c * (width + hgap), max(0.0, 1 - r * (height + vgap) - height)
            layout[f"xaxis{n}"] = dict(
                domain=[x0, x0 + width],
                anchor=f"y{n}",
                automargin=False,
                showticklabels=r == rows - 1,
            )
            layout[f"yaxis{n}"] = dict(
                domain=[y0, y0 + height], anchor=f"x{n}", automargin=False, showticklabels=c == 0
            )
            if n:
                layout[f"xaxis{n}"]["matches"], layout[f"yaxis{n}"]["matches"] = "x", "y"
            if title:
                layout["annotations"].append(
                    dict(text=title, x=x0 + width / 2, y=y0 + height, xref="paper", yref="paper",
                         xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=14))
                )  # fmt: skip
    return layout


def legend_strip(shown: bool, margin: dict) -> dict:
    """Layout keys for a horizontal legend in a strip of its own above the plot, clear of
    subplot titles (the margin grows by the strip's height), or for no legend."""
    if not shown:
        return dict(showlegend=False, margin=margin)
    legend = dict(orientation="h", yref="container", y=1, yanchor="top", x=0)
    return dict(showlegend=True, legend=legend, margin=margin | dict(t=margin["t"] + 28))


pio.templates["deeprnn"] = TEMPLATE  # by name: ~6 ms less per figure than the object


MARGIN = dict(l=60, r=20, t=40, b=50)  # px around the plot: axis labels left, ticks below


def layout_dict(height: int, **kwargs) -> dict:
    """Common layout: compact margins, readable font, legend above the plot (``kwargs`` add
    to it or replace its keys)."""
    layout = dict(
        template="deeprnn",
        height=height,
        margin=MARGIN,
        font=FONT,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return layout | kwargs


def base_layout(fig: go.Figure, height: int, **kwargs) -> go.Figure:
    """The common layout (layout_dict) applied to ``fig``."""
    fig.update_layout(**layout_dict(height, **kwargs))
    return fig


TEMPLATE_JSON = TEMPLATE.to_plotly_json()  # what validation makes of template="deeprnn"
_COLORSCALE = ColorscaleValidator("colorscale", "heatmap")


def _plain(value, key: str = ""):
    """``value`` as plotly's validators would leave it, for the two shorthands our figures
    use: a title given as text, and a colourscale given by name."""
    if isinstance(value, dict):
        return {k: _plain(v, k) for k, v in value.items()}
    if key == "title" and isinstance(value, str):
        return {"text": value}
    if key == "colorscale" and isinstance(value, str):
        return [list(stop) for stop in _COLORSCALE.validate_coerce(value)]
    return value


def build_plain(traces: list, height: int, **layout) -> go.Figure:
    """build() without plotly's validators (~5 ms less per figure: a quarter of the landing
    page's script time on a slider move), for figures made of plain dicts (``type`` keys).
    Validation would change nothing: tests compare every figure made this way with its
    validated copy (tests/test_figures.py), so a misspelt key still fails there."""
    data = [_plain(t if isinstance(t, dict) else t.to_plotly_json()) for t in traces]
    layout = _plain(layout_dict(height, **layout))
    layout = {k: v for k, v in layout.items() if not (isinstance(v, list) and not v)}
    layout["template"] = TEMPLATE_JSON  # (validation drops an empty list: shapes=[])
    return go.Figure(data=data, layout=layout, _validate=False)


def build(traces: list, height: int, **layout) -> go.Figure:
    """A figure made at once from its traces and layout: ~5x faster to build than adding the
    traces and layout one by one (each add_trace / update_* walks plotly's validators again),
    which the landing page pays on every slider move."""
    return go.Figure(data=traces, layout=layout_dict(height, **layout))
