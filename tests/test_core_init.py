"""Initialization schemes: torch names and shapes, the documented distributions, and the prefix
property that a depth sweep relies on (layer k's weights depend only on (seed, k))."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn_core import SCHEMES, RNNConfig, init_params
from deeprnn_core.weights.model import expected_shapes

CONFIG = RNNConfig(3, 5, 6, 2, cell=("rnn", "gru", "lstm"), layer_norm=False)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_names_shapes_and_dtype(scheme):
    params = init_params(CONFIG, scheme, seed=1)
    assert {k: v.shape for k, v in params.items()} == expected_shapes(CONFIG)
    assert all(v.dtype == np.float64 and np.isfinite(v).all() for v in params.values())
    assert expected_shapes(CONFIG)["weight_ih_l1"] == (3 * 6, 6)  # GRU: r, z, n blocks


@pytest.mark.parametrize("scheme", SCHEMES)
def test_depth_prefix_property(scheme):
    """The depth-2 network of a seed is the bottom of the depth-5 one, head included."""
    shallow = init_params(RNNConfig(2, 5, 6, 2), scheme, recurrent_gain=1.3, seed=9)
    deep = init_params(RNNConfig(5, 5, 6, 2), scheme, recurrent_gain=1.3, seed=9)
    for name, value in shallow.items():
        np.testing.assert_array_equal(deep[name], value, err_msg=name)
    other_seed = init_params(RNNConfig(2, 5, 6, 2), scheme, seed=10)
    assert not np.array_equal(other_seed["weight_ih_l0"], shallow["weight_ih_l0"])


@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_orthogonal_blocks_are_gain_times_orthogonal(gain):
    """Each (h, h) gate block of W_hh is g * Q with Q^T Q = I (atol=1e-12)."""
    params = init_params(CONFIG, "orthogonal", recurrent_gain=gain, seed=2)
    for k, blocks in enumerate((1, 3, 4)):
        for block in np.split(params[f"weight_hh_l{k}"], blocks):
            np.testing.assert_allclose(block.T @ block, gain**2 * np.eye(6), atol=1e-12)
    wide = params["weight_ih_l0"][:6]  # (h, d) = (6, 5): orthonormal columns
    np.testing.assert_allclose(wide.T @ wide, np.eye(5), atol=1e-12)


def test_identity_scheme_is_gain_times_eye():
    params = init_params(CONFIG, "identity", recurrent_gain=0.9, seed=3)
    for k, blocks in enumerate((1, 3, 4)):
        for block in np.split(params[f"weight_hh_l{k}"], blocks):
            np.testing.assert_array_equal(block, 0.9 * np.eye(6))


def test_gaussian_and_torch_scales():
    """gaussian: std g / sqrt(fan_in); torch: |w| <= g / sqrt(h). 40000 draws: std within 2%."""
    big = RNNConfig(1, 200, 200, 1)
    gaussian = init_params(big, "gaussian", recurrent_gain=3.0, input_gain=0.5, seed=4)
    assert gaussian["weight_hh_l0"].std() == pytest.approx(3.0 / np.sqrt(200), rel=0.02)
    assert gaussian["weight_ih_l0"].std() == pytest.approx(0.5 / np.sqrt(200), rel=0.02)
    uniform = init_params(big, "torch", recurrent_gain=2.0, seed=4)["weight_hh_l0"]
    assert np.abs(uniform).max() <= 2.0 / np.sqrt(200)
    assert uniform.std() == pytest.approx(2.0 / np.sqrt(200) / np.sqrt(3), rel=0.02)


def test_bias_scale_and_layer_norm_defaults():
    config = RNNConfig(2, 3, 4, 1, layer_norm=True)
    params = init_params(config, bias_scale=0.0, seed=5)
    assert all(not params[f"bias_{kind}_l{k}"].any() for kind in ("ih", "hh") for k in range(2))
    np.testing.assert_array_equal(params["ln_weight_l1"], np.ones(4))
    np.testing.assert_array_equal(params["ln_bias_l1"], np.zeros(4))
    assert "bias_ih_l0" not in init_params(RNNConfig(2, 3, 4, 1, bias=False))


def test_model_params_are_read_only_copies():
    """A Model never changes under a trace that cached its layout: its arrays are read-only
    copies of what it was given."""
    import deeprnn_core as dc

    config = dc.RNNConfig(num_layers=2, input_size=3, hidden_size=4)
    given = dc.init_params(config, seed=1)
    model = dc.Model(config, given)
    given["weight_hh_l0"][0, 0] = 99.0  # the caller's array, not the model's
    assert model.params["weight_hh_l0"][0, 0] != 99.0
    with pytest.raises(ValueError, match="read-only"):
        model.params["weight_hh_l0"][0, 0] = 1.0
