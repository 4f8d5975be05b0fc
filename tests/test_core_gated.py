"""GRU, LSTM and mixed stacks: deeprnn_core against nn.GRU / nn.LSTM and unrolled torch graphs
built from nn.RNNCell / nn.GRUCell / nn.LSTMCell.

Tolerances: states, cell states, gates and outputs rtol=1e-10 (atol=1e-12); gradients rtol=1e-8
(atol=1e-12); float64 throughout.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deeprnn_core import Model, RNNConfig, from_torch, trace
from tests.torch_reference import (
    GATE_NAMES,
    assert_matches_unrolled,
    assert_param_grads_close,
    fused_reference,
    random_sequences,
    unrolled_reference,
)

STEPS, INPUT, HIDDEN, OUTPUT = 5, 3, 4, 2
MODULES = {"gru": nn.GRU, "lstm": nn.LSTM}

GRID = [
    pytest.param(
        kind,
        layers,
        batch,
        bias,
        loss_kind,
        batch_first,
        id=f"{kind}-L{layers}-B{batch}-{'bias' if bias else 'nobias'}-{loss_kind}"
        + ("-batch_first" if batch_first else ""),
    )
    for kind in ("gru", "lstm")
    for layers in (1, 2, 3)
    for batch in (1, 3)
    for bias in (True, False)
    for loss_kind in ("last", "all")
    for batch_first in (False, True)
]
GRID_ARGS = "kind, layers, batch, bias, loss_kind, batch_first"


def torch_gated(
    kind: str, layers: int, bias: bool = True, batch_first: bool = False, seed: int = 0
) -> tuple[nn.RNNBase, nn.Linear]:
    """An nn.GRU / nn.LSTM with torch's default init (seeded) and an nn.Linear head, float64."""
    torch.manual_seed(seed)
    rnn = MODULES[kind](INPUT, HIDDEN, layers, bias=bias, batch_first=batch_first)
    return rnn.double(), nn.Linear(HIDDEN, OUTPUT).double()


@pytest.mark.parametrize(GRID_ARGS, GRID)
def test_from_torch_matches_fused_module(kind, layers, batch, bias, loss_kind, batch_first):
    rnn, head = torch_gated(kind, layers, bias, batch_first)
    x, y = random_sequences(STEPS, batch, INPUT, OUTPUT, seed=layers)
    model = from_torch(rnn, head)
    assert model.config.cells == (kind,) * layers
    tr = trace(model, x, y, loss_kind)
    want = fused_reference(rnn, head, x, y, loss_kind)

    np.testing.assert_allclose(tr.hidden[-1], want.top_hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.hidden[:, -1], want.last_hidden, rtol=1e-10, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(tr.cell_state[:, -1], want.last_cell, rtol=1e-10, atol=1e-12)
    else:
        assert tr.cell_state is None and tr.grad_cell_state is None
    np.testing.assert_allclose(tr.output, want.output, rtol=1e-10, atol=1e-12)
    assert tr.loss == pytest.approx(want.loss, rel=1e-10)
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(GRID_ARGS, GRID)
def test_every_layer_matches_unrolled_graph(kind, layers, batch, bias, loss_kind, batch_first):
    rnn, head = torch_gated(kind, layers, bias, batch_first)
    model = from_torch(rnn, head)
    x, y = random_sequences(STEPS, batch, INPUT, OUTPUT, seed=layers)
    tr = trace(model, x, y, loss_kind)
    want = unrolled_reference(model, x, y, loss_kind)

    assert_matches_unrolled(tr, want)
    if kind == "lstm":
        np.testing.assert_allclose(tr.cell_state, want.cell_state, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(tr.grad_cell_state, want.grad_cell_state, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gates_equal_torch_gates(kind):
    rnn, head = torch_gated(kind, 3, seed=2)
    model = from_torch(rnn, head)
    x, y = random_sequences(STEPS, 2, INPUT, OUTPUT, seed=2)
    tr = trace(model, x, y, "all")
    want = unrolled_reference(model, x, y, "all")

    assert sorted(tr.gates) == sorted(GATE_NAMES[kind])
    for name in GATE_NAMES[kind]:
        assert tr.gates[name].shape == (3, STEPS, 2, HIDDEN)
        np.testing.assert_allclose(
            tr.gates[name], want.gates[name], rtol=1e-10, atol=1e-12, err_msg=f"gate {name}"
        )


@pytest.mark.parametrize("loss_kind", ["last", "all"])
@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_initial_states(kind, loss_kind):
    rnn, head = torch_gated(kind, 2, seed=3)
    model = from_torch(rnn, head)
    x, y = random_sequences(STEPS, 2, INPUT, OUTPUT, seed=3)
    rng = np.random.default_rng(3)
    h0 = rng.standard_normal((2, 2, HIDDEN))
    c0 = rng.standard_normal((2, 2, HIDDEN)) if kind == "lstm" else None
    tr = trace(model, x, y, loss_kind, h0=h0, c0=c0)
    fused = fused_reference(rnn, head, x, y, loss_kind, h0=h0, c0=c0)
    unrolled = unrolled_reference(model, x, y, loss_kind, h0=h0, c0=c0)

    np.testing.assert_allclose(tr.hidden[:, -1], fused.last_hidden, rtol=1e-10, atol=1e-12)
    assert_param_grads_close(tr.param_grads, fused.param_grads, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tr.grad_hidden, unrolled.grad_hidden, rtol=1e-8, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(tr.cell_state[:, -1], fused.last_cell, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            tr.grad_cell_state, unrolled.grad_cell_state, rtol=1e-8, atol=1e-12
        )


MIXED = [
    ("lstm", "rnn", "rnn"),
    ("rnn", "gru", "lstm"),
    ("gru", "lstm"),
    ("lstm", "gru", "rnn", "lstm"),
]


@pytest.mark.parametrize("cells", MIXED, ids="-".join)
@pytest.mark.parametrize("loss_kind", ["last", "all"])
@pytest.mark.parametrize("bias", [True, False])
def test_mixed_stack_matches_torch_cells(cells, loss_kind, bias):
    activations = ("relu", "sigmoid", "tanh", "identity")[: len(cells)]
    config = RNNConfig(
        len(cells), INPUT, HIDDEN, OUTPUT, activation=activations, cell=cells, bias=bias
    )
    model = Model.init(config, scheme="orthogonal", seed=len(cells))
    x, y = random_sequences(STEPS, 3, INPUT, OUTPUT, seed=9)
    rng = np.random.default_rng(9)
    h0, c0 = rng.standard_normal((2, len(cells), 3, HIDDEN))
    tr = trace(model, x, y, loss_kind, h0=h0, c0=c0)
    want = unrolled_reference(model, x, y, loss_kind, h0=h0, c0=c0)

    assert_matches_unrolled(tr, want)
    lstm = np.array([c == "lstm" for c in cells])
    # cell states: equal on LSTM layers, nan (as the reference) on the others
    np.testing.assert_allclose(tr.cell_state, want.cell_state, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.grad_cell_state, want.grad_cell_state, rtol=1e-8, atol=1e-12)
    assert np.isnan(tr.cell_state[~lstm]).all() and np.isfinite(tr.cell_state[lstm]).all()
    for name, gate in tr.gates.items():
        np.testing.assert_allclose(gate, want.gates[name], rtol=1e-10, atol=1e-12, err_msg=name)
    has_gate = {n for c in cells for n in GATE_NAMES[c]}
    assert set(tr.gates) == has_gate
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-12)


def test_from_torch_refuses_lstm_projections():
    with pytest.raises(ValueError, match=r"proj_size must be 0.*got 2"):
        from_torch(nn.LSTM(INPUT, HIDDEN, 2, proj_size=2))


@pytest.mark.parametrize("module", [nn.RNN, nn.GRU, nn.LSTM])
def test_from_torch_refuses_bidirectional(module):
    with pytest.raises(ValueError, match=r"unidirectional, got bidirectional=True"):
        from_torch(module(INPUT, HIDDEN, 2, bidirectional=True))
