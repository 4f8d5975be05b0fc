"""Theory figures: the data each one draws is the core's."""

import numpy as np
import pytest

from app.figures import grad_lines
from app.figures import theory as ft
from deeprnn_core import InitSpec, RNNConfig
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.theory import phase
from tests.figure_data import by_name, names, values

GAINS = np.round(np.arange(0.25, 3.0001, 0.25), 2)


def test_phase_figure_draws_the_diagram_the_line_and_the_points():
    diagram = phase.phase_diagram("tanh", GAINS, GAINS[:8], 0.01)
    config = RNNConfig(num_layers=2, hidden_size=8)
    points = phase.measured_phase_points(config, [(0.5, 0.5), (2.5, 1.0)], 10, [0], 2)
    fig = ft.phase_figure(diagram, (1.0, 0.75), points)
    for panel, chi in (("chi_h", diagram.chi_h), ("chi_x", diagram.chi_x)):
        heat = by_name(fig, panel)
        np.testing.assert_allclose(values(heat["z"]), np.log10(chi), atol=1e-6)
        np.testing.assert_allclose(values(heat["x"]), GAINS, atol=1e-6)
        np.testing.assert_allclose(values(heat["y"]), GAINS[:8], atol=1e-6)
    for panel in ("time", "depth"):
        line = by_name(fig, f"critical {panel}")
        np.testing.assert_allclose(
            values(line["z"]), np.log10(diagram.chi_total), atol=1e-6, err_msg="line at 0"
        )
        assert line["contours"]["start"] == line["contours"]["end"] == 0
        star = by_name(fig, f"current {panel}")
        assert (values(star["x"])[0], values(star["y"])[0]) == (1.0, 0.75)
    shown = values(by_name(fig, "measured depth")["customdata"])
    np.testing.assert_allclose(shown[:, 0], points.rate_depth, rtol=1e-6)
    np.testing.assert_allclose(shown[:, 1], points.predicted_depth, rtol=1e-6)
    symbols = by_name(fig, "measured time")["marker"]["symbol"]
    assert list(symbols) == [
        "triangle-up" if r > 1 else "triangle-down" for r in points.rate_time
    ], "the marker says which way the gradient went"
    pick = by_name(fig, "pick time")
    assert values(pick["x"]).max() <= GAINS.max() + 1e-6 and values(pick["x"]).size > 100


def test_phase_figure_without_points():
    diagram = phase.phase_diagram("relu", GAINS, GAINS, 0.0)
    fig = ft.phase_figure(diagram, (1.0, 1.0))
    assert not any("measured" in str(t.get("meta")) for t in fig.to_dict()["data"])


def test_predicted_lines_join_the_gradient_figure():
    measured = np.abs(np.random.default_rng(0).standard_normal((3, 6))) + 0.1
    predicted = measured * 2
    fig = grad_lines(measured, np.zeros((3, 6), bool))
    ft.add_predicted_lines(fig, predicted)
    for l in (1, 2, 3):
        np.testing.assert_allclose(values(by_name(fig, f"l = {l}")["y"]), measured[l - 1], 1e-6)
    assert "predicted (dashed)" in names(fig)
    dashed = [t for t in fig.to_dict()["data"] if t["line"].get("dash") == "dash"]
    assert len(dashed) == 3
    np.testing.assert_allclose(values(dashed[2]["y"]), predicted[2], rtol=1e-6)


def test_predicted_vs_measured_title_holds_r2():
    config = RNNConfig(num_layers=2, hidden_size=16)
    init = InitSpec("gaussian", 1.0, 1.0, 1.0)
    measured, moment = phase.measured_grad_sq(config, init, [0, 1], 8, 2)
    predicted = theory.predicted_grad_sq(config, init, moment, batch=2)
    r2 = phase.r_squared(predicted, measured)
    fig = ft.predicted_vs_measured(predicted, measured, r2, 2)
    assert f"R² = {r2:.3f}" in fig.layout.title.text
    for l in (1, 2):
        solid, dashed = by_name(fig, f"measured l = {l}"), by_name(fig, f"predicted l = {l}")
        np.testing.assert_allclose(values(solid["y"]), measured[l - 1], rtol=1e-6)
        np.testing.assert_allclose(values(dashed["y"]), predicted[l - 1], rtol=1e-6)
        assert dashed["line"]["dash"] == "dash" and solid["line"].get("dash") is None
    assert "predicted (dashed)" in names(fig), "one legend entry names the dashed lines"
    assert fig.layout.yaxis.type == "log"


def test_grid_colouring():
    measured, predicted = np.array([[1e-4, 1e-2]]), np.array([[1e-3, 1e-2]])
    z, title, diverging = ft.grid_colouring(measured, predicted, "prediction")
    np.testing.assert_allclose(z, [[-3, -2]], atol=1e-6)
    assert "predicted" in title and not diverging
    z, title, diverging = ft.grid_colouring(measured, predicted, "ratio")
    np.testing.assert_allclose(z, [[-1, 0]], atol=1e-6)
    assert "measured / predicted" in title and diverging
    with pytest.raises(ValueError, match="mode"):
        ft.grid_colouring(measured, predicted, "both")


def test_spectra_figure_panels_follow_the_cells():
    time, depth = np.full((2, 4), 0.5), np.full((2, 4), 2.0)
    fig = ft.spectra_figure(time, depth)
    assert [t["meta"] for t in fig.to_dict()["data"]] == ["time", "depth"]
    np.testing.assert_allclose(values(by_name(fig, "depth")["z"]), np.log10(depth), atol=1e-6)
    cell = np.array([[np.nan] * 4, [0.9] * 4])
    fig = ft.spectra_figure(time, depth, cell)
    np.testing.assert_allclose(values(by_name(fig, "cell")["customdata"])[1], 0.9, rtol=1e-6)


def test_predicted_sweep_joins_the_sweep_figure():
    from app.figures import sweep_figure

    config = RNNConfig(num_layers=1, hidden_size=16)
    predicted = phase.predicted_sweep(config, 4, InitSpec("gaussian"), 1.0, steps=10)
    quantiles = np.tile(predicted.corner, (3, 1))
    fig = sweep_figure(predicted.depths, quantiles, np.zeros(4), 3)
    ft.add_predicted_sweep(fig, predicted.depths, predicted.corner)
    line = by_name(fig, "predicted")
    np.testing.assert_allclose(values(line["y"]), predicted.corner, rtol=1e-6)
    np.testing.assert_allclose(values(line["x"]), [1, 2, 3, 4])


def test_predicted_sweep_curves_join_the_measures_figure():
    from app.figures import measures_figure

    config = RNNConfig(num_layers=1, hidden_size=16)
    p = phase.predicted_sweep(config, 3, InitSpec("gaussian"), 1.0, steps=5)
    fig = measures_figure(p.depths, {"corner": p.corner, "depth": p.depth_only}, {
        "corner": "corner", "depth": "depth"})  # fmt: skip
    for key, color in (("corner", "#4e79a7"), ("depth", "#e15759")):
        ft.add_predicted_sweep(fig, p.depths, p.measure(key, 5), f"predicted: {key}",
                               f"predicted {key}", color)  # fmt: skip
    line = by_name(fig, "predicted depth")
    assert line["name"] == "predicted: depth" and line["line"]["color"] == "#e15759"
    y = values(line["y"])
    assert np.isnan(y[0]), "no path at L = 1: a gap, as the measured median"
    np.testing.assert_allclose(y[1:], p.depth_only[1:], rtol=1e-6)
    assert line.get("xaxis", "x") == "x", "in the ratio panel"


def test_colour_grid_recolours_the_flow_cells():
    from app.figures import flow_grid

    rng = np.random.default_rng(1)
    hidden, grad = rng.uniform(0.1, 2, (3, 5)), rng.uniform(1e-6, 1, (3, 5))
    predicted = grad**2 * 100.0  # the run sits two decades below the prediction everywhere
    bad = np.zeros((3, 5), bool)
    for mode, want in (("prediction", predicted), ("ratio", np.full((3, 5), 0.01))):
        fig = flow_grid(hidden, grad, bad, bad, np.ones(5), np.ones(5), color_by="grad")
        ft.colour_grid(fig, (hidden, grad), grad**2, predicted, mode)
        cells = by_name(fig, "cells")
        np.testing.assert_allclose(values(cells["z"]), np.log10(want), atol=1e-5)
        custom = values(cells["customdata"])
        np.testing.assert_allclose(custom[..., 0], hidden, rtol=1e-6)
        np.testing.assert_allclose(custom[..., 2], want, rtol=1e-5)
        assert ft.THEORY_HOVER[mode] in cells["hovertemplate"]
        if mode == "ratio":
            assert cells["zmin"] == -cells["zmax"] == -2, "symmetric around 1, covering the data"
