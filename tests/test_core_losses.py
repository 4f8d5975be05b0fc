"""Cross-entropy on logits and losses over a chosen set of steps, against torch autograd.

Tolerances as the other core tests: states rtol=1e-10, gradients rtol=1e-8 (atol=1e-12),
float64; the loss value against F.cross_entropy to rtol=1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.engine.stack import loss_steps
from tests.torch_reference import assert_matches_unrolled, random_sequences, unrolled_reference

T, B, D, H, CLASSES = 7, 3, 2, 4, 5


def class_targets(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, CLASSES, (T, B, 1)).astype(float)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", ("lstm", "rnn", "gru")])
@pytest.mark.parametrize("loss_kind", ["last", "all", (4, 5, 6), [-3, 0]])
def test_cross_entropy_matches_unrolled_graph(cell, loss_kind):
    model = Model.init(RNNConfig(3, D, H, CLASSES, cell=cell), seed=3)
    x, _ = random_sequences(T, B, D, CLASSES, seed=3)
    y = class_targets(3)
    tr = trace(model, x, y, loss_kind, objective="cross_entropy")
    want = unrolled_reference(model, x, y, loss_kind, objective="cross_entropy")
    assert_matches_unrolled(tr, want)
    np.testing.assert_allclose(tr.loss, want.loss, rtol=1e-12)


@pytest.mark.parametrize("loss_kind", [(1, 3), [-1], range(-4, 0)])
def test_mse_over_chosen_steps_matches_unrolled_graph(loss_kind):
    model = Model.init(RNNConfig(2, D, H, 2, residual=True), seed=4)
    x, y = random_sequences(T, B, D, 2, seed=4)
    tr = trace(model, x, y, loss_kind)
    assert_matches_unrolled(tr, unrolled_reference(model, x, y, list(loss_kind)))


def test_cross_entropy_value_and_output_gradient_equal_torch():
    """dLoss/dO_t = (softmax(O_t) - onehot) / B on scored steps, 0 elsewhere, as autograd of
    F.cross_entropy says; the loss is the sum over the scored steps."""
    model = Model.init(RNNConfig(2, D, H, CLASSES), seed=5)
    x, _ = random_sequences(T, B, D, CLASSES, seed=5)
    y = class_targets(5)
    tr = trace(model, x, y, (2, 6), objective="cross_entropy")
    logits = torch.tensor(tr.output, requires_grad=True)
    target = torch.tensor(y[..., 0]).long()
    value = F.cross_entropy(logits[2], target[2]) + F.cross_entropy(logits[6], target[6])
    value.backward()
    np.testing.assert_allclose(tr.loss, float(value.detach()), rtol=1e-12)
    np.testing.assert_allclose(tr.grad_output, logits.grad.numpy(), rtol=1e-10, atol=1e-15)
    assert tr.loss_kind == (2, 6) and tr.objective == "cross_entropy"


def test_loss_last_equals_the_last_step_index():
    model = Model.init(RNNConfig(2, D, H, 1), seed=6)
    x, y = random_sequences(T, B, D, 1, seed=6)
    a, b = trace(model, x, y, "last"), trace(model, x, y, [T - 1])
    np.testing.assert_allclose(a.grad_hidden, b.grad_hidden, rtol=1e-14, atol=0)
    assert loss_steps("all", 4).tolist() == [0, 1, 2, 3]
    assert loss_steps(range(-2, 0), 4).tolist() == [2, 3]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"loss_kind": "mean"},
            ValueError,
            r"loss_kind must be one of \('last', 'all', 'probe'\), got 'mean'",
        ),
        (
            {"loss_kind": [7]},
            ValueError,
            r"loss_kind step indices must be in \[-7, 7\) for T=7, got \[7\]",
        ),
        ({"loss_kind": [1, -6]}, ValueError, "loss_kind step indices must be distinct"),
        (
            {"loss_kind": [1.5]},
            TypeError,
            "loss_kind must be a non-empty sequence of int step indices",
        ),
        (
            {"loss_kind": []},
            TypeError,
            "loss_kind must be a non-empty sequence of int step indices",
        ),
        ({"objective": "hinge"}, ValueError, "objective must be one of"),
        (
            {"objective": "cross_entropy", "y": np.full((T, B, 1), 5.0)},
            ValueError,
            r"y must hold class indices in \[0, 5\) for cross_entropy, got 5.0",
        ),
        (
            {"objective": "cross_entropy", "y": np.zeros((T, B, 2))},
            ValueError,
            r"y.shape\[-1\] must be equal to 1. Expected 1, got 2",
        ),
    ],
)
def test_bad_loss_settings_raise_named_errors(kwargs, error, message):
    model = Model.init(RNNConfig(2, D, H, CLASSES), seed=7)
    x, _ = random_sequences(T, B, D, 1, seed=7)
    y = kwargs.pop("y", None)
    with pytest.raises(error, match=message):
        trace(model, x, y, **kwargs)
