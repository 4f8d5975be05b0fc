"""Summaries the app draws (norms, attenuation, depth sweeps, timescales, cost) and the input
signals, each checked against a direct numpy computation or a known closed form."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from deeprnn_core import InitSpec, Model, RNNConfig, trace
from deeprnn_core.analysis.summaries import (
    attenuation,
    cell_norms,
    depth_sweep,
    flops_per_step,
    gate_saturation,
    grad_hidden_norm_ratio,
    layer_timescales,
    param_grad_norms,
    time_trace,
)
from deeprnn_core.data.signals import SIGNALS, make_signal
from deeprnn_core.engine.norms import stable_norm

CONFIG = RNNConfig(3, 4, 6, 2, cell=("rnn", "gru", "lstm"))


@pytest.fixture(scope="module")
def mixed_trace():
    model = Model.init(CONFIG, seed=0)
    x = make_signal("noise", 9, 3, 4, seed=0)
    return trace(model, x, np.ones((9, 3, 2)), "all")


# ---------------------------------------------------------------- norms


def test_cell_norms_are_frobenius_norms_over_batch_and_units(mixed_trace):
    hidden_norm, grad_hidden_norm = cell_norms(mixed_trace)
    assert hidden_norm.shape == grad_hidden_norm.shape == (3, 9)
    want_hidden = np.linalg.norm(mixed_trace.hidden, axis=(2, 3))
    want_grad = np.linalg.norm(mixed_trace.grad_hidden, axis=(2, 3))
    np.testing.assert_allclose(hidden_norm, want_hidden, rtol=1e-14)
    np.testing.assert_allclose(grad_hidden_norm, want_grad, rtol=1e-14)


@pytest.mark.parametrize(
    "values, expected",
    [
        ([3.0, -4.0], 5.0),
        ([0.0, 0.0], 0.0),
        ([1e200, -1e200], np.sqrt(2) * 1e200),  # a naive sum of squares is inf
        ([1e-200, 1e-200], np.sqrt(2) * 1e-200),  # ... and here 0
        ([1e200, 1.0], 1e200),
        ([np.inf, 1.0], np.inf),
        ([-np.inf, np.inf], np.inf),
        ([np.nan, 1.0], np.nan),
        ([np.nan, np.inf], np.nan),
    ],
)
def test_stable_norm_of_extreme_entries(values, expected):
    got = stable_norm(np.array([values, [1.0, 2.0]]), axis=1)
    np.testing.assert_allclose(got, [expected, np.sqrt(5.0)], rtol=1e-15)


def test_stable_norm_over_several_axes_and_all():
    a = np.random.default_rng(0).standard_normal((2, 3, 4)) * 1e150
    np.testing.assert_allclose(stable_norm(a, (1, 2)), np.linalg.norm(a, axis=(1, 2)), rtol=1e-14)
    whole = stable_norm(a * 1e100, None)
    assert np.ndim(whole) == 0
    np.testing.assert_allclose(whole, np.linalg.norm(a) * 1e100, rtol=1e-14)


def test_param_grad_norms(mixed_trace):
    norms = param_grad_norms(mixed_trace)
    for key, name in (("W_xh", "weight_ih"), ("W_hh", "weight_hh")):
        want = [np.linalg.norm(mixed_trace.param_grads[f"{name}_l{k}"]) for k in range(3)]
        np.testing.assert_allclose(norms[key], want, rtol=1e-14, err_msg=key)


def test_attenuation_is_first_over_last_gradient_norm(mixed_trace):
    grad = mixed_trace.grad_hidden
    want = np.linalg.norm(grad[0, 0]) / np.linalg.norm(grad[-1, -1])
    assert attenuation(mixed_trace) == pytest.approx(want, rel=1e-14)


def test_grad_norm_ratio_of_two_runs(mixed_trace):
    other = trace(Model.init(CONFIG, seed=1), mixed_trace.input, mixed_trace.target, "all")
    want = np.linalg.norm(mixed_trace.grad_hidden, axis=(2, 3)) / np.linalg.norm(
        other.grad_hidden, axis=(2, 3)
    )
    np.testing.assert_allclose(grad_hidden_norm_ratio(mixed_trace, other), want, rtol=1e-14)
    np.testing.assert_array_equal(grad_hidden_norm_ratio(other, other), np.ones((3, 9)))


def test_grad_norm_ratio_needs_equal_grids(mixed_trace):
    shorter = trace(Model.init(CONFIG, seed=0), mixed_trace.input[:5], loss_kind="all")
    with pytest.raises(ValueError, match=r"same \(L, T\).*got \(3, 9\) and \(3, 5\)"):
        grad_hidden_norm_ratio(mixed_trace, shorter)


# ---------------------------------------------------------------- gate saturation


@pytest.mark.parametrize("margin", [0.05, 0.2])
def test_gate_saturation_counts_units_near_the_rails(mixed_trace, margin):
    """Layer 2 is a GRU (r, z, n), layer 3 an LSTM (i, f, g, o); layer 1 has no gates (nan)."""
    got = gate_saturation(mixed_trace, margin)
    assert sorted(got) == sorted("rzn" + "ifgo")
    for name, fraction in got.items():
        assert fraction.shape == (3, 9)
        gate = mixed_trace.gates[name]
        if name in ("n", "g"):  # tanh candidates; the others are sigmoid gates
            saturated = np.abs(gate) > 1 - 2 * margin
        else:
            saturated = (gate < margin) | (gate > 1 - margin)
        layer = 1 if name in ("r", "z", "n") else 2
        np.testing.assert_array_equal(fraction[layer], saturated[layer].mean(axis=(1, 2)))
        others = [k for k in range(3) if k != layer]
        assert np.isnan(fraction[others]).all(), f"{name}: layers without the gate must be nan"


@pytest.mark.parametrize("input_gain, expected", [(1e-3, 0.0), (1e3, 1.0)])
def test_gate_saturation_extremes(input_gain, expected):
    """Tiny weights keep every gate at 1/2 (candidates at 0): nothing saturated. Huge input
    weights drive every pre-activation far from 0: everything saturated (up to a few units
    whose weighted inputs happen to cancel, hence the 0.9)."""
    config = RNNConfig(1, 4, 8, 1, cell="lstm")
    model = Model.init(
        config,
        scheme="gaussian",
        input_gain=input_gain,
        recurrent_gain=1e-3,
        bias_scale=0.0,
        seed=0,
    )
    tr = trace(model, make_signal("noise", 10, 4, 4, seed=0))
    for name, fraction in gate_saturation(tr).items():
        if expected == 0.0:
            np.testing.assert_array_equal(fraction, 0.0, err_msg=name)
        else:
            assert fraction.min() > 0.9, name


# ---------------------------------------------------------------- depth sweep


def at_depth(config: RNNConfig, layers: int) -> RNNConfig:
    """``config`` cut or extended to ``layers`` layers, per-layer settings extended by the last."""

    def fit(value):
        if isinstance(value, str):
            return value
        return tuple(value[:layers]) + (value[-1],) * (layers - len(value))

    fields = {**vars(config), "num_layers": layers}
    return RNNConfig(**{**fields, "cell": fit(config.cell), "activation": fit(config.activation)})


SWEEPS = {
    "rnn-noise-last": (
        RNNConfig(1, 3, 5, 1),
        dict(init=InitSpec("torch"), signal="noise", loss_kind="last"),
    ),
    "mixed-sine-all": (
        RNNConfig(2, 3, 5, 2, cell=("lstm", "gru"), dropout=0.3),
        dict(init=InitSpec("orthogonal", 1.2), signal="sine", loss_kind="all", batch=2),
    ),
    "relu-impulse": (
        RNNConfig(2, 3, 5, 1, activation=("relu", "identity")),
        dict(
            init=InitSpec("gaussian", input_gain=0.7, bias_scale=0.5),
            signal="impulse",
            loss_kind="all",
        ),
    ),
}


@pytest.mark.parametrize("name", list(SWEEPS))
def test_depth_sweep_equals_attenuation_of_each_depth(name):
    """The prefix property: the depth-L network of seed s is Model.init(config at depth L, s),
    so each entry of the sweep is the attenuation of a full trace of that network
    (rtol=1e-10: the sweep stacks the seeds, a trace runs one)."""
    config, kwargs = SWEEPS[name]
    seeds, steps, max_layers = [0, 5], 7, 4
    sweep = depth_sweep(config, max_layers, seeds, steps, **kwargs)
    np.testing.assert_array_equal(sweep.depths, [1, 2, 3, 4])
    np.testing.assert_array_equal(sweep.seeds, seeds)
    assert sweep.ratio.shape == (2, 4)

    batch = kwargs.get("batch", 1)
    for i, seed in enumerate(seeds):
        for layers in range(1, max_layers + 1):
            model = Model.init(at_depth(config, layers), replace(kwargs["init"], seed=seed))
            x = make_signal(kwargs["signal"], steps, batch, config.input_size, seed=seed)
            tr = trace(model, x, loss_kind=kwargs["loss_kind"], training=False)
            assert sweep.ratio[i, layers - 1] == pytest.approx(attenuation(tr), rel=1e-10), (
                f"seed {seed}, depth {layers}"
            )
            first, last = (
                np.linalg.norm(tr.grad_hidden[0, 0]),
                np.linalg.norm(tr.grad_hidden[-1, -1]),
            )
            assert sweep.grad_first[i, layers - 1] == pytest.approx(first, rel=1e-10)
            assert sweep.grad_last[i, layers - 1] == pytest.approx(last, rel=1e-10)


def test_depth_sweep_quantiles_over_seeds():
    sweep = depth_sweep(RNNConfig(1, 2, 4, 1), 3, range(7), 6)
    want = np.quantile(sweep.ratio, [0.1, 0.5, 0.9], axis=0)
    np.testing.assert_allclose(sweep.quantiles((0.1, 0.5, 0.9)), want, rtol=1e-14)
    np.testing.assert_array_equal(sweep.exploded, [0, 0, 0])


def test_depth_sweep_marks_overflowed_runs_as_nan():
    """relu with gain 8 in float32 overflows within 100 steps: the ratio is nan, counted as
    exploded, and the quantiles skip it (nan where every seed exploded)."""
    config = RNNConfig(1, 2, 8, 1, activation="relu")
    sweep = depth_sweep(config, 2, [0, 1, 2], 100, init=InitSpec("gaussian", 8.0), dtype="float32")
    exploded = ~np.isfinite(sweep.grad_first / sweep.grad_last)
    assert exploded.any(), "the configuration should overflow"
    assert np.isnan(sweep.ratio[exploded]).all()
    np.testing.assert_array_equal(sweep.exploded, exploded.sum(axis=0))
    median = sweep.quantiles((0.5,))[0]
    for depth in range(2):
        ok = ~exploded[:, depth]
        want = np.median(sweep.ratio[ok, depth]) if ok.any() else np.nan
        np.testing.assert_allclose(median[depth], want, rtol=1e-14)


def test_depth_sweep_progress_reaches_one():
    reported = []
    depth_sweep(RNNConfig(1, 2, 3, 1), 5, [0, 1], 4, progress=reported.append)
    assert len(reported) == 5
    assert all(a < b for a, b in zip(reported, reported[1:])), f"not increasing: {reported}"
    assert 0 < reported[0] and reported[-1] == 1.0


# ---------------------------------------------------------------- timescales


def linear_trace(recurrent: float, layers: int, signal: str, steps: int):
    """Identity activation, no bias, W_hh = recurrent * I: each unit is H_t = r H_{t-1} + input."""
    config = RNNConfig(layers, 2, 4, 1, activation="identity", bias=False)
    params = Model.init(config, scheme="identity", seed=3).params
    for k in range(layers):
        params[f"weight_hh_l{k}"] = recurrent * np.eye(4)
    return trace(Model(config, params), make_signal(signal, steps, 4, 2, seed=3))


@pytest.mark.parametrize("recurrent", [0.5, 0.8, 0.95])
def test_timescale_of_an_ar1_layer(recurrent):
    """Driven by white noise, H_t = r H_{t-1} + noise has lag-1 autocorrelation r and timescale
    -1/ln r; over 16 series of 3000 steps the estimate is within 0.03 of r (> 5 sigma)."""
    rho, tau = layer_timescales(linear_trace(recurrent, 2, "noise", 3000))
    assert rho.shape == tau.shape == (2,)
    assert rho[0] == pytest.approx(recurrent, abs=0.03)
    assert tau[0] == pytest.approx(-1 / np.log(rho[0]), rel=1e-12)
    assert rho[1] > rho[0], "a second low-pass layer is smoother than the first"


def test_timescale_of_an_oscillating_layer_is_zero():
    rho, tau = layer_timescales(linear_trace(-0.5, 1, "noise", 3000))
    assert rho[0] == pytest.approx(-0.5, abs=0.03)
    assert tau[0] == 0.0


def test_timescale_of_a_constant_or_short_layer_is_nan():
    """With W_hh = I and an impulse at t=1 the state holds X_1 W_xh forever: no variation to
    correlate. With T < 3 there is no lag-1 estimate at all."""
    held = linear_trace(1.0, 1, "impulse", 20)
    np.testing.assert_allclose(held.hidden[0], held.hidden[0, :1].repeat(20, axis=0), rtol=0)
    assert np.abs(held.hidden).max() > 0
    for tr in (held, linear_trace(0.5, 2, "noise", 2)):
        rho, tau = layer_timescales(tr)
        assert np.isnan(rho).all() and np.isnan(tau).all()


def test_timescale_of_huge_finite_states_is_the_same_as_of_small_ones():
    """rho is scale-free; states near 1e200 (relu at large gain) are finite, so their timescale
    is defined: it used to be nan, the products of centred states overflowing."""
    tr = linear_trace(0.8, 2, "noise", 500)
    huge = replace(tr, hidden=tr.hidden * 1e200)
    assert np.isfinite(huge.hidden).all()
    np.testing.assert_allclose(layer_timescales(huge)[0], layer_timescales(tr)[0], rtol=1e-12)


def test_timescale_of_an_overflowed_layer_is_nan():
    config = RNNConfig(1, 2, 8, 1, activation="relu")
    model = Model.init(config, scheme="gaussian", recurrent_gain=8.0, seed=0)
    tr = trace(model, make_signal("noise", 100, 2, 2, seed=0), dtype="float32")
    assert tr.nonfinite_hidden.any()
    rho, tau = layer_timescales(tr)
    assert np.isnan(rho).all() and np.isnan(tau).all()


# ---------------------------------------------------------------- cost


def test_flops_per_step():
    """2 x multiply-adds: per layer batch * gates * h * (n_in + h), plus the head batch * h * q."""
    config = RNNConfig(3, 5, 7, 2, cell=("rnn", "gru", "lstm"))
    rnn, gru, lstm = 1 * 7 * (5 + 7), 3 * 7 * (7 + 7), 4 * 7 * (7 + 7)
    assert flops_per_step(config, batch=3) == 2 * 3 * (rnn + gru + lstm + 7 * 2) == 4704
    assert flops_per_step(config) == 4704 // 3


def test_time_trace_is_a_positive_duration():
    model = Model.init(RNNConfig(2, 2, 4, 1))
    seconds = time_trace(model, make_signal("noise", 5, 1, 2), repeats=2, loss_kind="all")
    assert isinstance(seconds, float) and 0 < seconds < 10


# ---------------------------------------------------------------- signals


@pytest.mark.parametrize("kind", SIGNALS)
def test_signal_shape_and_determinism(kind):
    x = make_signal(kind, 11, 3, 5, seed=4)
    assert x.shape == (11, 3, 5) and x.dtype == np.float64
    assert np.isfinite(x).all()
    np.testing.assert_array_equal(make_signal(kind, 11, 3, 5, seed=4), x)
    if kind in ("noise", "sine"):
        assert not np.array_equal(make_signal(kind, 11, 3, 5, seed=5), x), "seed has no effect"


def test_impulse_and_step_values():
    impulse = make_signal("impulse", 6, 2, 3)
    np.testing.assert_array_equal(impulse[0], np.ones((2, 3)))
    np.testing.assert_array_equal(impulse[1:], np.zeros((5, 2, 3)))
    step = make_signal("step", 7, 2, 3)  # middle step t = 4 (index 7 // 2 = 3)
    np.testing.assert_array_equal(step[:3], np.zeros((3, 2, 3)))
    np.testing.assert_array_equal(step[3:], np.ones((4, 2, 3)))


def test_sine_periods_span_8_to_32_steps():
    x = make_signal("sine", 80, 2, 3, seed=1)
    assert np.abs(x).max() <= 1.0
    np.testing.assert_allclose(x[8:, :, 0], x[:-8, :, 0], atol=1e-12)  # period 8
    np.testing.assert_allclose(x[20:, :, 1], x[:-20, :, 1], atol=1e-12)  # period 20
    np.testing.assert_allclose(x[32:, :, 2], x[:-32, :, 2], atol=1e-12)  # period 32


def test_noise_is_standard_normal():
    x = make_signal("noise", 200, 10, 10, seed=0)  # 20000 draws: mean within 5 sigma = 0.035
    assert abs(x.mean()) < 0.035 and abs(x.std() - 1) < 0.03
