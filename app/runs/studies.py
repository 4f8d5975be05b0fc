"""The Tuning map's glue: studies run in a background thread of the server, one per study key,
shared by every session; the script thread only reads their progress (it never waits on a
future). A study already in the database opens from there at once.

The thread calls ``deeprnn_core.study.run`` (Optuna + Dask: the trials train on the cluster's
workers, not in the server); ``SCHEDULER`` is where (None: ``$DEEPRNN_DASK_SCHEDULER`` or the
embedded LocalCluster).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from app.runs import budget
from deeprnn_core import RNNConfig, make_task
from deeprnn_core import study as core_study

SCHEDULER: str | None = None  # tests set deeprnn_core.study.IN_PROCESS
STORAGE: str | None = None  # None: $DEEPRNN_STUDY_STORAGE or the SQLite file in ~/.cache


@dataclass(eq=False)
class Job:
    """One study running (or finished) in this server."""

    spec: core_study.StudySpec
    cancel: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    best: float | None = None
    eta: float | None = None
    started: float = field(default_factory=time.monotonic)
    result: core_study.StudyResult | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def total(self) -> int:
        return self.spec.size


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def _work(job: Job) -> None:
    def progress(p) -> None:
        job.done, job.best, job.eta = p.done, p.best, p.eta

    try:
        job.result = core_study.run(
            job.spec, storage=STORAGE, scheduler=SCHEDULER, callback=progress, cancel=job.cancel
        )
        job.done = len(job.result.table)
    except Exception as err:  # noqa: BLE001 - shown on the page, the server goes on
        job.error = f"{type(err).__name__}: {err}"


def start(spec: core_study.StudySpec) -> Job:
    """The running job of ``spec``, or a new one started in a background thread (two sessions
    asking for the same study share one computation)."""
    with _LOCK:
        job = _JOBS.get(spec.key)
        if job is not None and job.running:
            return job
        job = Job(spec)
        job.thread = threading.Thread(target=_work, args=(job,), daemon=True, name=spec.key)
        _JOBS[spec.key] = job
        job.thread.start()
        return job


def job_of(spec: core_study.StudySpec) -> Job | None:
    """The job of ``spec`` started in this server, if any."""
    with _LOCK:
        return _JOBS.get(spec.key)


def cancel(spec: core_study.StudySpec) -> None:
    """Ask the running study of ``spec`` to stop (its finished trials stay in the database)."""
    job = job_of(spec)
    if job is not None:
        job.cancel.set()


def stored(spec: core_study.StudySpec) -> core_study.StudyResult | None:
    """The study of ``spec`` as the database has it (None when it has no trial yet)."""
    result = core_study.load(spec, storage=STORAGE)
    return result if len(result.table) else None


def price_seconds(spec: core_study.StudySpec, workers: int) -> float:
    """The cost model's estimate of the study's wall time on ``workers`` worker processes."""
    task = make_task(spec.task, spec.length, n_train=1, n_val=1)
    total = 0.0
    for cell, depth, _, _ in spec.points():
        config = RNNConfig(
            num_layers=depth, input_size=task.input_size, hidden_size=spec.hidden_size,
            output_size=task.output_size, cell=cell,
        )  # fmt: skip
        total += budget.train_seconds(
            config, task.steps, spec.batch_size, spec.steps, spec.evals + 1, spec.n_val
        )
    return total / max(1, workers)
