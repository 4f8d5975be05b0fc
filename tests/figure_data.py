"""Read the numbers back out of a plotly figure, as the browser would receive them."""

from __future__ import annotations

import base64
import json

import numpy as np


def values(v) -> np.ndarray:
    """A figure data field as a float array: numpy, a plotly typed array ({dtype, bdata,
    shape}) or a JSON list (None -> nan)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a.astype(np.float64)
    if v is None:
        return np.array([], dtype=np.float64)
    return np.array(v, dtype=np.float64)


def spec_traces(spec) -> list[dict]:
    """The traces of a figure given as a go.Figure, a plotly JSON string or a dict."""
    if hasattr(spec, "to_json"):
        spec = spec.to_json()
    if isinstance(spec, str):
        spec = json.loads(spec)
    return spec["data"]


def by_name(spec, name: str) -> dict:
    """The one trace named ``name`` (or with meta ``name``)."""
    found = [t for t in spec_traces(spec) if name in (t.get("name"), t.get("meta"))]
    assert len(found) == 1, f"expected one trace named {name!r}, got {len(found)}"
    return found[0]


def names(spec) -> list[str]:
    return [t.get("name") for t in spec_traces(spec)]
