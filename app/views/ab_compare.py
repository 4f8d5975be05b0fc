"""A/B compare: two configurations on the same seed and input, side by side, and the ratio of
their gradient norms per (t, l)."""

import numpy as np
import streamlit as st

from app import figures
from app.parts import ab_training, layout
from app.runs import compute
from app.settings import ab_sides, controls, rules, state
from app.settings.controls import AB_FIELDS
from app.words import core_text, lesson
from app.words.i18n import N_
from app.words.i18n import gettext as _

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "Two runs on the **same seed and input**. **B** is your sidebar settings as they are; "
    "**A** is B with the preset's fields changed (a preset changes A only and clears any "
    "override of B). *Overrides* shows every field of both sides and says when B is not "
    "your sidebar any more. Both "
    "sides are drawn on shared colour and axis ranges, and the ratio "
    "$|G_t^{(l)A}| / |G_t^{(l)B}|$ shows per cell where A keeps more gradient (blue) or less "
    "(red) than B."
)
RATIO = N_(
    "log-scaled and centred at 1 (white): blue cells are where A keeps more of the gradient "
    "than B, red where it keeps less. The bottom-left corner is "
    "the gradient that travelled farthest back, through every layer and step."
)
CLIPPING = N_(
    "Clipping rescales the **parameter gradients** after the backward pass "
    "(clip_grad_norm_); $G_t^{(l)}$ itself is never clipped, so it is the same on both sides "
    "wherever only the clip norm differs. Compare the parameter-gradient markers at the bottom."
)


def presets(settings) -> None:
    """One button per preset; the one matching the current overrides is highlighted."""
    active = ab_sides.active_preset(settings)
    row = st.container(horizontal=True, key="presets")
    for name in ab_sides.PRESETS:
        row.button(_(name), key="preset_" + name.replace(" ", "_").lower(),
                   on_click=ab_sides.apply_preset, args=(name,),
                   type="primary" if name == active else "secondary")  # fmt: skip


def overrides(settings) -> None:
    """Every override of both sides (controls of the table, in the URL)."""
    if changed := ab_sides.overrides(settings, "b"):
        fields = ", ".join(
            f"{field} = {controls.encode(controls.BY_KEY[ab_sides.key('b', field)], value)}"
            for field, value in changed.items()
        )
        st.info(_("B is not exactly your sidebar settings: its overrides set {fields}.").format(
                fields=fields), icon=":material/info:")  # fmt: skip
    with st.expander(_("Overrides: what A and B change from your sidebar settings")):
        for side in ab_sides.SIDES:
            st.markdown(_("**Side {side}**").format(side=side.upper()))
            cols = st.columns(4)
            for i, (field, *_rest) in enumerate(AB_FIELDS):
                state.widget(ab_sides.key(side, field), cols[i % 4])


def headline(column, title: str, summary: compute.Summary, spec: compute.TraceSpec) -> None:
    """One side's name and its headline numbers, all computed by the core."""
    L, T = summary.grad_hidden_norm.shape
    column.subheader(title)
    along_h = lesson.time_path(spec.config)
    value, sentence = figures.attenuation_words(summary.attenuation, L, T, along_h)
    cols = column.columns([3, 2])
    cols[0].metric(_("$|G_1^{(1)}| / |G_T^{(L)}|$"), value, help="analysis.attenuation")
    cols[1].metric(_("Loss"), f"{summary.loss:.4g}")
    if spec.clip_norm is None:
        norm = _("Parameter-gradient norm {norm}.").format(norm=f"{summary.param_grad_norm:.3g}")
    else:
        norm = _("Parameter-gradient norm {norm}, clipped to {clipped}.").format(
            norm=f"{summary.param_grad_norm:.3g}",
            clipped=f"{summary.param_grad_norm_clipped:.3g}",
        )
    column.markdown(f"{sentence}  \n{norm}")
    layout.overflow_banner(summary, column, title.split(":")[0])


def why_equal(settings, pair: ab_sides.Pair, ratio: np.ndarray) -> str | None:
    """Why A and B show the same gradients, when they do: the core's applicability rules."""
    a, b = pair.spec_a, pair.spec_b
    if a == b:
        asked = ab_sides.side_settings(settings, "a")
        why = [
            core_text.applicability(r)
            for r in rules.remedy_rules(asked)
            if r.rule == "layer_norm_cells"
        ]
        reason = why[0] if why else _("The overrides repeat the sidebar's values.")
        return _("A and B are the same run here, so every ratio is 1. {reason}").format(
            reason=reason
        )
    if a.clip_norm != b.clip_norm:
        return _(CLIPPING) if np.all(ratio == 1) else None
    if np.all(ratio == 1):
        notices = dict.fromkeys(
            core_text.applicability(r) for s in (a, b) for r in s.config.applicability()
        )
        if any(s.config.dropout > 0 and not s.training for s in (a, b)):
            notices[_("Dropout acts in training mode only.")] = None
        return (
            _("This change does not reach $G_t^{(l)}$ at these settings.") + " " + " ".join(notices)
        )
    return None


@layout.guarded
def draw(settings) -> None:
    pair = ab_sides.plan_pair(settings)
    if not layout.said(pair):
        return
    specs = (pair.spec_a, pair.spec_b)
    seconds = sum(compute.seconds(spec) for spec in set(specs))  # equal sides run once
    try:
        sa, sb = (compute.summarize(spec) for spec in specs)
    except compute.CORE_ERRORS as err:
        st.error(
            _("The core could not run these settings: {error}").format(error=core_text.error(err))
        )
        return
    labels = (f"A: {ab_sides.label(settings, 'a')}", f"B: {ab_sides.label(settings, 'b')}")
    for column, title, summary, spec in zip(st.columns(2), labels, (sa, sb), specs):
        headline(column, title, summary, spec)
    c = pair.spec_a.config
    st.caption(
        _(
            "Both sides: L = {L}, T = {T}, h = {h}, d = {d}, B = {B}, {dtype}, seed {seed}, the "
            "same input X_t · computing both takes about {seconds} s here · every number "
            "computed by deeprnn_core · {share}"
        ).format(
            L=c.num_layers,
            T=pair.spec_a.steps,
            h=c.hidden_size,
            d=c.input_size,
            B=pair.spec_a.batch,
            dtype=pair.spec_a.dtype,
            seed=pair.spec_a.seed,
            seconds=f"{seconds:.2g}",
            share=_(layout.SHARE),
        )  # fmt: skip
    )
    st.subheader(_("Gradient norm per cell, $|G_t^{(l)}|$"))
    grads, bads = (sa.grad_hidden_norm, sb.grad_hidden_norm), (sa.nonfinite_grad, sb.nonfinite_grad)
    layout.chart(figures.grid_pair(*grads, *bads, labels), "ab_grid")
    st.subheader(_("Ratio $|G_t^{(l)A}| / |G_t^{(l)B}|$"))
    if grads[0].shape != grads[1].shape:  # overrides never change L or T; be safe
        st.info(
            _("A and B differ in (L, T): {a} vs {b}.").format(a=grads[0].shape, b=grads[1].shape)
        )
        return
    ratio = compute.grad_hidden_norm_ratio(*specs)
    st.markdown(_(RATIO))
    if note := why_equal(settings, pair, ratio):
        st.info(note, icon=":material/info:")
    layout.chart(figures.ratio_heatmap(ratio, *grads, *bads), "ab_ratio")
    st.subheader(_("$|G_t^{(l)}|$ against t, per layer"))
    layout.chart(figures.lines_pair(*grads, *bads, labels), "ab_lines")
    st.subheader(_("Parameter gradients per layer (after clipping)"))
    params = figures.param_pair(sa.param_grad_norms, sb.param_grad_norms, labels)
    layout.chart(params, "ab_params")
    gated = [(t, s) for t, s in zip(labels, specs) if figures.gated_layers(s.config.cells)]
    if gated:
        st.subheader(_("Gate saturation"))
        st.markdown(_(layout.SATURATION))
    for title, spec in gated:
        st.markdown(f"**{title}**")
        layout.draw_gate_saturation(spec, f"ab_gates_{title[0].lower()}")


COMPUTED = (
    N_(
        "Each side: its own `deeprnn_core.trace` on the same input; the ratio per cell: "
        "`analysis.grad_hidden_norm_ratio`; the headline: `analysis.attenuation`."
    ),
)
layout.header("A/B compare", EXPLAIN, COMPUTED)
settings = state.current()  # widget callbacks (presets, overrides) ran before this line
presets(settings)
overrides(settings)
draw(settings)
ab_training.draw(settings)
