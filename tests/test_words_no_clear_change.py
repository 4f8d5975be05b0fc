"""Issue 17: no direction word for "no change". The word functions read one rule
(analysis.measures: clear_change, regime, learned); these are the issue's own numbers, each
of which printed a direction, a verdict or a problem before."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from app.figures import attenuation_words
from app.parts import training_rows
from app.views.hidden_states import timescale_words
from app.words import lesson
from app.words import training as words
from deeprnn_core import Model, RNNConfig, make_task, train
from deeprnn_core.analysis.measures import (
    LEARNED,
    ORDER,
    ROUNDING,
    change_bar,
    clear_change,
    clearly_away_from_one,
    learned,
    regime,
    seed_spread,
)

DIRECTION = ("rose", "fell", "rises", "falls", "more severe", "less severe", "holds")


def test_the_rule_is_the_rounding_of_three_printed_digits_or_the_seeds_spread():
    assert ROUNDING == 0.01 and ORDER == 10 and LEARNED == 0.9
    assert clear_change(0.551, 0.548) == 0 and clear_change(0.626, 0.631) == 0
    assert clear_change(0.398, 0.398) == 0
    assert clear_change(1.0, 1.03) == 1 and clear_change(1.03, 1.0) == -1
    assert clear_change(-0.01, 0.01) == 1  # a gap crossing zero is a change
    assert clear_change(math.nan, 1.0) == 0 and clear_change(1.0, math.inf) == 0
    # three seeds whose log10 spans 0.04 (half: 0.02): a 4 % change is inside their spread
    spread = float(seed_spread(np.array([1.0, 1.05, 1.1])))
    assert spread == pytest.approx(math.log10(1.1) / 2)
    assert clear_change(1.0, 1.04) == 1 and clear_change(1.0, 1.04, spread=spread) == 0
    assert change_bar(spread) == spread and change_bar() == math.log10(1 + ROUNDING)
    assert seed_spread(np.array([[1.0, np.nan], [10.0, 2.0]])).tolist() == [0.5, 0.0]
    for ratio in (1.0, 1.004, 0.996):
        assert not clearly_away_from_one(ratio)
    assert clearly_away_from_one(1.06) and clearly_away_from_one(0.898)


@pytest.mark.parametrize("ratio", [1.00, 1.06, 0.956, 0.898, 0.398, 2.5])
def test_a_ratio_within_a_factor_of_ten_neither_vanishes_nor_explodes(ratio):
    assert regime(ratio, 1) not in ("vanishes", "explodes")
    assert regime(ratio, 7) not in ("vanishes", "explodes")  # a whole-path ratio
    assert regime(0.099, 1) == "vanishes" and regime(10.1, 3) == "explodes"
    assert regime(0.9, 50, per_step=True) == "vanishes"  # 0.9 per step over 50 steps


def test_learned_is_one_rule_on_both_sides_of_the_baseline():
    assert learned(0.999, 1.0) is False and learned(1.03, 1.0) is False
    assert learned(0.5, 1.0) is True and learned(math.nan, 1.0) is None
    assert learned(0.5, None) is None


@pytest.mark.parametrize(
    "key, plain, deep, L, T",
    [
        ("corner_rate", 5.51e-01, 5.48e-01, 2, 50),  # "fell by a factor of 1 ... more severe"
        ("corner_rate", 6.26e-01, 6.31e-01, 32, 500),  # "rose by a factor of 1.01 ... less"
        ("corner", 2.0e-13, 2.0e-13, 2, 50),
    ],
)
def test_plain_vs_deep_near_equal_values_get_no_direction(key, plain, deep, L, T):
    text = lesson.change_sentence(key, plain, deep, L, T)
    assert "no clear change" in text and "does not decide the tutorial's claim" in text, text
    assert not any(word in text for word in DIRECTION), text


@pytest.mark.parametrize("key", ["depth", "depth_rate", "w_xh", "w_hh"])
@pytest.mark.parametrize("deep", [1.00, 1.06, 0.956, 0.898])
def test_no_problem_only_the_deep_network_can_have_near_one(key, deep):
    text = lesson.change_sentence(key, math.nan, deep, 2, 1 if key != "w_hh" else 5)
    assert "a problem only the deep network can have" not in text, text
    assert "claim holds" not in text and "does not decide" in text, text
    assert "vanish" not in text and "explod" not in text, text
    deep_far = lesson.change_sentence(key, math.nan, 1e-3, 2, 5)
    assert "a problem only the deep network can have" in deep_far, deep_far


def test_severity_needs_a_clear_difference_of_distance_from_one():
    text = lesson.change_sentence("corner", 0.5, 2.0, 2, 5)  # |log10| 0.30 at both
    assert "rose by a factor of 4" in text and "no clear difference in severity" in text, text
    assert "claim holds" not in text and "does not hold" not in text, text


def test_the_gradient_row_reports_a_tie_as_mixed_and_l1_as_nothing_to_compare():
    holds = "x: the tutorial's claim holds by this measure."
    fails = "x: **the tutorial's claim does not hold by this measure**."
    tie = dict(zip(["corner", "depth", "time", "w_xh"], [holds, holds, fails, fails]))
    assert lesson.claim_cell(tie, 4).startswith("mixed (2 more, 2 less)")
    assert lesson.claim_cell({"corner": holds, "depth": fails, "time": holds}, 4).startswith(
        "more severe"
    )
    same = {k: lesson.change_sentence(k, 0.5, 0.5, 1, 50) for k in ("corner", "time")}
    assert lesson.claim_cell(same, 1) == "nothing to compare (L = 1)"
    assert "nothing to compare" in lesson.claim_summary(same, 1)
    assert all("nothing to compare" in s and "severe" not in s for s in same.values())


def test_depth_sweep_a_level_curve_does_not_rise_or_fall():
    depths = np.arange(1, 9)
    flat = np.full(8, 3.98e-01)
    text = lesson.sweep_sentence("corner", depths, flat, spread=np.zeros(8), steps=50)
    assert "no clear change with L" in text and "falls" not in text and "rises" not in text
    # under 5 % with three seeds whose spread is wider: no direction either
    curve = np.linspace(1.0, 1.045, 8) * 0.3
    spread = np.full(8, math.log10(1.1) / 2)
    text = lesson.sweep_sentence("corner", depths, curve, spread=spread, steps=50)
    assert "no clear change with L (within the seeds' spread, a factor of 1.05)" in text, text
    text = lesson.sweep_sentence("corner", depths, curve * np.linspace(1, 3, 8), spread=spread)
    assert "rises with L" in text and "beyond the seeds' spread" in text, text


def test_no_path_wording_at_one_layer_and_one_step():
    value, text = attenuation_words(1.0, 1, 1)
    assert value == "—" and text.startswith("**No path:**") and "xplod" not in text
    assert lesson.verdict("w_hh", math.nan, 2, 1).startswith("no path (T = 1")
    assert "undefined" in lesson.verdict("w_hh", math.nan, 2, 5)  # an overflow stays one
    value, text = attenuation_words(0.956, 2, 1)
    assert text.startswith("**Shrinking, not vanishing:**"), text
    assert attenuation_words(1.004, 2, 3)[1].startswith("**About unchanged:**")
    assert attenuation_words(1e-5, 4, 50)[1].startswith("**Vanishing:**")
    assert "no timescale to compare" in timescale_words(np.array([0.0, 0.257]))


@pytest.fixture(scope="module")
def history():
    task = make_task("adding", 8, n_train=32, n_val=8, seed=1)
    model = Model.init(RNNConfig(num_layers=2, input_size=2, hidden_size=4), seed=1)
    return train(model, task, steps=10, lr=0.05, batch_size=4, seed=1, eval_every=5)


def test_training_share_of_0_4_is_not_vanishing(history):
    rising = np.r_[np.full(5, 7.54e-07), np.full(5, 0.398)]
    text = words.attenuation_trend_words(replace(history, attenuation=rising))
    assert "rose from 7.54e-07" in text and "to 0.398" in text, text
    assert "vanishing" not in text.replace("vanishing needs", ""), text
    assert f"within a factor of {ORDER:g} of 1" in text, text
    flat = words.attenuation_trend_words(replace(history, attenuation=np.full(10, 0.05)))
    assert "stayed about the same" in flat and "vanishing at the end" in flat, flat


@pytest.mark.parametrize("factor", [0.999, 1.0, 1.03, 1.05])
def test_did_not_learn_is_one_rule_on_both_sides_of_the_baseline(history, factor):
    run = replace(history, val_loss=np.array([1.2, factor * 0.5]), baseline=0.5)
    text = words.loss_words(run)
    assert "did not learn the task" in text, text
    learned_run = replace(history, val_loss=np.array([1.2, 0.3]), baseline=0.5)
    assert "did not learn" not in words.loss_words(learned_run)


def test_training_words_near_equal_are_about_the_same(history):
    same = replace(history, val_loss=np.array([0.5, 0.501]), baseline=None)
    assert "stayed about the same from 0.5 to 0.501" in words.loss_words(same)
    assert words.gap_words(0.5, 0.502) == "validation 0.002 about equal to training"
    grads = np.tile([1.0, 1.004], (10, 1))
    text = words.grad_words(replace(history, param_grad_norm_w_hh=grads,
                                    param_grad_norm_w_xh=grads))  # fmt: skip
    assert "about as much gradient through time as the top" in text, text
    assert "less gradient" not in text and "more gradient" not in text, text


def study_table(plain: float, deep: float, baseline: float = 1.0, seeds: int = 4):
    """A constructed study table: L = 1 and L = 2 at three learning rates, the middle one
    best at each depth, the seeds 0.001 apart around ``plain`` and ``deep``."""
    import pandas as pd

    rows = [("rnn", L, lr, s, (v + 0.001 * s) * (1.0 if lr == 0.01 else 1.5), None, baseline,
             0.01 * L * 100, 100)
            for L, v in ((1, plain), (2, deep)) for lr in (0.00316, 0.01, 0.0316)
            for s in range(seeds)]  # fmt: skip
    columns = ["cell", "depth", "lr", "seed", "val_loss", "diverged", "baseline", "wall_time",
               "steps_done"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def test_a_cut_comparison_gives_the_numbers_and_no_verdict():
    short = training_rows.too_short(10, 1, 8)
    assert "updates 10" in short and "batch 1" in short and "T 8" in short, short
    assert training_rows.too_short(300, 32, 50) == ""
    table = study_table(0.3, 0.1)
    judged = training_rows.study_verdicts(table, "rnn", 2, (0.01, 0.05), (1e6, 2e6), short)
    for claim, measured, verdict in judged:
        if claim == "Training time and memory grow with L":
            assert verdict == "agrees" and "5.00x the time" in measured, measured
        elif claim != "More parameters overfit more":
            assert any(c.isdigit() for c in measured), measured  # the numbers are shown
            assert verdict.startswith("no verdict: these runs have updates 10"), verdict


def test_the_study_verdict_is_the_bootstrap_one_and_never_one_runs():
    from deeprnn_core.study import measures

    for plain, deep, want in ((0.3, 0.1, measures.AGREES), (0.1, 0.3, measures.DISAGREES),
                              (0.2, 0.2005, measures.UNCLEAR)):  # fmt: skip
        table = study_table(plain, deep)
        judged = dict((c, (m, v)) for c, m, v in training_rows.study_verdicts(
            table, "rnn", 2, (0.01, 0.02), (1e6, 2e6)))  # fmt: skip
        v = measures.plain_vs_deep(table, "rnn", 2)
        measured, verdict = judged["Better on complex tasks"]
        assert verdict == v.verdict == want
        assert f"[{v.low:.3g}, {v.high:.3g}] over 4 seeds" in measured, measured
        # every depth's window is the middle lr alone: no clear change of width
        assert judged["Training is harder"][1] == "no clear difference"
    one_seed = study_table(0.3, 0.1, seeds=1)
    judged = training_rows.study_verdicts(one_seed, "rnn", 2, (0.01, 0.02), (1e6, 2e6))
    assert judged[3][2] == measures.UNCLEAR, "one seed a side carries no verdict"


def test_neither_learned_never_sits_next_to_agrees():
    table = study_table(1.0, 1.1, baseline=1.0)
    judged = training_rows.study_verdicts(table, "rnn", 2, (0.01, 0.05), (1e6, 2e6))
    better = [row for row in judged if row[0] == "Better on complex tasks"][0]
    assert "neither learned the task" in better[1] and better[2].startswith("no verdict"), better
    harder = [row for row in judged if row[0] == "Training is harder"][0]
    assert harder[2].startswith("no verdict"), harder
