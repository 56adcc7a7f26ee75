"""Tests of ``evalkit.iv`` (panel 2SLS, weak-IV diagnostics, formula instrument and recentring).

Tolerances
----------
* 2SLS coefficient against an independent numpy 2SLS with explicit unit and year dummies on the
  same (unbalanced) panel: 1e-8 relative; cluster-robust SE against the explicit sandwich with the
  CR1 factor G/(G-1)·(n-1)/(n-k), k = non-absorbed regressors (endogenous and controls): 1e-8;
  against linearmodels ``IV2SLS`` with the dummies as exogenous regressors (its default clustered
  covariance has no small-sample factor, so it is multiplied by sqrt(G/(G-1))): 1e-8.
* Anderson–Rubin set: the exact (quadratic) set agrees with an independent grid inversion written
  out in the test (explicit dummies, explicit cluster sandwich): every grid point more than one
  grid step from a boundary is classified identically; the grid statistic equals ours 1e-8. With
  two instruments (grid inversion) the statistic matches 1e-8 and the set is exactly the accepted
  grid points.
* Effective F with one instrument equals the squared cluster-robust first-stage t (1e-8); the
  Montiel Olea–Pflueger critical value for one instrument, tau = 10%, 5% is 23.1 (Montiel Olea and
  Pflueger 2013; Andrews, Stock and Sun 2019, Annual Review, Section 5): 1e-3 absolute.
* Simulation with known β and an endogenous top-up: 2SLS Monte-Carlo mean within 4 Monte-Carlo
  standard errors of β, OLS biased by more than 10 Monte-Carlo standard errors.
* Formula instrument equals ``evalkit.allocation.allocate`` continuous amounts exactly; the
  permutation expectation equals a hand average over the 4 weight × total combinations (1e-9); a
  degenerate documented Dirichlet distribution gives the formula at its centre (1e-5: redrawn
  weights are written with 6 decimals of a percent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit import iv
from evalkit._shared.exceptions import DesignError, EvalkitError


def sim_panel(N=40, T=8, beta=0.5, seed=0, drop=0, strength=0.8):
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(T), N)
    a = rng.normal(size=N)[u]
    lam = rng.normal(size=T)[t]
    rec = u < N // 2
    z = rng.gamma(2.0, 500.0, size=N * T) * rec
    e = rng.normal(size=N * T)
    x = strength * z + (300 * e + 100 * rng.normal(size=N * T)) * rec + 50 * a * rec
    x = np.clip(x, 0, None)
    y = a + lam + beta * x / 1000 + e
    df = pd.DataFrame({"unit": [f"U{i:03d}" for i in u], "year": 2015 + t, "y": y, "x": x,
                       "z": z, "w": rng.normal(size=N * T)})
    if drop:
        df = df.drop(rng.choice(len(df), drop, replace=False)).reset_index(drop=True)
    return df


def dummies(df):
    return np.column_stack([pd.get_dummies(df.unit, dtype=float),
                            pd.get_dummies(df.year, dtype=float).iloc[:, 1:]])


def cluster_cov(Xh, resid, groups, k):
    bread = np.linalg.pinv(Xh.T @ Xh)
    sc = pd.DataFrame(Xh * resid[:, None]).groupby(groups).sum().to_numpy()
    G, n = len(np.unique(groups)), len(resid)
    return bread @ sc.T @ sc @ bread * G / (G - 1) * (n - 1) / (n - k)


def test_2sls_matches_explicit_dummies_and_linearmodels():
    from linearmodels.iv import IV2SLS

    df = sim_panel(drop=17)
    r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year",
                    covariates=["w"], small_sample="xtreg")  # linearmodels' count, selected explicitly
    D = dummies(df)
    X = np.column_stack([df.x / 1000, df.w, D])
    Z = np.column_stack([df.z / 1000, df.w, D])
    Xh = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    b = np.linalg.solve(Xh.T @ X, Xh.T @ df.y)
    assert r.estimate == pytest.approx(b[0], rel=1e-8)
    resid = df.y.to_numpy() - X @ b
    # small_sample="xtreg" (linearmodels' count, unit effects nested in the unit clusters): k = 2
    # non-absorbed regressors, x and the control w
    v = cluster_cov(Xh, resid, df.unit.to_numpy(), k=2)
    assert r.std_error == pytest.approx(np.sqrt(v[0, 0]), rel=1e-8)
    m = IV2SLS(df.y, np.column_stack([df.w, D]), df[["x"]] / 1000, df[["z"]] / 1000).fit(
        cov_type="clustered", clusters=df.unit)
    assert r.estimate == pytest.approx(m.params["x"], rel=1e-8)
    G = df.unit.nunique()
    # linearmodels' default clustered covariance has no small-sample factor; ours is
    # G/(G-1) (n-1)/(n-k) with k = 2
    n = len(df)
    assert r.std_error == pytest.approx(
        m.std_errors["x"] * np.sqrt(G / (G - 1) * (n - 1) / (n - 2)), rel=1e-8)
    assert r.with_inference("robust").std_error != r.std_error
    assert set(r.to_frame().term) >= {r.term, r.ols.term, r.first_stage.term}
    assert G == 40


def _grid_ar(df, b0, crit_level=0.95):
    """Independent AR statistic: y - b0 x on [z, dummies], CR1 cluster Wald on z, / K."""
    D = dummies(df)
    Z = np.column_stack([df.z / 1000, D])
    yy = df.y.to_numpy() - b0 * df.x.to_numpy() / 1000
    coef = np.linalg.lstsq(Z, yy, rcond=None)[0]
    e = yy - Z @ coef
    # FWL: the z coefficient's sandwich uses z residualised on the dummies
    zt = df.z.to_numpy() / 1000 - D @ np.linalg.lstsq(D, df.z.to_numpy() / 1000, rcond=None)[0]
    v = cluster_cov(zt[:, None], e, df.unit.to_numpy(), k=1)[0, 0]
    G = df.unit.nunique()
    return coef[0] ** 2 / v, stats.f.ppf(crit_level, 1, G - 1)


@pytest.mark.parametrize("strength", [0.8, 0.0])
def test_anderson_rubin_matches_grid(strength):
    df = sim_panel(seed=3, strength=strength, N=30, T=6)
    r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year",
                    small_sample="xtreg")  # the reference counts k = K (xtreg convention)
    grid = np.linspace(-20, 20, 161)
    step = grid[1] - grid[0]
    ints = r.ar_intervals
    for b0 in grid:
        s, crit = _grid_ar(df, b0)
        assert r.ar_set["statistic"](b0) == pytest.approx(s, rel=1e-8)
        inside = any(lo <= b0 <= hi for lo, hi in ints)
        near = any(min(abs(b0 - lo), abs(b0 - hi)) < step for lo, hi in ints)
        if not near:
            assert inside == (s <= crit)
    if strength == 0.0:
        assert not r.ar_set["bounded"]
        assert r.effective_f < r.f_critical
    else:
        assert r.ar_set["bounded"] and r.effective_f > r.f_critical
        lo, hi = ints[0]
        assert lo < r.estimate < hi


def test_effective_f_and_critical_value():
    df = sim_panel(seed=4, N=30, T=6, strength=0.3)
    r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year")
    assert r.effective_f == pytest.approx((r.first_stage.estimate / r.first_stage.std_error) ** 2,
                                          rel=1e-8)
    assert iv.mop_critical_value(np.array([[2.5]]), tau=0.10) == pytest.approx(23.1085, abs=1e-3)


def test_simulation_recovers_beta():
    reps, beta = 40, 0.5
    b_iv, b_ols = [], []
    for s in range(reps):
        df = sim_panel(seed=100 + s, beta=beta)
        r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year")
        b_iv.append(r.estimate)
        b_ols.append(r.ols.estimate)
    b_iv, b_ols = np.array(b_iv), np.array(b_ols)
    assert abs(b_iv.mean() - beta) < 4 * b_iv.std(ddof=1) / np.sqrt(reps)
    assert abs(b_ols.mean() - beta) > 10 * b_ols.std(ddof=1) / np.sqrt(reps)


def _alloc_fixture():
    allocation = pytest.importorskip("evalkit.allocation")
    codes = ["370702", "370703", "370704", "370705", "370724", "370725"]
    rng = np.random.default_rng(0)
    rows = []
    for y in (2021, 2022):
        for c in codes:
            for fid, lo, hi in (("rev", 50, 500), ("inv", 5, 50)):
                rows.append(dict(year=y, unit_code=c, factor_id=fid,
                                 value=float(rng.uniform(lo, hi)), unit_of_measure="万元",
                                 source="sim", status="reported"))
    fac = pd.DataFrame(rows)

    def spec(year, w, total):
        return allocation.spec_from_dict({
            "fund": "技术改造专项资金", "year": year, "total_wan": total, "reserve_wan": 0,
            "factors": [
                {"id": "rev", "name": "营收", "weight": w, "direction": "+", "transform": "share",
                 "unit_of_measure": "万元"},
                {"id": "inv", "name": "技改投资", "weight": 100 - w, "direction": "+",
                 "transform": "share", "unit_of_measure": "万元"}],
            "rounding": {"unit_wan": 1, "method": "largest_remainder", "tie_break": "code"}})

    return allocation, fac, spec


def test_formula_and_expected_instrument():
    allocation, fac, spec = _alloc_fixture()
    specs = {2022: spec(2022, 60, 10000), 2023: spec(2023, 30, 14000)}
    z = iv.formula_instrument(specs, fac)
    a22 = allocation.allocate(specs[2022], fac).continuous_series()
    got = z[z.year == 2022].set_index("unit_code").z_wan
    np.testing.assert_array_equal(got.loc[a22.index].to_numpy(), a22.to_numpy())
    ez = iv.expected_instrument(specs, fac)
    manual = np.mean([allocation.allocate(spec(2023, w, t), fac).continuous_series().to_numpy()
                      for w in (60, 30) for t in (10000, 14000)], axis=0)
    got23 = ez[ez.year == 2023].ez_wan.to_numpy()
    np.testing.assert_allclose(got23, manual, rtol=1e-9)
    assert "weight vectors and totals" in ez.attrs["iv_shock_assumption"]
    same = {2022: spec(2022, 60, 10000), 2023: spec(2023, 60, 10000)}
    rc = iv.recentred_instrument(same, fac)
    np.testing.assert_allclose(rc.z_recentred_wan, 0.0, atol=1e-8)
    rd = iv.expected_instrument(specs, fac, method="dirichlet", n_draws=5, shocks=("weights",))
    assert rd.n_draws.iloc[0] == 5 and np.isfinite(rd.ez_wan).all()
    # a documented, degenerate shock distribution: E[z] is the formula at that point (weights'
    # Dirichlet sd ~0.5/sqrt(concentration) = 5e-7: rtol 1e-5 holds for any seed)
    pt = iv.expected_instrument(specs, fac, method="dirichlet", n_draws=3, concentration=1e12,
                                weight_mean={"rev": 60, "inv": 40}, total_support=[10000])
    a = allocation.allocate(spec(2023, 60, 10000), fac).continuous_series().to_numpy()
    np.testing.assert_allclose(pt[pt.year == 2023].ez_wan.to_numpy(), a, rtol=1e-5)


def test_instrument_states_its_shocks_as_data_and_the_page_words_them_in_each_language():
    from evalkit import report

    allocation, fac, spec = _alloc_fixture()
    specs = {2022: spec(2022, 60, 10000), 2023: spec(2023, 30, 14000)}
    both = iv.expected_instrument(specs, fac)
    assert both.attrs["iv_shocks"] == ["weights", "total"]
    assert both.attrs["iv_expectation"] == {"method": "permute", "n_draws": 4, "concentration": None}
    key, zh = report.shock_assumption(both.attrs, "zh")
    assert key == "shock_exogeneity" and "因素权重与资金总额" in zh and "4 种组合" in zh
    weights = iv.expected_instrument(specs, fac, shocks=("weights",))
    key, en = report.shock_assumption(weights.attrs, "en")
    assert key == "shock_exogeneity_weights" and "weights are exogenous" in en and "totals" not in en
    assert "2 combinations" in en  # two yearly weight vectors, the total not redrawn
    total = iv.expected_instrument(specs, fac, method="dirichlet", n_draws=5, shocks=("total",))
    key, zh = report.shock_assumption(total.attrs, "zh")
    assert key == "shock_exogeneity_total" and "资金总额是外生的" in zh and "5 次 Dirichlet" in zh
    with pytest.raises(EvalkitError, match="iv_shocks"):
        report.shock_assumption({}, "en")


def test_errors():
    df = sim_panel(seed=5)
    with pytest.raises(DesignError, match="constant"):
        iv.panel_iv(df.assign(z=0.0), outcome="y", endog="x", instrument="z", unit="unit",
                    time="year")
    unit_only = df.assign(z=df.unit.str[1:].astype(float))
    with pytest.raises(DesignError, match="no variation left"):
        iv.panel_iv(unit_only, outcome="y", endog="x", instrument="z", unit="unit", time="year")
    with pytest.raises(Exception, match="not found"):
        iv.panel_iv(df, outcome="y", endog="x", instrument="zz", unit="unit", time="year")
    with pytest.raises(Exception, match="expected_instrument"):
        iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year",
                    control_expected=True)


def test_anderson_rubin_two_instruments_grid():
    """K = 2: our grid statistic equals an explicit-dummy cluster Wald / 2 (1e-8); the returned
    union of intervals is exactly the set of accepted grid points."""
    df = sim_panel(seed=8, N=30, T=6)
    rng = np.random.default_rng(8)
    df["z2"] = df.z * rng.uniform(0.5, 1.5, len(df)) + rng.gamma(2.0, 200.0, len(df))
    grid = np.linspace(-5, 5, 81)
    r = iv.panel_iv(df, outcome="y", endog="x", instrument=["z", "z2"], unit="unit", time="year",
                    ar_grid=grid, small_sample="xtreg")  # the reference counts k = K (xtreg)
    D = dummies(df)
    Zr = df[["z", "z2"]].to_numpy() / 1000
    Zt = Zr - D @ np.linalg.lstsq(D, Zr, rcond=None)[0]
    G = df.unit.nunique()
    crit = stats.f.ppf(0.95, 2, G - 1)
    accepted = []
    for b0 in grid:
        yy = df.y.to_numpy() - b0 * df.x.to_numpy() / 1000
        Z = np.column_stack([Zr, D])
        coef = np.linalg.lstsq(Z, yy, rcond=None)[0]
        e = yy - Z @ coef
        v = cluster_cov(Zt, e, df.unit.to_numpy(), k=2)
        s = float(coef[:2] @ np.linalg.solve(v, coef[:2]) / 2)
        assert r.ar_set["statistic"](b0) == pytest.approx(s, rel=1e-8)
        accepted.append(s <= crit)
    inside = [any(lo <= b <= hi for lo, hi in r.ar_intervals) for b in grid]
    assert inside == accepted
    assert r.ar_set["method"].startswith("grid")


def test_with_inference_cr2_scalar_dof_and_wider_interval():
    """CR2 returns per-coefficient degrees of freedom; the IV result keeps the 2SLS one."""
    import evalkit.iv as ivmod

    rng = np.random.default_rng(5)
    n, T = 14, 5
    df = pd.DataFrame({"u": np.repeat(np.arange(n), T), "t": np.tile(np.arange(T), n)})
    df["z"] = rng.normal(size=len(df))
    df["x"] = df["z"] + rng.normal(size=len(df))
    df["y"] = 0.5 * df["x"] + rng.normal(size=len(df))
    fit = ivmod.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t")
    cr2 = fit.with_inference("cr2")
    assert np.isscalar(cr2.dof) and 1 <= cr2.dof <= n - 1
    lo1, hi1 = fit.conf_int()
    lo2, hi2 = cr2.conf_int()
    assert hi2 - lo2 > hi1 - lo1 and cr2.estimate == fit.estimate
