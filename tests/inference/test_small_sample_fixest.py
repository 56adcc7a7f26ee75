"""CR1 small-sample conventions: linearmodels (default) and fixest's ``fixef.K="nested"``.

Reference: pyfixest ``feols("y ~ x | unit + year", vcov={"CRV1": "unit"})`` with its default small
sample correction (the R fixest default). Tolerance 1e-8 relative (two implementations of the
same closed form).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import EvalkitError
from evalkit.did import twfe


def _panel(seed=3, n=40, T=8):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "year": np.tile(np.arange(2010, 2010 + T), n)})
    df["x"] = rng.normal(size=len(df)) + 0.3 * df["unit"] / n
    df["y"] = 0.5 * df["x"] + rng.normal(size=n)[df["unit"]] + 0.1 * (df["year"] - 2010) + rng.normal(size=len(df))
    return df


def test_fixest_convention_matches_pyfixest():
    pf = pytest.importorskip("pyfixest")
    df = _panel()
    ours = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered",
                small_sample="fixest")
    fit = pf.feols("y ~ x | unit + year", data=df, vcov={"CRV1": "unit"})
    np.testing.assert_allclose(ours.estimate, float(fit.coef()["x"]), rtol=1e-10)
    np.testing.assert_allclose(ours.std_error, float(fit.se()["x"]), rtol=1e-8)


def test_default_convention_is_smaller_by_the_time_effects_factor():
    df = _panel()
    lm = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered")
    fx = twfe(df, outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered", small_sample="fixest")
    n, k, T = len(df), 1, df["year"].nunique()
    np.testing.assert_allclose(fx.std_error / lm.std_error, np.sqrt((n - k) / (n - k - T)), rtol=1e-10)


def test_unknown_convention_is_refused():
    with pytest.raises(EvalkitError, match="small_sample"):
        twfe(_panel(), outcome="y", unit="unit", time="year", treatment="x", cov_type="clustered", small_sample="stata")
