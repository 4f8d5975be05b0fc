"""Theory benchmarks: the mean-field grid and the phase diagram against their budgets.

Both run interleaved with a trace of the same (L, T) grid (B = 1, h = 32), so the ratio to it
says how the prediction compares with one measurement of the same grid on this machine.
"""

from __future__ import annotations

import time

import numpy as np

import deeprnn_core as dc
from deeprnn_core.data.signals import make_signal
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.theory import phase


def main(rounds: int = 7) -> None:
    config = dc.RNNConfig(num_layers=32, hidden_size=32)
    init = dc.InitSpec("gaussian", 1.0, 1.0, 1.0)
    model = dc.Model.init(config, init)
    x = make_signal("noise", 500, 1, config.input_size)
    gains = np.linspace(0.05, 3.0, 40)
    runs = {
        "theory grid L=32 T=500": lambda: theory.predict(config, init, 1.0, "all", steps=500),
        "phase diagram 40x40": lambda: phase.phase_diagram("tanh", gains, gains, 0.002),
        "trace L=32 T=500 h=32 B=1": lambda: dc.trace(model, x),
    }
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    med = {name: float(np.median(t)) for name, t in times.items()}
    trace_time = med["trace L=32 T=500 h=32 B=1"]
    budgets = {"theory grid L=32 T=500": 0.05, "phase diagram 40x40": 1.0}
    print(f"== theory: mean-field grid and phase diagram, median of {rounds} interleaved rounds")
    for name, budget in budgets.items():
        print(
            f"   {name:26} {med[name] * 1e3:8.1f} ms  / budget {budget * 1e3:.0f} ms = "
            f"{med[name] / budget:.2f}  / trace of the grid = {med[name] / trace_time:.2f}"
        )
    print(f"   {'trace L=32 T=500 h=32 B=1':26} {trace_time * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
