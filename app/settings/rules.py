"""The settings' rules: what a Settings value means for the core before anything runs (the
per-layer lists parsed, the core's applicability rules asked). Pure: no Streamlit, no run; the
sidebar greys out controls with them, and runs.compute plans the trace with them."""

from __future__ import annotations

from app.settings.controls import PER_LAYER, quote
from app.words.i18n import gettext as _
from app.words.i18n import ngettext
from deeprnn_core.config import CELLS, Applicability, activation_applies, applicability


def per_layer(text: str, allowed: tuple[str, ...], layers: int, name: str):
    """A per-layer tuple from a comma list, and notices for what had to be fixed."""
    names = [v.strip().lower() for v in text.split(",") if v.strip()]
    notices = []
    bad = [v for v in names if v not in allowed]
    if bad or not names:
        shown = ", ".join(quote(b, 12) for b in bad[:3]) + (" …" if len(bad) > 3 else "")
        template = (
            _("{name} list {text}: {bad} is not one of {allowed}; using {first} there.")
            if bad
            else _("{name} list {text} is empty; using {first}.")
        )
        notices.append(
            template.format(
                name=name,
                text=quote(text),
                bad=shown,
                allowed=", ".join(allowed),
                first=repr(allowed[0]),
            )  # fmt: skip
        )
        names = [v if v in allowed else allowed[0] for v in names] or [allowed[0]]
    if len(names) != layers:
        template = (
            ngettext(
                "{name} list has {n} entry for L = {L}: repeating the last.",
                "{name} list has {n} entries for L = {L}: repeating the last.",
                len(names),
            )
            if len(names) < layers
            else ngettext(
                "{name} list has {n} entry for L = {L}: dropping the extra.",
                "{name} list has {n} entries for L = {L}: dropping the extra.",
                len(names),
            )
        )
        notices.append(template.format(name=name, n=len(names), L=layers))
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
