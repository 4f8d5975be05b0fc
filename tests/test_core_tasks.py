"""The training tasks: layout, determinism, splits, and every baseline on a large sample."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.datasets as datasets

from deeprnn_core import TASKS, make_task
from deeprnn_core.engine.stack import head_loss


def test_adding_trivial_predictor_scores_one_sixth():
    """Always predicting 1 scores Var(U1 + U2) = 1/6: 0.167 +- 0.005 on 100 000 sequences."""
    task = make_task("adding", 20, n_train=1, n_val=100_000, seed=1)
    assert abs(task.baseline - 1 / 6) < 0.005
    assert abs(task.baseline - 0.167) < 0.005


def test_adding_layout_one_marker_per_half_and_the_sum_as_target():
    task = make_task("adding", 10, n_train=50, n_val=5, seed=2)
    x, y = task.x_train, task.y_train
    assert x.shape == (10, 50, 2) and y.shape == (10, 50, 1)
    assert np.all(x[:5, :, 1].sum(axis=0) == 1) and np.all(x[5:, :, 1].sum(axis=0) == 1)
    np.testing.assert_allclose(y[-1, :, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=0), rtol=1e-15)
    assert np.all(y[:-1] == 0) and task.loss_kind == "last" and task.objective == "mse"


def test_copy_layout_and_baseline():
    delay = 6
    task = make_task("copy", delay, n_train=20, n_val=4000, seed=3)
    T = delay + 20
    assert task.x_train.shape == (T, 20, 10) and task.steps == T and task.output_size == 9
    tokens = task.x_train.argmax(-1)  # (T, N)
    assert np.all((tokens[:10] >= 1) & (tokens[:10] <= 8))
    assert np.all(tokens[delay + 9] == 9) and np.all(tokens[10 : delay + 9] == 0)
    np.testing.assert_array_equal(task.y_train[-10:, :, 0], tokens[:10])
    assert np.all(task.y_train[:-10] == 0) and task.loss_kind == tuple(range(T - 10, T))
    assert task.metric == "accuracy" and task.objective == "cross_entropy"
    np.testing.assert_allclose(task.baseline, 10 * np.log(8), rtol=1e-12)
    np.testing.assert_allclose(task.paper_baseline, 10 * np.log(8) / (delay + 20), rtol=1e-12)
    # the memoryless guess as logits through the engine's own cross-entropy: the same number
    logits = np.full(9, np.log(1 / 8))
    logits[0] = -60.0  # probability ~1e-26 on blank
    top = np.zeros((T, 1, 4000, 1))
    _, value, _ = head_loss(top, np.zeros((1, 1, 9)), logits[None, None], task.y_val[:, None],
                            task.loss_kind, "cross_entropy")  # fmt: skip
    np.testing.assert_allclose(value[0], task.baseline, rtol=1e-12)


@pytest.mark.parametrize("name", ["sine", "sunspots", "co2"])
def test_forecasting_baseline_is_persistence_on_the_validation_split(name):
    task = make_task(name, 12, n_train=3000, n_val=3000, seed=4)
    np.testing.assert_array_equal(task.y_train[:-1], task.x_train[1:])  # next step targets
    persistence = np.mean((task.y_val[-1] - task.x_val[-1]) ** 2)
    np.testing.assert_allclose(task.baseline, persistence, rtol=1e-15)
    assert task.source and task.metric == "mse" and task.loss_kind == "last"


def test_sine_persistence_baseline_on_a_large_sample():
    """Persistence on unit-variance-normalised sines: mean (x_{t+1} - x_t)^2 over 100 000
    windows equals the same mean over the raw series divided by the train variance."""
    task = make_task("sine", 5, n_train=100_000, n_val=100_000, seed=5)
    assert 0.0 < task.baseline < 2.0
    train_diff = np.mean((task.y_train[-1] - task.x_train[-1]) ** 2)
    assert abs(task.baseline - train_diff) < 0.02  # stationary: both halves agree


def test_sunspots_split_by_time_and_normalised_on_the_train_part():
    series = datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    task = make_task("sunspots", 10)
    split = int(len(series) * 0.8)
    mean, std = series[:split].mean(), series[:split].std()
    z = (series - mean) / std
    np.testing.assert_allclose(task.y_train[-1, :, 0], z[10:split], rtol=1e-12)
    np.testing.assert_allclose(task.y_val[-1, :, 0], z[split:], rtol=1e-12)
    assert "statsmodels" in task.source and "sunspot" in task.source


def test_same_seed_same_task_other_seed_other_task():
    for name in ("adding", "copy", "sine"):
        a, b, c = (
            make_task(name, 8, 30, 10, 1),
            make_task(name, 8, 30, 10, 1),
            make_task(name, 8, 30, 10, 2),
        )
        np.testing.assert_array_equal(a.x_train, b.x_train)
        np.testing.assert_array_equal(a.y_val, b.y_val)
        assert not np.array_equal(a.x_train, c.x_train)


def test_bad_task_settings_raise_named_errors():
    with pytest.raises(ValueError, match=r"task must be one of \('adding'"):
        make_task("parity")
    with pytest.raises(ValueError, match="length must be >= 2, got 1"):
        make_task("adding", 1)
    with pytest.raises(TypeError, match="n_train must be an int"):
        make_task("adding", 5, n_train=2.5)
    with pytest.raises(ValueError, match="length must leave windows in both splits"):
        make_task("sunspots", 300)
    assert set(TASKS) == {"adding", "copy", "sine", "sunspots", "co2", "chars"}
