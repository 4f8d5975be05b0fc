"""torch's GRU cell (Cho et al. 2014), gates in torch's order (r, z, n).

Forward and exact backward over a whole sequence (the engine's), the same equations one step
at a time (the reference engine's, shown in the app), the rows of its step Jacobians (spectra)
and its constants in the cost model. Torch's module: ``nn.GRU``.
"""

from __future__ import annotations

import numpy as np

from deeprnn_core.cells.activations import sigmoid
from deeprnn_core.cells.base import (
    Cell,
    CellCost,
    LayerRecord,
    LayerWeights,
    SpectraLayer,
    accumulate,
    projections,
    row_norms,
)


def forward(w: LayerWeights, proj, rec: LayerRecord, res, c0=None) -> None:
    """Every step t = 1..T (``step`` runs the same equations; x = H_t^(l-1),
    h_prev = H_{t-1}^(l)):

        r_t = sigmoid(x W_ir + b_ir + h_prev W_hr + b_hr)
        z_t = sigmoid(x W_iz + b_iz + h_prev W_hz + b_hz)
        A_t = x W_in + b_in + r_t * (h_prev W_hn + b_hn)
        n_t = tanh(A_t)
        H_t = (1 - z_t) * n_t + z_t * h_prev   (+ x with a residual connection)

    ``proj`` (T, S, B, 3h) holds x W_i{r,z,n} + b_i{r,z,n}. Writes rec.hidden, rec.preact (A_t,
    the candidate's pre-activation), and into rec.extra: "rz" (T, S, B, 2h) the r and z gates,
    "n" the candidate, "recurrent_n" = h_prev W_hn + b_hn (which r scales).
    """
    hidden, h_prev = rec.hidden, rec.h0
    h = hidden.shape[-1]
    rz = rec.extra["rz"] = np.empty(proj.shape[:-1] + (2 * h,), dtype=proj.dtype)  # r, z gates
    n = rec.extra["n"] = np.empty_like(hidden)
    recurrent_n = rec.extra["recurrent_n"] = np.empty_like(hidden)  # h_prev W_hn + b_hn
    recurrent = np.empty_like(proj[0])  # (S, B, 3h) h_prev W_hh + b_hh, blocks r, z, n
    for t in range(proj.shape[0]):
        np.matmul(h_prev, w.w_hh, out=recurrent)
        if w.b_hh is not None:
            recurrent += w.b_hh
        p = proj[t]  # (S, B, 3h) x W_ih + b_ih
        sigmoid(np.add(p[..., : 2 * h], recurrent[..., : 2 * h], out=rz[t]), rz[t])  # r_t, z_t
        recurrent_n[t] = recurrent[..., 2 * h :]
        a_n = np.multiply(rz[t, ..., :h], recurrent_n[t], out=rec.preact[t])  # r * (h W_hn + b_hn)
        a_n += p[..., 2 * h :]  # + x W_in + b_in: A_t (S, B, h)
        np.tanh(a_n, out=n[t])  # n_t
        out = np.subtract(h_prev, n[t], out=hidden[t])
        out *= rz[t, ..., h:]
        out += n[t]  # (1 - z) n + z h_prev = n + z (h_prev - n)
        if res is not None:
            out += res[t]
        h_prev = out


def backward(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """t = T..1 (``step_back`` runs the same equations):

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


def step(p, x, h_prev, c_prev, activation):
    """torch's GRU, one step, gates in its order (r, z, n):

    r_t = sigmoid(x W_ir + b_ir + h_prev W_hr + b_hr)
    z_t = sigmoid(x W_iz + b_iz + h_prev W_hz + b_hz)
    A_t = x W_in + b_in + r_t * (h_prev W_hn + b_hn)
    n_t = tanh(A_t)
    H_t = (1 - z_t) * n_t + z_t * h_prev   (+ x with a residual connection)
    """
    x_part, h_part = projections(p, x, h_prev)
    (x_r, x_z, x_n), (h_r, h_z, h_n) = np.split(x_part, 3, -1), np.split(h_part, 3, -1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    a = x_n + r * h_n
    n = np.tanh(a)
    s = {"x": x, "h_prev": h_prev, "r": r, "z": z, "h_n": h_n, "a": a, "n": n}
    return (1.0 - z) * n + z * h_prev, s


def step_back(p, s, grad_h, carry_c, activation, grads):
    """torch's GRU backward, one step, from G_t = ``grad_h`` (B, h):

    dA_n = G_t * (1 - z_t) * (1 - n_t^2)             dH_t/dA_n = (1 - z)(1 - n^2)
    dA_z = G_t * (h_prev - n_t) * z_t * (1 - z_t)      dH_t/dA_z = (h_prev - n) z (1 - z)
    dA_r = dA_n * (h_prev W_hn + b_hn) * r_t * (1 - r_t)   dA_n/dA_r
    dP_t = [dA_r, dA_z, dA_n],   dR_t = [dA_r, dA_z, dA_n * r_t]
    carry into G_{t-1} = dR_t W_hh^T + G_t * z_t
    """
    r, z, n = s["r"], s["z"], s["n"]
    da_n = grad_h * (1.0 - z) * (1.0 - n * n)
    da_z = grad_h * (s["h_prev"] - n) * z * (1.0 - z)
    da_r = da_n * s["h_n"] * r * (1.0 - r)
    d_input = np.concatenate([da_r, da_z, da_n], axis=-1)  # dP_t (B, 3h)
    d_recurrent = np.concatenate([da_r, da_z, da_n * r], axis=-1)  # dR_t (B, 3h)
    accumulate(grads, s, d_input, d_recurrent)
    return da_n, None, d_input @ p["weight_ih"], d_recurrent @ p["weight_hh"] + grad_h * z, None


def gate_arrays(rec: LayerRecord, h: int) -> dict[str, np.ndarray]:
    """r, z and the candidate n, each (T, S, B, h)."""
    return {"r": rec.extra["rz"][..., :h], "z": rec.extra["rz"][..., h:], "n": rec.extra["n"]}


def jacobian_rows(layer: SpectraLayer):
    """Rows of dH_t/dH_{t-1} = diag(z) + diag(via_r) W_hr^T + diag(via_z) W_hz^T
    + diag(via_n r) W_hn^T, and of dH_t/dH_t^(l-1) with the input blocks (+ I, residual)."""
    r, z, n = (layer.gates[g] for g in "rzn")
    h_prev, h = layer.h_prev, layer.h_prev.shape[-1]
    bias = layer.params["bias_hh"][2 * h :] if "bias_hh" in layer.params else 0.0
    ghn = h_prev @ layer.blocks_hh[2].T + bias  # h_prev W_hn + b_hn
    via_n = (1 - z) * (1 - n * n)
    via_r = via_n * ghn * r * (1 - r)
    via_z = (h_prev - n) * z * (1 - z)
    t_sq = row_norms(z, np.stack([via_r, via_z, via_n * r]), layer.blocks_hh)
    d_sq = row_norms(layer.residual, np.stack([via_r, via_z, via_n]), layer.blocks_ih)
    return t_sq, d_sq, None


CELL = Cell(
    name="gru",
    title="GRU",
    summary="gated recurrent unit (torch's nn.GRU): a reset and an update gate",
    blocks=3,
    gates=(("r", "sigmoid", "reset"), ("z", "sigmoid", "update"), ("n", "tanh", "candidate")),
    forward=forward,
    backward=backward,
    step=step,
    step_back=step_back,
    gate_arrays=gate_arrays,
    jacobian_rows=jacobian_rows,
    cost=CellCost(
        time={
            "float64": (52e-6, 1.50e-9, 8.4e-9, 0.86e-9, 103e-9),
            "float32": (44e-6, 1.20e-9, 4.2e-9, 0.18e-9, 51e-9),
        },
        layout=5e-9,
        kept=4,
        scratch=11,
        spectra=250e-9,
    ),
    torch_module="GRU",
    recurrent_bias_outside=False,
)
