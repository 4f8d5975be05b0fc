"""deeprnn_core.study on real Dask clusters: a scheduler and two workers started here with the
``dask`` CLI on loopback give the same table as an in-process run; killing one worker in the
middle of a study loses nothing and duplicates nothing; the embedded LocalCluster streams
results and a cancelled study resumes from the database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from deeprnn_core.study import IN_PROCESS, StudySpec, cluster, run
from deeprnn_core.study.storage import rdb

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name("dask")
TINY = dict(task="adding", length=8, hidden_size=6, n_train=32, n_val=16, batch_size=8)
COLUMNS = ["cell", "depth", "lr", "seed", "val_loss", "best_val_loss", "grad_norm_median"]
pytestmark = pytest.mark.timeout(240)


def spec(**kw) -> StudySpec:
    args = dict(TINY, cells=("rnn", "gru"), depths=(1, 2), lrs=(1e-3, 3e-2), seeds=2, steps=30)
    args.update(kw)
    return StudySpec(**args)


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


@pytest.fixture
def dask_cluster(tmp_path):
    """`dask scheduler` and two `dask worker` processes (no nanny: a killed worker stays dead),
    one thread each; yields (address, worker processes); stops them all."""
    file = tmp_path / "scheduler.json"
    flags = ["--no-dashboard"]
    sched = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", file, *flags],
        env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    procs = [sched]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--memory-limit",
                        "1GiB",
                        *flags,
                    ],
                    env=env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=ROOT,
                )  # fmt: skip
            )
        c = cluster.client(address)
        c.wait_for_workers(2, timeout=60)
        yield address, procs[1:]
    finally:
        for c in list(cluster._CLIENTS.values()):
            c.close()
        cluster._CLIENTS.clear()
        for p in reversed(procs):  # the test's own processes, by their handles
            if p.poll() is None:
                p.kill()
            p.wait(15)


def test_a_cli_cluster_gives_the_in_process_table(tmp_path, dask_cluster):
    address, _ = dask_cluster
    s = spec()
    local = run(s, storage=tmp_path / "a.db", scheduler=IN_PROCESS).table
    remote = run(s, storage=tmp_path / "b.db", scheduler=address)
    assert remote.complete and not remote.failed
    assert remote.table[COLUMNS].equals(local[COLUMNS])  # identical, bit for bit
    assert remote.table["pid"].nunique() == 2 and os.getpid() not in set(remote.table["pid"])


def test_killing_a_worker_mid_study_loses_and_duplicates_nothing(tmp_path, dask_cluster):
    address, workers = dask_cluster
    s = spec(steps=80, seeds=3)  # 24 trials
    killed = []

    def kill_one(progress):
        if not killed:
            victim = next(p for p in workers if p.pid != progress.row["pid"])  # busy elsewhere
            victim.send_signal(signal.SIGKILL)
            killed.append(victim.pid)

    result = run(s, storage=tmp_path / "k.db", scheduler=address, callback=kill_one)
    assert killed and result.complete and not result.failed and len(result.table) == 24
    study = optuna.load_study(study_name=s.key, storage=rdb(result.url))
    assert len(study.trials) == 24  # each point once
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    points = {
        (t.params["cell"], t.params["depth"], t.params["lr"], t.params["seed"])
        for t in study.trials
    }
    assert len(points) == 24
    assert len(cluster.client(address).scheduler_info(n_workers=-1)["workers"]) == 1


def test_the_local_cluster_streams_and_a_cancelled_study_resumes(tmp_path):
    s = spec(steps=60)
    try:
        first = run(s, storage=tmp_path / "l.db", callback=lambda p: p.done < 3)
        assert first.cancelled and 3 <= len(first.table) < s.size
        study = optuna.load_study(study_name=s.key, storage=rdb(first.url))
        running = sum(t.state == optuna.trial.TrialState.RUNNING for t in study.trials)
        second = run(s, storage=tmp_path / "l.db")
        assert second.complete and len(second.table) == s.size
        study = optuna.load_study(study_name=s.key, storage=rdb(first.url))
        assert len(study.trials) == s.size and running >= 1  # the in-flight ones were adopted
        local = run(s, storage=tmp_path / "m.db", scheduler=IN_PROCESS).table
        assert second.table[COLUMNS].equals(local[COLUMNS])
        workers = cluster.client().scheduler_info(n_workers=-1)["workers"].values()
        assert all(w["nthreads"] == 1 and w["memory_limit"] > 0 for w in workers)
        assert len(workers) == (os.cpu_count() or 1)
        trim = cluster.client().run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert set(trim.values()) == {None}  # the nanny's malloc trimming is off
    finally:
        cluster.shutdown()


SCRIPT = """
import os, sys
with open(sys.argv[1], "a") as f:  # every process that runs this file says so
    f.write(f"{os.getpid()}\\n")
from deeprnn_core.study import StudySpec, run, shutdown
spec = StudySpec(task="adding", length=8, cells=("rnn",), depths=(1,), lrs=(1e-2,), seeds=2,
                 steps=3, hidden_size=4, n_train=8, n_val=4, batch_size=4)
result = run(spec, storage=sys.argv[2])  # no `if __name__ == "__main__"`, as under streamlit
print("rows", len(result.table), flush=True)
shutdown()
"""


def test_the_embedded_cluster_never_runs_the_main_script_again(tmp_path):
    """Under `streamlit run` the page script is __main__ and has no main guard; a worker
    started by multiprocessing would import it again. The embedded workers are `dask worker`
    processes: the script runs once."""
    script, marks = tmp_path / "page.py", tmp_path / "pids.txt"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), str(marks), str(tmp_path / "e.db")],
        env=env(), capture_output=True, text=True, timeout=200, cwd=tmp_path,
    )  # fmt: skip
    assert "rows 2" in out.stdout, out.stderr[-2000:]
    assert len(marks.read_text().split()) == 1
