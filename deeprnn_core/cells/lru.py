"""LRU, the linear recurrent unit (Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De 2023,
"Resurrecting recurrent neural networks for long sequences", arXiv 2303.06349, section 3): a
complex diagonal linear recurrence with an exponential parametrisation and a normalisation.

In the stack, with u_t = H_t^(l-1) (the layer's input, after dropout), a complex state x_t of
width h (x_0 = 0, the paper's; H_0 plays no part, so dLoss/dH_0 = 0):

    Lambda = diag(lambda),  lambda_j = exp(-exp(nu_j) + i exp(theta_j))   (|lambda_j| < 1 always)
    x_t = lambda * x_{t-1} + gamma * (B u_t),   gamma_j = exp(gamma_log_j), at init
                                                 sqrt(1 - |lambda_j|^2) (the normalisation)
    y_t = Re(C x_t) + D u_t
    H_t = phi_l(y_t)   (+ u_t with a residual connection)

phi_l (the stack's activation, tanh by default; "identity" gives the paper's bare layer) follows
y_t: the paper wraps the LRU in an MLP / GLU block, and without any nonlinearity a stack of LRUs
is one linear time-invariant system however deep, so depth would add nothing. The recurrence
itself stays linear: the gradient through k steps of state unit j is exactly lambda_j^k, and the
scan of ``cells.scan`` (powers of lambda, by doubling) can run it over all T at once, the loop
being its reference and the default (faster on one core, as measured). H_t does not feed
H_{t+1} (x_t does), so G_t^(l) = dLoss/dH_t^(l) is what reaches H_t from above; the path
through time is the state's, dx_t/dx_{t-1} = lambda.
D u_t is the paper's D * u_t (a diagonal D, ``weight_d`` (h,)) wherever n_in = h; the bottom
layer reads X_t of width d != h and then D is a dense (h, d) matrix. The LRU has no bias (the
paper's has none): ``bias`` does not act on it. Layer norm does not apply.

Parameters (safetensors / ``Model.params``, torch-like layout x W^T, all real):
``weight_ih_l{k}`` (2h, n_in) = [Re B; Im B], ``nu_log_l{k}``, ``theta_log_l{k}``,
``gamma_log_l{k}`` (h,), ``weight_c_re_l{k}`` / ``weight_c_im_l{k}`` (h, h) = Re C / Im C,
``weight_d_l{k}`` (h,) or (h, d). torch.nn has no such module.

Initialisation: |lambda| uniform on the ring R_MIN <= |lambda| <= R_MAX (uniform in area, as
the paper's Lemma 3.2), phase uniform in [0, THETA_MAX]; B and C complex Gaussian (variance
1 / n_in and 1 / h, split between the real and imaginary parts; B times the input gain); D ~ N(0, 1)
on the diagonal (dense: N(0, 1 / d)).
"""

from __future__ import annotations

import numpy as np

from deeprnn_core.cells import scan
from deeprnn_core.cells.activations import dphi, phi
from deeprnn_core.cells.base import (
    Cell,
    CellCost,
    LayerRecord,
    LayerWeights,
    SpectraLayer,
    linear,
    project,
    row_norms,
)

R_MIN, R_MAX, THETA_MAX = 0.9, 0.999, np.pi  # the ring of the initial eigenvalues


def eigenvalues(nu_log, theta_log) -> np.ndarray:
    """lambda = exp(-exp(nu) + i exp(theta)), element-wise (complex)."""
    return np.exp(-np.exp(nu_log) + 1j * np.exp(theta_log))


def _d_term(u, d):
    """D u_t: element-wise for a diagonal D (..., h), a matmul for a dense one (..., h, n)."""
    return u * d[..., None, :] if d.ndim == u.ndim - 2 else u @ d.swapaxes(-1, -2)


def forward(w: LayerWeights, proj, rec: LayerRecord, res, c0=None) -> None:
    """Every step t = 1..T (``step`` runs the same equations): ``proj`` (T, S, B, 2h) holds
    [Re B u_t, Im B u_t]; the recurrence x_t = lambda x_{t-1} + gamma B u_t runs as
    ``scan.power``, then y_t = Re(C x_t) + D u_t and H_t = phi(y_t) for all t at once.
    Writes rec.hidden, rec.preact (y_t), rec.extra "state" x_t (complex) and "phi".

    Each step, as ``step`` states it:

        lambda = exp(-exp(nu) + i exp(theta)),  gamma = exp(gamma_log)
        x_t = lambda * x_{t-1} + gamma * (B u_t)
        y_t = Re(C x_t) + D u_t
        H_t = phi(y_t)   (+ u_t with a residual connection)
    """
    p, h = w.own, rec.hidden.shape[-1]
    lam = eigenvalues(p["nu_log"], p["theta_log"])[:, None, :]  # (S, 1, h)
    gamma = np.exp(p["gamma_log"])[:, None, :]
    b = (proj[..., :h] + 1j * proj[..., h:]) * gamma  # (T, S, B, h) gamma B u_t
    x = rec.extra["state"] = scan.power(lam, b, np.empty_like(b))
    y = np.matmul(x.real, p["weight_c_re"].swapaxes(-1, -2), out=rec.preact)
    y -= x.imag @ p["weight_c_im"].swapaxes(-1, -2)
    y += _d_term(rec.extra["input"], p["weight_d"])
    act = rec.extra["phi"] = phi(w.activation, y) if res is not None else rec.hidden
    if res is not None:
        np.add(act, res, out=rec.hidden)
    else:
        phi(w.activation, y, rec.hidden)


def backward(w: LayerWeights, rec: LayerRecord, ext, grad_hidden, grad_preact, w_hh_t, h_prev):
    """t = T..1 (``step_back`` runs the same equations), with the state's adjoint as a reverse
    scan (g_t = dLoss/dRe x_t + i dLoss/dIm x_t):

        G_t = E_t;   dy_t = phi'(y_t) * G_t
        g_t = (dy_t C_re - i dy_t C_im) + conj(lambda) * g_{t+1}
        dP_t = [gamma Re g_t, gamma Im g_t]              (P_t = B u_t)
        dLoss/dlambda = sum_t g_t conj(x_{t-1});  dnu = Re(conj(dlambda) lambda) (-exp(nu)),
        dtheta = -Im(conj(dlambda) lambda) exp(theta);  dgamma_log = gamma sum_t Re(g_t conj(P_t))
        dC_re = sum_t dy_t^T Re x_t,  dC_im = -sum_t dy_t^T Im x_t,  dD from dy_t and u_t

    Returns (dP, None, 0, None, {own parameter: gradient}, dLoss/du_t through D).

    Each step, as ``step_back`` states it:

        dy_t = phi'(y_t) * G_t
        g_t = dy_t C_re - i dy_t C_im + conj(lambda) g_{t+1}
        dP_t = [gamma Re g_t, gamma Im g_t];   dLoss/dlambda += g_t conj(x_{t-1})
    """
    p, h, u = w.own, ext.shape[-1], rec.extra["input"]
    x = rec.extra["state"]
    grad_hidden[...] = ext
    dy = np.multiply(ext, dphi(w.activation, rec.preact, rec.extra["phi"]), out=grad_preact)
    e = dy @ p["weight_c_re"] - 1j * (dy @ p["weight_c_im"])  # (T, S, B, h)
    lam = eigenvalues(p["nu_log"], p["theta_log"])[:, None, :]
    g = scan.power(np.conj(lam), e[::-1], np.empty_like(e))[::-1]  # dLoss/dx_t
    gamma = np.exp(p["gamma_log"])[:, None, :]
    grad_proj = np.concatenate([g.real * gamma, g.imag * gamma], axis=-1)  # (T, S, B, 2h)
    x_prev = np.concatenate([np.zeros_like(x[:1]), x[:-1]])
    d_lam = (g * np.conj(x_prev)).sum(axis=(0, 2))  # (S, h)
    turn = np.conj(d_lam) * lam[:, 0]
    proj = project(u, w.w_ih)  # (T, S, B, 2h) [Re B u_t, Im B u_t] again, for dgamma
    own = {
        "nu_log": -turn.real * np.exp(p["nu_log"]),
        "theta_log": -turn.imag * np.exp(p["theta_log"]),
        "gamma_log": (g.real * proj[..., :h] + g.imag * proj[..., h:]).sum(axis=(0, 2))
        * gamma[:, 0],
        "weight_c_re": _outer(dy, x.real),
        "weight_c_im": -_outer(dy, x.imag),
    }
    d = p["weight_d"]
    if d.ndim == 2:  # diagonal (S, h)
        own["weight_d"] = (dy * u).sum(axis=(0, 2))
        into_u = dy * d[:, None, :]
    else:
        own["weight_d"] = _outer(dy, u)
        into_u = dy @ d
    return grad_proj, None, np.zeros_like(ext[0]), None, own, into_u


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over t and batch of a_t^T b_t: (T, S, B, m), (T, S, B, n) -> (S, m, n), as one
    matrix product per network (einsum's own loop is ~10x slower here)."""
    s = a.shape[1]
    a2 = a.transpose(1, 0, 2, 3).reshape(s, -1, a.shape[-1])
    b2 = b.transpose(1, 0, 2, 3).reshape(s, -1, b.shape[-1])
    return a2.swapaxes(-1, -2) @ b2


def step(p, x, h_prev, c_prev, activation):
    """LRU, one step (x = u_t = H_t^(l-1) (B, n_in); ``c_prev`` the complex state x_{t-1},
    zeros at t = 1; h_prev plays no part):

    lambda = exp(-exp(nu) + i exp(theta)),  gamma = exp(gamma_log)
    x_t = lambda * x_{t-1} + gamma * (B u_t)
    y_t = Re(C x_t) + D u_t
    H_t = phi(y_t)   (+ u_t with a residual connection)
    """
    h = p["nu_log"].shape[-1]
    lam, gamma = eigenvalues(p["nu_log"], p["theta_log"]), np.exp(p["gamma_log"])
    proj = linear(x, p["weight_ih"], None)  # (B, 2h) [Re B u, Im B u]
    state = lam * c_prev + gamma * (proj[:, :h] + 1j * proj[:, h:])
    d = p["weight_d"]
    y = state.real @ p["weight_c_re"].T - state.imag @ p["weight_c_im"].T
    y = y + (x * d if d.ndim == 1 else x @ d.T)
    s = {"x": x, "state": state, "state_prev": c_prev, "proj": proj, "a": y}
    s["f"] = phi(activation, y)
    return s["f"], s


def step_back(p, s, grad_h, carry_c, activation, grads):
    """LRU backward, one step, from G_t = ``grad_h`` (B, h) and ``carry_c`` =
    conj(lambda) g_{t+1} (complex, zeros at t = T):

    dy_t = phi'(y_t) * G_t
    g_t = dy_t C_re - i dy_t C_im + conj(lambda) g_{t+1}
    (g_t: dLoss/dRe x_t + i dLoss/dIm x_t, the state's adjoint)
    dP_t = [gamma Re g_t, gamma Im g_t];   dLoss/dlambda += g_t conj(x_{t-1})
    carry into G_{t-1}: 0 (H_{t-1} plays no part);  into the state: conj(lambda) g_t
    """
    h = p["nu_log"].shape[-1]
    lam, gamma = eigenvalues(p["nu_log"], p["theta_log"]), np.exp(p["gamma_log"])
    dy = dphi(activation, s["a"], s["f"]) * grad_h
    g = dy @ p["weight_c_re"] - 1j * (dy @ p["weight_c_im"]) + carry_c
    dp = np.concatenate([gamma * g.real, gamma * g.imag], axis=-1)  # (B, 2h)
    grads["weight_ih"] += dp.T @ s["x"]
    turn = np.conj((g * np.conj(s["state_prev"])).sum(0)) * lam
    grads["nu_log"] += -turn.real * np.exp(p["nu_log"])
    grads["theta_log"] += -turn.imag * np.exp(p["theta_log"])
    proj = s["proj"]
    grads["gamma_log"] += gamma * (g.real * proj[:, :h] + g.imag * proj[:, h:]).sum(0)
    grads["weight_c_re"] += dy.T @ s["state"].real
    grads["weight_c_im"] -= dy.T @ s["state"].imag
    d = p["weight_d"]
    if d.ndim == 1:
        grads["weight_d"] += (dy * s["x"]).sum(0)
        dx = dp @ p["weight_ih"] + dy * d
    else:
        grads["weight_d"] += dy.T @ s["x"]
        dx = dp @ p["weight_ih"] + dy @ d
    return dy, None, dx, np.zeros_like(grad_h), np.conj(lam) * g


def jacobian_rows(layer: SpectraLayer):
    """The path through time is the state's: dx_t/dx_{t-1} = diag(lambda), rows |lambda|^2
    (H_{t-1} itself plays no part); dH_t/du_t = diag(phi'(y_t)) (Re(C diag(gamma) B) + D)
    (+ I, residual)."""
    p, h = layer.params, layer.h_prev.shape[-1]
    lam = eigenvalues(p["nu_log"], p["theta_log"])
    gamma = np.exp(p["gamma_log"])[:, None]
    w_ih = p["weight_ih"]
    m = p["weight_c_re"] @ (gamma * w_ih[:h]) - p["weight_c_im"] @ (gamma * w_ih[h:])
    d = p["weight_d"]
    m = m + (np.diag(d) if d.ndim == 1 else d)  # (h, n_in)
    d_act = dphi(layer.activation, layer.preact)[None]
    t_sq = np.broadcast_to(np.abs(lam) ** 2, layer.preact.shape).copy()
    return t_sq, row_norms(layer.residual, d_act, m[None]), None


def shapes(h: int, n_in: int, bias: bool) -> dict[str, tuple[int, ...]]:
    """weight_ih (2h, n_in) = [Re B; Im B]; nu_log, theta_log, gamma_log (h,); weight_c_re,
    weight_c_im (h, h); weight_d (h,) when n_in = h, else (h, n_in). No bias."""
    out = {"weight_ih": (2 * h, n_in), "nu_log": (h,), "theta_log": (h,), "gamma_log": (h,)}
    out |= {"weight_c_re": (h, h), "weight_c_im": (h, h)}
    return out | {"weight_d": (h,) if n_in == h else (h, n_in)}


def init_layer(rng: np.random.Generator, h: int, n_in: int, bias: bool, init) -> dict:
    """The paper's initialisation (module docstring): the ring of ``init`` (InitSpec.lru_r_min,
    lru_r_max, lru_theta_max; R_MIN, R_MAX, THETA_MAX by default), gamma = sqrt(1 - |lambda|^2)."""
    r_min = getattr(init, "lru_r_min", R_MIN)  # InitSpec's ring (its defaults: R_MIN ...)
    r_max = getattr(init, "lru_r_max", R_MAX)
    radius = np.sqrt(rng.uniform(r_min**2, r_max**2, h))  # uniform in area on the ring
    theta = rng.uniform(0.0, getattr(init, "lru_theta_max", THETA_MAX), h)
    b = rng.normal(0.0, init.input_gain / np.sqrt(2 * n_in), (2 * h, n_in))
    c = rng.normal(0.0, 1.0 / np.sqrt(2 * h), (2, h, h))
    d = rng.normal(0.0, 1.0, h) if n_in == h else rng.normal(0.0, 1 / np.sqrt(n_in), (h, n_in))
    return {
        "weight_ih": b,
        "nu_log": np.log(-np.log(radius)),
        "theta_log": np.log(np.maximum(theta, 1e-12)),
        "gamma_log": 0.5 * np.log1p(-(radius**2)),
        "weight_c_re": c[0],
        "weight_c_im": c[1],
        "weight_d": d,
    }


CELL = Cell(
    name="lru",
    title="LRU",
    summary="linear recurrent unit (Orvieto et al. 2023): x_t = λ x_{t-1} + γ B u_t with complex "
    "diagonal λ inside the unit circle, H_t = φ_l(Re(C x_t) + D u_t)",
    blocks=2,
    gates=(),
    forward=forward,
    backward=backward,
    step=step,
    step_back=step_back,
    gate_arrays=lambda rec, h: {},
    jacobian_rows=jacobian_rows,
    cost=CellCost(
        # fitted 2026-12-07 to traces at (L, T, h, B) = (8, 50, 32, 1) .. (8, 200, 256, 4), float64,
        # one BLAS thread, within 25 %; float32 not fitted separately: float64's constants
        time={
            "float64": (4.9e-6, 1.22e-9, 0.0, 1.22e-9, 0.0),
            "float32": (4.9e-6, 1.22e-9, 0.0, 1.22e-9, 0.0),
        },
        layout=5e-9,
        kept=3,
        scratch=10,
        spectra=60e-9,
    ),
    activation=True,
    param_shapes=shapes,
    init_layer=init_layer,
    depth_params=("weight_ih", "weight_c_re", "weight_c_im", "weight_d"),
    time_params=("nu_log", "theta_log"),
    reads_input=True,
    step_blocks=2,
    hidden_recurrent=False,
    eigen=lambda p, gates: ("λ (dx_t/dx_{t-1})", eigenvalues(p["nu_log"], p["theta_log"])),
)
