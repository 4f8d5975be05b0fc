"""Depth sweep: the attenuation |G_1^(1)| / |G_T^(L)| for L = 1..L_max over several seeds."""

import streamlit as st

from app import compute, figures, layout, state

EXPLAIN = (
    "The same settings at every depth L = 1..L_max, each with several weight seeds: how much "
    "of the gradient at the last cell (t = T, l = L) reaches the first one (t = 1, l = 1). "
    "Below the dotted line the gradient **vanishes**, above it **explodes**. Move the gains "
    "in the sidebar and watch the curve cross the line as the network passes the edge."
)


@layout.guarded
def draw(run: layout.Run) -> None:
    cols = st.columns(2)
    max_layers = state.widget("sweep_layers", cols[0])
    seeds = state.widget("sweep_seeds", cols[1])
    sweep_spec, notices = compute.sweep_plan(run.spec, max_layers, seeds)
    for notice in notices:
        st.info(notice, icon=":material/info:")
    try:
        sweep = compute.depth_sweep(sweep_spec)
    except compute.CORE_ERRORS as err:
        st.error(f"The core could not run the sweep: {err}")
        return
    quantiles = sweep.quantiles()  # (3, L_max): 25%, 50%, 75% over seeds
    figure = figures.sweep_figure(sweep.depths, quantiles, sweep.exploded, len(sweep.seeds))
    layout.chart(figure, "sweep")
    first, last = quantiles[1, 0], quantiles[1, -1]
    st.markdown(
        f"Median over {len(sweep.seeds)} seeds (seeds {sweep.seeds[0]}–{sweep.seeds[-1]}): "
        f"**{first:.3g}** at L = 1, **{last:.3g}** at L = {max_layers}, "
        f"T = {sweep_spec.base.steps}. Same gains, scheme, activation and cell as the sidebar; "
        "dropout is off and B = 1 (analysis.depth_sweep)."
    )
    if sweep.exploded.any():
        st.warning(
            f"{int(sweep.exploded.sum())} runs overflowed (inf / nan); they are marked in magenta "
            "and left out of the median and band.",
            icon=":material/local_fire_department:",
        )


run = layout.start("Depth sweep", EXPLAIN)
draw(run)
