"""Bootstrap weights of the shared kernel (evalkit/_shared/kernels/draws.py).

Moments are checked against the distributions' definitions with Monte Carlo tolerances stated
inline (about 5 standard errors); the streams are checked for reproducibility and for the
layouts that published seeds rely on.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._shared.exceptions import InferenceError
from evalkit._shared.kernels import draw_weights, enumerated_weights, multiplier_draws
from evalkit._shared.kernels.draws import MAMMEN, WEBB


@pytest.mark.parametrize("kind, support", [
    ("rademacher", np.array([-1.0, 1.0])), ("webb", WEBB), ("mammen", MAMMEN)])
def test_wild_weights_have_mean_zero_and_variance_one(kind, support):
    v = draw_weights(kind, 50, 4000, np.random.default_rng(0))  # 200,000 weights
    assert v.shape == (50, 4000)
    assert set(np.unique(v)).issubset(set(support))
    assert abs(v.mean()) < 5 * 1.5 / np.sqrt(v.size)
    assert abs((v**2).mean() - 1) < 5 * 2.0 / np.sqrt(v.size)
    if kind == "mammen":  # third moment one
        assert abs((v**3).mean() - 1) < 5 * 3.0 / np.sqrt(v.size)


def test_wild_weights_reproduce_with_the_seed_and_refuse_unknown_kinds():
    a = draw_weights("webb", 7, 11, np.random.default_rng(5))
    np.testing.assert_array_equal(a, draw_weights("webb", 7, 11, np.random.default_rng(5)))
    with pytest.raises(InferenceError, match="Unknown weights"):
        draw_weights("normal", 2, 2, np.random.default_rng(0))


def test_enumeration_lists_every_sign_vector_once():
    v = enumerated_weights(4, 0, 16)
    assert v.shape == (4, 16)
    assert len({tuple(col) for col in v.T}) == 16
    np.testing.assert_array_equal(v[:, 0], np.ones(4))
    np.testing.assert_array_equal(enumerated_weights(4, 5, 9), v[:, 5:9])


@pytest.mark.parametrize("weights", ["mammen", "rademacher"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multiplier_draws_have_the_cluster_sum_covariance(weights, dtype):
    rng = np.random.default_rng(2)
    sums = rng.normal(size=(40, 2))
    draws = multiplier_draws(sums, 40, 20000, seed=3, weights=weights, dtype=dtype)
    # E[v] = 0, E[v^2] = 1: covariance of the draws is S'S / n^2 (MC error of 20,000 draws ~1%)
    np.testing.assert_allclose(np.cov(draws.T), sums.T @ sums / 40**2, rtol=0.05, atol=5e-4)


def test_multiplier_draws_do_not_depend_on_the_chunking():
    sums = np.random.default_rng(0).normal(size=(13, 3))
    one = multiplier_draws(sums, 1, 300, seed=9, weights="mammen", chunk_rows=300)
    many = multiplier_draws(sums, 1, 300, seed=9, weights="mammen", chunk_rows=64)
    np.testing.assert_allclose(one, many, rtol=1e-6)
    with pytest.raises(InferenceError, match="Unknown multiplier"):
        multiplier_draws(sums, 1, 10, seed=0, weights="webb")


def test_rademacher_multipliers_are_the_int8_stream():
    # the continuous-dose bands published with a seed rely on this layout of random numbers
    sums = np.eye(3)
    draws = multiplier_draws(sums, 1, 5, seed=11, weights="rademacher", dtype=np.float64)
    xi = np.random.default_rng(11).integers(0, 2, size=(5, 3), dtype=np.int8) * 2.0 - 1.0
    np.testing.assert_array_equal(draws, xi)
