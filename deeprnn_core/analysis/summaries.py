"""Summaries over traces that the app draws: norms, attenuation, timescales, depth sweeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from deeprnn_core.analysis.measures import PathEnds, measure_values, rms
from deeprnn_core.cells import cell_type, path_gradient
from deeprnn_core.config import RNNConfig, blocks
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine import stack as engine
from deeprnn_core.engine.layers import backward_layer
from deeprnn_core.engine.norms import stable_norm
from deeprnn_core.trace import DTYPES, LOSS_KINDS, Trace, trace
from deeprnn_core.weights.init import DEFAULT_INIT, InitSpec, init_params
from deeprnn_core.weights.model import Model


def cell_norms(tr: Trace) -> tuple[np.ndarray, np.ndarray]:
    """(|H_t^(l)|, |G_t^(l)|), each (L, T): Frobenius norms over batch and units."""
    return stable_norm(tr.hidden, (2, 3)), stable_norm(tr.grad_hidden, (2, 3))


def param_grad_norms(tr: Trace) -> dict[str, np.ndarray]:
    """Per-layer norms (L,) of dLoss/dW_xh^(l) (the path through depth) and dLoss/dW_hh^(l)
    (the path through time)."""
    cells, grads = tr.config.cells, tr.param_grads
    return {
        name: np.array([stable_norm(path_gradient(c, grads, path, f"_l{k}"), None)
                        for k, c in enumerate(cells)])
        for name, path in (("W_xh", "depth"), ("W_hh", "time"))
    }  # fmt: skip


def attenuation(tr: Trace) -> float:
    """|G_1^(1)| / |G_T^(L)|: how much of the gradient at the top-right cell reaches the
    bottom-left one (below 1: vanishing; above 1: exploding; nan if either overflowed)."""
    grad = cell_norms(tr)[1]
    with np.errstate(all="ignore"):
        return float(grad[0, 0] / grad[-1, -1])


def path_ends(tr: Trace) -> PathEnds:
    """The norms at the ends of every measured path of ``tr`` (see analysis.measures)."""
    grad = cell_norms(tr)[1]  # (L, T)
    L = tr.config.num_layers
    ends = {}
    for name, path in (("w_xh", "depth"), ("w_hh", "time")):
        for end, k in (("bottom", 0), ("top", L - 1)):
            g = path_gradient(tr.config.cells[k], tr.param_grads, path, f"_l{k}")
            ends[f"{name}_{end}"] = rms(g, stable_norm(g, None))
    return PathEnds(grad[0, 0], grad[0, -1], grad[-1, 0], grad[-1, -1], **ends,
                    num_layers=L, steps=grad.shape[1],
                    time_path=cell_type(tr.config.cells[-1]).hidden_recurrent)  # fmt: skip


def measures(tr: Trace) -> dict[str, float]:
    """Every measure of deeprnn_core.analysis.measures.MEASURES for ``tr``: nan where no path."""
    return {k: float(v) for k, v in measure_values(path_ends(tr)).items()}


def layer_timescales(tr: Trace) -> tuple[np.ndarray, np.ndarray]:
    """Per layer (L,): the lag-1 autocorrelation of H_t^(l) over time (mean over units and
    samples) and the timescale -1 / ln(rho) in steps it implies (inf for rho >= 1, 0 for
    rho <= 0, nan when T < 3 or the layer is constant or overflowed)."""
    hidden = tr.hidden.astype(np.float64)  # (L, T, B, h)
    L = hidden.shape[0]
    rho = np.full(L, np.nan)
    if hidden.shape[1] >= 3:
        with np.errstate(all="ignore"):
            # rho is scale-free: divide each unit by its largest |H| over time first, so that
            # huge finite states (relu at large gain, ~1e200) do not overflow the products
            scale = np.max(np.abs(hidden), axis=1, keepdims=True)  # (L, 1, B, h)
            safe = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
            unit = hidden / safe
            centred = unit - unit.mean(axis=1, keepdims=True)
            num = (centred[:, 1:] * centred[:, :-1]).sum(axis=1)  # (L, B, h)
            den = (centred * centred).sum(axis=1)
            moving = np.log(den) + 2 * np.log(safe[:, 0]) > np.log(1e-12)  # not constant
            per_unit = np.where((den > 0) & moving, num / den, np.nan)  # (L, B, h)
            valid = np.isfinite(per_unit).any(axis=(1, 2))
            rho[valid] = np.nanmean(per_unit[valid], axis=(1, 2))
    with np.errstate(all="ignore"):
        tau = np.where(rho >= 1, np.inf, np.where(rho <= 0, 0.0, -1.0 / np.log(rho)))
    return rho, np.where(np.isnan(rho), np.nan, tau)


def flops_per_step(config: RNNConfig, batch: int = 1) -> int:
    """Multiply-adds x 2 of one time step through every layer and the head: O(L h^2)."""
    h, total = config.hidden_size, 0
    for k, cell in enumerate(config.cells):
        total += 2 * batch * blocks(cell) * h * (config.layer_input_size(k) + h)
    return total + 2 * batch * h * config.output_size


def time_trace(model: Model, x: np.ndarray, repeats: int = 3, **kwargs) -> float:
    """Median wall time in seconds of ``trace(model, x, **kwargs)`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        trace(model, x, **kwargs)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


@dataclass(frozen=True)
class DepthSweep:
    """For depth L = 1..L_max and each seed: the gradient norms at the two ends of the grid."""

    depths: np.ndarray  # (L_max,) 1..L_max
    seeds: np.ndarray  # (S,)
    grad_first: np.ndarray  # (S, L_max) |G_1^(1)| of the depth-L network
    grad_last: np.ndarray  # (S, L_max) |G_T^(L)| of the depth-L network
    steps: int = 0  # T
    grad_last_bottom: np.ndarray | None = None  # (S, L_max) |G_T^(1)| of the depth-L network
    grad_first_top: np.ndarray | None = None  # (S, L_max) |G_1^(L)|
    param_rms: dict[str, np.ndarray] | None = None  # "w_xh_bottom", ... -> (S, L_max) rms of
    # dLoss/dW at layer 1 ("bottom") and layer L ("top") of the depth-L network
    # (L_max,) the depth-L network's top layer's H_t feeds H_{t+1} (Cell.hidden_recurrent)
    time_path: np.ndarray | bool = True

    def measure(self, key: str) -> np.ndarray:
        """(S, L_max) measure ``key`` of deeprnn_core.analysis.measures.MEASURES; nan where a run
        overflowed or the path has no steps."""
        ends = PathEnds(self.grad_first, self.grad_last_bottom, self.grad_first_top,
                        self.grad_last, **self.param_rms, num_layers=self.depths,
                        steps=self.steps, time_path=self.time_path)  # fmt: skip
        value = measure_values(ends)[key]
        return np.where(np.isfinite(value), value, np.nan)

    def measure_quantiles(self, key: str, q=(0.25, 0.5, 0.75)) -> np.ndarray:
        """(len(q), L_max) quantiles of measure ``key`` over the seeds where it is finite."""
        return _quantiles(self.measure(key), q)

    @property
    def ratio(self) -> np.ndarray:
        """(S, L_max) |G_1^(1)| / |G_T^(L)| (nan where a run overflowed)."""
        with np.errstate(all="ignore"):
            r = self.grad_first / self.grad_last
        return np.where(np.isfinite(r), r, np.nan)

    def quantiles(self, q=(0.25, 0.5, 0.75)) -> np.ndarray:
        """(len(q), L_max) quantiles of the ratio over the seeds that did not overflow."""
        return _quantiles(self.ratio, q)

    @property
    def exploded(self) -> np.ndarray:
        """(L_max,) number of seeds whose run at that depth overflowed."""
        return (~np.isfinite(self.ratio)).sum(axis=0)


def _quantiles(values: np.ndarray, q) -> np.ndarray:
    """(len(q), D) quantiles over axis 0 of (S, D) ``values``, skipping nan (nan if all are)."""
    out = np.full((len(q), values.shape[1]), np.nan)
    ok = np.isfinite(values).any(axis=0)
    if ok.any():
        out[:, ok] = np.nanquantile(values[:, ok], q, axis=0)
    return out


def depth_sweep(
    config: RNNConfig,
    max_layers: int,
    seeds,
    steps: int,
    *,
    init: InitSpec = DEFAULT_INIT,
    signal: str = "noise",
    batch: int = 1,
    loss_kind: str = "last",
    dtype: str = "float64",
    progress: Callable[[float], None] | None = None,
) -> DepthSweep:
    """The path ends of every measure (deeprnn_core.analysis.measures) for L = 1..max_layers: the
    gradient at (t=1, l=1), (T, 1), (1, L) and (T, L) and the parameter gradients of the
    bottom and top layers.

    Seed s of ``seeds`` draws the weights ``replace(init, seed=s)`` (``init.seed`` itself is
    not used) and its input from s. Every seed's networks share their layers across depths (see
    ``weights.init``), so one forward pass of the deepest stack serves every depth, and the seeds
    run side by side. Per-layer settings of ``config`` are extended to the deeper layers by
    repeating the last one; dropout is off (eval mode). ``progress`` receives the fraction done.
    """
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise ValueError(f"max_layers must be an int >= 1, got {max_layers!r}")
    seeds = np.asarray(seeds, dtype=np.int64).ravel()
    if seeds.size < 1:
        raise ValueError("seeds must name at least one seed, got none")
    if loss_kind not in LOSS_KINDS:
        raise ValueError(f"loss_kind must be one of {LOSS_KINDS}, got {loss_kind!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if not isinstance(init, InitSpec):
        raise TypeError(f"init must be an InitSpec, got {type(init).__name__} {init!r:.80}")
    deep = _deepened(config, max_layers)
    params = [init_params(deep, replace(init, seed=int(s))) for s in seeds]
    layers = engine.stack_layers(deep, params, dtype)
    head_w = np.stack([p["head.weight"].T for p in params]).astype(dtype)  # (S, h, q)
    head_b = np.stack([p["head.bias"][None] for p in params]).astype(dtype)  # (S, 1, q)
    x = np.stack([make_signal(signal, steps, batch, deep.input_size, int(s)) for s in seeds], 1)
    x = x.astype(dtype)  # (T, S, B, d)
    y = np.zeros(x.shape[:3] + (deep.output_size,), dtype=dtype)
    h0 = np.zeros((max_layers, seeds.size, batch, deep.hidden_size), dtype=dtype)
    ends = {k: np.empty((seeds.size, max_layers)) for k in ("first", "last", "last_bottom",
            "first_top", "w_xh_bottom", "w_xh_top", "w_hh_bottom", "w_hh_top")}  # fmt: skip
    total_work = max_layers * (max_layers + 3) / 2  # forward L_max + backward 1 + ... + L_max
    with np.errstate(all="ignore"), engine.one_blas_thread():
        fwd = engine.forward(layers, x, h0, None, 0.0, None)
        done = max_layers
        for depth in range(1, max_layers + 1):
            top = fwd.records[depth - 1].hidden
            part = engine.Forward(
                fwd.hidden[:depth],
                fwd.preact[:depth],
                fwd.records[:depth],
                fwd.inputs[:depth],
                fwd.masks[:depth],
            )
            if loss_kind == "probe":  # dLoss/dH_T^(L) = 1, as trace(..., loss_kind="probe")
                ext = np.zeros_like(top)
                ext[-1] = 1.0
            else:
                _, _, grad_output = engine.head_loss(top, head_w, head_b, y, loss_kind)
                ext = grad_output @ head_w.swapaxes(-1, -2)
            grads = _backward_with_end_params(layers[:depth], part, ext)
            for key, g in (("first", grads[0].grad_hidden[0]), ("last", grads[-1].grad_hidden[-1]),
                           ("last_bottom", grads[0].grad_hidden[-1]),
                           ("first_top", grads[-1].grad_hidden[0])):  # fmt: skip
                ends[key][:, depth - 1] = stable_norm(g, (1, 2))
            for name, path in (("w_xh", "depth"), ("w_hh", "time")):
                for end, k in (("bottom", 0), ("top", depth - 1)):
                    g = path_gradient(deep.cells[k], grads[k].params, path, lead=1)  # (S, m, n)
                    ends[f"{name}_{end}"][:, depth - 1] = rms(g, stable_norm(g, (1, 2)))
            done += depth
            if progress is not None:
                progress(done / total_work)
    params = {k: ends[k] for k in ("w_xh_bottom", "w_xh_top", "w_hh_bottom", "w_hh_top")}
    along_h = np.array([cell_type(c).hidden_recurrent for c in deep.cells[:max_layers]])
    return DepthSweep(np.arange(1, max_layers + 1), seeds, ends["first"], ends["last"], steps,
                      ends["last_bottom"], ends["first_top"], params, along_h)  # fmt: skip


def _backward_with_end_params(layers, fwd: engine.Forward, ext_top: np.ndarray) -> list:
    """engine.backward without dropout masks, parameter gradients of the bottom and top layers
    only (the sweep needs no others; computing all costs ~25% more at h = 32)."""
    grads = [None] * len(layers)
    ext = ext_top
    for k in range(len(layers) - 1, -1, -1):
        want = k in (0, len(layers) - 1)
        grads[k] = backward_layer(layers[k], fwd.records[k], fwd.inputs[k], ext, want)
        ext = grads[k].grad_input
    return grads


def _deepened(config: RNNConfig, layers: int) -> RNNConfig:
    """``config`` at depth ``layers``, per-layer settings extended by their last value."""

    def extend(value):
        if isinstance(value, str):
            return value
        return tuple(value[:layers]) + (value[-1],) * max(0, layers - len(value))

    return replace(
        config,
        num_layers=layers,
        activation=extend(config.activation),
        cell=extend(config.cell),
        dropout=0.0,
    )


def gate_saturation(tr: Trace, margin: float = 0.05) -> dict[str, np.ndarray]:
    """Per gate of the trace's GRU / LSTM layers, the (L, T) fraction of units (over batch and
    units) that sit saturated: a sigmoid gate within ``margin`` of 0 or 1, a tanh candidate
    within 2 * ``margin`` of -1 or 1 (the same band in sigmoid units). A saturated gate passes
    almost no gradient through its own derivative. nan for layers without that gate."""
    if not 0 < margin < 0.5:
        raise ValueError(f"margin must be in (0, 0.5), got {margin}")
    ranges = {g: kind for c in set(tr.config.cells) for g, kind, _ in cell_type(c).gates}
    out = {}
    for name, value in tr.gates.items():
        with np.errstate(invalid="ignore"):
            if ranges[name] == "sigmoid":  # in (0, 1); a "tanh" gate is in (-1, 1)
                saturated = (value < margin) | (value > 1 - margin)
            else:
                saturated = np.abs(value) > 1 - 2 * margin
        fraction = saturated.mean(axis=(2, 3))
        fraction[np.isnan(value).all(axis=(2, 3))] = np.nan  # layers without this gate
        out[name] = fraction
    return out


def grad_hidden_norm_ratio(a: Trace, b: Trace) -> np.ndarray:
    """(L, T) |G_t^(l)| of ``a`` over that of ``b``, for an A/B comparison of two runs of the
    same depth and length (inf / nan where one overflowed or is zero)."""
    if a.grad_hidden.shape[:2] != b.grad_hidden.shape[:2]:
        raise ValueError(
            "a and b must have the same (L, T) to compare cell by cell, got "
            f"{a.grad_hidden.shape[:2]} and {b.grad_hidden.shape[:2]}"
        )
    with np.errstate(all="ignore"):
        return cell_norms(a)[1] / cell_norms(b)[1]
