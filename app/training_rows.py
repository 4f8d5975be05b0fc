"""Plain vs deep, measured in training: L = 1 and the current L trained on the same task,
updates, batches and seed (deeprnn_core.train), next to the seed's claims about training.

A section of the Plain vs deep page (views/compare.py calls ``draw``). Each verdict is read
off the two runs' numbers; where the measurement disagrees with the seed, it says so.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app import compute, layout, training
from app.training_words import window

EXPLAIN = (
    "The seed says a deep RNN is harder to train, overfits more (more parameters), costs more "
    "time and memory, and does better on complex tasks. Here both networks are trained on the "
    "Training page's task, optimizer, learning rate, schedule, updates and batch size, on the "
    "same minibatches and seed; the plain one has the first layer's cell and activation and "
    "no dropout (dropout acts between layers)."
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


def verdicts(p: dict, d: dict, L: int) -> list[tuple[str, str, str]]:
    """(the seed's claim, what was measured, agrees / disagrees) for each claim."""

    def says(ok: bool) -> str:
        return "agrees" if ok else "disagrees"

    def word(a: float, b: float, less: str, more: str) -> str:
        return less if a < b else more if a > b else "the same as"

    harder = d["train"] > p["train"]
    overfit = d["gap"] > p["gap"]
    cost = d["per_update"] > p["per_update"] and d["peak"] > p["peak"]
    better = d["val"] < p["val"]
    return [
        ("Training is harder",
         f"L = {L} ended at a training loss {word(d['train'], p['train'], 'below', 'above')} "
         f"L = 1's ({d['train']:.4g} vs {p['train']:.4g})", says(harder)),
        ("More parameters overfit more",
         f"the train-validation gap is {d['gap']:.3g} at L = {L} vs {p['gap']:.3g} at L = 1 "
         f"({word(d['gap'], p['gap'], 'smaller', 'larger')})", says(overfit)),
        ("Training time and memory grow with L",
         f"{d['per_update'] / p['per_update']:.2f}x the time per update and "
         f"{d['peak'] / p['peak']:.2f}x the peak memory of L = 1", says(cost)),
        ("Better on complex tasks",
         f"validation loss {d['val']:.4g} at L = {L} vs {p['val']:.4g} at L = 1 "
         f"({word(d['val'], p['val'], 'lower', 'higher')}) on this task", says(better)),
    ]  # fmt: skip


def train_both(specs, bar) -> None:
    """Train the runs of ``specs`` not cached yet, one progress bar over all of them."""
    for i, spec in enumerate(specs):
        label = f"Training L = {spec.config.num_layers}"

        def progress(p, i=i, label=label) -> None:
            if p.step % max(1, p.steps // 50) == 0 or p.step == p.steps:
                bar.progress((i + p.step / p.steps) / len(specs), text=f"{label}: {p.step}")

        training.run(spec, progress)
        training.peak_bytes(spec)


@layout.guarded
def draw(settings) -> None:
    """The section: a button that trains both, then the measured rows and the verdicts."""
    st.subheader("Training, measured: plain (L = 1) vs deep")
    st.markdown(EXPLAIN)
    L = settings.num_layers
    if L == 1:
        st.info("Set the depth L above 1 in the sidebar to compare L = 1 with a deep network.")
        return
    plan = training.plan(settings, alongside=(replace(settings, num_layers=1),))
    for notice in plan.notices:
        st.info(notice, icon=":material/info:")
    if plan.error:
        st.error(f"The core refused these settings: {plan.error}")
        return
    specs = (training.plain(plan.spec), plan.spec)
    s = plan.spec
    st.caption(
        f"Task {s.task} (T = {s.length}), {s.optimizer}, lr {s.lr:g}, {s.schedule} schedule, "
        f"{s.updates} updates of batch {s.batch_size}, seed {s.seed}: change them on the "
        "Training page."
    )
    ready = all(training.cached(spec) for spec in specs)
    clicked = st.button(f"Train L = 1 and L = {L}", key="train_compare", type="primary")
    if not ready and clicked:
        bar = st.progress(0.0, text="Training")
        try:
            train_both(specs, bar)
        except compute.CORE_ERRORS as err:
            st.error(f"The core could not train these settings: {err}")
            return
        bar.empty()
    histories = [training.cached(spec) for spec in specs]
    if not all(histories):
        seconds = sum(training.estimate_seconds(spec) for spec in specs)
        st.info(f"Press the button to train both (about {seconds:.0f} s estimated).")
        return
    p, d = (measured(h, training.peak_bytes(spec)) for h, spec in zip(histories, specs))
    rows = [
        ("Training loss (median of the last tenth of updates)", "train", "{:.4g}"),
        ("Validation loss (after the last update)", "val", "{:.4g}"),
        ("Train-validation gap (validation − training)", "gap", "{:+.3g}"),
        ("Time per update (History.wall_time, validation included)", "per_update", "{:.4f} s"),
        ("Peak memory of numpy arrays (tracemalloc, 2 updates + validation)", "peak", "{:.3g}"),
    ]
    table = pd.DataFrame(
        [[fmt.format(p[k] / 2**20 if k == "peak" else p[k]),
          fmt.format(d[k] / 2**20 if k == "peak" else d[k])] for _, k, fmt in rows],
        index=[name + (" MB" if k == "peak" else "") for name, k, _ in rows],
        columns=["plain RNN (L = 1)", f"deep RNN (L = {L})"],
    )  # fmt: skip
    st.table(table)
    baseline = histories[0].baseline
    if baseline is not None:
        st.caption(f"The task's baseline (trivial predictor): {baseline:.4g}.")
    claims = pd.DataFrame(verdicts(p, d, L), columns=["the seed", "measured here", "verdict"])
    st.table(claims.set_index("the seed"))
    disagree = [c for c, _, v in verdicts(p, d, L) if "disagrees" in v]
    if disagree:
        st.markdown(
            "**Where this measurement disagrees with the seed:** "
            + "; ".join(disagree)
            + f". One task, one seed, {s.updates} updates: change them to see whether it holds."
        )
