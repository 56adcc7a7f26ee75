"""CR1 small-sample conventions: fixest's ``fixef.K="nested"`` (default) and ``"xtreg"``.

References: pyfixest ``feols(...)`` with ``vcov={"CRV1": cluster}`` and its default small-sample
correction (the R fixest default, ``ssc(fixef.K="nested")``), on a simulated panel and on the
castle-doctrine panel shipped by causaldata (Cheng and Hoekstra 2013). Tolerance 1e-8 relative
(two implementations of the same closed form).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import EvalkitError, EvalkitWarning
from evalkit.did import twfe, two_by_two
from evalkit.inference import LinearDesign, covariance

RTOL = 1e-8


def _panel(seed=3, n=40, T=8):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "year": np.tile(np.arange(2010, 2010 + T), n)})
    df["x"] = rng.normal(size=len(df)) + 0.3 * df["unit"] / n
    df["y"] = 0.5 * df["x"] + rng.normal(size=n)[df["unit"]] + 0.1 * (df["year"] - 2010) + rng.normal(size=len(df))
    df["state"] = df["unit"] // 4
    return df


def _castle():
    """castle.dta with ``post_eff`` coded from the year the law took effect (TWFE 0.0818, the
    bacondecomp vignette's estimate; as ``tests/did/test_twfe.py``)."""
    import importlib.resources as ir

    pytest.importorskip("causaldata")
    path = ir.files("causaldata") / "castle" / "castle.dta"
    df = pd.read_stata(str(path))[["sid", "year", "l_homicide", "post"]]
    first_full = df.loc[df["post"] > 0].groupby("sid")["year"].min()
    eff = df["sid"].map(first_full - 1)
    df["post_eff"] = ((df["year"] >= eff) & eff.notna()).astype(float)
    return df


def test_castle_twfe_default_matches_pyfixest():
    """The issue's case: castle TWFE clustered by state, evalkit 0.05828 (xtreg) vs 0.05887."""
    pf = pytest.importorskip("pyfixest")
    df = _castle()
    ours = twfe(df, outcome="l_homicide", unit="sid", time="year", treatment="post_eff", cov_type="clustered")
    fit = pf.feols("l_homicide ~ post_eff | sid + year", data=df, vcov={"CRV1": "sid"})
    np.testing.assert_allclose(ours.estimate, float(fit.coef()["post_eff"]), rtol=1e-10)
    np.testing.assert_allclose(ours.std_error, float(fit.se()["post_eff"]), rtol=RTOL)
    assert round(ours.std_error, 5) == 0.05887
    xt = ours.with_inference("clustered", small_sample="xtreg")
    assert round(xt.std_error, 5) == 0.05828


@pytest.mark.parametrize("unbalanced", [False, True])
@pytest.mark.parametrize("cluster", ["unit", "state"])
def test_fixest_default_matches_pyfixest_absorbed(unbalanced, cluster):
    pf = pytest.importorskip("pyfixest")
    df = _panel()
    if unbalanced:
        df = df.sample(frac=0.85, random_state=2).reset_index(drop=True)
    ours = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered",
                cluster=cluster)
    fit = pf.feols("y ~ x | unit + year", data=df, vcov={"CRV1": cluster})
    np.testing.assert_allclose(ours.std_error, float(fit.se()["x"]), rtol=RTOL)


def test_fixest_default_matches_pyfixest_clusters_finer_than_units():
    """Clusters not nesting the units: every absorbed effect counts (both conventions)."""
    pf = pytest.importorskip("pyfixest")
    df = _panel()
    df["cl"] = df["unit"] * 2 + (df["year"] >= 2014)
    ours = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered", cluster="cl")
    fit = pf.feols("y ~ x | unit + year", data=df, vcov={"CRV1": "cl"})
    np.testing.assert_allclose(ours.std_error, float(fit.se()["x"]), rtol=RTOL)
    xt = ours.with_inference("clustered", small_sample="xtreg")
    np.testing.assert_allclose(xt.std_error, ours.std_error, rtol=1e-12)


def test_fixest_default_matches_pyfixest_without_absorbed_effects():
    """A pooled regression (2x2 DiD on repeated cross-sections): k counts the regressors."""
    pf = pytest.importorskip("pyfixest")
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"g": rng.integers(0, 2, 600), "p": rng.integers(0, 2, 600), "st": rng.integers(0, 20, 600)})
    df["y"] = 0.2 * df["g"] * df["p"] + rng.normal(size=20)[df["st"]] + rng.normal(size=600)
    ours = two_by_two(df, outcome="y", group="g", post="p", cluster="st", cov_type="clustered")
    fit = pf.feols("y ~ g * p", data=df, vcov={"CRV1": "st"})
    np.testing.assert_allclose(ours.std_error, float(fit.se()["g:p"]), rtol=RTOL)


def test_xtreg_convention_is_smaller_by_the_time_effects_factor():
    df = _panel()
    fx = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered")
    xt = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered", small_sample="xtreg")
    n, k, T = len(df), 1, df["year"].nunique()
    np.testing.assert_allclose(fx.std_error / xt.std_error, np.sqrt((n - k) / (n - k - T)), rtol=1e-10)
    assert "fixest small-sample factor" in fx.inference and "xtreg" in xt.inference


def test_design_with_fe_codes_counts_like_fixest():
    """A design describing its effects by ``fe_codes`` gives the absorber's answer."""
    df = _panel()
    res = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered")
    d = res.design
    codes = LinearDesign(X=d.X, resid=d.resid, beta=d.beta, names=d.names, y=d.y, clusters=d.clusters,
                         df_absorbed=d.df_absorbed, fe_nested_in_cluster=True,
                         extra={"fe_codes": np.column_stack([df["unit"], df["year"]])})
    assert covariance.cr1_parameter_count(codes) == covariance.cr1_parameter_count(d) == 1 + 8
    np.testing.assert_allclose(covariance.compute(codes, "clustered").cov, res.cov.to_numpy(), rtol=1e-12)


def test_undescribed_nested_design_warns_and_counts_like_xtreg():
    df = _panel()
    d = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered").design
    bare = LinearDesign(X=d.X, resid=d.resid, beta=d.beta, names=d.names, y=d.y, clusters=d.clusters,
                        df_absorbed=d.df_absorbed, fe_nested_in_cluster=True)
    with pytest.warns(EvalkitWarning, match="does not describe"):
        k = covariance.cr1_parameter_count(bare)
    assert k == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert covariance.cr1_parameter_count(bare, "xtreg") == 1


def test_unknown_convention_is_refused():
    with pytest.raises(EvalkitError, match="small_sample"):
        twfe(_panel(), outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered", small_sample="stata")


def test_panel_iv_default_matches_pyfixest():
    """IV with absorbed unit and year effects (one implementation of CR1 for every estimator)."""
    pf = pytest.importorskip("pyfixest")
    from evalkit import iv

    df = _panel(seed=8)
    rng = np.random.default_rng(8)
    df["z"] = rng.normal(size=len(df))
    df["x"] = df["x"] + 0.8 * df["z"]
    r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year",
                    cov_type="clustered")
    fit = pf.feols("y ~ 1 | unit + year | x ~ z", data=df, vcov={"CRV1": "unit"})
    scale = 1000.0  # panel_iv reports the effect per 1,000 units of the endogenous variable
    np.testing.assert_allclose(r.estimate, scale * float(fit.coef()["x"]), rtol=1e-8)
    np.testing.assert_allclose(r.std_error, scale * float(fit.se()["x"]), rtol=RTOL)
