"""Sentences under the eigenvalue figure, read off analysis.recurrence_eigen's numbers."""

from __future__ import annotations

import numpy as np

from deeprnn_core.analysis.measures import clear_change
from deeprnn_core.theory import memory


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


def memory_sentences(curves: list[tuple], names: dict) -> list[str]:
    """Per variant, how the measured E[(dh/dp)^2] moved from the shortest to the longest memory
    measured (direction by measures.clear_change), and how far it sits from its closed form."""
    lines = []
    for closed, measured in curves:
        name = names[(closed.normalization, closed.parametrization)]
        lo, hi = float(measured.sensitivity[0]), float(measured.sensitivity[-1])
        move = clear_change(lo, hi)
        word = {1: "grows", -1: "falls", 0: "shows no clear change"}[move]
        factor = f" (x {hi / lo:.3g})" if move and lo > 0 else ""
        want = memory.closed_form(measured.lam, closed.normalization, closed.parametrization)
        worst = float(np.max(np.abs(measured.sensitivity / want.sensitivity - 1.0)))
        lines.append(f"{name}: from λ = {measured.lam[0]:g} to λ = {measured.lam[-1]:g} the "
                     f"measured E[(∂h/∂p)²] {word}, {lo:.3g} → {hi:.3g}{factor}; at most "
                     f"{100 * worst:.1f} % from the closed form at the {measured.lam.size} "
                     "memories measured.")  # fmt: skip
    return lines
