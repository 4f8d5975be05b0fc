"""deeprnn_core: run a deep (stacked) RNN step by step and expose every hidden state H_t^(l)
and the exact gradient G_t^(l) = dLoss/dH_t^(l). Numbers only: numpy + torch, no UI."""

from deeprnn_core.config import ACTIVATIONS, CELLS, RNNConfig
from deeprnn_core.init import SCHEMES, init_params
from deeprnn_core.io import load_model, save_model, torch_code
from deeprnn_core.model import Model, from_torch
from deeprnn_core.signals import load_sequence
from deeprnn_core.trace import Trace, trace

__all__ = [
    "ACTIVATIONS",
    "CELLS",
    "SCHEMES",
    "Model",
    "RNNConfig",
    "Trace",
    "from_torch",
    "init_params",
    "load_model",
    "load_sequence",
    "save_model",
    "torch_code",
    "trace",
]
