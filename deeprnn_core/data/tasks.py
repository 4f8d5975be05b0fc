"""Seeded training tasks with a train and a validation split, a metric and a measured baseline.

Every task is a ``Task`` of time-major arrays: inputs (T, N, d), targets (T, N, q) for mse or
(T, N, 1) class indices for cross_entropy. The baseline is the loss of a trivial predictor
measured on the validation split, in the same unit as the training loss:

* ``adding`` (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015): always predict 1;
  Var(U1 + U2) = 1/6.
* ``copy`` (Arjovsky, Shah & Bengio 2016): a memoryless model that guesses one of the 8 symbols
  at each of the 10 scored steps. The loss here is the cross-entropy SUMMED over those 10
  steps, so the baseline is 10 log 8; Arjovsky et al. average over all T + 20 steps, which
  gives their 10 log 8 / (T + 20) (``paper_baseline``).
* ``sine``, ``sunspots``, ``co2``: next-step forecasting, baseline persistence (predict x_T).
* ``chars``: a character-level language model on Hamlet (``data.text``): one-hot characters in,
  the next character's cross-entropy at every step (SUMMED over the T steps, as for copy), the
  metric perplexity = exp(loss / T); the baseline is the unigram model's loss (the training
  part's character frequencies), T x its mean -log p on the validation targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.config import check_seed
from deeprnn_core.data import text

TASKS = ("adding", "copy", "sine", "sunspots", "co2", "chars")
COPY_SYMBOLS, COPY_LENGTH = 8, 10  # symbols to remember, and how many


@dataclass(frozen=True, eq=False)
class Task:
    """A training task. N_train / N_val sequences of T steps; d inputs, q outputs (classes)."""

    name: str  # one of TASKS
    source: str  # where the data comes from (cite it in the app)
    x_train: np.ndarray  # (T, N_train, d) inputs
    y_train: np.ndarray  # (T, N_train, q) targets (mse) or (T, N_train, 1) class indices
    x_val: np.ndarray  # (T, N_val, d)
    y_val: np.ndarray  # (T, N_val, q) or (T, N_val, 1)
    objective: str  # "mse" or "cross_entropy"
    loss_kind: str | tuple[int, ...]  # the steps scored: "last" or 0-based step indices
    metric: str  # "mse" (the loss itself), "accuracy" (argmax O_t == class, scored steps) or
    # "perplexity" (exp of the loss per scored step)
    baseline: float  # the trivial predictor's loss on the validation split, measured
    baseline_rule: str  # what the trivial predictor is
    output_size: int  # q: outputs (mse) or classes (cross_entropy)
    paper_baseline: float | None = None  # the literature's number where its unit differs

    @property
    def input_size(self) -> int:
        """d, the width of X_t."""
        return self.x_train.shape[2]

    @property
    def steps(self) -> int:
        """T, the length of every sequence."""
        return self.x_train.shape[0]


def make_task(
    name: str, length: int = 50, n_train: int = 1000, n_val: int = 200, seed: int = 0
) -> Task:
    """Build task ``name`` with sequences of ``length`` steps (copy: ``length`` = the delay T,
    sequences are T + 20 long; sunspots / co2 windows are capped by the series length)."""
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {name!r}")
    for arg, value, low in (("length", length, 2), ("n_train", n_train, 1), ("n_val", n_val, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{arg} must be an int, got {type(value).__name__} {value!r}")
        if value < low:
            raise ValueError(f"{arg} must be >= {low}, got {value}")
    seed = check_seed("seed", seed)
    if name == "adding":
        return _adding(int(length), n_train, n_val, seed)
    if name == "copy":
        return _copy(int(length), n_train, n_val, seed)
    if name == "sine":
        return _sine(int(length), n_train, n_val, seed)
    if name == "chars":
        return _chars(int(length), n_train, n_val, seed)
    return _real_series(name, int(length))


def _adding(T: int, n_train: int, n_val: int, seed: int) -> Task:
    def draw(n, rng):
        x = np.zeros((T, n, 2))
        x[:, :, 0] = rng.random((T, n))  # u_t ~ U(0, 1)
        half = T // 2
        first = rng.integers(0, half, n)  # one marker in each half
        second = rng.integers(half, T, n)
        cols = np.arange(n)
        x[first, cols, 1] = 1.0
        x[second, cols, 1] = 1.0
        y = np.zeros((T, n, 1))
        y[-1, :, 0] = x[first, cols, 0] + x[second, cols, 0]
        return x, y

    rng = np.random.default_rng([seed, 101])
    (xt, yt), (xv, yv) = draw(n_train, rng), draw(n_val, rng)
    baseline = float(np.mean((yv[-1] - 1.0) ** 2))
    source = "synthetic: the adding problem (Hochreiter & Schmidhuber 1997)"
    rule = "always predict 1 (Var(U1 + U2) = 1/6)"
    return Task("adding", source, xt, yt, xv, yv, "mse", "last", "mse", baseline, rule, 1)


def _copy(delay: int, n_train: int, n_val: int, seed: int) -> Task:
    """Inputs one-hot over 10 tokens (0 blank, 1..8 symbols, 9 delimiter), length T + 20:
    10 symbols, T - 1 blanks, the delimiter, 10 blanks. Targets: blank (class 0) for T + 10
    steps, then the 10 symbols (classes 1..8)."""
    T, k = delay + 2 * COPY_LENGTH, COPY_LENGTH

    def draw(n, rng):
        symbols = rng.integers(1, COPY_SYMBOLS + 1, (k, n))
        tokens = np.zeros((T, n), dtype=np.intp)
        tokens[:k] = symbols
        tokens[delay + k - 1] = COPY_SYMBOLS + 1
        x = np.eye(COPY_SYMBOLS + 2)[tokens]  # (T, n, 10)
        y = np.zeros((T, n, 1))
        y[-k:, :, 0] = symbols
        return x, y

    rng = np.random.default_rng([seed, 102])
    (xt, yt), (xv, yv) = draw(n_train, rng), draw(n_val, rng)
    # the memoryless guess: probability 1/8 on each symbol, 0 on blank and delimiter classes
    guess = np.full(COPY_SYMBOLS + 1, 1.0 / COPY_SYMBOLS)
    guess[0] = 0.0
    scored = yv[-k:, :, 0].astype(np.intp)
    baseline = float(-np.log(guess[scored]).sum(axis=0).mean())
    return Task(
        "copy",
        "synthetic: the copy task (Arjovsky, Shah & Bengio 2016)",
        xt,
        yt,
        xv,
        yv,
        "cross_entropy",
        tuple(range(T - k, T)),
        "accuracy",
        baseline,
        "guess one of the 8 symbols at each of the 10 scored steps (10 log 8, loss summed)",
        COPY_SYMBOLS + 1,
        paper_baseline=COPY_LENGTH * np.log(COPY_SYMBOLS) / (delay + 2 * COPY_LENGTH),
    )


def _windows(series: np.ndarray, T: int, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window i: x = series[i : i + T], y = series[i + 1 : i + T + 1], for i in ``targets`` - T
    (each ``targets`` entry is the index of the value the last step predicts)."""
    starts = targets - T
    idx = starts[None, :] + np.arange(T)[:, None]  # (T, n)
    return series[idx][..., None], series[idx + 1][..., None]


def _forecast(name, source, series, T, split=None) -> Task:
    """Next-step windows split by time: a window is in training if the value it predicts is in
    the first ``split`` points (default 80 %); z-scored with the training part's mean and std."""
    split = int(len(series) * 0.8) if split is None else split
    mean, std = series[:split].mean(), series[:split].std()
    z = (series - mean) / std
    train_targets = np.arange(T, split)
    val_targets = np.arange(max(split, T), len(series))
    if len(train_targets) < 1 or len(val_targets) < 1:
        raise ValueError(
            f"length must leave windows in both splits of the {len(series)}-point {name} series; "
            f"got length={T} (at most {split - 1})"
        )
    xt, yt = _windows(z, T, train_targets)
    xv, yv = _windows(z, T, val_targets)
    baseline = float(np.mean((yv[-1] - xv[-1]) ** 2))
    rule = "persistence: predict the last value seen, x_T"
    return Task(name, source, xt, yt, xv, yv, "mse", "last", "mse", baseline, rule, 1)


def _sine(T: int, n_train: int, n_val: int, seed: int) -> Task:
    """A mix of three sines (periods 7, 17, 41 steps, random phases) plus N(0, 0.1^2) noise;
    one series of n_train + n_val + T points, the last n_val windows are the validation."""
    rng = np.random.default_rng([seed, 103])
    n = n_train + n_val + T
    t = np.arange(n)
    phases = rng.uniform(0, 2 * np.pi, 3)
    series = sum(np.sin(2 * np.pi * t / p + f) for p, f in zip((7, 17, 41), phases))
    series = series + 0.1 * rng.standard_normal(n)
    source = "synthetic: sines of periods 7, 17, 41 steps plus Gaussian noise (sd 0.1)"
    return _forecast("sine", source, series, T, n_train + T)


def _real_series(name: str, T: int) -> Task:
    import statsmodels.datasets as datasets  # lazily: pandas and scipy, for two tasks only

    if name == "sunspots":
        series = datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
        source = "statsmodels.datasets.sunspots: yearly sunspot numbers 1700-2008 (NOAA NGDC)"
    else:
        frame = datasets.co2.load_pandas().data["co2"]
        series = frame.interpolate().to_numpy(float)  # 59 missing weeks, filled linearly
        source = "statsmodels.datasets.co2: weekly CO2 at Mauna Loa 1958-2001 (Keeling & Whorf)"
    return _forecast(name, source, series, T)


def _chars(T: int, n_train: int, n_val: int, seed: int) -> Task:
    """Windows of T characters: training ones at seeded random places of the training part,
    validation ones evenly spread over the validation part (the same for every seed)."""
    train_ids, val_ids = text.splits()
    if T + 1 >= min(len(train_ids), len(val_ids)):
        raise ValueError(f"length must be < {len(val_ids) - 1} for the chars task, got {T}")
    rng = np.random.default_rng([seed, 104])
    xt, yt = text.windows(train_ids, rng.integers(0, len(train_ids) - T - 1, n_train), T)
    xv, yv = text.windows(val_ids, np.linspace(0, len(val_ids) - T - 2, n_val).astype(int), T)
    per_step = text.unigram_loss(train_ids, yv[..., 0])
    rule = (
        f"unigram: each character's training frequency, whatever came before "
        f"(perplexity {np.exp(per_step):.3g})"
    )
    V = len(text.CHARS)
    return Task(
        "chars", text.SOURCE, xt, yt, xv, yv, "cross_entropy", tuple(range(T)), "perplexity",
        T * per_step, rule, V,
    )  # fmt: skip
