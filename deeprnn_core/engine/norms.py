"""Norms that do not overflow on their own: huge finite entries are scaled before squaring."""

from __future__ import annotations

import numpy as np


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
