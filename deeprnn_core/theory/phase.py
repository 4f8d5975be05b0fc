"""The mean-field phase diagram over (sigma_h, sigma_x) and the measurements it is checked with.

``theory`` predicts E|G_t^(l)|^2 for Gaussian weights; here are the seed-averaged measured
grids it is compared against (``measured_grad_sq``, ``r_squared``), the predicted per-step
factors deep in the grid over a plane of gains (``phase_diagram``), and a small measured sweep
over the same plane (``measured_phase_points``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from deeprnn_core.analysis.measures import path_steps
from deeprnn_core.config import RNNConfig, check_real
from deeprnn_core.data.signals import make_signal
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.trace import trace
from deeprnn_core.weights.init import InitSpec
from deeprnn_core.weights.model import Model


def measured_grad_sq(
    config: RNNConfig,
    init: InitSpec,
    seeds,
    steps: int,
    batch: int,
    *,
    signal: str = "noise",
    loss_kind: str = "last",
    average: str = "mean",
) -> tuple[np.ndarray, np.ndarray]:
    """|G_t^(l)|^2 / h over seeds and batch, the measured counterpart of
    ``theory.predicted_grad_sq(config, init, ...)``; seed s draws the weights
    ``replace(init, seed=s)`` (``init.seed`` itself is not used) and its input. Dropout is off.

    ``average`` (AVERAGES): "mean", the mean over seeds and batch, which the mean-field
    recursion predicts (E over weight draws); or "log", the typical draw: 10 ** (the mean over
    seeds of log10 of each seed's batch mean). At finite width |G|^2 varies between draws by
    powers of ten and the mean follows the largest draw; the mean of the log is what the
    theory's quenched form predicts, and the two agree as h grows.
    Returns (grad_sq (L, T), input moment R_t (T,) averaged over the seeds' inputs)."""
    if not isinstance(init, InitSpec):
        raise TypeError(f"init must be an InitSpec, got {type(init).__name__} {init!r:.80}")
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r:.80}")
    seeds = [int(s) for s in np.atleast_1d(seeds)]
    if not seeds:
        raise ValueError("seeds must name at least one seed, got none")
    config = replace(config, dropout=0.0)
    total = np.zeros((config.num_layers, steps))
    moment = np.zeros(steps)
    for seed in seeds:
        model = Model.init(config, replace(init, seed=seed))
        x = make_signal(signal, steps, batch, config.input_size, seed)  # (T, B, d)
        tr = trace(model, x, loss_kind=loss_kind, training=False)
        with np.errstate(all="ignore"):
            one = (tr.grad_hidden**2).sum(-1).mean(-1) / config.hidden_size
            total += one if average == "mean" else np.log10(one)
        moment += theory.input_moment(x)
    total /= len(seeds)
    with np.errstate(all="ignore"):
        grad_sq = total if average == "mean" else 10.0**total
    return grad_sq, moment / len(seeds)


AVERAGES = ("mean", "log")  # measured_grad_sq's averages over seeds


def r_squared(predicted: np.ndarray, measured: np.ndarray, normalize: bool = True) -> float:
    """R^2 of log10 ``predicted`` against log10 ``measured`` over the (L, T) grid, each grid
    divided by its own value at (T, L) first when ``normalize`` (then only the shape is
    compared). Cells where either is not finite and positive are left out; nan if none is."""
    with np.errstate(all="ignore"):
        p, m = np.log10(predicted), np.log10(measured)
        if normalize:
            p, m = p - p[-1, -1], m - m[-1, -1]
        ok = np.isfinite(p) & np.isfinite(m)
        if ok.sum() < 2:
            return float("nan")
        p, m = p[ok], m[ok]
        total = ((m - m.mean()) ** 2).sum()
        return float(1.0 - ((m - p) ** 2).sum() / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class PhaseDiagram:
    """Predicted per-step factors of E|G|^2 deep in the grid, at the fixed point q* of
    q = (sigma_h^2 + sigma_x^2) m(q) + sigma_b^2; arrays are (len(sigma_x), len(sigma_h))."""

    activation: str
    sigma_h: np.ndarray  # (n,) recurrent gains, the x axis
    sigma_x: np.ndarray  # (m,) input/depth gains, the y axis
    sigma_b2: float  # bias variance
    q_star: np.ndarray  # (m, n) stationary pre-activation variance (inf: no fixed point)
    chi_h: np.ndarray  # (m, n) factor per step through time
    chi_x: np.ndarray  # (m, n) factor per step through depth

    @property
    def chi_total(self) -> np.ndarray:
        """(m, n) chi_h + chi_x: above 1 the gradient summed over a lattice diagonal grows
        (the criticality condition for a loss at every step is chi_h + chi_x = 1)."""
        return self.chi_h + self.chi_x


def phase_diagram(activation: str, sigma_h, sigma_x, sigma_b2: float = 0.0) -> PhaseDiagram:
    """The stationary chi_h, chi_x over the plane ``sigma_h`` (n,) x ``sigma_x`` (m,)."""
    sigma_h = np.asarray(sigma_h, dtype=np.float64).ravel()
    sigma_x = np.asarray(sigma_x, dtype=np.float64).ravel()
    if sigma_h.size < 1 or sigma_x.size < 1 or (sigma_h < 0).any() or (sigma_x < 0).any():
        raise ValueError("sigma_h and sigma_x must be non-empty arrays of gains >= 0")
    sigma_b2 = check_real("sigma_b2", sigma_b2)
    q_star, chi_h, chi_x = theory.stationary(
        activation, sigma_h[None, :], sigma_x[:, None], sigma_b2
    )
    return PhaseDiagram(activation, sigma_h, sigma_x, sigma_b2, q_star, chi_h, chi_x)


@dataclass(frozen=True)
class PhasePoints:
    """Measured and predicted per-step factors of E|G|^2 at a few (sigma_h, sigma_x), for a
    loss on the last step: along the top row (time) and down the last column (depth)."""

    sigma_h: np.ndarray  # (P,)
    sigma_x: np.ndarray  # (P,)
    rate_time: np.ndarray  # (P,) measured (g_1^(L) / g_T^(L))^(1/(T-1)), g averaged over seeds
    rate_depth: np.ndarray  # (P,) measured (g_T^(1) / g_T^(L))^(1/(L-1)); nan when L = 1
    predicted_time: np.ndarray  # (P,) the same from theory.predict at these L, T, R_t
    predicted_depth: np.ndarray  # (P,)


def measured_phase_points(
    config: RNNConfig,
    points,
    steps: int,
    seeds,
    batch: int,
    init: InitSpec = theory.GAUSSIAN_INIT,
    signal: str = "noise",
) -> PhasePoints:
    """Run the network of ``config`` at each (sigma_h, sigma_x) in ``points`` (P, 2), drawn as
    ``init`` with those gains (``replace(init, recurrent_gain=sigma_h, input_gain=sigma_x)``;
    its scheme, gaussian by default, and bias scale are kept) over ``seeds``, and measure the
    per-step factors; a plain rnn config only."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    L = config.num_layers
    rows = []
    for sh, sx in points:
        at_point = replace(init, recurrent_gain=sh, input_gain=sx)
        grad, moment = measured_grad_sq(config, at_point, seeds, steps, batch, signal=signal)
        pred = theory.predict(config, at_point, moment, "last", batch=batch)
        rows.append((*_rates(grad, L, steps), pred.rate_time, pred.rate_depth))
    out = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return PhasePoints(points[:, 0], points[:, 1], *out.T)


def _rates(grad: np.ndarray, L: int, T: int) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        time = (grad[-1, 0] / grad[-1, -1]) ** (1.0 / (T - 1)) if T > 1 else np.nan
        depth = (grad[0, -1] / grad[-1, -1]) ** (1.0 / (L - 1)) if L > 1 else np.nan
    return float(time), float(depth)


@dataclass(frozen=True)
class PredictedSweep:
    """Predicted ratios of gradient norms, sqrt of E|G|^2 ratios, for depth L = 1..L_max."""

    depths: np.ndarray  # (L_max,)
    corner: np.ndarray  # |G_1^(1)| / |G_T^(L)|: time and depth (the Depth sweep's curve)
    depth_only: np.ndarray  # |G_T^(1)| / |G_T^(L)|
    time_only: np.ndarray  # |G_1^(L)| / |G_T^(L)|

    PREDICTED = ("corner", "depth", "time", "corner_rate", "depth_rate", "time_rate")

    def measure(self, key: str, steps: int) -> np.ndarray:
        """(L_max,) the prediction of ``measures.MEASURES[key]`` for T = ``steps``: a ratio, or
        its per-step rate (ratio ** (1 / path_steps)); nan where the path has no step, as the
        measured sweep. Only the paths through H (not the weight ratios) are predicted."""
        if key not in self.PREDICTED:
            raise ValueError(f"key must be one of {self.PREDICTED}, got {key!r}")
        base = key.removesuffix("_rate")
        ratio = {"corner": self.corner, "depth": self.depth_only, "time": self.time_only}[base]
        n = np.asarray(path_steps(key, self.depths, steps), dtype=np.float64)
        with np.errstate(all="ignore"):
            value = ratio ** (1.0 / n) if key.endswith("_rate") else ratio
        return np.where(n > 0, value, np.nan)


def predicted_sweep(
    config: RNNConfig,
    max_layers: int,
    init: InitSpec,
    input_moment,
    loss_kind: str = "last",
    *,
    steps: int | None = None,
    batch: int = 1,
) -> PredictedSweep:
    """The mean-field counterpart of ``analysis.depth_sweep(..., init=init)``: one forward map
    of the deepest stack serves every depth (a layer does not see the ones above it), then one
    backward DP per depth. Per-layer activations extend by their last value."""
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise ValueError(f"max_layers must be an int >= 1, got {max_layers!r}")

    def extend(names: tuple[str, ...]) -> tuple[str, ...]:
        return (names + names[-1:] * max_layers)[:max_layers]

    deep = replace(
        config,
        num_layers=max_layers,
        activation=extend(config.activations),
        cell=extend(config.cells),
    )
    full = theory.predict(deep, init, input_moment, loss_kind, steps=steps, batch=batch)
    out = np.empty((3, max_layers))
    with np.errstate(all="ignore"):
        for depth in range(1, max_layers + 1):
            m = full.m[:depth]
            e = theory.loss_injection(m, loss_kind, batch, config.output_size, config.hidden_size)
            g = theory.backward_dp(full.chi_h[:depth], full.chi_x[:depth], e)
            out[:, depth - 1] = np.sqrt(np.array([g[0, 0], g[0, -1], g[-1, 0]]) / g[-1, -1])
    return PredictedSweep(np.arange(1, max_layers + 1), *out)
