"""The public API of ``deeprnn_core`` is a decision, not an accident (issue 16 item 7).

``PUBLIC`` pins every name of ``deeprnn_core.__all__`` and, for the callables, their signature
(``inspect.signature`` as a string; a class's is its constructor's, and its public methods are
pinned as ``Class.method``). A rename, a new argument or a new default fails here: update the
one entry of ``PUBLIC`` (the failure prints the new entries, ready to paste) in the same commit
that says why. A renamed keyword keeps its old name for a while (``deeprnn_core.renames``):
``trace(..., loss=...)`` and ``train(..., loss=...)`` still work, with a DeprecationWarning.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import deeprnn_core as dc

# name in __all__ (or Class.method) -> its signature string, or the type of a constant
PUBLIC = {
    "ACTIVATIONS": "tuple",
    "Applicability": "class(rule: 'str', layers: 'tuple[int, ...]', notice: 'str') -> None",
    "CELLS": "CellNames",  # the registry's names, live: a tuple's behaviour
    "DEFAULTS": "mappingproxy",
    "History": (
        "class(loss: 'np.ndarray', lr: 'np.ndarray', param_grad_norm: 'np.ndarray', "
        "param_grad_norm_clipped: 'np.ndarray', wall_time: 'np.ndarray', "
        "param_grad_norm_w_xh: 'np.ndarray | None' = None, "
        "param_grad_norm_w_hh: 'np.ndarray | None' = None, "
        "param_grad_norm_b: 'np.ndarray | None' = None, update_ratio: 'np.ndarray | None' = None, "
        "top_singular_w_hh: 'np.ndarray | None' = None, attenuation: 'np.ndarray | None' = None, "
        "eval_steps: 'np.ndarray' = <factory>, val_loss: 'np.ndarray' = <factory>, "
        "val_metric: 'np.ndarray' = <factory>, snapshot_steps: 'np.ndarray' = <factory>, "
        "snapshot_hidden: 'np.ndarray | None' = None, snapshot_grad: 'np.ndarray | None' = None, "
        "metric: 'str' = 'mse', baseline: 'float | None' = None, stopped_early: 'bool' = False, "
        "diverged: 'str | None' = None, settings: 'dict' = <factory>, "
        "model: 'Model | None' = None) -> None"
    ),
    "InitSpec": (
        "class(scheme: 'str' = 'torch', recurrent_gain: 'float' = 1.0, input_gain: 'float' = "
        "1.0, bias_scale: 'float' = 1.0, seed: 'int' = 0, lru_r_min: 'float' = 0.9, "
        "lru_r_max: 'float' = 0.999, lru_theta_max: 'float' = 3.141592653589793) -> None"
    ),
    "Model": (
        "class(config: 'RNNConfig', params: 'dict[str, np.ndarray]', "
        "random_head: 'bool' = False) -> None"
    ),
    "Model.init": (
        "(config: 'RNNConfig', init: 'InitSpec | None' = None, *loose, **loose_keywords) -> 'Model'"
    ),
    "Model.engine_layers": "(self, dtype: 'str') -> 'list'",
    "Model.to_torch": "(self)",
    "OPTIMIZERS": "dict",
    "Overflow": (
        "class(phase: 'str', quantity: 'str', l: 'int | None', t: 'int | None', order: 'str', "
        "param: 'str | None' = None) -> None"
    ),
    "Progress": (
        "class(step: 'int', steps: 'int', loss: 'float', elapsed: 'float', "
        "history: 'History') -> None"
    ),
    "RNNConfig": (
        "class(num_layers: 'int' = 4, input_size: 'int' = 8, hidden_size: 'int' = 32, "
        "output_size: 'int' = 1, activation: 'str | tuple[str, ...]' = 'tanh', "
        "cell: 'str | tuple[str, ...]' = 'rnn', bias: 'bool' = True, residual: 'bool' = False, "
        "layer_norm: 'bool' = False, dropout: 'float' = 0.0) -> None"
    ),
    "RNNConfig.layer_input_size": "(self, layer: 'int') -> 'int'",
    "RNNConfig.has_residual": "(self, layer: 'int') -> 'bool'",
    "RNNConfig.residual_layers": "(self) -> 'tuple[bool, ...]'",
    "RNNConfig.layer_norm_layers": "(self) -> 'tuple[bool, ...]'",
    "RNNConfig.dropout_layers": "(self) -> 'tuple[bool, ...]'",
    "RNNConfig.applicability": "(self) -> 'list[Applicability]'",
    "SCHEDULES": "tuple",
    "SCHEMES": "tuple",
    "StopTraining": "class(Exception)",
    "TASKS": "tuple",
    "Task": (
        "class(name: 'str', source: 'str', x_train: 'np.ndarray', y_train: 'np.ndarray', "
        "x_val: 'np.ndarray', y_val: 'np.ndarray', objective: 'str', loss_kind: 'str | tuple[int, "
        "...]', metric: 'str', baseline: 'float', baseline_rule: 'str', output_size: 'int', "
        "paper_baseline: 'float | None' = None) -> None"
    ),
    "Trace": (
        "class(config: 'RNNConfig', loss_kind: 'str | tuple[int, ...]', dtype: 'str', "
        "input: 'np.ndarray', target: 'np.ndarray', hidden: 'np.ndarray', preact: 'np.ndarray', "
        "output: 'np.ndarray', loss: 'float', grad_output: 'np.ndarray', "
        "grad_hidden: 'np.ndarray', grad_preact: 'np.ndarray', param_grads: 'dict[str, "
        "np.ndarray]', param_grad_norm: 'float', param_grad_norm_clipped: 'float', "
        "clip_norm: 'float | None', cell_state: 'np.ndarray | None' = None, "
        "grad_cell_state: 'np.ndarray | None' = None, gates: 'dict[str, np.ndarray]' = <factory>, "
        "dropout_masks: 'np.ndarray | None' = None, objective: 'str' = 'mse') -> None"
    ),
    "applicability": (
        "(cell, num_layers: 'int', input_size: 'int', hidden_size: 'int', "
        "residual: 'bool' = False, layer_norm: 'bool' = False, "
        "dropout: 'float' = 0.0) -> 'list[Applicability]'"
    ),
    "computation_order": "(num_layers: 'int', steps: 'int') -> 'tuple[tuple[str, int, int], ...]'",
    "from_torch": "(rnn, head=None, seed: 'int' = 0) -> 'Model'",
    "init_params": (
        "(config: 'RNNConfig', init: 'InitSpec | None' = None, *loose, **loose_keywords) "
        "-> 'dict[str, np.ndarray]'"
    ),
    "load_model": (
        "(source, *, prefix: 'str | None' = None, head_prefix: 'str | None' = None, "
        "activation: 'str | tuple[str, ...]' = 'tanh', max_bytes: 'int' = 67108864, "
        "max_layers: 'int' = 32, max_hidden: 'int' = 1024) -> 'Model'"
    ),
    "load_sequence": (
        "(source, *, input_size: 'int | None', max_bytes: 'int', max_steps: 'int', "
        "max_batch: 'int', standardize: 'bool' = False) -> 'tuple[np.ndarray, np.ndarray | None]'"
    ),
    "make_task": (
        "(name: 'str', length: 'int' = 50, n_train: 'int' = 1000, n_val: 'int' = 200, "
        "seed: 'int' = 0) -> 'Task'"
    ),
    "save_model": "(model: 'Model') -> 'bytes'",
    "torch_code": "(model: 'Model', path: 'str' = 'deeprnn_model.safetensors') -> 'str'",
    "trace": (
        "(model: 'Model', x, y=None, loss_kind='last', *, objective: 'str' = 'mse', "
        "dtype: 'str' = 'float64', training: 'bool' = True, dropout_seed: 'int' = 0, "
        "clip_norm: 'float | None' = None, h0=None, c0=None, cancel: 'Callable[[], "
        "bool] | None' = None, memory_limit: 'int | None' = None) -> 'Trace'"
    ),
    "train": (
        "(model: 'Model', data, *, steps: 'int', optimizer: 'str' = 'adam', lr: 'float' = 0.001, "
        "optimizer_kwargs: 'dict | None' = None, schedule: 'str' = 'constant', "
        "schedule_kwargs: 'dict | None' = None, batch_size: 'int' = 32, "
        "clip_norm: 'float | None' = None, loss_kind='last', objective: 'str' = 'mse', "
        "dtype: 'str' = 'float64', shuffle: 'bool' = True, seed: 'int' = 0, "
        "eval_every: 'int | None' = None, snapshots: 'int' = 20, callback=None, "
        "record: 'bool' = True) -> 'History'"
    ),
}


def describe(obj) -> str:
    """What PUBLIC holds for ``obj``: a callable's signature, a constant's type name."""
    if inspect.isclass(obj):
        try:
            return "class" + str(inspect.signature(obj))
        except (TypeError, ValueError):  # an exception class: no signature of its own
            return f"class({', '.join(base.__name__ for base in obj.__bases__)})"
    return str(inspect.signature(obj)) if callable(obj) else type(obj).__name__


def public_api() -> dict[str, str]:
    """The API as it is now, in PUBLIC's form."""
    found = {}
    for name in dc.__all__:
        obj = getattr(dc, name)
        found[name] = describe(obj)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                method = isinstance(value, (classmethod, staticmethod)) or inspect.isfunction(value)
                if method and not attr.startswith("_"):
                    found[f"{name}.{attr}"] = describe(getattr(obj, attr))
    return found


def test_public_api_is_pinned():
    assert len(dc.__all__) == len(set(dc.__all__)), "a name is listed twice in __all__"
    found = public_api()
    changed = {k for k in found.keys() | PUBLIC.keys() if found.get(k) != PUBLIC.get(k)}
    assert not changed, (
        "the public API changed; if that is the decision, update PUBLIC with:\n"
        + "\n".join(f"    {k!r}: {found[k]!r}," for k in sorted(changed) if k in found)
        + "".join(f"\n    (remove {k!r})" for k in sorted(changed - found.keys()))
    )


def small_run():
    model = dc.Model.init(dc.RNNConfig(num_layers=2, input_size=3, hidden_size=4), seed=0)
    rng = np.random.default_rng(0)
    return model, rng.standard_normal((5, 4, 3)), rng.standard_normal((5, 4, 1))


def test_trace_still_takes_loss_with_a_warning():
    model, x, y = small_run()
    with pytest.warns(DeprecationWarning, match=r"trace\(\.\.\., loss=\.\.\.\).*loss_kind="):
        old = dc.trace(model, x, y, loss="all")
    new = dc.trace(model, x, y, loss_kind="all")
    assert old.loss_kind == "all" and old.loss == new.loss  # the same run, bit for bit
    np.testing.assert_array_equal(old.grad_hidden, new.grad_hidden)


def test_train_still_takes_loss_with_a_warning():
    model, x, y = small_run()
    run = dict(steps=2, batch_size=4, record=False)
    with pytest.warns(DeprecationWarning, match=r"train\(\.\.\., loss=\.\.\.\).*loss_kind="):
        old = dc.train(model, (x, y), loss="all", **run)
    new = dc.train(model, (x, y), loss_kind="all", **run)
    np.testing.assert_array_equal(old.loss, new.loss)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x, y: dc.trace(m, x, y, loss="all", loss_kind="all"),
        lambda m, x, y: dc.trace(m, x, y, "all", loss="all"),  # loss_kind by position
        lambda m, x, y: dc.train(m, (x, y), steps=1, loss="all", loss_kind="last"),
    ],
)
def test_loss_and_loss_kind_together_is_a_type_error(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any warning
        with pytest.raises(TypeError, match=r"both loss= and loss_kind=.*pass loss_kind= only"):
            call(*small_run())


def test_the_new_name_does_not_warn():
    model, x, y = small_run()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        dc.trace(model, x, y, "all")
        dc.trace(model, x, y, loss_kind="last")
