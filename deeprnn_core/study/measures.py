"""What a study measures, from its table alone (one row per trial: cell, depth, lr, seed,
val_loss, diverged): the window of good learning rates per depth, the seed spread of every cell
of the map, and the plain-vs-deep verdict with a bootstrap interval.

A trial that diverged, or whose final validation loss is not finite, scores +inf: it never
counts as good, and a median over seeds that includes it moves up as it should.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deeprnn_core.analysis.measures import learned

TOLERANCE = 0.10  # a learning rate is good when its median loss <= best * (1 + TOLERANCE)
AGREES, DISAGREES, UNCLEAR = "agrees", "disagrees", "not distinguishable at these seeds"
NARROWS, WIDENS, NO_CLEAR_CHANGE = "narrows", "widens", "no clear change"
NOT_LEARNED = "not comparable"  # an end of the depth range did not learn the task at any lr


def scores(table) -> np.ndarray:
    """Each row's final validation loss, +inf where it diverged or is not finite."""
    loss = table["val_loss"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(loss)
    if "diverged" in table:
        bad |= table["diverged"].notna().to_numpy()
    return np.where(bad, np.inf, loss)


def _medians(table):
    """Median score over seeds of every (cell, depth, lr)."""
    frame = table[["cell", "depth", "lr"]].copy()
    frame["score"] = scores(table)
    return frame.groupby(["cell", "depth", "lr"], sort=True)["score"].median().reset_index()


def good_window(table, tolerance: float = TOLERANCE):
    """Per (cell, depth), the window of good learning rates.

    The median validation loss over seeds is taken at every learning rate of the map; the best
    is the lowest; a learning rate is good when its median is within ``tolerance`` (relative)
    of the best: median <= best * (1 + tolerance). The window is the run of consecutive good
    learning rates (on the map's sorted grid) that contains the best one; ``width`` is
    log10(hi / lo) in decades (0 when only the best is good: the grid's spacing is the
    resolution). A depth whose best median is not finite has no window (NaN width).

    A window is only as meaningful as its best: ``learned`` says whether the best median is
    below LEARNED (0.9) x the task's baseline (the median of the rows' ``baseline``; None
    without one). Where nothing learned, every learning rate is "good" at failing alike.

    Returns a DataFrame: cell, depth, best_lr, best_median, lo, hi, width, good (count),
    baseline, learned.
    """
    import pandas as pd

    rows = []
    has_base = "baseline" in table
    for (cell, depth), group in _medians(table).groupby(["cell", "depth"], sort=True):
        lrs, med = group["lr"].to_numpy(float), group["score"].to_numpy(float)
        k = int(np.argmin(med))
        best = med[k]
        at = (table["cell"] == cell) & (table["depth"] == depth)
        base = float(np.nanmedian(table.loc[at, "baseline"].astype(float))) if has_base else None
        did = learned(float(best), base)
        if not np.isfinite(best):
            rows.append((cell, depth, np.nan, best, np.nan, np.nan, np.nan, 0, base, did))
            continue
        good = med <= best * (1 + tolerance) if best >= 0 else med <= best * (1 - tolerance)
        lo = hi = k
        while lo > 0 and good[lo - 1]:
            lo -= 1
        while hi < len(lrs) - 1 and good[hi + 1]:
            hi += 1
        width = math.log10(lrs[hi] / lrs[lo])
        rows.append(
            (cell, depth, lrs[k], best, lrs[lo], lrs[hi], width, int(good.sum()), base, did)
        )
    columns = ["cell", "depth", "best_lr", "best_median", "lo", "hi", "width", "good"]
    columns += ["baseline", "learned"]
    return pd.DataFrame(rows, columns=columns)


def window_trend(windows, cell: str, spacing: float) -> str:
    """How the window of ``cell`` changes from the shallowest to the deepest depth of the map:
    NARROWS, WIDENS or NO_CLEAR_CHANGE. A change counts only when it is at least one grid step
    (``spacing``, in decades: finer changes are below the map's resolution). NOT_LEARNED when
    either end did not learn the task (``learned`` False): its window measures nothing."""
    rows = windows[windows["cell"] == cell].sort_values("depth")
    if len(rows) < 2:
        return NO_CLEAR_CHANGE
    if "learned" in rows and (rows["learned"].iloc[[0, -1]] == False).any():  # noqa: E712
        return NOT_LEARNED
    first, last = rows["width"].iloc[0], rows["width"].iloc[-1]
    if not (np.isfinite(first) and np.isfinite(last)) or abs(last - first) < spacing - 1e-12:
        return NO_CLEAR_CHANGE
    return NARROWS if last < first else WIDENS


def seed_spread(table):
    """Per (cell, depth, lr) of the map, the spread over seeds of the final validation loss:
    n, median, q1, q3 and iqr = q3 - q1 (numpy's linear quantiles; +inf for a diverged seed,
    so one diverged seed of four makes q3, and the iqr, infinite)."""
    frame = table[["cell", "depth", "lr"]].copy()
    frame["score"] = scores(table)
    grouped = frame.groupby(["cell", "depth", "lr"], sort=True)["score"]
    out = grouped.agg(
        n="size",
        median="median",
        q1=lambda s: float(np.quantile(s, 0.25)),
        q3=lambda s: float(np.quantile(s, 0.75)),
    ).reset_index()
    with np.errstate(invalid="ignore"):
        out["iqr"] = out["q3"] - out["q1"]
    return out


@dataclass(frozen=True)
class DepthVerdict:
    """Plain (L = 1) against deep (L = ``depth``), each at its own best learning rate."""

    cell: str
    depth: int
    plain_lr: float  # L = 1's best learning rate (lowest median over seeds)
    deep_lr: float
    plain_median: float  # median over seeds at that learning rate
    deep_median: float
    difference: float  # deep_median - plain_median (< 0: deep does better)
    low: float  # bootstrap 95 % interval of the difference
    high: float
    seeds: int  # seeds on each side (the smaller count)
    verdict: str  # AGREES / DISAGREES / UNCLEAR with "deeper does better"


def plain_vs_deep(table, cell: str, depth: int, *, boot: int = 4000, seed: int = 0) -> DepthVerdict:
    """The tutorial's claim "a deeper network does better", checked on the map of ``cell``.

    Each side is taken at its own best learning rate (lowest median validation loss over
    seeds). The difference of medians deep - plain gets a percentile bootstrap 95 % interval
    (``boot`` resamples of the seeds, each side resampled on its own, seeded). The verdict
    AGREES when the whole interval is below 0, DISAGREES when it is above 0, otherwise
    UNCLEAR ("not distinguishable at these seeds"), never from one run.
    """
    frame = table[table["cell"] == cell].copy()
    frame["score"] = scores(frame)
    sides = []
    for L in (1, depth):
        at = frame[frame["depth"] == L]
        if at.empty:
            raise ValueError(f"the table has no trial of cell {cell!r} at depth {L}")
        med = at.groupby("lr")["score"].median()
        lr = float(med.idxmin())
        sides.append((lr, at[at["lr"] == lr]["score"].to_numpy(float)))
    (plain_lr, plain), (deep_lr, deep) = sides
    diff = float(np.median(deep) - np.median(plain))
    rng = np.random.default_rng(seed)
    pick_p = rng.integers(0, len(plain), (boot, len(plain)))
    pick_d = rng.integers(0, len(deep), (boot, len(deep)))
    with np.errstate(invalid="ignore"):
        draws = np.median(deep[pick_d], axis=1) - np.median(plain[pick_p], axis=1)
    draws = np.where(np.isnan(draws), 0.0, draws)  # inf - inf: no difference can be read
    low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975]))
    if min(len(plain), len(deep)) < 2:
        verdict = UNCLEAR  # one seed a side: a bootstrap of one draw says nothing
    else:
        verdict = AGREES if high < 0 else DISAGREES if low > 0 else UNCLEAR
    return DepthVerdict(
        cell,
        depth,
        plain_lr,
        deep_lr,
        float(np.median(plain)),
        float(np.median(deep)),
        diff,
        low,
        high,
        min(len(plain), len(deep)),
        verdict,
    )
