"""The cost model (deeprnn_core.engine.cost) against measured runs at the legal extremes.

For every cell type and precision, the settings the app allows at the corners of its sliders
(after budget.fit_trace / fit_sweep shrink B, T or the seeds) are run, and the measured time and
peak memory (tracemalloc: numpy reports its buffers) are printed over the model's estimate.
The budgets promise the estimate; the target is measured / estimated <= 1.5 everywhere.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.runs import budget  # noqa: E402
from deeprnn_core import Model, RNNConfig, trace  # noqa: E402
from deeprnn_core.analysis.summaries import depth_sweep  # noqa: E402
from deeprnn_core.data.signals import make_signal  # noqa: E402
from deeprnn_core.engine.cost import sweep_cost, trace_cost  # noqa: E402

CORNERS = {  # name: (L, T, B, h) asked for on the sliders
    "all max": (32, 500, 8, 256),
    "deep, narrow": (32, 500, 8, 1),
    "shallow, wide": (1, 500, 8, 256),
    "all min": (1, 1, 1, 1),
    "defaults": (4, 50, 1, 32),
}
REPEATS = 3


def measure(run) -> tuple[float, int]:
    """(median seconds of REPEATS runs, peak traced bytes of one run)."""
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), peak


def main() -> None:
    print("== cost model: measured / estimated at the legal extremes (target <= 1.5; > 1 means")
    print(f"   the run took longer than promised). Median of {REPEATS}; peak via tracemalloc.")
    worst = 0.0
    for dtype in ("float64", "float32"):
        for cell in ("rnn", "gru", "lstm"):
            for name, (L, T, B, h) in CORNERS.items():
                config = RNNConfig(num_layers=L, input_size=8, hidden_size=h, cell=cell)
                steps, batch = budget.fit_trace(config, T, B, dtype=dtype)
                est = trace_cost(config, steps, batch, dtype)
                model, x = Model.init(config), make_signal("noise", steps, batch, 8, 0)
                seconds, peak = measure(lambda m=model, x=x, d=dtype: trace(m, x, dtype=d))
                ratio = seconds / est.seconds
                worst = max(worst, ratio)
                print(
                    f"   trace {cell:4} {dtype} {name:14} L={L:2} T={steps:3} B={batch} h={h:3}: "
                    f"{seconds:7.3f} s / {est.seconds:7.3f} s = {ratio:4.2f}; peak "
                    f"{peak / 2**20:7.1f} / {est.peak_bytes / 2**20:7.1f} MB = "
                    f"{peak / est.peak_bytes:4.2f}"
                )
            config = RNNConfig(num_layers=4, input_size=8, hidden_size=256, cell=cell)
            steps, seeds = budget.fit_sweep(config, 500, 32, 16, dtype)
            est = sweep_cost(config, 32, seeds, steps, dtype)
            seconds, peak = measure(
                lambda c=config, s=seeds, t=steps, d=dtype: depth_sweep(c, 32, range(s), t, dtype=d)
            )
            ratio = seconds / est.seconds
            worst = max(worst, ratio)
            print(
                f"   sweep {cell:4} {dtype} L_max=32 S={seeds} T={steps} h=256: {seconds:7.3f} s "
                f"/ {est.seconds:7.3f} s = {ratio:4.2f}; peak {peak / 2**20:7.1f} / "
                f"{est.peak_bytes / 2**20:7.1f} MB = {peak / est.peak_bytes:4.2f}"
            )
    print(f"   worst time ratio {worst:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
