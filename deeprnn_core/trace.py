"""Run a deep RNN step by step and keep everything: every H_t^(l) and its exact gradient."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deeprnn_core.cells import cell_type
from deeprnn_core.config import RNNConfig, check_real, check_seed
from deeprnn_core.engine import stack as engine
from deeprnn_core.engine.cost import trace_cost
from deeprnn_core.engine.overflow import Overflow, first_overflow
from deeprnn_core.renames import renamed_keywords
from deeprnn_core.weights.model import Model

DTYPES = ("float64", "float32")
LOSS_KINDS = (
    *engine.LOSS_KINDS,
    "probe",
)  # probe: dLoss/dH_T^(L) = 1, for a model with no trained head


def physical_memory() -> int:
    """Bytes of RAM of this machine (0 where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


class Cancelled(RuntimeError):
    """A run stopped because its ``cancel()`` returned True."""


@dataclass(eq=False)
class Trace:
    """Everything one forward and backward pass computed. L layers, T steps, batch B, width h.

    Per-layer arrays are indexed [l - 1, t - 1]. A cell that overflowed holds inf or nan; the
    ``nonfinite_*`` masks say where, and ``overflow_record`` (``overflow`` in words) says where
    it began.
    """

    config: RNNConfig  # the architecture that ran
    loss_kind: str | tuple[int, ...]  # "last": O_T only; "all": sum over t; or scored steps;
    # "probe": the sum of H_T^(L) over batch and units, so G_T^(L) = 1 (the head gets no gradient)
    dtype: str  # "float64" or "float32", the precision of every array here
    input: np.ndarray  # (T, B, d) X_t = H_t^(0)
    target: np.ndarray  # (T, B, q) Y_t
    hidden: np.ndarray  # (L, T, B, h) H_t^(l)
    preact: np.ndarray  # (L, T, B, h) A_t^(l), input of phi_l (gated: candidate's, GRU n, LSTM g)
    output: np.ndarray  # (T, B, q) O_t = H_t^(L) W_hq + b_q
    loss: float  # the loss
    grad_output: np.ndarray  # (T, B, q) dLoss/dO_t
    grad_hidden: np.ndarray  # (L, T, B, h) G_t^(l) = dLoss/dH_t^(l), total: through time and depth
    grad_preact: np.ndarray  # (L, T, B, h) dLoss/dA_t^(l)
    param_grads: dict[str, np.ndarray]  # dLoss/dparam (after clipping), torch names and shapes
    param_grad_norm: float  # global norm of all parameter gradients, before clipping
    param_grad_norm_clipped: float  # the same after clipping (equal when clip_norm is None)
    clip_norm: float | None  # max_norm of clip_grad_norm_, or None
    cell_state: np.ndarray | None = None  # (L, T, B, h) C_t^(l) of LSTM layers (nan elsewhere)
    grad_cell_state: np.ndarray | None = None  # (L, T, B, h) dLoss/dC_t^(l), total (LSTM)
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (L, T, B, h), nan where
    # the layer has no such gate: GRU r, z, n; LSTM i, f, g, o
    dropout_masks: np.ndarray | None = None  # (L-1, T, B, h) mask * 1/(1-p) on H^(l) fed up
    objective: str = "mse"  # "mse" or "cross_entropy" (target = class indices (T, B, 1))

    @property
    def nonfinite_hidden(self) -> np.ndarray:
        """(L, T) bool: H_t^(l) holds inf or nan."""
        return ~np.isfinite(self.hidden).all(axis=(2, 3))

    @property
    def nonfinite_grad(self) -> np.ndarray:
        """(L, T) bool: G_t^(l) holds inf or nan."""
        return ~np.isfinite(self.grad_hidden).all(axis=(2, 3))

    @property
    def overflow_record(self) -> Overflow | None:
        """Where inf / nan first appeared, in the engine's order of computation, or None."""
        return first_overflow(self)

    @property
    def overflow(self) -> str | None:
        """``overflow_record`` in words, or None if nothing overflowed."""
        record = self.overflow_record
        return None if record is None else str(record)


@renamed_keywords(loss="loss_kind")  # the keyword's name before issue 10
def trace(
    model: Model,
    x,
    y=None,
    loss_kind="last",
    *,
    objective: str = "mse",
    dtype: str = "float64",
    training: bool = True,
    dropout_seed: int = 0,
    clip_norm: float | None = None,
    h0=None,
    c0=None,
    cancel: Callable[[], bool] | None = None,
    memory_limit: int | None = None,
) -> Trace:
    """Run ``model`` on ``x`` and backpropagate the loss exactly.

    Args:
        model: the network.
        x: (T, B, d) input, numpy or torch, time-major.
        y: (T, B, q) target for mse; (T, B, 1) class indices in [0, q) for cross_entropy;
            zeros when None.
        loss_kind: the steps scored, summed over: "last" (O_T only), "all" (every t), or a sequence
            of distinct 0-based step indices (negative count from the end: range(-10, 0) scores
            the last 10 steps, as the copy task does). "probe": the sum of H_T^(L) over batch
            and units instead of the objective, so that G_T^(L) = 1 and G_t^(l) is the sum of
            the Jacobian's rows dH_T^(L)/dH_t^(l) (for a model whose head is random).
            ``loss=``, its earlier name, still works with a DeprecationWarning.
        objective: "mse" (mean over batch and output units, torch's MSELoss) or
            "cross_entropy" (O_t are logits; mean over the batch, torch's F.cross_entropy).
        dtype: "float64" (default, widest range) or "float32".
        training: dropout is on (config.dropout > 0) only in training mode, as torch.
        dropout_seed: seeds the dropout masks, which the trace returns.
        clip_norm: clip the parameter gradients to this global norm (clip_grad_norm_).
        h0, c0: (L, B, h) initial hidden / LSTM cell states; zeros when None. c0 needs an
            LSTM layer (it is the cell state C_0^(l); other layers have none).
        cancel: called between layers; when it returns True the run stops with Cancelled.
        memory_limit: bytes the run may allocate at its peak (cost.trace_cost); default half
            this machine's RAM. A longer run is refused with a ValueError naming T, before
            anything is allocated.
    Returns:
        a Trace with every H_t^(l), G_t^(l) and parameter gradient.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a deeprnn_core.Model, got {type(model).__name__}")
    c = model.config
    if isinstance(loss_kind, str) and loss_kind not in LOSS_KINDS:
        raise ValueError(
            f"loss_kind must be one of {LOSS_KINDS}, got {loss_kind!r} "
            "(or a sequence of step indices)"
        )
    probe = isinstance(loss_kind, str) and loss_kind == "probe"
    if objective not in engine.OBJECTIVES:
        raise ValueError(f"objective must be one of {engine.OBJECTIVES}, got {objective!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if clip_norm is not None:
        clip_norm = check_real("clip_norm", clip_norm, low=0.0, low_open=True, or_none=True)
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {training!r}")
    dropout_seed = check_seed("dropout_seed", dropout_seed)
    L, h = c.num_layers, c.hidden_size
    x = as_sequence("x", x, c.input_size, "input_size", dtype)
    T, B = x.shape[:2]
    if y is None:
        y = np.zeros((T, B, c.output_size if objective == "mse" else 1), dtype=dtype)
    width = c.output_size if objective == "mse" else 1
    y = as_sequence("y", y, width, "output_size" if objective == "mse" else "1", dtype)
    if y.shape[:2] != (T, B):
        shape = "(T, B, q)" if objective == "mse" else "(T, B, 1)"
        raise ValueError(f"y must have shape {shape} = {(T, B, width)}, got {y.shape}")
    steps = engine.loss_steps("last" if probe else loss_kind, T)
    loss_kind = loss_kind if isinstance(loss_kind, str) else tuple(int(t) for t in steps)
    if objective == "cross_entropy":
        engine.check_class_targets(y[steps], c.output_size)
    limit = physical_memory() // 2 if memory_limit is None else memory_limit
    peak = trace_cost(c, T, B, dtype).peak_bytes
    if limit and peak > limit:
        raise ValueError(
            f"x has T = {T} steps: at L = {L}, h = {h}, B = {B}, {dtype} the trace needs about "
            f"{peak / 2**30:.1f} GiB, over the memory_limit of {limit / 2**30:.1f} GiB; "
            "use fewer steps T (or a smaller L, h or B)"
        )
    h0 = _state("h0", h0, (L, B, h), dtype)
    c0 = _state("c0", c0, (L, B, h), dtype) if c0 is not None else None
    if c0 is not None and not any(cell_type(cell).cell_state for cell in c.cells):
        raise ValueError(
            f"c0 is the LSTM cell state C_0, but no layer of this model has a cell state "
            f"(cell={c.cell!r}); pass h0 only"
        )
    check = None
    if cancel is not None:

        def check() -> None:
            if cancel():
                raise Cancelled("trace stopped between layers: cancel() returned True")

    layers = model.engine_layers(dtype)
    head_w = model.params["head.weight"].T[None].astype(dtype)  # (1, h, q)
    head_b = model.params["head.bias"][None, None].astype(dtype)  # (1, 1, q)
    rng = np.random.default_rng([dropout_seed, 1]) if training and c.dropout else None
    with np.errstate(all="ignore"), engine.one_blas_thread():
        fwd = engine.forward(layers, x[:, None], h0[:, None], _s(c0), c.dropout, rng, check)
        top = fwd.records[-1].hidden
        output, losses, grad_output = engine.head_loss(
            top, head_w, head_b, y[:, None], "last" if probe else loss_kind, objective
        )
        grad_hidden = np.empty_like(fwd.hidden)  # (L, T, 1, B, h)
        grad_preact = np.empty_like(fwd.hidden)
        if probe:  # Loss = sum of H_T^(L): dLoss/dH_T^(L) = 1, nothing reaches the head
            grad_output = np.zeros_like(grad_output)
            losses = top[-1].sum(axis=(-2, -1))  # (1,)
            ext = np.zeros_like(top)  # (T, 1, B, h)
            ext[-1] = 1.0
        else:
            ext = grad_output @ head_w.swapaxes(-1, -2)  # (T, 1, B, h) dLoss/dO_t W_hq^T
        grads = engine.backward(layers, fwd, ext, out=(grad_hidden, grad_preact), check=check)
        param_grads = {}
        for k, g in enumerate(grads):
            param_grads.update({f"{n}_l{k}": v[0] for n, v in g.params.items()})
        param_grads["head.weight"] = np.einsum("tbq,tbh->qh", grad_output[:, 0], top[:, 0])
        param_grads["head.bias"] = grad_output[:, 0].sum(axis=(0, 1))
        param_grads, norm, clipped = engine.clip_gradients(param_grads, clip_norm)
    out = Trace(
        config=c,
        loss_kind=loss_kind,
        dtype=dtype,
        input=x,
        target=y,
        hidden=fwd.hidden[:, :, 0],  # drop S = 1: a view, no copy
        preact=fwd.preact[:, :, 0],
        output=output[:, 0],
        loss=float(losses[0]),
        grad_output=grad_output[:, 0],
        grad_hidden=grad_hidden[:, :, 0],
        grad_preact=grad_preact[:, :, 0],
        param_grads={k: param_grads[k] for k in model.params},
        param_grad_norm=norm,
        param_grad_norm_clipped=clipped,
        clip_norm=clip_norm,
        objective=objective,
    )
    _attach_gated(out, fwd, grads)
    if any(m is not None for m in fwd.masks):
        out.dropout_masks = np.stack([m[:, 0] for m in fwd.masks[:-1]])
    return out


def _attach_gated(out: Trace, fwd: engine.Forward, grads) -> None:
    """Fill the cell states and the gate activations, nan where a layer lacks them."""
    kinds = [cell_type(c) for c in out.config.cells]
    nan = lambda: np.full_like(out.hidden, np.nan)  # noqa: E731
    if any(kind.cell_state for kind in kinds):
        out.cell_state, out.grad_cell_state = nan(), nan()
    h = out.config.hidden_size
    for k, (kind, rec) in enumerate(zip(kinds, fwd.records)):
        for name, value in kind.gate_arrays(rec, h).items():
            if name not in out.gates:
                out.gates[name] = nan()
            out.gates[name][k] = value[:, 0]
        if kind.cell_state:
            out.cell_state[k] = rec.extra["cell"][:, 0]
            out.grad_cell_state[k] = grads[k].grad_cell[:, 0]


def _s(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else a[:, None]


def as_sequence(name: str, value, width: int, width_name: str, dtype: str) -> np.ndarray:
    """Check a time-major sequence as ``trace`` checks its x and y, and return it.

    Args:
        name: the argument's name in the messages ("x", "y", "x_val").
        value: (T, B, width) numpy array or torch tensor of finite real numbers.
        width: the last dimension it must have; ``width_name`` names it ("input_size").
        dtype: "float64" or "float32", of the array returned.
    Returns:
        a C-contiguous (T, B, width) numpy array of ``dtype``.
    Raises:
        TypeError (not an array, not real numbers) or ValueError (shape, inf / nan), naming
        ``name``, the rule and what was given.
    """
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(value).__name__}")
    if value.ndim != 3:
        raise ValueError(
            f"{name} must have 3 dimensions (T, B, {width_name}), got shape {value.shape}"
        )
    if value.shape[0] < 1 or value.shape[1] < 1:
        raise ValueError(f"{name} must have T >= 1 and B >= 1, got shape {value.shape}")
    if value.shape[2] != width:
        raise ValueError(
            f"{name}.shape[-1] must be equal to {width_name}. "
            f"Expected {width}, got {value.shape[2]}"
        )
    if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if not np.isfinite(value).all():
        raise ValueError(
            f"{name} must be finite, got {int((~np.isfinite(value)).sum())} inf/nan values"
        )
    return np.ascontiguousarray(value, dtype=dtype)


def _state(name: str, value, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if value is None:
        return np.zeros(shape, dtype=dtype)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if value.shape != shape:
        raise ValueError(f"{name} must have shape (L, B, h) = {shape}, got {value.shape}")
    if not np.isfinite(value).all():
        raise ValueError(f"{name} must be finite, got inf or nan")
    return value.astype(dtype)
