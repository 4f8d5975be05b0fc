"""The exact backward pass of one layer: the adjoint recursion through time.

Given E_t = the gradient reaching H_t^(l) from outside the layer (the head at l = L, the layer
above otherwise), the total derivative is G_t^(l) = E_t + (gradient through H_{t+1}^(l)), one
step at a time from t = T down to 1. Everything that does not depend on the carried gradient
(phi'(A), gate derivatives) is computed for all steps at once before the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells.layer import LayerRecord, LayerWeights, _dphi, project


@dataclass
class LayerGrads:
    """Gradients of one layer, stacked over S."""

    grad_hidden: np.ndarray  # (T, S, B, h) G_t^(l), total derivative
    grad_preact: np.ndarray  # (T, S, B, h) dLoss/dA_t^(l)
    grad_input: np.ndarray  # (T, S, B, n_in) dLoss/d(input of the layer)
    grad_h0: np.ndarray  # (S, B, h) dLoss/dH_0^(l)
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
    """Backpropagate ``ext`` (T, S, B, h) = E_t through a layer whose forward pass left ``rec``.

    Every cell type shares the outer equations (the cell's own are in _backward_rnn / _gru /
    _lstm; reference.run_adjoint runs the same ones step by step):

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
    if w_hh_t is None:  # weights laid out by hand rather than by engine.stack_layers
        w_hh_t = np.ascontiguousarray(w.w_hh.swapaxes(-1, -2))
    grad_hidden, grad_preact = out if out is not None else (np.empty_like(ext), np.empty_like(ext))
    if w.cell == "rnn":
        grad_proj, grad_recurrent, carry, extra = _backward_rnn(
            w, rec, ext, grad_hidden, grad_preact, w_hh_t
        )
    elif w.cell == "gru":
        grad_proj, grad_recurrent, carry, extra = _backward_gru(
            rec, ext, grad_hidden, grad_preact, w_hh_t, h_prev
        )
    else:
        grad_proj, grad_recurrent, carry, extra = _backward_lstm(
            rec, ext, grad_hidden, grad_preact, w_hh_t
        )
    grad_input = project(grad_proj, w.w_ih.swapaxes(-1, -2))  # (T, S, B, n_in) dP_t W_xh^T
    if w.residual:
        grad_input += grad_hidden
    params = {}
    if want_params:
        params["weight_ih"] = _outer_sum(grad_proj, inp)
        params["weight_hh"] = _outer_sum(grad_recurrent, h_prev)
        if w.b_ih is not None:
            params["bias_ih"] = grad_proj.sum(axis=(0, 2))
            params["bias_hh"] = grad_recurrent.sum(axis=(0, 2))
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
    """The seed's cell backward, t = T..1 (reference.rnn_step_back runs the same equations):

        dA_t = phi'(A_t) * G_t
        dZ_t = dA_t, or with layer norm: with dXhat = dA_t * gain,
               dZ_t = rstd_t * (dXhat - mean(dXhat) - xhat_t * mean(dXhat * xhat_t))
        carry into G_{t-1} = dZ_t W_hh^T;   dP_t = dR_t = dZ_t

    Returns (dP, dR, dLoss/dH_0, None), dP = dR (T, S, B, h); fills grad_hidden (G_t) and
    grad_preact (dA_t).
    """
    act = rec.extra.get("phi", rec.hidden)
    dphi = _dphi(w.activation, rec.preact, act)  # (T, S, B, h) phi'(A_t^(l))
    layer_norm = w.ln_weight is not None
    grad_z = np.empty_like(ext) if layer_norm else grad_preact  # before LayerNorm
    if layer_norm:
        xhat, rstd = rec.extra["ln_xhat"], rec.extra["ln_rstd"]
    carry = np.zeros_like(ext[0])
    steps = zip(ext[::-1], dphi[::-1], grad_hidden[::-1], grad_preact[::-1])
    for back, (e_t, dphi_t, g, da) in enumerate(steps):  # each (S, B, h)
        t = ext.shape[0] - 1 - back
        np.add(e_t, carry, out=g)  # G_t^(l) = E_t + carry
        np.multiply(dphi_t, g, out=da)  # dA_t = phi'(A_t) * G_t
        if layer_norm:
            dxhat = da * w.ln_weight  # (S, B, h) dLoss/d(xhat_t)
            dz = dxhat - dxhat.mean(-1, keepdims=True)
            dz -= xhat[t] * (dxhat * xhat[t]).mean(-1, keepdims=True)
            np.multiply(dz, rstd[t], out=grad_z[t])  # dZ_t
            da = grad_z[t]
        np.matmul(da, w_hh_t, out=carry)  # (S, B, h) dZ_t W_hh^T, into G_{t-1}^(l)
    return grad_z, grad_z, carry, None


def _backward_gru(rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """torch's GRU backward, t = T..1 (reference.gru_step_back runs the same equations):

        dA_n = G_t * (1 - z_t) * (1 - n_t^2)             dH_t/dA_n = (1 - z)(1 - n^2)
        dA_z = G_t * (h_prev - n_t) * z_t * (1 - z_t)      dH_t/dA_z = (h_prev - n) z (1 - z)
        dA_r = dA_n * (h_prev W_hn + b_hn) * r_t * (1 - r_t)   dA_n/dA_r
        dP_t = [dA_r, dA_z, dA_n],   dR_t = [dA_r, dA_z, dA_n * r_t]
        carry into G_{t-1} = dR_t W_hh^T + G_t * z_t

    Returns (dP, dR (T, S, B, 3h), dLoss/dH_0, None); fills grad_hidden and grad_preact (dA_n).
    """
    rz, n, recurrent_n = rec.extra["rz"], rec.extra["n"], rec.extra["recurrent_n"]
    h = ext.shape[-1]
    r, z = rz[..., :h], rz[..., h:]  # (T, S, B, h) each
    h_to_n = (1.0 - z) * (1.0 - n * n)  # dH_t / dA_n
    h_to_z = (h_prev - n) * z * (1.0 - z)  # dH_t / dA_z
    n_to_r = recurrent_n * r * (1.0 - r)  # dA_n / dA_r
    grad_proj = np.empty(ext.shape[:-1] + (3 * h,), dtype=ext.dtype)  # (T, S, B, 3h) dP
    grad_recurrent = np.empty_like(grad_proj)  # (T, S, B, 3h) dR
    carry = np.zeros_like(ext[0])
    for t in range(ext.shape[0] - 1, -1, -1):
        g = np.add(ext[t], carry, out=grad_hidden[t])  # (S, B, h) G_t^(l)
        dan = np.multiply(g, h_to_n[t], out=grad_preact[t])  # dA_n
        dp, dr = grad_proj[t], grad_recurrent[t]  # (S, B, 3h)
        np.multiply(dan, n_to_r[t], out=dp[..., :h])  # dA_r
        np.multiply(g, h_to_z[t], out=dp[..., h : 2 * h])  # dA_z
        dp[..., 2 * h :] = dan
        dr[..., : 2 * h] = dp[..., : 2 * h]
        np.multiply(dan, r[t], out=dr[..., 2 * h :])  # r gates h_prev W_hn + b_hn
        carry = np.matmul(dr, w_hh_t)  # (S, B, h) dR_t W_hh^T
        carry += g * z[t]  # + G_t dH_t/dh_prev directly, through z * h_prev
    return grad_proj, grad_recurrent, carry, None


def _backward_lstm(rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t):
    """torch's LSTM backward, t = T..1 (reference.lstm_step_back runs the same equations):

        dC_t = G_t * o_t * (1 - tanh(C_t)^2) + dC_{t+1} * f_{t+1}   dH_t/dC_t = o (1 - tanh^2 C)
        dA_i = dC_t * g_t * i_t * (1 - i_t)                         dC_t/dA_i = g i (1 - i)
        dA_f = dC_t * C_{t-1} * f_t * (1 - f_t)                     dC_t/dA_f = C_{t-1} f (1 - f)
        dA_g = dC_t * i_t * (1 - g_t^2)                             dC_t/dA_g = i (1 - g^2)
        dA_o = G_t * tanh(C_t) * o_t * (1 - o_t)                    dH_t/dA_o = tanh(C) o (1 - o)
        dP_t = dR_t = [dA_i, dA_f, dA_g, dA_o]
        carry into G_{t-1} = dR_t W_hh^T

    Returns (dP, dR (T, S, B, 4h), dLoss/dH_0, dLoss/dC_t (T, S, B, h)); fills grad_hidden and
    grad_preact (dA_g).
    """
    gates, cell, tc = rec.extra["gates"], rec.extra["cell"], rec.extra["tanh_cell"]
    h = ext.shape[-1]
    i, f, g, o = (gates[..., k * h : (k + 1) * h] for k in range(4))  # (T, S, B, h) each
    c_prev = np.concatenate([rec.extra["c0"][None], cell[:-1]])  # (T, S, B, h) C_{t-1}
    h_to_c = o * (1.0 - tc * tc)  # dH_t / dC_t (through H_t only)
    h_to_o = tc * o * (1.0 - o)  # dH_t / dA_o
    # dC_t / dA of the i, f, g blocks, side by side: dA_{i,f,g} = dC_t times these
    c_to_ifg = np.empty(ext.shape[:-1] + (3, h), dtype=ext.dtype)  # (T, S, B, 3, h)
    np.multiply(g, i * (1.0 - i), out=c_to_ifg[..., 0, :])
    np.multiply(c_prev, f * (1.0 - f), out=c_to_ifg[..., 1, :])
    np.multiply(i, 1.0 - g * g, out=c_to_ifg[..., 2, :])
    grad_proj = np.empty(ext.shape[:-1] + (4 * h,), dtype=ext.dtype)  # (T, S, B, 4h) dP = dR
    blocks = grad_proj.reshape(ext.shape[:-1] + (4, h))  # (T, S, B, 4, h) view
    grad_cell = np.empty_like(ext)
    carry_h, carry_c = np.zeros_like(ext[0]), np.zeros_like(ext[0])  # (S, B, h) each
    for t in range(ext.shape[0] - 1, -1, -1):
        grad_h = np.add(ext[t], carry_h, out=grad_hidden[t])  # (S, B, h) G_t^(l)
        dcell = np.multiply(grad_h, h_to_c[t], out=grad_cell[t])
        dcell += carry_c  # dLoss/dC_t^(l): through H_t and through C_{t+1}
        np.multiply(dcell[..., None, :], c_to_ifg[t], out=blocks[t, ..., :3, :])  # dA_i, f, g
        np.multiply(grad_h, h_to_o[t], out=blocks[t, ..., 3, :])  # dA_o
        carry_c = dcell * f[t]  # dC_t * f_t, into dC_{t-1}
        carry_h = np.matmul(grad_proj[t], w_hh_t)  # (S, B, h) dR_t W_hh^T, into G_{t-1}
    grad_preact[...] = grad_proj[..., 2 * h : 3 * h]
    return grad_proj, grad_proj, carry_h, grad_cell
