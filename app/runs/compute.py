"""Cached glue between the controls and the core: Settings -> TraceSpec -> Trace and summaries.

Every number the pages show comes from a ``deeprnn_core`` call made here. Caches are keyed on
small frozen dataclasses (the core's ``RNNConfig`` plus a few scalars), never on arrays.

The Trace (with its Model) and its Summary sit in ``server.CACHE``, shared by every session
and bounded by bytes (DEEPRNN_MEMORY_MB): at the largest legal setting one trace holds ~700 MB,
which ``cache_data`` would pickle and copy on every rerun and ``cache_resource`` would bound by
count only. They are never mutated here or in the figures (the summary's arrays are read-only).
A trace is computed in one of server.HEAVY_RUNS slots, and stops between layers when the
session that asked for it has gone. The other summaries are small ``cache_data`` entries.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from app.runs import budget, server
from app.settings import upload
from app.settings.controls import PER_LAYER
from app.settings.rules import per_layer, remedy_rules
from app.words import core_text
from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _
from deeprnn_core import InitSpec, Model, RNNConfig, Trace, trace
from deeprnn_core.analysis import summaries as analysis
from deeprnn_core.analysis.eigen import recurrence_eigen
from deeprnn_core.config import ACTIVATIONS, CELLS
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine.cost import init_seconds, trace_cost
from deeprnn_core.engine.norms import stable_norm
from deeprnn_core.engine.overflow import Overflow
from deeprnn_core.trace import Cancelled
from deeprnn_core.weights.init import DEFAULT_INIT

# Errors the core raises for bad input (it names the argument); shown as st.error, never a
# traceback. MemoryError is the last line of defence behind the budgets (runs.budget).
CORE_ERRORS = (ValueError, TypeError, MemoryError, FloatingPointError)
STOPPED = (Cancelled, server.SessionGone)  # the session went away: nothing to show


@dataclass(frozen=True)
class TraceSpec:
    """Everything one trace depends on: the cache key."""

    config: RNNConfig
    init: InitSpec  # how the weights are drawn; its seed is the run's (see ``seed``)
    signal: str
    steps: int  # T
    batch: int  # B
    loss_kind: str  # the steps scored (trace's loss_kind): "last", "all" or "probe"
    dtype: str
    training: bool
    clip_norm: float | None
    model_key: str | None = None  # sha256 of the session's uploaded model (settings.upload)
    data_key: str | None = None  # sha256 of the session's uploaded data, and its options

    @property
    def seed(self) -> int:
        """The run's one seed: the weights' (``init.seed``), the input's and the dropout masks'."""
        return self.init.seed


@dataclass(frozen=True)
class SweepSpec:
    """Everything one depth sweep depends on."""

    base: TraceSpec  # config (per-layer lists extend by their last entry), init, input, loss
    max_layers: int
    seeds: tuple[int, ...]  # each draws replace(base.init, seed=s) and its own input


@dataclass(frozen=True)
class Plan:
    """What will run for the current settings, and what the user should be told about it."""

    spec: TraceSpec | None  # None when the settings are rejected
    notices: tuple[str, ...] = ()  # settings adjusted (per-layer lists, budgets, layer norm)
    error: str | None = None  # why the core refused the settings


@dataclass(frozen=True)
class Summary:
    """The small per-trace numbers the figures draw, all computed by analysis.summaries."""

    hidden_norm: np.ndarray  # (L, T) |H_t^(l)|, Frobenius over batch and units
    grad_hidden_norm: np.ndarray  # (L, T) |G_t^(l)|
    input_norm: np.ndarray  # (T,) |X_t|
    output_norm: np.ndarray  # (T,) |O_t|
    nonfinite_hidden: np.ndarray  # (L, T) bool
    nonfinite_grad: np.ndarray  # (L, T) bool
    overflow: Overflow | None  # the core's record of where inf / nan began, or None
    param_grad_norms: dict[str, np.ndarray]  # "W_xh", "W_hh" -> (L,)
    attenuation: float  # |G_1^(1)| / |G_T^(L)|
    measures: dict[
        str, float
    ]  # deeprnn_core.analysis.measures.MEASURES key -> value (nan: no path)
    autocorrelation: np.ndarray  # (L,) lag-1 autocorrelation of H_t^(l)
    timescale: np.ndarray  # (L,) -1 / ln(rho) in steps
    loss: float
    param_grad_norm: float  # global parameter-gradient norm before clipping (Trace's)
    param_grad_norm_clipped: float  # the same after clipping
    num_params: int
    flops_per_step: int


# said wherever a budget cut a run: the cut is priced in fixed units (budget.py), not at the
# server's measured speed
CUT_IS_FIXED = N_(
    "The cut depends on the settings alone (the same on every visit and every server), so a "
    "copied link shows this same run."
)


def plan(s, alongside: tuple[RNNConfig, ...] = ()) -> Plan:
    """The TraceSpec for Settings ``s``, or the core's reason for refusing them. The traces of
    ``alongside`` run in the same rerun (the A/B page) and share the budgets."""
    s, notices, upload_keys = upload.adjust(s)  # an uploaded model / data fixes some settings
    L = s.num_layers
    activation, cell = s.activation, s.cell
    if activation == PER_LAYER:
        activation, more = per_layer(s.activation_layers, ACTIVATIONS, L, _("φ per layer"))
        notices += more
    if cell == PER_LAYER:
        cell, more = per_layer(s.cell_layers, CELLS, L, _("Cell per layer"))
        notices += more
    rules = remedy_rules(s, cell)
    notices += [core_text.applicability(rule) for rule in rules]  # the core's sentences
    layer_norm = s.layer_norm and not any(rule.rule == "layer_norm_cells" for rule in rules)
    try:
        config = RNNConfig(
            num_layers=L,
            input_size=s.input_size,
            hidden_size=s.hidden_size,
            activation=activation,
            cell=cell,
            residual=s.residual,
            layer_norm=layer_norm,
            dropout=float(s.dropout),
        )
        ring = (s.lru_r_min, s.lru_r_max)
        if ring[0] > ring[1]:  # a hostile or crossed pair: the defaults, and say so
            ring = (DEFAULT_INIT.lru_r_min, DEFAULT_INIT.lru_r_max)
            notices.append(
                _(
                    "The LRU ring needs its smallest |λ| ({low}) at most its largest ({high}): "
                    "using {default_low} and {default_high}."
                ).format(
                    low=f"{s.lru_r_min:g}",
                    high=f"{s.lru_r_max:g}",
                    default_low=f"{ring[0]:g}",
                    default_high=f"{ring[1]:g}",
                )  # fmt: skip
            )
        init = InitSpec(s.scheme, s.recurrent_gain, s.input_gain, s.bias_scale, s.seed,
                        lru_r_min=ring[0], lru_r_max=ring[1],
                        lru_theta_max=s.lru_theta_turns * math.pi)  # fmt: skip
    except CORE_ERRORS as err:
        return Plan(None, tuple(notices), core_text.error(err))
    steps, batch = budget.fit_trace(config, s.steps, s.batch, *alongside, dtype=s.dtype)
    peak, priced = budget.traces_need((config, *alongside), steps, batch, s.dtype)
    seconds = budget.traces_need((config, *alongside), steps, batch, s.dtype, False)[1]
    over = [f"{peak >> 20} MB"] if peak > budget.MAX_TRACE_BYTES else []
    over += [budget.priced(priced, seconds)] if priced > budget.TRACE_SECONDS else []
    if over:  # even the smallest run does not fit (budget.traces_fit): say so
        template = (
            _("These runs need about {need} even at T = {T} and B = {B}, more than the "
              "{seconds} s and {mb} MB a run is meant to take here; they run anyway. Lower L or "
              "h.") if alongside
            else _("This run needs about {need} even at T = {T} and B = {B}, more than the "
                   "{seconds} s and {mb} MB a run is meant to take here; it runs anyway. Lower L "
                   "or h.")
        )  # fmt: skip
        if steps == 1:
            template = (
                _("These runs need about {need} even at T = {T} and B = {B}, more than the "
                  "{seconds} s and {mb} MB a run is meant to take here; they run anyway, and at "
                  "T = 1 there is no recurrence to see. Lower L or h.") if alongside
                else _("This run needs about {need} even at T = {T} and B = {B}, more than the "
                       "{seconds} s and {mb} MB a run is meant to take here; it runs anyway, and "
                       "at T = 1 there is no recurrence to see. Lower L or h.")
            )  # fmt: skip
        notices.append(
            template.format(
                need=_(" and ").join(over),
                T=steps,
                B=batch,
                seconds=f"{budget.TRACE_SECONDS:g}",
                mb=budget.MAX_TRACE_BYTES >> 20,
            )  # fmt: skip
        )
    elif (steps, batch) != (s.steps, s.batch):
        used = [_("{name} = {now} (of {asked})").format(name=name, now=now, asked=asked)
                for name, now, asked in
                (("B", batch, s.batch), ("T", steps, s.steps)) if now != asked]  # fmt: skip
        template = (
            _("To stay within about {seconds} s and {mb} MB per run, these runs use {used}. "
              "{fixed} Lower L, h or B for the full run.") if alongside
            else _("To stay within about {seconds} s and {mb} MB per run, this run uses {used}. "
                   "{fixed} Lower L, h or B for the full run.")
        )  # fmt: skip
        notices.append(
            template.format(
                seconds=f"{budget.TRACE_SECONDS:g}",
                mb=budget.MAX_TRACE_BYTES >> 20,
                used=_(" and ").join(used),
                fixed=_(CUT_IS_FIXED),
            )  # fmt: skip
        )
    spec = TraceSpec(
        config=config,
        init=init,
        signal=s.signal,
        steps=steps,
        batch=batch,
        loss_kind=s.loss_kind,
        dtype=s.dtype,
        training=s.dropout_mode == "train" and s.dropout > 0,  # one cache entry when p = 0
        clip_norm=float(s.clip_norm) if s.clip_norm > 0 else None,
        **upload_keys,
    )
    return Plan(spec, tuple(notices))


def plain(spec: TraceSpec) -> TraceSpec:
    """The same run with one layer (the first layer's activation and cell): the plain RNN."""
    c = spec.config
    one = replace(c, num_layers=1, activation=c.activations[0], cell=c.cells[0], dropout=0.0)
    return replace(spec, config=one)


def sweep_plan(spec: TraceSpec, max_layers: int, seeds: int) -> tuple[SweepSpec, list[str]]:
    """The SweepSpec within the sweep budget: B = 1, then fewer seeds (down to 3), then fewer
    steps; and what was reduced."""
    steps, n = budget.fit_sweep(spec.config, spec.steps, max_layers, seeds, spec.dtype, spec.init)
    base = replace(spec, batch=1, training=False, clip_norm=None, steps=steps)
    notices = []
    if spec.batch > 1:
        notices.append(
            _("The sweep uses B = 1 (one sequence per seed), not B = {B}.").format(B=spec.batch)
        )
    if (n, base.steps) != (seeds, spec.steps):
        used = [what.format(now=now, asked=asked) for what, now, asked in
                ((_("{now} seeds (of {asked})"), n, seeds),
                 (_("T = {now} (of {asked})"), base.steps, spec.steps))
                if now != asked]  # fmt: skip
        notices.append(
            _(
                "To stay within about {seconds} s the sweep uses {used}. Lower h, T or the depth "
                "to run it all."
            ).format(seconds=f"{budget.SWEEP_SECONDS:g}", used=_(" and ").join(used))
        )
    return SweepSpec(base, max_layers, tuple(range(spec.seed, spec.seed + n))), notices


def _model_and_input(spec: TraceSpec) -> tuple[Model, np.ndarray]:
    c = spec.config
    if spec.model_key:
        model = upload.model(spec)
    else:
        start = time.perf_counter()
        model = Model.init(c, spec.init)
        elapsed = time.perf_counter() - start
        budget.observe(init_seconds(c, spec.init.scheme), elapsed, kind="init")
    if spec.data_key:
        return model, upload.sequence(spec)[0]
    x = make_signal(spec.signal, spec.steps, spec.batch, c.input_size, spec.seed)  # (T, B, d)
    return model, x


def _trace_kwargs(spec: TraceSpec) -> dict:
    return dict(
        loss_kind=spec.loss_kind,
        dtype=spec.dtype,
        training=spec.training,
        dropout_seed=spec.seed,
        clip_norm=spec.clip_norm,
        y=upload.sequence(spec)[1] if spec.data_key else None,  # the uploaded targets, if any
    )


def limit_torch_threads() -> None:
    """torch's thread count is process-wide: pin it to 1 once, if the core imported torch
    (the app itself never imports it; that would cost ~3 s at start-up)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def seconds(spec: TraceSpec) -> float:
    """Estimated seconds of ``spec``'s model, trace, summary and figures (deeprnn_core.engine.cost
    and budget.page_seconds)."""
    run = budget.trace_seconds(spec.config, spec.steps, spec.batch, spec.dtype)
    return run + budget.draw_seconds(spec.config, spec.init)


def _run_trace(spec: TraceSpec) -> tuple[Model, Trace]:
    with server.heavy_run(_("running this trace")):
        note = _("Running the deep RNN forward and backward (about {seconds} s)…").format(
            seconds=f"{seconds(spec):.1f}"
        )
        with st.spinner(note):
            model, x = _model_and_input(spec)
            start = time.perf_counter()
            result = trace(model, x, cancel=server.session_gone, **_trace_kwargs(spec))
            c = spec.config
            estimate = trace_cost(c, spec.steps, spec.batch, spec.dtype).seconds
            budget.observe_trace(c, estimate, time.perf_counter() - start)
    limit_torch_threads()
    return model, result


def get_trace(spec: TraceSpec) -> tuple[Model, Trace]:
    """(model, trace): the core's full trace for ``spec``. Shared between sessions: read only.
    Raises Cancelled if the session that asked for it goes while it runs."""
    return server.CACHE.get(("trace", spec), lambda: _run_trace(spec), server.stop_if_gone)


def _summary(spec: TraceSpec) -> Summary:
    model, tr = get_trace(spec)
    hidden_norm, grad_hidden_norm = analysis.cell_norms(tr)
    rho, tau = analysis.layer_timescales(tr)
    summary = Summary(
        hidden_norm=hidden_norm,
        grad_hidden_norm=grad_hidden_norm,
        input_norm=stable_norm(tr.input, (1, 2)),
        output_norm=stable_norm(tr.output, (1, 2)),
        nonfinite_hidden=tr.nonfinite_hidden,
        nonfinite_grad=tr.nonfinite_grad,
        overflow=tr.overflow_record,
        param_grad_norms=analysis.param_grad_norms(tr),
        attenuation=analysis.attenuation(tr),
        measures=analysis.measures(tr),
        autocorrelation=rho,
        timescale=tau,
        loss=tr.loss,
        param_grad_norm=tr.param_grad_norm,
        param_grad_norm_clipped=tr.param_grad_norm_clipped,
        num_params=model.num_params,
        flops_per_step=analysis.flops_per_step(tr.config, spec.batch),
    )
    arrays = [v for v in vars(summary).values() if isinstance(v, np.ndarray)]
    for array in arrays + list(summary.param_grad_norms.values()):
        array.flags.writeable = False  # shared by every session
    return summary


def summarize(spec: TraceSpec) -> Summary:
    """The per-(t, l) norms and per-layer summaries of ``spec``'s trace (shared: read only)."""
    return server.CACHE.get(("summary", spec), lambda: _summary(spec), server.stop_if_gone)


@st.cache_data(max_entries=16, show_spinner=False)
def saturation_of(spec: TraceSpec) -> dict[str, np.ndarray]:
    """analysis.gate_saturation of ``spec``'s trace: gate name -> (L, T) fraction saturated."""
    return analysis.gate_saturation(get_trace(spec)[1])


@st.cache_data(max_entries=16, show_spinner=False)
def eigen_of(spec: TraceSpec) -> list:
    """analysis.recurrence_eigen of ``spec``'s model and trace: per layer where the factor
    through time is (eigenvalues, or a gate's quantiles over the trace)."""
    return recurrence_eigen(*get_trace(spec))


@st.cache_data(max_entries=16, show_spinner=False)
def cell_grad_norm(spec: TraceSpec) -> np.ndarray | None:
    """(L, T) |dLoss/dC_t^(l)| of the LSTM layers (nan elsewhere), or None without LSTM."""
    tr = get_trace(spec)[1]
    return None if tr.grad_cell_state is None else stable_norm(tr.grad_cell_state, (2, 3))


@st.cache_data(max_entries=16, show_spinner=False)
def grad_hidden_norm_ratio(spec_a: TraceSpec, spec_b: TraceSpec) -> np.ndarray:
    """(L, T) |G_t^(l)| of A over that of B (analysis.grad_hidden_norm_ratio), on the A/B page."""
    return analysis.grad_hidden_norm_ratio(get_trace(spec_a)[1], get_trace(spec_b)[1])


def timing_repeats(spec: TraceSpec) -> int:
    """How many runs trace_time takes the median of: more when one run is short."""
    estimate = seconds(spec)
    return 5 if estimate < 0.05 else 3 if estimate < 0.3 else 1


def timing_seconds(spec: TraceSpec) -> float:
    """Estimated seconds of ``trace_time(spec)``: the model drawn, then timing_repeats traces
    (no summary, no figures)."""
    c = spec.config
    run = budget.cost_now(trace_cost(c, spec.steps, spec.batch, spec.dtype))
    return timing_repeats(spec) * run + budget.draw_seconds(c, spec.init)


@st.cache_data(max_entries=16, show_spinner="Timing the trace…")
def trace_time(spec: TraceSpec) -> float:
    """Median wall time of ``trace`` for ``spec`` (analysis.time_trace), measured once."""
    model, x = _model_and_input(spec)
    repeats = timing_repeats(spec)
    with server.heavy_run(_("timing this trace")):
        return analysis.time_trace(model, x, repeats=repeats, **_trace_kwargs(spec))


@st.cache_data(max_entries=8, show_spinner=False)
def depth_sweep(sweep: SweepSpec) -> analysis.DepthSweep:
    """analysis.depth_sweep for ``sweep``, with a progress bar while it runs."""
    b = sweep.base
    text = ngettext(
        "Sweeping L = 1..{L} over {seeds} seed", "Sweeping L = 1..{L} over {seeds} seeds",
        len(sweep.seeds),
    ).format(L=sweep.max_layers, seeds=len(sweep.seeds))  # fmt: skip
    bar = st.progress(0.0, text=text)
    shown = [0.0]

    def progress(fraction: float) -> None:
        server.stop_if_gone()  # called after every depth: a closed tab stops the sweep
        if fraction - shown[0] >= 0.05 or fraction >= 1.0:  # few deltas, even at L_max = 32
            shown[0] = fraction
            bar.progress(min(1.0, fraction))

    with server.heavy_run(_("running this sweep")):
        result = analysis.depth_sweep(
            b.config,
            sweep.max_layers,
            sweep.seeds,
            b.steps,
            init=b.init,
            signal=b.signal,
            batch=b.batch,
            loss_kind=b.loss_kind,
            dtype=b.dtype,
            progress=progress,
        )
    bar.empty()  # replayed on cache hits too: the bar appears and is removed at once
    return result
