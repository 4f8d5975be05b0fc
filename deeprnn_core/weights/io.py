"""Models in and out of files: ``load_model`` (safetensors or a weights-only torch state dict,
architecture inferred from torch's names and shapes), ``save_model`` and ``torch_code``.

The file is untrusted input: see ``files`` for the cap, the format check and the reading. Every
refusal is a ``ValueError`` naming the key or the rule.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from deeprnn_core.cells import REGISTRY, cell_type
from deeprnn_core.config import RNNConfig
from deeprnn_core.data.files import (
    MAX_BYTES,
    read_capped,
    read_tensors,
    safetensors_header,
    sniff,
)
from deeprnn_core.weights.init import init_params
from deeprnn_core.weights.model import Model

MAX_LAYERS = 32  # L of the app's depth slider
MAX_HIDDEN = 1024  # h; the app's trace budget then lowers T and B
_RNN_KEY = re.compile(r"^(?P<prefix>.*?)(?P<kind>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
                      r"_l(?P<layer>\d+)(?P<reverse>_reverse)?$")  # fmt: skip


def _cell_of_blocks() -> dict[int, str]:
    """Weight blocks G -> cell type, among the cells torch has a module for (a bare torch state
    dict says its cell only through the rows of weight_hh: h, 3h or 4h)."""
    return {cell.blocks: name for name, cell in REGISTRY.items() if cell.torch_module}


def rnn_prefixes(tensors: dict) -> list[str]:
    """Every prefix under which a torch RNN's ``weight_ih_l0`` sits ("" for none)."""
    return sorted({m["prefix"] for k in tensors if (m := _RNN_KEY.match(k)) and
                   m["kind"] == "weight_ih" and m["layer"] == "0"})  # fmt: skip


def load_model(
    source,
    *,
    prefix: str | None = None,
    head_prefix: str | None = None,
    activation: str | tuple[str, ...] = "tanh",
    max_bytes: int = MAX_BYTES,
    max_layers: int = MAX_LAYERS,
    max_hidden: int = MAX_HIDDEN,
) -> Model:
    """A Model from a safetensors file or a ``torch.save``d state dict of an nn.RNN / GRU / LSTM
    (and optionally an nn.Linear head), the format read from the content.

    Args:
        source: a path or the file's bytes.
        prefix: the RNN's key prefix (e.g. "rnn.", "encoder.lstm.", "" for bare keys); needed
            only when the file holds several RNNs. The error lists the candidates.
        head_prefix: the head's prefix (e.g. "fc."); by default the one Linear-shaped pair
            (``weight`` (q, h), optional ``bias`` (q,)) outside the RNN. Without one the model
            gets torch's default head drawn from seed 0 and ``random_head=True``.
        activation: phi of plain rnn layers (tanh or relu in torch); weights cannot tell.
        max_bytes: the file's size cap, checked before a path is read.
        max_layers, max_hidden: the largest L and h accepted.
    Returns:
        the Model. A file ``save_model`` wrote (its metadata says so) comes back as it was
        saved: every cell type, activation, residual and layer norm. Any other state dict
        takes its cell type from the gate multiple (h, 3h, 4h rows -> rnn, gru, lstm).
    """
    picked = prefix is not None or head_prefix is not None  # the user chose: ignore the rest
    data = read_capped(source, max_bytes)
    tensors = read_tensors(data, max_bytes)
    for key, value in tensors.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"tensor {key!r} holds {int((~np.isfinite(value)).sum())} inf/nan")
    meta = _deeprnn_metadata(data) if not picked else None
    if meta is not None:
        return _saved_model(meta, tensors, max_layers, max_hidden)
    candidates = rnn_prefixes(tensors)
    if prefix is None:
        if len(candidates) != 1:
            found = ", ".join(repr(p) for p in candidates) or "none"
            raise ValueError(
                f"prefix: the file must hold exactly one RNN (keys weight_ih_l0, ...) or name "
                f"it with prefix=; found {found}"
            )
        prefix = candidates[0]
    elif prefix not in candidates:
        raise ValueError(f"prefix {prefix!r} holds no weight_ih_l0; candidates: {candidates}")
    own = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    config, params = _infer_rnn(own, prefix, activation, max_layers, max_hidden)
    used = {prefix + k for k in params}
    rest = {k: v for k, v in tensors.items() if k not in used}
    head, head_keys = _find_head(rest, config.hidden_size, head_prefix)
    unexpected = sorted(set(rest) - head_keys)
    under_rnn = [k for k in unexpected if k.startswith(prefix)] if prefix else []
    if under_rnn or (unexpected and not picked):
        raise ValueError(
            f"unexpected keys {(under_rnn or unexpected)[:5]}: not part of the RNN "
            f"{prefix!r} or its head; pass prefix= and head_prefix= to pick them out"
        )
    if head is None:  # torch's default head from seed 0, as from_torch(rnn) draws it
        config = RNNConfig(**{**_fields(config), "output_size": 1})
        one = RNNConfig(1, 1, config.hidden_size)  # the head's own stream: only h and q matter
        params.update({k: v for k, v in init_params(one).items() if k.startswith("head.")})
        return Model(config, params, random_head=True)
    config = RNNConfig(**{**_fields(config), "output_size": head["head.weight"].shape[0]})
    return Model(config, {**params, **head})


def _deeprnn_metadata(data: bytes) -> dict | None:
    """The metadata ``save_model`` writes, when ``data`` is such a file; None otherwise."""
    if sniff(data) != "safetensors":
        return None
    meta = safetensors_header(data).get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != "deeprnn":
        return None
    return meta


def _saved_model(meta: dict, tensors: dict, max_layers: int, max_hidden: int) -> Model:
    """The Model of a file ``save_model`` wrote: every cell type (torch's or not), activation,
    residual and layer norm from its metadata, the sizes from its tensors; Model checks every
    name and shape against that config. Metadata is untrusted text: a bad field is named."""

    def flag(name: str) -> bool:
        value = meta.get(name)
        if value not in ("True", "False"):
            raise ValueError(f"metadata {name!r} must be 'True' or 'False', got {value!r:.40}")
        return value == "True"

    def per_layer(name: str, num_layers: int):
        value = meta.get(name)
        if not isinstance(value, str) or len(value.split(",")) != num_layers:
            raise ValueError(
                f"metadata {name!r} must name one value per layer ({num_layers}), got {value!r:.40}"
            )
        values = tuple(value.split(","))
        return values[0] if len(set(values)) == 1 else values

    layers = {int(m["layer"]) for k in tensors if (m := _RNN_KEY.match(k)) and not m["prefix"]}
    num_layers = max(layers) + 1 if layers else 0
    if not 1 <= num_layers <= max_layers or layers != set(range(num_layers)):
        raise ValueError(f"the file holds layers {sorted(layers)[:5]}, expected 0..L-1 with "
                         f"1 <= L <= {max_layers}")  # fmt: skip
    for key in ("weight_ih_l0", "head.weight"):  # every cell type has a weight_ih
        if key not in tensors or tensors[key].ndim != 2:
            raise ValueError(f"key {key!r} is missing or not a matrix")
    hidden = tensors["head.weight"].shape[1]  # the head reads H_t^(L): (q, h)
    if not 1 <= hidden <= max_hidden:
        raise ValueError(f"key head.weight: h = {hidden}, expected 1 <= h <= {max_hidden}")
    config = RNNConfig(
        num_layers=num_layers,
        input_size=tensors["weight_ih_l0"].shape[1],
        hidden_size=hidden,
        output_size=tensors["head.weight"].shape[0],
        activation=per_layer("activation", num_layers),
        cell=per_layer("cell", num_layers),
        bias=flag("bias") if "bias" in meta else "bias_ih_l0" in tensors,  # the LRU has none
        residual=flag("residual"),
        layer_norm=flag("layer_norm"),
    )
    return Model(config, tensors, random_head=flag("random_head"))


def _fields(config: RNNConfig) -> dict:
    return {f: getattr(config, f) for f in config.__dataclass_fields__}


def _infer_rnn(own: dict, prefix: str, activation, max_layers: int, max_hidden: int):
    """(config, params) of the RNN whose keys, without ``prefix``, are ``own``."""
    layers = defaultdict(dict)
    for key, value in sorted(own.items()):
        m = _RNN_KEY.match(key)
        if not m or m["prefix"]:
            continue
        if m["reverse"]:
            raise ValueError(f"key {prefix + key!r}: bidirectional RNNs are not supported")
        if m["kind"] == "weight_hr":
            raise ValueError(f"key {prefix + key!r}: LSTM proj_size (projections) is not supported")
        layers[int(m["layer"])][m["kind"]] = value
    num_layers = max(layers) + 1
    if num_layers > max_layers:
        raise ValueError(f"the RNN has {num_layers} layers, more than max_layers = {max_layers}")
    w_hh = layers[0].get("weight_hh")
    if w_hh is None or w_hh.ndim != 2 or w_hh.shape[1] == 0:
        raise ValueError(f"key {prefix}weight_hh_l0 is missing or not a (G h, h) matrix")
    hidden = w_hh.shape[1]
    if hidden > max_hidden:
        raise ValueError(f"key {prefix}weight_hh_l0: h = {hidden}, over max_hidden = {max_hidden}")
    gates, rows_left = divmod(w_hh.shape[0], hidden)
    of_blocks = _cell_of_blocks()
    if rows_left or gates not in of_blocks:
        rows = [f"{g}h" if g > 1 else "h" for g in of_blocks]
        rows = ", ".join(rows[:-1]) + f" or {rows[-1]}" if len(rows) > 1 else rows[0]
        raise ValueError(
            f"key {prefix}weight_hh_l0 has shape {w_hh.shape}: rows must be {rows} "
            f"({', '.join(of_blocks.values())}) for h = {hidden}"
        )
    cell = of_blocks[gates]
    w_ih = layers[0]["weight_ih"]
    if w_ih.ndim != 2 or w_ih.shape[1] == 0:
        raise ValueError(f"key {prefix}weight_ih_l0 has shape {w_ih.shape}, not (G h, d)")
    d = w_ih.shape[1]
    bias = "bias_ih" in layers[0] or "bias_hh" in layers[0]
    config = RNNConfig(num_layers, d, hidden, activation=activation, cell=cell, bias=bias)
    params = {}
    for k in range(num_layers):
        for kind in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ()):
            name = f"{kind}_l{k}"
            want = (gates * hidden,) + (() if kind.startswith("bias") else
                   (config.layer_input_size(k) if kind == "weight_ih" else hidden,))  # fmt: skip
            if kind not in layers[k]:
                raise ValueError(f"missing key {prefix + name!r} ({cell} layer {k + 1} of "
                                 f"{num_layers}, bias={bias})")  # fmt: skip
            if layers[k][kind].shape != want:
                got = layers[k][kind].shape
                raise ValueError(
                    f"key {prefix + name!r} has shape {tuple(got)}, expected {want} for a "
                    f"{cell} stack with d = {config.input_size}, h = {hidden}"
                )
            params[name] = layers[k][kind]
        extra = (
            set(layers[k])
            - {"weight_ih", "weight_hh"}
            - ({"bias_ih", "bias_hh"} if bias else set())
        )
        if extra:
            raise ValueError(f"unexpected key {prefix}{sorted(extra)[0]}_l{k} (bias={bias})")
    return config, params


def _find_head(rest: dict, hidden: int, head_prefix: str | None):
    """The head's params under torch's names and the file keys they came from, or (None, ∅)."""
    found = sorted(k[: -len("weight")] for k, v in rest.items()
                   if k.endswith("weight") and v.ndim == 2 and v.shape[1] == hidden)  # fmt: skip
    if head_prefix is None:
        if len(found) > 1:
            raise ValueError(f"head_prefix: several Linear-shaped heads {found}; pick one")
        if not found:
            return None, set()
        head_prefix = found[0]
    if head_prefix not in found:
        raise ValueError(
            f"head_prefix {head_prefix!r}: no {head_prefix}weight of shape (q, {hidden}); "
            f"candidates: {found}"
        )
    weight = rest[head_prefix + "weight"]
    bias = rest.get(head_prefix + "bias", np.zeros(weight.shape[0]))
    if bias.shape != (weight.shape[0],):
        raise ValueError(
            f"key {head_prefix}bias has shape {tuple(bias.shape)}, expected ({weight.shape[0]},)"
        )
    keys = {head_prefix + "weight"} | ({head_prefix + "bias"} & set(rest))
    return {"head.weight": weight, "head.bias": bias}, keys


def save_model(model: Model) -> bytes:
    """The model's weights as a safetensors file under torch's names (float64): the RNN's
    ``weight_ih_l{k}`` ... as in ``nn.RNN.state_dict()``, the head as ``head.weight`` /
    ``head.bias``; the config in the metadata."""
    from safetensors.numpy import save

    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    c = model.config
    meta = {"cell": ",".join(c.cells), "activation": ",".join(c.activations),
            "residual": str(c.residual), "layer_norm": str(c.layer_norm), "bias": str(c.bias),
            "random_head": str(model.random_head), "format": "deeprnn"}  # fmt: skip
    return save({k: np.ascontiguousarray(v) for k, v in model.params.items()}, metadata=meta)


def torch_code(model: Model, path: str = "deeprnn_model.safetensors") -> str:
    """A few lines of torch that rebuild the model as nn.RNN / GRU / LSTM + nn.Linear and load
    the file ``save_model`` wrote. A model torch cannot express as one module (mixed cells or
    activations, residual, layer norm) is refused with the reason."""
    c = model.config
    first = cell_type(c.cells[0])
    why = [w for w, bad in (("mixed cell types", len(set(c.cells)) > 1),
           (f"cell {first.name!r} (torch.nn has no module for it)", first.torch_module is None),
           ("mixed activations", first.activation and len(set(c.activations)) > 1),
           ("residual connections", c.residual), ("layer norm", c.layer_norm),
           (f"activation {c.activations[0]!r} (nn.RNN has tanh or relu)",
            first.activation and c.activations[0] not in ("tanh", "relu")))
           if bad]  # fmt: skip
    if why:
        raise ValueError(f"model: nn.RNN / GRU / LSTM cannot express {', '.join(why)}")
    kind = first.torch_module
    extra = f", nonlinearity={c.activations[0]!r}" if kind == "RNN" else ""
    note = "  # random head: drawn, not trained" if model.random_head else ""
    return (
        "import torch\nfrom safetensors.torch import load_file\n\n"
        f"weights = load_file({path!r})\n"
        f"rnn = torch.nn.{kind}({c.input_size}, {c.hidden_size}, num_layers={c.num_layers}, "
        f"bias={c.bias}{extra}, dropout={c.dropout}, dtype=torch.float64)  # time-major\n"
        f"head = torch.nn.Linear({c.hidden_size}, {c.output_size}, dtype=torch.float64){note}\n"
        "rnn.load_state_dict({k: v for k, v in weights.items() if not k.startswith('head.')})\n"
        "head.load_state_dict({k[5:]: v for k, v in weights.items() if k.startswith('head.')})\n"
        "# outputs, state = rnn(x)  # x: (T, B, d); O_t = head(outputs)\n"
    )
