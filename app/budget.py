"""Budgets, so that no legal slider position takes more than a few seconds or exhausts memory.

Cost model of the core's numpy engine on this 2-core machine, fitted to measured traces and
sweeps (core of commit 597e2c6) and rounded up: seconds = layer-steps x (overhead + work).
The core is still getting faster; a stale model only reduces B, T or seeds sooner than needed.
"""

from __future__ import annotations

from deeprnn_core import RNNConfig
from deeprnn_core.config import GATES

TRACE_SECONDS = 2.5  # one trace (forward + adjoint), computed once then cached
SWEEP_SECONDS = 1.0  # one depth sweep (it also has a progress bar): a move stays < 1.5 s
MAX_TRACE_ELEMENTS = 2**22  # L*T*B*h: 32 MB per float64 array, ~10 arrays for an LSTM
MAX_SWEEP_ELEMENTS = 2**23  # S*T*h*G*L_max kept by the sweep's forward pass (B = 1)
_TRACE_STEP_S, _TRACE_ELEMENT_S = 6e-6, 0.15e-6  # per (layer, step); per element of B*G*h
_SWEEP_STEP_S, _SWEEP_FLOP_S = 6e-6, 0.09e-9  # per (layer, step); per flop of that step


def trace_seconds(config: RNNConfig, steps: int, batch: int) -> float:
    """Estimated wall time of one trace."""
    gates = sum(GATES[c] for c in config.cells)  # summed over the layers
    per_step = config.num_layers * _TRACE_STEP_S
    per_step += _TRACE_ELEMENT_S * batch * config.hidden_size * gates
    return steps * per_step


def sweep_seconds(config: RNNConfig, steps: int, max_layers: int, seeds: int) -> float:
    """Estimated wall time of a depth sweep (B = 1): forward once, backward from every depth."""
    h, gates = config.hidden_size, max(GATES[c] for c in config.cells)
    layer_steps = steps * (max_layers + max_layers * (max_layers + 1) / 2)
    return layer_steps * (_SWEEP_STEP_S + _SWEEP_FLOP_S * 4 * seeds * gates * h * h)


def _traces_fit(configs: tuple[RNNConfig, ...], steps: int, batch: int) -> bool:
    """The traces of ``configs``, run in one rerun, share the time and memory budgets."""
    elements = max(c.num_layers * c.hidden_size for c in configs) * steps * batch
    seconds = sum(trace_seconds(c, steps, batch) for c in configs)
    return elements * len(configs) <= MAX_TRACE_ELEMENTS and seconds <= TRACE_SECONDS


def _sweep_fits(config: RNNConfig, steps: int, max_layers: int, seeds: int) -> bool:
    gates = max(GATES[c] for c in config.cells)
    elements = seeds * steps * config.hidden_size * gates * max_layers
    seconds = sweep_seconds(config, steps, max_layers, seeds)
    return elements <= MAX_SWEEP_ELEMENTS and seconds <= SWEEP_SECONDS


def _fewer(steps: int) -> int:
    return max(1, min(steps - 1, int(steps * 0.9)))


def fit_trace(config: RNNConfig, steps: int, batch: int, *alongside: RNNConfig) -> tuple[int, int]:
    """(steps, batch) within the trace budgets: fewer samples first, then fewer steps. Traces
    run ``alongside`` in the same rerun (the A/B page) share the budgets; every config of one
    rerun gets the same (steps, batch)."""
    configs = (config, *alongside)
    while batch > 1 and not _traces_fit(configs, steps, batch):
        batch -= 1
    while steps > 1 and not _traces_fit(configs, steps, batch):
        steps = _fewer(steps)
    return steps, batch


def fit_sweep(config: RNNConfig, steps: int, max_layers: int, seeds: int) -> tuple[int, int]:
    """(steps, seeds) within the sweep budgets: fewer seeds first (down to 3), then steps."""
    while seeds > 3 and not _sweep_fits(config, steps, max_layers, seeds):
        seeds -= 1
    while steps > 1 and not _sweep_fits(config, steps, max_layers, seeds):
        steps = _fewer(steps)
    return steps, seeds


# --- training (app/training.py): one update is a trace of the minibatch plus an optimizer step.
# Fitted to the CPU time of train() updates (deeprnn_core.train of branch i7, recording on) at
# (L, h, T, B) = (4, 32, 25..50, 32) rnn / lstm, (4, 64, 50, 32) gru, (8, 64, 100, 32) rnn and
# rounded up: a fixed cost per layer-step that is ~20x larger for gated cells (their many small
# array operations), plus the matrix products, B * h^2 per gate block. On a loaded machine the
# wall time is up to ~3x the CPU time; the estimate does not chase that.
TRAIN_SECONDS = 20.0  # one click of Train (all runs of that click together), with progress bar
MAX_TRAIN_BYTES = 256 << 20  # what one update keeps (forward + adjoint), as the core counts it
_TRAIN_STEP_S = {"rnn": 2.5e-5, "gru": 2.5e-4, "lstm": 5e-4}  # per (layer, step), by cell
_TRAIN_FLOP_S = 1e-9  # per B * h^2 * gates of a layer-step
_EVAL_FRACTION = 0.4  # a validation pass is forward only


def update_seconds(config: RNNConfig, steps: int, batch: int) -> float:
    """Estimated wall time of one training update on ``batch`` sequences of ``steps``."""
    layer_steps = sum(
        _TRAIN_STEP_S[c] + _TRAIN_FLOP_S * batch * config.hidden_size**2 * GATES[c]
        for c in config.cells
    )  # summed over the layers
    return steps * layer_steps


def train_seconds(
    config: RNNConfig, steps: int, batch: int, updates: int, evals: int, num_val: int
) -> float:
    """Estimated wall time of a training run: updates, validation passes and 20 snapshots."""
    val = _EVAL_FRACTION * update_seconds(config, steps, num_val) * evals
    snapshots = 20 * update_seconds(config, steps, 1)
    return updates * update_seconds(config, steps, batch) + val + snapshots


def update_bytes(config: RNNConfig, steps: int, batch: int, itemsize: int = 8) -> int:
    """About what one update keeps (the core's count in train: states, gates and adjoint)."""
    gates = max(GATES[c] for c in config.cells)
    return config.num_layers * steps * batch * config.hidden_size * (6 + 3 * gates) * itemsize


def fit_train(
    configs: tuple[RNNConfig, ...], steps: int, batch: int, updates: int, evals: int, num_val: int
) -> tuple[int, int, int]:
    """(sequence steps, batch, updates) within the training budgets, for the runs of
    ``configs`` that one click starts (Plain vs deep and A/B train two): the memory of one
    update first (fewer sequences per batch, then shorter ones), then the time (fewer updates
    down to 50, then a smaller batch, then fewer updates down to 10)."""

    def small() -> bool:
        return max(update_bytes(c, steps, batch) for c in configs) <= MAX_TRAIN_BYTES

    def quick() -> bool:
        costs = (train_seconds(c, steps, batch, updates, evals, num_val) for c in configs)
        return sum(costs) <= TRAIN_SECONDS

    while batch > 1 and not small():
        batch = _fewer(batch)
    while steps > 1 and not small():
        steps = _fewer(steps)
    while updates > 50 and not quick():
        updates = max(50, _fewer(updates))
    while batch > 1 and not quick():
        batch = _fewer(batch)
    while updates > 10 and not quick():
        updates = max(10, _fewer(updates))
    return steps, batch, updates
