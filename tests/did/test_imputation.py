"""Borusyak-Jaravel-Spiess imputation estimator.

Independent implementation: diff-diff 3.13 ``ImputationDiD`` (test-only peer; documented as matching
R ``didimputation`` by default and Stata ``did_imputation``'s leave-out refinement with
``leave_one_out=True``), on mpdta (moderndid 0.2.0) and simulated staggered panels with and without covariates:
overall ATT, horizon effects and their conservative standard errors agree to 1e-8 (relative).
Pre-trend test (BJS equation 9): lead coefficients agree to 1e-8; diff-diff's CR1 factor counts the
T time effects, so its F equals evalkit's times ``(n0 - k - T) / (n0 - k)``.
Exact identity: each estimate equals ``sum_it v_it y_it`` with the imputation weights (1e-10).
Simulation: recovery of planted heterogeneous, growing effects within 4 Monte-Carlo s.e.
Joint event study (``ImputationResult.event_study``; leads + horizons for HonestDiD): its diagonal
blocks equal the horizon conservative covariance and ``pretrends()``'s CR1 covariance to 1e-10
(absolute); the whole matrix, including the lead-horizon cross-covariances, equals a brute-force
computation with explicit unit/time dummies and dense pseudo-inverses to 1e-10 (absolute).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import DesignError, EvalkitError
from evalkit.did import imputation

RTOL = 1e-8
ATOL_JOINT = 1e-10


def _dd(df, covariates=None, leave_out=False):
    from diff_diff import ImputationDiD

    d = df.assign(ft=df["cohort"].astype(int))
    return ImputationDiD(cluster="unit", leave_one_out=leave_out).fit(
        d, outcome="y", unit="unit", time="year", first_treat="ft", covariates=covariates, aggregate="event_study"
    )


@pytest.mark.filterwarnings("ignore:.*aggregate=.*:FutureWarning")
@pytest.mark.parametrize(("covariates", "leave_out", "unbalanced"),
                         [(None, False, False), (None, True, False), (["x"], False, True), (["x"], True, True)])
def test_matches_diff_diff(covariates, leave_out, unbalanced):
    df = staggered_panel(n_units=250, seed=5, effect=lambda e: 1 + 0.3 * e)
    if unbalanced:
        df = df.sample(frac=0.9, random_state=1)
    r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates=covariates,
                   leave_out=leave_out)
    p = _dd(df, covariates, leave_out)
    np.testing.assert_allclose(r.att.estimate, p.overall_att, rtol=RTOL)
    np.testing.assert_allclose(r.att.std_error, p.overall_se, rtol=RTOL)
    es = p.event_study_effects
    hs = r.labels["event_time"].tolist()
    np.testing.assert_allclose(r.params.to_numpy(), [es[h]["effect"] for h in hs], rtol=RTOL)
    np.testing.assert_allclose(r.std_errors.to_numpy(), [es[h]["se"] for h in hs], rtol=RTOL)


def test_pretrend_test_matches_diff_diff():
    from diff_diff import ImputationDiD

    df = staggered_panel(n_units=300, seed=5)
    r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort")
    pre = r.pretrends(small_sample="xtreg")
    peer = ImputationDiD(cluster="unit")
    peer.fit(df.assign(ft=df["cohort"].astype(int)), outcome="y", unit="unit", time="year", first_treat="ft")
    pt = peer._pretrend_test()
    lead = pt["lead_coefficients"]
    np.testing.assert_allclose(pre.params.to_numpy(), [lead[e] for e in pre.labels["event_time"]], rtol=RTOL)
    mine = r.pretrend_test(small_sample="xtreg")
    n0, k, n_t = pre.design.nobs, pre.design.k, df["year"].nunique()
    np.testing.assert_allclose(mine["statistic"] / mine["df"] * (n0 - k - n_t) / (n0 - k), pt["f_stat"], rtol=RTOL)
    assert mine["df"] == pt["df"]
    paper = r.pretrend_test(leads=3)
    assert paper["df"] == 3


def test_estimate_is_linear_in_y_with_imputation_weights():
    """tau_hat_w = sum_treated w y + sum_untreated v y (BJS Theorem 1), via a y-perturbation."""
    df = staggered_panel(n_units=80, seed=3)
    base = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates="x")
    rng = np.random.default_rng(0)
    d2 = df.assign(y=df["y"] + rng.normal(size=len(df)))
    d3 = df.assign(y=2 * d2["y"] - df["y"])
    r2 = imputation(d2, outcome="y", unit="unit", time="year", cohort="cohort", covariates="x")
    r3 = imputation(d3, outcome="y", unit="unit", time="year", cohort="cohort", covariates="x")
    np.testing.assert_allclose(r3.params - r2.params, r2.params - base.params, atol=1e-10)


def test_recovers_planted_effects():
    hs = [0, 1, 2, 3]
    err = []
    for s in range(10):
        df = staggered_panel(n_units=300, seed=400 + s, effect=lambda e: 1 + 0.5 * e, noise=0.5)
        r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", horizons=3)
        assert r.labels["event_time"].tolist() == hs
        truth = df.loc[df["treat"] == 1].groupby("rel")["tau"].mean().loc[hs].to_numpy()
        err.append(r.params.to_numpy() - truth)
    err = np.array(err)
    mc = err.std(axis=0) / np.sqrt(len(err))
    assert np.all(np.abs(err.mean(axis=0)) < 4 * mc + 1e-12)


def test_errors():
    df = staggered_panel(n_units=60, seed=1)
    with pytest.raises(DesignError, match="horizon"):
        imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", horizons=[40])
    with pytest.raises(EvalkitError, match="aux_partition"):
        imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", aux_partition="x")
    df["x2"] = df["x"] * 2
    with pytest.raises(EvalkitError, match="x2"):
        imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates=["x", "x2"])


@pytest.mark.filterwarnings("ignore:.*aggregate=.*:FutureWarning")
def test_mpdta_matches_diff_diff():
    """Real data: mpdta (Callaway and Sant'Anna 2021; shipped by moderndid 0.2.0), log teen employment."""
    import moderndid

    d = moderndid.load_mpdta()
    d = d.to_pandas() if hasattr(d, "to_pandas") else d
    d = d.rename(columns={"first.treat": "cohort", "countyreal": "unit", "lemp": "y"})
    r = imputation(d, outcome="y", unit="unit", time="year", cohort="cohort")
    p = _dd(d)
    np.testing.assert_allclose([r.att.estimate, r.att.std_error], [p.overall_att, p.overall_se], rtol=RTOL)
    hs = r.labels["event_time"].tolist()
    np.testing.assert_allclose(r.std_errors.to_numpy(), [p.event_study_effects[h]["se"] for h in hs], rtol=RTOL)


# --- joint event study: leads (pre-trend regression) and horizons with one covariance ---------


@pytest.mark.parametrize(("covariates", "leave_out", "cluster"),
                         [(None, False, None), ("x", True, None), ("x", False, "grp")])
def test_event_study_diagonal_blocks_match_existing(covariates, leave_out, cluster):
    df = staggered_panel(n_units=150, seed=11).assign(grp=lambda d: d["unit"] // 4)
    r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates=covariates,
                   leave_out=leave_out, cluster=cluster)
    ev = r.event_study()
    pre = r.pretrends()
    leads, hs = list(pre.params.index), list(r.params.index)
    assert list(ev.params.index) == leads + hs
    assert ev.reference == [-1]
    et = ev.labels["event_time"].tolist()
    assert et == pre.labels["event_time"].tolist() + r.labels["event_time"].tolist()
    assert -1 not in et and all(e < -1 for e in et[: len(leads)])
    np.testing.assert_allclose(ev.params.loc[leads], pre.params, atol=ATOL_JOINT)
    np.testing.assert_allclose(ev.params.loc[hs], r.params, atol=ATOL_JOINT)
    np.testing.assert_allclose(ev.cov.loc[hs, hs], r.cov, atol=ATOL_JOINT, rtol=0)
    np.testing.assert_allclose(ev.cov.loc[leads, leads], pre.cov, atol=ATOL_JOINT, rtol=0)
    assert np.linalg.eigvalsh(ev.cov.to_numpy()).min() > -1e-12
    # a finite window [-4, -1]: leads -4..-2, same lead block as the regression with those leads
    ev4 = r.event_study(leads=4)
    assert ev4.labels["event_time"].tolist()[:3] == [-4, -3, -2]


def _brute_force_joint(df, covariates, cluster):
    """Explicit weight vectors (dense dummies, pseudo-inverses) and cluster sums of score products."""
    d = df.reset_index(drop=True)
    y = d["y"].to_numpy(float)
    treated = ((d["cohort"] > 0) & (d["year"] >= d["cohort"])).to_numpy()
    units, years = np.sort(d["unit"].unique()), np.sort(d["year"].unique())
    dummies = [(d["unit"].to_numpy()[:, None] == units).astype(float),
               (d["year"].to_numpy()[:, None] == years).astype(float)]
    xcov = [d[[covariates]].to_numpy(float)] if covariates else []
    z = np.column_stack(dummies + xcov)
    z0, z1 = z[~treated], z[treated]
    p0 = np.linalg.pinv(z0.T @ z0)
    coef = p0 @ z0.T @ y[~treated]
    e0 = y[~treated] - z0 @ coef
    tau = y[treated] - z1 @ coef
    rel1 = (d["year"] - d["cohort"]).to_numpy()[treated]
    g1 = d["cohort"].to_numpy()[treated]
    u1 = d["unit"].to_numpy()[treated]
    cl = d[cluster].to_numpy()
    clusters = np.unique(cl)
    # horizons: tau_h = v_h'y; residual eps~ = e0 on untreated, tau - tau~_(g,h) on treated
    hs = sorted(set(rel1.tolist()))
    est_h, psi = [], []
    for h in hs:
        w = (rel1 == h) / (rel1 == h).sum()
        v = np.zeros(len(d))
        v[treated] = w
        v[~treated] = -z0 @ p0 @ z1.T @ w
        eps = np.zeros(len(d))
        eps[~treated] = e0
        tilde = np.zeros(len(tau))
        for g in np.unique(g1):
            m = (g1 == g) & (rel1 == h)
            if not m.any():
                continue
            a = pd.Series(w[m]).groupby(u1[m]).sum()
            b = pd.Series(w[m] * tau[m]).groupby(u1[m]).sum()
            tilde[m] = (a * b).sum() / (a * a).sum()
        eps[treated] = tau - tilde
        est_h.append(v @ y)
        psi.append([np.sum((v * eps)[cl == c]) for c in clusters])
    # leads: OLS on untreated observations with lead dummies -k (k >= 2), unit and time dummies
    rel0 = (d["year"] - d["cohort"]).to_numpy(float)[~treated]
    rel0[d["cohort"].to_numpy()[~treated] == 0] = np.nan
    ks = sorted({int(-r) for r in rel0[~np.isnan(rel0)] if r < -1}, reverse=True)
    x0_cov = [x[~treated] for x in xcov]
    lead_cols = np.column_stack([(rel0 == -k).astype(float) for k in ks] + x0_cov)
    x0 = np.column_stack([lead_cols, z0[:, : len(units) + len(years)]])
    pinv_x0 = np.linalg.pinv(x0)
    beta = pinv_x0 @ y[~treated]
    e_lead = y[~treated] - x0 @ beta
    a_lead = pinv_x0[: len(ks)]
    cl0 = cl[~treated]
    phi = np.array([[np.sum((a_lead[j] * e_lead)[cl0 == c]) for c in clusters] for j in range(len(ks))])
    n0, n_g = int((~treated).sum()), len(clusters)
    k = len(ks) + len(x0_cov)  # unit effects nested in the clusters are not counted (CR1)
    factor = n_g / (n_g - 1) * (n0 - 1) / (n0 - k)
    scores = np.column_stack([np.sqrt(factor) * phi.T, np.array(psi).T])
    params = np.concatenate([beta[: len(ks)], est_h])
    return [-k_ for k_ in ks] + hs, params, scores.T @ scores


@pytest.mark.parametrize(("covariates", "cluster"), [(None, "unit"), ("x", "grp")])
def test_event_study_cross_covariance_brute_force(covariates, cluster):
    df = staggered_panel(n_units=30, years=(2010, 2016), cohorts=(0, 2013, 2015), seed=21,
                         effect=lambda e: 1 + 0.4 * e).assign(grp=lambda d: d["unit"] // 3)
    r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates=covariates,
                   cluster=None if cluster == "unit" else cluster)
    ev = r.event_study(small_sample="xtreg")  # the brute force counts like xtreg
    et, params, cov = _brute_force_joint(df, covariates, cluster)
    assert ev.labels["event_time"].tolist() == et
    np.testing.assert_allclose(ev.params.to_numpy(), params, atol=ATOL_JOINT, rtol=0)
    np.testing.assert_allclose(ev.cov.to_numpy(), cov, atol=ATOL_JOINT, rtol=0)
    n_lead = int((np.array(et) < 0).sum())
    assert np.abs(cov[:n_lead, n_lead:]).max() > 1e-4  # the cross block is really checked


def test_event_study_needs_leads():
    df = staggered_panel(n_units=60, seed=1)
    r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort")
    for k in (0, 1):
        with pytest.raises(DesignError, match="no lead coefficient"):
            r.event_study(leads=k)
    with pytest.raises(EvalkitError, match="small_sample"):
        r.event_study(small_sample="x")
    # cohorts treated from the second period on: only event time -1 is observed before treatment
    late = df.assign(cohort=np.where(df["cohort"] > 0, 2011, 0))
    r2 = imputation(late, outcome="y", unit="unit", time="year", cohort="cohort")
    with pytest.raises(DesignError, match="besides the reference -1"):
        r2.event_study()
