"""The A/B page's logic: B is the sidebar's settings, A is B with a few fields replaced.

The overrides are controls of the one table (controls.AB_FIELDS: typed, in the URL); a preset is one
click that sets A's overrides and clears B's (B's can still be set by hand). Both sides run
on the same seed and input, with the same (T, B): their traces share the budgets of one rerun
(budget.fit_trace).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.runs import compute
from app.settings import state
from app.settings.controls import AB_FIELDS, PER_LAYER, SAME
from app.words.i18n import N_
from app.words.i18n import gettext as _
from deeprnn_core.cells import cell_type

SIDES = ("a", "b")
FIELDS = tuple(field for field, *_ in AB_FIELDS)
# name -> (overrides of A, overrides of B): B stays the sidebar's settings, A changes the
# preset's fields only (a per-layer mix or relu in the sidebar stays on both sides).
PRESETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "LSTM": ({"cell": "lstm"}, {}),
    "GRU": ({"cell": "gru"}, {}),
    "minGRU": ({"cell": "mingru"}, {}),
    "LRU": ({"cell": "lru"}, {}),
    N_("residual on"): ({"residual": True}, {}),
    N_("layer norm on"): ({"layer_norm": True}, {}),
    N_("orthogonal init"): ({"scheme": "orthogonal"}, {}),
    N_("clipping at 0.1"): ({"clip_norm": 0.1}, {}),
    N_("dropout 0.5"): ({"dropout": 0.5}, {}),
}


def key(side: str, field: str) -> str:
    """The control key of one side's override of ``field``."""
    return f"{side}_{field}"


def overrides(settings, side: str) -> dict[str, Any]:
    """The fields that ``side`` replaces, and their values (typed as the sidebar's fields)."""
    chosen = {field: getattr(settings, key(side, field)) for field in FIELDS}
    return {field: value for field, value in chosen.items() if value != SAME}


def active_preset(settings) -> str | None:
    """The preset whose overrides are exactly the current ones, if any."""
    now = (overrides(settings, "a"), overrides(settings, "b"))
    return next((name for name, sides in PRESETS.items() if sides == now), None)


def apply_preset(name: str) -> None:
    """Button callback: set every override of both sides to the preset's."""
    for side, chosen in zip(SIDES, PRESETS[name]):
        for field in FIELDS:
            state.put(key(side, field), chosen.get(field, SAME))


def side_settings(settings, side: str):
    """The Settings that ``side`` runs: the sidebar's, with its overrides applied."""
    changes = overrides(settings, side)
    if "dropout" in changes:
        changes["dropout_mode"] = "train"  # eval mode would switch it off again
    return replace(settings, **changes)


def cell_name(settings) -> str:
    """The cells ``settings`` run, e.g. "LSTM", "tanh RNN", "per-layer cells"."""
    if settings.cell == PER_LAYER:
        return _("per-layer cells")
    cell = cell_type(settings.cell)
    if not cell.activation:  # a gated cell: its own nonlinearities, whatever φ says
        return cell.title
    phi = _("per-layer φ") if settings.activation == PER_LAYER else settings.activation
    return f"{phi} {cell.title}"


def label(settings, side: str) -> str:
    """A short name of what ``side`` runs, e.g. "LSTM", "residual on", or "your settings
    (tanh RNN)" for a side without overrides."""
    o, s = overrides(settings, side), side_settings(settings, side)
    parts = []
    if "cell" in o or "activation" in o:
        parts.append(cell_name(s))
    for field, on, off in (("residual", N_("residual on"), N_("residual off")),
                           ("layer_norm", N_("layer norm on"), N_("layer norm off"))):  # fmt: skip
        if field in o:
            parts.append(_(on if o[field] else off))
    if "dropout" in o:
        parts.append(
            _("no dropout") if s.dropout == 0 else _("dropout p = {p}").format(p=f"{s.dropout:g}")
        )
    if "clip_norm" in o:
        parts.append(
            _("no clipping")
            if s.clip_norm == 0
            else _("clip norm {norm}").format(norm=f"{s.clip_norm:g}")
        )
    if "scheme" in o:
        parts.append(_("{scheme} init").format(scheme=s.scheme))
    if "recurrent_gain" in o:
        parts.append(f"g = {s.recurrent_gain:g}")
    return _(", ").join(parts) or _("your settings ({cells})").format(cells=cell_name(s))


@dataclass(frozen=True)
class Pair:
    """The two runs of the A/B page, or why they cannot run."""

    spec_a: compute.TraceSpec | None
    spec_b: compute.TraceSpec | None
    notices: tuple[str, ...]  # each prefixed with the side it concerns
    error: str | None


def plan_pair(settings) -> Pair:
    """The TraceSpecs of both sides, fitted together into the budgets (same T and B)."""
    sides = [side_settings(settings, side) for side in SIDES]
    alone = [compute.plan(s) for s in sides]
    errors = [f"{side.upper()}: {p.error}" for side, p in zip(SIDES, alone) if p.error]
    if errors:
        return Pair(None, None, (), " ".join(errors))
    if alone[0].spec == alone[1].spec:  # one run, one cached trace: the budget of one
        a, b = alone
    else:
        configs = [p.spec.config for p in alone]
        a, b = compute.plan(sides[0], (configs[1],)), compute.plan(sides[1], (configs[0],))
    both = [n for n in a.notices if n in b.notices]
    notices = [_("A and B: {notice}").format(notice=n) for n in both]
    notices += [
        _("{side}: {notice}").format(side=side, notice=n)
        for side, p in (("A", a), ("B", b))
        for n in p.notices
        if n not in both
    ]
    return Pair(a.spec, b.spec, tuple(notices), None)
