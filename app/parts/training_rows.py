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

from app.parts import layout
from app.runs import studies, training
from app.words.i18n import gettext as _
from deeprnn_core.analysis import measures as core_measures
from deeprnn_core.config import DROPOUT_RULE
from deeprnn_core.study import measures, scheduler_address

EXPLAIN = (
    "The tutorial (*Dive into Deep Learning*, section Deep Recurrent Neural Networks) says "
    "a deep RNN is harder to train, overfits more (more parameters), costs more "
    "time and memory, and does better on complex tasks. One run of each depth cannot tell: its "
    "verdict can flip with the seed or the learning rate. Here a small **study** trains both "
    "networks on the Training page's task, optimizer, schedule, updates and batch size, at the "
    "page's learning rate and at that rate divided and multiplied by √10, over several seeds; "
    "each depth is judged at its own best learning rate. Every layer has the first layer's cell "
    f"and activation, and there is no dropout ({DROPOUT_RULE})."
)


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
    short = [f"{name} {now} (a verdict needs at least {least})" for name, now, least in (
        ("updates", updates, MIN_UPDATES), ("batch", batch, MIN_BATCH),
        ("T", length, MIN_LENGTH)) if now < least]  # fmt: skip
    return "these runs have " + ", ".join(short) if short else ""


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
    widths = ", ".join(
        f"L = {w.depth}: {w.width:.2f}" if np.isfinite(w.width) else f"L = {w.depth}: none"
        for w in windows.itertuples()
    )
    tune = {
        measures.NARROWS: "agrees",
        measures.WIDENS: "disagrees",
        measures.NO_CLEAR_CHANGE: "no clear difference",
        measures.NOT_LEARNED: "no verdict: a depth learned the task at no learning rate",
    }
    v = measures.plain_vs_deep(table, cell, L)
    base = table["baseline"].dropna()
    baseline = float(base.iloc[0]) if len(base) else None
    learned = ""
    if baseline and all(core_measures.learned(m, baseline) is False
                        for m in (v.plain_median, v.deep_median)):  # fmt: skip
        learned = (f"; neither median ended below {core_measures.LEARNED:g} times the "
                   f"baseline {baseline:.4g}: neither learned the task")  # fmt: skip
        short = short or "neither depth learned the task, so their losses compare two failures"
    better = "lower" if v.difference < 0 else "higher" if v.difference > 0 else "equal"
    costlier = per_update[1] > per_update[0] and peak[1] > peak[0]
    rows = [
        ("Training is harder",
         f"window of good learning rates (median within {100 * measures.TOLERANCE:.0f} % of "
         f"the depth's best), in decades: {widths}; grid step {spacing:.2f} decades",
         tune[trend]),
        ("More parameters overfit more",
         "a study keeps each run's validation loss, not its training loss: the gap is not "
         "measured over seeds", "no verdict: not measured by the study"),
        ("Training time and memory grow with L",
         f"{per_update[1] / per_update[0]:.2f}x the time per update (median over the study's "
         f"runs) and {peak[1] / peak[0]:.2f}x the peak memory of L = 1",
         "agrees" if costlier else "disagrees"),
        ("Better on complex tasks",
         f"median validation loss {v.deep_median:.4g} at L = {L} (lr {v.deep_lr:.3g}), "
         f"{better} than {v.plain_median:.4g} at L = 1 (lr {v.plain_lr:.3g}); bootstrap 95 % "
         f"interval of deep - plain [{v.low:.3g}, {v.high:.3g}] over {v.seeds} seeds{learned}",
         v.verdict),
    ]  # fmt: skip
    if not short:
        return rows
    keep = ("Training time and memory grow with L", "More parameters overfit more")
    return [(claim, measured_, verdict if claim in keep else f"no verdict: {short}")
            for claim, measured_, verdict in rows]  # fmt: skip


def per_update_seconds(table, depth: int) -> float:
    """Median over the study's runs at ``depth`` of wall time per update."""
    at = table[table["depth"] == depth]
    return float(np.median(at["wall_time"].to_numpy(float) / np.maximum(1, at["steps_done"])))


def progress(spec) -> None:
    """Live progress of the running study (redrawn every second, alone)."""

    @st.fragment(run_every=1.0)
    def box() -> None:
        job = studies.job_of(spec)
        if job is None or not job.running:
            st.rerun()  # finished: draw the section with the results
            return
        st.progress(job.done / job.total, text=f"{job.done} of {job.total} runs")
        best = "none yet" if job.best is None else f"{job.best:.4g}"
        eta = "" if job.eta is None else f", about {job.eta:.0f} s left"
        st.caption(f"Best final validation loss so far: {best}{eta}.")

    box()


def spread_table(table) -> pd.DataFrame:
    """The seed spread (median and inter-quartile range) of every (depth, lr) of the study."""
    spread = measures.seed_spread(table).sort_values(["depth", "lr"])
    return pd.DataFrame(
        [[f"{r.median:.4g}", f"{r.iqr:.3g}", f"{r.n}"] for r in spread.itertuples()],
        index=[f"L = {r.depth}, lr {r.lr:.3g}" for r in spread.itertuples()],
        columns=["median validation loss", "inter-quartile range", "seeds"],
    )


@layout.guarded
def draw(settings) -> None:
    """The section: a button that starts the study, its progress, then the seed spread and
    the verdicts read off its table."""
    st.subheader(_("Training, measured: plain (L = 1) vs deep"))
    st.markdown(EXPLAIN)
    L = settings.num_layers
    if L == 1:
        st.info("Set the depth L above 1 in the sidebar to compare L = 1 with a deep network.")
        return
    plan = training.plan(settings, alongside=(replace(settings, num_layers=1),))
    if not layout.said(plan):
        return
    s = plan.spec
    workers = os.cpu_count() or 1
    spec, seconds = studies.fit_plain_deep(s, workers)
    where = scheduler_address(studies.SCHEDULER) or f"the embedded cluster ({workers} workers)"
    if spec is None:
        st.info(
            f"A study of L = 1 and L = {L} at {studies.MIN_SEEDS} seeds is priced at about "
            f"{seconds:.0f} s on {where}, over the {studies.STUDY_SECONDS:g} s budget: lower "
            "the updates on the Training page, or L, h or T in the sidebar.",
            icon=":material/info:",
        )
        return
    seeds = ", ".join(map(str, spec.seeds))
    st.caption(
        f"Task {s.task} (T = {s.length}), {s.optimizer}, learning rates "
        f"{', '.join(f'{lr:g}' for lr in spec.lrs)}, {s.schedule} schedule, {s.updates} updates "
        f"of batch {s.batch_size}, seeds {seeds}: {spec.size} runs, priced by the cost model at "
        f"about {max(1, math.ceil(seconds))} s on {where}. Change them on the Training page."
    )
    job = studies.job_of(spec)
    running = job is not None and job.running
    result = job.result if job is not None and job.result is not None else studies.stored(spec)
    complete = result is not None and result.complete
    if st.button(f"Run the study: L = 1 and L = {L}", key="train_compare", type="primary",
                 disabled=running or complete):  # fmt: skip
        job, running = studies.start(spec), True
    if job is not None and job.error:
        st.error(f"The study stopped: {job.error}")
    if running:
        progress(spec)
        return
    if not complete:
        done = "" if result is None else f" ({len(result.table)} of {spec.size} runs stored)"
        st.info(f"Press the button to run the study{done}: it runs in the background, shared "
                "by every session, and opens from the database next time.")  # fmt: skip
        return
    table = result.table
    st.table(spread_table(table))
    base = table["baseline"].dropna()
    if len(base):
        st.caption(f"The task's baseline (trivial predictor): {float(base.iloc[0]):.4g}.")
    short = too_short(s.updates, s.batch_size, s.length)
    if short:
        st.info(
            f"No verdict on learning: {short}. The numbers above are measured all the same; "
            "the tutorial's claims about training need longer runs (raise the updates, batch "
            "or T on the Training page, or lower L, h or T so the budget keeps them).",
            icon=":material/info:",
        )
    per_update = (per_update_seconds(table, 1), per_update_seconds(table, L))
    peak = tuple(float(training.peak_bytes(x)) for x in (training.plain(s), s))
    judged = study_verdicts(table, spec.cells[0], L, per_update, peak, short)
    claims = pd.DataFrame(judged, columns=["the tutorial says", "measured here", "verdict"])
    st.table(claims.set_index("the tutorial says"))
    disagree = [c for c, _, v in judged if v == "disagrees"]
    if disagree:
        st.markdown(
            "**Where this study disagrees with the tutorial:** " + "; ".join(disagree)
            + f". One task, {len(spec.seeds)} seeds, {s.updates} updates: change them to see "
            "whether it holds."
        )  # fmt: skip
