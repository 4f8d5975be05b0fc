"""Pure figure builders: Trace or core summary arrays -> plotly Figure. No Streamlit here, so
every figure also works in a notebook and is tested on its data."""

from app.figures.ab_pairs import grid_pair, lines_pair, param_pair, ratio_heatmap
from app.figures.flow import cell_vectors, flow_grid, lit_mask, picker_stride
from app.figures.gates import cell_grad_lines, gated_layers, saturation_heatmaps
from app.figures.gradients import attenuation_words, grad_lines, param_grad_bars
from app.figures.hidden import hidden_heatmaps, layers_that_fit, spread_layers, timescale_bars
from app.figures.sweep import measures_figure, sweep_figure

__all__ = [
    "attenuation_words",
    "cell_grad_lines",
    "cell_vectors",
    "flow_grid",
    "saturation_heatmaps",
    "gated_layers",
    "grad_lines",
    "grid_pair",
    "hidden_heatmaps",
    "layers_that_fit",
    "lines_pair",
    "lit_mask",
    "measures_figure",
    "param_grad_bars",
    "param_pair",
    "picker_stride",
    "ratio_heatmap",
    "spread_layers",
    "sweep_figure",
    "timescale_bars",
]
