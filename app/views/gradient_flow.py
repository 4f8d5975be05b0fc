"""Gradient flow: |G_t^(l)| against t per layer, parameter-gradient norms, the attenuation."""

import pandas as pd
import streamlit as st

from app import figures
from app.figures import elementwise as elementwise_figures
from app.figures import theory as theory_figures
from app.figures.eigen import VARIANT_NAMES, eigen_figure, memory_figure
from app.parts import layout
from app.runs import budget, compute
from app.runs import theory as compute_theory
from app.settings import state
from app.words import core_text, lesson
from app.words import elementwise as elementwise_words
from app.words.eigen import eigen_sentences, memory_sentences
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
    "barely learn. For an element-wise cell these stand for its own parameters on each path"
    ": an LRU's W_xh marker is B, C and D, its W_hh marker the eigenvalues' ν "
    "and θ; a minGRU or minLSTM layer has no parameter on the path through time (no W_hh marker): "
    "its gates read the input only."
)

EIGEN = N_(
    "What multiplies the gradient at each step back through time, per layer, on the complex "
    "plane: a plain rnn layer's eigenvalues of W_hh (with Pascanu's radius 1/γ where it is not "
    "the unit circle), an LRU layer's λ (through k steps unit j passes exactly λ_j^k), and for "
    "minGRU (1 − z_t), minLSTM (f'_t) and the LSTM's cell path (f_t), whose factor is a diagonal "
    "that changes with t, its spread over this trace on the real axis (thin 5-95 %, thick "
    "25-75 %, dot: median; each layer a little below the axis). Inside the unit circle a "
    "factor shrinks the gradient at every step back; the nearer to 1, the longer the memory."
)

MEMORY = N_(  # {samples}, {seed}: compute_theory.MEMORY_SAMPLES / MEMORY_SEED
    "Zucchet & Orvieto (2024): for h_t = λ h_{t-1} + γ x_t with unit-variance input, the state's "
    "second moment E[h²] = γ² / (1 − λ²) grows as the memory λ → 1, and the output's sensitivity "
    "to λ grows faster, E[(∂h/∂λ)²] = (1 + λ²) / (1 − λ²)³ without normalization, even though "
    "the gradient through time (λ per step) neither vanishes nor explodes. The LRU's remedies: "
    "γ = √(1 − λ²) keeps E[h²] = 1, and λ = exp(−exp ν) multiplies the sensitivity by "
    "(λ ln λ)². Lines: the closed forms; markers: measured by simulation "
    "({samples} sequences, seed {seed}); dotted: "
    "E[h²]. These do not depend on the sidebar's settings."
)


@layout.guarded
def draw(run: layout.Run) -> None:
    s = run.summary
    L, T = s.grad_hidden_norm.shape
    along_h = lesson.time_path(run.spec.config)
    value, sentence = figures.attenuation_words(s.attenuation, L, T, along_h)
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
    rows = lesson.table_rows(s.measures, L, T, along_h)
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
    draw_eigen(run)


@layout.guarded
def draw_eigen(run: layout.Run) -> None:
    """The unit circle with each layer's factor through time (analysis.recurrence_eigen)."""
    st.subheader(_("Where the eigenvalues are"))
    if not state.widget("grad_eigen"):
        draw_memory()
        return
    st.markdown(_(EIGEN))
    c = run.spec.config
    seconds = budget.eigen_seconds(c, run.spec.steps, run.spec.batch)
    if seconds >= 0.05:  # (a plain rnn's eigenvalues at h = 256: ~0.03 s a layer)
        st.caption(_("Where the eigenvalues are, layer by layer: about {seconds} s here.").format(
            seconds=f"{seconds:.2g}"))  # fmt: skip
    layers = compute.eigen_of(run.spec)
    cells = run.spec.config.cells
    layout.chart(eigen_figure(layers, len(cells)), "eigen")
    st.markdown("\n".join(f"- {line}" for line in eigen_sentences(layers, cells)))
    draw_memory()


@layout.guarded
def draw_memory() -> None:
    """The curse of memory: closed forms against the measurement (theory.memory)."""
    st.subheader(_("The curse of memory"))
    if not state.widget("grad_memory"):
        return
    st.markdown(
        _(MEMORY)  # replace, not format: the text's h_{t-1} has braces of its own
        .replace("{samples}", str(compute_theory.MEMORY_SAMPLES))
        .replace("{seed}", str(compute_theory.MEMORY_SEED))
    )
    curves = compute_theory.curse_of_memory()
    layout.chart(memory_figure(curves), "memory")
    st.markdown("\n".join(f"- {line}" for line in memory_sentences(curves, VARIANT_NAMES)))


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
            ).format(scope=core_text.rule(theory.SCOPE), gap=gap),
            icon=":material/info:",
        )
        draw_elementwise(spec)
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


def draw_elementwise(spec) -> None:
    """theory.linear next to the measurement for an LRU pair on top or a minGRU / minLSTM
    stack, or why it does not apply (nothing for the cells neither theory covers)."""
    cells = spec.config.cells
    if not any(c in ("lru", "mingru", "minlstm") for c in cells):
        return
    gap = compute_theory.elementwise_gap(spec)
    if gap:
        st.caption(_("The element-wise cells' theory does not cover {gap}.").format(gap=gap))
        return
    result = compute_theory.elementwise(spec)
    if result.kind == "lru":
        fig = elementwise_figures.lru_row(result.predicted, result.modulus, result.measured,
                                          result.r2, result.r2_modulus)  # fmt: skip
        layout.chart(fig, "lru_theory_chart")
        st.markdown(elementwise_words.lru_words(result.r2, result.r2_modulus,
                                                spec.config.num_layers))  # fmt: skip
    else:
        fig = elementwise_figures.gate_factor(result.predicted, result.measured, result.r2)
        layout.chart(fig, "gate_theory_chart")
        st.markdown(elementwise_words.gated_words(result.predicted, result.measured, result.r2))


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
