"""Where studies live: Optuna's RDB storage (SQLAlchemy), a SQLite file by default.

The default database is ``$DEEPRNN_STUDY_STORAGE`` when set (any SQLAlchemy URL, for example
``postgresql://user@host/db``), else ``sqlite:///<cache>/studies.db`` with ``<cache>`` =
``$XDG_CACHE_HOME/deeprnn`` or ``~/.cache/deeprnn``. Every finished trial keeps its summary as
user attrs (the main scalars one attr each, the rest as one "record"), so a study's table is
rebuilt from the database without training again, and ``optuna-dashboard <url>`` shows the
same numbers.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import optuna

from deeprnn_core.study.spec import StudySpec

STORAGE_ENV = "DEEPRNN_STUDY_STORAGE"
PARAMS = ("cell", "depth", "lr", "seed")
SUMMARY_KEYS = (
    "val_loss",
    "best_val_loss",
    "best_step",
    "val_metric",
    "metric",
    "baseline",
    "steps_done",
    "wall_time",
    "grad_norm_first",
    "grad_norm_median",
    "grad_norm_last",
    "grad_norm_max",
    "clipped_fraction",
    "diverged",
    "num_params",
)  # the scalar columns of a study's table, in order
CURVES = ("eval_steps", "val_curve", "metric_curve", "grad_norm_steps", "grad_norm_curve")
EXTRA = ("pruned", "task_seconds", "pid")  # how the trial ran (not part of the numbers)


def default_url() -> str:
    """``$DEEPRNN_STUDY_STORAGE``, else the SQLite file under the user's cache directory."""
    if os.environ.get(STORAGE_ENV):
        return os.environ[STORAGE_ENV]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "deeprnn"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studies.db'}"


def storage_url(storage=None) -> str:
    """A SQLAlchemy URL from ``storage``: None (the default), a URL, or a path to a SQLite
    file."""
    if storage is None:
        return default_url()
    text = str(storage)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


@functools.lru_cache(maxsize=8)
def rdb(url: str):
    """Optuna's RDBStorage of ``url``, one per process (SQLite waits up to 60 s for a lock)."""
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)


class MapSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler for an ask-and-tell driver: the driver knows when the grid is done,
    so telling the last trial does not call ``Study.stop`` (which only an ``optimize`` loop
    may)."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def make_sampler(spec: StudySpec, seed: int = 0):
    """GridSampler over the map (grid) or TPE (search), seeded."""
    if spec.sampler == "grid":
        return MapSampler(spec.search_space(), seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(name: str):
    """Optuna's pruner ``name``: "median", "halving" or "none" (NopPruner)."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_study(spec: StudySpec, url: str):
    """The Optuna study of ``spec`` in ``url`` (created on first use; named ``spec.key``)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=spec.key,
        storage=rdb(url),
        sampler=make_sampler(spec),
        pruner=make_pruner(spec.pruner),
        direction="minimize",
        load_if_exists=True,
    )
    if "spec" not in study.user_attrs:
        study.set_user_attr("spec", spec.to_json())
    return study


def open_trial(url: str, study_name: str, number: int, pruner: str):
    """A worker's handle on trial ``number`` (report / should_prune go to the database)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=rdb(url), pruner=make_pruner(pruner))
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    return optuna.trial.Trial(study, trial_id)


def save_summary(study, number: int, summary: dict) -> None:
    """Keep ``summary`` with trial ``number``: the scalars as user attrs of their own (what
    optuna-dashboard lists), the curves and how it ran in one "record" attr (one write)."""
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    scalars = {k: summary[k] for k in ("val_loss", "best_val_loss", "val_metric", "wall_time")}
    scalars["record"] = {k: v for k, v in summary.items() if k not in scalars}
    for key, value in scalars.items():
        study._storage.set_trial_user_attr(trial_id, key, value)


def stored_rows(study) -> list[dict]:
    """One dict per finished (complete or pruned) trial that has a summary: its number,
    state, parameters, summary and curves."""
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    rows = []
    for t in study.get_trials(deepcopy=False, states=done):
        if "record" not in t.user_attrs:
            continue
        attrs = {**t.user_attrs["record"], **t.user_attrs}
        row = {"number": t.number, "state": t.state.name.lower()}
        row.update({p: t.params[p] for p in PARAMS})
        row.update({k: attrs.get(k) for k in SUMMARY_KEYS + EXTRA + CURVES})
        rows.append(row)
    return rows


def table(study):
    """A study's table: one row per finished trial (pandas DataFrame, sorted by the map's
    axes; a missing finite value is NaN)."""
    import pandas as pd

    rows = stored_rows(study)
    columns = ["number", "state", *PARAMS, *SUMMARY_KEYS, *EXTRA, *CURVES]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("val_loss", "best_val_loss", "val_metric", "baseline", "grad_norm_first"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in ("grad_norm_median", "grad_norm_last", "grad_norm_max"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame.sort_values(["cell", "depth", "lr", "seed"], kind="stable").reset_index(drop=True)
