"""Jacobian spectra against torch.autograd.functional.jacobian; Pascanu's bound."""

from functools import partial

import numpy as np
import pytest
import torch

from deeprnn_core import Model, RNNConfig, trace
from deeprnn_core.analysis.spectra import jacobian_spectra, pascanu_bound

T, B = 3, 2
CASES = [
    dict(cell="rnn", activation="tanh"),
    dict(cell="rnn", activation="relu"),
    dict(cell="rnn", activation="sigmoid"),
    dict(cell="rnn", activation="identity"),
    dict(cell="rnn", activation="tanh", residual=True),
    dict(cell="rnn", activation="tanh", layer_norm=True),
    dict(cell="rnn", activation="relu", layer_norm=True, residual=True),
    dict(cell="gru"),
    dict(cell="gru", residual=True),
    dict(cell="lstm"),
    dict(cell="lstm", residual=True),
]


def _torch_cell(config, params, k):
    """Layer k's step (x_t, h_{t-1}, c_{t-1}) -> H_t in torch: torch's own cells where they
    exist, the seed's formula by hand for the rest."""
    cell, act = config.cells[k], config.activations[k]
    p = {n: torch.tensor(v) for n, v in params.items()}
    n_in, h = config.layer_input_size(k), config.hidden_size
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    if cell != "rnn" or (act in ("tanh", "relu") and not config.layer_norm):
        if cell == "rnn":
            module = torch.nn.RNNCell(n_in, h, nonlinearity=act)
        else:
            module = (torch.nn.GRUCell if cell == "gru" else torch.nn.LSTMCell)(n_in, h)
        module = module.double()
        with torch.no_grad():
            for name in names:
                getattr(module, name).copy_(p[f"{name}_l{k}"])
        if cell == "lstm":
            core = lambda x, hp, cp: module(x[None], (hp[None], cp[None]))[0][0]  # noqa: E731
        else:
            core = lambda x, hp, cp: module(x[None], hp[None])[0]  # noqa: E731
    else:
        phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}.get(
            act, lambda a: a
        )

        def core(x, hp, cp):
            z = x @ p[f"weight_ih_l{k}"].T + hp @ p[f"weight_hh_l{k}"].T
            z = z + p[f"bias_ih_l{k}"] + p[f"bias_hh_l{k}"]
            if config.layer_norm:
                z = torch.nn.functional.layer_norm(
                    z, (h,), p[f"ln_weight_l{k}"], p[f"ln_bias_l{k}"], eps=1e-5
                )
            return phi(z)

    if config.has_residual(k):
        return lambda x, hp, cp: core(x, hp, cp) + x
    return core


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{v}" for v in c.values()))
def test_spectra_match_torch_jacobians(case):
    d = 4 if case.get("residual") else 3  # residual at l = 1 needs d = h
    config = RNNConfig(num_layers=2, input_size=d, hidden_size=4, **case)
    model = Model.init(config, "gaussian", 1.3, 1.2, 1.0, seed=3)
    rng = np.random.default_rng(0)
    tr = trace(model, rng.standard_normal((T, B, d)))
    spectra = jacobian_spectra(model, tr)
    for k in range(2):
        step = _torch_cell(config, model.params, k)
        inp = tr.input if k == 0 else tr.hidden[k - 1]
        for t in range(T):
            for b in range(B):
                x = torch.tensor(inp[t, b])
                hp = torch.tensor(tr.hidden[k, t - 1, b] if t else np.zeros(4))
                cp = torch.zeros(4)
                if config.cells[k] == "lstm" and t:
                    cp = torch.tensor(tr.cell_state[k, t - 1, b])
                out = step(x, hp, cp).detach().numpy()
                assert np.allclose(out, tr.hidden[k, t, b], atol=1e-12), "the oracle's H_t"
                j_time = torch.autograd.functional.jacobian(partial(step, x, cp=cp), hp)
                j_depth = torch.autograd.functional.jacobian(partial(step, hp=hp, cp=cp), x)
                want_t = float((j_time**2).sum()) / 4
                want_d = float((j_depth**2).sum()) / x.numel()
                got_t, got_d = spectra.time[k, t, b], spectra.depth[k, t, b]
                assert abs(got_t - want_t) < 1e-10 * max(1, want_t), (k, t, b, got_t, want_t)
                assert abs(got_d - want_d) < 1e-10 * max(1, want_d), (k, t, b, got_d, want_d)
    if "lstm" in config.cells:
        np.testing.assert_allclose(spectra.cell_time, (tr.gates["f"] ** 2).mean(-1), rtol=1e-12)
    else:
        assert np.isnan(spectra.cell_time).all()


def test_spectra_follow_dropout_masks():
    config = RNNConfig(num_layers=2, input_size=3, hidden_size=4, dropout=0.5)
    model = Model.init(config, "gaussian", 1.0, 1.0, seed=1)
    tr = trace(model, np.random.default_rng(0).standard_normal((T, B, 3)), dropout_seed=2)
    spectra = jacobian_spectra(model, tr)
    mask = tr.dropout_masks[0]  # layer 2 read mask * H_t^(1): its depth step starts there
    assert not np.all(mask == mask.flat[0]), "the test needs a mask that drops something"
    dphi = 1 - np.tanh(tr.preact[1]) ** 2  # (T, B, h)
    w_ih = model.params["weight_ih_l1"]
    want = np.einsum("tbi,ij->tb", dphi**2, w_ih**2) / 4
    np.testing.assert_allclose(spectra.depth[1], want, rtol=1e-12)


def test_pascanu_bound():
    config = RNNConfig(
        num_layers=3, hidden_size=16, cell=("rnn", "gru", "rnn"), activation="sigmoid"
    )
    model = Model.init(config, "gaussian", 2.0, 1.0, seed=0)
    bound = pascanu_bound(model)
    want = [np.linalg.svd(model.params[f"weight_hh_l{k}"], compute_uv=False)[0] for k in range(3)]
    np.testing.assert_allclose(bound.top_singular, want, rtol=1e-12)
    assert list(bound.applies) == [True, False, True]
    assert bound.gamma[0] == 0.25 and np.isnan(bound.gamma[1])
    # sigma_max ~ 2 * 2 = 4 for a 16 x 16 Gaussian matrix of gain 2: 4 * 1/4 is near 1; the
    # verdict follows the numbers
    assert list(bound.vanishing_guaranteed) == [
        bool(bound.top_singular[0] * 0.25 < 1),
        False,
        bool(bound.top_singular[2] * 0.25 < 1),
    ]
    with pytest.raises(TypeError, match="model"):
        pascanu_bound("model")
