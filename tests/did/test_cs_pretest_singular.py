"""CSResult.pretrend_test() refuses a singular pre-treatment covariance (as R did does).

Tolerances: none (an exception is expected; the dynamic-aggregation Wald test must be finite).
Design: two cohorts of 2 units with 7 and 8 pre-treatment periods and 10 never-treated units,
so 13 pre-treatment cells are estimated from the influence functions of only 14 units, and
cells of one cohort share their 2 treated units: the covariance of the cells is rank deficient.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import EvalkitWarning, InferenceError
from evalkit.did import callaway_santanna


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    cohorts = [2018] * 2 + [2019] * 2 + [0] * 10
    rows = []
    for i, g in enumerate(cohorts):
        a = rng.normal()
        for t in range(2011, 2022):
            y = a + 0.1 * (t - 2011) + rng.normal(scale=0.2) + (0.5 if g and t >= g else 0.0)
            rows.append({"unit": i, "year": t, "cohort": g, "y": y})
    return pd.DataFrame(rows)


def test_pretest_raises_on_singular_covariance():
    with pytest.warns(EvalkitWarning, match="Small cohorts"):
        r = callaway_santanna(_panel(), outcome="y", unit="unit", time="year", cohort="cohort")
    with pytest.raises(InferenceError, match="rank"):
        r.pretrend_test()
    dyn = r.aggregate("dynamic", min_e=-3)
    terms = [t for t, e in zip(dyn.params.index, dyn.labels["event_time"], strict=True) if e < 0]
    w = dyn.wald_test(terms)
    assert np.isfinite(w["statistic"]) and w["statistic"] >= 0 and 0 <= w["p_value"] <= 1
