"""What a redraw of Plain vs deep (or the Tuning map) spends reading its study: the database read
that ``app.runs.studies.stored`` made on every redraw before (``studies.read``: open the Optuna
study, read its trials, build the table) against ``stored`` now (kept: a complete study is not
read again), side by side in one run, interleaved, medians. Also the read of a study never run
(the page before its click), which ``stored`` keeps for ``STORED_SECONDS``.

The study has the shape of Plain vs deep's at the app's defaults (L = 1 and L, 3 learning rates,
its seeds, 10 evaluations), with 5 updates per trial so that it is written in seconds (the
stored record does not depend on the updates' count beyond the gradient-norm samples), in a
SQLite file in a temporary folder.

    PYTHONPATH=. python bench/study_stored.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from app.runs import studies, training
from app.settings import controls
from deeprnn_core.study import IN_PROCESS, run

REPEATS = 40


def page_spec():
    """The study Plain vs deep runs at the app's defaults."""
    settings = controls.Settings(**{c.key: c.default for c in controls.CONTROLS})
    spec, _ = studies.fit_plain_deep(training.plan(settings).spec, os.cpu_count() or 1)
    return spec


def median_seconds(call, spec) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        call(spec)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    spec = page_spec()
    quick = replace(spec, steps=5)
    with tempfile.TemporaryDirectory() as folder:
        studies.STORAGE = str(Path(folder) / "studies.db")
        result = run(quick, storage=studies.STORAGE, scheduler=IN_PROCESS)
        never = replace(quick, steps=6)
        print(
            f"\n== stored(): a Plain vs deep redraw's read of its study ({quick.size} trials, "
            f"depths {quick.depths}, {len(quick.seeds)} seeds; median of {REPEATS}) =="
        )
        for name, s in (("complete study", quick), ("study never run", never)):
            studies.stored(s)  # the first read, which both pay
            before, after = [], []
            for _ in range(3):  # interleaved rounds
                before.append(median_seconds(studies.read, s))
                after.append(median_seconds(studies.stored, s))
            b, a = statistics.median(before), statistics.median(after)
            print(f"  {name}: read every redraw {b * 1e3:.2f} ms, stored() {a * 1e3:.4f} ms: "
                  f"{b / a:.0f}x less per redraw")  # fmt: skip
        assert len(result.table) == quick.size


if __name__ == "__main__":
    main()
