"""deeprnn: see how information and gradients flow through a deep (stacked) RNN. Routes only."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run without PYTHONPATH too
from app.parts import layout  # noqa: E402
from app.runs import server  # noqa: E402
from app.settings import sidebar, state  # noqa: E402

server.freeze_modules()  # before Streamlit's per-run full collection: see there

# The pages live in views/, not pages/: a pages/ folder beside this file makes Streamlit serve
# a deep link such as /compare as a legacy page, without this router (no sidebar, no state).

st.set_page_config(
    page_title="deeprnn: deep RNN flow", page_icon=":material/layers:", layout="wide"
)
state.load()
# (file in views/, title, Material icon, URL path: the one the old file name gave, so shared
# links keep working)
PAGES = (
    ("information_flow", "Information flow", "grid_on", "flow"),
    ("hidden_states", "Hidden states", "texture", "hidden"),
    ("gradient_flow", "Gradient flow", "trending_down", "gradients"),
    ("depth_sweep", "Depth sweep", "stacked_line_chart", "sweep"),
    ("plain_vs_deep", "Plain vs deep", "compare_arrows", "compare"),
    ("ab_compare", "A/B compare", "splitscreen", "ab"),
    ("phase_diagram", "Phase diagram", "blur_on", "phase"),
    ("training", "Training", "model_training", "training"),
    ("tuning_map", "Tuning map", "grid_view", "tuning"),
)
page = st.navigation(
    [
        st.Page(
            f"views/{file}.py",
            title=title,
            icon=f":material/{icon}:",
            url_path=url,
            default=file == PAGES[0][0],
        )  # fmt: skip
        for file, title, icon, url in PAGES
    ]
)
state.begin_run(page.url_path)
# The page before the sidebar's controls (drawn into their place above it afterwards): its
# figures reach the browser first, which then loads plotly while the widgets arrive. The
# controls' values live in session state (state.stored), so the page does not need them drawn.
controls = st.sidebar.container()
layout.guarded(page.run)()
sidebar.draw(controls)
state.write_url()
