"""Each activation and its derivative, defined once (deeprnn_core.cells.activations), against
torch: phi to 1e-15, phi' against autograd to 1e-14 (float64), in place and not. The engine, the
reference and the spectra read these functions; no other module defines its own."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from deeprnn_core.cells.activations import ACTIVATIONS, MAX_DPHI, dphi, phi, sigmoid

ROOT = Path(__file__).resolve().parent.parent
TORCH = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda a: a}
A = np.concatenate([np.linspace(-40, 40, 801), [-1e3, 1e3, 0.0, 1e-300, -1e-300]])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_phi_and_its_derivative_equal_torch(name):
    a = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    f = TORCH[name](a)
    f.sum().backward()
    np.testing.assert_allclose(phi(name, A), f.detach().numpy(), rtol=1e-15, atol=1e-15)
    out = np.empty_like(A)
    assert phi(name, A, out) is out
    np.testing.assert_allclose(out, f.detach().numpy(), rtol=1e-15, atol=1e-15)
    grad = a.grad.numpy()
    np.testing.assert_allclose(dphi(name, A, phi(name, A)), grad, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dphi(name, A), grad, rtol=1e-14, atol=1e-15)
    assert MAX_DPHI[name] == pytest.approx(float(grad.max()), abs=1e-12)


def test_sigmoid_never_overflows():
    with np.errstate(all="raise"):
        s = sigmoid(np.array([-1e308, 1e308, -800.0, 800.0]))
    np.testing.assert_array_equal(s, [0.0, 1.0, 0.0, 1.0])


def test_an_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation must be one of"):
        phi("gelu", A)
    with pytest.raises(ValueError, match="activation must be one of"):
        dphi("gelu", A)


def test_no_other_module_defines_an_activation():
    """phi, phi' and sigmoid live in one module: a second copy drifts (the spectra's did)."""
    names = {"phi", "dphi", "_phi", "_dphi", "sigmoid", "_sigmoid"}
    home = ROOT / "deeprnn_core" / "cells" / "activations.py"
    found = []
    for path in sorted((ROOT / "deeprnn_core").rglob("*.py")):
        if path == home:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in names:
                found.append(f"{path.relative_to(ROOT)}: def {node.name}")
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in {"PHI", "DPHI"} for t in node.targets
            ):
                found.append(f"{path.relative_to(ROOT)}: a table of activations")
    assert not found, found
