"""train() against torch's own training loop, float64.

The same weights, the same minibatches (shuffle=False: batch k holds samples (k * B + i) mod N),
the same torch optimizer and scheduler, with and without clip_grad_norm_: after 20 updates
every weight equals torch's to rtol=1e-8 (atol=1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deeprnn_core as dc
from deeprnn_core import Model, RNNConfig, train
from tests.torch_reference import load_layer, make_cell, mse_loss, random_sequences

T, N, BATCH, STEPS, D, H, Q = 5, 6, 4, 20, 2, 3, 2
LR = {"sgd": 0.1, "adam": 0.05, "adamw": 0.05, "rmsprop": 0.01}
OPT_KWARGS = {"sgd": {"momentum": 0.9}, "adam": {}, "adamw": {"weight_decay": 0.1}, "rmsprop": {}}
SCHED = torch.optim.lr_scheduler
# torch schedulers with the defaults that deeprnn_core.training.optimizers documents
TORCH_SCHEDULES = {
    "constant": lambda opt, lr: None,
    "step": lambda opt, lr: SCHED.StepLR(opt, step_size=STEPS // 3, gamma=0.1),
    "exponential": lambda opt, lr: SCHED.ExponentialLR(opt, gamma=0.01 ** (1 / STEPS)),
    "cosine": lambda opt, lr: SCHED.CosineAnnealingLR(opt, T_max=STEPS),
    "onecycle": lambda opt, lr: SCHED.OneCycleLR(opt, max_lr=lr, total_steps=STEPS),
    "warmup": lambda opt, lr: SCHED.LinearLR(opt, start_factor=0.1, total_iters=STEPS // 10),
    "plateau": lambda opt, lr: SCHED.ReduceLROnPlateau(opt, patience=1),
}
TORCH_OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}


class CellStack(nn.Module):
    """The cell-built torch reference: nn.RNNCell / GRUCell / LSTMCell (or the formula cell for
    layer norm) per layer, residual where widths match, an nn.Linear head."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        c = self.config = model.config
        self.cells = nn.ModuleList()
        for k, (kind, act) in enumerate(zip(c.cells, c.activations)):
            cell = make_cell(kind, act, c.layer_input_size(k), c.hidden_size, c.bias, c.layer_norm)
            load_layer(cell, model.params, k)
            self.cells.append(cell)
        self.head = nn.Linear(c.hidden_size, c.output_size).double()
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor(model.params["head.weight"]))
            self.head.bias.copy_(torch.tensor(model.params["head.bias"]))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        inputs = list(x)
        for k, (cell, kind) in enumerate(zip(self.cells, self.config.cells)):
            h = x.new_zeros(x.shape[1], self.config.hidden_size)
            c, out = h, []
            for x_t in inputs:
                if kind == "lstm":
                    new, c = cell(x_t, (h, c))
                else:
                    new = cell(x_t, h)
                h = new + x_t if self.config.has_residual(k) else new
                out.append(h)
            inputs = out
        return [self.head(h) for h in inputs]

    def named_weights(self) -> dict[str, torch.Tensor]:
        out = {f"{n.replace('ln.', 'ln_')}_l{k}": p for k, c in enumerate(self.cells)
               for n, p in c.named_parameters()}  # fmt: skip
        out.update({f"head.{n}": p for n, p in self.head.named_parameters()})
        return out


def torch_training(model, x, y, optimizer, lr, schedule, clip, loss_kind="last", fused=True):
    """torch's own loop: forward, loss, backward, clip_grad_norm_, optimizer and scheduler step.
    Returns the weights under the model's names."""
    if fused:
        rnn, head = model.to_torch()
        named = dict(rnn.named_parameters()) | {f"head.{n}": p for n, p in head.named_parameters()}

        def outputs(xb):
            return list(head(rnn(xb)[0]))
    else:
        stack = CellStack(model)
        named, outputs = stack.named_weights(), stack
    params = [named[n] for n in model.params]
    opt = TORCH_OPTIMIZERS[optimizer](params, lr=lr, **OPT_KWARGS[optimizer])
    sched = TORCH_SCHEDULES[schedule](opt, lr)
    for k in range(STEPS):
        idx = (k * BATCH + np.arange(BATCH)) % N
        value = mse_loss(
            outputs(torch.from_numpy(x[:, idx])), torch.from_numpy(y[:, idx]), loss_kind
        )
        opt.zero_grad()
        value.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        if sched is not None:
            sched.step(float(value.detach())) if schedule == "plateau" else sched.step()
    return {n: p.detach().numpy() for n, p in named.items()}


def assert_same_weights(got: Model, want: dict[str, np.ndarray]) -> None:
    for name in want:
        np.testing.assert_allclose(
            got.params[name], want[name], rtol=1e-8, atol=1e-12, err_msg=name
        )


def run_both(
    config, optimizer="adam", schedule="constant", clip=None, loss_kind="last", fused=True
):
    model = Model.init(config, seed=11)
    x, y = random_sequences(T, N, config.input_size, config.output_size, seed=11)
    kwargs = {"patience": 1} if schedule == "plateau" else None
    hist = train(
        model, (x, y), steps=STEPS, optimizer=optimizer, lr=LR[optimizer],
        optimizer_kwargs=OPT_KWARGS[optimizer] or None, schedule=schedule,
        schedule_kwargs=kwargs, batch_size=BATCH, clip_norm=clip, loss_kind=loss_kind,
        shuffle=False, snapshots=3,
    )  # fmt: skip
    want = torch_training(model, x, y, optimizer, LR[optimizer], schedule, clip, loss_kind, fused)
    assert_same_weights(hist.model, want)
    assert hist.steps == STEPS and not hist.stopped_early
    return hist


@pytest.mark.parametrize("optimizer", list(TORCH_OPTIMIZERS))
@pytest.mark.parametrize("schedule", list(TORCH_SCHEDULES))
def test_every_optimizer_and_schedule_equals_torch_training(optimizer, schedule):
    run_both(RNNConfig(2, D, H, Q), optimizer, schedule, clip=0.5 if optimizer == "sgd" else None)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("clip", [None, 0.05])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fused_torch_modules_train_the_same(cell, clip, optimizer):
    hist = run_both(RNNConfig(2, D, H, Q, cell=cell), optimizer, "cosine", clip, loss_kind="all")
    if clip is not None:
        assert (hist.param_grad_norm > clip).any(), (
            "the clip never acted: the test would not test it"
        )
        np.testing.assert_allclose(
            hist.param_grad_norm_clipped, np.minimum(hist.param_grad_norm, clip), rtol=1e-5, atol=0
        )


@pytest.mark.parametrize(
    "config",
    [
        RNNConfig(3, D, H, Q, cell=("lstm", "rnn", "gru")),
        RNNConfig(3, H, H, Q, cell=("gru", "lstm", "rnn"), residual=True),
        RNNConfig(3, D, H, Q, layer_norm=True, residual=True),
        RNNConfig(2, D, H, Q, activation=("sigmoid", "tanh"), layer_norm=True),
    ],
    ids=["mixed", "mixed-residual", "layernorm-residual", "layernorm-sigmoid"],
)
@pytest.mark.parametrize("clip", [None, 0.05])
def test_mixed_residual_and_layernorm_stacks_train_like_the_cell_built_reference(config, clip):
    run_both(config, "adam", "warmup", clip, loss_kind=[-2, -1], fused=False)


def test_same_seed_same_history_bit_for_bit():
    config = RNNConfig(2, 2, 4, 1, dropout=0.3)
    model = Model.init(config, seed=1)
    runs = [
        dc.train(model, dc.make_task("adding", 8, 64, 16), steps=12, batch_size=8, seed=5,
                 eval_every=4, snapshots=5, clip_norm=1.0)
        for _ in range(2)
    ]  # fmt: skip
    a, b = runs
    for name in ("loss", "lr", "param_grad_norm", "param_grad_norm_w_hh", "param_grad_norm_b",
                 "update_ratio", "top_singular_w_hh", "attenuation", "val_loss", "val_metric",
                 "snapshot_hidden", "snapshot_grad", "eval_steps", "snapshot_steps"):  # fmt: skip
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in model.params:
        np.testing.assert_array_equal(a.model.params[name], b.model.params[name])
    c = dc.train(model, dc.make_task("adding", 8, 64, 16), steps=12, batch_size=8, seed=6)
    assert not np.array_equal(a.loss, c.loss), "another seed must shuffle and drop differently"


def test_history_shapes_snapshots_and_evaluations():
    config = RNNConfig(3, 2, 4, 1)
    hist = train(Model.init(config), "adding", steps=30, batch_size=16, eval_every=7, snapshots=20)
    assert hist.loss.shape == hist.lr.shape == hist.attenuation.shape == (30,)
    for name in (
        "param_grad_norm_w_xh",
        "param_grad_norm_w_hh",
        "param_grad_norm_b",
        "update_ratio",
    ):
        assert getattr(hist, name).shape == (30, 3), name
    assert hist.eval_steps.tolist() == [0, 7, 14, 21, 28, 30]
    steps = hist.snapshot_steps
    assert len(steps) >= 20 and steps[0] == 0 and steps[-1] == 30
    assert hist.snapshot_hidden.shape == hist.snapshot_grad.shape == (len(steps), 3, 50)
    assert np.all(np.diff(hist.wall_time) >= 0) and hist.metric == "mse"
    assert hist.baseline == dc.make_task("adding").baseline
    np.testing.assert_allclose(hist.param_grad_norm_clipped, hist.param_grad_norm)
    model = Model.init(config)  # the weights of update 1: torch's spectral norm, rtol=1e-10
    for k in range(3):
        want = torch.linalg.matrix_norm(torch.tensor(model.params[f"weight_hh_l{k}"]), ord=2)
        np.testing.assert_allclose(hist.top_singular_w_hh[0, k], float(want), rtol=1e-10)


def test_recorded_norms_and_update_ratio_follow_their_definitions():
    """Per-layer gradient norms equal a trace's on the same batch; the update ratio of update 1
    is |W_1 - W_0| / |W_0| over the layer's parameters; attenuation is |G_1^(1)| / |G_T^(L)|."""
    config = RNNConfig(2, D, H, Q)
    model = Model.init(config, seed=3)
    x, y = random_sequences(T, N, D, Q, seed=3)
    hist = train(model, (x, y), steps=1, batch_size=BATCH, shuffle=False, lr=0.1)
    tr = dc.trace(model, x[:, :BATCH], y[:, :BATCH])
    for k in range(2):
        for name, field in (
            ("weight_ih", "param_grad_norm_w_xh"),
            ("weight_hh", "param_grad_norm_w_hh"),
        ):
            want = np.linalg.norm(tr.param_grads[f"{name}_l{k}"])
            np.testing.assert_allclose(getattr(hist, field)[0, k], want, rtol=1e-12)
        bias = np.concatenate([tr.param_grads[f"bias_ih_l{k}"], tr.param_grads[f"bias_hh_l{k}"]])
        np.testing.assert_allclose(hist.param_grad_norm_b[0, k], np.linalg.norm(bias), rtol=1e-12)
        names = [n for n in model.params if n.endswith(f"_l{k}")]
        moved = sum(((hist.model.params[n] - model.params[n]) ** 2).sum() for n in names)
        size = sum((model.params[n] ** 2).sum() for n in names)
        np.testing.assert_allclose(hist.update_ratio[0, k], np.sqrt(moved / size), rtol=1e-12)
    g = tr.grad_hidden
    want = np.linalg.norm(g[0, 0]) / np.linalg.norm(g[-1, -1])
    np.testing.assert_allclose(hist.attenuation[0], want, rtol=1e-10)
    np.testing.assert_allclose(hist.loss[0], tr.loss, rtol=1e-12)


def test_the_trained_model_is_a_new_model_that_trace_accepts():
    model = Model.init(RNNConfig(2, 2, 4, 1), seed=2)
    before = {k: v.copy() for k, v in model.params.items()}
    hist = train(model, "adding", steps=3, batch_size=4, record=False)
    assert hist.model is not model and hist.model.config == model.config
    for name in model.params:
        np.testing.assert_array_equal(model.params[name], before[name])
    assert not hist.model.params["weight_hh_l0"].flags.writeable
    assert np.isfinite(dc.trace(hist.model, np.zeros((5, 1, 2))).loss)
    assert hist.snapshot_hidden is None and hist.param_grad_norm_w_hh is None


@pytest.mark.parametrize("stop", ["false", "raise"])
def test_callback_stops_early_and_returns_what_it_has(stop):
    seen = []

    def callback(progress):
        seen.append((progress.step, progress.steps, len(progress.history.loss)))
        if progress.step == 4:
            if stop == "raise":
                raise dc.StopTraining
            return False

    hist = train(Model.init(RNNConfig(2, 2, 4, 1)), "adding", steps=50, batch_size=4,
                 callback=callback)  # fmt: skip
    assert seen == [(k, 50, k) for k in range(1, 5)]
    assert hist.stopped_early and hist.steps == 4 and hist.snapshot_steps[-1] == 4


def test_copy_task_trains_with_cross_entropy_and_reports_accuracy():
    task = dc.make_task("copy", 3, 32, 16)
    model = Model.init(RNNConfig(1, task.input_size, 8, task.output_size, cell="lstm"))
    hist = train(model, task, steps=4, batch_size=8, lr=1e-2, eval_every=2)
    assert hist.settings["objective"] == "cross_entropy"
    assert hist.settings["loss_kind"] == tuple(range(13, 23)) and hist.metric == "accuracy"
    assert np.all((hist.val_metric >= 0) & (hist.val_metric <= 1))
    np.testing.assert_allclose(hist.val_loss[0], 10 * np.log(9), rtol=0.2)  # ~uniform logits


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
        ({"lr": -1e-3}, ValueError, "lr must be a finite number > 0"),
        ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
        ({"data": "parity"}, ValueError, r"task must be one of \('adding'"),
        ({"optimizer": "lbfgs"}, ValueError, r"optimizer must be one of \('sgd', 'adam'"),
        ({"schedule": "cyclic"}, ValueError, r"schedule must be one of \('constant'"),
        ({"batch_size": 2000}, ValueError, "batch_size must be <= the 1000 training sequences"),
        ({"optimizer_kwargs": {"nesterov_x": 1}}, TypeError, "optimizer_kwargs .* rejected"),
        ({"schedule": "step", "schedule_kwargs": {"gama": 1}}, TypeError, "schedule_kwargs"),
        ({"dtype": "float16"}, ValueError, "dtype must be one of"),
        ({"callback": 3}, TypeError, "callback must be callable"),
        ({"data": 5}, TypeError, "data must be a task name, a Task or a pair"),
    ],
)
def test_bad_settings_raise_named_errors(kwargs, error, message):
    args = {"data": "adding", "steps": 2, **kwargs}
    with pytest.raises(error, match=message):
        train(Model.init(RNNConfig(2, 2, 4, 1)), **args)


def test_a_batch_over_the_memory_budget_is_refused():
    task = dc.make_task("adding", 2000, 1000, 10)
    with pytest.raises(ValueError, match="batch_size=1000 is too large for the memory budget"):
        train(Model.init(RNNConfig(4, 2, 64, 1)), task, steps=1, batch_size=1000)


def test_a_diverging_run_stops_before_applying_the_overflowed_update():
    """SGD at lr=1e6 on an identity-activation stack overflows within a few updates; the run
    stops, says where, and the returned model holds the last finite weights."""
    model = Model.init(RNNConfig(2, 2, 4, 1, activation="identity"), seed=0)
    x, y = np.ones((5, 8, 2)), np.ones((5, 8, 1))
    hist = train(model, (x, y), steps=50, optimizer="sgd", lr=1e6, batch_size=8)
    assert hist.stopped_early and hist.steps < 50
    assert hist.diverged == f"update {hist.steps}: the loss or its gradient overflowed (inf / nan)"
    assert not np.isfinite(hist.loss[-1]) or not np.isfinite(hist.param_grad_norm[-1])
    assert all(np.isfinite(v).all() for v in hist.model.params.values())


def test_weights_that_overflow_in_float32_end_the_run_as_diverged_not_as_an_error():
    # SGD at lr 1 on a relu stack at gain 3: an update leaves W_hh non-finite; its spectrum is
    # then undefined (nan), and the next update's loss overflows (it raised LinAlgError before).
    cfg = RNNConfig(num_layers=2, input_size=2, hidden_size=8, activation="relu")
    model = Model.init(cfg, scheme="torch", recurrent_gain=3.0, input_gain=3.0, seed=3)
    task = dc.make_task("adding", length=12, seed=3)
    history = train(model, task, steps=20, optimizer="sgd", lr=1.0, batch_size=8,
                    dtype="float32", seed=3)  # fmt: skip
    assert history.diverged is not None and history.stopped_early
    assert history.steps < 20
    assert np.isnan(history.top_singular_w_hh[-1]).all()
    assert np.isfinite(history.top_singular_w_hh[0]).all()
