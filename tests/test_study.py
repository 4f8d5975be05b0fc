"""deeprnn_core.study without a cluster: a trial is one train call bit for bit, a study's table
is what its stored trials say, a study killed mid-trial resumes from the database with every
point once, the pruner is fed by train's callback, TPE searches the lr range."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from deeprnn_core import InitSpec, Model, RNNConfig, make_task, train
from deeprnn_core.study import IN_PROCESS, StudySpec, cluster, load, run, runner, trial
from deeprnn_core.study.storage import rdb
from deeprnn_core.study.trial import execute as real_execute

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(task="adding", length=8, steps=12, hidden_size=6, n_train=32, n_val=16, batch_size=8)


def spec(**kw) -> StudySpec:
    args = dict(TINY, cells=("rnn",), depths=(1, 2), lrs=(1e-3, 3e-2), seeds=2)
    args.update(kw)
    return StudySpec(**args)


def test_trial_is_one_train_call_bit_for_bit():
    s = spec(cells=("lstm",), clip_norm=0.5, recurrent_gain=0.9)
    got = trial(s, cell="lstm", depth=2, lr=3e-2, seed=1)
    task = make_task("adding", 8, n_train=32, n_val=16, seed=1)
    config = RNNConfig(num_layers=2, input_size=2, hidden_size=6, output_size=1, cell="lstm")
    model = Model.init(config, InitSpec("torch", 0.9, 1.0, seed=1))
    want = train(
        model, task, steps=12, lr=3e-2, batch_size=8, clip_norm=0.5, seed=1,
        eval_every=s.eval_every, snapshots=1, record=False,
    )  # fmt: skip
    for name in ("loss", "param_grad_norm", "val_loss", "val_metric", "eval_steps"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    for name, w in want.model.params.items():
        np.testing.assert_array_equal(got.model.params[name], w)


def test_table_rows_equal_their_trials_and_the_database(tmp_path):
    s = spec()
    seen = []
    result = run(s, storage=tmp_path / "s.db", scheduler=IN_PROCESS, callback=seen.append)
    t = result.table
    assert len(t) == s.size == 8 and result.complete and result.trained == 8
    assert [p.done for p in seen] == list(range(1, 9)) and seen[-1].total == 8
    assert set(zip(t.cell, t.depth, t.lr, t.seed)) == {
        (c, d, float(lr), sd) for c, d, lr, sd in s.points()
    }
    for row in t.itertuples():
        h = trial(s, cell=row.cell, depth=row.depth, lr=row.lr, seed=row.seed)
        assert row.val_loss == h.val_loss[-1]  # bit for bit, through SQLite's JSON
        assert row.best_val_loss == np.min(h.val_loss)
        assert row.grad_norm_median == np.median(h.param_grad_norm)
        assert row.val_curve == h.val_loss.tolist()
        assert row.steps_done == 12 and row.state == "complete"
    again = load(s, storage=tmp_path / "s.db")  # reopening: no training, same numbers
    assert again.trained == 0
    cols = ["cell", "depth", "lr", "seed", "val_loss", "best_val_loss", "wall_time"]
    assert again.table[cols].equals(t[cols])
    # a second run of a finished study trains nothing, and starts no cluster for it
    assert run(s, storage=tmp_path / "s.db").trained == 0 and not cluster._LOCAL
    # optuna sees the same values (objective = final validation loss)
    study = optuna.load_study(study_name=s.key, storage=rdb(result.url))
    values = sorted(tr.value for tr in study.trials)
    assert values == sorted(t.val_loss.tolist())
    assert json.loads(study.user_attrs["spec"])["steps"] == 12


KILLED = """
import sys, time
from deeprnn_core.study import IN_PROCESS, StudySpec, run
spec = StudySpec.from_json(sys.argv[1])
run(spec, storage=sys.argv[2], scheduler=IN_PROCESS,
    callback=lambda p: print("done", p.done, flush=True))
"""


def test_a_study_killed_mid_trial_resumes_with_every_point_once(tmp_path):
    s = spec(steps=150, seeds=3)  # 12 points
    db = tmp_path / "r.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, s.to_json(), str(db)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    for line in proc.stdout:
        if line.startswith("done 3"):
            break
    storage = rdb(f"sqlite:///{db}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the 4th trial is training, then kill
        study = optuna.load_study(study_name=s.key, storage=storage)
        if any(tr.state.name == "RUNNING" and len(tr.params) == 4 for tr in study.trials):
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    study = optuna.load_study(study_name=s.key, storage=rdb(f"sqlite:///{db}"))
    states = [tr.state for tr in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) >= 3
    left_running = states.count(optuna.trial.TrialState.RUNNING)
    result = run(s, storage=db, scheduler=IN_PROCESS)  # the server came back
    assert result.complete and len(result.table) == 12
    study = optuna.load_study(study_name=s.key, storage=rdb(f"sqlite:///{db}"))
    assert len(study.trials) == 12  # adopted, not duplicated: one trial per point
    assert all(tr.state == optuna.trial.TrialState.COMPLETE for tr in study.trials)
    points = [(tr.params["depth"], tr.params["lr"], tr.params["seed"]) for tr in study.trials]
    assert len(set(points)) == 12
    fresh = run(s, storage=tmp_path / "fresh.db", scheduler=IN_PROCESS).table
    assert fresh["val_loss"].tolist() == result.table["val_loss"].tolist()
    assert left_running == 1  # killed mid-trial


def test_cancel_keeps_what_finished_and_the_next_run_completes(tmp_path):
    s = spec()
    first = run(s, storage=tmp_path / "c.db", scheduler=IN_PROCESS, callback=lambda p: p.done < 3)
    assert first.cancelled and len(first.table) == 3
    second = run(s, storage=tmp_path / "c.db", scheduler=IN_PROCESS)
    assert second.complete and second.trained == 5 and not second.cancelled


def test_pruner_is_fed_by_validation_losses_and_tpe_stays_in_the_range(tmp_path):
    s = spec(sampler="tpe", n_trials=10, lrs=(1e-4, 1.0), pruner="median", steps=30, evals=6)
    result = run(s, storage=tmp_path / "p.db", scheduler=IN_PROCESS)
    t = result.table
    assert len(t) == 10 and set(t.state) <= {"complete", "pruned"}
    assert ((t.lr >= 1e-4) & (t.lr <= 1.0)).all()
    study = optuna.load_study(study_name=s.key, storage=rdb(result.url))
    reported = [tr.intermediate_values for tr in study.trials]
    assert all(len(v) >= 1 for v in reported)  # every trial reported through train's callback
    for tr, row in zip(study.trials, sorted(t.itertuples(), key=lambda r: r.number)):
        last = max(tr.intermediate_values)
        assert tr.intermediate_values[last] == row.val_loss or not np.isfinite(row.val_loss)
    pruned = t[t.state == "pruned"]
    assert (pruned.steps_done < 30).all()


def test_spec_is_checked_and_keyed_by_every_field():
    assert spec().key == spec().key != spec(steps=13).key
    assert spec(seeds=3).seeds == (0, 1, 2) and StudySpec.from_json(spec().to_json()) == spec()
    with pytest.raises(ValueError, match="task"):
        spec(task="nope")
    with pytest.raises(ValueError, match="lrs"):
        spec(lrs=(1e-3, 1e-3))
    with pytest.raises(ValueError, match="n_trials"):
        spec(sampler="tpe")


def test_a_failed_trial_is_recorded_and_run_again_by_the_next_run(tmp_path, monkeypatch):

    s = spec()

    def flaky(payload):
        if payload["params"]["depth"] == 2 and payload["params"]["seed"] == 1:
            raise MemoryError("a worker ran out of memory")
        return real_execute(payload)

    monkeypatch.setattr(runner, "execute", flaky)
    first = run(s, storage=tmp_path / "f.db", scheduler=IN_PROCESS)
    assert len(first.failed) == 2 and "MemoryError" in first.failed[0][1]  # two lrs at (2, 1)
    assert len(first.table) == 6 and not first.complete
    monkeypatch.setattr(runner, "execute", real_execute)
    second = run(s, storage=tmp_path / "f.db", scheduler=IN_PROCESS)
    assert second.complete and second.trained == 2 and not second.failed
    study = optuna.load_study(study_name=s.key, storage=rdb(second.url))
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 8 and len({tuple(t.params.values()) for t in done}) == 8
    assert sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials) == 2
