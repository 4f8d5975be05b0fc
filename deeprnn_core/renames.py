"""Keywords the public API renamed: a notebook written against the earlier name keeps working,
with a DeprecationWarning that names the new one, until the old name is removed.

    trace(..., loss=...)  ->  trace(..., loss_kind=...)   (issue 10; still accepted, issue 16)
    train(..., loss=...)  ->  train(..., loss_kind=...)
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def renamed_keywords(**new_names: str) -> Callable[[F], F]:
    """Decorator: accept each old keyword of ``new_names`` (old=new) as the new one, with a
    DeprecationWarning; giving both (by keyword, or the new one by position) is a TypeError, as
    Python's own "got multiple values for argument". The signature shown (``inspect.signature``,
    help) is the function's own: the old names are not parameters."""

    def wrap(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in new_names.items():
                if old not in kwargs:
                    continue
                if new in kwargs or new in signature.bind_partial(*args).arguments:
                    raise TypeError(
                        f"{func.__name__}() got both {old}= and {new}=: {old}= is the old name "
                        f"of {new}=; pass {new}= only"
                    )
                warnings.warn(
                    f"{func.__name__}(..., {old}=...) is deprecated: use {new}=... (the same "
                    f"values); {old}= will be removed",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return wrap
