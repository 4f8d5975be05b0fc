"""A stack of S deep RNNs with one config, run side by side: forward, head, loss, backward.

``trace`` runs one network (S = 1); ``analysis.depth_sweep`` runs one per seed at once.
Arrays are (T, S, B, width) here; the public ``Trace`` drops S.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from deeprnn_core.cells import cell_type
from deeprnn_core.cells.base import LayerGrads, LayerRecord, LayerWeights
from deeprnn_core.config import RNNConfig, dropout_applies
from deeprnn_core.engine.layers import backward_layer, forward_layer
from deeprnn_core.engine.norms import global_norm

LOSS_KINDS = ("last", "all")  # or a sequence of step indices
OBJECTIVES = ("mse", "cross_entropy")


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
            a = np.stack([p[name] for p in params]).astype(dtype, copy=False)
        if transpose:
            a = np.ascontiguousarray(a.swapaxes(-1, -2))
        return a[:, None, :] if row else a

    layers = []
    for k, (cell, act) in enumerate(zip(config.cells, config.activations)):
        kind = cell_type(cell)
        own = {}
        if kind.param_shapes is not None:  # parameters of its own, beyond weight_ih / bias_ih
            names = kind.shapes(config.hidden_size, config.layer_input_size(k), config.bias)
            own = {n: stacked(f"{n}_l{k}") for n in names if n not in ("weight_ih", "bias_ih")}
        layers.append(
            LayerWeights(
                cell=cell,
                activation=act,
                residual=config.has_residual(k),
                # a transposed view: one large product per layer reads it as fast as a copy
                w_ih=stacked(f"weight_ih_l{k}").swapaxes(-1, -2),
                w_hh=stacked(f"weight_hh_l{k}", transpose=True),
                w_hh_t=stacked(f"weight_hh_l{k}"),
                own=own,
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
    """Run every layer bottom-up (computation_order); ``x`` (T, S, B, d), ``h0`` / ``c0``
    (L, S, B, h). Dropout (as torch, training only) on what layer l+1 reads, for l < L:

        input of layer l+1 = H^(l) * m^(l),   m^(l) = keep / (1 - p),   keep ~ Bernoulli(1 - p)

    ``check()`` is called before each layer (whatever it raises stops the run).
    """
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
        if rng is not None and dropout > 0 and dropout_applies(k + 1, len(layers)):
            keep = rng.random(rec.hidden.shape) >= dropout  # as torch: zero with prob p
            mask = keep.astype(x.dtype) / (1.0 - dropout)
        fwd.masks.append(mask)
        inp = rec.hidden if mask is None else rec.hidden * mask
    return fwd


def loss_steps(loss_kind, steps: int) -> np.ndarray:
    """The 0-based steps a loss scores: "last" -> [T-1], "all" -> 0..T-1, or a sequence of
    distinct step indices (negative ones count from the end, as in Python: -10..-1 = last 10)."""
    if isinstance(loss_kind, str):
        if loss_kind not in LOSS_KINDS:
            raise ValueError(
                f"loss_kind must be one of {LOSS_KINDS}, got {loss_kind!r} "
                "(or a sequence of step indices)"
            )
        return np.array([steps - 1]) if loss_kind == "last" else np.arange(steps)
    try:
        idx = [int(i) for i in loss_kind if not isinstance(i, bool) and int(i) == i]
    except TypeError:
        raise TypeError(
            f"loss_kind must be one of {LOSS_KINDS} or a sequence of ints, got {loss_kind!r}"
        ) from None
    if len(idx) != len(loss_kind) or not idx:
        raise TypeError(
            f"loss_kind must be a non-empty sequence of int step indices, got {loss_kind!r}"
        )
    if any(not -steps <= i < steps for i in idx):
        raise ValueError(
            f"loss_kind step indices must be in [-{steps}, {steps}) for T={steps}, got {idx}"
        )
    idx = sorted(i % steps for i in idx)
    if len(set(idx)) != len(idx):
        raise ValueError(f"loss_kind step indices must be distinct, got {list(loss_kind)}")
    return np.array(idx)


def check_class_targets(y: np.ndarray, classes: int, name: str = "y") -> None:
    """Cross-entropy targets: (T, ..., 1) integer class indices in [0, classes)."""
    if y.shape[-1] != 1:
        raise ValueError(
            f"{name} must hold one class index per step for cross_entropy, shape (T, B, 1); "
            f"got shape {y.shape}"
        )
    bad = (y != np.round(y)) | (y < 0) | (y >= classes)
    if bad.any():
        raise ValueError(
            f"{name} must hold class indices in [0, {classes}) for cross_entropy, got "
            f"{float(y[bad].ravel()[0])!r}"
        )


def head_loss(
    top: np.ndarray,
    head_w: np.ndarray,
    head_b: np.ndarray,
    y: np.ndarray,
    loss_kind="last",
    objective: str = "mse",
):
    """O_t = H_t^(L) W_hq + b_q and the loss over the steps ``loss_kind`` selects (``loss_steps``),
    summed over those steps; returns (output (T, S, B, q), loss (S,), dLoss/dO (T, S, B, q)).

    mse: per step the mean over batch and q of (O_t - Y_t)^2, as torch's MSELoss.
    cross_entropy: per step the mean over the batch of -log softmax(O_t)[Y_t], Y_t a class index
    stored in y (T, S, B, 1), as torch's F.cross_entropy; dLoss/dO_t = (softmax(O_t) - onehot) / B.
    """
    output = top @ head_w + head_b  # (T, S, B, q); head_w (S, h, q), head_b (S, 1, q)
    steps = loss_steps(loss_kind, output.shape[0])
    grad_output = np.zeros_like(output)
    o = output[steps]  # (K, S, B, q)
    batch = y.shape[2]
    if objective == "mse":
        scale = 2.0 / (batch * y.shape[3])  # MSE takes the mean over the batch and q
        diff = o - y[steps]
        values = (diff**2).sum(axis=(0, 2, 3)) * (scale / 2)
        grad_output[steps] = scale * diff
    elif objective == "cross_entropy":
        target = y[steps][..., 0].astype(np.intp)  # (K, S, B)
        shifted = o - o.max(axis=-1, keepdims=True)
        log_z = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        log_p = shifted - log_z  # (K, S, B, q) log softmax
        picked = np.take_along_axis(log_p, target[..., None], axis=-1)[..., 0]
        values = -picked.sum(axis=(0, 2)) / batch
        grad = np.exp(log_p)
        np.put_along_axis(
            grad, target[..., None], np.take_along_axis(grad, target[..., None], -1) - 1, -1
        )
        grad_output[steps] = grad / batch
    else:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return output, values, grad_output


def clip_gradients(grads: dict[str, np.ndarray], clip_norm: float | None):
    """torch's clip_grad_norm_: scale every gradient by min(clip_norm / (norm + 1e-6), 1).
    Returns (grads, norm before, norm after); the global norm is taken in float64."""
    norm = global_norm(grads.values())  # scaled where a plain sum of squares would overflow
    if clip_norm is None:
        return grads, norm, norm
    coef = min(clip_norm / (norm + 1e-6), 1.0)
    return {k: v * v.dtype.type(coef) for k, v in grads.items()}, norm, norm * coef


def backward(
    layers: list[LayerWeights],
    fwd: Forward,
    ext_top: np.ndarray,
    want_params: bool = True,
    out=None,
    check=None,
) -> list[LayerGrads]:
    """Run the adjoint from the top layer down (computation_order), each layer's E_t being

        E_t^(L) = dLoss/dO_t W_hq^T   (``ext_top``, (T, S, B, h))
        E_t^(l) = dLoss/d(input of layer l+1)_t * m^(l)   (m^(l) = 1 without dropout)

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
