"""The README's Studies numbers: the window of good learning rates of tanh rnn and lstm stacks
at L in {1, 2, 4, 8} over 5 seeds, on the adding task and on the chars task, and the
plain-vs-deep verdict at L = 8 and L = 2 (each side at its own best learning rate), on the
embedded LocalCluster. Kept in the default study database, so a second run prints at once.

    PYTHONPATH=. python bench/study_windows.py [adding|chars ...]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from deeprnn_core.study import StudySpec, cluster, log_lrs, measures, run

COMMON = dict(
    length=20, cells=("rnn", "lstm"), depths=(1, 2, 4, 8), lrs=log_lrs(1e-4, 1.0, 7), seeds=5,
    steps=200, batch_size=32, n_train=256, n_val=128, evals=10, clip_norm=1.0,
)  # fmt: skip
SPECS = {
    "adding": StudySpec(task="adding", hidden_size=16, **COMMON),
    "chars": StudySpec(task="chars", hidden_size=32, **COMMON),
}


def report(name: str, spec: StudySpec) -> None:
    start = time.perf_counter()
    done = [0]

    def progress(p) -> None:
        done[0] = p.done
        if p.done % 20 == 0:
            print(f"  {name}: {p.done} / {p.total}, {p.elapsed:.0f} s", flush=True)

    result = run(spec, callback=progress)
    table = result.table
    print(f"\n== {name}: {len(table)} trials, {time.perf_counter() - start:.0f} s this run ==")
    print(f"study {spec.key} in {result.url}")
    spacing = float(np.median(np.diff(np.log10(spec.lrs))))
    windows = measures.good_window(table)
    print(f"window: median over {len(spec.seeds)} seeds within {measures.TOLERANCE:.0%} of the "
          f"depth's best; lrs {spec.lrs} (grid step {spacing:.2f} decades)")  # fmt: skip
    for w in windows.itertuples():
        print(f"  {w.cell:5s} L={w.depth}: width {w.width:.2f} decades "
              f"(lr {w.lo:.3g}..{w.hi:.3g}), best lr {w.best_lr:.3g}, "
              f"best median val loss {w.best_median:.4g}, baseline {w.baseline:.4g}, "
              f"learned: {w.learned}")  # fmt: skip
    for cell in spec.cells:
        trend = measures.window_trend(windows, cell, spacing)
        print(f"  {cell}: window from L=1 to L=8: {trend}")
        for depth in (2, 8):
            v = measures.plain_vs_deep(table, cell, depth)
            interval = f"[{v.low:.3g}, {v.high:.3g}]"
            print(f"  {cell} L=1 vs L={depth}: median {v.plain_median:.4g} vs "
                  f"{v.deep_median:.4g}, deep - plain {v.difference:.3g} {interval} -> "
                  f"{v.verdict}")  # fmt: skip
    if spec.task == "chars":
        best = table[table["val_metric"].notna()].groupby(["cell", "depth"])["val_metric"].min()
        print(f"  best validation perplexity per (cell, L): {best.round(3).to_dict()}")
        print(f"  unigram perplexity: {np.exp(table['baseline'].iloc[0] / spec.length):.3f}")


def main(names=("adding", "chars")) -> None:
    for name in names:
        report(name, SPECS[name])
    cluster.shutdown()


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("adding", "chars"))
