"""load_model / save_model / torch_code against torch: every nn.RNN / GRU / LSTM state dict,
saved as safetensors or with torch.save under any prefix, loads to the model from_torch builds
from the same module, and its trace is the same to 1e-10; the export round-trips through the
torch code it prints. The probe loss matches autograd of sum(H_T^(L))."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_safetensors

import deeprnn_core as dc
from deeprnn_core.data.signals import make_signal

CELLS = {"rnn-tanh": (torch.nn.RNN, "tanh"), "rnn-relu": (torch.nn.RNN, "relu"),
         "gru": (torch.nn.GRU, "tanh"), "lstm": (torch.nn.LSTM, "tanh")}  # fmt: skip
PREFIXES = ("", "rnn.", "encoder.lstm.")
HEADS = ("fc.", "head.", "out.")
TOL = dict(rtol=1e-10, atol=1e-12)


def build(cell: str, layers: int, bias: bool, seed: int = 0, d: int = 3, h: int = 4):
    torch.manual_seed(seed)
    module, act = CELLS[cell]
    kwargs = {"nonlinearity": act} if module is torch.nn.RNN else {}
    return module(d, h, num_layers=layers, bias=bias, **kwargs).double(), act


def state_dict(rnn, head, prefix: str, head_prefix: str) -> dict[str, torch.Tensor]:
    sd = {prefix + k: v.detach().clone() for k, v in rnn.state_dict().items()}
    if head is not None:
        sd.update({head_prefix + k: v.detach().clone() for k, v in head.state_dict().items()})
    return sd


def as_file(sd: dict, fmt: str) -> bytes:
    if fmt == "safetensors":
        return save_safetensors({k: v.contiguous() for k, v in sd.items()})
    buffer = io.BytesIO()
    torch.save(sd, buffer)
    return buffer.getvalue()


def assert_same_trace(a: dc.Model, b: dc.Model, loss_kind: str = "last") -> None:
    x = make_signal("noise", 6, 2, a.config.input_size, seed=1)
    ta, tb = dc.trace(a, x, loss_kind=loss_kind), dc.trace(b, x, loss_kind=loss_kind)
    for name in ("hidden", "grad_hidden", "output"):
        np.testing.assert_allclose(getattr(ta, name), getattr(tb, name), **TOL, err_msg=name)
    for name in ta.param_grads:
        np.testing.assert_allclose(ta.param_grads[name], tb.param_grads[name], **TOL)


CASES = list(itertools.product(CELLS, (1, 3), (True, False), (True, False)))


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
@pytest.mark.parametrize("cell,layers,bias,with_head", CASES)
def test_load_model_infers_the_module_and_traces_like_from_torch(
    cell, layers, bias, with_head, fmt
):
    case = CASES.index((cell, layers, bias, with_head))
    prefix, head_prefix = PREFIXES[case % 3], HEADS[case % 3]
    rnn, act = build(cell, layers, bias, seed=case)
    head = torch.nn.Linear(4, 2).double() if with_head else None
    loaded = dc.load_model(as_file(state_dict(rnn, head, prefix, head_prefix), fmt), activation=act)
    expected = dc.from_torch(rnn, head)
    assert loaded.config == expected.config, "inferred L, d, h, cell, bias, q"
    assert loaded.random_head is (head is None)
    for name, value in expected.params.items():
        np.testing.assert_array_equal(loaded.params[name], value, err_msg=name)
    assert_same_trace(loaded, expected)


def test_load_model_from_a_path_and_with_a_chosen_prefix(tmp_path):
    a, _ = build("gru", 2, True, seed=1)
    b, _ = build("lstm", 1, True, seed=2)
    sd = {**state_dict(a, None, "enc.", ""), **state_dict(b, None, "dec.", "")}
    path = tmp_path / "two.bin"  # the name says nothing: the content decides
    path.write_bytes(as_file(sd, "torch"))
    with pytest.raises(ValueError, match=r"prefix.*'dec\.', 'enc\.'"):
        dc.load_model(path)
    assert_same_trace(dc.load_model(path, prefix="dec."), dc.from_torch(b))
    assert dc.load_model(str(path), prefix="enc.").config.cell == "gru"


def test_head_prefix_picks_one_of_several_heads():
    rnn, _ = build("rnn-tanh", 2, True)
    heads = {p: torch.nn.Linear(4, q).double() for p, q in (("fc.", 1), ("aux.", 3))}
    sd = state_dict(rnn, None, "rnn.", "")
    for p, lin in heads.items():
        sd.update({p + k: v for k, v in lin.state_dict().items()})
    data = as_file(sd, "safetensors")
    with pytest.raises(ValueError, match=r"head_prefix: several Linear-shaped heads"):
        dc.load_model(data)
    model = dc.load_model(data, head_prefix="aux.")
    assert_same_trace(model, dc.from_torch(rnn, heads["aux."]))


def test_head_without_bias_gets_a_zero_bias():
    rnn, _ = build("lstm", 1, True)
    head = torch.nn.Linear(4, 2, bias=False).double()
    model = dc.load_model(as_file(state_dict(rnn, head, "", "fc."), "safetensors"))
    np.testing.assert_array_equal(model.params["head.bias"], np.zeros(2))
    np.testing.assert_array_equal(model.params["head.weight"], head.weight.detach().numpy())


def refused(sd: dict, match: str, fmt: str = "safetensors", **kwargs) -> None:
    with pytest.raises(ValueError, match=match):
        dc.load_model(as_file(sd, fmt), **kwargs)


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
def test_architectures_torch_has_but_the_core_does_not_are_refused_by_key(fmt):
    bi = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True).double()
    refused(bi.state_dict(), r"key '\w+_l0_reverse': bidirectional", fmt)
    proj = torch.nn.LSTM(3, 4, proj_size=2).double()
    refused(proj.state_dict(), r"'weight_hr_l0'.*proj_size", fmt)


def test_missing_unexpected_and_inconsistent_keys_are_named():
    rnn, _ = build("lstm", 3, True)
    sd = state_dict(rnn, None, "lstm.", "")
    refused({k: v for k, v in sd.items() if k != "lstm.weight_hh_l1"}, r"'lstm\.weight_hh_l1'")
    refused({k: v for k, v in sd.items() if k != "lstm.bias_hh_l2"}, r"missing key 'lstm\.bias_hh")
    refused({**sd, "lstm.extra": torch.zeros(2)}, r"unexpected keys \['lstm\.extra'\]")
    refused({**sd, "embedding.weight": torch.zeros(5, 3)}, r"unexpected keys.*embedding")
    bad = dict(sd, **{"lstm.weight_ih_l2": torch.zeros(16, 5, dtype=torch.float64)})
    refused(bad, r"'lstm\.weight_ih_l2' has shape \(16, 5\), expected \(16, 4\)")
    refused(dict(sd, **{"lstm.weight_hh_l0": torch.zeros(10, 4)}), r"rows must be h, 3h or 4h")
    model = dc.load_model(as_file({**sd, "embedding.weight": torch.zeros(5, 3)}, "torch"),
                          prefix="lstm.")  # fmt: skip
    assert model.config.num_layers == 3  # a chosen prefix ignores the rest of the file


def test_non_finite_integer_and_complex_tensors_are_refused_by_key():
    rnn, _ = build("gru", 1, True)
    sd = state_dict(rnn, None, "", "")
    nan = sd["weight_hh_l0"].clone()
    nan[1, 2] = float("nan")
    refused(dict(sd, weight_hh_l0=nan), r"'weight_hh_l0' holds 1 inf/nan")
    as_int = dict(sd, bias_ih_l0=sd["bias_ih_l0"].to(torch.int64))
    refused(as_int, r"'bias_ih_l0' has dtype I64.*floating point")
    refused(as_int, r"'bias_ih_l0' has dtype torch\.int64.*floating point", fmt="torch")
    refused(dict(sd, bias_ih_l0=sd["bias_ih_l0"].to(torch.complex64)), r"complex", fmt="torch")


def test_budgets_on_layers_hidden_size_and_bytes():
    rnn, _ = build("rnn-tanh", 3, True, h=8)
    data = as_file(state_dict(rnn, None, "", ""), "safetensors")
    with pytest.raises(ValueError, match=r"3 layers, more than max_layers = 2"):
        dc.load_model(data, max_layers=2)
    with pytest.raises(ValueError, match=r"h = 8, over max_hidden = 4"):
        dc.load_model(data, max_hidden=4)
    with pytest.raises(ValueError, match=rf"{len(data)} bytes, over the cap of max_bytes = 100"):
        dc.load_model(data, max_bytes=100)


@pytest.mark.parametrize("cell", list(CELLS))
def test_export_round_trip_through_the_printed_torch_code(cell, tmp_path):
    rnn, act = build(cell, 3, cell != "gru", seed=5)
    model = dc.from_torch(rnn, torch.nn.Linear(4, 2).double())
    path = tmp_path / "model.safetensors"
    path.write_bytes(dc.save_model(model))
    scope: dict = {}
    exec(dc.torch_code(model, str(path)), scope)  # noqa: S102 - the code under test
    rebuilt, head = scope["rnn"], scope["head"]
    assert type(rebuilt) is type(rnn) and getattr(rebuilt, "nonlinearity", act) == act
    x = make_signal("noise", 7, 2, 3, seed=2)
    with torch.no_grad():
        out, _ = rebuilt(torch.tensor(x))
        o = head(out)
    tr = dc.trace(model, x)
    np.testing.assert_allclose(out.numpy(), tr.hidden[-1], **TOL)
    np.testing.assert_allclose(o.numpy(), tr.output, **TOL)
    assert_same_trace(dc.load_model(path, activation=act), model)  # and back into the core


def test_torch_code_refuses_what_one_torch_module_cannot_express():
    model = dc.Model.init(dc.RNNConfig(2, 3, 4, cell=("rnn", "lstm")))
    with pytest.raises(ValueError, match="mixed cell types"):
        dc.torch_code(model)
    model = dc.Model.init(dc.RNNConfig(2, 3, 4, residual=True, layer_norm=True))
    with pytest.raises(ValueError, match="residual connections, layer norm"):
        dc.torch_code(model)


@pytest.mark.parametrize("cell", ["rnn-relu", "gru", "lstm"])
def test_probe_loss_is_the_gradient_of_the_sum_of_the_top_state_at_T(cell):
    rnn, _ = build(cell, 2, True, seed=3)
    model = dc.from_torch(rnn)
    x = make_signal("sine", 9, 2, 3, seed=4)
    tr = dc.trace(model, x, loss_kind="probe")
    np.testing.assert_array_equal(tr.grad_hidden[-1, -1], np.ones((2, 4)))
    out, _ = rnn(torch.tensor(x))
    probe = out[-1].sum()
    probe.backward()
    assert tr.loss == pytest.approx(probe.item(), rel=1e-12)
    for name, p in rnn.named_parameters():
        np.testing.assert_allclose(tr.param_grads[name], p.grad.numpy(), rtol=1e-8, atol=1e-12)
    assert not tr.param_grads["head.weight"].any()


def test_depth_sweep_takes_the_probe_loss_as_trace_does():
    from deeprnn_core.analysis.summaries import depth_sweep
    from deeprnn_core.engine.norms import stable_norm

    config = dc.RNNConfig(2, 3, 4, cell="gru")
    sweep = depth_sweep(config, 3, [7], 5, loss_kind="probe")
    np.testing.assert_allclose(sweep.grad_last, 2.0, rtol=1e-12)  # |G_T^(L)| = |ones(1, 4)| = 2
    for depth in (1, 3):
        deep = dc.RNNConfig(depth, 3, 4, cell="gru")
        tr = dc.trace(
            dc.Model.init(deep, seed=7), make_signal("noise", 5, 1, 3, 7), loss_kind="probe"
        )
        assert sweep.grad_first[0, depth - 1] == pytest.approx(
            stable_norm(tr.grad_hidden[0, 0], (0, 1)), rel=1e-10
        )


@pytest.mark.parametrize(
    "settings",
    [
        dict(cell=("rnn", "gru", "lstm"), activation=("relu", "tanh", "tanh")),
        dict(layer_norm=True, residual=True, input_size=4, activation="sigmoid"),
        dict(cell="lstm", bias=False, output_size=3),
    ],
)
def test_a_saved_model_loads_as_it_was_saved(settings):
    """save_model's metadata carries what a torch state dict cannot: mixed cells, activations,
    residual, layer norm. load_model reads it back exactly."""
    config = dc.RNNConfig(num_layers=3, hidden_size=4, **{"input_size": 3, **settings})
    model = dc.Model.init(config, seed=3)
    again = dc.load_model(dc.save_model(model))
    assert again.config == config and again.random_head == model.random_head
    assert all(np.array_equal(again.params[k], v) for k, v in model.params.items())


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("residual", "yes", "metadata 'residual' must be 'True' or 'False'"),
        ("cell", "rnn,transformer", "metadata 'cell' must name one value per layer"),
        ("cell", "rnn,transformer,rnn", "cell must be one of"),
        ("activation", "x" * 10_000, "metadata 'activation' must name one value per layer"),
    ],
)
def test_hostile_metadata_in_a_saved_model_is_named(field, value, match):
    from safetensors.numpy import load, save

    data = dc.save_model(dc.Model.init(dc.RNNConfig(num_layers=3, input_size=3, hidden_size=4)))
    tensors = load(data)
    meta = {"cell": "rnn,rnn,rnn", "activation": "tanh,tanh,tanh", "residual": "False",
            "layer_norm": "False", "random_head": "False", "format": "deeprnn"}  # fmt: skip
    with pytest.raises(ValueError, match=match) as err:
        dc.load_model(save(tensors, metadata={**meta, field: value}))
    assert len(str(err.value)) < 300
