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

from deeprnn_core.cells import cell_type
from deeprnn_core.cells.activations import MAX_DPHI
from deeprnn_core.cells.base import SpectraLayer
from deeprnn_core.config import RNNConfig
from deeprnn_core.engine.reference import layer_params
from deeprnn_core.engine.stack import one_blas_thread
from deeprnn_core.trace import Trace
from deeprnn_core.weights.model import Model

GAMMA = MAX_DPHI  # gamma = max phi', per activation


@dataclass(frozen=True)
class JacobianSpectra:
    """Per cell and sample, the mean squared singular value of each step Jacobian."""

    time: np.ndarray  # (L, T, B) tr(J J^T) / h,    J = dH_t^(l) / dH_{t-1}^(l)
    depth: np.ndarray  # (L, T, B) tr(J J^T) / n_in, J = dH_t^(l) / dH_t^(l-1)
    cell_time: np.ndarray  # (L, T, B) LSTM: mean of f_t^2 = |dC_t/dC_{t-1}|_F^2 / h; nan elsewhere

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        """(time, depth), each (L, T): mean over the batch."""
        return self.time.mean(axis=2), self.depth.mean(axis=2)


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
            layer = SpectraLayer(
                params=layer_params(p, k),
                activation=act,
                inp=inp,
                h_prev=h_prev,
                residual=np.ones((T, B, h)) if c.has_residual(k) else None,
                preact=tr.preact[k].astype(np.float64),
                gates={g: tr.gates[g][k].astype(np.float64) for g in cell_type(cell).gate_names()},
                cell_state=None if tr.cell_state is None else tr.cell_state[k].astype(np.float64),
                layer_norm=c.layer_norm_layers()[k],
            )
            t_sq, d_sq, cell_sq = cell_type(cell).jacobian_rows(layer)
            if cell_sq is not None:
                cell_time[k] = cell_sq
            time[k] = t_sq.mean(-1)
            depth[k] = d_sq.sum(-1) / n_in
    return JacobianSpectra(time, depth, cell_time)


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
            [np.linalg.norm(model.params[f"weight_hh_l{k}"], 2)
             if f"weight_hh_l{k}" in model.params else np.nan for k in range(c.num_layers)]
        )  # fmt: skip
    gamma = pascanu_gamma(c)
    return PascanuBound(top, gamma, ~np.isnan(gamma))


def pascanu_gamma(config: RNNConfig) -> np.ndarray:
    """(L,) gamma = max phi'_l of each layer where Pascanu's bound holds (a plain rnn cell
    without LayerNorm: the rule, stated here once), nan where it does not."""
    applies = [cell == "rnn" and not config.layer_norm for cell in config.cells]
    return np.array([GAMMA[a] if ok else np.nan for a, ok in zip(config.activations, applies)])
