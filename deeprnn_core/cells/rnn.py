"""The seed's cell: H_t^(l) = phi_l(H_t^(l-1) W_xh^(l) + H_{t-1}^(l) W_hh^(l) + b_h^(l)).

Forward and exact backward over a whole sequence (the engine's), the same equations one step
at a time (the reference engine's, shown in the app), the rows of its step Jacobians (spectra)
and its constants in the cost model. Torch's module: ``nn.RNN`` (tanh or relu).
"""

from __future__ import annotations

import numpy as np

from deeprnn_core.cells.activations import dphi, phi
from deeprnn_core.cells.base import (
    LN_EPS,
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
    """Every step t = 1..T (``step`` runs the same equations):

        Z_t = H_t^(l-1) W_xh + H_{t-1}^(l) W_hh + b_h
        A_t = Z_t, or with layer norm: A_t = gain * (Z_t - mean(Z_t)) * rstd_t + bias,
              rstd_t = 1 / sqrt(var(Z_t) + eps)   (mean, var over the h units)
        H_t = phi(A_t)   (+ H_t^(l-1) with a residual connection)

    ``proj`` (T, S, B, h) holds H_t^(l-1) W_xh + b_h already; ``res`` is the layer's input
    (T, S, B, h) when the layer is residual, else None. Writes rec.hidden, rec.preact (A_t),
    and into rec.extra: "phi" (phi(A_t), when residual), "ln_xhat", "ln_rstd" (layer norm).
    """
    hidden, preact, h_prev = rec.hidden, rec.preact, rec.h0
    act = rec.extra["phi"] = np.empty_like(hidden) if res is not None else hidden
    layer_norm = w.ln_weight is not None
    if layer_norm:
        xhat = rec.extra["ln_xhat"] = np.empty_like(hidden)
        rstd = rec.extra["ln_rstd"] = np.empty(hidden.shape[:-1] + (1,), dtype=hidden.dtype)
    recurrent = np.empty_like(hidden[0])  # (S, B, h)
    tanh = w.activation == "tanh"
    # zip hands out the per-step views from C: measurably faster than indexing at small h
    steps = zip(proj, preact, act, hidden, hidden if res is None else res)
    for t, (p_t, z, f_t, h_t, r_t) in enumerate(steps):  # each (S, B, h)
        np.matmul(h_prev, w.w_hh, out=recurrent)  # (S, B, h) H_{t-1}^(l) W_hh
        np.add(p_t, recurrent, out=z)  # (S, B, h) Z_t, in A_t's buffer
        if layer_norm:
            z -= z.mean(-1, keepdims=True)  # Z_t - mean(Z_t)
            rstd[t] = 1.0 / np.sqrt((z * z).mean(-1, keepdims=True) + LN_EPS)  # (S, B, 1)
            np.multiply(z, rstd[t], out=xhat[t])  # (S, B, h) normalised Z_t
            np.multiply(xhat[t], w.ln_weight, out=z)
            z += w.ln_bias  # A_t = gain * xhat + bias
        if tanh:  # the common case, without the dispatch
            np.tanh(z, out=f_t)
        else:
            phi(w.activation, z, f_t)
        if res is not None:
            np.add(f_t, r_t, out=h_t)
        h_prev = h_t


def backward(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """t = T..1 (``step_back`` runs the same equations):

        dA_t = phi'(A_t) * G_t
        dZ_t = dA_t, or with layer norm: with dXhat = dA_t * gain,
               dZ_t = rstd_t * (dXhat - mean(dXhat) - xhat_t * mean(dXhat * xhat_t))
        carry into G_{t-1} = dZ_t W_hh^T;   dP_t = dR_t = dZ_t

    Returns (dP, dR, dLoss/dH_0, None), dP = dR (T, S, B, h); fills grad_hidden (G_t) and
    grad_preact (dA_t).
    """
    act = rec.extra.get("phi", rec.hidden)
    d_act = dphi(w.activation, rec.preact, act)  # (T, S, B, h) phi'(A_t^(l))
    layer_norm = w.ln_weight is not None
    grad_z = np.empty_like(ext) if layer_norm else grad_preact  # before LayerNorm
    if layer_norm:
        xhat, rstd = rec.extra["ln_xhat"], rec.extra["ln_rstd"]
    carry = np.zeros_like(ext[0])
    steps = zip(ext[::-1], d_act[::-1], grad_hidden[::-1], grad_preact[::-1])
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


def mean(a):
    return a.mean(-1, keepdims=True)  # over the h units


def step(p, x, h_prev, c_prev, activation):
    """The seed's cell, one step (x = H_t^(l-1) (B, n_in), h_prev = H_{t-1}^(l) (B, h)):

    Z_t = H_t^(l-1) W_xh + H_{t-1}^(l) W_hh + b_h
    A_t = Z_t, or with layer norm: A_t = gain * (Z_t - mean(Z_t)) * rstd_t + bias,
          rstd_t = 1 / sqrt(var(Z_t) + eps)   (mean, var over the h units)
    H_t = phi(A_t)   (+ H_t^(l-1) with a residual connection)
    """
    z = sum(projections(p, x, h_prev))
    s = {"x": x, "h_prev": h_prev, "a": z}
    if "ln_weight" in p:
        centred = z - mean(z)
        s["rstd"] = 1.0 / np.sqrt(mean(centred**2) + LN_EPS)
        s["xhat"] = centred * s["rstd"]
        s["a"] = p["ln_weight"] * s["xhat"] + p["ln_bias"]
    s["f"] = phi(activation, s["a"])
    return s["f"], s


def step_back(p, s, grad_h, carry_c, activation, grads):
    """The seed's cell backward, one step, from G_t = ``grad_h`` (B, h):

    dA_t = phi'(A_t) * G_t
    dZ_t = dA_t, or with layer norm: with dXhat = dA_t * gain,
           dZ_t = rstd_t * (dXhat - mean(dXhat) - xhat_t * mean(dXhat * xhat_t))
    carry into G_{t-1} = dZ_t W_hh^T;   dP_t = dR_t = dZ_t

    Returns (dA_t, None, dLoss/dx, carry); adds the step's parameter gradients to ``grads``.
    """
    da = dphi(activation, s["a"], s["f"]) * grad_h
    dz = da
    if "ln_weight" in p:
        grads["ln_weight"] += (da * s["xhat"]).sum(0)
        grads["ln_bias"] += da.sum(0)
        dxhat = da * p["ln_weight"]
        dz = s["rstd"] * (dxhat - mean(dxhat) - s["xhat"] * mean(dxhat * s["xhat"]))
    accumulate(grads, s, dz, dz)
    return da, None, dz @ p["weight_ih"], dz @ p["weight_hh"], None


def jacobian_rows(layer: SpectraLayer):
    """Rows of dH_t/dH_{t-1} = diag(phi'(A_t)) W_hh^T and dH_t/dH_t^(l-1) = diag(phi') W_xh^T
    (+ I with a residual connection); with layer norm, LayerNorm's exact Jacobian between."""
    if layer.layer_norm:
        t_sq, d_sq = _layer_norm_rows(layer)
        return t_sq, d_sq, None
    d_act = dphi(layer.activation, layer.preact)[None]  # (1, T, B, h)
    t_sq = row_norms(None, d_act, layer.blocks_hh)
    return t_sq, row_norms(layer.residual, d_act, layer.blocks_ih), None


def _layer_norm_rows(layer: SpectraLayer):
    """Row norms of diag(phi' gain rstd) P W with P = I - u u^T - v v^T, u = 1/sqrt(h),
    v = xhat / sqrt(h): LayerNorm's Jacobian on the pre-norm sum z (exact, eps included)."""
    p = layer.params
    w_ih, w_hh = p["weight_ih"], p["weight_hh"]
    z = layer.inp @ w_ih.T + layer.h_prev @ w_hh.T  # (T, B, h)
    if "bias_ih" in p:
        z = z + p["bias_ih"] + p["bias_hh"]
    h = z.shape[-1]
    centred = z - z.mean(-1, keepdims=True)
    rstd = 1.0 / np.sqrt((centred * centred).mean(-1, keepdims=True) + LN_EPS)
    xhat = centred * rstd
    a_ln = xhat * p["ln_weight"] + p["ln_bias"]
    scale = dphi(layer.activation, a_ln) * p["ln_weight"] * rstd  # (T, B, h)
    u, v = 1.0 / np.sqrt(h), xhat / np.sqrt(h)
    out = []
    for w, direct in ((w_hh, None), (w_ih, layer.residual)):
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


CELL = Cell(
    name="rnn",
    title="RNN",
    summary="the seed's cell: H_t^(l) = φ_l(H_t^(l-1) W_xh + H_{t-1}^(l) W_hh + b_h)",
    blocks=1,
    gates=(),
    forward=forward,
    backward=backward,
    step=step,
    step_back=step_back,
    gate_arrays=lambda rec, h: {},
    jacobian_rows=jacobian_rows,
    cost=CellCost(
        time={
            "float64": (11.4e-6, 1.16e-9, 4.2e-9, 0.90e-9, 76e-9),
            "float32": (22e-6, 0.84e-9, 0.56e-9, 0.91e-9, 39e-9),
        },
        layout=5e-9,
        kept=1,
        scratch=3,
        spectra=40e-9,
    ),
    torch_module="RNN",
    activation=True,
    layer_norm=True,
    eigen=lambda p, gates: ("eig(W_hh)", np.linalg.eigvals(p["weight_hh"])),
)
