"""The A/B page and the remedy toggles in AppTest: no exception, the figures' data change, and
the ratio shown is the core's grad_hidden_norm_ratio of the two runs (run here again, uncached)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from app.runs import compute
from app.settings import ab_sides, controls
from app.settings.controls import SAME
from app.settings.sidebar import group_key
from deeprnn_core import Model, trace
from deeprnn_core.analysis.summaries import grad_hidden_norm_ratio
from deeprnn_core.data.signals import make_signal
from tests.figure_data import by_name, values
from tests.test_app import DEFAULTS, assert_clean, chart_with, open_app, open_sections

AB = "views/ab_compare.py"
LOG = dict(rtol=1e-6, atol=1e-6)


def core_run(spec):
    """The core's trace of a TraceSpec, without Streamlit's cache."""
    c = spec.config
    model = Model.init(c, spec.init)
    x = make_signal(spec.signal, spec.steps, spec.batch, c.input_size, spec.seed)
    return trace(model, x, loss_kind=spec.loss_kind, dtype=spec.dtype, training=spec.training,
                 dropout_seed=spec.seed, clip_norm=spec.clip_norm)  # fmt: skip


def preset_settings(name: str, **changes):
    """The Settings after clicking preset ``name`` with the sidebar at defaults + changes."""
    presets = zip(ab_sides.SIDES, ab_sides.PRESETS[name])
    chosen = {ab_sides.key(side, f): o.get(f, SAME) for side, o in presets
              for f in ab_sides.FIELDS}  # fmt: skip
    return controls.Settings(**(DEFAULTS | changes | chosen))


def assert_ratio_is_the_cores(at, settings) -> np.ndarray:
    pair = ab_sides.plan_pair(settings)
    ratio = grad_hidden_norm_ratio(core_run(pair.spec_a), core_run(pair.spec_b))
    z = values(by_name(chart_with(at, "ratio"), "ratio")["z"])
    with np.errstate(all="ignore"):
        # nan where the ratio is undefined: 0 or inf (an LRU layer's G can be exactly 0)
        want = np.where((ratio > 0) & np.isfinite(ratio), np.log10(ratio), np.nan)
        np.testing.assert_allclose(z, want, **LOG, equal_nan=True)
    return ratio


def side_data(at, chart: str, side: str) -> list:
    spec = chart_with(at, chart)
    return [t for t in spec["data"] if str(t.get("name", "")).startswith(side)
            or str(t.get("meta", "")).startswith(side)]  # fmt: skip


def test_ab_page_at_defaults_is_lstm_vs_the_sidebar():
    at = open_app(page=AB)
    assert_clean(at)
    assert [h.value for h in at.subheader][:2] == ["A: LSTM", "B: your settings (tanh RNN)"]
    assert side_data(at, "A |G|", "A") != side_data(at, "A |G|", "B")
    assert_ratio_is_the_cores(at, preset_settings("LSTM"))
    chart_with(at, "i")  # the LSTM side's gate saturation
    assert at.query_params["Acell"] == "lstm" and at.query_params["Bcell"] == "same"


def test_every_preset_is_one_click_and_shows_the_cores_ratio():
    at = open_app(page=AB)
    for name in ab_sides.PRESETS:
        at.button(key="preset_" + name.replace(" ", "_").lower()).click().run()
        assert_clean(at)
        settings = preset_settings(name)
        assert ab_sides.active_preset(settings) == name
        grids = side_data(at, "A |G|", "A"), side_data(at, "A |G|", "B")
        bars = side_data(at, "A W_xh", "A"), side_data(at, "A W_xh", "B")
        assert grids[0] != grids[1] or bars[0] != bars[1], f"{name}: A and B differ"
        ratio = assert_ratio_is_the_cores(at, settings)
        if name == "clipping at 0.1":
            assert (ratio == 1).all() and any("Clipping" in i.value for i in at.info)
            assert bars[0] != bars[1], "the clipped parameter gradients differ"
        else:
            assert not (ratio == 1).all(), name
    assert at.query_params["Ap"] == "0.5" and at.query_params["Bp"] == "same"


def test_overrides_are_controls_and_meaningless_presets_say_so():
    at = open_app({"cell": "gru"}, page=AB)
    at.button(key="preset_layer_norm_on").click().run()
    assert_clean(at)
    assert any("plain rnn cells only" in i.value for i in at.info), "said, not failed"
    at.selectbox(key="a_residual").set_value(True)
    at.selectbox(key="a_recurrent_gain").set_value(1.5).run()
    assert_clean(at)
    assert at.subheader[0].value == "A: residual on, layer norm on, g = 1.5"
    assert at.query_params["Ares"] == "on" and at.query_params["Agrec"] == "1.5"
    assert not any(b.proto.type == "primary" for b in at.button if b.key.startswith("preset_"))


def test_ab_page_at_extreme_settings_marks_overflow_without_exception():
    query = {"L": "32", "T": "500", "h": "256", "B": "8", "act": "relu", "grec": "3"}
    query |= {"gin": "3", "dtype": "float32", "Acell": "gru", "Bact": "same"}  # B: relu
    at = open_app(query, page=AB)
    assert_clean(at)
    assert any("A and B:" in i.value and "B = 1" in i.value for i in at.info), "shared budget"
    assert any("Overflow in B" in w.value for w in at.warning)
    ratio = chart_with(at, "ratio")
    assert "inf / nan (overflow)" in [t.get("name") for t in ratio["data"]]
    at = open_app({"L": "1", "T": "1", "h": "1", "d": "1", "Ares": "on", "Bres": "off"}, page=AB)
    assert_clean(at)


def grad_page_data(at) -> tuple[str, str]:
    return json.dumps(chart_with(at, "l = 1")["data"]), json.dumps(chart_with(at, "W_xh")["data"])


def test_each_remedy_toggle_changes_the_gradient_figures():
    at = open_sections(open_app(page="views/gradient_flow.py"), group_key("Remedies"))
    base = grad_page_data(at)
    toggles = [  # (what, switch it on, switch it off again or None)
        ("residual", lambda: at.checkbox(key="residual").check(),
         lambda: at.checkbox(key="residual").uncheck()),
        ("layer norm", lambda: at.checkbox(key="layer_norm").check(),
         lambda: at.checkbox(key="layer_norm").uncheck()),
        ("dropout", lambda: at.slider(key="dropout").set_value(0.5), None),
        ("cell gru", lambda: at.selectbox(key="cell").set_value("gru"), None),
        ("cell lstm", lambda: at.selectbox(key="cell").set_value("lstm"),
         lambda: at.selectbox(key="cell").set_value("rnn")),
    ]  # fmt: skip
    seen = {base}
    for name, on, off in toggles:
        on().run()
        assert_clean(at)
        now = grad_page_data(at)
        assert now[0] != base[0] and now not in seen, f"{name} changed the |G| lines"
        seen.add(now)
        if off:
            off().run()
    at.radio(key="dropout_mode").set_value("eval").run()  # dropout p = 0.5, switched off
    assert_clean(at)
    assert grad_page_data(at) == base, "eval mode: no dropout, the same numbers as p = 0"
    at.slider(key="dropout").set_value(0.0).run()
    at.number_input(key="clip_norm").set_value(0.1).run()
    assert_clean(at)
    lines, bars = grad_page_data(at)
    assert lines == base[0] and bars != base[1], "clipping: G unchanged, parameter grads clipped"


def test_both_sides_share_the_budget_and_the_input():
    from app.runs import budget

    big = replace(preset_settings("LSTM"), num_layers=32, steps=500, hidden_size=256)
    pair = ab_sides.plan_pair(replace(big, batch=8))
    a, b = pair.spec_a, pair.spec_b
    assert (a.steps, a.batch) == (b.steps, b.batch) and a.batch == 1 and a.steps < 500
    seconds = sum(budget.trace_seconds(s.config, s.steps, s.batch, reference=True) for s in (a, b))
    assert seconds <= budget.TRACE_SECONDS and any(n.startswith("A and B:") for n in pair.notices)
    assert (a.init, a.signal) == (b.init, b.signal), "same init (seed included) and input"
    assert a.config.cell == "lstm" and b.config.cell == "rnn"


def test_overrides_become_settings():
    s = preset_settings("dropout 0.5", dropout_mode="eval")
    a, b = ab_sides.side_settings(s, "a"), ab_sides.side_settings(s, "b")
    assert (a.dropout, a.dropout_mode) == (0.5, "train"), "an overridden p runs in training mode"
    assert b.dropout == 0.0 and ab_sides.label(s, "a") == "dropout p = 0.5"
    s = preset_settings("clipping at 0.1")
    assert (
        ab_sides.side_settings(s, "a").clip_norm == 0.1
        and ab_sides.side_settings(s, "b").clip_norm == 0
    )
    assert ab_sides.label(s, "b") == "your settings (tanh RNN)"
    s = replace(preset_settings("clipping at 0.1"), b_clip_norm=1.0)
    assert ab_sides.label(s, "b") == "clip norm 1", "an override of B names itself"


def test_b_is_the_sidebar_and_a_changes_only_the_presets_fields():
    for name, sidebar, field, value in (
        ("LSTM", dict(activation="relu"), "cell", "lstm"),
        ("residual on", dict(cell="per layer", cell_layers="rnn,gru"), "residual", True),
        ("orthogonal init", dict(activation="per layer", activation_layers="relu,tanh"),
         "scheme", "orthogonal"),
    ):  # fmt: skip
        settings = preset_settings(name, **sidebar)
        pair = ab_sides.plan_pair(settings)
        a, b = pair.spec_a, pair.spec_b
        mine = compute.plan(controls.Settings(**(DEFAULTS | sidebar)), (a.config,)).spec
        assert b == mine, f"{name}: B runs exactly the sidebar's settings"
        if field == "scheme":
            changed = replace(b, init=replace(b.init, scheme=value))
            assert a == changed, f"{name}: A is B with the scheme changed"
        else:
            assert a == replace(b, config=replace(b.config, **{field: value})), name
    at = open_app({"act": "relu", "cell": "per layer", "cells": "rnn,gru"}, page=AB)
    assert_clean(at)
    assert [h.value for h in at.subheader][:2] == ["A: LSTM", "B: your settings (per-layer cells)"]
    assert any("**B** is your sidebar settings as they are" in m.value for m in at.markdown)


def test_hidden_page_shows_the_cores_gate_saturation_for_gated_layers():
    from deeprnn_core.analysis.summaries import gate_saturation
    from deeprnn_core.engine.norms import stable_norm

    query = {"cell": "per layer", "cells": "rnn,gru,lstm,lstm", "init": "gaussian", "grec": "3"}
    at = open_app(query, page="views/hidden_states.py")
    assert_clean(at)
    spec = compute.plan(controls.Settings(**DEFAULTS | controls.from_query(query)[0])).spec
    tr = core_run(spec)
    gates = chart_with(at, "f")
    for gate, fraction in gate_saturation(tr).items():
        np.testing.assert_allclose(values(by_name(gates, gate)["z"]), fraction, rtol=1e-6)
    cell_grad = stable_norm(tr.grad_cell_state, (2, 3))
    lines = [c for c in charts_named(at, "l = 3") if "LSTM layer" in json.dumps(c["layout"])]
    np.testing.assert_allclose(values(by_name(lines[0], "l = 3")["y"]), cell_grad[2], rtol=1e-6)
    at = open_app(page="views/hidden_states.py")  # plain rnn: no gate section
    assert not any("Gate saturation" in h.value for h in at.subheader)


def charts_named(at, trace_name: str) -> list[dict]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [s for s in specs if trace_name in [t.get("name") for t in s["data"]]]


def test_two_sides_that_are_one_run_get_the_budget_of_one_trace():
    """Sidebar LSTM, preset LSTM: A and B are one run, one cached trace. Priced as two, the
    budget cut T to 1 at L = 32, h = 256 (two 466 MB LSTM traces never fit 1024 MB together)
    and the notice said that kept them "within 1024 MB", which was false either way."""
    big = replace(preset_settings("LSTM"), num_layers=32, steps=500, hidden_size=256, batch=8)
    big = replace(big, cell="lstm")
    pair = ab_sides.plan_pair(big)
    alone = compute.plan(ab_sides.side_settings(big, "b"))
    assert pair.spec_a == pair.spec_b == alone.spec
    assert pair.spec_a.steps > 1 and pair.spec_a.steps == alone.spec.steps


def test_two_runs_over_the_budget_even_at_t_1_say_so_instead_of_claiming_to_fit():
    from app.runs import budget

    big = replace(preset_settings("LSTM"), num_layers=32, steps=500, hidden_size=256, batch=8)
    pair = ab_sides.plan_pair(replace(big, cell="lstm", a_cell="gru"))
    a, b = pair.spec_a, pair.spec_b
    assert (a.steps, a.batch) == (1, 1) and {a.config.cell, b.config.cell} == {"lstm", "gru"}
    peak, _ = budget.traces_need((a.config, b.config), 1, 1, a.dtype)
    assert peak > budget.MAX_TRACE_BYTES
    assert not any("To stay within" in n for n in pair.notices), pair.notices
    [notice] = [n for n in pair.notices if "even at T = 1 and B = 1" in n]
    assert f"about {peak >> 20} MB" in notice and "no recurrence to see" in notice
