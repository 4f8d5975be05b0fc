"""The table of controls: URL encoding, fallbacks, and the plan handed to the core."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from app.runs import budget, compute
from app.settings import controls, rules
from deeprnn_core.engine.cost import layout_seconds

DEFAULTS = controls.Settings(**{c.key: c.default for c in controls.CONTROLS})


def test_keys_and_url_names_are_unique_and_every_default_is_legal():
    assert len(controls.BY_KEY) == len(controls.CONTROLS) == len(controls.BY_URL)
    for c in controls.CONTROLS:
        assert controls.decode(c, controls.encode(c, c.default)) == c.default, c.key
        if c.options:
            assert c.default in c.options, c.key
        if c.low is not None:
            assert c.low <= c.default <= c.high, c.key


def test_query_round_trip():
    settings = replace(
        DEFAULTS, num_layers=9, recurrent_gain=1.35, activation="relu", residual=True,
        layers_shown=(1, 5), clip_norm=2.5, seed=123,
    )  # fmt: skip
    values, notices = controls.from_query(controls.to_query(settings))
    assert notices == [] and controls.Settings(**values) == settings


@pytest.mark.parametrize(
    "name, text",
    [("L", "abc"), ("L", "0"), ("L", "4.5"), ("T", "501"), ("grec", "inf"), ("grec", "-1"),
     ("act", "softmax"), ("res", "maybe"), ("show", "1,99"), ("show", "2,2"), ("show", "x")],
)  # fmt: skip
def test_bad_values_fall_back_to_the_default_with_a_notice(name, text):
    values, notices = controls.from_query({name: text})
    control = controls.BY_URL[name]
    assert values[control.key] == control.default
    assert len(notices) == 1 and f"{controls.quote(name)} = {controls.quote(text)}" in notices[0]


def test_unknown_parameters_are_named():
    values, notices = controls.from_query({"zzz": "1"})
    assert values == {c.key: c.default for c in controls.CONTROLS}
    assert notices == ["Unknown URL parameter `zzz` was ignored."]


def test_per_layer_lists_are_repaired():
    names, notices = rules.per_layer("tanh, RELU ,bogus", ("tanh", "relu"), 4, "φ")
    assert names == ("tanh", "relu", "tanh", "tanh") and len(notices) == 2
    assert rules.per_layer("tanh,relu,tanh", ("tanh", "relu"), 2, "φ")[0] == ("tanh", "relu")


def test_plan_keeps_every_legal_position_within_the_budgets():
    biggest = replace(DEFAULTS, num_layers=32, steps=500, hidden_size=256, batch=8, cell="lstm")
    plan = compute.plan(biggest)
    spec = plan.spec
    assert plan.error is None and spec.batch == 1 and spec.steps < 500 and plan.notices
    assert budget.trace_seconds(spec.config, spec.steps, spec.batch, reference=True) <= (
        budget.TRACE_SECONDS
    )  # the budget compares fixed-rate prices (budget.py): the same in a warm process
    sweep, notices = compute.sweep_plan(spec, 32, 16)
    seconds = budget.sweep_seconds(
        spec.config, sweep.base.steps, 32, len(sweep.seeds), reference=True
    )
    assert seconds <= budget.SWEEP_SECONDS and sweep.base.batch == 1
    assert notices


def test_plan_turns_off_layer_norm_for_gated_cells_and_reports_core_errors():
    plan = compute.plan(replace(DEFAULTS, cell="gru", layer_norm=True))
    assert plan.error is None and not plan.spec.config.layer_norm
    assert any("Layer norm" in n for n in plan.notices)
    plan = compute.plan(replace(DEFAULTS, dropout=1.0))  # no widget allows it; the core's
    assert plan.spec is None and "dropout" in plan.error  # message is shown, not a traceback
    assert compute.plan(replace(DEFAULTS, clip_norm=0.0)).spec.clip_norm is None
    plan = compute.plan(replace(DEFAULTS, recurrent_gain=-1.0))  # nor this: InitSpec's words
    assert plan.spec is None and "recurrent_gain must be a finite number >= 0" in plan.error


def test_the_url_reaches_the_weights_as_one_init_spec():
    """The five init controls of a link become one InitSpec that TraceSpec, the sweep's base
    and TrainSpec carry (no loose copy beside it; the run's seed is its seed), and the app's
    weights are Model.init(config, spec.init)."""
    from dataclasses import fields

    from app.runs import training
    from deeprnn_core import InitSpec, Model

    query = {"L": "2", "h": "8", "T": "10", "init": "orthogonal", "grec": "1.25", "gin": "0.5",
             "bias": "0.3", "seed": "7", "n": "20"}  # fmt: skip
    settings = controls.Settings(**(vars(DEFAULTS) | controls.from_query(query)[0]))
    want = InitSpec("orthogonal", 1.25, 0.5, 0.3, 7)
    trace_spec, train_spec = compute.plan(settings).spec, training.plan(settings).spec
    sweep, _ = compute.sweep_plan(trace_spec, 3, 2)
    for spec in (trace_spec, sweep.base, train_spec):
        assert spec.init == want and spec.seed == 7, spec
        loose = {"scheme", "recurrent_gain", "input_gain", "bias_scale", "seed"}
        assert not loose & {f.name for f in fields(spec)}, "one InitSpec, not five fields"
        assert hash(spec) == hash(replace(spec)), "still a small hashable cache key"
    assert sweep.seeds == (7, 8)
    drawn = Model.init(trace_spec.config, trace_spec.init).params
    assert (
        drawn["weight_hh_l1"] == Model.init(trace_spec.config, want).params["weight_hh_l1"]
    ).all()


# Hostile URLs (issue 11): every value decodes to the default plus one short notice in which
# the user's text is cut and every markdown / KaTeX / HTML character is escaped.
ATTACKS = {
    "markdown link": ("act", "x`[click me](http://example.invalid/phish)`"),
    "KaTeX href": ("act", "$\\href{http://example.invalid}{click}$"),
    "HTML": ("x", "<img src=x onerror=alert(1)><a href='http://example.invalid'>a</a>"),
    "10 KB value": ("acts", "tanh," * 2048),
    "400 nines": ("seed", "9" * 400),
    "1 and 400 zeros": ("L", "1" + "0" * 400),
    "full-width digits": ("L", "\uff18"),
    "Arabic-Indic digits": ("T", "\u0664\u0660"),
    "underscore digits": ("T", "1_0"),
    "huge float": ("grec", "1e999"),
    "newline heading": ("cell", "rnn\n# heading"),
}
ACTIVE = "$[<*_\n\\"  # what markdown, KaTeX or HTML would act on outside a code span
CODE = re.compile(r"(`+) ?(.*?) ?\1(?!`)")  # a code span and what it shows


def outside_code(notice: str) -> str:
    return CODE.sub("", notice)


@pytest.mark.parametrize("name, text", ATTACKS.values(), ids=ATTACKS.keys())
def test_hostile_values_give_the_default_and_a_cut_notice_showing_text_as_text(name, text):
    values, notices = controls.from_query({name: text})
    control = controls.BY_URL[name]
    assert values[control.key] == control.default
    assert len(notices) == 1
    notice = notices[0]
    assert len(notice) < 300, "the notice is cut"
    assert not any(bad in outside_code(notice) for bad in ACTIVE), notice
    shown = [m.group(2) for m in CODE.finditer(notice)]
    cut = text.replace("\n", "\ufffd")[: controls.MAX_SHOWN - 1]
    assert any(s.startswith(cut) for s in shown), "the text is shown as text, in a code span"
    if len(text) > controls.MAX_SHOWN:
        assert f"({len(text):,} characters, cut)" in notice


def test_per_layer_list_notices_quote_and_cut_the_users_text():
    text = "<b>tanh</b>,[x](http://example.invalid)," + "relu," * 50
    _, notices = rules.per_layer(text, ("tanh", "relu"), 4, "φ per layer")
    assert not any(bad in outside_code(notices[0]) for bad in ACTIVE), notices[0]
    assert len(notices[0]) < 300


@pytest.mark.parametrize("text", ["a`b", "``x", "x`", "plain", "$x$ <b>"])
def test_quote_fences_backticks_and_keeps_the_text(text):
    quoted = controls.quote(text)
    match = CODE.fullmatch(quoted)
    assert match and match.group(2) == text, quoted


def test_duplicated_keys_use_the_last_and_say_so():
    values, notices = controls.from_query({"L": ["2", "30"]})
    assert values["num_layers"] == 30
    assert notices == ["URL parameter `L` was given 2 times (`2`, `30`); using the last."]


@pytest.mark.parametrize(
    "name, text, value", [("L", "+4", 4), ("seed", "007", 7), ("res", "true", True),
                          ("show", "3, 1", (3, 1))],
)  # fmt: skip
def test_normalized_values_are_kept_and_reported(name, text, value):
    values, notices = controls.from_query({name: text})
    assert values[controls.BY_URL[name].key] == value
    assert len(notices) == 1 and "was read as" in notices[0]


def test_numbers_spelled_plainly_give_no_notice():
    values, notices = controls.from_query({"grec": "1.50", "L": "12", "clip": "0.25"})
    assert notices == [] and values["recurrent_gain"] == 1.5 and values["num_layers"] == 12


def test_layers_outside_the_network_are_named_when_dropped():
    from tests.test_app import open_app

    at = open_app({"show": "10,20,2"}, page="views/hidden_states.py")
    assert not at.exception
    assert any("10, 20 are not layers" in i.value for i in at.info), [i.value for i in at.info]


def test_the_time_shown_follows_the_measured_speed_and_the_cut_does_not():
    """The estimate shown follows the machine; what a run is cut to is priced in reference
    units, so it is the same at every speed (issue 17: links reproduce exactly)."""
    config = compute.plan(DEFAULTS).spec.config
    heavy = replace(config, num_layers=32, hidden_size=256, cell="lstm")
    before = budget.speed()
    cut = budget.fit_trace(heavy, 500, 8)
    try:
        estimate = budget.trace_seconds(config, 200, 4)
        reference = budget.trace_seconds(config, 200, 4, reference=True)
        for _ in range(20):
            budget.observe(1.0, 3.0)  # the machine runs 3x slower than the constants
        assert budget.speed() == pytest.approx(3.0, rel=1e-3)
        layout = layout_seconds(config)  # memory-bound: it does not follow the speed
        assert budget.trace_seconds(config, 200, 4) == pytest.approx(
            budget.speed() * (estimate - layout) / before + layout
        )
        assert budget.trace_seconds(config, 200, 4, reference=True) == reference
        assert budget.fit_trace(heavy, 500, 8) == cut and cut[0] < 500
        budget.observe(1.0, 1e6)
        assert budget.speed() <= budget.SPEED_LIMITS[1]
        budget.observe(0.01, 5.0)  # too short to count
        assert budget.speed() <= budget.SPEED_LIMITS[1]
    finally:
        budget._speed["trace"] = before


def test_ab_overrides_are_typed_rows_of_the_one_table_and_old_urls_decode_the_same():
    old = {"Ares": "on", "Bln": "off", "Aclip": "off", "Bclip": "0.1", "Bp": "0.25"}
    values, notices = controls.from_query(old | {"Agrec": "1", "Acell": "gru", "Bsched": "same"})
    assert not notices, notices
    typed = {"a_residual": True, "b_layer_norm": False, "a_clip_norm": 0.0, "b_clip_norm": 0.1}
    typed |= {"b_dropout": 0.25, "a_recurrent_gain": 1.0, "a_cell": "gru"}
    for key, value in typed.items():
        assert values[key] == value and type(values[key]) is type(value), key
    assert values["b_schedule"] == controls.SAME
    query = controls.to_query(controls.Settings(**values))
    assert {k: query[k] for k in old} == old, "the URL spells them as before"
    _, notices = controls.from_query({"Ares": "yes"})
    assert notices and "expected one of `same`, `on`, `off`" in notices[0]


def test_the_table_and_codec_import_without_streamlit():
    import subprocess
    import sys

    code = "import sys, app.settings.controls; assert 'streamlit' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_training_fits_its_validation_split_into_the_time_budget():
    from app.runs import training

    biggest = replace(DEFAULTS, num_layers=32, steps=500, hidden_size=256, cell="lstm",
                      train_steps=3000, train_batch=256)  # fmt: skip
    plan = training.plan(biggest)
    spec = plan.spec
    assert plan.error is None and spec.validation < training.VALIDATION
    assert spec.validation >= budget.MIN_VALIDATION, "a baseline on one sequence says nothing"
    assert any("validation sequences" in n for n in plan.notices), plan.notices
    assert training.estimate_seconds(spec, reference=True) <= budget.TRAIN_SECONDS
    assert training.task_of(spec).x_val.shape[1] == spec.validation
    small = training.plan(replace(DEFAULTS, num_layers=1, hidden_size=8, train_steps=20)).spec
    assert small.validation == training.VALIDATION, "a run that fits keeps the whole split"


def test_the_phase_sweep_averages_fewer_seeds_when_they_would_not_fit():
    from app.runs import theory as compute_theory

    spec = compute.plan(replace(DEFAULTS, num_layers=32, steps=500, hidden_size=256)).spec
    sweep, notices = compute_theory.phase_sweep_plan(spec, 8)
    seconds = compute_theory.phase_sweep_seconds(sweep, reference=True)
    assert seconds <= budget.PHASE_SWEEP_SECONDS or len(sweep.seeds) == 1
    if len(sweep.seeds) < 8:
        n = len(sweep.seeds)  # "1 seed", "2 seeds": the count decides (ngettext)
        said = f"averages {n} seed{'s' if n > 1 else ''} per point (of 8)"
        assert any(said in notice for notice in notices), notices
