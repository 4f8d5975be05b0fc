"""The Lesson's answers: numbers at the current settings -> sentences, in the run's language.

Every direction word is chosen from the numbers in the same sentence through
deeprnn_core.analysis.measures (regime, change, clear_change, learned); none is fixed in
advance. Templates are whole sentences with named fields (gettext msgids), plural-aware
through ngettext, numbers formatted by words.i18n. Markdown out; no user text goes in.
"""

from __future__ import annotations

import math

import numpy as np

from app.words.i18n import N_, count, decimal, ngettext
from app.words.i18n import gettext as _
from deeprnn_core.analysis.measures import (
    MEASURES,
    change,
    clear_change,
    learned,
    path_count,
    path_steps,
    regime,
)

MEASURE_NAMES = {  # the core's names (analysis.measures.MEASURES), as catalog messages
    "corner": N_("corner to corner (time and depth)"),
    "depth": N_("through depth only"),
    "time": N_("through time only"),
    "corner_rate": N_("per step, corner to corner"),
    "depth_rate": N_("per step, through depth"),
    "time_rate": N_("per step, through time"),
    "w_xh": N_("bottom vs top layer, W_xh"),
    "w_hh": N_("bottom vs top layer, W_hh"),
}
REGIMES = {  # measures.regime's words
    "vanishes": N_("vanishes"),
    "explodes": N_("explodes"),
    "shrinks": N_("shrinks, within a factor of 10"),
    "grows": N_("grows, within a factor of 10"),
    "stays about 1": N_("stays about the same"),
    "no path": N_("has no path"),
    "undefined": N_("is undefined (an end overflowed or is zero)"),
}
# the top layer's H_t feeds no later step (an LRU: Cell.hidden_recurrent False)
NO_H_PATH = N_(
    "has no path (the top layer's H_t feeds no later step: its path through time "
    "runs through its complex state x_t, not through H_t)"
)
DIRECTIONS = {  # measures.change's directions, for a value that moved between two settings
    "rose": N_("rose"),
    "fell": N_("fell"),
    "no clear change": N_("showed no clear change"),
    "": N_("cannot be compared (no path or an overflow)"),
}
SEVERITY = {1: N_("more severe"), -1: N_("less severe"), 0: N_("no clear difference")}
MORE = {1: N_("more in the deep one"), -1: N_("fewer in the deep one"), 0: N_("as many")}


def name(key: str) -> str:
    """A measure's name and formula."""
    return f"{_(MEASURE_NAMES[key])} `{MEASURES[key][1]}`"


def said(key: str, value: float, num_layers: int, steps: int, time_path: bool = True) -> str:
    """What measure ``key`` does at this value (measures.regime), as a verb phrase;
    ``time_path`` False: the top layer's H_t feeds no later step (words.lesson.time_path)."""
    n = int(path_steps(key, num_layers, steps, time_path))
    if n == 0 and int(path_steps(key, num_layers, steps)) > 0 and steps > 1:
        return _(NO_H_PATH)
    return _(REGIMES[regime(value, n, per_step=key.endswith("_rate"))])


def moved(key: str, before: float, after: float) -> str:
    """Which way ``key`` moved from ``before`` to ``after`` (measures.change)."""
    return _(DIRECTIONS[change(key, before, after).direction])


def formula_answer(hidden_norm: np.ndarray, hidden_size: int) -> str:
    L, T = hidden_norm.shape
    n = L * T
    head = ngettext(
        "The grid holds {n} hidden state H_t^(l) (L = {L} × T = {T}), each a vector of "
        "h = {h} numbers.",
        "The grid holds {n} hidden states H_t^(l) (L = {L} × T = {T}), each a vector of "
        "h = {h} numbers.",
        n,
    ).format(n=count(n), L=L, T=T, h=hidden_size)
    bottom = hidden_norm[0]
    return (
        head
        + " "
        + _(
            "Each H_t^(1) is computed from X_t and H_{{t-1}}^(1) (H_0 = 0); here |H_t^(1)| goes "
            "from {low} to {high} over t."
        ).format(low=decimal(float(np.nanmin(bottom))), high=decimal(float(np.nanmax(bottom))))
    )


def walk_answer(step: int, total: int, phase: str, cell: tuple[int, int], lit: int) -> str:
    """The computation step-through: what the core has computed after ``step`` of ``total``
    cell updates (figures.flow.lit_mask's phase, last cell and lit count)."""
    t, l = cell
    if step == 0:
        return _("Nothing is computed yet (step 0 of {total}): move the slider.").format(
            total=total
        )
    if phase == "forward":
        return ngettext(
            "Step {s} of {total}: the forward pass has computed {k} hidden state. The last, "
            "H_{t}^({l}), read H_{t}^({below}) from the layer below and H_{before}^({l}) from "
            "the step before (X_t stands for H_t^(0), and H_0 = 0).",
            "Step {s} of {total}: the forward pass has computed {k} hidden states. The last, "
            "H_{t}^({l}), read H_{t}^({below}) from the layer below and H_{before}^({l}) from "
            "the step before (X_t stands for H_t^(0), and H_0 = 0).",
            lit,
        ).format(s=step, total=total, k=count(lit), t=t, l=l, below=l - 1, before=t - 1)
    return ngettext(
        "Step {s} of {total}: the backward pass has computed {k} gradient. The last, "
        "G_{t}^({l}), gathered G_{t}^({above}) from the layer above and G_{after}^({l}) from the "
        "step after (the top layer also gets ∂Loss/∂O_t).",
        "Step {s} of {total}: the backward pass has computed {k} gradients. The last, "
        "G_{t}^({l}), gathered G_{t}^({above}) from the layer above and G_{after}^({l}) from the "
        "step after (the top layer also gets ∂Loss/∂O_t).",
        lit,
    ).format(s=step, total=total, k=count(lit), t=t, l=l, above=l + 1, after=t + 1)


def path_answer(key: str, value: float, num_layers: int, steps: int, time_path: bool = True) -> str:
    """One measure's value and what the gradient does along its path."""
    n = int(path_steps(key, num_layers, steps, time_path))
    return ngettext(
        "{name} = {value} over {n} Jacobian: the gradient {word}.",
        "{name} = {value} over {n} Jacobians: the gradient {word}.",
        n,
    ).format(name=name(key), value=decimal(value), n=count(n),
             word=said(key, value, num_layers, steps, time_path))  # fmt: skip


def backward_answer(
    measures: dict[str, float], num_layers: int, steps: int, time_path: bool = True
) -> str:
    keys = ("time", "corner") if num_layers > 1 else ("time",)
    return " ".join(path_answer(k, measures[k], num_layers, steps, time_path) for k in keys)


def sweep_answer(depths: np.ndarray, medians: dict[str, np.ndarray], steps: int) -> str:
    """How the corner and the depth-only medians moved from the first depth with a value to
    the last, and the lattice paths that explain the corner."""
    out = []
    for key in ("corner", "depth", "w_hh"):
        m = medians[key]
        ok = np.flatnonzero(np.isfinite(m) & (m > 0))
        if ok.size < 2:
            out.append(_("{name}: fewer than two depths with a value.").format(name=name(key)))
            continue
        i, j = ok[0], ok[-1]
        out.append(
            _("{name}: median {a} at L = {lo} → {b} at L = {hi}: it {direction}.").format(
                name=name(key), a=decimal(float(m[i])), lo=int(depths[i]),
                b=decimal(float(m[j])), hi=int(depths[j]),
                direction=moved(key, float(m[i]), float(m[j])))
        )  # fmt: skip
    corner = medians["corner"]
    lo, hi = int(depths[0]), int(depths[-1])
    if hi > lo and np.isfinite(corner[0]) and np.isfinite(corner[-1]):
        a, b = path_count(lo, steps, corner[0]), path_count(hi, steps, corner[-1])
        out.append(
            _("The corner ratio sums every lattice path from (T, L) to (1, 1): {p} at L = {lo}, "
              "{q} at L = {hi}; per path the average factor went from 10^{x} to 10^{y}.").format(
                p=count(a.paths), lo=lo, q=count(b.paths), hi=hi,
                x=f"{a.log10_per_path:.1f}", y=f"{b.log10_per_path:.1f}")
        )  # fmt: skip
    return "\n\n".join(out)


def pascanu_answer(top_singular, gamma, applies, time_ratio: float, num_layers: int,
                   steps: int) -> str:  # fmt: skip
    """Pascanu et al.'s bound per layer (sigma_max(W_hh^(l)) against 1 / gamma) and what the
    gradient measured through time did."""
    measured = path_answer("time", time_ratio, num_layers, steps)
    applies = np.asarray(applies, bool)
    if not applies.any():
        return _(
            "Pascanu's bound applies to no layer of this network (spectra.PascanuBound.applies)."
        ) + (" " + measured)
    s, inv = np.asarray(top_singular)[applies], 1.0 / np.asarray(gamma)[applies]
    below = int((s < inv).sum())
    low, high = decimal(float(s.min())), decimal(float(s.max()))
    if low == high:
        head = _("σ_max(W_hh^(l)) is {value} in every layer; 1/γ = {inv}.").format(
            value=low, inv=decimal(float(inv.min()))
        )
    else:
        head = _("σ_max(W_hh^(l)) is {low} to {high} over the layers; 1/γ = {inv}.").format(
            low=low, high=high, inv=decimal(float(inv.min()))
        )
    if below == len(s):
        bound = _("Every layer is below 1/γ: the bound guarantees that the gradient vanishes "
                  "through time.")  # fmt: skip
    else:
        bound = ngettext(
            "{k} layer of {n} is at or above 1/γ: there the bound guarantees nothing (below 1/γ "
            "is sufficient for vanishing; at or above it is necessary for exploding).",
            "{k} layers of {n} are at or above 1/γ: there the bound guarantees nothing (below "
            "1/γ is sufficient for vanishing; at or above it is necessary for exploding).",
            len(s) - below,
        ).format(k=count(len(s) - below), n=count(len(s)))
    return " ".join((head, bound, _("Measured:"), measured))


def final_loss(h) -> float:
    """The mean training loss over the last tenth of the updates."""
    tail = max(1, len(h.loss) // 10)
    return float(np.mean(h.loss[-tail:]))


def learned_words(h) -> str:
    said_ = learned(final_loss(h), h.baseline)
    if said_ is None:
        return _("no baseline to compare")
    return _("learned: below 0.9 × the baseline") if said_ else _("did not beat the baseline")


def compare_words(a: float, b: float) -> str:
    """How ``b`` stands against ``a`` (measures.clear_change)."""
    sign = clear_change(a, b)
    return {1: _("higher than"), -1: _("lower than"), 0: _("about the same as")}[sign]


def learning_answer(rnn, lstm) -> str:
    a, b = final_loss(rnn), final_loss(lstm)
    return _(
        "Final training loss (mean of the last tenth): tanh RNN {a} ({va}); LSTM {b} ({vb}); "
        "the baseline (always predicting the mean) {base}. The LSTM's loss is {cmp} the RNN's."
    ).format(a=decimal(a), va=learned_words(rnn), b=decimal(b), vb=learned_words(lstm),
             base=decimal(rnn.baseline), cmp=compare_words(a, b))  # fmt: skip


def clipping_answer(before: float, after: float, clip_norm: float | None) -> str:
    if clip_norm is None:
        return _("Clipping is off: the global parameter-gradient norm is {n}.").format(
            n=decimal(before)
        )
    if clear_change(before, after) == 0:
        return _(
            "The global parameter-gradient norm {n} is within the clip norm {c}: clipping "
            "changed nothing. G_t^(l) is never clipped."
        ).format(n=decimal(before), c=decimal(clip_norm))
    return _(
        "Clipping scaled the global parameter-gradient norm from {a} to {b} (all parameter "
        "gradients by the same factor {f}). G_t^(l), in the figure of the lab's gradient page, "
        "is never clipped: clipping caps the update, it does not restore a vanished gradient."
    ).format(a=decimal(before), b=decimal(after), f=decimal(after / before))


def remedy_answer(remedy: str, plain: dict, treated: dict, num_layers: int, steps: int) -> str:
    """The depth-only measure and the W_xh ratio without and with a remedy."""
    if remedy == "none":
        return (
            _("No remedy is on.")
            + " "
            + " ".join(path_answer(k, plain[k], num_layers, steps) for k in ("depth", "w_xh"))
        )
    out = []
    for key in ("depth", "w_xh"):
        out.append(
            _("{name}: {a} without a remedy ({wa}) → {b} with it ({wb}): it {direction}.").format(
                name=name(key), a=decimal(plain[key]), b=decimal(treated[key]),
                wa=said(key, plain[key], num_layers, steps),
                wb=said(key, treated[key], num_layers, steps),
                direction=moved(key, plain[key], treated[key]))
        )  # fmt: skip
    return " ".join(out)


def last_val(h) -> float:
    return float(h.val_loss[-1]) if len(h.val_loss) else math.nan


def dropout_answer(off, on, p: float) -> str:
    a_train, a_val, b_train, b_val = final_loss(off), last_val(off), final_loss(on), last_val(on)
    ra, rb = a_val / a_train, b_val / b_train
    sign = clear_change(ra, rb)
    gap = {1: _("rose"), -1: _("fell"), 0: _("showed no clear change")}[sign]
    return _(
        "Without dropout: training loss {a}, validation loss {b} (validation / training = "
        "{ra}). With p = {p}: training {c}, validation {d} (ratio {rb}). The ratio {gap}; the "
        "validation loss with dropout is {cmp} without."
    ).format(a=decimal(a_train), b=decimal(a_val), ra=decimal(ra), p=decimal(p),
             c=decimal(b_train), d=decimal(b_val), rb=decimal(rb), gap=gap,
             cmp=compare_words(a_val, b_val))  # fmt: skip


def schedule_answer(constant, scheduled, schedule_label: str) -> str:
    a, b = final_loss(constant), final_loss(scheduled)
    return _(
        "Final training loss: constant learning rate {a}; {name} {b}: the schedule's is {cmp} "
        "the constant one's."
    ).format(a=decimal(a), name=schedule_label, b=decimal(b), cmp=compare_words(a, b))


def severity_of(
    plain: dict, deep: dict, num_layers: int, steps: int, time_path=(True, True)
) -> dict[str, int]:
    """Per measure: +1 the deep network's problem is clearly more severe, -1 less, 0 neither
    (measures.change). A path the plain network lacks (L = 1) on which the deep one's gradient
    vanishes or explodes counts as more severe, as the Plain vs deep page reads it
    (words.lesson.change_sentence); an overflow counts as 0. ``time_path``: whether the plain
    and the deep network's top layer's H_t feeds H_{t+1}."""
    out = {}
    for key in MEASURES:
        c = change(key, plain[key], deep[key])
        n = int(path_steps(key, num_layers, steps, time_path[1]))
        deep_word = regime(deep[key], n, per_step=key.endswith("_rate"))
        no_plain_path = int(path_steps(key, 1, steps, time_path[0])) == 0
        out[key] = 1 if no_plain_path and deep_word in ("vanishes", "explodes") else c.severity
    return out


def table_answer(params: tuple[int, int], flops: tuple[int, int], plain: dict, deep: dict,
                 num_layers: int, steps: int, time_path=(True, True)) -> str:  # fmt: skip
    if num_layers == 1:
        return _("At L = 1 the deep network is the plain one: nothing to compare.")
    rows = _(
        "Parameters {p} → {q} ({pc}), FLOPs per step {f} → {g} ({fc})."
    ).format(p=count(params[0]), q=count(params[1]), f=count(flops[0]), g=count(flops[1]),
             pc=_(MORE[clear_change(*params)]), fc=_(MORE[clear_change(*flops)]))  # fmt: skip
    return rows + " " + claim_count(severity_of(plain, deep, num_layers, steps, time_path))


def claim_count(severity: dict[str, int]) -> str:
    n = len(severity)
    more = [k for k, v in severity.items() if v > 0]
    less = [k for k, v in severity.items() if v < 0]
    return _(
        "Gradient problems: more severe by {m} of {n} measures, less severe by {l}, no clear "
        "difference by {z}."
    ).format(m=len(more), n=n, l=len(less), z=n - len(more) - len(less))


def not_held_answer(
    plain: dict, deep: dict, num_layers: int, steps: int, time_path=(True, True)
) -> str:
    if num_layers == 1:
        return _("At L = 1 the deep network is the plain one: nothing to compare.")
    severity = severity_of(plain, deep, num_layers, steps, time_path)
    less = [k for k, v in severity.items() if v < 0]
    if not less:
        return (
            _("At these settings no measure contradicts the claim.") + " " + claim_count(severity)
        )
    lines = [
        ngettext(
            "By {k} measure the deep network's problem is less severe, against the claim:",
            "By {k} measures the deep network's problem is less severe, against the claim:",
            len(less),
        ).format(k=len(less))
    ]
    for key in less:
        lines.append(
            "- " + _("{name}: {a} at L = 1 → {b} at L = {L} (farther from 1 is more "
                     "severe).").format(name=name(key), a=decimal(plain[key]),
                                        b=decimal(deep[key]), L=num_layers)
        )  # fmt: skip
    if "corner" in less:
        a = path_count(1, steps, plain["corner"])
        b = path_count(num_layers, steps, deep["corner"])
        lines.append(
            _("Why the corner ratio: G_1^(1) sums the Jacobian products of every lattice path "
              "from (T, L) to (1, 1): {p} at L = 1, {q} at L = {L}; the average factor per path "
              "went from 10^{x} to 10^{y}.").format(p=count(a.paths), q=count(b.paths),
                                                   L=num_layers, x=f"{a.log10_per_path:.1f}",
                                                   y=f"{b.log10_per_path:.1f}")
        )  # fmt: skip
    return "\n".join(lines)
