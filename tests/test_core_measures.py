"""The measures of "the gradient as L grows" (analysis.measures) against torch autograd on
an unrolled float64 graph, the depth sweep's measures against full traces of every depth, and
the words and path counts against direct computation."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from deeprnn_core import InitSpec, Model, RNNConfig, trace
from deeprnn_core.analysis.measures import MEASURES, change, path_count, path_steps, regime
from deeprnn_core.analysis.summaries import depth_sweep, measures
from deeprnn_core.data.signals import make_signal
from tests.test_core_analysis import at_depth
from tests.torch_reference import unrolled_reference

CASES = {
    "tanh d<h": (RNNConfig(3, 2, 5, 1), 6, 2, "last"),
    "relu d>h, all steps": (RNNConfig(4, 7, 3, 2, activation="relu"), 5, 3, "all"),
    "gru/lstm/rnn": (RNNConfig(3, 4, 4, 1, cell=("gru", "lstm", "rnn")), 4, 2, "last"),
    "residual": (RNNConfig(2, 4, 4, 1, residual=True), 5, 1, "last"),
}


def torch_measures(model: Model, x: np.ndarray, loss_kind: str) -> dict[str, float]:
    """Every measure computed directly from torch autograd's G_t^(l) and dLoss/dW."""
    ref = unrolled_reference(model, x, loss_kind=loss_kind)
    L, T = ref.grad_hidden.shape[:2]
    g = lambda l, t: np.linalg.norm(ref.grad_hidden[l - 1, t - 1])  # noqa: E731

    def rms(name: str, l: int) -> float:
        w = ref.param_grads[f"{name}_l{l - 1}"]
        return np.linalg.norm(w) / math.sqrt(w.size)  # per entry: W_xh^(1) is d x h

    ratios = {
        "corner": g(1, 1) / g(L, T),
        "depth": g(1, T) / g(L, T),
        "time": g(L, 1) / g(L, T),
        "w_xh": rms("weight_ih", 1) / rms("weight_ih", L),
        "w_hh": rms("weight_hh", 1) / rms("weight_hh", L),
    }
    lengths = {"corner": T - 1 + L - 1, "depth": L - 1, "time": T - 1}
    out = {k: (v if lengths.get(k, L - 1) else math.nan) for k, v in ratios.items()}
    for k in ("corner", "depth", "time"):
        out[f"{k}_rate"] = ratios[k] ** (1 / lengths[k]) if lengths[k] else math.nan
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_every_measure_equals_torch_autograd(name):
    config, steps, batch, loss_kind = CASES[name]
    model = Model.init(config, "gaussian", 1.3, 1.1, 0.5, seed=3)
    x = make_signal("noise", steps, batch, config.input_size, seed=3)
    got = measures(trace(model, x, loss_kind=loss_kind))
    want = torch_measures(model, x, loss_kind)
    assert set(got) == set(MEASURES)
    for key in MEASURES:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, err_msg=f"{name}: {key}")


def test_the_weight_measure_compares_entries_not_matrix_sizes():
    """d = 9, h = 3: the Frobenius norm ratio of W_xh differs from the per-entry one by
    sqrt(h*h / (h*d)) exactly (rtol 1e-12)."""
    config = RNNConfig(2, 9, 3, 1)
    tr = trace(Model.init(config, seed=1), make_signal("noise", 4, 1, 9, seed=1))
    frobenius = np.linalg.norm(tr.param_grads["weight_ih_l0"]) / np.linalg.norm(
        tr.param_grads["weight_ih_l1"]
    )
    np.testing.assert_allclose(measures(tr)["w_xh"], frobenius * math.sqrt(9 / 27), rtol=1e-12)


@pytest.mark.parametrize("layers, steps", [(1, 1), (1, 5), (3, 1)])
def test_paths_with_zero_steps_are_no_path(layers, steps):
    config = RNNConfig(layers, 2, 3, 1)
    tr = trace(Model.init(config, seed=0), make_signal("noise", steps, 1, 2, seed=0))
    got = measures(tr)
    for key in MEASURES:
        n = path_steps(key, layers, steps)
        assert n == {"corner": steps + layers - 2, "time": steps - 1}.get(
            key.removesuffix("_rate"), layers - 1
        )
        # at T = 1 with H_0 = 0, W_hh multiplies zeros: dLoss/dW_hh = 0 at every layer, 0 / 0
        undefined = n == 0 or (key == "w_hh" and steps == 1)
        assert math.isnan(got[key]) == undefined, key
        assert (regime(got[key], int(n)) == "no path") == (n == 0)


def test_the_rate_is_the_geometric_mean_per_step():
    config = RNNConfig(3, 2, 4, 1)
    tr = trace(Model.init(config, seed=2), make_signal("noise", 7, 1, 2, seed=2))
    got = measures(tr)
    for key, n in (("corner", 6 + 2), ("depth", 2), ("time", 6)):
        np.testing.assert_allclose(got[f"{key}_rate"] ** n, got[key], rtol=1e-12)


@pytest.mark.parametrize(
    "config, kwargs",
    [
        (RNNConfig(1, 3, 5, 1), dict(init=InitSpec("torch"), loss_kind="last")),
        (
            RNNConfig(2, 3, 4, 1, cell=("lstm", "gru")),
            dict(init=InitSpec("orthogonal"), loss_kind="all"),
        ),
    ],
)
def test_depth_sweep_measures_equal_each_depths_trace(config, kwargs):
    """Every measure of the sweep at depth L equals that of a full trace of the depth-L network
    (rtol 1e-10: the sweep stacks seeds and runs one forward pass for every depth)."""
    seeds, steps = [0, 4], 6
    sweep = depth_sweep(config, 4, seeds, steps, **kwargs)
    for i, seed in enumerate(seeds):
        for layers in range(1, 5):
            model = Model.init(at_depth(config, layers), replace(kwargs["init"], seed=seed))
            x = make_signal("noise", steps, 1, config.input_size, seed=seed)
            want = measures(trace(model, x, loss_kind=kwargs["loss_kind"], training=False))
            for key in MEASURES:
                got = sweep.measure(key)[i, layers - 1]
                np.testing.assert_allclose(got, want[key], rtol=1e-10, err_msg=f"{key} L={layers}")
    q = sweep.measure_quantiles("w_hh", (0.5,))[0]
    np.testing.assert_allclose(q[1:], np.median(sweep.measure("w_hh")[:, 1:], axis=0), rtol=1e-14)
    assert np.isnan(q[0]), "L = 1 has no path from the top layer to the bottom"


def lattice_paths(steps: int, layers: int) -> int:
    """Brute force: sequences of 'back in time' / 'down a layer' moves from (T, L) to (1, 1)."""
    moves = (steps - 1) + (layers - 1)
    return sum(1 for down in itertools.combinations(range(moves), layers - 1))


@pytest.mark.parametrize("layers, steps", [(1, 5), (2, 4), (4, 6), (5, 1)])
def test_path_count_is_the_number_of_lattice_paths(layers, steps):
    counted = path_count(layers, steps, 1e-3)
    assert counted.paths == lattice_paths(steps, layers)
    assert counted.steps == steps + layers - 2
    np.testing.assert_allclose(10**counted.log10_per_path * counted.paths, 1e-3, rtol=1e-12)


def test_path_count_of_a_large_grid_and_of_an_overflow():
    counted = path_count(32, 500, 1e-99)
    assert counted.paths == math.comb(530, 31)
    np.testing.assert_allclose(counted.log10_per_path, -99 - math.log10(counted.paths), rtol=1e-12)
    assert math.isnan(path_count(3, 4, math.inf).log10_per_path)


@pytest.mark.parametrize(
    "plain, deep, direction, severe",
    [
        (2e-13, 7e-12, "rose", False),  # vanishing, less so
        (0.5, 0.01, "fell", True),
        (2.0, 50.0, "rose", True),  # exploding, more so
        (0.1, 20.0, "rose", True),  # |log10 20| > |log10 0.1|
        (0.5, 0.5, "no clear change", False),
        (3.83e5, 3.8303e5, "no clear change", False),  # below what three digits show
        # 0.3 %: inside the rounding of two 3-digit values (was "rose": issue 17)
        (3.83e5, 3.84e5, "no clear change", False),
        (3.83e5, 3.9e5, "rose", True),
        (5.51e-1, 5.48e-1, "no clear change", False),  # issue 17: "fell by a factor of 1"
        (6.26e-1, 6.31e-1, "no clear change", False),  # issue 17: "rose by a factor of 1.01"
        (0.5, 2.0, "rose", False),  # as far from 1 at both: not more severe
    ],
)
def test_change_follows_the_numbers(plain, deep, direction, severe):
    c = change("corner", plain, deep)
    assert (c.direction, c.more_severe) == (direction, severe)
    np.testing.assert_allclose(c.log10_change, math.log10(deep / plain), rtol=1e-12, atol=1e-15)
    assert c.phrase.startswith(direction)


@pytest.mark.parametrize("plain, deep", [(math.nan, 0.1), (0.1, math.inf), (0.0, 0.1)])
def test_change_is_undefined_without_two_finite_positive_values(plain, deep):
    c = change("depth", plain, deep)
    assert c.direction == "" and c.more_severe is None and math.isnan(c.log10_change)


def test_bad_measure_keys_are_named():
    with pytest.raises(ValueError, match="key must be one of .* got 'slope'"):
        change("slope", 1.0, 2.0)
    with pytest.raises(ValueError, match="got 'slope'"):
        path_steps("slope", 2, 3)
