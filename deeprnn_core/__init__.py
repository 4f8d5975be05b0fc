"""deeprnn_core: run a deep (stacked) RNN step by step and expose every hidden state H_t^(l)
and the exact gradient G_t^(l) = dLoss/dH_t^(l). Numbers only: numpy + torch, no UI."""

from deeprnn_core.config import ACTIVATIONS, CELLS, Applicability, RNNConfig, applicability
from deeprnn_core.data.signals import load_sequence
from deeprnn_core.data.tasks import TASKS, Task, make_task
from deeprnn_core.engine.order import computation_order
from deeprnn_core.engine.overflow import Overflow
from deeprnn_core.trace import Trace, trace
from deeprnn_core.training.history import History, Progress, StopTraining
from deeprnn_core.training.loop import DEFAULTS, train
from deeprnn_core.training.optimizers import OPTIMIZERS, SCHEDULES
from deeprnn_core.weights.init import SCHEMES, InitSpec, init_params
from deeprnn_core.weights.io import load_model, save_model, torch_code
from deeprnn_core.weights.model import Model, from_torch

__all__ = [
    "ACTIVATIONS",
    "Applicability",
    "CELLS",
    "DEFAULTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "SCHEMES",
    "TASKS",
    "History",
    "InitSpec",
    "Model",
    "Progress",
    "Overflow",
    "RNNConfig",
    "StopTraining",
    "Task",
    "Trace",
    "applicability",
    "computation_order",
    "from_torch",
    "init_params",
    "load_model",
    "load_sequence",
    "make_task",
    "save_model",
    "torch_code",
    "trace",
    "train",
]
