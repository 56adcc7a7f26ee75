"""Fairness and concentration metrics, benchmarks and scenario comparison.

Tolerances: 1e-12 for closed-form values computed by hand below.
Reference values: Gini of (1, 2, 3, 4) = 0.25 (mean absolute difference 1.25 / (2·2.5));
Theil of (1, 1, 2) = (1/3)·[2·(3/4)ln(3/4) + (3/2)ln(3/2)] by the definition
T = (1/n)Σ (x/μ) ln(x/μ) (Theil 1967).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_spec, table

from evalkit.allocation import allocate, compare, metrics
from evalkit.allocation.metrics import gini, hhi, theil

TOL = 1e-12


def test_gini_hand_values():
    assert math.isclose(gini([1, 2, 3, 4]), 0.25, abs_tol=TOL)
    assert gini([5, 5, 5]) == 0
    assert math.isclose(gini([0, 0, 0, 1]), 0.75, abs_tol=TOL)


def test_theil_hand_value_and_decomposition():
    want = (2 * 0.75 * math.log(0.75) + 1.5 * math.log(1.5)) / 3
    assert math.isclose(theil([1, 1, 2])["total"], want, abs_tol=TOL)
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 100, 12)
    g = ["county"] * 8 + ["zone"] * 4
    t = theil(x, g)
    assert math.isclose(t["between"] + t["within"], t["total"], abs_tol=TOL)
    # equal amounts within each group → within = 0
    t2 = theil([1, 1, 3, 3], ["a", "a", "b", "b"])
    assert abs(t2["within"]) < TOL and math.isclose(t2["between"], t2["total"], abs_tol=TOL)
    w = rng.uniform(1, 5, 12)
    tw = theil(x, g, weights=w)
    assert math.isclose(tw["between"] + tw["within"], tw["total"], abs_tol=TOL)


def test_hhi_and_effective_number():
    h, eff = hhi([25, 25, 25, 25])
    assert math.isclose(h, 2500, abs_tol=TOL) and math.isclose(eff, 4, abs_tol=TOL)
    h, eff = hhi([100, 0])
    assert h == 10_000 and eff == 1


def test_metrics_table_with_benchmarks(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    m = metrics(a)
    assert list(m.columns) == ["this_year", "pure_output"]
    assert {"gini_amount", "theil_total", "theil_between", "theil_within", "hhi", "effective_n",
            "max_min_ratio", "top3_share"} <= set(m.index)
    amounts = np.array(a.core.amounts, dtype=float)
    assert math.isclose(m.loc["gini_amount", "this_year"], gini(amounts), abs_tol=TOL)
    s = np.sort(amounts)[::-1]
    assert math.isclose(m.loc["top3_share", "this_year"], s[:3].sum() / s.sum(), abs_tol=TOL)
    # floors and weights spread money more evenly than a pure-output rule
    assert m.loc["gini_amount", "this_year"] < m.loc["gini_amount", "pure_output"]


def test_metrics_per_capita_and_last_year():
    codes = ["370702", "370703", "WF-Z-GXQ"]
    spec = make_spec({"x": 100}, total=900)
    t = table({"x": [1, 2, 3], "pop": [10, 20, 30]}, codes)
    a = allocate(spec, t, last_year={"370702": 300, "370703": 300, "WF-Z-GXQ": 300})
    m = metrics(a, population_factor="pop")
    assert "last_year" in m.columns and "pure_population" in m.columns
    assert m.loc["gini_amount", "last_year"] == 0
    # amounts proportional to population → per-capita Gini 0
    assert abs(m.loc["gini_per_capita", "this_year"]) < TOL
    assert abs(m.loc["theil_per_capita", "this_year"]) < TOL


def test_compare_scenarios(demo_case):
    spec, t = demo_case
    alt = spec.with_weights({"rev": 50, "inv": 10})
    c = compare([spec, alt], t, names=["现行", "提高营收权重"])
    assert list(c.amounts.columns) == ["unit_code", "name_zh", "现行", "提高营收权重"]
    assert c.amounts.iloc[-1]["现行"] == 19_000 == c.amounts.iloc[-1]["提高营收权重"]
    assert list(c.metrics.columns) == ["现行", "提高营收权重"]
    with pytest.raises(Exception, match="one label per spec"):
        compare([spec, alt], t, names=["x"])
