"""Depth sweep: every measure of the gradient (deeprnn_core.analysis.measures) for L = 1..L_max over
several seeds, and sentences whose direction words follow the medians drawn."""

import numpy as np
import streamlit as st

from app import figures
from app.figures import theory as theory_figures
from app.figures.sweep import MEASURE_STYLE
from app.parts import layout
from app.runs import budget, compute
from app.runs import theory as compute_theory
from app.settings import controls, state
from app.words import core_text, lesson
from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _
from deeprnn_core.analysis.measures import MEASURES, clear_change, path_steps, seed_spread
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.theory.phase import PredictedSweep

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    'The same settings at every depth L = 1..L_max, each with several weight seeds. "How much '
    'gradient is left" depends on which path you follow back from the last cell (t = T, '
    "l = L): to the first cell (time and depth), down to the bottom layer at the same step "
    "(depth only), back to t = 1 in the top layer (time only), or to the bottom layer's "
    "weights. Below the dotted line 1 the gradient **vanishes** along that path, above it it "
    "**explodes**. Move the gains in the sidebar and watch the curves cross the line."
)


@layout.guarded
def draw(run: layout.Run) -> None:
    cols = st.columns([1, 1, 2])
    asked = state.widget("sweep_layers", cols[0])
    L = run.spec.config.num_layers
    max_layers = controls.sweep_depth(asked, L)
    seeds = state.widget("sweep_seeds", cols[1])
    chosen = state.widget("sweep_measure", cols[2])
    sweep_spec, notices = compute.sweep_plan(run.spec, max_layers, seeds)
    for notice in notices:
        st.info(notice, icon=":material/info:")
    b, n = sweep_spec.base, len(sweep_spec.seeds)
    seconds = budget.sweep_seconds(b.config, b.steps, max_layers, n, b.dtype, b.init)
    if asked != 0:
        template = ngettext(
            "The sweep runs L = 1..{top} for {n} seed at T = {T}: about {seconds} s here.",
            "The sweep runs L = 1..{top} for {n} seeds at T = {T}: about {seconds} s here.",
            n,
        )
    elif L < max_layers:
        template = ngettext(
            "The sweep runs L = 1..{top} (following the sidebar's L = {L}, at least {least}) "
            "for {n} seed at T = {T}: about {seconds} s here.",
            "The sweep runs L = 1..{top} (following the sidebar's L = {L}, at least {least}) "
            "for {n} seeds at T = {T}: about {seconds} s here.",
            n,
        )
    else:
        template = ngettext(
            "The sweep runs L = 1..{top} (following the sidebar's L = {L}) for {n} seed at "
            "T = {T}: about {seconds} s here.",
            "The sweep runs L = 1..{top} (following the sidebar's L = {L}) for {n} seeds at "
            "T = {T}: about {seconds} s here.",
            n,
        )
    st.caption(
        template.format(
            top=max_layers,
            L=L,
            least=controls.SWEEP_FOLLOW_MIN,
            n=n,
            T=b.steps,
            seconds=f"{seconds:.2g}",
        )  # fmt: skip
    )
    try:
        sweep = compute.depth_sweep(sweep_spec)
    except compute.CORE_ERRORS as err:
        st.error(_("The core could not run the sweep: {error}").format(error=core_text.error(err)))
        return
    T = sweep_spec.base.steps
    medians = {k: sweep.measure_quantiles(k, (0.5,))[0] for k in MEASURES}
    if chosen == "all":
        names = {k: f"{lesson.measure_name(k)}: {f}" for k, (n, f) in MEASURES.items()}
        figure = figures.measures_figure(sweep.depths, medians, names)
        predicted = add_prediction(figure, sweep_spec, ("corner", "depth", "time"), T)
        layout.chart(figure, "sweep")
        keys = list(MEASURES)
    else:
        quantiles = sweep.measure_quantiles(chosen)  # (3, L_max): 25%, 50%, 75% over seeds
        exploded = (~np.isfinite(sweep.measure(chosen))).sum(axis=0)
        exploded[path_steps(chosen, sweep.depths, T, sweep.time_path) == 0] = (
            0  # no path is not an overflow
        )
        ylabel = MEASURES[chosen][1]
        figure = figures.sweep_figure(sweep.depths, quantiles, exploded, len(sweep.seeds), ylabel)
        predicted = add_prediction(figure, sweep_spec, (chosen,), T)
        layout.chart(figure, "sweep")
        keys = [chosen]
    st.markdown(
        ngettext(
            "Median over {n} seed (seeds {first}–{last}), T = {T}. Same gains, scheme, "
            "activation and cell as the sidebar; dropout is off and B = 1. Paths with no steps "
            "(L = 1 for the depth and weight measures) are left out.",
            "Median over {n} seeds (seeds {first}–{last}), T = {T}. Same gains, scheme, "
            "activation and cell as the sidebar; dropout is off and B = 1. Paths with no steps "
            "(L = 1 for the depth and weight measures) are left out.",
            len(sweep.seeds),
        ).format(n=len(sweep.seeds), first=sweep.seeds[0], last=sweep.seeds[-1], T=T)
        + (
            ""
            if np.all(sweep.time_path)
            else " "
            + _(
                "So are the paths through time along H where the top layer's H_t feeds no "
                "later step (an LRU: time runs in its state x_t)."
            )
        )
    )
    st.caption(predicted)
    spreads = {k: seed_spread(sweep.measure(k), axis=0) for k in keys}  # (L_max,) log10
    said = [
        lesson.sweep_sentence(
            k, sweep.depths, medians[k], spread=spreads[k], steps=T, time_path=sweep.time_path
        )
        for k in keys
    ]
    st.markdown("\n".join(f"- {line}" for line in said))
    corner = medians["corner"]
    if "corner" in keys or chosen == "corner_rate":
        ok = np.flatnonzero(np.isfinite(corner) & (corner > 0))
        spread = seed_spread(sweep.measure("corner"), axis=0)
        bar = None if ok.size < 2 else max(spread[ok[0]], spread[ok[-1]])
        rose = ok.size >= 2 and clear_change(corner[ok[0]], corner[ok[-1]], spread=bar) > 0
        if rose and T > 1:
            lo, hi = int(sweep.depths[ok[0]]), int(sweep.depths[ok[-1]])
            st.markdown(lesson.path_sentence(lo, hi, T, corner[ok[0]], corner[ok[-1]]))
    if sweep.exploded.any():
        runs = int(sweep.exploded.sum())
        st.warning(
            ngettext(
                "{n} run overflowed (inf / nan); it is marked in magenta and left out of the "
                "median and band.",
                "{n} runs overflowed (inf / nan); they are marked in magenta and left out of the "
                "median and band.",
                runs,
            ).format(n=runs),
            icon=":material/local_fire_department:",
        )


def add_prediction(fig, sweep_spec: compute.SweepSpec, keys: tuple[str, ...], T: int) -> str:
    """Draw the mean-field curves of ``keys`` (those it predicts) on ``fig``; say what they
    are, or why none is drawn."""
    gap = compute_theory.prediction_gap(sweep_spec.base)
    if gap:
        return _(
            "No mean-field curve: the theory covers {scope}, with random weights of known "
            "variance; this sweep has {gap}."
        ).format(scope=core_text.rule(theory.SCOPE), gap=gap)
    shown = [k for k in keys if k in PredictedSweep.PREDICTED]
    if not shown:
        return _(
            "No mean-field curve for the weight ratios: the theory predicts |G| along the "
            "paths through the hidden states."
        )
    ps = compute_theory.predicted_sweep(sweep_spec)
    for key in shown:
        color = MEASURE_STYLE[key][0] if len(keys) > 1 else "#e15759"
        name = (
            _("predicted: {measure}").format(measure=lesson.measure_name(key))
            if len(keys) > 1
            else _("mean-field prediction")
        )
        curve = ps.measure(key, T)
        theory_figures.add_predicted_sweep(fig, ps.depths, curve, name, f"predicted {key}", color)
    return _(
        "Dashed: the mean-field prediction (with the gaussian gains of this scheme's weight "
        "variances), the square root of a ratio of mean E|G|² over weight "
        "draws; the median and band are of single draws (B = 1), which at small h can sit far "
        "from the mean (see Gradient flow for the seed-averaged comparison and its R²)."
    )


COMPUTED = (
    N_(
        "The sweep: `analysis.depth_sweep` (one forward pass of the deepest stack, the backward "
        "pass of every depth); the medians and bands: `DepthSweep.measure_quantiles`; the "
        "prediction: `theory.predict`; the words: `analysis.measures.clear_change`."
    ),
)
run = layout.start("Depth sweep", EXPLAIN, COMPUTED)
draw(run)
