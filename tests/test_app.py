"""Every page in Streamlit's AppTest: no exception, numbers equal the core's, URL round trip.

The charts are read from the element protos (``proto.spec`` is the figure's JSON), so these
tests check the numbers a browser would draw, computed here again with deeprnn_core directly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.runs import compute
from app.settings import controls, state
from deeprnn_core import Model, trace
from deeprnn_core.analysis.measures import MEASURES
from deeprnn_core.analysis.summaries import attenuation, cell_norms, depth_sweep, measures
from deeprnn_core.config import ACTIVATION_RULE, applicability
from deeprnn_core.data.signals import make_signal
from tests.figure_data import by_name, names, values

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
PAGES = {
    "views/information_flow.py": ["cell picker", "H"],
    "views/hidden_states.py": ["H^(1)", "rho"],
    "views/gradient_flow.py": ["l = 1", "W_xh"],
    "views/depth_sweep.py": ["corner", "w_hh"],
    "views/plain_vs_deep.py": [],
    "views/ab_compare.py": ["A |G|", "ratio"],
}
DEFAULTS = {c.key: c.default for c in controls.CONTROLS}
F32 = dict(rtol=1e-6, atol=0)


def open_app(query: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    if not query and not page:  # "/" opens the Lesson unless the URL carries lab settings
        page = "views/information_flow.py"
    if page:
        at.switch_page(page).run()
    return at


def open_sections(at: AppTest, *keys: str) -> AppTest:
    """Open closed sidebar sections (state.section) as a click on their header does."""
    for key in keys:
        at.session_state[state.stored(key)] = True  # where a click keeps it (state.section)
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def chart_with(at: AppTest, trace_name: str) -> dict:
    found = [c for c in charts(at) if trace_name in names(c) + [t.get("meta") for t in c["data"]]]
    assert len(found) == 1, f"one chart holds a trace {trace_name!r}"
    return found[0]


def core_trace(**changes):
    """The trace the app should show for the defaults plus ``changes``, run by the core
    directly (no Streamlit cache)."""
    spec = compute.plan(controls.Settings(**(DEFAULTS | changes))).spec
    c = spec.config
    model = Model.init(c, spec.init)
    x = make_signal(spec.signal, spec.steps, spec.batch, c.input_size, spec.seed)
    return spec, trace(
        model, x, loss_kind=spec.loss_kind, dtype=spec.dtype, clip_norm=spec.clip_norm
    )


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_draws_at_defaults(page):
    at = open_app(page=page)
    assert_clean(at)
    for name in PAGES[page]:
        chart_with(at, name)
    assert at.title[0].value, "every page has a title"
    assert at.markdown, "and an explanation"
    assert at.query_params["L"] == "4" and at.query_params["T"] == "50"


@pytest.mark.parametrize(
    "page, url",
    [("views/hidden_states.py", "hidden"), ("views/gradient_flow.py", "gradients"),
     ("views/depth_sweep.py", "sweep"), ("views/plain_vs_deep.py", "compare"),
     ("views/ab_compare.py", "ab"), ("views/phase_diagram.py", "phase")],
)  # fmt: skip
def test_renamed_page_files_keep_their_old_url_paths(page, url):
    at = open_app({"L": "1", "T": "2", "h": "2", "Lmax": "2", "S": "1", "psweep": "0"}, page)
    assert at.session_state["_page"] == url, "a shared link /<url> still opens this page"


def test_flow_numbers_are_the_cores_and_follow_L_and_T():
    at = open_app()
    _, tr = core_trace()
    both = values(by_name(chart_with(at, "cell picker"), "cell picker")["customdata"])
    hidden_norm, grad_hidden_norm = cell_norms(tr)
    np.testing.assert_allclose(both[:, 0], hidden_norm.ravel(), **F32)
    np.testing.assert_allclose(both[:, 1], grad_hidden_norm.ravel(), **F32)
    at.slider(key="num_layers").set_value(6).run()
    at.slider(key="steps").set_value(20).run()
    assert_clean(at)
    _, tr = core_trace(num_layers=6, steps=20)
    grid = chart_with(at, "cell picker")
    z = values(by_name(grid, "cells")["z"])
    assert z.shape == (6, 20)
    np.testing.assert_allclose(z, np.log10(cell_norms(tr)[1]), rtol=0, atol=1e-6)
    assert at.query_params["L"] == "6" and at.query_params["T"] == "20"


def test_cell_inspector_shows_the_chosen_vectors():
    at = open_app({"B": "3"})
    at.number_input(key="cell_t").set_value(7)
    at.number_input(key="cell_l").set_value(3)
    at.number_input(key="sample").set_value(2).run()
    assert_clean(at)
    _, tr = core_trace(batch=3)
    hidden, grad = chart_with(at, "H"), chart_with(at, "G")  # two charts: they stack on a phone
    np.testing.assert_allclose(values(by_name(hidden, "H")["y"]), tr.hidden[2, 6, 1], **F32)
    np.testing.assert_allclose(values(by_name(grad, "G")["y"]), tr.grad_hidden[2, 6, 1], **F32)


def test_step_through_dims_the_cells_not_yet_computed():
    at = open_app({"walk": "1", "step": str(4 * 50 + 10)})  # backward, 10 cells of layer 4
    assert_clean(at)
    grid = chart_with(at, "cell picker")
    dim = values(by_name(grid, "not yet computed")["z"])
    assert np.isnan(dim[3, 40:]).all() and (dim[3, :40] == 1).all() and (dim[:3] == 1).all()
    computing = by_name(grid, "computing")
    assert (values(computing["x"])[0], values(computing["y"])[0]) == (41, 4)


def test_extreme_settings_overflow_with_a_banner_and_no_exception():
    query = {"L": "32", "T": "500", "h": "256", "B": "8", "act": "relu", "grec": "3"}
    query |= {"gin": "3", "dtype": "float32"}
    at = open_app(query)
    assert_clean(at)
    banners = [w.value for w in at.warning if "Overflow" in w.value]
    assert banners and "H_" in banners[0], "the banner says where the overflow began"
    assert any("(of 8)" in i.value for i in at.info), "the budget notice says what was reduced"
    grid = chart_with(at, "cell picker")
    assert "inf / nan (overflow)" in names(grid)
    for page in ("views/gradient_flow.py", "views/hidden_states.py"):
        at.switch_page(page).run()
        assert_clean(at)
        assert any("Overflow" in w.value for w in at.warning)


def test_a_backward_overflow_banner_names_g_and_the_backward_order():
    # tanh keeps every H_t^(l) in [-1, 1]; orthogonal W_hh at gain 3 makes G_t^(l) pass float32
    query = {"L": "2", "T": "500", "act": "tanh", "init": "orthogonal", "grec": "3"}
    at = open_app(query | {"dtype": "float32"})
    assert_clean(at)
    _, tr = core_trace(
        num_layers=2, steps=500, scheme="orthogonal", recurrent_gain=3.0, dtype="float32"
    )
    record = tr.overflow_record
    assert record.phase == "backward" and record.quantity == "grad_hidden", record
    banners = [w.value for w in at.warning if "Overflow" in w.value]
    assert len(banners) == 1, banners
    where = f"backward pass: $G_{{{record.t}}}^{{({record.l})}}$"
    assert where in banners[0], f"the banner names {where}: {banners[0]}"
    assert "layer 2 for t = 500..1, then layer 1" in banners[0], "the backward order"
    assert "layer 1 for t = 1..500" not in banners[0], "not the forward order"


def test_bad_query_params_fall_back_with_a_notice():
    query = {"L": "abc", "T": "9999", "zzz": "1", "act": "softmax", "grec": "nan", "ln": "yes"}
    at = open_app(query)
    assert_clean(at)
    notices = " ".join(w.value for w in at.warning)
    for name, text in query.items():
        assert f"{controls.quote(name)} = {controls.quote(text)}" in notices or (
            name == "zzz" and controls.quote(name) in notices
        ), f"the notice names {name}={text}"
    assert at.slider(key="num_layers").value == 4 and at.slider(key="steps").value == 50
    assert at.session_state["activation"] == "tanh" and at.session_state["recurrent_gain"] == 1.0
    assert at.query_params["L"] == "4" and "zzz" not in at.query_params


def test_url_round_trip_reproduces_the_settings_and_the_picture():
    at = open_app()
    at.slider(key="num_layers").set_value(7)
    at.slider(key="steps").set_value(33)
    at.selectbox(key="activation").set_value("relu")
    at.selectbox(key="scheme").set_value("orthogonal")
    at.slider(key="recurrent_gain").set_value(1.25)
    at.number_input(key="seed").set_value(5)
    at.radio(key="color_by").set_value("hidden").run()
    assert_clean(at)
    query = dict(at.query_params)
    again = open_app(query)
    assert_clean(again)
    for c in controls.CONTROLS:
        key = state.stored(c.key)
        assert again.session_state[key] == at.session_state[key], c.key
    assert controls.from_query(query)[0]["recurrent_gain"] == 1.25
    assert charts(again)[0]["data"] == charts(at)[0]["data"], "the same picture"


def test_layer_norm_with_gated_cells_is_ignored_with_a_notice():
    at = open_app({"cell": "lstm", "ln": "1"})
    assert_clean(at)
    assert any("Layer norm" in i.value for i in at.info)


def test_a_per_layer_cell_list_with_gru_disables_layer_norm_with_the_cores_notice():
    at = open_app({"cell": "per layer", "cells": "rnn,gru", "ln": "1"})
    assert_clean(at)
    cells = ("rnn", "gru", "gru", "gru")  # the list repeats its last entry up to L = 4
    [rule] = applicability(cells, 4, 8, 32, layer_norm=True)
    assert rule.layers == (2, 3, 4)
    assert rule.notice in [i.value for i in at.info], "the page says the core's sentence"
    assert at.checkbox(key="layer_norm").disabled, "the sidebar greys layer norm out"
    assert rule.notice in [c.value for c in at.sidebar.caption], "and says why"
    _, tr = core_trace(cell="per layer", cell_layers="rnn,gru", layer_norm=True)
    assert not tr.config.layer_norm, "the run has no layer norm"


@pytest.mark.parametrize(
    "query, acts",
    [
        ({"cell": "lstm", "act": "relu"}, False),
        ({"cell": "gru"}, False),
        ({"cell": "per layer", "cells": "gru,lstm", "act": "per layer"}, False),
        ({"cell": "per layer", "cells": "lstm,rnn"}, True),
        ({"cell": "rnn", "act": "relu"}, True),
    ],
)
def test_activation_is_greyed_out_with_the_cores_rule_when_every_layer_is_gated(query, acts):
    """A gated cell ignores phi: changing Activation with an LSTM changed nothing, silently."""
    at = open_app(query)
    assert_clean(at)
    assert at.sidebar.selectbox(key="activation").disabled is not acts
    said = [c.value for c in at.sidebar.caption if ACTIVATION_RULE in c.value]
    assert bool(said) is not acts
    if query.get("act") == "per layer":
        assert at.sidebar.text_input(key="activation_layers").disabled is not acts


def test_per_layer_lists_are_fixed_with_a_notice():
    at = open_app({"act": "per layer", "acts": "tanh,relu,bogus", "cell": "per layer"})
    assert_clean(at)
    text = " ".join(i.value for i in at.info)
    assert controls.quote("bogus", 12) in text and "repeating the last" in text


def test_hidden_page_heatmaps_are_the_trace():
    at = open_app({"B": "2", "b": "2", "show": "2,4"}, page="views/hidden_states.py")
    assert_clean(at)
    _, tr = core_trace(batch=2)
    heatmaps = chart_with(at, "H^(2)")
    for l in (2, 4):
        z = values(by_name(heatmaps, f"H^({l})")["z"])
        np.testing.assert_allclose(z, tr.hidden[l - 1, :, 1, :].T, **F32)


def test_gradient_page_headline_is_the_cores_attenuation():
    at = open_app({"L": "3", "T": "30"}, page="views/gradient_flow.py")
    assert_clean(at)
    _, tr = core_trace(num_layers=3, steps=30)
    assert at.metric[0].value == f"{attenuation(tr):.2e}"
    table, want = at.table[0].value, measures(tr)
    for (path, row), key in zip(table.iterrows(), MEASURES):
        assert path == MEASURES[key][0]
        assert row["value"].removesuffix(" per step") == f"{want[key]:.2e}", key


def test_sweep_page_is_the_cores_depth_sweep():
    at = open_app(
        {"Lmax": "5", "S": "3", "T": "20", "measure": "corner"}, page="views/depth_sweep.py"
    )
    assert_clean(at)
    spec, _ = core_trace(steps=20)
    sweep_spec, _ = compute.sweep_plan(spec, 5, 3)
    base = sweep_spec.base
    expected = depth_sweep(
        base.config, 5, sweep_spec.seeds, base.steps, init=base.init, signal=base.signal,
        batch=1, loss_kind=base.loss_kind,
    )  # fmt: skip
    median = values(by_name(chart_with(at, "median"), "median")["y"])
    np.testing.assert_allclose(median, expected.measure_quantiles("corner")[1], **F32)
    np.testing.assert_allclose(median, expected.quantiles()[1], **F32)
    at.selectbox(key="sweep_measure").set_value("all").run()
    assert_clean(at)
    lines = chart_with(at, "w_xh")
    for key in MEASURES:
        want = expected.measure_quantiles(key, (0.5,))[0]
        np.testing.assert_allclose(values(by_name(lines, key)["y"]), want, **F32, err_msg=key)
    at.slider(key="sweep_layers").set_value(7).run()
    assert_clean(at)
    assert len(values(by_name(chart_with(at, "corner"), "corner")["y"])) == 7


def test_compare_page_counts_are_the_cores():
    at = open_app({"L": "5"}, page="views/plain_vs_deep.py")
    assert_clean(at)
    spec, _ = core_trace(num_layers=5)
    table = at.table[0].value
    deep = Model.init(spec.config).num_params
    plain = Model.init(compute.plain(spec).config).num_params
    assert table.iloc[1, 0] == f"{plain:,}" and table.iloc[1, 1] == f"{deep:,}"
    _, tr_deep = core_trace(num_layers=5)
    _, tr_plain = core_trace(num_layers=1)
    for key, (name, formula) in MEASURES.items():
        row = table.loc[f"{name}: {formula}"].str.removesuffix(" per step")
        for shown, value in zip(row.iloc[:2], (measures(tr_plain)[key], measures(tr_deep)[key])):
            assert shown == ("—" if np.isnan(value) else f"{value:.2e}"), key
    assert replace(spec, config=compute.plain(spec).config).config.num_layers == 1


def random_query(rng: np.random.Generator) -> dict[str, str]:
    """A random legal setting, kept small (L, T, h) so that many fit in the test's time."""
    pick = lambda options: str(options[rng.integers(len(options))])  # noqa: E731
    return {
        "L": pick([1, 2, 3, 8]), "T": pick([1, 2, 3, 17, 60]), "h": pick([1, 2, 16, 48]),
        "d": pick([1, 5, 32]), "act": pick(["tanh", "relu", "sigmoid", "identity", "per layer"]),
        "acts": pick(["relu", "tanh,identity,sigmoid", "bogus"]),
        "cell": pick(["rnn", "gru", "lstm", "per layer"]), "cells": pick(["lstm,rnn", "gru"]),
        "init": pick(["torch", "gaussian", "orthogonal", "identity"]),
        "grec": pick([0, 0.5, 1.05, 3]), "gin": pick([0, 1, 3]), "bias": pick([0, 1, 2]),
        "seed": pick([0, 7, 2**31 - 1]), "x": pick(["noise", "sine", "impulse", "step"]),
        "B": pick([1, 3, 8]), "loss": pick(["last", "all"]), "dtype": pick(["float64", "float32"]),
        "res": pick([0, 1]), "ln": pick([0, 1]), "p": pick([0, 0.5, 0.9]),
        "mode": pick(["train", "eval"]), "clip": pick([0, 0.1, 1e6]),
        "color": pick(["hidden", "grad"]), "walk": pick([0, 1]), "step": pick([0, 5, 32000]),
        "t": pick([1, 500]), "l": pick([1, 32]), "b": pick([1, 8]), "show": pick(["", "1,32"]),
        "Lmax": pick([1, 5]), "S": pick([1, 3]),
        "Acell": pick(["same", "gru", "lstm"]), "Bact": pick(["same", "relu"]),
        "Ares": pick(["same", "on"]), "Bln": pick(["same", "on", "off"]),
        "Ap": pick(["same", "0.75"]), "Aclip": pick(["same", "0.01"]),
        "Binit": pick(["same", "identity"]), "Agrec": pick(["same", "3"]),
    }  # fmt: skip


@pytest.mark.parametrize("seed", range(8))
def test_random_legal_settings_never_show_an_exception(seed):
    at = open_app(random_query(np.random.default_rng(seed)))
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at)
        assert at.get("plotly_chart") or page == "views/plain_vs_deep.py", f"{page} drew its charts"


def test_reset_puts_every_setting_back_and_page_views_survive_navigation():
    at = open_app({"L": "9", "grec": "2", "color": "hidden", "walk": "1"})
    at.switch_page("views/hidden_states.py").run()
    at.switch_page("views/information_flow.py").run()
    # while stepping, the pass decides the colour and the radio is not drawn: the setting stays
    assert at.query_params["color"] == "hidden" and at.checkbox(key="walk").value
    at.button(key="reset_all").click().run()
    assert_clean(at)
    assert at.slider(key="num_layers").value == 4 and at.slider(key="recurrent_gain").value == 1
    assert at.radio(key="color_by").value == "grad" and at.query_params["L"] == "4"


@pytest.mark.parametrize("where", ["plan", "core"])
def test_refused_settings_end_the_page_with_an_error_and_the_controls_still_drawn(
    where, monkeypatch
):
    """The sidebar's controls are drawn after the page (the router sends the figures first):
    a page that ends on a refusal must not take them with it, or nothing could be changed."""
    if where == "plan":
        refused = compute.Plan(None, (), "hidden_size must be >= 1")
        monkeypatch.setattr(compute, "plan", lambda settings: refused)
    else:

        def summarize(spec):
            raise ValueError("the core refuses this")

        monkeypatch.setattr(compute, "summarize", summarize)
    at = open_app()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The core refused these settings: hidden_size must be >= 1"
        if where == "plan"
        else "The core could not run these settings: the core refuses this"
    ]
    assert not at.get("plotly_chart")
    keys = {s.key for s in at.sidebar.slider}
    assert {"num_layers", "steps", "hidden_size"} <= keys
    assert at.sidebar.button(key="reset_all")


def test_sidebar_sections_keep_their_order_though_the_page_is_drawn_first():
    at = open_app()
    labels = [e.label for e in at.sidebar.expander]
    assert labels == [
        "Architecture", "Initialization", "Input and loss", "Remedies", "Your model and data",
        "Download and export",
    ]  # fmt: skip


def test_the_depth_sweep_follows_the_sidebars_depth():
    """Issue 17: at L = 32 in the sidebar the sweep stopped at 16. Left at 0 ("follow") it runs
    to the sidebar's L (at least 16); a depth set on the page, or in a link, is kept."""
    at = open_app({"L": "20", "T": "10", "h": "8"}, page="views/depth_sweep.py")
    assert_clean(at)
    assert len(values(by_name(chart_with(at, "corner"), "corner")["x"])) == 20
    assert any("L = 1..20 (following the sidebar's L = 20)" in c.value for c in at.caption)
    at.slider(key="num_layers").set_value(24).run()
    assert_clean(at)
    assert len(values(by_name(chart_with(at, "corner"), "corner")["x"])) == 24
    at = open_app({"L": "3", "T": "10", "h": "8"}, page="views/depth_sweep.py")
    assert len(values(by_name(chart_with(at, "corner"), "corner")["x"])) == 16, "at least 16"
    at = open_app({"L": "20", "T": "10", "h": "8", "Lmax": "5"}, page="views/depth_sweep.py")
    assert len(values(by_name(chart_with(at, "corner"), "corner")["x"])) == 5, "a set depth stays"
