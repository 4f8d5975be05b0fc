"""The answers of the two Lesson steps that go past the tutorial's own order (the later
recurrences, and "harder to tune" over many runs): numbers at the current settings ->
sentences, in the run's language.

Every direction word is chosen from the numbers in the same sentence: the gradient's through
analysis.measures (regime, change: the "no clear change" rule), the study's through
deeprnn_core.study.measures (window_trend: a change under one grid step is no clear change;
plain_vs_deep: "not distinguishable at these seeds" unless the bootstrap interval excludes 0).
Markdown out; no user text goes in.
"""

from __future__ import annotations

import math

import numpy as np

from app.words import lesson
from app.words.i18n import N_, count, decimal, ngettext
from app.words.i18n import gettext as _
from app.words.lesson_answers import DIRECTIONS, name, said
from app.words.training import TASK_NAMES
from deeprnn_core.analysis.measures import LEARNED, change, path_steps
from deeprnn_core.study import measures as study_measures

NOT_COMPARED = DIRECTIONS[""]  # measures.change had no direction: no path or an overflow
TREND = {  # study.measures.window_trend's verdicts on the tutorial's claim
    study_measures.NARROWS: N_(
        "From L = {lo} to L = {hi} the window narrows by {steps}: at these seeds "
        "the deeper stack is harder to tune, as the tutorial says."
    ),
    study_measures.WIDENS: N_(
        "From L = {lo} to L = {hi} the window widens by {steps}: at these seeds the "
        "deeper stack is easier to tune, against the tutorial's claim."
    ),
    study_measures.NO_CLEAR_CHANGE: N_(
        "From L = {lo} to L = {hi} the window changes by less than one grid step ({spacing} "
        "decades): no clear change at this resolution, so this map does not decide the claim."
    ),
}
NOT_LEARNED = N_(  # an end of the depth range learned nothing (study.measures.NOT_LEARNED)
    "At L = {depths} no learning rate brought the median loss below {bar} × the task's "
    "baseline: nothing was learned there, so the window says nothing about tuning there, and "
    "this map cannot check the claim."
)
VERDICTS = {  # study.measures.plain_vs_deep's verdicts on "a deeper network does better"
    study_measures.AGREES: N_("the whole interval is below 0: deeper does better here"),
    study_measures.DISAGREES: N_("the whole interval is above 0: deeper does worse here"),
    study_measures.UNCLEAR: N_("the interval holds 0: not distinguishable at these seeds"),
}


def recurrence_answer(
    cell: str, other: dict, rnn: dict, num_layers: int, steps: int, time_path: bool
) -> str:
    """The corner and time-only measures of the tanh RNN and of recurrence ``cell`` (its
    title) at the same settings, what each does (measures.regime), which way and by how much
    the measure moved from the tanh RNN to ``cell`` (measures.change), and the corner path's
    factor per Jacobian. ``time_path``: whether ``cell``'s top-layer H_t feeds H_{t+1} (False
    for an LRU: its path through time is its state x_t)."""
    out = []
    for key, along_h in (("corner", True), ("time", time_path)):
        c = change(key, rnn[key], other[key])
        moved_by = lesson.phrase(c) if along_h and c.direction else _(NOT_COMPARED)
        out.append(
            _("{name}: {a} in the tanh RNN (the gradient {wa}) → {b} in the {cell} (the "
              "gradient {wb}): {moved}.").format(
                name=name(key), a=decimal(rnn[key]), cell=cell,
                b=decimal(other[key]) if along_h else "—",
                wa=said(key, rnn[key], num_layers, steps),
                wb=said(key, other[key], num_layers, steps, along_h), moved=moved_by)
        )  # fmt: skip
    rate_a, rate_b = rnn["corner_rate"], other["corner_rate"]
    if all(math.isfinite(v) and v > 0 for v in (rate_a, rate_b)):
        out.append(
            ngettext(
                "On the corner path ({n} Jacobian) |G| is multiplied per Jacobian by {a} on "
                "average in the tanh RNN and by {b} in the {cell}.",
                "On the corner path ({n} Jacobians) |G| is multiplied per Jacobian by {a} on "
                "average in the tanh RNN and by {b} in the {cell}.",
                int(path_steps("corner", num_layers, steps)),
            ).format(n=count(int(path_steps("corner", num_layers, steps))), a=decimal(rate_a),
                     b=decimal(rate_b), cell=cell)
        )  # fmt: skip
    return "\n\n".join(out)


def _width(value: float) -> str:
    if not np.isfinite(value):
        return _("no window (every learning rate diverged)")
    return decimal(float(value))


def tuning_answer(windows, cell: str, label: str, spacing: float, seeds: int,
                  verdict: study_measures.DepthVerdict) -> str:  # fmt: skip
    """The window of good learning rates of ``cell`` at each depth of the study (widths in
    decades), what study.measures.window_trend says of the tutorial's "harder to tune", and the
    plain-vs-deep verdict with its bootstrap interval."""
    rows = windows[windows["cell"] == cell].sort_values("depth")
    widths = _(", ").join(
        _("L = {L}: {width}").format(L=int(r.depth), width=_width(r.width))
        for r in rows.itertuples()
    )
    out = [
        _("{label}: the window of good learning rates (median validation loss over {seeds} "
          "seeds within {percent} % of that depth's best), in decades: {widths}.").format(
            label=label, seeds=count(seeds), percent=count(round(100 * study_measures.TOLERANCE)),
            widths=widths)
    ]  # fmt: skip
    trend = study_measures.window_trend(windows, cell, spacing)
    lo, hi = int(rows["depth"].iloc[0]), int(rows["depth"].iloc[-1])
    if trend == study_measures.NOT_LEARNED:
        failed = [r for r in rows.itertuples() if r.learned is False]
        depths = _(", ").join(str(int(r.depth)) for r in failed)
        out.append(_(NOT_LEARNED).format(depths=depths, bar=f"{LEARNED:g}"))
    else:
        first, last = float(rows["width"].iloc[0]), float(rows["width"].iloc[-1])
        grid_steps = round(abs(last - first) / spacing) if math.isfinite(last - first) else 0
        out.append(
            _(TREND[trend]).format(lo=lo, hi=hi, spacing=decimal(spacing), steps=ngettext(
                "{n} grid step", "{n} grid steps", grid_steps).format(n=count(grid_steps)))
        )  # fmt: skip
    v = verdict
    out.append(
        _("Does the deeper one do better? L = 1 against L = {L}, each at its best learning rate "
          "({lr1} and {lr2}): median validation loss {a} and {b}, deep − plain {d}, bootstrap "
          "95 % interval [{low}, {high}] over {n} seeds: {verdict}.").format(
            L=v.depth, lr1=decimal(v.plain_lr), lr2=decimal(v.deep_lr),
            a=decimal(v.plain_median), b=decimal(v.deep_median), d=decimal(v.difference),
            low=decimal(v.low), high=decimal(v.high), n=count(v.seeds),
            verdict=_(VERDICTS[v.verdict]))
    )  # fmt: skip
    return "\n\n".join(out)


def tuning_recipe(spec) -> str:
    """How to run study ``spec`` on the Tuning map (the lab link fills its form with these
    fields: runs.lesson_study.query), stated from the spec."""
    lrs = np.log10(spec.lrs)
    return _(
        "The lab link opens the Tuning map with its form set to this map: task {task}, cell "
        "types {cells}, depths "
        "{depths}, {seeds} seeds, log10 lr from {lo} to {hi} in {count} rates, {steps} updates "
        "per trial, h = {h} (the page validates on its own number of sequences, this study on "
        "{n_val}, so its numbers can differ a little)."
    ).format(task=_(TASK_NAMES.get(spec.task, spec.task)), cells=_(", ").join(spec.cells),
             depths=_(", ").join(str(d) for d in spec.depths), seeds=count(len(spec.seeds)),
             lo=f"{lrs.min():g}", hi=f"{lrs.max():g}", count=count(len(spec.lrs)),
             steps=count(spec.steps), h=spec.hidden_size, n_val=count(spec.n_val))  # fmt: skip
