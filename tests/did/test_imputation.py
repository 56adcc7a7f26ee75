"""Borusyak-Jaravel-Spiess imputation estimator.

Independent implementation: diff-diff 3.13 ``ImputationDiD`` (test-only peer; documented as matching
R ``didimputation`` by default and Stata ``did_imputation``'s leave-out refinement with
``leave_one_out=True``), on mpdta (moderndid 0.2.0) and simulated staggered panels with and without covariates:
overall ATT, horizon effects and their conservative standard errors agree to 1e-8 (relative).
Pre-trend test (BJS equation 9): lead coefficients agree to 1e-8; diff-diff's CR1 factor counts the
T time effects, so its F equals evalkit's times ``(n0 - k - T) / (n0 - k)``.
Exact identity: each estimate equals ``sum_it v_it y_it`` with the imputation weights (1e-10).
Simulation: recovery of planted heterogeneous, growing effects within 4 Monte-Carlo s.e.
"""

from __future__ import annotations

import numpy as np
import pytest
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import DesignError, EvalkitError
from evalkit.did import imputation

RTOL = 1e-8


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
    pre = r.pretrends()
    peer = ImputationDiD(cluster="unit")
    peer.fit(df.assign(ft=df["cohort"].astype(int)), outcome="y", unit="unit", time="year", first_treat="ft")
    pt = peer._pretrend_test()
    lead = pt["lead_coefficients"]
    np.testing.assert_allclose(pre.params.to_numpy(), [lead[e] for e in pre.labels["event_time"]], rtol=RTOL)
    mine = r.pretrend_test()
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
