"""The linear recurrence h_t = a_t * h_{t-1} + b_t (element-wise) over all T: the sequential
loop, the reference, and a vectorised scan over time, for the cells whose recurrence is
element-wise (minGRU, minLSTM, LRU).

Gated (real a_t in (0, 1], minGRU / minLSTM), in log space as Feng et al. (2024, arXiv
2410.01201, section 3 and appendix B): with log A_t = sum_{s <= t} log a_s (a cumulative sum),

    h_t = A_t h_0 + sum_{s <= t} exp(log A_t - log A_s + log b_s),

the sum a log-cumsum-exp (``np.logaddexp.accumulate``), once over the positive and once over
the negative part of b (b may have either sign here: the candidate is x W_h + b_h, not the
paper's positive g(x)). It runs in chunks of ``CHUNK`` steps (all chunks at once, then one
step per chunk to carry h across them) so the log-cumsums stay short: their rounding grows with
|log A_t|, and over a whole long sequence it would pass 1e-12.

Constant (complex lambda, the LRU), by powers (Orvieto et al. 2023, arXiv 2303.06349, section
3.3 uses an associative scan): h_t = sum_{s <= t} lambda^(t - s) b_s (h_0 = 0) in log2(T)
doubling passes, b_t += lambda^d b_{t-d} for d = 1, 2, 4, ... (|lambda^d| <= 1: nothing grows).

``METHOD`` picks: None (the default) runs whichever bench/scan.py measured faster, "loop" or
"scan" forces one (tests/test_core_new_cells.py holds them to 1e-12). Measured 2026-12-07 on
the 2-core machine (h = 128, B = 1, float64, one thread): numpy's loop costs about 1 us per
step, and the scans do a few passes of transcendental or complex work over all T B h entries,
so on one core the gated log-space scan is 6-11x slower than the loop at every T from 32 to
1000, and the doubling scan of powers 0.83-0.88x of the loop up to T = 128 but 1.2-3.5x from
T = 256 on (its work is T log2 T); with a batch the loop's per-step cost is shared by B h
entries while the scans' work grows with them (at B = 32, h = 32, T = 100 the doubling scan
took most of an LRU trace). The default therefore runs the loop: what the scan buys is
parallel hardware, which this engine does not use.
"""

from __future__ import annotations

import numpy as np

METHOD: str | None = None  # None: the faster one as measured (the loop); "loop" or "scan"
CHUNK = 64  # steps per chunk of the log-space scan


def use_scan(steps: int, kind: str) -> bool:
    """Whether a ``kind`` ("gated" or "power") recurrence of ``steps`` steps runs as the scan:
    METHOD when set, else the loop, as measured (the module's docstring)."""
    return METHOD == "scan"


def gated_loop(a: np.ndarray, b: np.ndarray, h0: np.ndarray, out: np.ndarray) -> np.ndarray:
    """h_t = a_t * h_{t-1} + b_t for t = 1..T, step by step, into ``out`` (T, ...)."""
    h = h0
    for t in range(a.shape[0]):
        h = np.multiply(a[t], h, out=out[t])
        h += b[t]
    return out


def gated_scan(log_a: np.ndarray, b: np.ndarray, h0: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The same h_t from log a_t (T, ...) in log space, chunk by chunk (see the module)."""
    T = log_a.shape[0]
    K = min(CHUNK, T)
    C = -(-T // K)
    pad = C * K - T
    rest = log_a.shape[1:]
    if pad:  # a_t = 1, b_t = 0 past the end: the carry passes through unchanged
        log_a = np.concatenate([log_a, np.zeros((pad,) + rest, dtype=log_a.dtype)])
        b = np.concatenate([b, np.zeros((pad,) + rest, dtype=b.dtype)])
    log_a = np.maximum(log_a.reshape((C, K) + rest), -700.0)  # a_t = 0 -> exp(-700): still 0
    b = b.reshape((C, K) + rest)
    cum = np.cumsum(log_a, axis=1)  # log A_t within each chunk
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.logaddexp.accumulate(np.log(np.maximum(b, 0.0)) - cum, axis=1)
        neg = np.logaddexp.accumulate(np.log(np.maximum(-b, 0.0)) - cum, axis=1)
    local = np.exp(pos + cum)
    local -= np.exp(neg + cum)  # h_t of each chunk from h = 0 at its start
    decay = np.exp(cum)  # A_t / A_(chunk start)
    h = h0
    full = np.empty((C, K) + rest, dtype=b.dtype)
    for c in range(C):  # carry the state across chunks: C = T / K small steps
        np.multiply(decay[c], h, out=full[c])
        full[c] += local[c]
        h = full[c, -1]
    out[...] = full.reshape((C * K,) + rest)[:T]
    return out


def gated(a: np.ndarray, log_a, b: np.ndarray, h0: np.ndarray, out: np.ndarray):
    """h_t = a_t * h_{t-1} + b_t into ``out``, the loop or the scan (``use_scan``); ``log_a``
    the array log a_t or a function giving it (made only when the scan runs: the logs cost
    more than the loop itself)."""
    if use_scan(a.shape[0], "gated"):
        return gated_scan(log_a() if callable(log_a) else log_a, b, h0, out)
    return gated_loop(a, b, h0, out)


def gated_reverse(a: np.ndarray, log_a, e: np.ndarray, out: np.ndarray):
    """The adjoint of ``gated``: g_t = e_t + a_{t+1} * g_{t+1} (g_T = e_T), into ``out``;
    returns dLoss/dh_0 = a_1 * g_1. ``log_a`` as in ``gated``."""
    a_next = np.concatenate([np.zeros_like(a[:1]), a[:0:-1]])  # reversed: a_{t+1}, none at T

    def log_next():
        logs = log_a() if callable(log_a) else log_a
        return np.concatenate([np.zeros_like(logs[:1]), logs[:0:-1]])

    rev = gated(a_next, log_next, e[::-1], np.zeros_like(e[0]), np.empty_like(e))
    out[...] = rev[::-1]
    return a[0] * out[0]


def power_loop(lam: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """x_t = lam * x_{t-1} + b_t, x_0 = 0, step by step (complex), into ``out`` (T, ...)."""
    x = np.zeros_like(b[0])
    for t in range(b.shape[0]):
        x = np.multiply(lam, x, out=out[t])
        x += b[t]
    return out


def power_scan(lam: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The same x_t by doubling: after the pass with d, out_t sums lam^(t-s) b_s over
    t - 2d < s <= t; log2(T) passes."""
    out[...] = b
    d, power = 1, lam
    while d < b.shape[0]:
        out[d:] += power * out[:-d]  # numpy buffers the overlapping read
        d, power = 2 * d, power * power
    return out


def power(lam: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """x_t = lam * x_{t-1} + b_t from x_0 = 0, the loop or the scan (``use_scan``)."""
    if use_scan(b.shape[0], "power"):
        return power_scan(lam, b, out)
    return power_loop(lam, b, out)
