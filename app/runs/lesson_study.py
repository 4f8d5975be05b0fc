"""The Lesson's study of many training runs, computed once by this module and shipped in
assets/lesson_study.json, so the step "harder to tune, measured over many runs" opens at once.

The two studies are the README's *Windows* maps (bench/study_windows.py: the same specs, stated
again here): tanh rnn and lstm stacks at L in {1, 2, 4, 8}, 7 learning rates from 1e-4 to 1,
5 seeds, 200 Adam updates, on the chars task and on the adding task. ``main`` runs them through
``deeprnn_core.study.run`` (Optuna + Dask; a study already in the database is read back, not
trained again) and keeps, per trial, the columns the study's measures read. Regenerate with
``PYTHONPATH=. python -m app.runs.lesson_study``; tests/test_lesson_study.py trains trials of
the file again from the spec stored in it and finds them equal.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.settings import tuning_query
from deeprnn_core import study
from deeprnn_core.study import measures

PATH = Path(__file__).resolve().parents[2] / "assets" / "lesson_study.json"
COMMON = dict(
    length=20, cells=("rnn", "lstm"), depths=(1, 2, 4, 8), lrs=study.log_lrs(1e-4, 1.0, 7),
    seeds=5, steps=200, batch_size=32, n_train=256, n_val=128, evals=10, clip_norm=1.0,
)  # fmt: skip
SPECS: dict[str, study.StudySpec] = {
    "chars": study.StudySpec(task="chars", hidden_size=32, **COMMON),
    "adding": study.StudySpec(task="adding", hidden_size=16, **COMMON),
}
COLUMNS = ("cell", "depth", "lr", "seed", "val_loss", "diverged", "baseline", "val_metric")


def rows(table: pd.DataFrame) -> list[list]:
    """The kept columns of a study's table, one list per trial, sorted by the grid point."""
    kept = table[list(COLUMNS)].sort_values(["cell", "depth", "lr", "seed"])
    out = []
    for rec in kept.itertuples(index=False):
        values = [rec.cell, int(rec.depth), float(rec.lr), int(rec.seed)]
        for v in rec[4:]:
            values.append(None if v is None or (isinstance(v, float) and not np.isfinite(v))
                          else v if isinstance(v, str) else float(v))  # fmt: skip
        out.append(values)
    return out


@functools.cache
def stored() -> dict:
    """The shipped file (read once per process)."""
    return json.loads(PATH.read_text(encoding="utf-8"))


def spec(name: str) -> study.StudySpec:
    """The spec of study ``name`` as the file states it."""
    return study.StudySpec.from_json(stored()["specs"][name])


@functools.cache
def _table(name: str) -> pd.DataFrame:
    frame = pd.DataFrame(stored()["tables"][name], columns=list(COLUMNS))
    return frame.astype({"val_loss": float, "baseline": float, "val_metric": float})


def table(name: str) -> pd.DataFrame:
    """Study ``name``'s table from the file (what deeprnn_core.study.measures reads)."""
    return _table(name).copy()


@dataclass(frozen=True)
class Measured:
    """What the Lesson draws and words of one cell of a shipped study (study.measures)."""

    spread: pd.DataFrame  # seed_spread of the whole table
    windows: pd.DataFrame  # good_window of the whole table
    spacing: float  # the lr grid's step, in decades
    seeds: int
    verdict: measures.DepthVerdict  # plain_vs_deep at the study's deepest L


@functools.cache
def measured(name: str, cell: str) -> Measured:
    """The measures of ``cell`` in study ``name`` (computed once per process)."""
    s, frame = spec(name), table(name)
    spacing = float(np.median(np.diff(np.log10(s.lrs))))
    verdict = measures.plain_vs_deep(frame, cell, max(s.depths))
    return Measured(measures.seed_spread(frame), measures.good_window(frame), spacing,
                    len(s.seeds), verdict)  # fmt: skip


def query(name: str) -> dict[str, str]:
    """The lab link's query for study ``name``: the Tuning map's form filled with its fields
    (settings.tuning_query; the page's own validation set, batch and clipping stay its own)."""
    s = spec(name)
    lrs = np.log10(s.lrs)
    values = dict(task=s.task, cells=tuple(s.cells), depths=tuple(s.depths), seeds=len(s.seeds),
                  lrs=(round(float(lrs.min()) * 2) / 2, round(float(lrs.max()) * 2) / 2),
                  count=len(s.lrs), steps=s.steps, hidden=s.hidden_size)  # fmt: skip
    return tuning_query.to_query(values)


def main() -> None:
    specs, tables = {}, {}
    for name, s in SPECS.items():
        result = study.run(s)
        if not result.complete:
            raise RuntimeError(f"study {name} ended with {len(result.table)} of {s.size} trials")
        specs[name], tables[name] = s.to_json(), rows(result.table)
        print(f"{name}: {len(result.table)} trials ({result.trained} trained now)", file=sys.stderr)
    study.shutdown()
    data = {"made_by": "app.runs.lesson_study", "columns": list(COLUMNS), "specs": specs,
            "tables": tables}  # fmt: skip
    PATH.write_text(json.dumps(data, separators=(",", ":")))
    print(f"wrote {PATH} ({PATH.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
