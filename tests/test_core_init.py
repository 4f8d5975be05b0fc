"""Initialization schemes: torch names and shapes, the documented distributions, the prefix
property that a depth sweep relies on (layer k's weights depend only on (seed, k)), and the
InitSpec that carries the settings as one value (with the earlier loose form still accepted)."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from deeprnn_core import SCHEMES, InitSpec, Model, RNNConfig, init_params
from deeprnn_core.weights.model import expected_shapes

CONFIG = RNNConfig(3, 5, 6, 2, cell=("rnn", "gru", "lstm"), layer_norm=False)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_names_shapes_and_dtype(scheme):
    params = init_params(CONFIG, InitSpec(scheme, seed=1))
    assert {k: v.shape for k, v in params.items()} == expected_shapes(CONFIG)
    assert all(v.dtype == np.float64 and np.isfinite(v).all() for v in params.values())
    assert expected_shapes(CONFIG)["weight_ih_l1"] == (3 * 6, 6)  # GRU: r, z, n blocks


@pytest.mark.parametrize("scheme", SCHEMES)
def test_depth_prefix_property(scheme):
    """The depth-2 network of a seed is the bottom of the depth-5 one, head included."""
    init = InitSpec(scheme, recurrent_gain=1.3, seed=9)
    shallow = init_params(RNNConfig(2, 5, 6, 2), init)
    deep = init_params(RNNConfig(5, 5, 6, 2), init)
    for name, value in shallow.items():
        np.testing.assert_array_equal(deep[name], value, err_msg=name)
    other_seed = init_params(RNNConfig(2, 5, 6, 2), dataclasses.replace(init, seed=10))
    assert not np.array_equal(other_seed["weight_ih_l0"], shallow["weight_ih_l0"])


@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_orthogonal_blocks_are_gain_times_orthogonal(gain):
    """Each (h, h) gate block of W_hh is g * Q with Q^T Q = I (atol=1e-12)."""
    params = init_params(CONFIG, InitSpec("orthogonal", recurrent_gain=gain, seed=2))
    for k, blocks in enumerate((1, 3, 4)):
        for block in np.split(params[f"weight_hh_l{k}"], blocks):
            np.testing.assert_allclose(block.T @ block, gain**2 * np.eye(6), atol=1e-12)
    wide = params["weight_ih_l0"][:6]  # (h, d) = (6, 5): orthonormal columns
    np.testing.assert_allclose(wide.T @ wide, np.eye(5), atol=1e-12)


def test_identity_scheme_is_gain_times_eye():
    params = init_params(CONFIG, InitSpec("identity", recurrent_gain=0.9, seed=3))
    for k, blocks in enumerate((1, 3, 4)):
        for block in np.split(params[f"weight_hh_l{k}"], blocks):
            np.testing.assert_array_equal(block, 0.9 * np.eye(6))


def test_gaussian_and_torch_scales():
    """gaussian: std g / sqrt(fan_in); torch: |w| <= g / sqrt(h). 40000 draws: std within 2%."""
    big = RNNConfig(1, 200, 200, 1)
    gaussian = init_params(big, InitSpec("gaussian", recurrent_gain=3.0, input_gain=0.5, seed=4))
    assert gaussian["weight_hh_l0"].std() == pytest.approx(3.0 / np.sqrt(200), rel=0.02)
    assert gaussian["weight_ih_l0"].std() == pytest.approx(0.5 / np.sqrt(200), rel=0.02)
    uniform = init_params(big, InitSpec("torch", recurrent_gain=2.0, seed=4))["weight_hh_l0"]
    assert np.abs(uniform).max() <= 2.0 / np.sqrt(200)
    assert uniform.std() == pytest.approx(2.0 / np.sqrt(200) / np.sqrt(3), rel=0.02)


def test_bias_scale_and_layer_norm_defaults():
    config = RNNConfig(2, 3, 4, 1, layer_norm=True)
    params = init_params(config, InitSpec(bias_scale=0.0, seed=5))
    assert all(not params[f"bias_{kind}_l{k}"].any() for kind in ("ih", "hh") for k in range(2))
    np.testing.assert_array_equal(params["ln_weight_l1"], np.ones(4))
    np.testing.assert_array_equal(params["ln_bias_l1"], np.zeros(4))
    assert "bias_ih_l0" not in init_params(RNNConfig(2, 3, 4, 1, bias=False))


def test_model_params_are_read_only_copies():
    """A Model never changes under a trace that cached its layout: its arrays are read-only
    copies of what it was given."""
    import deeprnn_core as dc

    config = dc.RNNConfig(num_layers=2, input_size=3, hidden_size=4)
    given = dc.init_params(config, dc.InitSpec(seed=1))
    model = dc.Model(config, given)
    given["weight_hh_l0"][0, 0] = 99.0  # the caller's array, not the model's
    assert model.params["weight_hh_l0"][0, 0] != 99.0
    with pytest.raises(ValueError, match="read-only"):
        model.params["weight_hh_l0"][0, 0] = 1.0


# (config, settings, sha256 prefix of the params drawn at commit 1cdb0a4, before InitSpec): the
# schemes that need no LAPACK, so the bytes are the same on every machine
DRAWN_BEFORE = [
    (
        RNNConfig(2, 3, 4, 2),
        dict(scheme="torch", recurrent_gain=1.0, input_gain=1.0, bias_scale=1.0, seed=0),
        "2aa5889151f79a0c",
    ),
    (
        RNNConfig(3, 5, 6, 1, cell=("rnn", "gru", "lstm")),
        dict(scheme="gaussian", recurrent_gain=1.5, input_gain=0.7, bias_scale=0.5, seed=7),
        "c9be5dda7ed6e74d",
    ),
    (
        RNNConfig(2, 4, 4, 1, layer_norm=True),
        dict(scheme="identity", recurrent_gain=0.9, input_gain=1.1, bias_scale=0.0, seed=3),
        "6582295ed2b99f2b",
    ),
]


@pytest.mark.parametrize("config, settings, sha", DRAWN_BEFORE)
def test_init_spec_draws_what_the_loose_form_drew(config, settings, sha):
    """Model.init(config, InitSpec(...)) equals the loose keyword and positional forms bit for
    bit, and both draw the bytes the loose API drew before InitSpec existed."""
    spec = Model.init(config, InitSpec(**settings)).params
    loose = Model.init(config, **settings).params
    positional = Model.init(config, *settings.values()).params  # in the order of InitSpec
    drawn = init_params(config, InitSpec(**settings))
    for other in (loose, positional, drawn):
        assert other.keys() == spec.keys()
        for name in spec:
            np.testing.assert_array_equal(other[name], spec[name], err_msg=name)
    digest = hashlib.sha256(b"".join(spec[k].tobytes() for k in sorted(spec))).hexdigest()
    assert digest[:16] == sha, "the draw changed from the pre-InitSpec one"


def test_orthogonal_spec_equals_the_loose_form_bit_for_bit():
    spec = Model.init(CONFIG, InitSpec("orthogonal", 1.2, 0.8, 0.3, 11)).params
    positional = Model.init(CONFIG, "orthogonal", 1.2, 0.8, 0.3, 11).params
    mixed = Model.init(CONFIG, "orthogonal", 1.2, input_gain=0.8, bias_scale=0.3, seed=11).params
    for other in (positional, mixed):
        for name in spec:
            np.testing.assert_array_equal(other[name], spec[name], err_msg=name)


def test_init_spec_is_one_small_frozen_value():
    """Settings of numpy types are stored as float / int, so equal settings are one cache key."""
    spec = InitSpec("gaussian", np.float32(1.5), 2, np.int64(0), np.int64(4))
    assert spec == InitSpec("gaussian", 1.5, 2.0, 0.0, 4)
    assert hash(spec) == hash(InitSpec("gaussian", 1.5, 2.0, 0.0, 4))
    assert type(spec.recurrent_gain) is float and type(spec.seed) is int
    assert InitSpec() == InitSpec("torch", 1.0, 1.0, 1.0, 0), "torch's default, seed 0"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 5
    with pytest.raises(ValueError, match=r"seed must be an int >= 0, got -1"):
        dataclasses.replace(spec, seed=-1)


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: Model.init(CONFIG, InitSpec(), seed=1), "seed"),
        (lambda: Model.init(CONFIG, InitSpec(), scheme="gaussian"), "scheme"),
        (lambda: init_params(CONFIG, InitSpec(), 1.5), "1.5"),
    ],
)
def test_init_spec_and_loose_settings_together_is_a_type_error_naming_both(call, names):
    with pytest.raises(
        TypeError, match=rf"init=InitSpec\(.*not both; got init=InitSpec\(.*{names}"
    ):
        call()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Model.init(CONFIG, 0.5), r"init must be an InitSpec .*got float 0.5"),
        (
            lambda: Model.init(CONFIG, recurent_gain=2.0),
            r"unexpected keyword argument 'recurent_gain'",
        ),
        (lambda: Model.init(CONFIG, "torch", 1, 1, 1, 0, 9), r"at most .*got 6 values"),
        (lambda: Model.init(CONFIG, "torch", scheme="gaussian"), r"'scheme' given twice"),
    ],
)
def test_loose_form_mistakes_are_named(call, message):
    with pytest.raises(TypeError, match=message):
        call()
