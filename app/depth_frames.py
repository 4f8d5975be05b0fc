"""The depth scrub of the Information flow page: the core's grids of every depth 1..L, cached.

Every grid comes from ``deeprnn_core.scrub.depth_scrub`` on the same model, input and loss as
the page's trace, so the frame of depth L is the page's own grid.
"""

from __future__ import annotations

import streamlit as st

from app import budget, compute
from deeprnn_core.scrub import DepthScrub, depth_scrub

SCRUB_SECONDS = 4.0  # one scrub, computed once per setting then cached


def scrub_seconds(spec: compute.TraceSpec) -> float:
    """Estimated wall time: one forward, and the backward of every depth (L(L+1)/2 layers)."""
    L = spec.config.num_layers
    return budget.trace_seconds(spec.config, spec.steps, spec.batch) * (L + 2) / 2


@st.cache_data(max_entries=4, show_spinner="Running the backward pass of every depth 1..L…")
def grids(spec: compute.TraceSpec) -> DepthScrub:
    """The depth scrub of ``spec``'s model and input (its dropout masks too)."""
    model, tr = compute.get_trace(spec)
    return depth_scrub(
        model, tr.input, spec.loss, dtype=spec.dtype, training=spec.training, dropout_seed=spec.seed
    )
