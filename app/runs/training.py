"""The Training page's glue: Settings -> TrainSpec -> ``deeprnn_core.training.loop`` -> History.

The architecture (depth, cells, activations, init, remedies) comes from the shared sidebar
through ``compute.plan``, exactly as the trace pages get theirs; the task fixes d and q. Every
finished run is kept in the server's one byte-bounded cache (``server.CACHE``) keyed by the
frozen TrainSpec, shared by all sessions (read only), so coming back to a setting is instant.
"""

from __future__ import annotations

import importlib
import tracemalloc
from dataclasses import dataclass, replace

import streamlit as st

from app.runs import budget, compute, server
from app.words.i18n import N_
from app.words.i18n import gettext as _
from app.words.training import TASK_NAMES
from deeprnn_core import History, InitSpec, Model, RNNConfig, Task, make_task, train
from deeprnn_core.training.sample import sample_text

EVALS = 15  # validation passes per run (plus one before training): the validation curve
SNAPSHOTS = 20  # (L, T) grids of |H| and |G| on the probe sequence, log-spaced over the run
MIN_WINDOWS = 16  # a real series keeps at least this many training windows when T is capped
OPTIMIZER_KWARGS = {"sgd": {"momentum": 0.9}}  # passed to torch.optim as they are
REAL_SERIES = ("sunspots", "co2")
VALIDATION = 200  # validation sequences of a drawn task, unless the time budget needs fewer
PROMPT, SAMPLED, TEMPERATURE = "to be or not to be", 60, 0.8  # the chars task's sample text


@dataclass(frozen=True)
class TrainSpec:
    """Everything one training run depends on: the cache key."""

    config: RNNConfig  # input_size and output_size are the task's
    init: InitSpec  # how the weights are drawn; its seed is the run's (see ``seed``)
    task: str
    length: int  # the task's T (copy: the delay; its sequences are T + 20 long)
    optimizer: str
    lr: float
    schedule: str
    updates: int
    batch_size: int
    clip_norm: float | None
    dtype: str
    validation: int = VALIDATION  # validation sequences (make_task's n_val; fewer to fit)

    @property
    def seed(self) -> int:
        """The run's one seed: the weights' (``init.seed``), the task's, the minibatch order's
        and the dropout masks'."""
        return self.init.seed

    @property
    def eval_every(self) -> int:
        return max(1, self.updates // EVALS)


@dataclass(frozen=True)
class TrainPlan:
    """What will train for the current settings, and what the user should be told."""

    spec: TrainSpec | None  # None when the settings are rejected
    notices: tuple[str, ...] = ()
    error: str | None = None


@st.cache_resource(max_entries=4, show_spinner=False)
def get_task(name: str, length: int, seed: int, validation: int = VALIDATION) -> Task:
    """deeprnn_core's task with ``validation`` validation sequences (a real series keeps its
    own split), shared by every session: read only."""
    return make_task(name, length, n_val=validation, seed=seed)


def task_of(spec: TrainSpec) -> Task:
    """The task ``spec`` trains on."""
    return get_task(spec.task, spec.length, spec.seed, spec.validation)


def plan(s, alongside: tuple = ()) -> TrainPlan:
    """The TrainSpec of Settings ``s``, fitted into the budgets together with the runs of the
    Settings ``alongside`` (trained in the same click, on the same T, batch and updates)."""
    notices: list[str] = []
    try:
        probe = get_task(s.task, 2, int(s.seed))  # d, q, validation size, the split of a series
    except compute.CORE_ERRORS as err:
        return TrainPlan(None, (), str(err))
    extra = probe.steps - 2  # copy: 20 more steps than its delay T
    length = s.steps
    if s.task in REAL_SERIES:  # training windows = points in the training part - T
        longest = probe.x_train.shape[1] + 2 - MIN_WINDOWS
        if length > longest:
            notices.append(_("The {task} series is short: T = {longest} (of {length}), so "
                             "that at least {windows} training windows remain.").format(
                task=_(TASK_NAMES.get(s.task, s.task)), longest=longest, length=length,
                windows=MIN_WINDOWS))  # fmt: skip
            length = longest
    configs = []
    for settings in (s, *alongside):
        # T = B = 1: the config does not depend on them, and no trace budget notice applies
        arch = compute.plan(replace(settings, input_size=probe.input_size, steps=1, batch=1))
        if arch.error:
            return TrainPlan(None, tuple(notices + list(arch.notices)), arch.error)
        configs.append(replace(arch.spec.config, output_size=probe.output_size))
        if settings is s:
            notices += arch.notices
            spec = arch.spec
    windows = probe.x_train.shape[1] + 2 - length if s.task in REAL_SERIES else None
    batch = min(s.train_batch, windows or s.train_batch)
    if batch < s.train_batch:
        notices.append(_("Batch size {batch} (of {asked}): the {task} series has {windows} "
                         "training windows at T = {length}.").format(
            batch=batch, asked=s.train_batch, task=_(TASK_NAMES.get(s.task, s.task)),
            windows=windows, length=length))  # fmt: skip
    asked_val = probe.x_val.shape[1]
    steps, fit_batch, updates, validation = budget.fit_train(
        tuple(configs), length + extra, batch, s.train_steps, EVALS + 1, asked_val,
        fixed_val=s.task in REAL_SERIES,
    )  # fmt: skip
    lowered = [_("{name} = {now} (of {asked})").format(name=_(name), now=now, asked=asked)
               for name, now, asked in (
        (N_("updates"), updates, s.train_steps), (N_("batch size"), fit_batch, batch),
        ("T", steps - extra, length), (N_("validation sequences"), validation, asked_val))
        if now != asked]  # fmt: skip
    if lowered:
        template = (
            _("To stay within about {seconds} s and {mb} MB per update, these runs use "
              "{lowered}. Lower L, h or T for the full run.") if alongside
            else _("To stay within about {seconds} s and {mb} MB per update, this run uses "
                   "{lowered}. Lower L, h or T for the full run.")
        )  # fmt: skip
        notices.append(
            template.format(
                seconds=f"{budget.TRAIN_SECONDS:g}",
                mb=budget.MAX_TRAIN_BYTES >> 20,
                lowered=_(", ").join(lowered),
            )  # fmt: skip
        )
    return TrainPlan(
        TrainSpec(
            config=configs[0],
            init=spec.init,
            task=s.task,
            length=max(2, steps - extra),
            optimizer=s.optimizer,
            lr=float(s.learning_rate),
            schedule=s.schedule,
            updates=updates,
            batch_size=fit_batch,
            clip_norm=float(s.clip_norm) if s.clip_norm > 0 else None,
            dtype=s.dtype,
            validation=validation,
        ),
        tuple(notices),
    )


def plain(spec: TrainSpec) -> TrainSpec:
    """The same run with one layer (the first layer's cell and activation, no dropout)."""
    c = spec.config
    one = replace(c, num_layers=1, activation=c.activations[0], cell=c.cells[0], dropout=0.0)
    return replace(spec, config=one)


def estimate_seconds(spec: TrainSpec, reference: bool = False) -> float:
    """The budget's estimate of the run's wall time (``reference``: in the fixed units the
    budget compares, budget.py)."""
    task = task_of(spec)
    return budget.train_seconds(
        spec.config, task.steps, spec.batch_size, spec.updates, EVALS + 1, task.x_val.shape[1],
        reference,
    )  # fmt: skip


def _train(spec: TrainSpec, updates: int, callback=None, **kwargs) -> History:
    model = Model.init(spec.config, spec.init)
    importlib.import_module("torch")  # train() steps torch.optim: load it here, first use only
    compute.limit_torch_threads()  # one thread, as for traces
    return train(
        model,
        task_of(spec),
        steps=updates,
        optimizer=spec.optimizer,
        lr=spec.lr,
        optimizer_kwargs=OPTIMIZER_KWARGS.get(spec.optimizer),
        schedule=spec.schedule,
        batch_size=spec.batch_size,
        clip_norm=spec.clip_norm,
        dtype=spec.dtype,
        seed=spec.seed,
        callback=callback,
        **kwargs,
    )


def sample(spec: TrainSpec, history: History, prompt: str) -> str:
    """``SAMPLED`` characters after ``prompt`` from the trained model of ``spec`` (the chars
    task), seeded with the run's seed; kept in the server's cache."""
    key = ("sample", spec, prompt)
    found = server.CACHE.peek(key)
    if found is None:
        found = sample_text(history.model, prompt, SAMPLED, TEMPERATURE, seed=spec.seed)
        server.CACHE.put(key, found)
    return found


def cached(spec: TrainSpec) -> History | None:
    """The finished run of ``spec``, if it was trained before (by any session)."""
    return server.CACHE.peek(("train", spec))


def run(spec: TrainSpec, callback=None) -> History:
    """Train ``spec`` (or return its cached run). ``callback`` gets the core's Progress after
    every update. A run that finished or diverged is cached; one stopped early is not."""
    history = cached(spec)
    if history is None:
        history = _train(
            spec, spec.updates, callback, eval_every=spec.eval_every, snapshots=SNAPSHOTS
        )
        if not history.stopped_early or history.diverged:
            server.CACHE.put(("train", spec), history)
    return history


def peak_bytes(spec: TrainSpec) -> int:
    """Peak memory of numpy allocations while training ``spec`` for two updates with a
    validation pass after each, traced by tracemalloc (torch's own buffers, the optimizer's
    state, are not traced; other sessions' allocations at the same moment would be)."""
    key = ("peak_bytes", spec)
    peak = server.CACHE.peek(key)
    if peak is None:
        tracemalloc.start()
        try:
            _train(spec, 2, eval_every=1, snapshots=1, record=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        server.CACHE.put(key, peak)
    return peak


def trained_on_click(
    specs, labels, button: str, key: str, waiting: str, measure_peak: bool = False
):
    """The runs of ``specs`` behind one button: trained when it is clicked (one progress bar
    over all of them, labelled by ``labels``), or fetched from the cache. Returns the histories,
    or None after saying why there are none yet: ``waiting`` with the estimated time, or the
    core's refusal."""
    ready = all(cached(spec) for spec in specs)
    if st.button(button, key=key, type="primary") and not ready:
        bar = st.progress(0.0, text=_("Training"))
        try:
            for i, (spec, label) in enumerate(zip(specs, labels)):

                def progress(p, i=i, label=label) -> None:
                    if p.step % max(1, p.steps // 50) == 0 or p.step == p.steps:
                        done = (i + p.step / p.steps) / len(specs)
                        bar.progress(done, text=f"{label}: {p.step}")

                run(spec, progress)
                if measure_peak:
                    peak_bytes(spec)
        except compute.CORE_ERRORS as err:
            st.error(_("The core could not train these settings: {error}").format(error=err))
            return None
        bar.empty()
    histories = [cached(spec) for spec in specs]
    if not all(histories):
        seconds = sum(estimate_seconds(spec) for spec in specs)
        st.info(
            _("{waiting} (about {seconds} s estimated).").format(
                waiting=waiting, seconds=f"{seconds:.0f}"
            )
        )
        return None
    return histories
