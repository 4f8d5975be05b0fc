"""The sentences the pages print about the measures of "the gradient as L grows".

Every direction word here (vanishes / explodes, rose / fell, rises / falls, more / less severe)
is chosen from the numbers printed in the same sentence, via deeprnn_core.analysis.measures; none is
fixed in advance. Each sentence carries its own numbers so that a reader (and the AppTest)
can check the word against them. Markdown out; no user text goes in.
"""

from __future__ import annotations

import math

import numpy as np

from app.words.i18n import N_
from app.words.i18n import gettext as _
from app.words.lesson_answers import MEASURE_NAMES
from deeprnn_core.analysis.measures import (
    MEASURES,
    ORDER,
    ROUNDING,
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
SAME_WEIGHTS = N_("gives both about the same")  # (a nested N_ is not extracted)
WEIGHT_WORDS = {
    "vanishes": N_("gives the bottom layer less"),
    "explodes": N_("gives the bottom layer more"),
    "shrinks": N_("gives the bottom layer somewhat less"),
    "grows": N_("gives the bottom layer somewhat more"),
}
PATH_WORDS = {  # the paths' verdicts (measures.regime's words)
    "vanishes": N_("vanishes"),
    "explodes": N_("explodes"),
    "shrinks": N_("shrinks"),
    "grows": N_("grows"),
    "stays about 1": N_("passes about unchanged"),
}


# cell types with no parameter of their own on the path through time (cells.path_gradient: nan)
NO_TIME_PARAMS = tuple(cell.title for cell in REGISTRY.values() if not cell.time_params)
# cell types whose H_t feeds no later step (Cell.hidden_recurrent False): time runs in a state
STATE_ONLY = " / ".join(cell.title for cell in REGISTRY.values() if not cell.hidden_recurrent)
NO_H_PATH = N_(
    "no path (the top layer is an {cells} layer: its H_t feeds no later step, its path through "
    "time runs through its complex state x_t, not through H_t, so no gradient reaches an "
    "earlier H_t of that layer)"
)


def time_path(config) -> bool:
    """Whether the top layer's H_t feeds H_{t+1} (an RNNConfig's Cell.hidden_recurrent)."""
    return cell_type(config.cells[-1]).hidden_recurrent


def no_h_path() -> str:
    """NO_H_PATH in the run's language."""
    return _(NO_H_PATH).format(cells=STATE_ONLY)


def num(value: float) -> str:
    """A measured value as printed (and parsed back by the tests): 3 significant digits."""
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def measure_name(key: str) -> str:
    """The core's name of measure ``key`` in the run's language."""
    return _(MEASURE_NAMES[key])


def label(key: str) -> str:
    """ "**name** `formula`" of a measure."""
    return f"**{measure_name(key)}** `{MEASURES[key][1]}`"


def bar_words(bar: float) -> str:
    """measures.bar_text in the run's language (the same English)."""
    if bar <= change_bar() + 1e-12:
        return _("within {percent}, the rounding of 3 printed digits").format(
            percent=f"{ROUNDING:.0%}"
        )
    return _("within the seeds' spread, a factor of {factor}").format(factor=factor_text(10**bar))


def no_path(key: str, value: float, num_layers: int, steps: int, time_path: bool = True) -> bool:
    """Whether measure ``key`` has no path at these settings (verdict's "no path ...")."""
    n = int(path_steps(key, num_layers, steps, time_path))
    if regime(value, n, per_step=key in RATES) == "no path":
        return True
    return key == "w_hh" and steps == 1 and math.isnan(value)


def no_time_path(key: str) -> str:
    """Why measure ``key`` (a path through time, or W_hh) has nothing at T = 1."""
    if key == "w_hh":
        return _("no path (T = 1: W_hh only multiplies H_0 = 0, so no gradient reaches it)")
    return _("no path (T = 1)")


def verdict(key: str, value: float, num_layers: int, steps: int, time_path: bool = True) -> str:
    """What the value says, e.g. "vanishes (below 1)" (the weight ratios: "gives the bottom
    layer less (below 1)"), or why there is none. "Vanishes" / "explodes" need the whole
    path's ratio an order of magnitude from 1 (measures.regime); nearer, it "shrinks" /
    "grows", and within the printed rounding it stays about 1."""
    n = int(path_steps(key, num_layers, steps, time_path))
    word = regime(value, n, per_step=key in RATES)
    if word == "no path" and steps > 1 and int(path_steps(key, num_layers, steps)) > 0:
        return no_h_path()  # ``time_path`` False: the top layer's H_t feeds no later step
    if word == "no path":
        return (
            no_time_path(key) if key in ("time", "time_rate") else _("no path (L = 1: one layer)")
        )
    if word == "undefined" and key == "w_hh" and steps == 1 and math.isnan(value):
        return no_time_path(key)
    if value == 0:  # e.g. the top LRU layer's H_1, which feeds no later step, or an underflow
        return _("is exactly 0 (no gradient reaches that end)")
    if word == "undefined" and key == "w_hh" and NO_TIME_PARAMS:
        return _(
            "undefined (an end overflowed, is zero, or is a {cells} layer, which has no "
            "parameter of its own on the path through time)"
        ).format(cells=" / ".join(NO_TIME_PARAMS))
    if word == "undefined":
        return _("undefined (an end overflowed or is zero)")
    rate = key in RATES
    sides = {
        "vanishes": _("below 1"),
        "explodes": _("above 1"),
        "shrinks": _("below 1, within a factor of {order} of 1 over the path")
        if rate
        else _("below 1, within a factor of {order} of 1"),
        "grows": _("above 1, within a factor of {order} of 1 over the path")
        if rate
        else _("above 1, within a factor of {order} of 1"),
    }
    side = sides.get(word, _("about 1: {bar}")).format(
        order=f"{ORDER:g}", bar=bar_words(change_bar())
    )
    if key.startswith("w_"):
        said = _(WEIGHT_WORDS.get(word, SAME_WEIGHTS))
    else:
        said = _(PATH_WORDS.get(word, word))
    return _("{verdict} ({side})").format(verdict=said, side=side)


def table_rows(
    values: dict[str, float], num_layers: int, steps: int, time_path: bool = True
) -> list[list[str]]:
    """One row per measure: path, formula, value, Jacobians on the path, verdict."""
    rows = []
    for key, (_name, formula) in MEASURES.items():
        n = int(path_steps(key, num_layers, steps, time_path))
        value = values[key]
        said = verdict(key, value, num_layers, steps, time_path)
        shown = "—" if no_path(key, value, num_layers, steps, time_path) else num(value)
        if key in RATES and shown != "—":
            shown = _("{value} per step").format(value=shown)
        rows.append([measure_name(key), formula, shown, str(n), said])
    return rows


# the verdicts of change_sentence on the tutorial's claim (claim_cell and claim_summary count
# them in the sentences, in the run's language)
HOLDS = N_("the tutorial's claim holds by this measure")
FAILS = N_("the tutorial's claim does not hold by this measure")
OPEN = N_("this measure does not decide the tutorial's claim")


def phrase(c) -> str:
    """measures.Change.phrase in the run's language (the same English)."""
    if c.direction == "no clear change":
        return _("no clear change ({bar})").format(bar=bar_words(c.bar))
    if c.direction == "":
        return ""
    factor = factor_text(10 ** abs(c.log10_change))
    if c.direction == "rose":
        return _("rose by a factor of {factor}").format(factor=factor)
    return _("fell by a factor of {factor}").format(factor=factor)


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
    plain_none = no_path(key, plain, 1, steps, time_path[0])
    deep_none = no_path(key, deep, L, steps, time_path[1])
    shown = ["—" if none else num(x) for none, x in ((plain_none, plain), (deep_none, deep))]
    head = _("{label}: {plain} at L = 1 → {deep} at L = {L}").format(
        label=label(key), plain=shown[0], deep=shown[1], L=L
    )
    fields = dict(head=head, at_plain=at_plain, at_deep=at_deep, L=L, order=f"{ORDER:g}",
                  holds=_(HOLDS), fails=_(FAILS), open=_(OPEN))  # fmt: skip
    if L == 1:
        return _("{head}. At L = 1 the deep network is the plain one: nothing to compare.").format(
            **fields
        )
    deep_word = regime(deep, int(path_steps(key, L, steps, time_path[1])), per_step=key in RATES)
    if plain_none and deep_none:
        return _(
            "{head}. At L = 1: {at_plain}; at L = {L}: {at_deep}. No direction to compare."
        ).format(**fields)
    if deep_none:
        return _(
            "{head}. At L = 1 it {at_plain}; at L = {L} there is {at_deep}: nothing to set "
            "against it, so {open}."
        ).format(**fields)
    if plain_none and deep_word in ("vanishes", "explodes"):
        return _(
            "{head}. At L = 1 there is {at_plain}; at L = {L} it {at_deep}: a problem only the "
            "deep network can have, so {holds}."
        ).format(**fields)
    if plain_none and deep_word in ("shrinks", "grows", "stays about 1"):
        return _(
            "{head}. At L = 1 there is {at_plain}; at L = {L} it {at_deep}: no gradient problem "
            "(that needs a factor of {order} along the path), so no clear difference: {open}."
        ).format(**fields)
    c = change(key, plain, deep)
    if c.direction == "":
        return _(
            "{head}. At L = 1: {at_plain}; at L = {L}: {at_deep}. No direction to compare."
        ).format(**fields)
    fields["phrase"] = phrase(c)
    fields["ends"] = _("At L = 1 it {at_plain}, at L = {L} it {at_deep}").format(**fields)
    fields["logs"] = f"|log10| {abs(math.log10(plain)):.2f} → {abs(math.log10(deep)):.2f}"
    if c.direction == "no clear change" or c.severity == 0:
        return _(
            "{head}: {phrase}. {ends}: about as far from 1 at both ({logs}), no clear "
            "difference in severity: {open}."
        ).format(**fields)
    if c.severity > 0:
        return _(
            "{head}: {phrase}. {ends}: the deep network's gradient problem is more severe here "
            "(farther from 1 is more severe: {logs}); {holds}."
        ).format(**fields)
    return _(
        "{head}: {phrase}. {ends}: the deep network's gradient problem is less severe here "
        "(farther from 1 is more severe: {logs}); **{fails}**."
    ).format(**fields)


def verdicts(sentences: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """The keys whose sentence says the claim holds, does not hold, or is not decided."""
    holds = [k for k, s in sentences.items() if _(HOLDS) in s]
    fails = [k for k, s in sentences.items() if _(FAILS) in s]
    open_ = [k for k, s in sentences.items() if _(OPEN) in s]
    return holds, fails, open_


def claim_summary(sentences: dict[str, str], num_layers: int | None = None) -> str:
    """The tutorial's row: by which measures the deep one's gradient problem is more severe,
    less severe, or neither clearly; at L = 1 there is nothing to compare."""
    if num_layers == 1:
        return _("L = 1: the deep network is the plain one, so there is nothing to compare.")
    holds, fails, open_ = verdicts(sentences)
    names = {k: measure_name(k) for k in sentences}
    if holds:
        text = _("More severe by {n} of {total} measures ({names})").format(
            n=len(holds), total=len(sentences), names="; ".join(names[k] for k in holds)
        )
    else:
        text = _("More severe by {n} of {total} measures").format(n=0, total=len(sentences))
    if fails:
        text += _(
            ". Less severe by {n} ({names}): there the tutorial's claim does not hold at these "
            "settings"
        ).format(n=len(fails), names="; ".join(names[k] for k in fails))
    if open_:
        text += _(". No clear difference by {n} ({names})").format(
            n=len(open_), names="; ".join(names[k] for k in open_)
        )
    return text + _(". Each measure's sentence below says why.")


def claim_cell(sentences: dict[str, str], num_layers: int) -> str:
    """The deep column of the tutorial's gradient row, from the count of measures: "more
    severe" only when more measures say so than the opposite; a tie is "mixed"."""
    if num_layers == 1:
        return _("nothing to compare (L = 1)")
    holds, fails = (len(v) for v in verdicts(sentences)[:2])
    if holds == fails:
        if holds == 0:
            return _("no clear difference")
        return _("mixed ({holds} more, {fails} less)").format(holds=holds, fails=fails)
    if holds > fails:
        return _("more severe ({holds} more, {fails} less)").format(holds=holds, fails=fails)
    return _("less severe ({holds} more, {fails} less)").format(holds=holds, fails=fails)


def count(paths: int) -> str:
    """A path count: digits up to a million, then 10^x.x."""
    return f"{paths:,}" if paths < 10**6 else f"10^{math.log10(paths):.1f}"


def path_sentence(low: int, high: int, steps: int, corner_low: float, corner_high: float) -> str:
    """Why the corner ratio rose from L = ``low`` to ``high``: the lattice paths counted."""
    a, b = path_count(low, steps, corner_low), path_count(high, steps, corner_high)
    moved = b.log10_per_path - a.log10_per_path
    per = "stayed about the same" if abs(moved) <= change_bar() else "fell" if moved < 0 else "rose"
    head = _(
        "**Why the corner ratio rose ({corner_low} at L = {low} → {corner_high} at L = {high}):** "
        "$G_1^{{(1)}}$ sums the products of Jacobians along every lattice path from (T, L) to "
        "(1, 1), and there are C((T−1)+(L−1), L−1) of them: {paths_low} at L = {low} "
        "({steps_low} Jacobians each) and {paths_high} at L = {high} ({steps_high} Jacobians "
        "each)."
    ).format(
        corner_low=num(corner_low), low=low, corner_high=num(corner_high), high=high,
        paths_low=count(a.paths), steps_low=a.steps, paths_high=count(b.paths),
        steps_high=b.steps,
    )  # fmt: skip
    average = {
        "stayed about the same": _(
            "The average path's factor (ratio / paths) stayed about the same from 10^{a} to "
            "10^{b}, but the number of paths grew faster."
        ),
        "fell": _(
            "The average path's factor (ratio / paths) fell from 10^{a} to 10^{b}, but the "
            "number of paths grew faster."
        ),
        "rose": _(
            "The average path's factor (ratio / paths) rose from 10^{a} to 10^{b}, but the "
            "number of paths grew faster."
        ),
    }[per].format(a=f"{a.log10_per_path:.1f}", b=f"{b.log10_per_path:.1f}")
    tail = _(
        "So the corner ratio counts paths; the measures through depth and of the weight "
        "gradients say whether the bottom layers receive less than the top."
    )
    return f"{head} {average} {tail}"


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
        return _("{label}: {no_path} at every depth; no direction.").format(
            label=label(key), no_path=no_h_path()
        )
    if steps == 1 and key in ("time", "time_rate", "w_hh"):  # T = 1: no step through time
        return _("{label}: {no_path} at every depth; no direction.").format(
            label=label(key), no_path=no_time_path(key)
        )
    ok = np.flatnonzero(np.isfinite(median) & (median > 0) & (n > 0))
    if ok.size < 2:
        return _("{label}: fewer than two depths with a finite value; no direction.").format(
            label=label(key)
        )
    i, j = ok[0], ok[-1]
    lo, hi, a, b = int(depths[i]), int(depths[j]), float(median[i]), float(median[j])
    ends_spread = None if spread is None else float(max(spread[i], spread[j]))
    c = change(key, a, b, spread=ends_spread)
    ends = _("at L = {lo} it {at_lo}, at L = {hi} it {at_hi}").format(
        lo=lo,
        at_lo=verdict(key, a, lo, steps, bool(along_h[i])),
        hi=hi,
        at_hi=verdict(key, b, hi, steps, bool(along_h[j])),
    )
    head = _("{label}: median {a} at L = {lo} → {b} at L = {hi}").format(
        label=label(key), a=num(a), lo=lo, b=num(b), hi=hi
    )
    if c.direction == "no clear change":
        return _("{head}: no clear change with L ({bar}); {ends}.").format(
            head=head, bar=bar_words(c.bar), ends=ends
        )
    steps_up = np.diff(np.log10(median[ok]))
    slack = c.bar
    monotone = (steps_up >= -slack).all() if b > a else (steps_up <= slack).all()
    template = {
        ("rose", True): _("{head}: rises with L, by a factor of {factor}{beyond}; {ends}."),
        ("rose", False): _(
            "{head}: rises with L (not monotonically), by a factor of {factor}{beyond}; {ends}."
        ),
        ("fell", True): _("{head}: falls with L, by a factor of {factor}{beyond}; {ends}."),
        ("fell", False): _(
            "{head}: falls with L (not monotonically), by a factor of {factor}{beyond}; {ends}."
        ),
    }[c.direction, bool(monotone)]
    factor = factor_text(max(a, b) / min(a, b))
    beyond = ""
    if c.bar > change_bar():
        beyond = _(" (beyond the seeds' spread, a factor of {factor})").format(
            factor=factor_text(10**c.bar)
        )
    return template.format(head=head, factor=factor, beyond=beyond, ends=ends)
