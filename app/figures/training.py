"""Training figures: pure functions of a ``deeprnn_core.History`` -> plotly Figure.

Per-update arrays are drawn against the update number k = 1..n (row k - 1 of the History);
validation losses and snapshots against the number of updates done before them (0..n).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.encoding import (
    base_layout,
    compact,
    finite_or_nan,
    log10_positive,
    log_ticks,
    overflow_heatmap,
    overflow_markers,
    subplot_grid,
    sym,
)
from app.figures.gradients import layer_colors, top
from deeprnn_core import RNNConfig
from deeprnn_core.analysis.spectra import pascanu_gamma

UPDATE = "update k"


def log_axis(*arrays) -> dict:
    """A log y axis: plain values on every tick when the data span under 3 decades, else
    labels at powers of ten only (plotly would label minor ticks with a bare digit)."""
    data = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    ok = data[np.isfinite(data) & (data > 0)]
    decades = float(np.log10(ok.max() / ok.min())) if ok.size else 0.0
    if decades < 3:
        return dict(type="log", tickformat=".2g")
    return dict(type="log", exponentformat="power", dtick=max(1, int(np.ceil(decades / 8))))


def _grid(titles: list[list[str]], **gaps) -> dict:
    """subplot_grid's layout with every domain inside [0, 1] (rounding can leave -1e-16)."""
    layout = subplot_grid(titles, **gaps)
    for name, axis in layout.items():
        if name != "annotations":
            axis["domain"] = [min(1.0, max(0.0, v)) for v in axis["domain"]]
    return layout


def _updates(h) -> np.ndarray:
    return np.arange(1, h.steps + 1, dtype=np.float32)


def _line(x, y, name: str, color: str, meta: str | None = None, width: float = 1.6, **kwargs):
    return go.Scatter(x=x, y=finite_or_nan(y), mode="lines", name=name, meta=meta,
                      line=dict(color=color, width=width), **kwargs)  # fmt: skip


def _overflow(fig: go.Figure, x, values: np.ndarray, what: str, **axes) -> None:
    """Marks at the top of the plot where ``values`` (n,) or (n, L) is inf / nan."""
    bad = ~np.isfinite(values)
    if bad.ndim > 1:
        bad = bad.any(axis=1)
    if bad.any():
        text = [f"update {int(k)}: {what} is inf / nan" for k in x[bad]]
        fig.add_trace(overflow_markers(x[bad], np.full(int(bad.sum()), top(values)), text, **axes))


def _layer_lines(fig: go.Figure, x, values: np.ndarray, tag: str, what: str, **axes) -> None:
    """One line per layer of ``values`` (n, L): names "l = 1".., meta "<tag> l = 1".."""
    L = values.shape[1]
    for l, color in zip(range(1, L + 1), layer_colors(L)):
        fig.add_trace(
            _line(x, values[:, l - 1], f"l = {l}", color, f"{tag} l = {l}", legendgroup=f"l{l}",
                  showlegend=tag in ("W_xh", "ratio", "sigma"),
                  hovertemplate=f"l = {l}, update %{{x}}: %{{y:.4g}}<extra>{what}</extra>",
                  **axes)
        )  # fmt: skip
    _overflow(fig, x, values, what, **axes)


def loss_figure(h, baseline_rule: str = "") -> go.Figure:
    """Training loss per update, validation loss and the task's baseline, log y.

    Traces: "training loss" (y = h.loss at x = 1..n), "validation loss" (y = h.val_loss at
    x = h.eval_steps), "baseline" (y = h.baseline across the run) when the task has one, then
    overflow marks for inf / nan losses. Works on a partial History (the live chart).
    """
    x = _updates(h)
    fig = go.Figure()
    fig.add_trace(_line(x, h.loss, "training loss (minibatch)", "#9fbfdc", "train", 1.2,
                        hovertemplate="update %{x}: %{y:.4g}<extra>training</extra>"))  # fmt: skip
    if len(h.val_loss):
        fig.add_trace(
            go.Scatter(x=np.asarray(h.eval_steps, np.float32), y=finite_or_nan(h.val_loss),
                       mode="lines+markers", name="validation loss", meta="validation",
                       line=dict(color="#e15759", width=2.5), marker=dict(size=6),
                       hovertemplate="after %{x} updates: %{y:.4g}<extra>validation</extra>")
        )  # fmt: skip
    if h.baseline is not None:
        ends = np.array([0, max(1, h.settings.get("steps", h.steps))], np.float32)
        name = f"baseline {h.baseline:.3g}" + (f": {baseline_rule}" if baseline_rule else "")
        fig.add_trace(
            go.Scatter(x=ends, y=np.full(2, h.baseline, np.float32), mode="lines", name=name,
                       meta="baseline", line=dict(color="#555", dash="dash", width=1.5),
                       hovertemplate=f"baseline: {h.baseline:.4g}<extra></extra>")
        )  # fmt: skip
    _overflow(fig, x, np.asarray(h.loss), "the training loss")
    fig.update_xaxes(title=UPDATE)
    fig.update_yaxes(title="loss  (log scale)", **log_axis(h.loss, h.val_loss))
    return base_layout(fig, 380)


def param_grad_norm_figure(h) -> go.Figure:
    """Per-layer gradient norms over training: |dLoss/dW_xh^(l)| (left, through depth) and
    |dLoss/dW_hh^(l)| (right, through time), before clipping, on one shared log y.

    Traces: "l = 1".."l = L" with meta "W_xh l = k" (y = h.param_grad_norm_w_xh[:, k-1]) on x / y,
    and meta "W_hh l = k" (y = h.param_grad_norm_w_hh[:, k-1]) on x2 / y2; overflow marks.
    """
    titles = [f"∂Loss / ∂{sym('W', 'xh')}: through depth",
              f"∂Loss / ∂{sym('W', 'hh')}: through time"]  # fmt: skip
    fig = go.Figure(layout=_grid([titles], hgap=0.06))
    x = _updates(h)
    _layer_lines(fig, x, h.param_grad_norm_w_xh, "W_xh", "|∂Loss/∂W_xh|")
    _layer_lines(fig, x, h.param_grad_norm_w_hh, "W_hh", "|∂Loss/∂W_hh|", xaxis="x2", yaxis="y2")
    fig.update_xaxes(title=UPDATE)
    fig.update_yaxes(**log_axis(h.param_grad_norm_w_xh, h.param_grad_norm_w_hh))
    fig.update_layout(yaxis_title="gradient norm  (log scale)")
    return base_layout(fig, 400, margin=dict(l=70, r=20, t=70, b=55),
                       legend=dict(orientation="v", x=1.01, y=1, title="layer"))  # fmt: skip


def update_ratio_figure(h) -> go.Figure:
    """|W_after - W_before| / |W_before| of each layer's parameters, per update, log y.

    Traces: "l = 1".."l = L" with meta "ratio l = k" (y = h.update_ratio[:, k-1]).
    """
    fig = go.Figure()
    _layer_lines(fig, _updates(h), h.update_ratio, "ratio", "|ΔW| / |W|")
    fig.update_xaxes(title=UPDATE)
    fig.update_yaxes(title="|ΔW| / |W| per update  (log scale)", **log_axis(h.update_ratio))
    return base_layout(fig, 360, legend=dict(orientation="v", x=1.01, y=1, title="layer"))


def lr_clip_figure(h, clip_norm: float | None) -> go.Figure:
    """The learning rate of every update (top) and the global gradient norm before and after
    clipping (bottom), with the updates that were clipped marked on both.

    Traces: "learning rate" (y = h.lr), "clipped" markers at the clipped updates (x where
    h.param_grad_norm_clipped < h.param_grad_norm, y = h.lr there), "gradient norm"
    (y = h.param_grad_norm, on y2), "after clipping" (y = h.param_grad_norm_clipped, on y2) and
    "clip norm" (a line, on y2).
    """
    x = _updates(h)
    fig = go.Figure(layout=_grid([["learning rate"], ["global gradient norm"]],
                                        vgap=0.2))  # fmt: skip
    fig.add_trace(_line(x, h.lr, "learning rate", "#4e79a7", "lr", 2,
                        hovertemplate="update %{x}: lr %{y:.4g}<extra></extra>"))  # fmt: skip
    clipped = np.asarray(h.param_grad_norm_clipped) < np.asarray(h.param_grad_norm)
    count = int(clipped.sum())
    fig.add_trace(
        go.Scatter(x=x[clipped], y=compact(np.asarray(h.lr)[clipped]), mode="markers",
                   name=f"clipped ({count} of {h.steps} updates)", meta="clipped",
                   marker=dict(symbol="line-ns-open", size=9, color="#e15759"),
                   hovertemplate="update %{x}: clipped<extra></extra>")
    )  # fmt: skip
    axes2 = dict(xaxis="x2", yaxis="y2")
    fig.add_trace(_line(x, h.param_grad_norm, "gradient norm (before clipping)", "#f28e2b", "norm",
                        1.2, **axes2))  # fmt: skip
    if clip_norm is not None:
        fig.add_trace(_line(x, h.param_grad_norm_clipped, "after clipping", "#59a14f",
                            "norm clipped", 1.2, **axes2))  # fmt: skip
        fig.add_trace(
            go.Scatter(x=np.array([0, h.steps], np.float32), y=np.full(2, clip_norm, np.float32),
                       mode="lines", name=f"clip norm {clip_norm:g}", meta="clip norm",
                       line=dict(color="#555", dash="dash"), **axes2)
        )  # fmt: skip
    _overflow(fig, x, np.asarray(h.param_grad_norm), "the gradient norm", **axes2)
    fig.layout.yaxis2.matches = None  # the two rows have their own y axes
    fig.update_layout(xaxis2_title=UPDATE, yaxis=dict(title="lr", **log_axis(h.lr)),
                      yaxis2=dict(title="norm", **log_axis(h.param_grad_norm)))  # fmt: skip
    legend = dict(orientation="v", x=1.01, y=1)
    return base_layout(fig, 480, margin=dict(l=70, r=20, t=40, b=55), legend=legend)


def singular_figure(h, config: RNNConfig) -> go.Figure:
    """The top singular value s1 of each layer's recurrent weights over training, with
    Pascanu et al.'s threshold 1 / gamma (analysis.spectra.pascanu_gamma: s1 < 1 / gamma is
    sufficient for the gradient through time to vanish, s1 > 1 / gamma necessary for it to
    explode), one dashed line per activation of the layers where the bound holds.

    Traces: "l = 1".."l = L" with meta "sigma l = k" (y = h.top_singular_w_hh[:, k-1]), then
    "1/γ = .. (<activation>)" lines with meta "threshold <activation>".
    """
    x = _updates(h)
    fig = go.Figure()
    _layer_lines(fig, x, h.top_singular_w_hh, "sigma", "s1(W_hh)")
    gamma = pascanu_gamma(config)
    plain = sorted({(a, g) for a, g in zip(config.activations, gamma) if not np.isnan(g)})
    for phi, g in plain:
        threshold = 1.0 / g
        fig.add_trace(
            go.Scatter(x=np.array([0, max(1, h.steps)], np.float32),
                       y=np.full(2, threshold, np.float32), mode="lines",
                       name=f"1/γ = {threshold:g} ({phi})", meta=f"threshold {phi}",
                       line=dict(color="#555", dash="dash", width=1.5))
        )  # fmt: skip
    fig.update_xaxes(title=UPDATE)
    fig.update_yaxes(title=f"largest singular value of {sym('W', 'hh')}")
    return base_layout(fig, 380, legend=dict(orientation="v", x=1.01, y=1, title="layer"))


def attenuation_figure(h) -> go.Figure:
    """|G_1^(1)| / |G_T^(L)| on each update's minibatch, log y, with ratio 1 dashed.

    Traces: "attenuation" (y = h.attenuation), "no attenuation (ratio 1)", overflow marks.
    """
    x = _updates(h)
    fig = go.Figure()
    fig.add_trace(_line(x, h.attenuation, "attenuation", "#4e79a7", "attenuation", 1.6,
                        hovertemplate="update %{x}: %{y:.3g}<extra></extra>"))  # fmt: skip
    fig.add_trace(
        go.Scatter(x=np.array([0, max(1, h.steps)], np.float32), y=np.ones(2, np.float32),
                   mode="lines", name="no attenuation (ratio 1)", meta="one",
                   line=dict(color="#555", dash="dot"))
    )  # fmt: skip
    _overflow(fig, x, np.asarray(h.attenuation), "the attenuation")
    fig.update_xaxes(title=UPDATE)
    fig.update_yaxes(
        title=f"|{sym('G', 1, 1)}| / |{sym('G', 'T', 'L')}|  (log scale)",
        **log_axis(h.attenuation, 1),
    )
    return base_layout(fig, 340)


def grad_grid_scrub(h) -> go.Figure:
    """The (L, T) grid of log10 |G_t^(l)| on the probe sequence at every snapshot, one plotly
    frame per snapshot: the slider and the play button scrub in the browser.

    Traces (each frame the same two): heatmap "|G|" (z = log10 |G|, customdata = |G|, one
    colour range over all snapshots) and "inf / nan (overflow)" cells. Frames are named by the
    update count of their snapshot (h.snapshot_steps); the figure's data is the last one.
    """
    grids = np.asarray(h.snapshot_grad)  # (s, L, T)
    steps = [int(s) for s in h.snapshot_steps]
    _, L, T = grids.shape
    z_all = log10_positive(grids)
    finite = z_all[np.isfinite(z_all)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    t_axis, l_axis = np.arange(1, T + 1, dtype=np.float32), np.arange(1, L + 1, dtype=np.float32)
    gap = 1 if T <= 60 and L <= 32 else 0

    def frame_data(i: int) -> list:
        heat = go.Heatmap(z=z_all[i], x=t_axis, y=l_axis, customdata=compact(grids[i]),
                          coloraxis="coloraxis", name="|G|", meta="|G|", xgap=gap, ygap=gap,
                          hovertemplate=f"t = %{{x}}, l = %{{y}}<br>|{sym('G')}| = "
                                        "%{customdata:.3g}<extra></extra>")  # fmt: skip
        return [heat, overflow_heatmap(~np.isfinite(grids[i]), t_axis, l_axis)]

    frames = [go.Frame(data=frame_data(i), name=str(s)) for i, s in enumerate(steps)]
    play = dict(frame=dict(duration=400, redraw=True), transition=dict(duration=0))
    play["fromcurrent"] = True
    slider = dict(
        active=len(steps) - 1, x=0.1, len=0.9, y=0, yanchor="top", pad=dict(t=60, b=10),
        currentvalue=dict(prefix="after updates: ", xanchor="right", font=dict(size=14)),
        steps=[dict(label=str(s), method="animate",
                    args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
               for s in steps],
    )  # fmt: skip
    buttons = dict(
        type="buttons", direction="left", x=0.1, y=0, xanchor="right", yanchor="top",
        pad=dict(t=75, r=10), showactive=False, buttons=[
            dict(label="▶", method="animate", args=[None, play]),
            dict(label="❚❚", method="animate",
                 args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))]),
        ],
    )  # fmt: skip
    fig = go.Figure(data=frame_data(len(steps) - 1), frames=frames)
    colorbar = dict(title=dict(text=f"|{sym('G')}|", side="right"), **log_ticks(finite))
    fig.update_layout(coloraxis=dict(colorscale="Viridis", cmin=low, cmax=high, colorbar=colorbar),
                      sliders=[slider], updatemenus=[buttons])  # fmt: skip
    fig.update_xaxes(title="time step t", showgrid=False, zeroline=False)
    fig.update_yaxes(title="layer l", dtick=1 if L <= 16 else 4, showgrid=False, zeroline=False,
                     range=[0.5, L + 0.5])  # fmt: skip
    height = int(np.clip(260 + 22 * L, 380, 760))
    return base_layout(fig, height, margin=dict(l=60, r=20, t=30, b=150), showlegend=False)


def loss_pair(histories: tuple, labels: tuple[str, str]) -> go.Figure:
    """A/B: training (thin) and validation (thick) loss of both sides and the baseline, log y.

    Traces: meta "A train", "A validation", "B train", "B validation", then "baseline".
    """
    fig = go.Figure()
    for h, label, side, colors in zip(histories, labels, "AB", (("#9fbfdc", "#4e79a7"),
                                                              ("#f7c59a", "#f28e2b"))):  # fmt: skip
        fig.add_trace(_line(_updates(h), h.loss, f"{label}: training", colors[0],
                            f"{side} train", 1.0))  # fmt: skip
        if len(h.val_loss):
            fig.add_trace(
                go.Scatter(x=np.asarray(h.eval_steps, np.float32), y=finite_or_nan(h.val_loss),
                           mode="lines+markers", name=f"{label}: validation",
                           meta=f"{side} validation", line=dict(color=colors[1], width=2.5))
            )  # fmt: skip
    h = histories[0]
    if h.baseline is not None:
        fig.add_trace(
            go.Scatter(x=np.array([0, h.steps], np.float32), y=np.full(2, h.baseline, np.float32),
                       mode="lines", name=f"baseline {h.baseline:.3g}", meta="baseline",
                       line=dict(color="#555", dash="dash"))
        )  # fmt: skip
    fig.update_xaxes(title=UPDATE)
    fig.update_yaxes(title="loss  (log scale)", **log_axis(*(x.loss for x in histories)))
    return base_layout(fig, 400)
