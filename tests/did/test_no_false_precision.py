"""No false precision: estimators refuse, or return NaN standard errors with a warning, when
their variance is not estimable (issue 20, point 4).

Cases from the issue: one cluster (Callaway-Sant'Anna printed SE 8e-18 and p = 0, imputation
1e-16, with no warning); two units (twfe with cov_type="auto" -> CR2, event study, Sun-Abraham,
CS with not-yet-treated controls and imputation printed SE <= 1e-15 and p < 1e-14); imputation with
every unit treated in one year and no never-treated unit ended in ZeroDivisionError. Also dCDH
(SE equal to |estimate| with one cluster), the continuous-dose estimator and panel IV.

Tolerances: none (NaN or an exception is required; the message must name the reason).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit import did, iv
from evalkit._shared.exceptions import EvalkitWarning, InferenceError, NoControlUnitsError

KW = dict(outcome="y", unit="u", time="t")


def _panel(cohorts, T=6, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i, g in enumerate(cohorts):
        for t in range(2010, 2010 + T):
            rows.append({"u": f"U{i}", "t": t, "g": g, "c": "one",
                         "y": rng.normal() + (0.5 if g and t >= g else 0.0)})
    df = pd.DataFrame(rows)
    df["d"] = ((df.g > 0) & (df.t >= df.g)).astype(float)
    return df


ONE_CLUSTER = _panel([2013, 2013, 2014, 2014, 0, 0, 0, 0])
TWO_UNITS = _panel([2013, 0])


def _assert_nan_with_reason(fn, reason):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        se = fn()
    assert np.all(np.isnan(np.atleast_1d(se)))
    msgs = [str(w.message) for w in rec if issubclass(w.category, EvalkitWarning)]
    assert any("standard errors set to NaN" in m and reason in m for m in msgs), msgs


@pytest.mark.parametrize("case,reason", [
    ("cs_one_cluster", "only 1 cluster"),
    ("imputation_one_cluster", "only 1 cluster"),
    ("twfe_two_units", "only 2 clusters"),
    ("event_study_two_units", "only 2 clusters"),
    ("sun_abraham_two_units", "only 2 clusters"),
    ("cs_not_yet_two_units", "only 2 clusters"),
    ("imputation_two_units", "only 2 clusters"),
    ("dcdh_one_cluster", "only 1 cluster"),
    ("dcdh_two_units", "only 2 clusters"),
    ("continuous_one_cluster", "only 1 cluster"),
])
def test_nan_standard_errors_with_a_warning(case, reason):
    dose = ONE_CLUSTER.assign(dose=np.where(ONE_CLUSTER.g > 0, 1.0 + ONE_CLUSTER.u.str[1:].astype(float) / 10, 0.0),
                              g=np.where(ONE_CLUSTER.g > 0, 2013, 0))
    fns = {
        "cs_one_cluster": lambda: did.callaway_santanna(ONE_CLUSTER, cohort="g", cluster="c", **KW)
        .aggregate("simple").std_error,
        "imputation_one_cluster": lambda: did.imputation(ONE_CLUSTER, cohort="g", cluster="c", **KW).att.std_error,
        "twfe_two_units": lambda: did.twfe(TWO_UNITS, treatment="d", **KW).std_error,
        "event_study_two_units": lambda: did.event_study(TWO_UNITS, cohort="g", **KW).std_errors.to_numpy(),
        "sun_abraham_two_units": lambda: did.sun_abraham(TWO_UNITS, cohort="g", **KW).std_errors.to_numpy(),
        "cs_not_yet_two_units": lambda: did.callaway_santanna(
            TWO_UNITS, cohort="g", control_group="not_yet_treated", **KW).aggregate("simple").std_error,
        "imputation_two_units": lambda: did.imputation(TWO_UNITS, cohort="g", **KW).att.std_error,
        "dcdh_one_cluster": lambda: did.dcdh(ONE_CLUSTER, treatment="d", cluster="c", **KW)
        .average_total_effect.std_error,
        "dcdh_two_units": lambda: did.dcdh(TWO_UNITS, treatment="d", **KW).average_total_effect.std_error,
        "continuous_one_cluster": lambda: did.continuous(dose, dose="dose", cohort="g", cluster="c",
                                                         n_draws=0, **KW).att_overall.std_error,
    }
    _assert_nan_with_reason(fns[case], reason)


def test_pvalues_and_intervals_are_nan_too():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = did.twfe(TWO_UNITS, treatment="d", **KW)
    assert np.isnan(r.pvalue) and np.isnan(r.conf_int()).all()
    assert "not estimable" in r.inference


def test_one_cluster_twfe_refuses():
    with pytest.raises(InferenceError, match="1 cluster"):
        did.twfe(ONE_CLUSTER, treatment="d", cluster="c", **KW)


def test_imputation_without_comparison_observations_says_so():
    every = _panel([2013, 2013, 2013, 2013])
    with pytest.raises(NoControlUnitsError, match="No comparison observations.*never-treated"):
        did.imputation(every, cohort="g", **KW)


def test_panel_iv_two_clusters_refuses_but_robust_works():
    rng = np.random.default_rng(1)
    df = _panel([2013, 0], T=12)
    df["z"] = rng.normal(size=len(df))
    df["x"] = df.z + rng.normal(size=len(df))
    with pytest.raises(InferenceError, match="only 2 clusters"):
        iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t", endog_scale=1.0)
    fit = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t",
                      endog_scale=1.0, cov_type="robust")
    assert np.isfinite(fit.std_error)
