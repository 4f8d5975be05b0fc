"""The phase diagram, the measured sweep points and R^2."""

import numpy as np
import pytest

from deeprnn_core import InitSpec, RNNConfig
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.theory import phase


def test_phase_diagram_is_the_stationary_chi_on_a_grid():
    gains = np.linspace(0.2, 2.5, 7)
    diagram = phase.phase_diagram("tanh", gains, gains[:5], 0.01)
    assert diagram.chi_h.shape == (5, 7)
    q, chi_h, chi_x = theory.stationary("tanh", gains[3], gains[1], 0.01)
    assert diagram.chi_h[1, 3] == pytest.approx(chi_h, rel=1e-12)
    assert diagram.chi_x[1, 3] == pytest.approx(chi_x, rel=1e-12)
    np.testing.assert_allclose(diagram.chi_total, diagram.chi_h + diagram.chi_x)
    with pytest.raises(ValueError, match="sigma_h"):
        phase.phase_diagram("tanh", [], gains)


def test_measured_rates_have_the_predicted_sign_away_from_the_line():
    """Done means: at each measured point the sign of log(factor per step) matches the
    prediction's, away from the line (here: where the predicted |ln chi| > 0.15)."""
    config = RNNConfig(num_layers=4, input_size=8, hidden_size=64)
    gains = (0.5, 1.0, 1.6, 2.4)
    points = [(a, b) for a in gains for b in gains]
    measured = phase.measured_phase_points(config, points, 30, [0, 1, 2], 4)
    sb2 = theory.bias_variance(config, 1.0)
    _, chi_h, chi_x = theory.stationary("tanh", measured.sigma_h, measured.sigma_x, sb2)
    checked = 0
    for got, want in ((measured.rate_time, chi_h), (measured.rate_depth, chi_x)):
        away = np.abs(np.log(want)) > 0.15
        assert np.all(np.sign(np.log(got[away])) == np.sign(np.log(want[away]))), (got, want)
        checked += away.sum()
    assert checked >= 20, f"only {checked} points away from the line"
    assert np.all(np.abs(np.log(measured.predicted_time / chi_h)) < 0.2)


def test_r_squared():
    measured = np.array([[1e-4, 1e-2], [1e-3, 1.0]])
    assert phase.r_squared(measured * 7, measured) == pytest.approx(1.0)
    assert phase.r_squared(measured * 7, measured, normalize=False) < 1.0
    with_nan = measured.copy()
    with_nan[0, 0] = np.inf
    assert phase.r_squared(with_nan, measured) == pytest.approx(1.0)


def test_predicted_sweep_is_the_prediction_at_each_depth_and_tracks_the_measured_sweep():
    from deeprnn_core.analysis.summaries import depth_sweep

    config = RNNConfig(num_layers=2, input_size=8, hidden_size=64)
    init = InitSpec("gaussian", 1.0, 1.0, 1.0)
    sweep = phase.predicted_sweep(config, 5, init, 1.0, steps=20)
    for depth in (1, 3, 5):
        deep = RNNConfig(num_layers=depth, input_size=8, hidden_size=64)
        g = theory.predicted_grad_sq(deep, init, 1.0, steps=20)
        assert sweep.corner[depth - 1] == pytest.approx(np.sqrt(g[0, 0] / g[-1, -1]), rel=1e-12)
        assert sweep.depth_only[depth - 1] == pytest.approx(np.sqrt(g[0, -1] / g[-1, -1]))
        assert sweep.time_only[depth - 1] == pytest.approx(np.sqrt(g[-1, 0] / g[-1, -1]))
    measured = depth_sweep(config, 5, range(6), 20, init=init).quantiles()[1]
    gap = np.abs(np.log10(measured) - np.log10(sweep.corner))
    assert gap.max() < 0.5, f"predicted vs measured median differ by up to {gap.max():.2f} decades"


def test_predicted_sweep_measure_follows_the_measured_paths():
    """measure(key, T): the ratio, or ratio ** (1 / path_steps) for a rate; nan without a path
    (depth measures at L = 1, time measures at T = 1); the weight ratios are not predicted."""
    config = RNNConfig(num_layers=1, hidden_size=16)
    p = phase.predicted_sweep(config, 4, InitSpec("gaussian", 1.2, 0.9, 1.0), 1.0, steps=6)
    np.testing.assert_array_equal(p.measure("corner", 6), p.corner)
    depth = p.measure("depth", 6)
    assert np.isnan(depth[0]) and np.allclose(depth[1:], p.depth_only[1:], rtol=0)
    np.testing.assert_allclose(
        p.measure("depth_rate", 6)[1:], p.depth_only[1:] ** (1 / np.arange(1, 4))
    )
    np.testing.assert_allclose(p.measure("time_rate", 6), p.time_only ** (1 / 5))
    np.testing.assert_allclose(p.measure("corner_rate", 6), p.corner ** (1 / (5 + np.arange(4))))
    one_step = phase.predicted_sweep(config, 2, InitSpec("gaussian"), 1.0, steps=1)
    assert np.isnan(one_step.measure("time", 1)).all()
    with pytest.raises(ValueError, match="key must be one of"):
        p.measure("w_hh", 6)
