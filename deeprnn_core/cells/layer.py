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
    w_ih: np.ndarray  # (S, n_in, G*h) = W_xh^(l), possibly a transposed view
    w_hh: np.ndarray  # (S, h, G*h)    = W_hh^(l)
    b_ih: np.ndarray | None  # (S, 1, G*h)
    b_hh: np.ndarray | None  # (S, 1, G*h)
    ln_weight: np.ndarray | None = None  # (S, 1, h) LayerNorm gain
    ln_bias: np.ndarray | None = None  # (S, 1, h) LayerNorm bias
    # (S, G*h, h) W_hh^(l)^T, contiguous (torch's own layout): the backward pass multiplies by
    # it every step; made once with the layout, not once per backward call
    w_hh_t: np.ndarray | None = None


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


def project(inp: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``inp @ weight`` for every step at once: (T, S, B, n) @ (S or 1, n, m) -> (T, S, B, m),
    as one matrix product per network (a broadcast matmul makes T small ones, each reading all of
    ``weight``: 2-3x slower at h = 128)."""
    T, S, B, n = inp.shape
    if weight.shape[0] == 1:  # one network's weights for every s (e.g. depths side by side)
        return (inp.reshape(1, T * S * B, n) @ weight).reshape(T, S, B, -1)
    out = np.empty((T, S, B, weight.shape[-1]), dtype=np.result_type(inp, weight))
    for s in range(S):
        out[:, s] = (inp[:, s].reshape(T * B, n) @ weight[s]).reshape(T, B, -1)
    return out


def forward_layer(
    w: LayerWeights, inp: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, out=None
) -> LayerRecord:
    """Run one layer over the sequence ``inp`` (T, S, B, n_in) = H^(l-1) (after dropout) from
    state ``h0`` (S, B, h) (and ``c0`` (S, B, h), LSTM); ``out``: optional (hidden, preact)
    arrays (T, S, B, h) to write into. The cell's equations are in _forward_rnn / _gru / _lstm.
    """
    proj = project(inp, w.w_ih)  # (T, S, B, G*h): H_t^(l-1) W_xh^(l) for every t
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
    """The seed's cell, every step t = 1..T (reference.rnn_step runs the same equations):

        Z_t = H_t^(l-1) W_xh + H_{t-1}^(l) W_hh + b_h
        A_t = Z_t, or with layer norm: A_t = gain * (Z_t - mean(Z_t)) * rstd_t + bias,
              rstd_t = 1 / sqrt(var(Z_t) + eps)   (mean, var over the h units)
        H_t = phi(A_t)   (+ H_t^(l-1) with a residual connection)

    ``proj`` (T, S, B, h) holds H_t^(l-1) W_xh + b_h already; ``res`` is the layer's input
    (T, S, B, h) when the layer is residual, else None. Writes rec.hidden, rec.preact (A_t),
    and into rec.extra: "phi" (phi(A_t), when residual), "ln_xhat", "ln_rstd" (layer norm).
    """
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
    for t, (p_t, z, f_t, h_t, r_t) in enumerate(steps):  # each (S, B, h)
        np.matmul(h_prev, w.w_hh, out=recurrent)  # (S, B, h) H_{t-1}^(l) W_hh
        np.add(p_t, recurrent, out=z)  # (S, B, h) Z_t, in A_t's buffer
        if layer_norm:
            z -= z.mean(-1, keepdims=True)  # Z_t - mean(Z_t)
            rstd[t] = 1.0 / np.sqrt((z * z).mean(-1, keepdims=True) + LN_EPS)  # (S, B, 1)
            np.multiply(z, rstd[t], out=xhat[t])  # (S, B, h) normalised Z_t
            np.multiply(xhat[t], w.ln_weight, out=z)
            z += w.ln_bias  # A_t = gain * xhat + bias
        if tanh:  # the common case, without the dispatch
            np.tanh(z, out=f_t)
        else:
            _phi(w.activation, z, f_t)
        if res is not None:
            np.add(f_t, r_t, out=h_t)
        h_prev = h_t


def _forward_gru(w: LayerWeights, proj, rec: LayerRecord, res, h: int) -> None:
    """torch's GRU, gates in its order (r, z, n), every step t = 1..T (reference.gru_step runs
    the same equations; x = H_t^(l-1), h_prev = H_{t-1}^(l)):

        r_t = sigmoid(x W_ir + b_ir + h_prev W_hr + b_hr)
        z_t = sigmoid(x W_iz + b_iz + h_prev W_hz + b_hz)
        A_t = x W_in + b_in + r_t * (h_prev W_hn + b_hn)
        n_t = tanh(A_t)
        H_t = (1 - z_t) * n_t + z_t * h_prev   (+ x with a residual connection)

    ``proj`` (T, S, B, 3h) holds x W_i{r,z,n} + b_i{r,z,n}. Writes rec.hidden, rec.preact (A_t,
    the candidate's pre-activation), and into rec.extra: "rz" (T, S, B, 2h) the r and z gates,
    "n" the candidate, "recurrent_n" = h_prev W_hn + b_hn (which r scales).
    """
    hidden, h_prev = rec.hidden, rec.h0
    rz = rec.extra["rz"] = np.empty(proj.shape[:-1] + (2 * h,), dtype=proj.dtype)  # r, z gates
    n = rec.extra["n"] = np.empty_like(hidden)
    recurrent_n = rec.extra["recurrent_n"] = np.empty_like(hidden)  # h_prev W_hn + b_hn
    recurrent = np.empty_like(proj[0])  # (S, B, 3h) h_prev W_hh + b_hh, blocks r, z, n
    for t in range(proj.shape[0]):
        np.matmul(h_prev, w.w_hh, out=recurrent)
        if w.b_hh is not None:
            recurrent += w.b_hh
        p = proj[t]  # (S, B, 3h) x W_ih + b_ih
        _sigmoid(np.add(p[..., : 2 * h], recurrent[..., : 2 * h], out=rz[t]), rz[t])  # r_t, z_t
        recurrent_n[t] = recurrent[..., 2 * h :]
        a_n = np.multiply(rz[t, ..., :h], recurrent_n[t], out=rec.preact[t])  # r * (h W_hn + b_hn)
        a_n += p[..., 2 * h :]  # + x W_in + b_in: A_t (S, B, h)
        np.tanh(a_n, out=n[t])  # n_t
        out = np.subtract(h_prev, n[t], out=hidden[t])
        out *= rz[t, ..., h:]
        out += n[t]  # (1 - z) n + z h_prev = n + z (h_prev - n)
        if res is not None:
            out += res[t]
        h_prev = out


def _forward_lstm(w: LayerWeights, proj, rec: LayerRecord, res, h: int, c0) -> None:
    """torch's LSTM, gates in its order (i, f, g, o), every step t = 1..T (reference.lstm_step
    runs the same equations; x = H_t^(l-1), h_prev = H_{t-1}^(l)):

        [A_i, A_f, A_g, A_o] = x W_ih + b_ih + h_prev W_hh + b_hh
        i_t = sigmoid(A_i), f_t = sigmoid(A_f), g_t = tanh(A_g), o_t = sigmoid(A_o)
        C_t = f_t * C_{t-1} + i_t * g_t
        H_t = o_t * tanh(C_t)   (+ x with a residual connection)

    ``proj`` (T, S, B, 4h) holds x W_ih + b_ih + b_hh; it is overwritten. Writes rec.hidden,
    rec.preact (A_g, the candidate's pre-activation), and into rec.extra: "gates" (T, S, B, 4h)
    i, f, g, o activated, "cell" C_t, "tanh_cell" tanh(C_t), "c0" C_0.
    """
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
        np.matmul(h_prev, w_hh, out=recurrent)  # (S, B, 4h)
        a = np.add(proj[t], recurrent, out=proj[t])  # (S, B, 4h) A / 2 for i, f, o; A_g for g
        y = np.tanh(a, out=gates[t])
        y *= scale
        y += shift  # (S, B, 4h) sigmoid(A) for i, f, o; tanh(A_g) for g
        i, f, g, o = y[..., :h], y[..., h : 2 * h], y[..., 2 * h : 3 * h], y[..., 3 * h :]
        c = np.multiply(f, c_prev, out=cell[t])  # (S, B, h) f * C_{t-1}
        c += np.multiply(i, g, out=ig)  # + i * g = C_t
        np.multiply(o, np.tanh(c, out=tcell[t]), out=hidden[t])  # o * tanh(C_t)
        if res is not None:
            hidden[t] += res[t]
        h_prev, c_prev = hidden[t], c
    rec.preact[:] = proj[..., 2 * h : 3 * h]
