"""Wild cluster bootstrap with absorbed unit and year effects, for every shape of the panel.

Reference: a brute-force bootstrap written here from the textbook definition -- explicit unit and
year dummies in the regression, the restricted (or unrestricted) fit, and for *every* Rademacher
sign vector a full least-squares refit of ``y* = fit + v_g * residual`` with a CR1-studentised t
statistic. Cross-check: wildboottest (an independent implementation) on the explicit-dummy design.

Tolerances
----------
* Full enumeration is deterministic, so evalkit's bootstrap t statistics equal the brute-force
  ones up to one constant factor (the CR1 small-sample factor counts the explicit dummies in
  ``k``; it cancels in the p-value) to rtol 1e-8, and the p-values are equal exactly (same tie
  rule: ``|t*| >= |t|`` within relative 1e-9).
* wildboottest counts ties strictly, so its p-value is ours minus at most the two tie draws
  (v = +-1, which reproduce |t| under WCR, and which rounding may put on either side):
  0 <= ours - theirs <= 2 / 2**G, to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.kernels import enumerated_weights
from evalkit.did import twfe
from evalkit.inference.wild import wild_cluster_bootstrap

TIE_RTOL = 1e-9


def _panel(N, T, seed, drop=0.0, weights=False, n_treated=3):
    """A TWFE panel under a small true effect; optionally unbalanced (share ``drop`` removed)
    and weighted."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(N), T), "year": np.tile(np.arange(2000, 2000 + T), N)})
    start = 2000 + T // 2
    df["d"] = ((df["unit"] < n_treated) & (df["year"] >= start)).astype(float)
    df["x"] = rng.normal(size=len(df))
    df["y"] = (0.3 * df["d"] + 0.2 * df["x"] + rng.normal(size=N)[df["unit"]]
               + rng.normal(size=T)[df["year"] - 2000] + rng.normal(size=len(df)))
    if weights:
        df["w"] = rng.uniform(0.5, 2.0, size=len(df))
    if drop:
        keep = rng.random(len(df)) > drop
        keep[df["d"].to_numpy() == 1] = True  # keep every treated cell
        df = df[keep].reset_index(drop=True)
    return df


def _inv_sqrt(m):
    w, v = np.linalg.eigh((m + m.T) / 2)
    keep = w > 1e-10 * max(w.max(), 1.0)
    return (v[:, keep] / np.sqrt(w[keep])) @ v[:, keep].T


def _brute_force(df, clusters, impose_null, weights=None, bootcluster=None, studentize="cr1"):
    """Bootstrap t statistics and p-value of ``d = 0`` by refitting with explicit dummies for every
    Rademacher sign vector over the bootstrap clusters (CR1- or CR2-studentised; CR2 with
    ``A_g = (I - H_gg)^{+1/2}`` from the explicit-dummy hat matrix)."""
    unit = pd.factorize(df["unit"])[0]
    year = pd.factorize(df["year"])[0]
    n = len(df)
    D = np.column_stack([np.eye(unit.max() + 1)[unit], np.eye(year.max() + 1)[year][:, 1:]])
    X = np.column_stack([df["d"], df["x"], D])
    y = df["y"].to_numpy(float)
    s = np.ones(n) if weights is None else np.sqrt(df[weights].to_numpy(float))
    X, y = X * s[:, None], y * s
    ccodes = pd.factorize(pd.Series(clusters))[0]
    bcodes = ccodes if bootcluster is None else pd.factorize(pd.Series(bootcluster))[0]
    G, H = ccodes.max() + 1, bcodes.max() + 1

    pinv = np.linalg.pinv(X)
    beta = pinv @ y
    resid = y - X @ beta
    h = pinv[0]  # beta_d = h'y
    if studentize == "cr2":  # score weights A_g h_g
        hat = X @ pinv
        h = h.copy()
        for g in range(G):
            idx = np.flatnonzero(ccodes == g)
            h[idx] = _inv_sqrt(np.eye(idx.size) - hat[np.ix_(idx, idx)]) @ pinv[0][idx]

    def se_of(Y):  # columns of Y are outcome vectors; CR1 up to a constant factor
        E = Y - X @ (pinv @ Y)
        scores = np.zeros((G, Y.shape[1]))
        np.add.at(scores, ccodes, h[:, None] * E)
        return np.sqrt((scores**2).sum(axis=0))

    est_of = pinv[0]
    t_obs = float(beta[0] / se_of(y[:, None])[0])
    if impose_null:  # restricted fit (d = 0) and its residuals; t* tests d = 0
        Xr = X[:, 1:]
        fit = Xr @ np.linalg.lstsq(Xr, y, rcond=None)[0]
        u, centre = y - fit, 0.0
    else:  # unrestricted fit; t* tests d = beta_hat
        fit, u, centre = X @ beta, resid, beta[0]
    t_boot = []
    for start in range(0, 2**H, 4096):
        V = enumerated_weights(H, start, min(start + 4096, 2**H))
        Ystar = fit[:, None] + V[bcodes] * u[:, None]
        t_boot.append((est_of @ Ystar - centre) / se_of(Ystar))
    t_boot = np.concatenate(t_boot)
    p = float(np.mean(np.abs(t_boot) >= abs(t_obs) - TIE_RTOL * max(1.0, abs(t_obs))))
    return t_boot, p, t_obs


def _assert_proportional(ours, ref):
    """``ours = c * ref`` for one constant c (the CR1 factor ratio); draws whose statistic is zero
    (WCU's v = +-1, which reproduce the estimate) are compared absolutely. Returns c."""
    big = np.abs(ref) > 1e-6
    ratio = ours[big] / ref[big]
    c = float(np.median(ratio))
    np.testing.assert_allclose(ratio, c, rtol=1e-8)
    np.testing.assert_allclose(ours[~big], c * ref[~big], atol=1e-6)
    return c


def _evalkit(df, impose_null=True, weights=None, cluster=None, bootcluster=None, studentize="cr1"):
    res = twfe(df, outcome="y", unit="unit", time="year", treatment="d", covariates="x",
               weights=weights, cluster=cluster, cov_type="clustered")
    kw = {} if bootcluster is None else {"bootcluster": bootcluster}
    return wild_cluster_bootstrap(res.design, param="d", impose_null=impose_null, level=None,
                                  full_enumeration=True, studentize=studentize, **kw)


SHAPES = [
    pytest.param(12, 14, 0.0, False, id="12x14 units<years"),
    pytest.param(10, 20, 0.0, False, id="10x20 units<years"),
    pytest.param(12, 12, 0.0, False, id="12x12 units=years"),
    pytest.param(14, 12, 0.0, False, id="14x12 units>years"),
    pytest.param(12, 14, 0.15, False, id="12x14 unbalanced"),
    pytest.param(12, 14, 0.0, True, id="12x14 weighted"),
    pytest.param(13, 9, 0.15, True, id="13x9 unbalanced weighted"),
]


@pytest.mark.parametrize("impose_null", [True, False], ids=["WCR", "WCU"])
@pytest.mark.parametrize(("N", "T", "drop", "weighted"), SHAPES)
def test_equals_brute_force_with_explicit_dummies(N, T, drop, weighted, impose_null):
    df = _panel(N, T, seed=N * 100 + T, drop=drop, weights=weighted)
    w = "w" if weighted else None
    ours = _evalkit(df, impose_null=impose_null, weights=w)
    t_ref, p_ref, t_obs = _brute_force(df, df["unit"].to_numpy(), impose_null, weights=w)
    c = _assert_proportional(ours.t_boot, t_ref)
    np.testing.assert_allclose(ours.statistic / t_obs, c, rtol=1e-8)
    assert ours.pvalue == p_ref
    assert "absorbed effects re-projected" in ours.description


def test_observation_level_subclusters_equal_brute_force():
    """The default few-cluster bootstrap (weights below the cluster level) with units < years:
    6 units x 14 years, one weight per unit and half-panel (12 bootstrap clusters, all 4,096
    sign vectors)."""
    df = _panel(6, 14, seed=5, n_treated=2)
    sub = df["unit"].to_numpy() * 2 + (df["year"].to_numpy() >= 2007)
    ours = _evalkit(df, bootcluster=sub)
    t_ref, p_ref, _ = _brute_force(df, df["unit"].to_numpy(), True, bootcluster=sub)
    _assert_proportional(ours.t_boot, t_ref)
    assert ours.pvalue == p_ref


@pytest.mark.parametrize("sub", [False, True], ids=["cluster weights", "subcluster weights"])
@pytest.mark.parametrize("impose_null", [True, False], ids=["WCR", "WCU"])
def test_cr2_studentised_equals_brute_force(sub, impose_null):
    """CR2-studentised bootstrap t (7 units x 12 years, unbalanced and weighted)."""
    df = _panel(7, 12, seed=11, drop=0.1, weights=True, n_treated=2)
    units = df["unit"].to_numpy()
    bc = units * 2 + (df["year"].to_numpy() >= 2006) if sub else None
    ours = _evalkit(df, impose_null=impose_null, weights="w", bootcluster=bc, studentize="cr2")
    t_ref, p_ref, t_obs = _brute_force(df, units, impose_null, weights="w", bootcluster=bc, studentize="cr2")
    c = _assert_proportional(ours.t_boot, t_ref)
    np.testing.assert_allclose(c, 1.0, rtol=1e-8)  # no small-sample factor: CR2 itself
    np.testing.assert_allclose(ours.statistic, t_obs, rtol=1e-8)
    assert ours.pvalue == p_ref and "CR2-studentised" in ours.description


def test_clusters_finer_than_units_reprojected_on_all_effects():
    """Clusters = unit x half-panel (unit effects not nested): the whole absorbed span is
    re-projected, equal to the brute force with explicit dummies."""
    df = _panel(6, 14, seed=6, n_treated=2)
    df["cl"] = df["unit"] * 2 + (df["year"] >= 2007)
    ours = _evalkit(df, cluster="cl")
    t_ref, p_ref, _ = _brute_force(df, df["cl"].to_numpy(), True)
    _assert_proportional(ours.t_boot, t_ref)
    assert ours.pvalue == p_ref
    assert "not nested in the clusters) re-projected" in ours.description


@pytest.mark.parametrize(("N", "T"), [(12, 14), (14, 12)])
def test_agrees_with_wildboottest_on_explicit_dummies(N, T):
    wb_mod = pytest.importorskip("wildboottest.wildboottest")
    df = _panel(N, T, seed=N * 100 + T)
    ours = _evalkit(df)
    unit, year = df["unit"].to_numpy(), df["year"].to_numpy() - 2000
    X = np.column_stack([df["d"], df["x"], np.eye(N)[unit], np.eye(T)[year][:, 1:]])
    R = np.zeros(X.shape[1])
    R[0] = 1.0
    wb = wb_mod.WildboottestCL(X=X, Y=df["y"].to_numpy(float), cluster=unit, R=R, B=99999, seed=1,
                               parallel=False)
    wb.get_scores(bootstrap_type="11", impose_null=True)
    wb.get_weights("rademacher")
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue()
    assert wb.full_enumeration
    gap = ours.pvalue - float(np.squeeze(wb.pvalue))
    assert -1e-12 <= gap <= 2 / 2**N + 1e-12
