"""Core benchmarks: a full trace against torch's fused RNN and against naive unrolled autograd.

Every contender runs on the same weights, input and loss, one thread each, interleaved round
by round so that the machine's noise falls on all of them alike. Prints medians and ratios.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import deeprnn_core as dc
from deeprnn_core.analysis.summaries import depth_sweep
from deeprnn_core.data.signals import make_signal

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}
CELLS = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}


def fused(rnn, head, x):
    """torch's own forward + backward: exposes only the top layer and the parameter grads."""
    rnn.zero_grad(set_to_none=True)
    out, _ = rnn(x)
    loss = (head(out[-1]) ** 2).mean()
    loss.backward()


def naive(cells, head, x):
    """Unrolled autograd with retain_grad on every H_t^(l): the straightforward way."""
    states, inp = [], list(x)
    for cell in cells:
        h = x.new_zeros(x.shape[1], cell.hidden_size)
        c = h
        layer = []
        for x_t in inp:
            if isinstance(cell, torch.nn.LSTMCell):
                h, c = cell(x_t, (h, c))
            else:
                h = cell(x_t, h)
            h.retain_grad()
            layer.append(h)
        states.append(layer)
        inp = layer
    loss = (head(inp[-1]) ** 2).mean()
    loss.backward()
    return [[h.grad for h in layer] for layer in states]


def cells_of(rnn, kind: str) -> list:
    """nn.RNNCell / GRUCell / LSTMCell per layer with the weights of ``rnn``."""
    cells = []
    for k in range(rnn.num_layers):
        n_in = rnn.input_size if k == 0 else rnn.hidden_size
        cell = CELLS[kind](n_in, rnn.hidden_size).to(rnn.weight_hh_l0.dtype)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(rnn, f"{name}_l{k}"))
        cells.append(cell)
    return cells


def compare(kind: str, layers: int, steps: int, hidden: int, dtype: str, rounds: int = 7):
    """Median seconds of trace, fused and naive, interleaved; returns the three medians."""
    torch.manual_seed(0)
    module = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]
    rnn = module(8, hidden, layers).to(TORCH_DTYPES[dtype])
    head = torch.nn.Linear(hidden, 1).to(TORCH_DTYPES[dtype])
    model = dc.from_torch(rnn, head)
    x_np = make_signal("noise", steps, 1, 8, seed=0)
    x = torch.from_numpy(x_np).to(TORCH_DTYPES[dtype])
    cells = cells_of(rnn, kind)
    runs = {
        "trace": lambda: dc.trace(model, x_np, dtype=dtype),
        "fused": lambda: fused(rnn, head, x),
        "naive": lambda: naive(cells, head, x),
    }
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def sweep_time(rounds: int = 5) -> float:
    """Median seconds of the depth sweep L = 1..32, 8 seeds, T = 50, h = 64."""
    config = dc.RNNConfig(hidden_size=64)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        depth_sweep(config, 32, range(8), 50)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    torch.set_num_threads(1)
    print("== core: full trace vs torch fused forward+backward vs naive unrolled autograd")
    print("   B=1, d=8, one thread each, median of 7 interleaved rounds; ratio = trace / other")
    header = f"{'cell':5} {'dtype':8} {'(L, T, h)':15} {'trace':>9} {'fused':>9} {'naive':>9}"
    print(header + f" {'/fused':>7} {'/naive':>7}  target")
    cases = [("rnn", (4, 30, 32)), ("rnn", (8, 100, 64)), ("rnn", (16, 200, 128))]
    cases += [("gru", (16, 200, 128)), ("lstm", (16, 200, 128))]
    targets = {
        ("rnn", 16): "/fused<=0.35 /naive<=0.2",
        "rnn": "/fused<=0.5 /naive<=0.2",
        "gru": "/fused<=0.5 /naive<=0.25",
        "lstm": "/fused<=2.5 /naive<=0.25",
    }
    for dtype in ("float64", "float32"):
        for kind, (L, T, h) in cases:
            m = compare(kind, L, T, h, dtype)
            target = targets.get((kind, L), targets[kind])
            print(
                f"{kind:5} {dtype:8} {str((L, T, h)):15} {m['trace'] * 1e3:7.1f}ms "
                f"{m['fused'] * 1e3:7.1f}ms {m['naive'] * 1e3:7.1f}ms "
                f"{m['trace'] / m['fused']:7.3f} {m['trace'] / m['naive']:7.3f}  {target}"
            )
    print("== depth sweep L=1..32, 8 seeds, T=50, h=64 (target < 2 s)")
    print(f"   median of 5: {sweep_time():.3f} s")


if __name__ == "__main__":
    main()
