"""minLSTM (Feng, Tung, Ahmed, Hajimirsadeghi, Bengio & Hajimirsadeghi 2024, "Were RNNs all we
needed?", arXiv 2410.01201, section 3.2): an LSTM whose gates read only the input, with the
forget and input gates normalised to sum to one, and no output gate or cell state.

In the stack, with u_t = H_t^(l-1) (the layer's input, after dropout) and H_t = H_t^(l):

    f_t = sigmoid(u_t W_f + b_f),   i_t = sigmoid(u_t W_i + b_i)
    f'_t = f_t / (f_t + i_t),       i'_t = i_t / (f_t + i_t)     (so f'_t + i'_t = 1)
    H~_t = u_t W_h + b_h
    H_t = f'_t * H_{t-1} + i'_t * H~_t   (+ u_t with a residual connection)

so dH_t/dH_{t-1} = diag(f'_t), set by the input alone; the recurrence is linear in H and can run
as the log-space scan of ``cells.scan`` (log f'_t = log sigmoid(A_f) - log(sigmoid(A_f) +
sigmoid(A_i)), the paper's appendix B), the loop being its reference and the default (faster on
one core, as measured). phi_l and layer norm do
not act here: the gates' sigmoids are the stack's nonlinearity.

Parameters (safetensors / ``Model.params``, torch-like layout, x W^T):
``weight_ih_l{k}`` (3h, n_in) = [W_f^T; W_i^T; W_h^T] and, with a bias, ``bias_ih_l{k}`` (3h,)
= [b_f; b_i; b_h]. No ``weight_hh``. torch.nn has no such module.
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
from deeprnn_core.cells.mingru import log_sigmoid


def normalised(a_f: np.ndarray, a_i: np.ndarray, logs: bool = True):
    """(log f', f', i') from the gate pre-activations, in log space (no 0 / 0); without
    ``logs`` (None, f', i') directly, for the loop (the logs cost more than it)."""
    if not logs:
        f, i = sigmoid(a_f), sigmoid(a_i)
        total = f + i
        with np.errstate(invalid="ignore", divide="ignore"):
            fn, i_n = f / total, i / total
        # sigmoid = (1 + tanh(a / 2)) / 2 loses its relative precision below a = -10 (~1e-16
        # e^|a|) and is 0 below a = -37, so f' = 0 / 0 where both are: the log form there
        under = np.minimum(a_f, a_i) < -10.0
        if under.any():
            _, fn[under], i_n[under] = normalised(a_f[under], a_i[under])
        return None, fn, i_n
    log_f, log_i = log_sigmoid(a_f), log_sigmoid(a_i)
    log_sum = np.logaddexp(log_f, log_i)
    log_fn = log_f - log_sum
    return log_fn, np.exp(log_fn), np.exp(log_i - log_sum)


def forward(w: LayerWeights, proj, rec: LayerRecord, res, c0=None) -> None:
    """Every step t = 1..T (``step`` runs the same equations): ``proj`` (T, S, B, 3h) holds
    [A_f, A_i, H~] = u [W_f, W_i, W_h] + b. With a_t = f'_t and b_t = i'_t H~_t (+ u_t):

        H_t = a_t * H_{t-1} + b_t

    Writes rec.hidden, rec.preact (H~_t), rec.extra "fm", "im" (f', i') and "a_fi" ([A_f, A_i]).

    Each step, as ``step`` states it:

        f_t = sigmoid(u_t W_f + b_f),   i_t = sigmoid(u_t W_i + b_i)
        f'_t = f_t / (f_t + i_t),       i'_t = i_t / (f_t + i_t)
        H~_t = u_t W_h + b_h
        H_t = f'_t * H_{t-1} + i'_t * H~_t   (+ u_t with a residual connection)
    """
    h = rec.hidden.shape[-1]
    rec.extra["a_fi"] = proj[..., : 2 * h]
    logs = scan.use_scan(proj.shape[0], "gated")
    log_fn, fn, i_n = normalised(proj[..., :h], proj[..., h : 2 * h], logs)
    rec.extra["fm"], rec.extra["im"] = fn, i_n
    rec.preact[...] = proj[..., 2 * h :]
    b = i_n * rec.preact
    if res is not None:
        b += res
    scan.gated(fn, log_fn, b, rec.h0, rec.hidden)


def backward(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """t = T..1 (``step_back`` runs the same equations), as a reverse scan:

        G_t = E_t + f'_{t+1} * G_{t+1}
        with D_t = G_t * (H_{t-1} - H~_t) * f'_t * i'_t:
        dA_f = D_t * (1 - f_t),   dA_i = -D_t * (1 - i_t),   dH~_t = G_t * i'_t
        dP_t = [dA_f, dA_i, dH~_t];   dLoss/dH_0 = f'_1 * G_1

    Returns (dP (T, S, B, 3h), None, dLoss/dH_0, None); fills grad_hidden and grad_preact.

    Each step, as ``step_back`` states it:

        D_t = G_t * (H_{t-1} - H~_t) * f'_t * i'_t
        dP_t = [dA_f, dA_i, dH~_t];   carry into G_{t-1} = G_t * f'_t
    """
    fn, i_n, a_fi = rec.extra["fm"], rec.extra["im"], rec.extra["a_fi"]
    h = ext.shape[-1]
    with np.errstate(divide="ignore"):
        carry = scan.gated_reverse(fn, lambda: np.log(fn), ext, grad_hidden)
    d = grad_hidden * (h_prev - rec.preact) * fn * i_n
    grad_proj = np.empty(ext.shape[:-1] + (3 * h,), dtype=ext.dtype)
    np.multiply(d, sigmoid(-a_fi[..., :h]), out=grad_proj[..., :h])
    np.multiply(d, -sigmoid(-a_fi[..., h:]), out=grad_proj[..., h : 2 * h])
    np.multiply(grad_hidden, i_n, out=grad_proj[..., 2 * h :])
    grad_preact[...] = grad_proj[..., 2 * h :]
    return grad_proj, None, carry, None


def step(p, x, h_prev, c_prev, activation):
    """minLSTM, one step (x = u_t = H_t^(l-1) (B, n_in), h_prev = H_{t-1}^(l) (B, h)):

    f_t = sigmoid(u_t W_f + b_f),   i_t = sigmoid(u_t W_i + b_i)
    f'_t = f_t / (f_t + i_t),       i'_t = i_t / (f_t + i_t)
    H~_t = u_t W_h + b_h
    H_t = f'_t * H_{t-1} + i'_t * H~_t   (+ u_t with a residual connection)
    """
    a_f, a_i, cand = np.split(linear(x, p["weight_ih"], p.get("bias_ih")), 3, axis=-1)
    f, i = sigmoid(a_f), sigmoid(a_i)
    _, fn, i_n = normalised(a_f, a_i, logs=False)
    s = {"x": x, "h_prev": h_prev, "f": f, "i": i, "fn": fn, "in": i_n, "a": cand}
    return fn * h_prev + i_n * cand, s


def step_back(p, s, grad_h, carry_c, activation, grads):
    """minLSTM backward, one step, from G_t = ``grad_h`` (B, h):

    D_t = G_t * (H_{t-1} - H~_t) * f'_t * i'_t
    dA_f = D_t * (1 - f_t),   dA_i = -D_t * (1 - i_t),   dH~_t = G_t * i'_t
    dP_t = [dA_f, dA_i, dH~_t];   carry into G_{t-1} = G_t * f'_t
    """
    d = grad_h * (s["h_prev"] - s["a"]) * s["fn"] * s["in"]
    d_cand = grad_h * s["in"]
    d_input = np.concatenate([d * (1.0 - s["f"]), -d * (1.0 - s["i"]), d_cand], axis=-1)
    grads["weight_ih"] += d_input.T @ s["x"]
    if "bias_ih" in grads:
        grads["bias_ih"] += d_input.sum(0)
    return d_cand, None, d_input @ p["weight_ih"], grad_h * s["fn"], None


def jacobian_rows(layer: SpectraLayer):
    """Rows of dH_t/dH_{t-1} = diag(f'_t): f'^2; of dH_t/du_t through the f, i and candidate
    blocks (+ I, residual)."""
    fn, i_n = layer.gates["fm"], layer.gates["im"]
    h = fn.shape[-1]
    a = linear(layer.inp, layer.params["weight_ih"], layer.params.get("bias_ih"))
    d = (layer.h_prev - layer.preact) * fn * i_n
    coefs = np.stack([d * sigmoid(-a[..., :h]), -d * sigmoid(-a[..., h : 2 * h]), i_n])
    return fn * fn, row_norms(layer.residual, coefs, layer.blocks_ih), None


def shapes(h: int, n_in: int, bias: bool) -> dict[str, tuple[int, ...]]:
    """weight_ih (3h, n_in) = [W_f^T; W_i^T; W_h^T]; bias_ih (3h,) = [b_f; b_i; b_h]."""
    return {"weight_ih": (3 * h, n_in)} | ({"bias_ih": (3 * h,)} if bias else {})


CELL = Cell(
    name="minlstm",
    title="minLSTM",
    summary="minLSTM (Feng et al. 2024): H_t = f'_t H_{t-1} + i'_t H~_t with f' + i' = 1, "
    "gates from the input only, so dH_t/dH_{t-1} = diag(f'_t)",
    blocks=3,
    gates=(("fm", "sigmoid", "forget, normalised"), ("im", "sigmoid", "input, normalised")),
    forward=forward,
    backward=backward,
    step=step,
    step_back=step_back,
    gate_arrays=lambda rec, h: {"fm": rec.extra["fm"], "im": rec.extra["im"]},
    jacobian_rows=jacobian_rows,
    cost=CellCost(
        # fitted 2026-12-07 to traces at (L, T, h, B) = (8, 50, 32, 1) .. (8, 200, 256, 4), float64,
        # one BLAS thread, within 25 %; float32 not fitted separately: float64's constants
        time={
            "float64": (0.5e-6, 0.0, 0.0, 0.0, 62e-9),
            "float32": (0.5e-6, 0.0, 0.0, 0.0, 62e-9),
        },
        layout=5e-9,
        kept=4,
        scratch=8,
        spectra=90e-9,
    ),
    param_shapes=shapes,
    time_params=(),
    eigen=lambda p, gates: ("f'_t (dH_t/dH_{t-1})", gates["fm"]),
)
