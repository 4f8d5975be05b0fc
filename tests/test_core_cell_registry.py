"""The cell registry (issue 16): a cell type is one module behind the registry, and nothing
else in the core or the app names it. A toy cell, defined below and registered at run time,
runs through trace (against the reference engine and torch autograd), the cost model, the
spectra, the model files and the sidebar's options, in a fresh interpreter (registering is
global; the other tests must not see it). An unknown name is a ValueError everywhere."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deeprnn_core import Model, RNNConfig
from deeprnn_core.cells import REGISTRY, Cell, cell_type, register
from deeprnn_core.engine import reference

ROOT = Path(__file__).resolve().parent.parent

TOY = '''
import numpy as np
from deeprnn_core.cells import Cell, register
from deeprnn_core.cells.base import CellCost, accumulate, projections, row_norms


def forward(w, proj, rec, res, c0=None):
    """H_t = H_t^(l-1) W_xh + H_{t-1} W_hh + b_h: the seed's cell without phi."""
    h_prev = rec.h0
    for t in range(proj.shape[0]):
        np.add(proj[t], h_prev @ w.w_hh, out=rec.preact[t])
        rec.hidden[t] = rec.preact[t] + (0.0 if res is None else res[t])
        h_prev = rec.hidden[t]


def backward(w, rec, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    carry = np.zeros_like(ext[0])
    for t in range(ext.shape[0] - 1, -1, -1):
        np.add(ext[t], carry, out=grad_hidden[t])  # G_t
        grad_preact[t] = grad_hidden[t]
        carry = grad_hidden[t] @ w_hh_t
    return grad_preact, grad_preact, carry, None


def step(p, x, h_prev, c_prev, activation):
    a = sum(projections(p, x, h_prev))
    return a, {"x": x, "h_prev": h_prev, "a": a}


def step_back(p, s, grad_h, carry_c, activation, grads):
    accumulate(grads, s, grad_h, grad_h)
    return grad_h, None, grad_h @ p["weight_ih"], grad_h @ p["weight_hh"], None


def rows(layer):
    ones = np.ones_like(layer.preact)[None]
    t_sq = row_norms(None, ones, layer.blocks_hh)
    return t_sq, row_norms(layer.residual, ones, layer.blocks_ih), None


register(Cell(
    name="toy", title="Linear", summary="a linear cell, for the registry's test", blocks=1,
    gates=(), forward=forward, backward=backward, step=step, step_back=step_back,
    gate_arrays=lambda rec, h: {}, jacobian_rows=rows,
    cost=CellCost(time={"float64": (1e-5, 1e-9, 4e-9, 1e-9, 7e-8),
                        "float32": (1e-5, 1e-9, 1e-9, 1e-9, 4e-8)},
                  layout=5e-9, kept=0, scratch=2, spectra=40e-9),
))
'''

CHECKS = """
import numpy as np
import torch
import deeprnn_core as dc
from deeprnn_core.analysis.spectra import jacobian_spectra
from deeprnn_core.engine import reference
from deeprnn_core.engine.cost import trace_cost

for cells in ("toy", ("rnn", "toy", "lstm")):
    config = dc.RNNConfig(num_layers=3, input_size=3, hidden_size=4, cell=cells, residual=True)
    model = dc.Model.init(config, recurrent_gain=0.9, seed=2)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 2, 3)), rng.standard_normal((6, 2, 1))
    tr = dc.trace(model, x, y, "all")
    want = reference.run(config, model.params, x, y, "all")
    for name in ("hidden", "grad_hidden"):
        np.testing.assert_allclose(getattr(tr, name), want[name], rtol=1e-12, atol=1e-12)
    for name, value in tr.param_grads.items():
        np.testing.assert_allclose(value, want["param_grads"][name], rtol=1e-12, atol=1e-12)
    assert trace_cost(config, 6, 2).seconds > 0
    spectra = jacobian_spectra(model, tr)
    assert np.isfinite(spectra.time).all() and np.isfinite(spectra.depth).all()
    again = dc.load_model(dc.save_model(model))
    assert again.config == config
    assert all(np.array_equal(again.params[k], v) for k, v in model.params.items())
    try:
        model.to_torch()
        raise AssertionError("to_torch should refuse a cell torch has no module for")
    except ValueError as e:
        assert "toy" in str(e) or "one cell type" in str(e), e

# the toy alone against torch autograd on the unrolled graph (float64)
config = dc.RNNConfig(num_layers=2, input_size=3, hidden_size=4, cell="toy")
model = dc.Model.init(config, seed=1)
x, y = np.random.default_rng(1).standard_normal((5, 2, 3)), np.zeros((5, 2, 1))
tr = dc.trace(model, x, y, "last")
p = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
inp, hs = torch.tensor(x), []
for k in range(2):
    h, layer = torch.zeros(2, 4, dtype=torch.float64), []
    for t in range(5):
        h = inp[t] @ p[f"weight_ih_l{k}"].T + p[f"bias_ih_l{k}"] + h @ p[f"weight_hh_l{k}"].T
        h = h + p[f"bias_hh_l{k}"]
        h.retain_grad()
        layer.append(h)
    hs.append(layer)
    inp = torch.stack(layer)
out = hs[-1][-1] @ p["head.weight"].T + p["head.bias"]
((out - torch.tensor(y[-1])) ** 2).mean().backward()
for k in range(2):
    for t in range(5):
        np.testing.assert_allclose(tr.hidden[k, t], hs[k][t].detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(tr.grad_hidden[k, t], hs[k][t].grad.numpy(), rtol=1e-10)
for name, value in tr.param_grads.items():
    np.testing.assert_allclose(value, p[name].grad.numpy(), rtol=1e-10, atol=1e-14)

# the sidebar offers it, with its help, and a link may name it
from app.settings.controls import BY_KEY
cell = BY_KEY["cell"]
assert "toy" in cell.options, cell.options
assert "a linear cell" in cell.help
print("toy cell ok")
"""


def test_a_toy_cell_runs_everywhere_through_the_registry_alone():
    script = TOY + textwrap.dedent(CHECKS)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "toy cell ok" in result.stdout


@pytest.mark.parametrize("name", ["transformer", "", None, "RNN"])
def test_an_unknown_cell_is_a_value_error_everywhere(name):
    with pytest.raises(ValueError, match="cell must be one of"):
        cell_type(name)
    with pytest.raises((ValueError, TypeError), match="cell must be"):
        RNNConfig(cell=name)
    with pytest.raises(ValueError, match="cell must be one of"):
        reference.cell_source(name)


def test_registering_twice_or_a_non_cell_is_refused():
    with pytest.raises(ValueError, match="taken"):
        register(REGISTRY["rnn"])
    with pytest.raises(TypeError, match="must be a deeprnn_core.cells.Cell"):
        register({"name": "x"})


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_cell_states_what_the_rest_reads(name):
    """Each registered Cell's fields are consistent: its gate names are distinct, its cost has
    both precisions, its torch module exists, and a model of it round-trips through torch."""
    cell = REGISTRY[name]
    assert isinstance(cell, Cell) and cell.name == name
    assert len(set(cell.gate_names())) == len(cell.gates)
    assert set(cell.cost.time) == {"float64", "float32"}
    assert cell.forward.__doc__ and cell.backward.__doc__ and cell.step.__doc__
    if cell.torch_module:
        import torch

        model = Model.init(RNNConfig(num_layers=2, input_size=3, hidden_size=4, cell=name))
        rnn, head = model.to_torch()
        assert type(rnn) is getattr(torch.nn, cell.torch_module)
        from deeprnn_core import from_torch

        back = from_torch(rnn, head)
        assert back.config == model.config
