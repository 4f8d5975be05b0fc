"""The depth scrub: every depth's |H| and |G| grids from one forward pass and one batched
backward, held against a separate trace of each shallower network (rtol 1e-10, float64)."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.analysis.scrub import config_at_depth, depth_scrub
from deeprnn_core.analysis.summaries import attenuation, cell_norms
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine.norms import stable_norm

CASES = {
    "tanh rnn": RNNConfig(4, 3, 5),
    "relu, residual, layer norm": RNNConfig(
        4, 5, 5, activation="relu", residual=True, layer_norm=True
    ),  # fmt: skip
    "gru": RNNConfig(3, 3, 4, cell="gru"),
    "lstm": RNNConfig(3, 3, 4, cell="lstm"),
    "mixed cells and activations": RNNConfig(
        5,
        3,
        4,
        cell=("rnn", "gru", "lstm", "rnn", "gru"),
        activation=("tanh", "relu", "tanh", "sigmoid", "identity"),
    ),  # fmt: skip
    "dropout in training mode": RNNConfig(4, 3, 4, dropout=0.4, residual=True),
}


@pytest.mark.parametrize("loss_kind", ["last", "all"])
@pytest.mark.parametrize("group", [1, 2, 10**6], ids=["per depth", "pairs", "all at once"])
@pytest.mark.parametrize("name", list(CASES))
def test_every_depth_equals_its_own_trace(name, group, loss_kind):
    config = CASES[name]
    T, B = 6, 2
    x = make_signal("noise", T, B, config.input_size, seed=3)
    deep = Model.init(config, "gaussian", 1.3, 1.1, 0.5, seed=3)
    scrub = depth_scrub(deep, x, loss_kind, dropout_seed=5, max_elements=group * T * B * 4)
    for depth in range(1, config.num_layers + 1):
        model = Model.init(config_at_depth(config, depth), "gaussian", 1.3, 1.1, 0.5, seed=3)
        tr = trace(model, x, loss_kind=loss_kind, dropout_seed=5)
        hidden_norm, grad_hidden_norm = cell_norms(tr)
        np.testing.assert_allclose(scrub.hidden_norm[:depth], hidden_norm, rtol=1e-10, atol=0)
        np.testing.assert_allclose(
            scrub.grad_hidden_norm[depth - 1, :depth], grad_hidden_norm, rtol=1e-10
        )
        assert np.isnan(scrub.grad_hidden_norm[depth - 1, depth:]).all(), "no layer above depth D"
        np.testing.assert_allclose(
            scrub.output_norm[depth - 1], stable_norm(tr.output, (1, 2)), rtol=1e-10
        )
        np.testing.assert_allclose(scrub.loss[depth - 1], tr.loss, rtol=1e-10)
        np.testing.assert_allclose(scrub.attenuation[depth - 1], attenuation(tr), rtol=1e-10)
        assert (scrub.nonfinite_grad[depth - 1, :depth] == tr.nonfinite_grad).all()


def test_overflow_is_marked_per_depth():
    config = RNNConfig(3, 2, 4, activation="relu")
    x = make_signal("noise", 40, 1, 2, seed=0)
    deep = Model.init(config, "gaussian", 40.0, 40.0, 0.0, seed=0)
    scrub = depth_scrub(deep, x, dtype="float32")
    for depth in range(1, 4):
        tr = trace(Model.init(config_at_depth(config, depth), "gaussian", 40.0, 40.0, 0.0, 0),
                   x, dtype="float32")  # fmt: skip
        assert (scrub.nonfinite_hidden[:depth] == tr.nonfinite_hidden).all()
        assert (scrub.nonfinite_grad[depth - 1, :depth] == tr.nonfinite_grad).all()
    assert scrub.nonfinite_hidden.any(), "gain 40 relu overflows float32 in 40 steps"


def test_bad_arguments_are_named():
    model = Model.init(RNNConfig(2, 3, 4), seed=0)
    x = make_signal("noise", 3, 1, 3, seed=0)
    with pytest.raises(ValueError, match="loss_kind must be one of"):
        depth_scrub(model, x, "every")
    with pytest.raises(ValueError, match="max_elements must be an int >= 1, got 0"):
        depth_scrub(model, x, max_elements=0)
    with pytest.raises(TypeError, match="model must be a deeprnn_core.Model"):
        depth_scrub("model", x)
    with pytest.raises(ValueError, match="depth must be an int in 1..2, got 3"):
        config_at_depth(model.config, 3)
