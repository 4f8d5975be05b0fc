"""The Information flow page in AppTest: the depth scrub (frames of every depth, equal to the
core's per-depth traces), and what a new user hit (radio vs grid while stepping, mixed stacks,
T = 1 ticks)."""

from __future__ import annotations

import inspect

import numpy as np

from app.runs import compute
from app.settings import controls
from deeprnn_core import Model, trace
from deeprnn_core.analysis.scrub import config_at_depth
from deeprnn_core.analysis.summaries import cell_norms
from deeprnn_core.data.signals import make_signal
from deeprnn_core.engine.order import PHASES, order_text
from tests.figure_data import by_name, values
from tests.test_app import DEFAULTS, assert_clean, chart_with, open_app


def depth_trace(depth: int, **changes):
    """The core's own trace of the depth-``depth`` network of the app's settings."""
    spec = compute.plan(controls.Settings(**(DEFAULTS | changes))).spec
    c = config_at_depth(spec.config, depth)
    model = Model.init(c, spec.init)
    x = make_signal(spec.signal, spec.steps, spec.batch, c.input_size, spec.seed)
    return trace(model, x, loss_kind=spec.loss_kind, dtype=spec.dtype)


def test_scrub_sends_every_depth_as_frames_equal_to_the_core():
    at = open_app(
        {"scrub": "1", "L": "5", "T": "12", "cells": "rnn,gru,lstm"} | {"cell": "per layer"}
    )
    assert_clean(at)
    fig = chart_with(at, "X_t")
    frames = fig["frames"]
    assert [f["name"] for f in frames] == ["1", "2", "3", "4", "5"]
    slider = fig["layout"]["sliders"][0]
    assert slider["active"] == 4, "the scrub starts at the sidebar's depth"
    assert [s["args"][0] for s in slider["steps"]] == [[str(d)] for d in range(1, 6)]
    assert all(s["method"] == "animate" for s in slider["steps"]), "frames change in the browser"
    assert "play" in fig["layout"]["updatemenus"][0]["buttons"][0]["label"]
    for depth in (1, 3, 5):
        z = values(by_name(frames[depth - 1], "cells")["z"])
        tr = depth_trace(
            depth, num_layers=5, steps=12, cell="per layer", cell_layers="rnn,gru,lstm"
        )
        np.testing.assert_allclose(z[:depth], np.log10(cell_norms(tr)[1]), rtol=0, atol=1e-6)
        assert np.isnan(z[depth:]).all(), "no layer above depth D"
        o_row = values(by_name(frames[depth - 1], "O_t")["y"])
        assert (o_row == depth + 1).all(), "O_t sits on top of layer D"
    assert "2 gru" in fig["layout"]["yaxis"]["ticktext"], "mixed stacks name each layer's cell"
    # the page's own grid and the scrub's last frame are the same numbers
    at.checkbox(key="scrub").uncheck().run()
    grid = chart_with(at, "cell picker")
    last_frame = values(by_name(frames[-1], "cells")["z"])
    np.testing.assert_allclose(values(by_name(grid, "cells")["z"]), last_frame, atol=1e-6, rtol=0)


def test_scrub_stays_within_the_payload_budget_with_a_notice():
    at = open_app({"scrub": "1", "L": "32", "T": "500", "h": "8"})
    assert_clean(at)
    spec_bytes = sum(len(c.proto.spec) for c in at.get("plotly_chart"))
    assert spec_bytes < 2_000_000, f"every chart of the rerun together: {spec_bytes} bytes"
    assert len(chart_with(at, "X_t")["frames"]) == 32
    assert any("one step in 2" in c.value for c in at.caption), "decimation is said"  # fmt: skip


def test_stepping_forward_the_colour_control_agrees_with_the_grid():
    at = open_app({"walk": "1", "step": "10", "color": "grad"})  # forward pass, 10 cells
    assert_clean(at)
    grid = chart_with(at, "cell picker")
    title = by_name(grid, "cells")["colorbar"]["title"]["text"]
    assert title.startswith("|H"), "the forward pass colours by |H|"
    shown = [r.value for r in at.radio if r.key == "color_by"]
    assert shown in ([], ["hidden"]), f"no control claims |G| while the grid shows |H|: {shown}"
    assert any("state |H|" in m.value for m in at.markdown)


def test_the_step_through_states_the_cores_order_and_defaults_skip_what_says_nothing():
    at = open_app({"walk": "1", "step": "3", "L": "2", "T": "5"})
    assert_clean(at)
    forward, backward = (order_text(phase, 2, 5) for phase in PHASES)
    captions = [c.value for c in at.caption]
    assert any(forward in c and backward in c for c in captions), "the engine's own order"
    at = open_app()  # defaults: no step-through, B = 1
    assert not any("Order of computation" in c.value for c in at.caption)
    assert not [n for n in at.number_input if n.key == "sample"], "no picker of one sample"
    assert not [c for c in at.caption if "(only value)" in c.value]
    at = open_app({"B": "3"})
    assert [n.key for n in at.number_input if n.key == "sample"] == ["sample"]


def test_one_step_has_integer_time_ticks_and_mixed_layers_are_named():
    at = open_app({"T": "1", "cell": "per layer", "cells": "rnn,lstm"})
    assert_clean(at)
    xaxis = chart_with(at, "cell picker")["layout"]["xaxis"]
    assert xaxis.get("dtick") == 1 and xaxis.get("tick0") == 1, "ticks at whole steps only"
    ticks = chart_with(at, "cell picker")["layout"]["yaxis"]["ticktext"]
    assert ticks[1:5] == ["1 rnn", "2 lstm", "3 lstm", "4 lstm"]


def test_scrub_over_its_time_budget_says_so_and_draws_depth_L():
    at = open_app({"scrub": "1", "L": "32", "T": "500", "h": "256", "cell": "lstm"})
    assert_clean(at)
    assert any("Scrubbing depth would run the backward pass of every depth" in i.value
               for i in at.info), "the scrub's cost is said"  # fmt: skip
    chart_with(at, "cell picker")  # the page's own grid instead


def test_the_step_through_shows_the_reference_code_of_the_cell_it_steps():
    """Issue 16: the learner sees the code the numbers came from, the stepped line marked: the
    forward pass through layer 2 (an lstm) shows lstm's step, the backward pass its step_back."""
    from deeprnn_core.cells import REGISTRY

    settings = {"walk": "1", "L": "2", "T": "3", "cell": "per layer", "cells": "rnn,lstm"}
    at = open_app(settings | {"step": "5"})  # forward: layer 1's 3 cells, then t = 2 of layer 2
    assert_clean(at)
    expanders = [e for e in at.expander if "The code that ran this step" in e.label]
    assert len(expanders) == 1 and "lstm cell, forward pass" in expanders[0].label
    blocks = [c.value.strip() for c in at.code]
    assert any("# ◀ this step: t = 2, l = 2" in b and "cell.step(" in b for b in blocks), blocks
    assert inspect.getsource(REGISTRY["lstm"].step).strip() in blocks
    at = open_app(settings | {"step": "7"})  # backward: layer 2 at t = 3
    assert_clean(at)
    blocks = [c.value.strip() for c in at.code]
    assert any("# ◀ this step: t = 3, l = 2" in b and "grad_h = ext[t]" in b for b in blocks)
    assert inspect.getsource(REGISTRY["lstm"].step_back).strip() in blocks
    at = open_app({"walk": "1", "step": "1"})  # the default rnn stack
    assert inspect.getsource(REGISTRY["rnn"].step).strip() in [c.value.strip() for c in at.code]
