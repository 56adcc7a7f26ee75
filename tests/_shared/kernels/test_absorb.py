"""The fixed-effects absorbers of the shared kernel (evalkit/_shared/kernels/absorb.py).

Reference: weighted least squares on explicit dummies (numpy lstsq), the definition of the within
transformation. Tolerance 1e-10 (absolute, O(1) data): two exact solutions of one linear problem.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._shared.exceptions import PanelDataError
from evalkit._shared.kernels import OneWayAbsorber, TwoWayAbsorber

ATOL = 1e-10


def _dummies(*codes):
    n = len(codes[0])
    blocks = []
    for c in codes:
        d = np.zeros((n, c.max() + 1))
        d[np.arange(n), c] = 1
        blocks.append(d)
    return np.hstack(blocks)


def _dummy_residuals(m, w, *codes):
    d = _dummies(*codes)
    sw = np.sqrt(w)
    m2 = m.reshape(len(m), -1)
    coef, *_ = np.linalg.lstsq(d * sw[:, None], m2 * sw[:, None], rcond=None)
    return (m2 - d @ coef).reshape(m.shape)


def _panel(balanced, weighted, seed=3, n_u=40, n_t=7, shuffle=False):
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(n_u), n_t)
    t = np.tile(np.arange(n_t), n_u)
    if not balanced:
        keep = rng.uniform(size=len(u)) < 0.75
        keep[::n_t] = True  # every unit keeps a row
        keep[:n_t] = True  # every period keeps a row
        u, t = u[keep], t[keep]
    if shuffle:
        order = rng.permutation(len(u))
        u, t = u[order], t[order]
    w = rng.uniform(0.3, 3.0, len(u)) if weighted else np.ones(len(u))
    m = rng.normal(size=(len(u), 3)) + u[:, None] * 0.1 + t[:, None] * 0.2
    return u, t, w, m


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("balanced", [True, False])
def test_two_way_equals_dummy_regression(weighted, balanced, shuffle):
    u, t, w, m = _panel(balanced, weighted, shuffle=shuffle)
    ab = TwoWayAbsorber(u, t, w if weighted else None)
    assert ab.grid is (balanced and not shuffle)
    got = ab.absorb(m)
    np.testing.assert_allclose(got, _dummy_residuals(m, w, u, t), atol=ATOL)
    assert ab.df_absorbed == u.max() + 1 + t.max()
    # fitted effects reproduce the absorbed part
    alpha, gamma = ab.fitted_effects(m[:, 0])
    np.testing.assert_allclose(m[:, 0] - alpha[u] - gamma[t], got[:, 0], atol=ATOL)
    # in place gives the same numbers
    m2 = np.asfortranarray(m.copy())
    ab.absorb(m2, inplace=True)
    np.testing.assert_allclose(m2, got, atol=1e-12)
    # one column at a time equals the block
    np.testing.assert_allclose(ab.absorb(m[:, 1]), got[:, 1], atol=1e-12)


def test_two_way_more_periods_than_units_and_disconnected_periods():
    # 3 units over 9 periods; unit 2 only in periods 6..8: rank of the time effects is still T - 1
    u = np.array([0] * 6 + [1] * 9 + [2] * 3)
    t = np.r_[np.arange(6), np.arange(9), np.arange(6, 9)]
    rng = np.random.default_rng(0)
    m = rng.normal(size=len(u))
    ab = TwoWayAbsorber(u, t)
    np.testing.assert_allclose(ab.absorb(m), _dummy_residuals(m, np.ones(len(u)), u, t), atol=ATOL)
    assert ab.time_rank == 8


def test_two_way_indicator_projection_equals_dense_absorb():
    u, t, w, _ = _panel(balanced=False, weighted=True)
    rng = np.random.default_rng(1)
    k = 4
    cell = rng.integers(-1, k, size=len(u))
    dense = np.zeros((len(u), k))
    dense[cell >= 0, cell[cell >= 0]] = 1.0
    ab = TwoWayAbsorber(u, t, w)
    _, _, B, gamma = ab.indicator_projection(cell, k)
    np.testing.assert_allclose(dense - B[u] - gamma[t], ab.absorb(dense), atol=ATOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_one_way_equals_dummy_regression(weighted):
    u, _, w, m = _panel(balanced=False, weighted=weighted, shuffle=True)
    ab = OneWayAbsorber(u, w if weighted else None)
    ref = _dummy_residuals(m, w, u)
    np.testing.assert_allclose(ab.absorb(m), ref, atol=ATOL)
    np.testing.assert_allclose(ab.absorb(m[:, 0]), ref[:, 0], atol=ATOL)
    # on the sqrt(weights) scale: the projection on the columns sqrt(w) * dummies
    s = np.sqrt(w)
    np.testing.assert_allclose(ab.absorb_scaled(s[:, None] * m), s[:, None] * ref, atol=ATOL)
    assert ab.df_absorbed == u.max() + 1


def test_zero_weight_group_is_refused():
    with pytest.raises(PanelDataError, match="zero total weight"):
        OneWayAbsorber(np.array([0, 0, 1]), np.array([1.0, 1.0, 0.0]))
    with pytest.raises(PanelDataError, match="zero total weight"):
        TwoWayAbsorber(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1.0, 1.0, 0.0]))
