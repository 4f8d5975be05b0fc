"""Seeded initialization schemes for the weights of a deep RNN, under torch's parameter names.

Every layer draws from its own generator, seeded by (seed, layer), so a network of depth L is
the first L layers of the deeper one with the same seed: moving the depth slider adds layers on
top and leaves the ones below unchanged. The head draws from a generator of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprnn_core.cells import cell_type
from deeprnn_core.config import RNNConfig, blocks, check_real, check_seed
from deeprnn_core.engine.stack import one_blas_thread

SCHEMES = ("torch", "gaussian", "orthogonal", "identity")
LOOSE = ("scheme", "recurrent_gain", "input_gain", "bias_scale", "seed")  # the earlier API's order
_HEAD_STREAM = 1_000_003  # seed-sequence entry of the head, far from any layer index


@dataclass(frozen=True)
class InitSpec:
    """How the weights are drawn, as one value: ``Model.init(config, InitSpec(...))``.

    Checked on construction (errors name the field, the rule and the value); the gains and the
    bias scale are stored as floats and the seed as an int, so equal settings hash alike (the
    app keys its caches on it). See ``init_params`` for what each scheme draws.
    """

    scheme: str = "torch"  # one of SCHEMES: the distribution of W_xh^(l) and W_hh^(l)
    recurrent_gain: float = 1.0  # g of W_hh^(l), the path through time (1: the scheme's own scale)
    input_gain: float = 1.0  # g of W_xh^(l), the path through depth (X_t into layer 1 too)
    bias_scale: float = 1.0  # b_h^(l) ~ bias_scale * U(+-1/sqrt(h)); 0 turns the biases off
    seed: int = 0  # layer k draws from default_rng([seed, k]): deeper stacks keep lower layers
    # the LRU's initial eigenvalues (cells/lru.py): |lambda| uniform in area on the ring
    # lru_r_min <= |lambda| <= lru_r_max < 1, phases uniform in [0, lru_theta_max]
    lru_r_min: float = 0.9
    lru_r_max: float = 0.999
    lru_theta_max: float = float(np.pi)

    def __post_init__(self) -> None:
        if not isinstance(self.scheme, str):
            raise TypeError(f"scheme must be a str, one of {SCHEMES}, got {self.scheme!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        for name in ("recurrent_gain", "input_gain", "bias_scale"):
            object.__setattr__(self, name, check_real(name, getattr(self, name)))
        object.__setattr__(self, "seed", check_seed("seed", self.seed))
        for name in ("lru_r_min", "lru_r_max", "lru_theta_max"):
            object.__setattr__(self, name, check_real(name, getattr(self, name), low_open=True))
        if not self.lru_r_min <= self.lru_r_max < 1.0:
            raise ValueError(
                "the LRU ring needs 0 < lru_r_min <= lru_r_max < 1 (|lambda| < 1), got "
                f"lru_r_min={self.lru_r_min}, lru_r_max={self.lru_r_max}"
            )
        if not 0.0 < self.lru_theta_max <= 2 * np.pi:
            raise ValueError(f"lru_theta_max must be in (0, 2 pi], got {self.lru_theta_max}")


DEFAULT_INIT = InitSpec()  # torch's default draw, seed 0: the default of functions that take one


def init_spec(
    init: InitSpec | str | None = None, loose: tuple = (), loose_keywords: dict | None = None
) -> InitSpec:
    """``init`` itself, or the InitSpec of the earlier loose form (scheme, recurrent_gain,
    input_gain, bias_scale, seed) by position (the scheme in ``init``'s place) or by keyword,
    so that ``Model.init(config, scheme="gaussian", seed=3)`` keeps working."""
    keywords = dict(loose_keywords or {})
    if isinstance(init, InitSpec):
        if loose or keywords:
            given = ", ".join([*map(repr, loose), *keywords])
            raise TypeError(
                "pass the init settings either as init=InitSpec(...) or as the loose arguments "
                f"{LOOSE}, not both; got init={init!r} and {given}"
            )
        return init
    if init is not None and not isinstance(init, str):
        raise TypeError(
            "init must be an InitSpec (or, as before, a scheme's name), "
            f"got {type(init).__name__} {init!r:.80}"
        )
    if loose and init is None:
        raise TypeError(f"init must be a scheme's name before the loose {loose!r}, got None")
    positional = ((init,) if init is not None else ()) + tuple(loose)
    if len(positional) > len(LOOSE):
        raise TypeError(f"the init settings are at most {LOOSE}, got {len(positional)} values")
    given = dict(zip(LOOSE, positional))
    for name, value in keywords.items():
        if name not in LOOSE:
            raise TypeError(f"unexpected keyword argument {name!r}; the init settings are {LOOSE}")
        if name in given:
            raise TypeError(f"init setting {name!r} given twice, by position and by keyword")
        given[name] = value
    return InitSpec(**given)


def init_params(
    config: RNNConfig, init: InitSpec | None = None, *loose, **loose_keywords
) -> dict[str, np.ndarray]:
    """Draw every parameter of ``config`` (float64, torch names and shapes) as ``init`` says
    (None: ``DEFAULT_INIT``, torch's default). The earlier loose form, ``init_params(config,
    scheme, recurrent_gain, input_gain, bias_scale, seed)`` by position or keyword, is still
    accepted and builds the InitSpec (see ``init_spec``).

    Schemes, for the recurrent W_hh^(l) with gain g = ``init.recurrent_gain`` and the input/depth
    W_xh^(l) with gain g = ``init.input_gain`` (each gate block of a GRU / LSTM drawn alike):
      torch       g * U(-1/sqrt(h), 1/sqrt(h))   (torch's default at g = 1)
      gaussian    N(0, g^2 / fan_in)
      orthogonal  g * Q, Q (semi-)orthogonal from the QR of a Gaussian matrix
      identity    W_hh = g * I (IRNN); W_xh as gaussian
    Biases are ``init.bias_scale`` * U(-1/sqrt(h), 1/sqrt(h)) in every scheme (0 turns them off).
    The head (W_hq, b_q) is torch's nn.Linear default, U(-1/sqrt(h), 1/sqrt(h)).
    """
    if not isinstance(config, RNNConfig):
        raise TypeError(
            f"config must be an RNNConfig (e.g. RNNConfig(num_layers=2)), "
            f"got {type(config).__name__} {config!r:.80}"
        )
    init = init_spec(init, loose, loose_keywords)
    with one_blas_thread():  # the orthogonal QRs: 38x slower on a busy 2-core machine otherwise
        return _draw(config, init)


def _draw(config: RNNConfig, init: InitSpec) -> dict[str, np.ndarray]:
    scheme, seed = init.scheme, init.seed
    recurrent_gain, input_gain, bias_scale = init.recurrent_gain, init.input_gain, init.bias_scale
    h = config.hidden_size
    bound = 1.0 / np.sqrt(h)
    params: dict[str, np.ndarray] = {}
    for k, cell in enumerate(config.cells):
        rng = np.random.default_rng([int(seed), k])
        n_in, g, kind = config.layer_input_size(k), blocks(cell), cell_type(cell)
        if kind.param_shapes is not None:  # a cell with a layout of its own (cells/mingru.py ...)
            params.update({f"{n}_l{k}": v for n, v in _own(rng, kind, h, n_in, config, init)})
            continue
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


def _own(rng, kind, h: int, n_in: int, config: RNNConfig, init: InitSpec):
    """(name, array) of one layer of a cell with its own layout: its init_layer, or the scheme's
    W_xh blocks (input gain) and biases (bias scale) for the shapes it declares."""
    if kind.init_layer is not None:
        return kind.init_layer(rng, h, n_in, config.bias, init).items()
    out = []
    for name, shape in kind.shapes(h, n_in, config.bias).items():
        if len(shape) == 2:
            rows = [_matrix(rng, init.scheme, h, shape[1], init.input_gain, recurrent=False)
                    for _ in range(shape[0] // h)]  # fmt: skip
            out.append((name, np.concatenate(rows)))
        else:
            bound = 1.0 / np.sqrt(h)
            out.append((name, init.bias_scale * rng.uniform(-bound, bound, shape)))
    return out


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
