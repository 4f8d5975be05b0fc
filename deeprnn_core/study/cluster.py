"""Where trials run: a Dask distributed cluster.

``client(scheduler)`` connects to the scheduler at ``scheduler`` or ``$DEEPRNN_DASK_SCHEDULER``
(for example ``tcp://10.0.0.5:8786``) when one is given; otherwise it starts, once per process,
an embedded cluster (``local_cluster``): a scheduler in this process and one ``dask worker``
process per core, one thread each, the nanny's environment pinning OpenMP / MKL / OpenBLAS to
one thread (torch is pinned in the task), and a memory limit per worker
(``$DEEPRNN_DASK_MEMORY``, default "2GiB"). A worker that dies loses
only its running trial: the scheduler runs that task again elsewhere (up to
``distributed.scheduler.allowed-failures`` times), and the driver records each trial once.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from pathlib import Path

SCHEDULER_ENV = "DEEPRNN_DASK_SCHEDULER"
MEMORY_ENV = "DEEPRNN_DASK_MEMORY"
DEFAULT_MEMORY = "2GiB"
_LOCK = threading.Lock()
_CLIENTS: dict[str, object] = {}  # address -> Client, one per process
_LOCAL: list = []  # the embedded LocalCluster, once started


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The scheduler to connect to: ``scheduler``, else ``$DEEPRNN_DASK_SCHEDULER``, else None
    (the embedded LocalCluster)."""
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
ROOT = Path(__file__).resolve().parents[2]  # the project: the workers import deeprnn_core
_WORKERS: list[subprocess.Popen] = []  # the embedded cluster's `dask worker` processes


def local_cluster(n_workers: int | None = None):
    """The process's embedded cluster (started on first call): a Dask scheduler in this
    process (a LocalCluster with no worker of its own) and ``n_workers`` (default: one per
    core) worker processes (``deeprnn_core.study.worker``: ``dask worker`` without the nanny's
    malloc trimming) started with subprocess, each with a nanny that restarts
    it if it dies, one thread and the memory limit. Not multiprocessing: under ``streamlit
    run`` the script is ``__main__``, and a worker spawned by multiprocessing would run it
    again (and a daemonic one may not start children)."""
    from distributed import Client, LocalCluster

    with _LOCK:
        if _LOCAL:
            return _LOCAL[0]
        cluster = LocalCluster(
            n_workers=0, processes=True, dashboard_address=None, host="127.0.0.1"
        )
        count = n_workers or os.cpu_count() or 1
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, PYTHONPATH=path, **WORKER_ENV)
        memory = os.environ.get(MEMORY_ENV, DEFAULT_MEMORY)
        for _ in range(count):
            _WORKERS.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "deeprnn_core.study.worker",
                        cluster.scheduler_address,
                        "--nthreads",
                        "1",
                        "--memory-limit",
                        memory,
                        "--no-dashboard",
                        "--death-timeout",
                        "60",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            )
        with Client(cluster.scheduler_address, set_as_default=False) as probe:
            probe.wait_for_workers(count, timeout=120)
        _LOCAL.append(cluster)
        return cluster


def client(scheduler: str | None = None):
    """A Dask Client on the scheduler of ``scheduler_address(scheduler)`` or on the embedded
    LocalCluster; one per address per process (not made the global default)."""
    from distributed import Client

    address = scheduler_address(scheduler)
    if address is None:
        address = local_cluster().scheduler_address
    with _LOCK:
        found = _CLIENTS.get(address)
        if found is None or found.status in ("closed", "closing"):
            found = Client(address, set_as_default=False)
            _CLIENTS[address] = found
        return found


def workers(scheduler: str | None = None) -> int:
    """Worker processes (threads in all) the cluster has now."""
    info = client(scheduler).scheduler_info(n_workers=-1)
    return max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))


def shutdown() -> None:
    """Close every client and the embedded cluster (tests, benchmarks)."""
    with _LOCK:
        for c in _CLIENTS.values():
            c.close()
        _CLIENTS.clear()
        for proc in _WORKERS:  # our own worker processes, by their handles
            if proc.poll() is None:
                proc.terminate()
        for proc in _WORKERS:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        _WORKERS.clear()
        for cluster in _LOCAL:
            cluster.close()
        _LOCAL.clear()


atexit.register(shutdown)  # the embedded workers end with the process that started them
