"""The Tuning map's glue: studies run in a background thread of the server, one per study key,
shared by every session; the script thread only reads their progress (it never waits on a
future). A study already in the database opens from there at once.

The thread calls ``deeprnn_core.study.run`` (Optuna + Dask: the trials train on the cluster's
workers, not in the server); ``SCHEDULER`` is where (None: ``$DEEPRNN_DASK_SCHEDULER`` or the
embedded LocalCluster).

``stored`` keeps what it read of the database, so a redraw of a page whose study did not change
touches no database: a complete study's table for good (its trials are never rewritten), an
unfinished or absent one for ``STORED_SECONDS`` (a study another server writes to the same
database shows within that), and a job of this server forgets it at every trial it finishes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
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
        forget(job.spec)  # the database has one more trial of it
        job.done, job.best, job.eta = p.done, p.best, p.eta

    try:
        job.result = core_study.run(
            job.spec, storage=STORAGE, scheduler=SCHEDULER, callback=progress, cancel=job.cancel
        )
        job.done = len(job.result.table)
    except Exception as err:  # noqa: BLE001 - shown on the page, the server goes on
        job.error = f"{type(err).__name__}: {err}"
    finally:
        forget(job.spec)


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


STORED_SECONDS = 5.0  # how long stored() reuses its read of an unfinished (or absent) study
STORED_MAX = 64  # studies whose read stored() keeps (least recently used dropped)
_STORED: OrderedDict = OrderedDict()  # (url, key) -> (read at, StudyResult or None)
_FORGOTTEN: dict = {}  # (url, key) -> how many times forget() dropped it


def _slot(spec: core_study.StudySpec) -> tuple[str, str]:
    return core_study.storage_url(STORAGE), spec.key


def read(spec: core_study.StudySpec) -> core_study.StudyResult | None:
    """The study of ``spec`` read from the database now (None when it has no trial yet)."""
    result = core_study.load(spec, storage=STORAGE)
    return result if len(result.table) else None


def stored(spec: core_study.StudySpec) -> core_study.StudyResult | None:
    """The study of ``spec`` as the database has it (None when it has no trial yet), read
    again only when it may have changed: never once complete, else after STORED_SECONDS or
    when a job of this server finished a trial of it (``forget``)."""
    slot = _slot(spec)
    now = time.monotonic()
    with _LOCK:
        hit = _STORED.get(slot)
        if hit is not None:
            at, result = hit
            if (result is not None and result.complete) or now - at < STORED_SECONDS:
                _STORED.move_to_end(slot)
                return result
        generation = _FORGOTTEN.get(slot, 0)
    result = read(spec)
    with _LOCK:
        if _FORGOTTEN.get(slot, 0) == generation:  # no trial finished here during the read
            _STORED[slot] = (now, result)
            _STORED.move_to_end(slot)
            while len(_STORED) > STORED_MAX:
                _STORED.popitem(last=False)
    return result


def forget(spec: core_study.StudySpec) -> None:
    """Drop stored()'s read of ``spec`` (its study changed in the database)."""
    slot = _slot(spec)
    with _LOCK:
        _STORED.pop(slot, None)
        _FORGOTTEN[slot] = _FORGOTTEN.get(slot, 0) + 1


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


# Plain vs deep's training rows: a small study instead of one run of each depth.
PLAIN_DEEP_SEEDS = 4  # seeds per (depth, lr) unless the budget needs fewer
MIN_SEEDS = 2  # a bootstrap over one seed a side says nothing (measures.plain_vs_deep)
LR_SPREAD = 10**0.5  # the lr grid: the page's lr divided and multiplied by this
STUDY_SECONDS = 6 * budget.TRAIN_SECONDS  # one click of the plain-vs-deep study, priced


def first(value):
    """The first layer's value of a per-layer setting (str or tuple)."""
    return value if isinstance(value, str) else value[0]


def plain_deep_spec(train_spec, seeds: int = PLAIN_DEEP_SEEDS) -> core_study.StudySpec:
    """The study behind Plain vs deep's training rows: L = 1 and the current L, the first
    layer's cell and activation for every layer, learning rates lr / sqrt(10), lr and
    lr * sqrt(10), ``seeds`` seeds from the page's, the rest as the Training page trains."""
    c, lr = train_spec.config, train_spec.lr
    return core_study.StudySpec(
        task=train_spec.task, length=train_spec.length, cells=(first(c.cell),),
        depths=(1, c.num_layers), lrs=core_study.log_lrs(lr / LR_SPREAD, lr * LR_SPREAD, 3),
        seeds=tuple(range(train_spec.seed, train_spec.seed + seeds)), steps=train_spec.updates,
        batch_size=train_spec.batch_size, hidden_size=c.hidden_size,
        activation=first(c.activation), optimizer=train_spec.optimizer,
        schedule=train_spec.schedule, clip_norm=train_spec.clip_norm,
        init_scheme=train_spec.init.scheme, recurrent_gain=train_spec.init.recurrent_gain,
        input_gain=train_spec.init.input_gain, residual=c.residual, layer_norm=c.layer_norm,
        n_train=max(256, train_spec.batch_size), n_val=train_spec.validation,
        dtype=train_spec.dtype,
    )  # fmt: skip


def fit_plain_deep(train_spec, workers: int) -> tuple[core_study.StudySpec | None, float]:
    """The plain-vs-deep study with as many seeds (PLAIN_DEEP_SEEDS down to MIN_SEEDS) as fit
    STUDY_SECONDS on ``workers`` workers by the cost model, and its price; (None, price of
    MIN_SEEDS) when even that does not fit."""
    for seeds in range(PLAIN_DEEP_SEEDS, MIN_SEEDS - 1, -1):
        spec = plain_deep_spec(train_spec, seeds)
        seconds = price_seconds(spec, workers)
        if seconds <= STUDY_SECONDS:
            return spec, seconds
    return None, seconds
