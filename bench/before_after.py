"""The house move (issue 16) against the tree before it, in one run: trace and train timed in
both trees, alternately, each in its own interpreter on one thread; medians and after / before.

    python bench/before_after.py [REF]     REF: the commit before the move (default 2f40de6)

A temporary git worktree holds REF; nothing in it is imported into this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "2f40de6"  # main just before the move landed
CASES = [  # (name, python that prints seconds of one measured call as JSON)
    (f"trace {cell} (L, T, h) = (16, 200, 128)", cell) for cell in ("rnn", "gru", "lstm")
] + [("train update lstm (4, 100, 64), B = 32", "train")]

SNIPPET = """
import json, sys, time
import numpy as np
import deeprnn_core as dc
kind = sys.argv[1]
rng = np.random.default_rng(0)
if kind == "train":
    model = dc.Model.init(dc.RNNConfig(num_layers=4, hidden_size=64, cell="lstm"), seed=0)
    x = rng.standard_normal((100, 32, 8)).astype(np.float32)
    y = rng.standard_normal((100, 32, 1)).astype(np.float32)
    h = dc.train(model, (x, y), steps=9, lr=1e-3, batch_size=32, dtype="float32", shuffle=False)
    times = list(np.diff(h.wall_time))
else:
    config = dc.RNNConfig(num_layers=16, hidden_size=128, cell=kind)
    model = dc.Model.init(config, seed=0)
    x = rng.standard_normal((200, 1, 8))
    dc.trace(model, x)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        dc.trace(model, x)
        times.append(time.perf_counter() - start)
print(json.dumps(float(np.median(times))))
"""


def measure(tree: Path, kind: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", SNIPPET, kind], cwd=tree, env=env,
                         capture_output=True, text=True, check=True, timeout=600)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def browser(old: Path) -> None:
    """bench/browser.py of each tree (each the app against its floor in one run), before then
    after: the ratios, not the times, are comparable between the two runs."""
    for label, tree in (("before", old), ("after", ROOT)):
        env = {**os.environ, "PYTHONPATH": str(tree)}
        out = subprocess.run([sys.executable, "bench/browser.py"], cwd=tree, env=env,
                             capture_output=True, text=True, timeout=1800)  # fmt: skip
        ratios = [line.strip() for line in out.stdout.splitlines() if "ratio" in line]
        print(f"browser, {label}:", *ratios or [out.stderr[-500:]], sep="\n   ")


def main(ref: str = BEFORE, rounds: int = 5, only: str | None = None) -> None:
    print(f"== the house move: main against {ref}, {rounds} rounds alternating, medians")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), ref], cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        try:
            for name, kind in CASES:
                if only and only != kind:
                    continue
                before, after = [], []
                for _ in range(rounds):
                    before.append(measure(old, kind))
                    after.append(measure(ROOT, kind))
                b, a = sorted(before)[rounds // 2], sorted(after)[rounds // 2]
                print(f"{name:44s} before {b * 1e3:8.2f} ms  after {a * 1e3:8.2f} ms  "
                      f"after / before {a / b:.3f}")  # fmt: skip
            if only in (None, "browser"):
                browser(old)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           check=False, capture_output=True)  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:2], only=os.environ.get("BENCH_ONLY"))
