"""Where the eigenvalues that govern the gradient through time are, per layer (issue 19).

Each cell type says it through its ``Cell.eigen`` hook: a plain rnn layer the eigenvalues of
W_hh (next to Pascanu's 1 / gamma, the radius below which the gradient must vanish), an LRU
layer its lambda (dx_t/dx_{t-1} = diag(lambda): through k steps unit j passes lambda_j^k), and the
cells whose step Jacobian through time is a diagonal that changes with t the distribution of that
diagonal over the trace: 1 - z_t (minGRU), f'_t (minLSTM), the forget gate f_t on the LSTM's cell
path. A GRU's Jacobian through time is neither fixed nor diagonal: no entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.analysis.spectra import pascanu_gamma
from deeprnn_core.cells import cell_type
from deeprnn_core.engine.reference import layer_params
from deeprnn_core.trace import Trace
from deeprnn_core.weights.model import Model

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class LayerEigen:
    """One layer's factor through time."""

    layer: int  # 1-based
    cell: str
    label: str  # what the values are, e.g. "eig(W_hh)", "1 - z_t (dH_t/dH_{t-1})"
    fixed: bool  # True: eigenvalues of a fixed matrix (complex); False: a gate over the trace
    values: np.ndarray  # fixed: (h,) complex; else the QUANTILES of the gate over (t, b, unit)
    bound: float  # Pascanu's 1 / gamma (plain rnn layers without layer norm), else nan


def recurrence_eigen(model: Model, tr: Trace) -> list[LayerEigen]:
    """Per layer with a ``Cell.eigen`` hook, its eigenvalues or gate distribution (float64)."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    if not isinstance(tr, Trace) or tr.config != model.config:
        raise ValueError("tr must be a deeprnn_core.Trace of model")
    gamma = pascanu_gamma(model.config)
    out = []
    for k, cell in enumerate(model.config.cells):
        kind = cell_type(cell)
        if kind.eigen is None:
            continue
        gates = {g: tr.gates[g][k].astype(np.float64) for g in kind.gate_names()}
        label, values = kind.eigen(layer_params(model.params, k), gates)
        fixed = np.iscomplexobj(values) or values.ndim == 1
        if not fixed:
            finite = values[np.isfinite(values)]
            values = np.quantile(finite, QUANTILES) if finite.size else np.full(5, np.nan)
        out.append(LayerEigen(k + 1, cell, label, fixed, np.asarray(values), 1.0 / gamma[k]))
    return out
