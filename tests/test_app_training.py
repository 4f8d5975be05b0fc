"""The Training page in AppTest at a tiny setting: Train runs training.loop, the figures
carry the History's numbers (trained here again without Streamlit's cache), a rerun shows the
cached run, and a changed setting asks for Train again."""

from __future__ import annotations

import math
import os

import numpy as np

from app.parts import training_rows
from app.runs import training
from app.settings import controls
from deeprnn_core import Model, make_task, train
from deeprnn_core.study import measures
from tests.figure_data import by_name, values
from tests.test_app import DEFAULTS, assert_clean, chart_with, charts, open_app, open_sections

PAGE = "views/training.py"
TINY = {"L": "2", "h": "8", "T": "12", "n": "20", "bs": "8", "seed": "3"}
F32 = dict(rtol=1e-6, atol=0)  # figures carry float32


def core_history(query: dict):
    """The History the page should show for ``query``, trained by the core directly."""
    settings = controls.Settings(**(DEFAULTS | controls.from_query(query)[0]))
    spec = training.plan(settings).spec
    model = Model.init(spec.config, spec.init)
    task = make_task(spec.task, spec.length, seed=spec.seed)
    return spec, train(
        model, task, steps=spec.updates, optimizer=spec.optimizer, lr=spec.lr,
        optimizer_kwargs=training.OPTIMIZER_KWARGS.get(spec.optimizer), schedule=spec.schedule,
        batch_size=spec.batch_size, clip_norm=spec.clip_norm, dtype=spec.dtype, seed=spec.seed,
        eval_every=spec.eval_every, snapshots=training.SNAPSHOTS,
    )  # fmt: skip


def test_train_button_runs_and_the_figures_carry_the_history():
    at = open_app(TINY, page=PAGE)
    assert_clean(at)
    assert any("Press **Train**" in i.value for i in at.info), "nothing trains before Train"
    assert not at.get("plotly_chart")
    at.button(key="train").click().run()
    assert_clean(at)
    spec, h = core_history(TINY)
    assert (spec.updates, spec.batch_size, spec.config.num_layers) == (20, 8, 2)
    loss = chart_with(at, "train")
    np.testing.assert_allclose(values(by_name(loss, "train")["y"]), h.loss, **F32)
    np.testing.assert_allclose(values(by_name(loss, "validation")["y"]), h.val_loss, **F32)
    np.testing.assert_allclose(values(by_name(loss, "baseline")["y"]), h.baseline, **F32)
    grads = chart_with(at, "W_hh l = 2")
    np.testing.assert_allclose(
        values(by_name(grads, "W_hh l = 2")["y"]), h.param_grad_norm_w_hh[:, 1]
    )
    ratio = chart_with(at, "ratio l = 1")
    np.testing.assert_allclose(values(by_name(ratio, "ratio l = 1")["y"]), h.update_ratio[:, 0])
    sigma = chart_with(at, "sigma l = 1")
    np.testing.assert_allclose(
        values(by_name(sigma, "sigma l = 1")["y"]), h.top_singular_w_hh[:, 0]
    )
    assert values(by_name(sigma, "threshold tanh")["y"])[0] == 1.0
    np.testing.assert_allclose(values(by_name(chart_with(at, "lr"), "lr")["y"]), h.lr, **F32)
    scrub = chart_with(at, "|G|")
    assert [f["name"] for f in scrub["frames"]] == [str(s) for s in h.snapshot_steps]
    last = values(scrub["frames"][-1]["data"][0]["customdata"])
    np.testing.assert_allclose(last, h.snapshot_grad[-1], **F32)
    att = chart_with(at, "attenuation")
    np.testing.assert_allclose(values(by_name(att, "attenuation")["y"]), h.attenuation, **F32)
    assert at.query_params["n"] == "20" and at.query_params["task"] == "adding"


def test_cached_run_shows_without_train_and_a_change_asks_again():
    at = open_app(TINY, page=PAGE)
    at.button(key="train").click().run()
    before = len(charts(at))
    at.run()  # a rerun without a click: the cached run
    assert_clean(at)
    assert len(charts(at)) == before == 7
    at.selectbox(key="learning_rate").set_value("0.1").run()
    assert_clean(at)
    assert any("Press **Train**" in i.value for i in at.info) and not at.get("plotly_chart")
    assert at.query_params["lr"] == "0.1"


def test_other_tasks_optimizers_and_schedules_train_without_error():
    query = TINY | {"task": "copy", "opt": "sgd", "sched": "cosine", "clip": "0.5", "p": "0.25"}
    at = open_app(query, page=PAGE)
    at.button(key="train").click().run()
    assert_clean(at)
    spec, h = core_history(query)
    loss = chart_with(at, "train")
    np.testing.assert_allclose(values(by_name(loss, "train")["y"]), h.loss, **F32)
    assert any("accuracy" in m.value for m in at.markdown), "copy reports its accuracy"
    clipped = by_name(chart_with(at, "clipped"), "clipped")
    assert len(values(clipped["x"])) == int((h.param_grad_norm_clipped < h.param_grad_norm).sum())
    query = TINY | {"task": "sunspots", "T": "300", "bs": "256", "cell": "lstm"}
    at = open_app(query, page=PAGE)
    assert any("sunspots series is short" in i.value for i in at.info)
    at.button(key="train").click().run()
    assert_clean(at)
    assert not any("threshold" in str(t.get("meta")) for t in chart_with(at, "sigma l = 1")["data"])


def test_over_budget_run_is_shortened_with_a_notice():
    at = open_app({"L": "32", "h": "256", "T": "500", "n": "3000", "cell": "lstm"}, page=PAGE)
    assert_clean(at)
    notice = [i.value for i in at.info if "To stay within" in i.value]
    assert notice and "updates = " in notice[0] and "(of 3000)" in notice[0]


def run_plain_vs_deep_study(query: dict, studies):
    """Open Plain vs deep at ``query``, run its study on click, wait for it, redraw; the page
    and the study's table as the database has it."""
    at = open_app(query, page="views/plain_vs_deep.py")
    assert_clean(at)
    assert any("Press the button to run the study" in i.value for i in at.info), "no click yet"
    at.button(key="train_compare").click().run()
    settings = controls.Settings(**(DEFAULTS | controls.from_query(query)[0]))
    spec = studies.fit_plain_deep(training.plan(settings).spec, os.cpu_count() or 1)[0]
    job = studies.job_of(spec)
    job.thread.join(300)
    assert job.error is None and job.result.complete
    at.run()
    assert_clean(at)
    assert at.button(key="train_compare").disabled, "a finished study does not run again"
    return at, spec, studies.stored(spec).table


def test_plain_vs_deep_training_verdicts_come_from_a_study_over_seeds(tiny_studies):
    query = TINY | {"n": str(training_rows.MIN_UPDATES)}  # the least a verdict needs
    at, spec, table = run_plain_vs_deep_study(query, tiny_studies)
    assert spec.depths == (1, 2) and len(spec.lrs) == 3 and len(spec.seeds) >= 2
    assert len(table) == spec.size
    spread = measures.seed_spread(table)
    shown = next(t.value for t in at.table if "inter-quartile range" in t.value.columns)
    for r in spread.itertuples():
        row = shown.loc[f"L = {r.depth}, lr {r.lr:.3g}"]
        assert row["median validation loss"] == f"{r.median:.4g}"
        assert row["inter-quartile range"] == f"{r.iqr:.3g}"
    claims = next(t.value for t in at.table if "verdict" in t.value.columns)
    v = measures.plain_vs_deep(table, spec.cells[0], 2)
    better = claims.loc["Better on complex tasks"]
    assert f"[{v.low:.3g}, {v.high:.3g}] over {v.seeds} seeds" in better["measured here"]
    if "neither learned" in better["measured here"]:
        assert better["verdict"].startswith("no verdict: neither depth learned")
    else:
        assert better["verdict"] == v.verdict
    windows = measures.good_window(table)
    trend = measures.window_trend(windows, spec.cells[0], 0.5)
    harder = claims.loc["Training is harder", "verdict"]
    if not harder.startswith("no verdict: neither"):
        assert harder == {measures.NARROWS: "agrees", measures.WIDENS: "disagrees",
                          measures.NO_CLEAR_CHANGE: "no clear difference"}.get(
            trend, "no verdict: a depth learned the task at no learning rate")  # fmt: skip
    text = " ".join(str(x) for t in at.table for x in t.value.to_numpy().ravel())
    assert "one seed" not in text.lower() and "One task, one seed" not in str(at.markdown)


def test_plain_vs_deep_training_cut_below_the_minimum_gives_no_verdict(tiny_studies):
    """Issue 17: 10 updates of batch 1 at T = 8 gave four verdicts; now the numbers and why."""
    at, _, _ = run_plain_vs_deep_study(TINY | {"n": "10", "bs": "1", "T": "8"}, tiny_studies)
    why = [i.value for i in at.info if i.value.startswith("No verdict on learning")]
    assert why and "updates 10" in why[0] and "batch 1" in why[0] and "T 8" in why[0], why
    claims = next(t.value for t in at.table if "verdict" in t.value.columns)
    for claim, verdict in claims["verdict"].items():
        if claim in ("Training is harder", "Better on complex tasks"):
            assert verdict.startswith("no verdict: these runs have updates 10"), verdict
    assert any("inter-quartile range" in t.value.columns for t in at.table)


def test_ab_trains_both_sides_on_the_same_batches_and_presets_set_them():
    from app.parts import ab_training

    at = open_app(TINY, page="views/ab_compare.py")
    assert_clean(at)
    at.button(key="train_preset_cosine_vs_constant_schedule").click().run()
    assert at.query_params["Asched"] == "cosine", "A changes the preset's field"
    assert at.query_params.get("Bsched", "same") == "same", "B is the sidebar's settings"
    assert at.query_params.get("sched", "constant") == "constant"
    at.button(key="train_ab").click().run()
    assert_clean(at)
    assert at.query_params["n"] == "300", "a preset sets every training setting it relies on"
    a, b = (core_history(TINY | {"sched": s, "n": "300"}) for s in ("cosine", "constant"))
    pair = chart_with(at, "A train")
    np.testing.assert_allclose(values(by_name(pair, "A train")["y"]), a[1].loss, **F32)
    np.testing.assert_allclose(values(by_name(pair, "B train")["y"]), b[1].loss, **F32)
    assert a[1].loss[0] == b[1].loss[0], "same weights and first minibatch on both sides"
    said = [m.value for m in at.markdown if m.value.startswith("Validation loss after training")]
    va, vb = a[1].val_loss[-1], b[1].val_loss[-1]
    assert len(said) == 1 and f"A {va:.4g}, B {vb:.4g}" in said[0], said
    if abs(math.log10(vb / va)) <= math.log10(1.01):  # measures.ROUNDING: no clear difference
        assert "no clear difference" in said[0] and "ends lower" not in said[0], said
    else:
        assert f"**{'A' if va < vb else 'B'}** ends lower" in said[0], said
    for name in ab_training.PRESETS:
        at.button(key="train_preset_" + name.replace(" ", "_").lower()).click().run()
        assert_clean(at)
        if name.startswith("clipping"):
            assert at.query_params["opt"] == "sgd" and at.query_params["Aclip"] == "1"
            assert at.query_params.get("Bclip", "same") == "same"
            assert at.query_params.get("clip", "0") == "0", "B: the sidebar's, unclipped"
            assert at.query_params.get("Asched", "same") == "same"


def test_the_trained_model_exports_as_safetensors_and_torch_code_that_rebuild_it(tmp_path):
    import torch

    from deeprnn_core import save_model, trace
    from deeprnn_core.data.signals import make_signal

    at = open_sections(open_app(TINY, page=PAGE), "open_downloads")
    at.button(key="train").click().run()
    assert_clean(at)
    _, h = core_history(TINY)
    name = "deeprnn_trained_adding_L2.safetensors"
    code = [c.value for c in at.sidebar.code if f"load_file('{name}')" in c.value]
    assert len(code) == 1, "the Training page exports the model it trained"
    (tmp_path / name).write_bytes(save_model(h.model))  # what the download button hands out
    scope: dict = {}
    exec(code[0].replace(name, str(tmp_path / name)), scope)  # noqa: S102 - the code shown
    x = make_signal("noise", 6, 2, h.model.config.input_size, seed=1)
    with torch.no_grad():
        out, _ = scope["rnn"](torch.tensor(x))
        o = scope["head"](out)
    tr = trace(h.model, x)
    np.testing.assert_allclose(out.numpy(), tr.hidden[-1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(o.numpy(), tr.output, rtol=1e-10, atol=1e-12)


def test_the_training_page_shows_the_code_of_its_cells():
    """Issue 16: the Training page's explanation shows the reference code of every cell type
    the network trains (the numbers' own equations), each once."""
    from deeprnn_core.engine import reference

    at = open_app(TINY | {"cell": "per layer", "cells": "gru,rnn,gru"}, page=PAGE)
    assert_clean(at)
    (box,) = [e for e in at.expander if e.label.startswith("The code of the cells")]
    assert box.label.endswith("gru, rnn")
    blocks = [c.value.strip() for c in at.code]
    assert blocks == [reference.cell_source("gru").strip(), reference.cell_source("rnn").strip()]


def test_the_chars_task_reports_perplexity_and_samples_text():
    query = TINY | {"task": "chars", "h": "6", "n": "6"}
    at = open_app(query, page=PAGE)
    at.button(key="train").click().run()
    assert_clean(at)
    spec, h = core_history(query)
    assert h.metric == "perplexity"
    text = " ".join(m.value for m in at.markdown)
    assert f"Validation perplexity: {h.val_metric[-1]:.3g} per character" in text
    sampled = at.code[-1].value
    assert sampled.startswith(training.PROMPT)
    assert len(sampled) == len(training.PROMPT) + training.SAMPLED
