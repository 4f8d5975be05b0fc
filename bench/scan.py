"""The element-wise recurrences (minGRU, minLSTM, LRU) as a scan over time against the loop and
against torch autograd of the same cell.

An 8-layer stack, T = 1000, h = 128, B = 1, float64: ``trace`` with the recurrence as the
sequential loop (cells.scan.METHOD = "loop"), as the vectorised scan ("scan"), and the same
stack written in torch (the papers' equations, unrolled, retain_grad on every H_t^(l) so it
gives what a trace gives: every state and dLoss/dH). Interleaved round by round, one thread
each; prints medians and the ratios. Then the recurrence alone (cells.scan's primitives) at a
few T, which sets the default of cells.scan.use_scan.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import torch

import deeprnn_core as dc
from deeprnn_core.cells import scan

LAYERS, STEPS, HIDDEN, D = 8, 1000, 128, 8


def torch_stack(model: dc.Model):
    """A closure running forward + backward of ``model`` in torch, unrolled over time."""
    c = model.config
    p = {n: torch.tensor(v, requires_grad=True) for n, v in model.params.items()}

    def run(x):
        for t in p.values():
            t.grad = None
        inputs, states = list(x), []
        for k, kind in enumerate(c.cells):
            w, b = p[f"weight_ih_l{k}"], p.get(f"bias_ih_l{k}")
            proj = torch.nn.functional.linear(torch.stack(inputs), w, b)  # all t at once
            h = x.new_zeros(x.shape[1], c.hidden_size)
            if kind == "lru":
                n = c.hidden_size
                lam = torch.exp(
                    -torch.exp(p[f"nu_log_l{k}"]) + 1j * torch.exp(p[f"theta_log_l{k}"])
                )
                bu = torch.exp(p[f"gamma_log_l{k}"]) * torch.complex(proj[..., :n], proj[..., n:])
                cm = torch.complex(p[f"weight_c_re_l{k}"], p[f"weight_c_im_l{k}"])
                state, out = torch.zeros_like(bu[0]), []
                for t, u in enumerate(inputs):
                    state = lam * state + bu[t]
                    hh = torch.tanh((state @ cm.T).real + u * p[f"weight_d_l{k}"] if k else
                                    (state @ cm.T).real + u @ p[f"weight_d_l{k}"].T)  # fmt: skip
                    hh.retain_grad()
                    out.append(hh)
            else:
                out = []
                for t in range(len(inputs)):
                    if kind == "mingru":
                        a_z, cand = proj[t].chunk(2, -1)
                        z = torch.sigmoid(a_z)
                        h = (1 - z) * h + z * cand
                    else:
                        a_f, a_i, cand = proj[t].chunk(3, -1)
                        f, i = torch.sigmoid(a_f), torch.sigmoid(a_i)
                        h = f / (f + i) * h + i / (f + i) * cand
                    h.retain_grad()
                    out.append(h)
            states.append(out)
            inputs = out
        head = torch.nn.functional.linear(inputs[-1], p["head.weight"], p["head.bias"])
        ((head - 1.0) ** 2).mean().backward()
        return [[h.grad for h in layer] for layer in states]

    return run


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def stack_rows(rounds: int = 5) -> dict[str, tuple[float, float, float]]:
    """cell -> median seconds (loop, scan, torch) of the 8-layer stack."""
    torch.set_num_threads(1)
    out = {}
    x = np.random.default_rng(0).standard_normal((STEPS, 1, D))
    y = np.ones((STEPS, 1, 1))
    xt = torch.from_numpy(x)
    for cell in ("mingru", "minlstm", "lru"):
        config = dc.RNNConfig(input_size=D, hidden_size=HIDDEN, num_layers=LAYERS, cell=cell)
        model = dc.Model.init(config, seed=0)
        run_torch = torch_stack(model)

        def trace_with(method, model=model):
            def go():
                scan.METHOD = method
                try:
                    dc.trace(model, x, y)
                finally:
                    scan.METHOD = None

            return go

        runs = {
            "loop": trace_with("loop"),
            "scan": trace_with("scan"),
            "torch": lambda run_torch=run_torch: run_torch(xt),
        }
        times = {k: [] for k in runs}
        for _ in range(rounds):
            for name, fn in runs.items():
                times[name].append(timed(fn))
        out[cell] = tuple(float(np.median(times[k])) for k in runs)
    return out


def primitive_rows(rounds: int = 9) -> dict[int, tuple[float, float, float, float]]:
    """T -> median seconds (gated loop, gated scan, power loop, power scan) at h = 128, B = 1."""
    rng = np.random.default_rng(1)
    out = {}
    for steps in (32, 64, 128, 256, 512, 1000):
        a = rng.uniform(0.05, 0.99, (steps, 1, 1, HIDDEN))
        b = rng.standard_normal(a.shape)
        h0 = np.zeros(a.shape[1:])
        log_a = np.log(a)
        lam = 0.95 * np.exp(1j * rng.uniform(0, np.pi, (1, 1, HIDDEN)))
        bc = b + 1j * b
        runs = [
            partial(scan.gated_loop, a, b, h0, np.empty_like(b)),
            partial(scan.gated_scan, log_a, b, h0, np.empty_like(b)),
            partial(scan.power_loop, lam, bc, np.empty_like(bc)),
            partial(scan.power_scan, lam, bc, np.empty_like(bc)),
        ]
        times = [[] for _ in runs]
        for _ in range(rounds):
            for k, fn in enumerate(runs):
                times[k].append(timed(fn))
        out[steps] = tuple(float(np.median(t)) for t in times)
    return out


def main() -> None:
    print(f"\n== element-wise recurrences: {LAYERS} layers, T = {STEPS}, h = {HIDDEN}, B = 1, "
          "float64, trace (H, G and every parameter gradient) ==")  # fmt: skip
    print(f"{'cell':>8} {'loop s':>9} {'scan s':>9} {'torch s':>9} {'scan/loop':>10} "
          f"{'loop/torch':>11} {'scan/torch':>11}")  # fmt: skip
    for cell, (loop, fast, ref) in stack_rows().items():
        print(f"{cell:>8} {loop:9.3f} {fast:9.3f} {ref:9.3f} {fast / loop:10.2f} "
              f"{loop / ref:11.3f} {fast / ref:11.3f}")  # fmt: skip
    print("\n== the recurrence alone, h = 128, B = 1: scan / loop (below 1: the scan wins) ==")
    print(f"{'T':>6} {'gated loop ms':>14} {'gated scan/loop':>16} {'power loop ms':>14} "
          f"{'power scan/loop':>16}")  # fmt: skip
    for steps, (gl, gs, pl, ps) in primitive_rows().items():
        print(f"{steps:>6} {gl * 1e3:14.3f} {gs / gl:16.2f} {pl * 1e3:14.3f} {ps / pl:16.2f}")
    print("(the default runs the loop: cells.scan.METHOD = None; the scan is kept, tested, "
          "and forced with METHOD = 'scan')")  # fmt: skip


if __name__ == "__main__":
    main()
