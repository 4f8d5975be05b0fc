"""The fast engine against the plain reference (deeprnn_core.engine.reference), float64.

Tolerance: every state, gradient, loss and parameter gradient equal to rtol = atol = 1e-12
(the two differ only in the order of floating-point sums). The reference is itself checked
against torch once per cell type here, so the chain trace == reference == torch holds.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.cells import REGISTRY, cell_type
from deeprnn_core.engine import reference
from tests.torch_reference import assert_matches_unrolled, random_sequences, unrolled_reference

TOL = dict(rtol=1e-12, atol=1e-12)
CASES = {
    "rnn tanh": dict(cell="rnn"),
    "rnn relu": dict(activation="relu"),
    "rnn sigmoid, no bias": dict(activation="sigmoid", bias=False),
    "rnn identity": dict(activation="identity"),
    "gru": dict(cell="gru"),
    "lstm": dict(cell="lstm"),
    "mixed stack": dict(cell=("lstm", "rnn", "gru"), activation=("tanh", "relu", "tanh")),
    "residual, d = h": dict(cell=("rnn", "gru", "lstm"), residual=True, input_size=4),
    "residual, d != h (layer 1 skipped)": dict(cell="gru", residual=True),
    "layer norm": dict(layer_norm=True, activation=("tanh", "relu", "sigmoid")),
    "layer norm + residual": dict(layer_norm=True, residual=True, input_size=4),
    "dropout": dict(cell=("rnn", "gru", "lstm"), dropout=0.4),
}


def as_reference(tr, config, model, x, y, loss_kind, h0=None, c0=None):
    """The reference's result for what ``tr`` ran, and the assert that they agree."""
    want = reference.run(config, model.params, x, y, loss_kind, h0, c0, tr.dropout_masks)
    for name in ("hidden", "preact", "grad_hidden", "grad_preact"):
        np.testing.assert_allclose(getattr(tr, name), want[name], **TOL, err_msg=name)
    if any(cell_type(c).cell_state for c in config.cells):
        np.testing.assert_allclose(tr.cell_state, want["cell"], **TOL)
        np.testing.assert_allclose(tr.grad_cell_state, want["grad_cell"], **TOL)
    assert tr.loss == pytest.approx(want["loss"], rel=1e-12)
    assert tr.param_grads.keys() == want["param_grads"].keys()
    for name, value in tr.param_grads.items():
        np.testing.assert_allclose(value, want["param_grads"][name], **TOL, err_msg=name)
    return want


@pytest.mark.parametrize("loss_kind", ["last", "all"])
@pytest.mark.parametrize("case", CASES)
def test_engine_equals_reference(case, loss_kind):
    config = RNNConfig(
        num_layers=3, hidden_size=4, output_size=2, **{"input_size": 3, **CASES[case]}
    )
    model = Model.init(config, recurrent_gain=1.5, seed=7)
    x, y = random_sequences(6, 2, config.input_size, 2, seed=3)
    tr = trace(model, x, y, loss_kind, dropout_seed=5)
    assert (tr.dropout_masks is not None) == (config.dropout > 0)
    as_reference(tr, config, model, x, y, loss_kind)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_engine_equals_reference_from_given_states(cell):
    config = RNNConfig(num_layers=2, input_size=3, hidden_size=4, cell=cell)
    model = Model.init(config, seed=1)
    x, y = random_sequences(5, 3, 3, 1, seed=2)
    rng = np.random.default_rng(0)
    h0 = rng.standard_normal((2, 3, 4))
    c0 = rng.standard_normal((2, 3, 4)) if cell == "lstm" else None
    tr = trace(model, x, y, "all", h0=h0, c0=c0)
    as_reference(tr, config, model, x, y, "all", h0, c0)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_reference_equals_torch(cell):
    """The reference against the unrolled torch graph, so it is no mere copy of the engine."""
    config = RNNConfig(num_layers=2, input_size=3, hidden_size=4, output_size=2, cell=cell)
    model = Model.init(config, seed=4)
    x, y = random_sequences(5, 2, 3, 2, seed=6)
    tr = trace(model, x, y, "all")
    want = unrolled_reference(model, x, y, "all")
    got = reference.run(config, model.params, x, y, "all")
    for name in ("hidden", "preact", "grad_hidden", "grad_preact", "param_grads"):
        setattr(tr, name, got[name])  # the reference's numbers in a trace's shape
    assert_matches_unrolled(tr, want)


def equations(function) -> list[str]:
    """The equation lines of a reference function's docstring."""
    lines = [line.strip() for line in inspect.getdoc(function).splitlines()]
    return [s for s in lines if " = " in s and "``" not in s and not s.endswith(":")]


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("cell", list(REGISTRY))
def test_engine_docstrings_state_the_equations_the_reference_runs(cell, direction):
    kind = cell_type(cell)
    plain, fast = (
        (kind.step, kind.forward) if direction == "forward" else (kind.step_back, kind.backward)
    )
    want = equations(plain)
    assert len(want) >= 3, f"{plain.__name__} should state its equations"
    have = [line.strip() for line in inspect.getdoc(fast).splitlines()]
    missing = [line for line in want if line not in have]
    assert not missing, f"{fast.__name__}'s docstring lacks {missing}"


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_cell_source_is_the_reference_code(cell):
    text = reference.cell_source(cell)
    assert text.startswith("def step(") and "def step_back(" in text
    assert text == "\n\n".join(
        inspect.getsource(f) for f in (REGISTRY[cell].step, REGISTRY[cell].step_back)
    )
    assert "def run(" in reference.stack_source() and "masks" in reference.stack_source()
    with pytest.raises(ValueError, match="cell must be one of"):
        reference.cell_source("transformer")


@pytest.mark.parametrize("phase", ["forward", "backward"])
@pytest.mark.parametrize("cell", list(REGISTRY))
def test_the_listing_marks_the_line_that_computes_the_step(phase, cell):
    """The app shows this code next to the step-through: the marked line of the stack's loop
    computes H_t^(l) (forward) or G_t^(l) (backward), and the cell's function is the one that
    line runs."""
    shown = reference.listing(phase, cell)
    line = shown.stack.splitlines()[shown.stack_line]
    assert reference.STEP_LINES[phase] in line
    want = REGISTRY[cell].step if phase == "forward" else REGISTRY[cell].step_back
    assert shown.cell == inspect.getsource(want) and shown.cell_name == cell
    with pytest.raises(ValueError, match="phase must be one of"):
        reference.listing("sideways", cell)
