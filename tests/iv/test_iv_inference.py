"""Inference for ``evalkit.iv.panel_iv``: exact CR2 with absorbed effects, and the WRE bootstrap.

Tolerances
----------
* plm's ``Crime`` panel against R (fixture ``tests/reference/iv_crime_clubsandwich.json``, made by
  ``tests/reference/iv_crime_clubsandwich.R`` with AER::ivreg on explicit county and year dummies
  and clubSandwich 0.5.8): estimate and unadjusted SE 1e-8 relative; CR2 SE and its
  Satterthwaite (Bell-McCaffrey) degrees of freedom 1e-7 relative (the fixture prints 12
  significant digits; the data CSV holds R's 15).
* Wild restricted efficient bootstrap against a brute-force reference written out here: every one
  of the 2**G Rademacher sign vectors, the bootstrap sample built in levels with explicit unit and
  year dummies and a control, and 2SLS refitted by least squares: each bootstrap t statistic
  1e-8 relative (1e-10 absolute), p-values exactly equal. Checked with units < years and
  units > years, on an unbalanced panel.
* With the endogenous regressor as its own instrument the WRE is the restricted wild cluster
  bootstrap of OLS (``evalkit.inference.wild``): p-values equal to 1e-12.
* The test-inversion interval: the p-value is at most ``1 - level`` just outside each end and
  above it just inside (steps of 1e-5 standard errors).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit import iv
from evalkit._shared.exceptions import EvalkitWarning, FewClustersWarning, InferenceError
from evalkit.inference import compute, wild_cluster_bootstrap
from evalkit.inference.wild_iv import wild_restricted_efficient

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def crime():
    return pd.read_csv(REF / "iv_crime_data.csv")


@pytest.fixture(scope="module")
def crime_ref():
    return json.loads((REF / "iv_crime_clubsandwich.json").read_text())


def _crime_fit(df, **kw):
    return iv.panel_iv(df, outcome="lcrmrte", endog="lpolpc", instrument="ltaxpc", unit="county",
                       time="year", endog_scale=1.0, **kw)


def test_crime_cr2_matches_clubsandwich_exactly(crime, crime_ref):
    with warnings.catch_warnings():
        warnings.simplefilter("error", EvalkitWarning)  # no "leverage is ignored" warning
        fit = _crime_fit(crime, cov_type="cr2")
        again = _crime_fit(crime).with_inference("cr2")
    assert len(crime) == crime_ref["n"] == 630
    assert fit.estimate == pytest.approx(crime_ref["estimate"], rel=1e-8)
    assert fit.std_error == pytest.approx(crime_ref["se_cr2"], rel=1e-7)
    assert fit.dof == pytest.approx(crime_ref["df_cr2"], rel=1e-7)
    assert fit.pvalue == pytest.approx(crime_ref["p_cr2"], rel=1e-6)
    assert again.std_error == fit.std_error and again.dof == fit.dof
    un = _crime_fit(crime, cov_type="unadjusted")
    assert un.std_error == pytest.approx(crime_ref["se_unadjusted"], rel=1e-8)


@pytest.mark.parametrize("cov_type", ["unadjusted", "robust", "clustered", "cr2", "wild", "auto"])
def test_every_registered_cov_type_at_fit(crime, cov_type):
    sub = crime[crime.county.isin(sorted(crime.county.unique())[:14])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = _crime_fit(sub, cov_type=cov_type, **({"n_draws": 199} if cov_type in ("wild", "auto") else {}))
    assert np.isfinite(fit.std_error) and 0 <= fit.pvalue <= 1
    lo, hi = fit.conf_int()
    assert lo < fit.estimate < hi
    if cov_type in ("wild", "auto"):
        assert "WRE" in fit.inference


# ------------------------------------------------------------------------------------------
# brute-force WRE
# ------------------------------------------------------------------------------------------
def _panel(N, T, seed, drop=2):
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(T), N)
    a, lam = rng.normal(size=N)[u], rng.normal(size=T)[t]
    z = rng.normal(size=N * T) + 0.5 * a
    w = rng.normal(size=N * T)
    e = rng.normal(size=N * T) * (1 + (u % 3))
    x = 0.8 * z + 0.6 * e + rng.normal(size=N * T) + a + 0.3 * w
    y = 0.3 * x + a + lam + 0.5 * w + e
    df = pd.DataFrame({"u": u, "t": 2000 + t, "y": y, "x": x, "z": z, "w": w})
    return df.drop(index=rng.choice(len(df), drop, replace=False)).reset_index(drop=True)


def _tsls(y, X, Zall):
    """2SLS coefficients of y on X with instruments Zall (all exogenous columns included)."""
    Xh = Zall @ np.linalg.lstsq(Zall, X, rcond=None)[0]
    return np.linalg.solve(Xh.T @ X, Xh.T @ y), Xh


def _brute_wre(df, beta0):
    """Every Rademacher sign vector; bootstrap sample in levels; explicit dummies; refit."""
    D = np.column_stack([pd.get_dummies(df.u, dtype=float),
                         pd.get_dummies(df.t, dtype=float).iloc[:, 1:]])
    Wx = np.column_stack([df.w, D])  # exogenous regressors
    y, x, z = df.y.to_numpy(), df.x.to_numpy(), df.z.to_numpy()
    # restricted structural fit and efficient first stage
    g = np.linalg.lstsq(Wx, y - beta0 * x, rcond=None)[0]
    u1 = y - beta0 * x - Wx @ g
    R = np.column_stack([z, Wx, u1])
    c = np.linalg.lstsq(R, x, rcond=None)[0]
    fit2 = R[:, :-1] @ c[:-1]
    u2 = x - fit2
    clus = df.u.to_numpy()
    labels = np.unique(clus)
    G = len(labels)
    cidx = np.searchsorted(labels, clus)
    Zall = np.column_stack([z, Wx])

    def tstat(yb, xb, b0):
        X = np.column_stack([xb, Wx])
        b, Xh = _tsls(yb, X, Zall)
        e = yb - X @ b
        bread = np.linalg.pinv(Xh.T @ Xh)
        sc = np.zeros((G, X.shape[1]))
        np.add.at(sc, cidx, Xh * e[:, None])
        v = bread @ sc.T @ sc @ bread
        return (b[0] - b0) / np.sqrt(v[0, 0])

    t_obs = tstat(y, x, beta0)
    out = []
    for bnum in range(2**G):
        v = 1.0 - 2.0 * ((bnum >> np.arange(G)) & 1)
        vi = v[cidx]
        xb = fit2 + vi * u2
        yb = beta0 * xb + Wx @ g + vi * u1
        out.append(tstat(yb, xb, beta0))
    t_boot = np.array(out)
    tol = 1e-9 * max(1.0, abs(t_obs))
    return t_obs, t_boot, float(np.mean(np.abs(t_boot) >= abs(t_obs) - tol))


@pytest.mark.parametrize("N,T,seed", [(6, 9, 1), (7, 4, 2)])
def test_wre_equals_brute_force_with_explicit_dummies(N, T, seed):
    df = _panel(N, T, seed)
    fit = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t", covariates=["w"],
                      endog_scale=1.0)
    for beta0 in (0.0, fit.estimate + 0.7 * fit.std_error):
        res = wild_restricted_efficient(fit.design, r=beta0, level=None)
        t_obs, t_boot, p = _brute_wre(df, beta0)
        assert res.full_enumeration and res.n_draws == 2**N
        np.testing.assert_allclose(res.t_boot, t_boot, rtol=1e-8, atol=1e-10)
        assert res.pvalue == p
        assert res.statistic * res.std_error == pytest.approx(fit.estimate - beta0, rel=1e-10)


def test_wre_with_regressor_as_own_instrument_is_ols_wcr():
    df = _panel(14, 5, 3, drop=0)
    df["z"] = df["x"]
    fit = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t",
                      endog_scale=1.0)
    res = wild_restricted_efficient(fit.design, n_draws=999, full_enumeration=False, seed=5,
                                    level=None)
    ols = wild_cluster_bootstrap(fit.ols.extra["design"], param=0, n_draws=999,
                                 full_enumeration=False, seed=5, level=None)
    assert res.pvalue == pytest.approx(ols.pvalue, abs=1e-12)


def test_wre_interval_inverts_the_test_and_registry_entry():
    df = _panel(10, 6, 4, drop=0)
    fit = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t",
                      endog_scale=1.0)
    res = wild_restricted_efficient(fit.design, level=0.9)
    lo, hi = res.conf_int(0.9)
    assert lo < res.estimate < hi
    eps = 1e-5 * res.std_error
    for end, out_sign in ((lo, -1), (hi, +1)):
        p_out = wild_restricted_efficient(fit.design, r=end + out_sign * eps, level=None).pvalue
        p_in = wild_restricted_efficient(fit.design, r=end - out_sign * eps, level=None).pvalue
        assert p_out <= 0.1 < p_in
    w = fit.with_inference("wild", level=0.9)
    assert w.conf_int(0.9) == pytest.approx((lo, hi))
    assert w.pvalue == pytest.approx(res.pvalue)
    direct = compute(fit.design, "wild", level=0.9)
    assert direct.pvalue == pytest.approx(res.pvalue)
    with pytest.raises(InferenceError, match="2SLS design"):
        wild_restricted_efficient(fit.ols.extra["design"])
    with pytest.raises(InferenceError, match="does not accept"):
        fit.with_inference("wild", bootcluster="observation")


def test_auto_default_follows_the_iv_size_study(crime):
    """Default cov_type="auto": CR1 with 90 clusters; the WRE with 14 (evidence in the reason)."""
    many = _crime_fit(crime)
    assert many.inference.startswith("cluster-robust (CR1)") and "90 clusters" in many.inference
    sub = crime[crime.county.isin(sorted(crime.county.unique())[:14])]
    few = _crime_fit(sub, n_draws=199)
    assert "WRE" in few.inference and "IV size study" in few.inference
    assert few.pvalue == _crime_fit(sub, cov_type="wild", n_draws=199).pvalue


def test_wre_interval_at_another_level_reuses_the_draws():
    df = _panel(10, 6, 4, drop=0)
    fit = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t",
                      endog_scale=1.0, cov_type="robust")
    res = wild_restricted_efficient(fit.design, level=0.95)
    again = wild_restricted_efficient(fit.design, level=0.9)
    assert res.conf_int_at(0.9) == pytest.approx(again.interval, rel=1e-9)
    assert res.conf_int_at(0.95) == res.interval == res.conf_int()
    assert res.pvalue_at(res.r) == res.pvalue
