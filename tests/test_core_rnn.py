"""Plain (Elman) deep RNNs: deeprnn_core against nn.RNN + nn.Linear and an unrolled torch graph.

Tolerances: states and outputs rtol=1e-10 (atol=1e-12), gradients rtol=1e-8 (atol=1e-12), all
float64; the engine and torch add the same terms in a different order, nothing more.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deeprnn_core import Model, RNNConfig, from_torch, init_params, trace
from tests.torch_reference import (
    assert_matches_unrolled,
    assert_param_grads_close,
    fused_reference,
    make_cell,
    random_sequences,
    unrolled_reference,
)

STEPS, INPUT, HIDDEN, OUTPUT = 5, 3, 8, 2  # h = 8 keeps every G_t^(l) of the deep relu nets > 0

GRID = [
    pytest.param(
        layers,
        nonlinearity,
        batch,
        bias,
        loss_kind,
        batch_first,
        id=f"L{layers}-{nonlinearity}-B{batch}-{'bias' if bias else 'nobias'}-{loss_kind}"
        + ("-batch_first" if batch_first else ""),
    )
    for layers in (1, 2, 5)
    for nonlinearity in ("tanh", "relu")
    for batch in (1, 3)
    for bias in (True, False)
    for loss_kind in ("last", "all")
    for batch_first in (False, True)
]
GRID_ARGS = "layers, nonlinearity, batch, bias, loss_kind, batch_first"


def torch_rnn(
    layers: int, nonlinearity: str, bias: bool, batch_first: bool, seed: int = 0
) -> tuple[nn.RNN, nn.Linear]:
    """An nn.RNN with torch's default init (seeded) and an nn.Linear head, float64."""
    torch.manual_seed(seed)
    rnn = nn.RNN(
        INPUT, HIDDEN, layers, nonlinearity=nonlinearity, bias=bias, batch_first=batch_first
    )
    head = nn.Linear(HIDDEN, OUTPUT)
    return rnn.double(), head.double()


@pytest.mark.parametrize(GRID_ARGS, GRID)
def test_from_torch_matches_nn_rnn(layers, nonlinearity, batch, bias, loss_kind, batch_first):
    rnn, head = torch_rnn(layers, nonlinearity, bias, batch_first)
    x, y = random_sequences(STEPS, batch, INPUT, OUTPUT, seed=layers)
    tr = trace(from_torch(rnn, head), x, y, loss_kind)
    want = fused_reference(rnn, head, x, y, loss_kind)

    np.testing.assert_allclose(tr.hidden[-1], want.top_hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.hidden[:, -1], want.last_hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.output, want.output, rtol=1e-10, atol=1e-12)
    assert tr.loss == pytest.approx(want.loss, rel=1e-10)
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(GRID_ARGS, GRID)
def test_every_layer_matches_unrolled_graph(
    layers, nonlinearity, batch, bias, loss_kind, batch_first
):
    rnn, head = torch_rnn(layers, nonlinearity, bias, batch_first)
    model = from_torch(rnn, head)
    x, y = random_sequences(STEPS, batch, INPUT, OUTPUT, seed=layers)
    tr = trace(model, x, y, loss_kind)
    want = unrolled_reference(model, x, y, loss_kind)

    assert_matches_unrolled(tr, want)


@pytest.mark.parametrize("activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("loss_kind", ["last", "all"])
def test_activations_without_nn_rnn_match_unrolled_graph(activation, layers, bias, loss_kind):
    config = RNNConfig(layers, INPUT, HIDDEN, OUTPUT, activation=activation, bias=bias)
    model = Model.init(config, scheme="gaussian", seed=layers)
    x, y = random_sequences(STEPS, 3, INPUT, OUTPUT, seed=1)
    tr = trace(model, x, y, loss_kind)
    want = unrolled_reference(model, x, y, loss_kind)

    assert_matches_unrolled(tr, want)


def test_per_layer_activations_match_unrolled_graph():
    config = RNNConfig(4, INPUT, HIDDEN, OUTPUT, activation=("relu", "sigmoid", "identity", "tanh"))
    model = Model.init(config, scheme="orthogonal", seed=3)
    x, y = random_sequences(STEPS, 2, INPUT, OUTPUT, seed=3)
    tr = trace(model, x, y, "all")
    want = unrolled_reference(model, x, y, "all")

    np.testing.assert_allclose(tr.hidden, want.hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.grad_hidden, want.grad_hidden, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tr.grad_preact, want.grad_preact, rtol=1e-8, atol=1e-12)
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_formula_cell_of_the_oracle_equals_nn_rnn_cell(nonlinearity):
    """The oracle's own check: the formula cell that stands in for nn.RNNCell where torch has no
    cell (sigmoid, identity, layer norm) gives nn.RNNCell's states and autograd gradients where
    both exist (rtol=1e-12), so the formula reference is trustworthy."""
    model = Model.init(RNNConfig(2, INPUT, HIDDEN, OUTPUT, activation=nonlinearity), seed=5)
    x, y = random_sequences(STEPS, 3, INPUT, OUTPUT, seed=5)
    via_formula = unrolled_reference(model, x, y, "all", formula_rnn=True)
    via_cell = unrolled_reference(model, x, y, "all")
    assert isinstance(make_cell("rnn", nonlinearity, INPUT, HIDDEN, True, False), nn.RNNCell)
    np.testing.assert_allclose(via_formula.hidden, via_cell.hidden, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        via_formula.grad_hidden, via_cell.grad_hidden, rtol=1e-12, atol=1e-14
    )
    assert_param_grads_close(via_formula.param_grads, via_cell.param_grads, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("loss_kind", ["last", "all"])
def test_initial_state_h0(nonlinearity, loss_kind):
    rnn, head = torch_rnn(3, nonlinearity, bias=True, batch_first=False, seed=7)
    model = from_torch(rnn, head)
    x, y = random_sequences(STEPS, 2, INPUT, OUTPUT, seed=7)
    h0 = np.random.default_rng(7).standard_normal((3, 2, HIDDEN))
    tr = trace(model, x, y, loss_kind, h0=h0)
    fused = fused_reference(rnn, head, x, y, loss_kind, h0=h0)
    unrolled = unrolled_reference(model, x, y, loss_kind, h0=h0)

    np.testing.assert_allclose(tr.hidden[-1], fused.top_hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.hidden[:, -1], fused.last_hidden, rtol=1e-10, atol=1e-12)
    assert_param_grads_close(tr.param_grads, fused.param_grads, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tr.hidden, unrolled.hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.grad_hidden, unrolled.grad_hidden, rtol=1e-8, atol=1e-12)
    assert not np.allclose(tr.hidden, trace(model, x, y, loss_kind).hidden), "h0 had no effect"


def test_torch_tensors_are_accepted_as_input():
    rnn, head = torch_rnn(2, "tanh", bias=True, batch_first=False)
    model = from_torch(rnn, head)
    x, y = random_sequences(STEPS, 2, INPUT, OUTPUT, seed=0)
    from_numpy = trace(model, x, y)
    from_tensors = trace(model, torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_array_equal(from_tensors.grad_hidden, from_numpy.grad_hidden)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_to_torch_round_trip(cell, activation, bias):
    config = RNNConfig(
        3, INPUT, HIDDEN, OUTPUT, activation=activation, cell=cell, bias=bias, dropout=0.25
    )
    model = Model.init(config, scheme="orthogonal", seed=11)
    rnn, head = model.to_torch()
    back = from_torch(rnn, head)

    expected_config = (
        config if cell == "rnn" else RNNConfig(**{**vars(config), "activation": "tanh"})
    )
    assert back.config == expected_config
    assert sorted(back.params) == sorted(model.params)
    for name, value in model.params.items():
        np.testing.assert_array_equal(back.params[name], value, err_msg=name)
    x, y = random_sequences(STEPS, 2, INPUT, OUTPUT, seed=11)
    assert rnn.dropout == 0.25
    fused = fused_reference(rnn.eval(), head, x, y, "all")  # eval: no dropout on either side
    tr = trace(model, x, y, "all", training=False)
    np.testing.assert_allclose(tr.output, fused.output, rtol=1e-10, atol=1e-12)


def test_from_torch_without_head_draws_torch_default_head_from_seed():
    rnn, _ = torch_rnn(2, "tanh", bias=True, batch_first=False)
    model = from_torch(rnn, seed=4)
    drawn = init_params(model.config, seed=4)
    np.testing.assert_array_equal(model.params["head.weight"], drawn["head.weight"])
    np.testing.assert_array_equal(model.params["head.bias"], drawn["head.bias"])
    assert model.config.output_size == 1
    bound = 1 / np.sqrt(HIDDEN)
    assert np.all(np.abs(model.params["head.weight"]) <= bound), "not U(-1/sqrt(h), 1/sqrt(h))"


def test_from_torch_head_without_bias_gets_zero_bias():
    rnn, _ = torch_rnn(1, "tanh", bias=True, batch_first=False)
    head = nn.Linear(HIDDEN, OUTPUT, bias=False).double()
    model = from_torch(rnn, head)
    np.testing.assert_array_equal(model.params["head.bias"], np.zeros(OUTPUT))
    np.testing.assert_array_equal(model.params["head.weight"], head.weight.detach().numpy())


def test_from_torch_float32_module_is_widened_exactly():
    torch.manual_seed(0)
    rnn = nn.RNN(INPUT, HIDDEN, 2)  # float32 weights
    model = from_torch(rnn)
    for name, p in rnn.named_parameters():
        assert model.params[name].dtype == np.float64
        np.testing.assert_array_equal(model.params[name], p.detach().double().numpy())


@pytest.mark.parametrize("module", [nn.RNN, nn.GRU, nn.LSTM])
def test_num_params_counts_torch_parameters(module):
    rnn, head = module(INPUT, HIDDEN, 3).double(), nn.Linear(HIDDEN, OUTPUT).double()
    torch_count = sum(p.numel() for p in [*rnn.parameters(), *head.parameters()])
    assert from_torch(rnn, head).num_params == torch_count
