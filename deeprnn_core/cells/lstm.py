"""torch's LSTM cell (Hochreiter & Schmidhuber 1997), gates in torch's order (i, f, g, o).

Forward and exact backward over a whole sequence (the engine's), the same equations one step
at a time (the reference engine's, shown in the app), the rows of its step Jacobians (spectra)
and its constants in the cost model. Torch's module: ``nn.LSTM`` (no ``proj_size``).
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

        [A_i, A_f, A_g, A_o] = x W_ih + b_ih + h_prev W_hh + b_hh
        i_t = sigmoid(A_i), f_t = sigmoid(A_f), g_t = tanh(A_g), o_t = sigmoid(A_o)
        C_t = f_t * C_{t-1} + i_t * g_t
        H_t = o_t * tanh(C_t)   (+ x with a residual connection)

    ``proj`` (T, S, B, 4h) holds x W_ih + b_ih + b_hh; it is overwritten. Writes rec.hidden,
    rec.preact (A_g, the candidate's pre-activation), and into rec.extra: "gates" (T, S, B, 4h)
    i, f, g, o activated, "cell" C_t, "tanh_cell" tanh(C_t), "c0" C_0.
    """
    hidden, h_prev = rec.hidden, rec.h0
    h = hidden.shape[-1]
    c_prev = np.zeros_like(h_prev) if c0 is None else c0
    rec.extra["c0"] = c_prev
    gates = rec.extra["gates"] = np.empty_like(proj)  # (T, S, B, 4h) i, f, g, o activated
    cell = rec.extra["cell"] = np.empty_like(hidden)
    tcell = rec.extra["tanh_cell"] = np.empty_like(hidden)
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: one tanh serves all four blocks (g is a plain tanh)
    # once the i, f, o columns of the weights are halved
    scale = np.full(4 * h, 0.5, dtype=proj.dtype)
    scale[2 * h : 3 * h] = 1.0
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(proj.dtype)
    proj *= scale  # (T, S, B, 4h), a private array of this layer: it becomes A_t (halved)
    w_hh = w.w_hh * scale  # (S, h, 4h)
    recurrent, ig = np.empty_like(proj[0]), np.empty_like(hidden[0])
    for t in range(proj.shape[0]):
        np.matmul(h_prev, w_hh, out=recurrent)  # (S, B, 4h)
        a = np.add(proj[t], recurrent, out=proj[t])  # (S, B, 4h) A / 2 for i, f, o; A_g for g
        y = np.tanh(a, out=gates[t])
        y *= scale
        y += shift  # (S, B, 4h) sigmoid(A) for i, f, o; tanh(A_g) for g
        i, f, g, o = y[..., :h], y[..., h : 2 * h], y[..., 2 * h : 3 * h], y[..., 3 * h :]
        c = np.multiply(f, c_prev, out=cell[t])  # (S, B, h) f * C_{t-1}
        c += np.multiply(i, g, out=ig)  # + i * g = C_t
        np.multiply(o, np.tanh(c, out=tcell[t]), out=hidden[t])  # o * tanh(C_t)
        if res is not None:
            hidden[t] += res[t]
        h_prev, c_prev = hidden[t], c
    rec.preact[:] = proj[..., 2 * h : 3 * h]


def backward(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """t = T..1 (``step_back`` runs the same equations):

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


def step(p, x, h_prev, c_prev, activation):
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


def step_back(p, s, grad_h, carry_c, activation, grads):
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


def gate_arrays(rec: LayerRecord, h: int) -> dict[str, np.ndarray]:
    """i, f, g, o, each (T, S, B, h)."""
    return {name: rec.extra["gates"][..., j * h : (j + 1) * h] for j, name in enumerate("ifgo")}


def jacobian_rows(layer: SpectraLayer):
    """Rows of dH_t/dH_{t-1} through the four gates (C_{t-1} held: the H path), of
    dH_t/dH_t^(l-1) (+ I, residual), and the cell path's mean f_t^2 = |dC_t/dC_{t-1}|_F^2 / h."""
    i, f, g, o = (layer.gates[name] for name in "ifgo")
    cell_state = layer.cell_state
    c_prev = np.concatenate([np.zeros_like(cell_state[:1]), cell_state[:-1]])
    tc = np.tanh(cell_state)
    to_c = o * (1 - tc * tc)
    coefs = np.stack(
        [to_c * g * i * (1 - i), to_c * c_prev * f * (1 - f), to_c * i * (1 - g * g)]
        + [tc * o * (1 - o)]
    )  # torch's gate order i, f, g, o
    t_sq = row_norms(None, coefs, layer.blocks_hh)
    d_sq = row_norms(layer.residual, coefs, layer.blocks_ih)
    return t_sq, d_sq, (f * f).mean(-1)


CELL = Cell(
    name="lstm",
    title="LSTM",
    summary="long short-term memory (torch's nn.LSTM): a cell state C_t behind input, forget "
    "and output gates",
    blocks=4,
    gates=(
        ("i", "sigmoid", "input"),
        ("f", "sigmoid", "forget"),
        ("g", "tanh", "candidate"),
        ("o", "sigmoid", "output"),
    ),
    forward=forward,
    backward=backward,
    step=step,
    step_back=step_back,
    gate_arrays=gate_arrays,
    jacobian_rows=jacobian_rows,
    cost=CellCost(
        time={
            "float64": (57e-6, 1.64e-9, 11.5e-9, 0.14e-9, 45e-9),
            "float32": (45e-6, 1.38e-9, 3.1e-9, 0.59e-9, 0.0),
        },
        layout=15e-9,
        kept=6,
        scratch=14,
        spectra=200e-9,
    ),
    torch_module="LSTM",
    cell_state=True,
    eigen=lambda p, gates: ("f_t (dC_t/dC_{t-1})", gates["f"]),
)
