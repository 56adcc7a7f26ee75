"""Sensitivity, Shapley attribution and the change decomposition.

Tolerances: Shapley efficiency and the change decomposition are checked exactly (Fractions);
the vectorised float model is compared with the exact engine at 1e-6 万元 (float64 noise on
amounts of order 1e4); brute-force Shapley by permutations at 1e-8 万元.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import make_spec, table

from evalkit.allocation import allocate, decompose_change, sensitivity, shapley
from evalkit.allocation._vector import VectorModel
from evalkit.allocation.shapley import exact_shapley, subset_masks


def test_vector_model_matches_exact_engine(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    m = VectorModel.from_allocation(a)
    s = m.shares(m.w[None, :])
    cont, bound = m.continuous(s)
    assert np.allclose(cont[0], [float(v) for v in a.core.continuous], atol=1e-6)
    assert list(m.rounded(cont)[0]) == a.core.amounts


def test_monte_carlo_reproducible_and_sane(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    r1 = sensitivity.monte_carlo(a, n_draws=2000)
    r2 = sensitivity.monte_carlo(a, n_draws=2000)
    assert r1.summary.equals(r2.summary)
    s = r1.summary
    assert (s["p5"] <= s["p50"]).all() and (s["p50"] <= s["p95"]).all()
    assert (r1.amounts.sum(axis=1) == 19_000).all()
    assert (r1.amounts >= 200).all() and (r1.amounts <= 4750).all()
    assert ((s["prob_rank_change"] >= 0) & (s["prob_rank_change"] <= 1)).all()
    # weights drawn around the spec weights (κ = 200 → sd ≈ 3 pp for a 30% weight)
    assert np.allclose(r1.weights.mean(axis=0), [0.3, 0.3, 0.15, 0.15, 0.1], atol=0.005)
    # larger κ → tighter ranges
    tight = sensitivity.monte_carlo(a, n_draws=2000, kappa=5000).summary
    assert ((tight["p95"] - tight["p5"]) <= (s["p95"] - s["p5"])).all()


def test_monte_carlo_with_data_noise_changes_ranges(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    base = sensitivity.monte_carlo(a, n_draws=1000, kappa=1e9).summary
    noisy = sensitivity.monte_carlo(a, n_draws=1000, kappa=1e9, noise={"rev": 0.2}).summary
    assert (base["p95"] - base["p5"]).max() <= 1
    assert (noisy["p95"] - noisy["p5"]).max() > 10


def test_floor_hit_rates():
    codes = ["A", "B", "C", "D"]
    spec = make_spec({"x": 50, "y": 50}, total=1000, constraints={"floor_wan": 150})
    a = allocate(spec, table({"x": [1, 1, 1, 97], "y": [1, 1, 1, 97]}, codes))
    s = sensitivity.monte_carlo(a, n_draws=500).summary.set_index("unit_code")
    assert (s.loc[["A", "B", "C"], "prob_floor"] == 1).all()
    assert s.loc["D", "prob_floor"] == 0


def test_perturbation_and_leave_one_out(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    p = sensitivity.perturb_weights(a, delta=5)
    assert set(p["shift_pp"]) == {-5.0, 5.0}
    assert (p.groupby(["factor_id", "shift_pp"])["amount_wan"].sum() == 19_000).all()
    # weights rescaled proportionally: rev 35 → the others × 65/70
    row = p[(p.factor_id == "rev") & (p.shift_pp == 5)]
    assert row["weight_pct"].iloc[0] == 35.0
    loo = sensitivity.leave_one_out(a)
    assert set(loo["dropped"]) == {"rev", "inv", "ftt", "grw", "cap"}
    assert (loo.groupby("dropped")["amount_wan"].sum() == 19_000).all()
    assert (loo["change_wan"] == loo["amount_wan"] - loo["baseline_wan"]).all()


def _brute_force_shapley(v, p: int) -> list[float]:
    phi = [0.0] * p
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        s = 0
        for k in order:
            phi[k] += v(s | (1 << k)) - v(s)
            s |= 1 << k
    return [x / len(perms) for x in phi]


def test_shapley_matches_permutation_definition(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    sh = shapley(a)
    assert sh.check()
    m = VectorModel.from_allocation(a)
    masks = subset_masks(len(spec.factors))
    vals, _ = m.continuous(m.shares(masks * m.w[None, :]))
    vals[0] = [float(x) for x in sh.v_empty]
    for i in (0, 5, 13):
        brute = _brute_force_shapley(lambda s, i=i: vals[s, i], len(spec.factors))
        got = [float(sh.exact[f.id][i]) for f in spec.factors]
        assert np.allclose(got, brute, atol=1e-8)


def test_shapley_efficiency_exact_and_baselines(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    for kw in ({}, {"constrained": False}):
        sh = shapley(a, **kw)
        for i in range(len(a.codes)):
            tot = sum((sh.exact[f.id][i] for f in spec.factors), Fraction(0))
            assert tot == sh.v_full[i] - sh.v_empty[i]
    sh = shapley(a)
    assert np.allclose([float(v) for v in sh.v_full], [float(v) for v in a.core.continuous],
                       atol=1e-6)
    # equal-split baseline sums to T_alloc
    assert math.isclose(float(sum(sh.v_empty)), 19_000, abs_tol=1e-6)
    # a zero-weight factor gets exactly nothing
    z = allocate(spec.with_weights({"rev": 0, "inv": 60}), t)
    assert all(v == 0 for v in shapley(z).exact["rev"])


def test_exact_shapley_symmetry_and_null_player():
    # v(S) = 3·[0 ∈ S] + 3·[1 ∈ S]; player 2 is null
    p = 3
    vals = np.array([[3.0 * ((s >> 0) & 1) + 3.0 * ((s >> 1) & 1)] for s in range(2**p)])
    phi = exact_shapley(vals, [Fraction(6)], [Fraction(0)])
    assert [x[0] for x in phi] == [Fraction(3), Fraction(3), Fraction(0)]


def test_shapley_ten_factors_fast():
    import time
    rng = np.random.default_rng(3)
    codes = [f"U{i:02d}" for i in range(16)]
    vals = {f"f{k}": [int(v) for v in rng.integers(1, 1000, 16)] for k in range(10)}
    spec = make_spec({f"f{k}": 10 for k in range(10)}, total=100_000,
                     constraints={"floor_wan": 2000})
    a = allocate(spec, table(vals, codes))
    t0 = time.perf_counter()
    sh = shapley(a)
    elapsed = time.perf_counter() - t0
    assert sh.check()
    assert elapsed < 10  # benchmarks/allocation_bench.py asserts the < 1 s target on idle cores


def test_change_decomposition_sums_exactly(demo_case):
    spec, t = demo_case
    cur = allocate(spec, t)
    prev_spec = make_spec({"rev": 35, "inv": 25, "ftt": 15, "grw": 15, "cap": 10},
                          transforms={"grw": "minmax_shift", "cap": "inverse_share"},
                          total=18_000, reserve=500,
                          constraints={"floor_wan": 250, "cap_share": 0.2})
    # last year's data: every value of rev scaled differently
    d = t.data.copy()
    d.loc[d.factor_id == "rev", "value"] = [v * (1 + 0.05 * (i % 3))
                                            for i, v in enumerate(d.loc[d.factor_id == "rev",
                                                                        "value"])]
    from evalkit.allocation import read_factors
    prev = allocate(prev_spec, read_factors(d))
    dec = decompose_change(prev, cur)
    comps = dec.components
    assert comps[:3] == ["budget", "base", "weights"] and comps[-1] == "rounding"
    for i, c in enumerate(cur.codes):
        tot = sum((dec.exact[k][i] for k in comps), Fraction(0))
        assert tot == cur.amounts[c] - prev.amounts[c]
    tab = dec.table
    assert (tab["change_wan"] == tab["amount_wan"] - tab["previous_wan"]).all()
    # factors whose data did not change contribute exactly nothing
    assert all(v == 0 for v in dec.exact["data:inv"])
    assert any(v != 0 for v in dec.exact["data:rev"])
    # budget effect: T_alloc rose by 1,500 万元, shared out among the units
    assert math.isclose(sum(float(v) for v in dec.exact["budget"]), 1_500, rel_tol=0.2)


def test_change_decomposition_identical_years_is_zero(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    dec = decompose_change(a, allocate(spec, t))
    assert all(v == 0 for k in dec.components for v in dec.exact[k])


def test_change_decomposition_needs_same_units(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    small = allocate(make_spec({"x": 100}), table({"x": [1, 2]}, ["370702", "370703"]))
    from evalkit._shared.exceptions import EvalkitError
    with pytest.raises(EvalkitError, match="same units"):
        decompose_change(small, a)


def test_batch_water_fill_matches_exact_on_random_problems():
    from evalkit.allocation.constraints import water_fill, water_fill_batch
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        s = rng.dirichlet(np.ones(n)) * (rng.random(n) > 0.15)
        if s.sum() == 0:
            s[0] = 1.0
        s = s / s.sum()
        total = float(rng.integers(10, 10_000))
        base = np.where(rng.random(n) < 0.3, rng.integers(0, int(total // n) + 1, n), 0)
        lo = np.where(rng.random(n) < 0.5, rng.integers(0, int(total // n) + 1, n), 0)
        lo = np.maximum(lo, 0).astype(float)
        hi = np.where(rng.random(n) < 0.5, rng.integers(int(total // n) + 1, int(total) + 1, n),
                      np.inf)
        hi = np.maximum(hi, lo)
        fixed = np.clip(base, lo, hi)[s == 0].sum()
        movers_lo = lo[s > 0].sum()
        if fixed + movers_lo > total or (np.isfinite(hi[s > 0]).all()
                                         and fixed + hi[s > 0].sum() < total):
            continue
        ex = water_fill([Fraction(float(x)) for x in base], [Fraction(float(x)) for x in s],
                        [Fraction(float(x)) for x in lo],
                        [None if not np.isfinite(x) else Fraction(float(x)) for x in hi],
                        Fraction(total))
        got, bound = water_fill_batch(base, s[None, :], lo, hi, total)
        assert np.allclose(got[0], [float(x) for x in ex.amounts], atol=1e-7)
        want = [{"floor": -1, "cap": 1, "": 0}[b] for b in ex.bound]
        assert list(bound[0]) == want
