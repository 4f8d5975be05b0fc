"""The README's Studies numbers: the window of good learning rates of tanh rnn and lstm stacks
at L in {1, 2, 4, 8} over 5 seeds, on the adding task and on the chars task, and the
plain-vs-deep verdict at L = 8 and L = 2 (each side at its own best learning rate), on the
embedded LocalCluster. Kept in the default study database, so a second run prints at once.

    PYTHONPATH=. python bench/study_windows.py [adding|chars|equal ...]

``equal``: on chars, tanh rnn and lstm at L in {1, 2, 4} with one parameter count per cell (the
4-layer model's at h = 32; L = 1 and 2 get the width whose count is nearest), each L at its own
best learning rate: the validation perplexity's median and IQR over the 5 seeds.
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


EQUAL_DEPTHS = (1, 2, 4)  # depths compared at one parameter count (L = 4, h = 32's)


def width_for(spec: StudySpec, cell: str, depth: int, target: int) -> int:
    """The hidden size at which the ``depth``-layer ``cell`` model of ``spec`` has the
    parameter count nearest ``target``."""
    return min(
        range(4, 4 * spec.hidden_size),
        key=lambda h: abs(params_of(replace(spec, hidden_size=h), cell, depth) - target),
    )


def equal_params(cells=("rnn", "lstm"), depths=EQUAL_DEPTHS) -> None:
    """chars at one parameter count per cell: L in ``depths``, each at the width whose
    parameter count is nearest the deepest one's at h = 32, the same 7 learning rates and 5
    seeds. Per (cell, L): the validation perplexity at its own best lr (lowest median loss over
    seeds), median and quartiles over the seeds, and each L > 1 against L = 1 with a bootstrap
    interval (measures.plain_vs_deep). The deepest (h = 32) trials are the chars map's."""
    base = SPECS["chars"]
    deepest = max(depths)
    for cell in cells:
        target = params_of(base, cell, deepest)
        tables = []
        for depth in depths:
            h = base.hidden_size if depth == deepest else width_for(base, cell, depth, target)
            spec = replace(base, cells=(cell,), depths=(depth,), hidden_size=h)
            if depth == deepest:  # the map's own trials (same spec fields but cells / depths)
                table = run(base).table.query("cell == @cell and depth == @depth")
            else:
                table = run(spec).table
            tables.append(table.assign(hidden=h))
        both = pd.concat(tables, ignore_index=True)
        print(f"\n== chars, equal parameter count ({cell}, target {target} parameters at "
              f"L = {deepest}, h = {base.hidden_size}); {len(base.seeds)} seeds, lrs "
              f"{base.lrs} ==")  # fmt: skip
        print("  L  h    params   best lr  ppl median  q1      q3      IQR     val loss median")
        for depth in depths:
            at = both[both["depth"] == depth]
            med = at.groupby("lr")["val_loss"].median()
            lr = float(med.idxmin())
            ppl = at[at["lr"] == lr]["val_metric"].to_numpy(float)
            q1, q3 = np.quantile(ppl, [0.25, 0.75])
            print(f"  {depth}  {int(at['hidden'].iloc[0]):<4d} {int(at['num_params'].iloc[0]):<8d}"
                  f" {lr:<8.3g} {np.median(ppl):<11.3f} {q1:<7.3f} {q3:<7.3f} {q3 - q1:<7.3f} "
                  f"{med.min():.4g}")  # fmt: skip
        for depth in depths[1:]:
            v = measures.plain_vs_deep(both, cell, depth)
            print(f"  L={depth} - L=1 at own best lr: median val loss {v.deep_median:.4g} - "
                  f"{v.plain_median:.4g} = {v.difference:.3g} nats per {base.length}-character "
                  f"window, bootstrap 95 % [{v.low:.3g}, {v.high:.3g}] -> {v.verdict}")  # fmt: skip


def main(names=("adding", "chars")) -> None:
    for name in names:
        if name == "equal":
            equal_params()
        else:
            report(name, SPECS[name])
    cluster.shutdown()


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("adding", "chars"))
