"""The floor the app is measured against: plain Streamlit, a sidebar with two sliders (L and T,
keys as the app's), and three plotly charts of the landing page's data sizes: an L x T heatmap
(the grid), a line chart of T points per layer, a bar chart of h values (a cell's vector). Each
setting draws new numbers, so every slider move redraws every chart. Served by bench/browser.py.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
query = st.query_params
L = st.sidebar.slider("Depth L", 1, 32, int(query.get("L", 4)), key="num_layers")
T = st.sidebar.slider("Sequence length T", 1, 500, int(query.get("T", 50)), key="steps")
h = int(query.get("h", 32))
rng = np.random.default_rng([L, T])
st.title("Floor")
z = rng.standard_normal((L, T)).astype(np.float32)
grid = go.Figure(go.Heatmap(z=z, colorscale="Viridis"))
grid.update_layout(height=int(np.clip(200 + 40 * (L + 2), 420, 820)))
st.plotly_chart(grid, key="grid", theme=None)
lines = go.Figure([go.Scatter(y=np.abs(row), mode="lines") for row in z])
st.plotly_chart(lines.update_layout(height=360), key="lines", theme=None)
bars = go.Figure(go.Bar(y=rng.standard_normal(h).astype(np.float32)))
st.plotly_chart(bars.update_layout(height=300), key="bars", theme=None)
