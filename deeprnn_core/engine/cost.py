"""What a trace or a depth sweep will cost, before running it: seconds and bytes.

Memory is counted from the shapes the engine allocates (exact for what a Trace keeps, an upper
bound for the peak). Time is a few measured constants per cell type and precision, for this
engine on one BLAS thread: per (layer, step) a fixed overhead, plus a term for the recurrent
matmul (B G h^2 multiply-adds) and one for the elementwise work (B G h), forward and backward
together. ``bench/cost.py`` measures the model against real runs at the legal extremes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells import cell_type
from deeprnn_core.config import RNNConfig

# Per (layer, step), in seconds, each cell type's constants (its Cell.cost.time, per dtype): a
# fixed overhead; the recurrent matmul H_{t-1} W_hh (forward) and its transpose (backward) per
# weight element G h^2 when B = 1 (BLAS gemv), or per weight element plus per multiply-add
# B G h^2 when B > 1 (gemm repacks the whole weight on every call, so B = 2 costs ~10x B = 1 at
# h = 256); and the elementwise work per gate unit B G h. Fitted to traces on the 2-core machine
# while other jobs loaded it (load ~9), median error < 15 %: an idle machine runs faster than
# promised.
_FIXED_S = 1.5e-4  # per call: checks, weight layout, head and loss
# per parameter and call, by the layer's cell (Cell.cost.layout): the weights laid out in the
# run's precision (W and W_hh^T) and the parameter gradients allocated, summed and clipped; what
# a short run costs at a large L h^2. Measured in the app's server process (every array over
# 1 MB a fresh mapping, so first touches fault pages in) at T = 1, L = 32: 0.21-0.25 s for an
# LSTM at h = 256 (16.6 M parameters), 0.016 s for an rnn (4.1 M), 0.013 s for a GRU at h = 128
# (3.2 M), whether or not the machine was busy: memory-bound, see layout_seconds
_HEAD_LAYOUT_S = 5e-9  # the head's weights, as a plain layer's
# drawing the weights (init.init_params) and laying them out, per parameter; an orthogonal
# block's QR adds a cost that grows with its width h (one BLAS thread)
_INIT_S = {"torch": 30e-9, "gaussian": 50e-9, "identity": 50e-9, "orthogonal": 50e-9}
_QR_S = 0.5e-9  # per parameter and unit of h, orthogonal only
_ITEM = {"float64": 8, "float32": 4}
# (L, T, B, h) arrays a layer keeps beyond H and A during the forward pass, per cell (gates,
# cell state, LayerNorm statistics: Cell.cost.kept), and the per-layer scratch of its backward
# pass (Cell.cost.scratch)


@dataclass(frozen=True)
class Cost:
    """An estimate of one run."""

    seconds: float  # wall time on one core
    kept_bytes: int  # what the result keeps (a Trace and its Model; a sweep's small arrays)
    peak_bytes: int  # the most allocated at once while it runs
    # the parts of ``seconds`` that do not follow the per-step loops' speed from one machine
    # load to another: drawing weights (init_seconds) and laying them out (layout_seconds)
    draw_seconds: float = 0.0
    layout_seconds: float = 0.0


def _check(config: RNNConfig, steps: int, batch: int, dtype: str) -> None:
    if not isinstance(config, RNNConfig):
        raise TypeError(f"config must be an RNNConfig, got {type(config).__name__}")
    for name, value in (("steps", steps), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if dtype not in _ITEM:
        raise ValueError(f"dtype must be one of {tuple(_ITEM)}, got {dtype!r}")


def _seconds(cells, h: int, steps: int, batch: int, dtype: str) -> float:
    total = _FIXED_S
    for cell in map(cell_type, cells):
        step, gemv, pack, madd, unit = cell.cost.time[dtype]
        weight = cell.step_weights(h)
        matmul = gemv * weight if batch == 1 else pack * weight + madd * batch * weight
        total += steps * (step + matmul + unit * batch * cell.blocks * h)
    return total


@functools.lru_cache(maxsize=1024)  # a budget search asks it thousands of times per page
def num_params(config: RNNConfig) -> int:
    """Scalar parameters of ``config`` (head included), as Model.num_params counts them."""
    h, total = config.hidden_size, 0
    for k, cell in enumerate(config.cells):
        shapes = cell_type(cell).shapes(h, config.layer_input_size(k), config.bias)
        total += sum(int(np.prod(shape)) for shape in shapes.values())
        total += 2 * h if config.layer_norm else 0
    return total + config.output_size * (h + 1)


def layout_seconds(config: RNNConfig) -> float:
    """The part of ``trace_cost(config, ...).seconds`` spent laying out the weights and their
    gradients (per parameter, whatever T and B): memory-bound, it does not follow the speed of
    the per-step loops from one machine load to another."""
    h, total = config.hidden_size, 0.0
    for k, cell in enumerate(map(cell_type, config.cells)):
        total += cell.cost.layout * cell.blocks * h * (config.layer_input_size(k) + h + 2)
    return total + _HEAD_LAYOUT_S * config.output_size * (h + 1)


def init_seconds(config: RNNConfig, scheme: str = "torch") -> float:
    """Estimated wall time of ``Model.init(config, scheme)`` and the engine's weight layout."""
    if scheme not in _INIT_S:
        raise ValueError(f"scheme must be one of {tuple(_INIT_S)}, got {scheme!r}")
    per_param = _INIT_S[scheme] + (_QR_S * config.hidden_size if scheme == "orthogonal" else 0)
    return num_params(config) * per_param


def trace_cost(config: RNNConfig, steps: int, batch: int = 1, dtype: str = "float64") -> Cost:
    """Estimated cost of ``trace(Model(config), x)`` with x of shape (steps, batch, d),
    dropout included (its masks are kept)."""
    _check(config, steps, batch, dtype)
    item, L, h = _ITEM[dtype], config.num_layers, config.hidden_size
    cells = config.cells
    grid = L * steps * batch * h  # elements of one (L, T, B, h) array
    kinds = [cell_type(c) for c in cells]
    gate_names = set().union(*(kind.gate_names() for kind in kinds))
    cell_states = 2 if any(kind.cell_state for kind in kinds) else 0  # C_t and dLoss/dC_t
    arrays = 4 + len(gate_names) + cell_states + (1 if config.dropout else 0)
    params = num_params(config)
    io = steps * batch * (config.input_size + 3 * config.output_size)
    recurrent = sum(kind.recurrent_weights(h) for kind in kinds)  # W_hh: laid out twice (W, W^T)
    # model (float64), its engine layout (one copy, and W_hh^T once more), the gradients
    kept = grid * arrays * item + params * (8 + 2 * item) + recurrent * item + io * item
    per_layer = steps * batch * h * item
    forward_extra = sum(kind.cost.kept for kind in kinds) * per_layer  # records until the end
    scratch = (
        max(kind.cost.scratch for kind in kinds) * per_layer + params * 16
    )  # init draws float64
    layout = layout_seconds(config)
    seconds = _seconds(cells, h, steps, batch, dtype) + layout
    return Cost(seconds, int(kept), int(kept + forward_extra + scratch), layout_seconds=layout)


def scrub_seconds(config: RNNConfig, steps: int, batch: int = 1, dtype: str = "float64") -> float:
    """Estimated wall time of ``scrub.depth_scrub``: one forward pass of the L-layer stack, then
    one backward pass per layer in which every depth that reaches it (L - k + 1 of them at layer
    k) runs side by side: the per-step overhead is paid L times, the products L(L+1)/2 times.
    A forward or a backward pass is taken as half of a trace's step."""
    _check(config, steps, batch, dtype)
    h, L = config.hidden_size, config.num_layers
    total = _FIXED_S * L + layout_seconds(config)
    for k, cell in enumerate(map(cell_type, config.cells)):
        step, gemv, pack, madd, unit = cell.cost.time[dtype]
        weight = cell.step_weights(h)
        for n in (batch, (L - k) * batch):  # forward: the batch; backward: every depth's batch
            matmul = gemv * weight if n == 1 else pack * weight + madd * n * weight
            total += 0.5 * steps * (step + matmul + unit * n * cell.blocks * h)
    return total


# spectra.jacobian_spectra per (layer, step, sample, unit): the rows of each step Jacobian from
# a (K, K) Gram matrix of the weight rows (K = G, the cell's blocks); and pascanu_bound's SVD of
# each (G h, h) W_hh, per G h^3. In the units of Cell.cost.time: measured side by side with
# traces at (L, T, B, h) from (16, 100, 2, 64) to (32, 500, 8, 256), scaled by the trace's
# measured / estimated time of the same run (numpy's elementwise work and LAPACK do not speed up
# as much as the engine's loops on a quiet machine): Cell.cost.spectra
_SVD_S = 1.0e-9


def spectra_seconds(config: RNNConfig, steps: int, batch: int = 1) -> float:
    """Estimated wall time of ``spectra.jacobian_spectra`` and ``spectra.pascanu_bound`` for a
    trace of (steps, batch) sequences (one BLAS thread; both work in float64)."""
    _check(config, steps, batch, "float64")
    h = config.hidden_size
    kinds = [cell_type(c) for c in config.cells]
    rows = sum(kind.cost.spectra for kind in kinds) * steps * batch * h
    return _FIXED_S + rows + sum(_SVD_S * kind.recurrent_weights(h) * h for kind in kinds)


# analysis.recurrence_eigen, one BLAS thread, measured 2026-12-07: a fixed matrix's eigenvalues
# (a plain rnn layer's W_hh, LAPACK's geev) 1.6-2.3e-9 s per h^3; a gate's distribution over the
# trace (each gate copied to float64, then the quantiles of one) 2.3-4.2e-8 s per value
_EIG_S, _QUANTILE_S, _COPY_S = 2.0e-9, 3.0e-8, 2.0e-9


def eigen_seconds(config: RNNConfig, steps: int, batch: int = 1) -> float:
    """Estimated wall time of ``analysis.recurrence_eigen`` for a trace of (steps, batch)
    sequences: per layer with a ``Cell.eigen`` hook, the eigenvalues of its recurrence matrix
    (h^3) or its gate's quantiles over every (t, b, unit)."""
    _check(config, steps, batch, "float64")
    h, values = config.hidden_size, steps * batch * config.hidden_size
    total = _FIXED_S
    for kind in (cell_type(c) for c in config.cells):
        if kind.eigen is None:
            continue
        if kind.gate_names():
            total += (_QUANTILE_S + _COPY_S * len(kind.gate_names())) * values
        elif kind.recurrent_weights(h):
            total += _EIG_S * h**3
        else:  # eigenvalues read off the parameters (an LRU's lambda)
            total += _COPY_S * h
    return total


def sweep_cost(
    config: RNNConfig,
    max_layers: int,
    seeds: int,
    steps: int,
    dtype: str = "float64",
    scheme: str = "torch",
) -> Cost:
    """Estimated cost of ``analysis.depth_sweep`` (B = 1): every seed's weights drawn, one
    forward pass of the deepest stack for all seeds side by side, then the backward pass of
    every depth 1..max_layers. Per-layer settings extend by their last entry, as the sweep
    does."""
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise ValueError(f"max_layers must be an int >= 1, got {max_layers!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an int >= 1, got {seeds!r}")
    _check(config, steps, 1, dtype)
    cells = config.cells + (config.cells[-1],) * max(0, max_layers - config.num_layers)
    cells = cells[:max_layers]
    h, item = config.hidden_size, _ITEM[dtype]
    # the seeds run side by side, each a B = 1 matmul (gemv) in one stacked call; a backward
    # layer costs about what a forward one does: forward + backward of depth d is priced as
    # (d + 1) / 2 traces of depth d
    layer_time = [seeds * _seconds((c,), h, steps, 1, dtype) / 2 for c in cells]
    seconds = sum(layer_time) + sum(sum(layer_time[:d]) for d in range(1, max_layers + 1))
    per_layer = steps * seeds * h * item
    kept_forward = sum(2 + cell_type(c).cost.kept for c in cells) * per_layer
    scratch = max(cell_type(c).cost.scratch for c in cells) * per_layer * 2
    deep = RNNConfig(num_layers=max_layers, input_size=config.input_size, hidden_size=h, cell=cells)
    weights = seeds * num_params(deep) * (8 + item)  # every seed's draws and their layout
    draws, layout = seeds * init_seconds(deep, scheme), seeds * layout_seconds(deep)
    peak = int(kept_forward + scratch + weights)
    return Cost(seconds + draws + layout, 16 * seeds * max_layers, peak, draws, layout)
