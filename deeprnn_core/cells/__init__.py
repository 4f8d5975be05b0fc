"""Cell types: one module each (``rnn``, ``gru``, ``lstm``, ``mingru``, ``minlstm``, ``lru``)
with its forward step and exact backward side by side, its reference step, the rows of its
step Jacobians, its parameter layout and its cost constants, all in one ``Cell``.

The registry below is the one place that names them: ``RNNConfig`` validates against it, and the
engine, the cost model, the spectra, the weights (init, Model, from_torch / to_torch, files) and
the app's controls read it. Adding a cell type is one new module and one line in ``_BUILT_IN``
(or ``register`` at run time); an unknown name is a ValueError, never another cell's code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from deeprnn_core.cells import gru, lru, lstm, mingru, minlstm, rnn
from deeprnn_core.cells.base import Cell, CellCost, LayerGrads, LayerRecord, LayerWeights

_BUILT_IN = (rnn.CELL, gru.CELL, lstm.CELL, mingru.CELL, minlstm.CELL, lru.CELL)
REGISTRY: dict[str, Cell] = {cell.name: cell for cell in _BUILT_IN}


class CellNames(Sequence):
    """The registered cell names as a tuple reads them, live: a cell registered later is in it."""

    def __getitem__(self, index):
        return tuple(REGISTRY)[index]

    def __len__(self) -> int:
        return len(REGISTRY)

    def __repr__(self) -> str:
        return repr(tuple(REGISTRY))

    def __eq__(self, other) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    __hash__ = None


CELL_NAMES = CellNames()


def names() -> tuple[str, ...]:
    """Every registered cell type, in registration order."""
    return tuple(REGISTRY)


def cell_type(name: str) -> Cell:
    """The registered ``Cell`` called ``name``; ValueError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"cell must be one of {names()}, got {name!r}") from None


def register(cell: Cell) -> Cell:
    """Add a cell type (a ``Cell``) under its name; a name already taken is a ValueError."""
    if not isinstance(cell, Cell):
        raise TypeError(f"cell must be a deeprnn_core.cells.Cell, got {type(cell).__name__}")
    if cell.name in REGISTRY:
        raise ValueError(f"cell name {cell.name!r} is taken; registered: {names()}")
    REGISTRY[cell.name] = cell
    return cell


def path_gradient(cell: str, grads: Mapping, path: str, suffix: str = "", lead: int = 0):
    """One layer's gradient on a path, as the figures read "dLoss/dW_xh" (``path`` "depth") and
    "dLoss/dW_hh" ("time"): the gradients of the cell's ``depth_params`` / ``time_params``
    (named ``name + suffix`` in ``grads``), a single matrix as it is, several flattened into one
    (*lead, n, 1) array; one nan where no parameter of the cell is on the path (minGRU and
    minLSTM: no parameter is their recurrence's own). ``lead``: leading axes kept (S)."""
    kind = cell_type(cell)
    names = kind.depth_params if path == "depth" else kind.time_params
    parts = [np.asarray(grads[name + suffix]) for name in names]
    if not parts:
        shape = np.shape(grads["weight_ih" + suffix])[:lead]
        return np.full(shape + (1, 1), np.nan)
    if len(parts) == 1 and parts[0].ndim == lead + 2:
        return parts[0]
    return np.concatenate([p.reshape(p.shape[:lead] + (-1,)) for p in parts], -1)[..., None]


__all__ = [
    "REGISTRY",
    "Cell",
    "CELL_NAMES",
    "CellCost",
    "CellNames",
    "LayerGrads",
    "LayerRecord",
    "LayerWeights",
    "cell_type",
    "names",
    "path_gradient",
    "register",
]
