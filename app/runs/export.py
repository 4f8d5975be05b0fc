"""Downloads of the current run, built when clicked from the run's spec (a few hundred bytes):
the whole Trace as NPZ, the norms only as NPZ, the per-(t, l) norms as CSV."""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np

from app.runs import compute
from deeprnn_core import Trace

CSV_ROW_BYTES = 60  # "t,l,|H|,|G|,0,0" with two full-precision floats
_SAMPLE = 1 << 16  # bytes of an array tried before deflating all of it


def megabytes(size: int) -> str:
    """A byte count for a button label."""
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


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
    for name in ("loss", "param_grad_norm", "param_grad_norm_clipped"):
        arrays[name] = np.array(getattr(tr, name))
    return arrays


def _compresses(data: bytes) -> bool:
    """Deflate pays when a sample of the array shrinks below half (nan-filled gates, masks,
    exact zeros); float64 noise shrinks ~10 % at ~20 MB/s, so it is stored as is."""
    sample = data[:_SAMPLE]
    return len(zlib.compress(sample, 1)) < len(sample) // 2


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An NPZ file (numpy.load reads it) of ``arrays``, each deflated if that pays."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            data = member.getvalue()
            how = zipfile.ZIP_DEFLATED if _compresses(data) else zipfile.ZIP_STORED
            archive.writestr(f"{name}.npy", data, compress_type=how, compresslevel=1)
    return buffer.getvalue()


def trace_npz(spec: compute.TraceSpec, settings_query: str) -> bytes:
    """The NPZ of ``trace_arrays`` of ``spec``'s trace; ``settings`` holds the URL query that
    reproduces it."""
    _, tr = compute.get_trace(spec)
    return npz_bytes({"settings": np.array(settings_query), **trace_arrays(tr)})


def norm_arrays(spec: compute.TraceSpec) -> dict[str, np.ndarray]:
    """The summary's arrays, as the figures draw them."""
    s = compute.summarize(spec)
    arrays = {
        name: getattr(s, name)
        for name in ("hidden_norm", "grad_hidden_norm", "nonfinite_hidden", "nonfinite_grad")
        + ("input_norm", "output_norm", "autocorrelation", "timescale")
    }
    arrays.update({f"param_grad_norm/{k}": v for k, v in s.param_grad_norms.items()})
    for name in ("loss", "attenuation", "param_grad_norm", "param_grad_norm_clipped"):
        arrays[name] = np.array(getattr(s, name))
    return arrays


def norms_bytes(spec: compute.TraceSpec) -> int:
    """About the size of ``norms_npz`` (from the shapes, before it is built)."""
    L, T = spec.config.num_layers, spec.steps
    return L * T * 18 + 2 * T * 8 + 4 * L * 8 + 2000


def csv_bytes(spec: compute.TraceSpec) -> int:
    """About the size of ``norms_csv``."""
    return spec.config.num_layers * spec.steps * CSV_ROW_BYTES


def norms_npz(spec: compute.TraceSpec, settings_query: str) -> bytes:
    """The NPZ of ``norm_arrays``, with the URL query that reproduces them."""
    return npz_bytes({"settings": np.array(settings_query), **norm_arrays(spec)})


def norms_csv(spec: compute.TraceSpec) -> str:
    """``norms_table`` of ``spec``'s summary."""
    s = compute.summarize(spec)
    return norms_table(s.hidden_norm, s.grad_hidden_norm, s.nonfinite_hidden, s.nonfinite_grad)


def norms_table(hidden_norm, grad_hidden_norm, nonfinite_hidden, nonfinite_grad) -> str:
    """CSV with one row per cell: t, l, |H_t^(l)|, |G_t^(l)| (full precision) and the flags."""
    L, T = hidden_norm.shape
    lines = ["t,l,hidden_norm,grad_hidden_norm,hidden_nonfinite,grad_nonfinite"]
    for l in range(L):
        for t in range(T):
            lines.append(
                f"{t + 1},{l + 1},{float(hidden_norm[l, t])!r},{float(grad_hidden_norm[l, t])!r},"
                f"{int(nonfinite_hidden[l, t])},{int(nonfinite_grad[l, t])}"
            )
    return "\n".join(lines) + "\n"
