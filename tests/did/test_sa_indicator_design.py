"""Sun-Abraham without the dense regressor matrix equals the dense fit.

Tolerance: 1e-10 absolute on coefficients, event-time effects, standard errors and residuals (the
two paths differ by floating-point order only). The dense path is the one used before the
structured indicator design (``fit_absorbed`` on explicit cohort x event-time columns); it is
forced here by making the structured fit decline.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.kernels import segment_sums
from evalkit.did._indicator import IndicatorDesign
from evalkit.inference import covariance

sa_mod = importlib.import_module("evalkit.did.sun_abraham")
TOL = 1e-10


def _panel(n_units=300, seed=3, unbalanced=False):
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2012)
    g = rng.choice([0, 2003, 2005, 2006, 2008, 2010], n_units)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units),
                       "cohort": np.repeat(g, len(years))})
    rel = df["year"] - df["cohort"]
    treat = (df["cohort"] > 0) & (rel >= 0)
    df["y"] = (rng.normal(size=n_units)[df["unit"]] + 0.2 * (df["year"] - 2000)
               + treat * (1 + 0.3 * rel.clip(lower=0)) + rng.normal(size=len(df)))
    df["w"] = rng.uniform(0.5, 2.0, n_units)[df["unit"]]
    df["region"] = df["unit"] % 17
    if unbalanced:
        df = df.loc[rng.uniform(size=len(df)) > 0.15].reset_index(drop=True)
    return df


def _both(monkeypatch, df, **kw):
    args = dict(outcome="y", unit="unit", time="year", cohort="cohort", **kw)
    new = sa_mod.sun_abraham(df, **args)
    with monkeypatch.context() as m:
        m.setattr(sa_mod, "fit_indicators", lambda *a, **k: None)
        old = sa_mod.sun_abraham(df, **args)
    return new, old


@pytest.mark.parametrize("unbalanced", [False, True])
@pytest.mark.parametrize("kw", [{}, {"weights": "w"}, {"cluster": "region"},
                                {"control_group": "last_treated", "leads": 4, "lags": 3}])
def test_structured_equals_dense(monkeypatch, unbalanced, kw):
    df = _panel(unbalanced=unbalanced)
    new, old = _both(monkeypatch, df, **kw)
    assert isinstance(new.design, IndicatorDesign)
    assert not isinstance(old.design, IndicatorDesign)
    np.testing.assert_allclose(new.design.beta, old.design.beta, rtol=0, atol=TOL)
    np.testing.assert_allclose(new.design.resid, old.design.resid, rtol=0, atol=TOL)
    np.testing.assert_allclose(new.params, old.params, rtol=0, atol=TOL)
    np.testing.assert_allclose(new.std_errors, old.std_errors, rtol=0, atol=TOL)
    assert new.dof == old.dof
    a_new, a_old = new.att(), old.att()
    assert abs(a_new.estimate - a_old.estimate) < TOL and abs(a_new.std_error - a_old.std_error) < TOL
    # the lazily built dense matrix is the dense path's matrix, so every other method agrees too
    np.testing.assert_allclose(new.design.X, old.design.X, rtol=0, atol=TOL)
    for cov_type in ("robust", "unadjusted", "cr2"):
        v_new = covariance.compute(new.design, cov_type).cov
        v_old = covariance.compute(old.design, cov_type).cov
        np.testing.assert_allclose(v_new, v_old, rtol=1e-9, atol=1e-14)


def test_covariates_use_dense_path():
    df = _panel(n_units=120)
    df["x"] = np.random.default_rng(0).normal(size=len(df))
    r = sa_mod.sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", covariates="x")
    assert not isinstance(r.design, IndicatorDesign)


def test_segment_sums_equals_add_at():
    rng = np.random.default_rng(1)
    vals = rng.normal(size=(500, 3))
    codes = rng.integers(0, 40, 500)
    ref = np.zeros((42, 3))
    np.add.at(ref, codes, vals)
    np.testing.assert_allclose(segment_sums(vals, codes, 42), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(segment_sums(vals, np.sort(codes), 42).sum(0), vals.sum(0), atol=1e-12)
