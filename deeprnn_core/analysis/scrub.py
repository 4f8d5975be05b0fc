"""The (t, l) grids of every depth 1..L of one network, for scrubbing through depth.

A network of depth D is the lower D layers of the deeper one with the same seed (see ``init``),
with the head on layer D. So one forward pass of the deepest stack gives every depth's H_t^(l)
(layer l's states do not depend on what sits above it). The gradients do: depth D's head feeds
G_t^(D), and the adjoint carries it down. The backward pass is linear in what enters it, and
every depth shares the forward pass, so the backward of all depths runs as ONE sweep from the
top layer down: at layer l the depths D >= l are side by side on the engine's stack axis S
(the weights broadcast over it), and depth l joins there with its head's gradient. That is the
work of L(L+1)/2 layer-backwards, but only L Python loops over time instead of L(L+1)/2.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from deeprnn_core.config import RNNConfig, check_seed
from deeprnn_core.engine import stack as engine
from deeprnn_core.engine.layers import backward_layer
from deeprnn_core.engine.norms import stable_norm
from deeprnn_core.trace import DTYPES, as_sequence  # one input check for trace and scrub
from deeprnn_core.weights.model import Model

MAX_ELEMENTS = 2**22  # T * depths * B * h of one backward array: depths run in groups below it


@dataclass(frozen=True)
class DepthScrub:
    """Every depth D = 1..L of one network; arrays indexed [D - 1, l - 1, t - 1].

    The depth-D network is the lower D layers of the depth-L one, its head on layer D.
    """

    hidden_norm: np.ndarray  # (L, T) |H_t^(l)|: the same in every network that has layer l
    grad_hidden_norm: np.ndarray  # (L, L, T) |G_t^(l)| of the depth-D network; nan for l > D
    nonfinite_hidden: np.ndarray  # (L, T) bool: H_t^(l) holds inf or nan
    nonfinite_grad: np.ndarray  # (L, L, T) bool: G_t^(l) of depth D holds inf / nan (l <= D)
    output_norm: np.ndarray  # (L, T) |O_t| of the depth-D network
    loss: np.ndarray  # (L,) the loss of the depth-D network

    @property
    def attenuation(self) -> np.ndarray:
        """(L,) |G_1^(1)| / |G_T^(D)| of each depth D, as analysis.attenuation of its trace."""
        depth = np.arange(self.grad_hidden_norm.shape[0])
        with np.errstate(all="ignore"):
            return self.grad_hidden_norm[:, 0, 0] / self.grad_hidden_norm[depth, depth, -1]


def config_at_depth(config: RNNConfig, depth: int) -> RNNConfig:
    """``config`` cut to its lower ``depth`` layers (per-layer lists cut alike)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= config.num_layers:
        raise ValueError(f"depth must be an int in 1..{config.num_layers}, got {depth!r}")

    def cut(value):
        return value if isinstance(value, str) else tuple(value[:depth])

    return replace(
        config, num_layers=depth, activation=cut(config.activation), cell=cut(config.cell)
    )


def depth_scrub(
    model: Model,
    x,
    loss_kind: str = "last",
    *,
    dtype: str = "float64",
    training: bool = True,
    dropout_seed: int = 0,
    max_elements: int = MAX_ELEMENTS,
) -> DepthScrub:
    """The |H| and |G| grids that ``trace`` gives for every depth 1..L of ``model``.

    Args:
        model: the deepest network (depth L).
        x: (T, B, d) input; the target is zero, the initial states are zero (as ``trace``'s
            defaults).
        loss_kind, dtype, training, dropout_seed: as ``trace``. Dropout masks are drawn layer by
            layer from one generator, so depth D's masks are the first D - 1 of depth L's.
        max_elements: the largest T * depths * B * h of one backward array; depths run in
            groups below it (1 depth per group is the plain per-depth backward).
    Returns:
        a DepthScrub; depth D's grids equal ``analysis.cell_norms(trace(model_D, x, ...))``.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    if loss_kind not in engine.LOSS_KINDS:
        raise ValueError(f"loss_kind must be one of {engine.LOSS_KINDS}, got {loss_kind!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {training!r}")
    dropout_seed = check_seed("dropout_seed", dropout_seed)
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
        raise ValueError(f"max_elements must be an int >= 1, got {max_elements!r}")
    c = model.config
    L, h = c.num_layers, c.hidden_size
    x = as_sequence("x", x, c.input_size, "input_size", dtype)
    T, B = x.shape[:2]
    y = np.zeros((T, 1, B, c.output_size), dtype=dtype)
    layers = model.engine_layers(dtype)
    head_w = model.params["head.weight"].T[None].astype(dtype)  # (1, h, q)
    head_b = model.params["head.bias"][None, None].astype(dtype)  # (1, 1, q)
    rng = np.random.default_rng([dropout_seed, 1]) if training and c.dropout else None
    grad_hidden_norm = np.full((L, L, T), np.nan)
    nonfinite_grad = np.zeros((L, L, T), dtype=bool)
    output_norm, losses = np.empty((L, T)), np.empty(L)
    group = max(1, max_elements // (T * B * h))  # depths side by side in one backward
    with np.errstate(all="ignore"), engine.one_blas_thread():
        h0 = np.zeros((L, 1, B, h), dtype=dtype)
        fwd = engine.forward(layers, x[:, None], h0, None, c.dropout, rng)

        def head_gradient(depth: int) -> np.ndarray:
            """(T, 1, B, h) dLoss/dO_t W_hq^T of the depth-``depth`` network."""
            top = fwd.records[depth - 1].hidden
            output, value, grad_output = engine.head_loss(top, head_w, head_b, y, loss_kind)
            output_norm[depth - 1] = stable_norm(output[:, 0], (1, 2))
            losses[depth - 1] = value[0]
            return grad_output @ head_w.swapaxes(-1, -2)

        for high in range(L, 0, -group):  # depths low..high, the deepest group first
            low = max(1, high - group + 1)
            carried = None  # (T, K, B, h) reaching layer k from above, for depths k+2..high
            for k in range(high - 1, -1, -1):
                parts = ([head_gradient(k + 1)] if k + 1 >= low else []) + (
                    [carried] if carried is not None else []
                )
                ext = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
                depths = np.arange(max(low, k + 1), high + 1)  # ascending, as ext's axis 1
                grads = backward_layer(layers[k], fwd.records[k], fwd.inputs[k], ext, False)
                grad = grads.grad_hidden  # (T, K, B, h)
                grad_hidden_norm[depths - 1, k] = stable_norm(grad, (2, 3)).T
                nonfinite_grad[depths - 1, k] = ~np.isfinite(grad).all(axis=(2, 3)).T
                if k:
                    carried = grads.grad_input
                    if fwd.masks[k - 1] is not None:
                        carried = carried * fwd.masks[k - 1]
        hidden = fwd.hidden[:, :, 0]  # (L, T, B, h)
        hidden_norm = stable_norm(hidden, (2, 3))
        nonfinite_hidden = ~np.isfinite(hidden).all(axis=(2, 3))
    return DepthScrub(
        hidden_norm, grad_hidden_norm, nonfinite_hidden, nonfinite_grad, output_norm, losses
    )
