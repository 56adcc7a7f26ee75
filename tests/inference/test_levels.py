"""Intervals at every level come from the result's own method.

For every registered ``cov_type`` and the levels 0.90, 0.95 and 0.99, ``result.conf_int(level)`` of
a result fitted at 0.95 must equal the interval that method gives when run at ``level`` itself
(``with_inference(..., level=level)`` for methods with a ``level`` option, else the t/normal
interval with the method's own degrees of freedom). Bootstrap intervals come from test inversion
on the stored draws (bisection to 1e-9 standard errors), so they are compared to rtol 1e-7;
analytic intervals to 1e-12.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit._shared.exceptions import EvalkitError, FewClustersWarning, InferenceError
from evalkit.did import twfe
from evalkit.inference import available, compute
from evalkit.results import EffectVector, ScalarEffect

LEVELS = (0.90, 0.95, 0.99)


def _panel(n_units=16, T=14, n_treated=5, seed=2):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), T), "year": np.tile(np.arange(T), n_units)})
    df["treat"] = ((df["unit"] < n_treated) & (df["year"] >= T // 2)).astype(float)
    df["y"] = (0.4 * df["treat"] + rng.normal(size=n_units)[df["unit"]] + rng.normal(size=T)[df["year"]]
               + rng.normal(size=len(df)))
    return df


def _fit(df, cov_type, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return twfe(df, outcome="y", unit="unit", time="year", treatment="treat", cov_type=cov_type, **opts)


def _accepts_level(cov_type):
    from evalkit.inference.covariance import allowed_options

    return "level" in allowed_options(cov_type)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("cov_type", sorted(available()))
def test_interval_at_every_level_is_the_methods_own(cov_type, level):
    df = _panel()
    res = _fit(df, cov_type)
    lo, hi = res.conf_int(level)
    if _accepts_level(cov_type):
        native = _fit(df, cov_type, level=level)
        assert native.inference == res.inference
        np.testing.assert_allclose(native.conf_int(level), (lo, hi), rtol=1e-7)
        np.testing.assert_allclose(native.pvalue, res.pvalue, rtol=1e-12)
    else:
        crit = stats.norm.ppf(0.5 + level / 2) if res.dof is None else stats.t.ppf(0.5 + level / 2, res.dof)
        np.testing.assert_allclose((lo, hi), (res.estimate - crit * res.std_error,
                                              res.estimate + crit * res.std_error), rtol=1e-12)
    assert lo < res.estimate < hi
    # the interval and the p-value of the same method agree on rejecting zero
    if abs(res.pvalue - (1 - level)) > 1e-3:
        assert (lo > 0 or hi < 0) == (res.pvalue < 1 - level)


def test_bootstrap_does_not_answer_other_levels_with_cr1():
    """The issue's case: the wild bootstrap (auto's choice with 16 clusters then); conf_int(0.90)
    used to be exactly the CR1 interval."""
    df = _panel()
    res = _fit(df, "wild", bootcluster="observation")
    assert "wild" in res.inference
    cr1 = res.with_inference("clustered")
    assert not np.allclose(res.conf_int(0.90), cr1.conf_int(0.90), rtol=1e-6)
    widths = [np.diff(res.conf_int(lv))[0] for lv in LEVELS]
    assert widths[0] < widths[1] < widths[2]


def test_every_coefficient_of_a_bootstrap_run_answers_every_level():
    df = _panel()
    df["x"] = np.random.default_rng(5).normal(size=len(df))
    d = twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates="x",
             cov_type="clustered").design
    res = compute(d, "wild", param="all", level=0.95, n_draws=999)
    for j in range(d.k):
        at = res.interval_function(j)
        np.testing.assert_allclose(at(0.95), res.conf_int_for(j), rtol=0)
        native = compute(d, "wild", param=j, level=0.90, n_draws=999)
        np.testing.assert_allclose(at(0.90), native.conf_int, rtol=1e-7)


def test_resampled_interval_without_draws_is_refused_with_how_to_rerun():
    eff = ScalarEffect(1.0, 0.4, pvalue_override=0.03, conf_int_override=(0.2, 1.9),
                       conf_level_override=0.95, resampled_by="a bootstrap")
    assert eff.conf_int(0.95) == (0.2, 1.9)
    with pytest.raises(EvalkitError, match=r"level=0\.9"):
        eff.conf_int(0.9)


def test_bootstrap_bands_at_other_levels_use_the_bootstrap_draws():
    rng = np.random.default_rng(0)
    sup = np.abs(rng.standard_normal((4000, 3))).max(axis=1)
    crit95 = float(np.quantile(sup, 0.95, method="inverted_cdf"))
    vec = EffectVector(pd.Series([1.0, 2.0, 3.0]), np.eye(3) * 0.1, uniform_crit=crit95,
                       uniform_level=0.95, uniform_draws=sup)
    assert vec.critical_value(0.95, uniform=True) == crit95
    for lv in (0.90, 0.99):
        assert vec.critical_value(lv, uniform=True) == float(np.quantile(sup, lv, method="inverted_cdf"))
    kept = EffectVector(pd.Series([1.0, 2.0, 3.0]), np.eye(3) * 0.1, uniform_crit=crit95, uniform_level=0.95)
    with pytest.raises(EvalkitError, match="level=0.9"):
        kept.critical_value(0.9, uniform=True)


def test_callaway_santanna_bootstrap_bands_match_a_refit_at_that_level():
    from evalkit.did import callaway_santanna

    df = _staggered()
    kw = dict(outcome="y", unit="unit", time="year", cohort="cohort", n_draws=499, seed=4)
    at95 = callaway_santanna(df, **kw).aggregate("dynamic")
    for lv in (0.90, 0.99):
        refit = callaway_santanna(df, level=lv, **kw).aggregate("dynamic")
        assert at95.critical_value(lv, uniform=True) == refit.critical_value(lv, uniform=True)


def _staggered(n=60, T=8, seed=1):
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 4, 6], size=n)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "year": np.tile(np.arange(1, T + 1), n)})
    df["cohort"] = cohort[df["unit"]]
    treated = (df["cohort"] > 0) & (df["year"] >= df["cohort"])
    df["y"] = rng.normal(size=n)[df["unit"]] + 0.1 * df["year"] + 0.5 * treated + rng.normal(size=len(df))
    return df


def test_randomization_and_placebo_results_refuse_intervals_with_advice():
    from evalkit.inference.placebo import PlaceboResult
    from evalkit.inference.randomization import RandomizationResult

    ri = RandomizationResult(1.0, 1.0, 0.5, 0.2, np.zeros(3), 3, True, "units", "t", "two-sided", "RI")
    with pytest.raises(InferenceError, match="cov_type='wild'"):
        ri.conf_int(0.9)
    pl = PlaceboResult("space", 1.0, 1.0, 0.5, 0.2, pd.DataFrame(), "t", True, "placebo")
    with pytest.raises(InferenceError, match="conley_taber"):
        pl.conf_int(0.99)


def test_conley_taber_interval_at_every_level_from_its_distribution():
    from evalkit.inference.randomization import conley_taber_matrix

    rng = np.random.default_rng(3)
    D = np.zeros((14, 10))
    D[:2, 5:] = 1
    Y = rng.normal(size=(14, 10))
    base = conley_taber_matrix(Y, D, level=0.95)
    for lv in LEVELS:
        np.testing.assert_allclose(base.conf_int_at(lv), conley_taber_matrix(Y, D, level=lv).interval, rtol=1e-12)


def test_vector_results_built_from_cov_name_its_method_not_the_bootstrap():
    """An event study asked for cov_type='wild' reports every effect from the CR1 covariance (the
    bootstrap tests one coefficient), so its ``inference`` must name CR1."""
    from evalkit.did import event_study

    df = _panel()
    df["cohort"] = np.where(df["unit"] < 5, 7, 0)
    es = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", cov_type="wild",
                     n_draws=199)
    assert es.inference.startswith("cluster-robust (CR1)") and "wild" not in es.inference
