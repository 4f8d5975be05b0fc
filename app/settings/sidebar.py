"""The sidebar: every shared control, group by group, then "Your model and data" (settings.upload).
A control is drawn greyed out, with the reason beside it, where an upload fixes it or the
core's rules (settings.rules) say it changes nothing here."""

from __future__ import annotations

import streamlit as st

from app.settings import rules, state, upload
from app.settings.controls import CONTROLS, GROUPS, PER_LAYER
from app.words import core_text
from app.words.i18n import gettext as _
from deeprnn_core.config import ACTIVATION_RULE


def group_key(group: str) -> str:
    """The session-state key of a sidebar group's open / closed state."""
    return f"open_{group.split()[0].lower()}"


def draw(box=None) -> None:
    """Draw the shared controls in the sidebar (or ``box``, a container in it), section by
    section."""
    side, now = box or st.sidebar, state.current()
    # an uploaded model or data fixes some controls: they show its values, greyed, with why
    fixed, uploaded = upload.fixed_keys(), upload.shown_settings(now)
    reasons = upload.fixed_reasons()
    now = uploaded  # the rules below judge the network that runs
    # the core's rule, asked as if layer norm were on: a gated layer anywhere switches it off
    no_layer_norm = [
        core_text.applicability(r)
        for r in rules.remedy_rules(now, layer_norm=True)
        if r.rule == "layer_norm_cells"
    ]
    # drawn greyed out, with why: set by an uploaded model / data, or changing nothing here
    disabled = set(fixed)
    why = {"layer_norm": no_layer_norm[0]} if no_layer_norm else {}
    if not rules.activation_acts(now):  # every layer gated
        why["activation"] = _("Every layer here is gated, and {rule}.").format(
            rule=core_text.rule(ACTIVATION_RULE)
        )
        disabled |= {"activation_layers"}
    disabled |= set(why) | (set() if now.dropout else {"dropout_mode"})
    from_url = state.from_url()[1]
    cells = rules.cells_of(now)
    has_lru = "lru" in ((cells,) if isinstance(cells, str) else cells)
    for group in GROUPS:
        members = [c for c in CONTROLS if c.group == group]
        # open at first: the first two groups, and any group a shared link changed
        changed = any(from_url.get(c.key, c.default) != c.default for c in members)
        opened = state.section(_(group), group_key(group), group in GROUPS[:2] or changed, side)
        if opened is None:
            continue
        said = set()
        for c in members:
            if c.key in ("activation_layers", "cell_layers"):
                if getattr(now, c.key.removesuffix("_layers")) != PER_LAYER:
                    continue
            if c.key.startswith("lru_") and not has_lru:  # the LRU's ring: LRU layers only
                continue
            if c.key in fixed:
                state.widget(c.key, opened, shown=getattr(uploaded, c.key))
            else:
                state.widget(c.key, opened, disabled=c.key in disabled)
            reason = why.get(c.key) or reasons.get(c.key)
            if reason and reason not in said:  # once per section
                opened.caption(reason)
                said.add(reason)
    side.button(_("Reset all to defaults"), on_click=state.reset, key="reset_all")
    upload.sidebar_section(side)  # your model and data: per session, never in the URL
