"""Randomization inference, placebo tests and Conley-Taber.

Tolerances
----------
Exact enumerations are compared with brute-force loops written here (equality to 1e-12).
Random permutations: the p-value of a random-permutation test lies within 4 Monte-Carlo standard
errors, 4 * sqrt(p (1 - p) / B), of the exact p-value.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import InferenceError
from evalkit.inference._permute import count_arrangements, enumerate_arrangements
from evalkit.inference.executor import Executor
from evalkit.inference.placebo import placebo_in_space, placebo_in_time
from evalkit.inference.randomization import (
    conley_taber,
    conley_taber_matrix,
    permutation_test,
    randomization_inference,
)

N, T, T0 = 8, 8, 5


def _panel(seed=0, effect=0.0):
    rng = np.random.default_rng(seed)
    rows = []
    coh = np.where(np.arange(N) < 3, 2000 + T0, 0)
    for i in range(N):
        a = rng.normal()
        for t in range(T):
            yr = 2000 + t
            treat = int(coh[i] > 0 and yr >= coh[i])
            rows.append((f"u{i:02d}", yr, coh[i], treat, a + 0.1 * t + effect * treat + rng.normal()))
    return pd.DataFrame(rows, columns=["unit", "year", "cohort", "treat", "y"])


def did_stat(df: pd.DataFrame):
    """2x2-style TWFE estimate with a CR1 standard error (balanced panel)."""
    Y = df.pivot(index="unit", columns="year", values="y").to_numpy()
    D = df.pivot(index="unit", columns="year", values="treat").to_numpy().astype(float)

    def tw(m):
        return m - m.mean(1, keepdims=True) - m.mean(0, keepdims=True) + m.mean()

    Yt, Dt = tw(Y), tw(D)
    b = np.sum(Dt * Yt) / np.sum(Dt * Dt)
    s = np.sum(Dt * (Yt - b * Dt), axis=1)
    G = Y.shape[0]
    se = np.sqrt(np.sum(s**2) * G / (G - 1)) / np.sum(Dt * Dt)
    return b, se


def test_multiset_enumeration():
    vals = np.array([5, 5, 0, 0, 0, 7])
    table = enumerate_arrangements(vals)
    assert len(table) == count_arrangements(vals) == 60
    assert len({tuple(r) for r in table}) == 60
    np.testing.assert_array_equal(table[0], vals)


def test_exact_ri_matches_brute_force():
    df = _panel(seed=1, effect=0.8)
    res = randomization_inference(df, did_stat, unit="unit", cohort="cohort", time="year", treatment="treat")
    assert res.exact and res.n_draws == 56  # C(8, 3)
    units = np.sort(df["unit"].unique())
    ts = []
    for comb in itertools.combinations(range(N), 3):
        coh = np.where(np.isin(np.arange(N), comb), 2000 + T0, 0)
        d = df.copy()
        d["cohort"] = coh[np.searchsorted(units, d["unit"])]
        d["treat"] = ((d["year"] >= d["cohort"]) & (d["cohort"] > 0)).astype(int)
        b, se = did_stat(d)
        ts.append(b / se)
    ts = np.array(ts)
    obs = did_stat(df)
    t_obs = obs[0] / obs[1]
    assert res.observed == pytest.approx(t_obs, rel=1e-12)
    assert res.pvalue == pytest.approx(np.mean(np.abs(ts) >= abs(t_obs) * (1 - 1e-9)), abs=1e-12)
    frame = res.draws_frame()
    assert frame["is_observed"].sum() == 1 and len(frame) == 57


class ArrayStat:
    """Cheap picklable statistic on arrays: difference in means of post-period outcomes, t."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.y = rng.normal(size=14) + np.r_[np.full(4, 0.6), np.zeros(10)]

    def __call__(self, a):
        t, c = self.y[a > 0], self.y[a == 0]
        return t.mean() - c.mean(), np.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)


def test_random_permutations_close_to_exact_and_reproducible():
    stat = ArrayStat(2)
    assign = np.r_[np.ones(4, int), np.zeros(10, int)]
    exact = permutation_test(stat, assign)
    assert exact.exact and exact.n_draws == 1001  # C(14, 4)
    B = 2000
    rnd = permutation_test(stat, assign, exact=False, n_draws=B, seed=3,
                           executor=Executor("serial", chunk_size=250))
    p = exact.pvalue
    assert abs(rnd.pvalue - p) <= 4 * np.sqrt(p * (1 - p) / B) + 1 / B
    again = permutation_test(stat, assign, exact=False, n_draws=B, seed=3,
                             executor=Executor("serial", chunk_size=250))
    np.testing.assert_array_equal(rnd.distribution, again.distribution)


def test_timing_scheme_and_messages():
    coh = np.array([2003, 2003, 2005, 0, 0])
    seen = []

    def stat(a):
        seen.append(tuple(a))
        return float(a[0] - a[2]), 1.0

    res = permutation_test(stat, coh, scheme="timing")
    assert res.exact and res.n_draws == 3  # arrangements of {2003, 2003, 2005}
    assert all(s[3:] == (0, 0) for s in seen)
    with pytest.raises(InferenceError, match="nothing to permute"):
        permutation_test(stat, np.array([2003, 2003, 0]), scheme="timing")
    with pytest.raises(InferenceError, match="needs the standard error"):
        permutation_test(lambda a: 1.0, coh)
    with pytest.raises(InferenceError, match="picklable"):
        permutation_test(lambda a: (1.0, 1.0), coh, exact=False, n_draws=20,
                         executor=Executor("processes", n_workers=2, chunk_size=5))


def test_placebo_in_space_exact():
    df = _panel(seed=4, effect=1.0)
    res = placebo_in_space(df, did_stat, unit="unit", cohort="cohort", time="year", treatment="treat")
    assert res.exact and len(res.distribution) == 10  # C(5, 3) fake treated sets among controls
    vals = res.distribution["value"].to_numpy()
    expected = (1 + np.sum(np.abs(vals) >= abs(res.observed) * (1 - 1e-9))) / 11
    assert res.pvalue == pytest.approx(expected)
    assert set(res.draws_frame().columns) >= {"kind", "label", "value", "is_observed"}


def test_placebo_in_time():
    df = _panel(seed=5)
    res = placebo_in_time(df, did_stat, unit="unit", time="year", cohort="cohort", treatment="treat")
    assert list(res.distribution["label"]) == ["2001", "2002", "2003", "2004"]
    assert np.isfinite(res.distribution["estimate"]).all()
    with pytest.raises(InferenceError, match="pre-period"):
        placebo_in_time(df, did_stat, unit="unit", time="year", cohort="cohort", treatment="treat",
                        fake_years=[2006])


def test_conley_taber_exact_distribution():
    df = _panel(seed=6)
    res = conley_taber(df, outcome="y", unit="unit", time="year", treatment="treat")
    Y = df.pivot(index="unit", columns="year", values="y").to_numpy()
    D = df.pivot(index="unit", columns="year", values="treat").to_numpy().astype(float)
    assert res.exact and res.distribution.size == 5**3
    b, _ = did_stat(df)
    assert res.estimate == pytest.approx(b, rel=1e-12)
    lo, hi = res.conf_int()
    assert lo < res.estimate < hi
    with pytest.raises(InferenceError, match="balanced"):
        conley_taber(df.iloc[1:], outcome="y", unit="unit", time="year", treatment="treat")
    with pytest.raises(InferenceError, match="same shape"):
        conley_taber_matrix(Y, D[:, 1:])
