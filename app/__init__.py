"""The Streamlit app (deeprnn's UI layer).

Importing this package completes, once and before any page runs, the imports that plotly makes
lazily while building a figure: on a cold server several sessions' script threads built their
first ``go.Heatmap`` at once and one saw pandas half-imported ("partially initialized module
'pandas' has no attribute 'Series'"). A package's import holds its lock until it is complete,
so every script thread waits here for one full import.
"""

import pandas  # noqa: F401  (plotly's validators look it up in sys.modules)
import plotly.graph_objects as go
import plotly.io

plotly.io.to_json(go.Figure(go.Heatmap(z=[[0.0, 1.0]])))  # the lazy validators and encoders
