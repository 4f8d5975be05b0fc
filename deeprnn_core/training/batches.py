"""Training data and what the engine computes on one minibatch, for ``train``.

Weights come in as a dict of numpy arrays under torch names (views of the torch tensors the
optimizer steps); each call lays them out for the engine afresh, so it sees the latest values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.config import RNNConfig
from deeprnn_core.data.tasks import Task, make_task
from deeprnn_core.engine import stack as engine
from deeprnn_core.trace import as_sequence

EVAL_CHUNK = 256  # validation sequences per forward pass


@dataclass(eq=False)
class TrainData:
    """The arrays ``train`` reads, in the run's dtype."""

    name: str | None  # task name, None for raw arrays
    x_train: np.ndarray  # (T, N, d)
    y_train: np.ndarray  # (T, N, q) or (T, N, 1) class indices
    x_val: np.ndarray | None  # (T, N_val, d)
    y_val: np.ndarray | None
    loss_kind: str | tuple[int, ...]
    objective: str
    metric: str  # "mse" or "accuracy"
    baseline: float | None

    @property
    def num_train(self) -> int:
        return self.x_train.shape[1]

    @property
    def steps(self) -> int:
        return self.x_train.shape[0]

    @property
    def has_validation(self) -> bool:
        return self.x_val is not None

    @classmethod
    def resolve(cls, config: RNNConfig, data, loss_kind, objective, dtype, seed) -> TrainData:
        """From a task name, a Task or an (x, y) pair; checks the widths against ``config``."""
        if isinstance(data, str):
            data = make_task(data, seed=seed)
        if isinstance(data, Task):
            if loss_kind == "last" and objective == "mse":
                loss_kind, objective = data.loss_kind, data.objective
            xt, yt, xv, yv = data.x_train, data.y_train, data.x_val, data.y_val
            name, metric, baseline = data.name, data.metric, data.baseline
            if config.output_size != data.output_size:
                raise ValueError(
                    f"output_size must be {data.output_size} for task {data.name!r}, "
                    f"got {config.output_size}"
                )
        elif isinstance(data, tuple) and len(data) == 2:
            xt, yt = data
            xv = yv = name = baseline = None
            metric = "accuracy" if objective == "cross_entropy" else "mse"
        else:
            raise TypeError(
                f"data must be a task name, a Task or a pair (x, y), got {type(data).__name__}"
            )
        if objective not in engine.OBJECTIVES:
            raise ValueError(f"objective must be one of {engine.OBJECTIVES}, got {objective!r}")
        xt = as_sequence("x", xt, config.input_size, "input_size", dtype)
        width = config.output_size if objective == "mse" else 1
        yt = as_sequence("y", yt, width, "output_size" if objective == "mse" else "1", dtype)
        if yt.shape[:2] != xt.shape[:2]:
            raise ValueError(f"y must have shape (T, N, {width}) = {xt.shape[:2]}, got {yt.shape}")
        steps = engine.loss_steps(loss_kind, xt.shape[0])
        loss_kind = loss_kind if isinstance(loss_kind, str) else tuple(int(t) for t in steps)
        if objective == "cross_entropy":
            engine.check_class_targets(yt[steps], config.output_size)
        if xv is not None:
            xv = as_sequence("x_val", xv, config.input_size, "input_size", dtype)
            yv = np.ascontiguousarray(yv, dtype=dtype)
        return cls(name, xt, yt, xv, yv, loss_kind, objective, metric, baseline)


class Batches:
    """Minibatch indices: in order, (k * B + i) mod N, or a seeded permutation per epoch."""

    def __init__(self, n: int, batch: int, shuffle: bool, rng: np.random.Generator) -> None:
        self.n, self.batch, self.shuffle, self.rng = n, batch, shuffle, rng
        self.k, self.order, self.pos = 0, np.arange(n), n

    def next(self) -> np.ndarray:
        if not self.shuffle:
            idx = (self.k * self.batch + np.arange(self.batch)) % self.n
            self.k += 1
            return idx
        out = []
        need = self.batch
        while need:
            if self.pos == self.n:
                self.order, self.pos = self.rng.permutation(self.n), 0
            take = self.order[self.pos : self.pos + need]
            out.append(take)
            self.pos += len(take)
            need -= len(take)
        return np.concatenate(out)


def _run(config, views, x, y, loss_kind, objective, dtype, rng, want_params=True):
    """Forward, head, loss and adjoint of one batch x (T, B, d); returns (value, output,
    per-layer LayerGrads, forward)."""
    layers = engine.stack_layers(config, [views], dtype)
    head_w = views["head.weight"].T[None].astype(dtype, copy=False)  # (1, h, q)
    head_b = views["head.bias"][None, None].astype(dtype, copy=False)  # (1, 1, q)
    B, L, h = x.shape[1], config.num_layers, config.hidden_size
    h0 = np.zeros((L, 1, B, h), dtype=dtype)
    fwd = engine.forward(layers, x[:, None], h0, None, config.dropout, rng)  # C_0 = 0
    top = fwd.records[-1].hidden
    output, values, grad_output = engine.head_loss(
        top, head_w, head_b, y[:, None], loss_kind, objective
    )
    ext = grad_output @ head_w.swapaxes(-1, -2)  # (T, 1, B, h)
    grads = engine.backward(layers, fwd, ext, want_params)
    return float(values[0]), output, grads, (fwd, grad_output, top)


def step_gradients(config, views, data: TrainData, idx, dtype, rng):
    """One minibatch: (loss, parameter gradients under torch names, (G_1^(1), G_T^(L)))."""
    x, y = data.x_train[:, idx], data.y_train[:, idx]
    value, _, grads, (fwd, grad_output, top) = _run(
        config, views, x, y, data.loss_kind, data.objective, dtype, rng
    )
    params = {}
    for k, g in enumerate(grads):
        params.update({f"{n}_l{k}": v[0] for n, v in g.params.items()})
    params["head.weight"] = np.einsum("tbq,tbh->qh", grad_output[:, 0], top[:, 0])
    params["head.bias"] = grad_output[:, 0].sum(axis=(0, 1))
    ordered = {n: np.ascontiguousarray(params[n]) for n in views}
    return value, ordered, (grads[0].grad_hidden[0], grads[-1].grad_hidden[-1])


def evaluate(config, views, data: TrainData, dtype) -> tuple[float, float]:
    """Validation (dropout off): (loss, metric), the loss being the mean over sequences."""
    n = data.x_val.shape[1]
    loss_sum = metric_sum = 0.0
    steps = engine.loss_steps(data.loss_kind, data.steps)
    layers = engine.stack_layers(config, [views], dtype)
    head_w = views["head.weight"].T[None].astype(dtype, copy=False)
    head_b = views["head.bias"][None, None].astype(dtype, copy=False)
    L, h = config.num_layers, config.hidden_size
    for start in range(0, n, EVAL_CHUNK):
        x, y = data.x_val[:, start : start + EVAL_CHUNK], data.y_val[:, start : start + EVAL_CHUNK]
        B = x.shape[1]
        h0 = np.zeros((L, 1, B, h), dtype=dtype)
        fwd = engine.forward(layers, x[:, None], h0, None, 0, None)  # C_0 = 0
        out, values, _ = engine.head_loss(
            fwd.records[-1].hidden, head_w, head_b, y[:, None], data.loss_kind, data.objective
        )
        loss_sum += float(values[0]) * B
        if data.metric == "accuracy":
            hit = out[steps, 0].argmax(-1) == y[steps][..., 0].astype(np.intp)  # (K, B)
            metric_sum += float(hit.mean()) * B
        else:
            metric_sum += float(values[0]) * B
    if data.metric == "perplexity":  # exp of the loss per scored step
        return loss_sum / n, float(np.exp(loss_sum / n / len(steps)))
    return loss_sum / n, metric_sum / n


def probe_grids(config, views, data: TrainData, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(L, T) grids of |H_t^(l)| and |G_t^(l)| on the probe: the first validation sequence
    (the first training sequence without a validation split), dropout off."""
    x = (data.x_val if data.has_validation else data.x_train)[:, :1]
    y = (data.y_val if data.has_validation else data.y_train)[:, :1]
    _, _, grads, (fwd, _, _) = _run(
        config, views, x, y, data.loss_kind, data.objective, dtype, None, want_params=False
    )
    hidden = np.linalg.norm(fwd.hidden[:, :, 0, 0], axis=-1)  # (L, T)
    grad = np.stack([np.linalg.norm(g.grad_hidden[:, 0, 0], axis=-1) for g in grads])
    return hidden, grad
