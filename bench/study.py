"""Study benchmark (issue 20): trials per second of a 40-trial study on the embedded Dask
cluster (one `dask worker` process per core, one thread each) against the same 40 trials run one
after another in this process, and Dask's overhead per trial.

Each run writes a fresh SQLite study (the driver's Optuna ask / tell and the summaries are
part of both sides). The cluster is started and warmed (torch imported in every worker) before
the clock starts; its start-up time is printed on its own. Rounds alternate (sequential,
cluster); medians. The overhead is the worker time a trial costs beyond its own ``execute``
(wall x workers - sum of the trials' execute seconds, per trial), and its share of a trial.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from deeprnn_core.study import IN_PROCESS, StudySpec, cluster, run

SPEC = StudySpec(
    task="adding", length=50, cells=("rnn",), depths=(1, 2), lrs=(1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
    seeds=4, steps=250, hidden_size=32, batch_size=32, n_train=256, n_val=64, evals=5,
)  # fmt: skip  # 2 x 5 x 4 = 40 trials
WARM = StudySpec(
    task="adding", length=8, cells=("rnn",), depths=(1,), lrs=(1e-2,), seeds=8, steps=2,
    hidden_size=4, batch_size=4, n_train=8, n_val=4,
)  # fmt: skip
ROUNDS = 2
TARGET_SPEEDUP, TARGET_OVERHEAD = 1.6, 0.05


def timed(spec: StudySpec, folder: Path, name: str, scheduler) -> tuple[float, object]:
    start = time.perf_counter()
    result = run(spec, storage=folder / f"{name}.db", scheduler=scheduler)
    return time.perf_counter() - start, result


def main(rounds: int = ROUNDS) -> None:
    print(f"\n== Study: {SPEC.size} trials, sequential in-process vs the embedded Dask cluster ==")
    print(f"cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.2f} (a shared machine)")
    start = time.perf_counter()
    workers = cluster.workers()  # starts the embedded cluster
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run(WARM, storage=folder / "warm.db")  # torch imported in every worker
        print(f"cluster start + warm-up: {time.perf_counter() - start:.2f} s, {workers} workers")
        run(WARM, storage=folder / "warm2.db", scheduler=IN_PROCESS)
        seq, par, overhead, share, trial_s = [], [], [], [], []
        for r in range(rounds):
            t_seq, res_seq = timed(SPEC, folder, f"seq{r}", IN_PROCESS)
            t_par, res_par = timed(SPEC, folder, f"par{r}", None)
            assert res_par.table["val_loss"].equals(res_seq.table["val_loss"])  # same numbers
            busy = float(res_par.table["task_seconds"].sum())
            per_trial = (t_par * workers - busy) / SPEC.size
            mean_trial = busy / SPEC.size
            seq.append(SPEC.size / t_seq)
            par.append(SPEC.size / t_par)
            overhead.append(per_trial)
            share.append(per_trial / mean_trial)
            trial_s.append(float(res_seq.table["task_seconds"].mean()))
            print(f"round {r + 1}: sequential {t_seq:.1f} s, cluster {t_par:.1f} s")
    cluster.shutdown()
    speed = statistics.median(p / s for p, s in zip(par, seq))
    print(f"one trial in-process (median round): {statistics.median(trial_s):.2f} s")
    seq_rate, par_rate = statistics.median(seq), statistics.median(par)
    print(f"trials / s sequential: {seq_rate:.2f}, cluster: {par_rate:.2f}")
    print(f"speed-up cluster / sequential: {speed:.2f}x (target >= {TARGET_SPEEDUP}x on 2 cores)")
    print(
        f"Dask + driver overhead per trial: {statistics.median(overhead) * 1e3:.0f} ms of worker "
        f"time = {100 * statistics.median(share):.1f} % of a trial (target <= "
        f"{100 * TARGET_OVERHEAD:.0f} %)"
    )


if __name__ == "__main__":
    main()
