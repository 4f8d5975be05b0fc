"""The curse of memory (theory.memory): the closed forms against a seeded Monte-Carlo
measurement of the same recurrence, within 10 % at 5 memories, for every normalization and
parametrization; and the facts the lesson states from them."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn_core.theory import memory

LAMS = (0.5, 0.8, 0.9, 0.95, 0.99)


@pytest.mark.parametrize("normalization", memory.NORMALIZATIONS)
@pytest.mark.parametrize("parametrization", memory.PARAMETRIZATIONS)
def test_the_measurement_matches_the_closed_form_within_10_percent(normalization, parametrization):
    want = memory.closed_form(LAMS, normalization, parametrization)
    got = memory.measured(LAMS, normalization, parametrization, samples=6000, seed=7)
    np.testing.assert_allclose(got.state, want.state, rtol=0.10)
    np.testing.assert_allclose(got.sensitivity, want.sensitivity, rtol=0.10)


def test_the_curse_and_its_remedies():
    plain = memory.closed_form([0.99])
    assert 2.4e5 < plain.sensitivity[0] < 2.6e5 and abs(plain.state[0] - 50.25) < 0.01
    lam = np.array([0.9, 0.99, 0.999, 0.9999])
    tamed = memory.closed_form(lam, "coupled", "nu").sensitivity
    assert np.all(tamed < 0.25) and np.all(np.diff(tamed) > 0)
    grows = memory.closed_form(lam, "none", "nu").sensitivity
    assert np.all(np.diff(grows) > 0) and grows[-1] > 1e3


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="normalization"):
        memory.closed_form([0.5], "batch")
    with pytest.raises(ValueError, match="lam must lie in"):
        memory.closed_form([1.0])
