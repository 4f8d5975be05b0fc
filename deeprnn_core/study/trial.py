"""One trial of a study: exactly one ``deeprnn_core.train`` call, and the summary kept of it.

``trial`` is the computation a Dask worker runs; ``summarize`` turns its History into the small
JSON record stored with the Optuna trial (user attrs), from which a study's table is rebuilt
without training again. ``execute`` is the worker's entry point (it pins torch to one thread
and, when a pruner is on, reports every validation loss to the study's storage).
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np

from deeprnn_core.config import RNNConfig
from deeprnn_core.data.tasks import Task, make_task
from deeprnn_core.study.spec import StudySpec
from deeprnn_core.study.storage import open_trial
from deeprnn_core.training.history import History
from deeprnn_core.training.loop import train
from deeprnn_core.weights.init import InitSpec
from deeprnn_core.weights.model import Model

CURVE_POINTS = 16  # samples of the gradient-norm trajectory kept per trial (log-spaced)


@functools.lru_cache(maxsize=8)
def task_for(name: str, length: int, n_train: int, n_val: int, seed: int) -> Task:
    """The task a trial trains on (kept per process: every trial of a seed shares it)."""
    return make_task(name, length, n_train=n_train, n_val=n_val, seed=seed)


def model_for(spec: StudySpec, cell: str, depth: int, seed: int) -> Model:
    """The starting weights of the trial (cell, depth, seed) of ``spec``."""
    task = task_for(spec.task, spec.length, spec.n_train, spec.n_val, seed)
    config = RNNConfig(
        num_layers=depth,
        input_size=task.input_size,
        hidden_size=spec.hidden_size,
        output_size=task.output_size,
        activation=spec.activation,
        cell=cell,
        residual=spec.residual,
        layer_norm=spec.layer_norm,
    )
    init = InitSpec(spec.init_scheme, spec.recurrent_gain, spec.input_gain, seed=seed)
    return Model.init(config, init)


def trial(
    spec: StudySpec, *, cell: str, depth: int, lr: float, seed: int, callback=None
) -> History:
    """Train the point (cell, depth, lr, seed) of ``spec``: one ``train`` call, nothing else.

    ``callback`` is train's (it sees every update's Progress; it does not change the numbers).
    """
    task = task_for(spec.task, spec.length, spec.n_train, spec.n_val, seed)
    return train(
        model_for(spec, cell, depth, seed),
        task,
        steps=spec.steps,
        optimizer=spec.optimizer,
        lr=float(lr),
        schedule=spec.schedule,
        batch_size=spec.batch_size,
        clip_norm=spec.clip_norm,
        dtype=spec.dtype,
        seed=seed,
        eval_every=spec.eval_every,
        snapshots=1,
        callback=callback,
        record=False,
    )


def _f(x) -> float | None:
    """A JSON-safe float (None for nan / inf, which JSON has no standard spelling for)."""
    x = float(x)
    return x if np.isfinite(x) else None


def summarize(history: History, num_params: int) -> dict:
    """The record stored with a trial: the scalars of ``SUMMARY_KEYS`` and the small curves
    (validation loss and metric at every evaluation, gradient norm at log-spaced updates).

    ``val_loss`` is ``history.val_loss[-1]`` as it is (bit for bit); None where not finite.
    """
    val = history.val_loss
    norms = history.param_grad_norm
    n = len(norms)
    at = np.unique(np.geomspace(1, max(n, 1), CURVE_POINTS).round().astype(int)) - 1
    best = int(np.nanargmin(val)) if np.isfinite(val).any() else len(val) - 1
    out = {
        "val_loss": _f(val[-1]),
        "best_val_loss": _f(val[best]),
        "best_step": int(history.eval_steps[best]),
        "val_metric": _f(history.val_metric[-1]),
        "metric": history.metric,
        "baseline": None if history.baseline is None else _f(history.baseline),
        "steps_done": n,
        "wall_time": float(history.wall_time[-1]) if n else 0.0,
        "grad_norm_first": _f(norms[0]) if n else None,
        "grad_norm_median": _f(np.nanmedian(norms)) if n else None,
        "grad_norm_last": _f(norms[-1]) if n else None,
        "grad_norm_max": _f(np.nanmax(norms)) if n else None,
        "clipped_fraction": float(np.mean(history.param_grad_norm_clipped < norms)) if n else 0.0,
        "diverged": history.diverged,
        "num_params": int(num_params),
        "eval_steps": [int(s) for s in history.eval_steps],
        "val_curve": [_f(v) for v in val],
        "metric_curve": [_f(v) for v in history.val_metric],
        "grad_norm_steps": [int(s) + 1 for s in at] if n else [],
        "grad_norm_curve": [_f(norms[s]) for s in at] if n else [],
    }
    return out


def objective_value(summary: dict) -> float:
    """What Optuna minimises: the final validation loss, +inf when it is not finite or the
    run diverged (Optuna refuses nan)."""
    v = summary["val_loss"]
    return float("inf") if v is None or summary["diverged"] else float(v)


def _pin_threads() -> None:
    """One thread for torch in a worker (BLAS is pinned by the nanny's environment and by
    train's own one_blas_thread)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def execute(payload: dict) -> dict:
    """A worker's task: train one trial and return its summary (plus who ran it).

    ``payload``: spec (JSON), params (cell, depth, lr, seed), number, and for pruning the
    storage URL, study name and pruner; the pruned flag says the pruner stopped the run.
    """
    _pin_threads()
    spec = StudySpec.from_json(payload["spec"])
    params = payload["params"]
    callback, pruned = None, []
    if payload.get("prune") and payload.get("storage"):
        callback = _pruning_callback(payload, pruned)
    start = time.perf_counter()
    history = trial(spec, callback=callback, **params)
    elapsed = time.perf_counter() - start
    model = history.model
    summary = summarize(history, model.num_params)
    summary.update(pruned=bool(pruned), task_seconds=elapsed, pid=os.getpid())
    return summary


def _pruning_callback(payload: dict, pruned: list):
    """train's callback: report each new validation loss to the trial in storage, stop when
    Optuna's pruner says so."""
    handle = open_trial(payload["storage"], payload["study"], payload["number"], payload["prune"])
    seen = [1]  # the evaluation at step 0 is not reported (every trial starts there)

    def callback(progress) -> bool:
        steps, losses = progress.history.eval_steps, progress.history.val_loss
        if len(losses) > seen[0]:
            seen[0] = len(losses)
            value = float(losses[-1])
            handle.report(value if np.isfinite(value) else float("inf"), int(steps[-1]))
            if handle.should_prune():
                pruned.append(int(steps[-1]))
                return False
        return True

    return callback
