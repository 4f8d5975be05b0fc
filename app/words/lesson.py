"""The sentences the pages print about the measures of "the gradient as L grows".

Every direction word here (vanishes / explodes, rose / fell, rises / falls, more / less severe)
is chosen from the numbers printed in the same sentence, via deeprnn_core.analysis.measures; none is
fixed in advance. Each sentence carries its own numbers so that a reader (and the AppTest)
can check the word against them. Markdown out; no user text goes in.
"""

from __future__ import annotations

import math

import numpy as np

from deeprnn_core.analysis.measures import (
    MEASURES,
    ORDER,
    bar_text,
    change,
    change_bar,
    factor_text,
    path_count,
    path_steps,
    regime,
)
from deeprnn_core.cells import REGISTRY, cell_type

RATES = ("corner_rate", "depth_rate", "time_rate")
# the tutorial whose claims the pages check: d2l's deep RNN chapter
TUTORIAL_URL = "https://d2l.ai/chapter_recurrent-modern/deep-rnn.html"
TUTORIAL = f"*Dive into Deep Learning* (section [Deep Recurrent Neural Networks]({TUTORIAL_URL}))"


# the weight ratios' verdicts: what the bottom layer's gradient gets against the top's
WEIGHT_WORDS = {
    "vanishes": "gives the bottom layer less",
    "explodes": "gives the bottom layer more",
    "shrinks": "gives the bottom layer somewhat less",
    "grows": "gives the bottom layer somewhat more",
}


# cell types with no parameter of their own on the path through time (cells.path_gradient: nan)
NO_TIME_PARAMS = tuple(cell.title for cell in REGISTRY.values() if not cell.time_params)
# cell types whose H_t feeds no later step (Cell.hidden_recurrent False): time runs in a state
STATE_ONLY = " / ".join(cell.title for cell in REGISTRY.values() if not cell.hidden_recurrent)
NO_H_PATH = (
    f"no path (the top layer is an {STATE_ONLY} layer: its H_t feeds no later step, its path "
    "through time runs through its complex state x_t, not through H_t, so no gradient reaches "
    "an earlier H_t of that layer)"
)


def time_path(config) -> bool:
    """Whether the top layer's H_t feeds H_{t+1} (an RNNConfig's Cell.hidden_recurrent)."""
    return cell_type(config.cells[-1]).hidden_recurrent


def num(value: float) -> str:
    """A measured value as printed (and parsed back by the tests): 3 significant digits."""
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def label(key: str) -> str:
    """ "**name** `formula`" of a measure."""
    name, formula = MEASURES[key]
    return f"**{name}** `{formula}`"


def verdict(key: str, value: float, num_layers: int, steps: int, time_path: bool = True) -> str:
    """What the value says, e.g. "vanishes (below 1)" (the weight ratios: "gives the bottom
    layer less (below 1)"), or why there is none. "Vanishes" / "explodes" need the whole
    path's ratio an order of magnitude from 1 (measures.regime); nearer, it "shrinks" /
    "grows", and within the printed rounding it stays about 1. ``time_path`` False: the top
    layer's H_t feeds no later step (an LRU), so its path through time along H is no path."""
    n = int(path_steps(key, num_layers, steps, time_path))
    word = regime(value, n, per_step=key in RATES)
    if word == "no path" and steps > 1 and int(path_steps(key, num_layers, steps)) > 0:
        return NO_H_PATH
    if word == "no path":
        return f"no path ({'L = 1: one layer' if key not in ('time', 'time_rate') else 'T = 1'})"
    if word == "undefined" and key == "w_hh" and steps == 1 and math.isnan(value):
        return "no path (T = 1: W_hh only multiplies H_0 = 0, so no gradient reaches it)"
    if value == 0:  # e.g. the top LRU layer's H_1, which feeds no later step, or an underflow
        return "is exactly 0 (no gradient reaches that end)"
    if word == "undefined" and key == "w_hh" and NO_TIME_PARAMS:
        return (
            f"undefined (an end overflowed, is zero, or is a {' / '.join(NO_TIME_PARAMS)} "
            "layer, which has no parameter of its own on the path through time)"
        )
    if word == "undefined":
        return "undefined (an end overflowed or is zero)"
    within = f"within a factor of {ORDER:g} of 1" + (" over the path" if key in RATES else "")
    sides = {"vanishes": "below 1", "explodes": "above 1", "shrinks": f"below 1, {within}",
             "grows": f"above 1, {within}"}  # fmt: skip
    side = sides.get(word, f"about 1: {bar_text(change_bar())}")
    if key.startswith("w_"):
        word = WEIGHT_WORDS.get(word, "gives both about the same")
    elif word == "stays about 1":
        word = "passes about unchanged"
    return f"{word} ({side})"


def table_rows(
    values: dict[str, float], num_layers: int, steps: int, time_path: bool = True
) -> list[list[str]]:
    """One row per measure: path, formula, value, Jacobians on the path, verdict."""
    rows = []
    for key, (name, formula) in MEASURES.items():
        n = int(path_steps(key, num_layers, steps, time_path))
        value = values[key]
        said = verdict(key, value, num_layers, steps, time_path)
        shown = "—" if said.startswith("no path") else num(value)
        shown += " per step" if key in RATES and shown != "—" else ""
        rows.append([name, formula, shown, str(n), said])
    return rows


def change_sentence(
    key: str,
    plain: float,
    deep: float,
    num_layers: int,
    steps: int,
    time_path: tuple[bool, bool] = (True, True),
) -> str:
    """Which way measure ``key`` moved from L = 1 to L = ``num_layers``, what it does at each,
    and whether the deep one's problem is more severe by it (the tutorial's claim). Every
    direction reads measures.change (no clear change within the printed rounding) and
    measures.regime (a gradient problem needs a factor of ORDER). ``time_path``: whether the
    plain and the deep network's top layer's H_t feeds H_{t+1} (``verdict``)."""
    L = num_layers
    at_plain = verdict(key, plain, 1, steps, time_path[0])
    at_deep = verdict(key, deep, L, steps, time_path[1])
    shown = ["—" if v.startswith("no path") else num(x) for v, x in ((at_plain, plain),
             (at_deep, deep))]  # fmt: skip
    head = f"{label(key)}: {shown[0]} at L = 1 → {shown[1]} at L = {L}"
    if L == 1:
        return f"{head}. At L = 1 the deep network is the plain one: nothing to compare."
    deep_word = regime(deep, int(path_steps(key, L, steps, time_path[1])), per_step=key in RATES)
    if at_plain.startswith("no path") and at_deep.startswith("no path"):
        return f"{head}. At L = 1: {at_plain}; at L = {L}: {at_deep}. No direction to compare."
    if at_deep.startswith("no path"):
        return (
            f"{head}. At L = 1 it {at_plain}; at L = {L} there is {at_deep}: nothing to set "
            "against it, so this measure does not decide the tutorial's claim."
        )
    if at_plain.startswith("no path") and deep_word in ("vanishes", "explodes"):
        return (
            f"{head}. At L = 1 there is {at_plain}; at L = {L} it {at_deep}: a problem only "
            "the deep network can have, so the tutorial's claim holds by this measure."
        )
    if at_plain.startswith("no path") and deep_word in ("shrinks", "grows", "stays about 1"):
        return (
            f"{head}. At L = 1 there is {at_plain}; at L = {L} it {at_deep}: no gradient "
            f"problem (that needs a factor of {ORDER:g} along the path), so no clear "
            "difference: this measure does not decide the tutorial's claim."
        )
    c = change(key, plain, deep)
    if c.direction == "":
        return f"{head}. At L = 1: {at_plain}; at L = {L}: {at_deep}. No direction to compare."
    ends = f"At L = 1 it {at_plain}, at L = {L} it {at_deep}"
    logs = f"|log10| {abs(math.log10(plain)):.2f} → {abs(math.log10(deep)):.2f}"
    if c.direction == "no clear change" or c.severity == 0:
        return (
            f"{head}: {c.phrase}. {ends}: about as far from 1 at both ({logs}), no clear "
            "difference in severity: this measure does not decide the tutorial's claim."
        )
    severity = "more" if c.severity > 0 else "less"
    claim = (
        "the tutorial's claim holds by this measure"
        if c.severity > 0
        else "**the tutorial's claim does not hold by this measure**"
    )
    return (
        f"{head}: {c.phrase}. {ends}: the deep network's gradient problem is {severity} severe "
        f"here (farther from 1 is more severe: {logs}); {claim}."
    )


def claim_summary(sentences: dict[str, str], num_layers: int | None = None) -> str:
    """The tutorial's row: by which measures the deep one's gradient problem is more severe,
    less severe, or neither clearly; at L = 1 there is nothing to compare."""
    if num_layers == 1:
        return "L = 1: the deep network is the plain one, so there is nothing to compare."
    holds = [MEASURES[k][0] for k, s in sentences.items() if "claim holds" in s]
    fails = [MEASURES[k][0] for k, s in sentences.items() if "does not hold" in s]
    open_ = [MEASURES[k][0] for k, s in sentences.items() if "does not decide" in s]
    text = f"More severe by {len(holds)} of {len(sentences)} measures"
    text += f" ({'; '.join(holds)})" if holds else ""
    if fails:
        text += f". Less severe by {len(fails)} ({'; '.join(fails)}): there the tutorial's claim "
        text += "does not hold at these settings"
    if open_:
        text += f". No clear difference by {len(open_)} ({'; '.join(open_)})"
    return text + ". Each measure's sentence below says why."


def claim_cell(sentences: dict[str, str], num_layers: int) -> str:
    """The deep column of the tutorial's gradient row, from the count of measures: "more
    severe" only when more measures say so than the opposite; a tie is "mixed"."""
    if num_layers == 1:
        return "nothing to compare (L = 1)"
    holds = sum("claim holds" in s for s in sentences.values())
    fails = sum("does not hold" in s for s in sentences.values())
    if holds == fails:
        return "no clear difference" if holds == 0 else f"mixed ({holds} more, {fails} less)"
    return f"{'more' if holds > fails else 'less'} severe ({holds} more, {fails} less)"


def count(paths: int) -> str:
    """A path count: digits up to a million, then 10^x.x."""
    return f"{paths:,}" if paths < 10**6 else f"10^{math.log10(paths):.1f}"


def path_sentence(low: int, high: int, steps: int, corner_low: float, corner_high: float) -> str:
    """Why the corner ratio rose from L = ``low`` to ``high``: the lattice paths counted."""
    a, b = path_count(low, steps, corner_low), path_count(high, steps, corner_high)
    moved = b.log10_per_path - a.log10_per_path
    per = "stayed about the same" if abs(moved) <= change_bar() else "fell" if moved < 0 else "rose"
    return (
        f"**Why the corner ratio rose ({num(corner_low)} at L = {low} → {num(corner_high)} at "
        f"L = {high}):** $G_1^{{(1)}}$ sums the products of Jacobians along every lattice path "
        f"from (T, L) to (1, 1), and there are C((T−1)+(L−1), L−1) of them: "
        f"{count(a.paths)} at L = {low} ({a.steps} Jacobians each) and {count(b.paths)} at "
        f"L = {high} ({b.steps} Jacobians each). The average path's factor (ratio / paths) "
        f"{per} from 10^{a.log10_per_path:.1f} to 10^{b.log10_per_path:.1f}, but the number of "
        "paths grew faster. So the corner ratio counts paths; the measures through depth and "
        "of the weight gradients say whether the bottom layers receive less than the top."
    )


def sweep_sentence(
    key: str,
    depths: np.ndarray,
    median: np.ndarray,
    *,
    spread: np.ndarray | None = None,
    steps: int = 2,
    time_path: np.ndarray | bool = True,
) -> str:
    """How the median of measure ``key`` moves from the first depth with a finite value to the
    last: rises / falls with L (monotonically or not, ignoring wiggles inside the bar), or no
    clear change, and what it does at both ends (on paths of ``steps`` time steps). The bar is
    measures.change_bar of the seeds' ``spread`` (log10, per depth; the larger of the two ends).
    ``time_path`` (per depth): whether that network's top layer's H_t feeds H_{t+1}."""
    along_h = np.broadcast_to(np.asarray(time_path, dtype=bool), np.shape(depths))
    n = path_steps(key, depths, steps, along_h)
    if steps > 1 and not (n > 0).any() and (path_steps(key, depths, steps) > 0).any():
        return f"{label(key)}: {NO_H_PATH} at every depth; no direction."
    ok = np.flatnonzero(np.isfinite(median) & (median > 0) & (n > 0))
    if ok.size < 2:
        return f"{label(key)}: fewer than two depths with a finite value; no direction."
    i, j = ok[0], ok[-1]
    lo, hi, a, b = int(depths[i]), int(depths[j]), float(median[i]), float(median[j])
    ends_spread = None if spread is None else float(max(spread[i], spread[j]))
    c = change(key, a, b, spread=ends_spread)
    ends = ", ".join(f"at L = {d} it {verdict(key, v, d, steps, bool(along_h[k]))}"
                     for k, d, v in ((i, lo, a), (j, hi, b)))  # fmt: skip
    head = f"{label(key)}: median {num(a)} at L = {lo} → {num(b)} at L = {hi}"
    if c.direction == "no clear change":
        return f"{head}: no clear change with L ({bar_text(c.bar)}); {ends}."
    steps_up = np.diff(np.log10(median[ok]))
    slack = c.bar
    monotone = (steps_up >= -slack).all() if b > a else (steps_up <= slack).all()
    direction = {"rose": "rises", "fell": "falls"}[c.direction]
    shape = "" if monotone else " (not monotonically)"
    factor = factor_text(max(a, b) / min(a, b))
    beyond = f" (beyond the seeds' spread, a factor of {factor_text(10**c.bar)})"
    beyond = beyond if c.bar > change_bar() else ""
    return f"{head}: {direction} with L{shape}, by a factor of {factor}{beyond}; {ends}."
