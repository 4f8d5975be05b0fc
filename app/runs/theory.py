"""Cached mean-field theory for the pages: the prediction for a run, the phase diagram and a
small measured sweep on it, the Jacobian spectra and Pascanu's bound of a run.

Every number comes from ``theory.mean_field``, ``phase`` or ``spectra``; caches are keyed on
small frozen dataclasses, as in ``app.runs.compute``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from app.runs import budget, compute
from app.settings import controls
from app.words import core_text
from app.words.i18n import gettext as _
from app.words.i18n import ngettext
from deeprnn_core import InitSpec, RNNConfig
from deeprnn_core.analysis import spectra
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine.stack import LOSS_KINDS
from deeprnn_core.theory import linear, memory, phase
from deeprnn_core.theory import mean_field as theory

PHASE_GAINS = np.round(np.arange(0.05, 3.0001, 0.05), 2)  # the gain sliders' range and step
SWEEP_GAINS = (0.5, 1.0, 1.5, 2.0, 2.5)  # 5 x 5 measured points
SWEEP_LIMITS = dict(hidden_size=64, num_layers=8, steps=100)  # keeps it ~1-3 s
SWEEP_BATCH = 4  # sequences per seed at every point, whatever the sidebar's B: a steadier mean


def theory_gap(config: RNNConfig) -> str | None:
    """Why the closed form does not describe ``config`` (None when it does)."""
    gap = theory.scope_gap(config)
    if gap is not None:
        return core_text.scope_gap(gap)
    if len(set(config.activations)) > 1:
        return _("a different activation per layer (the diagram needs one φ)")
    return None


def prediction_gap(spec: compute.TraceSpec) -> str | None:
    """Why no mean-field prediction of E|G_t^(l)|^2 is drawn for ``spec`` (None: it is).
    Per-layer activations are covered; identity init (W_hh = g I) is not random."""
    gap = theory.scope_gap(spec.config)
    if gap is not None:
        return core_text.scope_gap(gap)
    if spec.init.scheme not in theory.GAUSSIAN_LIKE:
        return _("{scheme} init (W_hh = g·I is not a random matrix)").format(
            scheme=spec.init.scheme
        )
    if spec.model_key is not None:
        return _("an uploaded model (the theory describes freshly drawn weights, not trained ones)")
    if spec.loss_kind not in LOSS_KINDS:
        return _("the {loss} loss (the prediction is derived for the MSE head's loss)").format(
            loss=spec.loss_kind
        )
    return None


@dataclass(frozen=True)
class PhaseSweepSpec:
    """Everything the measured sweep on the phase diagram depends on."""

    config: RNNConfig  # plain rnn, within SWEEP_LIMITS
    steps: int
    seeds: tuple[int, ...]
    batch: int
    bias_scale: float  # the sidebar's; the points set the gains, the scheme is gaussian
    signal: str


def phase_sweep_plan(spec: compute.TraceSpec, seeds: int) -> tuple[PhaseSweepSpec, list[str]]:
    """The sweep for the sidebar's architecture, within SWEEP_LIMITS; and what was reduced."""
    c, limits, notices = spec.config, SWEEP_LIMITS, []
    config = replace(
        c,
        num_layers=min(c.num_layers, limits["num_layers"]),
        hidden_size=min(c.hidden_size, limits["hidden_size"]),
        activation=c.activations[0],
        dropout=0.0,
    )
    steps, batch = min(spec.steps, limits["steps"]), SWEEP_BATCH
    used = [
        _("{name} = {now} (of {asked})").format(name=name, now=now, asked=asked)
        for name, now, asked in (
            ("L", config.num_layers, c.num_layers),
            ("h", config.hidden_size, c.hidden_size),
            ("T", steps, spec.steps),
        )
        if now != asked
    ]
    if used:
        notices.append(
            _("To stay within a few seconds the sweep uses {used}.").format(used=_(", ").join(used))
        )
    points = len(SWEEP_GAINS) ** 2
    fitted = budget.fit_phase_seeds(config, steps, batch, points, seeds)
    if fitted < seeds:
        notices.append(
            ngettext(
                "To stay within about {seconds} s the sweep averages {fitted} seed per point "
                "(of {seeds}).",
                "To stay within about {seconds} s the sweep averages {fitted} seeds per point "
                "(of {seeds}).",
                fitted,
            ).format(seconds=f"{budget.PHASE_SWEEP_SECONDS:g}", fitted=fitted, seeds=seeds)
        )
        seeds = fitted
    sweep = PhaseSweepSpec(
        config, steps, tuple(range(spec.seed, spec.seed + seeds)), batch, spec.init.bias_scale,
        spec.signal,
    )  # fmt: skip
    return sweep, notices


def phase_sweep_seconds(sweep: PhaseSweepSpec, reference: bool = False) -> float:
    """Estimated wall time of ``phase_points(sweep)`` (budget.phase_sweep_seconds;
    ``reference``: in the budget's fixed units)."""
    points = len(SWEEP_GAINS) ** 2
    return budget.phase_sweep_seconds(
        sweep.config, sweep.steps, sweep.batch, points, len(sweep.seeds), reference
    )


@st.cache_data(max_entries=16, show_spinner=False)
def phase_diagram(activation: str, sigma_b2: float) -> phase.PhaseDiagram:
    """phase.phase_diagram over PHASE_GAINS x PHASE_GAINS."""
    return phase.phase_diagram(activation, PHASE_GAINS, PHASE_GAINS, sigma_b2)


@st.cache_data(max_entries=8, show_spinner="Measuring the sweep over the gain plane…")
def phase_points(sweep: PhaseSweepSpec) -> phase.PhasePoints:
    """phase.measured_phase_points on the SWEEP_GAINS grid (gaussian init)."""
    points = [(a, b) for a in SWEEP_GAINS for b in SWEEP_GAINS]
    init = InitSpec("gaussian", bias_scale=sweep.bias_scale)
    return phase.measured_phase_points(
        sweep.config, points, sweep.steps, sweep.seeds, sweep.batch, init, sweep.signal
    )


@st.cache_data(max_entries=16, show_spinner=False)
def prediction(spec: compute.TraceSpec) -> theory.Prediction:
    """theory.predict for ``spec``'s init and input (other schemes than gaussian at the
    gaussian gains of their variances, theory.gaussian_equivalent)."""
    x = make_signal(spec.signal, spec.steps, spec.batch, spec.config.input_size, spec.seed)
    moment = theory.input_moment(x)
    return theory.predict(spec.config, spec.init, moment, spec.loss_kind, batch=spec.batch)


def predicted_norm(spec: compute.TraceSpec) -> np.ndarray:
    """(L, T) the prediction in the units of the Gradient flow lines, |G_t^(l)| over batch and
    units: sqrt(B h g_t^(l))."""
    g = prediction(spec).grad_sq
    return np.sqrt(spec.batch * spec.config.hidden_size * g)


def grid_theory(spec: compute.TraceSpec) -> tuple[np.ndarray, np.ndarray]:
    """(measured, predicted), each (L, T) in units of E|G_t^(l)|^2 / h per sample: this run's
    |G_t^(l)|^2 / (B h) (compute.summarize's Frobenius norm over batch and units) and
    prediction(spec).grad_sq."""
    grad_hidden_norm = compute.summarize(spec).grad_hidden_norm
    with np.errstate(over="ignore", invalid="ignore"):
        measured = grad_hidden_norm.astype(np.float64) ** 2 / (spec.batch * spec.config.hidden_size)
    return measured, prediction(spec).grad_sq


@st.cache_data(max_entries=8, show_spinner="Averaging the gradient over seeds…")
def measured_grad_sq(
    spec: compute.TraceSpec, seeds: int, average: str = "mean"
) -> tuple[np.ndarray, np.ndarray]:
    """phase.measured_grad_sq for ``spec`` over seeds spec.seed..spec.seed + seeds - 1:
    ((L, T) |G_t^(l)|^2 / h, the mean or the typical draw (``average``), (T,) input moment)."""
    return phase.measured_grad_sq(
        spec.config, spec.init, range(spec.seed, spec.seed + seeds), spec.steps, spec.batch,
        signal=spec.signal, loss_kind=spec.loss_kind, average=average,
    )  # fmt: skip


def average_of(spec: compute.TraceSpec, asked: str) -> str:
    """The measured side of the theory overlay: ``asked`` ("log" / "mean"), or for "auto" the
    typical draw ("log") below controls.TYPICAL_BELOW units, where one draw dominates a mean
    over a few seeds, and the mean from there on."""
    if asked != "auto":
        return asked
    return "log" if spec.config.hidden_size < controls.TYPICAL_BELOW else "mean"


@st.cache_data(max_entries=16, show_spinner="Computing the Jacobian spectra…")
def jacobian_spectra(spec: compute.TraceSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """spectra.jacobian_spectra of ``spec``'s trace, averaged over the batch: (time, depth,
    cell_time), each (L, T)."""
    model, tr = compute.get_trace(spec)
    result = spectra.jacobian_spectra(model, tr)
    return (*result.mean(), result.cell_time.mean(axis=2))


@st.cache_data(max_entries=16, show_spinner=False)
def pascanu(spec: compute.TraceSpec) -> spectra.PascanuBound:
    """spectra.pascanu_bound of ``spec``'s weights."""
    return spectra.pascanu_bound(compute.get_trace(spec)[0])


@st.cache_data(max_entries=8, show_spinner=False)
def predicted_sweep(sweep: compute.SweepSpec) -> phase.PredictedSweep:
    """phase.predicted_sweep for the Depth sweep's settings (its init; other schemes than
    gaussian at the gaussian gains of their variances), R_t averaged over the sweep's seeds'
    inputs."""
    b = sweep.base
    moment = np.mean(
        [theory.input_moment(make_signal(b.signal, b.steps, b.batch, b.config.input_size, s))
         for s in sweep.seeds], axis=0,
    )  # fmt: skip
    return phase.predicted_sweep(
        b.config, sweep.max_layers, b.init, moment, b.loss_kind, batch=b.batch
    )


@st.cache_data(max_entries=8, show_spinner="Averaging the gradient over seeds…")
def theory_vs_measured(
    spec: compute.TraceSpec, seeds: int, average: str = "mean"
) -> tuple[np.ndarray, np.ndarray, float]:
    """(predicted (L, T), measured (L, T), R^2): E|G_t^(l)|^2 / h from theory.predict with the
    seeds' mean input moment and the gaussian gains of the scheme's variances
    (theory.gaussian_equivalent), the measured |G_t^(l)|^2 / h over ``seeds`` seeds and the
    batch (the spec's own scheme; ``average``: the mean, or "log", the typical draw), and
    phase.r_squared normalized at (T, L)."""
    measured, moment = measured_grad_sq(spec, seeds, average)
    predicted = theory.predict(
        spec.config, spec.init, moment, spec.loss_kind, batch=spec.batch
    ).grad_sq
    return predicted, measured, phase.r_squared(predicted, measured)


def when_to_trust(spec: compute.TraceSpec, r2: float, average: str = "mean") -> str:
    """How far to trust the prediction at these settings, in sentences that follow them."""
    if not np.isfinite(r2):
        parts = [
            _("R² of log10 E|G|² is undefined: fewer than two cells are finite in both grids.")
        ]
    else:
        fit = (
            _("R² of log10 E|G|² over the grid: **{r2}**: the dashed lines follow the measured "
              "shape.") if r2 >= 0.9
            else _("R² of log10 E|G|² over the grid: **{r2}**: the dashed lines follow the "
                   "measured shape only roughly.") if r2 >= 0.5
            else _("R² of log10 E|G|² over the grid: **{r2}**: the prediction misses the "
                   "measured shape at these settings.")
        )  # fmt: skip
        parts = [fit.format(r2=f"{r2:.3f}")]
    if spec.init.scheme != "gaussian":
        sigma_h, sigma_x, _unused = theory.gaussian_equivalent(spec.config, spec.init)
        template = (
            _("The theory is written for gaussian init; this run uses {scheme} init (uniform "
              "weights of variance g²/3h). Only each weight's variance enters the mean-field "
              "recursions, so the prediction uses the gaussian gains with the same variance: "
              "(σ_h, σ_x) = ({sigma_h}, {sigma_x}).")
            if spec.init.scheme == "torch"
            else _("The theory is written for gaussian init; this run uses {scheme} init "
                   "(orthogonal weights, which keep |W v| = g |v| exactly). Only each weight's "
                   "variance enters the mean-field recursions, so the prediction uses the "
                   "gaussian gains with the same variance: (σ_h, σ_x) = ({sigma_h}, "
                   "{sigma_x}).")
        )  # fmt: skip
        parts.append(
            template.format(
                scheme=spec.init.scheme, sigma_h=f"{sigma_h:.3g}", sigma_x=f"{sigma_x:.3g}"
            )
        )
    if spec.config.hidden_size < controls.TYPICAL_BELOW:
        template = (
            _("At h = {h} the width is finite: |G|² can differ between weight draws by many "
              "powers of ten, so the solid lines show the typical draw (the mean over seeds of "
              "log10 |G|²), which the theory's quenched form predicts; the mean of the draws "
              "would follow the largest one; and the tied W_hh's largest eigenvalue sits above "
              "the mean-field value (measured in bench/theory_agreement.py; the gap closes as "
              "h grows).")
            if average == "log"
            else _("At h = {h} the width is finite: |G|² can differ between weight draws by "
                   "many powers of ten, so this mean over few seeds follows the largest (the "
                   "typical draw, the mean of log10 |G|², is what the theory's quenched form "
                   "predicts); and the tied W_hh's largest eigenvalue sits above the mean-field "
                   "value (measured in bench/theory_agreement.py; the gap closes as h grows).")
        )  # fmt: skip
        parts.append(template.format(h=spec.config.hidden_size))
    parts.append(_("It describes freshly drawn weights, not trained ones."))
    return " ".join(parts)


# the curse of memory (theory.memory): the variants drawn, the memories measured, the sample
MEMORY_VARIANTS = (("none", "lambda"), ("gamma", "lambda"), ("gamma", "nu"), ("coupled", "nu"))
MEMORY_POINTS = (0.5, 0.8, 0.9, 0.95, 0.99)
MEMORY_SAMPLES, MEMORY_SEED = 4000, 0


@st.cache_data(max_entries=1, show_spinner="Measuring the curse of memory…")
def curse_of_memory() -> list[tuple]:
    """(closed form on a fine grid, measured at MEMORY_POINTS) per variant of MEMORY_VARIANTS;
    independent of the settings, so computed once."""
    grid = 1.0 - np.geomspace(0.5, 1e-3, 120)  # lambda from 0.5 to 0.999
    return [
        (memory.closed_form(grid, n, p),
         memory.measured(MEMORY_POINTS, n, p, samples=MEMORY_SAMPLES, seed=MEMORY_SEED))
        for n, p in MEMORY_VARIANTS
    ]  # fmt: skip


@dataclass(frozen=True)
class ElementwiseTheory:
    """theory.linear on one run: the LRU's row below the top ("lru") or the minGRU / minLSTM
    gate factor per layer ("gated")."""

    kind: str  # "lru" or "gated"
    predicted: np.ndarray  # lru: (T-1,) |G_t^(L-1)| exact; gated: (L, T) E[a^2]
    measured: np.ndarray  # the same shape, measured on the run
    r2: float  # R^2 of log10 (theory.linear.r_squared)
    modulus: np.ndarray | None = None  # lru: (T-1,) |G_t^(L-1)| from |lambda| alone
    r2_modulus: float = float("nan")


def elementwise_gap(spec: compute.TraceSpec) -> str | None:
    """Why theory.linear does not describe ``spec`` (None: it does): an LRU pair on top, the
    loss on the last step and dropout off; or every layer minGRU / minLSTM, gaussian, torch or
    orthogonal init (at the gaussian gain of the same variance), no residual connection,
    dropout off."""
    cells = spec.config.cells
    if spec.config.dropout > 0:
        return _("dropout (its masks multiply the gradient)")
    if spec.model_key is not None:
        return _("an uploaded model")
    if len(cells) >= 2 and cells[-1] == cells[-2] == "lru":
        return None if spec.loss_kind == "last" else _("a loss on steps other than the last")
    if all(c in linear.GATED for c in cells):
        if spec.init.scheme not in theory.GAUSSIAN_LIKE:
            return _("{scheme} init (not random weights of a known variance)").format(
                scheme=spec.init.scheme
            )
        return _("residual connections") if spec.config.residual else None
    return _("no LRU pair on top and not every layer minGRU / minLSTM")


@st.cache_data(max_entries=16, show_spinner=False)
def elementwise(spec: compute.TraceSpec) -> ElementwiseTheory:
    """theory.linear for ``spec`` (elementwise_gap(spec) must be None)."""
    model, tr = compute.get_trace(spec)
    config, T = spec.config, spec.steps
    if config.cells[-1] == "lru":
        act, L = config.activations[-1], config.num_layers
        args = (model.params, L, tr.preact[-1, -1], tr.grad_hidden[-1, -1], T, act)
        exact = np.sqrt((linear.lru_row_below_top(*args) ** 2).sum((1, 2)))
        modulus = np.sqrt(linear.lru_row_from_modulus(*args))
        measured = np.sqrt((tr.grad_hidden[-2, :-1].astype(np.float64) ** 2).sum((1, 2)))
        return ElementwiseTheory("lru", exact, measured, linear.r_squared(exact, measured),
                                 modulus, linear.r_squared(modulus, measured))  # fmt: skip
    sigma_b2 = theory.bias_variance(config, spec.init.bias_scale)
    # torch / orthogonal init: the gaussian gain of the same variance (mean_field)
    _, gain, scale = theory.gaussian_equivalent(config, spec.init)
    moment = theory.input_moment(tr.input) * scale
    factor, _ = linear.gated_variance_map(config.cells, gain, sigma_b2, moment)
    measured = linear.measured_gate_factor(tr.gates, config.cells)
    return ElementwiseTheory("gated", factor, measured, linear.r_squared(factor, measured))
