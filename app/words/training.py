"""The sentences printed under the training figures. Each one reads the run's numbers and
picks its direction word from them (fell / rose, below / above, more / less): none is fixed.

Summaries over "the start" and "the end" of a run are medians over its first and last tenth
of updates, so one noisy minibatch does not decide a sentence.
"""

from __future__ import annotations

import warnings

import numpy as np

from app.words.i18n import N_
from app.words.i18n import gettext as _
from deeprnn_core import RNNConfig
from deeprnn_core.analysis.measures import LEARNED, ORDER, clear_change, learned, regime
from deeprnn_core.analysis.spectra import pascanu_gamma

# the tasks' names (deeprnn_core.data.tasks.TASKS) as catalog messages: the Task select and the
# captions show them through gettext
TASK_NAMES = {
    "adding": N_("adding"),
    "copy": N_("copy"),
    "sine": N_("sine"),
    "sunspots": N_("sunspots"),
    "co2": N_("co2"),
    "chars": N_("chars"),
}
# the tasks' sources and baselines (deeprnn_core.data.tasks: Task.source, Task.baseline_rule) as
# catalog messages; a changed core string shows in English until it is translated
TASK_TEXTS = (
    N_("synthetic: the adding problem (Hochreiter & Schmidhuber 1997)"),
    N_("always predict 1 (Var(U1 + U2) = 1/6)"),
    N_("synthetic: the copy task (Arjovsky, Shah & Bengio 2016)"),
    N_("guess one of the 8 symbols at each of the 10 scored steps (10 log 8, loss summed)"),
    N_("synthetic: sines of periods 7, 17, 41 steps plus Gaussian noise (sd 0.1)"),
    N_("statsmodels.datasets.sunspots: yearly sunspot numbers 1700-2008 (NOAA NGDC)"),
    N_("statsmodels.datasets.co2: weekly CO2 at Mauna Loa 1958-2001 (Keeling & Whorf)"),
    N_("persistence: predict the last value seen, x_T"),
)


def window(values: np.ndarray, end: bool) -> np.ndarray:
    """Median over the first (end=False) or last tenth of the rows of ``values`` (n, ...)."""
    values = np.asarray(values, dtype=np.float64)
    w = max(1, len(values) // 10)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all nan: a layer without W_hh
        return np.nanmedian(values[-w:] if end else values[:w], axis=0)


def _compare(a: float, b: float, less: str, more: str, same: str = "about the same as") -> str:
    """``less`` when a is clearly below b, ``more`` clearly above, else ``same`` (one rule:
    measures.clear_change, within the rounding of 3 printed digits)."""
    return {-1: more, 0: same, 1: less}[clear_change(a, b)]


def _times(a: float, b: float) -> str:
    """How a compares with b as a factor: "3.2 times the top's" or "1/40 of the top's"."""
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0 or b <= 0:
        return _("no finite ratio")
    if a >= b:
        return _("{x} times the top's").format(x=f"{a / b:.3g}")
    return _("1/{x} of the top's").format(x=f"{b / a:.3g}")


def loss_words(h) -> str:
    """Where the validation (or training) loss went, against the baseline."""
    if h.diverged:
        return _("**The run diverged** ({reason}): no update was applied after it.").format(
            reason=h.diverged
        )
    end_train = float(window(h.loss, True))
    text = _(
        "After {steps} updates the training loss is about {loss} (median of the last tenth)"
    ).format(steps=h.steps, loss=f"{end_train:.3g}")
    if len(h.val_loss):
        v0, v = float(h.val_loss[0]), float(h.val_loss[-1])
        text += {
            -1: _("; the validation loss rose from {first} to {last}"),
            0: _("; the validation loss stayed about the same from {first} to {last}"),
            1: _("; the validation loss fell from {first} to {last}"),
        }[clear_change(v, v0)].format(first=f"{v0:.4g}", last=f"{v:.4g}")
        last = v
    else:
        text += _(".")
        last = end_train
    if h.baseline is None:
        return text + (_(".") if len(h.val_loss) else "")
    factor = last / h.baseline if h.baseline > 0 else float("nan")
    text += {
        -1: _(", above the baseline {baseline} ({factor} times it)."),
        0: _(", about at the baseline {baseline} ({factor} times it)."),
        1: _(", below the baseline {baseline} ({factor} times it)."),
    }[clear_change(last, h.baseline)].format(baseline=f"{h.baseline:.4g}", factor=f"{factor:.3g}")
    if learned(last, h.baseline) is False:
        text += " " + _(
            "That is not below {times} times the baseline: the run did not learn the task (not "
            "clearly better than the trivial predictor)."
        ).format(times=f"{LEARNED:g}")
    if h.metric == "accuracy" and len(h.val_metric):
        accuracy = 100 * h.val_metric[-1]
        text += " " + _(
            "Validation accuracy on the scored steps: {accuracy} % (chance: 12.5 %)."
        ).format(accuracy=f"{accuracy:.1f}")
    if h.metric == "perplexity" and len(h.val_metric) and len(h.val_loss):
        scored = h.settings.get("loss_kind")  # the steps scored: every step of the window
        steps = len(scored) if isinstance(scored, tuple) else None
        unigram = np.exp(h.baseline / steps) if steps and h.baseline is not None else None
        if unigram:
            text += " " + _(
                "Validation perplexity: {perplexity} per character (unigram baseline {unigram})."
            ).format(perplexity=f"{h.val_metric[-1]:.3g}", unigram=f"{unigram:.3g}")
        else:
            text += " " + _("Validation perplexity: {perplexity} per character.").format(
                perplexity=f"{h.val_metric[-1]:.3g}"
            )
    return text


def gap_words(train_loss: float, val_loss: float) -> str:
    """The train-validation gap in words."""
    gap = val_loss - train_loss
    side = {1: "above", -1: "below", 0: "about equal to"}[clear_change(train_loss, val_loss)]
    return f"validation {abs(gap):.3g} {side} training"


def _than_top(bottom: float, top: float, path: str) -> str:
    """ "less gradient through time than the top", or more, or as much."""
    time = path == "through time"
    if not (np.isfinite(bottom) and np.isfinite(top)):
        return (
            _("no comparable gradient through time")
            if time
            else _("no comparable gradient through depth")
        )
    sign = clear_change(float(top), float(bottom))
    if sign < 0:
        return (
            _("less gradient through time than the top")
            if time
            else _("less gradient through depth than the top")
        )
    if sign > 0:
        return (
            _("more gradient through time than the top")
            if time
            else _("more gradient through depth than the top")
        )
    return (
        _("about as much gradient through time as the top")
        if time
        else _("about as much gradient through depth as the top")
    )


def grad_words(h) -> str:
    """Bottom against top layer, W_xh and W_hh, over the last tenth of updates."""
    xh, hh = window(h.param_grad_norm_w_xh, True), window(h.param_grad_norm_w_hh, True)
    L = len(hh)
    if L == 1:
        return _(
            "One layer: at the end |∂Loss/∂W_hh| is {hh} and |∂Loss/∂W_xh| {xh} (medians of the "
            "last tenth)."
        ).format(hh=f"{hh[0]:.3g}", xh=f"{xh[0]:.3g}")
    if np.isfinite(hh[0]) and np.isfinite(hh[-1]):
        time_part = _than_top(hh[0], hh[-1], "through time")
    else:  # nan: an end layer with no parameter on the path (cells.path_gradient) or overflow
        time_part = _(
            "no comparison through time (an end layer has no parameter of its own on that "
            "path, as minGRU and minLSTM, or its norm overflowed)"
        )
    return _(
        "Over the last tenth of updates (medians), |∂Loss/∂W_hh| is {hh1} in layer 1 and {hhL} "
        "in layer {L} ({hh_times}); |∂Loss/∂W_xh| is {xh1} and {xhL} ({xh_times}): the bottom "
        "layer gets {time}, and {depth}."
    ).format(
        hh1=f"{hh[0]:.3g}", hhL=f"{hh[-1]:.3g}", L=L, hh_times=_times(hh[0], hh[-1]),
        xh1=f"{xh[0]:.3g}", xhL=f"{xh[-1]:.3g}", xh_times=_times(xh[0], xh[-1]),
        time=time_part, depth=_than_top(xh[0], xh[-1], "through depth"),
    )  # fmt: skip


def ratio_words(h) -> str:
    """Which layer's weights moved most and least per update, at the end."""
    r = window(h.update_ratio, True)
    if not np.isfinite(r).any():
        return _("No update ratio is finite.")
    most, least = int(np.nanargmax(r)), int(np.nanargmin(r))
    if len(r) == 1:
        return _("At the end an update changes the weights by about {r} of their norm.").format(
            r=f"{r[0]:.2g}"
        )
    if clear_change(float(r[least]), float(r[most])) == 0:
        return _(
            "At the end of training an update moves every layer's weights by about the same "
            "share of their norm ({low} to {high})."
        ).format(low=f"{r[least]:.2g}", high=f"{r[most]:.2g}")
    return _(
        "At the end of training an update moves layer {most}'s weights most ({high} of their "
        "norm) and layer {least}'s least ({low}): a ratio far below ~1e-3 means a layer has "
        "nearly stopped learning."
    ).format(most=most + 1, high=f"{r[most]:.2g}", least=least + 1, low=f"{r[least]:.2g}")


def lr_words(h, schedule: str, clip_norm: float | None) -> str:
    """The learning rate's path and how often clipping acted."""
    lr = np.asarray(h.lr)
    text = _(
        "With the {schedule} schedule the learning rate went from {first} to {last} (lowest "
        "{low}, highest {high})."
    ).format(
        schedule=schedule, first=f"{lr[0]:.3g}", last=f"{lr[-1]:.3g}",
        low=f"{np.nanmin(lr):.3g}", high=f"{np.nanmax(lr):.3g}",
    )  # fmt: skip
    norm = np.asarray(h.param_grad_norm)
    if clip_norm is None:
        return (
            text
            + " "
            + _(
                "No clipping (the sidebar's clip norm is 0); the gradient norm ranged from {low} "
                "to {high}."
            ).format(low=f"{np.nanmin(norm):.3g}", high=f"{np.nanmax(norm):.3g}")
        )
    clipped = int((np.asarray(h.param_grad_norm_clipped) < norm).sum())
    return (
        text
        + " "
        + _("Clipping to {norm} acted on {clipped} of {steps} updates.").format(
            norm=f"{clip_norm:g}", clipped=clipped, steps=h.steps
        )
    )


def singular_words(h, config: RNNConfig) -> str:
    """Pascanu's condition at the start and end, for the layers where it holds
    (deeprnn_core.analysis.spectra.pascanu_gamma)."""
    gamma = pascanu_gamma(config)
    rnn = np.flatnonzero(~np.isnan(gamma))
    gated = "" if len(rnn) == config.num_layers else " " + _(
        "The bound holds for plain rnn cells without layer norm only: GRU / LSTM layers stack "
        "their gate blocks into one matrix, minGRU / minLSTM / LRU layers have no W_hh (their "
        "recurrence is element-wise) and layer norm rescales A_t, so the threshold is drawn for "
        "the other layers only."
    )  # fmt: skip
    if not len(rnn):
        return _("No layer here where the bound holds.") + gated
    s1_start, s1_end = np.asarray(h.top_singular_w_hh)[0], window(h.top_singular_w_hh, True)
    limit = 1 / gamma[rnn]
    below0, below1 = int((s1_start[rnn] < limit).sum()), int((s1_end[rnn] < limit).sum())
    return (
        _(
            "Below 1/γ the gradient through time must vanish (sufficient); above it, it can "
            "explode (necessary, not sufficient). Before training {before} of {n} rnn layers "
            "were below 1/γ; at the end {after}. The largest s1 went from {first} to {last}."
        ).format(
            before=below0,
            n=len(rnn),
            after=below1,
            first=f"{np.nanmax(s1_start[rnn]):.3g}",
            last=f"{np.nanmax(s1_end[rnn]):.3g}",
        )  # fmt: skip
        + gated
    )


def grid_words(h) -> str:
    """|G_1^(1)| on the probe sequence at the first and the last snapshot."""
    g = np.asarray(h.snapshot_grad)
    first, last = float(g[0, 0, 0]), float(g[-1, 0, 0])
    top0, top1 = float(g[0, -1, -1]), float(g[-1, -1, -1])
    template = {
        -1: _("On the probe sequence, $|G_1^{{(1)}}|$ (bottom left) was {first} before training "
              "and {last} after {updates} updates (smaller); $|G_T^{{(L)}}|$ (top right) went "
              "from {top0} to {top1}."),
        0: _("On the probe sequence, $|G_1^{{(1)}}|$ (bottom left) was {first} before training "
             "and {last} after {updates} updates (about unchanged); $|G_T^{{(L)}}|$ (top right) "
             "went from {top0} to {top1}."),
        1: _("On the probe sequence, $|G_1^{{(1)}}|$ (bottom left) was {first} before training "
             "and {last} after {updates} updates (larger); $|G_T^{{(L)}}|$ (top right) went "
             "from {top0} to {top1}."),
    }[clear_change(first, last)]  # fmt: skip
    return template.format(
        first=f"{first:.3g}", last=f"{last:.3g}", updates=int(h.snapshot_steps[-1]),
        top0=f"{top0:.3g}", top1=f"{top1:.3g}",
    )  # fmt: skip


def attenuation_trend_words(h) -> str:
    """How the attenuation |G_1^(1)| / |G_T^(L)| changed over training: its median over the first
    tenth of the updates against the last tenth (figures.attenuation_words: one run's value)."""
    a0, a1 = float(window(h.attenuation, False)), float(window(h.attenuation, True))
    kind = {
        "vanishes": _("vanishing at the end"),
        "explodes": _("exploding at the end"),
        "shrinks": _("below 1 but within a factor of {order} of 1 at the end (vanishing needs a "
                     "factor of {order})"),
        "grows": _("above 1 but within a factor of {order} of 1 at the end (exploding needs a "
                   "factor of {order})"),
        "stays about 1": _("about 1 at the end: the gradient arrives about whole"),
        "undefined": _("not a finite number at the end"),
    }[regime(a1, 1)].format(order=f"{ORDER:g}")  # fmt: skip
    return {
        -1: _("The share of the gradient that reaches (t = 1, l = 1) rose from {first} (first "
              "tenth of updates) to {last} (last tenth): {kind}."),
        0: _("The share of the gradient that reaches (t = 1, l = 1) stayed about the same from "
             "{first} (first tenth of updates) to {last} (last tenth): {kind}."),
        1: _("The share of the gradient that reaches (t = 1, l = 1) fell from {first} (first "
             "tenth of updates) to {last} (last tenth): {kind}."),
    }[clear_change(a1, a0)].format(first=f"{a0:.3g}", last=f"{a1:.3g}", kind=kind)  # fmt: skip
