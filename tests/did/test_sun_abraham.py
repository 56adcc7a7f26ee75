"""Sun-Abraham interaction-weighted event study.

Independent implementation: diff-diff 3.13 ``SunAbraham`` (test-only peer), on mpdta (moderndid 0.2.0) and simulated staggered
panels. Point estimates (event-time IW effects and the overall ATT) agree to 1e-8. Standard
errors: diff-diff's cluster-robust CR1 counts T more parameters in k (its time-effect columns),
as evalkit's default (fixest's ``fixef.K="nested"``) does, so they are compared directly to 1e-8;
against linearmodels (``count_effects=False``) evalkit's ``small_sample="xtreg"`` is selected.
Published check: with one treated cohort the IW estimator is the dynamic TWFE event study
(Sun and Abraham 2021, Section 4), tested to 1e-10. Simulation recovery within 4 MC s.e.
"""

from __future__ import annotations

import numpy as np
import pytest
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import DesignError, NoControlUnitsError
from evalkit.did import event_study, sun_abraham

RTOL = 1e-8


def _dd(df, control="never_treated"):
    from diff_diff import SunAbraham

    d = df.assign(ft=df["cohort"].astype(int))
    return SunAbraham(cluster="unit", control_group=control).fit(d, outcome="y", unit="unit", time="year",
                                                                   first_treat="ft")


@pytest.mark.parametrize("unbalanced", [False, True])
def test_matches_diff_diff(unbalanced):
    df = staggered_panel(n_units=300, seed=5, effect=lambda e: 1 + 0.3 * e)
    if unbalanced:
        df = df.sample(frac=0.9, random_state=3)
    r = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort")
    p = _dd(df)
    es = p.event_study_effects
    et = r.labels["event_time"].tolist()
    assert et == sorted(es)
    peer = np.array([es[e]["effect"] for e in et])
    np.testing.assert_allclose(r.params.to_numpy(), peer, rtol=RTOL, atol=1e-10)
    peer_se = np.array([es[e]["se"] for e in et])
    np.testing.assert_allclose(r.std_errors.to_numpy(), peer_se, rtol=RTOL)
    att = r.att()
    assert abs(att.estimate - p.overall_att) < 1e-8
    np.testing.assert_allclose(att.std_error, p.overall_se, rtol=RTOL)


def test_single_cohort_equals_event_study():
    df = staggered_panel(n_units=200, seed=6, cohorts=(0, 2015))
    r = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort")
    e = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort")
    np.testing.assert_allclose(r.params.to_numpy(), e.params.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(r.std_errors.to_numpy(), e.std_errors.to_numpy(), rtol=1e-8)


def test_last_treated_control_matches_manual_cohorts():
    df = staggered_panel(n_units=300, seed=7, cohorts=(2013, 2015, 2018))
    r = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", control_group="last_treated")
    # same as never-treated SA after recoding the last cohort as never treated and cutting its periods
    sub = df.loc[df["year"] < 2018].copy()
    sub.loc[sub["cohort"] == 2018, "cohort"] = 0
    r2 = sun_abraham(sub, outcome="y", unit="unit", time="year", cohort="cohort")
    np.testing.assert_allclose(r.params.to_numpy(), r2.params.to_numpy(), atol=1e-10)
    with pytest.raises(NoControlUnitsError, match="last_treated"):
        sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort")


def test_recovers_heterogeneous_effects_where_twfe_event_study_fails():
    """Cohort-specific dynamics: SA recovers the cohort-share average; binned TWFE does not."""
    def eff_by_cohort(frame):
        # earlier cohorts have larger effects, growing with exposure
        return np.where(frame["treat"] == 1, (2019 - frame["cohort"]) * 0.3 * (1 + frame["rel"]), 0.0)

    ests, truths, tw = [], [], []
    for s in range(8):
        df = staggered_panel(n_units=400, seed=200 + s, cohorts=(0, 2013, 2015, 2017), noise=0.5)
        tau = eff_by_cohort(df)
        df["y"] = df["y"] - df["tau"] + tau
        df["tau"] = tau
        r = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", lags=2, leads=2)
        post = df.loc[(df["treat"] == 1) & (df["rel"] <= 2)]
        truth = post.groupby("rel")["tau"].mean()
        ests.append(r.params[[f"event_time::{e}" for e in (0, 1, 2)]].to_numpy())
        truths.append(truth.loc[[0, 1, 2]].to_numpy())
        t = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", lags=2, leads=2,
                        bin_endpoints=True)
        tw.append(t.params[[f"event_time::{e}" for e in (0, 1, 2)]].to_numpy())
    ests, truths, tw = map(np.array, (ests, truths, tw))
    mc = (ests - truths).std(axis=0) / np.sqrt(len(ests))
    assert np.all(np.abs((ests - truths).mean(axis=0)) < 4 * mc + 1e-9)
    # contaminated binned TWFE event study is far off at longer horizons
    assert np.abs((tw - truths).mean(axis=0))[2] > 10 * mc[2]


def test_errors():
    df = staggered_panel(n_units=60, seed=1)
    with pytest.raises(Exception, match="control_group"):
        sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", control_group="both")
    with pytest.raises(DesignError, match="reference"):
        sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", reference=-9)


def test_mpdta_matches_diff_diff():
    """Real data: mpdta (Callaway and Sant'Anna 2021; shipped by moderndid 0.2.0), log teen employment."""
    import moderndid

    d = moderndid.load_mpdta()
    d = d.to_pandas() if hasattr(d, "to_pandas") else d
    d = d.rename(columns={"first.treat": "cohort", "countyreal": "unit", "lemp": "y"})
    r = sun_abraham(d, outcome="y", unit="unit", time="year", cohort="cohort")
    p = _dd(d)
    et = r.labels["event_time"].tolist()
    np.testing.assert_allclose(r.params.to_numpy(), [p.event_study_effects[e]["effect"] for e in et],
                               rtol=RTOL, atol=1e-12)
    assert abs(r.att().estimate - p.overall_att) < 1e-8


def test_weighted_matches_linearmodels_interactions():
    """Weighted SA: linearmodels WLS on the cohort x event-time dummies, shares from weight sums."""
    from linearmodels import PanelOLS

    df = staggered_panel(n_units=200, seed=13, effect=lambda e: 1 + 0.2 * e)
    df["w"] = np.random.default_rng(4).uniform(0.5, 2.0, len(df))
    r = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", weights="w", small_sample="xtreg")
    d = df.copy()
    treated = d["cohort"] > 0
    cells = sorted({(int(g), int(e)) for g, e in zip(d.loc[treated, "cohort"], d.loc[treated, "rel"], strict=True)
                    if e != -1})
    for g, e in cells:
        d[f"c{g}_{e}"] = ((d["cohort"] == g) & (d["rel"] == e)).astype(float)
    p = d.set_index(["unit", "year"])
    cols = [f"c{g}_{e}" for g, e in cells]
    m = PanelOLS(p["y"], p[cols], entity_effects=True, time_effects=True, weights=p["w"]).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True, auto_df=False, count_effects=False)
    for e in r.labels["event_time"]:
        gs = [g for g, ee in cells if ee == e]
        n = np.array([d.loc[(d["cohort"] == g) & (d["rel"] == e), "w"].sum() for g in gs])
        a = n / n.sum()
        names = [f"c{g}_{e}" for g in gs]
        est = a @ m.params[names].to_numpy()
        se = np.sqrt(a @ m.cov.loc[names, names].to_numpy() @ a)
        assert abs(r.params[f"event_time::{e}"] - est) < 1e-10
        np.testing.assert_allclose(r.std_errors[f"event_time::{e}"], se, rtol=1e-7)
