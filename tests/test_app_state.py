"""The table of controls: URL encoding, fallbacks, and the plan handed to the core."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import budget, compute, state

DEFAULTS = state.Settings(**{c.key: c.default for c in state.CONTROLS})


def test_keys_and_url_names_are_unique_and_every_default_is_legal():
    assert len(state.BY_KEY) == len(state.CONTROLS) == len(state.BY_URL)
    for c in state.CONTROLS:
        assert state.decode(c, state.encode(c, c.default)) == c.default, c.key
        if c.options:
            assert c.default in c.options, c.key
        if c.low is not None:
            assert c.low <= c.default <= c.high, c.key


def test_query_round_trip():
    settings = replace(
        DEFAULTS, num_layers=9, recurrent_gain=1.35, activation="relu", residual=True,
        layers_shown=(1, 5), clip_norm=2.5, seed=123,
    )  # fmt: skip
    values, notices = state.from_query(state.to_query(settings))
    assert notices == [] and state.Settings(**values) == settings


@pytest.mark.parametrize(
    "name, text",
    [("L", "abc"), ("L", "0"), ("L", "4.5"), ("T", "501"), ("grec", "inf"), ("grec", "-1"),
     ("act", "softmax"), ("res", "maybe"), ("show", "1,99"), ("show", "2,2"), ("show", "x")],
)  # fmt: skip
def test_bad_values_fall_back_to_the_default_with_a_notice(name, text):
    values, notices = state.from_query({name: text})
    control = state.BY_URL[name]
    assert values[control.key] == control.default
    assert len(notices) == 1 and f"{name}={text}" in notices[0]


def test_unknown_parameters_are_named():
    values, notices = state.from_query({"zzz": "1"})
    assert values == {c.key: c.default for c in state.CONTROLS}
    assert notices == ["Unknown URL parameter `zzz=1` was ignored."]


def test_per_layer_lists_are_repaired():
    names, notices = compute.per_layer("tanh, RELU ,bogus", ("tanh", "relu"), 4, "φ")
    assert names == ("tanh", "relu", "tanh", "tanh") and len(notices) == 2
    assert compute.per_layer("tanh,relu,tanh", ("tanh", "relu"), 2, "φ")[0] == ("tanh", "relu")


def test_plan_keeps_every_legal_position_within_the_budgets():
    biggest = replace(DEFAULTS, num_layers=32, steps=500, hidden_size=256, batch=8, cell="lstm")
    plan = compute.plan(biggest)
    spec = plan.spec
    assert plan.error is None and spec.batch == 1 and spec.steps < 500 and plan.notices
    assert budget.trace_seconds(spec.config, spec.steps, spec.batch) <= budget.TRACE_SECONDS
    sweep, notices = compute.sweep_plan(spec, 32, 16)
    seconds = budget.sweep_seconds(spec.config, sweep.base.steps, 32, len(sweep.seeds))
    assert seconds <= budget.SWEEP_SECONDS and sweep.base.batch == 1
    assert notices


def test_plan_turns_off_layer_norm_for_gated_cells_and_reports_core_errors():
    plan = compute.plan(replace(DEFAULTS, cell="gru", layer_norm=True))
    assert plan.error is None and not plan.spec.config.layer_norm
    assert any("Layer norm" in n for n in plan.notices)
    plan = compute.plan(replace(DEFAULTS, dropout=1.0))  # no widget allows it; the core's
    assert plan.spec is None and "dropout" in plan.error  # message is shown, not a traceback
    assert compute.plan(replace(DEFAULTS, clip_norm=0.0)).spec.clip_norm is None
