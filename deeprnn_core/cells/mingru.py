"""minGRU (Feng, Tung, Ahmed, Hajimirsadeghi, Bengio & Hajimirsadeghi 2024, "Were RNNs all we
needed?", arXiv 2410.01201, section 3.1): a GRU whose gate and candidate read only the input.

In the stack, with u_t = H_t^(l-1) (the layer's input, after dropout) and H_t = H_t^(l):

    z_t = sigmoid(u_t W_z + b_z)          (the update gate: input only, no H_{t-1})
    H~_t = u_t W_h + b_h                   (the candidate: linear, as the paper's sequential mode)
    H_t = (1 - z_t) * H_{t-1} + z_t * H~_t   (+ u_t with a residual connection)

so dH_t/dH_{t-1} = diag(1 - z_t): no matrix through time, every mixing across units comes from
depth, and the recurrence is linear in H: the scan of ``cells.scan`` can run it over all T at
once (log-space, as the paper's appendix B; ``scan.METHOD = "scan"``), the loop being its
reference and, faster on one core as measured, the default. The nonlinearity of a
minGRU stack is the gates' sigmoid; phi_l does not act here, and neither does layer norm.

Parameters (safetensors / ``Model.params``, torch-like layout, x W^T):
``weight_ih_l{k}`` (2h, n_in) = [W_z^T; W_h^T] and, with a bias, ``bias_ih_l{k}`` (2h,) =
[b_z; b_h]. No ``weight_hh``: nothing recurrent is a matrix. torch.nn has no such module.
"""

from __future__ import annotations

import numpy as np

from deeprnn_core.cells import scan
from deeprnn_core.cells.activations import sigmoid
from deeprnn_core.cells.base import (
    Cell,
    CellCost,
    LayerRecord,
    LayerWeights,
    SpectraLayer,
    linear,
    row_norms,
)


def log_sigmoid(a: np.ndarray) -> np.ndarray:
    """log sigmoid(a) = -log(1 + exp(-a)), without overflow."""
    return -np.logaddexp(0.0, -a)


def forward(w: LayerWeights, proj, rec: LayerRecord, res, c0=None) -> None:
    """Every step t = 1..T (``step`` runs the same equations): ``proj`` (T, S, B, 2h) holds
    [u W_z + b_z, u W_h + b_h]. a_t = 1 - z_t and b_t = z_t H~_t (+ u_t) go to the scan:

        H_t = a_t * H_{t-1} + b_t,   log a_t = log sigmoid(-(u W_z + b_z))

    Writes rec.hidden, rec.preact (H~_t, the candidate) and rec.extra "z", "keep" = 1 - z_t
    (T, S, B, h).

    Each step, as ``step`` states it:

        z_t = sigmoid(u_t W_z + b_z)
        H~_t = u_t W_h + b_h
        H_t = (1 - z_t) * H_{t-1} + z_t * H~_t   (+ u_t with a residual connection)
    """
    h = rec.hidden.shape[-1]
    a_z = proj[..., :h]
    z = rec.extra["z"] = sigmoid(a_z)
    rec.preact[...] = proj[..., h:]
    b = z * rec.preact
    if res is not None:
        b += res
    keep = rec.extra["keep"] = sigmoid(-a_z)  # 1 - z_t, without 1 - z's rounding near z = 1
    scan.gated(keep, lambda: log_sigmoid(-a_z), b, rec.h0, rec.hidden)


def backward(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """t = T..1 (``step_back`` runs the same equations), as a reverse scan:

        G_t = E_t + (1 - z_{t+1}) * G_{t+1}
        dA_z = G_t * (H~_t - H_{t-1}) * z_t * (1 - z_t)
        dH~_t = G_t * z_t
        dP_t = [dA_z, dH~_t];   carry into G_{t-1} = G_t * (1 - z_t)

    so dLoss/dH_0 = (1 - z_1) * G_1. Returns (dP (T, S, B, 2h), None, dLoss/dH_0, None);
    fills grad_hidden and grad_preact.
    """
    z, a = rec.extra["z"], rec.extra["keep"]
    with np.errstate(divide="ignore"):
        carry = scan.gated_reverse(a, lambda: np.log(a), ext, grad_hidden)
    h = ext.shape[-1]
    grad_proj = np.empty(ext.shape[:-1] + (2 * h,), dtype=ext.dtype)
    np.multiply(grad_hidden * (rec.preact - h_prev), z * a, out=grad_proj[..., :h])
    np.multiply(grad_hidden, z, out=grad_proj[..., h:])
    grad_preact[...] = grad_proj[..., h:]
    return grad_proj, None, carry, None


def step(p, x, h_prev, c_prev, activation):
    """minGRU, one step (x = u_t = H_t^(l-1) (B, n_in), h_prev = H_{t-1}^(l) (B, h)):

    z_t = sigmoid(u_t W_z + b_z)
    H~_t = u_t W_h + b_h
    H_t = (1 - z_t) * H_{t-1} + z_t * H~_t   (+ u_t with a residual connection)
    """
    a_z, cand = np.split(linear(x, p["weight_ih"], p.get("bias_ih")), 2, axis=-1)
    z = sigmoid(a_z)
    s = {"x": x, "h_prev": h_prev, "z": z, "a": cand}
    return (1.0 - z) * h_prev + z * cand, s


def step_back(p, s, grad_h, carry_c, activation, grads):
    """minGRU backward, one step, from G_t = ``grad_h`` (B, h):

    dA_z = G_t * (H~_t - H_{t-1}) * z_t * (1 - z_t)
    dH~_t = G_t * z_t
    dP_t = [dA_z, dH~_t];   carry into G_{t-1} = G_t * (1 - z_t)
    """
    z = s["z"]
    da_z = grad_h * (s["a"] - s["h_prev"]) * z * (1.0 - z)
    d_cand = grad_h * z
    d_input = np.concatenate([da_z, d_cand], axis=-1)  # (B, 2h)
    grads["weight_ih"] += d_input.T @ s["x"]
    if "bias_ih" in grads:
        grads["bias_ih"] += d_input.sum(0)
    return d_cand, None, d_input @ p["weight_ih"], grad_h * (1.0 - z), None


def jacobian_rows(layer: SpectraLayer):
    """Rows of dH_t/dH_{t-1} = diag(1 - z_t): (1 - z)^2; of dH_t/du_t = diag(via_z) W_z^T
    + diag(z) W_h^T (+ I, residual)."""
    z = layer.gates["zm"]
    via_z = (layer.preact - layer.h_prev) * z * (1 - z)
    d_sq = row_norms(layer.residual, np.stack([via_z, z]), layer.blocks_ih)
    return (1.0 - z) ** 2, d_sq, None


def shapes(h: int, n_in: int, bias: bool) -> dict[str, tuple[int, ...]]:
    """weight_ih (2h, n_in) = [W_z^T; W_h^T]; bias_ih (2h,) = [b_z; b_h]."""
    return {"weight_ih": (2 * h, n_in)} | ({"bias_ih": (2 * h,)} if bias else {})


CELL = Cell(
    name="mingru",
    title="minGRU",
    summary="minGRU (Feng et al. 2024): H_t = (1 - z_t) H_{t-1} + z_t H~_t, gate and candidate "
    "from the input only, so dH_t/dH_{t-1} = diag(1 - z_t)",
    blocks=2,
    gates=(("zm", "sigmoid", "update, input only"),),
    forward=forward,
    backward=backward,
    step=step,
    step_back=step_back,
    gate_arrays=lambda rec, h: {"zm": rec.extra["z"]},
    jacobian_rows=jacobian_rows,
    cost=CellCost(
        # fitted 2026-12-07 to traces at (L, T, h, B) = (8, 50, 32, 1) .. (8, 200, 256, 4), float64,
        # one BLAS thread, within 25 %; float32 not fitted separately: float64's constants
        time={
            "float64": (0.7e-6, 0.0, 0.0, 0.0, 59e-9),
            "float32": (0.7e-6, 0.0, 0.0, 0.0, 59e-9),
        },
        layout=5e-9,
        kept=1,
        scratch=6,
        spectra=60e-9,
    ),
    param_shapes=shapes,
    time_params=(),
    eigen=lambda p, gates: ("1 - z_t (dH_t/dH_{t-1})", 1.0 - gates["zm"]),
)
