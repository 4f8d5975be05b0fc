"""Several honest measures of "the gradient as L grows", each named for the path it follows.

The gradient G_t^(l) = dLoss/dH_t^(l) enters the grid at the top-right cell (t = T, l = L) when
the loss is on the last step. How much of it reaches another cell depends on which cell:

    corner   |G_1^(1)| / |G_T^(L)|   time and depth: (T - 1) + (L - 1) steps back
    depth    |G_T^(1)| / |G_T^(L)|   through depth only: L - 1 steps down
    time     |G_1^(L)| / |G_T^(L)|   through time only: T - 1 steps back
    *_rate   ratio ** (1 / steps)    the per-Jacobian rate: geometric mean factor per step
    w_xh     rms(dLoss/dW_xh^(1)) / rms(dLoss/dW_xh^(L))   does the bottom layer learn?
    w_hh     rms(dLoss/dW_hh^(1)) / rms(dLoss/dW_hh^(L))

The parameter measures compare root-mean-square entries (Frobenius norm / sqrt(entries)), not
Frobenius norms: W_xh^(1) is d x h (torch's weight_ih_l0 is (h, d)) while W_xh^(l > 1) is h x h,
so a plain norm ratio would shift by sqrt(d / h) from the shapes alone. For W_hh (h x h at every
layer) both give the same ratio. A global clip of the gradients scales both ends alike and
leaves every parameter ratio unchanged.

A path with zero steps (L = 1 for depth and the parameter ratios, T = 1 for time, both for the
corner) is "no path": its value is nan, and the words say so. Numbers only; the words below are
built from the numbers, never fixed in advance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# key -> (name of the path, formula in the seed's notation)
MEASURES: dict[str, tuple[str, str]] = {
    "corner": ("corner to corner (time and depth)", "|G_1^(1)| / |G_T^(L)|"),
    "depth": ("through depth only", "|G_T^(1)| / |G_T^(L)|"),
    "time": ("through time only", "|G_1^(L)| / |G_T^(L)|"),
    "corner_rate": ("per step, corner to corner", "(|G_1^(1)| / |G_T^(L)|)^(1/(T+L-2))"),
    "depth_rate": ("per step, through depth", "(|G_T^(1)| / |G_T^(L)|)^(1/(L-1))"),
    "time_rate": ("per step, through time", "(|G_1^(L)| / |G_T^(L)|)^(1/(T-1))"),
    "w_xh": ("bottom vs top layer, W_xh", "rms ∂Loss/∂W_xh^(1) / rms ∂Loss/∂W_xh^(L)"),
    "w_hh": ("bottom vs top layer, W_hh", "rms ∂Loss/∂W_hh^(1) / rms ∂Loss/∂W_hh^(L)"),
}
RATIO_OF = {"corner_rate": "corner", "depth_rate": "depth", "time_rate": "time"}


@dataclass(frozen=True)
class PathEnds:
    """The norms at the ends of every measured path. Arrays broadcast together, e.g. (S, L_max)
    for a depth sweep or () for one trace; ``num_layers`` broadcasts with them."""

    grad_first_bottom: np.ndarray  # |G_1^(1)|
    grad_last_bottom: np.ndarray  # |G_T^(1)|
    grad_first_top: np.ndarray  # |G_1^(L)|
    grad_last_top: np.ndarray  # |G_T^(L)|
    w_xh_bottom: np.ndarray  # rms of dLoss/dW_xh^(1)
    w_xh_top: np.ndarray  # rms of dLoss/dW_xh^(L)
    w_hh_bottom: np.ndarray  # rms of dLoss/dW_hh^(1)
    w_hh_top: np.ndarray  # rms of dLoss/dW_hh^(L)
    num_layers: np.ndarray | int  # L
    steps: int  # T
    # the top layer's H_t feeds H_{t+1} (Cell.hidden_recurrent; False for an LRU top layer):
    # broadcasts with num_layers
    time_path: np.ndarray | bool = True


def path_steps(key: str, num_layers, steps: int, time_path=True):
    """Number of Jacobians on the path of measure ``key`` (the corner path has (T-1)+(L-1)),
    broadcast over ``num_layers``. Where ``time_path`` is False (the top layer's H_t feeds no
    later step: an LRU, whose recurrent state is x_t) the path through time along H has none:
    "time" has 0 steps, and so has the corner at L = 1 (then the same path)."""
    if key not in MEASURES:
        raise ValueError(f"key must be one of {tuple(MEASURES)}, got {key!r}")
    base = RATIO_OF.get(key, key)
    L = np.asarray(num_layers)
    along_h = np.asarray(time_path, dtype=bool)
    if base == "corner":
        return np.where(along_h | (L > 1), (steps - 1) + (L - 1), 0)
    if base == "time":
        return np.where(along_h, steps - 1, 0) * np.ones_like(L)
    return L - 1  # depth, w_xh, w_hh


def _ratio(a, b) -> np.ndarray:
    with np.errstate(all="ignore"):
        r = np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64)
    return np.where(np.isnan(r), np.nan, r)


def measure_values(ends: PathEnds) -> dict[str, np.ndarray]:
    """Every measure of ``MEASURES`` from the path ends: arrays of the broadcast shape, nan where
    the path has no steps ("no path") or an end is not finite or zero over zero."""
    ratios = {
        "corner": _ratio(ends.grad_first_bottom, ends.grad_last_top),
        "depth": _ratio(ends.grad_last_bottom, ends.grad_last_top),
        "time": _ratio(ends.grad_first_top, ends.grad_last_top),
        "w_xh": _ratio(ends.w_xh_bottom, ends.w_xh_top),
        "w_hh": _ratio(ends.w_hh_bottom, ends.w_hh_top),
    }
    out = {}
    for key in MEASURES:
        n = path_steps(key, ends.num_layers, ends.steps, ends.time_path)
        base = ratios[RATIO_OF.get(key, key)]
        with np.errstate(all="ignore"):
            value = base ** (1.0 / np.where(n > 0, n, 1)) if key in RATIO_OF else base
        out[key] = np.where(n > 0, value, np.nan) * np.ones_like(base)
    return out


def rms(a: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """Root-mean-square entry from a Frobenius ``norm`` over the last two axes of ``a``."""
    return np.asarray(norm) / math.sqrt(a.shape[-1] * a.shape[-2])


# ------------------------------------------------------------------ the "no clear change" rule
# Every direction word the app prints (rose / fell, more / less severe, vanishes / explodes,
# learned / did not learn) reads the rule below, stated once here.
#
# Why: what is printed is rounded to 3 significant digits, so each printed value is only known
# to half a unit in its last digit, up to 0.5 % of it (1.005 prints as 1.00 or 1.01); two such
# values can sit ROUNDING apart from the rounding alone. A change smaller than that is not a
# change a reader can see in the numbers, so it is worded "no clear change" / "about the same"
# and any verdict drawn from it becomes "no clear difference". For numbers that are medians or
# means over a few weight seeds, the seeds' own spread is the larger uncertainty: redrawing one
# seed moves the median by about half their range, so a change must also exceed that spread.
ROUNDING = 0.01  # relative change two 3-digit printed values can show from rounding alone
SAME = ROUNDING  # kept for callers that name it: below this a measure did not move
# "Vanishes" / "explodes" (and "a problem only the deep network can have") need more than a
# visible change: the whole path's ratio must be at least an order of magnitude from 1. A path
# whose gradient shrinks to 0.4 or grows to 1.06 of its start is a clear change, not a gradient
# problem: a factor under 10 is what one layer's scale or the learning rate absorbs.
ORDER = 10.0
# "Learned the task" against a trivial baseline: the loss must end clearly below it. One rule on
# both sides of 1x: 0.999x and 1.03x the baseline both "did not learn".
LEARNED = 0.9  # the loss must end below LEARNED x the baseline


def change_bar(spread: float | None = None) -> float:
    """The smallest |log10(b / a)| that counts as a clear change: the printed rounding
    (log10(1 + ROUNDING)), or the seeds' ``spread`` (log10 units, see ``seed_spread``) when
    larger."""
    bar = math.log10(1 + ROUNDING)
    return max(bar, float(spread)) if spread is not None and math.isfinite(spread) else bar


def clear_change(a: float, b: float, *, spread: float | None = None) -> int:
    """+1 when ``b`` is clearly above ``a``, -1 clearly below, 0 for no clear change.

    Two positive values compare by |log10(b / a)| against ``change_bar(spread)``; other finite
    values (a gap that may be negative) by |b - a| against ROUNDING x max(|a|, |b|). Not finite:
    0 (no change can be read off an overflow or nan)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return 0
    if a > 0 and b > 0:
        log_change = math.log10(b) - math.log10(a)
        return 0 if abs(log_change) <= change_bar(spread) else (1 if log_change > 0 else -1)
    if abs(b - a) <= ROUNDING * max(abs(a), abs(b)):
        return 0
    return 1 if b > a else -1


def clearly_away_from_one(ratio: float, spread: float | None = None) -> bool:
    """Whether ``ratio`` is clearly different from 1 by ``clear_change``."""
    return clear_change(1.0, ratio, spread=spread) != 0


def seed_spread(samples: np.ndarray, axis: int = 0) -> np.ndarray:
    """Half the range of log10 over ``axis`` (the seeds) of the finite positive ``samples``: how
    far the median of so few draws can move when one is redrawn. 0 where fewer than two are
    finite and positive."""
    with np.errstate(all="ignore"):
        logs = np.log10(np.asarray(samples, dtype=np.float64))
    finite = np.isfinite(logs)
    top = np.where(finite, logs, -np.inf).max(axis=axis)
    bottom = np.where(finite, logs, np.inf).min(axis=axis)
    with np.errstate(all="ignore"):
        return np.where(finite.sum(axis=axis) >= 2, (top - bottom) / 2, 0.0)


def learned(loss: float, baseline: float | None) -> bool | None:
    """Whether a final ``loss`` learned the task: below LEARNED x ``baseline``. None when there
    is no baseline or either is not finite."""
    if baseline is None or not (math.isfinite(loss) and math.isfinite(baseline)):
        return None
    return loss < LEARNED * baseline


# ------------------------------------------------------------------------------- words
def regime(value: float, steps: int, *, per_step: bool = False) -> str:
    """What the gradient does along a path of ``steps`` Jacobians, judged on the whole path's
    ratio (``value ** steps`` when ``per_step``): "vanishes" (below 1/ORDER), "explodes" (above
    ORDER), "shrinks" / "grows" (clearly below / above 1 but within a factor ORDER), "stays about
    1" (no clear change from 1), "no path" (zero steps) or "undefined" (inf or nan: an end
    overflowed, or is zero as dLoss/dW_hh is when T = 1 and H_0 = 0)."""
    if steps <= 0:
        return "no path"
    if not math.isfinite(value) or value < 0:
        return "undefined"
    if value == 0:
        return "vanishes"
    log_whole = math.log10(value) * (steps if per_step else 1)
    if abs(log_whole) <= change_bar():
        return "stays about 1"
    if abs(log_whole) >= math.log10(ORDER):
        return "vanishes" if log_whole < 0 else "explodes"
    return "shrinks" if log_whole < 0 else "grows"


def factor_text(factor: float) -> str:
    """A factor >= 1 as text: "10^x.x" from 10 up, three digits below."""
    return f"10^{math.log10(factor):.1f}" if factor >= 10 else f"{factor:.3g}"


def bar_text(bar: float) -> str:
    """The bar of ``change_bar`` in words: "1 %, the rounding of 3 printed digits" or "the
    seeds' spread, a factor of 1.04"."""
    if bar <= change_bar() + 1e-12:
        return f"within {ROUNDING:.0%}, the rounding of 3 printed digits"
    return f"within the seeds' spread, a factor of {factor_text(10**bar)}"


@dataclass(frozen=True)
class Change:
    """How one measure moved from the plain network (L = 1) to the deep one."""

    key: str
    plain: float
    deep: float
    direction: str  # "rose", "fell", "no clear change", or "" when either is no path / overflow
    log10_change: float  # log10(deep / plain), nan when undefined
    more_severe: bool | None  # clearly farther from 1 (|log10 deep| > |log10 plain|); None if
    # undefined
    severity: int = 0  # +1 clearly more severe, -1 clearly less, 0 no clear difference
    bar: float = math.log10(1 + ROUNDING)  # the |log10| a change had to exceed (change_bar)

    @property
    def phrase(self) -> str:
        """Which way it moved, from the numbers: "rose by a factor of 10^1.6", "fell by a
        factor of 2.5", "no clear change (within 1 %, ...)", or "" when undefined."""
        if self.direction == "no clear change":
            return f"no clear change ({bar_text(self.bar)})"
        if self.direction == "":
            return ""
        return f"{self.direction} by a factor of {factor_text(10 ** abs(self.log10_change))}"


def change(key: str, plain: float, deep: float, *, spread: float | None = None) -> Change:
    """Which way measure ``key`` moved between two finite positive values (else undefined), by
    ``clear_change`` (the seeds' ``spread`` in log10 for seed medians); whether the deep one is
    farther from 1 reads the same rule on |log10|."""
    if key not in MEASURES:
        raise ValueError(f"key must be one of {tuple(MEASURES)}, got {key!r}")
    ok = all(math.isfinite(v) and v > 0 for v in (plain, deep))
    if not ok:
        return Change(key, plain, deep, "", math.nan, None)
    log_change = math.log10(deep) - math.log10(plain)
    bar = change_bar(spread)
    sign = clear_change(plain, deep, spread=spread)
    distance = abs(math.log10(deep)) - abs(math.log10(plain))
    severity = 0 if abs(distance) <= bar else (1 if distance > 0 else -1)
    if sign == 0:
        return Change(key, plain, deep, "no clear change", log_change, False, 0, bar)
    direction = "rose" if sign > 0 else "fell"
    return Change(key, plain, deep, direction, log_change, severity > 0, severity, bar)


@dataclass(frozen=True)
class PathCount:
    """The corner path counted: G_1^(1) sums the products of Jacobians along every monotone
    lattice path from (T, L) to (1, 1); there are C((T-1)+(L-1), L-1) of them."""

    paths: int  # number of lattice paths
    steps: int  # Jacobians on each path, (T-1)+(L-1)
    log10_paths: float
    log10_per_path: float  # log10(corner ratio / paths): the average path's factor (a definition)


def path_count(num_layers: int, steps: int, corner: float) -> PathCount:
    """Count the lattice paths of the corner measure and split ``corner`` (the measured
    |G_1^(1)| / |G_T^(L)|) into their number times the average factor per path. If every path
    contributed the same vector, the ratio would be exactly paths x per-path factor; with signs
    and directions that cancel it is a definition, which is how the app words it."""
    paths = math.comb((steps - 1) + (num_layers - 1), num_layers - 1)
    log_paths = math.log10(paths)
    with np.errstate(all="ignore"):
        per = math.log10(corner) - log_paths if corner > 0 and math.isfinite(corner) else math.nan
    return PathCount(paths, (steps - 1) + (num_layers - 1), log_paths, per)
