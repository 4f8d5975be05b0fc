"""What a new user hit on the figures (issue 10, item 6): empty or silent displays at T = 1,
at rho <= 0 and at 0 % gate saturation; and the depth-scrub figure's frames and budget."""

from __future__ import annotations

import numpy as np

from app import figures
from app.figures.scrub import FRAME_BYTES, kept_steps, scrub_figure, time_stride
from app.views.hidden_states import timescale_words
from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.analysis.summaries import cell_norms, layer_timescales
from deeprnn_core.data.signals import make_signal
from tests.figure_data import by_name, names, spec_traces, values


def one_step_trace(cell="rnn"):
    model = Model.init(RNNConfig(3, 4, 5, cell=cell), seed=0)
    return trace(model, make_signal("noise", 1, 2, 4, seed=0))


def test_grad_lines_draw_a_point_at_one_step():
    tr = one_step_trace()
    fig = figures.grad_lines(cell_norms(tr)[1], tr.nonfinite_grad)
    lines = [t for t in fig.data if t.name.startswith("l = ")]
    assert len(lines) == 3 and all("markers" in t.mode for t in lines), "one point, visible"


def test_cell_grad_lines_draw_a_point_at_one_step():
    tr = one_step_trace("lstm")
    from deeprnn_core.engine.norms import stable_norm

    fig = figures.cell_grad_lines(stable_norm(tr.grad_cell_state, (2, 3)), tr.config.cells)
    assert all("markers" in t.mode for t in fig.data)


def test_timescale_legend_sits_above_the_subplot_titles_at_one_step():
    rho, tau = layer_timescales(one_step_trace())
    assert np.isnan(tau).all(), "T < 3: undefined timescales, shown with a legend entry"
    fig = figures.timescale_bars(rho, tau)
    assert fig.layout.showlegend
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 1
    assert fig.layout.margin.t >= 40 + 28, "a strip of its own above the titles"


def test_timescale_of_a_layer_with_rho_at_most_zero_is_drawn():
    rho = np.array([-0.3, 0.0, 0.6])
    tau = np.where(rho <= 0, 0.0, -1 / np.log(np.where(rho > 0, rho, 0.5)))
    fig = figures.timescale_bars(rho, tau)
    marks = [t for t in fig.data if t.name and t.name.startswith("0 steps")]
    assert len(marks) == 1 and list(marks[0].x) == [1, 2] and list(marks[0].y) == [0, 0]
    assert fig.layout.yaxis2.range[0] < 0, "the 0 marks are not clipped by the axis"


def test_timescale_words_follow_the_numbers():
    assert "**longer than**" in timescale_words(np.array([1.0, 3.0]))
    assert "**shorter than**" in timescale_words(np.array([3.0, 1.0]))
    # both under one step: no comparison (was "**the same as**"; issue 17 reported 0.257 vs 0
    # steps called "longer than")
    assert "no timescale to compare" in timescale_words(np.array([0.0, 0.0]))
    for near in ([0.0, 0.257], [0.9, 0.3]):
        text = timescale_words(np.array(near))
        assert "no timescale to compare" in text and "longer" not in text, text
    assert "**about the same as**" in timescale_words(np.array([5.0, 5.02]))
    assert "**about the same as**" in timescale_words(np.array([3.0, 3.0]))
    assert "undefined" in timescale_words(np.array([np.nan, 1.0]))


def test_gate_panels_at_zero_percent_say_so():
    L, T = 2, 5
    saturation = {g: np.full((L, T), 0.25) for g in "ifgo"}
    saturation["g"] = np.zeros((L, T))
    saturation["f"] = np.ones((L, T))
    fig = figures.saturation_heatmaps(saturation, ("lstm", "lstm"))
    titles = [a.text for a in fig.layout.annotations]
    assert "g: candidate (tanh): 0 % saturated" in titles
    assert "f: forget (σ): 100 % saturated" in titles
    assert "i: input (σ)" in titles, "a panel with colour keeps its plain title"


def test_hidden_heatmaps_tick_whole_steps_at_one_step():
    tr = one_step_trace()
    fig = figures.hidden_heatmaps(tr.hidden[:, :, 0], (1, 2, 3), 1)
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tick0 == 1


def test_scrub_figure_frames_hold_each_depth():
    L, T = 4, 9
    rng = np.random.default_rng(0)
    norms = rng.uniform(0.1, 10, (L, L, T))
    norms[np.triu_indices(L, 1)] = np.nan  # [D-1, l-1]: nothing above depth D
    bad = np.zeros((L, L, T), dtype=bool)
    bad[3, 0, 2] = True
    fig = scrub_figure(norms, bad, norms[:, 0, 0] / norms[np.arange(L), np.arange(L), -1],
                       ("rnn", "gru", "rnn", "lstm"))  # fmt: skip
    spec = fig.to_plotly_json()
    assert [f["name"] for f in spec["frames"]] == ["1", "2", "3", "4"]
    for depth, frame in enumerate(spec["frames"], start=1):
        z = values(by_name(frame, "cells")["z"])
        np.testing.assert_allclose(z, np.log10(norms[depth - 1]), rtol=1e-6)
        assert f"Depth L = {depth}" in frame["layout"]["title"]["text"]
    marks = values(by_name(spec["frames"][3], "inf / nan (overflow)")["z"])
    assert marks[0, 2] == 1 and marks.sum() == 1
    assert "inf / nan (overflow)" in names(spec) and len(spec_traces(spec)) == 4
    z = [values(by_name(f, "cells")["z"]) for f in spec["frames"]]
    colour = by_name(spec, "cells")
    assert colour["zmin"] <= min(np.nanmin(a) for a in z) and colour["zmax"] >= max(
        np.nanmax(a) for a in z
    ), "one colour scale for every depth"
    assert fig.layout.yaxis.ticktext[1:5] == ("1 rnn", "2 gru", "3 rnn", "4 lstm")


def test_scrub_decimation_keeps_the_payload_and_the_ends():
    stride = time_stride(32, 500, overflow=False)
    steps = kept_steps(500, stride)
    assert stride == 2 and steps[0] == 0 and steps[-1] == 499
    assert 32 * 32 * len(steps) * 4 <= FRAME_BYTES * 1.01
    assert time_stride(32, 200, overflow=False) == 1, "L_max = 32, T = 200 is sent in full"
