"""Group sums of the shared kernel (evalkit/_shared/kernels/sums.py) against explicit loops.

Tolerance 1e-12 (absolute, O(1) data): sums of the same numbers in another order.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._shared.kernels import cluster_score_sums, label_sums, segment_sums
from evalkit.inference.design import LinearDesign


def _loop(values, codes, n_groups):
    out = np.zeros((n_groups,) + values.shape[1:])
    for i, c in enumerate(codes):
        out[c] += values[i]
    return out


@pytest.mark.parametrize("sorted_codes", [True, False])
@pytest.mark.parametrize("shape", [(50,), (50, 3), (50, 2, 4)])
def test_segment_sums_equal_a_loop(sorted_codes, shape):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 7, size=50)  # groups 0..6; with 8 groups the last one is empty
    if sorted_codes:
        codes = np.sort(codes)
    values = rng.normal(size=shape)
    np.testing.assert_allclose(segment_sums(values, codes, 8), _loop(values, codes, 8), atol=1e-12)


def test_segment_sums_empty():
    assert segment_sums(np.zeros((0, 2)), np.zeros(0, dtype=int), 3).shape == (3, 2)


def test_label_sums_number_groups_by_first_appearance():
    sums, n_groups = label_sums(np.array([[1.0], [2.0], [4.0], [8.0]]), np.array(["z", "a", "z", "m"]))
    assert n_groups == 3
    np.testing.assert_array_equal(sums[:, 0], [5.0, 2.0, 8.0])


def test_cluster_score_sums_are_sums_of_x_times_e():
    rng = np.random.default_rng(1)
    X, e = rng.normal(size=(30, 2)), rng.normal(size=30)
    codes = rng.integers(0, 5, 30)
    d = LinearDesign(X=X, resid=e, beta=np.zeros(2), names=["a", "b"])
    np.testing.assert_allclose(cluster_score_sums(d, codes, 5), _loop(X * e[:, None], codes, 5), atol=1e-12)
