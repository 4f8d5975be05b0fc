"""Theory of the element-wise recurrences (issue 19): exact for the LRU, mean field for minGRU /
minLSTM.

**LRU** (Orvieto et al. 2023): the path through time is the state's, x_t = lambda x_{t-1} + ...,
so the state's adjoint obeys g_t = conj(lambda) g_{t+1} + (what reaches x_t from H_t). Through k
steps unit j passes conj(lambda_j)^k, exactly. In the top layer of a stack scored on its last
step only, H_t feeds nothing before T, so for t < T

    g_t = conj(lambda)^(T - t) g_T,   g_T = dy_T C_re - i dy_T C_im,  dy_T = phi'(y_T) G_T^(L)
    G_t^(L-1) = [gamma Re g_t, gamma Im g_t] W_ih      (W_ih = [Re B; Im B], torch layout)

an exact prediction of the whole row below the top from the trace's last step and lambda
(``lru_row_below_top``), where layer L-1 is an LRU too (else G_t^(L-1) also carries that
layer's own path through time along H, and this is only the part from above); with dropout its
mask multiplies it, so dropout must be off. Its
unit-averaged form drops the phases: E|G_t^(L-1)|^2 = sum_j w_j |lambda_j|^(2 (T - t)) with
w_j = gamma_j^2 |g_T,j|^2 (|B_re,j|^2 + |B_im,j|^2) / 2 (``lru_row_from_modulus``): the cross
terms between units with different phases are dropped, which is where it misses (they
interfere; over many units and samples they average out).

**minGRU / minLSTM** (Feng et al. 2024): dH_t/dH_{t-1} = diag(a_t), a_t = 1 - z_t (minGRU) or
the normalised forget gate f'_t = f / (f + i) (minLSTM); the gate reads the layer's input only,
so a_t is independent of H_{t-1} and the per-step factor of E|G|^2 through time is E[a_t^2].
With W ~ N(0, g^2 / fan_in) (gaussian init, gain g = input gain) and biases of variance
sigma_b^2, the gate's pre-activation is Gaussian with variance q = g^2 m^(l-1) + sigma_b^2, m the
mean square of the layer's input. The forward map of m (``gated_variance_map``):

    E[H~^2] = g^2 m^(l-1) + sigma_b^2,   m_t^(l) = E[a^2] m_{t-1}^(l) + E[(1 - a)^2] E[H~_t^2]

(minLSTM: 1 - a = i' = i / (f + i)), dropping the correlation of H_{t-1} with H~_t (independent
for white-noise input at layer 1; above, the layer below's memory correlates its output over
time, so the map misses there) and the gate's mean (the biases are small). E[a^2] is a
Gaussian expectation: E[sigmoid(u)^2] for minGRU (a = sigmoid(-a_z), same law); for minLSTM
the two gates are independent, a 2-D Gauss-Hermite sum.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from deeprnn_core.cells.activations import dphi, sigmoid
from deeprnn_core.cells.lru import eigenvalues
from deeprnn_core.cells.mingru import log_sigmoid
from deeprnn_core.theory.moments import gaussian_moments

_Z, _W = hermegauss(48)
_W = _W / _W.sum()
GATED = ("mingru", "minlstm")  # the cells whose through-time factor is E[a^2]


def lru_modulus(params: dict, layer: int) -> np.ndarray:
    """(h,) |lambda_j| of LRU layer ``layer`` (0-based) of torch-named ``params``."""
    return np.abs(eigenvalues(params[f"nu_log_l{layer}"], params[f"theta_log_l{layer}"]))


def _top_adjoint(params: dict, k: int, y_last, grad_last, activation: str):
    """(lambda, gamma, g_T): the top LRU layer k's state adjoint at T, (B, h) complex."""
    lam = eigenvalues(params[f"nu_log_l{k}"], params[f"theta_log_l{k}"])
    gamma = np.exp(params[f"gamma_log_l{k}"])
    dy = dphi(activation, y_last) * grad_last  # (B, h)
    g = dy @ params[f"weight_c_re_l{k}"] - 1j * (dy @ params[f"weight_c_im_l{k}"])
    return lam, gamma, g


def lru_row_below_top(params: dict, num_layers: int, y_last, grad_last, steps: int,
                      activation: str = "tanh") -> np.ndarray:  # fmt: skip
    """(T - 1, B, n_in) G_t^(L-1) for t = 1..T-1, exactly, in a stack whose top layer
    (``num_layers`` - 1, 0-based) and the layer below are LRUs and whose loss scores the last
    step only (else: the part of G_t^(L-1) that comes from above): from
    y_T = A_T^(L) and G_T^(L) (each (B, h)) and the layer's parameters (module docstring).
    Dropout off; a residual connection adds G_t^(L) = 0 before T and changes nothing."""
    k = num_layers - 1
    lam, gamma, g_last = _top_adjoint(params, k, y_last, grad_last, activation)
    lags = np.arange(steps - 1, 0, -1)[:, None, None]  # T - t for t = 1..T-1
    g = np.conj(lam) ** lags * g_last  # (T - 1, B, h)
    dp = np.concatenate([g.real * gamma, g.imag * gamma], axis=-1)  # (T - 1, B, 2h)
    return dp @ params[f"weight_ih_l{k}"]


def lru_row_from_modulus(params: dict, num_layers: int, y_last, grad_last, steps: int,
                         activation: str = "tanh") -> np.ndarray:  # fmt: skip
    """(T - 1,) |G_t^(L-1)|^2 summed over batch and units for t = 1..T-1 from |lambda| alone
    (phases dropped, module docstring): sum_j w_j |lambda_j|^(2 (T - t))."""
    k = num_layers - 1
    lam, gamma, g_last = _top_adjoint(params, k, y_last, grad_last, activation)
    h = lam.shape[0]
    w_ih = params[f"weight_ih_l{k}"]
    rows = (w_ih[:h] ** 2).sum(1) + (w_ih[h:] ** 2).sum(1)  # (h,) |B_re,j|^2 + |B_im,j|^2
    weight = gamma**2 * (np.abs(g_last) ** 2).sum(0) * rows / 2  # (h,)
    lags = np.arange(steps - 1, 0, -1)[:, None]
    return (np.abs(lam)[None] ** (2 * lags) * weight).sum(1)


def gate_moments(cell: str, q) -> tuple[np.ndarray, np.ndarray]:
    """(E[a^2], E[(1 - a)^2]) for gate pre-activations ~ N(0, q), elementwise over ``q``: a =
    1 - sigmoid(u) (minGRU; both equal E[sigmoid(u)^2] by symmetry) or f / (f + i), f =
    sigmoid(u_f), i = sigmoid(u_i) independent (minLSTM)."""
    q = np.asarray(q, dtype=np.float64)
    if cell == "mingru":
        m = gaussian_moments("sigmoid", q)[0]
        return m, m
    if cell != "minlstm":
        raise ValueError(f"cell must be one of {GATED}, got {cell!r}")
    s = np.sqrt(q)[..., None, None]
    # f / (f + i) = sigmoid(log f - log i): no 0 / 0 where both gates underflow
    a = sigmoid(log_sigmoid(s * _Z[:, None]) - log_sigmoid(s * _Z[None, :]))
    w = _W[:, None] * _W[None, :]
    return (a * a * w).sum((-1, -2)), ((1 - a) ** 2 * w).sum((-1, -2))


def gated_variance_map(cells, input_gain: float, sigma_b2: float, moment: np.ndarray):
    """(E[a^2], m), each (L, T): the per-step through-time factor of E|G|^2 and the mean
    square of H_t^(l), for a stack of minGRU / minLSTM layers (``cells``, one name per layer)
    with gaussian weights of gain ``input_gain``, bias variance ``sigma_b2`` and input mean
    square R_t = ``moment`` (T,) (module docstring)."""
    L, T = len(cells), moment.shape[0]
    factor, m = np.zeros((L, T)), np.zeros((L, T))
    below = np.asarray(moment, dtype=np.float64)
    g2 = input_gain**2
    for k, cell in enumerate(cells):
        q = g2 * below + sigma_b2
        keep, take = gate_moments(cell, q)  # (T,)
        cand = g2 * below + sigma_b2
        prev = 0.0
        for t in range(T):
            prev = keep[t] * prev + take[t] * cand[t]
            m[k, t] = prev
        factor[k] = keep
        below = m[k]
    return factor, m


def measured_gate_factor(gates: dict, cells) -> np.ndarray:
    """(L, T) the measured mean over batch and units of a_t^2 per layer (nan for other cells):
    a = 1 - z (minGRU, gate "zm") or the normalised forget gate (minLSTM, "fm")."""
    out = None
    for k, cell in enumerate(cells):
        if cell == "mingru":
            a = 1.0 - gates["zm"][k]
        elif cell == "minlstm":
            a = gates["fm"][k]
        else:
            continue
        row = (a * a).mean(axis=(-1, -2))
        out = np.full((len(cells), row.shape[0]), np.nan) if out is None else out
        out[k] = row
    if out is None:
        raise ValueError(f"no {' / '.join(GATED)} layer in {tuple(cells)}")
    return out


def r_squared(predicted, measured) -> float:
    """R^2 of log10(measured) against log10(predicted) over the finite positive pairs (nan
    with fewer than two): 1 - SS_res / SS_tot around the measured mean."""
    p, m = np.asarray(predicted, float).ravel(), np.asarray(measured, float).ravel()
    ok = (p > 0) & (m > 0) & np.isfinite(p) & np.isfinite(m)
    if ok.sum() < 2:
        return float("nan")
    lp, lm = np.log10(p[ok]), np.log10(m[ok])
    tot = ((lm - lm.mean()) ** 2).sum()
    return float(1 - ((lm - lp) ** 2).sum() / tot) if tot > 0 else float("nan")
