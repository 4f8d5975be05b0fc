"""Run a study: Optuna asks, Dask trains, Optuna's database keeps every finished trial.

The driver (the process calling ``run``) is the only writer of trial states: it asks Optuna
for a point, submits ``trial.execute`` to the cluster, and when the future finishes stores the
summary and tells Optuna, once. Futures stream back as they finish (``callback`` sees each);
at most two trials per worker are in flight, so a TPE search learns from the finished ones and
a cancel leaves little running. A trial left RUNNING in the database (its driver was cancelled
or died) is adopted by the next ``run`` of the same spec and trained again under the same trial
number, so an interrupted study resumes from the database and no point is stored twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from deeprnn_core.study import cluster
from deeprnn_core.study import storage as db
from deeprnn_core.study.spec import StudySpec
from deeprnn_core.study.trial import execute, objective_value

IN_PROCESS = "in-process"  # scheduler= this: trials one after another here, no Dask
_ACTIVE: set[tuple[str, str]] = set()  # (url, study name) being driven in this process
_ACTIVE_LOCK = threading.Lock()


@dataclass(eq=False)
class StudyResult:
    """A study's outcome: ``table`` holds one row per finished trial (see storage.table)."""

    spec: StudySpec
    url: str  # the storage's SQLAlchemy URL
    table: object  # pandas.DataFrame
    cancelled: bool = False
    failed: list = field(default_factory=list)  # (trial number, error text) of failed trials
    seconds: float = 0.0  # wall time of this run (0 for a study read from the database)
    trained: int = 0  # trials this run trained (0: everything came from the database)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def complete(self) -> bool:
        """Every trial of the spec has a row."""
        return len(self.table) >= self.spec.size

    @property
    def dashboard(self) -> str:
        """The command that shows this study in optuna-dashboard."""
        return f"optuna-dashboard {self.url}"


@dataclass(frozen=True)
class StudyProgress:
    """What ``run``'s callback gets after each finished trial."""

    done: int  # trials with a row (including those read from the database)
    total: int  # trials the study needs
    row: dict | None  # the trial just finished (params and summary), None if it failed
    best: float | None  # the lowest final validation loss so far
    elapsed: float  # seconds since this run started
    eta: float | None  # seconds left at this run's pace, None before its first trial


def load(spec: StudySpec, *, storage=None) -> StudyResult:
    """The study of ``spec`` as the database has it (no training)."""
    url = db.storage_url(storage)
    return StudyResult(spec, url, db.table(db.open_study(spec, url)))


def _suggest(spec: StudySpec, t) -> dict:
    """The trial's point, asked of Optuna's sampler (names as ``trial`` takes them)."""
    if spec.sampler == "grid":
        lr = t.suggest_categorical("lr", list(spec.lrs))
    else:
        lr = t.suggest_float("lr", min(spec.lrs), max(spec.lrs), log=True)
    return {
        "cell": t.suggest_categorical("cell", list(spec.cells)),
        "depth": t.suggest_categorical("depth", list(spec.depths)),
        "lr": float(lr),
        "seed": t.suggest_categorical("seed", list(spec.seeds)),
    }


def _plan(spec: StudySpec, study) -> tuple[list[tuple[int, dict]], int]:
    """(the RUNNING trials to adopt, how many new trials to ask for). Grid points whose only
    trials failed are queued again (enqueue_trial), since the GridSampler counts them visited."""
    import optuna

    states = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    key = lambda p: (p["cell"], p["depth"], float(p["lr"]), p["seed"])  # noqa: E731
    finished = [t for t in trials if t.state in (states.COMPLETE, states.PRUNED)]
    running = [t for t in trials if t.state == states.RUNNING and len(t.params) == 4]
    adopt = [(t.number, {k: t.params[k] for k in db.PARAMS}) for t in running]
    for t in trials:  # a RUNNING trial with no point yet: close it, it trained nothing
        if t.state == states.RUNNING and len(t.params) != 4:
            study.tell(t.number, state=states.FAIL)
    if spec.sampler != "grid":
        return adopt, max(0, spec.size - len(finished) - len(adopt))
    taken = {key(t.params) for t in finished} | {key(p) for _, p in adopt}
    waiting = {key(t.system_attrs["fixed_params"]) for t in trials if t.state == states.WAITING}
    failed = {key(t.params) for t in trials if t.state == states.FAIL and len(t.params) == 4}
    for point in sorted(failed - taken - waiting):
        study.enqueue_trial(dict(zip(db.PARAMS, point)))
    missing = {tuple(p[:2]) + (float(p[2]), p[3]) for p in spec.points()} - taken
    return adopt, len(missing)


def run(
    spec: StudySpec, *, storage=None, scheduler=None, callback=None, cancel=None
) -> StudyResult:
    """Run (or finish) the study of ``spec`` and return its table.

    Args:
        storage: None (``storage.default_url()``), a SQLAlchemy URL or a SQLite file path.
        scheduler: a Dask scheduler address, None (``$DEEPRNN_DASK_SCHEDULER``, else the
            embedded LocalCluster) or ``IN_PROCESS`` (one trial after another, no Dask).
        callback: called with a ``StudyProgress`` after every finished trial, in this thread;
            returning False cancels the study.
        cancel: a ``threading.Event``; setting it cancels the study (trials in flight are
            cancelled on the cluster and stay RUNNING in the database, for the next run).
    """
    if not isinstance(spec, StudySpec):
        raise TypeError(f"spec must be a StudySpec, got {type(spec).__name__}")
    url = db.storage_url(storage)
    study = db.open_study(spec, url)
    with _ACTIVE_LOCK:
        if (url, spec.key) in _ACTIVE:
            raise RuntimeError(f"study {spec.key} is already running in this process")
        _ACTIVE.add((url, spec.key))
    try:
        return _drive(spec, study, url, scheduler, callback, cancel or threading.Event())
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard((url, spec.key))


def _drive(spec, study, url, scheduler, callback, cancel) -> StudyResult:
    import optuna

    start = time.perf_counter()
    adopt, to_ask = _plan(spec, study)
    queue = list(adopt)
    done = len(db.stored_rows(study))
    best = [r["val_loss"] for r in db.stored_rows(study) if r["val_loss"] is not None]
    best = min(best) if best else None
    failed, trained = [], 0

    def payload(number: int, params: dict) -> dict:
        out = {"spec": spec.to_json(), "params": params, "number": number}
        if spec.pruner != "none":
            out.update(storage=url, study=spec.key, prune=spec.pruner)
        return out

    def next_point():
        nonlocal to_ask
        if queue:
            return queue.pop(0)
        if to_ask <= 0:
            return None
        to_ask -= 1
        t = study.ask()
        return t.number, _suggest(spec, t)

    def finish(number: int, params: dict, summary: dict | None, error: str | None) -> bool:
        nonlocal done, best, trained
        row = None
        if summary is None:
            study.tell(number, state=optuna.trial.TrialState.FAIL)
            failed.append((number, error))
        else:
            db.save_summary(study, number, summary)
            state = optuna.trial.TrialState.PRUNED if summary["pruned"] else None
            if state is None:
                study.tell(number, objective_value(summary))
            else:
                study.tell(number, state=state)
            row = {"number": number, **params, **summary}
            done += 1
            trained += 1
            if summary["val_loss"] is not None and not summary["diverged"]:
                best = summary["val_loss"] if best is None else min(best, summary["val_loss"])
        if callback is None:
            return True
        elapsed = time.perf_counter() - start
        left = spec.size - done
        eta = elapsed / trained * left if trained else None
        return callback(StudyProgress(done, spec.size, row, best, elapsed, eta)) is not False

    if scheduler == IN_PROCESS:
        while not cancel.is_set():
            point = next_point()
            if point is None:
                break
            number, params = point
            try:
                summary, error = execute(payload(number, params)), None
            except Exception as exc:  # a trial that raises fails alone
                summary, error = None, f"{type(exc).__name__}: {exc}"
            if not finish(number, params, summary, error):
                cancel.set()
    elif queue or to_ask > 0:  # a finished study needs no cluster
        _drive_dask(cluster.client(scheduler), scheduler, next_point, payload, finish, cancel)
    cancelled = cancel.is_set()
    return StudyResult(
        spec, url, db.table(study), cancelled, failed, time.perf_counter() - start, trained
    )


def _drive_dask(client, scheduler, next_point, payload, finish, cancel) -> None:
    """Keep two trials per worker in flight (one running, one queued, so a worker never waits
    on the driver's database writes); finish each as its future completes."""
    from distributed import as_completed

    limit = 2 * cluster.workers(scheduler)
    inflight: dict = {}

    def fill() -> None:
        while len(inflight) < limit and not cancel.is_set():
            point = next_point()
            if point is None:
                return
            number, params = point
            key = f"deeprnn-trial-{number}-{uuid.uuid4().hex[:8]}"
            future = client.submit(execute, payload(number, params), key=key, pure=False)
            inflight[future] = point
            stream.add(future)

    stream = as_completed(loop=client.loop)
    fill()
    try:
        while inflight and not cancel.is_set():
            finished = stream.next_batch(block=False)
            if not finished:
                cancel.wait(0.02)  # poll, so that a cancel is seen within 20 ms
                continue
            for future in finished:
                number, params = inflight.pop(future)
                try:
                    summary, error = future.result(), None
                except Exception as exc:  # the trial raised, or killed its workers too often
                    summary, error = None, f"{type(exc).__name__}: {exc}"
                if not finish(number, params, summary, error):
                    cancel.set()
                    break
            fill()
    finally:
        if inflight:
            client.cancel(list(inflight))
