"""The depth sweep's figures of the measures: the data drawn is the core's, trace by trace."""

from __future__ import annotations

import numpy as np

from app import figures
from deeprnn_core import RNNConfig
from deeprnn_core.analysis.measures import MEASURES
from deeprnn_core.analysis.summaries import depth_sweep
from tests.figure_data import by_name, values

F32 = dict(rtol=1e-6, atol=0)


def test_measures_figure_draws_every_median_and_the_line_at_one():
    sweep = depth_sweep(RNNConfig(1, 2, 4, 1), 4, range(3), 6)
    medians = {k: sweep.measure_quantiles(k, (0.5,))[0] for k in MEASURES}
    fig = figures.measures_figure(sweep.depths, medians, {k: v[0] for k, v in MEASURES.items()})
    for key in MEASURES:
        y = values(by_name(fig, key)["y"])
        np.testing.assert_allclose(y, medians[key], **F32, err_msg=key)
    assert np.isnan(values(by_name(fig, "depth")["y"])[0]), "L = 1: no path, a gap"
    assert [s.y0 for s in fig.layout.shapes] == [1.0, 1.0], "the line at 1 in both panels"
    for key in MEASURES:  # rates, which stay near 1, get their own panel
        assert by_name(fig, key).get("yaxis", "y") == ("y2" if key.endswith("_rate") else "y")
    assert fig.layout.yaxis.type == fig.layout.yaxis2.type == "log"


def test_sweep_figure_of_one_measure_names_it_on_the_axis():
    sweep = depth_sweep(RNNConfig(1, 2, 4, 1), 3, range(3), 5)
    q = sweep.measure_quantiles("w_hh")
    fig = figures.sweep_figure(sweep.depths, q, np.zeros(3, int), 3, MEASURES["w_hh"][1])
    np.testing.assert_allclose(values(by_name(fig, "median")["y"]), q[1], **F32)
    assert MEASURES["w_hh"][1] in fig.layout.yaxis.title.text
