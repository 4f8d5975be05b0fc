"""The A/B and gate figures show exactly the core's numbers (grad_hidden_norm_ratio,
gate_saturation, cell norms), mark inf / nan, share their ranges between the sides, and stay small.

Tolerances as in test_figures.py: float32 round trip, rtol 1e-6 on values and 1e-6 absolute
(plus rtol 1e-6) on log10 values.
"""

from __future__ import annotations

import numpy as np
import pytest

from app import figures
from app.figures.encoding import OVERFLOW_NAME
from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.analysis.summaries import (
    cell_norms,
    gate_saturation,
    grad_hidden_norm_ratio,
    param_grad_norms,
    stable_norm,
)
from deeprnn_core.data.signals import make_signal
from tests.figure_data import by_name, names, spec_traces, values

F32 = dict(rtol=1e-6, atol=0)
LOG = dict(rtol=1e-6, atol=1e-6)
LABELS = ("A: LSTM", "B: tanh RNN")


def run(cell="rnn", L=3, T=9, h=6, gain=1.0, activation="tanh", dtype="float64", **kw):
    config = RNNConfig(num_layers=L, input_size=4, hidden_size=h, cell=cell, activation=activation)
    model = Model.init(config, kw.pop("scheme", "torch"), gain, gain, seed=2)
    return trace(model, make_signal("noise", T, 2, 4, seed=2), dtype=dtype, **kw)


@pytest.fixture(scope="module")
def pair():
    return run("lstm"), run("rnn")


@pytest.fixture(scope="module")
def exploded():
    tr = run(L=3, T=120, h=16, activation="relu", gain=3.0, dtype="float32", scheme="gaussian")
    assert tr.nonfinite_grad.any()
    return tr


def sides(a, b):
    (_, ga), (_, gb) = cell_norms(a), cell_norms(b)
    return ga, gb, a.nonfinite_grad, b.nonfinite_grad


def test_ratio_heatmap_is_log10_of_the_cores_ratio(pair):
    a, b = pair
    ratio = grad_hidden_norm_ratio(a, b)
    ga, gb, bad_a, bad_b = sides(a, b)
    fig = figures.ratio_heatmap(ratio, ga, gb, bad_a, bad_b)
    heat = by_name(fig, "ratio")
    np.testing.assert_allclose(values(heat["z"]), np.log10(ratio), **LOG)
    custom = values(heat["customdata"])  # (L, T, 3): ratio, |G^A|, |G^B| for the hover
    np.testing.assert_allclose(custom[..., 0], ratio, **F32)
    np.testing.assert_allclose(custom[..., 1], ga, **F32)
    np.testing.assert_allclose(custom[..., 2], gb, **F32)
    assert heat["colorscale"][0][1] != heat["colorscale"][-1][1] and heat["zmid"] == 0
    assert heat["zmin"] == -heat["zmax"], "symmetric about 1"
    assert heat["zmax"] == pytest.approx(np.abs(np.log10(ratio)).max(), rel=1e-6)
    assert names(fig) == ["ratio"], "nothing marked when both sides are finite and nonzero"


def test_ratio_heatmap_marks_overflow_and_zeros(exploded):
    other = run(L=3, T=120, h=16)
    ratio = grad_hidden_norm_ratio(exploded, other)
    ga, gb, bad_a, bad_b = sides(exploded, other)
    fig = figures.ratio_heatmap(ratio, ga, gb, bad_a, bad_b)
    marked = values(by_name(fig, OVERFLOW_NAME)["z"]) == 1
    np.testing.assert_array_equal(marked, bad_a | bad_b)
    assert any(str(n).startswith(f"{OVERFLOW_NAME}: {marked.sum()} cells") for n in names(fig))
    z = values(by_name(fig, "ratio")["z"])
    assert np.isnan(z[marked]).all(), "no colour where a side overflowed"
    ratio = np.array([[0.0, 1.0, 10.0, np.nan]])  # a side exactly 0, or 0 / 0
    g = np.array([[0.0, 1.0, 1.0, 0.0]])
    none = np.zeros_like(g, bool)
    fig = figures.ratio_heatmap(ratio, g, g, none, none)
    undefined = values(by_name(fig, figures.ab_pairs.UNDEFINED_NAME)["z"]) == 1
    np.testing.assert_array_equal(undefined, [[True, False, False, True]])
    assert by_name(fig, "ratio")["zmax"] == pytest.approx(1.0)


def test_ratio_scale_stays_pale_when_the_sides_agree():
    ratio = np.ones((2, 3))
    fig = figures.ratio_heatmap(ratio, ratio, ratio, ratio < 0, ratio < 0)
    heat = by_name(fig, "ratio")
    assert heat["zmax"] == figures.ab_pairs.MIN_RATIO_DECADES and heat["zmid"] == 0
    assert "1" in heat["colorbar"]["ticktext"]


def test_grid_pair_shows_both_sides_on_one_colour_scale(pair, exploded):
    a, b = pair
    ga, gb, bad_a, bad_b = sides(a, b)
    fig = figures.grid_pair(ga, gb, bad_a, bad_b, LABELS)
    za, zb = values(by_name(fig, "A |G|")["z"]), values(by_name(fig, "B |G|")["z"])
    np.testing.assert_allclose(za, np.log10(ga), **LOG)
    np.testing.assert_allclose(zb, np.log10(gb), **LOG)
    assert {
        t.get("coloraxis") for t in spec_traces(fig) if t.get("name") in ("A |G|", "B |G|")
    } == {"coloraxis"}
    axis = fig.layout.coloraxis
    both = np.concatenate([za.ravel(), zb.ravel()])
    assert axis.cmin == pytest.approx(both.min(), abs=1e-5)
    assert axis.cmax == pytest.approx(both.max(), abs=1e-5)
    assert [a.text for a in fig.layout.annotations] == list(LABELS)
    ga, _, bad_a, _ = sides(exploded, exploded)
    fig = figures.grid_pair(ga, ga, bad_a, bad_a, LABELS)
    marks = [
        t for t in spec_traces(fig) if t.get("name") == OVERFLOW_NAME and t["type"] == "heatmap"
    ]
    assert len(marks) == 2 and all(((values(m["z"]) == 1) == bad_a).all() for m in marks)


def test_lines_and_params_pairs_are_each_sides_numbers(pair, exploded):
    a, b = pair
    ga, gb, bad_a, bad_b = sides(a, b)
    fig = figures.lines_pair(ga, gb, bad_a, bad_b, LABELS)
    for side, grad in (("A", ga), ("B", gb)):
        for l in range(1, grad.shape[0] + 1):
            np.testing.assert_allclose(
                values(by_name(fig, f"{side} l = {l}")["y"]), grad[l - 1], **F32
            )
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.matches == "y", "one shared y"
    for norms_a, norms_b in ((param_grad_norms(a), param_grad_norms(b)),):
        fig = figures.param_pair(norms_a, norms_b, LABELS)
        for key in ("W_xh", "W_hh"):
            np.testing.assert_allclose(values(by_name(fig, f"A {key}")["y"]), norms_a[key], **F32)
            np.testing.assert_allclose(values(by_name(fig, f"B {key}")["y"]), norms_b[key], **F32)
    ga, _, bad_a, _ = sides(exploded, exploded)
    fig = figures.lines_pair(ga, ga, bad_a, bad_a, LABELS)
    marks = [t for t in spec_traces(fig) if "inf / nan" in str(t.get("name"))]
    assert [m["name"] for m in marks] == [f"{s}: inf / nan ({bad_a.sum()})" for s in "AB"]
    assert all(len(values(m["x"])) == bad_a.sum() for m in marks)


@pytest.mark.parametrize("cell", ["lstm", "gru", ("gru", "rnn", "lstm")])
def test_gate_saturation_figure_is_the_cores(cell):
    tr = run(cell, L=3, T=12, gain=3.0, scheme="gaussian")
    saturation = gate_saturation(tr)
    fig = figures.saturation_heatmaps(saturation, tr.config.cells)
    for gate, fraction in saturation.items():
        z = values(by_name(fig, gate)["z"])
        np.testing.assert_allclose(z, fraction, **F32)  # nan rows stay nan
    absent = [t for t in spec_traces(fig) if t.get("name") == figures.gates.ABSENT_NAME]
    assert len(absent) == (0 if isinstance(cell, str) else 7), "each gate: the other layers"
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == 1
    assert any(0 < np.nanmean(v) for v in saturation.values()), "the test saturates something"


def test_gate_saturation_marks_overflowed_cells():
    fraction = np.array([[0.1, np.nan, 0.3], [np.nan, np.nan, np.nan]])  # layer 2 is a rnn
    saturation = {g: fraction for g in "ifgo"}
    fig = figures.saturation_heatmaps(saturation, ("lstm", "rnn"))
    marks = [values(t["z"]) == 1 for t in spec_traces(fig) if t.get("name") == OVERFLOW_NAME]
    assert len(marks) == 4
    np.testing.assert_array_equal(marks[0], [[False, True, False], [False, False, False]])


def test_cell_grad_lines_are_the_lstm_cell_gradients():
    tr = run(("rnn", "lstm", "lstm"), L=3)
    norms = stable_norm(tr.grad_cell_state, (2, 3))
    fig = figures.cell_grad_lines(norms, tr.config.cells)
    assert names(fig) == ["l = 2", "l = 3"], "only LSTM layers have a cell state"
    for l in (2, 3):
        np.testing.assert_allclose(values(by_name(fig, f"l = {l}")["y"]), norms[l - 1], **F32)
    norms[1, 3] = np.inf
    fig = figures.cell_grad_lines(norms, tr.config.cells)
    marks = [t for t in spec_traces(fig) if OVERFLOW_NAME in str(t.get("name"))]
    np.testing.assert_array_equal(values(marks[0]["x"]), [4])


def test_ab_figures_are_small_at_the_largest_grid():
    rng = np.random.default_rng(0)
    L, T = 32, 500
    ga, gb = 10.0 ** -rng.uniform(0, 30, (L, T)), 10.0 ** -rng.uniform(0, 30, (L, T))
    bad = np.zeros((L, T), bool)
    bad[5:, 400:] = True
    ga[bad] = np.inf
    with np.errstate(all="ignore"):
        ratio = ga / gb
    sizes = [
        len(figures.grid_pair(ga, gb, bad, bad, LABELS).to_json()),
        len(figures.ratio_heatmap(ratio, ga, gb, bad, bad).to_json()),
        len(figures.lines_pair(ga, gb, bad, bad, LABELS).to_json()),
    ]
    assert max(sizes) < 1_000_000, sizes
    saturation = {g: rng.random((L, T)) for g in "ifgo"}
    assert len(figures.saturation_heatmaps(saturation, ("lstm",) * L).to_json()) < 500_000
