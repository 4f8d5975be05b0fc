"""The Lesson's training runs, computed once by this module and shipped in
assets/lesson_runs.json, so the steps about learning open at once.

Each run is a Settings change over the defaults, planned and trained exactly as the Training
page does (runs.training.plan -> train); the file keeps the curves the lesson draws and words.
Regenerate with ``PYTHONPATH=. python -m app.runs.lesson_runs``; tests/test_lesson_runs.py trains
one entry again and compares it with the file.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import numpy as np

from app.runs import training
from app.settings.controls import CONTROLS, Settings
from deeprnn_core import History

PATH = Path(__file__).resolve().parents[2] / "assets" / "lesson_runs.json"
ADDING = {"task": "adding", "num_layers": 2, "hidden_size": 32, "train_steps": 300,
          "train_batch": 32, "activation": "tanh", "optimizer": "adam", "learning_rate": "0.01",
          "cell": "rnn"}  # fmt: skip
OVERFIT = {"task": "sunspots", "num_layers": 3, "hidden_size": 64, "steps": 20,
           "train_steps": 400, "train_batch": 32, "optimizer": "adam",
           "learning_rate": "0.003"}  # fmt: skip
SCHEDULED = ADDING | {"cell": "lstm", "steps": 10, "learning_rate": "0.03"}
RUNS: dict[str, dict] = {
    "adding_rnn_10": ADDING | {"steps": 10},
    "adding_lstm_10": ADDING | {"steps": 10, "cell": "lstm"},
    "adding_rnn_40": ADDING | {"steps": 40},
    "adding_lstm_40": ADDING | {"steps": 40, "cell": "lstm"},
    "dropout_0": OVERFIT | {"dropout": 0.0},
    "dropout_0.25": OVERFIT | {"dropout": 0.25},
    "dropout_0.5": OVERFIT | {"dropout": 0.5},
    "schedule_constant": SCHEDULED | {"schedule": "constant"},
    "schedule_cosine": SCHEDULED | {"schedule": "cosine"},
    "schedule_step": SCHEDULED | {"schedule": "step"},
}
KEPT = ("loss", "lr", "param_grad_norm", "param_grad_norm_clipped", "eval_steps", "val_loss",
        "val_metric")  # fmt: skip


def settings_of(name: str) -> Settings:
    """The Settings of run ``name`` (the defaults plus its changes)."""
    return Settings(**({c.key: c.default for c in CONTROLS} | RUNS[name]))


def train_run(name: str) -> History:
    """Train run ``name`` as the Training page would (no budget notice may apply)."""
    plan = training.plan(settings_of(name))
    if plan.error or plan.notices:
        raise ValueError(f"run {name!r}: {plan.error or plan.notices}")
    return training.run(plan.spec)


def record(h: History) -> dict:
    """The part of a History the lesson draws and words, as JSON-ready lists."""
    out = {key: np.asarray(getattr(h, key)).tolist() for key in KEPT}
    return out | {"metric": h.metric, "baseline": h.baseline, "diverged": h.diverged}


def history(rec: dict) -> History:
    """A History holding a record (wall_time zeros: not recorded)."""
    arrays = {key: np.asarray(rec[key], dtype=int if key == "eval_steps" else float)
              for key in KEPT}  # fmt: skip
    return History(wall_time=np.zeros(len(rec["loss"])), metric=rec["metric"],
                   baseline=rec["baseline"], diverged=rec["diverged"], **arrays)  # fmt: skip


@functools.cache
def stored() -> dict[str, dict]:
    """The shipped records, by run name (read once per process)."""
    return json.loads(PATH.read_text(encoding="utf-8"))["runs"]


def get(name: str) -> History:
    """Run ``name`` from the shipped file."""
    return history(stored()[name])


def main() -> None:
    runs = {name: record(train_run(name)) for name in RUNS}
    PATH.write_text(json.dumps({"made_by": "app.runs.lesson_runs", "settings": RUNS,
                                "runs": runs}, separators=(",", ":")))  # fmt: skip
    print(f"wrote {PATH} ({PATH.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
