"""Sentences under the eigenvalue figure, read off analysis.recurrence_eigen's numbers."""

from __future__ import annotations

import numpy as np

from app.words.i18n import gettext as _
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
            line = _(
                "l = {layer} ({cell}): |{label}| from {low} to {high}; the slowest mode keeps "
                "{kept} of itself after 10 steps back"
            ).format(layer=e.layer, cell=e.cell, label=e.label.split(" ")[0],
                     low=f"{mod.min():.3f}", high=f"{big:.3f}", kept=f"{big**10:.3g}")  # fmt: skip
            if np.isfinite(e.bound):
                line += (
                    _("; the largest lies inside Pascanu's radius 1/γ = {bound}")
                    if big < e.bound
                    else _("; the largest lies on or outside Pascanu's radius 1/γ = {bound}")
                ).format(bound=f"{e.bound:g}")
        else:
            q05, _q25, q50, _q75, q95 = e.values
            line = _(
                "l = {layer} ({cell}): {label} has median {median} over the trace (5-95 %: "
                "{low}-{high}); a unit at the median keeps {kept} of its gradient after 10 "
                "steps back"
            ).format(layer=e.layer, cell=e.cell, label=e.label, median=f"{q50:.3f}",
                     low=f"{q05:.3f}", high=f"{q95:.3f}", kept=f"{q50**10:.3g}")  # fmt: skip
        lines.append(line + _("."))
    drawn = {e.layer for e in layers}
    rest = [f"l = {k + 1} ({c})" for k, c in enumerate(cells) if k + 1 not in drawn]
    if rest:
        lines.append(
            _(
                "Not drawn: {layers}: its step Jacobian through time is neither a fixed matrix "
                "nor a diagonal (a GRU's mixes the units through W_hh and its gates)."
            ).format(layers=", ".join(rest))
        )
    return lines


def memory_sentences(curves: list[tuple], names: dict) -> list[str]:
    """Per variant, how the measured E[(dh/dp)^2] moved from the shortest to the longest memory
    measured (direction by measures.clear_change), and how far it sits from its closed form."""
    lines = []
    for closed, measured in curves:
        name = _(names[(closed.normalization, closed.parametrization)])
        lo, hi = float(measured.sensitivity[0]), float(measured.sensitivity[-1])
        move = clear_change(lo, hi)
        template = {
            1: _(
                "{name}: from λ = {first} to λ = {last} the measured E[(∂h/∂p)²] grows, {lo} → "
                "{hi}{factor}; at most {worst} % from the closed form at the {n} memories "
                "measured."
            ),
            -1: _(
                "{name}: from λ = {first} to λ = {last} the measured E[(∂h/∂p)²] falls, {lo} → "
                "{hi}{factor}; at most {worst} % from the closed form at the {n} memories "
                "measured."
            ),
            0: _(
                "{name}: from λ = {first} to λ = {last} the measured E[(∂h/∂p)²] shows no clear "
                "change, {lo} → {hi}{factor}; at most {worst} % from the closed form at the {n} "
                "memories measured."
            ),
        }[move]
        factor = f" (x {hi / lo:.3g})" if move and lo > 0 else ""
        want = memory.closed_form(measured.lam, closed.normalization, closed.parametrization)
        worst = float(np.max(np.abs(measured.sensitivity / want.sensitivity - 1.0)))
        lines.append(
            template.format(
                name=name,
                first=f"{measured.lam[0]:g}",
                last=f"{measured.lam[-1]:g}",
                lo=f"{lo:.3g}",
                hi=f"{hi:.3g}",
                factor=factor,
                worst=f"{100 * worst:.1f}",
                n=measured.lam.size,
            )  # fmt: skip
        )
    return lines
