"""A Dask worker for studies: ``python -m deeprnn_core.study.worker <scheduler> [dask worker
options]`` is ``dask worker`` with the nanny's MALLOC_TRIM_THRESHOLD_ unset.

The nanny's default environment sets MALLOC_TRIM_THRESHOLD_=65536, which makes glibc return
every large free to the OS at once: the engine's per-step arrays are then mapped and faulted
afresh, and a trial ran 4-5x slower than in-process (measured 2026-12-07). The one-thread pins
of OpenMP / MKL / OpenBLAS stay. (An environment variable cannot unset it: dask lower-cases the
key it reads from the environment.)
"""

from __future__ import annotations

import dask
from distributed.cli import dask_worker

UNSET_TRIM = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def main() -> None:
    """``dask worker``'s command line, with ``UNSET_TRIM`` in force."""
    with dask.config.set(UNSET_TRIM):
        dask_worker.main()


if __name__ == "__main__":
    main()
