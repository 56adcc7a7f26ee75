"""The exact two-way fixed-effects absorber (evalkit/did/_fe.py).

Reference: weighted least squares on explicit unit and time dummies (numpy lstsq), the definition
of the two-way within transformation. Tolerance 1e-10 (absolute, O(1) data): two exact solutions
of one linear problem.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.did._fe import TwoWayAbsorber


def _dummy_residuals(m, u, t, w):
    n_u, n_t = u.max() + 1, t.max() + 1
    d = np.zeros((len(u), n_u + n_t))
    d[np.arange(len(u)), u] = 1
    d[np.arange(len(u)), n_u + t] = 1
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(d * sw[:, None], m * sw[:, None], rcond=None)
    return m - d @ coef


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("balanced", [True, False])
def test_absorb_equals_dummy_regression(weighted, balanced):
    rng = np.random.default_rng(3)
    n_u, n_t = 40, 7
    u = np.repeat(np.arange(n_u), n_t)
    t = np.tile(np.arange(n_t), n_u)
    if not balanced:
        keep = rng.uniform(size=len(u)) < 0.75
        keep[::n_t] = True  # every unit keeps a row
        keep[:n_t] = True  # every period keeps a row
        u, t = u[keep], t[keep]
    w = rng.uniform(0.3, 3.0, len(u)) if weighted else np.ones(len(u))
    m = rng.normal(size=(len(u), 3)) + u[:, None] * 0.1 + t[:, None] * 0.2
    ab = TwoWayAbsorber(u, t, w if weighted else None)
    got = ab.absorb(m)
    np.testing.assert_allclose(got, _dummy_residuals(m, u, t, w), atol=1e-10)
    assert ab.df_absorbed == n_u + n_t - 1
    # fitted effects reproduce the absorbed part
    alpha, gamma = ab.fitted_effects(m[:, 0])
    np.testing.assert_allclose(m[:, 0] - alpha[u] - gamma[t], got[:, 0], atol=1e-10)
    # in place gives the same numbers
    m2 = np.asfortranarray(m.copy())
    ab.absorb(m2, inplace=True)
    np.testing.assert_allclose(m2, got, atol=1e-12)
