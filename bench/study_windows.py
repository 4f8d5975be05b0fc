"""The README's Studies numbers: the window of good learning rates of tanh rnn and lstm stacks
at L in {1, 2, 4, 8} over 5 seeds, on the adding task and on the chars task, and the
plain-vs-deep verdict at L = 8 and L = 2 (each side at its own best learning rate), on the
embedded LocalCluster. Kept in the default study database, so a second run prints at once.

    PYTHONPATH=. python bench/study_windows.py [adding|chars|equal ...]

``equal``: on chars, the 4-layer LSTM (h = 32) against a 1-layer LSTM with as many parameters.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from deeprnn_core.study import StudySpec, cluster, log_lrs, measures, run
from deeprnn_core.study.trial import model_for

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


def params_of(spec: StudySpec, cell: str, depth: int) -> int:
    """Parameter count of the (cell, depth) model of ``spec``."""
    return model_for(spec, cell, depth, 0).num_params


def equal_params(cell: str = "lstm", depth: int = 4) -> None:
    """chars: L = ``depth`` at h = 32 against one layer whose width gives the nearest parameter
    count, each at its own best learning rate, over the same 5 seeds."""
    deep = SPECS["chars"]
    target = params_of(deep, cell, depth)
    h = min(
        range(deep.hidden_size, 4 * deep.hidden_size),
        key=lambda h: abs(params_of(replace(deep, hidden_size=h), cell, 1) - target),
    )
    wide = replace(deep, cells=(cell,), depths=(1,), hidden_size=h)
    table = run(wide).table
    both = pd.concat([table, run(deep).table.query("cell == @cell and depth == @depth")])
    v = measures.plain_vs_deep(both, cell, depth)
    print(f"\n== chars, equal parameter count: {cell} L=1 h={wide.hidden_size} "
          f"({params_of(wide, cell, 1)} parameters) vs L={depth} h={deep.hidden_size} "
          f"({target}) ==")  # fmt: skip
    print(f"  median val loss {v.plain_median:.4g} (lr {v.plain_lr:.3g}) vs {v.deep_median:.4g} "
          f"(lr {v.deep_lr:.3g}); deep - plain {v.difference:.3g} [{v.low:.3g}, {v.high:.3g}] "
          f"-> {v.verdict}")  # fmt: skip
    ppl = both.groupby(["depth", "lr"])["val_metric"].median()
    print(f"  median perplexity at each side's best lr: {ppl[(1, v.plain_lr)]:.3f} vs "
          f"{ppl[(depth, v.deep_lr)]:.3f}")  # fmt: skip


def main(names=("adding", "chars")) -> None:
    for name in names:
        if name == "equal":
            equal_params()
        else:
            report(name, SPECS[name])
    cluster.shutdown()


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("adding", "chars"))
