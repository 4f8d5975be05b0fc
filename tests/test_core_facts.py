"""The core states its own facts: the order of computation, the overflow record, the global
parameter-gradient norm (scaled, so finite gradients never overflow it), the effective remedies
per layer and the rules that switch them off."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.analysis.summaries import param_grad_norms
from deeprnn_core.config import applicability
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine import order as engine_order
from deeprnn_core.engine import stack as engine
from deeprnn_core.engine.norms import global_norm, stable_norm
from deeprnn_core.engine.overflow import first_bad_cell


def test_computation_order_runs_layer_by_layer():
    L, T = 3, 4
    order = engine_order.computation_order(L, T)
    assert len(order) == 2 * L * T and len(set(order)) == 2 * L * T
    assert order[: L * T] == tuple(("forward", l, t) for l in (1, 2, 3) for t in (1, 2, 3, 4))
    assert order[L * T :] == tuple(("backward", l, t) for l in (3, 2, 1) for t in (4, 3, 2, 1))
    position = {cell: k for k, cell in enumerate(order)}
    for (phase, l, t), k in position.items():  # every cell after the cells it reads
        step, below = (-1, -1) if phase == "forward" else (1, 1)
        for dep in ((phase, l, t + step), (phase, l + below, t)):
            if dep in position:
                assert position[dep] < k, f"{(phase, l, t)} is computed before {dep}"


def test_engine_runs_its_layers_in_computation_order(monkeypatch):
    """The engine calls its layers in the order computation_order states (and within a layer
    the recurrence leaves only t ascending forward, t descending backward)."""
    config = RNNConfig(num_layers=4, hidden_size=5, cell=("rnn", "gru", "lstm", "rnn"))
    calls = []
    model = Model.init(config)
    layers = model.engine_layers("float64")
    for name in ("forward_layer", "backward_layer"):
        real = getattr(engine, name)

        def spy(w, *args, _real=real, _name=name, **kwargs):
            calls.append((_name.split("_")[0], [x is w for x in layers].index(True) + 1))
            return _real(w, *args, **kwargs)

        monkeypatch.setattr(engine, name, spy)
    trace(model, make_signal("noise", 3, 1, 8, 0))
    want = list(dict.fromkeys((phase, l) for phase, l, _ in engine_order.computation_order(4, 3)))
    assert calls == want


def test_first_bad_cell_is_the_first_in_computation_order():
    rng = np.random.default_rng(0)
    for _ in range(20):
        bad = rng.random((4, 7)) < 0.1
        bad[rng.integers(4), rng.integers(7)] = True
        for phase in engine_order.PHASES:
            want = next(
                (l, t)
                for p, l, t in engine_order.computation_order(4, 7)
                if p == phase and bad[l - 1, t - 1]
            )
            assert first_bad_cell(bad, phase) == want


def test_backward_overflow_record_carries_the_backward_order():
    """The overflow banner once described the forward order for a backward overflow: the record
    now carries its own phase's order."""
    config = RNNConfig(2, 4, 16, 1, activation="relu")
    model = Model.init(config, scheme="gaussian", recurrent_gain=10.0, bias_scale=0.0, seed=0)
    tr = trace(model, 1e-60 * make_signal("noise", 250, 2, 4, seed=0))
    record = tr.overflow_record
    assert record.phase == "backward" and record.quantity == "grad_hidden" and record.l == 2
    assert record.order == engine_order.order_text("backward", 2, 250)
    assert record.order.startswith("backward pass: layer 2 for t = 250..1, then layer 1")
    assert (
        str(record)
        == tr.overflow
        == f"backward pass: G_{record.t}^(2) overflowed (layer 2, step {record.t})"
    )


def test_forward_overflow_record():
    config = RNNConfig(3, 4, 16, 1, activation="relu")
    model = Model.init(config, scheme="gaussian", recurrent_gain=20.0, seed=0)
    tr = trace(model, make_signal("noise", 300, 2, 4, seed=0))
    record = tr.overflow_record
    assert (record.phase, record.quantity) == ("forward", "hidden")
    assert tr.nonfinite_hidden[record.l - 1, record.t - 1]
    assert record.order.startswith("forward pass: layer 1 for t = 1..300, then layer 2")
    assert tr.overflow.startswith(f"forward pass: H_{record.t}^({record.l}) overflowed")


def huge_relu_trace():
    """relu, recurrent gain 3, T = 500, float64: finite gradients ~1e214 whose squares overflow."""
    model = Model.init(RNNConfig(activation="relu"), recurrent_gain=3.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return trace(model, make_signal("noise", 500, 1, 8, 0))


def test_parameter_gradient_norm_does_not_overflow_for_finite_gradients():
    tr = huge_relu_trace()
    grads = list(tr.param_grads.values())
    assert all(np.isfinite(g).all() for g in grads) and max(np.abs(g).max() for g in grads) > 1e200
    total = stable_norm(np.concatenate([g.ravel() for g in grads]), None)
    assert tr.param_grad_norm == pytest.approx(float(total), rel=1e-12)
    assert np.isfinite(tr.param_grad_norm) and tr.overflow_record is None
    bars = param_grad_norms(tr)  # every per-layer bar is at most the global norm
    assert max(v.max() for v in bars.values()) <= tr.param_grad_norm
    # torch's own norm overflows here (its sum of squares passes 1e308): ours is the true value
    torch_norm = torch.linalg.vector_norm(torch.cat([torch.from_numpy(g).ravel() for g in grads]))
    assert not torch.isfinite(torch_norm)


def test_clipping_a_huge_but_finite_gradient_scales_it_to_clip_norm():
    tr = trace(
        Model.init(RNNConfig(activation="relu"), recurrent_gain=3.0, seed=0),
        make_signal("noise", 500, 1, 8, 0),
        clip_norm=1.0,
    )
    assert tr.param_grad_norm_clipped == pytest.approx(1.0, rel=1e-6)
    assert global_norm(tr.param_grads.values()) == pytest.approx(1.0, rel=1e-6)


def test_global_norm():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(5)
    want = float(np.sqrt((a * a).sum() + (b * b).sum()))
    assert global_norm([a, b]) == pytest.approx(want, rel=1e-14)
    assert global_norm([a * 1e200, b * 1e200]) == pytest.approx(want * 1e200, rel=1e-14)
    assert global_norm([a * 1e-200, b * 1e-200]) == pytest.approx(want * 1e-200, rel=1e-14)
    assert global_norm([np.full(4, 1e308)]) == np.inf, "a norm past float64's range is inf"
    assert global_norm([a, np.array([np.inf])]) == np.inf
    assert np.isnan(global_norm([np.array([np.inf]), a, np.array([np.nan, 1.0])]))
    assert np.isnan(global_norm([np.array([1.0, np.nan]), np.array([np.inf])]))
    assert global_norm([np.zeros(3), np.empty(0)]) == 0.0
    x = np.array([[3e200, 4e200], [0.0, -1e-300]])
    np.testing.assert_allclose(stable_norm(x, 1), [5e200, 1e-300], rtol=1e-15)


def test_a_norm_overflow_alone_is_recorded():
    tr = trace(Model.init(RNNConfig(num_layers=2, hidden_size=4)), make_signal("noise", 5, 1, 8, 0))
    assert tr.overflow_record is None
    tr = dataclasses.replace(tr, param_grad_norm=np.inf)
    assert tr.overflow_record.quantity == "param_grad_norm"
    assert "global parameter-gradient norm overflowed" in tr.overflow


def test_effective_remedies_per_layer():
    c = RNNConfig(
        num_layers=3, input_size=8, hidden_size=8, residual=True, layer_norm=True, dropout=0.2
    )
    assert c.residual_layers() == (True, True, True)
    assert c.layer_norm_layers() == (True, True, True)
    assert c.dropout_layers() == (True, True, False), "the top layer's output is never dropped"
    c = RNNConfig(
        num_layers=3, input_size=5, hidden_size=8, residual=True, cell=("gru", "rnn", "lstm")
    )
    assert c.residual_layers() == (False, True, True)
    assert c.layer_norm_layers() == (False, False, False) and c.dropout_layers() == (False,) * 3
    assert [r.rule for r in c.applicability()] == ["residual_width"]


def test_applicability_rules():
    rules = applicability(
        ("rnn", "gru", "lstm"), 3, 5, 8, residual=True, layer_norm=True, dropout=0.1
    )
    by_rule = {r.rule: r for r in rules}
    assert by_rule["layer_norm_cells"].layers == (2, 3)
    assert "layers 2, 3 are gated (gru, lstm)" in by_rule["layer_norm_cells"].notice
    assert by_rule["residual_width"].layers == (1,)
    assert (
        "d = 5" in by_rule["residual_width"].notice and "h = 8" in by_rule["residual_width"].notice
    )
    assert "dropout_between_layers" not in by_rule
    one = applicability("rnn", 1, 8, 8, residual=True, dropout=0.5)
    assert [r.rule for r in one] == ["dropout_between_layers"]
    assert applicability("lstm", 4, 8, 8) == [], "nothing asked for, nothing to say"
    with pytest.raises(ValueError, match="layer_norm applies to rnn cells only"):
        RNNConfig(cell="gru", layer_norm=True)
