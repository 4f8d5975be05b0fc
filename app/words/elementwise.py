"""The sentences under the element-wise cells' theory panel (Gradient flow): every number is
theory.linear's on this run; the verdict on R² reads the same bars as the mean-field panel."""

from __future__ import annotations

import math

import numpy as np

FLAT = 1.05  # per-layer measured means within 5 % of each other: little shape for R² to score


def fit_word(r2: float) -> str:
    """The R² bars of the mean-field panel: >= 0.9 follows, >= 0.5 roughly, else misses."""
    if not math.isfinite(r2):
        return "cannot be scored (fewer than two finite values, or a flat measured curve)"
    if r2 >= 0.9:
        return "follows the measured shape"
    return "follows it only roughly" if r2 >= 0.5 else "misses the measured shape"


def lru_words(r2: float, r2_modulus: float, L: int) -> str:
    """The LRU panel's sentence from its two R² values."""
    return (
        f"Exact theory: H_t of the top LRU layer feeds no later step, so every G_t^({L - 1}) "
        f"before the scored step comes from the top layer's state through λ^(T−t) per unit: "
        f"predicted from λ, R² = {r2:.3f} ({fit_word(r2)}). From |λ| alone, dropping the phases "
        f"and with them the interference between units, R² = {r2_modulus:.3f} "
        f"({fit_word(r2_modulus)})."
    )


def gated_words(predicted: np.ndarray, measured: np.ndarray, r2: float) -> str:
    """The minGRU / minLSTM panel's sentence: R², and the layer where the map is furthest off
    (relative gap of the means over t), read from the numbers."""
    p, m = np.nanmean(predicted, axis=1), np.nanmean(measured, axis=1)
    with np.errstate(all="ignore"):
        gap = np.abs(p - m) / m
    text = (
        "Mean field: the gate reads the layer's input only, so the per-step factor of E|G|² "
        f"through time is E[a²], predicted per layer from the input's variance: R² = {r2:.3f} "
        f"over the (l, t) grid ({fit_word(r2)})."
    )
    if not np.isfinite(gap).any():
        return text + " No layer has a finite measured factor to compare."
    k = int(np.nanargmax(gap))
    text += (
        f" The largest gap of the per-layer means is at layer {k + 1}: {p[k]:.4f} predicted, "
        f"{m[k]:.4f} measured ({gap[k]:.1%})."
    )
    low, high = float(np.nanmin(m)), float(np.nanmax(m))
    if high <= FLAT * low:
        text += (
            f" The measured factor is nearly flat over the layers ({low:.4f} to {high:.4f}): "
            "with little shape to score, R² mostly scores the sampling noise of single steps."
        )
    return text + (
        " The map assumes a layer's input uncorrelated over time (true at layer 1 for an input of "
        "independent steps, not above, where the layer below remembers) and gates of zero mean."
    )
