"""Remedies for vanishing / exploding gradients: residual connections, layer norm, dropout
between layers and gradient clipping, each against a torch reference.

Tolerances: states rtol=1e-10 (atol=1e-12), gradients rtol=1e-8 (atol=1e-12), float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deeprnn_core import Model, RNNConfig, from_torch, trace
from tests.torch_reference import (
    assert_matches_unrolled,
    assert_param_grads_close,
    fused_reference,
    random_sequences,
    unrolled_reference,
)

STEPS, HIDDEN, OUTPUT = 6, 4, 2


def trace_matches_unrolled(model, x, y, loss_kind, **kwargs):
    """Trace and unrolled torch graph agree on H, G and every parameter gradient."""
    tr = trace(model, x, y, loss_kind, **kwargs)
    masks = tr.dropout_masks if kwargs.get("training", True) else None
    want = unrolled_reference(model, x, y, loss_kind, dropout_masks=masks)
    assert_matches_unrolled(tr, want)
    if "lstm" in model.config.cells:
        np.testing.assert_allclose(tr.grad_cell_state, want.grad_cell_state, rtol=1e-8, atol=1e-12)
    return tr


# ---------------------------------------------------------------- residual


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", ("lstm", "rnn", "gru")])
@pytest.mark.parametrize("input_size", [HIDDEN, 3], ids=["d==h", "d!=h"])
@pytest.mark.parametrize("loss_kind", ["last", "all"])
def test_residual_matches_unrolled_graph(cell, input_size, loss_kind):
    config = RNNConfig(3, input_size, HIDDEN, OUTPUT, cell=cell, residual=True)
    model = Model.init(config, seed=1)
    x, y = random_sequences(STEPS, 2, input_size, OUTPUT, seed=1)
    trace_matches_unrolled(model, x, y, loss_kind)


@pytest.mark.parametrize("input_size", [HIDDEN, 3], ids=["d==h", "d!=h"])
def test_residual_adds_the_layer_input_where_widths_match(input_size):
    """H_t^(l) - phi(A_t^(l)) = H_t^(l-1) on every layer with a residual, exactly (atol=1e-15);
    at l = 1 with d != h the first layer is the plain one."""
    config = RNNConfig(3, input_size, HIDDEN, OUTPUT, residual=True)
    model = Model.init(config, seed=2)
    x, _ = random_sequences(STEPS, 2, input_size, OUTPUT, seed=2)
    tr = trace(model, x)
    layer_inputs = [x] + list(tr.hidden[:-1])
    for k in range(3):
        added = tr.hidden[k] - np.tanh(tr.preact[k])
        expected = layer_inputs[k] if config.has_residual(k) else np.zeros_like(added)
        np.testing.assert_allclose(added, expected, rtol=0, atol=1e-15, err_msg=f"layer {k + 1}")
    assert config.has_residual(0) == (input_size == HIDDEN)
    plain = trace(Model(RNNConfig(3, input_size, HIDDEN, OUTPUT), model.params), x)
    if input_size != HIDDEN:  # layer 1 has no residual, so it equals the plain network's
        np.testing.assert_array_equal(tr.hidden[0], plain.hidden[0])
    assert not np.allclose(tr.hidden[-1], plain.hidden[-1]), "residual changed nothing"


# ---------------------------------------------------------------- layer norm


def with_random_layer_norm(config: RNNConfig, seed: int) -> Model:
    """A model whose LayerNorm gains and biases are random, not the (1, 0) defaults."""
    params = Model.init(config, seed=seed).params
    rng = np.random.default_rng(seed)
    for k in range(config.num_layers):
        params[f"ln_weight_l{k}"] = rng.uniform(0.5, 1.5, config.hidden_size)
        params[f"ln_bias_l{k}"] = rng.normal(0.0, 0.3, config.hidden_size)
    return Model(config, params)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("loss_kind", ["last", "all"])
def test_layer_norm_matches_nn_layer_norm(activation, residual, loss_kind):
    config = RNNConfig(
        3, HIDDEN, HIDDEN, OUTPUT, activation=activation, layer_norm=True, residual=residual
    )
    model = with_random_layer_norm(config, seed=3)
    x, y = random_sequences(STEPS, 3, HIDDEN, OUTPUT, seed=3)
    tr = trace_matches_unrolled(model, x, y, loss_kind)
    assert {f"ln_weight_l{k}" for k in range(3)} <= set(tr.param_grads)
    assert all(np.abs(tr.param_grads[f"ln_bias_l{k}"]).max() > 0 for k in range(3))


def test_layer_norm_without_bias():
    config = RNNConfig(2, 3, HIDDEN, OUTPUT, bias=False, layer_norm=True)
    model = with_random_layer_norm(config, seed=4)
    x, y = random_sequences(STEPS, 2, 3, OUTPUT, seed=4)
    trace_matches_unrolled(model, x, y, "all")


# ---------------------------------------------------------------- dropout


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", ("gru", "rnn", "lstm")])
@pytest.mark.parametrize("residual", [False, True])
def test_dropout_masks_applied_as_torch_would(cell, residual):
    p = 0.3
    config = RNNConfig(3, HIDDEN, HIDDEN, OUTPUT, cell=cell, residual=residual, dropout=p)
    model = Model.init(config, seed=5)
    x, y = random_sequences(STEPS, 3, HIDDEN, OUTPUT, seed=5)
    tr = trace_matches_unrolled(model, x, y, "all", training=True, dropout_seed=8)
    assert tr.dropout_masks.shape == (2, STEPS, 3, HIDDEN)


def test_dropout_masks_are_scaled_bernoulli_and_seeded():
    p = 0.25
    config = RNNConfig(3, 2, 16, 1, dropout=p)
    model = Model.init(config, seed=0)
    x, _ = random_sequences(50, 4, 2, 1, seed=0)
    masks = trace(model, x, training=True, dropout_seed=1).dropout_masks
    assert masks.shape == (2, 50, 4, 16)
    kept = masks != 0
    np.testing.assert_allclose(masks[kept], 1 / (1 - p), rtol=1e-15)
    # 6400 Bernoulli(0.25) draws: the dropped fraction is within 0.03 (6 sigma) of p
    assert abs(1 - kept.mean() - p) < 0.03
    again = trace(model, x, training=True, dropout_seed=1).dropout_masks
    np.testing.assert_array_equal(again, masks)
    other = trace(model, x, training=True, dropout_seed=2).dropout_masks
    assert not np.array_equal(other, masks), "dropout_seed does not change the masks"


@pytest.mark.parametrize("kind", [nn.RNN, nn.GRU, nn.LSTM])
def test_eval_mode_has_no_dropout_and_equals_torch_eval(kind):
    torch.manual_seed(6)
    rnn = kind(3, HIDDEN, 3, dropout=0.4).double().eval()
    head = nn.Linear(HIDDEN, OUTPUT).double()
    model = from_torch(rnn, head)
    assert model.config.dropout == pytest.approx(0.4)
    x, y = random_sequences(STEPS, 2, 3, OUTPUT, seed=6)
    tr = trace(model, x, y, "all", training=False)
    want = fused_reference(rnn, head, x, y, "all")
    assert tr.dropout_masks is None
    np.testing.assert_allclose(tr.hidden[-1], want.top_hidden, rtol=1e-10, atol=1e-12)
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-12)


def test_single_layer_has_nothing_to_drop():
    model = Model.init(RNNConfig(1, 3, HIDDEN, OUTPUT, dropout=0.5), seed=0)
    x, y = random_sequences(STEPS, 2, 3, OUTPUT, seed=0)
    tr = trace(model, x, y, training=True)
    assert tr.dropout_masks is None
    np.testing.assert_array_equal(tr.hidden, trace(model, x, y, training=False).hidden)


# ---------------------------------------------------------------- gradient clipping


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("factor", [0.1, 10.0], ids=["below-norm", "above-norm"])
def test_clipping_equals_clip_grad_norm(cell, factor):
    config = RNNConfig(3, 3, HIDDEN, OUTPUT, cell=cell)
    model = Model.init(config, seed=7)
    x, y = random_sequences(STEPS, 2, 3, OUTPUT, seed=7)
    rnn, head = model.to_torch()
    unclipped_norm = trace(model, x, y, "all").param_grad_norm
    clip = factor * unclipped_norm

    tr = trace(model, x, y, "all", clip_norm=clip)
    fused_reference(rnn, head, x, y, "all")
    named = [*rnn.named_parameters(), *(("head." + n, p) for n, p in head.named_parameters())]
    total = torch.nn.utils.clip_grad_norm_([p for _, p in named], max_norm=clip)

    assert tr.clip_norm == clip
    assert tr.param_grad_norm == pytest.approx(float(total), rel=1e-10)
    clipped = {name: p.grad.numpy() for name, p in named}
    assert_param_grads_close(tr.param_grads, clipped, rtol=1e-8, atol=1e-12)
    norm_after = np.sqrt(sum((g**2).sum() for g in tr.param_grads.values()))
    assert tr.param_grad_norm_clipped == pytest.approx(norm_after, rel=1e-10)
    if factor < 1:
        # clip_grad_norm_ scales by max_norm / (norm + 1e-6)
        expected = tr.param_grad_norm * clip / (tr.param_grad_norm + 1e-6)
        assert tr.param_grad_norm_clipped == pytest.approx(expected, rel=1e-12)
    else:
        assert tr.param_grad_norm_clipped == tr.param_grad_norm


def test_no_clipping_leaves_norms_equal():
    model = Model.init(RNNConfig(2, 3, HIDDEN, OUTPUT), seed=0)
    x, y = random_sequences(STEPS, 2, 3, OUTPUT, seed=0)
    tr = trace(model, x, y)
    assert tr.clip_norm is None
    assert tr.param_grad_norm == tr.param_grad_norm_clipped > 0
    norm = np.sqrt(sum((g**2).sum() for g in tr.param_grads.values()))
    assert tr.param_grad_norm == pytest.approx(norm, rel=1e-12)
