"""Allocation formulas as bureaus write them (issue 15), each checked against a hand computation.

Tolerances: none — every comparison is exact (integers or ``fractions.Fraction``), except the
float Monte Carlo transform checked against the exact one at rtol 1e-12.

Sources for the shape of the rules (the figures are invented for the examples):
* lottery-fund style rules: 业务因素 85% / 绩效因素 15%, each split into second-level factors
  (issue 15; allocation_research.md §1.3).
"""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest
from conftest import make_spec, table

from evalkit._shared.exceptions import SpecError
from evalkit.allocation import allocate, load_spec, read_factors, spec_from_dict

CITIES = ["370702", "370703", "370704"]
DEMO = Path(__file__).resolve().parents[2] / "data_raw" / "demo" / "allocation"


def _grouped(total=10_000, group_weights=(60, 40), inner=(50, 50, 100)):
    return spec_from_dict({
        "fund": "测试资金", "year": 2025, "total_wan": total,
        "groups": [{"id": "biz", "name": "业务因素", "weight": group_weights[0]},
                   {"id": "perf", "name": "绩效因素", "weight": group_weights[1]}],
        "factors": [{"id": "task", "group": "biz", "weight": inner[0]},
                    {"id": "workers", "group": "biz", "weight": inner[1]},
                    {"id": "output", "group": "perf", "weight": inner[2]}]})


VALUES = {"task": [300, 200, 100], "workers": [1000, 3000, 2000], "output": [1, 1, 2]}


# ------------------------------------------------------------------------------------------
# hierarchical factors (一级/二级)


def test_hierarchical_factors_by_hand():
    # effective weights: task 60% × 50% = 30%, workers 60% × 50% = 30%, output 40% × 100% = 40%
    # shares: task 300/600, 200/600, 100/600 = 1/2, 1/3, 1/6
    #         workers 1000/6000, 3000/6000, 2000/6000 = 1/6, 1/2, 1/3
    #         output 1/4, 1/4, 2/4 = 1/4, 1/4, 1/2
    # composite 370702: .3·1/2 + .3·1/6 + .4·1/4 = .15 + .05 + .10 = .30
    #           370703: .3·1/3 + .3·1/2 + .4·1/4 = .10 + .15 + .10 = .35
    #           370704: .3·1/6 + .3·1/3 + .4·1/2 = .05 + .10 + .20 = .35
    # T = 10,001: quotas 3000.3, 3500.35, 3500.35; floors sum to 10,000; the one 万元 left goes
    # to the larger remainder, .35 = .35 tied, equal quotas, so by code → 370703.
    spec = _grouped(total=10_001)
    assert [f.weight for f in spec.factors] == [30, 30, 40]
    assert [f.local_weight for f in spec.factors] == [50, 50, 100]
    a = allocate(spec, table(VALUES, CITIES))
    assert a.core.composite == [F(3, 10), F(7, 20), F(7, 20)]
    assert a.core.continuous == [F(30003, 10), F(70007, 20), F(70007, 20)]
    assert a.core.amounts == [3000, 3501, 3500]


def test_hierarchical_equals_flat_with_effective_weights():
    grouped = _grouped(group_weights=(85, 15), inner=(40, 60, 100))
    flat = make_spec({"task": 34, "workers": 51, "output": 15})
    t = table(VALUES, CITIES)
    assert allocate(grouped, t).core.amounts == allocate(flat, t).core.amounts
    # flat_data folds the groups; with_weights works on the folded weights
    data = grouped.flat_data()
    assert "groups" not in data and [f["weight"] for f in data["factors"]] == [34, 51, 15]
    moved = grouped.with_weights({"task": 39, "workers": 46})
    assert [f.weight for f in moved.factors] == [39, 46, 15] and not moved.groups


def test_hierarchical_non_decimal_effective_weight_is_exact():
    # 1/3 of a group: 100/3 % within a 50% group = 50/3 % effective (text "50/3")
    sp = _grouped(group_weights=(50, 50), inner=("33.3333", "66.6667", 100))
    assert sp.factors[0].weight == F(333333, 20000)
    assert spec_from_dict(sp.flat_data()).factors[0].weight == sp.factors[0].weight


GROUPS_BAD = """\
fund: 测试资金
year: 2025
total_wan: 1000
groups:
  - {id: biz, name: 业务因素, weight: 80}
  - {id: perf, name: 绩效因素, weight: 15}
  - {id: empty, name: 空组, weight: 5}
factors:
  - {id: a, group: biz, weight: 60}
  - {id: b, group: biz, weight: 30}
  - {id: c, group: perf, weight: 100}
  - {id: d, group: nosuch, weight: 100}
"""


def test_hierarchical_validation_lists_every_problem_with_lines():
    with pytest.raises(SpecError) as e:
        load_spec(GROUPS_BAD)
    msg = str(e.value)
    # group weights 80 + 15 + 5 = 100 are fine; biz sums to 90; `empty` has no factors;
    # d names an unknown group
    assert "<spec text>:5" in msg and "`biz`" in msg and "90" in msg and "sum to 100" in msg
    assert "<spec text>:7" in msg and "group `empty` has no factors" in msg
    assert "<spec text>:12" in msg and "'nosuch'" in msg and "不在 groups 中" in msg


def test_group_weights_must_sum_to_100_and_group_needs_block():
    with pytest.raises(SpecError, match=r"group weights sum to 90"):
        _grouped(group_weights=(60, 30))
    with pytest.raises(SpecError, match=r"no groups block"):
        spec_from_dict({"fund": "f", "year": 2025, "total_wan": 10,
                        "factors": [{"id": "a", "group": "x", "weight": 100}]})


def test_hierarchical_method_sheet_shows_both_levels():
    a = allocate(_grouped(group_weights=(85, 15), inner=(40, 60, 100)), table(VALUES, CITIES))
    zh = a.method_sheet("zh")
    assert "（一）业务因素（biz），一级权重 85%" in zh
    assert "组内权重 40%，折合总权重 34%" in zh and "组内权重 60%，折合总权重 51%" in zh
    assert "（二）绩效因素（perf），一级权重 15%" in zh
    assert "effective 34%" in a.method_sheet("en")


def test_demo_hierarchical_example_runs():
    spec = load_spec(DEMO / "formula_groups.yaml")
    assert [f.weight for f in spec.factors] == [34, F(51, 2), F(51, 2), 15]
    a = allocate(spec, read_factors(DEMO / "factors.csv"))
    assert sum(a.core.amounts) == spec.t_alloc == 43_500


# ------------------------------------------------------------------------------------------
# transforms: ratio to the average, standardised scores


FOUR = CITIES + ["370705"]


def test_ratio_to_mean_and_zscore_by_hand():
    # ratio (bounds 0.5–1.5): x = 1, 2, 4, 9, mean 4 → 1/4, 1/2, 1, 9/4 → clipped 1/2, 1/2, 1, 3/2;
    #   sum 7/2 → shares 1/7, 1/7, 2/7, 3/7
    # zscore (50 + 10 z): y = 1, 1, 3, 3, mean 2, population sd 1 → z = −1, −1, 1, 1
    #   → scores 40, 40, 60, 60, sum 200 → shares 1/5, 1/5, 3/10, 3/10
    # composite (60/40): U1 = U2 = 3/35 + 2/25 = 29/175; U3 = 6/35 + 3/25 = 51/175;
    #   U4 = 9/35 + 3/25 = 66/175 (sum 175/175)
    # T = 1000: quotas 165.714…, 165.714…, 291.428…, 377.142…; floors 165+165+291+377 = 998;
    #   the 2 万元 left go to the largest remainders .714 (U1) and .714 (U2)
    spec = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 1000, "factors": [
        {"id": "r", "weight": 60, "transform": "ratio_to_mean", "bounds": [0.5, 1.5]},
        {"id": "z", "weight": 40, "transform": "zscore", "score_base": 50, "score_scale": 10}]})
    a = allocate(spec, table({"r": [1, 2, 4, 9], "z": [1, 1, 3, 3]}, FOUR))
    assert a.core.z["r"] == [F(1, 7), F(1, 7), F(2, 7), F(3, 7)]
    assert a.core.z["z"] == [F(1, 5), F(1, 5), F(3, 10), F(3, 10)]
    assert a.core.composite == [F(29, 175), F(29, 175), F(51, 175), F(66, 175)]
    assert a.core.amounts == [166, 166, 291, 377]


def test_less_is_more_ratio_and_zscore():
    # '-' ratio: mean ÷ x = 4/1, 4/2, 4/4, 4/9 → clipped 3/2, 3/2, 1, 1/2 → shares 3/9, 3/9, 2/9, 1/9
    # '-' zscore: z = 1, 1, −1, −1 → 60, 60, 40, 40 → shares 3/10, 3/10, 1/5, 1/5
    spec = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 1000, "factors": [
        {"id": "r", "weight": 50, "direction": "-", "transform": "ratio_to_mean",
         "bounds": [0.5, 1.5]},
        {"id": "z", "weight": 50, "direction": "-", "transform": "zscore"}]})
    a = allocate(spec, table({"r": [1, 2, 4, 9], "z": [1, 1, 3, 3]}, FOUR))
    assert a.core.z["r"] == [F(1, 3), F(1, 3), F(2, 9), F(1, 9)]
    assert a.core.z["z"] == [F(3, 10), F(3, 10), F(1, 5), F(1, 5)]


def test_unbounded_ratio_to_mean_equals_share():
    vals = {"a": [3, 5, 11, 1]}
    r = allocate(spec_from_dict({"fund": "f", "year": 2025, "total_wan": 997, "factors": [
        {"id": "a", "weight": 100, "transform": "ratio_to_mean"}]}), table(vals, FOUR))
    s = allocate(make_spec({"a": 100}, total=997), table(vals, FOUR))
    assert r.core.z == s.core.z and r.core.amounts == s.core.amounts


def test_zscore_nonpositive_score_is_an_error_naming_units():
    # y = 1, 1, 1, 9: mean 3, sd √12 → z = −1/√3 ≈ −0.577 for the first three; 5 + 10 z < 0
    spec = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100, "factors": [
        {"id": "z", "weight": 100, "transform": "zscore", "score_base": 5}]})
    with pytest.raises(SpecError, match=r"≤ 0 for units 370702, 370703, 370704"):
        allocate(spec, table({"z": [1, 1, 1, 9]}, FOUR))


TRANSFORM_BAD = """fund: 测试资金
year: 2025
total_wan: 1000
factors:
  - {id: a, weight: 50, transform: share, bounds: [0.5, 1.5]}
  - {id: b, weight: 25, transform: ratio_to_mean, bounds: [1.5, 0.5]}
  - {id: c, weight: 25, transform: zscore, score_scale: 0}
"""


def test_transform_options_validated_with_lines():
    with pytest.raises(SpecError) as e:
        load_spec(TRANSFORM_BAD)
    msg = str(e.value)
    assert "<spec text>:5" in msg and "`bounds` applies only to transform: ratio_to_mean" in msg
    assert "<spec text>:6" in msg and "must exceed the low bound" in msg
    assert "<spec text>:7" in msg and "score_scale must be positive" in msg


@pytest.mark.parametrize("t,extra,direction", [
    ("ratio_to_mean", {"bounds": [0.5, 1.5]}, "+"), ("ratio_to_mean", {}, "-"),
    ("zscore", {"score_base": 40}, "+"), ("zscore", {}, "-")])
def test_monte_carlo_float_transform_matches_exact(t, extra, direction):
    import numpy as np

    from evalkit.allocation.formula import transform
    from evalkit.allocation.sensitivity import _transform_float

    f = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 10, "factors": [
        {"id": "a", "weight": 100, "transform": t, "direction": direction, **extra}]}).factors[0]
    x = [F(3), F(5), F(11), F(1), F(7)]
    exact = [float(v) for v in transform(f, x)]
    got = _transform_float(f, np.array([[float(v) for v in x]]), None)[0]
    assert np.allclose(got, exact, rtol=1e-12, atol=0)


def test_transforms_method_sheet_text():
    a = allocate(load_spec(DEMO / "formula_transforms.yaml"), read_factors(DEMO / "factors.csv"))
    zh = a.method_sheet("zh")
    assert "按该单位数值与参与单位平均值之比（最低 0.5、最高 1.5）占合计的比重计算" in zh
    assert "按标准分 50 + 10 × 标准化值" in zh
    assert sum(a.core.amounts) == 43_500


# ------------------------------------------------------------------------------------------
# separate pools (分池)


POOLED = """\
fund: 测试资金
year: 2025
total_wan: 11001
factors:
  - {id: task, weight: 40}
  - {id: workers, weight: 60}
pools:
  - id: county
    name: 县市区
    total_wan: 10000
    units: ["370702", "370703", "370704"]
  - id: zone
    name: 功能区
    total_wan: 1001
    units: ["370772", "WF-Z-GXQ"]
    factors:
      - {id: output, weight: 100}
    constraints: {floor_wan: 300}
"""
POOL_VALUES = {"task": [300, 200, 100, None, None], "workers": [1000, 3000, 2000, None, None],
               "output": [None, None, None, 1, 3]}
POOL_CODES = CITIES + ["370772", "WF-Z-GXQ"]


def _pool_table():
    import pandas as pd
    from conftest import make_table
    t = make_table(POOL_VALUES, POOL_CODES)
    return read_factors(pd.DataFrame(t[t["value"].notna()]))


def test_pools_by_hand_with_subtotals():
    # county (40/60 of task and workers, T = 10,000): the Shandong example of test_engine,
    #   composite 3/10, 13/30, 4/15 → 3000, 4333.3…, 2666.6… → [3000, 4333, 2667]
    # zone (output 1 : 3, T = 1,001, floor 300): quotas 250.25 and 750.75; 370772 is lifted to
    #   its floor 300 and the other unit takes the rest, 1001 − 300 = 701
    a = allocate(load_spec(POOLED), _pool_table())
    county, zone = (p[2] for p in a.pools)
    assert county.core.amounts == [3000, 4333, 2667]
    assert zone.core.amounts == [300, 701] and zone.bound_units["floor"] == ["370772"]
    t = a.table
    subs = t[t["unit_code"] == "小计"]
    assert list(subs["name_zh"]) == ["县市区小计", "功能区小计"]
    assert list(subs["amount_wan"]) == [10_000, 1001]
    assert t.iloc[-1]["unit_code"] == "合计" and t.iloc[-1]["amount_wan"] == 11_001
    assert list(t["pool"]) == ["county"] * 4 + ["zone"] * 3 + [""]  # units, then 小计
    sheet = a.method_sheet("zh")
    assert "县市区小计：10,000" in sheet and "功能区小计：1,001" in sheet and "合计：11,001" in sheet
    a.check()


POOLED_BAD = POOLED.replace("total_wan: 11001", "total_wan: 12000").replace(
    '"370704"]', '"370704", "370772"]').replace("- {id: output, weight: 100}",
                                                 "- {id: output, weight: 90}")


def test_pools_validation_with_full_paths_and_lines():
    # total 12,000 ≠ 10,000 + 1,001; 370772 in both pools; the zone's weights sum to 90
    with pytest.raises(SpecError) as e:
        load_spec(POOLED_BAD)
    msg = str(e.value)
    assert "<spec text>:3" in msg and "differs from the pools' sum 11001" in msg
    assert "<spec text>:15" in msg and "unit 370772 is in both pool `county` and pool `zone`" in msg
    assert "<spec text>:16" in msg and "`pools[1].factors`" in msg and "sum to 90" in msg


def test_pool_needs_units_and_total():
    bad = POOLED.replace("    total_wan: 1001\n", "").replace("total_wan: 11001\n", "")
    with pytest.raises(SpecError, match=r"pool `zone` needs `total_wan`"):
        load_spec(bad)


# ------------------------------------------------------------------------------------------
# per-point awards and deductions (奖补)


def _award_spec(total=30_000, cut_per_point=200, cut_cap=300, **extra):
    return spec_from_dict({"fund": "f", "year": 2025, "total_wan": total,
                           "factors": [{"id": "task", "weight": 100}],
                           "awards": [
                               {"id": "up", "name": "增速奖励", "factor": "grw", "kind": "award",
                                "threshold": 5, "per_point_wan": 500, "cap_wan": 10_000},
                               {"id": "down", "name": "增速扣减", "factor": "grw",
                                "kind": "deduction", "threshold": 5,
                                "per_point_wan": cut_per_point, "cap_wan": cut_cap}], **extra})


AWARD_VALUES = {"task": [300, 200, 100], "grw": ["8.5", 40, 4]}


def test_awards_and_deductions_by_hand():
    # 每提高 1 个百分点奖励 500 万元，最高 1 亿元 above 5%: grw 8.5 → 3.5 × 500 = 1750;
    #   grw 40 → 35 × 500 = 17,500, capped at 10,000; grw 4 → no award
    # deduction 200 per point below 5, at most 300: grw 4 → 1 × 200 = 200
    # net 1750, 10,000, −200 (sum 11,550); factor part 30,000 − 11,550 = 18,450 split 1/2, 1/3,
    #   1/6 → 9225, 6150, 3075; amounts 10,975, 16,150, 2875 (sum 30,000)
    a = allocate(_award_spec(), table(AWARD_VALUES, CITIES))
    assert a.core.awards == {"up": [1750, 10_000, 0], "down": [0, 0, -200]}
    assert a.core.amounts == [10_975, 16_150, 2875] and sum(a.core.amounts) == 30_000
    assert list(a.table["up_wan"][:3]) == [1750, 10_000, 0]
    sheet = a.method_sheet("zh")
    assert "每多 1奖励 500 万元，每个单位最高奖励 10,000 万元" in sheet
    assert "本次扣减：潍城区" not in sheet and "坊子区 200 万元" in sheet


def test_deduction_is_limited_to_the_units_amount():
    # deduction 5000 per point: grw 4 → 5000, more than the unit's factor part; with floor 0 the
    #   unit is held at 0: Σ = 1750 + 10,000 + λ(1/2 + 1/3) = 30,000 → λ = 21,900;
    #   amounts 1750 + 10,950 = 12,700; 10,000 + 7300 = 17,300; 0
    a = allocate(_award_spec(cut_per_point=5000, cut_cap=5000), table(AWARD_VALUES, CITIES))
    assert a.core.amounts == [12_700, 17_300, 0] and a.core.bound[2] == "floor"


def test_awards_larger_than_the_fund_are_an_error():
    with pytest.raises(SpecError, match=r"net awards 11550 万元 .* exceed T_alloc = 5000"):
        allocate(_award_spec(total=5000), table(AWARD_VALUES, CITIES))


AWARDS_BAD = """\
fund: 测试资金
year: 2025
total_wan: 1000
factors:
  - {id: a, weight: 100}
awards:
  - {id: up, factor: grw, kind: bonus, threshold: 5, per_point_wan: 500}
  - {id: cut, factor: grw, kind: deduction, threshold: 5}
  - {id: lim, factor: grw, threshold: 5, per_point_wan: 1, min_wan: 50, cap_wan: 10}
"""


def test_awards_validated_with_lines():
    with pytest.raises(SpecError) as e:
        load_spec(AWARDS_BAD)
    msg = str(e.value)
    assert "<spec text>:7" in msg and "invalid kind 'bonus'" in msg
    assert "<spec text>:8" in msg and "award `cut` needs `per_point_wan`" in msg
    assert "<spec text>:9" in msg and "min_wan 50 exceeds cap_wan 10" in msg


def test_award_factor_missing_from_table_is_reported():
    with pytest.raises(SpecError, match=r"factor `grw` of award `up` is not in the factor table"):
        allocate(_award_spec(), table({"task": [1, 2, 3]}, CITIES))


# ------------------------------------------------------------------------------------------
# finer money: rounding units down to 0.01 万元, non-integer totals


def test_cents_rounding_by_hand():
    # total 100.02, reserve 0.5 → T_alloc 99.52 万元 = 9952 cents; three equal shares → quotas
    #   3317.33… cents each; floors 3 × 3317 = 9951; the one cent left goes to the tie on
    #   equal quotas by code → 370702: 33.18, 33.17, 33.17 (sum 99.52)
    sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100.02, "reserve_wan": 0.5,
                         "factors": [{"id": "a", "weight": 100}], "rounding": {"unit_wan": 0.01}})
    assert sp.t_alloc == F(9952, 100) and sp.rounding_unit == F(1, 100)
    a = allocate(sp, table({"a": [1, 1, 1]}, CITIES))
    assert a.core.amounts == [F("33.18"), F("33.17"), F("33.17")]
    assert sum(a.core.amounts) == F("99.52")
    assert list(a.table["amount_wan"]) == [33.18, 33.17, 33.17, 99.52]
    assert "金额以 0.01 万元为单位取整" in a.method_sheet("zh")


def test_integer_specs_keep_integer_amounts():
    a = allocate(make_spec({"a": 100}, total=10), table({"a": [1, 2, 3]}, CITIES))
    assert all(type(x) is int for x in a.core.amounts)
    assert str(a.table["amount_wan"].dtype) == "int64"


MONEY_BAD = """\
fund: 测试资金
year: 2025
total_wan: 100.005
reserve_wan: 1.5
factors:
  - {id: a, weight: 100}
rounding: {unit_wan: 0.001}
"""


def test_money_validated_with_lines():
    with pytest.raises(SpecError) as e:
        load_spec(MONEY_BAD)
    msg = str(e.value)
    assert "<spec text>:3" in msg and "amount 100.005 has more than two decimals" in msg
    assert "<spec text>:7" in msg and "at least 0.01 万元" in msg
    # T_alloc must be a multiple of the unit
    with pytest.raises(SpecError, match=r"T_alloc = 4001/40 is not a multiple|not a multiple"):
        load_spec(MONEY_BAD.replace("100.005", "100.03").replace("0.001", "0.05"))


def test_fine_money_example_workbook_shows_cents(tmp_path):
    from openpyxl import load_workbook

    a = allocate(load_spec(DEMO / "formula_fine_money.yaml"), read_factors(DEMO / "factors.csv"))
    assert sum(a.core.amounts) == F("4350.50")
    assert all((x * 100).denominator == 1 and x >= F("50.5") for x in a.core.amounts)
    p = a.to_excel(tmp_path / "x.xlsx", sensitivity=False, date="2025年3月1日")
    ws = load_workbook(p).worksheets[0]
    fmts = {c.number_format for row in ws.iter_rows() for c in row if isinstance(c.value, float)}
    assert "#,##0.00" in fmts and "#,##0" not in fmts


# ------------------------------------------------------------------------------------------
# advance and settlement (预拨与清算)


def _adv_spec(share=0.6, total=1000):
    return spec_from_dict({"fund": "f", "year": 2025, "total_wan": total,
                           "factors": [{"id": "a", "weight": 100}], "advance": {"share": share}})


def test_advance_and_settlement_by_hand():
    # preliminary a = 1, 1, 2 → full allocation 250, 250, 500 → advance 60 %: 150, 150, 300
    # final a = 1, 2, 1 → 250, 500, 250 → settlement +100, +350, −50 (sum 400 = 1000 − 600)
    from evalkit.allocation import settle
    s = settle(_adv_spec(), table({"a": [1, 1, 2]}, CITIES), table({"a": [1, 2, 1]}, CITIES))
    assert s.advance == {"370702": 150, "370703": 150, "370704": 300}
    assert s.settlement == {"370702": 100, "370703": 350, "370704": -50}
    assert list(s.table["settlement_wan"]) == [100, 350, -50, 400]
    sheet = s.method_sheet("zh")
    assert "预拨其中 60%，合计 600 万元" in sheet and "清算 -50 万元" in sheet and "清算 +350" in sheet


def test_advance_rounds_by_largest_remainder():
    # preliminary equal: 334, 333, 333 (the spare 万元 to 370702 by code); × 0.6 = 200.4, 199.8,
    #   199.8 → floors 200 + 199 + 199 = 598; the 2 left go to the .8 remainders → 200, 200, 200
    from evalkit.allocation import settle
    s = settle(_adv_spec(), table({"a": [1, 1, 1]}, CITIES), table({"a": [1, 1, 1]}, CITIES))
    assert s.preliminary.core.amounts == [334, 333, 333]
    assert s.advance == {"370702": 200, "370703": 200, "370704": 200}
    assert s.settlement == {"370702": 134, "370703": 133, "370704": 133}


def test_advance_validated():
    with pytest.raises(SpecError, match=r"not a multiple of unit_wan 1"):
        _adv_spec(share=0.3333, total=1000)
    with pytest.raises(SpecError, match=r"outside"):
        _adv_spec(share=1.5)


# advance and settlement with separate pools: every pool is advanced and settled on its own


POOLED_ADVANCE = """\
fund: 测试资金
year: 2025
advance: {share: 0.6}
factors:
  - {id: a, weight: 100}
pools:
  - id: county
    name: 县市区
    total_wan: 1000
    units: ["370702", "370703", "370704"]
  - id: zone
    name: 功能区
    total_wan: 600
    units: ["370772", "WF-Z-GXQ"]
"""
POOL_ADV_CODES = CITIES + ["370772", "WF-Z-GXQ"]


def test_pooled_advance_and_settlement_by_hand():
    # county (T 1000, 60 %): preliminary a = 1, 1, 2 → 250, 250, 500 → advance 150, 150, 300;
    #   final a = 1, 2, 1 → 250, 500, 250 → settlement +100, +350, −50
    # zone (T 600, 60 %): preliminary a = 1, 1 → 300, 300 → advance 180, 180;
    #   final a = 1, 2 → 200, 400 → settlement +20, +220
    from evalkit.allocation import PooledSettlement, settle
    s = settle(load_spec(POOLED_ADVANCE), table({"a": [1, 1, 2, 1, 1]}, POOL_ADV_CODES),
               table({"a": [1, 2, 1, 1, 2]}, POOL_ADV_CODES))
    assert isinstance(s, PooledSettlement) and [p for p, _, _ in s.pools] == ["county", "zone"]
    assert s.advance == {"370702": 150, "370703": 150, "370704": 300, "370772": 180,
                         "WF-Z-GXQ": 180}
    assert s.settlement == {"370702": 100, "370703": 350, "370704": -50, "370772": 20,
                            "WF-Z-GXQ": 220}
    assert s.final.amounts == {"370702": 250, "370703": 500, "370704": 250, "370772": 200,
                               "WF-Z-GXQ": 400}
    t = s.table
    assert list(t["unit_code"]) == CITIES + ["小计", "370772", "WF-Z-GXQ", "小计", "合计"]
    assert list(t["pool"]) == ["county"] * 4 + ["zone"] * 3 + [""]
    sub = t[t["unit_code"] == "小计"]
    assert list(sub["name_zh"]) == ["县市区小计", "功能区小计"]
    assert list(sub["advance_wan"]) == [600, 360] and list(sub["settlement_wan"]) == [400, 240]
    assert t.iloc[-1][["advance_wan", "final_wan", "settlement_wan"]].tolist() == [960, 1600, 640]
    sheet = s.method_sheet("zh")
    assert "预拨与清算" in sheet and "县市区：预拨其中 60%，合计 600 万元" in sheet
    assert "功能区：预拨其中 60%，合计 360 万元" in sheet and "清算 -50 万元" in sheet
    assert "县市区小计：1,000" in sheet  # the pooled method sheet is kept
    s.check()


def test_pool_may_set_its_own_advance_share():
    # the zone advances 50 % instead of the shared 60 %: 150, 150; settlement +50, +250
    from evalkit.allocation import settle
    spec = POOLED_ADVANCE.replace('    units: ["370772", "WF-Z-GXQ"]\n',
                                  '    units: ["370772", "WF-Z-GXQ"]\n    advance: {share: 0.5}\n')
    s = settle(load_spec(spec), table({"a": [1, 1, 2, 1, 1]}, POOL_ADV_CODES),
               table({"a": [1, 2, 1, 1, 2]}, POOL_ADV_CODES))
    assert (s.advance["370772"], s.advance["WF-Z-GXQ"]) == (150, 150)
    assert (s.settlement["370772"], s.settlement["WF-Z-GXQ"]) == (50, 250)
    assert s.advance["370704"] == 300  # the county keeps the shared 60 %


def test_pooled_advance_in_some_pools_only_is_refused_naming_fields_and_fix():
    spec = POOLED_ADVANCE.replace("advance: {share: 0.6}\n", "").replace(
        '    units: ["370702", "370703", "370704"]\n',
        '    units: ["370702", "370703", "370704"]\n    advance: {share: 0.6}\n')
    with pytest.raises(SpecError) as e:
        load_spec(spec)
    msg = str(e.value)
    assert "`pools[1]`" in msg and "资金池 `zone` 没有 advance" in msg
    assert "pool `zone` has no advance while pool `county` has one" in msg
    assert "advance: {share: 0}" in msg and "top level" in msg and "顶层" in msg


def test_pooled_advance_not_a_whole_number_of_units_names_the_pool():
    # zone: 0.6 × 601 = 360.6 万元 is not a whole number of 1 万元 units
    bad = POOLED_ADVANCE.replace("total_wan: 600", "total_wan: 601")
    with pytest.raises(SpecError) as e:
        load_spec(bad)
    msg = str(e.value)
    assert "[资金池/pool zone]" in msg and "360.6" in msg and "[资金池/pool county]" not in msg


def test_cli_pooled_advance(tmp_path):
    from conftest import make_table

    from evalkit.allocation.cli import main as cli_main
    spec = tmp_path / "pooled.yaml"
    spec.write_text(POOLED_ADVANCE, encoding="utf-8")
    prelim, final = tmp_path / "prelim.csv", tmp_path / "final.csv"
    make_table({"a": [1, 1, 2, 1, 1]}, POOL_ADV_CODES).to_csv(prelim, index=False)
    make_table({"a": [1, 2, 1, 1, 2]}, POOL_ADV_CODES).to_csv(final, index=False)
    out = tmp_path / "out"
    # without the preliminary data: an error, nothing written
    assert cli_main(["allocate", str(spec), "--factors", str(final), "--out", str(out),
                     "--charts", "none", "--no-sensitivity"]) == 2
    assert not out.exists()
    assert cli_main(["allocate", str(spec), "--factors", str(final), "--preliminary", str(prelim),
                     "--out", str(out), "--charts", "none", "--no-sensitivity"]) == 0
    import pandas as pd
    t = pd.read_csv(out / "allocation_2025_预拨清算.csv", encoding="utf-8-sig",
                    dtype={"unit_code": str})
    assert list(t["unit_code"])[-1] == "合计" and t.iloc[-1]["settlement_wan"] == 640
    units = t[~t["unit_code"].isin(["小计", "合计"])]
    assert (units["advance_wan"] + units["settlement_wan"] == units["final_wan"]).all()
    assert "预拨与清算" in (out / "allocation_2025_测算说明.txt").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------
# every worked example runs through `evalkit allocate`; the recentred instrument handles them


EXAMPLES = sorted(p.name for p in DEMO.glob("formula_*.yaml"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example_runs_through_the_cli(name, tmp_path):
    from evalkit.allocation.cli import main as cli_main
    from evalkit.allocation.template import formula_examples

    assert (DEMO / name).read_text(encoding="utf-8") == formula_examples()[name]
    out = tmp_path / "out"
    extra = (["--preliminary", str(DEMO / "formula_advance_preliminary.csv")]
             if name == "formula_advance.yaml" else [])
    assert cli_main(["allocate", str(DEMO / name), "--factors", str(DEMO / "factors.csv"),
                     "--out", str(out), "--charts", "none", "--no-sensitivity", *extra]) == 0
    assert (out / "allocation_2025_测算说明.txt").is_file()
    if extra:  # 预拨与清算: advance + settlement = final, the year's total unchanged
        import pandas as pd
        t = pd.read_csv(out / "allocation_2025_预拨清算.csv", encoding="utf-8-sig")
        assert (t["advance_wan"] + t["settlement_wan"] == t["final_wan"]).all()
        assert t.iloc[-1]["final_wan"] == 43_500 and t.iloc[-1]["advance_wan"] == 30_450


def test_cli_advance_spec_needs_preliminary_data(tmp_path):
    from evalkit.allocation.cli import main as cli_main

    assert cli_main(["allocate", str(DEMO / "formula_advance.yaml"), "--factors",
                     str(DEMO / "factors.csv"), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_recentred_instrument_redraws_a_grouped_spec():
    from evalkit.iv.instrument import _spec_variant

    spec = _grouped(group_weights=(85, 15), inner=(40, 60, 100))
    v = _spec_variant(spec, weights={"task": "30", "workers": "55"}, total=20_000)
    assert [f.weight for f in v.factors] == [30, 55, 15] and v.total_wan == 20_000


def test_recentred_instrument_refuses_pools_naming_the_feature():
    from evalkit.iv import expected_instrument

    pooled = load_spec(POOLED)
    with pytest.raises(SpecError, match=r"separate pools"):
        expected_instrument({2024: pooled, 2025: pooled}, _pool_table())
    # the plain formula instrument (no redraws) works on a pooled spec
    from evalkit.iv import formula_instrument
    z = formula_instrument({2025: pooled}, _pool_table(), chain_last_year=False)
    assert len(z) == 5


def test_recentred_instrument_keeps_awards_in_redraws():
    from evalkit.iv.instrument import _spec_variant

    v = _spec_variant(_award_spec(), total=40_000)
    assert v.awards == _award_spec().awards and v.t_alloc == 40_000


@pytest.mark.real_master
def test_compare_refuses_a_pooled_spec_naming_it_and_writes_nothing():
    from evalkit.allocation import compare

    with pytest.raises(SpecError) as err:
        compare([DEMO / "spec.yaml", DEMO / "formula_pools.yaml"], DEMO / "factors.csv")
    text = str(err.value)
    assert "formula_pools.yaml" in text and "分设资金池" in text and "separate pools" in text
