"""Plain vs deep, measured in training: L = 1 and the current L trained on the same task,
updates, batches and seed (training.loop), next to the tutorial's (d2l) claims about training.

A section of the Plain vs deep page (views/plain_vs_deep.py calls ``draw``). Each verdict is read
off the two runs' numbers; where the measurement disagrees with the tutorial, it says so.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app.parts import layout
from app.runs import training
from app.words.i18n import N_
from app.words.i18n import gettext as _
from app.words.training import TASK_NAMES, window
from deeprnn_core.analysis import measures
from deeprnn_core.config import DROPOUT_RULE

TEMPLATE = N_(  # {rule}: the core's dropout rule
    "The tutorial (*Dive into Deep Learning*, section Deep Recurrent Neural Networks) says "
    "a deep RNN is harder to train, overfits more (more parameters), costs more "
    "time and memory, and does better on complex tasks. Here both networks are trained on the "
    "Training page's task, optimizer, learning rate, schedule, updates and batch size, on the "
    "same minibatches and seed; the plain one has the first layer's cell and activation and "
    "no dropout ({rule})."
)
EXPLAIN = TEMPLATE.replace("{rule}", DROPOUT_RULE)  # in English
# (the core's DROPOUT_RULE is a catalog message: app/words/catalog.py adds it)


def measured(h, peak: int) -> dict[str, float]:
    """The numbers of one run that the rows show."""
    train = float(window(h.loss, True))
    val = float(h.val_loss[-1]) if len(h.val_loss) else float("nan")
    return {
        "train": train,
        "val": val,
        "gap": val - train,
        "per_update": float(h.wall_time[-1]) / max(1, h.steps),
        "peak": float(peak),
    }


CLOSE = 0.02  # losses (and gaps) within 2 % of the loss scale count as no clear difference
# The least a run must have for its losses to carry a verdict on the tutorial's claims: the
# start and end summaries are medians over a tenth of the updates (10 of 100), a loss over
# fewer than 4 sequences is one or two draws of the task, and at T < 10 the tasks are too
# short for depth to matter. Below these the page shows the numbers and says why no verdict.
MIN_UPDATES = 100
MIN_BATCH = 4
MIN_LENGTH = 10


def too_short(updates: int, batch: int, length: int) -> str:
    """Why a run of ``updates`` updates of batch ``batch`` at T = ``length`` carries no verdict
    (below MIN_UPDATES, MIN_BATCH or MIN_LENGTH), or "" when it can."""
    short = [template.format(now=now, least=least) for template, now, least in (
        (_("updates {now} (a verdict needs at least {least})"), updates, MIN_UPDATES),
        (_("batch {now} (a verdict needs at least {least})"), batch, MIN_BATCH),
        (_("T {now} (a verdict needs at least {least})"), length, MIN_LENGTH),
    ) if now < least]  # fmt: skip
    return _("this run has {reasons}").format(reasons=_(", ").join(short)) if short else ""


def verdicts(
    p: dict, d: dict, L: int, baseline: float | None, short: str = ""
) -> list[tuple[str, str, str]]:
    """(the tutorial's claim, what was measured, verdict) for each claim: "agrees", "disagrees",
    or "no clear difference" when the two runs are within CLOSE of each other. The three claims
    about learning get "no verdict" with the reason when the run is ``short`` (too_short's
    reason) or neither run learned the task (measures.learned against ``baseline``); time and
    memory are measured either way."""
    scale = max(abs(p["val"]), abs(d["val"]), abs(p["train"]), abs(d["train"]))

    def order(a: float, b: float) -> int:
        """-1 if a is clearly below b, 1 if clearly above, 0 within CLOSE."""
        return 0 if abs(a - b) <= CLOSE * scale else (1 if a > b else -1)

    def says(sign: int, agrees: int) -> str:
        return "no clear difference" if sign == 0 else "agrees" if sign == agrees else "disagrees"

    harder, overfit = order(d["train"], p["train"]), order(d["gap"], p["gap"])
    better = order(d["val"], p["val"])
    costlier = d["per_update"] > p["per_update"] and d["peak"] > p["peak"]
    learned = ""
    if baseline and all(measures.learned(v, baseline) is False for v in (p["val"], d["val"])):
        learned = _(
            "; neither ended below {times} times the baseline {baseline}: neither learned the task"
        ).format(times=f"{measures.LEARNED:g}", baseline=f"{baseline:.4g}")
        short = short or _("neither run learned the task, so their losses compare two failures")
    f = dict(L=L, deep=f"{d['train']:.4g}", plain=f"{p['train']:.4g}")
    harder_text = {
        -1: _("L = {L} ended at a training loss below L = 1's ({deep} vs {plain})"),
        0: _("L = {L} ended at a training loss within 2 % of L = 1's ({deep} vs {plain})"),
        1: _("L = {L} ended at a training loss above L = 1's ({deep} vs {plain})"),
    }[harder].format(**f)
    f = dict(L=L, deep=f"{d['gap']:.3g}", plain=f"{p['gap']:.3g}")
    overfit_text = {
        -1: _("the train-validation gap is {deep} at L = {L}, smaller than {plain} at L = 1"),
        0: _("the train-validation gap is {deep} at L = {L}, within 2 % of {plain} at L = 1"),
        1: _("the train-validation gap is {deep} at L = {L}, larger than {plain} at L = 1"),
    }[overfit].format(**f)
    f = dict(L=L, deep=f"{d['val']:.4g}", plain=f"{p['val']:.4g}", learned=learned)
    better_text = {
        -1: _("validation loss {deep} at L = {L}, below {plain} at L = 1 on this task{learned}"),
        0: _("validation loss {deep} at L = {L}, within 2 % of {plain} at L = 1 on this "
             "task{learned}"),
        1: _("validation loss {deep} at L = {L}, above {plain} at L = 1 on this task{learned}"),
    }[better].format(**f)  # fmt: skip
    rows = [
        (_("Training is harder"), harder_text, says(harder, 1)),
        (_("More parameters overfit more"), overfit_text, says(overfit, 1)),
        (_("Training time and memory grow with L"),
         _("{time}x the time per update and {memory}x the peak memory of L = 1").format(
             time=f"{d['per_update'] / p['per_update']:.2f}",
             memory=f"{d['peak'] / p['peak']:.2f}"),
         "agrees" if costlier else "disagrees"),
        (_("Better on complex tasks"), better_text, says(better, -1)),
    ]  # fmt: skip
    if not short:
        return rows
    timing = rows[2][0]
    return [(claim, measured_, verdict if claim == timing else no_verdict(short))
            for claim, measured_, verdict in rows]  # fmt: skip


def no_verdict(reason: str) -> str:
    return _("no verdict: {reason}").format(reason=reason)


VERDICTS = {"agrees": N_("agrees"), "disagrees": N_("disagrees"),
            "no clear difference": N_("no clear difference")}  # fmt: skip


@layout.guarded
def draw(settings) -> None:
    """The section: a button that trains both, then the measured rows and the verdicts."""
    st.subheader(_("Training, measured: plain (L = 1) vs deep"))
    st.markdown(_(TEMPLATE).replace("{rule}", _(DROPOUT_RULE)))
    L = settings.num_layers
    if L == 1:
        st.info(_("Set the depth L above 1 in the sidebar to compare L = 1 with a deep network."))
        return
    plan = training.plan(settings, alongside=(replace(settings, num_layers=1),))
    if not layout.said(plan):
        return
    specs = (training.plain(plan.spec), plan.spec)
    s = plan.spec
    st.caption(
        _(
            "Task {task} (T = {T}), {optimizer}, lr {lr}, {schedule} schedule, {updates} updates "
            "of batch {batch}, seed {seed}: change them on the Training page."
        ).format(
            task=_(TASK_NAMES.get(s.task, s.task)),
            T=s.length,
            optimizer=s.optimizer,
            lr=f"{s.lr:g}",
            schedule=s.schedule,
            updates=s.updates,
            batch=s.batch_size,
            seed=s.seed,
        )  # fmt: skip
    )
    labels = [_("Training L = {L}").format(L=spec.config.num_layers) for spec in specs]
    histories = training.trained_on_click(
        specs,
        labels,
        _("Train L = 1 and L = {L}").format(L=L),
        "train_compare",
        _("Press the button to train both"),
        measure_peak=True,
    )
    if histories is None:
        return
    p, d = (measured(h, training.peak_bytes(spec)) for h, spec in zip(histories, specs))
    rows = [
        (_("Training loss (median of the last tenth of updates)"), "train", "{:.4g}"),
        (_("Validation loss (after the last update)"), "val", "{:.4g}"),
        (_("Train-validation gap (validation − training)"), "gap", "{:+.3g}"),
        (_("Time per update (History.wall_time, validation included)"), "per_update",
         _("{:.4f} s")),
        (_("Peak memory, MB: numpy arrays (tracemalloc, 2 updates + validation)"), "peak",
         "{:.3g}"),
    ]  # fmt: skip
    table = pd.DataFrame(
        [[fmt.format(p[k] / 2**20 if k == "peak" else p[k]),
          fmt.format(d[k] / 2**20 if k == "peak" else d[k])] for _n, k, fmt in rows],
        index=[name for name, _k, _f in rows],
        columns=[_("plain RNN (L = 1)"), _("deep RNN (L = {L})").format(L=L)],
    )  # fmt: skip
    st.table(table)
    baseline = histories[0].baseline
    if baseline is not None:
        st.caption(
            _("The task's baseline (trivial predictor): {baseline}.").format(
                baseline=f"{baseline:.4g}"
            )
        )
    short = too_short(s.updates, s.batch_size, s.length)
    if short:
        st.info(
            _(
                "No verdict on learning: {reason}. The numbers above are measured all the same; "
                "the tutorial's claims about training need a longer run (raise the updates, "
                "batch or T on the Training page, or lower L, h or T so the budget keeps them)."
            ).format(reason=short),
            icon=":material/info:",
        )
    judged = verdicts(p, d, L, baseline, short)
    shown = [(c, m, _(VERDICTS[v]) if v in VERDICTS else v) for c, m, v in judged]
    columns = [_("the tutorial says"), _("measured here"), _("verdict")]
    claims = pd.DataFrame(shown, columns=columns)
    st.table(claims.set_index(columns[0]))
    disagree = [c for c, _m, v in judged if v == "disagrees"]
    if disagree:
        st.markdown(
            _(
                "**Where this measurement disagrees with the tutorial:** {claims}. One task, one "
                "seed, {updates} updates: change them to see whether it holds."
            ).format(claims="; ".join(disagree), updates=s.updates)
        )
