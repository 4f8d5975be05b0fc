"""The seed's formula and its exact adjoint, written plainly: one layer, one step at a time.

The fast engine (cells.py, adjoint.py) runs a layer over the whole sequence with a stacking
axis, preallocated buffers and fused gates. This module runs the same equations on one
(B, width) array per step, with torch's weight layout (x W^T): the tests hold the engine to it
(float64, 1e-12), and the app shows its functions as "the code that computes this cell".
A step's ``p`` is one layer's torch parameters without the ``_l{k}`` suffix.
"""

from __future__ import annotations

import inspect

import numpy as np

from deeprnn_core.cells.layer import LN_EPS
from deeprnn_core.config import RNNConfig, dropout_applies


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + exp(-a)), without overflow


PHI = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0), "sigmoid": sigmoid}
PHI["identity"] = lambda a: a
DPHI = {  # phi'(A) from A and F = phi(A)
    "tanh": lambda a, f: 1.0 - f * f,
    "relu": lambda a, f: (a > 0) * 1.0,
    "sigmoid": lambda a, f: f * (1.0 - f),
    "identity": lambda a, f: np.ones_like(a),
}


def linear(x, weight, bias):
    """x W^T + b: (B, n) -> (B, m) for a torch weight (m, n); no bias when it is None."""
    return x @ weight.T + (0.0 if bias is None else bias)


def projections(p, x, h_prev):
    """(x W_ih^T + b_ih, h_prev W_hh^T + b_hh), each (B, G*h): one block per gate."""
    x_part = linear(x, p["weight_ih"], p.get("bias_ih"))
    return x_part, linear(h_prev, p["weight_hh"], p.get("bias_hh"))


def mean(a):
    return a.mean(-1, keepdims=True)  # over the h units


def layer_params(params, k):
    """Layer k's (0-based) parameters without their "_l{k}" suffix."""
    return {n[: -len(f"_l{k}")]: v for n, v in params.items() if n.endswith(f"_l{k}")}


def accumulate(grads, s, d_input, d_recurrent):
    """Add one step to dLoss/dW_xh (dP_t^T x) and dLoss/dW_hh (dR_t^T h_prev), torch layout."""
    grads["weight_ih"] += d_input.T @ s["x"]
    grads["weight_hh"] += d_recurrent.T @ s["h_prev"]
    if "bias_ih" in grads:
        grads["bias_ih"] += d_input.sum(0)
        grads["bias_hh"] += d_recurrent.sum(0)


def rnn_step(p, x, h_prev, activation):
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
    s["f"] = PHI[activation](s["a"])
    return s["f"], s


def rnn_step_back(p, s, grad_h, activation, grads):
    """The seed's cell backward, one step, from G_t = ``grad_h`` (B, h):

    dA_t = phi'(A_t) * G_t
    dZ_t = dA_t, or with layer norm: with dXhat = dA_t * gain,
           dZ_t = rstd_t * (dXhat - mean(dXhat) - xhat_t * mean(dXhat * xhat_t))
    carry into G_{t-1} = dZ_t W_hh^T;   dP_t = dR_t = dZ_t

    Returns (dA_t, dLoss/dx, carry); adds the step's parameter gradients to ``grads``.
    """
    da = DPHI[activation](s["a"], s["f"]) * grad_h
    dz = da
    if "ln_weight" in p:
        grads["ln_weight"] += (da * s["xhat"]).sum(0)
        grads["ln_bias"] += da.sum(0)
        dxhat = da * p["ln_weight"]
        dz = s["rstd"] * (dxhat - mean(dxhat) - s["xhat"] * mean(dxhat * s["xhat"]))
    accumulate(grads, s, dz, dz)
    return da, dz @ p["weight_ih"], dz @ p["weight_hh"]


def gru_step(p, x, h_prev):
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


def gru_step_back(p, s, grad_h, grads):
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
    return da_n, d_input @ p["weight_ih"], d_recurrent @ p["weight_hh"] + grad_h * z


def lstm_step(p, x, h_prev, c_prev):
    """torch's LSTM, one step, gates in its order (i, f, g, o):

    [A_i, A_f, A_g, A_o] = x W_ih + b_ih + h_prev W_hh + b_hh
    i_t = sigmoid(A_i), f_t = sigmoid(A_f), g_t = tanh(A_g), o_t = sigmoid(A_o)
    C_t = f_t * C_{t-1} + i_t * g_t
    H_t = o_t * tanh(C_t)   (+ x with a residual connection)
    """
    a_i, a_f, a_g, a_o = np.split(sum(projections(p, x, h_prev)), 4, axis=-1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g
    s = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "c": c}
    s["a"] = a_g
    return o * np.tanh(c), s


def lstm_step_back(p, s, grad_h, carry_c, grads):
    """torch's LSTM backward, one step, from G_t = ``grad_h`` (B, h) and ``carry_c`` =
    dC_{t+1} * f_{t+1} (B, h):

    dC_t = G_t * o_t * (1 - tanh(C_t)^2) + dC_{t+1} * f_{t+1}   dH_t/dC_t = o (1 - tanh^2 C)
    dA_i = dC_t * g_t * i_t * (1 - i_t)                         dC_t/dA_i = g i (1 - i)
    dA_f = dC_t * C_{t-1} * f_t * (1 - f_t)                     dC_t/dA_f = C_{t-1} f (1 - f)
    dA_g = dC_t * i_t * (1 - g_t^2)                             dC_t/dA_g = i (1 - g^2)
    dA_o = G_t * tanh(C_t) * o_t * (1 - o_t)                    dH_t/dA_o = tanh(C) o (1 - o)
    dP_t = dR_t = [dA_i, dA_f, dA_g, dA_o]
    carry into G_{t-1} = dR_t W_hh^T

    Returns (dA_g, dC_t, dLoss/dx, carry into G_{t-1}, carry into dC_{t-1}).
    """
    i, f, g, o, tanh_c = s["i"], s["f"], s["g"], s["o"], np.tanh(s["c"])
    dcell = grad_h * o * (1.0 - tanh_c * tanh_c) + carry_c
    da_i = dcell * g * i * (1.0 - i)
    da_f = dcell * s["c_prev"] * f * (1.0 - f)
    da_g = dcell * i * (1.0 - g * g)
    da_o = grad_h * tanh_c * o * (1.0 - o)
    d = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)  # dP_t = dR_t (B, 4h)
    accumulate(grads, s, d, d)
    return da_g, dcell, d @ p["weight_ih"], d @ p["weight_hh"], dcell * f


def run(config: RNNConfig, params, x, y, loss_kind="last", h0=None, c0=None, masks=None) -> dict:
    """Forward, head, MSE loss and the exact backward of a stack, one layer and step at a time.

    Args:
        config: the architecture; params: torch-named float64 arrays (Model.params).
        x: (T, B, d) input X_t; y: (T, B, q) target Y_t.
        loss_kind: "last" (MSE of O_T) or "all" (sum over t of the MSE of O_t).
        h0, c0: (L, B, h) initial states, zeros when None.
        masks: (L-1, T, B, h) dropout masks (keep / (1 - p)) on H^(l) fed to layer l+1, or None.
    Returns:
        "hidden", "preact", "grad_hidden", "grad_preact", "cell", "grad_cell": (L, T, B, h)
        (cell ones nan outside LSTM layers); "loss"; "param_grads" under torch's names.
    """
    L, (T, B, _), h = config.num_layers, x.shape, config.hidden_size
    h0 = np.zeros((L, B, h)) if h0 is None else h0
    c0 = np.zeros((L, B, h)) if c0 is None else c0
    names = ("hidden", "preact", "grad_hidden", "grad_preact", "cell", "grad_cell")
    out = {name: np.full((L, T, B, h), np.nan) for name in names}
    inputs, caches, residual = [x], [], config.residual_layers()
    for k, cell in enumerate(config.cells):  # forward: layer 1 for t = 1..T, then layer 2, ...
        p = layer_params(params, k)
        h_t, c_t, caches = h0[k], c0[k], caches + [[]]
        for t in range(T):
            x_t = inputs[k][t]
            if cell == "rnn":
                h_t, s = rnn_step(p, x_t, h_t, config.activations[k])
            elif cell == "gru":
                h_t, s = gru_step(p, x_t, h_t)
            else:
                h_t, s = lstm_step(p, x_t, h_t, c_t)
                c_t = out["cell"][k, t] = s["c"]
            h_t = h_t + x_t if residual[k] else h_t
            out["hidden"][k, t], out["preact"][k, t] = h_t, s["a"]
            caches[k].append(s)
        fed = out["hidden"][k]  # dropout on H^(l) fed up, never on the top layer's output
        dropped = masks is not None and dropout_applies(k + 1, L)
        inputs.append(fed * masks[k] if dropped else fed)
    output = linear(inputs[L], params["head.weight"], params["head.bias"])  # (T, B, q) O_t
    steps = [T - 1] if loss_kind == "last" else range(T)
    grad_output = np.zeros_like(output)  # dLoss/dO_t of MSE (mean over B and q)
    for t in steps:
        grad_output[t] = 2.0 * (output[t] - y[t]) / output[t].size
    out["loss"] = sum(((output[t] - y[t]) ** 2).mean() for t in steps)
    grads = {"head.weight": np.einsum("tbq,tbh->qh", grad_output, inputs[L])}
    grads["head.bias"] = grad_output.sum(axis=(0, 1))
    ext = grad_output @ params["head.weight"]  # (T, B, h) E_t = dLoss/dO_t W_hq^T
    for k in range(L - 1, -1, -1):  # backward: layer L for t = T..1, then layer L-1, ...
        cell = config.cells[k]
        p = layer_params(params, k)
        layer_grads = {name: np.zeros_like(v) for name, v in p.items()}
        carry_h, carry_c, grad_input = np.zeros((B, h)), np.zeros((B, h)), np.zeros_like(inputs[k])
        for t in range(T - 1, -1, -1):
            grad_h = ext[t] + carry_h  # G_t^(l): from outside the layer and through H_{t+1}
            s = caches[k][t]
            if cell == "rnn":
                da, dx, carry_h = rnn_step_back(p, s, grad_h, config.activations[k], layer_grads)
            elif cell == "gru":
                da, dx, carry_h = gru_step_back(p, s, grad_h, layer_grads)
            else:
                da, dcell, dx, carry_h, carry_c = lstm_step_back(p, s, grad_h, carry_c, layer_grads)
                out["grad_cell"][k, t] = dcell
            grad_input[t] = dx + grad_h if residual[k] else dx
            out["grad_hidden"][k, t], out["grad_preact"][k, t] = grad_h, da
        ext = grad_input * masks[k - 1] if masks is not None and k > 0 else grad_input
        grads.update({f"{name}_l{k}": v for name, v in layer_grads.items()})
    out["param_grads"] = grads
    return out


STEPS = {"rnn": (rnn_step, rnn_step_back), "gru": (gru_step, gru_step_back)}
STEPS["lstm"] = (lstm_step, lstm_step_back)


def cell_source(cell: str) -> str:
    """The source text of one cell type's reference step, forward then backward."""
    if cell not in STEPS:
        raise ValueError(f"cell must be one of {tuple(STEPS)}, got {cell!r}")
    return "\n\n".join(inspect.getsource(f) for f in STEPS[cell])


def stack_source() -> str:
    """The source text of ``run``: the loops over layers and steps, residual and dropout."""
    return inspect.getsource(run)
