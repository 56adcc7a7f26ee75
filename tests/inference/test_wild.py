"""Wild cluster bootstrap against the wildboottest package (independent implementation).

Tolerances
----------
* Full enumeration (deterministic): bootstrap t statistics equal wildboottest's to rtol 1e-8;
  WCU p-values equal exactly; WCR p-values differ only by the two tie draws (v = +-1, which
  reproduce |t|): ours counts ties as extreme (the sign-change randomization test convention),
  wildboottest counts strictly greater, so ours = theirs + 2 / 2**G exactly.
* Random weights (Webb, Mammen): p-values agree within 4 Monte-Carlo standard errors of the
  difference of two independent estimates, 4 * sqrt(2 p (1 - p) / B).
* Test inversion: the p-value at each interval end is within one draw (1/B) of 1 - level, and
  just inside the interval it exceeds 1 - level.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._shared.exceptions import InferenceError
from evalkit.inference.design import LinearDesign
from evalkit.inference.wild import wild_cluster_bootstrap


def _design(seed=1, N=400, G=10, k=3, beta1=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, k))
    X[:, 0] = 1.0
    cl = rng.integers(0, G, N)
    y = X @ np.r_[1.0, beta1, np.zeros(k - 2)] + rng.normal(size=N) + rng.normal(size=G)[cl]
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    names = [f"x{j}" for j in range(k)]
    return LinearDesign(X=X, resid=y - X @ b, beta=b, names=names, y=y, clusters=cl)


def _peer(design, R, impose_null, weights="rademacher", B=99999, seed=3):
    wb_mod = pytest.importorskip("wildboottest.wildboottest")
    wb = wb_mod.WildboottestCL(
        X=design.X, Y=design.y, cluster=design.clusters, R=R, B=B, seed=seed, parallel=False
    )
    wb.get_scores(bootstrap_type="11", impose_null=impose_null)
    wb.get_weights(weights)
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue()
    return wb


@pytest.mark.parametrize("impose_null", [True, False])
def test_full_enumeration_matches_wildboottest_exactly(impose_null):
    d = _design()
    R = np.array([0.0, 1.0, 0.0])
    ours = wild_cluster_bootstrap(d, param="x1", impose_null=impose_null, level=None)
    peer = _peer(d, R, impose_null)
    assert ours.full_enumeration and ours.n_draws == 2**10 == peer.B
    np.testing.assert_allclose(ours.statistic, np.ravel(peer.t_stat)[0], rtol=1e-10)
    np.testing.assert_allclose(np.sort(ours.t_boot), np.sort(peer.t_boot), rtol=1e-8, atol=1e-12)
    if impose_null:
        assert ours.pvalue == pytest.approx(peer.pvalue + 2 / 2**10, abs=1e-12)
    else:
        assert ours.pvalue == peer.pvalue
        # equal-tailed p-value (no ties under WCU: v = +-1 give t* = 0)
        eq = wild_cluster_bootstrap(d, param="x1", impose_null=False, level=None, pvalue_type="equal-tailed")
        peer.get_pvalue("equal-tailed")
        assert eq.pvalue == pytest.approx(peer.pvalue, abs=1e-12)


@pytest.mark.slow  # wildboottest compiles its numba kernel on every call (~4 s each)
@pytest.mark.parametrize(
    ("weights", "impose_null"), [("webb", True), ("webb", False), ("mammen", True), ("rademacher", False)]
)
def test_random_weights_agree_with_wildboottest_within_mc_error(weights, impose_null):
    d = _design(seed=5, G=20, beta1=0.15)
    B = 9999
    ours = wild_cluster_bootstrap(d, param=1, bootstrap_weights=weights, impose_null=impose_null, n_draws=B,
                                  full_enumeration=False, level=None)
    peer = _peer(d, np.array([0.0, 1.0, 0.0]), impose_null, weights=weights, B=B)
    p = (ours.pvalue + peer.pvalue) / 2
    assert abs(ours.pvalue - peer.pvalue) <= 4 * np.sqrt(2 * p * (1 - p) / B) + 1e-12


def test_contrast_equals_reparametrised_coefficient():
    """R b = r for R = (0, 1, 1) equals the single-coefficient test after reparametrising."""
    d = _design(seed=2)
    R = np.array([0.0, 1.0, 1.0])
    res = wild_cluster_bootstrap(d, R=R, r=0.05, level=0.9)
    # beta1 + beta2 becomes the coefficient of x1 in X A^{-1}, with A mapping b -> (b0, b1+b2, b2)
    A = np.array([[1.0, 0, 0], [0, 1, 1], [0, 0, 1]])
    X2 = d.X @ np.linalg.inv(A)
    b2 = A @ d.beta
    d2 = LinearDesign(X=X2, resid=d.resid, beta=b2, names=d.names, y=d.y, clusters=d.clusters)
    res2 = wild_cluster_bootstrap(d2, param=1, r=0.05, level=0.9)
    assert res.pvalue == res2.pvalue
    np.testing.assert_allclose(res.interval, res2.interval, rtol=1e-7)


@pytest.mark.parametrize("impose_null", [True, False])
def test_confidence_interval_inverts_the_test(impose_null):
    d = _design(seed=4, G=9)
    res = wild_cluster_bootstrap(d, param=1, impose_null=impose_null, bootstrap_weights="webb", n_draws=1999, level=0.9)
    lo, hi = res.conf_int(0.9)
    assert lo < res.estimate < hi
    width = hi - lo
    for end in (lo, hi):
        assert res.pvalue_at(end) == pytest.approx(0.10, abs=1 / res.n_draws + 1e-12)
    assert res.pvalue_at(lo + 1e-3 * width) > 0.10
    assert res.pvalue_at(hi - 1e-3 * width) > 0.10
    assert res.pvalue_at(lo - 0.05 * width) <= 0.10


def test_pvalue_at_r_equals_rerun_with_r():
    d = _design(seed=6)
    res = wild_cluster_bootstrap(d, param=1, level=None)
    res2 = wild_cluster_bootstrap(d, param=1, r=0.2, level=None)
    assert res.pvalue_at(0.2) == res2.pvalue


def test_subcluster_bootstrap_runs_and_errors_when_not_nested():
    d = _design(seed=8, G=6)
    sub = np.arange(d.nobs) % 40 + 100 * d.clusters
    res = wild_cluster_bootstrap(d, param=1, bootcluster=sub, n_draws=999, level=None)
    assert res.n_boot_clusters == np.unique(sub).size and not res.full_enumeration
    with pytest.raises(InferenceError, match="nested"):
        wild_cluster_bootstrap(d, param=1, bootcluster=np.arange(d.nobs) % 7, level=None)


def test_warns_when_absorbed_units_not_nested_in_clusters():
    from evalkit._shared.exceptions import EvalkitWarning

    d = _design(seed=9)
    d.df_absorbed, d.fe_nested_in_cluster = 5, False
    with pytest.warns(EvalkitWarning, match="not nested"):
        wild_cluster_bootstrap(d, param=1, level=None)


def test_bad_input_messages():
    d = _design()
    with pytest.raises(InferenceError, match="exactly one"):
        wild_cluster_bootstrap(d)
    with pytest.raises(InferenceError, match="not a coefficient"):
        wild_cluster_bootstrap(d, param="nope")
    one = LinearDesign(X=d.X, resid=d.resid, beta=d.beta, names=d.names, y=d.y, clusters=np.zeros(d.nobs))
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        wild_cluster_bootstrap(one, param=1)
    with pytest.raises(Exception, match="bootstrap_weights"):
        wild_cluster_bootstrap(d, param=1, bootstrap_weights="gauss")


def _fe_designs(seed=0, N=12, T=8):
    """The same TWFE fit twice: (A) year dummies in X, only unit effects absorbed (nested in
    clusters, so the partialled bootstrap is exact); (B) unit and year effects absorbed."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(N), T)
    year = np.tile(np.arange(T), N)
    d = ((unit < 3) & (year >= 4)).astype(float)
    x = rng.normal(size=N * T)
    y = 0.1 * d + 0.3 * x + rng.normal(size=N)[unit] + rng.normal(size=T)[year] + rng.normal(size=N * T)

    def unit_demean(m):
        m = m.reshape(N * T, -1)
        mu = np.zeros((N, m.shape[1]))
        np.add.at(mu, unit, m)
        return m - (mu / T)[unit]

    def two_way(m):
        m = m.reshape(N, T, -1)
        out = m - m.mean(1, keepdims=True) - m.mean(0, keepdims=True) + m.mean((0, 1), keepdims=True)
        return out.reshape(N * T, -1)

    XA = unit_demean(np.column_stack([d, x, np.eye(T)[year][:, 1:]]))
    yA = unit_demean(y)[:, 0]
    bA = np.linalg.lstsq(XA, yA, rcond=None)[0]
    A = LinearDesign(X=XA, resid=yA - XA @ bA, beta=bA, names=[f"c{j}" for j in range(XA.shape[1])],
                     y=yA, clusters=unit, df_absorbed=N, fe_nested_in_cluster=True,
                     extra={"fe_codes": unit[:, None]})
    XB = two_way(np.column_stack([d, x]))
    yB = two_way(y)[:, 0]
    bB = np.linalg.lstsq(XB, yB, rcond=None)[0]
    B = LinearDesign(X=XB, resid=yB - XB @ bB, beta=bB, names=["d", "x"], y=yB, clusters=unit,
                     df_absorbed=N + T - 1, fe_nested_in_cluster=True,
                     extra={"fe_codes": np.column_stack([unit, year])})
    return A, B


@pytest.mark.parametrize("impose_null", [True, False])
@pytest.mark.parametrize("subcluster", [False, True])
def test_absorbed_year_effects_reprojected_exactly(impose_null, subcluster):
    """Absorbing the (non-nested) year effects gives the same bootstrap as explicit year dummies.

    With fixest's CR1 convention (the default) both designs count the year effects in k (as
    explicit dummies in A, as absorbed effects not nested in the clusters in B), so the bootstrap
    t statistics are equal, and p-values and intervals agree to 1e-8.
    """
    A, B = _fe_designs()
    sub = np.arange(A.nobs) if subcluster else None
    kw = dict(param=0, impose_null=impose_null, level=0.9, bootcluster=sub, n_draws=999)
    a = wild_cluster_bootstrap(A, **kw)
    b = wild_cluster_bootstrap(B, **kw)
    np.testing.assert_allclose(a.t_boot, b.t_boot, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-9)
    assert a.pvalue == b.pvalue
    np.testing.assert_allclose(a.interval, b.interval, rtol=1e-8)
    assert "re-projected" in b.description
