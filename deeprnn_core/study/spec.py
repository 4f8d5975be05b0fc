"""What a study is: one frozen ``StudySpec`` (task, the map's axes, the training budget), the
points of its grid, and a stable key that names it in the database.

A study trains one model per point (cell, depth, lr, seed) of the map, every trial one
``deeprnn_core.train`` call on the same task with the same budget of updates. ``sampler="grid"``
visits every point (Optuna's GridSampler, for maps); ``sampler="tpe"`` draws ``n_trials`` points
with Optuna's TPE (lr log-uniform between min(lrs) and max(lrs)), for searches.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass, fields

from deeprnn_core.cells import CELL_NAMES
from deeprnn_core.config import check_real, check_seed
from deeprnn_core.data.tasks import TASKS
from deeprnn_core.training.optimizers import OPTIMIZERS, SCHEDULES
from deeprnn_core.weights.init import SCHEMES

SAMPLERS = ("grid", "tpe")
PRUNERS = ("none", "median", "halving")  # optuna's MedianPruner, SuccessiveHalvingPruner


def _ints(name: str, value, low: int) -> tuple[int, ...]:
    values = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
    out = []
    for v in tuple(values):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must hold ints, got {v!r}")
        if v < low:
            raise ValueError(f"{name} must hold ints >= {low}, got {v}")
        out.append(int(v))
    if not out or len(set(out)) != len(out):
        raise ValueError(f"{name} must be a non-empty tuple of distinct values, got {value!r}")
    return tuple(out)


@dataclass(frozen=True)
class StudySpec:
    """One study: the map's axes (cells x depths x lrs x seeds) on one task and budget.

    ``seeds`` takes a count n (seeds 0..n-1) or the seeds themselves. Each seed is the run's one
    seed, as on the Training page: the weights', the task's draw, the minibatch order's.
    """

    task: str  # one of deeprnn_core.TASKS
    length: int  # the task's T
    cells: tuple[str, ...]  # cell types, one model per cell type (all layers alike)
    depths: tuple[int, ...]  # L values
    lrs: tuple[float, ...]  # learning rates (grid) or the range's two ends (tpe)
    seeds: tuple[int, ...] | int  # seeds, or how many (0..n-1)
    steps: int  # optimizer updates per trial
    batch_size: int = 32
    hidden_size: int = 32
    activation: str = "tanh"  # phi of the plain rnn cells
    optimizer: str = "adam"
    schedule: str = "constant"
    clip_norm: float | None = 1.0
    init_scheme: str = "torch"
    recurrent_gain: float = 1.0
    input_gain: float = 1.0
    residual: bool = False
    layer_norm: bool = False
    n_train: int = 256  # training sequences the task draws
    n_val: int = 64  # validation sequences
    evals: int = 10  # validation passes per trial (plus one before training)
    dtype: str = "float64"
    sampler: str = "grid"  # "grid" (every point) or "tpe" (n_trials draws)
    n_trials: int | None = None  # tpe only
    pruner: str = "none"  # "none", "median" or "halving", fed by the validation losses

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        cells = (self.cells,) if isinstance(self.cells, str) else tuple(self.cells)
        if not cells or any(c not in CELL_NAMES for c in cells) or len(set(cells)) != len(cells):
            raise ValueError(f"cells must be distinct names from {tuple(CELL_NAMES)}, got {cells}")
        object.__setattr__(self, "cells", cells)
        object.__setattr__(self, "depths", _ints("depths", self.depths, 1))
        seeds = self.seeds
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            seeds = tuple(range(check_seed("seeds", seeds))) if seeds > 0 else ()
        object.__setattr__(self, "seeds", _ints("seeds", seeds, 0))
        lrs = (self.lrs,) if isinstance(self.lrs, (int, float)) else tuple(self.lrs)
        lrs = tuple(check_real("lrs", v, low=0.0, low_open=True) for v in lrs)
        if not lrs or len(set(lrs)) != len(lrs):
            raise ValueError(f"lrs must be distinct learning rates > 0, got {self.lrs!r}")
        object.__setattr__(self, "lrs", lrs)
        for name in ("length", "steps", "batch_size", "hidden_size", "n_train", "n_val", "evals"):
            object.__setattr__(self, name, _ints(name, getattr(self, name), 1)[0])
        for name, allowed in (
            ("optimizer", tuple(OPTIMIZERS)),
            ("schedule", SCHEDULES),
            ("init_scheme", SCHEMES),
            ("sampler", SAMPLERS),
            ("pruner", PRUNERS),
            ("dtype", ("float64", "float32")),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("recurrent_gain", "input_gain"):
            object.__setattr__(self, name, check_real(name, getattr(self, name)))
        if self.clip_norm is not None:
            object.__setattr__(self, "clip_norm", check_real("clip_norm", self.clip_norm))
        if self.sampler == "tpe":
            if self.n_trials is None or len(lrs) != 2:
                raise ValueError("sampler='tpe' needs n_trials and lrs=(low, high)")
            object.__setattr__(self, "n_trials", _ints("n_trials", self.n_trials, 1)[0])
        elif self.n_trials is not None:
            raise ValueError("n_trials is for sampler='tpe'; a grid visits every point")
        if self.batch_size > self.n_train:
            raise ValueError(f"batch_size must be <= n_train={self.n_train}")

    @property
    def eval_every(self) -> int:
        """Updates between two validation passes."""
        return max(1, self.steps // self.evals)

    def points(self) -> list[tuple[str, int, float, int]]:
        """The grid: every (cell, depth, lr, seed), cells slowest."""
        return list(itertools.product(self.cells, self.depths, self.lrs, self.seeds))

    @property
    def size(self) -> int:
        """Trials the study runs: the grid's points, or n_trials."""
        return len(self.points()) if self.sampler == "grid" else self.n_trials

    def search_space(self) -> dict[str, list]:
        """GridSampler's search space (the trial's parameter names and values)."""
        return {
            "cell": list(self.cells),
            "depth": list(self.depths),
            "lr": list(self.lrs),
            "seed": list(self.seeds),
        }

    def to_json(self) -> str:
        """Every field, as JSON (floats by repr: round-trips exactly)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StudySpec:
        """The spec ``to_json`` wrote."""
        raw = json.loads(text)
        names = {f.name for f in fields(cls)}
        return cls(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names}
        )

    @property
    def key(self) -> str:
        """The study's name in the database: the task and a hash of every field."""
        digest = hashlib.sha256(self.to_json().encode()).hexdigest()[:16]
        return f"deeprnn-{self.task}-{digest}"


def log_lrs(low: float, high: float, count: int) -> tuple[float, ...]:
    """``count`` learning rates log-spaced from ``low`` to ``high``, rounded to 3 significant
    digits (so a map's lrs print and hash alike)."""
    if count == 1:
        return (float(low),)
    step = (math.log10(high) - math.log10(low)) / (count - 1)
    return tuple(float(f"{10 ** (math.log10(low) + k * step):.3g}") for k in range(count))
