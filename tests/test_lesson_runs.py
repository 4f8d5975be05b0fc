"""The Lesson's shipped training runs (assets/lesson_runs.json) are what app.runs.lesson_runs
makes: the file names the same runs and settings, and one run trained again here (the
shortest, ~2 s) equals the file to float64 rounding (torch is deterministic on one thread)."""

from __future__ import annotations

import json

import numpy as np

from app.runs import lesson_runs


def test_the_file_holds_every_run_with_its_settings():
    data = json.loads(lesson_runs.PATH.read_text(encoding="utf-8"))
    assert data["made_by"] == "app.runs.lesson_runs"
    assert data["settings"] == json.loads(json.dumps(lesson_runs.RUNS))
    assert set(data["runs"]) == set(lesson_runs.RUNS)
    for rec in data["runs"].values():
        assert len(rec["loss"]) > 100 and len(rec["val_loss"]) > 5


def test_a_run_trained_again_equals_the_file():
    again = lesson_runs.record(lesson_runs.train_run("adding_rnn_10"))
    shipped = lesson_runs.stored()["adding_rnn_10"]
    for key in lesson_runs.KEPT:
        np.testing.assert_allclose(again[key], shipped[key], rtol=1e-9, atol=0, err_msg=key)
    assert again["baseline"] == shipped["baseline"]


def test_a_record_round_trips_through_history():
    h = lesson_runs.get("dropout_0")
    assert lesson_runs.record(h) == lesson_runs.stored()["dropout_0"]
