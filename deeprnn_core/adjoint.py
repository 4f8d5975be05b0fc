"""The exact backward pass of one layer: the adjoint recursion through time.

Given E_t = the gradient reaching H_t^(l) from outside the layer (the head at l = L, the layer
above otherwise), the total derivative is G_t^(l) = E_t + (gradient through H_{t+1}^(l)), one
step at a time from t = T down to 1. Everything that does not depend on the carried gradient
(phi'(A), gate derivatives) is computed for all steps at once before the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells import LayerRecord, LayerWeights, _dphi


@dataclass
class LayerGrads:
    """Gradients of one layer, stacked over S."""

    grad_hidden: np.ndarray  # (T, S, B, h) G_t^(l), total derivative
    grad_preact: np.ndarray  # (T, S, B, h) dLoss/dA_t^(l)
    grad_input: np.ndarray  # (T, S, B, n_in) dLoss/d(input of the layer)
    grad_h0: np.ndarray  # (S, B, h)
    params: dict[str, np.ndarray]  # short torch name -> (S, *torch shape)
    grad_cell: np.ndarray | None = None  # (T, S, B, h) dLoss/dC_t^(l), LSTM only


def backward_layer(
    w: LayerWeights,
    rec: LayerRecord,
    inp: np.ndarray,
    ext: np.ndarray,
    want_params: bool = True,
    out=None,
) -> LayerGrads:
    """Backpropagate ``ext`` (T, S, B, h) through a layer whose forward pass left ``rec``;
    ``out``: optional (grad_hidden, grad_preact) arrays (T, S, B, h) to write into."""
    h_prev = np.concatenate([rec.h0[None], rec.hidden[:-1]])  # (T, S, B, h) H_{t-1}^(l)
    w_hh_t = np.ascontiguousarray(w.w_hh.swapaxes(-1, -2))  # (S, G*h, h)
    grad_hidden, grad_preact = out if out is not None else (np.empty_like(ext), np.empty_like(ext))
    if w.cell == "rnn":
        grad_proj, grad_gh, carry, extra = _backward_rnn(
            w, rec, ext, grad_hidden, grad_preact, w_hh_t
        )
    elif w.cell == "gru":
        grad_proj, grad_gh, carry, extra = _backward_gru(
            rec, ext, grad_hidden, grad_preact, w_hh_t, h_prev
        )
    else:
        grad_proj, grad_gh, carry, extra = _backward_lstm(
            rec, ext, grad_hidden, grad_preact, w_hh_t
        )
    grad_input = grad_proj @ w.w_ih.swapaxes(-1, -2)  # (T, S, B, n_in)
    if w.residual:
        grad_input += grad_hidden
    params = {}
    if want_params:
        params["weight_ih"] = _outer_sum(grad_proj, inp)
        params["weight_hh"] = _outer_sum(grad_gh, h_prev)
        if w.b_ih is not None:
            params["bias_ih"] = grad_proj.sum(axis=(0, 2))
            params["bias_hh"] = grad_gh.sum(axis=(0, 2))
        if w.ln_weight is not None:
            params["ln_weight"] = (grad_preact * rec.extra["ln_xhat"]).sum(axis=(0, 2))
            params["ln_bias"] = grad_preact.sum(axis=(0, 2))
    return LayerGrads(grad_hidden, grad_preact, grad_input, carry, params, extra)


def _outer_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over t and batch of a_t^T b_t: (T, S, B, m), (T, S, B, n) -> (S, m, n)."""
    s = a.shape[1]  # moving the S axis first copies nothing when S = 1
    a2 = a.transpose(1, 0, 2, 3).reshape(s, -1, a.shape[-1])
    b2 = b.transpose(1, 0, 2, 3).reshape(s, -1, b.shape[-1])
    return a2.swapaxes(-1, -2) @ b2


def _backward_rnn(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t):
    act = rec.extra.get("phi", rec.hidden)
    dphi = _dphi(w.activation, rec.preact, act)  # (T, S, B, h) phi'(A_t^(l))
    layer_norm = w.ln_weight is not None
    grad_z = np.empty_like(ext) if layer_norm else grad_preact  # before LayerNorm
    if layer_norm:
        xhat, rstd = rec.extra["ln_xhat"], rec.extra["ln_rstd"]
    carry = np.zeros_like(ext[0])
    steps = zip(ext[::-1], dphi[::-1], grad_hidden[::-1], grad_preact[::-1])
    for back, (e_t, dphi_t, g, da) in enumerate(steps):
        t = ext.shape[0] - 1 - back
        np.add(e_t, carry, out=g)  # G_t^(l)
        np.multiply(dphi_t, g, out=da)
        if layer_norm:
            dx = da * w.ln_weight
            dz = dx - dx.mean(-1, keepdims=True)
            dz -= xhat[t] * (dx * xhat[t]).mean(-1, keepdims=True)
            np.multiply(dz, rstd[t], out=grad_z[t])
            da = grad_z[t]
        np.matmul(da, w_hh_t, out=carry)  # (S, B, h) into G_{t-1}^(l)
    return grad_z, grad_z, carry, None


def _backward_gru(rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    rz, n, ghn = rec.extra["rz"], rec.extra["n"], rec.extra["gh_n"]
    h = ext.shape[-1]
    r, z = rz[..., :h], rz[..., h:]
    via_n = (1.0 - z) * (1.0 - n * n)  # dA_n / dH_t
    via_z = (h_prev - n) * z * (1.0 - z)  # dA_z / dH_t
    n_to_r = ghn * r * (1.0 - r)  # dA_r / dA_n
    grad_proj = np.empty(ext.shape[:-1] + (3 * h,), dtype=ext.dtype)
    grad_gh = np.empty_like(grad_proj)
    carry = np.zeros_like(ext[0])
    for t in range(ext.shape[0] - 1, -1, -1):
        g = np.add(ext[t], carry, out=grad_hidden[t])
        dan = np.multiply(g, via_n[t], out=grad_preact[t])
        dp, dgh = grad_proj[t], grad_gh[t]
        np.multiply(dan, n_to_r[t], out=dp[..., :h])
        np.multiply(g, via_z[t], out=dp[..., h : 2 * h])
        dp[..., 2 * h :] = dan
        dgh[..., : 2 * h] = dp[..., : 2 * h]
        np.multiply(dan, r[t], out=dgh[..., 2 * h :])
        carry = np.matmul(dgh, w_hh_t)
        carry += g * z[t]
    return grad_proj, grad_gh, carry, None


def _backward_lstm(rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t):
    gates, cell, tc = rec.extra["gates"], rec.extra["cell"], rec.extra["tanh_cell"]
    h = ext.shape[-1]
    i, f, g, o = (gates[..., k * h : (k + 1) * h] for k in range(4))
    c_prev = np.concatenate([rec.extra["c0"][None], cell[:-1]])
    h_to_c = o * (1.0 - tc * tc)
    h_to_o = tc * o * (1.0 - o)
    # dLoss/dA of the i, f, g blocks is dLoss/dC_t times these, side by side
    c_to_ifg = np.empty(ext.shape[:-1] + (3, h), dtype=ext.dtype)
    np.multiply(g, i * (1.0 - i), out=c_to_ifg[..., 0, :])
    np.multiply(c_prev, f * (1.0 - f), out=c_to_ifg[..., 1, :])
    np.multiply(i, 1.0 - g * g, out=c_to_ifg[..., 2, :])
    grad_proj = np.empty(ext.shape[:-1] + (4 * h,), dtype=ext.dtype)
    blocks = grad_proj.reshape(ext.shape[:-1] + (4, h))  # (T, S, B, 4, h) view
    grad_cell = np.empty_like(ext)
    carry_h, carry_c = np.zeros_like(ext[0]), np.zeros_like(ext[0])
    for t in range(ext.shape[0] - 1, -1, -1):
        gh = np.add(ext[t], carry_h, out=grad_hidden[t])
        dc = np.multiply(gh, h_to_c[t], out=grad_cell[t])
        dc += carry_c  # dLoss/dC_t^(l): through H_t and through C_{t+1}
        np.multiply(dc[..., None, :], c_to_ifg[t], out=blocks[t, ..., :3, :])
        np.multiply(gh, h_to_o[t], out=blocks[t, ..., 3, :])
        carry_c = dc * f[t]
        carry_h = np.matmul(grad_proj[t], w_hh_t)
    grad_preact[...] = grad_proj[..., 2 * h : 3 * h]
    return grad_proj, grad_proj, carry_h, grad_cell
