"""Variance registry: CR2 / Bell-McCaffrey dof, HC2/HC3, CR1, two-way, switching, bad input.

Reference computations
----------------------
* CR2 and its degrees of freedom are checked against an explicit numpy implementation written in
  this file from the formulas (Bell and McCaffrey 2002; Imbens and Kolesar 2016, REStat 98(4),
  eq. for K_BM; Pustejovsky and Tipton 2018, JBES 36(4), eq. 9 with the Moore-Penrose inverse
  square root), on a regression with explicit unit and year dummies (n x n hat matrix). evalkit's
  version works on the absorbed (within-transformed) design; tolerance 1e-10 relative.
* CR2 variance and dof of the intercept-only model against the closed forms used in
  clubSandwich's test suite (test_intercept_formulas.R), 1e-10 relative.
* HC2/HC3 and CR1 against statsmodels OLS with explicit dummies (tolerance 1e-9 relative).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from evalkit._shared.exceptions import EvalkitWarning, FewClustersWarning, InferenceError
from evalkit.inference import covariance
from evalkit.inference.design import LinearDesign

RTOL = 1e-10


def _panel(seed=0, N=12, T=6, unbalanced=False):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(N), T)
    year = np.tile(np.arange(T), N)
    keep = np.ones(N * T, bool)
    if unbalanced:
        keep[rng.choice(N * T, 7, replace=False)] = False
    unit, year = unit[keep], year[keep]
    d = ((unit < 3) & (year >= 3)).astype(float)
    x = rng.normal(size=unit.size) + d
    y = 0.3 * d + 0.2 * x + rng.normal(size=unit.size) * (1 + (unit < 3)) + rng.normal(size=N)[unit]
    return unit, year, d, x, y


def _dummies(unit, year):
    U = np.eye(unit.max() + 1)[unit]
    Y = np.eye(year.max() + 1)[year][:, 1:]
    return np.column_stack([U, Y])


def _absorbed_design(unit, year, d, x, y, extra=True):
    D = _dummies(unit, year)
    M = np.eye(len(y)) - D @ np.linalg.pinv(D)
    Z = M @ np.column_stack([y, d, x])
    b = np.linalg.lstsq(Z[:, 1:], Z[:, 0], rcond=None)[0]
    return LinearDesign(
        X=Z[:, 1:], resid=Z[:, 0] - Z[:, 1:] @ b, beta=b, names=["d", "x"], y=Z[:, 0],
        clusters=unit, df_absorbed=D.shape[1], fe_nested_in_cluster=True,
        treated_clusters=np.arange(3),
        extra={"fe_codes": np.column_stack([unit, year])} if extra else {},
    )


def _reference_cr2(Xf, y, cl, c):
    """CR2 variance of c'b and its BM dof, straight from the formulas (dense n x n)."""
    Bf = np.linalg.inv(Xf.T @ Xf)
    b = Bf @ Xf.T @ y
    e = y - Xf @ b
    H = Xf @ Bf @ Xf.T
    M = np.eye(len(y)) - H
    meat = np.zeros((Xf.shape[1], Xf.shape[1]))
    Gmat = np.zeros((len(y), cl.max() + 1))
    for g in range(cl.max() + 1):
        i = cl == g
        w, v = np.linalg.eigh(np.eye(i.sum()) - H[np.ix_(i, i)])
        keep = w > 1e-10
        A = (v[:, keep] / np.sqrt(w[keep])) @ v[:, keep].T
        s = Xf[i].T @ A @ e[i]
        meat += np.outer(s, s)
        Gmat[i, g] = A @ Xf[i] @ Bf @ c
    V = Bf @ meat @ Bf
    Gm = M @ Gmat
    W = Gm.T @ Gm
    return float(c @ V @ c), float(np.trace(W) ** 2 / np.sum(W * W))


@pytest.mark.parametrize("unbalanced", [False, True])
def test_cr2_absorbed_equals_explicit_dummies(unbalanced):
    unit, year, d, x, y = _panel(unbalanced=unbalanced)
    des = _absorbed_design(unit, year, d, x, y)
    Xf = np.column_stack([d, x, _dummies(unit, year)])
    res = covariance.compute(des, "cr2")
    for j in range(2):
        c = np.zeros(Xf.shape[1])
        c[j] = 1
        v, dof = _reference_cr2(Xf, y, unit, c)
        np.testing.assert_allclose(res.cov[j, j], v, rtol=RTOL)
        np.testing.assert_allclose(res.dof[j], dof, rtol=RTOL)
    # a contrast
    c = np.zeros(Xf.shape[1])
    c[:2] = [1.0, -2.0]
    v, dof = _reference_cr2(Xf, y, unit, c)
    rc = covariance.compute(des, "cr2", contrast=[1.0, -2.0])
    np.testing.assert_allclose(rc.details["contrast_se"] ** 2, v, rtol=RTOL)
    np.testing.assert_allclose(rc.details["contrast_dof"], dof, rtol=RTOL)


def test_cr2_with_did_absorber_matches_fe_codes():
    from evalkit._shared.kernels import TwoWayAbsorber

    unit, year, d, x, y = _panel(seed=3)
    des = _absorbed_design(unit, year, d, x, y)
    ref = covariance.compute(des, "cr2")
    des.extra = {"absorber": TwoWayAbsorber(unit, year)}
    res = covariance.compute(des, "cr2")
    np.testing.assert_allclose(res.cov, ref.cov, rtol=RTOL)
    np.testing.assert_allclose(res.dof, ref.dof, rtol=RTOL)


def test_cr2_without_fe_description_warns_and_differs():
    unit, year, d, x, y = _panel(seed=4)
    des = _absorbed_design(unit, year, d, x, y, extra=False)
    with pytest.warns(EvalkitWarning, match="leverage is ignored"):
        res = covariance.compute(des, "cr2")
    exact = covariance.compute(_absorbed_design(unit, year, d, x, y), "cr2")
    assert not np.allclose(res.cov, exact.cov)


def test_cr2_equals_cr1_structure_without_fe_in_large_clusters_limit():
    """With one regressor and equal leverage per cluster, CR2 = CR0 scaled by 1/(1-h)."""
    rng = np.random.default_rng(0)
    G, m = 8, 5
    cl = np.repeat(np.arange(G), m)
    X = np.ones((G * m, 1))
    y = rng.normal(size=G * m)
    b = np.array([y.mean()])
    des = LinearDesign(X=X, resid=y - b[0], beta=b, names=["c"], y=y, clusters=cl)
    res = covariance.compute(des, "cr2")
    # H_gg = J/n: (I - J/n)^{-1/2} acts on the cluster total 1'e as 1/sqrt(1 - m/n)
    e = y - b[0]
    tot = np.bincount(cl, weights=e)
    v = np.sum(tot**2) / (1 - m / (G * m)) / (G * m) ** 2
    np.testing.assert_allclose(res.cov[0, 0], v, rtol=RTOL)
    assert res.dof[0] == pytest.approx(G - 1, rel=1e-10)


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_hc_matches_statsmodels_with_dummies(kind):
    sm = pytest.importorskip("statsmodels.api")
    unit, year, d, x, y = _panel(seed=5)
    des = _absorbed_design(unit, year, d, x, y)
    Xf = np.column_stack([d, x, _dummies(unit, year)])
    ref = sm.OLS(y, Xf).fit(cov_type=kind).cov_params()[:2, :2]
    res = covariance.compute(des, "robust", kind=kind)
    np.testing.assert_allclose(res.cov, ref, rtol=1e-9)


def test_cr1_matches_statsmodels_cluster():
    sm = pytest.importorskip("statsmodels.api")
    unit, year, d, x, y = _panel(seed=6)
    des = _absorbed_design(unit, year, d, x, y)
    # count every absorbed effect, as statsmodels with explicit dummies does: a design that
    # neither describes its effects nor has them nested in the clusters
    des.fe_nested_in_cluster, des.extra = False, {}
    Xf = np.column_stack([d, x, _dummies(unit, year)])
    ref = sm.OLS(y, Xf).fit(cov_type="cluster", cov_kwds={"groups": unit}).cov_params()[:2, :2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        res = covariance.compute(des, "clustered")
    np.testing.assert_allclose(res.cov, ref, rtol=1e-9)


def test_two_way_clustering_is_psd_and_needs_two_clusters():
    unit, year, d, x, y = _panel(seed=7)
    des = _absorbed_design(unit, year, d, x, y)
    res = covariance.compute(des, "clustered", cluster=np.column_stack([unit, year]))
    assert np.all(np.linalg.eigvalsh(res.cov) >= -1e-14)
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        covariance.compute(des, "clustered", cluster=np.column_stack([unit, np.zeros_like(year)]))


def test_switching_without_refit_and_wild_entry():
    unit, year, d, x, y = _panel(seed=8)
    des = _absorbed_design(unit, year, d, x, y)
    des.treated_clusters = np.arange(4)
    w = covariance.compute(des, "wild", param="d", bootstrap_weights="webb", n_draws=999, seed=1)
    assert w.term == "d" and 0 <= w.pvalue <= 1 and w.conf_int[0] < des.beta[0] < w.conf_int[1]
    assert w.details.n_draws == 999
    every = covariance.compute(des, "wild", param="all", n_draws=999)
    assert every.pvalue.shape == (2,) and every.conf_int.shape == (2, 2)
    assert every.pvalue_for(1) == every.pvalue[1]
    with pytest.raises(InferenceError, match="does not accept"):
        covariance.compute(des, "cr2", weights="webb")
    with pytest.raises(InferenceError, match="Unknown cov_type"):
        covariance.compute(des, "cr3")


def test_fewer_than_two_clusters_and_one_treated_cluster():
    unit, year, d, x, y = _panel(seed=9)
    des = _absorbed_design(unit, year, d, x, y)
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        covariance.compute(des, "cr2", cluster=np.zeros_like(unit))
    des.treated_clusters = np.array([0])
    with pytest.warns(FewClustersWarning, match="randomization inference"):
        covariance.compute(des, "clustered")


def test_cr2_intercept_only_closed_forms_of_clubsandwich():
    """Population-mean model with unequal cluster sizes n_j: closed forms of the CR2 variance and
    its Satterthwaite dof, as used in clubSandwich's test suite
    (jepusto/clubSandwich, tests/testthat/test_intercept_formulas.R, "CR2 and df agree with
    formulas"): V = sum n_j^2 (ybar_j - ybar)^2 / (1 - n_j/N) / N^2 and
    df = N^2 / (N^2 sum n_j^2/(N-n_j)^2 - 2N sum n_j^3/(N-n_j)^2 + (sum n_j^2/(N-n_j))^2)."""
    rng = np.random.default_rng(20190513)
    m = 14
    nj = 1 + rng.negative_binomial(2, 2 / 7, size=m)  # mean 1 + 5, as in the reference test
    cl = np.repeat(np.arange(m), nj)
    N = nj.sum()
    y = rng.normal(scale=np.sqrt(0.2), size=m)[cl] + rng.normal(scale=np.sqrt(0.8), size=N)
    des = LinearDesign(X=np.ones((N, 1)), resid=y - y.mean(), beta=np.array([y.mean()]),
                       names=["mu"], y=y, clusters=cl)
    res = covariance.compute(des, "cr2")
    ybar = np.bincount(cl, weights=y) / nj
    v = np.sum(nj**2 * (ybar - y.mean()) ** 2 / (1 - nj / N)) / N**2
    df = N**2 / (N**2 * np.sum(nj**2 / (N - nj) ** 2) - 2 * N * np.sum(nj**3 / (N - nj) ** 2)
                 + np.sum(nj**2 / (N - nj)) ** 2)
    np.testing.assert_allclose(res.cov[0, 0], v, rtol=RTOL)
    np.testing.assert_allclose(res.dof[0], df, rtol=RTOL)
