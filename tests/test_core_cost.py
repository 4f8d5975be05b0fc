"""The cost model (engine.cost) and the core's refusals that it backs: memory is counted
from the engine's shapes, so what a Trace keeps must match its arrays exactly."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine.cost import num_params, sweep_cost, trace_cost
from deeprnn_core.trace import Cancelled

SHAPES = [  # (cell, L, T, B, h, dtype, layer_norm, dropout)
    ("rnn", 3, 40, 2, 16, "float64", False, 0.0),
    ("rnn", 2, 30, 1, 24, "float32", True, 0.3),
    ("gru", 3, 40, 3, 16, "float64", False, 0.0),
    ("lstm", 2, 30, 1, 24, "float32", False, 0.2),
    (("rnn", "lstm", "gru"), 3, 25, 2, 12, "float64", False, 0.0),
]


def kept_bytes(*objects) -> int:
    """Bytes of the distinct numpy buffers reachable from a Model and a Trace."""
    buffers, stack = {}, list(objects)
    while stack:
        obj = stack.pop()
        if isinstance(obj, np.ndarray):
            while isinstance(obj.base, np.ndarray):
                obj = obj.base
            buffers[id(obj)] = obj.nbytes
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return sum(buffers.values())


@pytest.mark.parametrize("cell, L, T, B, h, dtype, ln, p", SHAPES)
def test_memory_estimate_matches_what_a_trace_keeps_and_bounds_its_peak(
    cell, L, T, B, h, dtype, ln, p
):
    config = RNNConfig(
        num_layers=L, input_size=5, hidden_size=h, cell=cell, layer_norm=ln, dropout=p
    )
    x = make_signal("noise", T, B, 5, 0)
    tracemalloc.start()
    try:
        model = Model.init(config)
        tr = trace(model, x, dtype=dtype)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    cost = trace_cost(config, T, B, dtype)
    assert num_params(config) == model.num_params
    kept = kept_bytes(model, tr)
    assert abs(kept - cost.kept_bytes) <= 0.05 * kept, (kept, cost.kept_bytes)
    assert peak / 1.5 <= cost.peak_bytes <= 1.5 * peak, "peak within 1.5x"


def test_sweep_cost_grows_with_depth_and_seeds():
    c = RNNConfig(num_layers=2, hidden_size=16, cell="lstm")
    a, b = sweep_cost(c, 4, 3, 50), sweep_cost(c, 8, 3, 50)
    assert b.seconds > a.seconds and b.peak_bytes > a.peak_bytes
    assert sweep_cost(c, 4, 6, 50).peak_bytes > a.peak_bytes
    with pytest.raises(ValueError, match="max_layers"):
        sweep_cost(c, 0, 3, 50)


def test_a_huge_T_is_refused_before_allocating_naming_T():
    config = RNNConfig(num_layers=32, input_size=2, hidden_size=256)
    model = Model.init(config)
    x = np.zeros((100_000, 1, 2))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"T = 100000") as err:
            trace(model, x, memory_limit=8 << 30)
        assert tracemalloc.get_traced_memory()[1] < 64 << 20, "refused before allocating"
    finally:
        tracemalloc.stop()
    assert "GiB" in str(err.value)


def test_model_init_names_config_when_given_a_dict():
    with pytest.raises(TypeError, match="config must be an RNNConfig"):
        Model.init({"num_layers": 2})


def test_c0_without_an_lstm_layer_is_refused_naming_c0():
    model = Model.init(RNNConfig(num_layers=2, input_size=3, hidden_size=4, cell="gru"))
    x = make_signal("noise", 5, 1, 3, 0)
    with pytest.raises(ValueError, match="c0 is the LSTM cell state"):
        trace(model, x, c0=np.zeros((2, 1, 4)))


def test_cancel_stops_between_layers():
    model = Model.init(RNNConfig(num_layers=4, input_size=3, hidden_size=4))
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) >= 3  # the third layer boundary

    with pytest.raises(Cancelled):
        trace(model, make_signal("noise", 5, 1, 3, 0), cancel=cancel)
    assert len(calls) == 3
    assert trace(model, make_signal("noise", 5, 1, 3, 0), cancel=lambda: False).loss >= 0


def test_the_depth_scrub_costs_one_trace_at_one_layer_and_grows_with_depth():
    from deeprnn_core.engine.cost import scrub_seconds

    one = RNNConfig(1, 8, 64, 1, cell="lstm")
    assert scrub_seconds(one, 100, 2) == pytest.approx(trace_cost(one, 100, 2).seconds)
    times = [scrub_seconds(RNNConfig(L, 8, 64, 1), 100) for L in (2, 8, 32)]
    traces = [trace_cost(RNNConfig(L, 8, 64, 1), 100).seconds for L in (2, 8, 32)]
    assert times[0] < times[1] < times[2]
    assert all(t > tr for t, tr in zip(times, traces)), "every depth's backward costs more"


def test_the_spectra_cost_grows_with_the_run_and_the_gates():
    from deeprnn_core.engine.cost import spectra_seconds

    config = RNNConfig(4, 8, 32, 1)
    base = spectra_seconds(config, 50, 2)
    assert 0 < base < spectra_seconds(config, 100, 2) < spectra_seconds(config, 100, 4)
    for cell in ("gru", "lstm"):
        gated = RNNConfig(4, 8, 32, 1, cell=cell)
        assert spectra_seconds(gated, 50, 2) > base, f"{cell}: a (K, K) Gram per row, K > 1"
    with pytest.raises(ValueError, match="steps"):
        spectra_seconds(config, 0, 1)


def test_the_eigenvalue_cost_follows_what_each_cell_computes():
    """analysis.recurrence_eigen: a plain rnn layer solves an h x h eigenproblem (h^3, not T or
    B), a gated layer takes quantiles over every (t, b, unit), a GRU has no entry."""
    from deeprnn_core.engine.cost import eigen_seconds

    rnn = [eigen_seconds(RNNConfig(32, 8, h, 1), 500, 8) for h in (64, 256)]
    assert rnn[1] / rnn[0] == pytest.approx(64, rel=0.05), "h^3"
    assert eigen_seconds(RNNConfig(32, 8, 256, 1), 5, 1) == pytest.approx(rnn[1])
    assert 0.5 < rnn[1] < 2.0, "32 eigenproblems of 256 x 256: 0.83 s measured, profiled"
    lstm = [eigen_seconds(RNNConfig(8, 8, 64, 1, cell="lstm"), T, 2) for T in (50, 100)]
    assert lstm[1] > 1.9 * lstm[0] - 1e-3, "grows with T"
    gru = eigen_seconds(RNNConfig(8, 8, 64, 1, cell="gru"), 100, 2)
    assert gru < 1e-3, "no Cell.eigen: nothing computed"
    with pytest.raises(ValueError, match="steps"):
        eigen_seconds(RNNConfig(2, 8, 16, 1), 0, 1)


def test_the_weights_layout_is_the_part_of_a_trace_that_does_not_grow_with_t_or_b():
    from deeprnn_core.engine.cost import layout_seconds

    for cell in ("rnn", "gru", "lstm"):
        config = RNNConfig(3, 8, 16, 1, cell=cell)
        costs = [trace_cost(config, t, b) for t, b in ((1, 1), (50, 1), (50, 4))]
        assert all(c.layout_seconds == layout_seconds(config) > 0 for c in costs)
        assert costs[0].seconds < costs[1].seconds < costs[2].seconds
        assert all(c.seconds > c.layout_seconds for c in costs)
        wider = RNNConfig(3, 8, 32, 1, cell=cell)
        assert layout_seconds(wider) > layout_seconds(config), "more weights to lay out"
    sweep = sweep_cost(RNNConfig(2, 8, 16, 1), 6, 3, 20, scheme="orthogonal")
    assert 0 < sweep.draw_seconds + sweep.layout_seconds < sweep.seconds


def test_num_params_is_counted_once_per_architecture():
    """A training budget search prices thousands of candidate runs of a few architectures
    (the A/B page at L = 32 asked num_params 2,292 times, 1.9 s of its 3.9 s, profiled): each
    architecture's count is kept, and equals Model.num_params."""
    from deeprnn_core import Model
    from deeprnn_core.engine.cost import num_params

    config = RNNConfig(3, 5, 7, 2, cell="lstm")
    num_params.cache_clear()
    for _ in range(100):
        assert num_params(RNNConfig(3, 5, 7, 2, cell="lstm")) == Model.init(config).num_params
    info = num_params.cache_info()
    assert info.misses == 1 and info.hits == 99
