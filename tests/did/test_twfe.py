"""TWFE and 2x2 DiD.

Tolerances: 1e-8 (relative) against linearmodels PanelOLS / statsmodels OLS on the same data (two
implementations of one closed form); simulation recovery within 4 Monte-Carlo standard errors.
References: linearmodels 7.1 ``PanelOLS`` with entity and time effects, clustered by entity with
``debiased=True, group_debias=True, auto_df=False, count_effects=False`` (evalkit's
``small_sample="xtreg"`` CR1 convention, selected explicitly; the default is fixest's, tested in
``tests/inference/test_small_sample_fixest.py``); Cheng and Hoekstra (2013) castle-doctrine data shipped by
causaldata 0.1.5, whose TWFE coefficient 0.0818 is printed in the R bacondecomp vignette (Flack and
Jee, ``bacondecomp`` README/vignette: "Two-way FE estimate = 0.0818").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import EvalkitError, SingularDesignError
from evalkit.did import twfe, two_by_two

RTOL = 1e-8


def _lm(df, cols, weights=None, cov="clustered"):
    from linearmodels import PanelOLS

    p = df.set_index(["unit", "year"])
    mod = PanelOLS(p["y"], p[cols], entity_effects=True, time_effects=True,
                   weights=p[weights] if weights else None)
    if cov == "clustered":
        return mod.fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True,
                       auto_df=False, count_effects=False)
    return mod.fit(cov_type=cov, debiased=True)


@pytest.mark.parametrize("unbalanced", [False, True])
@pytest.mark.parametrize("weights", [None, "w"])
def test_twfe_matches_linearmodels(unbalanced, weights):
    df = staggered_panel(n_units=150, seed=3)
    df["w"] = np.random.default_rng(1).uniform(0.5, 2.0, len(df))
    if unbalanced:
        df = df.sample(frac=0.8, random_state=4)
    r = twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates=["x"], weights=weights,
             small_sample="xtreg")
    m = _lm(df, ["treat", "x"], weights)
    np.testing.assert_allclose(r.params.to_numpy(), m.params.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(r.std_errors.to_numpy(), m.std_errors.to_numpy(), rtol=RTOL)
    assert r.estimate == r.params["treat"]


def test_unadjusted_and_robust_match_linearmodels():
    df = staggered_panel(n_units=120, seed=5).sample(frac=0.9, random_state=1)
    r = twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates="x", cov_type="unadjusted")
    m = _lm(df, ["treat", "x"], cov="unadjusted")
    np.testing.assert_allclose(r.std_errors.to_numpy(), m.std_errors.to_numpy(), rtol=RTOL)
    # with_inference: same coefficients, new covariance, no refit
    rr = r.with_inference("robust")
    assert rr.design is r.design
    np.testing.assert_allclose(rr.params, r.params, rtol=0)
    rc = r.with_inference("clustered", small_sample="xtreg")
    mc = _lm(df, ["treat", "x"])
    np.testing.assert_allclose(rc.std_errors.to_numpy(), mc.std_errors.to_numpy(), rtol=RTOL)


def test_castle_twfe_published():
    """TWFE 0.0818 in the bacondecomp vignette (post coded from the year the law took effect)."""
    df = castle()
    r = twfe(df, outcome="l_homicide", unit="sid", time="year", treatment="post_eff")
    assert round(r.estimate, 4) == 0.0818


def castle():
    import importlib.resources as ir

    path = ir.files("causaldata") / "castle" / "castle.dta"
    df = pd.read_stata(str(path))[["sid", "year", "l_homicide", "post"]]
    first_full = df.loc[df["post"] > 0].groupby("sid")["year"].min()
    eff = df["sid"].map(first_full - 1)
    df["post_eff"] = ((df["year"] >= eff) & eff.notna()).astype(float)
    return df


def test_simulation_recovers_homogeneous_effect():
    est, ses = [], []
    for s in range(20):
        df = staggered_panel(n_units=200, seed=100 + s)
        r = twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates="x")
        est.append(r.estimate)
        ses.append(r.std_error)
    mc_se = np.std(est) / np.sqrt(len(est))
    assert abs(np.mean(est) - 1.0) < 4 * mc_se
    # the clustered standard error is on the scale of the sampling spread (within 30%)
    assert 0.7 < np.mean(ses) / np.std(est) < 1.3


def test_twfe_biased_under_growing_heterogeneous_effects():
    """Goodman-Bacon (2021): with effects growing in exposure, already-treated controls bias TWFE.

    Effects 0.5 * (e + 1) for every cohort; the average effect on the treated observations is
    positive, but TWFE is pulled far below it (here even negative: earlier cohorts' growing
    effects enter the later cohorts' counterfactual).
    """
    df = staggered_panel(n_units=3000, cohorts=(2011, 2013, 2015, 2017), effect=lambda e: 0.5 * (e + 1),
                         seed=7, noise=0.2)
    r = twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates="x")
    att = df.loc[df["treat"] == 1, "tau"].mean()
    assert att > 1.0
    assert r.estimate < 0.6 * att


def test_singular_designs_name_terms():
    df = staggered_panel(n_units=50, seed=1)
    df["x2"] = 2 * df["x"] + 1.0
    with pytest.raises(SingularDesignError, match=r"x2.*|.*x2"):
        twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates=["x", "x2"])
    df["size"] = df["unit"] % 7  # time-invariant: absorbed by unit effects
    with pytest.raises(SingularDesignError, match="size"):
        twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates=["size"])
    df["all_treated"] = (df["year"] >= 2015).astype(float)  # common to all units: absorbed
    with pytest.raises(SingularDesignError, match="all_treated"):
        twfe(df, outcome="y", unit="unit", time="year", treatment="all_treated")


def test_bad_inputs():
    df = staggered_panel(n_units=30, seed=2)
    with pytest.raises(EvalkitError, match="nope"):
        twfe(df, outcome="nope", unit="unit", time="year", treatment="treat")
    bad = df.copy()
    bad.loc[3, "x"] = np.nan
    with pytest.raises(EvalkitError, match="'x'.*missing"):
        twfe(bad, outcome="y", unit="unit", time="year", treatment="treat", covariates="x")
    dup = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(EvalkitError, match="Duplicate|share"):
        twfe(dup, outcome="y", unit="unit", time="year", treatment="treat")


def test_two_by_two_panel_and_cross_section():
    import statsmodels.formula.api as smf

    df = staggered_panel(n_units=200, cohorts=(0, 2015), seed=11)
    df["g"] = (df["cohort"] > 0).astype(float)
    df["p"] = (df["year"] >= 2015).astype(float)
    rc = two_by_two(df, outcome="y", group="g", post="p")  # repeated cross-section, HC1
    ols = smf.ols("y ~ g * p", data=df).fit(cov_type="HC1")
    assert abs(rc.estimate - ols.params["g:p"]) < 1e-10
    np.testing.assert_allclose(rc.std_error, ols.bse["g:p"], rtol=RTOL)
    rp = two_by_two(df, outcome="y", group="g", post="p", unit="unit")
    # balanced panel: unit effects leave the 2x2 point estimate unchanged
    assert abs(rp.estimate - rc.estimate) < 1e-10
    cl = smf.ols("y ~ g * p", data=df).fit(cov_type="cluster", cov_kwds={"groups": df["unit"]})
    rcl = two_by_two(df, outcome="y", group="g", post="p", cluster="unit")
    np.testing.assert_allclose(rcl.std_error, cl.bse["g:p"], rtol=RTOL)
    assert abs(rp.estimate - 1.0) < 4 * rp.std_error
    frame = rp.to_frame()
    assert list(frame.columns[:10]) == ["term", "group", "time", "event_time", "estimate", "std_error",
                                        "statistic", "p_value", "conf_low", "conf_high"]


def test_every_registered_cov_type_works_without_refit():
    """Results must accept any name in the covariance registry (inference adds cr2, wild, ...)."""
    from evalkit.inference import available

    df = staggered_panel(n_units=40, seed=9)
    r = twfe(df, outcome="y", unit="unit", time="year", treatment="treat", covariates="x")
    for name in available():
        try:
            rr = r.with_inference(name)
        except EvalkitError as err:  # a method that needs options must say which
            assert "option" in str(err) or "need" in str(err)
            continue
        assert rr.estimate == r.estimate
        assert np.isfinite(rr.std_error) or rr.pvalue_override is not None
        lo, hi = rr.conf_int()
        assert lo < rr.estimate < hi
