"""Seeded initialization schemes for the weights of a deep RNN, under torch's parameter names.

Every layer draws from its own generator, seeded by (seed, layer), so a network of depth L is
the first L layers of the deeper one with the same seed: moving the depth slider adds layers on
top and leaves the ones below unchanged. The head draws from a generator of its own.
"""

from __future__ import annotations

import numpy as np

from deeprnn_core.config import RNNConfig, blocks, check_real, check_seed
from deeprnn_core.engine.stack import one_blas_thread

SCHEMES = ("torch", "gaussian", "orthogonal", "identity")
_HEAD_STREAM = 1_000_003  # seed-sequence entry of the head, far from any layer index


def init_params(
    config: RNNConfig,
    scheme: str = "torch",
    recurrent_gain: float = 1.0,
    input_gain: float = 1.0,
    bias_scale: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Draw every parameter of ``config`` (float64, torch names and shapes).

    Schemes, for the recurrent W_hh^(l) with gain g = ``recurrent_gain`` and the input/depth
    W_xh^(l) with gain g = ``input_gain`` (each gate block of a GRU / LSTM drawn alike):
      torch       g * U(-1/sqrt(h), 1/sqrt(h))   (torch's default at g = 1)
      gaussian    N(0, g^2 / fan_in)
      orthogonal  g * Q, Q (semi-)orthogonal from the QR of a Gaussian matrix
      identity    W_hh = g * I (IRNN); W_xh as gaussian
    Biases are ``bias_scale`` * U(-1/sqrt(h), 1/sqrt(h)) in every scheme (0 turns them off).
    The head (W_hq, b_q) is torch's nn.Linear default, U(-1/sqrt(h), 1/sqrt(h)).
    """
    if not isinstance(config, RNNConfig):
        raise TypeError(
            f"config must be an RNNConfig (e.g. RNNConfig(num_layers=2)), "
            f"got {type(config).__name__} {config!r:.80}"
        )
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    recurrent_gain = check_real("recurrent_gain", recurrent_gain)
    input_gain = check_real("input_gain", input_gain)
    bias_scale = check_real("bias_scale", bias_scale)
    seed = check_seed("seed", seed)
    with one_blas_thread():  # the orthogonal QRs: 38x slower on a busy 2-core machine otherwise
        return _draw(config, scheme, recurrent_gain, input_gain, bias_scale, seed)


def _draw(config, scheme, recurrent_gain, input_gain, bias_scale, seed) -> dict[str, np.ndarray]:
    h = config.hidden_size
    bound = 1.0 / np.sqrt(h)
    params: dict[str, np.ndarray] = {}
    for k, cell in enumerate(config.cells):
        rng = np.random.default_rng([int(seed), k])
        n_in, g = config.layer_input_size(k), blocks(cell)
        w_ih = [_matrix(rng, scheme, h, n_in, input_gain, recurrent=False) for _ in range(g)]
        w_hh = [_matrix(rng, scheme, h, h, recurrent_gain, recurrent=True) for _ in range(g)]
        params[f"weight_ih_l{k}"] = np.concatenate(w_ih)  # (G*h, n_in) = W_xh^(l)^T
        params[f"weight_hh_l{k}"] = np.concatenate(w_hh)  # (G*h, h)    = W_hh^(l)^T
        if config.bias:
            params[f"bias_ih_l{k}"] = bias_scale * rng.uniform(-bound, bound, g * h)
            params[f"bias_hh_l{k}"] = bias_scale * rng.uniform(-bound, bound, g * h)
        if config.layer_norm:
            params[f"ln_weight_l{k}"] = np.ones(h)
            params[f"ln_bias_l{k}"] = np.zeros(h)
    rng = np.random.default_rng([int(seed), _HEAD_STREAM])
    params["head.weight"] = rng.uniform(-bound, bound, (config.output_size, h))  # W_hq^T
    params["head.bias"] = rng.uniform(-bound, bound, config.output_size)  # b_q
    return params


def _matrix(
    rng: np.random.Generator, scheme: str, rows: int, cols: int, gain: float, recurrent: bool
) -> np.ndarray:
    """One (rows, cols) block in torch layout (out, in), fan_in = cols."""
    if scheme == "torch":
        bound = 1.0 / np.sqrt(rows)  # torch bounds every RNN weight by 1/sqrt(hidden_size)
        return gain * rng.uniform(-bound, bound, (rows, cols))
    if scheme == "orthogonal":
        big, small = max(rows, cols), min(rows, cols)
        q, r = np.linalg.qr(rng.standard_normal((big, small)))
        q = q * np.sign(np.diag(r))  # Haar-distributed, as torch.nn.init.orthogonal_
        return gain * (q if rows >= cols else q.T)
    if scheme == "identity" and recurrent:
        return gain * np.eye(rows)
    return rng.normal(0.0, gain / np.sqrt(cols), (rows, cols))
