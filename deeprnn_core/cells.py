"""One layer of each cell type over a whole sequence, forward and exact backward.

Arrays carry a leading stack axis S (independent networks run side by side, as a depth sweep
over seeds does; S = 1 for a single trace): a sequence is (T, S, B, width), a weight (S, in, out).
The input projection of every step is one matmul before the time loop; the loop does only what
depends on the previous step. Torch's gate order: GRU (r, z, n), LSTM (i, f, g, o).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LN_EPS = 1e-5  # torch.nn.LayerNorm's default eps


@dataclass
class LayerWeights:
    """One layer's weights stacked over S, laid out for ``x @ w``."""

    cell: str  # rnn, gru or lstm
    activation: str  # phi_l of an rnn cell
    residual: bool  # add the layer's input to its state
    w_ih: np.ndarray  # (S, n_in, G*h) = W_xh^(l)
    w_hh: np.ndarray  # (S, h, G*h)    = W_hh^(l)
    b_ih: np.ndarray | None  # (S, 1, G*h)
    b_hh: np.ndarray | None  # (S, 1, G*h)
    ln_weight: np.ndarray | None = None  # (S, 1, h) LayerNorm gain
    ln_bias: np.ndarray | None = None  # (S, 1, h) LayerNorm bias


@dataclass
class LayerRecord:
    """What a layer's forward pass keeps for the figures and for its backward pass."""

    hidden: np.ndarray  # (T, S, B, h) H_t^(l)
    preact: np.ndarray  # (T, S, B, h) A_t^(l) (candidate's pre-activation in gated cells)
    h0: np.ndarray  # (S, B, h) initial state
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # gates, cell state, LN stats


def _phi(name: str, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(a, out=out)
    if name == "relu":
        return np.maximum(a, 0.0, out=out)
    if name == "sigmoid":
        return _sigmoid(a, out)
    out[...] = a
    return out


def _dphi(name: str, a: np.ndarray, f: np.ndarray) -> np.ndarray:
    """phi'(A) from A and F = phi(A), for every step at once."""
    if name == "tanh":
        return 1.0 - f * f
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "sigmoid":
        return f * (1.0 - f)
    return np.ones_like(a)


def _sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # 0.5 * (1 + tanh(a / 2)) never overflows, unlike 1 / (1 + exp(-a))
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def forward_layer(
    w: LayerWeights, inp: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, out=None
) -> LayerRecord:
    """Run one layer over the sequence ``inp`` (T, S, B, n_in) from state ``h0`` (S, B, h);
    ``out``: optional (hidden, preact) arrays (T, S, B, h) to write into."""
    proj = inp @ w.w_ih  # (T, S, B, G*h): H_t^(l-1) W_xh^(l) for every t
    if w.b_ih is not None:  # b_hh joins here too, but for GRU, whose r gates part of it
        proj += w.b_ih if w.cell == "gru" else w.b_ih + w.b_hh
    h = h0.shape[-1]
    if out is None:
        hidden = np.empty(proj.shape[:-1] + (h,), dtype=proj.dtype)  # (T, S, B, h)
        out = hidden, np.empty_like(hidden)
    rec = LayerRecord(out[0], out[1], h0)
    res = inp if w.residual else None
    if w.cell == "rnn":
        _forward_rnn(w, proj, rec, res)
    elif w.cell == "gru":
        _forward_gru(w, proj, rec, res, h)
    else:
        _forward_lstm(w, proj, rec, res, h, c0)
    return rec


def _forward_rnn(w: LayerWeights, proj, rec: LayerRecord, res) -> None:
    hidden, preact, h_prev = rec.hidden, rec.preact, rec.h0
    act = rec.extra["phi"] = np.empty_like(hidden) if res is not None else hidden
    layer_norm = w.ln_weight is not None
    if layer_norm:
        xhat = rec.extra["ln_xhat"] = np.empty_like(hidden)
        rstd = rec.extra["ln_rstd"] = np.empty(hidden.shape[:-1] + (1,), dtype=hidden.dtype)
    recurrent = np.empty_like(hidden[0])  # (S, B, h)
    tanh = w.activation == "tanh"
    # zip hands out the per-step views from C: measurably faster than indexing at small h
    steps = zip(proj, preact, act, hidden, hidden if res is None else res)
    for t, (p_t, z, f_t, h_t, r_t) in enumerate(steps):
        np.matmul(h_prev, w.w_hh, out=recurrent)
        np.add(p_t, recurrent, out=z)  # A_t^(l), before LayerNorm if any
        if layer_norm:
            z -= z.mean(-1, keepdims=True)
            rstd[t] = 1.0 / np.sqrt((z * z).mean(-1, keepdims=True) + LN_EPS)
            np.multiply(z, rstd[t], out=xhat[t])
            np.multiply(xhat[t], w.ln_weight, out=z)
            z += w.ln_bias
        if tanh:  # the common case, without the dispatch
            np.tanh(z, out=f_t)
        else:
            _phi(w.activation, z, f_t)
        if res is not None:
            np.add(f_t, r_t, out=h_t)
        h_prev = h_t


def _forward_gru(w: LayerWeights, proj, rec: LayerRecord, res, h: int) -> None:
    hidden, h_prev = rec.hidden, rec.h0
    rz = rec.extra["rz"] = np.empty(proj.shape[:-1] + (2 * h,), dtype=proj.dtype)  # r, z gates
    n = rec.extra["n"] = np.empty_like(hidden)
    ghn = rec.extra["gh_n"] = np.empty_like(hidden)  # h_{t-1} W_hn + b_hn, which r gates
    gh = np.empty_like(proj[0])  # (S, B, 3h)
    for t in range(proj.shape[0]):
        np.matmul(h_prev, w.w_hh, out=gh)
        if w.b_hh is not None:
            gh += w.b_hh
        p = proj[t]
        _sigmoid(np.add(p[..., : 2 * h], gh[..., : 2 * h], out=rz[t]), rz[t])
        ghn[t] = gh[..., 2 * h :]
        a_n = np.multiply(rz[t, ..., :h], ghn[t], out=rec.preact[t])  # W_in x + b_in
        a_n += p[..., 2 * h :]  # + r * (W_hn h + b_hn)
        np.tanh(a_n, out=n[t])
        out = np.subtract(h_prev, n[t], out=hidden[t])
        out *= rz[t, ..., h:]
        out += n[t]  # (1 - z) n + z h_{t-1}
        if res is not None:
            out += res[t]
        h_prev = out


def _forward_lstm(w: LayerWeights, proj, rec: LayerRecord, res, h: int, c0) -> None:
    hidden, h_prev = rec.hidden, rec.h0
    c_prev = np.zeros_like(h_prev) if c0 is None else c0
    rec.extra["c0"] = c_prev
    gates = rec.extra["gates"] = np.empty_like(proj)  # (T, S, B, 4h) i, f, g, o activated
    cell = rec.extra["cell"] = np.empty_like(hidden)
    tcell = rec.extra["tanh_cell"] = np.empty_like(hidden)
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: one tanh serves all four blocks (g is a plain tanh)
    # once the i, f, o columns of the weights are halved
    scale = np.full(4 * h, 0.5, dtype=proj.dtype)
    scale[2 * h : 3 * h] = 1.0
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(proj.dtype)
    proj *= scale  # (T, S, B, 4h), a private array of this layer: it becomes A_t (halved)
    w_hh = w.w_hh * scale  # (S, h, 4h)
    recurrent, ig = np.empty_like(proj[0]), np.empty_like(hidden[0])
    for t in range(proj.shape[0]):
        np.matmul(h_prev, w_hh, out=recurrent)
        a = np.add(proj[t], recurrent, out=proj[t])  # A_t / 2 for i, f, o; A_t for g
        y = np.tanh(a, out=gates[t])
        y *= scale
        y += shift
        i, f, g, o = y[..., :h], y[..., h : 2 * h], y[..., 2 * h : 3 * h], y[..., 3 * h :]
        c = np.multiply(f, c_prev, out=cell[t])
        c += np.multiply(i, g, out=ig)
        np.multiply(o, np.tanh(c, out=tcell[t]), out=hidden[t])
        if res is not None:
            hidden[t] += res[t]
        h_prev, c_prev = hidden[t], c
    rec.preact[:] = proj[..., 2 * h : 3 * h]
