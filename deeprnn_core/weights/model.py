"""The weights of a deep RNN under torch's names, and the bridge to and from torch.nn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells import REGISTRY, cell_type
from deeprnn_core.config import RNNConfig
from deeprnn_core.engine.stack import stack_layers
from deeprnn_core.weights.init import InitSpec, init_params, init_spec


def _torch_cells() -> dict[str, str]:
    """torch.nn class name -> the registered cell type with the same weights."""
    return {cell.torch_module: name for name, cell in REGISTRY.items() if cell.torch_module}


def expected_shapes(config: RNNConfig) -> dict[str, tuple[int, ...]]:
    """The name and shape of every parameter of ``config``, as torch names them."""
    h, shapes = config.hidden_size, {}
    for k, cell in enumerate(config.cells):
        layer = cell_type(cell).shapes(h, config.layer_input_size(k), config.bias)
        shapes.update({f"{name}_l{k}": shape for name, shape in layer.items()})
        if config.layer_norm:
            shapes[f"ln_weight_l{k}"] = (h,)
            shapes[f"ln_bias_l{k}"] = (h,)
    shapes["head.weight"] = (config.output_size, h)
    shapes["head.bias"] = (config.output_size,)
    return shapes


@dataclass(frozen=True, eq=False)
class Model:
    """A deep RNN: its ``config`` and its ``params`` (float64 arrays keyed by torch names).

    ``weight_ih_l{k}`` = W_xh^(k+1)^T, ``weight_hh_l{k}`` = W_hh^(k+1)^T, ``bias_ih_l{k}`` +
    ``bias_hh_l{k}`` = b_h^(k+1), ``head.weight`` = W_hq^T, ``head.bias`` = b_q; LayerNorm's
    gain and bias are ``ln_weight_l{k}`` / ``ln_bias_l{k}``. The arrays are read-only copies:
    make a new Model to change a weight.
    """

    config: RNNConfig
    params: dict[str, np.ndarray]
    random_head: bool = False  # the head was drawn (none was given), not trained: a probe of
    # dLoss/dH_T^(L) = 1 (trace(..., loss_kind="probe")) may be the better question to ask

    def __post_init__(self) -> None:
        if not isinstance(self.config, RNNConfig):
            raise TypeError(f"config must be an RNNConfig, got {type(self.config).__name__}")
        shapes = expected_shapes(self.config)
        missing = sorted(set(shapes) - set(self.params))
        unexpected = sorted(set(self.params) - set(shapes))
        if missing or unexpected:
            raise ValueError(
                f"params must match the config's state dict; missing {missing}, "
                f"unexpected {unexpected}"
            )
        clean = {}
        for name, shape in shapes.items():
            raw = self.params[name]
            if hasattr(raw, "detach"):
                raw = raw.detach().cpu().double().numpy()
            raw = np.asarray(raw)
            if raw.dtype.kind not in "biuf":
                raise TypeError(f"params[{name!r}] must hold real numbers, got dtype {raw.dtype}")
            value = raw.astype(np.float64)
            if value.shape != shape:
                raise ValueError(f"params[{name!r}] must have shape {shape}, got {value.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"params[{name!r}] must be finite, got inf or nan")
            value.flags.writeable = False  # a model never changes: traces may cache its layout
            clean[name] = value
        object.__setattr__(self, "params", clean)
        object.__setattr__(self, "_layouts", {})

    @classmethod
    def init(
        cls, config: RNNConfig, init: InitSpec | None = None, *loose, **loose_keywords
    ) -> Model:
        """A model with freshly drawn weights, ``init_params(config, init)``; see there for the
        schemes. The earlier loose form, ``Model.init(config, scheme, recurrent_gain,
        input_gain, bias_scale, seed)`` by position or keyword, still builds the InitSpec."""
        return cls(config, init_params(config, init_spec(init, loose, loose_keywords)))

    def engine_layers(self, dtype: str) -> list:
        """The weights laid out for the engine in ``dtype``, made once per model and dtype
        (safe to keep: the params are read-only)."""
        if dtype not in self._layouts:
            self._layouts[dtype] = stack_layers(self.config, [self.params], dtype)
        return self._layouts[dtype]

    @property
    def num_params(self) -> int:
        """Number of scalar parameters, head included."""
        return int(sum(p.size for p in self.params.values()))

    def to_torch(self):
        """The equivalent ``(nn.RNN | nn.GRU | nn.LSTM, nn.Linear)`` in float64, time-major.

        Only a stack of one cell type with no residual or layer norm is a torch module. The
        modules come back in eval mode, so dropout stays off until ``.train()``.
        """
        import torch

        c = self.config
        cells = set(c.cells)
        if len(cells) != 1 or c.residual or c.layer_norm or len(set(c.activations)) != 1:
            raise ValueError(
                "to_torch needs one cell type, one activation and no residual or layer_norm; "
                f"got cell={c.cell!r}, activation={c.activation!r}, "
                f"residual={c.residual}, layer_norm={c.layer_norm}"
            )
        kind = cell_type(cells.pop())
        if kind.torch_module is None:
            raise ValueError(f"to_torch: torch.nn has no module for cell {kind.name!r}")
        module = getattr(torch.nn, kind.torch_module)
        kwargs = dict(num_layers=c.num_layers, bias=c.bias, dropout=c.dropout)
        if kind.activation:  # nn.RNN: its nonlinearity is phi
            if c.activations[0] not in ("tanh", "relu"):
                raise ValueError(
                    f"nn.RNN supports tanh or relu, got activation={c.activations[0]!r}"
                )
            kwargs["nonlinearity"] = c.activations[0]
        rnn = module(c.input_size, c.hidden_size, **kwargs)
        head = torch.nn.Linear(c.hidden_size, c.output_size)
        rnn, head = rnn.double(), head.double()
        with torch.no_grad():
            for name, p in rnn.named_parameters():
                p.copy_(torch.tensor(self.params[name]))
            head.weight.copy_(torch.tensor(self.params["head.weight"]))
            head.bias.copy_(torch.tensor(self.params["head.bias"]))
        return rnn.eval(), head.eval()  # eval: torch's dropout off unless asked for


def from_torch(rnn, head=None, seed: int = 0) -> Model:
    """A ``Model`` with the weights of a ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` and an optional
    ``torch.nn.Linear`` head (torch's default head, drawn from ``seed``, when None).

    ``batch_first`` changes only the layout of the module's input; a trace always takes
    time-major (T, B, d) input. Bidirectional stacks and LSTM ``proj_size`` are refused.
    """
    import torch

    torch_cells = _torch_cells()
    if not isinstance(rnn, torch.nn.RNNBase) or type(rnn).__name__ not in torch_cells:
        raise TypeError(f"rnn must be a torch.nn.RNN, GRU or LSTM, got {type(rnn).__name__}")
    if rnn.bidirectional:
        raise ValueError("rnn must be unidirectional, got bidirectional=True")
    if getattr(rnn, "proj_size", 0):
        raise ValueError(f"rnn.proj_size must be 0 (no LSTM projections), got {rnn.proj_size}")
    kind = torch_cells[type(rnn).__name__]
    reads_phi = cell_type(kind).activation  # nn.RNN's nonlinearity
    if head is not None and not isinstance(head, torch.nn.Linear):
        raise TypeError(f"head must be a torch.nn.Linear or None, got {type(head).__name__}")
    if head is not None and head.in_features != rnn.hidden_size:
        raise ValueError(
            f"head.in_features must equal rnn.hidden_size. Expected {rnn.hidden_size}, "
            f"got {head.in_features}"
        )
    config = RNNConfig(
        num_layers=rnn.num_layers,
        input_size=rnn.input_size,
        hidden_size=rnn.hidden_size,
        output_size=1 if head is None else head.out_features,
        activation=rnn.nonlinearity if reads_phi else "tanh",
        cell=kind,
        bias=rnn.bias,
        dropout=float(rnn.dropout),
    )
    params = {name: _to_numpy(p) for name, p in rnn.named_parameters()}
    if head is None:
        drawn = init_params(config, InitSpec(seed=seed))
        params.update({k: v for k, v in drawn.items() if "head" in k})
    else:
        params["head.weight"] = _to_numpy(head.weight)
        params["head.bias"] = (
            _to_numpy(head.bias) if head.bias is not None else np.zeros(head.out_features)
        )
    return Model(config, params, random_head=head is None)


def _to_numpy(value) -> np.ndarray:
    """A float64 numpy copy of a numpy array or torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().double().numpy()
    return np.array(value, dtype=np.float64)
