"""Plain vs deep: the tutorial's (d2l) comparison table, with measured numbers for L = 1 and L."""

import pandas as pd
import streamlit as st

from app.parts import layout, training_rows
from app.runs import compute
from app.words import lesson
from app.words.i18n import N_
from app.words.i18n import gettext as _
from deeprnn_core.analysis.measures import MEASURES, clear_change

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "The comparison table of {tutorial} sets a plain (one-layer) RNN against a deep "
    "one. Here the numeric rows "
    "are measured by the core for L = 1 and for the current L, everything else equal (the "
    "plain network uses the first layer's cell and activation)."
)
QUALITATIVE = [
    (N_("Expressiveness"), N_("limited"), N_("strong"),
     N_("Each layer adds a nonlinearity on top of the one below, so the top layer can compute "
        "more abstract functions of the input (see the timescales on Hidden states).")),
    (N_("Training difficulty"), N_("moderate"), N_("higher"),
     N_("More parameters and longer gradient paths (T + L − 1 cells from (1, 1) to (T, L)) "
        "make optimisation more sensitive to initialisation and learning rate.")),
    (N_("Typical use"), N_("simple sequences"), N_("complex sequences"),
     N_("Speech, translation and other tasks with structure at several timescales.")),
]  # fmt: skip
REMEDIES = N_(
    "The tutorial's remedies are in the sidebar under *Remedies*: gradient clipping, dropout, "
    "residual connections and layer normalisation; the fifth, learning-rate schedules, acts "
    "only while training: the Training page runs torch's schedulers."
)


def path_rows(
    plain: dict, deep: dict, L: int, T: int, time_path: tuple[bool, bool] = (True, True)
) -> list[tuple]:
    """One table row per measure: its value for L = 1 and L, and the Jacobians on its path."""
    plain_rows = lesson.table_rows(plain, 1, T, time_path[0])
    deep_rows = lesson.table_rows(deep, L, T, time_path[1])
    return [
        (
            f"{p[0]}: {p[1]}",
            p[2],
            d[2],
            _("{plain} → {deep} Jacobians on the path").format(plain=p[3], deep=d[3]),
        )
        for p, d in zip(plain_rows, deep_rows)
    ]


@layout.guarded
def draw(run: layout.Run) -> None:
    deep, plain_spec = run.summary, compute.plain(run.spec)
    extra = compute.seconds(plain_spec) + sum(map(compute.timing_seconds, (plain_spec, run.spec)))
    st.caption(
        _(
            "The plain run's trace, then timing both (the median of {plain} and {deep} runs): "
            "about {seconds} s here."
        ).format(
            plain=compute.timing_repeats(plain_spec),
            deep=compute.timing_repeats(run.spec),
            seconds=f"{extra:.2g}",
        )  # fmt: skip
    )
    plain = compute.summarize(plain_spec)
    t_plain, t_deep = compute.trace_time(plain_spec), compute.trace_time(run.spec)
    L = run.spec.config.num_layers
    rows = [
        (_("Layers L"), "1", f"{L}", _("The tutorial: single layer vs stacked layers.")),
        (_("Parameters"), f"{plain.num_params:,}", f"{deep.num_params:,}",
         _("W_xh^(l), W_hh^(l), b_h^(l) per layer plus the head W_hq, b_q.")),
        (_("FLOPs per time step"), f"{plain.flops_per_step:,}",
         f"{deep.flops_per_step:,}", _("The tutorial's O(h²) vs O(L h²), for this batch.")),
        (_("Measured trace time, forward + backward"),
         f"{t_plain * 1e3:.1f} ms", f"{t_deep * 1e3:.1f} ms",
         _("T = {T}, B = {B}, measured once on this server.").format(
             T=run.spec.steps, B=run.spec.batch)),
    ]  # fmt: skip
    T = run.spec.steps
    along_h = (lesson.time_path(plain_spec.config), lesson.time_path(run.spec.config))
    rows += path_rows(plain.measures, deep.measures, L, T, along_h)
    sentences = {
        key: lesson.change_sentence(key, plain.measures[key], deep.measures[key], L, T, along_h)
        for key in MEASURES
    }
    claim = [(_("Gradient problems (the tutorial's words)"), _("present"),
              lesson.claim_cell(sentences, L), lesson.claim_summary(sentences, L))]  # fmt: skip
    qualitative = [tuple(_(v) for v in row) for row in QUALITATIVE]
    body = rows + qualitative[:2] + claim + qualitative[2:]
    columns = [_("plain RNN (L = 1)"), _("deep RNN (L = {L})").format(L=L), _("why")]
    table = pd.DataFrame([row[1:] for row in body], columns=columns,
                         index=[row[0] for row in body])  # fmt: skip
    st.table(table)
    st.caption(
        _(
            "Top {n} rows: measured for these settings (nan or — where a path has no steps). "
            "The others: the tutorial's qualitative rows, with the reason for each; the "
            "gradient row is checked against the measures below."
        ).format(n=len(rows))
    )
    st.subheader(_("The tutorial's claim, measure by measure"))
    st.markdown("\n".join(f"- {s}" for s in sentences.values()))
    corner_plain, corner_deep = plain.measures["corner"], deep.measures["corner"]
    if L > 1 and T > 1 and clear_change(corner_plain, corner_deep) > 0:
        st.markdown(lesson.path_sentence(1, L, T, corner_plain, corner_deep))
    st.markdown(_(REMEDIES))


COMPUTED = (
    N_(
        "Parameters: `Model.num_params`; FLOPs per step: `analysis.flops_per_step`; the "
        "measured time: `analysis.time_trace` (median of repeated traces)."
    ),
    N_(
        "The gradient rows: `analysis.measures` of each trace; the words: `analysis.measures."
        'clear_change` (the one rule for "no clear change").'
    ),
    N_(
        "The training rows: a study, `deeprnn_core.study.run` (every run one `train` call, on "
        "Dask workers), its verdicts `study.measures.plain_vs_deep` (bootstrap over seeds) and "
        "`study.measures.good_window`."
    ),
)
run = layout.start("Plain vs deep", EXPLAIN, COMPUTED)
draw(run)
training_rows.draw(run.settings)
