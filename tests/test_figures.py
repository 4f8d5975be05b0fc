"""Every figure shows exactly the numbers the core computed, marks inf / nan, and stays small.

Figures are read back from their JSON (what the browser receives: float32 typed arrays where
the values fit), so the tolerance is float32's: rtol 1e-6 on values, 1e-6 absolute on log10.
"""

from __future__ import annotations

import numpy as np
import pytest

from app import figures
from app.figures.encoding import OVERFLOW_COLOR, compact, log_ticks
from app.runs import export
from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.analysis.summaries import (
    DepthSweep,
    attenuation,
    cell_norms,
    layer_timescales,
    param_grad_norms,
    stable_norm,
)
from deeprnn_core.data.signals import make_signal
from tests.figure_data import by_name, names, spec_traces, values

F32 = dict(rtol=1e-6, atol=0)  # float32 round trip of a float64 value


def run(L=3, T=7, h=5, B=2, activation="tanh", gain=1.0, dtype="float64", scheme="torch"):
    config = RNNConfig(num_layers=L, input_size=4, hidden_size=h, activation=activation)
    model = Model.init(config, scheme, recurrent_gain=gain, input_gain=gain, seed=1)
    return trace(model, make_signal("noise", T, B, 4, seed=1), dtype=dtype)


@pytest.fixture(scope="module")
def small():
    return run()


@pytest.fixture(scope="module")
def exploded():
    tr = run(L=3, T=120, h=16, activation="relu", gain=3.0, dtype="float32", scheme="gaussian")
    assert tr.overflow is not None and tr.nonfinite_grad.any()
    return tr


def flow_of(tr, **kwargs):
    hidden_norm, grad_hidden_norm = cell_norms(tr)
    return figures.flow_grid(
        hidden_norm,
        grad_hidden_norm,
        tr.nonfinite_hidden,
        tr.nonfinite_grad,
        stable_norm(tr.input, (1, 2)),
        stable_norm(tr.output, (1, 2)),
        **kwargs,
    )


@pytest.mark.parametrize("color_by", ["hidden", "grad"])
def test_flow_grid_colours_are_the_cell_norms(small, color_by):
    hidden_norm, grad_hidden_norm = cell_norms(small)
    fig = flow_of(small, color_by=color_by)
    z = values(by_name(fig, "cells")["z"])
    expected = np.log10(hidden_norm if color_by == "hidden" else grad_hidden_norm)
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-6, err_msg="z = log10 |.|")
    picker = by_name(fig, "cell picker")
    L, T = hidden_norm.shape
    x, y = values(picker["x"]), values(picker["y"])
    np.testing.assert_array_equal(x, np.tile(np.arange(1, T + 1), L))  # row-major (l, t)
    np.testing.assert_array_equal(y, np.repeat(np.arange(1, L + 1), T))
    both = values(picker["customdata"])
    np.testing.assert_allclose(both[:, 0], hidden_norm.ravel(), **F32)
    np.testing.assert_allclose(both[:, 1], grad_hidden_norm.ravel(), **F32)
    hover = values(by_name(fig, "cells")["customdata"])  # (L, T, 2): every cell's hover
    np.testing.assert_allclose(hover[..., 0], hidden_norm, **F32)
    np.testing.assert_allclose(hover[..., 1], grad_hidden_norm, **F32)
    assert [s.name for s in fig.layout.shapes] == ["arrows"]
    assert "inf / nan (overflow)" not in names(fig)


def test_flow_grid_thins_the_clickable_points_on_big_grids():
    L, T = 16, 200
    norms = np.arange(1, L * T + 1, dtype=np.float64).reshape(L, T)
    fig = figures.flow_grid(norms, norms * 2, norms < 0, norms < 0, np.ones(T), np.ones(T), "grad")
    stride = figures.picker_stride(L, T)
    assert stride == 6
    picker = by_name(fig, "cell picker")
    t_picked = np.arange(1, T + 1, stride)
    np.testing.assert_array_equal(values(picker["x"]), np.tile(t_picked, L))
    np.testing.assert_allclose(values(picker["customdata"])[:, 1], (norms * 2)[:, ::stride].ravel())
    assert not fig.layout.shapes, "no arrows when a step is too narrow to read them"


def test_flow_grid_rows_show_input_and_output_norms(small):
    fig = flow_of(small)
    np.testing.assert_allclose(
        values(by_name(fig, "X_t")["customdata"]).ravel(), stable_norm(small.input, (1, 2)), **F32
    )
    np.testing.assert_allclose(
        values(by_name(fig, "O_t")["customdata"]).ravel(), stable_norm(small.output, (1, 2)), **F32
    )


def test_flow_grid_marks_overflow(exploded):
    fig = flow_of(exploded, color_by="grad")
    marked = values(by_name(fig, "inf / nan (overflow)")["z"])
    np.testing.assert_array_equal(marked == 1, exploded.nonfinite_grad)
    legend = [t for t in spec_traces(fig) if str(t.get("name", "")).startswith("inf / nan")]
    assert any(
        t.get("marker", {}).get("color") == OVERFLOW_COLOR and t.get("showlegend") for t in legend
    ), "a legend entry in the overflow colour"
    # the hover data keeps inf / nan as the core computed them, not dropped
    both = values(by_name(fig, "cell picker")["customdata"])
    _, grad_hidden_norm = cell_norms(exploded)
    np.testing.assert_array_equal(np.isnan(both[:, 1]), np.isnan(grad_hidden_norm.ravel()))


def test_flow_grid_is_small_at_the_largest_grid():
    rng = np.random.default_rng(0)
    L, T = 32, 500
    hidden_norm, grad_hidden_norm = rng.random((L, T)) + 0.1, 10.0 ** -rng.uniform(0, 30, (L, T))
    bad = np.zeros((L, T), bool)
    bad[5:, 400:] = True
    grad_hidden_norm[bad] = np.inf
    fig = figures.flow_grid(
        hidden_norm, grad_hidden_norm, bad, bad, np.ones(T), np.ones(T), "grad",
        lit=figures.lit_mask(L, T, 20_000)[0], current=(3, 4), selected=(1, 1),
    )  # fmt: skip
    assert len(fig.data) <= 10, "a handful of traces, never one per cell"
    assert len(values(by_name(fig, "cell picker")["x"])) <= 600, "a bounded number of points"
    assert len(fig.to_json()) < 1_000_000, "typed float32 arrays keep the payload small"


def test_lit_mask_follows_the_cores_order():
    L, T = 3, 4
    lit, phase, last = figures.lit_mask(L, T, 6)  # layer 1 all 4 steps, layer 2 steps 1-2
    assert phase == "forward" and last == (2, 2)
    assert lit[0].all() and lit[1, :2].all() and not lit[1, 2:].any() and not lit[2].any()
    lit, phase, last = figures.lit_mask(L, T, L * T + 5)  # layer 3 all, layer 2 t = 4
    assert phase == "backward" and last == (4, 2)
    assert lit[2].all() and lit[1, 3] and not lit[1, :3].any() and not lit[0].any()
    assert figures.lit_mask(L, T, 0)[0].sum() == 0
    assert figures.lit_mask(L, T, 2 * L * T)[0].all()


def test_cell_vectors_are_the_traced_vectors(small, exploded):
    fig_h, fig_g = figures.cell_vectors(small.hidden[1, 3, 1], small.grad_hidden[1, 3, 1], 4, 2, 2)
    np.testing.assert_allclose(values(by_name(fig_h, "H")["y"]), small.hidden[1, 3, 1], **F32)
    np.testing.assert_allclose(values(by_name(fig_g, "G")["y"]), small.grad_hidden[1, 3, 1], **F32)
    l, t = np.argwhere(exploded.nonfinite_grad)[0]
    vec = exploded.grad_hidden[l, t, 0]
    _, fig_g = figures.cell_vectors(exploded.hidden[l, t, 0], vec, t + 1, l + 1, 1)
    marks = values(by_name(fig_g, "overflow G")["x"])
    np.testing.assert_array_equal(marks, np.flatnonzero(~np.isfinite(vec)) + 1)


def test_hidden_heatmaps_are_the_hidden_states(small, exploded):
    layers = (1, 3)
    fig = figures.hidden_heatmaps(small.hidden[[0, 2], :, 1, :], layers, sample=2)
    for l in layers:
        z = values(by_name(fig, f"H^({l})")["z"])
        np.testing.assert_allclose(z, small.hidden[l - 1, :, 1, :].T, **F32)  # (h, T)
    assert {t.get("coloraxis") for t in spec_traces(fig) if t["type"] == "heatmap"} == {
        "coloraxis"
    }, "one shared colour scale"
    fig = figures.hidden_heatmaps(exploded.hidden[:, :, 0, :], (1, 2, 3), sample=1)
    marked = [
        values(t["z"]) == 1 for t in spec_traces(fig) if t.get("name") == "inf / nan (overflow)"
    ]
    expected = ~np.isfinite(exploded.hidden[:, :, 0, :])
    assert sum(int(m.sum()) for m in marked) == int(expected.sum()) > 0


def test_timescale_bars_are_layer_timescales(small, exploded):
    rho, tau = layer_timescales(small)
    fig = figures.timescale_bars(rho, tau)
    np.testing.assert_allclose(values(by_name(fig, "rho")["y"]), rho, **F32)
    np.testing.assert_allclose(values(by_name(fig, "timescale")["y"]), tau, **F32)
    rho, tau = layer_timescales(exploded)
    fig = figures.timescale_bars(rho, tau)
    marks = [t for t in spec_traces(fig) if str(t.get("name")).startswith("∞ or undefined")]
    assert len(values(marks[0]["x"])) == int((~np.isfinite(tau)).sum()) > 0


def test_grad_lines_are_the_gradient_norms(small, exploded):
    _, grad_hidden_norm = cell_norms(small)
    fig = figures.grad_lines(grad_hidden_norm, small.nonfinite_grad)
    for l in range(1, grad_hidden_norm.shape[0] + 1):
        np.testing.assert_allclose(
            values(by_name(fig, f"l = {l}")["y"]), grad_hidden_norm[l - 1], **F32
        )
    assert fig.layout.yaxis.type == "log"
    _, grad_hidden_norm = cell_norms(exploded)
    fig = figures.grad_lines(grad_hidden_norm, exploded.nonfinite_grad)
    marks = [t for t in spec_traces(fig) if str(t.get("name")).startswith("inf / nan")]
    assert len(marks) == 1 and f"{exploded.nonfinite_grad.sum()} cells" in marks[0]["name"]
    assert len(values(marks[0]["x"])) == exploded.nonfinite_grad.sum()


def test_grad_lines_keep_tiny_gradients_exact():
    grad_hidden_norm = np.array([[1e-300, 1e-45, 1.0]])  # below float32's range: sent as float64
    fig = figures.grad_lines(grad_hidden_norm, np.zeros((1, 3), bool))
    np.testing.assert_array_equal(values(by_name(fig, "l = 1")["y"]), grad_hidden_norm[0])
    assert compact(np.array([1e300])).dtype == np.float64
    assert compact(np.array([1.0, np.inf])).dtype == np.float32


def test_param_grad_bars_are_param_grad_norms(small, exploded):
    norms = param_grad_norms(small)
    fig = figures.param_grad_bars(norms)
    for key in ("W_xh", "W_hh"):
        np.testing.assert_allclose(values(by_name(fig, key)["y"]), norms[key], **F32)
    assert fig.layout.yaxis.type == "log"
    fig = figures.param_grad_bars(param_grad_norms(exploded))
    assert len(values(by_name(fig, "inf / nan (overflow)")["x"])) == 6  # 3 layers x 2, all nan


def test_sweep_figure_is_the_depth_sweep_quantiles():
    first = np.array([[1e-3, 1e-6, np.inf], [2e-3, 3e-6, 1e-9], [4e-3, 1e-5, 1e-8]])
    sweep = DepthSweep(np.arange(1, 4), np.arange(3), first, np.ones((3, 3)))
    q = sweep.quantiles()
    fig = figures.sweep_figure(sweep.depths, q, sweep.exploded, 3)
    np.testing.assert_allclose(values(by_name(fig, "median")["y"]), q[1], **F32)
    np.testing.assert_allclose(values(by_name(fig, "25-75% of seeds")["y"]), q[0], **F32)
    np.testing.assert_allclose(values(by_name(fig, "75%")["y"]), q[2], **F32)
    marks = by_name(fig, "inf / nan (overflow)")
    np.testing.assert_array_equal(values(marks["x"]), [3])
    assert fig.layout.yaxis.type == "log"


def test_attenuation_words_match_the_core(small, exploded):
    ratio = attenuation(small)
    value, sentence = figures.attenuation_words(ratio, 3, 7)
    assert value == f"{ratio:.2e}" and f"10^{{{np.log10(ratio):.1f}}}" in sentence
    assert ("Vanishing" if ratio < 1 else "Exploding") in sentence
    assert "Exploding" in figures.attenuation_words(1e5, 3, 7)[1]
    assert figures.attenuation_words(attenuation(exploded), 3, 120)[0] == "undefined"
    assert figures.attenuation_words(0.0, 3, 7)[0] == "0"


def test_log_ticks_label_the_values():
    ticks = log_ticks(np.log10(np.array([0.5, 3.0])))
    assert ticks["ticktext"][0] == "0.5" and "2" in ticks["ticktext"]
    ticks = log_ticks(np.array([-12.3, -0.2]))
    assert all(t.startswith("1e") or t == "1" for t in ticks["ticktext"])


def test_exports_hold_the_trace(small, exploded):
    import io

    arrays = {"settings": np.array("L=3"), **export.trace_arrays(exploded)}
    data = np.load(io.BytesIO(export.npz_bytes(arrays)))
    np.testing.assert_array_equal(data["grad_hidden"], exploded.grad_hidden)
    name = "weight_hh_l1"
    np.testing.assert_array_equal(data[f"param_grads/{name}"], exploded.param_grads[name])
    assert str(data["settings"]) == "L=3"
    hidden_norm, grad_hidden_norm = cell_norms(small)
    csv = export.norms_table(
        hidden_norm, grad_hidden_norm, small.nonfinite_hidden, small.nonfinite_grad
    )
    rows = [line.split(",") for line in csv.strip().splitlines()[1:]]
    assert len(rows) == hidden_norm.size
    t, l, h_norm, g_norm = rows[8][:4]  # row-major: l = 2, t = 2 when T = 7
    assert float(h_norm) == hidden_norm[int(l) - 1, int(t) - 1]
    assert float(g_norm) == grad_hidden_norm[int(l) - 1, int(t) - 1]


def test_flow_grid_marks_exact_zeros():
    norms = np.array([[1.0, 0.0, 2.0]])
    fig = figures.flow_grid(norms, norms, norms < 0, norms < 0, np.ones(3), np.ones(3), "grad")
    np.testing.assert_array_equal(values(by_name(fig, "exactly 0")["z"]) == 1, norms == 0)
    assert any(str(t.get("name")).startswith("exactly 0: 1 cells") for t in spec_traces(fig))


def test_parameter_gradients_are_markers_not_bars_on_the_log_axis(small):
    """Issue 17: bars on a log axis start at the axis's lower edge (~0.15 there), so 3x looked
    like 10x. A marker's height is its value: every W_xh / W_hh trace is markers."""
    fig = figures.param_grad_bars(param_grad_norms(small))
    assert fig.layout.yaxis.type == "log"
    assert not [t for t in fig.data if t.type == "bar"], "no bar on a log axis"
    for key in ("W_xh", "W_hh"):
        trace = by_name(fig.to_plotly_json(), key)
        assert trace["type"] == "scatter" and trace["mode"] == "markers"
    xh, hh = (values(by_name(fig.to_plotly_json(), k)["x"]) for k in ("W_xh", "W_hh"))
    assert (xh < np.arange(1, xh.size + 1)).all() and (hh > np.arange(1, hh.size + 1)).all(), (
        "W_xh and W_hh side by side at each layer"
    )


def test_overflow_marks_sit_on_a_labelled_row_not_at_a_value(exploded):
    """Issue 17: with nothing finite the inf / nan marks sat at y = 1 of a log axis, where they
    read as a gradient of 1. They sit on a dotted row labelled as off the scale, and an axis with
    no finite value shows no numbers."""
    fig = figures.param_grad_bars(param_grad_norms(exploded))
    marks = by_name(fig.to_plotly_json(), "inf / nan (overflow)")
    row = set(values(marks["y"]).tolist())
    assert len(row) == 1
    assert [a.text for a in fig.layout.annotations] == [figures.gradients.OFF_SCALE]
    assert [s.y0 for s in fig.layout.shapes] == [row.pop()]
    assert fig.layout.yaxis.showticklabels is False, "no finite value: no scale to read"
    grad = np.array([[1e-3, np.inf, 1e-2], [np.nan, 2e-4, 3e-3]])  # some cells overflowed
    fig = figures.grad_lines(grad, ~np.isfinite(grad))
    height = figures.gradients.top(grad)
    assert fig.layout.shapes[0].y0 == height > 1e-2, "above every finite value"
    assert fig.layout.annotations[0].y == pytest.approx(np.log10(height)), "log units"
    assert fig.layout.yaxis.showticklabels is not False


def test_a_thinned_overflow_legend_says_every_nth_in_english():
    ordinal = figures.gradients.ordinal
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 112)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st",
        "112th",
    ]  # fmt: skip
    grad = np.full((2, 1500), np.inf)  # 3000 cells: every 2nd of them marked
    fig = figures.grad_lines(grad, np.ones_like(grad, bool))
    name = next(t.name for t in fig.data if str(t.name).startswith("inf / nan"))
    assert "every 2nd marked" in name and "2th" not in name, name


def test_overflow_marks_above_float32s_range_are_still_drawn():
    """The marks sit 10x above the largest finite value: above 3.4e38 they were cast to float32
    inf, and plotly drew no mark at all (seen at relu, g = 3, L = 8: 128 cells unmarked)."""
    grad = np.array([[5e38, np.inf, 1e30]])
    fig = figures.grad_lines(grad, ~np.isfinite(grad))
    marks = values(by_name(fig.to_plotly_json(), "inf / nan (overflow): 1 cells")["y"])
    assert np.isfinite(marks).all() and marks[0] == pytest.approx(5e39)


@pytest.mark.parametrize(
    "L, T, case",
    [(4, 50, "plain"), (4, 50, "overflow"), (3, 7, "walk"), (1, 1, "plain"), (45, 210, "zero")],
)
def test_figures_built_without_validation_equal_their_validated_copies(L, T, case):
    """The landing page's figures skip plotly's validators (encoding.build_plain): what the
    browser receives must be what validation would have sent, key for key (a misspelt key or a
    shorthand validation expands would differ here)."""
    import json

    import plotly.graph_objects as go

    rng = np.random.default_rng(L * 1000 + T)
    h, g = rng.random((L, T)) + 0.1, 10.0 ** rng.uniform(-30, 2, (L, T))
    bad = np.zeros((L, T), bool)
    if case == "overflow":
        bad[0, : T // 2], g[0, : T // 2] = True, np.inf
    if case == "zero":
        g[:, 0] = 0.0
    lit, current = (rng.random((L, T)) > 0.5, (2, 1)) if case == "walk" else (None, None)
    cells = ("rnn", "gru", "lstm", "lru")[: min(L, 4)] + ("rnn",) * max(0, L - 4)
    grid = figures.flow_grid(h, g, bad, bad, rng.random(T), rng.random(T), color_by="grad",
                             lit=lit, current=current, selected=(1, 1), cells=cells)  # fmt: skip
    vec = rng.normal(size=8)
    vec[2] = np.nan if case == "overflow" else vec[2]
    for fig in (grid, *figures.cell_vectors(vec, rng.normal(size=8), 1, 1, 1)):
        assert json.loads(fig.to_json()) == json.loads(go.Figure(fig.to_dict()).to_json())
