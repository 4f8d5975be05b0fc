"""A stack of S deep RNNs with one config, run side by side: forward, head, loss, backward.

``trace`` runs one network (S = 1); ``analysis.depth_sweep`` runs one per seed at once.
Arrays are (T, S, B, width) here; the public ``Trace`` drops S.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from deeprnn_core.adjoint import LayerGrads, backward_layer
from deeprnn_core.cells import LayerRecord, LayerWeights, forward_layer
from deeprnn_core.config import RNNConfig

LOSSES = ("last", "all")


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # scans the loaded BLAS libraries once (about 1 ms)


def one_blas_thread():
    """Context: BLAS on one thread. The loops multiply tiny matrices, where threads only cost."""
    return _controller().limit(limits=1, user_api="blas")


@dataclass
class Forward:
    """A forward pass of the stack."""

    hidden: np.ndarray  # (L, T, S, B, h) H_t^(l), what the records' hidden arrays view
    preact: np.ndarray  # (L, T, S, B, h) A_t^(l)
    records: list[LayerRecord]  # one per layer, bottom first
    inputs: list[np.ndarray]  # (T, S, B, n_in) what each layer read (after dropout)
    masks: list[np.ndarray | None]  # dropout mask on H^(l) fed to layer l+1, or None


def stack_layers(config: RNNConfig, params: list[dict[str, np.ndarray]], dtype) -> list:
    """LayerWeights for every layer, stacking S parameter dicts (torch names and layout)."""

    def stacked(name, transpose=False, row=False):
        if name not in params[0]:
            return None
        if len(params) == 1:
            a = params[0][name][None].astype(dtype)  # (1, ...): a copy, as stack makes
        else:
            a = np.stack([p[name] for p in params]).astype(dtype)
        if transpose:
            a = np.ascontiguousarray(a.swapaxes(-1, -2))
        return a[:, None, :] if row else a

    layers = []
    for k, (cell, act) in enumerate(zip(config.cells, config.activations)):
        layers.append(
            LayerWeights(
                cell=cell,
                activation=act,
                residual=config.has_residual(k),
                w_ih=stacked(f"weight_ih_l{k}", transpose=True),
                w_hh=stacked(f"weight_hh_l{k}", transpose=True),
                b_ih=stacked(f"bias_ih_l{k}", row=True),
                b_hh=stacked(f"bias_hh_l{k}", row=True),
                ln_weight=stacked(f"ln_weight_l{k}", row=True),
                ln_bias=stacked(f"ln_bias_l{k}", row=True),
            )
        )
    return layers


def forward(
    layers: list[LayerWeights],
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
    dropout: float,
    rng: np.random.Generator | None,
    check=None,
) -> Forward:
    """Run every layer bottom-up; ``x`` (T, S, B, d), ``h0`` / ``c0`` (L, S, B, h).
    ``check()`` is called before each layer (whatever it raises stops the run)."""
    hidden = np.empty((len(layers),) + x.shape[:-1] + h0.shape[-1:], dtype=x.dtype)
    fwd = Forward(hidden, np.empty_like(hidden), [], [], [])
    inp = x
    for k, w in enumerate(layers):
        if check is not None:
            check()
        out = fwd.hidden[k], fwd.preact[k]
        rec = forward_layer(w, inp, h0[k], None if c0 is None else c0[k], out)
        fwd.records.append(rec)
        fwd.inputs.append(inp)
        mask = None
        if rng is not None and dropout > 0 and k < len(layers) - 1:
            keep = rng.random(rec.hidden.shape) >= dropout  # as torch: zero with prob p
            mask = keep.astype(x.dtype) / (1.0 - dropout)
        fwd.masks.append(mask)
        inp = rec.hidden if mask is None else rec.hidden * mask
    return fwd


def head_loss(top: np.ndarray, head_w: np.ndarray, head_b: np.ndarray, y: np.ndarray, loss: str):
    """O_t = H_t^(L) W_hq + b_q and the MSE loss; returns (output, loss (S,), dLoss/dO)."""
    output = top @ head_w + head_b  # (T, S, B, q); head_w (S, h, q), head_b (S, 1, q)
    diff = output - y
    grad_output = np.zeros_like(output)
    scale = 2.0 / (y.shape[2] * y.shape[3])  # MSE takes the mean over the batch and q
    if loss == "last":
        values = (diff[-1] ** 2).sum(axis=(1, 2)) * (scale / 2)
        grad_output[-1] = scale * diff[-1]
    else:
        values = (diff**2).sum(axis=(0, 2, 3)) * (scale / 2)
        grad_output[:] = scale * diff
    return output, values, grad_output


def backward(
    layers: list[LayerWeights],
    fwd: Forward,
    ext_top: np.ndarray,
    want_params: bool = True,
    out=None,
    check=None,
) -> list[LayerGrads]:
    """Run the adjoint from the top layer down; ``ext_top`` (T, S, B, h) = dLoss/dO W_hq^T.
    ``out``: optional (grad_hidden, grad_preact) arrays (L, T, S, B, h) to write into;
    ``check()`` is called before each layer (whatever it raises stops the run)."""
    grads: list[LayerGrads] = [None] * len(layers)
    ext = ext_top
    for k in range(len(layers) - 1, -1, -1):
        if check is not None:
            check()
        where = None if out is None else (out[0][k], out[1][k])
        grads[k] = backward_layer(layers[k], fwd.records[k], fwd.inputs[k], ext, want_params, where)
        if k:
            ext = grads[k].grad_input
            if fwd.masks[k - 1] is not None:
                ext = ext * fwd.masks[k - 1]
    return grads
