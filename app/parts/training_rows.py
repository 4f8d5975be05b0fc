"""Plain vs deep, measured in training: a small study (deeprnn_core.study: L = 1 and the
current L, each at three learning rates around the Training page's, over a few seeds) next to
the tutorial's (d2l) claims about training.

A section of the Plain vs deep page (views/plain_vs_deep.py calls ``draw``). Each verdict is read
off the study's table by deeprnn_core.study.measures (plain_vs_deep's bootstrap interval, the
window of good learning rates), never off one run; where it disagrees with the tutorial, it says
so. The study runs in the server's background (app.runs.studies), shared by every session.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from app.parts import layout, study_progress
from app.runs import studies, training
from app.words.i18n import N_
from app.words.i18n import gettext as _
from app.words.training import TASK_NAMES
from deeprnn_core.analysis import measures as core_measures
from deeprnn_core.config import DROPOUT_RULE
from deeprnn_core.study import IN_PROCESS, measures, scheduler_address

TEMPLATE = N_(  # {rule}: the core's dropout rule (a catalog message: app/words/catalog.py)
    "The tutorial (*Dive into Deep Learning*, section Deep Recurrent Neural Networks) says "
    "a deep RNN is harder to train, overfits more (more parameters), costs more "
    "time and memory, and does better on complex tasks. One run of each depth cannot tell: its "
    "verdict can flip with the seed or the learning rate. Here a small **study** trains both "
    "networks on the Training page's task, optimizer, schedule, updates and batch size, at the "
    "page's learning rate and at that rate divided and multiplied by √10, over several seeds; "
    "each depth is judged at its own best learning rate. Every layer has the first layer's cell "
    "and activation, and there is no dropout ({rule})."
)
EXPLAIN = TEMPLATE.replace("{rule}", DROPOUT_RULE)  # in English


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
    return _("these runs have {reasons}").format(reasons=_(", ").join(short)) if short else ""


def study_verdicts(
    table,
    cell: str,
    L: int,
    per_update: tuple[float, float],
    peak: tuple[float, float],
    short: str = "",
) -> list[tuple[str, str, str]]:
    """(the tutorial's claim, what the study measured, verdict) for each claim, read off the
    study's ``table`` by deeprnn_core.study.measures. "Harder to train": the window of good
    learning rates (measures.good_window) against L, by measures.window_trend; "better on
    complex tasks": measures.plain_vs_deep (agrees / disagrees / not distinguishable at these
    seeds, with its bootstrap interval). The claims about learning get "no verdict" with the
    reason when the runs are ``short`` (too_short's reason) or neither depth learned the task;
    time (medians of the study's trials, ``per_update`` plain and deep) and memory (``peak``)
    are measured either way."""
    windows = measures.good_window(table[table["cell"] == cell])
    lrs = np.sort(table["lr"].unique())
    spacing = float(np.median(np.diff(np.log10(lrs)))) if len(lrs) > 1 else 1.0
    trend = measures.window_trend(windows, cell, spacing)
    widths = _(", ").join(
        f"L = {w.depth}: {w.width:.2f}" if np.isfinite(w.width) else
        _("L = {L}: none").format(L=w.depth)
        for w in windows.itertuples()
    )  # fmt: skip
    tune = {
        measures.NARROWS: "agrees",
        measures.WIDENS: "disagrees",
        measures.NO_CLEAR_CHANGE: "no clear difference",
        measures.NOT_LEARNED: no_verdict(_("a depth learned the task at no learning rate")),
    }
    v = measures.plain_vs_deep(table, cell, L)
    base = table["baseline"].dropna()
    baseline = float(base.iloc[0]) if len(base) else None
    learned = ""
    if baseline and all(core_measures.learned(m, baseline) is False
                        for m in (v.plain_median, v.deep_median)):  # fmt: skip
        learned = _(
            "; neither median ended below {times} times the baseline {baseline}: neither "
            "learned the task"
        ).format(times=f"{core_measures.LEARNED:g}", baseline=f"{baseline:.4g}")
        short = short or _("neither depth learned the task, so their losses compare two failures")
    costlier = per_update[1] > per_update[0] and peak[1] > peak[0]
    better = {
        -1: _(
            "median validation loss {deep} at L = {L} (lr {deep_lr}), lower than {plain} at "
            "L = 1 (lr {plain_lr}); bootstrap 95 % interval of deep - plain [{low}, {high}] "
            "over {seeds} seeds{learned}"
        ),
        0: _(
            "median validation loss {deep} at L = {L} (lr {deep_lr}), equal to {plain} at "
            "L = 1 (lr {plain_lr}); bootstrap 95 % interval of deep - plain [{low}, {high}] "
            "over {seeds} seeds{learned}"
        ),
        1: _(
            "median validation loss {deep} at L = {L} (lr {deep_lr}), higher than {plain} at "
            "L = 1 (lr {plain_lr}); bootstrap 95 % interval of deep - plain [{low}, {high}] "
            "over {seeds} seeds{learned}"
        ),
    }[int(np.sign(v.difference))].format(
        deep=f"{v.deep_median:.4g}", L=L, deep_lr=f"{v.deep_lr:.3g}",
        plain=f"{v.plain_median:.4g}", plain_lr=f"{v.plain_lr:.3g}", low=f"{v.low:.3g}",
        high=f"{v.high:.3g}", seeds=v.seeds, learned=learned,
    )  # fmt: skip
    costlier = per_update[1] > per_update[0] and peak[1] > peak[0]
    timing = _("Training time and memory grow with L")
    overfit = _("More parameters overfit more")
    rows = [
        (_("Training is harder"),
         _("window of good learning rates (median within {tolerance} % of the depth's best), in "
           "decades: {widths}; grid step {spacing} decades").format(
             tolerance=f"{100 * measures.TOLERANCE:.0f}", widths=widths,
             spacing=f"{spacing:.2f}"),
         tune[trend]),
        (overfit,
         _("a study keeps each run's validation loss, not its training loss: the gap is not "
           "measured over seeds"), no_verdict(_("not measured by the study"))),
        (timing,
         _("{time}x the time per update (median over the study's runs) and {memory}x the peak "
           "memory of L = 1").format(time=f"{per_update[1] / per_update[0]:.2f}",
                                     memory=f"{peak[1] / peak[0]:.2f}"),
         "agrees" if costlier else "disagrees"),
        (_("Better on complex tasks"), better, v.verdict),
    ]  # fmt: skip
    if not short:
        return rows
    return [(claim, measured_, verdict if claim in (timing, overfit) else no_verdict(short))
            for claim, measured_, verdict in rows]  # fmt: skip


def no_verdict(reason: str) -> str:
    return _("no verdict: {reason}").format(reason=reason)


# the verdict words (English in the code, which compares them), shown in the run's language
VERDICTS = {
    "agrees": N_("agrees"),
    "disagrees": N_("disagrees"),
    "no clear difference": N_("no clear difference"),
    "not distinguishable at these seeds": N_("not distinguishable at these seeds"),
}


def per_update_seconds(table, depth: int) -> float:
    """Median over the study's runs at ``depth`` of wall time per update."""
    at = table[table["depth"] == depth]
    return float(np.median(at["wall_time"].to_numpy(float) / np.maximum(1, at["steps_done"])))


def spread_table(table) -> pd.DataFrame:
    """The seed spread (median and inter-quartile range) of every (depth, lr) of the study."""
    spread = measures.seed_spread(table).sort_values(["depth", "lr"])
    return pd.DataFrame(
        [[f"{r.median:.4g}", f"{r.iqr:.3g}", f"{r.n}"] for r in spread.itertuples()],
        index=[f"L = {r.depth}, lr {r.lr:.3g}" for r in spread.itertuples()],
        columns=[_("median validation loss"), _("inter-quartile range"), _("seeds")],
    )


@layout.guarded
def draw(settings) -> None:
    """The section: a button that starts the study, its progress, then the seed spread and
    the verdicts read off its table."""
    st.subheader(_("Training, measured: plain (L = 1) vs deep"))
    st.markdown(_(TEMPLATE).replace("{rule}", _(DROPOUT_RULE)))
    L = settings.num_layers
    if L == 1:
        st.info(_("Set the depth L above 1 in the sidebar to compare L = 1 with a deep network."))
        return
    plan = training.plan(settings, alongside=(replace(settings, num_layers=1),))
    if not layout.said(plan):
        return
    s = plan.spec
    workers = os.cpu_count() or 1
    spec, seconds = studies.fit_plain_deep(s, workers)
    where = scheduler_address(studies.SCHEDULER) or _(
        "the embedded cluster ({workers} workers)"
    ).format(workers=workers)
    if where == IN_PROCESS:
        where = _("this process (no Dask)")
    if spec is None:
        st.info(
            _(
                "A study of L = 1 and L = {L} at {seeds} seeds is priced at about {seconds} s on "
                "{where}, over the {budget} s budget: lower the updates on the Training page, or "
                "L, h or T in the sidebar."
            ).format(
                L=L,
                seeds=studies.MIN_SEEDS,
                seconds=f"{seconds:.0f}",
                where=where,
                budget=f"{studies.STUDY_SECONDS:g}",
            ),  # fmt: skip
            icon=":material/info:",
        )
        return
    seeds = ", ".join(map(str, spec.seeds))
    st.caption(
        _(
            "Task {task} (T = {T}), {optimizer}, learning rates {lrs}, {schedule} schedule, "
            "{updates} updates of batch {batch}, seeds {seeds}: {runs} runs, priced by the cost "
            "model at about {seconds} s on {where}. Change them on the Training page."
        ).format(
            task=_(TASK_NAMES.get(s.task, s.task)),
            T=s.length,
            optimizer=s.optimizer,
            lrs=", ".join(f"{lr:g}" for lr in spec.lrs),
            schedule=s.schedule,
            updates=s.updates,
            batch=s.batch_size,
            seeds=seeds,
            runs=spec.size,
            seconds=max(1, math.ceil(seconds)),
            where=where,
        )  # fmt: skip
    )
    job = studies.job_of(spec)
    running = job is not None and job.running
    result = job.result if job is not None and job.result is not None else studies.stored(spec)
    complete = result is not None and result.complete
    label = _("Run the study: L = 1 and L = {L}").format(L=L)
    if st.button(label, key="train_compare", type="primary", disabled=running or complete):
        job, running = studies.start(spec), True
    if job is not None and job.error:
        st.error(_("The study stopped: {error}").format(error=job.error))
    if running:
        study_progress.show(spec, "runs")
        return
    if not complete:
        text = _(
            "Press the button to run the study: it runs in the background, shared by every "
            "session, and opens from the database next time."
        )
        if result is not None:
            text += " " + _("{stored} of {runs} runs are stored.").format(
                stored=len(result.table), runs=spec.size
            )
        st.info(text)
        return
    table = result.table
    st.table(spread_table(table))
    base = table["baseline"].dropna()
    if len(base):
        st.caption(
            _("The task's baseline (trivial predictor): {baseline}.").format(
                baseline=f"{float(base.iloc[0]):.4g}"
            )
        )
    short = too_short(s.updates, s.batch_size, s.length)
    if short:
        st.info(
            _(
                "No verdict on learning: {reason}. The numbers above are measured all the same; "
                "the tutorial's claims about training need longer runs (raise the updates, "
                "batch or T on the Training page, or lower L, h or T so the budget keeps them)."
            ).format(reason=short),
            icon=":material/info:",
        )
    per_update = (per_update_seconds(table, 1), per_update_seconds(table, L))
    peak = tuple(float(training.peak_bytes(x)) for x in (training.plain(s), s))
    judged = study_verdicts(table, spec.cells[0], L, per_update, peak, short)
    shown = [(c, m, _(VERDICTS[v]) if v in VERDICTS else v) for c, m, v in judged]
    columns = [_("the tutorial says"), _("measured here"), _("verdict")]
    claims = pd.DataFrame(shown, columns=columns)
    st.table(claims.set_index(columns[0]))
    disagree = [c for c, _m, v in judged if v == "disagrees"]
    if disagree:
        st.markdown(
            _(
                "**Where this study disagrees with the tutorial:** {claims}. One task, {seeds} "
                "seeds, {updates} updates: change them to see whether it holds."
            ).format(claims="; ".join(disagree), seeds=len(spec.seeds), updates=s.updates)
        )
