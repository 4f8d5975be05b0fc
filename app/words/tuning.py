"""Sentences about a study's measures: the window of good learning rates against depth and the
plain-vs-deep verdict. Every direction word comes from deeprnn_core.study.measures (window_trend,
plain_vs_deep) on the numbers printed in the same sentence; none is fixed in advance. Each
sentence is one catalog template (app/words/i18n), filled with the numbers."""

from __future__ import annotations

import numpy as np

from app.words.i18n import N_, count, decimal, ngettext, sentences
from app.words.i18n import gettext as _
from deeprnn_core.analysis.measures import LEARNED
from deeprnn_core.study import measures

CLAIMS = {  # window_trend's verdict on "deeper needs more careful tuning"
    measures.NARROWS: N_(
        "So it narrows as L grows, as the tutorial says (deeper is harder to tune)."
    ),
    measures.WIDENS: N_("So it widens as L grows, against the tutorial's claim."),
    measures.NO_CLEAR_CHANGE: N_(
        "So from L = {first} to L = {last} it changes by less than one grid step "
        "({spacing} decades): no clear change at this resolution."
    ),
}
VERDICTS = {  # plain_vs_deep's verdict on "deeper does better"
    measures.AGREES: N_('This **agrees** with "deeper does better".'),
    measures.DISAGREES: N_('This **disagrees** with "deeper does better".'),
    measures.UNCLEAR: N_("Deep and plain are **not distinguishable at these seeds**."),
}


def _width(value: float) -> str:
    if not np.isfinite(value):
        return _("no window (every learning rate diverged)")
    return f"{value:.2f}"


def window_words(windows, cell: str, spacing: float, tolerance: float) -> str:
    """The tutorial's "deeper needs more careful tuning" for ``cell``, read from the widths."""
    rows = windows[windows["cell"] == cell].sort_values("depth")
    if rows.empty:
        return ""
    first, last = rows.iloc[0], rows.iloc[-1]
    widths = _(", ").join(
        _("L = {L}: {width}").format(L=r.depth, width=_width(r.width)) for r in rows.itertuples()
    )
    text = _(
        "**{cell}**: window of good learning rates (median validation loss within {percent} % of "
        "that depth's best), in decades: {widths}."
    ).format(cell=cell, percent=f"{100 * tolerance:.0f}", widths=widths)
    if len(rows) < 2:
        return text
    trend = measures.window_trend(windows, cell, spacing)
    if trend == measures.NOT_LEARNED:
        failed = [str(r.depth) for r in rows.itertuples() if r.learned is False]
        return sentences(
            text,
            ngettext(
                "At L = {depths} no learning rate brought the median loss below {factor} x the "
                "task's baseline: nothing was learned there, so its window says nothing about "
                "tuning, and the claim cannot be checked on this map.",
                "At L = {depths} no learning rate brought the median loss below {factor} x the "
                "task's baseline: nothing was learned at these depths, so their windows say "
                "nothing about tuning, and the claim cannot be checked on this map.",
                len(failed),
            ).format(depths=_(", ").join(failed), factor=decimal(LEARNED)),
        )
    claim = _(CLAIMS[trend])
    if trend == measures.NO_CLEAR_CHANGE:
        claim = claim.format(first=first.depth, last=last.depth, spacing=f"{spacing:.2f}")
    return sentences(text, claim)


def verdict_words(v: measures.DepthVerdict) -> str:
    """Plain (L = 1) against deep, each at its own best learning rate, with the interval."""
    template = (
        N_(
            "**{cell}, L = 1 against L = {L}** (each at its best learning rate, {plain_lr} and "
            "{deep_lr}): median validation loss {plain} and {deep}; the deep one is lower by "
            "{gap}."
        )
        if v.difference < 0
        else N_(
            "**{cell}, L = 1 against L = {L}** (each at its best learning rate, {plain_lr} and "
            "{deep_lr}): median validation loss {plain} and {deep}; the deep one is higher by "
            "{gap}."
        )
        if v.difference > 0
        else N_(
            "**{cell}, L = 1 against L = {L}** (each at its best learning rate, {plain_lr} and "
            "{deep_lr}): median validation loss {plain} and {deep}, equal."
        )
    )
    text = _(template).format(
        cell=v.cell, L=v.depth, plain_lr=f"{v.plain_lr:.3g}", deep_lr=f"{v.deep_lr:.3g}",
        plain=f"{v.plain_median:.4g}", deep=f"{v.deep_median:.4g}", gap=f"{abs(v.difference):.3g}",
    )  # fmt: skip
    interval = ngettext(
        "Bootstrap 95 % interval of deep - plain over {seeds} seed: [{low}, {high}].",
        "Bootstrap 95 % interval of deep - plain over {seeds} seeds: [{low}, {high}].",
        v.seeds,
    ).format(seeds=count(v.seeds), low=f"{v.low:.3g}", high=f"{v.high:.3g}")
    return sentences(text, interval, _(VERDICTS[v.verdict]))
