"""``collinear="drop"``: fixest-like dropping of absorbed and collinear regressors (issue 14).

Peer: pyfixest ``feols`` (installed as a test peer), computed inside the test. Cheng and
Hoekstra's castle specification (region-by-year dummies, state trends, population weights, state
and year effects) must drop exactly fixest's columns and give its estimate. Tolerances: 1e-7
absolute on the coefficients and 1e-6 relative on the CR1 standard error (pyfixest demeans
iteratively to its default 1e-8 tolerance; evalkit absorbs exactly).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import SingularDesignError
from evalkit.did import event_study, twfe, two_by_two

ATOL_COEF = 1e-7
RTOL_SE = 1e-6


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    from causaldata import castle as c

    d = c.load_pandas().data
    first = d.loc[d["post"] > 0].groupby("sid")["year"].min()
    return d.assign(cohort=d["sid"].map(first).fillna(0).astype(int))


def _covs(d):
    return [c for c in d.columns if c.startswith("r20")] + [c for c in d.columns if c.startswith("trend_")]


def test_castle_weighted_specification_gives_fixest(castle):
    pf = pytest.importorskip("pyfixest")
    covs = _covs(castle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.feols("l_homicide ~ post + " + " + ".join(covs) + " | sid + year", data=castle,
                     weights="popwt", vcov={"CRV1": "sid"})
    r = twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post", covariates=covs,
             weights="popwt", collinear="drop", cov_type="clustered", small_sample="fixest")
    ref = m.coef()
    assert list(r.params.index) == list(ref.index)  # the same regressors kept, in order
    dropped = [c for c in covs if c not in ref.index]
    assert r.extra["dropped"] == dropped and len(dropped) == 19
    np.testing.assert_allclose(r.params.to_numpy(), ref.to_numpy(), rtol=0, atol=ATOL_COEF)
    np.testing.assert_allclose(r.std_error, m.se()["post"], rtol=RTOL_SE)
    text = str(r.summary())
    assert "19 regressor(s) dropped" in text and "trend_51" in text and "r20104" in text
    assert any("trend_9" in n for n in r.notes)
    # the dropped list survives a change of inference
    assert r.with_inference("robust").notes == r.notes


def test_raise_stays_the_default_and_names_the_terms(castle):
    with pytest.raises(SingularDesignError, match="collinear|absorbed"):
        twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post", covariates=_covs(castle),
             weights="popwt")
    with pytest.raises(SingularDesignError, match="collinear must be one of"):
        twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post", collinear="yes")


def test_treatment_is_never_dropped(castle):
    d = castle.assign(post_copy=castle["post"], ever=(castle["cohort"] > 0).astype(float))
    with pytest.raises(SingularDesignError, match=r"\['ever'\] cannot be estimated"):
        twfe(d, outcome="l_homicide", unit="sid", time="year", treatment="ever", covariates=["post"],
             collinear="drop")
    # a copy of the treatment is the later column, so it is the one dropped
    r = twfe(d, outcome="l_homicide", unit="sid", time="year", treatment="post", covariates=["post_copy"],
             collinear="drop")
    assert r.extra["dropped"] == ["post_copy"]
    # an absorbed regressor (constant within state) is dropped, not the treatment
    r = twfe(d.assign(const_s=d["sid"] * 1.0), outcome="l_homicide", unit="sid", time="year",
             treatment="post", covariates=["const_s"], collinear="drop")
    assert r.extra["dropped"] == ["const_s"]
    plain = twfe(d, outcome="l_homicide", unit="sid", time="year", treatment="post")
    assert r.estimate == pytest.approx(plain.estimate, abs=1e-12)


def test_event_study_drops_a_duplicated_covariate(castle):
    d = castle.assign(police2=2 * castle["l_police"])
    r = event_study(d, outcome="l_homicide", unit="sid", time="year", cohort="cohort", leads=3, lags=3,
                    bin_endpoints=True, covariates=["l_police", "police2"], collinear="drop")
    ref = event_study(d, outcome="l_homicide", unit="sid", time="year", cohort="cohort", leads=3, lags=3,
                      bin_endpoints=True, covariates=["l_police"])
    np.testing.assert_allclose(r.params.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-10)
    assert r.extra["dropped"] == ["police2"] and "police2" in str(r.summary())


def test_two_by_two_cross_section_drops_like_least_squares():
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"g": rng.integers(0, 2, n), "p": rng.integers(0, 2, n), "x": rng.normal(size=n)})
    df["x2"] = 3 * df["x"] - 1
    df["y"] = 0.5 * df["g"] * df["p"] + df["x"] + rng.normal(size=n)
    r = two_by_two(df, outcome="y", group="g", post="p", covariates=["x", "x2"], collinear="drop")
    ref = two_by_two(df, outcome="y", group="g", post="p", covariates=["x"])
    assert r.extra["dropped"] == ["x2"]
    assert r.estimate == pytest.approx(ref.estimate, abs=1e-10)
    assert r.std_error == pytest.approx(ref.std_error, rel=1e-10)
