"""The curse of memory (Zucchet & Orvieto 2024, "Recurrent neural networks: vanishing and
exploding gradients are not the end of the story", arXiv 2405.21064, section 2): as the memory
of a linear recurrence grows (lambda -> 1), its output grows ever more sensitive to lambda, even
though the gradient through time neither vanishes nor explodes.

For h_t = lambda h_{t-1} + gamma x_t, x_t i.i.d. with mean 0 and variance 1, in the stationary
regime (t -> infinity), with h~ the unnormalised state (gamma = 1):

    E[h~^2] = 1 / (1 - lambda^2)
    E[(dh~/dlambda)^2] = (1 + lambda^2) / (1 - lambda^2)^3        (about 2.5e5 at lambda = 0.99)

(dh~_t/dlambda = h~_{t-1} + lambda dh~_{t-1}/dlambda, and E[h~ dh~/dlambda] = lambda / (1 -
lambda^2)^2). The remedies the LRU combines (Orvieto et al. 2023, arXiv 2303.06349):

- ``normalization="gamma"``: gamma = sqrt(1 - lambda^2) as a parameter of its own (the LRU's
  gamma_log, held fixed when differentiating by lambda): E[h^2] = 1, E[(dh/dlambda)^2] =
  (1 + lambda^2) / (1 - lambda^2)^2.
- ``normalization="coupled"``: gamma = sqrt(1 - lambda^2) a function of lambda, differentiated
  with it: E[h^2] = 1, E[(dh/dlambda)^2] = 1 / (1 - lambda^2)^2 (the cross term cancels most).
- ``parametrization="nu"``: lambda = exp(-exp(nu)), so dh/dnu = dh/dlambda * lambda ln(lambda):
  every E[(dh/d.)^2] above times (lambda ln lambda)^2; with "coupled" it stays below 1/4 as
  lambda -> 1, without normalization it still grows as 1 / (4 (1 - lambda)).

``measured`` estimates the same two moments by simulation (Monte Carlo over independent
sequences, the derivative carried exactly alongside the state), for the tests and the app to
hold the closed forms to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NORMALIZATIONS = ("none", "gamma", "coupled")
PARAMETRIZATIONS = ("lambda", "nu")


@dataclass(frozen=True)
class Memory:
    """E[h^2] and E[(dh/dp)^2] (p = lambda or nu) at each lambda, stationary."""

    lam: np.ndarray  # (n,) the memories
    state: np.ndarray  # (n,) E[h_t^2]
    sensitivity: np.ndarray  # (n,) E[(dh_t/dp)^2]
    normalization: str
    parametrization: str


def _check(lam, normalization: str, parametrization: str) -> np.ndarray:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(
            f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}"
        )
    lam = np.atleast_1d(np.asarray(lam, dtype=np.float64))
    if not np.all((lam > 0) & (lam < 1)):
        raise ValueError(f"lam must lie in (0, 1), got {lam[~((lam > 0) & (lam < 1))][:3]}")
    return lam


def closed_form(lam, normalization: str = "none", parametrization: str = "lambda") -> Memory:
    """The stationary E[h^2] and E[(dh/dp)^2] at each ``lam`` (module docstring)."""
    lam = _check(lam, normalization, parametrization)
    one = 1.0 - lam**2
    if normalization == "none":
        state, sens = 1.0 / one, (1.0 + lam**2) / one**3
    elif normalization == "gamma":
        state, sens = np.ones_like(lam), (1.0 + lam**2) / one**2
    else:
        state, sens = np.ones_like(lam), 1.0 / one**2
    if parametrization == "nu":
        sens = sens * (lam * np.log(lam)) ** 2
    return Memory(lam, state, sens, normalization, parametrization)


def measured(
    lam,
    normalization: str = "none",
    parametrization: str = "lambda",
    samples: int = 4000,
    seed: int = 0,
    burn_in: float = 25.0,
) -> Memory:
    """E[h_T^2] and E[(dh_T/dp)^2] over ``samples`` independent sequences of N(0, 1) input,
    run from h_0 = 0 for T = burn_in / (1 - lam) steps (lam^T = exp(-burn_in): stationary):

        h_t = lambda h_{t-1} + gamma x_t
        dh_t/dlambda = h_{t-1} + lambda dh_{t-1}/dlambda + gamma'(lambda) x_t   (gamma' = 0
        unless "coupled": -lambda / gamma),   dh/dnu = dh/dlambda * lambda ln(lambda)
    """
    lam = _check(lam, normalization, parametrization)
    rng = np.random.default_rng(seed)
    state, sens = np.empty_like(lam), np.empty_like(lam)
    for k, a in enumerate(lam):
        gamma = 1.0 if normalization == "none" else np.sqrt(1.0 - a * a)
        slope = -a / gamma if normalization == "coupled" else 0.0  # d gamma / d lambda
        h, g = np.zeros(samples), np.zeros(samples)
        for _ in range(int(np.ceil(burn_in / (1.0 - a)))):
            x = rng.standard_normal(samples)
            g = h + a * g + slope * x  # uses h_{t-1}
            h = a * h + gamma * x
        if parametrization == "nu":
            g = g * a * np.log(a)
        state[k], sens[k] = np.mean(h * h), np.mean(g * g)
    return Memory(lam, state, sens, normalization, parametrization)
