"""Gradient flow: |G_t^(l)| against t per layer, and per-layer parameter-gradient norms."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from app.figures.encoding import OVERFLOW_COLOR, base_layout, compact, overflow_markers, sym
from app.words.i18n import gettext as _
from app.words.lesson import bar_words
from deeprnn_core.analysis.measures import ORDER, change_bar, regime


def layer_colors(num_layers: int) -> list[str]:
    """One colour per layer, bottom (dark) to top (light)."""
    return sample_colorscale("Viridis", list(np.linspace(0, 0.9, num_layers)))


def top(values: np.ndarray) -> float:
    """A y position above every finite positive value (for overflow marks on log axes)."""
    ok = values[np.isfinite(values) & (values > 0)]
    return float(ok.max()) * 10 if ok.size else 1.0


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, .., 11th, 12th, 13th, .., 21st, 22nd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


OFF_SCALE = "inf / nan: off the scale"


def mark_off_scale(fig: go.Figure, height: float, xaxis: str = "x", yaxis: str = "y") -> None:
    """A dashed line labelled OFF_SCALE at ``height``, where the inf / nan marks sit: on a log
    axis they have no value, so their row is named rather than read off the axis."""
    ref = dict(xref=f"{xaxis} domain", yref=yaxis)
    fig.add_shape(type="line", x0=0, x1=1, y0=height, y1=height, **ref,
                  line=dict(color=OVERFLOW_COLOR, width=1, dash="dot"))  # fmt: skip
    fig.add_annotation(x=1, y=math.log10(height), text=OFF_SCALE, showarrow=False,
                       xanchor="right", yanchor="bottom", font=dict(color=OVERFLOW_COLOR, size=11),
                       **ref)  # fmt: skip


def no_scale(*arrays: np.ndarray) -> bool:
    """No finite positive value to draw: the log axis would show only the marks' row."""
    return not any((np.isfinite(a) & (a > 0)).any() for a in arrays)


def add_grad_lines(
    fig: go.Figure,
    grad_hidden_norm: np.ndarray,
    nonfinite: np.ndarray,
    top: float,
    side: str = "",
    **axes,
) -> None:
    """Add one |G_t^(l)| line per layer (named "l = 1".., meta "<side> l = 1" when ``side``)
    and the overflow marks at height ``top`` to ``fig`` (on subplot ``axes``: xaxis, yaxis)."""
    L, T = grad_hidden_norm.shape
    t_axis = np.arange(1, T + 1, dtype=np.float32)
    tag = f"{side}: " if side else ""
    for l, color in zip(range(1, L + 1), layer_colors(L)):
        y = compact(grad_hidden_norm[l - 1])
        fig.add_trace(
            go.Scatter(x=t_axis, y=np.where(np.isfinite(y), y, np.nan).astype(y.dtype),
                       mode="lines" if T > 1 else "markers",  # one point draws no line
                       name=f"l = {l}", line=dict(color=color, width=1.6), marker_color=color,
                       legendgroup=f"l{l}", showlegend=side in ("", "A"),
                       meta=f"{side} l = {l}" if side else None,
                       hovertemplate=f"{tag}l = {l}, t = %{{x}}: %{{y:.4g}}<extra>|G|</extra>",
                       **axes)
        )  # fmt: skip
    if nonfinite.any():
        ls, ts = np.nonzero(nonfinite)
        stride = -(-len(ls) // 2000)  # at most 2000 marks; the legend says how many cells
        ls, ts = ls[::stride], ts[::stride]
        text = [
            f"{tag}|{sym('G', t + 1, l + 1)}| = {grad_hidden_norm[l, t]}" for l, t in zip(ls, ts)
        ]
        marks = overflow_markers(t_axis[ts], np.full(len(text), top), text)
        count = int(nonfinite.sum())
        if side:  # beside the layer names of a pair: short, the hover says which cell
            marks.name = f"{side}: inf / nan ({count})"
        else:
            every = f" (every {ordinal(stride)} marked)" if stride > 1 else ""
            marks.name = f"{marks.name}: {count} cells{every}"
        fig.add_trace(marks.update(**axes))
        mark_off_scale(fig, top, **axes)


def grad_lines(grad_hidden_norm: np.ndarray, nonfinite: np.ndarray) -> go.Figure:
    """|G_t^(l)| against t, one line per layer, log y.

    Args:
        grad_hidden_norm: (L, T) norms (analysis.cell_norms(trace)[1]).
        nonfinite: (L, T) bool, trace.nonfinite_grad.
    Traces: "l = 1" .. "l = L" lines (y = grad_hidden_norm[l-1], inf / nan as gaps), then one
    "inf / nan (overflow)" marker trace at the top of the plot for every non-finite cell.
    """
    fig = go.Figure()
    add_grad_lines(fig, grad_hidden_norm, nonfinite, top(grad_hidden_norm))
    fig.update_xaxes(title="time step t")
    title = f"|{sym('G')}| = |∂Loss / ∂{sym('H')}|  (log scale)"
    fig.update_yaxes(title=title, type="log", exponentformat="power",
                     showticklabels=not no_scale(grad_hidden_norm))  # fmt: skip
    return base_layout(fig, 430, legend=dict(orientation="v", x=1.02, y=1, title="layer"))


PARAM_OFFSET = {"W_xh": -0.15, "W_hh": 0.15}  # where each sits beside its layer's number
PARAM_NAMES = {
    "W_xh": f"∂Loss / ∂{sym('W', 'xh')}: through depth",
    "W_hh": f"∂Loss / ∂{sym('W', 'hh')}: through time",
}


def add_param_bars(
    fig: go.Figure, norms: dict[str, np.ndarray], top: float, side: str = "", **axes
) -> None:
    """Add the W_xh and W_hh norms (meta "<side> W_xh" ..) and overflow marks to ``fig``: a
    marker per layer, W_xh left of the layer and W_hh right of it (PARAM_OFFSET), not bars: a
    bar on a log axis starts at the axis's lower edge, wherever the range put it, so its length
    says nothing (at a lower edge of 0.15, 3x looked like 10x); a marker's height is its
    value. An inf / nan sits at its parameter's place on the OFF_SCALE row."""
    L = norms["W_xh"].shape[0]
    layers = np.arange(1, L + 1, dtype=np.float32)
    for name, color, symbol in (("W_xh", "#4e79a7", "circle"), ("W_hh", "#e15759", "diamond")):
        y = compact(norms[name])
        fig.add_trace(
            go.Scatter(x=layers + PARAM_OFFSET[name], customdata=layers,
                       y=np.where(np.isfinite(y), y, np.nan).astype(y.dtype),
                       mode="markers", name=PARAM_NAMES[name],
                       meta=f"{side} {name}" if side else name,
                       marker=dict(color=color, symbol=symbol, size=10), legendgroup=name,
                       showlegend=side in ("", "A"),
                       hovertemplate=f"l = %{{customdata}}: %{{y:.4g}}<extra>{side} {name}</extra>",
                       **axes)
        )  # fmt: skip
    bad = [(k, i) for k in ("W_xh", "W_hh") for i in range(L) if not np.isfinite(norms[k][i])]
    if bad:
        fig.add_trace(
            overflow_markers(
                [i + 1 + PARAM_OFFSET[k] for k, i in bad], [top] * len(bad),
                [f"{sym('W', k[2:], i + 1)}: {norms[k][i]}" for k, i in bad],
            ).update(**axes)
        )  # fmt: skip
        mark_off_scale(fig, top, **axes)


def param_grad_bars(norms: dict[str, np.ndarray]) -> go.Figure:
    """Per layer: |dLoss/dW_xh^(l)| (through depth) and |dLoss/dW_hh^(l)| (through time), log y,
    as markers side by side (add_param_bars says why not bars).

    Traces: markers with meta "W_xh" and "W_hh" (y = norms[meta]), then overflow markers if any
    is inf / nan, on a row labelled OFF_SCALE.
    """
    fig = go.Figure()
    add_param_bars(fig, norms, max(top(norms["W_xh"]), top(norms["W_hh"])))
    L = norms["W_xh"].shape[0]
    fig.update_xaxes(title="layer l", dtick=1 if L <= 16 else 4)
    fig.update_yaxes(title="gradient norm  (log scale)", type="log", exponentformat="power",
                     showticklabels=not no_scale(norms["W_xh"], norms["W_hh"]))  # fmt: skip
    return base_layout(fig, 360)


def attenuation_words(
    attenuation: float, L: int, T: int, time_path: bool = True
) -> tuple[str, str]:
    """(metric value, sentence in markdown) for the core's |G_1^(1)| / |G_T^(L)|, worded by
    measures.regime: vanishing / exploding an order of magnitude from 1, shrinking / growing
    nearer, about unchanged within the printed rounding, no path at L = T = 1, undefined when
    either end overflowed; no path also for one layer whose H_t feeds no later step
    (``time_path`` False: an LRU)."""
    first, last = "(t = 1, l = 1)", f"(t = {T}, l = {L})"
    word = regime(attenuation, (T - 1) + (L - 1))
    if not time_path and L == 1 and T > 1:
        return "—", (
            f"**No path:** the one layer's H_t feeds no later step (its path through time runs "
            f"through its complex state x_t, not through H_t), so no gradient reaches {first} "
            f"from {last}: 0 by construction."
        )
    if word == "no path":
        return "—", _(
            "**No path:** at L = 1 and T = 1 the first cell {first} is the last one: no "
            "gradient travels from one cell to another."
        ).format(first=first)
    if attenuation == 0:
        return "0", _("**Vanishing completely:** no gradient at all reaches {first}.").format(
            first=first
        )
    if word == "undefined":
        return _("undefined"), _(
            "The gradient at {first} or at {last} is not a finite number ({value}): "
            "the run overflowed."
        ).format(first=first, last=last, value=attenuation)
    power = f"$10^{{{math.log10(attenuation):.1f}}}$"
    if word == "stays about 1":
        return f"{attenuation:.2e}", _(
            "**About unchanged:** the gradient reaching {first} is {power} of the one at "
            "{last}, {bar}."
        ).format(first=first, power=power, last=last, bar=bar_words(change_bar()))
    below = attenuation < 1  # "of" the one at the top, or "times" it
    template = {
        ("vanishes", True): _("**Vanishing:** the gradient reaching {first} is {power} of the "
                              "one at {last}."),
        ("vanishes", False): _("**Vanishing:** the gradient reaching {first} is {power} times "
                               "the one at {last}."),
        ("explodes", True): _("**Exploding:** the gradient reaching {first} is {power} of the "
                              "one at {last}."),
        ("explodes", False): _("**Exploding:** the gradient reaching {first} is {power} times "
                               "the one at {last}."),
        ("shrinks", True): _("**Shrinking, not vanishing:** the gradient reaching {first} is "
                             "{power} of the one at {last} (within a factor of {order} of it)."),
        ("shrinks", False): _("**Shrinking, not vanishing:** the gradient reaching {first} is "
                              "{power} times the one at {last} (within a factor of {order} of "
                              "it)."),
        ("grows", True): _("**Growing, not exploding:** the gradient reaching {first} is "
                           "{power} of the one at {last} (within a factor of {order} of it)."),
        ("grows", False): _("**Growing, not exploding:** the gradient reaching {first} is "
                            "{power} times the one at {last} (within a factor of {order} of "
                            "it)."),
    }[word, below]  # fmt: skip
    return f"{attenuation:.2e}", template.format(
        first=first, power=power, last=last, order=f"{ORDER:g}"
    )
