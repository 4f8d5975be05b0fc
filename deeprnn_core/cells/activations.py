"""Each activation phi and its derivative phi', defined once: the fast engine, the reference
engine and the Jacobian spectra all read them from here (tests/test_core_activations.py holds
every one to torch's autograd)."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
MAX_DPHI = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "identity": 1.0}  # gamma = max phi'


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-a)) as 0.5 * (1 + tanh(a / 2)), which never overflows; into ``out``."""
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def phi(name: str, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """phi(A) of activation ``name``, written into ``out`` when given (the engine's buffers)."""
    if name == "tanh":
        return np.tanh(a, out=out)
    if name == "relu":
        return np.maximum(a, 0.0, out=out)
    if name == "sigmoid":
        return sigmoid(a, out)
    if name == "identity":
        if out is None:
            return np.array(a, copy=True)
        out[...] = a
        return out
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def dphi(name: str, a: np.ndarray, f: np.ndarray | None = None) -> np.ndarray:
    """phi'(A) from A and, where it saves work, F = phi(A) (computed when not given)."""
    if name == "tanh":
        f = np.tanh(a) if f is None else f
        return 1.0 - f * f
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "sigmoid":
        f = sigmoid(a) if f is None else f
        return f * (1.0 - f)
    if name == "identity":
        return np.ones_like(a)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
