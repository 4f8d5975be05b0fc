"""Tuning map: a study of many training runs (deeprnn_core.study: Optuna + Dask), the median
validation loss over (learning rate x depth) for each cell type, each depth's window of good
learning rates, and the tutorial's two claims checked over seeds instead of one run."""

import math
import os

import numpy as np
import streamlit as st

from app.figures import tuning_map as fig
from app.parts import layout, study_progress
from app.runs import studies
from app.settings import state, tuning_query
from app.settings.tuning_query import DEPTHS, LOG_LRS
from app.words import tuning as words
from deeprnn_core import CELLS, TASKS
from deeprnn_core.study import StudySpec, log_lrs, measures, scheduler_address

EXPLAIN = (
    "One training run says little: its verdict can flip with the seed or the learning rate. "
    "A **study** trains every (cell type, depth L, learning rate, seed) of a map on the same "
    "task and budget of updates (Optuna's grid sampler; the trials run on a Dask cluster, not "
    "in this server, and are kept in a database, so the same study opens at once next time, "
    "for every session). Below: the median validation loss over seeds, the window of learning "
    "rates that work at each depth, and whether deeper does better, with a bootstrap interval."
)
CURVES = ["eval_steps", "val_curve", "metric_curve", "grad_norm_steps", "grad_norm_curve"]


def settings() -> StudySpec | None:
    """The study the form asks for (its fields kept per session and written into the URL:
    settings.tuning_query), or None while the form is incomplete."""
    for notice in tuning_query.prime():
        st.info(notice, icon=":material/link_off:")
    with st.form("tuning_map"):
        c = st.columns(4)
        task = c[0].selectbox("Task", TASKS, key="tm_task")
        cells = c[1].multiselect("Cell types", list(CELLS), ["rnn", "lstm"], key="tm_cells")
        depths = c[2].multiselect("Depths L", DEPTHS, [1, 2, 4], key="tm_depths")
        seeds = c[3].number_input("Seeds", 1, 20, 3, key="tm_seeds")
        c = st.columns(4)
        lo, hi = c[0].select_slider("log10 lr", LOG_LRS, (-3.0, -1.0), key="tm_lrs")
        count = c[1].number_input("Learning rates", 2, 9, 5, key="tm_count")
        steps = c[2].number_input("Updates per trial", 5, 2000, 100, key="tm_steps")
        hidden = c[3].number_input("Hidden size h", 2, 128, 16, key="tm_h")
        st.form_submit_button("Apply")
    values = tuning_query.form_values()  # what the widgets hold, as the URL writes it
    complete = bool(values["cells"] and values["depths"]) and values["lrs"][0] < values["lrs"][1]
    state.set_page_query(tuning_query.keep(values) if complete else tuning_query.kept())
    if not cells or not depths or lo >= hi:
        st.info("Pick at least one cell type, one depth and a learning-rate range lo < hi.")
        return None
    return StudySpec(
        task=task, length=20, cells=tuple(cells), depths=tuple(sorted(depths)),
        lrs=log_lrs(10**lo, 10**hi, int(count)), seeds=int(seeds), steps=int(steps),
        hidden_size=int(hidden), batch_size=32, n_train=256, n_val=64,
    )  # fmt: skip


def results(spec: StudySpec, result) -> None:
    table = result.table
    tol = measures.TOLERANCE
    spread, windows = measures.seed_spread(table), measures.good_window(table, tol)
    spacing = float(np.median(np.diff(np.log10(spec.lrs)))) if len(spec.lrs) > 1 else 1.0
    st.subheader("Median validation loss over seeds")
    for cell in spec.cells:
        if (table["cell"] == cell).any():
            st.markdown(words.window_words(windows, cell, spacing, tol))
            layout.chart(fig.map_figure(spread, windows, cell), f"tuning_map_{cell}")
    st.subheader("Window of good learning rates against depth")
    layout.chart(fig.width_figure(windows), "tuning_width")
    deep = max(spec.depths)
    if 1 in spec.depths and deep > 1:
        st.subheader("Plain vs deep, over seeds")
        for cell in spec.cells:
            if ((table["cell"] == cell) & (table["depth"] == deep)).any():
                st.markdown(words.verdict_words(measures.plain_vs_deep(table, cell, deep)))
    st.download_button(
        "Study as CSV", table.drop(columns=CURVES).to_csv(index=False).encode(),
        file_name=f"{spec.key}.csv", mime="text/csv", key="tm_csv",
    )  # fmt: skip
    st.markdown("Every trial, its curves and its parameters, in optuna-dashboard:")
    st.code(result.dashboard, language="bash")


@layout.guarded
def draw() -> None:
    layout.header("Tuning map", EXPLAIN)
    spec = settings()
    if spec is None:
        return
    job = studies.job_of(spec)
    running = job is not None and job.running
    result = job.result if job is not None and job.result is not None else studies.stored(spec)
    workers = os.cpu_count() or 1
    where = scheduler_address(studies.SCHEDULER) or f"the embedded cluster ({workers} workers)"
    seconds = studies.price_seconds(spec, workers)
    st.caption(
        f"{spec.size} trials of {spec.steps} updates; the cost model prices the study at about "
        f"{max(1, math.ceil(seconds))} s on {where}."
    )
    if job is not None and job.error:
        st.error(f"The study stopped: {job.error}")
    complete = result is not None and result.complete
    cols = st.columns(4)
    if cols[0].button("Run study", disabled=running or complete, key="tm_run"):
        studies.start(spec)
        running = True
    if running:
        if cols[1].button("Cancel", key="tm_cancel"):
            studies.cancel(spec)
        study_progress.show(spec, "trials")
    if result is not None and len(result.table):
        if not result.complete:
            st.info(f"{len(result.table)} of {spec.size} trials so far (partial map).")
        results(spec, result)
    elif not running:
        st.info("This study has not been run yet: **Run study** starts it.")


draw()
