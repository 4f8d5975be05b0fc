"""Mean-field theory of a stacked vanilla RNN with Gaussian weights: what E|G_t^(l)|^2 should be.

For W_hh^(l) ~ N(0, sigma_h^2 / h), W_xh^(l) ~ N(0, sigma_x^2 / fan_in), bias variance sigma_b^2
and input second moment R_t = E[x_t^2] (Poole et al. 2016; Schoenholz et al. 2017; Chen,
Pennington & Schoenholz 2018), with m = E_z[phi(sqrt(q) z)^2] and z ~ N(0, 1):

    forward   q_t^(l) = sigma_h^2 m_{t-1}^(l) + sigma_x^2 m_t^(l-1) + sigma_b^2,
              m_t^(0) = R_t, m_0^(l) = 0 (H_0 = 0)
    factors   chi_h(t, l) = sigma_h^2 E_z[phi'(sqrt(q_t^(l)) z)^2]    (through time)
              chi_x(t, l) = sigma_x^2 E_z[phi'(sqrt(q_t^(l)) z)^2] h / fan_in   (through depth)
    backward  g_t^(l) = chi_h(t+1, l) g_{t+1}^(l) + chi_x(t, l+1) g_t^(l+1) + e_t^(l),
              g = E|G|^2 / h per sample, e = what the loss injects at the top layer.

The grid is not stationary (H_0 = 0, and layer 1 reads the raw input), so the recursions run
cell by cell; cells on one anti-diagonal t + l are independent and run as one vector operation.
Arrays are (L, T), indexed [l - 1, t - 1] like a Trace; the Gaussian expectations are in
``theory.moments``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells import cell_type
from deeprnn_core.config import RNNConfig, check_real
from deeprnn_core.engine.stack import LOSS_KINDS
from deeprnn_core.theory.moments import gaussian_moments
from deeprnn_core.weights.init import InitSpec

SCOPE = "plain rnn cells without residual connections or layer norm"  # what the theory covers


def scope_gap(config: RNNConfig) -> str | None:
    """What puts ``config`` outside ``SCOPE``, in a few words ("gated cells (lstm)", "layer
    norm"), or None when the theory covers it; ``predict`` refuses a config with a gap."""
    kinds = [cell_type(c) for c in sorted(set(config.cells) - {"rnn"})]
    gated = [k.name for k in kinds if k.gates]
    other = [k.name for k in kinds if not k.gates]  # e.g. the LRU: linear, complex, no gate
    if kinds:
        words = [f"gated cells ({', '.join(gated)})"] if gated else []
        words += [f"{', '.join(other)} cells"] if other else []
        return " and ".join(words)
    if config.residual or config.layer_norm:
        return "residual connections" if config.residual else "layer norm"
    return None


def bias_variance(config: RNNConfig, bias_scale: float) -> float:
    """sigma_b^2 of b_h^(l) = bias_ih + bias_hh, each bias_scale * U(+-1/sqrt(h)): 2 s^2 / 3h."""
    bias_scale = check_real("bias_scale", bias_scale)
    return 2.0 * bias_scale**2 / (3.0 * config.hidden_size) if config.bias else 0.0


GAUSSIAN_LIKE = ("gaussian", "torch", "orthogonal")  # schemes the prediction covers
GAUSSIAN_INIT = InitSpec(scheme="gaussian")  # the init the theory is written for: the default


def gaussian_equivalent(config: RNNConfig, init: InitSpec) -> tuple[float, float, float]:
    """(sigma_h, sigma_x, input_scale): the gaussian gains whose weights have the variances of
    ``Model.init(config, init)``; the mean-field recursions read only the variance of each
    weight (and orthogonal weights keep |W v| exactly). ``predict`` uses those gains and the
    input moment R_t times ``input_scale`` (what W_xh^(1) does to it).

      gaussian    N(0, g^2 / fan_in):        sigma = g,          input_scale 1
      torch       g U(+-1/sqrt(h)), g^2 / 3h: sigma = g / sqrt(3), input_scale d / h
                  (W_xh^(1) too is bounded by 1/sqrt(h), while its fan-in is d)
      orthogonal  g Q, |Q v| = |v|:         sigma = g,          input_scale min(1, d / h)
    identity (W_hh = g I is not random) is refused with a ValueError.
    """
    if not isinstance(init, InitSpec):
        raise TypeError(
            f"init must be an InitSpec (e.g. InitSpec('gaussian', recurrent_gain=1.5)), "
            f"got {type(init).__name__} {init!r:.80}"
        )
    scheme = init.scheme
    if scheme not in GAUSSIAN_LIKE:
        raise ValueError(
            f"scheme must be one of {GAUSSIAN_LIKE} for the mean-field prediction (its weights "
            f"are random with a known variance), got {scheme!r}"
        )
    sigma_h, sigma_x = init.recurrent_gain, init.input_gain
    d, h = config.input_size, config.hidden_size
    if scheme == "torch":
        return sigma_h / np.sqrt(3.0), sigma_x / np.sqrt(3.0), d / h
    return sigma_h, sigma_x, (min(1.0, d / h) if scheme == "orthogonal" else 1.0)


def input_moment(x) -> np.ndarray:
    """R_t = mean over batch and units of X_t^2, (T,) from a (T, B, d) input."""
    return np.mean(np.asarray(x, dtype=np.float64) ** 2, axis=(1, 2))


@dataclass(frozen=True)
class Prediction:
    """The mean-field grid of a stacked vanilla RNN; every array is (L, T)."""

    q: np.ndarray  # variance of the pre-activation A_t^(l), per unit
    m: np.ndarray  # E|H_t^(l)|^2 / h
    chi_h: np.ndarray  # E|G|^2 factor of the step H_{t-1}^(l) <- H_t^(l)
    chi_x: np.ndarray  # E|G|^2 factor (per unit) of the step H_t^(l-1) <- H_t^(l)
    injection: np.ndarray  # e_t^(l): E|dLoss/dO_t W_hq^T|^2 / h per sample (top row only)
    grad_sq: np.ndarray  # g_t^(l) = E|G_t^(l)|^2 / h per sample

    @property
    def rate_time(self) -> float:
        """Per-step factor of E|G|^2 along the top row, (g_1^(L) / g_T^(L))^(1/(T-1))
        (for loss "last": the geometric mean of chi_h over t = 2..T at l = L)."""
        g = self.grad_sq
        return float((g[-1, 0] / g[-1, -1]) ** (1.0 / (g.shape[1] - 1))) if g.shape[1] > 1 else 1.0

    @property
    def rate_depth(self) -> float:
        """Per-layer factor of E|G|^2 down the last column, (g_T^(1) / g_T^(L))^(1/(L-1))."""
        g = self.grad_sq
        return float((g[0, -1] / g[-1, -1]) ** (1.0 / (g.shape[0] - 1))) if g.shape[0] > 1 else 1.0


def depth_scale(chi) -> np.ndarray:
    """-1 / ln chi: the number of steps over which E|G|^2 falls (chi < 1) or grows (chi > 1)
    by a factor e; inf at chi = 1."""
    with np.errstate(divide="ignore"):
        return -1.0 / np.log(np.asarray(chi, dtype=np.float64))


def variance_map(
    activations, sigma_h: float, sigma_x: float, sigma_b2: float, moment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward mean-field map. ``activations``: one name per layer (L,); ``moment`` R_t (T,).
    Returns q, m, d = E[phi'^2], each (L, T)."""
    L, T = len(activations), moment.shape[0]
    # skewed storage: row k = t + l holds the anti-diagonal, column l; both neighbours of a cell,
    # (t-1, l) and (t, l-1), sit in row k - 1
    m_skew = np.zeros((T + L + 1, L + 1))
    q_skew, d_skew = np.zeros_like(m_skew), np.zeros_like(m_skew)
    m_skew[1 : T + 1, 0] = moment
    layer = np.arange(1, L + 1)
    groups = [
        (a, np.array([k for k, b in enumerate(activations) if b == a])) for a in set(activations)
    ]
    sh2, sx2 = sigma_h**2, sigma_x**2
    with np.errstate(all="ignore"):
        for k in range(2, T + L + 1):
            prev = m_skew[k - 1]
            q = sh2 * prev[1:] + sx2 * prev[:-1] + sigma_b2  # (L,)
            inside = (k - layer >= 1) & (k - layer <= T)
            for act, idx in groups:
                m, d = gaussian_moments(act, q[idx])
                m_skew[k, idx + 1] = np.where(inside[idx], m, 0.0)
                d_skew[k, idx + 1] = d
            q_skew[k, 1:] = q
    t_idx, l_idx = np.meshgrid(np.arange(1, T + 1), layer)  # (L, T)
    rows = t_idx + l_idx
    return q_skew[rows, l_idx], m_skew[rows, l_idx], d_skew[rows, l_idx]


def backward_dp(chi_h: np.ndarray, chi_x: np.ndarray, injection: np.ndarray) -> np.ndarray:
    """g_t^(l) = chi_h(t+1, l) g_{t+1}^(l) + chi_x(t, l+1) g_t^(l+1) + e_t^(l); all (L, T)."""
    L, T = chi_h.shape
    via_time = np.zeros((L, T))
    via_time[:, :-1] = chi_h[:, 1:]  # coefficient of g_{t+1}^(l)
    via_depth = np.zeros((L, T))
    via_depth[:-1] = chi_x[1:]  # coefficient of g_t^(l+1)
    # skewed by distance from the corner: j = (T - t) + (L - l), column c = L - l
    c_idx, s_idx = np.meshgrid(np.arange(L), np.arange(T))  # s = T - t
    c_idx, s_idx = c_idx.T, s_idx.T  # (L, T) indexed by c, s
    rows = s_idx + c_idx
    skew = lambda a: _skew(a[::-1, ::-1], rows, c_idx, T + L - 1, L)  # noqa: E731
    ch, cx, e = skew(via_time), skew(via_depth), skew(injection)
    g_skew = np.zeros((T + L - 1, L))
    with np.errstate(all="ignore"):
        g_skew[0] = e[0]
        for j in range(1, T + L - 1):
            prev = g_skew[j - 1]
            g_skew[j] = ch[j] * prev + e[j]
            g_skew[j, 1:] += cx[j, 1:] * prev[:-1]
    return g_skew[rows, c_idx][::-1, ::-1]


def _skew(a: np.ndarray, rows, cols, n_rows: int, n_cols: int) -> np.ndarray:
    out = np.zeros((n_rows, n_cols))
    out[rows, cols] = a
    return out


def lattice_sum(
    chi_h: float, chi_x: float, num_layers: int, steps: int, loss_kind: str, injection: float = 1.0
) -> np.ndarray:
    """The textbook approximation with constant chi: a sum over lattice paths from every cell
    where the loss injects to (t, l), C((t'-t) + (L-l), L-l) chi_h^(t'-t) chi_x^(L-l) e. (L, T)."""
    L, T = num_layers, steps
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, T + L + 1)))])
    down = np.arange(L)[::-1, None]  # L - l, (L, 1)
    sources = [T] if loss_kind == "last" else range(1, T + 1)
    out = np.zeros((L, T))
    t = np.arange(1, T + 1)[None, :]
    with np.errstate(all="ignore"):
        for src in sources:
            back = src - t  # t' - t, (1, T)
            log_paths = (
                log_fact[np.maximum(back, 0) + down]
                - log_fact[down]
                - log_fact[np.maximum(back, 0)]
            )
            term = np.exp(log_paths) * chi_h ** np.maximum(back, 0) * chi_x**down * injection
            out += np.where(back >= 0, term, 0.0)
    return out


def predicted_grad_sq(
    config: RNNConfig,
    init: InitSpec = GAUSSIAN_INIT,
    input_moment=1.0,
    loss_kind: str = "last",
    *,
    steps: int | None = None,
    batch: int = 1,
) -> np.ndarray:
    """(L, T) predicted E|G_t^(l)|^2 / h per sample for ``Model.init(config, init)`` and a zero
    target; see ``predict``."""
    return predict(config, init, input_moment, loss_kind, steps=steps, batch=batch).grad_sq


def predict(
    config: RNNConfig,
    init: InitSpec = GAUSSIAN_INIT,
    input_moment=1.0,
    loss_kind: str = "last",
    *,
    steps: int | None = None,
    batch: int = 1,
) -> Prediction:
    """The whole mean-field grid for the weights of ``Model.init(config, init)``: for the
    gaussian scheme sigma_h = ``init.recurrent_gain``, sigma_x = ``init.input_gain``; torch and
    orthogonal weights are predicted with the gaussian gains of the same variance and R_t
    scaled as ``gaussian_equivalent`` says. sigma_b^2 = 2 bias_scale^2 / 3h (``bias_variance``);
    the seed plays no part (the prediction is a mean over weight draws).

    Args:
        init: how the weights are drawn (default: gaussian, gains 1, bias scale 1).
        input_moment: R_t = E[x_t^2] of the raw input, a scalar (then ``steps`` gives T) or a
            (T,) array.
        loss_kind: "last" or "all", MSE against a zero target as ``trace`` computes it.
        batch: B, which scales the loss's gradient by 1 / B per sample (MSE takes the mean).
    The injection: dLoss/dO_t = 2 O_t / (B q) and W_hq ~ U(+-1/sqrt(h)) (torch's Linear), so
    E|dLoss/dO_t W_hq^T|^2 / h = 4 / (3 B^2 q h) * E[O^2], E[O^2] = m_t^(L) / 3 + 1 / (3h).
    """
    if not isinstance(config, RNNConfig):
        raise TypeError(f"config must be an RNNConfig, got {type(config).__name__}")
    gap = scope_gap(config)
    if gap is not None:
        raise ValueError(
            f"config must be in the mean-field theory's scope, {SCOPE}; got {gap} "
            f"(cell={config.cell!r}, residual={config.residual}, layer_norm={config.layer_norm})"
        )
    if loss_kind not in LOSS_KINDS:
        raise ValueError(f"loss_kind must be one of {LOSS_KINDS}, got {loss_kind!r}")
    sigma_h, sigma_x, input_scale = gaussian_equivalent(config, init)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    moment = _moment_array(input_moment, steps) * input_scale  # what W_xh^(1) passes on
    h, q_out = config.hidden_size, config.output_size
    q, m, d = variance_map(
        config.activations, sigma_h, sigma_x, bias_variance(config, init.bias_scale), moment
    )
    chi_h = sigma_h**2 * d
    widths = np.array([config.layer_input_size(k) for k in range(config.num_layers)], float)
    chi_x = sigma_x**2 * d * (h / widths)[:, None]  # per unit of the layer below
    injection = loss_injection(m, loss_kind, batch, q_out, h)
    return Prediction(q, m, chi_h, chi_x, injection, backward_dp(chi_h, chi_x, injection))


def loss_injection(m: np.ndarray, loss_kind: str, batch: int, output_size: int, hidden: int):
    """(L, T) e_t^(l) for the variance map's ``m`` (L, T): on the top row only,
    4 / (3 B^2 q h) (m_t^(L) / 3 + 1 / (3h)) at t = T ("last") or at every t ("all")."""
    injection = np.zeros_like(m)
    scale = 4.0 / (3.0 * batch**2 * output_size * hidden)
    top = scale * (m[-1] / 3.0 + 1.0 / (3.0 * hidden))  # (T,)
    if loss_kind == "last":
        injection[-1, -1] = top[-1]
    else:
        injection[-1] = top
    return injection


def _moment_array(input_moment, steps) -> np.ndarray:
    if np.ndim(input_moment) == 0:
        if steps is None or isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
            raise ValueError(
                f"steps must be an int >= 1 when input_moment is a scalar, got {steps!r}"
            )
        if steps < 1:
            raise ValueError(f"steps must be an int >= 1, got {steps}")
        return np.full(int(steps), check_real("input_moment", input_moment))
    moment = np.asarray(input_moment, dtype=np.float64)
    if moment.ndim != 1 or moment.size < 1 or not np.all(np.isfinite(moment)) or (moment < 0).any():
        raise ValueError(
            f"input_moment must be a finite scalar or (T,) array >= 0, got shape {moment.shape}"
        )
    if steps is not None and steps != moment.size:
        raise ValueError(f"steps must equal len(input_moment). Expected {moment.size}, got {steps}")
    return moment


def stationary(activation: str, sigma_h, sigma_x, sigma_b2: float = 0.0, iterations: int = 60):
    """The fixed point deep in the grid, q* = (sigma_h^2 + sigma_x^2) m(q*) + sigma_b^2, and its
    chi_h*, chi_x*, elementwise over broadcast arrays of gains (bisection; the stable root).
    Returns (q*, chi_h*, chi_x*); q* = inf where relu / identity have no fixed point."""
    sh2 = np.asarray(sigma_h, dtype=np.float64) ** 2
    sx2 = np.asarray(sigma_x, dtype=np.float64) ** 2
    gain = sh2 + sx2 + 0.0 * sh2 * sx2  # broadcast shape
    if activation in ("relu", "identity"):
        slope = gain * (0.5 if activation == "relu" else 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            q_star = np.where(slope < 1.0, sigma_b2 / (1.0 - slope), np.inf)
    else:
        low, high = np.zeros_like(gain), gain + sigma_b2 + 1e-12  # m <= 1 for tanh and sigmoid
        for _ in range(iterations):
            mid = 0.5 * (low + high)
            above = gain * gaussian_moments(activation, mid)[0] + sigma_b2 - mid > 0
            low, high = np.where(above, mid, low), np.where(above, high, mid)
        q_star = 0.5 * (low + high)
    d = gaussian_moments(activation, np.where(np.isfinite(q_star), q_star, 1.0))[1]
    return q_star, sh2 * d + 0.0 * gain, sx2 * d + 0.0 * gain
