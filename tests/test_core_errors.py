"""Every bad input gets a TypeError (wrong type) or ValueError (bad value) whose message names
the argument, the rule and the value given, as torch's own messages do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deeprnn_core import InitSpec, Model, RNNConfig, from_torch, init_params, trace
from deeprnn_core.analysis.summaries import depth_sweep, gate_saturation
from deeprnn_core.data.signals import make_signal

CONFIG = RNNConfig(num_layers=2, input_size=3, hidden_size=4, output_size=1)
MODEL = Model.init(CONFIG, seed=0)
X = np.zeros((5, 2, 3))  # (T, B, d)


def describe(value) -> str | None:
    """A test id for a dict of arguments (arrays by their shape); None lets pytest choose."""
    if not isinstance(value, dict):
        return None
    return ",".join(f"{k}={_short(v)}" for k, v in value.items())


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    return type(value).__name__ if isinstance(value, (list, dict)) else repr(value)


@pytest.mark.parametrize(
    "fields, error, message",
    [
        ({"num_layers": 0}, ValueError, r"num_layers must be >= 1, got 0"),
        ({"hidden_size": 0}, ValueError, r"hidden_size must be >= 1, got 0"),
        ({"input_size": -3}, ValueError, r"input_size must be >= 1, got -3"),
        ({"output_size": 0}, ValueError, r"output_size must be >= 1, got 0"),
        ({"num_layers": 2.0}, TypeError, r"num_layers must be an int, got float 2.0"),
        ({"hidden_size": "32"}, TypeError, r"hidden_size must be an int, got str '32'"),
        ({"input_size": True}, TypeError, r"input_size must be an int, got bool True"),
        ({"activation": "softplus"}, ValueError, r"activation must be one of .*got 'softplus'"),
        (
            {"cell": "RNN"},
            ValueError,
            r"cell must be one of \('rnn', 'gru', 'lstm', 'mingru', 'minlstm', 'lru'\), got 'RNN'",
        ),
        ({"activation": ("tanh",) * 3}, ValueError, r"activation .* one per layer.*2, got 3"),
        ({"cell": ("rnn",)}, ValueError, r"cell must name one value or one per layer.*2, got 1"),
        ({"cell": ["rnn", "gru"]}, TypeError, r"cell must be a str or a tuple of str, got \["),
        ({"activation": ("tanh", "relu6")}, ValueError, r"activation must be .*got 'relu6'"),
        ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\), got 1.0"),
        ({"dropout": -0.1}, ValueError, r"dropout must be in \[0, 1\), got -0.1"),
        ({"dropout": float("nan")}, ValueError, r"dropout must be in \[0, 1\), got nan"),
        ({"dropout": "0.5"}, TypeError, r"dropout must be a float, got '0.5'"),
        ({"bias": 1}, TypeError, r"bias must be a bool, got 1"),
        ({"residual": "yes"}, TypeError, r"residual must be a bool, got 'yes'"),
        (
            {"cell": ("rnn", "gru"), "layer_norm": True},
            ValueError,
            r"layer_norm applies to rnn cells only; cell is \('rnn', 'gru'\)",
        ),
    ],
    ids=describe,
)
def test_bad_config(fields, error, message):
    with pytest.raises(error, match=message):
        RNNConfig(**{**vars(CONFIG), **fields})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"scheme": "xavier"}, ValueError, r"scheme must be one of .*got 'xavier'"),
        (
            {"recurrent_gain": -1.0},
            ValueError,
            r"recurrent_gain must be a finite number >= 0, got -1",
        ),
        ({"input_gain": -0.5}, ValueError, r"input_gain must be a finite number >= 0, got -0.5"),
        ({"input_gain": float("inf")}, ValueError, r"input_gain must be a finite number.*got inf"),
        ({"bias_scale": -2}, ValueError, r"bias_scale must be a finite number >= 0, got -2"),
        ({"seed": -1}, ValueError, r"seed must be an int >= 0, got -1"),
        ({"seed": 1.5}, TypeError, r"seed must be an int >= 0, got float 1.5"),
        # non-numbers (e.g. a text box's string) must name the argument too
        ({"recurrent_gain": "2"}, TypeError, r"recurrent_gain .*'2'"),
        ({"input_gain": None}, TypeError, r"input_gain .*None"),
        ({"bias_scale": float("nan")}, ValueError, r"bias_scale must be a finite number.*nan"),
        ({"recurrent_gain": True}, TypeError, r"recurrent_gain must be a real number, got bool"),
        ({"seed": True}, TypeError, r"seed must be an int >= 0, got bool True"),
        ({"scheme": 3}, TypeError, r"scheme must be a str, one of .*got 3"),
    ],
    ids=describe,
)
def test_bad_init(kwargs, error, message):
    """InitSpec checks each field on construction; the loose form of Model.init builds one, so
    it refuses the same values with the same words."""
    with pytest.raises(error, match=message):
        InitSpec(**kwargs)
    with pytest.raises(error, match=message):
        Model.init(CONFIG, **kwargs)


def params_with(**changes) -> dict[str, np.ndarray]:
    """MODEL's params with some entries replaced (None removes one)."""
    params = {**MODEL.params, **changes}
    return {name: value for name, value in params.items() if value is not None}


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            params_with(weight_hh_l1=None),
            ValueError,
            r"missing \['weight_hh_l1'\], unexpected \[\]",
        ),
        (params_with(weight_hh_l2=np.eye(4)), ValueError, r"unexpected \['weight_hh_l2'\]"),
        (
            {k.replace("_l1", "_l9"): v for k, v in MODEL.params.items()},
            ValueError,
            r"missing \['bias_hh_l1', .*\], unexpected \['bias_hh_l9', ",
        ),
        (
            params_with(weight_ih_l0=np.zeros((4, 4))),
            ValueError,
            r"params\['weight_ih_l0'\] must have shape \(4, 3\), got \(4, 4\)",
        ),
        (
            params_with(bias_ih_l1=np.zeros((1, 4))),
            ValueError,
            r"params\['bias_ih_l1'\] must have shape \(4,\), got \(1, 4\)",
        ),
        (
            params_with(**{"head.weight": np.full((1, 4), np.nan)}),
            ValueError,
            r"params\['head.weight'\] must be finite",
        ),
        (
            params_with(**{"head.bias": np.array(["a"])}),
            (TypeError, ValueError),  # a wrong type; either class, as long as it is named
            r"params\['head.bias'\]",
        ),
    ],
    ids=["missing", "extra", "renamed", "shape-2d", "shape-1d", "nan", "text"],
)
def test_bad_state_dict(params, error, message):
    with pytest.raises(error, match=message):
        Model(CONFIG, params)


def test_state_dict_of_another_config():
    gru_params = init_params(RNNConfig(2, 3, 4, 1, cell="gru"))
    with pytest.raises(
        ValueError, match=r"params\['weight_ih_l0'\] must have shape \(4, 3\), got \(12, 3\)"
    ):
        Model(CONFIG, gru_params)
    with pytest.raises(TypeError, match=r"config must be an RNNConfig, got dict"):
        Model(vars(CONFIG), MODEL.params)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"x": np.zeros((5, 3))},
            ValueError,
            r"x must have 3 dimensions \(T, B, input_size\), got shape \(5, 3\)",
        ),
        (
            {"x": np.zeros((5, 2, 7))},
            ValueError,
            r"x.shape\[-1\] must be equal to input_size. Expected 3, got 7",
        ),
        (
            {"x": np.zeros((0, 2, 3))},
            ValueError,
            r"x must have T >= 1 and B >= 1, got shape \(0, 2, 3\)",
        ),
        ({"x": X.tolist()}, TypeError, r"x must be a numpy array or torch tensor, got list"),
        ({"x": X.astype(complex)}, TypeError, r"x must hold real numbers, got dtype complex128"),
        (
            {"x": np.where(np.arange(30).reshape(5, 2, 3) % 10 == 0, np.inf, X)},
            ValueError,
            r"x must be finite, got 3 inf/nan values",
        ),
        ({"x": np.full((5, 2, 3), np.nan)}, ValueError, r"x must be finite, got 30 inf/nan values"),
        (
            {"y": np.zeros((5, 2, 2))},
            ValueError,
            r"y.shape\[-1\] must be equal to output_size. Expected 1, got 2",
        ),
        (
            {"y": np.zeros((4, 2, 1))},
            ValueError,
            r"y must have shape \(T, B, q\) = \(5, 2, 1\), got \(4, 2, 1\)",
        ),
        ({"y": np.zeros((5, 1))}, ValueError, r"y must have 3 dimensions \(T, B, output_size\)"),
        ({"y": np.full((5, 2, 1), np.nan)}, ValueError, r"y must be finite, got 10 inf/nan values"),
        (
            {"loss_kind": "mean"},
            ValueError,
            r"loss_kind must be one of \('last', 'all', 'probe'\), got 'mean'",
        ),
        (
            {"dtype": "float16"},
            ValueError,
            r"dtype must be one of \('float64', 'float32'\), got 'float16'",
        ),
        ({"dtype": np.float64}, ValueError, r"dtype must be one of .*got <class 'numpy.float64'>"),
        ({"clip_norm": 0.0}, ValueError, r"clip_norm must be a finite number > 0 or None, got 0.0"),
        ({"clip_norm": -1}, ValueError, r"clip_norm must be a finite number > 0 or None, got -1"),
        ({"clip_norm": float("inf")}, ValueError, r"clip_norm must be a finite .*got inf"),
        ({"clip_norm": "1.0"}, TypeError, r"clip_norm .*'1.0'"),
        (
            {"h0": np.zeros((2, 4))},
            ValueError,
            r"h0 must have shape \(L, B, h\) = \(2, 2, 4\), got \(2, 4\)",
        ),
        (
            {"h0": np.zeros((2, 2, 5))},
            ValueError,
            r"h0 must have shape \(L, B, h\) = \(2, 2, 4\), got \(2, 2, 5\)",
        ),
        ({"h0": np.full((2, 2, 4), np.inf)}, ValueError, r"h0 must be finite, got inf or nan"),
        ({"h0": np.full((2, 2, 4), "0")}, TypeError, r"h0 must hold real numbers, got dtype <U1"),
        (
            {"c0": np.zeros((1, 2, 4))},
            ValueError,
            r"c0 must have shape \(L, B, h\) = \(2, 2, 4\), got \(1, 2, 4\)",
        ),
    ],
    ids=describe,
)
def test_bad_trace_arguments(kwargs, error, message):
    kwargs = {"x": X, **kwargs}
    with pytest.raises(error, match=message):
        trace(MODEL, **kwargs)


def test_bad_dropout_seed_is_named():
    model = Model.init(RNNConfig(2, 3, 4, 1, dropout=0.5))
    with pytest.raises(ValueError, match=r"dropout_seed .*-1"):
        trace(model, X, dropout_seed=-1)


def test_trace_needs_a_model():
    with pytest.raises(TypeError, match=r"model must be a deeprnn_core.Model, got dict"):
        trace(MODEL.params, X)


@pytest.mark.parametrize(
    "module",
    [nn.Linear(3, 4), nn.RNNCell(3, 4), nn.LSTMCell(3, 4), nn.Sequential(nn.RNN(3, 4))],
    ids=lambda m: type(m).__name__,
)
def test_from_torch_needs_a_recurrent_module(module):
    name = type(module).__name__
    with pytest.raises(TypeError, match=rf"rnn must be a torch.nn.RNN, GRU or LSTM, got {name}"):
        from_torch(module)


def test_from_torch_checks_the_head():
    rnn = nn.RNN(3, 4)
    with pytest.raises(TypeError, match=r"head must be a torch.nn.Linear or None, got Conv1d"):
        from_torch(rnn, nn.Conv1d(4, 1, 1))
    with pytest.raises(ValueError, match=r"head.in_features must equal .*Expected 4, got 5"):
        from_torch(rnn, nn.Linear(5, 1))


@pytest.mark.parametrize(
    "config, message",
    [
        (RNNConfig(2, 4, 4, 1, residual=True), r"to_torch needs .*residual=True"),
        (RNNConfig(2, 4, 4, 1, layer_norm=True), r"to_torch needs .*layer_norm=True"),
        (RNNConfig(2, 4, 4, 1, cell=("rnn", "gru")), r"to_torch needs .*cell=\('rnn', 'gru'\)"),
        (RNNConfig(2, 4, 4, 1, activation=("tanh", "relu")), r"to_torch needs one .*activation"),
        (
            RNNConfig(2, 4, 4, 1, activation="sigmoid"),
            r"nn.RNN supports tanh or relu, got .*sigmoid",
        ),
    ],
)
def test_to_torch_refuses_what_torch_cannot_hold(config, message):
    with pytest.raises(ValueError, match=message):
        Model.init(config).to_torch()


@pytest.mark.parametrize(
    "args, message",
    [
        (("saw", 3, 1, 1), r"kind must be one of .*got 'saw'"),
        (("noise", 0, 1, 1), r"steps must be an int >= 1, got 0"),
        (("noise", 3, 2.0, 1), r"batch must be an int >= 1, got 2.0"),
        (("noise", 3, 1, True), r"width must be an int >= 1, got True"),
        (("noise", 3, 1, 1, -1), r"seed must be an int >= 0, got -1"),
    ],
)
def test_bad_signal(args, message):
    with pytest.raises(ValueError, match=message):
        make_signal(*args)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_layers": 0}, r"max_layers must be an int >= 1, got 0"),
        ({"seeds": []}, r"seeds must name at least one seed, got none"),
        (
            {"loss_kind": "first"},
            r"loss_kind must be one of \('last', 'all', 'probe'\), got 'first'",
        ),
        ({"steps": 0}, r"steps must be an int >= 1, got 0"),
        ({"batch": 0}, r"batch must be an int >= 1, got 0"),
        ({"seeds": [3, -1]}, r"seed must be an int >= 0, got -1"),
        ({"dtype": "float16"}, r"dtype must be one of \('float64', 'float32'\), got 'float16'"),
    ],
)
def test_bad_depth_sweep(kwargs, message):
    kwargs = {"max_layers": 2, "seeds": [0], "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        depth_sweep(CONFIG, **kwargs)


def test_depth_sweep_takes_one_init_spec():
    """A bad scheme is refused where the InitSpec is built; depth_sweep takes nothing else."""
    with pytest.raises(ValueError, match=r"scheme must be one of .*got 'he'"):
        depth_sweep(CONFIG, 2, [0], 3, init=InitSpec(scheme="he"))
    with pytest.raises(TypeError, match=r"init must be an InitSpec, got dict"):
        depth_sweep(CONFIG, 2, [0], 3, init={"scheme": "gaussian"})


def test_torch_tensors_are_checked_like_arrays():
    with pytest.raises(ValueError, match=r"x.shape\[-1\] must be equal to input_size"):
        trace(MODEL, torch.zeros(5, 2, 4))


@pytest.mark.parametrize("margin", [0.0, 0.5, -0.1])
def test_bad_saturation_margin(margin):
    tr = trace(Model.init(RNNConfig(1, 3, 4, 1, cell="gru")), X)
    with pytest.raises(ValueError, match=rf"margin must be in \(0, 0.5\), got {margin}"):
        gate_saturation(tr, margin)
