"""Where numbers overflow, said as data, and a norm that does not overflow on its own.

A Trace's inf / nan cells are data, not errors: ``first_overflow`` finds where they began in
the engine's order of computation, and ``global_norm`` sums squares of huge finite entries
without the sum itself passing float64's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core import engine

QUANTITIES = {  # what can overflow, in the order the engine computes it
    "hidden": "H_t^(l)",
    "output": "the output O_t or the loss",
    "grad_hidden": "G_t^(l)",
    "param_grad": "a parameter gradient",
    "param_grad_norm": "the global parameter-gradient norm",
}


@dataclass(frozen=True)
class Overflow:
    """Where inf / nan first appeared, in the engine's order of computation."""

    phase: str  # "forward" or "backward"
    quantity: str  # a key of QUANTITIES
    l: int | None  # layer, 1-based (None for the output, the loss and the global norm)
    t: int | None  # step, 1-based (None where the quantity has no step)
    order: str  # that phase's order of computation in words (engine.order_text)
    param: str | None = None  # the parameter's torch name, for "param_grad"

    def __str__(self) -> str:
        """One line for a notice, e.g. "forward pass: H_3^(2) overflowed (layer 2, step 3)"."""
        if self.quantity in ("hidden", "grad_hidden"):
            symbol = "H" if self.quantity == "hidden" else "G"
            where = f"{symbol}_{self.t}^({self.l}) overflowed (layer {self.l}, step {self.t})"
        elif self.quantity == "param_grad":
            where = f"the gradient of {self.param} overflowed"
        elif self.quantity == "param_grad_norm":
            where = (
                "the global parameter-gradient norm overflowed (every gradient entry is "
                "finite; their norm exceeds the float64 range)"
            )
        else:
            where = f"{QUANTITIES[self.quantity]} overflowed"
        return f"{self.phase} pass: {where}"


def first_overflow(tr) -> Overflow | None:
    """The Overflow of a Trace ``tr``: the first non-finite quantity in the engine's order
    (forward H_t^(l), output and loss; backward G_t^(l), parameter gradients, their norm)."""
    L, T = tr.hidden.shape[:2]
    bad = tr.nonfinite_hidden
    if bad.any():
        l, t = first_bad_cell(bad, "forward")
        return Overflow("forward", "hidden", l, t, engine.order_text("forward", L, T))
    if not np.isfinite(tr.output).all() or not np.isfinite(tr.loss):
        return Overflow("forward", "output", None, None, engine.order_text("forward", L, T))
    order = engine.order_text("backward", L, T)
    bad = tr.nonfinite_grad
    if bad.any():
        return Overflow("backward", "grad_hidden", *first_bad_cell(bad, "backward"), order)
    for name in _backward_param_order(tr.param_grads):
        if not np.isfinite(tr.param_grads[name]).all():
            layer = None if name.startswith("head") else int(name.rsplit("_l", 1)[1]) + 1
            return Overflow("backward", "param_grad", layer, None, order, name)
    if not np.isfinite(tr.param_grad_norm):
        return Overflow("backward", "param_grad_norm", None, None, order)
    return None


def first_bad_cell(bad: np.ndarray, phase: str) -> tuple[int, int]:
    """(l, t), 1-based, of the first cell of ``phase`` that ``bad`` (L, T) marks, in
    engine.computation_order."""
    for cell_phase, l, t in engine.computation_order(*bad.shape):
        if cell_phase == phase and bad[l - 1, t - 1]:
            return l, t
    raise ValueError("bad must mark at least one cell, got none")


def _backward_param_order(param_grads: dict) -> list[str]:
    """Parameter names in the order the backward pass makes them: head, then layer L down."""

    def layer(name: str) -> int:
        return -1 if name.startswith("head") else -int(name.rsplit("_l", 1)[1])

    return sorted(param_grads, key=layer)


def stable_norm(a: np.ndarray, axis) -> np.ndarray:
    """Euclidean norm over ``axis`` (None: all) as m * sqrt(sum((a / m)^2)), m = max |a|: huge
    finite entries never overflow the sum of squares (1e200 squared would); inf when the norm
    itself passes float64's range or an entry is inf, nan when an entry is nan."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(a), axis=axis, keepdims=True)
        safe = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        norm = np.sqrt(np.sum((a / safe) ** 2, axis=axis, keepdims=True)) * safe
        norm = np.where(np.isinf(scale), np.inf, norm)
        norm = np.where(np.isnan(a).any(axis=axis, keepdims=True), np.nan, norm)
    return np.squeeze(norm, axis=axis)


def global_norm(arrays) -> float:
    """The norm of all entries of ``arrays`` together (clip_grad_norm_'s total norm), finite
    unless the norm itself passes float64's range or an entry is inf (inf) or nan (nan)."""
    flat = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    with np.errstate(all="ignore"):
        total = sum(float(a @ a) for a in flat)  # exact enough unless a square over/underflows
    if np.isfinite(total) and total > 1e-280:
        return float(np.sqrt(total))
    norms = [stable_norm(a, None) for a in flat if a.size]  # the scaled way, array by array
    return float(stable_norm(np.array(norms), None)) if norms else 0.0
