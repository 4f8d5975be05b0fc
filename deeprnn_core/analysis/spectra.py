"""The measured counterpart of the mean-field chi: spectra of the step Jacobians on a trajectory.

For every cell (t, l) and sample of a Trace, the mean squared singular value of the two step
Jacobians the gradient crosses (exact, from the trace's states and the model's weights):

    through time   J = dH_t^(l) / dH_{t-1}^(l)   (h x h):    tr(J J^T) / h
    through depth  J = dH_t^(l) / dH_t^(l-1)     (h x n_in): tr(J J^T) / n_in

tr(J J^T) / n_in is the mean squared singular value when n_in <= h, and in any case the factor
by which the mean square per unit of an isotropic gradient changes crossing the step, the
quantity chi_h / chi_x of ``theory`` predict for Gaussian weights. The LSTM's step holds
C_{t-1} fixed (its cell-state path, dC_t/dC_{t-1} = diag(f_t), is ``cell_time``); the depth
step is taken with respect to the layer's input as it was fed (after any dropout mask).

Every Jacobian here is diag(direct) + sum_k diag(c_k) W_k, W_k a (h, n) block of a torch weight
(row i of W_k is what unit i reads), so row i's squared norm needs only the (K, K) Gram
matrix of the rows i of the blocks: O(T B h K^2) per layer after an O(h n K^2) setup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells.layer import LN_EPS
from deeprnn_core.config import RNNConfig
from deeprnn_core.engine.stack import one_blas_thread
from deeprnn_core.trace import Trace
from deeprnn_core.weights.model import Model

GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "identity": 1.0}  # max phi'


@dataclass(frozen=True)
class JacobianSpectra:
    """Per cell and sample, the mean squared singular value of each step Jacobian."""

    time: np.ndarray  # (L, T, B) tr(J J^T) / h,    J = dH_t^(l) / dH_{t-1}^(l)
    depth: np.ndarray  # (L, T, B) tr(J J^T) / n_in, J = dH_t^(l) / dH_t^(l-1)
    cell_time: np.ndarray  # (L, T, B) LSTM: mean of f_t^2 = |dC_t/dC_{t-1}|_F^2 / h; nan elsewhere

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        """(time, depth), each (L, T): mean over the batch."""
        return self.time.mean(axis=2), self.depth.mean(axis=2)


def _row_norms(direct, coefs, blocks) -> np.ndarray:
    """|row i of diag(direct) + sum_k diag(c_k) W_k|^2 for every (..., i): coefs (K, ..., h), blocks
    (K, h, n); direct (..., h) or None (needs n = h)."""
    gram = np.einsum("kin,jin->ikj", blocks, blocks)  # (h, K, K) rows i of the blocks
    c = np.moveaxis(coefs, 0, -1)  # (..., h, K)
    out = np.einsum("...ik,ikj,...ij->...i", c, gram, c)
    if direct is not None:
        diag = np.einsum("kii->ki", blocks)  # (K, h) W_k[i, i]
        out += direct * direct + 2.0 * direct * np.einsum("...ik,ki->...i", c, diag)
    return out


def _dphi(activation: str, a: np.ndarray) -> np.ndarray:
    if activation == "tanh":
        return 1.0 - np.tanh(a) ** 2
    if activation == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * a))
        return s * (1.0 - s)
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    return np.ones_like(a)


def jacobian_spectra(model: Model, tr: Trace) -> JacobianSpectra:
    """Exact per-sample Jacobian spectra of every step of ``tr``, which ``model`` produced from
    zero initial states. Returns a JacobianSpectra of (L, T, B) arrays."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    if not isinstance(tr, Trace):
        raise TypeError(f"tr must be a deeprnn_core.Trace, got {type(tr).__name__}")
    if tr.config != model.config:
        raise ValueError("tr must be a trace of model: their configs differ")
    c, p = model.config, model.params
    hidden = tr.hidden.astype(np.float64)  # (L, T, B, h)
    L, T, B, h = hidden.shape
    time, depth = np.empty((L, T, B)), np.empty((L, T, B))
    cell_time = np.full((L, T, B), np.nan)
    # one BLAS thread, as the engine: on a busy 2-core machine threads only wait for each other
    with np.errstate(all="ignore"), one_blas_thread():
        for k, (cell, act) in enumerate(zip(c.cells, c.activations)):
            inp = tr.input.astype(np.float64) if k == 0 else hidden[k - 1]
            if k and tr.dropout_masks is not None:
                inp = inp * tr.dropout_masks[k - 1]
            h_prev = np.concatenate([np.zeros((1, B, h)), hidden[k, :-1]])  # (T, B, h)
            n_in = inp.shape[-1]
            w_ih, w_hh = p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"]  # (G h, n_in), (G h, h)
            blocks_ih, blocks_hh = w_ih.reshape(-1, h, n_in), w_hh.reshape(-1, h, h)
            res = np.ones((T, B, h)) if c.has_residual(k) else None
            if cell == "rnn" and c.layer_norm:
                t_sq, d_sq = _layer_norm_rows(p, k, act, inp, h_prev, res)
            elif cell == "rnn":
                dphi = _dphi(act, tr.preact[k].astype(np.float64))[None]  # (1, T, B, h)
                t_sq = _row_norms(None, dphi, blocks_hh)
                d_sq = _row_norms(res, dphi, blocks_ih)
            elif cell == "gru":
                r, z, n = (tr.gates[g][k].astype(np.float64) for g in "rzn")
                ghn = h_prev @ blocks_hh[2].T + (p[f"bias_hh_l{k}"][2 * h :] if c.bias else 0.0)
                via_n = (1 - z) * (1 - n * n)
                via_r = via_n * ghn * r * (1 - r)
                via_z = (h_prev - n) * z * (1 - z)
                t_sq = _row_norms(z, np.stack([via_r, via_z, via_n * r]), blocks_hh)
                d_sq = _row_norms(res, np.stack([via_r, via_z, via_n]), blocks_ih)
            else:
                i, f, g, o = (tr.gates[name][k].astype(np.float64) for name in "ifgo")
                cell_state = tr.cell_state[k].astype(np.float64)
                c_prev = np.concatenate([np.zeros((1, B, h)), cell_state[:-1]])
                tc = np.tanh(cell_state)
                to_c = o * (1 - tc * tc)
                coefs = np.stack(
                    [to_c * g * i * (1 - i), to_c * c_prev * f * (1 - f), to_c * i * (1 - g * g)]
                    + [tc * o * (1 - o)]
                )  # torch's gate order i, f, g, o
                t_sq = _row_norms(None, coefs, blocks_hh)
                d_sq = _row_norms(res, coefs, blocks_ih)
                cell_time[k] = (f * f).mean(-1)
            time[k] = t_sq.mean(-1)
            depth[k] = d_sq.sum(-1) / n_in
    return JacobianSpectra(time, depth, cell_time)


def _layer_norm_rows(p, k, act, inp, h_prev, res):
    """Row norms of diag(phi' gain rstd) P W with P = I - u u^T - v v^T, u = 1/sqrt(h),
    v = xhat / sqrt(h): LayerNorm's Jacobian on the pre-norm sum z (exact, eps included)."""
    w_ih, w_hh = p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"]
    z = inp @ w_ih.T + h_prev @ w_hh.T  # (T, B, h)
    if f"bias_ih_l{k}" in p:
        z = z + p[f"bias_ih_l{k}"] + p[f"bias_hh_l{k}"]
    h = z.shape[-1]
    centred = z - z.mean(-1, keepdims=True)
    rstd = 1.0 / np.sqrt((centred * centred).mean(-1, keepdims=True) + LN_EPS)
    xhat = centred * rstd
    a_ln = xhat * p[f"ln_weight_l{k}"] + p[f"ln_bias_l{k}"]
    scale = _dphi(act, a_ln) * p[f"ln_weight_l{k}"] * rstd  # (T, B, h)
    u, v = 1.0 / np.sqrt(h), xhat / np.sqrt(h)
    out = []
    for w, direct in ((w_hh, None), (w_ih, res)):
        a = u * w.sum(0)  # (n,) u^T W
        b = v @ w  # (T, B, n) v^T W
        rows = (
            (w * w).sum(1)
            + u * u * (a @ a)
            + v * v * (b * b).sum(-1, keepdims=True)
            - 2 * u * (w @ a)
            - 2 * v * (b @ w.T)
            + 2 * u * v * (b @ a)[..., None]
        )  # (T, B, h) |row i of P W|^2
        sq = scale * scale * rows
        if direct is not None:  # residual: + I, square
            diag = np.diagonal(w) - u * a - v * b
            sq = sq + 1.0 + 2.0 * scale * diag
        out.append(sq)
    return out


@dataclass(frozen=True)
class PascanuBound:
    """Pascanu, Mikolov & Bengio (2013): if sigma_max(W_hh^(l)) < 1 / gamma, gamma = max phi',
    every step through time shrinks the gradient, so it vanishes over time (sufficient, not
    necessary). It holds for plain rnn cells without LayerNorm only."""

    top_singular: np.ndarray  # (L,) sigma_max(W_hh^(l))
    gamma: np.ndarray  # (L,) max phi'_l (nan where the bound does not apply)
    applies: np.ndarray  # (L,) bool: plain rnn cell, no LayerNorm

    @property
    def vanishing_guaranteed(self) -> np.ndarray:
        """(L,) bool: the bound applies and sigma_max < 1 / gamma."""
        return self.applies & (self.top_singular * np.nan_to_num(self.gamma) < 1.0)


def pascanu_bound(model: Model) -> PascanuBound:
    """sigma_max of each W_hh^(l) (the whole gate stack for gated cells) against 1 / gamma."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    c = model.config
    with one_blas_thread():  # an SVD per layer: measured 0.2 s each at h = 256 on threads
        top = np.array(
            [np.linalg.norm(model.params[f"weight_hh_l{k}"], 2) for k in range(c.num_layers)]
        )
    gamma = pascanu_gamma(c)
    return PascanuBound(top, gamma, ~np.isnan(gamma))


def pascanu_gamma(config: RNNConfig) -> np.ndarray:
    """(L,) gamma = max phi'_l of each layer where Pascanu's bound holds (a plain rnn cell
    without LayerNorm: the rule, stated here once), nan where it does not."""
    applies = [cell == "rnn" and not config.layer_norm for cell in config.cells]
    return np.array([GAMMA[a] if ok else np.nan for a, ok in zip(config.activations, applies)])
