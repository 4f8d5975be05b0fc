"""One layer over a whole sequence, forward and exact backward: what every cell type shares
(the input projection before the time loop, the parameter gradients after it), around the
cell's own loop, which it reads from the registry (``deeprnn_core.cells``)."""

from __future__ import annotations

import numpy as np

from deeprnn_core.cells import cell_type
from deeprnn_core.cells.base import LayerGrads, LayerRecord, LayerWeights, project


def forward_layer(
    w: LayerWeights, inp: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, out=None
) -> LayerRecord:
    """Run one layer over the sequence ``inp`` (T, S, B, n_in) = H^(l-1) (after dropout) from
    state ``h0`` (S, B, h) (and ``c0`` (S, B, h), cells with a C_t); ``out``: optional (hidden,
    preact) arrays (T, S, B, h) to write into. The cell's equations are in its module."""
    cell = cell_type(w.cell)
    proj = project(inp, w.w_ih)  # (T, S, B, G*h): H_t^(l-1) W_xh^(l) for every t
    if w.b_ih is not None:  # b_hh joins here too, unless a gate scales part of it (GRU)
        outside = cell.recurrent_bias_outside and w.b_hh is not None
        proj += w.b_ih + w.b_hh if outside else w.b_ih
    if out is None:
        hidden = np.empty(proj.shape[:-1] + h0.shape[-1:], dtype=proj.dtype)  # (T, S, B, h)
        out = hidden, np.empty_like(hidden)
    rec = LayerRecord(out[0], out[1], h0)
    if cell.reads_input:
        rec.extra["input"] = inp
    cell.forward(w, proj, rec, inp if w.residual else None, c0)
    return rec


def backward_layer(
    w: LayerWeights,
    rec: LayerRecord,
    inp: np.ndarray,
    ext: np.ndarray,
    want_params: bool = True,
    out=None,
) -> LayerGrads:
    """Backpropagate ``ext`` (T, S, B, h) = E_t through a layer whose forward pass left ``rec``.

    Every cell type shares the outer equations (the cell's own are in its ``backward``; the
    reference engine runs the same ones step by step):

        G_t = E_t + dLoss/dH_t through H_{t+1}   (the carry, 0 at t = T)
        dLoss/dH_t^(l-1) = dP_t W_xh^T   (+ G_t with a residual connection)
        dLoss/dW_xh = sum_t (H_t^(l-1))^T dP_t,  dLoss/dW_hh = sum_t H_{t-1}^T dR_t

    where dP_t / dR_t are dLoss/d(input / recurrent projection) of step t, one block per gate.

    Args:
        inp: (T, S, B, n_in) the layer's input H^(l-1) as the forward pass read it.
        want_params: also sum the parameter gradients (a depth sweep does not need them).
        out: optional (grad_hidden, grad_preact) arrays (T, S, B, h) to write into.
    """
    h_prev = np.concatenate([rec.h0[None], rec.hidden[:-1]])  # (T, S, B, h) H_{t-1}^(l)
    w_hh_t = w.w_hh_t  # (S, G*h, h)
    if w_hh_t is None and w.w_hh is not None:  # laid out by hand, not by engine.stack_layers
        w_hh_t = np.ascontiguousarray(w.w_hh.swapaxes(-1, -2))
    grad_hidden, grad_preact = out if out is not None else (np.empty_like(ext), np.empty_like(ext))
    # (dP, dR, dLoss/dH_0, dLoss/dC), and for a cell with parameters of its own
    # (Cell.param_shapes) also their gradients and what reaches u_t other than through W_ih
    back = cell_type(w.cell).backward(w, rec, ext, grad_hidden, grad_preact, w_hh_t, h_prev)
    grad_proj, grad_recurrent, carry, grad_cell = back[:4]
    own, into_input = back[4:] if len(back) > 4 else ({}, None)
    grad_input = project(grad_proj, w.w_ih.swapaxes(-1, -2))  # (T, S, B, n_in) dP_t W_xh^T
    if into_input is not None:
        grad_input += into_input
    if w.residual:
        grad_input += grad_hidden
    params = {}
    if want_params:
        params["weight_ih"] = _outer_sum(grad_proj, inp)
        if grad_recurrent is not None:  # dR: a cell with a recurrent matrix W_hh
            params["weight_hh"] = _outer_sum(grad_recurrent, h_prev)
        if w.b_ih is not None:
            params["bias_ih"] = grad_proj.sum(axis=(0, 2))
        if w.b_hh is not None:
            params["bias_hh"] = grad_recurrent.sum(axis=(0, 2))
        params.update(own)
        if w.ln_weight is not None:
            params["ln_weight"] = (grad_preact * rec.extra["ln_xhat"]).sum(axis=(0, 2))
            params["ln_bias"] = grad_preact.sum(axis=(0, 2))
    return LayerGrads(grad_hidden, grad_preact, grad_input, carry, params, grad_cell)


def _outer_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over t and batch of a_t^T b_t: (T, S, B, m), (T, S, B, n) -> (S, m, n)."""
    s = a.shape[1]  # moving the S axis first copies nothing when S = 1
    a2 = a.transpose(1, 0, 2, 3).reshape(s, -1, a.shape[-1])
    b2 = b.transpose(1, 0, 2, 3).reshape(s, -1, b.shape[-1])
    return a2.swapaxes(-1, -2) @ b2
