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
from app.words.i18n import N_, count, ngettext
from app.words.i18n import gettext as _
from app.words.training import TASK_NAMES
from deeprnn_core import CELLS, TASKS
from deeprnn_core.study import IN_PROCESS, StudySpec, log_lrs, measures, scheduler_address

EXPLAIN = N_(
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
        names = {t: _(TASK_NAMES.get(t, t)) for t in TASKS}  # (worded in this run)
        d = tuning_query.DEFAULTS  # (each widget's value comes from prime: the session's)
        c[0].selectbox(_("Task"), TASKS, TASKS.index(d["task"]), key="tm_task",
                       format_func=names.get)  # fmt: skip
        c[1].multiselect(_("Cell types"), list(CELLS), d["cells"], key="tm_cells")
        c[2].multiselect(_("Depths L"), DEPTHS, d["depths"], key="tm_depths")
        c[3].number_input(_("Seeds"), 1, 20, d["seeds"], key="tm_seeds")
        c = st.columns(4)
        c[0].select_slider(_("log10 learning rate"), LOG_LRS, d["lrs"], key="tm_lrs")
        c[1].number_input(_("Learning rates"), 2, 9, d["count"], key="tm_count")
        c[2].number_input(_("Updates per trial"), 5, 2000, d["steps"], key="tm_steps")
        c[3].number_input(_("Hidden size h"), 2, 128, d["hidden"], key="tm_h")
        st.form_submit_button(_("Apply"))
    v = tuning_query.form_values()  # what the widgets hold, as the URL writes it
    (lo, hi), complete = v["lrs"], bool(v["cells"] and v["depths"]) and v["lrs"][0] < v["lrs"][1]
    state.set_page_query(tuning_query.keep(v) if complete else tuning_query.kept())
    if not complete:
        st.info(_("Pick at least one cell type, one depth and a learning-rate range lo < hi."))
        return None
    return StudySpec(
        task=v["task"], length=20, cells=v["cells"], depths=v["depths"],
        lrs=log_lrs(10**lo, 10**hi, int(v["count"])), seeds=int(v["seeds"]),
        steps=int(v["steps"]), hidden_size=int(v["hidden"]), batch_size=32, n_train=256, n_val=64,
    )  # fmt: skip


def results(spec: StudySpec, result) -> None:
    table = result.table
    tol = measures.TOLERANCE
    spread, windows = measures.seed_spread(table), measures.good_window(table, tol)
    spacing = float(np.median(np.diff(np.log10(spec.lrs)))) if len(spec.lrs) > 1 else 1.0
    st.subheader(_("Median validation loss over seeds"))
    for cell in spec.cells:
        if (table["cell"] == cell).any():
            st.markdown(words.window_words(windows, cell, spacing, tol))
            layout.chart(fig.map_figure(spread, windows, cell), f"tuning_map_{cell}")
    st.subheader(_("Window of good learning rates against depth"))
    layout.chart(fig.width_figure(windows), "tuning_width")
    deep = max(spec.depths)
    if 1 in spec.depths and deep > 1:
        st.subheader(_("Plain vs deep, over seeds"))
        for cell in spec.cells:
            if ((table["cell"] == cell) & (table["depth"] == deep)).any():
                st.markdown(words.verdict_words(measures.plain_vs_deep(table, cell, deep)))
    st.download_button(
        _("Study as CSV"), table.drop(columns=CURVES).to_csv(index=False).encode(),
        file_name=f"{spec.key}.csv", mime="text/csv", key="tm_csv",
    )  # fmt: skip
    st.markdown(_("Every trial, its curves and its parameters, in `optuna-dashboard`:"))
    st.code(result.dashboard, language="bash")


@layout.guarded
def draw() -> None:
    layout.header("Tuning map", EXPLAIN, COMPUTED)
    spec = settings()
    if spec is None:
        return
    job = studies.job_of(spec)
    running = job is not None and job.running
    result = job.result if job is not None and job.result is not None else studies.stored(spec)
    workers = os.cpu_count() or 1
    where = scheduler_address(studies.SCHEDULER) or _(
        "the embedded cluster ({workers} workers)"
    ).format(workers=workers)
    if where == IN_PROCESS:
        where = _("this process (no Dask)")
    seconds = studies.price_seconds(spec, workers)
    st.caption(
        ngettext(
            "{trials} trial of {updates} updates; the cost model prices the study at about "
            "{seconds} s on {where}.",
            "{trials} trials of {updates} updates; the cost model prices the study at about "
            "{seconds} s on {where}.",
            spec.size,
        ).format(
            trials=count(spec.size),
            updates=count(spec.steps),
            seconds=max(1, math.ceil(seconds)),
            where=where,
        )  # fmt: skip
    )
    if job is not None and job.error:
        st.error(_("The study stopped: {error}").format(error=job.error))
    complete = result is not None and result.complete
    cols = st.columns(4)
    if cols[0].button(_("Run study"), disabled=running or complete, key="tm_run"):
        studies.start(spec)
        running = True
    if running:
        if cols[1].button(_("Cancel"), key="tm_cancel"):
            studies.cancel(spec)
        study_progress.show(spec, "trials")
    if result is not None and len(result.table):
        if not result.complete:
            st.info(
                _("{done} of {total} trials so far (partial map).").format(
                    done=count(len(result.table)), total=count(spec.size)
                )
            )
        results(spec, result)
    elif not running:
        st.info(_("This study has not been run yet: **Run study** starts it."))


COMPUTED = (
    N_(
        "The trials: `deeprnn_core.study.run` (Optuna's grid sampler, every trial one `train` "
        "call on Dask workers, kept in a database); the map: `study.measures.seed_spread` (the "
        "median and quartiles over seeds); the windows: `study.measures.good_window` and "
        "`study.measures.window_trend`; the verdicts: `study.measures.plain_vs_deep` (bootstrap "
        "over seeds)."
    ),
)
draw()
