"""deeprnn_core.study.measures on constructed tables (no training): the window of good
learning rates, the seed spread and the plain-vs-deep verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from deeprnn_core.study import measures

LRS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def table_of(losses: dict, seeds: int = 5, jitter: float = 0.0, diverged=()) -> pd.DataFrame:
    """Rows (cell, depth, lr, seed, val_loss): each (cell, depth) -> one loss per lr of LRS,
    the same at every seed plus seed * jitter."""
    rows = []
    for (cell, depth), per_lr in losses.items():
        for lr, loss in zip(LRS, per_lr):
            for s in range(seeds):
                bad = (cell, depth, lr, s) in diverged
                rows.append((cell, depth, lr, s, loss + s * jitter, "overflow" if bad else None))
    return pd.DataFrame(rows, columns=["cell", "depth", "lr", "seed", "val_loss", "diverged"])


def test_the_window_is_the_run_of_good_lrs_around_the_best():
    t = table_of(
        {
            ("rnn", 1): [1.0, 0.105, 0.10, 0.109, 0.5],  # 3 good lrs: 1e-3..1e-1 = 2 decades
            ("rnn", 4): [1.0, 0.5, 0.10, 0.2, 0.105],  # only 1e-2 around the best: 0 decades
        }
    )
    w = measures.good_window(t, tolerance=0.1).set_index(["cell", "depth"])
    assert w.loc[("rnn", 1), "width"] == pytest.approx(2.0)
    assert w.loc[("rnn", 1), ["lo", "hi", "best_lr"]].tolist() == [1e-3, 1e-1, 1e-2]
    assert w.loc[("rnn", 4), "width"] == 0.0  # 1.0 is good too, but not next to the best
    assert w.loc[("rnn", 4), "good"] == 2
    assert measures.window_trend(w.reset_index(), "rnn", spacing=1.0) == measures.NARROWS
    assert measures.window_trend(w.reset_index(), "rnn", spacing=3.0) == measures.NO_CLEAR_CHANGE


def test_the_window_uses_the_median_over_seeds_and_a_diverged_seed_is_never_good():
    t = table_of({("lstm", 2): [1.0, 0.2, 0.1, 0.105, 1.0]}, seeds=3)
    # two of three seeds at lr 1e-1 diverge: the median there is +inf, the window shrinks
    diverged = {("lstm", 2, 1e-1, 0), ("lstm", 2, 1e-1, 1)}
    t2 = table_of({("lstm", 2): [1.0, 0.2, 0.1, 0.105, 1.0]}, seeds=3, diverged=diverged)
    assert measures.good_window(t)["width"].item() == pytest.approx(1.0)
    assert measures.good_window(t2)["width"].item() == 0.0
    assert np.isinf(measures.scores(t2)).sum() == 2


def test_seed_spread_is_median_and_iqr_per_map_cell():
    t = table_of({("rnn", 1): [1.0, 2.0, 3.0, 4.0, 5.0]}, seeds=5, jitter=0.1)
    s = measures.seed_spread(t)
    row = s[s["lr"] == 1e-2].iloc[0]  # values 3.0, 3.1, 3.2, 3.3, 3.4
    assert row["n"] == 5 and row["median"] == pytest.approx(3.2)
    assert row["q1"] == pytest.approx(3.1) and row["q3"] == pytest.approx(3.3)
    assert row["iqr"] == pytest.approx(0.2)
    assert len(s) == len(LRS)


def test_plain_vs_deep_reads_each_side_at_its_own_best_lr():
    clear = table_of({("rnn", 1): [1, 0.5, 0.3, 0.6, 1], ("rnn", 4): [1, 1, 0.9, 0.1, 1]}, 6, 0.01)
    v = measures.plain_vs_deep(clear, "rnn", 4)
    assert (v.plain_lr, v.deep_lr) == (1e-2, 1e-1)
    assert v.difference == pytest.approx(0.1 - 0.3)
    assert v.high < 0 and v.verdict == measures.AGREES
    worse = table_of({("rnn", 1): [1, 0.5, 0.3, 0.6, 1], ("rnn", 4): [1, 1, 0.6, 0.7, 1]}, 6, 0.01)
    assert measures.plain_vs_deep(worse, "rnn", 4).verdict == measures.DISAGREES


def test_plain_vs_deep_overlapping_seeds_are_not_distinguishable():
    rng = np.random.default_rng(0)
    rows = [
        ("gru", L, 1e-2, s, float(v), None)
        for L in (1, 2)
        for s, v in enumerate(0.3 + 0.1 * rng.standard_normal(5))
    ]
    t = pd.DataFrame(rows, columns=["cell", "depth", "lr", "seed", "val_loss", "diverged"])
    v = measures.plain_vs_deep(t, "gru", 2)
    assert v.low < 0 < v.high and v.verdict == measures.UNCLEAR
    one = t[t["seed"] == 0]
    assert measures.plain_vs_deep(one, "gru", 2).verdict == measures.UNCLEAR  # never one run
    with pytest.raises(ValueError, match="depth 4"):
        measures.plain_vs_deep(t, "gru", 4)
    assert not math.isnan(v.difference)


def test_a_depth_that_learned_nothing_has_no_meaningful_window():
    t = table_of(
        {
            ("rnn", 1): [0.5, 0.2, 0.05, 0.3, 0.5],  # learned: 0.05 < 0.9 x 1/6
            ("rnn", 8): [0.17, 0.166, 0.165, 0.166, 0.17],  # at the baseline at every lr
        }
    )
    t["baseline"] = 1 / 6
    w = measures.good_window(t)
    assert w["learned"].tolist() == [True, False]
    assert w["width"].iloc[1] == pytest.approx(4.0)  # every lr "good" at failing alike
    assert measures.window_trend(w, "rnn", spacing=1.0) == measures.NOT_LEARNED
    assert measures.good_window(t.drop(columns="baseline"))["learned"].isna().all()
