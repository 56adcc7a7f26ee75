"""亩产效益 firm scoring with the weighted-factor engine: classes by quantile or threshold.

Tolerances: none (exact Fractions and integer class counts). Indicator names follow the
亩产效益 evaluation practice cited in plan 三(五)1 (亩均税收, 亩均营收, 单位能耗增加值, R&D 强度).
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest

from evalkit._shared.exceptions import SpecError
from evalkit.allocation import load_scoring_spec, score_firms

SPEC = """\
evaluation: 亩产效益综合评价
year: 2025
factors:
  - {id: tax_mu, name: 亩均税收, weight: 40, direction: +, transform: share}
  - {id: rev_mu, name: 亩均营业收入, weight: 20, direction: +, transform: share}
  - {id: energy, name: 单位增加值能耗, weight: 20, direction: -, transform: inverse_share}
  - {id: rd, name: R&D经费投入强度, weight: 20, direction: +, transform: minmax_shift}
classes: {method: quantile, shares: {A: 0.2, B: 0.5, C: 0.2, D: 0.1}}
missing: {default: error, rd: zero}
"""


def firms(n=10):
    return pd.DataFrame({
        "firm_id": [f"F{i:02d}" for i in range(n)],
        "name": [f"企业{i}" for i in range(n)],
        "tax_mu": [10 + i for i in range(n)],
        "rev_mu": [100 + 5 * i for i in range(n)],
        "energy": [1.0 + 0.1 * (n - i) for i in range(n)],
        "rd": [None] + [0.5 * i for i in range(1, n)],
    })


def test_quantile_classes_and_exact_scores():
    r = score_firms(firms(), load_scoring_spec(SPEC))
    assert r.counts == {"A": 2, "B": 5, "C": 2, "D": 1}
    t = r.table
    assert list(t["firm_id"][:2]) == ["F09", "F08"]  # best firms in A
    assert set(t[t["class"] == "A"]["firm_id"]) == {"F09", "F08"}
    assert t.iloc[-1]["firm_id"] == "F00" and t.iloc[-1]["class"] == "D"
    scores = r.audit["exact_scores"]
    assert sum(scores.values()) == Fraction(100 * 10)  # average firm = 100
    # F00's missing R&D counted as zero and logged
    log = r.audit["log"]
    assert list(log["kind"]) == ["missing:zero"] and list(log["unit_code"]) == ["F00"]
    assert len(r.audit["inputs_sha256"]) == 64


def test_threshold_classes():
    spec = SPEC.replace("classes: {method: quantile, shares: {A: 0.2, B: 0.5, C: 0.2, D: 0.1}}",
                        "classes: {method: threshold, thresholds: {A: 120, B: 100, C: 80}}")
    r = score_firms(firms(), load_scoring_spec(spec))
    t = r.table
    for s, c in zip(t["score"], t["class"], strict=True):
        want = "A" if s >= 120 else "B" if s >= 100 else "C" if s >= 80 else "D"
        assert c == want


def test_scoring_spec_errors_listed_together():
    bad = SPEC.replace("weight: 40", "weight: 50").replace("D: 0.1", "D: 0.3")
    with pytest.raises(SpecError) as e:
        load_scoring_spec(bad)
    assert len(e.value.problems) == 2
    text = str(e.value)
    assert "weights sum to 110" in text and "class shares sum to" in text


def test_scoring_missing_rule_error():
    f = firms()
    f.loc[3, "tax_mu"] = None
    with pytest.raises(SpecError, match="unit F03 has no value for factor `tax_mu`"):
        score_firms(f, load_scoring_spec(SPEC))
