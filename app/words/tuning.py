"""Sentences about a study's measures: the window of good learning rates against depth and the
plain-vs-deep verdict. Every direction word comes from deeprnn_core.study.measures (window_trend,
plain_vs_deep) on the numbers printed in the same sentence; none is fixed in advance."""

from __future__ import annotations

import numpy as np

from deeprnn_core.analysis.measures import LEARNED
from deeprnn_core.study import measures


def _width(value: float) -> str:
    return "no window (every learning rate diverged)" if not np.isfinite(value) else f"{value:.2f}"


def window_words(windows, cell: str, spacing: float, tolerance: float) -> str:
    """The tutorial's "deeper needs more careful tuning" for ``cell``, read from the widths."""
    rows = windows[windows["cell"] == cell].sort_values("depth")
    if rows.empty:
        return ""
    first, last = rows.iloc[0], rows.iloc[-1]
    widths = ", ".join(f"L = {r.depth}: {_width(r.width)}" for r in rows.itertuples())
    text = (
        f"**{cell}**: window of good learning rates (median validation loss within "
        f"{100 * tolerance:.0f} % of that depth's best), in decades: {widths}."
    )
    if len(rows) < 2:
        return text
    trend = measures.window_trend(windows, cell, spacing)
    if trend == measures.NOT_LEARNED:
        failed = [str(r.depth) for r in rows.itertuples() if r.learned is False]
        return (
            f"{text} At L = {', '.join(failed)} no learning rate brought the median loss below "
            f"{LEARNED:g} x the task's baseline: nothing was learned there, so its window "
            "says nothing about tuning, and the claim cannot be checked on this map."
        )
    claim = {
        measures.NARROWS: "it narrows as L grows, as the tutorial says (deeper is harder to tune)",
        measures.WIDENS: "it widens as L grows, against the tutorial's claim",
        measures.NO_CLEAR_CHANGE: (
            f"from L = {first.depth} to L = {last.depth} it changes by less than one grid step "
            f"({spacing:.2f} decades): no clear change at this resolution"
        ),
    }[trend]
    return f"{text} So {claim}."


def verdict_words(v: measures.DepthVerdict, value_name: str = "validation loss") -> str:
    """Plain (L = 1) against deep, each at its own best learning rate, with the interval."""
    better = "lower" if v.difference < 0 else "higher" if v.difference > 0 else "equal"
    text = (
        f"**{v.cell}, L = 1 against L = {v.depth}** (each at its best learning rate, "
        f"{v.plain_lr:.3g} and {v.deep_lr:.3g}): median {value_name} {v.plain_median:.4g} and "
        f"{v.deep_median:.4g}; the deep one is {better} by {abs(v.difference):.3g}, bootstrap "
        f"95 % interval of deep - plain [{v.low:.3g}, {v.high:.3g}] over {v.seeds} seeds. "
    )
    return (
        text
        + {
            measures.AGREES: 'This **agrees** with "deeper does better".',
            measures.DISAGREES: 'This **disagrees** with "deeper does better".',
            measures.UNCLEAR: "Deep and plain are **not distinguishable at these seeds**.",
        }[v.verdict]
    )
