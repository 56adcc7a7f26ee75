"""did.compare: one design, several estimators, one tidy table.

Checks the table against the individual estimator calls exactly (same numbers, 0 tolerance) and
the overlay plot renders.
"""

from __future__ import annotations

import numpy as np
import pytest
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import EvalkitError
from evalkit.did import compare, imputation, sun_abraham


def test_table_matches_individual_calls(tmp_path):
    df = staggered_panel(n_units=150, seed=5, effect=lambda e: 1 + 0.3 * e)
    c = compare(df, estimators=["twfe", "event_study", "sun_abraham", "imputation"], outcome="y", unit="unit",
                time="year", cohort="cohort", leads=3, lags=3)
    t = c.to_frame()
    assert {"estimator", "kind", "term", "estimate", "std_error", "event_time"} <= set(t.columns)
    sa = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort")
    got = t.loc[(t["estimator"] == "Sun-Abraham") & (t["kind"] == "event_time"), "estimate"].to_numpy()
    et = sa.labels["event_time"].to_numpy()
    np.testing.assert_array_equal(got, sa.params.to_numpy()[(et >= -3) & (et <= 3)])
    imp = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", horizons=3)
    ov = c.overall().set_index("estimator")
    assert ov.loc["Imputation (BJS)", "estimate"] == imp.att.estimate
    assert set(ov.index) == {"TWFE", "Sun-Abraham", "Imputation (BJS)"}
    import matplotlib

    matplotlib.use("Agg")
    ax = c.plot(language="en")
    ax.figure.savefig(tmp_path / "overlay.png")
    assert "Sun-Abraham" in c.summary()


def test_unknown_estimator():
    df = staggered_panel(n_units=30, seed=1)
    with pytest.raises(EvalkitError, match="Unknown estimator"):
        compare(df, estimators=["nope"], outcome="y", unit="unit", time="year", cohort="cohort")


def _castle():
    from causaldata import castle

    d = castle.load_pandas().data
    first = d.loc[d["post"] > 0].groupby("sid")["year"].min()
    return d.assign(cohort=d["sid"].map(first).fillna(0).astype(int))


def test_castle_pre_periods_share_one_normalisation(tmp_path):
    """Castle (Cheng-Hoekstra), e = -9: CS on its default varying base gave +0.53 against about
    -0.17 for the others. On one normalisation (e = -1) CS equals Sun-Abraham with never-treated
    controls (an identity without covariates, tolerance 1e-8) and agrees in sign with all."""
    d = _castle()
    c = compare(d, outcome="l_homicide", unit="sid", time="year", cohort="cohort",
                estimators=["event_study", "sun_abraham", "imputation", "callaway_santanna"])
    t = c.to_frame()
    at = t.loc[t["event_time"] == -9].set_index("estimator")["estimate"]
    assert len(at) == 4 and (at < 0).all(), at
    np.testing.assert_allclose(at["Callaway-Sant'Anna"], at["Sun-Abraham"], rtol=0, atol=1e-8)
    ref = t.loc[(t["estimator"] == "Callaway-Sant'Anna") & (t["event_time"] == -1), "estimate"]
    assert ref.tolist() == [0.0]
    assert "relative to event time -1" in c.notes[0] and "relative to event time -1" in c.summary()
    assert "relative to event time -1" in c._repr_html_()
    import matplotlib

    matplotlib.use("Agg")
    ax = c.plot(language="en")
    assert any("relative to event time −1" in txt.get_text() for txt in ax.texts)
    ax.figure.savefig(tmp_path / "castle_overlay.png", bbox_inches="tight")
    zh = c.plot(language="zh")
    assert any("以事件时间 −1 为参照" in txt.get_text() for txt in zh.texts)
    # the old normalisation stays available, but is said
    v = compare(d, outcome="l_homicide", unit="sid", time="year", cohort="cohort",
                estimators=["event_study", "callaway_santanna"], cs_options={"base_period": "varying"})
    assert "base_period='varying'" in v.notes[0]
    cs9 = v.to_frame().query("estimator == \"Callaway-Sant'Anna\" and event_time == -9")["estimate"].item()
    assert cs9 > 0  # the stacked-against-(-1) figure the issue reported (+0.53)
