"""Every training figure carries exactly the History's numbers (float32 on the wire), and the
sentences under them follow those numbers. One tiny real run of deeprnn_core.training.loop."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from app.figures import training as fig
from app.words import training as words
from deeprnn_core import Model, RNNConfig, make_task, train
from tests.figure_data import by_name, names, values

F32 = dict(rtol=1e-6, atol=0)  # float32 on the wire
CLIP = 0.5


@pytest.fixture(scope="module")
def history():
    task = make_task("adding", 8, n_train=64, n_val=16, seed=1)
    cells, acts = ("rnn", "rnn", "gru"), ("tanh", "sigmoid", "tanh")
    config = RNNConfig(num_layers=3, input_size=2, hidden_size=6, cell=cells, activation=acts)
    model = Model.init(config, seed=1)
    return train(model, task, steps=12, lr=0.05, schedule="cosine", batch_size=8,
                 clip_norm=CLIP, seed=1, eval_every=3, snapshots=6)  # fmt: skip


def test_loss_figure_has_training_validation_and_baseline(history):
    f = fig.loss_figure(history, "always predict 1")
    np.testing.assert_allclose(values(by_name(f, "train")["x"]), np.arange(1, 13))
    np.testing.assert_allclose(values(by_name(f, "train")["y"]), history.loss, **F32)
    val = by_name(f, "validation")
    np.testing.assert_allclose(values(val["x"]), history.eval_steps)
    np.testing.assert_allclose(values(val["y"]), history.val_loss, **F32)
    np.testing.assert_allclose(values(by_name(f, "baseline")["y"]), history.baseline, **F32)
    assert "always predict 1" in by_name(f, "baseline")["name"]
    assert f.layout.yaxis.type == "log"


def test_grad_norm_figure_keeps_w_xh_and_w_hh_apart(history):
    f = fig.param_grad_norm_figure(history)
    for k in range(3):
        xh, hh = by_name(f, f"W_xh l = {k + 1}"), by_name(f, f"W_hh l = {k + 1}")
        np.testing.assert_allclose(values(xh["y"]), history.param_grad_norm_w_xh[:, k], **F32)
        np.testing.assert_allclose(values(hh["y"]), history.param_grad_norm_w_hh[:, k], **F32)
        assert (xh.get("xaxis") or "x") == "x" and hh["xaxis"] == "x2"


def test_update_ratio_and_attenuation_figures(history):
    f = fig.update_ratio_figure(history)
    for k in range(3):
        y = values(by_name(f, f"ratio l = {k + 1}")["y"])
        np.testing.assert_allclose(y, history.update_ratio[:, k], **F32)
    f = fig.attenuation_figure(history)
    np.testing.assert_allclose(values(by_name(f, "attenuation")["y"]), history.attenuation, **F32)
    np.testing.assert_allclose(values(by_name(f, "one")["y"]), 1.0)


def test_lr_figure_marks_exactly_the_clipped_updates(history):
    f = fig.lr_clip_figure(history, CLIP)
    np.testing.assert_allclose(values(by_name(f, "lr")["y"]), history.lr, **F32)
    assert values(by_name(f, "lr")["y"])[-1] < values(by_name(f, "lr")["y"])[0], "cosine decays"
    clipped = history.param_grad_norm_clipped < history.param_grad_norm
    assert clipped.any(), "the fixture clips some updates"
    np.testing.assert_allclose(values(by_name(f, "clipped")["x"]), np.flatnonzero(clipped) + 1)
    np.testing.assert_allclose(values(by_name(f, "norm")["y"]), history.param_grad_norm, **F32)
    np.testing.assert_allclose(values(by_name(f, "clip norm")["y"]), CLIP)
    assert "clip norm" not in names(fig.lr_clip_figure(history, None))
    assert f.layout.yaxis2.matches is None, "lr and norm rows have their own axes"


def test_singular_figure_draws_one_over_gamma_for_rnn_layers_only(history):
    config = RNNConfig(3, 2, 4, activation=("tanh", "sigmoid", "tanh"), cell=("rnn", "rnn", "gru"))
    f = fig.singular_figure(history, config)
    for k in range(3):
        y = values(by_name(f, f"sigma l = {k + 1}")["y"])
        np.testing.assert_allclose(y, history.top_singular_w_hh[:, k], **F32)
    np.testing.assert_allclose(values(by_name(f, "threshold tanh")["y"]), 1.0)
    np.testing.assert_allclose(values(by_name(f, "threshold sigmoid")["y"]), 4.0)
    assert "GRU / LSTM" in words.singular_words(history, config)
    normed = replace(config, cell="rnn", layer_norm=True)  # the bound holds nowhere
    assert "threshold tanh" not in str(fig.singular_figure(history, normed).to_dict())
    assert "No layer here where the bound holds" in words.singular_words(history, normed)


def test_grad_grid_scrub_has_one_frame_per_snapshot_on_one_colour_range(history):
    f = fig.grad_grid_scrub(history)
    spec = json.loads(f.to_json())
    steps = [str(s) for s in history.snapshot_steps]
    assert len(steps) >= 6 and steps[0] == "0" and steps[-1] == "12"
    assert [fr["name"] for fr in spec["frames"]] == steps
    for frame, grid in zip(spec["frames"], history.snapshot_grad):
        heat = frame["data"][0]
        np.testing.assert_allclose(values(heat["customdata"]), grid, **F32)
        np.testing.assert_allclose(values(heat["z"]), np.log10(grid), rtol=1e-5)
    slider = spec["layout"]["sliders"][0]
    assert [s["args"][0][0] for s in slider["steps"]] == steps
    assert all(s["method"] == "animate" for s in slider["steps"]), "no server round trip"
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    z = np.log10(history.snapshot_grad)
    assert spec["layout"]["coloraxis"]["cmin"] == pytest.approx(z.min(), rel=1e-6)
    assert spec["layout"]["coloraxis"]["cmax"] == pytest.approx(z.max(), rel=1e-6)


def test_loss_pair_carries_both_sides(history):
    other = replace(history, loss=history.loss * 2, val_loss=history.val_loss * 2)
    f = fig.loss_pair((history, other), ("A: x", "B: y"))
    np.testing.assert_allclose(values(by_name(f, "A train")["y"]), history.loss, **F32)
    np.testing.assert_allclose(values(by_name(f, "B validation")["y"]), other.val_loss, **F32)
    assert "baseline" in [t.meta for t in f.data]


def test_sentences_follow_the_numbers(history):
    up = replace(history, val_loss=np.array([0.1, 0.5]), baseline=0.2)
    down = replace(history, val_loss=np.array([0.5, 0.1]), baseline=0.2)
    assert "rose from 0.1 to 0.5, above the baseline" in words.loss_words(up)
    assert "fell from 0.5 to 0.1, below the baseline" in words.loss_words(down)
    grows = replace(history, attenuation=np.linspace(1e-6, 10, 12))
    assert "rose" in (trend := words.attenuation_trend_words(grows)) and "exploding" in trend
    shrinks = replace(history, attenuation=np.linspace(1, 1e-6, 12))
    assert "fell" in words.attenuation_trend_words(shrinks)
    text = words.lr_words(history, "cosine", CLIP)
    assert (
        f"acted on {int((history.param_grad_norm_clipped < history.param_grad_norm).sum())} of 12"
        in text
    )
    bottom_small = np.tile([1e-3, 1e-2, 1.0], (12, 1))
    assert "less gradient through time" in words.grad_words(
        replace(history, param_grad_norm_w_hh=bottom_small, param_grad_norm_w_xh=bottom_small)
    )
    assert "more gradient through time" in words.grad_words(
        replace(
            history, param_grad_norm_w_hh=bottom_small[:, ::-1], param_grad_norm_w_xh=bottom_small
        )
    )


def test_overflowed_values_are_marked_not_dropped(history):
    loss = history.loss.copy()
    loss[-1] = np.inf
    grid = history.snapshot_grad.copy()
    grid[-1, 0, 0] = np.nan
    bad = replace(history, loss=loss, snapshot_grad=grid, diverged="update 12: overflow")
    f = fig.loss_figure(bad)
    marks = [t for t in f.data if t.name and "inf / nan" in t.name]
    assert len(marks) == 1 and list(marks[0].x) == [12.0]
    assert np.isnan(values(by_name(f, "train")["y"])[-1])
    spec = json.loads(fig.grad_grid_scrub(bad).to_json())
    overflow = values(spec["frames"][-1]["data"][1]["z"])
    assert overflow[0, 0] == 1 and np.isnan(overflow[1:, :]).all()
    assert words.loss_words(bad).startswith("**The run diverged**")
