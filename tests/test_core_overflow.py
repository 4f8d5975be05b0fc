"""Overflow is data: an exploding run returns a Trace whose inf / nan cells are marked, never an
exception or a warning; float32 runs agree with float64 on tame networks."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.data.signals import make_signal

FORWARD = re.compile(r"forward pass: H_(\d+)\^\((\d+)\) overflowed \(layer \2, step \1\)")
BACKWARD = re.compile(r"backward pass: G_(\d+)\^\((\d+)\) overflowed \(layer \2, step \1\)")

# relu networks whose spectral radius is far above 1: |H_t| grows like (gain / sqrt 2)^t
EXPLODING = {
    "gaussian-gain20-T300": dict(scheme="gaussian", recurrent_gain=20.0, steps=300),
    "torch-gain8-T200": dict(scheme="torch", recurrent_gain=8.0, steps=200),
    "gaussian-gain4-T200": dict(scheme="gaussian", recurrent_gain=4.0, steps=200),
}


def exploding_run(scheme: str, recurrent_gain: float, steps: int, dtype: str, layers: int = 3):
    config = RNNConfig(layers, 4, 16, 1, activation="relu")
    model = Model.init(config, scheme=scheme, recurrent_gain=recurrent_gain, seed=0)
    x = make_signal("noise", steps, 2, 4, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow must not even warn
        return trace(model, x, dtype=dtype)


def first_overflowed_step(tr) -> float:
    """The earliest t (1-based) at which any layer's H_t^(l) is inf or nan; inf if none."""
    steps = np.flatnonzero(tr.nonfinite_hidden.any(axis=0))
    return steps[0] + 1 if steps.size else np.inf


@pytest.mark.parametrize(
    "case, dtype",
    [
        ("gaussian-gain20-T300", "float64"),
        ("gaussian-gain20-T300", "float32"),
        ("torch-gain8-T200", "float32"),  # |H| ~ 1e150 < float64's range: overflows in float32 only
        ("gaussian-gain4-T200", "float32"),
    ],
)
def test_forward_overflow_is_marked_where_it_began(case, dtype):
    tr = exploding_run(**EXPLODING[case], dtype=dtype)
    layers, steps = tr.config.num_layers, tr.input.shape[0]
    assert tr.nonfinite_hidden.shape == tr.nonfinite_grad.shape == (layers, steps)
    np.testing.assert_array_equal(tr.nonfinite_hidden, ~np.isfinite(tr.hidden).all(axis=(2, 3)))
    np.testing.assert_array_equal(tr.nonfinite_grad, ~np.isfinite(tr.grad_hidden).all(axis=(2, 3)))

    match = FORWARD.fullmatch(tr.overflow or "")
    assert match, f"overflow should name the first bad H_t^(l), got {tr.overflow!r}"
    t, l = int(match[1]), int(match[2])
    # the first bad cell in computation order: layers below are clean, and so is layer l before t
    assert not tr.nonfinite_hidden[: l - 1].any()
    assert not tr.nonfinite_hidden[l - 1, : t - 1].any()
    assert tr.nonfinite_hidden[l - 1, t - 1 :].all(), "an overflowed relu state stays non-finite"
    # the state just before really was exploding, not poisoned by something else
    finite_max = np.finfo(tr.hidden.dtype).max
    assert np.abs(tr.hidden[l - 1, t - 2]).max() > finite_max**0.5
    assert tr.nonfinite_grad.any() and not np.isfinite(tr.param_grad_norm)


def test_backward_only_overflow_is_marked_in_backward_order():
    """A tiny input keeps H_t^(l) and the loss finite while G_t^(l) ~ |O_T| (gain / sqrt 2)^(T - t)
    overflows: the trace says the backward pass overflowed, at its top layer's latest bad step."""
    config = RNNConfig(2, 4, 16, 1, activation="relu")
    model = Model.init(config, scheme="gaussian", recurrent_gain=10.0, bias_scale=0.0, seed=0)
    x = 1e-60 * make_signal("noise", 250, 2, 4, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = trace(model, x)
    assert not tr.nonfinite_hidden.any() and np.isfinite(tr.loss)
    match = BACKWARD.fullmatch(tr.overflow or "")
    assert match, f"overflow should name the first bad G_t^(l), got {tr.overflow!r}"
    t, l = int(match[1]), int(match[2])
    assert l == 2, "the backward pass starts at the top layer, which overflows first"
    bad_steps = np.flatnonzero(tr.nonfinite_grad[l - 1]) + 1
    assert bad_steps.max() == t, "backward runs t = T..1, so its first bad step is the latest"
    assert not tr.nonfinite_grad[l - 1, t:].any()


def test_clipping_an_overflowed_run_matches_torch():
    """With a non-finite norm clip_grad_norm_ scales by 0 or nan; the trace does the same to the
    same entries (nan where torch has nan), and neither raises nor warns."""
    case = EXPLODING["gaussian-gain20-T300"]
    model = Model.init(
        RNNConfig(2, 4, 16, 1, activation="relu"),
        scheme="gaussian",
        recurrent_gain=case["recurrent_gain"],
        seed=0,
    )
    x = make_signal("noise", case["steps"], 2, 4, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unclipped = trace(model, x, dtype="float32")
        clipped = trace(model, x, dtype="float32", clip_norm=1.0)
    assert not np.isfinite(unclipped.param_grad_norm)
    assert clipped.overflow == unclipped.overflow
    params = [torch.nn.Parameter(torch.zeros(g.shape)) for g in unclipped.param_grads.values()]
    for p, grad in zip(params, unclipped.param_grads.values()):
        p.grad = torch.from_numpy(grad.copy())
    torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
    for p, (name, grad) in zip(params, clipped.param_grads.items()):
        np.testing.assert_array_equal(grad, p.grad.numpy(), err_msg=name)


def test_output_overflow_is_named():
    """|H_t^(l)| ~ 1e168 is finite in float64, but the loss O_T^2 is not."""
    tr = exploding_run("gaussian", 10.0, 200, "float64", layers=2)
    assert not tr.nonfinite_hidden.any()
    assert tr.overflow == "forward pass: the output O_t or the loss overflowed"
    assert not np.isfinite(tr.loss)


@pytest.mark.parametrize("case", list(EXPLODING))
def test_float32_overflows_no_later_than_float64(case):
    wide = exploding_run(**EXPLODING[case], dtype="float64")
    narrow = exploding_run(**EXPLODING[case], dtype="float32")
    assert narrow.hidden.dtype == np.float32 and wide.hidden.dtype == np.float64
    assert np.isfinite(first_overflowed_step(narrow)), "float32 should overflow here"
    assert first_overflowed_step(narrow) <= first_overflowed_step(wide)
    if case == "gaussian-gain20-T300":  # both overflow; float32's range ends ~270 decades sooner
        assert first_overflowed_step(narrow) < first_overflowed_step(wide) < np.inf


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clean_run_has_no_overflow(cell, dtype):
    model = Model.init(RNNConfig(3, 4, 8, 1, cell=cell), seed=1)
    tr = trace(model, make_signal("sine", 50, 2, 4, seed=1), dtype=dtype)
    assert tr.overflow is None
    assert not tr.nonfinite_hidden.any() and not tr.nonfinite_grad.any()
    assert np.isfinite(tr.param_grad_norm) and tr.param_grad_norm > 0


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_float32_agrees_with_float64_on_a_tame_network(cell):
    """Relative agreement 1e-4, with an absolute floor of 1e-5 of each array's largest entry
    (float32 has ~7 digits; 20 steps x 3 layers of rounding stay far inside 4)."""
    config = RNNConfig(3, 4, 8, 2, cell=cell, activation="tanh")
    model = Model.init(config, seed=2)
    x = make_signal("noise", 20, 3, 4, seed=2)
    y = np.random.default_rng(2).standard_normal((20, 3, 2))
    wide = trace(model, x, y, "all")
    narrow = trace(model, x, y, "all", dtype="float32")

    def assert_close(got, want, what):
        assert got.dtype == np.float32, what
        floor = 1e-5 * np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=floor, err_msg=what)

    assert narrow.dtype == "float32"
    assert_close(narrow.hidden, wide.hidden, "hidden")
    assert_close(narrow.output, wide.output, "output")
    assert_close(narrow.grad_hidden, wide.grad_hidden, "grad_hidden")
    for name, grad in wide.param_grads.items():
        assert_close(narrow.param_grads[name], grad, name)
    assert narrow.loss == pytest.approx(wide.loss, rel=1e-4)
    assert narrow.param_grad_norm == pytest.approx(wide.param_grad_norm, rel=1e-4)
