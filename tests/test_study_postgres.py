"""deeprnn_core.study on a real PostgreSQL server: a throwaway cluster (initdb in a temporary
folder, started on a free loopback port, stopped at the end) keeps a study whose table equals
the SQLite run bit for bit; a second run, through ``$DEEPRNN_STUDY_STORAGE``, opens it from the
database and trains nothing; the pruner's reports go through it too; the Tuning map pointed at
it by ``$DEEPRNN_STUDY_STORAGE`` alone runs and shows its study there, and optuna-dashboard
reads it.

PostgreSQL refuses to run as root: as root, initdb / pg_ctl run as the ``postgres`` user (the
Debian package's) or ``nobody``, in a folder given to that user. Skipped, with the reason, when
no PostgreSQL binaries are installed (Debian: the ``postgresql`` package) or no such user exists.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest

from app.runs import studies
from deeprnn_core.study import IN_PROCESS, STORAGE_ENV, StudySpec, load, run, runner
from deeprnn_core.study.storage import CURVES, SUMMARY_KEYS, rdb
from tests import test_study_dashboard as dash
from tests.test_app import assert_clean, charts, open_app
from tests.test_app_tuning import PAGE, page_spec, set_form

pytestmark = pytest.mark.timeout(240)
TINY = dict(task="adding", length=8, steps=12, hidden_size=6, n_train=32, n_val=16, batch_size=8)
# every column that is a function of the spec and the point (not wall time, pid or number)
NUMBERS = ["state", "cell", "depth", "lr", "seed"] + [
    k for k in SUMMARY_KEYS + CURVES if k != "wall_time"
]


def spec(**kw) -> StudySpec:
    args = dict(TINY, cells=("rnn", "lstm"), depths=(1, 2), lrs=(1e-3, 3e-2), seeds=2)
    args.update(kw)
    return StudySpec(**args)


def pg_bin() -> Path | None:
    """The folder of initdb / pg_ctl / postgres: on PATH, else Debian's newest."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def server_user() -> pwd.struct_passwd | None:
    """Who runs the server: this user, or (as root, which PostgreSQL refuses) postgres or
    nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A plain 'postgresql://' URL (SQLAlchemy's default driver: psycopg 3) of a fresh cluster
    on 127.0.0.1 (trust authentication, loopback only, its socket in its own folder); stopped
    and deleted after."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver (psycopg[binary]) is pinned")
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    user = server_user()
    base = Path(tempfile.mkdtemp(prefix="deeprnn-pg-"))
    as_user = {}
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}

    def pg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(bin_dir / args[0]), *args[1:]], cwd=base, env=env, capture_output=True,
            text=True, timeout=120, check=check, **as_user,
        )  # fmt: skip

    data, port = base / "data", free_port()
    pg("initdb", "-D", str(data), "-U", "deeprnn", "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    started = pg("pg_ctl", "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "-t",
                 "60", "start", check=False)  # fmt: skip
    if started.returncode != 0:
        log = (base / "log").read_text() if (base / "log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {started.stderr}\n{log}")
    url = f"postgresql://deeprnn@127.0.0.1:{port}/postgres"
    try:
        yield url
    finally:
        rdb(url).engine.dispose()  # close this process's connections before the server goes
        pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_the_server_is_postgresql(postgres_url):
    with rdb(postgres_url).engine.connect() as conn:
        version = conn.exec_driver_sql("select version()").scalar()
    assert version.startswith("PostgreSQL")
    assert rdb(postgres_url).engine.dialect.driver == "psycopg"  # the pinned driver


def test_a_study_on_postgresql_equals_sqlite_bit_for_bit_and_reopens(
    postgres_url, tmp_path, monkeypatch
):
    s = spec()
    pg = run(s, storage=postgres_url, scheduler=IN_PROCESS)
    lite = run(s, storage=tmp_path / "s.db", scheduler=IN_PROCESS)
    assert pg.url == postgres_url and pg.complete and pg.trained == lite.trained == s.size
    assert pg.table[NUMBERS].equals(lite.table[NUMBERS])  # every float equal, NaN where NaN
    assert pg.table["val_loss"].notna().all()
    study = optuna.load_study(study_name=s.key, storage=rdb(postgres_url))
    assert sorted(t.value for t in study.trials) == sorted(lite.table["val_loss"])

    def no_training(payload):
        raise AssertionError("a finished study trained again")

    monkeypatch.setattr(runner, "execute", no_training)
    monkeypatch.setenv(STORAGE_ENV, postgres_url)  # what the app reads: no storage= given
    again = run(s, scheduler=IN_PROCESS)
    assert again.url == postgres_url and again.trained == 0 and again.complete
    assert again.table[NUMBERS].equals(pg.table[NUMBERS])
    assert again.table["wall_time"].equals(pg.table["wall_time"])  # the stored, not a new, run
    assert load(s).table[NUMBERS].equals(pg.table[NUMBERS])
    monkeypatch.setattr(studies, "STORAGE", None)
    shown = studies.stored(s)  # the Tuning map's read of the database
    assert shown is not None and shown.table[NUMBERS].equals(pg.table[NUMBERS])


def test_pruned_search_on_postgresql_equals_sqlite(postgres_url, tmp_path):
    s = spec(cells=("rnn",), sampler="tpe", n_trials=8, lrs=(1e-4, 1.0), pruner="median",
             steps=24, evals=6)  # fmt: skip
    pg = run(s, storage=postgres_url, scheduler=IN_PROCESS)
    lite = run(s, storage=tmp_path / "p.db", scheduler=IN_PROCESS)
    assert len(pg.table) == 8 and pg.table[NUMBERS].equals(lite.table[NUMBERS])
    reported = [
        [t.intermediate_values for t in optuna.load_study(study_name=s.key, storage=rdb(u)).trials]
        for u in (postgres_url, lite.url)
    ]
    assert reported[0] == reported[1] and all(reported[0])


def test_the_tuning_map_pointed_at_postgresql_by_the_environment(postgres_url, monkeypatch):
    """What the README says: DEEPRNN_STUDY_STORAGE=<postgresql URL> before starting the app."""
    monkeypatch.setenv(STORAGE_ENV, postgres_url)
    for name, value in (("STORAGE", None), ("SCHEDULER", IN_PROCESS), ("_JOBS", {}),
                        ("_STORED", type(studies._STORED)()), ("_FORGOTTEN", {})):  # fmt: skip
        monkeypatch.setattr(studies, name, value)
    at = set_form(open_app(page=PAGE))
    at.button(key="tm_run").click().run()
    spec = page_spec()
    job = studies.job_of(spec)
    job.thread.join(120)
    assert job.error is None and job.result.complete and job.result.url == postgres_url
    studies._JOBS.clear()  # another server on the same database: no job, reads it from there
    again = set_form(open_app(page=PAGE))
    assert_clean(again)
    assert again.button(key="tm_run").disabled  # complete in PostgreSQL: nothing to run
    assert any(c["data"][0]["type"] == "heatmap" for c in charts(again))
    assert any(f"optuna-dashboard {postgres_url}" == c.value for c in again.code)
    stored = optuna.load_study(study_name=spec.key, storage=rdb(postgres_url))
    assert len(stored.trials) == spec.size


def test_optuna_dashboard_reads_the_postgresql_database(postgres_url):
    s = spec(cells=("gru",), depths=(1,))
    result = run(s, storage=postgres_url, scheduler=IN_PROCESS)
    port = dash.free_port()
    proc = subprocess.Popen(
        [str(dash.DASHBOARD), *result.dashboard.split()[1:], "--host", "127.0.0.1", "--port",
         str(port), "--server", "wsgiref", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = dash.wait_until_served(proc, f"http://127.0.0.1:{port}")
        listed = json.loads(dash.get(f"{base}/api/studies")[1])["study_summaries"]
        study_id = next(x["study_id"] for x in listed if x["study_name"] == s.key)
        detail = json.loads(dash.get(f"{base}/api/studies/{study_id}")[1])
        shown = {t["number"]: t for t in detail["trials"]}
        for row in result.table.itertuples():
            attrs = {a["key"]: a["value"] for a in shown[row.number]["user_attrs"]}
            assert float(attrs["val_loss"]) == row.val_loss and shown[row.number]["values"] == [
                row.val_loss
            ]
    finally:
        proc.terminate()
        proc.wait(30)
