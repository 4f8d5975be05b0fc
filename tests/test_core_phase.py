"""The phase diagram, the measured sweep points and R^2."""

import numpy as np
import pytest

from deeprnn_core import RNNConfig, phase, theory


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
    from deeprnn_core.analysis import depth_sweep

    config = RNNConfig(num_layers=2, input_size=8, hidden_size=64)
    sweep = phase.predicted_sweep(config, 5, 1.0, 1.0, 1.0, 1.0, steps=20)
    for depth in (1, 3, 5):
        deep = RNNConfig(num_layers=depth, input_size=8, hidden_size=64)
        g = theory.predicted_grad_sq(deep, 1.0, 1.0, 1.0, 1.0, steps=20)
        assert sweep.corner[depth - 1] == pytest.approx(np.sqrt(g[0, 0] / g[-1, -1]), rel=1e-12)
        assert sweep.depth_only[depth - 1] == pytest.approx(np.sqrt(g[0, -1] / g[-1, -1]))
        assert sweep.time_only[depth - 1] == pytest.approx(np.sqrt(g[-1, 0] / g[-1, -1]))
    measured = depth_sweep(config, 5, range(6), 20, scheme="gaussian").quantiles()[1]
    gap = np.abs(np.log10(measured) - np.log10(sweep.corner))
    assert gap.max() < 0.5, f"predicted vs measured median differ by up to {gap.max():.2f} decades"
