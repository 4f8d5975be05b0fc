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
from app.words.i18n import gettext as _
from app.words.training import window
from deeprnn_core.analysis import measures
from deeprnn_core.config import DROPOUT_RULE

EXPLAIN = (
    "The tutorial (*Dive into Deep Learning*, section Deep Recurrent Neural Networks) says "
    "a deep RNN is harder to train, overfits more (more parameters), costs more "
    "time and memory, and does better on complex tasks. Here both networks are trained on the "
    "Training page's task, optimizer, learning rate, schedule, updates and batch size, on the "
    "same minibatches and seed; the plain one has the first layer's cell and activation and "
    f"no dropout ({DROPOUT_RULE})."
)


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
    short = [f"{name} {now} (a verdict needs at least {least})" for name, now, least in (
        ("updates", updates, MIN_UPDATES), ("batch", batch, MIN_BATCH),
        ("T", length, MIN_LENGTH)) if now < least]  # fmt: skip
    return "this run has " + ", ".join(short) if short else ""


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

    def word(sign: int, less: str, more: str) -> str:
        return {-1: less, 0: "within 2 % of", 1: more}[sign]

    harder, overfit = order(d["train"], p["train"]), order(d["gap"], p["gap"])
    better = order(d["val"], p["val"])
    costlier = d["per_update"] > p["per_update"] and d["peak"] > p["peak"]
    learned = ""
    if baseline and all(measures.learned(v, baseline) is False for v in (p["val"], d["val"])):
        learned = (
            f"; neither ended below {measures.LEARNED:g} times the baseline {baseline:.4g}: "
            "neither learned the task"
        )
        short = short or "neither run learned the task, so their losses compare two failures"
    rows = [
        ("Training is harder",
         f"L = {L} ended at a training loss {word(harder, 'below', 'above')} L = 1's "
         f"({d['train']:.4g} vs {p['train']:.4g})", says(harder, 1)),
        ("More parameters overfit more",
         f"the train-validation gap is {d['gap']:.3g} at L = {L}, "
         f"{word(overfit, 'smaller than', 'larger than')} {p['gap']:.3g} at L = 1",
         says(overfit, 1)),
        ("Training time and memory grow with L",
         f"{d['per_update'] / p['per_update']:.2f}x the time per update and "
         f"{d['peak'] / p['peak']:.2f}x the peak memory of L = 1",
         "agrees" if costlier else "disagrees"),
        ("Better on complex tasks",
         f"validation loss {d['val']:.4g} at L = {L}, {word(better, 'below', 'above')} "
         f"{p['val']:.4g} at L = 1 on this task{learned}", says(better, -1)),
    ]  # fmt: skip
    if not short:
        return rows
    timing = rows[2][0]
    return [(claim, measured_, verdict if claim == timing else f"no verdict: {short}")
            for claim, measured_, verdict in rows]  # fmt: skip


@layout.guarded
def draw(settings) -> None:
    """The section: a button that trains both, then the measured rows and the verdicts."""
    st.subheader(_("Training, measured: plain (L = 1) vs deep"))
    st.markdown(EXPLAIN)
    L = settings.num_layers
    if L == 1:
        st.info("Set the depth L above 1 in the sidebar to compare L = 1 with a deep network.")
        return
    plan = training.plan(settings, alongside=(replace(settings, num_layers=1),))
    if not layout.said(plan):
        return
    specs = (training.plain(plan.spec), plan.spec)
    s = plan.spec
    st.caption(
        f"Task {s.task} (T = {s.length}), {s.optimizer}, lr {s.lr:g}, {s.schedule} schedule, "
        f"{s.updates} updates of batch {s.batch_size}, seed {s.seed}: change them on the "
        "Training page."
    )
    labels = [f"Training L = {spec.config.num_layers}" for spec in specs]
    histories = training.trained_on_click(
        specs,
        labels,
        f"Train L = 1 and L = {L}",
        "train_compare",
        "Press the button to train both",
        measure_peak=True,
    )
    if histories is None:
        return
    p, d = (measured(h, training.peak_bytes(spec)) for h, spec in zip(histories, specs))
    rows = [
        ("Training loss (median of the last tenth of updates)", "train", "{:.4g}"),
        ("Validation loss (after the last update)", "val", "{:.4g}"),
        ("Train-validation gap (validation − training)", "gap", "{:+.3g}"),
        ("Time per update (History.wall_time, validation included)", "per_update", "{:.4f} s"),
        ("Peak memory, MB: numpy arrays (tracemalloc, 2 updates + validation)", "peak", "{:.3g}"),
    ]
    table = pd.DataFrame(
        [[fmt.format(p[k] / 2**20 if k == "peak" else p[k]),
          fmt.format(d[k] / 2**20 if k == "peak" else d[k])] for _, k, fmt in rows],
        index=[name for name, _, _ in rows],
        columns=["plain RNN (L = 1)", f"deep RNN (L = {L})"],
    )  # fmt: skip
    st.table(table)
    baseline = histories[0].baseline
    if baseline is not None:
        st.caption(f"The task's baseline (trivial predictor): {baseline:.4g}.")
    short = too_short(s.updates, s.batch_size, s.length)
    if short:
        st.info(
            f"No verdict on learning: {short}. The numbers above are measured all the same; "
            "the tutorial's claims about training need a longer run (raise the updates, batch "
            "or T on the Training page, or lower L, h or T so the budget keeps them).",
            icon=":material/info:",
        )
    judged = verdicts(p, d, L, baseline, short)
    claims = pd.DataFrame(judged, columns=["the tutorial says", "measured here", "verdict"])
    st.table(claims.set_index("the tutorial says"))
    disagree = [c for c, _, v in judged if v == "disagrees"]
    if disagree:
        st.markdown(
            "**Where this measurement disagrees with the tutorial:** "
            + "; ".join(disagree)
            + f". One task, one seed, {s.updates} updates: change them to see whether it holds."
        )
