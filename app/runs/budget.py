"""Budgets, so that no legal slider position takes more than a few seconds or exhausts memory.

The estimates come from the core's cost model (deeprnn_core.engine.cost: measured constants per cell
type and precision, memory from the shapes the engine allocates); this module only states the
budgets and shrinks B, T or the sweep's seeds until a run fits them. ``bench/cost.py`` prints
the model against measured runs at the legal extremes.
"""

from __future__ import annotations

import os
import threading

from deeprnn_core import InitSpec, RNNConfig
from deeprnn_core.engine import cost
from deeprnn_core.engine.cost import (
    init_seconds,
    layout_seconds,
    num_params,
    sweep_cost,
    trace_cost,
)
from deeprnn_core.training.loop import step_bytes
from deeprnn_core.weights.init import DEFAULT_INIT

# one trace (forward + adjoint), computed once then cached; DEEPRNN_TRACE_SECONDS overrides it
# (the tests raise it to make a run long enough to be cut short)
TRACE_SECONDS = float(os.environ.get("DEEPRNN_TRACE_SECONDS", "2.5"))
SWEEP_SECONDS = 2.5  # one depth sweep (it also has a progress bar); drawing 3 seeds of the
# largest LSTM stack alone takes ~1.5 s
MAX_TRACE_BYTES = (
    int(os.environ.get("DEEPRNN_TRACE_MB", "1024")) << 20
)  # peak bytes of one trace (server.py reserves this per heavy run)
MAX_SWEEP_BYTES = 1 << 29  # peak bytes of one depth sweep
THEORY_SECONDS = 2.5  # the seed-averaged measurement next to the mean-field prediction
PHASE_SWEEP_SECONDS = 2.5  # the measured points on the phase diagram (25 gains x seeds)


# what a page adds to a trace, measured on the busy 2-core machine: the summary's norms and
# timescales per element of an (L, T, B, h) array, and the figures per (t, l) cell
SUMMARY_S_PER_ELEMENT = 0.25e-6
FIGURES_S_PER_CELL = 10e-6


# The constants were fitted on a machine shared with other jobs, whose speed changes ~5x from
# one hour to the next; each trace the server runs updates this measured / estimated factor
# (an exponential moving average, clamped), so the time estimates shown follow the machine as it
# is now. Drawing the weights (numpy's generators, QR, first touches of fresh memory) does not
# speed up as the engine's loops do (measured on a quiet machine: traces at 0.1-0.2x their
# constants, draws at 0.2-0.46x), so it has a factor of its own.
#
# The budgets themselves (every fit_* below: what a run is cut to) are priced in fixed reference
# units, the cost model's constants at speed 1 (``reference=True``), never at the learned speed:
# what a run is cut to is then a function of its settings alone, the same on a fresh server and
# a warm one, on every visit, so a copied link reproduces exactly the picture it was copied
# from. The learned speed only changes the "about N s" shown.
_speed = {"trace": 1.0, "init": 1.0}
FIXED_RATES = "at the cost model's fixed rates"  # how a price in reference units is worded


def priced(reference: float, now: float) -> str:
    """A budget's price in words: the reference seconds the budget compares, and the estimate
    at the server's measured speed, e.g. "3.1 s at the cost model's fixed rates (about 0.6 s on
    this server now)"."""
    return f"{reference:.2g} s {FIXED_RATES} (about {now:.2g} s on this server now)"


_speed_lock = threading.Lock()
SPEED_LIMITS = (0.1, 10.0)


def speed(kind: str = "trace", reference: bool = False) -> float:
    """Measured over estimated seconds of the recent traces, or weight draws with kind="init"
    (1 until one was measured); 1 with ``reference`` (the fixed units the budgets are priced
    in)."""
    return 1.0 if reference else _speed[kind]


def observe(estimated: float, measured: float, kind: str = "trace") -> None:
    """Fold one run's measured time into ``speed(kind)`` (runs under 50 ms are too noisy)."""
    if estimated < 0.05 or measured <= 0:
        return
    ratio = min(max(measured / estimated, SPEED_LIMITS[0]), SPEED_LIMITS[1])
    with _speed_lock:
        _speed[kind] = 0.6 * _speed[kind] + 0.4 * ratio


def draw_seconds(config: RNNConfig, init: InitSpec, reference: bool = False) -> float:
    """Estimated wall time of drawing ``config``'s weights as ``init`` says (cost.init_seconds:
    only its scheme matters) at the current speed of weight draws (or in reference units)."""
    return init_seconds(config, init.scheme) * speed("init", reference)


def at_speed(seconds: float, config: RNNConfig, reference: bool = False) -> float:
    """A core estimate of a run of ``config`` (trace_cost, scrub_seconds) at the current speed:
    its per-step work scaled by speed(), its weights' layout (cost.layout_seconds, memory-bound)
    as it is. With ``reference``: the core's estimate as it is."""
    layout = layout_seconds(config)
    return (seconds - layout) * speed("trace", reference) + layout


def cost_now(estimate: cost.Cost, reference: bool = False) -> float:
    """A core Cost's seconds at the current speeds: the per-step work at speed(), the weight
    draws at speed("init"), the layout as it is. With ``reference``: estimate.seconds."""
    steps = estimate.seconds - estimate.draw_seconds - estimate.layout_seconds
    draws = estimate.draw_seconds * speed("init", reference)
    return steps * speed("trace", reference) + draws + estimate.layout_seconds


def observe_trace(config: RNNConfig, estimated: float, measured: float) -> None:
    """observe() for a trace of ``config``: its per-step work only (the layout does not scale)."""
    layout = layout_seconds(config)
    observe(estimated - layout, max(0.0, measured - layout))


def page_seconds(config: RNNConfig, steps: int, batch: int) -> float:
    """Estimated wall time of the summary and figures of one trace."""
    cells = config.num_layers * steps
    return cells * (batch * config.hidden_size * SUMMARY_S_PER_ELEMENT + FIGURES_S_PER_CELL)


def trace_seconds(
    config: RNNConfig, steps: int, batch: int, dtype: str = "float64", reference: bool = False
) -> float:
    """Estimated wall time of one trace with its summary and figures, at the current speed (or
    in reference units)."""
    run = cost_now(trace_cost(config, steps, batch, dtype), reference)
    return run + page_seconds(config, steps, batch) * speed("trace", reference)


def sweep_seconds(
    config: RNNConfig,
    steps: int,
    max_layers: int,
    seeds: int,
    dtype: str = "float64",
    init: InitSpec = DEFAULT_INIT,
    reference: bool = False,
) -> float:
    """Estimated wall time of a depth sweep (B = 1): forward once, backward from every depth
    (``init``: how each seed's weights are drawn; only its scheme changes the cost)."""
    return cost_now(sweep_cost(config, max_layers, seeds, steps, dtype, init.scheme), reference)


def traces_need(
    configs: tuple[RNNConfig, ...], steps: int, batch: int, dtype: str, reference: bool = True
) -> tuple[int, float]:
    """Peak bytes and seconds of the traces of ``configs`` run one after the other in one
    rerun: all results kept, plus the largest one's scratch at its peak. The seconds are in
    reference units (what the budget compares), or at the current speed with reference=False."""
    costs = [trace_cost(c, steps, batch, dtype) for c in configs]
    peak = sum(c.kept_bytes for c in costs) + max(c.peak_bytes - c.kept_bytes for c in costs)
    return peak, sum(trace_seconds(c, steps, batch, dtype, reference) for c in configs)


def traces_fit(configs: tuple[RNNConfig, ...], steps: int, batch: int, dtype: str) -> bool:
    """The traces of ``configs``, run in one rerun, share the time and memory budgets (time in
    reference units: the answer depends on the settings alone)."""
    peak, seconds = traces_need(configs, steps, batch, dtype)
    return peak <= MAX_TRACE_BYTES and seconds <= TRACE_SECONDS


def _sweep_fits(config, steps: int, max_layers: int, seeds: int, dtype: str, init) -> bool:
    sweep = sweep_cost(config, max_layers, seeds, steps, dtype, init.scheme)
    return sweep.peak_bytes <= MAX_SWEEP_BYTES and sweep.seconds <= SWEEP_SECONDS


def _fewer(steps: int) -> int:
    return max(1, min(steps - 1, int(steps * 0.9)))


def fit_trace(
    config: RNNConfig, steps: int, batch: int, *alongside: RNNConfig, dtype: str = "float64"
) -> tuple[int, int]:
    """(steps, batch) within the trace budgets: fewer samples first, then fewer steps. Traces
    run ``alongside`` in the same rerun (the A/B page) share the budgets; every config of one
    rerun gets the same (steps, batch)."""
    configs = (config, *alongside)
    while batch > 1 and not traces_fit(configs, steps, batch, dtype):
        batch -= 1
    while steps > 1 and not traces_fit(configs, steps, batch, dtype):
        steps = _fewer(steps)
    return steps, batch


def fit_sweep(
    config: RNNConfig,
    steps: int,
    max_layers: int,
    seeds: int,
    dtype: str = "float64",
    init: InitSpec = DEFAULT_INIT,
) -> tuple[int, int]:
    """(steps, seeds) within the sweep budgets: fewer seeds first (down to 3), then steps, then
    seeds again (drawing 3 seeds of an L = 32, h = 256 LSTM alone can take the budget)."""
    while seeds > 3 and not _sweep_fits(config, steps, max_layers, seeds, dtype, init):
        seeds -= 1
    while steps > 1 and not _sweep_fits(config, steps, max_layers, seeds, dtype, init):
        steps = _fewer(steps)
    while seeds > 1 and not _sweep_fits(config, steps, max_layers, seeds, dtype, init):
        seeds -= 1
    return steps, seeds


def theory_seconds(config: RNNConfig, steps: int, batch: int, seeds: int) -> float:
    """Estimated wall time of the seed-averaged measurement: one trace per seed."""
    return seeds * trace_seconds(config, steps, batch)


def fit_seeds(config: RNNConfig, steps: int, batch: int, seeds: int) -> int:
    """Seeds whose traces, run one after another for a seed average, take at most
    THEORY_SECONDS in reference units; 0 when even one would not (the page then says so and
    skips it)."""
    per_seed = trace_seconds(config, steps, batch, reference=True)
    return min(seeds, int(THEORY_SECONDS / per_seed) if per_seed > 0 else seeds)


def phase_sweep_seconds(
    config: RNNConfig, steps: int, batch: int, points: int, seeds: int, reference: bool = False
) -> float:
    """Estimated wall time of the measured phase points: a gaussian-init trace per point and
    seed (phase.measured_phase_points), weights drawn each time."""
    one = cost_now(trace_cost(config, steps, batch), reference)
    return points * seeds * (one + draw_seconds(config, InitSpec("gaussian"), reference))


def fit_phase_seeds(config: RNNConfig, steps: int, batch: int, points: int, seeds: int) -> int:
    """Seeds per point within PHASE_SWEEP_SECONDS in reference units (at least 1: the sweep is
    small already)."""
    while seeds > 1 and phase_sweep_seconds(config, steps, batch, points, seeds, True) > (
        PHASE_SWEEP_SECONDS
    ):
        seeds -= 1
    return seeds


def eigen_seconds(config: RNNConfig, steps: int, batch: int) -> float:
    """Estimated wall time of the eigenvalue panel's numbers (analysis.recurrence_eigen) of
    one trace, at the current speed."""
    return cost.eigen_seconds(config, steps, batch) * speed()


def spectra_seconds(config: RNNConfig, steps: int, batch: int) -> float:
    """Estimated wall time of the Jacobian spectra and Pascanu's bound of one trace, at the
    current speed."""
    return cost.spectra_seconds(config, steps, batch) * speed()


# --- training (runs.training): one update is a trace of the minibatch (the core's exact
# forward and adjoint, engine.cost.trace_cost, at the current speed()) plus an optimizer
# step. Measured side by side in one run (2-core machine, one BLAS thread, median of 40 updates
# against the median of 7 traces of the same minibatch, float64, adding task): an update took
# 0.61-0.99x the trace at (L, h, T, B) = (4, 32, 51, 32) rnn / lstm, (4, 64, 51, 32) gru,
# (8, 64, 101, 32) rnn, (2, 128, 51, 64) lstm, and 2.1x at B = 1 (1.0 vs 2.2 ms: the step's own
# fixed cost). So: UPDATE_PER_TRACE = 1 (the upper end) plus a step cost per parameter.
TRAIN_SECONDS = 20.0  # one click of Train (all runs of that click together), with progress bar
MIN_VALIDATION = 20  # validation sequences at the least: the validation loss and the baseline
# are measured on them, and on one sequence (tried) the adding task's baseline read 3.9e-05
# against its 1/6, so the words comparing the loss with it said nothing true
MAX_TRAIN_BYTES = 256 << 20  # what one update keeps (forward + adjoint), as the core counts it
UPDATE_PER_TRACE = 1.0  # an update's time over its minibatch's trace time (measured 0.6-1.0)
_OPTIMIZER_STEP_S = (1.2e-3, 10e-9)  # torch.optim step and bookkeeping: fixed, per parameter
# a validation pass is forward only, on every validation sequence at once; measured side by
# side with a trace of the same 200 sequences: 0.27-0.65x for lstm / rnn, 1.19x for a gru
_EVAL_FRACTION = 1.0


def update_seconds(config: RNNConfig, steps: int, batch: int, reference: bool = False) -> float:
    """Estimated wall time of one training update on ``batch`` sequences of ``steps``: the
    core's cost of a trace of the minibatch, at the current speed, plus an optimizer step."""
    run = cost_now(trace_cost(config, steps, batch), reference) * UPDATE_PER_TRACE
    fixed, per_param = _OPTIMIZER_STEP_S
    return run + fixed + per_param * num_params(config)


def train_seconds(
    config: RNNConfig,
    steps: int,
    batch: int,
    updates: int,
    evals: int,
    num_val: int,
    reference: bool = False,
) -> float:
    """Estimated wall time of a training run: the weights drawn, updates, ``evals`` validation
    passes and 20 snapshots (a short run has at most one of each per update, and one before)."""
    evals, snapshots = min(evals, updates + 1), min(20, updates + 1)
    val = _EVAL_FRACTION * update_seconds(config, steps, num_val, reference) * evals
    snapshots = snapshots * update_seconds(config, steps, 1, reference)
    draw = draw_seconds(config, DEFAULT_INIT, reference)  # the torch scheme's, whatever the run's
    return draw + updates * update_seconds(config, steps, batch, reference) + val + snapshots


def update_bytes(config: RNNConfig, steps: int, batch: int, itemsize: int = 8) -> int:
    """About what one update keeps (the core's count in train: states, gates and adjoint)."""
    return step_bytes(config, steps, batch, "float64" if itemsize == 8 else "float32")


def fit_train(
    configs: tuple[RNNConfig, ...],
    steps: int,
    batch: int,
    updates: int,
    evals: int,
    num_val: int,
    fixed_val: bool = False,
) -> tuple[int, int, int, int]:
    """(sequence steps, batch, updates, validation sequences) within the training budgets, for
    the runs of ``configs`` that one click starts (Plain vs deep and A/B train two): the memory
    of one update first (fewer sequences per batch, then shorter ones), then the time (fewer
    updates down to 50, fewer validation sequences down to MIN_VALIDATION, a smaller batch,
    fewer updates down to 10, shorter sequences). ``fixed_val``: the task's validation split
    cannot shrink (a real series). Time in reference units: the cut depends on the settings
    alone."""

    def small() -> bool:
        return max(update_bytes(c, steps, batch) for c in configs) <= MAX_TRAIN_BYTES

    def quick() -> bool:
        costs = (train_seconds(c, steps, batch, updates, evals, num_val, True) for c in configs)
        return sum(costs) <= TRAIN_SECONDS

    def fewer_val(low: int) -> int:
        return num_val if fixed_val else max(low, min(num_val - 1, int(num_val * 0.7)))

    while batch > 1 and not small():
        batch = _fewer(batch)
    while steps > 1 and not small():
        steps = _fewer(steps)
    while updates > 50 and not quick():
        updates = max(50, _fewer(updates))
    while num_val > MIN_VALIDATION and not fixed_val and not quick():
        num_val = fewer_val(MIN_VALIDATION)
    while batch > 1 and not quick():
        batch = _fewer(batch)
    while updates > 10 and not quick():
        updates = max(10, _fewer(updates))
    while steps > 2 and not quick():  # last: shorter sequences (a deep, wide stack at T = 500)
        steps = _fewer(steps)
    return steps, batch, updates, num_val
