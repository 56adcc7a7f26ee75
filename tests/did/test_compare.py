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
