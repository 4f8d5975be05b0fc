"""deeprnn: see how information and gradients flow through a deep (stacked) RNN. Routes only."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run without PYTHONPATH too
from app import layout, state  # noqa: E402

# The pages live in views/, not pages/: a pages/ folder beside this file makes Streamlit serve
# a deep link such as /compare as a legacy page, without this router (no sidebar, no state).

st.set_page_config(
    page_title="deeprnn: deep RNN flow", page_icon=":material/layers:", layout="wide"
)
state.load()
page = st.navigation(
    [
        st.Page("views/flow.py", title="Information flow", icon=":material/grid_on:", default=True),
        st.Page("views/hidden.py", title="Hidden states", icon=":material/texture:"),
        st.Page("views/gradients.py", title="Gradient flow", icon=":material/trending_down:"),
        st.Page("views/sweep.py", title="Depth sweep", icon=":material/stacked_line_chart:"),
        st.Page("views/compare.py", title="Plain vs deep", icon=":material/compare_arrows:"),
        st.Page("views/ab.py", title="A/B compare", icon=":material/splitscreen:"),
        st.Page("views/phase.py", title="Phase diagram", icon=":material/blur_on:"),
        st.Page("views/training.py", title="Training", icon=":material/model_training:"),
    ]
)
state.begin_run(page.url_path)
state.sidebar()
state.write_url()
layout.guarded(page.run)()
