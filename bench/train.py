"""Training benchmarks: one update of ``train`` against torch's fused nn.RNN / GRU / LSTM with
the same torch optimizer; the cost of recording; the app's default training run.

One thread each, float32 for the step comparison, interleaved round by round; medians.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import deeprnn_core as dc
from deeprnn_core.training.loop import DEFAULTS

MODULES = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
TARGETS = {"rnn": 0.8, "gru": 1.0, "lstm": 2.0}


def torch_steps(rnn, head, opt, x, y, n: int) -> list[float]:
    """Seconds of ``n`` fused updates: forward, MSE of O_T, backward, Adam step."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(x)
        loss = torch.nn.functional.mse_loss(head(out[-1]), y[-1])
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return times


def engine_steps(model, x, y, n: int, record: bool = False) -> list[float]:
    """Seconds of updates 2..n of one ``train`` call (the first carries the setup)."""
    hist = dc.train(model, (x, y), steps=n, lr=1e-3, batch_size=x.shape[1], dtype="float32",
                    shuffle=False, record=record)  # fmt: skip
    return list(np.diff(hist.wall_time))


def step_ratio(kind: str, L=4, T=100, h=64, B=32, rounds=7, per_round=4) -> dict[str, float]:
    torch.manual_seed(0)
    rnn = MODULES[kind](8, h, L).float()
    head = torch.nn.Linear(h, 1).float()
    model = dc.from_torch(rnn, head)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, 8)).astype(np.float32)
    y = rng.standard_normal((T, B, 1)).astype(np.float32)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    ours, theirs = [], []
    for _ in range(rounds):
        ours += engine_steps(model, x, y, per_round + 1)
        theirs += torch_steps(rnn, head, opt, xt, yt, per_round)
    return {"train": float(np.median(ours)), "torch": float(np.median(theirs))}


def default_run(record: bool = True) -> tuple[float, float]:
    """(wall, CPU) seconds of the app's default training run (DEFAULTS), task included. CPU
    time of this process is the steadier measure on a shared machine (one thread)."""
    d = DEFAULTS
    config = dc.RNNConfig(d["num_layers"], 2, d["hidden_size"], 1, activation=d["activation"],
                          cell=d["cell"])  # fmt: skip
    model = dc.Model.init(config, dc.InitSpec(seed=d["seed"]))
    start, cpu = time.perf_counter(), time.process_time()
    task = dc.make_task(d["task"], d["length"], seed=d["seed"])
    dc.train(model, task, steps=d["steps"], optimizer=d["optimizer"], lr=d["lr"],
             schedule=d["schedule"], batch_size=d["batch_size"], clip_norm=d["clip_norm"],
             seed=d["seed"], record=record)  # fmt: skip
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    torch.set_num_threads(1)
    print("== train: one update (forward, backward, Adam step) vs torch fused module + Adam")
    print("   (L, T, h, B) = (4, 100, 64, 32), float32, one thread, median of 28 interleaved")
    print(f"{'cell':5} {'train':>9} {'torch':>9} {'ratio':>7}  target")
    for kind in ("rnn", "gru", "lstm"):
        m = step_ratio(kind)
        print(f"{kind:5} {m['train'] * 1e3:7.2f}ms {m['torch'] * 1e3:7.2f}ms "
              f"{m['train'] / m['torch']:7.3f}  <= {TARGETS[kind]}")  # fmt: skip
    print("== recording (per-step norms, singular values, attenuation, snapshots) vs record=False")
    print("   the app's default run:", dict(DEFAULTS))
    default_run(True)  # warm-up: first-call costs (imports, BLAS and allocator setup)
    runs = {True: [], False: []}
    for _ in range(7):
        for record in (True, False):
            runs[record].append(default_run(record))
    on, off = np.array(runs[True]), np.array(runs[False])  # (rounds, [wall, CPU])
    paired = np.median(on / off, axis=0) - 1  # each round's pair, so drifts in load cancel
    (on_wall, on_cpu), (off_wall, off_cpu) = np.median(on, axis=0), np.median(off, axis=0)
    print(f"   median of 7 interleaved: record=True {on_wall:.2f} s wall / {on_cpu:.2f} s CPU, "
          f"record=False {off_wall:.2f} s wall / {off_cpu:.2f} s CPU")  # fmt: skip
    print(f"   overhead (median of paired rounds) {paired[0] * 100:.1f} % wall, "
          f"{paired[1] * 100:.1f} % CPU (target <= 10 %)")  # fmt: skip
    print(f"== the app's default training run (record=True): {on_wall:.2f} s wall (target <= 10 s)")


if __name__ == "__main__":
    main()
