"""A/B in training: both sides (the A/B page's overrides, plus a schedule per side) trained on
the Training page's task and optimizer, on the same minibatches: same seed, task, batch size
and updates, so deeprnn_core.training.loop draws the same sequence of minibatch indices for both.

A section of the A/B page (views/ab_compare.py calls ``draw``).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app.figures import training as fig
from app.parts import layout
from app.runs import training
from app.settings import ab_sides, state
from app.settings.controls import SAME
from app.words import core_text
from app.words.i18n import N_
from app.words.i18n import gettext as _
from app.words.training import TASK_NAMES, window
from deeprnn_core.analysis.measures import LEARNED, clear_change, learned

# name -> ((overrides of A, overrides of B), schedules of (A, B), sidebar and training settings
# it sets). As on the rest of the page, B is the sidebar's settings (no overrides) and A is B
# with the preset's fields changed; a preset sets the sidebar values B needs.
# The first two follow bench/demo_training.py's measured demonstration (T, lr, clipping),
# shortened to stay within the training budget (a 2-layer LSTM learned adding at T = 25 by
# update ~320 when measured here, seed 0).
PRESETS = {
    N_("LSTM vs tanh RNN on adding"): (ab_sides.PRESETS["LSTM"], (SAME, SAME),
                                   {"task": "adding", "num_layers": 2, "steps": 25,
                                    "train_steps": 400, "learning_rate": "0.01",
                                    "clip_norm": 1.0, "cell": "rnn", "activation": "tanh"}),
    N_("LSTM vs LRU on adding at T = 100"): (({"cell": "lstm"}, {"cell": "lru"}), (SAME, SAME),
                                         {"task": "adding", "num_layers": 2, "steps": 100,
                                          "train_steps": 300, "learning_rate": "0.01",
                                          "clip_norm": 1.0, "activation": "tanh"}),
    N_("dropout on vs off on sunspots"): (
        ({"dropout": 0.25}, {}), (SAME, SAME),
        {"task": "sunspots", "steps": 20, "train_steps": 800, "learning_rate": "0.003",
         "dropout": 0.0}),
    N_("clipping on vs off at SGD lr 0.3"): (({"clip_norm": 1.0}, {}), (SAME, SAME),
                                         {"optimizer": "sgd", "learning_rate": "0.3"}),
    N_("cosine vs constant schedule"): (({}, {}), ("cosine", SAME), {"schedule": "constant"}),
}  # fmt: skip
# what every preset sets unless it names another value, so that a preset gives the same run
# whichever was clicked before it
PRESET_BASE = {
    "optimizer": "adam",
    "learning_rate": "0.01",
    "clip_norm": 0.0,
    "train_steps": 300,
    "schedule": "constant",
}


def apply_preset(name: str) -> None:
    """Button callback: every override of both sides, their schedules and the training
    settings the preset names."""
    overrides, schedules, settings = PRESETS[name]
    for side, chosen, schedule in zip(ab_sides.SIDES, overrides, schedules):
        for field in ab_sides.FIELDS:
            state.put(ab_sides.key(side, field), chosen.get(field, SAME))
        state.put(f"{side}_schedule", schedule)
    for key, value in (PRESET_BASE | settings).items():
        state.put(key, value)


def side_settings(settings, side: str):
    """The Settings ``side`` trains: the A/B overrides, then its schedule override."""
    schedule = getattr(settings, f"{side}_schedule")
    s = ab_sides.side_settings(settings, side)
    return s if schedule == SAME else replace(s, schedule=schedule)


def side_label(settings, side: str) -> str:
    schedule = getattr(settings, f"{side}_schedule")
    label = ab_sides.label(settings, side)
    if schedule != SAME:
        label = (
            _("{schedule} schedule").format(schedule=schedule)
            if label == _("your settings")
            else _("{label}, {schedule}").format(label=label, schedule=schedule)
        )
    return f"{side.upper()}: {label}"


def row(h, spec) -> list[str]:
    """One side's final numbers, as the table shows them."""
    train = float(window(h.loss, True))
    val = float(h.val_loss[-1]) if len(h.val_loss) else float("nan")
    clipped = int((h.param_grad_norm_clipped < h.param_grad_norm).sum())
    per = float(h.wall_time[-1]) / max(1, h.steps)
    return [f"{train:.4g}", f"{val:.4g}", f"{val - train:+.3g}",
            _("{clipped} of {steps}").format(clipped=clipped, steps=h.steps),
            f"{per * 1e3:.1f} ms", _("diverged") if h.diverged else _("finished")]  # fmt: skip


@layout.guarded
def draw(settings) -> None:
    """The section: presets, the two schedules, a button, then the loss curves and a table."""
    st.subheader(_("Training A and B on the same minibatches"))
    row_box = st.container(horizontal=True, key="train_presets")
    for name in PRESETS:
        row_box.button(_(name), key="train_preset_" + name.replace(" ", "_").lower(),
                       on_click=apply_preset, args=(name,))  # fmt: skip
    cols = st.columns(2)
    for side, column in zip(ab_sides.SIDES, cols):
        state.widget(f"{side}_schedule", column)
    settings = state.current()  # the schedule widgets may have just changed
    sides = [side_settings(settings, side) for side in ab_sides.SIDES]
    plans = [training.plan(sides[0], (sides[1],)), training.plan(sides[1], (sides[0],))]
    errors = [
        f"{side.upper()}: {core_text.error(p.error)}"
        for side, p in zip(ab_sides.SIDES, plans)
        if p.error
    ]
    if errors:
        st.error(_("The core refused these settings: {error}").format(error=" ".join(errors)))
        return
    for notice in dict.fromkeys(n for p in plans for n in p.notices):
        st.info(notice, icon=":material/info:")
    specs = [p.spec for p in plans]
    s = specs[0]
    st.caption(
        _(
            "Both: task {task} (T = {T}), {optimizer}, lr {lr}, {updates} updates of batch "
            "{batch}, seed {seed} (Training page and sidebar); the same minibatch indices on "
            "both sides."
        ).format(
            task=_(TASK_NAMES.get(s.task, s.task)),
            T=s.length,
            optimizer=s.optimizer,
            lr=f"{s.lr:g}",
            updates=s.updates,
            batch=s.batch_size,
            seed=s.seed,
        )  # fmt: skip
    )
    labels = tuple(side_label(settings, side) for side in ab_sides.SIDES)
    histories = training.trained_on_click(
        specs, labels, _("Train A and B"), "train_ab", _("Press **Train A and B**")
    )
    if histories is None:
        return
    layout.chart(fig.loss_pair(tuple(histories), labels), "ab_train_loss")
    columns = [_("training loss (minibatches, last tenth)"), _("validation loss"), _("gap"),
               _("clipped"), _("per update"), _("run")]  # fmt: skip
    st.table(pd.DataFrame([row(h, spec) for h, spec in zip(histories, specs)], columns=columns,
                          index=list(labels)))  # fmt: skip
    va, vb = (float(h.val_loss[-1]) if len(h.val_loss) else float("nan") for h in histories)
    if va == va and vb == vb:
        sign = clear_change(va, vb)  # +1: B clearly above A, so A ends lower
        text = {
            1: _("Validation loss after training: A {a}, B {b}: **A** ends lower"),
            -1: _("Validation loss after training: A {a}, B {b}: **B** ends lower"),
            0: _("Validation loss after training: A {a}, B {b}: no clear difference"),
        }[sign].format(a=f"{va:.4g}", b=f"{vb:.4g}")
        base = histories[0].baseline
        if base is not None:
            words = {1: N_("below"), -1: N_("above"), 0: N_("about at")}
            where = [_(words[clear_change(v, base)]) for v in (va, vb)]
            text += _("; A is {a} and B {b} the baseline {base}").format(
                a=where[0], b=where[1], base=f"{base:.4g}"
            )
            fails = [side for side, v in zip("AB", (va, vb)) if learned(v, base) is False]
            if fails:
                text += _(" ({sides} not below {times} times it: did not learn the task)").format(
                    sides=_(" and ").join(fails), times=f"{LEARNED:g}"
                )
        st.markdown(text + _("."))
