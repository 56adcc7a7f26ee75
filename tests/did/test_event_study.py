"""Dynamic TWFE event study.

Tolerances: 1e-8 relative against linearmodels 7.1 PanelOLS (entity + time effects, the same
event-time dummies built by hand, evalkit clustered convention: ``group_debias=True,
auto_df=False, count_effects=False``); simulation recovery within 4 Monte-Carlo standard errors
averaged over replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import (
    DesignError,
    ExcludedUnitsWarning,
    NoControlUnitsError,
    PanelDataError,
)
from evalkit.did import event_study

RTOL = 1e-8


def _lm_dummies(df, events, extra=("x",), rel_col="rel"):
    from linearmodels import PanelOLS

    d = df.copy()
    cols = []
    for e in events:
        d[f"e{e}"] = (d[rel_col] == e).astype(float)
        cols.append(f"e{e}")
    p = d.set_index(["unit", "year"])
    return PanelOLS(p["y"], p[cols + list(extra)], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True, auto_df=False, count_effects=False
    )


@pytest.mark.parametrize("unbalanced", [False, True])
def test_every_event_time_matches_linearmodels(unbalanced):
    df = staggered_panel(n_units=200, seed=3, effect=lambda e: 1 + 0.3 * e)
    if unbalanced:
        df = df.sample(frac=0.85, random_state=2)
    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates="x",
                    small_sample="xtreg")
    events = r.labels["event_time"].tolist()
    assert -1 not in events and r.reference == [-1]
    assert events == sorted(set(df["rel"].dropna().astype(int)) - {-1})
    m = _lm_dummies(df, events)
    np.testing.assert_allclose(r.params.to_numpy(), m.params.to_numpy()[:-1], rtol=RTOL)
    np.testing.assert_allclose(r.std_errors.to_numpy(), m.std_errors.to_numpy()[:-1], rtol=RTOL)
    np.testing.assert_allclose(r.cov.to_numpy(), m.cov.to_numpy()[:-1, :-1], rtol=1e-7, atol=1e-14)
    frame = r.to_frame()
    assert frame["event_time"].tolist() == events
    # joint pre-trend Wald test uses the same covariance (F with G-1 denominator dof)
    pt = r.pretrend_test()
    leads = [f"e{e}" for e in events if e < 0]
    b = m.params[leads].to_numpy()
    v = m.cov.loc[leads, leads].to_numpy()
    np.testing.assert_allclose(pt["statistic"], b @ np.linalg.solve(v, b), rtol=1e-7)
    assert pt["df"] == len(leads)


def test_binned_window_and_two_references():
    df = staggered_panel(n_units=200, seed=8)
    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=3, lags=2,
                    bin_endpoints=True, reference=[-1, -2], small_sample="xtreg")
    assert r.labels["event_time"].tolist() == [-3, 0, 1, 2]
    assert r.reference == [-2, -1]
    d = df.copy()
    d["rb"] = d["rel"].clip(-3, 2)
    m = _lm_dummies(d, [-3, 0, 1, 2], extra=(), rel_col="rb")
    np.testing.assert_allclose(r.params.to_numpy(), m.params.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(r.std_errors.to_numpy(), m.std_errors.to_numpy(), rtol=RTOL)
    # without binning, out-of-window treated rows are dropped (never pooled with the reference)
    r2 = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=3, lags=2)
    keep = df["rel"].isna() | df["rel"].between(-3, 2)
    m2 = _lm_dummies(df.loc[keep], [-3, -2, 0, 1, 2], extra=())
    np.testing.assert_allclose(r2.params.to_numpy(), m2.params.to_numpy(), rtol=RTOL)
    assert r2.nobs == int(keep.sum())


def test_last_treated_control():
    df = staggered_panel(n_units=200, seed=9, cohorts=(2013, 2015, 2017))
    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", control_group="last_treated")
    sub = df.loc[df["year"] < 2017].copy()
    sub.loc[sub["cohort"] == 2017, "rel"] = np.nan
    events = r.labels["event_time"].tolist()
    m = _lm_dummies(sub, events, extra=())
    np.testing.assert_allclose(r.params.to_numpy(), m.params.to_numpy(), rtol=RTOL)
    with pytest.raises(NoControlUnitsError, match="last_treated"):
        event_study(df, outcome="y", unit="unit", time="year", cohort="cohort")


def test_recovers_dynamic_effects():
    truth = {e: 1 + 0.5 * e for e in range(0, 7)}
    ests = []
    for s in range(10):
        df = staggered_panel(n_units=300, seed=50 + s, effect=lambda e: truth[int(e)])
        r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", lags=4, leads=4,
                        bin_endpoints=True)
        ests.append(r.params.to_numpy())
    ests = np.array(ests)
    et = r.labels["event_time"].to_numpy()
    target = np.array([truth[e] if 0 <= e < 4 else (0.0 if e < 0 else np.nan) for e in et])
    ok = ~np.isnan(target)
    mc = ests.std(axis=0) / np.sqrt(len(ests))
    assert np.all(np.abs(ests.mean(axis=0)[ok] - target[ok]) < 4 * mc[ok] + 1e-12)


def test_bad_inputs():
    df = staggered_panel(n_units=60, seed=1)
    bad = df.copy()
    bad.loc[bad["unit"] == 3, "cohort"] = [2013] * 5 + [2015] * 5
    with pytest.raises(PanelDataError, match=r"changes within unit.*\b3\b"):
        event_study(bad, outcome="y", unit="unit", time="year", cohort="cohort")
    early = df.copy()
    early.loc[early["unit"] == 4, "cohort"] = 2010  # treated in the first period: no pre-period
    with pytest.warns(ExcludedUnitsWarning, match=r"\[4\]"):
        event_study(early, outcome="y", unit="unit", time="year", cohort="cohort")
    with pytest.raises(DesignError, match="reference"):
        event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", reference=-20)
    with pytest.raises(Exception, match="control_group"):
        event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", control_group="nope")


def test_with_inference_and_plot(tmp_path):
    df = staggered_panel(n_units=80, seed=2)
    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=3, lags=3)
    rr = r.with_inference("robust")
    np.testing.assert_array_equal(rr.params, r.params)
    assert "robust" in rr.inference
    import matplotlib

    matplotlib.use("Agg")
    ax = r.plot()
    ax.figure.savefig(tmp_path / "es.png")
    assert (tmp_path / "es.png").stat().st_size > 0
    assert isinstance(r.to_frame(), pd.DataFrame)


def test_both_controls_equal_never_treated_sample_cut_at_last_cohort():
    df = staggered_panel(n_units=200, seed=10, cohorts=(0, 2013, 2015, 2017))
    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", control_group="both")
    sub = df.loc[df["year"] < 2017].copy()
    sub.loc[sub["cohort"] == 2017, ["cohort", "rel"]] = [0, np.nan]
    r2 = event_study(sub, outcome="y", unit="unit", time="year", cohort="cohort")
    np.testing.assert_allclose(r.params.to_numpy(), r2.params.to_numpy(), atol=1e-10)


def test_weighted_unbalanced_matches_linearmodels():
    from linearmodels import PanelOLS

    df = staggered_panel(n_units=150, seed=12).sample(frac=0.85, random_state=5)
    df["w"] = np.random.default_rng(2).uniform(0.5, 2.0, len(df))
    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", weights="w", leads=3, lags=3,
                    bin_endpoints=True, small_sample="xtreg")
    d = df.copy()
    d["rb"] = d["rel"].clip(-3, 3)
    events = r.labels["event_time"].tolist()
    for e in events:
        d[f"e{e}"] = (d["rb"] == e).astype(float)
    p = d.set_index(["unit", "year"])
    m = PanelOLS(p["y"], p[[f"e{e}" for e in events]], entity_effects=True, time_effects=True,
                 weights=p["w"]).fit(cov_type="clustered", cluster_entity=True, group_debias=True, auto_df=False,
                                     count_effects=False)
    np.testing.assert_allclose(r.params.to_numpy(), m.params.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(r.std_errors.to_numpy(), m.std_errors.to_numpy(), rtol=RTOL)
