"""The Phase diagram page in AppTest: no exception, its numbers are the core's, its words follow
them, and gated cells get measured spectra instead."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from app.runs import compute
from app.runs import theory as compute_theory
from app.settings import controls
from deeprnn_core import InitSpec, Model, trace
from deeprnn_core.analysis import spectra
from deeprnn_core.data.signals import make_signal
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.theory import phase
from tests.figure_data import by_name, values

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
TINY = {"L": "3", "T": "12", "h": "16", "init": "gaussian", "grec": "1.3", "gin": "0.7"}
DEFAULTS = {c.key: c.default for c in controls.CONTROLS}


def open_phase(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page("views/phase_diagram.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def chart(at: AppTest, trace_name: str) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [s for s in specs if any(trace_name == t.get("meta") for t in s["data"])]
    assert len(found) == 1, f"one chart holds a trace with meta {trace_name!r}"
    return found[0]


def spec_of(query: dict) -> compute.TraceSpec:
    settings = dict(DEFAULTS)
    for key, text in query.items():
        control = controls.BY_URL[key]
        settings[control.key] = controls.decode(control, text)
    return compute.plan(controls.Settings(**settings)).spec


def test_phase_page_draws_the_cores_diagram_and_sweep():
    at = open_phase(TINY | {"pseeds": "1"})
    spec = spec_of(TINY | {"pseeds": "1"})
    fig = chart(at, "chi_h")
    sigma_b2 = theory.bias_variance(spec.config, spec.init.bias_scale)
    gains = compute_theory.PHASE_GAINS
    want = phase.phase_diagram("tanh", gains, gains, sigma_b2)
    np.testing.assert_allclose(values(by_name(fig, "chi_h")["z"]), np.log10(want.chi_h), atol=1e-6)
    np.testing.assert_allclose(values(by_name(fig, "chi_x")["z"]), np.log10(want.chi_x), atol=1e-6)
    star = by_name(fig, "current time")
    assert (values(star["x"])[0], values(star["y"])[0]) == (1.3, 0.7)
    sweep, _ = compute_theory.phase_sweep_plan(spec, 1)
    points = [(a, b) for a in compute_theory.SWEEP_GAINS for b in compute_theory.SWEEP_GAINS]
    init = InitSpec("gaussian", bias_scale=sweep.bias_scale)
    measured = phase.measured_phase_points(
        sweep.config, points, sweep.steps, sweep.seeds, sweep.batch, init, "noise"
    )
    shown = values(by_name(fig, "measured time")["customdata"])
    np.testing.assert_allclose(shown[:, 0], measured.rate_time, rtol=1e-6)
    np.testing.assert_allclose(shown[:, 1], measured.predicted_time, rtol=1e-6)
    assert values(by_name(fig, "pick time")["x"]).size > 100, "the plane is clickable"


def test_phase_page_words_follow_its_numbers():
    for gains in ({"grec": "0.5", "gin": "0.5"}, {"grec": "2.5", "gin": "2"}):
        at = open_phase(TINY | gains | {"psweep": "0"})
        text = " ".join(m.value for m in at.markdown)
        factors = re.findall(r"chi_(h|x)\$ = \*\*([0-9.e+-]+)\*\*: \$E\|G\|\^2\$ (\w+)", text)
        assert len(factors) == 2, text
        for _, value, verb in factors:
            assert verb == ("shrinks" if float(value) < 1 else "grows"), (value, verb)
        total = float(re.search(r"chi_x\$ = \*\*([0-9.e+-]+)\*\*: summed", text).group(1))
        assert ("ordered" in text) == (total < 1) and ("chaotic" in text) == (total > 1), text
        assert ("per step grows: the chaotic" in text) == (total > 1), text
        s = spec_of(TINY | gains)
        model = Model.init(s.config, s.init)
        verdicts = re.findall(r"1/γ = 1: ([a-z ]+[a-z])", text)
        assert len(verdicts) == 3, text
        for top, verdict in zip(spectra.pascanu_bound(model).top_singular, verdicts):
            assert (verdict == "vanishing is guaranteed") == (top < 1), (top, verdict)


def test_phase_words_near_critical_are_about_level():
    """Issue 17: a factor that prints as 1.00 gets no shrinks / grows."""
    from app.views.phase_diagram import factor_sentence

    for chi in (1.004, 0.996, 1.0):
        text = factor_sentence("x", chi, "per step", "steps")
        assert "stays about level" in text and "grows" not in text and "shrinks" not in text
    assert "grows" in factor_sentence("x", 1.02, "per step", "steps")


def test_gated_cells_show_measured_spectra_instead():
    query = TINY | {"cell": "lstm"}
    at = open_phase(query)
    assert any(f"closed form is for {theory.SCOPE}" in i.value for i in at.info)
    spec = spec_of(query)
    model = Model.init(spec.config, spec.init)  # gaussian, g = (1.3, 0.7)
    x = make_signal(spec.signal, spec.steps, spec.batch, spec.config.input_size, spec.seed)
    want = spectra.jacobian_spectra(model, trace(model, x))
    fig = chart(at, "time")
    np.testing.assert_allclose(values(by_name(fig, "time")["customdata"]), want.mean()[0], 1e-6)
    np.testing.assert_allclose(values(by_name(fig, "depth")["customdata"]), want.mean()[1], 1e-6)
    cell = values(by_name(fig, "cell")["customdata"])
    np.testing.assert_allclose(cell, want.cell_time.mean(-1), rtol=1e-6)
    assert not any(s["data"][0].get("meta") == "chi_h" for s in map(json.loads, (
        c.proto.spec for c in at.get("plotly_chart"))))  # fmt: skip


def test_theory_vs_measured_is_the_cores_and_its_sentence_follows_the_settings():
    spec = spec_of(TINY)
    predicted, measured, r2 = compute_theory.theory_vs_measured(spec, 2)
    init = InitSpec("gaussian", 1.3, 0.7, spec.init.bias_scale)
    want, moment = phase.measured_grad_sq(spec.config, init, [0, 1], spec.steps, spec.batch)
    np.testing.assert_allclose(measured, want, rtol=1e-12)
    pred = theory.predicted_grad_sq(spec.config, init, moment, batch=1)
    np.testing.assert_allclose(predicted, pred, rtol=1e-12)
    assert r2 == phase.r_squared(pred, want)
    words = compute_theory.when_to_trust(spec, r2)
    assert f"{r2:.3f}" in words and "h = 16" in words and "gaussian init" not in words
    torch_words = compute_theory.when_to_trust(spec_of(TINY | {"init": "torch", "h": "200"}), r2)
    assert "this run uses torch" in torch_words and "h = " not in torch_words


def test_at_t_1_the_sign_check_and_the_sweep_say_there_is_no_path_through_time():
    """T = 1 has no step through time: no "0 of 0 agree" on the Phase diagram, and the Depth
    sweep's time-only measure says no path (it said "fewer than two depths")."""
    from tests.test_app import assert_clean, open_app

    at = open_app({"L": "2", "T": "1"}, "views/phase_diagram.py")
    assert_clean(at)
    said = " ".join(c.value for c in at.caption)
    assert "0 of 0" not in said and "time: no path, nothing to compare" in said
    assert re.search(r"depth: \d+ of \d+", said)
    at = open_app({"L": "2", "T": "1"}, "views/depth_sweep.py")
    assert_clean(at)
    said = " ".join(m.value for m in at.markdown)
    assert "no path (T = 1) at every depth; no direction" in said
    assert "fewer than two depths" not in said
    assert "W_hh^(L)`: no path (T = 1: W_hh only multiplies H_0 = 0" in said
