"""Phase diagram: the mean-field per-step gradient factors over (sigma_h, sigma_x), the critical
line, a measured sweep on top; measured Jacobian spectra and Pascanu's bound of this run."""

import math

import numpy as np
import streamlit as st

from app.figures import theory as theory_figures
from app.parts import layout
from app.runs import budget
from app.runs import theory as compute_theory
from app.settings import state
from app.words import core_text
from app.words.i18n import N_
from app.words.i18n import gettext as _
from deeprnn_core.analysis.measures import clear_change
from deeprnn_core.theory import mean_field as theory

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "Mean-field theory (Poole et al. 2016; Schoenholz et al. 2017; Chen, Pennington & "
    "Schoenholz 2018) predicts, for Gaussian weights $W_{hh} \\sim N(0, \\sigma_h^2/h)$ and "
    "$W_{xh} \\sim N(0, \\sigma_x^2/\\text{fan-in})$, by what factor $E|G|^2$ changes per step "
    "back through time ($\\chi_h$) and per layer down ($\\chi_x$), deep in the grid. Blue: it "
    "shrinks, red: it grows. On the dashed line $\\chi_h + \\chi_x = 1$ the gradient summed "
    "over a diagonal of the grid neither shrinks nor grows. **Click anywhere on the diagram** "
    "to set the gains (and the gaussian scheme) in the sidebar."
)
GATED = N_(  # {scope}: theory.SCOPE
    "The closed form is for {scope}; this run has "
    "{gap}. Below are the **measured** spectra of this run's step Jacobians instead: the mean "
    "squared singular value of each step the gradient crosses (blue: it shrinks the gradient, "
    "red: it amplifies it). For an LSTM the cell state $C_t$ has its own path, "
    "$\\partial C_t / \\partial C_{{t-1}} = \\mathrm{{diag}}(f_t)$."
)


def apply_click() -> None:
    """on_select callback: the clicked (sigma_h, sigma_x) becomes the sidebar's gains."""
    event = st.session_state.get("phase_chart")
    for point in event["selection"]["points"] if event else []:
        gains = [min(3.0, max(0.0, round(point[k] / 0.05) * 0.05)) for k in ("x", "y")]
        state.put("recurrent_gain", round(gains[0], 2))
        state.put("input_gain", round(gains[1], 2))
        state.put("scheme", "gaussian")
        return


SENTENCES = {  # factor_sentence's words, per path: not finite, level, shrinks, grows
    "time": (
        N_("{name} is not finite here."),
        N_("{name} = {chi}: $E|G|^2$ stays about level per step back through time (critical, "
           "within 1 %)."),
        N_("{name} = **{chi}**: $E|G|^2$ shrinks per step back through time, by e every "
           "{scale} steps."),
        N_("{name} = **{chi}**: $E|G|^2$ grows per step back through time, by e every {scale} "
           "steps."),
    ),
    "depth": (
        N_("{name} is not finite here."),
        N_("{name} = {chi}: $E|G|^2$ stays about level per layer down (critical, within 1 %)."),
        N_("{name} = **{chi}**: $E|G|^2$ shrinks per layer down, by e every {scale} layers."),
        N_("{name} = **{chi}**: $E|G|^2$ grows per layer down, by e every {scale} layers."),
    ),
}  # fmt: skip


def factor_sentence(name: str, chi: float, where: str, unit: str) -> str:
    """What one stationary factor does, in words that follow its value: per step back through
    time (``unit`` "steps") or per layer down ("layers"); ``where`` names the path (the
    templates, SENTENCES, hold its words)."""
    not_finite, level, shrinks, grows = SENTENCES["depth" if unit == "layers" else "time"]
    if not math.isfinite(chi):
        return _(not_finite).format(name=name)
    if clear_change(1.0, chi) == 0:  # measures' rule: within the rounding of what is printed
        return _(level).format(name=name, chi=f"{chi:.3g}")
    scale = abs(float(theory.depth_scale(chi)))
    return _(shrinks if chi < 1 else grows).format(
        name=name, chi=f"{chi:.3g}", scale=f"{scale:.3g}"
    )


@layout.guarded
def draw_theory(run: layout.Run) -> None:
    spec, c, init = run.spec, run.spec.config, run.spec.init
    sigma_b2 = theory.bias_variance(c, init.bias_scale)
    diagram = compute_theory.phase_diagram(c.activations[0], sigma_b2)
    current = (init.recurrent_gain, init.input_gain)
    if init.scheme in theory.GAUSSIAN_LIKE:  # the gaussian gains of the same weight variance
        current = tuple(round(float(g), 3) for g in theory.gaussian_equivalent(c, init)[:2])
    cols = st.columns([2, 1])
    measure = state.widget("phase_sweep", cols[0])
    points = None
    if measure:
        seeds = state.widget("phase_seeds", cols[1])
        sweep, notices = compute_theory.phase_sweep_plan(spec, seeds)
        for notice in notices:
            st.info(notice, icon=":material/info:")
        st.caption(
            _(
                "The sweep runs {gains} × {seeds} traces (L = {L}, h = {h}, T = {T}): about "
                "{seconds} s here."
            ).format(
                gains=len(compute_theory.SWEEP_GAINS) ** 2,
                seeds=len(sweep.seeds),
                L=sweep.config.num_layers,
                h=sweep.config.hidden_size,
                T=sweep.steps,
                seconds=f"{compute_theory.phase_sweep_seconds(sweep):.2g}",
            )  # fmt: skip
        )
        points = compute_theory.phase_points(sweep)
    fig = theory_figures.phase_figure(diagram, current, points)
    layout.chart(fig, "phase_chart", on_select=apply_click, selection_mode="points")
    if init.scheme in ("torch", "orthogonal"):
        st.info(
            _(
                "The diagram is for gaussian init; the sidebar uses **{scheme}**, whose weights "
                "have the variance of gaussian gains (σ_h, σ_x) = ({sigma_h}, {sigma_x}): the "
                "star sits there. A click switches to gaussian."
            ).format(scheme=init.scheme, sigma_h=f"{current[0]:g}", sigma_x=f"{current[1]:g}"),
            icon=":material/info:",
        )
    elif init.scheme != "gaussian":
        st.info(
            _(
                "The diagram is for random gaussian weights; the sidebar uses **{scheme}** "
                "(W_hh = g·I is not random), so the star marks its gains as if they were σ. A "
                "click switches to gaussian."
            ).format(scheme=init.scheme),
            icon=":material/info:",
        )
    _q, chi_h, chi_x = theory.stationary(c.activations[0], *current, sigma_b2)
    chi_h, chi_x = float(chi_h), float(chi_x)
    total = chi_h + chi_x
    if clear_change(1.0, total) == 0:
        side = _(
            "$\\chi_h + \\chi_x$ = **{total}**: summed over every path (a diagonal of the grid), "
            "$E|G|^2$ per step stays about level: on (within 1 %) the critical line."
        )
    elif total < 1:
        side = _(
            "$\\chi_h + \\chi_x$ = **{total}**: summed over every path (a diagonal of the grid), "
            "$E|G|^2$ per step shrinks: the ordered side of the critical line."
        )
    else:
        side = _(
            "$\\chi_h + \\chi_x$ = **{total}**: summed over every path (a diagonal of the grid), "
            "$E|G|^2$ per step grows: the chaotic side of the critical line."
        )
    time_words = factor_sentence("$\\chi_h$", chi_h, "per step back through time", "steps")
    depth_words = factor_sentence("$\\chi_x$", chi_x, "per layer down", "layers")
    head = _("At σ_h = {sigma_h}, σ_x = {sigma_x}, σ_b² = {sigma_b2} (φ = {phi}):").format(
        sigma_h=f"{current[0]:g}", sigma_x=f"{current[1]:g}", sigma_b2=f"{sigma_b2:.3g}",
        phi=c.activations[0],
    )  # fmt: skip
    st.markdown(f"{head}\n- {time_words}\n- {depth_words}\n- {side.format(total=f'{total:.3g}')}")
    if points is not None:
        _agreement(points, sigma_b2, c.activations[0])
    _pascanu(spec)


def _agreement(points, sigma_b2: float, activation: str) -> None:
    """How many measured signs match the prediction, away from the boundary."""
    _q, chi_h, chi_x = theory.stationary(activation, points.sigma_h, points.sigma_x, sigma_b2)
    rows = []
    for name, got, want in (
        (N_("time"), points.rate_time, chi_h),
        (N_("depth"), points.rate_depth, chi_x),
    ):
        ok = (got > 0) & (want > 0)
        away = ok & (np.abs(np.log(np.where(ok, want, 1.0))) > 0.15)
        same = away & ((got > 1) == (want > 1))
        if not ok.any():  # T = 1 has no step through time: nothing measured there
            rows.append(_("{path}: no path, nothing to compare").format(path=_(name)))
            continue
        rows.append(
            _("{path}: {same} of {away}").format(
                path=_(name), same=int(same.sum()), away=int(away.sum())
            )
        )
    st.caption(
        _(
            "Measured per-step factor (▲ grows, ▼ shrinks; mean of |G|² over the seeds and B = "
            "{batch} sequences each, loss on the last step) against the prediction's sign, at "
            "points away from their panel's line (|ln χ| > 0.15): {rows} agree. Near a line, "
            "finite width decides."
        ).format(batch=compute_theory.SWEEP_BATCH, rows="; ".join(rows))
    )


def _pascanu(spec) -> None:
    bound = compute_theory.pascanu(spec)
    lines = []
    for l, (top, gamma, ok) in enumerate(zip(bound.top_singular, bound.gamma, bound.applies), 1):
        if not ok:
            continue
        template = (
            _("l = {l}: σ_max(W_hh) = {top} vs 1/γ = {bound}: vanishing is guaranteed")
            if top * gamma < 1
            else _("l = {l}: σ_max(W_hh) = {top} vs 1/γ = {bound}: the bound guarantees nothing")
        )
        lines.append(template.format(l=l, top=f"{top:.3g}", bound=f"{1 / gamma:.3g}"))
    if lines:
        st.markdown(
            _(
                "**Pascanu, Mikolov & Bengio (2013)**: if σ_max(W_hh) < 1/γ (γ = max φ') every "
                "step back in time shrinks the gradient (sufficient, not necessary). This run's "
                "weights ({scheme} init):"
            ).format(scheme=spec.init.scheme)
            + "\n- "
            + "\n- ".join(lines)
        )


@layout.guarded
def draw_spectra(run: layout.Run, gap: str | None) -> None:
    if gap:
        st.info(
            _(GATED).format(scope=core_text.rule(theory.SCOPE), gap=gap), icon=":material/info:"
        )
    else:
        st.subheader(_("Measured Jacobian spectra of this run"))
    c, spec = run.spec.config, run.spec
    seconds = budget.spectra_seconds(c, spec.steps, spec.batch)
    st.caption(
        _("The spectra and the bound take about {seconds} s here.").format(seconds=f"{seconds:.2g}")
    )
    time, depth, cell = compute_theory.jacobian_spectra(run.spec)
    width_note = (
        " "
        + _(
            "At l = 1 the fan-in is d = {d}, not h = {h}: per input unit the gradient changes "
            "by h/d times more."
        ).format(d=c.input_size, h=c.hidden_size)
        if c.input_size != c.hidden_size
        else ""
    )
    layout.chart(theory_figures.spectra_figure(time, depth, cell), "phase_spectra")
    st.caption(
        _(
            "tr(J Jᵀ)/h through time and tr(J Jᵀ)/fan-in through depth, mean over the batch "
            "the measured counterparts of χ_h(t, l) and χ_x(t, l)."
        )
        + width_note
    )


COMPUTED = (
    N_(
        "The diagram: `theory.phase.phase_diagram` (mean field, for "
        "`theory.mean_field.SCOPE`); the star for torch / orthogonal init: "
        "`theory.gaussian_equivalent`; the measured points: "
        "`theory.phase.measured_phase_points`."
    ),
    N_(
        "For gated cells: `analysis.spectra.jacobian_spectra` and `analysis.spectra.pascanu_bound`."
    ),
)
run = layout.start("Phase diagram", EXPLAIN, COMPUTED)
gap = compute_theory.theory_gap(run.spec.config)
if gap is None:
    draw_theory(run)
draw_spectra(run, gap)
