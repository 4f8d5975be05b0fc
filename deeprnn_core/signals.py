"""Input sequences X_1..X_T, seeded and reproducible, time-major (T, B, d)."""

from __future__ import annotations

import numpy as np

from deeprnn_core.config import check_seed

SIGNALS = ("noise", "sine", "impulse", "step")
_SIGNAL_STREAM = 2  # seed-sequence entry of the input, apart from the weights' streams


def make_signal(kind: str, steps: int, batch: int, width: int, seed: int = 0) -> np.ndarray:
    """A (T, B, d) float64 input sequence.

    noise    X_t ~ N(0, 1), independent per step, sample and unit
    sine     sin(2 pi t / period_j + phase), period_j from 8 to 32 steps across units,
             a random phase per sample and unit
    impulse  X_1 = 1, X_t = 0 for t > 1: what the network remembers of one event
    step     X_t = 0 before the middle step, 1 from it on
    """
    if kind not in SIGNALS:
        raise ValueError(f"kind must be one of {SIGNALS}, got {kind!r}")
    for name, value in (("steps", steps), ("batch", batch), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    rng = np.random.default_rng([check_seed("seed", seed), _SIGNAL_STREAM])
    shape = (steps, batch, width)
    if kind == "noise":
        return rng.standard_normal(shape)
    if kind == "sine":
        t = np.arange(1, steps + 1)[:, None, None]
        period = np.linspace(8.0, 32.0, width)[None, None, :]
        phase = rng.uniform(0.0, 2 * np.pi, (1, batch, width))
        return np.sin(2 * np.pi * t / period + phase)
    x = np.zeros(shape)
    if kind == "impulse":
        x[0] = 1.0
    else:
        x[steps // 2 :] = 1.0
    return x
