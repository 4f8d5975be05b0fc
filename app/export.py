"""Downloads of the current run: the whole Trace as NPZ, the per-(t, l) norms as CSV."""

from __future__ import annotations

import io

import numpy as np

from deeprnn_core import Trace


def trace_arrays(tr: Trace) -> dict[str, np.ndarray]:
    """Every array of a Trace under a flat name (gates as gate_<name>, parameter gradients as
    param_grads/<torch name>), plus the scalars as 0-d arrays."""
    arrays = {
        name: getattr(tr, name)
        for name in ("input", "target", "hidden", "preact", "output", "grad_output")
        + ("grad_hidden", "grad_preact", "cell_state", "grad_cell_state", "dropout_masks")
        if getattr(tr, name) is not None
    }
    arrays["nonfinite_hidden"] = tr.nonfinite_hidden
    arrays["nonfinite_grad"] = tr.nonfinite_grad
    arrays.update({f"gate_{name}": value for name, value in tr.gates.items()})
    arrays.update({f"param_grads/{name}": value for name, value in tr.param_grads.items()})
    for name in ("loss", "grad_norm", "grad_norm_clipped"):
        arrays[name] = np.array(getattr(tr, name))
    return arrays


def trace_npz(tr: Trace, settings_query: str) -> bytes:
    """The NPZ file of ``trace_arrays``; ``settings`` holds the URL query that reproduces it."""
    buffer = io.BytesIO()
    np.savez(buffer, settings=np.array(settings_query), **trace_arrays(tr))
    return buffer.getvalue()


def norms_csv(hidden_norm: np.ndarray, grad_norm: np.ndarray, nonfinite_hidden, nonfinite_grad):
    """CSV with one row per cell: t, l, |H_t^(l)|, |G_t^(l)| (full precision) and the flags."""
    L, T = hidden_norm.shape
    lines = ["t,l,hidden_norm,grad_norm,hidden_nonfinite,grad_nonfinite"]
    for l in range(L):
        for t in range(T):
            lines.append(
                f"{t + 1},{l + 1},{float(hidden_norm[l, t])!r},{float(grad_norm[l, t])!r},"
                f"{int(nonfinite_hidden[l, t])},{int(nonfinite_grad[l, t])}"
            )
    return "\n".join(lines) + "\n"
