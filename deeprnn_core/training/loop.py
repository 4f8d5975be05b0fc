"""Train a deep RNN: the engine's exact gradients drive a torch.optim optimizer and scheduler.

Each update: the engine runs the minibatch forward and its adjoint backward (the same code as
``trace``), the parameter gradients are clipped as torch's ``clip_grad_norm_`` does, put into
the ``.grad`` of torch tensors that hold the weights, and a real torch optimizer steps them;
then the scheduler steps once (ReduceLROnPlateau with the update's training loss).
"""

from __future__ import annotations

import time
from types import MappingProxyType

import numpy as np

from deeprnn_core.cells import path_gradient
from deeprnn_core.config import blocks, check_real, check_seed
from deeprnn_core.engine import stack as engine
from deeprnn_core.renames import renamed_keywords
from deeprnn_core.trace import DTYPES
from deeprnn_core.training.batches import Batches, TrainData, evaluate, probe_grids, step_gradients
from deeprnn_core.training.history import (
    History,
    Progress,
    Recorder,
    StopTraining,
    snapshot_schedule,
)
from deeprnn_core.training.optimizers import make_optimizer, make_scheduler
from deeprnn_core.weights.model import Model

# The app's default training run (a tanh RNN stack on the adding problem).
DEFAULTS = MappingProxyType(
    {
        "task": "adding",
        "length": 50,  # T
        "num_layers": 4,
        "hidden_size": 32,
        "cell": "rnn",
        "activation": "tanh",
        "optimizer": "adam",
        "lr": 1e-2,
        "schedule": "constant",
        "steps": 300,
        "batch_size": 32,
        "clip_norm": 1.0,
        "seed": 0,
    }
)
MAX_STEP_BYTES = 1 << 30  # the arrays one update keeps (forward + adjoint) must fit in 1 GiB


@renamed_keywords(loss="loss_kind")  # the keyword's name before issue 10
def train(
    model: Model,
    data,
    *,
    steps: int,
    optimizer: str = "adam",
    lr: float = 1e-3,
    optimizer_kwargs: dict | None = None,
    schedule: str = "constant",
    schedule_kwargs: dict | None = None,
    batch_size: int = 32,
    clip_norm: float | None = None,
    loss_kind="last",
    objective: str = "mse",
    dtype: str = "float64",
    shuffle: bool = True,
    seed: int = 0,
    eval_every: int | None = None,
    snapshots: int = 20,
    callback=None,
    record: bool = True,
) -> History:
    """Train a copy of ``model`` for ``steps`` updates and record how it learned.

    Args:
        model: the starting weights (not changed; ``History.model`` is the trained one).
        data: a task name (``tasks.TASKS``, built with ``make_task(name, seed=seed)``), a
            ``Task``, or a pair ``(x, y)``: x (T, N, d), y (T, N, q), or (T, N, 1) class
            indices for cross_entropy (no validation split then).
        steps: optimizer updates, >= 1.
        optimizer: "sgd", "adam", "adamw" or "rmsprop": torch.optim's, with ``optimizer_kwargs``
            (momentum, betas, weight_decay, ...) passed as they are.
        lr: learning rate, > 0.
        schedule: "constant", "step", "exponential", "cosine", "onecycle", "warmup" or
            "plateau"; ``schedule_kwargs`` override the defaults of ``optimizers``. The
            scheduler steps once per update.
        batch_size: sequences per update, <= N. shuffle=False: minibatch k holds samples
            (k * batch_size + i) mod N; shuffle=True: a fresh seeded permutation per epoch.
        clip_norm: clip the global gradient norm to this (torch's clip_grad_norm_), or None.
        loss_kind, objective: as in ``trace`` (steps scored; "mse" or "cross_entropy"). With a
            task, the defaults ("last", "mse") mean the task's own loss and objective.
            ``loss=``, the earlier name of ``loss_kind=``, still works with a DeprecationWarning.
        dtype: "float64" or "float32", of the engine and of the torch weights.
        seed: seeds the task, the shuffling and the dropout masks (dropout is on in training,
            off in validation and snapshots).
        eval_every: validation loss and metric every this many updates (and at 0 and the
            end); default max(1, steps // 20).
        snapshots: at least this many (L, T) grids of |H| and |G| on the probe sequence
            (the first validation sequence), log-spaced over 0..steps, 0 and the end included.
        callback: called with a ``Progress`` after every update; returning False or raising
            ``StopTraining`` stops the run, which returns what it has (stopped_early=True).
        record: False skips the per-layer norms, update ratios, singular values, attenuation
            and snapshots (loss, lr, gradient norms, wall time and validation remain).
    Returns:
        a History; ``History.model`` is the trained Model.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    steps = _count("steps", steps, 1)
    lr = check_real("lr", lr, low=0.0, low_open=True)
    batch_size = _count("batch_size", batch_size, 1)
    snapshots = _count("snapshots", snapshots, 1)
    eval_every = max(1, steps // 20) if eval_every is None else _count("eval_every", eval_every, 1)
    if clip_norm is not None:
        clip_norm = check_real("clip_norm", clip_norm, low=0.0, low_open=True)
    import torch  # here, not with the package: pages that never train need not load it

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    for name, flag in (("shuffle", shuffle), ("record", record)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    seed = check_seed("seed", seed)
    data = TrainData.resolve(model.config, data, loss_kind, objective, dtype, seed)
    config = model.config
    if batch_size > data.num_train:
        raise ValueError(
            f"batch_size must be <= the {data.num_train} training sequences, got {batch_size}"
        )
    one_step = step_bytes(config, data.steps, batch_size, dtype)
    if one_step > MAX_STEP_BYTES:
        raise ValueError(
            f"batch_size={batch_size} is too large for the memory budget: one update would keep "
            f"{one_step / 2**20:.0f} MiB (limit {MAX_STEP_BYTES / 2**20:.0f} MiB at "
            f"L={config.num_layers}, T={data.steps}, h={config.hidden_size})"
        )

    weights = {
        n: torch.tensor(v, dtype=getattr(torch, dtype)).requires_grad_(True)
        for n, v in model.params.items()
    }
    views = {n: w.detach().numpy() for n, w in weights.items()}  # share memory with torch
    opt = make_optimizer(optimizer, list(weights.values()), lr, optimizer_kwargs)
    sched = make_scheduler(schedule, opt, steps, lr, schedule_kwargs)
    batches = Batches(data.num_train, batch_size, shuffle, np.random.default_rng([seed, 4]))
    dropout_rng = np.random.default_rng([seed, 3]) if config.dropout else None
    rec = Recorder(steps, config.num_layers, record, config.bias)
    snap_at = set(snapshot_schedule(steps, snapshots).tolist()) if record else set()
    settings = dict(
        task=data.name, steps=steps, optimizer=optimizer, lr=lr,
        optimizer_kwargs=optimizer_kwargs, schedule=schedule, schedule_kwargs=schedule_kwargs,
        batch_size=batch_size, clip_norm=clip_norm, loss_kind=data.loss_kind,
        objective=data.objective, dtype=dtype, shuffle=shuffle, seed=seed, eval_every=eval_every,
        snapshots=snapshots, record=record,
    )  # fmt: skip
    layer_names = [[n for n in views if n.endswith(f"_l{k}")] for k in range(config.num_layers)]

    def checkpoint(done: int) -> None:
        if data.has_validation and (done % eval_every == 0 or done == steps):
            rec.evals.append((done, *evaluate(config, views, data, dtype)))
        if done in snap_at:
            rec.snapshots.append((done, *probe_grids(config, views, data, dtype)))

    start = time.perf_counter()
    stopped, diverged, done = False, None, 0
    with np.errstate(all="ignore"), engine.one_blas_thread(), torch.no_grad():
        checkpoint(0)
        for done in range(1, steps + 1):
            row = done - 1
            idx = batches.next()
            value, grads, grad_hidden = step_gradients(config, views, data, idx, dtype, dropout_rng)
            raw = grads
            grads, norm, clipped = engine.clip_gradients(grads, clip_norm)
            a = rec.arrays
            a["loss"][row], a["param_grad_norm"][row], a["param_grad_norm_clipped"][row] = (
                value,
                norm,
                clipped,
            )
            a["lr"][row] = opt.param_groups[0]["lr"]
            if record:
                before, sizes = _record_gradients(
                    a, row, raw, views, grad_hidden, layer_names, config.cells
                )
            if not (np.isfinite(value) and np.isfinite(norm)):
                a["wall_time"][row] = time.perf_counter() - start
                diverged = f"update {done}: the loss or its gradient overflowed (inf / nan)"
                break
            for name, w in weights.items():
                w.grad = torch.from_numpy(grads[name])
            opt.step()
            if sched is not None:
                sched.step(value) if schedule == "plateau" else sched.step()
            if record:
                _update_ratio(a, row, views, before, sizes, layer_names)
            a["wall_time"][row] = time.perf_counter() - start
            checkpoint(done)
            if callback is not None:
                progress = Progress(done, steps, value, a["wall_time"][row], rec.history(done))
                try:
                    stopped = callback(progress) is False
                except StopTraining:
                    stopped = True
                if stopped:
                    break
    if stopped and done not in {s for s, *_ in rec.snapshots} and record:
        rec.snapshots.append((done, *probe_grids(config, views, data, dtype)))
    trained = Model(config, {n: np.array(v, dtype=np.float64) for n, v in views.items()})
    out = rec.history(done, model=trained)
    out.settings, out.metric, out.baseline = settings, data.metric, data.baseline
    out.stopped_early, out.diverged = stopped or diverged is not None, diverged
    return out


def _record_gradients(a, row, grads, views, grad_hidden, layer_names, cells):
    """Fill the per-layer norms of row ``row``; return the weights before the update (copies)
    and each layer's squared weight norm, for the update ratio. "W_xh" / "W_hh" are the cell's
    paths through depth and time (cells.path_gradient: nan where no parameter is on it)."""
    for k, cell in enumerate(cells):
        for key, path in (("param_grad_norm_w_xh", "depth"), ("param_grad_norm_w_hh", "time")):
            a[key][row, k] = np.sqrt(_sq(path_gradient(cell, grads, path, f"_l{k}")))
        if "param_grad_norm_b" in a:
            b = [_sq(grads[f"{n}_l{k}"]) for n in ("bias_ih", "bias_hh") if f"{n}_l{k}" in grads]
            a["param_grad_norm_b"][row, k] = np.sqrt(sum(b)) if b else np.nan
    # sigma_max(W) = sqrt(largest eigenvalue of W^T W): one batched call, 2-4x cheaper than SVD
    have = [k for k in range(len(cells)) if f"weight_hh_l{k}" in views]  # cells with a W_hh
    top = np.full(len(cells), np.nan)
    if have:
        gram = np.stack([views[f"weight_hh_l{k}"].T @ views[f"weight_hh_l{k}"] for k in have])
        gram = gram.astype(np.float64)  # (L', h, h)
        finite = np.isfinite(gram).all(axis=(1, 2))  # an overflowed W_hh has no spectrum: nan
        if finite.any():
            top[np.array(have)[finite]] = np.linalg.eigvalsh(gram[finite])[:, -1]
    a["top_singular_w_hh"][row] = np.sqrt(np.maximum(top, 0.0))
    a["attenuation"][row] = np.sqrt(_sq(grad_hidden[0]) / _sq(grad_hidden[1]))
    before = {n: views[n].copy() for names in layer_names for n in names}
    sizes = [sum(_sq(before[n]) for n in names) for names in layer_names]
    return before, sizes


def _update_ratio(a, row, views, before, sizes, layer_names) -> None:
    """|W_after - W_before| / |W_before| over each layer's parameters."""
    for k, names in enumerate(layer_names):
        moved = sum(_sq(views[n] - before[n]) for n in names)
        a["update_ratio"][row, k] = np.sqrt(moved / sizes[k]) if sizes[k] else np.nan


def _sq(x: np.ndarray) -> float:
    """Squared Euclidean norm, accumulated in float64."""
    flat = x.ravel().astype(np.float64, copy=False)
    return float(flat @ flat)


def _count(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def step_bytes(config, steps: int, batch: int, dtype: str = "float64") -> int:
    """About what one update keeps: per layer and step, the states, gates and adjoint."""
    gates = max(blocks(c) for c in config.cells)
    per_cell = batch * config.hidden_size * (6 + 3 * gates)
    return config.num_layers * steps * per_cell * np.dtype(dtype).itemsize
