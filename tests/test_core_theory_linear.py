"""theory.linear against measured traces: the LRU's row below the top is exact (lambda^k per
unit), its |lambda|-only form and the minGRU / minLSTM gate factor E[a^2] are mean field."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn_core import InitSpec, Model, RNNConfig, trace
from deeprnn_core.cells.activations import sigmoid
from deeprnn_core.theory import linear
from deeprnn_core.theory.mean_field import bias_variance, input_moment


@pytest.mark.parametrize(
    "cells, residual, activation",
    [
        ("lru", False, "tanh"),
        (("rnn", "lru", "lru"), False, "relu"),
        (("lstm", "lru", "lru"), True, "identity"),
    ],  # fmt: skip
)
def test_the_row_below_an_lru_top_is_predicted_exactly(cells, residual, activation):
    L = len(cells) if isinstance(cells, tuple) else 3
    config = RNNConfig(num_layers=L, input_size=6, hidden_size=16, cell=cells,
                       residual=residual, activation=activation)  # fmt: skip
    model = Model.init(config, seed=3)
    x = np.random.default_rng(1).normal(size=(40, 3, 6))
    tr = trace(model, x, loss_kind="last")
    T = x.shape[0]
    predicted = linear.lru_row_below_top(model.params, L, tr.preact[-1, -1],
                                         tr.grad_hidden[-1, -1], T, activation)  # fmt: skip
    measured = tr.grad_hidden[-2, :-1]
    assert np.abs(predicted - measured).max() <= 1e-10 * np.abs(measured).max()


def test_the_modulus_only_row_follows_the_measured_one():
    config = RNNConfig(num_layers=2, input_size=8, hidden_size=64, cell="lru")
    model = Model.init(config, seed=0)
    x = np.random.default_rng(0).normal(size=(100, 8, 8))
    tr = trace(model, x, loss_kind="last")
    predicted = linear.lru_row_from_modulus(model.params, 2, tr.preact[-1, -1],
                                            tr.grad_hidden[-1, -1], 100)  # fmt: skip
    measured = (tr.grad_hidden[-2, :-1] ** 2).sum((1, 2))
    r2 = linear.r_squared(predicted, measured)
    assert r2 > 0.8, r2
    # over k steps the decay is the mean of |lambda|^(2k), weighted: between min and max |lambda|
    lam = linear.lru_modulus(model.params, 1)
    k = 99
    ratio = predicted[0] / predicted[-1]
    assert lam.min() ** (2 * (k - 1)) <= ratio <= lam.max() ** (2 * (k - 1))


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_gate_moments_equal_sampling(cell):
    rng = np.random.default_rng(0)
    for q in (0.0, 1.0, 9.0):
        u = rng.normal(0, np.sqrt(q), (2, 400_000))
        a = 1 - sigmoid(u[0]) if cell == "mingru" else sigmoid(u[0]) / (
            sigmoid(u[0]) + sigmoid(u[1]))  # fmt: skip
        keep, take = linear.gate_moments(cell, q)
        assert keep == pytest.approx((a * a).mean(), abs=2e-3)
        assert take == pytest.approx(((1 - a) ** 2).mean(), abs=2e-3)
    with pytest.raises(ValueError):
        linear.gate_moments("lstm", 1.0)


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_the_gate_factor_per_layer_follows_the_measured(cell, gain):
    """E[a^2] per layer within 5 % of the measured mean over t, batch and units, for the first
    two layers; R^2 over the (L, T) grid of log values at least 0.4 (the map drops the time
    correlation of the layer's input above layer 1)."""
    config = RNNConfig(num_layers=4, input_size=8, hidden_size=128, cell=cell)
    model = Model.init(config, InitSpec("gaussian", input_gain=gain))
    x = np.random.default_rng(2).normal(size=(150, 8, 8))
    tr = trace(model, x)
    factor, _ = linear.gated_variance_map(config.cells, gain, bias_variance(config, 1.0),
                                          input_moment(x))  # fmt: skip
    measured = linear.measured_gate_factor(tr.gates, config.cells)
    for k in range(2):
        assert factor[k].mean() == pytest.approx(measured[k].mean(), rel=0.05), k
    assert linear.r_squared(factor, measured) >= 0.4
    with pytest.raises(ValueError):
        linear.measured_gate_factor(tr.gates, ("rnn",) * 4)
