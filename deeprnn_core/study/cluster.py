"""Where trials run: a Dask distributed cluster.

``client(scheduler)`` connects to the scheduler at ``scheduler`` or ``$DEEPRNN_DASK_SCHEDULER``
(for example ``tcp://10.0.0.5:8786``) when one is given; otherwise it starts, once per process,
an embedded ``LocalCluster``: one worker process per core, one thread each, the nanny's
environment pinning OpenMP / MKL / OpenBLAS to one thread (torch is pinned in the task), and a
memory limit per worker (``$DEEPRNN_DASK_MEMORY``, default "2GiB"). A worker that dies loses
only its running trial: the scheduler runs that task again elsewhere (up to
``distributed.scheduler.allowed-failures`` times), and the driver records each trial once.
"""

from __future__ import annotations

import os
import threading

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


# The nanny's default environment sets MALLOC_TRIM_THRESHOLD_=65536, which makes glibc return
# every large free to the OS at once: the engine's per-step arrays are then mapped and faulted
# afresh, and a trial ran 4-5x slower than in-process (measured 2026-12-07). Unset it; keep the
# one-thread pins of OpenMP / MKL / OpenBLAS.
NANNY_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(n_workers: int | None = None):
    """The process's embedded LocalCluster (started on first call)."""
    import dask
    from distributed import LocalCluster

    with _LOCK, dask.config.set(NANNY_ENVIRON):
        if not _LOCAL:
            _LOCAL.append(
                LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    memory_limit=os.environ.get(MEMORY_ENV, DEFAULT_MEMORY),
                    dashboard_address=None,
                    host="127.0.0.1",
                )
            )
        return _LOCAL[0]


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
        for cluster in _LOCAL:
            cluster.close()
        _LOCAL.clear()
