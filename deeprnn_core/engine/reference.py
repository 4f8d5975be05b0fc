"""The seed's formula and its exact adjoint, written plainly: one layer, one step at a time.

The fast engine (engine.layers with each cell's ``forward`` / ``backward``) runs a layer over
the whole sequence with a stacking axis, preallocated buffers and fused gates. This module runs
the same equations on one (B, width) array per step, with torch's weight layout (x W^T), through
each cell's ``step`` / ``step_back`` (in its module of ``deeprnn_core.cells``): the tests hold
the engine to it (float64, 1e-12), and the app shows the cell's functions as "the code that
computes this cell". A step's ``p`` is one layer's torch parameters without the ``_l{k}`` suffix.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cache

import numpy as np

from deeprnn_core.cells import cell_type
from deeprnn_core.cells.base import linear
from deeprnn_core.config import RNNConfig, dropout_applies


def layer_params(params, k):
    """Layer k's (0-based) parameters without their "_l{k}" suffix."""
    return {n[: -len(f"_l{k}")]: v for n, v in params.items() if n.endswith(f"_l{k}")}


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
        (cell ones nan outside layers with a cell state); "loss"; "param_grads" under torch's names.
    """
    L, (T, B, _), h = config.num_layers, x.shape, config.hidden_size
    h0 = np.zeros((L, B, h)) if h0 is None else h0
    c0 = np.zeros((L, B, h)) if c0 is None else c0
    names = ("hidden", "preact", "grad_hidden", "grad_preact", "cell", "grad_cell")
    out = {name: np.full((L, T, B, h), np.nan) for name in names}
    inputs, caches, residual = [x], [], config.residual_layers()
    for k, name in enumerate(config.cells):  # forward: layer 1 for t = 1..T, then layer 2, ...
        cell, p = cell_type(name), layer_params(params, k)
        h_t, c_t, caches = h0[k], c0[k], caches + [[]]
        for t in range(T):
            x_t = inputs[k][t]
            h_t, s = cell.step(p, x_t, h_t, c_t, config.activations[k])
            if "c" in s:  # a cell state C_t
                c_t = out["cell"][k, t] = s["c"]
            elif "state" in s:  # a state of its own the step carries (the LRU's complex x_t)
                c_t = s["state"]
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
        cell, p = cell_type(config.cells[k]), layer_params(params, k)
        layer_grads = {name: np.zeros_like(v) for name, v in p.items()}
        carry_h, carry_c, grad_input = np.zeros((B, h)), np.zeros((B, h)), np.zeros_like(inputs[k])
        for t in range(T - 1, -1, -1):
            grad_h = ext[t] + carry_h  # G_t^(l): from outside the layer and through H_{t+1}
            s = caches[k][t]
            act = config.activations[k]
            da, dcell, dx, carry_h, carry_c = cell.step_back(
                p, s, grad_h, carry_c, act, layer_grads
            )
            if dcell is not None:  # dLoss/dC_t of a cell state
                out["grad_cell"][k, t] = dcell
            grad_input[t] = dx + grad_h if residual[k] else dx
            out["grad_hidden"][k, t], out["grad_preact"][k, t] = grad_h, da
        ext = grad_input * masks[k - 1] if masks is not None and k > 0 else grad_input
        grads.update({f"{name}_l{k}": v for name, v in layer_grads.items()})
    out["param_grads"] = grads
    return out


# The line of ``run`` that computes the quantity a step of each phase produces: H_t^(l) forward
# (the cell's step), G_t^(l) backward (what reaches H_t^(l) from outside and through H_{t+1})
STEP_LINES = {"forward": "h_t, s = cell.step(", "backward": "grad_h = ext[t] + carry_h"}


@dataclass(frozen=True)
class Listing:
    """The reference code that computes one cell update of ``phase``, for the app to show."""

    stack: str  # the source of ``run``: the loops over layers and steps
    stack_line: int  # 0-based line of ``stack`` that computes this phase's quantity
    cell: str  # the cell type's step (forward) or step_back (backward) function
    cell_name: str  # the cell type


@cache
def listing(phase: str, cell: str) -> Listing:
    """The code of one ``phase`` ("forward" or "backward") step of a ``cell`` layer: the stack's
    loop with the line that computes H_t^(l) (forward) or G_t^(l) (backward) located, and the
    cell's own step function that the line runs."""
    if phase not in STEP_LINES:
        raise ValueError(f"phase must be one of {tuple(STEP_LINES)}, got {phase!r}")
    kind = cell_type(cell)
    stack = stack_source()
    line = next(k for k, text in enumerate(stack.splitlines()) if STEP_LINES[phase] in text)
    function = kind.step if phase == "forward" else kind.step_back
    return Listing(stack, line, inspect.getsource(function), kind.name)


def cell_source(cell: str) -> str:
    """The source text of one cell type's reference step, forward then backward."""
    kind = cell_type(cell)
    return "\n\n".join(inspect.getsource(f) for f in (kind.step, kind.step_back))


def stack_source() -> str:
    """The source text of ``run``: the loops over layers and steps, residual and dropout."""
    return inspect.getsource(run)
