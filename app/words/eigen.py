"""Sentences under the eigenvalue figure, read off analysis.recurrence_eigen's numbers."""

from __future__ import annotations

import numpy as np


def eigen_sentences(layers: list, cells: tuple[str, ...]) -> list[str]:
    """One line per layer: the largest |eigenvalue| (a fixed recurrence) or the gate's median
    and 5-95 % range over the trace, and the factor that leaves after 10 steps back; and which
    layers have none drawn (a GRU's Jacobian is neither fixed nor diagonal)."""
    lines = []
    for e in layers:
        if e.fixed:
            mod = np.abs(np.asarray(e.values))
            big = float(mod.max())
            line = (f"l = {e.layer} ({e.cell}): |{e.label.split(' ')[0]}| from {mod.min():.3f} "
                    f"to {big:.3f}; the slowest mode keeps {big**10:.3g} of itself after 10 "
                    "steps back")  # fmt: skip
            if np.isfinite(e.bound):
                side = "inside" if big < e.bound else "on or outside"
                line += f"; the largest lies {side} Pascanu's radius 1/γ = {e.bound:g}"
        else:
            q05, _, q50, _, q95 = e.values
            line = (f"l = {e.layer} ({e.cell}): {e.label} has median {q50:.3f} over the trace "
                    f"(5-95 %: {q05:.3f}-{q95:.3f}); a unit at the median keeps {q50**10:.3g} "
                    "of its gradient after 10 steps back")  # fmt: skip
        lines.append(line + ".")
    drawn = {e.layer for e in layers}
    rest = [f"l = {k + 1} ({c})" for k, c in enumerate(cells) if k + 1 not in drawn]
    if rest:
        lines.append(f"Not drawn: {', '.join(rest)}: its step Jacobian through time is neither a "
                     "fixed matrix nor a diagonal (a GRU's mixes the units through W_hh and its "
                     "gates).")  # fmt: skip
    return lines
