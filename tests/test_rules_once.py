"""Each rule is stated once, in the core, and the app reads it (issue 10): a grep of the core
finds the one place that states the rule, and a grep of the app finds no copy of it (a copy
drifts: the sidebar once missed per-layer cell lists in its own "layer norm only on rnn cells"
check). Where a pattern below matches in app/, make that code read the core's name instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = sorted((ROOT / "app").rglob("*.py"))
CORE = sorted((ROOT / "deeprnn_core").rglob("*.py"))

# rule: (the core's statement: a regex matching one line of one core file,
#        restatements the app must not hold, what the app reads instead)
RULES = {
    "layer norm acts on plain rnn cells only": (
        r"^def layer_norm_applies\(",  # reads each Cell's layer_norm flag
        [r"layer_norm\b.*[!=]= ?[\"']rnn", r"[!=]= ?[\"']rnn[\"'].*layer_norm", r"rnn cells only"],
        "config.layer_norm_applies, config.LAYER_NORM_RULE, rules.remedy_rules",
    ),
    "residual needs equal widths, so layer 1 only when d = h": (
        r"^def residual_applies\(",
        [r"residual.*input_size\s*[!=]=", r"[!=]=\s*\S*hidden_size.*residual", r"widths match"],
        "config.residual_applies, config.RESIDUAL_RULE, the residual_width notice",
    ),
    "dropout acts between layers only": (
        r"^def dropout_applies\(",
        [r"acts (only )?between layers", r"fed to layer l ?\+ ?1", r"dropout.*num_layers - 1"],
        "config.dropout_applies, config.DROPOUT_RULE",
    ),
    "phi acts in plain rnn cells only": (
        r"^def activation_applies\(",  # reads each Cell's activation flag
        [r"cells?\[0\] ?[!=]= ?[\"']rnn", r"φ_l of the plain rnn", r"activation.*[!=]= ?[\"']rnn"],
        "config.activation_applies, config.ACTIVATION_RULE, rules.activation_acts",
    ),
    "the engine's order of computation": (
        r"^def computation_order\(",
        [r"layer 1 for t = 1", r"from t = T down to 1", r"then layer L[-−]1"],
        "engine.order.computation_order, engine.order.order_text, Overflow.order",
    ),
    "where the overflow began": (
        r"^class Overflow\b",
        [r"\bre\.(search|match|fullmatch|findall)\(.*(order|overflow|record|pass)"],
        "the Overflow record's fields (phase, quantity, l, t, order)",
    ),
    "the mean-field theory's scope": (
        r"^SCOPE = ",
        [
            r"set\([\w.]*cells\) != \{[\"']rnn[\"']\}",
            r"closed form is for vanilla",
            r"covers plain rnn cells",
        ],
        "theory.SCOPE, theory.scope_gap",
    ),
    "Pascanu's gamma = max phi' and where the bound holds": (
        r"^GAMMA = ",
        [r"[\"']sigmoid[\"']: 0\.25", r"DERIVATIVE_BOUND"],
        "spectra.GAMMA, spectra.pascanu_gamma",
    ),
}


def _matches(files: list[Path], pattern: str) -> list[str]:
    found = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("rule", RULES)
def test_the_core_states_the_rule_once(rule):
    statement = RULES[rule][0]
    found = _matches(CORE, statement)
    assert len(found) == 1, f"{rule!r}: the core should state it in one place, found {found}"


@pytest.mark.parametrize("rule", RULES)
def test_the_app_does_not_restate_the_rule(rule):
    _, restatements, instead = RULES[rule]
    found = [hit for pattern in restatements for hit in _matches(APP, pattern)]
    assert not found, f"{rule!r} restated in the app (read {instead} instead): {found}"


def test_the_patterns_find_a_restatement():
    """Each restatement pattern matches a line that restates its rule, so a clean grep above
    means something (these are the lines issue 10 found in the app, or their like)."""
    samples = {
        "layer norm acts on plain rnn cells only": 'if s.layer_norm and s.cell != "rnn":',
        "residual needs equal widths, so layer 1 only when d = h": (
            "skip = s.residual and s.input_size != s.hidden_size"
        ),
        "dropout acts between layers only": '"no dropout (dropout acts between layers)."',
        "phi acts in plain rnn cells only": "{phi if c.cells[0] == 'rnn' else ''}",
        "the engine's order of computation": '"Order: layer 1 for t = 1..T, then layer 2"',
        "where the overflow began": "match = re.search(r'layer (\\d+)', record.order)",
        "the mean-field theory's scope": 'if set(config.cells) != {"rnn"}:',
        "Pascanu's gamma = max phi' and where the bound holds": (
            'BOUND = {"tanh": 1.0, "sigmoid": 0.25}'
        ),
    }
    assert samples.keys() == RULES.keys()
    for rule, line in samples.items():
        assert any(re.search(p, line) for p in RULES[rule][1]), f"{rule!r} misses {line!r}"
