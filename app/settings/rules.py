"""The settings' rules: what a Settings value means for the core before anything runs (the
per-layer lists parsed, the core's applicability rules asked). Pure: no Streamlit, no run; the
sidebar greys out controls with them, and runs.compute plans the trace with them."""

from __future__ import annotations

from app.settings.controls import PER_LAYER, quote
from deeprnn_core.config import CELLS, Applicability, activation_applies, applicability


def per_layer(text: str, allowed: tuple[str, ...], layers: int, name: str):
    """A per-layer tuple from a comma list, and notices for what had to be fixed."""
    names = [v.strip().lower() for v in text.split(",") if v.strip()]
    notices = []
    bad = [v for v in names if v not in allowed]
    if bad or not names:
        notices.append(
            f"{name} list {quote(text)}: {', '.join(quote(b, 12) for b in bad[:3]) or 'empty'}"
            f"{' …' if len(bad) > 3 else ''} is not one of "
            f"{', '.join(allowed)}; using {allowed[0]!r} there."
        )
        names = [v if v in allowed else allowed[0] for v in names] or [allowed[0]]
    if len(names) != layers:
        how = "repeating the last" if len(names) < layers else "dropping the extra"
        notices.append(f"{name} list has {len(names)} entries for L = {layers}: {how}.")
        names = (names + names[-1:] * layers)[:layers]
    return tuple(names), notices


def cells_of(s) -> str | tuple[str, ...]:
    """The cell type of Settings ``s``, or its per-layer tuple parsed from the list."""
    return s.cell if s.cell != PER_LAYER else per_layer(s.cell_layers, CELLS, s.num_layers, "")[0]


def activation_acts(s) -> bool:
    """Whether the Activation control changes anything: some layer is a cell φ acts in (the
    core's rule, config.activation_applies)."""
    cells = cells_of(s)
    return any(activation_applies(c) for c in ((cells,) if isinstance(cells, str) else cells))


def remedy_rules(s, cell=None, **asked) -> list[Applicability]:
    """The core's applicability rules for Settings ``s`` (``cell``: its cells, parsed from
    the per-layer list when not given; ``asked`` overrides residual / layer_norm / dropout,
    e.g. layer_norm=True to ask whether layer norm would act)."""
    if cell is None:
        cell = cells_of(s)
    remedies = dict(residual=s.residual, layer_norm=s.layer_norm, dropout=float(s.dropout))
    return applicability(cell, s.num_layers, s.input_size, s.hidden_size, **(remedies | asked))
