"""The architecture of a deep RNN: one small frozen dataclass, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core import cells
from deeprnn_core.cells.activations import ACTIVATIONS

# The cell types: the registry of deeprnn_core.cells names them (a live view, so that a cell
# registered at run time is a legal name at once); each Cell says how many weight blocks it has,
# whether LayerNorm of A_t^(l) applies to it (a remedy for the seed's plain cell: gated cells
# bound their state with their own gates, and torch's GRU / LSTM have no such option to compare
# against) and whether phi_l acts in it (a gated cell's own sigmoid and tanh are fixed)
CELLS = cells.CELL_NAMES
# Each remedy's rule in words, stated here once: the notices below, the sidebar's help and the
# pages read these (tests/test_rules_once.py greps the app for restatements).
LAYER_NORM_RULE = "layer norm applies to plain rnn cells only"
RESIDUAL_RULE = "H_t^(l) += H_t^(l-1) needs equal widths, so layer 1 gets it only when d = h"
DROPOUT_RULE = "dropout acts only between layers, on H_t^(l) as it is fed to layer l+1 (as nn.RNN)"
ACTIVATION_RULE = (
    "φ_l acts in plain rnn cells (on A_t) and lru cells (on y_t) only (gru, lstm, mingru and "
    "minlstm keep their own sigmoid and tanh)"
)


def layer_norm_applies(cell: str) -> bool:
    """The rule: layer norm acts on a layer of this cell type."""
    return cells.cell_type(cell).layer_norm


def activation_applies(cell: str) -> bool:
    """The rule: the activation phi_l asked for acts on a layer of this cell type."""
    return cells.cell_type(cell).activation


def blocks(cell: str) -> int:
    """G: the pre-activation blocks of a layer of this cell type, in torch's gate order."""
    return cells.cell_type(cell).blocks


def residual_applies(layer_input_size: int, hidden_size: int) -> bool:
    """The rule: H_t^(l) += H_t^(l-1) needs equal widths (so layer 1 only when d = h)."""
    return layer_input_size == hidden_size


def dropout_applies(layer: int, num_layers: int) -> bool:
    """The rule: dropout acts on H^(l) fed to layer l+1 (1-based ``layer``), never on the top
    layer's output (as nn.RNN): none at all when L = 1."""
    return layer < num_layers


@dataclass(frozen=True)
class Applicability:
    """A remedy asked for that does not act on some layers, and the sentence that says so."""

    rule: str  # "layer_norm_cells", "residual_width" or "dropout_between_layers"
    layers: tuple[int, ...]  # the layers (1-based) the remedy does not act on
    notice: str  # one plain sentence for the user


def applicability(
    cell,
    num_layers: int,
    input_size: int,
    hidden_size: int,
    residual: bool = False,
    layer_norm: bool = False,
    dropout: float = 0.0,
) -> list[Applicability]:
    """Which asked-for remedies skip which layers, from raw settings (``cell``: one name or
    one per layer), so the app can say so before or instead of building an RNNConfig.

    A config refuses layer norm with any gated layer, so that rule means "layer norm is off".
    """
    cells = (cell,) * num_layers if isinstance(cell, str) else tuple(cell)
    out = []
    gated = tuple(k + 1 for k, c in enumerate(cells) if not layer_norm_applies(c))
    if layer_norm and gated:
        kinds = ", ".join(sorted({cells[k - 1] for k in gated}))
        out.append(
            Applicability(
                "layer_norm_cells",
                gated,
                f"{_sentence(LAYER_NORM_RULE)}; {_layers(gated)} gated ({kinds}), "
                "so layer norm is off for this run.",
            )
        )
    if residual and not residual_applies(input_size, hidden_size):
        out.append(
            Applicability(
                "residual_width",
                (1,),
                f"Residual connections skip layer 1: its input X_t has d = {input_size} units, "
                f"not h = {hidden_size}.",
            )
        )
    if dropout > 0 and not any(dropout_applies(k, num_layers) for k in range(1, num_layers + 1)):
        out.append(
            Applicability(
                "dropout_between_layers",
                (num_layers,),
                f"{_sentence(DROPOUT_RULE)}, so with one layer it changes nothing.",
            )
        )
    return out


def _sentence(rule: str) -> str:
    """A rule as the start of a sentence."""
    return rule[0].upper() + rule[1:]


def _layers(layers: tuple[int, ...]) -> str:
    """ "layer 2 is" or "layers 2, 3 are"."""
    return f"layer {layers[0]} is" if len(layers) == 1 else f"layers {str(layers)[1:-1]} are"


@dataclass(frozen=True)
class RNNConfig:
    """A stacked RNN of ``num_layers`` cells, H_t^(0) = X_t, O_t = H_t^(L) W_hq + b_q.

    ``activation`` and ``cell`` take one name for every layer or a tuple with one per layer.
    """

    num_layers: int = 4  # L, the depth: layers stacked between X_t and O_t
    input_size: int = 8  # d, width of X_t
    hidden_size: int = 32  # h, width of every H_t^(l)
    output_size: int = 1  # q, width of O_t
    activation: str | tuple[str, ...] = "tanh"  # phi_l of the plain rnn and lru cells
    cell: str | tuple[str, ...] = "rnn"  # per layer: rnn (the seed's formula), gru or lstm
    bias: bool = True  # b_h^(l) present (torch keeps it as bias_ih + bias_hh)
    residual: bool = False  # H_t^(l) += H_t^(l-1) where widths match (not at l=1 if d != h)
    layer_norm: bool = False  # A_t^(l) = LayerNorm(...) with learnable gain/bias (rnn cells)
    dropout: float = 0.0  # p of dropout on H_t^(l) fed to layer l+1, l < L (as nn.RNN)

    def __post_init__(self) -> None:
        for name in ("num_layers", "input_size", "hidden_size", "output_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
            object.__setattr__(self, name, int(value))  # numpy ints hash and print as ints
        for name in ("bias", "residual", "layer_norm"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)):
            raise TypeError(f"dropout must be a float, got {self.dropout!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        self._check_per_layer("activation", ACTIVATIONS)
        self._check_per_layer("cell", tuple(CELLS))
        if self.layer_norm and not all(layer_norm_applies(c) for c in self.cells):
            raise ValueError(
                f"layer_norm applies to rnn cells only; cell is {self.cell!r} "
                "(gated cells have their own normalisation of the state)"
            )

    def _check_per_layer(self, name: str, allowed: tuple[str, ...]) -> None:
        value = getattr(self, name)
        names = (value,) if isinstance(value, str) else value
        if not isinstance(names, tuple) or not all(isinstance(v, str) for v in names):
            raise TypeError(f"{name} must be a str or a tuple of str, got {value!r}")
        if not isinstance(value, str) and len(names) != self.num_layers:
            raise ValueError(
                f"{name} must name one value or one per layer; "
                f"expected {self.num_layers}, got {len(names)}"
            )
        for v in names:
            if v not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {v!r}")

    @property
    def activations(self) -> tuple[str, ...]:
        """phi_l for l = 1..L (gated layers ignore it)."""
        a = self.activation
        return (a,) * self.num_layers if isinstance(a, str) else a

    @property
    def cells(self) -> tuple[str, ...]:
        """The cell type of each layer l = 1..L."""
        c = self.cell
        return (c,) * self.num_layers if isinstance(c, str) else c

    def layer_input_size(self, layer: int) -> int:
        """Width of the input of layer ``layer`` (0-based): d for the first, h above."""
        return self.input_size if layer == 0 else self.hidden_size

    def has_residual(self, layer: int) -> bool:
        """Whether layer ``layer`` (0-based) adds its input to its state."""
        return self.residual and residual_applies(self.layer_input_size(layer), self.hidden_size)

    def residual_layers(self) -> tuple[bool, ...]:
        """Per layer l = 1..L: H_t^(l) += H_t^(l-1) (the effective residual setting)."""
        return tuple(self.has_residual(k) for k in range(self.num_layers))

    def layer_norm_layers(self) -> tuple[bool, ...]:
        """Per layer l = 1..L: A_t^(l) is layer-normalised."""
        return tuple(self.layer_norm and layer_norm_applies(c) for c in self.cells)

    def dropout_layers(self) -> tuple[bool, ...]:
        """Per layer l = 1..L: H^(l) is dropped out before layer l+1 reads it (training only)."""
        L = self.num_layers
        return tuple(self.dropout > 0 and dropout_applies(k, L) for k in range(1, L + 1))

    def applicability(self) -> list[Applicability]:
        """The rules that switch a remedy of this config off on some layers (see applicability)."""
        return applicability(
            self.cell,
            self.num_layers,
            self.input_size,
            self.hidden_size,
            self.residual,
            self.layer_norm,
            self.dropout,
        )


def check_real(
    name: str, value, low: float = 0.0, low_open: bool = False, or_none: bool = False
) -> float:
    """``value`` as a finite float >= ``low`` (> when ``low_open``), else a named error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not np.isfinite(number) or number < low or (low_open and number == low):
        rule = (f"> {low:g}" if low_open else f">= {low:g}") + (" or None" if or_none else "")
        raise ValueError(f"{name} must be a finite number {rule}, got {value}")
    return number


def check_seed(name: str, value) -> int:
    """``value`` as an int >= 0 (numpy integers too), else a named error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= 0, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value}")
    return int(value)
