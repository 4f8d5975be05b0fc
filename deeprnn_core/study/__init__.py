"""Studies of many training runs (issue 20): a map of cells x depths x learning rates x seeds on
one task, sampled and pruned by Optuna, trained on a Dask cluster, kept in Optuna's database.

``StudySpec`` says what to run, ``run`` runs (or resumes) it and returns a ``StudyResult`` whose
``table`` has one row per finished trial, ``trial`` is the one ``train`` call a worker makes,
``load`` reads a study back without training, and ``measures`` turns a table into the window of
good learning rates, the seed spread and the plain-vs-deep verdict.
"""

from deeprnn_core.study.cluster import SCHEDULER_ENV, client, scheduler_address, shutdown
from deeprnn_core.study.runner import IN_PROCESS, StudyProgress, StudyResult, load, run
from deeprnn_core.study.spec import PRUNERS, SAMPLERS, StudySpec, log_lrs
from deeprnn_core.study.storage import STORAGE_ENV, default_url, storage_url
from deeprnn_core.study.trial import execute, summarize, trial

__all__ = [
    "IN_PROCESS",
    "PRUNERS",
    "SAMPLERS",
    "SCHEDULER_ENV",
    "STORAGE_ENV",
    "StudyProgress",
    "StudyResult",
    "StudySpec",
    "client",
    "default_url",
    "execute",
    "load",
    "log_lrs",
    "run",
    "scheduler_address",
    "shutdown",
    "storage_url",
    "summarize",
    "trial",
]
