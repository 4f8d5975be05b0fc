"""The order in which the engine computes the cells of the (time x layer) grid, as data and in
words: the step-through, the overflow notices and the reference engine read it from here."""

from __future__ import annotations

from functools import lru_cache

PHASES = ("forward", "backward")


@lru_cache(maxsize=4)
def computation_order(num_layers: int, steps: int) -> tuple[tuple[str, int, int], ...]:
    """(phase, l, t), 1-based, of every cell update in the order ``forward`` and ``backward``
    make them: forward, layer 1 for t = 1..T, then layer 2, ... (a layer reads the whole
    sequence of the layer below); backward, layer L for t = T..1, then layer L-1, ... (2 L T
    entries; a cached tuple, so cheap to ask for again)."""
    L, T = num_layers, steps
    forward_cells = tuple(("forward", l, t) for l in range(1, L + 1) for t in range(1, T + 1))
    backward_cells = tuple(("backward", l, t) for l in range(L, 0, -1) for t in range(T, 0, -1))
    return forward_cells + backward_cells


def order_text(phase: str, num_layers: int, steps: int) -> str:
    """``computation_order`` of one phase in words, e.g. for an overflow notice."""
    L, T = num_layers, steps
    if phase == "forward":
        layers = "" if L == 1 else f", then layer 2{', …' if L > 2 else ''} up to layer {L}"
        return f"forward pass: layer 1 for t = 1..{T}{layers}; then the output O_t and the loss"
    if phase == "backward":
        layers = "" if L == 1 else f", then layer {L - 1}{', …' if L > 2 else ''} down to layer 1"
        return f"backward pass: layer {L} for t = {T}..1{layers}; then the parameter gradients"
    raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
