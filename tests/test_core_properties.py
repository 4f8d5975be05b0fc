"""Property tests: over random small architectures, the engine's hidden states, G_t^(l) and
parameter gradients equal autograd on the unrolled torch graph, and a trace is a pure function.

Tolerances: states rtol=1e-10 (atol=1e-12), gradients rtol=1e-8 with atol=1e-10, float64. The
gradient floor is wider than elsewhere because random draws reach gradients that are 0 in exact
arithmetic yet not in torch's rounding: LayerNorm over h = 1 unit is constant, and torch's
backward of it returns ~1e-12 (rounding amplified by 1/sqrt(eps) = 316) where the engine gives 0.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deeprnn_core import ACTIVATIONS, CELLS, SCHEMES, Model, RNNConfig, trace
from deeprnn_core.cells import REGISTRY
from tests.torch_reference import assert_param_grads_close, unrolled_reference

# the cells torch has a module for (the unrolled reference builds them from torch's cells); the
# element-wise ones are held to their papers' equations in tests/test_core_new_cells.py
TORCH_CELLS = tuple(name for name in CELLS if REGISTRY[name].torch_module)

PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def architectures(draw) -> RNNConfig:
    """A small RNNConfig: depth 1-4, widths 1-6, per-layer cells and activations, any remedy."""
    layers = draw(st.integers(1, 4))
    if draw(st.booleans()):
        cell = tuple(draw(st.sampled_from(TORCH_CELLS)) for _ in range(layers))
        activation = tuple(draw(st.sampled_from(ACTIVATIONS)) for _ in range(layers))
    else:
        cell, activation = draw(st.sampled_from(TORCH_CELLS)), draw(st.sampled_from(ACTIVATIONS))
    all_rnn = cell == "rnn" or cell == ("rnn",) * layers
    return RNNConfig(
        num_layers=layers,
        input_size=draw(st.integers(1, 6)),
        hidden_size=draw(st.integers(1, 6)),
        output_size=draw(st.integers(1, 3)),
        activation=activation,
        cell=cell,
        bias=draw(st.booleans()),
        residual=draw(st.booleans()),
        layer_norm=all_rnn and draw(st.booleans()),
        dropout=draw(st.sampled_from([0.0, 0.0, 0.4])),
    )


@st.composite
def runs(draw) -> dict:
    """A model of a random architecture (LayerNorm gain / bias random too) and its inputs."""
    config = draw(architectures())
    seed = draw(st.integers(0, 2**16))
    model = Model.init(config, scheme=draw(st.sampled_from(SCHEMES)), seed=seed)
    rng = np.random.default_rng(seed)
    if config.layer_norm:
        params = {
            name: rng.uniform(0.5, 1.5, value.shape) if name.startswith("ln_") else value
            for name, value in model.params.items()
        }
        model = Model(config, params)
    steps, batch = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    states = (config.num_layers, batch, config.hidden_size)
    random_states = draw(st.booleans())
    return dict(
        model=model,
        x=rng.standard_normal((steps, batch, config.input_size)),
        y=rng.standard_normal((steps, batch, config.output_size)),
        loss_kind=draw(st.sampled_from(["last", "all"])),
        h0=rng.standard_normal(states) if random_states else None,
        c0=rng.standard_normal(states) if random_states and "lstm" in config.cells else None,
        dropout_seed=seed,
    )


@PROPERTY_SETTINGS
@given(run=runs())
def test_gradients_equal_unrolled_autograd(run):
    tr = trace(**run)
    want = unrolled_reference(
        run["model"], run["x"], run["y"], run["loss_kind"], run["h0"], run["c0"], tr.dropout_masks
    )
    np.testing.assert_allclose(tr.hidden, want.hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.grad_hidden, want.grad_hidden, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(tr.grad_preact, want.grad_preact, rtol=1e-8, atol=1e-10)
    if tr.grad_cell_state is not None:
        np.testing.assert_allclose(tr.grad_cell_state, want.grad_cell_state, rtol=1e-8, atol=1e-10)
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-10)
    assert tr.loss == pytest.approx(want.loss, rel=1e-10, abs=1e-12)


@PROPERTY_SETTINGS
@given(run=runs())
def test_trace_is_pure(run):
    """The app caches traces by (config, seed): a trace must neither change its inputs nor
    depend on anything but them (bitwise equal on a second call)."""
    before = copy.deepcopy(run)
    first, second = trace(**run), trace(**run)
    for name in ("x", "y", "h0", "c0"):
        np.testing.assert_array_equal(run[name], before[name], err_msg=f"trace changed {name}")
    for name, value in before["model"].params.items():
        np.testing.assert_array_equal(run["model"].params[name], value, err_msg=name)
    for field in ("hidden", "grad_hidden", "output", "cell_state", "dropout_masks"):
        np.testing.assert_array_equal(getattr(second, field), getattr(first, field), field)
    for name, grad in first.param_grads.items():
        np.testing.assert_array_equal(second.param_grads[name], grad, err_msg=name)
