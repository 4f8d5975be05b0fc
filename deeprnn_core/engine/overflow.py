"""Where numbers overflow, said as data.

A Trace's inf / nan cells are data, not errors: ``first_overflow`` finds where they began in
the engine's order of computation (``engine.order``); ``engine.norms`` sums squares of huge
finite entries without the sum itself passing float64's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.engine.order import computation_order, order_text

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
    order: str  # that phase's order of computation in words (order_text)
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
        return Overflow("forward", "hidden", l, t, order_text("forward", L, T))
    if not np.isfinite(tr.output).all() or not np.isfinite(tr.loss):
        return Overflow("forward", "output", None, None, order_text("forward", L, T))
    order = order_text("backward", L, T)
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
    computation_order."""
    for cell_phase, l, t in computation_order(*bad.shape):
        if cell_phase == phase and bad[l - 1, t - 1]:
            return l, t
    raise ValueError("bad must mark at least one cell, got none")


def _backward_param_order(param_grads: dict) -> list[str]:
    """Parameter names in the order the backward pass makes them: head, then layer L down."""

    def layer(name: str) -> int:
        return -1 if name.startswith("head") else -int(name.rsplit("_l", 1)[1])

    return sorted(param_grads, key=layer)
