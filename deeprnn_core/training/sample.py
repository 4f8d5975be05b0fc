"""Text from a trained character-level model (the ``chars`` task): a prompt, then one sampled
character at a time, each fed back as the next input (d2l's "time traveller ..." check)."""

from __future__ import annotations

import numpy as np

from deeprnn_core.data import text
from deeprnn_core.engine import stack as engine
from deeprnn_core.weights.model import Model


def next_char_probabilities(model: Model, ids: np.ndarray) -> np.ndarray:
    """softmax(O_T) after reading the symbols ``ids`` from a zero state (dropout off)."""
    c = model.config
    if c.input_size != len(text.CHARS) or c.output_size != len(text.CHARS):
        raise ValueError(
            f"the model must read and write the {len(text.CHARS)} symbols of the chars task; "
            f"got input_size={c.input_size}, output_size={c.output_size}"
        )
    x = np.eye(len(text.CHARS))[ids][:, None, None, :]  # (T, 1, 1, V)
    h0 = np.zeros((c.num_layers, 1, 1, c.hidden_size))
    fwd = engine.forward(model.engine_layers("float64"), x, h0, None, 0.0, None)
    top = fwd.records[-1].hidden[-1, 0, 0]  # H_T^(L), (h,)
    logits = model.params["head.weight"] @ top + model.params["head.bias"]
    z = np.exp(logits - logits.max())
    return z / z.sum()


def sample_text(
    model: Model, prompt: str, length: int = 60, temperature: float = 1.0, seed: int = 0
) -> str:
    """``prompt`` (mapped to the 27 symbols) and ``length`` characters drawn after it, each
    from softmax(O_t / temperature) given everything before it (temperature 0: the most likely
    character). Seeded: the same call gives the same text."""
    if not isinstance(length, int) or length < 0:
        raise ValueError(f"length must be an int >= 0, got {length!r}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    ids = list(text.encode(prompt)) or [0]
    rng = np.random.default_rng(seed)
    for _ in range(length):
        p = next_char_probabilities(model, np.array(ids))
        if temperature == 0:
            ids.append(int(np.argmax(p)))
            continue
        logp = np.log(np.maximum(p, 1e-300)) / temperature
        q = np.exp(logp - logp.max())
        ids.append(int(rng.choice(len(q), p=q / q.sum())))
    return text.decode(ids)
