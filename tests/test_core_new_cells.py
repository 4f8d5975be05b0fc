"""minGRU, minLSTM (Feng et al. 2024, arXiv 2410.01201) and LRU (Orvieto et al. 2023, arXiv
2303.06349) against torch autograd, float64.

torch has no module for these cells, so ``PaperStack`` writes each one from the papers'
equations (complex tensors for the LRU; torch's own rnn / gru / lstm cell ops for the other layers
of a mixed stack) and autograd on the unrolled graph is the oracle: every H_t^(l), every
dLoss/dH_t^(l) and every parameter gradient to 1e-10 relative, over hypothesis-drawn shapes,
depths and mixed stacks, with the recurrence run as the loop and as the scan; the loop and the
scan agree to 1e-12 on long sequences; ``train`` equals torch's loop on this module for 20
updates (1e-8); the model files round trip.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from deeprnn_core import Model, RNNConfig, load_model, save_model, trace, train
from deeprnn_core.cells import REGISTRY, scan
from deeprnn_core.engine import reference
from tests.torch_reference import mse_loss, random_sequences

NEW = ("mingru", "minlstm", "lru")
ALL = ("rnn", "gru", "lstm", *NEW)


class PaperStack(nn.Module):
    """The stack written from the papers' equations, one step at a time, on the model's weights
    (nn.Parameters under the model's names); H_t of every layer kept with retain_grad."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.config = model.config
        self.weights = nn.ParameterDict(
            {n.replace(".", "__"): nn.Parameter(torch.tensor(v)) for n, v in model.params.items()}
        )

    def p(self, name: str, k: int):
        return self.weights.get(f"{name}_l{k}")

    def forward(self, x: torch.Tensor):
        c, inputs, self.states = self.config, list(x), []
        for k, (kind, act) in enumerate(zip(c.cells, c.activations)):
            h = x.new_zeros(x.shape[1], c.hidden_size)
            cell_state = h
            state = torch.zeros_like(h, dtype=torch.complex128)
            out = []
            for u in inputs:
                w_ih, b_ih = self.p("weight_ih", k), self.p("bias_ih", k)
                w_hh, b_hh = self.p("weight_hh", k), self.p("bias_hh", k)
                if kind == "rnn":
                    new = torch.rnn_tanh_cell(u, h, w_ih, w_hh, b_ih, b_hh)
                elif kind == "gru":
                    new = torch.gru_cell(u, h, w_ih, w_hh, b_ih, b_hh)
                elif kind == "lstm":
                    new, cell_state = torch.lstm_cell(u, (h, cell_state), w_ih, w_hh, b_ih, b_hh)
                elif kind == "mingru":  # z = σ(u W_z + b_z), H~ = u W_h + b_h
                    a_z, cand = torch.nn.functional.linear(u, w_ih, b_ih).chunk(2, -1)
                    z = torch.sigmoid(a_z)
                    new = (1 - z) * h + z * cand
                elif kind == "minlstm":  # f' = f / (f + i), i' = i / (f + i)
                    a_f, a_i, cand = torch.nn.functional.linear(u, w_ih, b_ih).chunk(3, -1)
                    f, i = torch.sigmoid(a_f), torch.sigmoid(a_i)
                    new = f / (f + i) * h + i / (f + i) * cand
                else:  # lru: x_t = Λ x_{t-1} + γ ⊙ B u_t, y_t = Re(C x_t) + D u_t, H_t = φ(y_t)
                    n = c.hidden_size
                    lam = torch.exp(
                        -torch.exp(self.p("nu_log", k)) + 1j * torch.exp(self.p("theta_log", k))
                    )
                    b = torch.complex(w_ih[:n], w_ih[n:])
                    cmat = torch.complex(self.p("weight_c_re", k), self.p("weight_c_im", k))
                    state = lam * state + torch.exp(self.p("gamma_log", k)) * (
                        u.to(torch.complex128) @ b.T
                    )
                    d = self.p("weight_d", k)
                    y = (state @ cmat.T).real + (u * d if d.dim() == 1 else u @ d.T)
                    new = {"tanh": torch.tanh, "identity": lambda a: a}[act](y)
                h = new + u if c.has_residual(k) else new
                h.retain_grad()
                out.append(h)
            self.states.append(out)
            inputs = out
        return [torch.nn.functional.linear(h, self.weights["head__weight"],
                                           self.weights["head__bias"]) for h in inputs]  # fmt: skip

    def grads(self) -> dict[str, np.ndarray]:
        return {n.replace("__", "."): p.grad.numpy() for n, p in self.weights.items()}


def rel(got, want) -> float:
    scale = max(np.abs(want).max(), 1e-300)
    return float(np.abs(np.asarray(got) - want).max() / scale)


@st.composite
def stacks(draw):
    L = draw(st.integers(1, 3))
    cells = tuple(draw(st.sampled_from(ALL if L > 1 else NEW)) for _ in range(L))
    if not set(cells) & set(NEW):
        cells = (draw(st.sampled_from(NEW)),) + cells[1:]
    acts = tuple(
        draw(st.sampled_from(("tanh", "identity"))) if c == "lru" else "tanh" for c in cells
    )
    config = RNNConfig(
        input_size=draw(st.integers(1, 4)), hidden_size=draw(st.integers(1, 5)), num_layers=L,
        output_size=draw(st.integers(1, 2)), cell=cells, activation=acts,
        bias=draw(st.booleans()), residual=draw(st.booleans()),
    )  # fmt: skip
    return config, draw(st.integers(1, 7)), draw(st.integers(1, 3)), draw(st.integers(0, 99))


def check_against_torch(config, steps, batch, seed, loss_kind="all"):
    model = Model.init(config, seed=seed)
    x, y = random_sequences(steps, batch, config.input_size, config.output_size, seed)
    tr = trace(model, x, y, loss_kind=loss_kind)
    stack = PaperStack(model)
    outputs = stack(torch.from_numpy(x))
    loss = mse_loss(outputs, torch.from_numpy(y), loss_kind)
    loss.backward()
    hidden = np.stack([[h.detach().numpy() for h in layer] for layer in stack.states])
    grad_hidden = np.stack([[h.grad.numpy() for h in layer] for layer in stack.states])
    assert rel(tr.hidden, hidden) < 1e-10
    assert rel(tr.grad_hidden, grad_hidden) < 1e-10
    assert abs(tr.loss - loss.item()) <= 1e-10 * abs(loss.item())
    want = stack.grads()
    assert set(tr.param_grads) == set(want)
    for name, g in want.items():
        assert rel(tr.param_grads[name], g) < 1e-10, name


@pytest.mark.parametrize("method", ["loop", "scan"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=stacks())
def test_every_state_gradient_and_parameter_gradient_equals_autograd(case, method, monkeypatch):
    monkeypatch.setattr(scan, "METHOD", method)
    check_against_torch(*case)


@pytest.mark.parametrize("cell", NEW)
def test_the_scan_and_the_loop_agree_over_a_long_sequence(cell, monkeypatch):
    config = RNNConfig(input_size=3, hidden_size=16, num_layers=3, cell=cell, residual=True)
    model = Model.init(config, seed=3)
    x, y = random_sequences(700, 2, 3, 1, seed=3)
    got = {}
    for method in ("loop", "scan"):
        monkeypatch.setattr(scan, "METHOD", method)
        got[method] = trace(model, x, y, loss_kind="all")
    a, b = got["loop"], got["scan"]
    assert rel(b.hidden, a.hidden) < 1e-12
    assert rel(b.grad_hidden, a.grad_hidden) < 1e-12
    for name in model.params:
        assert rel(b.param_grads[name], a.param_grads[name]) < 1e-12, name


def test_the_scan_primitives_equal_their_loops():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.01, 1.0, (300, 2, 5))
    b = rng.standard_normal((300, 2, 5))
    h0 = rng.standard_normal((2, 5))
    loop = scan.gated_loop(a, b, h0, np.empty_like(b))
    assert rel(scan.gated_scan(np.log(a), b, h0, np.empty_like(b)), loop) < 1e-12
    lam = 0.99 * np.exp(1j * rng.uniform(0, np.pi, 5))
    bc = b + 1j * rng.standard_normal(b.shape)
    loop = scan.power_loop(lam, bc, np.empty_like(bc))
    assert rel(scan.power_scan(lam, bc, np.empty_like(bc)), loop) < 1e-12


def test_dropout_masks_reach_the_new_cells_as_the_reference_engine_applies_them():
    config = RNNConfig(input_size=2, hidden_size=4, num_layers=4, dropout=0.3, residual=True,
                       cell=("mingru", "lru", "minlstm", "lru"))  # fmt: skip
    model = Model.init(config, seed=1)
    x, y = random_sequences(9, 3, 2, 1, seed=1)
    tr = trace(model, x, y, loss_kind="all", training=True, dropout_seed=5)
    ref = reference.run(config, model.params, x, y, "all", masks=tr.dropout_masks)
    assert rel(tr.hidden, ref["hidden"]) < 1e-12
    assert rel(tr.grad_hidden, ref["grad_hidden"]) < 1e-12
    for name, g in ref["param_grads"].items():
        assert rel(tr.param_grads[name], g) < 1e-12, name


def test_the_rules_where_a_remedy_does_not_apply_and_unknown_names():
    for cell in NEW:
        with pytest.raises(ValueError, match="layer_norm applies to rnn cells only"):
            RNNConfig(cell=cell, layer_norm=True)
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNConfig(cell="bogus")
    assert not REGISTRY["mingru"].activation and REGISTRY["lru"].activation


@pytest.mark.parametrize("cells", [("lru", "lru"), ("mingru", "rnn", "minlstm")])
def test_train_equals_torch_loop_on_the_paper_stack_for_20_updates(cells):
    config = RNNConfig(input_size=2, hidden_size=3, num_layers=len(cells), output_size=2,
                       cell=cells, residual=True)  # fmt: skip
    model = Model.init(config, seed=11)
    steps, n, batch, updates = 5, 6, 4, 20
    x, y = random_sequences(steps, n, 2, 2, seed=11)
    hist = train(model, (x, y), steps=updates, optimizer="adam", lr=0.05, batch_size=batch,
                 clip_norm=1.0, loss_kind="all", shuffle=False, snapshots=3)  # fmt: skip
    stack = PaperStack(model)
    names = [n.replace(".", "__") for n in model.params]
    params = [stack.weights[n] for n in names]
    opt = torch.optim.Adam(params, lr=0.05)
    for k in range(updates):
        idx = (k * batch + np.arange(batch)) % n
        value = mse_loss(stack(torch.from_numpy(x[:, idx])), torch.from_numpy(y[:, idx]), "all")
        opt.zero_grad()
        value.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    for name in model.params:
        want = stack.weights[name.replace(".", "__")].detach().numpy()
        np.testing.assert_allclose(hist.model.params[name], want, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("cells", [("lru",) * 2, ("mingru", "minlstm"), ("lstm", "lru", "mingru")])
def test_the_model_file_round_trips_with_its_documented_names(cells):
    config = RNNConfig(input_size=3, hidden_size=4, num_layers=len(cells), cell=cells)
    model = Model.init(config, seed=2)
    back = load_model(save_model(model))
    assert back.config.cells == model.config.cells and back.config.hidden_size == 4
    assert set(back.params) == set(model.params)
    for name, value in model.params.items():
        np.testing.assert_array_equal(back.params[name], value)
    if "lru" in cells:
        k = cells.index("lru")
        assert model.params[f"weight_d_l{k}"].shape == ((4,) if k else (4, 3))
        lam = np.exp(-np.exp(model.params[f"nu_log_l{k}"]))
        assert np.all((lam >= 0.9 - 1e-12) & (lam <= 0.999 + 1e-12))  # the ring at init
        gamma = np.exp(model.params[f"gamma_log_l{k}"])
        np.testing.assert_allclose(gamma, np.sqrt(1 - lam**2), rtol=1e-12)
    with pytest.raises(ValueError, match="no module|one cell type"):
        model.to_torch()


def test_where_the_eigenvalues_are_per_layer():
    from deeprnn_core.analysis.eigen import QUANTILES, recurrence_eigen

    cells = ("rnn", "gru", "lstm", "mingru", "minlstm", "lru")
    config = RNNConfig(input_size=2, hidden_size=5, num_layers=6, cell=cells)
    model = Model.init(config, seed=4)
    x, y = random_sequences(11, 3, 2, 1, seed=4)
    tr = trace(model, x, y)
    got = {e.cell: e for e in recurrence_eigen(model, tr)}
    assert set(got) == set(cells) - {"gru"}  # a GRU's Jacobian is neither fixed nor diagonal
    want = torch.linalg.eigvals(torch.tensor(model.params["weight_hh_l0"])).numpy()
    assert np.allclose(np.sort_complex(got["rnn"].values), np.sort_complex(want), atol=1e-12)
    assert got["rnn"].bound == 1.0 and np.isnan(got["lru"].bound)
    lam = np.exp(-np.exp(model.params["nu_log_l5"]) + 1j * np.exp(model.params["theta_log_l5"]))
    np.testing.assert_allclose(got["lru"].values, lam, rtol=1e-14)
    for cell, k, values in (("mingru", 3, 1 - tr.gates["zm"][3]), ("minlstm", 4, tr.gates["fm"][4]),
                            ("lstm", 2, tr.gates["f"][2])):  # fmt: skip
        assert not got[cell].fixed and got[cell].layer == k + 1
        np.testing.assert_allclose(got[cell].values, np.quantile(values, QUANTILES), rtol=1e-12)


def test_an_lru_top_layer_has_no_path_through_time_along_h():
    """The LRU's H_t feeds no later step (x_t does): with the loss on the last step, G_t of the
    top LRU layer is exactly 0 before T, and the measures along H through time are no path
    (nan, 0 Jacobians), not a vanishing gradient; the paths that exist keep their values."""
    from deeprnn_core.analysis.measures import path_steps
    from deeprnn_core.analysis.summaries import depth_sweep, measures

    assert not REGISTRY["lru"].hidden_recurrent
    assert all(REGISTRY[c].hidden_recurrent for c in ALL if c != "lru")
    x = np.random.default_rng(0).normal(size=(20, 1, 3))
    for cells, top_lru in (("lru", True), (("lru", "rnn"), False), (("rnn", "lru"), True)):
        config = RNNConfig(num_layers=2 if isinstance(cells, tuple) else 3, input_size=3,
                           hidden_size=5, cell=cells)  # fmt: skip
        tr = trace(Model.init(config, seed=1), x, loss_kind="last")
        grad = np.abs(tr.grad_hidden[-1]).max(axis=(1, 2))  # (T,) top layer
        assert (grad[:-1] == 0).all() == top_lru and grad[-1] > 0
        m = measures(tr)
        for key in ("time", "time_rate"):
            assert np.isnan(m[key]) == top_lru, (cells, key)
        assert np.isfinite(m["corner"]) and m["corner"] > 0
        assert path_steps("time", 3, 20, not top_lru) == (0 if top_lru else 19)
    assert path_steps("corner", np.array([1, 2]), 20, False).tolist() == [0, 20]
    sweep = depth_sweep(RNNConfig(input_size=3, hidden_size=5, cell="lru"), 3, [0, 1], 10)
    assert not sweep.time_path.any()
    assert np.isnan(sweep.measure("time")).all() and np.isnan(sweep.measure("corner")[:, 0]).all()
    assert np.isfinite(sweep.measure("corner")[:, 1:]).all()


def test_minlstm_stays_finite_where_both_gates_underflow(monkeypatch):
    """Gate pre-activations below -37 (a gain of 3 over a few layers) make the sigmoid, computed
    as (1 + tanh(a / 2)) / 2, exactly 0; f / (f + i) was then 0 / 0 = nan in the loop, and below
    -10 it lost its relative precision. The loop now takes the log form there: every H and G
    finite, f' equal to the log form to 1e-10, and the loop equal to the log-space scan."""
    from deeprnn_core import InitSpec
    from deeprnn_core.cells.minlstm import log_sigmoid

    config = RNNConfig(num_layers=4, input_size=8, hidden_size=128, cell="minlstm")
    model = Model.init(config, InitSpec("gaussian", input_gain=3.0))
    x = np.random.default_rng(0).normal(size=(200, 8, 8))
    tr = trace(model, x, loss_kind="all")
    assert np.isfinite(tr.hidden).all() and np.isfinite(tr.grad_hidden).all()
    p, h = model.params, 128
    a = tr.hidden[2] @ p["weight_ih_l3"].T + p["bias_ih_l3"]  # layer 4's pre-activations
    both = np.maximum(a[..., :h], a[..., h : 2 * h])
    assert both.min() < -37  # both sigmoids are 0 somewhere
    want = 1.0 / (1.0 + np.exp(log_sigmoid(a[..., h : 2 * h]) - log_sigmoid(a[..., :h])))
    np.testing.assert_allclose(tr.gates["fm"][3], want, rtol=1e-10, atol=1e-300)
    monkeypatch.setattr(scan, "METHOD", "scan")
    by_scan = trace(model, x, loss_kind="all")
    assert rel(by_scan.hidden, tr.hidden) < 1e-10
    assert rel(by_scan.grad_hidden, tr.grad_hidden) < 1e-10


def test_the_lru_ring_of_the_init_spec():
    """InitSpec's ring: |lambda| inside [lru_r_min, lru_r_max], phases in [0, lru_theta_max];
    the defaults draw what the fixed ring drew; a ring outside 0 < r_min <= r_max < 1 or a
    phase bound outside (0, 2 pi] is a named ValueError."""
    from deeprnn_core import InitSpec
    from deeprnn_core.cells import lru

    config = RNNConfig(num_layers=2, input_size=3, hidden_size=64, cell="lru")
    ring = InitSpec(lru_r_min=0.5, lru_r_max=0.6, lru_theta_max=0.25)
    p = Model.init(config, ring).params
    for k in range(2):
        lam = lru.eigenvalues(p[f"nu_log_l{k}"], p[f"theta_log_l{k}"])
        assert (np.abs(lam) >= 0.5 - 1e-12).all() and (np.abs(lam) <= 0.6 + 1e-12).all()
        assert (np.angle(lam) >= 0).all() and (np.angle(lam) <= 0.25 + 1e-12).all()
    default, spelled = (
        Model.init(config),
        Model.init(config, InitSpec(lru_r_min=0.9, lru_r_max=0.999)),
    )
    for name in default.params:
        np.testing.assert_array_equal(default.params[name], spelled.params[name])
    for bad in ({"lru_r_min": 0.0}, {"lru_r_max": 1.0}, {"lru_r_min": 0.95, "lru_r_max": 0.9},
                {"lru_theta_max": 7.0}, {"lru_r_max": float("nan")}):  # fmt: skip
        with pytest.raises(ValueError, match="lru_"):
            InitSpec(**bad)
