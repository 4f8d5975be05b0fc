"""optuna-dashboard over a study's database: the command a StudyResult names
(``optuna-dashboard <storage url>``) started here on a free loopback port serves, through its
HTTP API, the study (its spec) and every trial with its parameters, value, intermediate values
and the summary stored with it, equal to the study's table."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import optuna
import pytest

from deeprnn_core.study import IN_PROCESS, StudySpec, run
from deeprnn_core.study.storage import rdb

pytestmark = pytest.mark.timeout(180)
DASHBOARD = Path(sys.executable).with_name("optuna-dashboard")
SCALARS = ("val_loss", "best_val_loss", "val_metric", "wall_time")  # one user attr each
ATTR_CHARS = 1024  # optuna-dashboard shows a non-scalar attr as JSON cut to this length


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        return response.status, body


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A small study (with the median pruner, so trials report intermediate values) in a
    SQLite file, and optuna-dashboard serving it: yields (result, base URL)."""
    if not DASHBOARD.exists():
        pytest.skip(f"optuna-dashboard is not installed next to {sys.executable}")
    spec = StudySpec(
        task="adding", length=8, steps=24, hidden_size=6, n_train=32, n_val=16, batch_size=8,
        cells=("rnn", "gru"), depths=(1, 2), lrs=(1e-3, 3e-2), seeds=2, evals=4, pruner="median",
    )  # fmt: skip
    result = run(spec, storage=tmp_path_factory.mktemp("dash") / "s.db", scheduler=IN_PROCESS)
    command, url = shlex.split(result.dashboard)
    assert command == "optuna-dashboard" and url == result.url
    port = free_port()
    proc = subprocess.Popen(
        [str(DASHBOARD), url, "--host", "127.0.0.1", "--port", str(port), "--server",
         "wsgiref", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield result, wait_until_served(proc, f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(30)


def wait_until_served(proc: subprocess.Popen, base: str) -> str:
    """``base`` once the dashboard process answers its API (fails if it exits or takes 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(f"{base}/api/meta")[0] == 200:
                return base
        except (urllib.error.URLError, ConnectionError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"optuna-dashboard did not serve: {proc.stderr.read()}")
        time.sleep(0.2)


def test_the_dashboard_lists_the_study_with_its_spec(served):
    result, base = served
    status, body = get(f"{base}/api/studies")
    assert status == 200
    studies = {s["study_name"]: s for s in json.loads(body)["study_summaries"]}
    assert list(studies) == [result.key]
    attrs = {a["key"]: a["value"] for a in studies[result.key]["user_attrs"]}
    assert StudySpec.from_json(attrs["spec"]) == result.spec
    assert get(f"{base}/dashboard")[0] == 200  # the page itself


def test_the_dashboard_shows_every_trial_with_its_stored_summary(served):
    result, base = served
    summary = json.loads(get(f"{base}/api/studies")[1])["study_summaries"][0]
    detail = json.loads(get(f"{base}/api/studies/{summary['study_id']}")[1])
    trials = {t["number"]: t for t in detail["trials"]}
    table = result.table.set_index("number")
    assert sorted(trials) == sorted(table.index) and len(trials) == result.spec.size
    stored = optuna.load_study(study_name=result.key, storage=rdb(result.url))
    for number, row in table.iterrows():
        shown = trials[number]
        assert shown["state"].lower() == row["state"]
        params = {p["name"]: p["param_external_value"] for p in shown["params"]}
        assert params == {k: str(row[k]) for k in ("cell", "depth", "lr", "seed")}
        attrs = {a["key"]: a["value"] for a in shown["user_attrs"]}
        for key in SCALARS:  # str(float) round-trips: equal bit for bit
            assert float(attrs[key]) == row[key]
        record = stored.trials[number].user_attrs["record"]
        assert attrs["record"] == json.dumps(record)[:ATTR_CHARS]
        assert record["val_curve"] == row["val_curve"]
        steps = {v["step"]: v["value"] for v in shown["intermediate_values"]}
        assert steps == stored.trials[number].intermediate_values and steps
        if row["state"] == "complete":
            assert shown["values"] == [row["val_loss"]]
