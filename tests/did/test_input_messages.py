"""Inputs researchers have, and error messages that state the true cause (issue 14).

Each refused input is checked for the cause in the message (not just the exception type);
each accepted input (polars, pyarrow, yearly datetimes) must give exactly the estimate of the
pandas call (tolerance 0: the same numbers reach the same code).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import evalkit.did as did
from evalkit._shared.exceptions import EvalkitError, PanelDataError
from evalkit.synth import compare_estimators

KW = {"outcome": "lemp", "unit": "countyreal", "time": "year"}


@pytest.fixture(scope="module")
def mpdta_polars():
    md = pytest.importorskip("moderndid")
    return md.load_mpdta()  # a polars DataFrame


@pytest.fixture(scope="module")
def mpdta(mpdta_polars) -> pd.DataFrame:
    return mpdta_polars.to_pandas()


def test_treatment_dummy_as_cohort_is_named_as_such(mpdta):
    # used to say "all values are 0 = never treated" after dropping 955 rows as early-treated
    with pytest.raises(PanelDataError) as err:
        did.callaway_santanna(mpdta, cohort="treat", **KW)
    msg = str(err.value)
    assert "looks like a treatment dummy" in msg and "not the first treated period" in msg
    assert "955 rows equal 1" in msg and "2003..2007" in msg
    assert "groupby(data['countyreal'])" in msg  # how to build a cohort, with the user's columns
    assert "never treated)" not in msg.split("(0")[0]
    with pytest.raises(PanelDataError, match="looks like a treatment dummy"):
        did.event_study(mpdta, cohort="treat", **KW)


def test_polars_and_pyarrow_tables_are_accepted(mpdta_polars, mpdta):
    ref = did.callaway_santanna(mpdta, cohort="first.treat", **KW).aggregate("simple").estimate
    for table in (mpdta_polars, mpdta_polars.lazy(), pa.Table.from_pandas(mpdta)):
        got = did.callaway_santanna(table, cohort="first.treat", **KW).aggregate("simple").estimate
        assert got == ref
    es = did.event_study(mpdta_polars, cohort="first.treat", **KW)
    assert es.params.equals(did.event_study(mpdta, cohort="first.treat", **KW).params)


def test_other_objects_are_refused_with_their_type():
    with pytest.raises(EvalkitError, match=r"pandas DataFrame, polars DataFrame or pyarrow Table\), got builtins\.dict"):
        did.twfe({"y": [1.0]}, outcome="y", unit="u", time="t", treatment="d")


def test_yearly_datetime_time_column_becomes_years_with_a_note(mpdta):
    ref = did.callaway_santanna(mpdta, cohort="first.treat", **KW)
    dated = mpdta.assign(year=pd.to_datetime(mpdta["year"].astype(str) + "-07-01"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unit may be dropped (it used to drop 191 as "early")
        got = did.callaway_santanna(dated, cohort="first.treat", **KW)
    assert got.aggregate("simple").estimate == ref.aggregate("simple").estimate
    assert got.n_units == ref.n_units == 500
    note = "time column 'year' held yearly dates; they were converted to years (2003..2007)."
    assert note in got.notes and note in got.aggregate("dynamic").notes
    tw = did.twfe(dated.assign(d=(dated["year"].dt.year >= dated["first.treat"]) & (dated["first.treat"] > 0)),
                  treatment="d", **KW)
    assert note in tw.notes


def test_datetime_cohort_column_is_converted_too(mpdta):
    ref = did.event_study(mpdta, cohort="first.treat", **KW)
    g = pd.to_datetime(mpdta["first.treat"].replace(0, np.nan).astype("Int64").astype(str), errors="coerce")
    got = did.event_study(mpdta.assign(first_date=g), cohort="first_date", **KW)
    np.testing.assert_array_equal(got.params.to_numpy(), ref.params.to_numpy())


def test_monthly_datetimes_are_refused_clearly(mpdta):
    month = (mpdta["countyreal"] % 2 + 1).astype(str)
    dated = mpdta.assign(year=pd.to_datetime(mpdta["year"].astype(str) + "-0" + month + "-01"))
    with pytest.raises(PanelDataError, match=r"several dates in one year \(e\.g\. 2003-01-01, 2003-02-01\)"):
        did.callaway_santanna(dated, cohort="first.treat", **KW)


@pytest.mark.parametrize(
    ("call", "bad", "suggestion"),
    [
        (did.event_study, "contrl_group", "control_group"),
        (did.sun_abraham, "controlgroup", "control_group"),
        (did.callaway_santanna, "control", "control_group"),  # never an argument of CS
        (did.twfe, "covariate", "covariates"),
        (did.two_by_two, "weight", "weights"),
    ],
)
def test_unknown_keywords_are_refused_with_a_suggestion(mpdta, call, bad, suggestion):
    df = mpdta.assign(d=((mpdta["year"] >= mpdta["first.treat"]) & (mpdta["first.treat"] > 0)).astype(float),
                      post=(mpdta["year"] >= 2006).astype(float))
    args = {"cohort": "first.treat", **KW}
    if call is did.twfe:
        args = {"treatment": "d", **KW}
    if call is did.two_by_two:
        args = {"outcome": "lemp", "group": "treat", "post": "post", "unit": "countyreal"}
    with pytest.raises(EvalkitError) as err:
        call(df, **args, **{bad: "x"})
    msg = str(err.value)
    assert f"unknown keyword argument {bad!r}" in msg and f"Did you mean {suggestion!r}" in msg
    assert "does not accept option" not in msg  # not blamed on the covariance


def test_covariance_options_still_pass(mpdta):
    r = did.event_study(mpdta, cohort="first.treat", small_sample="fixest", **KW)
    assert np.isfinite(r.std_errors).all()


def test_panel_iv_and_synth_compare_refuse_unknown_keywords():
    from evalkit.iv import panel_iv

    with pytest.raises(EvalkitError, match=r"unknown keyword argument 'instruments'.*Did you mean 'instrument'"):
        panel_iv(pd.DataFrame(), outcome="y", endog="x", instrument="z", unit="u", time="t", instruments="z")
    with pytest.raises(EvalkitError, match=r"unknown keyword argument 'n_rep'.*Did you mean 'n_draws'"):
        compare_estimators(pd.DataFrame(), outcome="y", unit="u", time="t", treatment="d", n_rep=5)


def test_recentred_instrument_refuses_unknown_keywords():
    from evalkit.iv import recentred_instrument

    with pytest.raises(EvalkitError, match=r"unknown keyword argument 'ndraws'.*Did you mean 'n_draws'"):
        recentred_instrument({}, None, ndraws=10)
