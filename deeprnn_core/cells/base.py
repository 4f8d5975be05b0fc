"""What every cell type shares: the arrays a layer works on, and ``Cell``, the registry's entry
that says everything the engine, the cost model, the spectra, the weights and the app need to
know about one cell type.

Arrays carry a leading stack axis S (independent networks run side by side, as a depth sweep
over seeds does; S = 1 for a single trace): a sequence is (T, S, B, width), a weight (S, in, out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

LN_EPS = 1e-5  # torch.nn.LayerNorm's default eps


@dataclass
class LayerWeights:
    """One layer's weights stacked over S, laid out for ``x @ w``."""

    cell: str  # the layer's cell type, a key of the registry
    activation: str  # phi_l of a cell that reads it
    residual: bool  # add the layer's input to its state
    w_ih: np.ndarray  # (S, n_in, G*h) = W_xh^(l), possibly a transposed view
    w_hh: np.ndarray  # (S, h, G*h)    = W_hh^(l)
    b_ih: np.ndarray | None  # (S, 1, G*h)
    b_hh: np.ndarray | None  # (S, 1, G*h)
    ln_weight: np.ndarray | None = None  # (S, 1, h) LayerNorm gain
    ln_bias: np.ndarray | None = None  # (S, 1, h) LayerNorm bias
    # (S, G*h, h) W_hh^(l)^T, contiguous (torch's own layout): the backward pass multiplies by
    # it every step; made once with the layout, not once per backward call
    w_hh_t: np.ndarray | None = None
    # a cell's parameters beyond weight_ih / bias_ih (Cell.param_shapes): short name -> (S, *shape)
    own: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class LayerRecord:
    """What a layer's forward pass keeps for the figures and for its backward pass."""

    hidden: np.ndarray  # (T, S, B, h) H_t^(l)
    preact: np.ndarray  # (T, S, B, h) A_t^(l) (candidate's pre-activation in gated cells)
    h0: np.ndarray  # (S, B, h) initial state
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # gates, cell state, LN stats


@dataclass
class LayerGrads:
    """Gradients of one layer, stacked over S."""

    grad_hidden: np.ndarray  # (T, S, B, h) G_t^(l), total derivative
    grad_preact: np.ndarray  # (T, S, B, h) dLoss/dA_t^(l)
    grad_input: np.ndarray  # (T, S, B, n_in) dLoss/d(input of the layer)
    grad_h0: np.ndarray  # (S, B, h) dLoss/dH_0^(l)
    params: dict[str, np.ndarray]  # short torch name -> (S, *torch shape)
    grad_cell: np.ndarray | None = None  # (T, S, B, h) dLoss/dC_t^(l), cells with a C_t only


@dataclass(frozen=True)
class SpectraLayer:
    """One layer of a trace as the Jacobian spectra read it (float64, S dropped)."""

    params: dict[str, np.ndarray]  # the layer's torch parameters without "_l{k}"
    activation: str  # phi_l
    inp: np.ndarray  # (T, B, n_in) what the layer read (after dropout)
    h_prev: np.ndarray  # (T, B, h) H_{t-1}^(l)
    residual: np.ndarray | None  # (T, B, h) ones where the layer adds its input, else None
    preact: np.ndarray  # (T, B, h) A_t^(l)
    gates: dict[str, np.ndarray]  # gate name -> (T, B, h), this layer's
    cell_state: np.ndarray | None  # (T, B, h) C_t^(l), cells with a C_t only
    layer_norm: bool  # A_t^(l) is layer-normalised

    @property
    def blocks_ih(self) -> np.ndarray:
        """(G, h, n_in): W_ih split into its gate blocks (torch's layout)."""
        w = self.params["weight_ih"]
        return w.reshape(-1, self.h_prev.shape[-1], w.shape[-1])

    @property
    def blocks_hh(self) -> np.ndarray:
        """(G, h, h): W_hh split into its gate blocks."""
        w = self.params["weight_hh"]
        return w.reshape(-1, w.shape[-1], w.shape[-1])


@dataclass(frozen=True)
class CellCost:
    """A cell type's constants in the cost model (engine.cost), measured on the 2-core machine
    while other jobs loaded it (one BLAS thread); see engine/cost.py for how each is used."""

    # dtype -> (per (layer, step), per weight entry if B = 1, per weight entry if B > 1,
    # per multiply-add if B > 1, per gate unit) in seconds, forward and backward together
    time: dict[str, tuple[float, float, float, float, float]]
    layout: float  # seconds per parameter to lay the weights and their gradients out
    kept: int  # (T, B, h) arrays a layer keeps beyond H and A during the forward pass
    scratch: int  # (T, B, h) arrays of the layer's backward scratch
    spectra: float  # seconds per (layer, step, sample, unit) of the Jacobian rows


@dataclass(frozen=True)
class Cell:
    """One cell type: everything the rest of the core and the app read about it.

    The equations are in the docstrings of the module that defines it (``cells/rnn.py`` ...).
    Parameters follow torch's layout: ``weight_ih`` (G h, n_in), ``weight_hh`` (G h, h) and,
    with a bias, ``bias_ih`` / ``bias_hh`` (G h,), one block of h rows per gate in ``blocks``.
    """

    name: str  # the key: RNNConfig(cell=name)
    title: str  # as the app names it
    summary: str  # one sentence for the sidebar's help
    blocks: int  # G: pre-activation blocks of the weights, in torch's gate order
    # the gates a Trace records, in torch's order: (name, range, role), the range "sigmoid" for
    # (0, 1) or "tanh" for (-1, 1), the role a word for the figures ("reset", "forget", ...)
    gates: tuple[tuple[str, str, str], ...]
    forward: Callable  # (w, proj, rec, residual, c0) -> None: fills rec over all T
    backward: Callable  # (w, rec, ext, grad_hidden, grad_preact, w_hh_t, h_prev) -> (dP, dR,
    #                      dLoss/dH_0, dLoss/dC or None)
    step: Callable  # reference: (p, x, h_prev, c_prev, activation) -> (H_t, cache)
    step_back: Callable  # reference: (p, cache, G_t, carry_c, activation, grads) ->
    #                       (dA_t, dC_t or None, dLoss/dx, carry into G_{t-1}, carry into C)
    gate_arrays: Callable  # (rec, h) -> {gate: (T, S, B, h)} for Trace.gates
    jacobian_rows: Callable  # (SpectraLayer) -> (|rows of dH_t/dH_{t-1}|^2,
    #                          |rows of dH_t/dH_t^(l-1)|^2, mean f^2 of C_t or None)
    cost: CellCost
    torch_module: str | None = None  # torch.nn class with the same weights, or None
    cell_state: bool = False  # carries a cell state C_t (Trace.cell_state, c0)
    activation: bool = False  # phi_l acts in it (else its own nonlinearities are fixed)
    layer_norm: bool = False  # layer norm of A_t applies to it
    # b_hh joins x W_ih + b_ih before the time loop; False where a gate scales part of it (GRU)
    recurrent_bias_outside: bool = True
    # hooks of cells whose parameters are not torch's (G h, n_in) + (G h, h) layout (None: that
    # layout): param_shapes(h, n_in, bias) -> {short name: shape}; init_layer(rng, h, n_in, bias,
    # init) -> {short name: array} (None: the init scheme's own draw of the shapes' matrices)
    param_shapes: Callable | None = None
    init_layer: Callable | None = None
    # the parameters of the path through depth (read as "W_xh") and of the path through time
    # (read as "W_hh"; () where no parameter is the recurrence's own: its gradient norm is nan)
    depth_params: tuple[str, ...] = ("weight_ih",)
    time_params: tuple[str, ...] = ("weight_hh",)
    # the forward pass reads the layer's input u_t itself (rec.extra["input"]), not only x W_ih
    reads_input: bool = False
    # (h, h) matrices multiplied per step and batch row, for the cost model, in a cell with a
    # layout of its own (None: its W_hh's G blocks; the LRU's C: 2, though not recurrent)
    step_blocks: int | None = None
    # where the recurrence's eigenvalues are (analysis.eigen): (layer params, gates {name:
    # (T, B, h)}) -> (label, values), complex eigenvalues of a fixed recurrence matrix, or the
    # real values over the trace of a diagonal that changes with t; None: not drawn (GRU)
    eigen: Callable | None = None
    # H_{t-1} feeds H_t (False: the LRU, whose recurrent state is its complex x_t; H_t feeds no
    # later step, so G_t^(l) has no path through time along H within the layer)
    hidden_recurrent: bool = True

    def gate_names(self) -> tuple[str, ...]:
        """The gate names, in torch's order."""
        return tuple(name for name, _, _ in self.gates)

    def shapes(self, h: int, n_in: int, bias: bool) -> dict[str, tuple[int, ...]]:
        """One layer's parameters (short torch-like names, without "_l{k}") and their shapes."""
        if self.param_shapes is not None:
            return dict(self.param_shapes(h, n_in, bias))
        g = self.blocks * h
        out = {"weight_ih": (g, n_in), "weight_hh": (g, h)}
        return out | ({"bias_ih": (g,), "bias_hh": (g,)} if bias else {})

    def step_weights(self, h: int) -> int:
        """Entries of the (h, h) matrices multiplied per step and batch row (cost model)."""
        if self.step_blocks is not None:
            return self.step_blocks * h * h
        return self.recurrent_weights(h)

    def recurrent_weights(self, h: int) -> int:
        """Entries of the recurrent matmul H_{t-1} W_hh per step (0: an element-wise recurrence)."""
        return self.blocks * h * h if self.param_shapes is None else 0


def project(inp: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``inp @ weight`` for every step at once: (T, S, B, n) @ (S or 1, n, m) -> (T, S, B, m),
    as one matrix product per network (a broadcast matmul makes T small ones, each reading all of
    ``weight``: 2-3x slower at h = 128)."""
    T, S, B, n = inp.shape
    if weight.shape[0] == 1:  # one network's weights for every s (e.g. depths side by side)
        return (inp.reshape(1, T * S * B, n) @ weight).reshape(T, S, B, -1)
    out = np.empty((T, S, B, weight.shape[-1]), dtype=np.result_type(inp, weight))
    for s in range(S):
        out[:, s] = (inp[:, s].reshape(T * B, n) @ weight[s]).reshape(T, B, -1)
    return out


def row_norms(direct, coefs, blocks) -> np.ndarray:
    """|row i of diag(direct) + sum_k diag(c_k) W_k|^2 for every (..., i): coefs (K, ..., h),
    blocks (K, h, n); direct (..., h) or None (needs n = h). A step Jacobian's rows, from a
    (K, K) Gram matrix of the weight rows."""
    gram = np.einsum("kin,jin->ikj", blocks, blocks)  # (h, K, K) rows i of the blocks
    c = np.moveaxis(coefs, 0, -1)  # (..., h, K)
    out = np.einsum("...ik,ikj,...ij->...i", c, gram, c)
    if direct is not None:
        diag = np.einsum("kii->ki", blocks)  # (K, h) W_k[i, i]
        out += direct * direct + 2.0 * direct * np.einsum("...ik,ki->...i", c, diag)
    return out


def linear(x, weight, bias):
    """x W^T + b: (B, n) -> (B, m) for a torch weight (m, n); no bias when it is None."""
    return x @ weight.T + (0.0 if bias is None else bias)


def projections(p, x, h_prev):
    """(x W_ih^T + b_ih, h_prev W_hh^T + b_hh), each (B, G*h): one block per gate."""
    x_part = linear(x, p["weight_ih"], p.get("bias_ih"))
    return x_part, linear(h_prev, p["weight_hh"], p.get("bias_hh"))


def accumulate(grads, s, d_input, d_recurrent):
    """Add one step to dLoss/dW_xh (dP_t^T x) and dLoss/dW_hh (dR_t^T h_prev), torch layout."""
    grads["weight_ih"] += d_input.T @ s["x"]
    grads["weight_hh"] += d_recurrent.T @ s["h_prev"]
    if "bias_ih" in grads:
        grads["bias_ih"] += d_input.sum(0)
        grads["bias_hh"] += d_recurrent.sum(0)
