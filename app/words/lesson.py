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
    SAME,
    change,
    factor_text,
    path_count,
    path_steps,
    regime,
)

RATES = ("corner_rate", "depth_rate", "time_rate")
# the tutorial whose claims the pages check: d2l's deep RNN chapter
TUTORIAL_URL = "https://d2l.ai/chapter_recurrent-modern/deep-rnn.html"
TUTORIAL = f"*Dive into Deep Learning* (section [Deep Recurrent Neural Networks]({TUTORIAL_URL}))"


def num(value: float) -> str:
    """A measured value as printed (and parsed back by the tests): 3 significant digits."""
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def label(key: str) -> str:
    """ "**name** `formula`" of a measure."""
    name, formula = MEASURES[key]
    return f"**{name}** `{formula}`"


def verdict(key: str, value: float, num_layers: int, steps: int) -> str:
    """What the value says, e.g. "vanishes (below 1)" (the weight ratios: "gives the bottom
    layer less (below 1)"), or why there is none."""
    n = int(path_steps(key, num_layers, steps))
    word = regime(value, n)
    if word == "no path":
        return f"no path ({'L = 1: one layer' if key not in ('time', 'time_rate') else 'T = 1'})"
    if word == "undefined":
        return "undefined (an end overflowed or is zero)"
    side = {"vanishes": "below 1", "explodes": "above 1"}.get(word, "exactly 1")
    if key.startswith("w_"):
        word = {"vanishes": "gives the bottom layer less", "explodes": "gives the bottom "
                "layer more"}.get(word, "gives both the same")  # fmt: skip
    return f"{word} ({side})"


def table_rows(values: dict[str, float], num_layers: int, steps: int) -> list[list[str]]:
    """One row per measure: path, formula, value, Jacobians on the path, verdict."""
    rows = []
    for key, (name, formula) in MEASURES.items():
        n = int(path_steps(key, num_layers, steps))
        value = values[key]
        shown = num(value) + (" per step" if key in RATES else "") if n else "—"
        rows.append([name, formula, shown, str(n), verdict(key, value, num_layers, steps)])
    return rows


def change_sentence(key: str, plain: float, deep: float, num_layers: int, steps: int) -> str:
    """Which way measure ``key`` moved from L = 1 to L = ``num_layers``, what it does at each,
    and whether the deep one's problem is more severe by it (the tutorial's claim)."""
    L = num_layers
    at_plain, at_deep = verdict(key, plain, 1, steps), verdict(key, deep, L, steps)
    shown = ["—" if v.startswith("no path") else num(x) for v, x in ((at_plain, plain),
             (at_deep, deep))]  # fmt: skip
    head = f"{label(key)}: {shown[0]} at L = 1 → {shown[1]} at L = {L}"
    deep_word = regime(deep, int(path_steps(key, L, steps)))
    if at_plain.startswith("no path") and deep_word in ("vanishes", "explodes"):
        return (
            f"{head}. At L = 1 there is {at_plain}; at L = {L} it {at_deep}: a problem only "
            "the deep network can have, so the tutorial's claim holds by this measure."
        )
    c = change(key, plain, deep)
    if c.direction == "":
        return f"{head}. At L = 1: {at_plain}; at L = {L}: {at_deep}. No direction to compare."
    if c.direction == "did not move":
        return f"{head}: {c.phrase}. It {at_deep} at both: equally severe."
    severity = "more" if c.more_severe else "less"
    claim = (
        "the tutorial's claim holds by this measure"
        if c.more_severe
        else "**the tutorial's claim does not hold by this measure**"
    )
    return (
        f"{head}: {c.phrase}. At L = 1 it {at_plain}, at L = {L} "
        f"it {at_deep}: the deep network's gradient problem is {severity} severe here (farther "
        f"from 1 is more severe: |log10| {abs(math.log10(plain)):.2f} → "
        f"{abs(math.log10(deep)):.2f}); {claim}."
    )


def claim_summary(sentences: dict[str, str]) -> str:
    """The tutorial's row: by which measures the deep one's gradient problem is more severe."""
    holds = [MEASURES[k][0] for k, s in sentences.items() if "claim holds" in s]
    fails = [MEASURES[k][0] for k, s in sentences.items() if "does not hold" in s]
    text = f"More severe by {len(holds)} of {len(sentences)} measures"
    text += f" ({'; '.join(holds)})" if holds else ""
    if fails:
        text += f". Less severe by {len(fails)} ({'; '.join(fails)}): there the tutorial's claim "
        text += "does not hold at these settings"
    return text + ". Each measure's sentence below says why."


def count(paths: int) -> str:
    """A path count: digits up to a million, then 10^x.x."""
    return f"{paths:,}" if paths < 10**6 else f"10^{math.log10(paths):.1f}"


def path_sentence(low: int, high: int, steps: int, corner_low: float, corner_high: float) -> str:
    """Why the corner ratio rose from L = ``low`` to ``high``: the lattice paths counted."""
    a, b = path_count(low, steps, corner_low), path_count(high, steps, corner_high)
    per = "fell" if b.log10_per_path < a.log10_per_path else "rose"
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


def sweep_sentence(key: str, depths: np.ndarray, median: np.ndarray) -> str:
    """How the median of measure ``key`` moves from the first depth with a finite value to the
    last: rises / falls with L (monotonically or not, ignoring wiggles below SAME), or stays
    level within SAME, and what it does at both ends."""
    ok = np.flatnonzero(np.isfinite(median) & (median > 0))
    if ok.size < 2:
        return f"{label(key)}: fewer than two depths with a finite value; no direction."
    i, j = ok[0], ok[-1]
    lo, hi, a, b = int(depths[i]), int(depths[j]), float(median[i]), float(median[j])
    c = change(key, a, b)
    ends = ", ".join(f"at L = {d} it {verdict(key, v, d, 2)}" for d, v in ((lo, a), (hi, b)))
    head = f"{label(key)}: median {num(a)} at L = {lo} → {num(b)} at L = {hi}"
    if c.direction == "did not move":
        return f"{head}: stays level with L ({c.phrase}); {ends}."
    steps_up = np.diff(np.log10(median[ok]))
    slack = math.log10(1 + SAME)
    monotone = (steps_up >= -slack).all() if b > a else (steps_up <= slack).all()
    direction = {"rose": "rises", "fell": "falls"}[c.direction]
    shape = "" if monotone else " (not monotonically)"
    factor = factor_text(max(a, b) / min(a, b))
    return f"{head}: {direction} with L{shape}, by a factor of {factor}; {ends}."
