"""The sentences under the element-wise cells' theory panel (Gradient flow): every number is
theory.linear's on this run; the verdict on R² reads the same bars as the mean-field panel. Each
sentence is one catalog template (app/words/i18n), filled with the numbers."""

from __future__ import annotations

import math

import numpy as np

from app.words.i18n import gettext as _
from app.words.i18n import sentences

FLAT = 1.05  # per-layer measured means within 5 % of each other: little shape for R² to score


def fit_word(r2: float) -> str:
    """The R² bars of the mean-field panel: >= 0.9 follows, >= 0.5 roughly, else misses."""
    if not math.isfinite(r2):
        return _("cannot be scored (fewer than two finite values, or a flat measured curve)")
    if r2 >= 0.9:
        return _("follows the measured shape")
    return _("follows it only roughly") if r2 >= 0.5 else _("misses the measured shape")


def lru_words(r2: float, r2_modulus: float, L: int) -> str:
    """The LRU panel's sentence from its two R² values."""
    return (
        _(
            "Exact theory: H_t of the top LRU layer feeds no later step, so every G_t^({below}) "
            "before the scored step comes from the top layer's state through λ^(T−t) per unit: "
            "predicted from λ, R² = {r2} ({fit}). From |λ| alone, dropping the phases and with "
            "them the interference between units, R² = {r2_modulus} ({fit_modulus})."
        )
        .replace("{below}", str(L - 1))
        .replace("{r2}", f"{r2:.3f}")
        .replace("{fit}", fit_word(r2))
        .replace("{r2_modulus}", f"{r2_modulus:.3f}")
        .replace("{fit_modulus}", fit_word(r2_modulus))
    )  # .replace: the notation λ^(T−t) holds no braces, but G_t^({below}) is filled in place


def gated_words(predicted: np.ndarray, measured: np.ndarray, r2: float) -> str:
    """The minGRU / minLSTM panel's sentence: R², and the layer where the map is furthest off
    (relative gap of the means over t), read from the numbers."""
    p, m = np.nanmean(predicted, axis=1), np.nanmean(measured, axis=1)
    with np.errstate(all="ignore"):
        gap = np.abs(p - m) / m
    text = _(
        "Mean field: the gate reads the layer's input only, so the per-step factor of E|G|² "
        "through time is E[a²], predicted per layer from the input's variance: R² = {r2} over "
        "the (l, t) grid ({fit})."
    ).format(r2=f"{r2:.3f}", fit=fit_word(r2))
    if not np.isfinite(gap).any():
        return sentences(text, _("No layer has a finite measured factor to compare."))
    k = int(np.nanargmax(gap))
    largest = _(
        "The largest gap of the per-layer means is at layer {layer}: {predicted} predicted, "
        "{measured} measured ({gap} %)."
    ).format(
        layer=k + 1, predicted=f"{p[k]:.4f}", measured=f"{m[k]:.4f}", gap=f"{100 * gap[k]:.1f}"
    )
    low, high = float(np.nanmin(m)), float(np.nanmax(m))
    flat = ""
    if high <= FLAT * low:
        flat = _(
            "The measured factor is nearly flat over the layers ({low} to {high}): with little "
            "shape to score, R² mostly scores the sampling noise of single steps."
        ).format(low=f"{low:.4f}", high=f"{high:.4f}")
    assumes = _(
        "The map assumes a layer's input uncorrelated over time (true at layer 1 for an input "
        "of independent steps, not above, where the layer below remembers) and gates of zero "
        "mean."
    )
    return sentences(text, largest, flat, assumes)
