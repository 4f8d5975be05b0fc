"""Long memory, measured (issue 19 item 7): `python bench/demo_long_memory.py`.

The adding problem (Hochreiter & Schmidhuber 1997) at T in {100, 200, 500}: 4-layer stacks of
tanh rnn, lstm, mingru and lru cells, h = 32, the same task split, batches, optimizer (Adam,
lr 1e-2, clipping at 1), number of updates and seed for every cell. Prints the final validation
MSE against the baseline of predicting 1 (1/6 in expectation) and whether the stack learned by
the Training page's rule (final validation loss below 0.9 x the baseline), and the wall time.
Nothing is judged before it is run."""

from __future__ import annotations

import sys
import time

import deeprnn_core as dc

LENGTHS, CELLS = (100, 200, 500), ("rnn", "lstm", "mingru", "lru")
LAYERS, HIDDEN, UPDATES, LR, CLIP, BATCH, SEED = 4, 32, 600, 1e-2, 1.0, 32, 0
LEARNED = 0.9  # the Training page's rule: below 0.9 x the baseline


def run(cell: str, length: int) -> dict:
    task = dc.make_task("adding", length, n_train=2000, n_val=500, seed=SEED)
    config = dc.RNNConfig(LAYERS, task.input_size, HIDDEN, 1, cell=cell)
    model = dc.Model.init(config, dc.InitSpec(seed=SEED))
    start = time.perf_counter()
    hist = dc.train(model, task, steps=UPDATES, lr=LR, clip_norm=CLIP, batch_size=BATCH,
                    seed=SEED, eval_every=UPDATES // 6, record=False)  # fmt: skip
    final = float(hist.val_loss[-1])
    return {"val": final, "best": float(hist.val_loss.min()), "baseline": task.baseline,
            "learned": final < LEARNED * task.baseline, "seconds": time.perf_counter() - start,
            "diverged": hist.diverged}  # fmt: skip


def main() -> None:
    print(f"adding problem, L = {LAYERS}, h = {HIDDEN}, Adam lr {LR:g}, clip {CLIP:g}, "
          f"{UPDATES} updates of {BATCH}, seed {SEED}")  # fmt: skip
    print(f"{'T':>5} {'cell':>7} {'final val':>10} {'best val':>9} {'baseline':>9} "
          f"{'learned':>8} {'s':>7}")  # fmt: skip
    lengths = [int(a) for a in sys.argv[1:]] or LENGTHS
    for length in lengths:
        for cell in CELLS:
            r = run(cell, length)
            note = f"  diverged: {r['diverged']}" if r["diverged"] else ""
            print(f"{length:>5} {cell:>7} {r['val']:10.4f} {r['best']:9.4f} "
                  f"{r['baseline']:9.4f} {'yes' if r['learned'] else 'no':>8} "
                  f"{r['seconds']:7.1f}{note}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
