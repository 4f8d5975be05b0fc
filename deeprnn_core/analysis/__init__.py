"""What is measured on traces: summaries, the named measures, Jacobian spectra, the depth scrub.

``from deeprnn_core.analysis import attenuation, depth_sweep, ...`` reads the summaries; the
other rooms are modules of their own (``analysis.measures``, ``analysis.spectra``,
``analysis.scrub``)."""

from deeprnn_core.analysis.summaries import (
    DepthSweep,
    attenuation,
    cell_norms,
    depth_sweep,
    flops_per_step,
    gate_saturation,
    grad_hidden_norm_ratio,
    layer_timescales,
    param_grad_norms,
    path_ends,
    time_trace,
)

__all__ = [
    "DepthSweep",
    "attenuation",
    "cell_norms",
    "depth_sweep",
    "flops_per_step",
    "gate_saturation",
    "grad_hidden_norm_ratio",
    "layer_timescales",
    "param_grad_norms",
    "path_ends",
    "time_trace",
]
