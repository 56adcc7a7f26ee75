"""The in-place (scaling) Callaway-Sant'Anna fast path equals the per-cell path.

Tolerance: 1e-10 absolute on ATT(g,t), the influence-function Gram matrix and aggregated
estimates and standard errors. The balanced fast path (all periods of a cohort at once, the
influence functions written in place) is compared with the per-cell long-layout path
(``allow_unbalanced=True`` on the same balanced panel), which forms every 2x2 separately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.did.callaway_santanna import callaway_santanna

TOL = 1e-10


def _panel(n_units=400, seed=5):
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2013)
    g = rng.choice([0, 2004, 2006, 2009], n_units)
    t = np.tile(years, n_units)
    gg = np.repeat(g, len(years))
    eff = np.where((gg > 0) & (t >= gg), 0.5 + 0.1 * (t - gg), 0.0)
    y = np.repeat(rng.normal(size=n_units), len(years)) + 0.05 * t + eff + rng.normal(size=t.size)
    return pd.DataFrame({"unit": np.repeat(np.arange(n_units), len(years)), "year": t, "cohort": gg,
                         "y": y, "w": np.repeat(rng.uniform(0.5, 2, n_units), len(years))})


@pytest.mark.parametrize("kw", [{}, {"weights": "w"}, {"base_period": "universal"},
                                {"control_group": "not_yet_treated"}])
def test_fast_path_equals_per_cell_path(kw):
    df = _panel()
    args = dict(outcome="y", unit="unit", time="year", cohort="cohort", **kw)
    fast = callaway_santanna(df, **args)
    slow = callaway_santanna(df, allow_unbalanced=True, **args)
    assert fast._fit.data.layout == "balanced" and slow._fit.data.layout != "balanced"
    np.testing.assert_allclose(fast._fit.att, slow._fit.att, rtol=0, atol=TOL)
    np.testing.assert_allclose(fast._fit.gram, slow._fit.gram, rtol=0, atol=TOL)
    for kind in ("simple", "dynamic", "group"):
        a, b = fast.aggregate(kind), slow.aggregate(kind)
        np.testing.assert_allclose(np.atleast_1d(a.estimate if kind == "simple" else a.params),
                                   np.atleast_1d(b.estimate if kind == "simple" else b.params), rtol=0, atol=TOL)
        np.testing.assert_allclose(np.atleast_1d(a.std_error if kind == "simple" else a.std_errors),
                                   np.atleast_1d(b.std_error if kind == "simple" else b.std_errors),
                                   rtol=0, atol=TOL)
