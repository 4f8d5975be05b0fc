"""Torch oracles for the deeprnn_core tests.

Two references, both fed the weights of a ``deeprnn_core.Model`` (or owning them):

* ``unrolled_reference``: every H_t^(l) (and LSTM C_t^(l)) is its own node of an autograd graph
  built step by step from nn.RNNCell / nn.GRUCell / nn.LSTMCell (or the seed's formula for the
  activations and remedies nn.RNNCell lacks), with ``retain_grad()`` on each, so autograd hands
  out the total derivative G_t^(l) = dLoss/dH_t^(l) that the engine computes by its adjoint.
* ``fused_reference``: the fused nn.RNN / nn.GRU / nn.LSTM module and an nn.Linear head, run as a
  user would run them; it gives the top layer's outputs, each layer's last state and the
  parameter gradients.

Everything here is float64 and time-major (T, B, width) at the boundary, as a Trace is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deeprnn_core import Model

TORCH_CELLS = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}
GATE_NAMES = {"rnn": (), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}
PHI = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda a: a}


class FormulaRNNCell(nn.Module):
    """H = phi(LayerNorm?(X W_ih^T + b_ih + H_prev W_hh^T + b_hh)): the seed's plain cell with the
    activations (sigmoid, identity) and the layer norm that nn.RNNCell does not offer."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, activation: str, ln: bool):
        super().__init__()
        self.activation = activation
        self.weight_ih = nn.Parameter(torch.zeros(hidden_size, input_size, dtype=torch.float64))
        self.weight_hh = nn.Parameter(torch.zeros(hidden_size, hidden_size, dtype=torch.float64))
        if bias:
            self.bias_ih = nn.Parameter(torch.zeros(hidden_size, dtype=torch.float64))
            self.bias_hh = nn.Parameter(torch.zeros(hidden_size, dtype=torch.float64))
        else:
            self.bias_ih = self.bias_hh = None
        self.ln = nn.LayerNorm(hidden_size, dtype=torch.float64) if ln else None

    def forward(self, x: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        a = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h_prev, self.weight_hh, self.bias_hh
        )
        if self.ln is not None:
            a = self.ln(a)
        return PHI[self.activation](a)


def make_cell(
    cell: str, activation: str, input_size: int, hidden_size: int, bias: bool, layer_norm: bool
) -> nn.Module:
    """The torch module of one layer: nn.RNNCell / GRUCell / LSTMCell where torch has one."""
    if cell == "rnn" and (layer_norm or activation not in ("tanh", "relu")):
        return FormulaRNNCell(input_size, hidden_size, bias, activation, layer_norm)
    kwargs = {"nonlinearity": activation} if cell == "rnn" else {}
    return TORCH_CELLS[cell](input_size, hidden_size, bias=bias, **kwargs).double()


def load_layer(module: nn.Module, params: dict[str, np.ndarray], layer: int) -> None:
    """Copy layer ``layer``'s weights (torch names + _l{k}) into a cell module."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.tensor(params[model_name(name, layer)]))


def model_name(cell_param: str, layer: int) -> str:
    """A cell's parameter name in the model: ``weight_ih`` -> ``weight_ih_l{layer}``,
    LayerNorm's ``ln.weight`` -> ``ln_weight_l{layer}``."""
    return f"{cell_param.replace('ln.', 'ln_')}_l{layer}"


def torch_gates(
    cell: str, module: nn.Module, x: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Gate activations and the pre-activation (rnn A, GRU candidate's, LSTM g's) of one step,
    from torch's documented formulas (nn.GRU / nn.LSTM docs) on the module's weights."""
    gi = F.linear(x, module.weight_ih, module.bias_ih)
    gh = F.linear(h_prev, module.weight_hh, module.bias_hh)
    if cell == "rnn":
        a = gi + gh
        if getattr(module, "ln", None) is not None:
            a = module.ln(a)
        return {"preact": a}
    if cell == "gru":
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        a_n = i_n + r * h_n
        return {"r": r, "z": z, "n": torch.tanh(a_n), "preact": a_n}
    a_i, a_f, a_g, a_o = (gi + gh).chunk(4, -1)
    return {
        "i": torch.sigmoid(a_i),
        "f": torch.sigmoid(a_f),
        "g": torch.tanh(a_g),
        "o": torch.sigmoid(a_o),
        "preact": a_g,
    }


def grad_preact(
    cell: str,
    activation: str,
    step: dict[str, torch.Tensor],
    grad_hidden: torch.Tensor,
    grad_cell: torch.Tensor | None,
) -> torch.Tensor:
    """dLoss/dA_t^(l) by autograd through what follows A in the step, given the total derivative
    of what it feeds: rnn H = phi(A) (+ input), GRU H = (1 - z) tanh(A_n) + z H_prev (+ input),
    LSTM C = f C_prev + i tanh(A_g) (the only path from A_g to the loss)."""
    a = step["preact"].clone().requires_grad_(True)
    if cell == "rnn":
        out, upstream = PHI[activation](a), grad_hidden
    elif cell == "gru":
        out = (1 - step["z"]) * torch.tanh(a) + step["z"] * step["h_prev"]
        upstream = grad_hidden
    else:
        out, upstream = step["f"] * step["c_prev"] + step["i"] * torch.tanh(a), grad_cell
    (grad,) = torch.autograd.grad(out, a, upstream)
    return grad


def mse_loss(outputs: list[torch.Tensor], targets: torch.Tensor, loss_kind, objective="mse"):
    """The engine's loss summed over the scored steps: "last" (O_T), "all" (every t) or a list
    of step indices; per step F.mse_loss (mean over batch and q) or, for "cross_entropy",
    F.cross_entropy of the logits O_t against the class indices targets[t, :, 0]."""
    T = len(outputs)
    steps = [T - 1] if loss_kind == "last" else range(T) if loss_kind == "all" else loss_kind
    if objective == "mse":
        return sum(F.mse_loss(outputs[t], targets[t]) for t in steps)
    return sum(F.cross_entropy(outputs[t], targets[t, :, 0].long()) for t in steps)


@dataclass
class Reference:
    """What the unrolled graph computed; per-layer arrays (L, T, B, h), nan where not defined."""

    hidden: np.ndarray  # H_t^(l)
    preact: np.ndarray  # A_t^(l) (GRU: candidate's, LSTM: g's)
    output: np.ndarray  # (T, B, q) O_t
    loss: float
    grad_hidden: np.ndarray  # dLoss/dH_t^(l) from retain_grad
    grad_preact: np.ndarray  # dLoss/dA_t^(l), by autograd through the step's last operations
    param_grads: dict[str, np.ndarray]  # torch names, head included
    cell_state: np.ndarray  # C_t^(l) of LSTM layers
    grad_cell_state: np.ndarray  # dLoss/dC_t^(l)
    gates: dict[str, np.ndarray]  # r, z, n, i, f, g, o


def unrolled_reference(
    model: Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    loss_kind: str = "last",
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    dropout_masks: np.ndarray | None = None,
    formula_rnn: bool = False,
    objective: str = "mse",
) -> Reference:
    """Run ``model`` as an unrolled per-step torch graph and backpropagate with autograd.

    Args:
        model: the weights and config (residual, layer_norm, per-layer cells and activations).
        x: (T, B, d) input; y: (T, B, q) target (zeros when None).
        h0, c0: (L, B, h) initial states (zeros when None).
        dropout_masks: (L-1, T, B, h) multipliers on H_t^(l) fed to layer l+1.
        formula_rnn: use FormulaRNNCell even where nn.RNNCell would do (to check the formula).
    """
    c = model.config
    L, h = c.num_layers, c.hidden_size
    T, B = x.shape[:2]
    y = np.zeros((T, B, c.output_size if objective == "mse" else 1)) if y is None else y
    h0 = np.zeros((L, B, h)) if h0 is None else np.asarray(h0, dtype=np.float64)
    c0 = np.zeros((L, B, h)) if c0 is None else np.asarray(c0, dtype=np.float64)
    targets = torch.from_numpy(np.asarray(y, dtype=np.float64))
    cells: list[nn.Module] = []
    hidden: list[list[torch.Tensor]] = []
    cell_state: list[list[torch.Tensor]] = []
    steps: list[list[dict[str, torch.Tensor]]] = []  # per layer, per t: gates, A, H_prev, C_prev
    inputs = list(torch.from_numpy(np.asarray(x, dtype=np.float64)))  # T x (B, d)
    for k, (kind, act) in enumerate(zip(c.cells, c.activations)):
        if formula_rnn and kind == "rnn":
            module = FormulaRNNCell(c.layer_input_size(k), h, c.bias, act, c.layer_norm)
        else:
            module = make_cell(kind, act, c.layer_input_size(k), h, c.bias, c.layer_norm)
        load_layer(module, model.params, k)
        cells.append(module)
        h_prev, c_prev = torch.from_numpy(h0[k].copy()), torch.from_numpy(c0[k].copy())
        layer_hidden, layer_cell, layer_steps = [], [], []
        for t in range(T):
            with torch.no_grad():
                step = torch_gates(kind, module, inputs[t], h_prev, c_prev)
                step.update(h_prev=h_prev.detach(), c_prev=c_prev.detach())
                layer_steps.append(step)
            if kind == "lstm":
                state, c_prev = module(inputs[t], (h_prev, c_prev))
                c_prev.retain_grad()
                layer_cell.append(c_prev)
            else:
                state = module(inputs[t], h_prev)
            if c.has_residual(k):
                state = state + inputs[t]
            state.retain_grad()
            layer_hidden.append(state)
            h_prev = state
        hidden.append(layer_hidden)
        cell_state.append(layer_cell)
        steps.append(layer_steps)
        if k < L - 1 and dropout_masks is not None:
            masks = torch.from_numpy(np.asarray(dropout_masks[k], dtype=np.float64))
            inputs = [state * m for state, m in zip(layer_hidden, masks)]
        else:
            inputs = layer_hidden
    head = nn.Linear(h, c.output_size).double()
    with torch.no_grad():
        head.weight.copy_(torch.tensor(model.params["head.weight"]))
        head.bias.copy_(torch.tensor(model.params["head.bias"]))
    outputs = [head(state) for state in hidden[-1]]
    value = mse_loss(outputs, targets, loss_kind, objective)
    value.backward()

    def per_layer(get) -> np.ndarray:
        out = np.full((L, T, B, h), np.nan)
        for k in range(L):
            for t in range(T):
                v = get(k, t)
                if v is not None:
                    out[k, t] = v.detach().numpy()
        return out

    def grad_of(tensor: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad

    param_grads = {}
    for k, module in enumerate(cells):
        for name, p in module.named_parameters():
            param_grads[model_name(name, k)] = grad_of(p).numpy().copy()
    param_grads["head.weight"] = grad_of(head.weight).numpy().copy()
    param_grads["head.bias"] = grad_of(head.bias).numpy().copy()
    lstm = [kind == "lstm" for kind in c.cells]
    return Reference(
        hidden=per_layer(lambda k, t: hidden[k][t]),
        preact=per_layer(lambda k, t: steps[k][t]["preact"]),
        output=torch.stack(outputs).detach().numpy(),
        loss=float(value.detach()),
        grad_hidden=per_layer(lambda k, t: grad_of(hidden[k][t])),
        grad_preact=per_layer(
            lambda k, t: grad_preact(
                c.cells[k],
                c.activations[k],
                steps[k][t],
                grad_of(hidden[k][t]),
                grad_of(cell_state[k][t]) if lstm[k] else None,
            )
        ),
        param_grads=param_grads,
        cell_state=per_layer(lambda k, t: cell_state[k][t] if lstm[k] else None),
        grad_cell_state=per_layer(lambda k, t: grad_of(cell_state[k][t]) if lstm[k] else None),
        gates={
            name: per_layer(lambda k, t, name=name: steps[k][t].get(name))
            for name in ("r", "z", "n", "i", "f", "g", "o")
        },
    )


@dataclass
class FusedResult:
    """What a fused torch module and its head computed, time-major."""

    top_hidden: np.ndarray  # (T, B, h) H_t^(L), the module's output
    output: np.ndarray  # (T, B, q) O_t
    last_hidden: np.ndarray  # (L, B, h) H_T^(l), the module's h_n
    last_cell: np.ndarray | None  # (L, B, h) C_T^(l), the LSTM's c_n
    loss: float
    param_grads: dict[str, np.ndarray]  # the module's state-dict names and head.weight / head.bias


def fused_reference(
    rnn: nn.RNNBase,
    head: nn.Linear,
    x: np.ndarray,
    y: np.ndarray,
    loss_kind: str,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> FusedResult:
    """Run ``rnn`` (batch_first or not) and ``head`` on time-major ``x`` and backpropagate."""
    rnn.zero_grad()
    head.zero_grad()
    inp = torch.from_numpy(np.asarray(x, dtype=np.float64))
    if rnn.batch_first:
        inp = inp.transpose(0, 1)
    state = None
    if h0 is not None:
        state = torch.from_numpy(h0)
        if isinstance(rnn, nn.LSTM):
            state = (state, torch.from_numpy(np.zeros_like(h0) if c0 is None else c0))
    top, last = rnn(inp, state)
    if rnn.batch_first:
        top = top.transpose(0, 1)
    output = head(top)
    value = mse_loss(list(output), torch.from_numpy(np.asarray(y, dtype=np.float64)), loss_kind)
    value.backward()
    last_hidden, last_cell = last if isinstance(rnn, nn.LSTM) else (last, None)
    param_grads = {name: p.grad.numpy().copy() for name, p in rnn.named_parameters()}
    param_grads["head.weight"] = head.weight.grad.numpy().copy()
    param_grads["head.bias"] = head.bias.grad.numpy().copy()
    return FusedResult(
        top_hidden=top.detach().numpy(),
        output=output.detach().numpy(),
        last_hidden=last_hidden.detach().numpy(),
        last_cell=None if last_cell is None else last_cell.detach().numpy(),
        loss=float(value.detach()),
        param_grads=param_grads,
    )


def random_sequences(
    steps: int, batch: int, input_size: int, output_size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A (T, B, d) input and a (T, B, q) target, standard normal, float64."""
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((steps, batch, input_size)),
        rng.standard_normal((steps, batch, output_size)),
    )


def assert_param_grads_close(
    got: dict[str, np.ndarray], want: dict[str, np.ndarray], rtol: float, atol: float
) -> None:
    """Same names, and every gradient equal within rtol / atol."""
    assert sorted(got) == sorted(want), f"parameter names differ: {sorted(got)} vs {sorted(want)}"
    for name in want:
        np.testing.assert_allclose(
            got[name], want[name], rtol=rtol, atol=atol, err_msg=f"dLoss/d{name}"
        )


def assert_matches_unrolled(tr, want: Reference) -> None:
    """Every state and gradient of a trace equals the unrolled torch graph's: states (H, A)
    to 1e-10 relative, gradients (G, dLoss/dA, parameters) to 1e-8 relative, atol 1e-12."""
    np.testing.assert_allclose(tr.hidden, want.hidden, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.preact, want.preact, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.grad_hidden, want.grad_hidden, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tr.grad_preact, want.grad_preact, rtol=1e-8, atol=1e-12)
    assert_param_grads_close(tr.param_grads, want.param_grads, rtol=1e-8, atol=1e-12)
