"""Gradient flow: |G_t^(l)| against t per layer, parameter-gradient norms, the attenuation."""

import pandas as pd
import streamlit as st

from app import figures
from app.figures import theory as theory_figures
from app.parts import layout
from app.runs import budget
from app.runs import theory as compute_theory
from app.settings import state
from app.words import lesson
from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _
from deeprnn_core.theory import mean_field as theory

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "$G_t^{(l)} = \\partial \\text{Loss} / \\partial H_t^{(l)}$ is the total derivative: every "
    "path back from the loss, through time and through depth. On a log scale, a straight "
    "downward slope from right to left means the gradient shrinks by the same factor at "
    "every step back: it **vanishes** (or **explodes** if the lines rise)."
)
MEASURES_TEXT = N_(  # the markdown above the table (the core's dict is measures.MEASURES)
    'One ratio cannot stand for "the gradient problem": each measure below follows one path '
    "back from the top-right cell (t = T, l = L) and is named for it. The "
    "per-step rate is the geometric mean factor per Jacobian on that path; the weight ratios "
    "compare the root-mean-square entry of the bottom layer's gradient with the top layer's "
    "(W_xh^(1) is d × h, the others h × h), which says whether the bottom layer learns."
)
THEORY = N_(
    "Mean-field theory (Poole et al. 2016; Schoenholz et al. 2017; Chen, Pennington & "
    "Schoenholz 2018) predicts $|G_t^{(l)}|^2 / h$ for random weights of known variance in "
    "the wide-network limit, where the mean over weight draws and inputs and the typical draw "
    "agree (the Phase diagram page shows its per-step "
    "factors). Solid: the measurement over several seeds (each draws its own weights and "
    "input) and the batch, as the chart's title says: the typical draw (the mean over seeds of "
    "log10 |G|², which the theory's quenched form predicts, and what a single network most "
    "likely shows) or the mean of the draws; dashed: the prediction. R² compares log10 of the "
    "two grids, each divided by its own value at (t = T, l = L): it scores the shape."
)
PARAMS = N_(
    "Per layer, the norm of $\\partial \\text{Loss} / \\partial W_{xh}^{(l)}$ (weights on the "
    "path through depth, from layer l−1) next to $\\partial \\text{Loss} / \\partial "
    "W_{hh}^{(l)}$ (the path through time). Layers whose markers sit orders of magnitude lower "
    "barely learn."
)


@layout.guarded
def draw(run: layout.Run) -> None:
    s = run.summary
    L, T = s.grad_hidden_norm.shape
    value, sentence = figures.attenuation_words(s.attenuation, L, T)
    cols = st.columns([2, 1, 1])
    cols[0].metric(
        "$|G_1^{(1)}| \\,/\\, |G_T^{(L)}|$",
        value,
        help=_("How much of the gradient at the top-right cell reaches the bottom-left one."),
    )
    cols[0].markdown(sentence)
    cols[1].metric(_("Loss"), f"{s.loss:.4g}")
    norm = f"{s.param_grad_norm:.3g}"
    if run.spec.clip_norm is not None:
        norm = _("{norm} → {clipped} clipped").format(
            norm=norm, clipped=f"{s.param_grad_norm_clipped:.3g}"
        )
    cols[2].metric(_("Parameter-gradient norm"), norm)
    layout.chart(figures.grad_lines(s.grad_hidden_norm, s.nonfinite_grad), "grad_lines")
    draw_theory(run)
    st.subheader(_("Measures along each path"))
    st.markdown(_(MEASURES_TEXT))
    columns = [_("path"), _("formula"), _("value"), _("Jacobians on the path"),
               _("the gradient along it")]  # fmt: skip
    rows = lesson.table_rows(s.measures, L, T)
    st.table(pd.DataFrame(rows, columns=columns).set_index(columns[0]))
    st.subheader(_("Parameter gradients per layer"))
    st.markdown(_(PARAMS))
    if run.spec.clip_norm is not None:
        st.caption(
            _("Shown after clipping to a global norm of {norm}.").format(
                norm=f"{run.spec.clip_norm:g}"
            )
        )
    layout.chart(figures.param_grad_bars(s.param_grad_norms), "param_grads")


@layout.guarded
def draw_theory(run: layout.Run) -> None:
    """The seed-averaged E|G_t^(l)|^2 / h next to the mean-field prediction, or why none."""
    st.subheader(_("Theory next to the measurement"))
    cols = st.columns([1, 2, 2])
    if not state.widget("grad_theory", cols[0]):
        return
    asked = state.widget("theory_seeds", cols[1])
    average = compute_theory.average_of(run.spec, state.widget("theory_average", cols[2]))
    spec = run.spec
    if spec.steps == 1:
        st.info(
            _(
                "At T = 1 each layer has a single time step: there is no path through time, so "
                "no curve over t for the theory to follow and no R² to score it. Raise T to "
                "compare."
            ),
            icon=":material/info:",
        )
        return
    st.markdown(_(THEORY))
    gap = compute_theory.prediction_gap(spec)
    if gap:
        st.info(
            _(
                "No prediction is drawn: the mean-field theory here covers {scope}, with random "
                "weights of known variance (gaussian, torch or orthogonal init); this run has "
                "{gap}. The Phase diagram page shows the measured Jacobian spectra instead."
            ).format(scope=theory.SCOPE, gap=gap),
            icon=":material/info:",
        )
        return
    seeds = budget.fit_seeds(spec.config, spec.steps, spec.batch, asked)
    if seeds == 0:
        c = spec.config
        per_seed = budget.priced(
            budget.trace_seconds(c, spec.steps, spec.batch, reference=True),
            budget.trace_seconds(c, spec.steps, spec.batch),
        )
        st.info(
            _(
                "The seed-averaged measurement takes a trace per seed, {per_seed} each, over the "
                "{budget} s it may take: lower L, T, h or B to draw the prediction next to it."
            ).format(per_seed=per_seed, budget=f"{budget.THEORY_SECONDS:g}"),
            icon=":material/info:",
        )
        return
    if seeds < asked:
        st.info(
            _("To stay within about {budget} s the mean uses {seeds} seeds (of {asked}).").format(
                budget=f"{budget.THEORY_SECONDS:g}", seeds=seeds, asked=asked
            ),
            icon=":material/info:",
        )
    extra = budget.theory_seconds(spec.config, spec.steps, spec.batch, seeds)
    st.caption(
        ngettext(
            "The mean of {seeds} seed runs {seeds} trace: about {seconds} s here.",
            "The mean of {seeds} seeds runs {seeds} traces: about {seconds} s here.",
            seeds,
        ).format(seeds=seeds, seconds=f"{extra:.2g}")
    )
    predicted, measured, r2 = compute_theory.theory_vs_measured(spec, seeds, average)
    fig = theory_figures.predicted_vs_measured(predicted, measured, r2, seeds, average)
    layout.chart(fig, "grad_theory_chart")
    dropout = " " + _("Dropout is off in this comparison.") if spec.config.dropout > 0 else ""
    st.markdown(compute_theory.when_to_trust(spec, r2, average) + dropout)


COMPUTED = (
    N_(
        "The headline: `analysis.attenuation`; the table: `analysis.measures` (one entry per "
        "path); the parameter gradients: `analysis.param_grad_norms`."
    ),
    N_(
        "The prediction: `theory.predict` (mean field); the measured side: "
        '`theory.phase.measured_grad_sq` over the seeds (`average="log"`: the typical draw; '
        '`"mean"`: the mean); R²: `theory.phase.r_squared`.'
    ),
)
run = layout.start("Gradient flow", EXPLAIN, COMPUTED)
draw(run)
