"""The Gaussian expectations the mean-field theory needs: E[phi(u)^2] and E[phi'(u)^2] for
u ~ N(0, q), by Gauss-Hermite quadrature."""

from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from deeprnn_core.cells.activations import ACTIVATIONS

NODES = 64  # Gauss-Hermite nodes: relative error below 1e-6 for tanh / sigmoid at any q
_Z, _W = hermegauss(NODES)
_W = _W / _W.sum()  # weights of E_z[f(z)], z ~ N(0, 1)
_DECAYING = {"tanh": 1.0, "sigmoid": 0.5}  # phi written through sech^2(a u), a = this


def gaussian_moments(activation: str, q) -> tuple[np.ndarray, np.ndarray]:
    """(m, d) = (E[phi(u)^2], E[phi'(u)^2]) for u ~ N(0, q), elementwise over the array ``q``.

    identity and relu: plain Gauss-Hermite in z (exact: the integrands are polynomials on each
    half line). tanh and sigmoid are written through sech^2, which decays within |u| < ~10;
    for q > 1 the nodes are placed for N(0, 1) and weighted by the density ratio, so that
    a large q (sech^2 much narrower than the Gaussian) keeps the same accuracy.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    q = np.asarray(q, dtype=np.float64)[..., None]  # (..., 1) against the (NODES,) nodes
    if activation in ("identity", "relu"):
        u = np.sqrt(q) * _Z
        phi = u if activation == "identity" else np.maximum(u, 0.0)
        dphi = np.ones_like(u) if activation == "identity" else (u > 0).astype(np.float64)
        return (phi * phi) @ _W, (dphi * dphi) @ _W
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        wide = q > 1.0
        s2 = np.minimum(q, 1.0)
        u = np.sqrt(s2) * _Z  # nodes of N(0, min(q, 1))
        ratio = np.where(wide, np.sqrt(s2 / q) * np.exp(0.5 * u * u * (1.0 - 1.0 / q)), 1.0)
        a = _DECAYING[activation]
        sech2 = 1.0 / np.cosh(a * u) ** 2
        e1, e2 = (sech2 * ratio) @ _W, (sech2 * sech2 * ratio) @ _W  # E[sech^2], E[sech^4]
    if activation == "tanh":  # tanh^2 = 1 - sech^2, tanh' = sech^2
        return 1.0 - e1, e2
    return 0.5 - 0.25 * e1, e2 / 16.0  # sigmoid(u) = (1 + tanh(u/2)) / 2, sigmoid' = sech^2/4
