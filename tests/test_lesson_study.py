"""The Lesson's shipped study (assets/lesson_study.json) is what app.runs.lesson_study makes: the
file states the module's specs and holds every point of their grids once, and trials trained
again here from the spec stored in the file (the cheapest of each study, ~2-4 s each) give the
file's final validation loss to float64 rounding (torch is deterministic on one thread, and
the study's trial is one ``train`` call, in a Dask worker or here alike)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.runs import lesson_study
from deeprnn_core import study
from deeprnn_core.study import measures


def test_the_file_states_the_specs_and_holds_every_point_once():
    data = json.loads(lesson_study.PATH.read_text(encoding="utf-8"))
    assert data["made_by"] == "app.runs.lesson_study"
    assert data["columns"] == list(lesson_study.COLUMNS)
    assert set(data["specs"]) == set(lesson_study.SPECS)
    for name, spec in lesson_study.SPECS.items():
        assert lesson_study.spec(name) == spec
        table = lesson_study.table(name)
        points = {(r.cell, r.depth, r.lr, r.seed) for r in table.itertuples()}
        assert len(table) == spec.size == len(points)
        assert points == {(c, d, float(lr), s) for c, d, lr, s in spec.points()}


@pytest.mark.parametrize(("name", "cell", "depth"), [("adding", "rnn", 1), ("chars", "rnn", 1)])
def test_a_trial_trained_again_from_the_files_spec_equals_the_file(name, cell, depth):
    spec = lesson_study.spec(name)
    table = lesson_study.table(name)
    lr, seed = spec.lrs[3], spec.seeds[0]
    history = study.trial(spec, cell=cell, depth=depth, lr=lr, seed=seed)
    again = study.summarize(history, history.model.num_params)
    row = table[(table.cell == cell) & (table.depth == depth) & (table.lr == lr)
                & (table.seed == seed)]  # fmt: skip
    assert len(row) == 1
    np.testing.assert_allclose(again["val_loss"], row.val_loss.iloc[0], rtol=1e-9, atol=0)
    np.testing.assert_allclose(again["baseline"], row.baseline.iloc[0], rtol=1e-12, atol=0)
    assert again["diverged"] == row.diverged.iloc[0]


def test_the_measures_read_the_shipped_table():
    windows = measures.good_window(lesson_study.table("chars"))
    assert set(windows.cell) == {"rnn", "lstm"} and len(windows) == 8
    assert np.isfinite(windows.best_median).all()
