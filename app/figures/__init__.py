"""Pure figure builders: Trace or core summary arrays -> plotly Figure. No Streamlit here, so
every figure also works in a notebook and is tested on its data."""

from app.figures.flow import cell_vectors, flow_grid, lit_mask, picker_stride
from app.figures.gradients import attenuation_words, grad_lines, param_grad_bars
from app.figures.hidden import hidden_heatmaps, layers_that_fit, spread_layers, timescale_bars
from app.figures.sweep import sweep_figure

__all__ = [
    "attenuation_words",
    "cell_vectors",
    "flow_grid",
    "grad_lines",
    "hidden_heatmaps",
    "layers_that_fit",
    "lit_mask",
    "param_grad_bars",
    "picker_stride",
    "spread_layers",
    "sweep_figure",
    "timescale_bars",
]
