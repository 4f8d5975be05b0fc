"""torch.optim optimizers and torch.optim.lr_scheduler schedules by name (nothing hand-written).

Schedule defaults (any of them overridden by ``schedule_kwargs``, passed to torch as they are):

=============  ====================================================================
constant       no scheduler: the learning rate stays ``lr``
step           StepLR(step_size=max(1, steps // 3), gamma=0.1)
exponential    ExponentialLR(gamma=0.01 ** (1 / steps)): lr / 100 after ``steps``
cosine         CosineAnnealingLR(T_max=steps)
onecycle       OneCycleLR(max_lr=lr, total_steps=steps)
warmup         LinearLR(start_factor=0.1, end_factor=1.0, total_iters=max(1, steps // 10))
plateau        ReduceLROnPlateau(), stepped with the training loss of each update
=============  ====================================================================
"""

from __future__ import annotations

# name -> torch.optim class name; torch is imported when an optimizer is made, not with the
# package (it is ~190 MB of memory that pages which never train need not hold)
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}
SCHEDULES = ("constant", "step", "exponential", "cosine", "onecycle", "warmup", "plateau")


def make_optimizer(name: str, params: list, lr: float, kwargs: dict | None):
    """torch.optim.<name>(params, lr=lr, **kwargs); ``name`` in lower case (OPTIMIZERS)."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {tuple(OPTIMIZERS)}, got {name!r}")
    kwargs = _kwargs("optimizer_kwargs", kwargs)
    import torch  # lazily, as train() does: importing the package must not load torch

    try:
        return getattr(torch.optim, OPTIMIZERS[name])(params, lr=lr, **kwargs)
    except (TypeError, ValueError) as err:
        raise type(err)(f"optimizer_kwargs {kwargs} rejected by torch.optim: {err}") from None


def schedule_defaults(name: str, steps: int, lr: float) -> dict:
    """The keyword arguments ``make_scheduler`` gives schedule ``name`` unless overridden."""
    return {
        "constant": {},
        "step": {"step_size": max(1, steps // 3), "gamma": 0.1},
        "exponential": {"gamma": 0.01 ** (1.0 / steps)},
        "cosine": {"T_max": steps},
        "onecycle": {"max_lr": lr, "total_steps": steps},
        "warmup": {"start_factor": 0.1, "end_factor": 1.0, "total_iters": max(1, steps // 10)},
        "plateau": {},
    }[name]


def make_scheduler(name: str, optimizer, steps: int, lr: float, kwargs: dict | None):
    """The torch scheduler of schedule ``name`` (SCHEDULES), or None for "constant"."""
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {name!r}")
    kwargs = {**schedule_defaults(name, steps, lr), **_kwargs("schedule_kwargs", kwargs)}
    import torch  # lazily, as train() does: importing the package must not load torch

    sched = torch.optim.lr_scheduler
    kinds = {
        "step": sched.StepLR,
        "exponential": sched.ExponentialLR,
        "cosine": sched.CosineAnnealingLR,
        "onecycle": sched.OneCycleLR,
        "warmup": sched.LinearLR,
        "plateau": sched.ReduceLROnPlateau,
    }
    if name == "constant":
        if kwargs:
            raise ValueError(f"schedule_kwargs must be empty for schedule 'constant', got {kwargs}")
        return None
    try:
        return kinds[name](optimizer, **kwargs)
    except (TypeError, ValueError) as err:
        raise type(err)(f"schedule_kwargs {kwargs} rejected by torch's {name}: {err}") from None


def _kwargs(name: str, value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict or None, got {type(value).__name__}")
    return dict(value)
