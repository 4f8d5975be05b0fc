"""What a training run recorded: the ``History`` dataclass, progress reports and early stop.

Steps are counted from 1: row k - 1 of every per-step array belongs to update k, computed on
that update's minibatch with the weights it started from (so ``loss[0]`` is the initial loss).
Evaluations and snapshots are taken at a step count s = 0..steps: with the weights after s
updates (s = 0: the initial weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from deeprnn_core.weights.model import Model


class StopTraining(Exception):
    """Raise from a ``train`` callback to stop early; ``train`` returns what it has."""


@dataclass(eq=False)
class History:
    """A training run. n = updates done, L = layers, T = the probe's steps, m evaluations,
    s snapshots. Per-step norms are of the raw gradient (before clipping)."""

    loss: np.ndarray  # (n,) training loss of each minibatch
    lr: np.ndarray  # (n,) learning rate the update used (param group 0)
    param_grad_norm: np.ndarray  # (n,) global norm of all parameter gradients, before clipping
    param_grad_norm_clipped: np.ndarray  # (n,) the same after clipping (equal without clip_norm)
    wall_time: np.ndarray  # (n,) seconds from the start of training to the end of the update
    param_grad_norm_w_xh: np.ndarray | None = None  # (n, L) |dLoss/dW_xh^(l)| (torch weight_ih_l)
    param_grad_norm_w_hh: np.ndarray | None = None  # (n, L) |dLoss/dW_hh^(l)| (torch weight_hh_l)
    param_grad_norm_b: np.ndarray | None = (
        None  # (n, L) |dLoss/d(bias_ih, bias_hh)^(l)|, None: no bias
    )
    update_ratio: np.ndarray | None = None  # (n, L) |W_after - W_before| / |W_before|, all of
    # layer l's parameters together
    top_singular_w_hh: np.ndarray | None = None  # (n, L) largest singular value of the torch
    # weight_hh_l{l-1} (W_hh^(l) for rnn cells; all gate blocks stacked for GRU / LSTM)
    attenuation: np.ndarray | None = None  # (n,) |G_1^(1)| / |G_T^(L)| on the minibatch
    eval_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # (m,) s
    val_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (m,) validation loss
    val_metric: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (m,) the task metric
    snapshot_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # (s,)
    snapshot_hidden: np.ndarray | None = None  # (s, L, T) |H_t^(l)| on the probe sequence
    snapshot_grad: np.ndarray | None = None  # (s, L, T) |G_t^(l)| on the probe sequence
    metric: str = "mse"  # name of val_metric: "mse" or "accuracy"
    baseline: float | None = None  # the task's baseline loss (None for raw arrays)
    stopped_early: bool = False  # the callback stopped the run, or it diverged
    diverged: str | None = None  # where the loss or gradient overflowed; that update's row is
    # recorded but the update was not applied
    settings: dict = field(default_factory=dict)  # the train(...) arguments of the run
    model: Model | None = None  # the trained model (None only in a Progress's partial history)

    @property
    def steps(self) -> int:
        """Updates done."""
        return len(self.loss)


@dataclass(eq=False)
class Progress:
    """What the callback gets after every update."""

    step: int  # updates done
    steps: int  # updates asked for
    loss: float  # this update's training loss
    elapsed: float  # seconds since the start
    history: History  # everything so far (views; ``model`` is None), valid during the call


_PER_STEP = ("loss", "lr", "param_grad_norm", "param_grad_norm_clipped", "wall_time", "attenuation")
_PER_LAYER = ("param_grad_norm_w_xh", "param_grad_norm_w_hh", "param_grad_norm_b", "update_ratio")


class Recorder:
    """Preallocated arrays that ``train`` fills, and the History views of them."""

    def __init__(self, steps: int, layers: int, record: bool, bias: bool) -> None:
        self.record = record
        self.arrays = {name: np.full(steps, np.nan) for name in _PER_STEP}
        if record:
            names = _PER_LAYER + ("top_singular_w_hh",)
            self.arrays.update({n: np.full((steps, layers), np.nan) for n in names})
            if not bias:
                del self.arrays["param_grad_norm_b"]
        else:
            del self.arrays["attenuation"]
        self.evals: list[tuple[int, float, float]] = []
        self.snapshots: list[tuple[int, np.ndarray, np.ndarray]] = []

    def history(self, done: int, **extra) -> History:
        """A History of the first ``done`` updates (views into the arrays)."""
        kwargs = {name: a[:done] for name, a in self.arrays.items()}
        if self.evals:
            steps, loss, metric = zip(*self.evals)
            kwargs.update(
                eval_steps=np.array(steps), val_loss=np.array(loss), val_metric=np.array(metric)
            )
        if self.snapshots:
            steps, hid, grad = zip(*self.snapshots)
            kwargs.update(
                snapshot_steps=np.array(steps),
                snapshot_hidden=np.stack(hid),
                snapshot_grad=np.stack(grad),
            )
        names = {f.name for f in fields(History)}
        return History(**kwargs, **{k: v for k, v in extra.items() if k in names})


def snapshot_schedule(steps: int, count: int) -> np.ndarray:
    """At least min(count, steps + 1) step counts in 0..steps, log-spaced, 0 and steps included."""
    want = min(count, steps + 1)
    num = want
    while True:
        points = np.unique(np.round(np.geomspace(1, steps + 1, num)).astype(int) - 1)
        if len(points) >= want:
            return points
        num += 1
