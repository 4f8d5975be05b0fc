"""Input sequences X_1..X_T, seeded and reproducible, time-major (T, B, d)."""

from __future__ import annotations

import csv
import io

import numpy as np

from deeprnn_core.config import check_seed
from deeprnn_core.data.files import read_capped, read_safetensors, sniff

SIGNALS = ("noise", "sine", "impulse", "step")
_SIGNAL_STREAM = 2  # seed-sequence entry of the input, apart from the weights' streams


def make_signal(kind: str, steps: int, batch: int, width: int, seed: int = 0) -> np.ndarray:
    """A (T, B, d) float64 input sequence.

    noise    X_t ~ N(0, 1), independent per step, sample and unit
    sine     sin(2 pi t / period_j + phase), period_j from 8 to 32 steps across units,
             a random phase per sample and unit
    impulse  X_1 = 1, X_t = 0 for t > 1: what the network remembers of one event
    step     X_t = 0 before the middle step, 1 from it on
    """
    if kind not in SIGNALS:
        raise ValueError(f"kind must be one of {SIGNALS}, got {kind!r}")
    for name, value in (("steps", steps), ("batch", batch), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    rng = np.random.default_rng([check_seed("seed", seed), _SIGNAL_STREAM])
    shape = (steps, batch, width)
    if kind == "noise":
        return rng.standard_normal(shape)
    if kind == "sine":
        t = np.arange(1, steps + 1)[:, None, None]
        period = np.linspace(8.0, 32.0, width)[None, None, :]
        phase = rng.uniform(0.0, 2 * np.pi, (1, batch, width))
        return np.sin(2 * np.pi * t / period + phase)
    x = np.zeros(shape)
    if kind == "impulse":
        x[0] = 1.0
    else:
        x[steps // 2 :] = 1.0
    return x


MAX_COLUMNS = 4096  # widest CSV row read (d plus targets); a wider one is refused unparsed


def load_sequence(
    source,
    *,
    input_size: int | None,
    max_bytes: int,
    max_steps: int,
    max_batch: int,
    standardize: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A user's sequence from a file, checked: ``(x, y)``, x (T, B, d) float64 and the targets
    y (T, B, q) or None. The format is read from the content, never from the file name.

    - CSV: T rows of numbers, comma separated, header optional (a first row with no number in
      it); B = 1.
    - .npy: (T, d) or (T, B, d), read with ``allow_pickle=False``.
    - safetensors: tensor ``x`` (T, d) or (T, B, d), optional ``y`` likewise.
    In CSV and .npy the first d = ``input_size`` columns are X_t, any further ones the targets
    (``input_size=None``: every column is an input, d is the file's width).
    ``standardize`` rescales each input unit to mean 0, std 1 over T and B (targets unchanged).
    Refusals are ``ValueError``s naming the rule: text, inf / nan, ragged rows, too many
    columns, over ``max_bytes``, T over ``max_steps``, B over ``max_batch``, the wrong width.
    """
    data = read_capped(source, max_bytes, "sequence file")
    kind = sniff(data)
    targets = None
    if kind == "npy":
        try:
            values = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise ValueError(f"sequence .npy could not be read ({err})") from None
    elif kind == "safetensors":
        tensors = read_safetensors(data)
        if "x" not in tensors or set(tensors) - {"x", "y"}:
            raise ValueError(f"sequence safetensors must hold x (and y), got {sorted(tensors)}")
        values, targets = tensors["x"], tensors.get("y")
    elif kind == "text":
        values = _read_csv(data)
    else:
        raise ValueError("sequence file must be CSV, .npy or safetensors, got a zip archive")
    x = _as_sequence("sequence", values)
    if input_size is None:
        input_size = x.shape[2]
    if targets is None and x.shape[2] > input_size:
        x, targets = x[..., :input_size], x[..., input_size:]
    if x.shape[2] != input_size:
        raise ValueError(
            f"sequence width must equal the model's input_size d. Expected {input_size}, "
            f"got {x.shape[2]}"
        )
    y = None if targets is None else _as_sequence("targets", targets)
    if y is not None and y.shape[:2] != x.shape[:2]:
        raise ValueError(f"targets must have (T, B) = {x.shape[:2]}, got {y.shape[:2]}")
    T, B = x.shape[:2]
    if T > max_steps:
        raise ValueError(f"sequence has T = {T} steps, over max_steps = {max_steps}")
    if B > max_batch:
        raise ValueError(f"sequence has B = {B} samples, over max_batch = {max_batch}")
    return (standardized(x) if standardize else x), y


def standardized(x: np.ndarray) -> np.ndarray:
    """(T, B, d) -> the same with each unit at mean 0 and std 1 over T and B (a constant unit
    is only centred)."""
    std = x.std(axis=(0, 1))
    return (x - x.mean(axis=(0, 1))) / np.where(std > 0, std, 1.0)


def _as_sequence(name: str, values) -> np.ndarray:
    """A (T, B, width) float64 array from (T, width) or (T, B, width), finite."""
    values = np.asarray(values)
    if values.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {values.dtype}")
    if values.ndim == 2:
        values = values[:, None, :]
    if values.ndim != 3 or 0 in values.shape:
        raise ValueError(f"{name} must be (T, width) or (T, B, width), got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        t = int(np.argwhere(bad)[0][0]) + 1
        raise ValueError(f"{name} holds {int(bad.sum())} inf/nan values (first at step {t})")
    return values.astype(np.float64)


def _read_csv(data: bytes) -> np.ndarray:
    """The numbers of a CSV file, (T, columns); header optional."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("sequence file is not UTF-8 text, .npy or safetensors") from None
    first = text.split("\n", 1)[0]
    if first.count(",") + 1 > MAX_COLUMNS:
        raise ValueError(
            f"CSV row 1 has {first.count(',') + 1} columns, over the limit of {MAX_COLUMNS}"
        )
    try:
        rows = [r for r in csv.reader(text.splitlines()) if any(f.strip() for f in r)]
    except csv.Error as err:
        raise ValueError(f"sequence file is not valid CSV ({err})") from None
    if rows and not any(_is_number(f) for f in rows[0]):
        rows = rows[1:]  # a header
    if not rows:
        raise ValueError("CSV holds no rows of numbers")
    width = len(rows[0])
    values = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"CSV rows are ragged: data row {i + 1} has {len(row)} columns, not {width}"
            )
        for j, field in enumerate(row):
            if not _is_number(field):
                raise ValueError(
                    f"CSV data row {i + 1}, column {j + 1} is not a number: {field[:40]!r}"
                )
            values[i, j] = float(field)
    return values


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True
