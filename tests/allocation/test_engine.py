"""Worked examples of the allocation engine, computed by hand with exact fractions.

Tolerances: none — every comparison here is exact (integers or ``fractions.Fraction``).

Sources:
* Shandong 2016 《工业企业结构调整专项奖补资金管理细则》: base award split by the factor method,
  capacity-reduction task 40% + workers to resettle 60% (allocation_research.md §1.2 #1, Shandong
  Finance Department news item 2016-09). The city figures below are invented for the example.
* Alabama paradox shares (0.1705, 0.3068, 0.5227): allocation.md §3 ("Not a valid test").
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import pytest
from conftest import WEIFANG, make_spec, make_table, table

from evalkit._shared.exceptions import EvalkitError, SpecError
from evalkit.allocation import allocate, read_factors
from evalkit.allocation.constraints import water_fill
from evalkit.allocation.rounding import largest_recipient, largest_remainder

# The worked example is about three cities; Weifang county codes stand in for them here, because
# a city code such as 370700 is an aggregate row, never a recipient of a county allocation.
CITIES = ["370702", "370703", "370704"]


def test_shandong_2016_40_60_worked_example():
    # task (万吨) and workers (人) per city; T = 10,000 万元
    task, workers = [300, 200, 100], [1000, 3000, 2000]
    spec = make_spec({"task": 40, "workers": 60})
    a = allocate(spec, table({"task": task, "workers": workers}, CITIES))
    # by hand: shares task 1/2, 1/3, 1/6; workers 1/6, 1/2, 1/3
    comp = [F(2, 5) * F(t, 600) + F(3, 5) * F(w, 6000) for t, w in zip(task, workers, strict=True)]
    assert comp == [F(3, 10), F(13, 30), F(4, 15)]
    assert a.core.composite == comp
    assert a.core.continuous == [F(3000), F(130000, 30), F(80000, 30)]
    # floors 3000, 4333, 2666 (sum 9999); remainders 0, 1/3, 2/3 → the +1 goes to 370700
    assert a.core.amounts == [3000, 4333, 2667]
    assert a.table.iloc[-1]["unit_code"] == "合计"
    assert a.table.iloc[-1]["amount_wan"] == 10_000


def test_shandong_with_renormalised_tier_coefficients():
    # 梯级奖补 style coefficients 1.2 / 1.0 / 0.8, renormalised (allocation.md §2 step 5)
    spec = make_spec({"task": 40, "workers": 60},
                     performance={"grades": {"370702": "超额", "370703": "完成", "370704": "未完成"},
                                  "map": {"超额": 1.2, "完成": 1.0, "未完成": 0.8}})
    a = allocate(spec, table({"task": [300, 200, 100], "workers": [1000, 3000, 2000]}, CITIES))
    s = [F(54, 151), F(65, 151), F(32, 151)]  # (0.36, 13/30, 6.4/30) / (30.2/30)
    assert a.core.s == s
    quotas = [x * 10_000 for x in s]
    assert [math.floor(q) for q in quotas] == [3576, 4304, 2119]
    # remainders 24/151, 96/151, 31/151 → the single +1 goes to 370300
    assert [q - math.floor(q) for q in quotas] == [F(24, 151), F(96, 151), F(31, 151)]
    assert a.core.amounts == [3576, 4305, 2119]


def test_alabama_paradox_documented_example():
    codes = ["A", "B", "C"]
    t = table({"x": [1705, 3068, 5227]}, codes)
    a14 = allocate(make_spec({"x": 100}, total=14), t)
    a15 = allocate(make_spec({"x": 100}, total=15), t)
    assert a14.core.amounts == [3, 4, 7]
    assert a15.core.amounts == [2, 5, 8]  # A loses a seat when the total grows
    assert all(b >= a - 1 for a, b in zip(a14.core.amounts, a15.core.amounts, strict=True))
    assert all(b > a for a, b in zip(a14.core.continuous, a15.core.continuous, strict=True))


def test_largest_remainder_ties_by_quota_then_code():
    # equal remainders 1/2: larger quota wins first, then the smaller code
    r = largest_remainder([F(5, 2), F(3, 2), F(3, 2), F(1, 2)], 6, ["d", "b", "a", "c"])
    assert r.amounts == [3, 1, 2, 0]
    # integer cap: a unit already at its cap gets no +1
    r = largest_remainder([F(5, 2), F(7, 2)], 6, ["a", "b"], caps=[2, None])
    assert r.amounts == [2, 4]


def test_largest_recipient_puts_residual_on_largest():
    r = largest_recipient([F(10, 3), F(10, 3), F(10, 3)], 10, ["a", "b", "c"])
    assert r.amounts == [4, 3, 3]  # 3+3+3 = 9, residual 1 to the largest (tie → code a)
    r = largest_recipient([F(5, 2), F(5, 2), F(5, 1)], 10, ["a", "b", "c"])
    assert r.amounts == [3, 3, 4]  # half-up gives 3+3+5 = 11, residual −1 from the largest


def test_water_fill_exact_floor_and_cap():
    # shares 0.7/0.2/0.1 of 100 with a cap of 50 and a floor of 20
    wf = water_fill([F(0)] * 3, [F(7, 10), F(2, 10), F(1, 10)], [F(0), F(0), F(20)],
                    [F(50), None, None], F(100))
    assert wf.amounts == [F(50), F(30), F(20)]
    assert wf.bound == ["cap", "", "floor"]
    assert sum(wf.amounts) == 100


def test_water_fill_infeasible_lists_both_sides():
    with pytest.raises(SpecError, match="floors sum to 120"):
        water_fill([F(0)] * 2, [F(1, 2)] * 2, [F(60), F(60)], [None, None], F(100))
    with pytest.raises(SpecError, match="caps sum to 80"):
        water_fill([F(0)] * 2, [F(1, 2)] * 2, [F(0), F(0)], [F(40), F(40)], F(100))


def test_engine_floor_cap_binding_reported(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    assert sum(a.core.amounts) == 19_000
    assert all(x >= 200 for x in a.core.amounts)
    assert a.amounts["370772"] >= 300
    assert max(a.core.amounts) <= 4750
    a.check()


def test_base_plus_factor_and_hold_harmless():
    codes = ["A", "B", "C"]
    last = {"A": 5000, "B": 3000, "C": 2000}
    spec = make_spec({"x": 100}, base={"share_of_last_year": 0.5},
                     constraints={"hold_harmless": 0.9})
    a = allocate(spec, table({"x": [1, 1, 8]}, codes), last_year=last)
    # base 2500/1500/1000, increment 5000 × (0.1, 0.1, 0.8) → 3000, 2000, 5000
    # hold-harmless 90%: A ≥ 4500, B ≥ 2700 → water-filling lowers C
    assert a.core.amounts == [4500, 2700, 2800]
    assert a.bound_units == {"floor": ["A", "B"], "cap": []}
    assert list(a.table["change_wan"][:3]) == [-500.0, -300.0, 800.0]


def test_rounding_unit_and_residual_method():
    codes = ["A", "B", "C"]
    t = table({"x": [1, 1, 1]}, codes)
    a = allocate(make_spec({"x": 100}, total=1000, rounding={"unit_wan": 10}), t)
    assert a.core.amounts == [340, 330, 330]
    b = allocate(make_spec({"x": 100}, total=1000,
                           rounding={"method": "largest_recipient"}), t)
    assert b.core.amounts == [334, 333, 333]


def test_missing_rules_applied_and_logged():
    codes = ["A", "B", "C"]
    d = make_table({"x": [10, None, 30], "y": [1, 2, None], "z": [5, 5, None]}, codes)
    prev = make_table({"x": [10, 20, 30], "y": [1, 2, 3], "z": [5, 5, 5]}, codes, year=2023)
    import pandas as pd
    t = read_factors(pd.concat([prev, d]))
    spec = make_spec({"x": 50, "y": 30, "z": 20},
                     missing={"x": "carry_forward", "y": "impute_share", "z": "zero"})
    a = allocate(spec, t)
    v = a.inputs.values
    assert v["x"] == [10, 20, 30]
    # y: C keeps its 2023 share 3/6 → y_C = (1/2)·(1+2)/(1−1/2) = 3
    assert v["y"] == [1, 2, 3]
    assert v["z"] == [5, 5, 0]
    kinds = sorted(a.audit["log"]["kind"])
    assert kinds == ["missing:carry_forward", "missing:impute_share", "missing:zero"]
    ex = allocate(make_spec({"x": 100}, missing={"x": "exclude_unit"}),
                  table({"x": [1, None, 3]}, codes))
    assert ex.codes == ["A", "C"] and "B" in ex.inputs.excluded
    assert ex.table.set_index("unit_code").loc["B", "amount_wan"] == 0
    assert ex.table.iloc[-1]["amount_wan"] == 10_000


def test_unit_of_measure_conversion_and_mismatch():
    codes = ["A", "B"]
    t = table({"rev": [1, 2]}, codes, uom={"rev": "亿元"})
    with pytest.raises(SpecError) as e:
        allocate(_uom_spec(convert=False), t)
    assert "亿元" in str(e.value) and "万元" in str(e.value) and "convert" in str(e.value)
    a = allocate(_uom_spec(convert=True), t)
    assert a.inputs.values["rev"] == [10_000, 20_000]


def _uom_spec(convert: bool):
    from evalkit.allocation import spec_from_dict
    f = {"id": "rev", "name": "营收", "weight": 100, "direction": "+", "transform": "share",
         "unit_of_measure": "万元"}
    if convert:
        f["convert"] = {"亿元": 10000}
    return spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100, "factors": [f]})


def test_bad_inputs_one_error_listing_every_problem():
    codes = ["A", "B", "C"]
    d = make_table({"x": [1, -2, 3], "y": [1, None, 2], "g": [5, 6, 7]}, codes,
                   uom={"g": "亿元"})
    from evalkit.allocation import spec_from_dict
    spec = spec_from_dict({
        "fund": "f", "year": 2025, "total_wan": 100,
        "factors": [{"id": "x", "name": "x", "weight": 40, "transform": "share"},
                    {"id": "y", "name": "y", "weight": 40, "transform": "share"},
                    {"id": "g", "name": "g", "weight": 20, "transform": "share",
                     "unit_of_measure": "万元"}],
        "constraints": {"floor_wan": {"default": 10, "ZZZ": 5}},
    })
    with pytest.raises(SpecError) as e:
        allocate(spec, read_factors(d))
    msg = str(e.value)
    assert len(e.value.problems) == 4, msg
    assert "ZZZ" in msg                          # unknown unit code
    assert "unit B has no value for factor `y`" in msg   # missing with rule error
    assert "negative" in msg and "B" in msg        # negative value under a share
    assert "亿元" in msg                           # unit of measure
    assert "nothing was computed or written" in msg


def test_spec_and_data_file_problems_reported_together(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("fund: f\nyear: 2025\ntotal_wan: 100\nfactors:\n"
                    "  - {id: x, name: x, weight: 90, transform: share}\n", encoding="utf-8")
    fac = tmp_path / "f.csv"
    fac.write_text("year,unit_code,factor_id,value,status\n2024,A,x,1,bogus\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        allocate(spec, fac)
    text = str(e.value)
    assert len(e.value.problems) == 2
    assert "weights sum to 90" in text and "bogus" in text


def test_every_kind_of_bad_input_in_one_error(tmp_path):
    # weights ≠ 100, a negative value under share, an unknown code, a missing value with rule
    # error, infeasible floors and a wrong unit of measure: all six listed together
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "fund: f\nyear: 2025\ntotal_wan: 100\nfactors:\n"
        "  - {id: x, name: x, weight: 50, transform: share}\n"
        "  - {id: y, name: y, weight: 40, transform: share, unit_of_measure: 万元}\n"
        "constraints:\n  floor_wan: {default: 40, \"Q\": 1}\n", encoding="utf-8")
    d = make_table({"x": [1, -2, None], "y": [1, 2, 3]}, ["A", "B", "C"], uom={"y": "亿元"})
    out = tmp_path / "out"
    with pytest.raises(SpecError) as e:
        allocate(spec, read_factors(d))
    text = str(e.value)
    for part in ("weights sum to 90", "negative", "unknown unit code `Q`",
                 "unit C has no value for factor `x`", "floors sum to 120", "亿元 but the spec"):
        assert part in text, part
    assert not out.exists()


def test_infeasible_constraints_listed_with_data_problems():
    spec = make_spec({"x": 100}, total=100,
                     constraints={"floor_wan": {"default": 40, "Q": 1}})
    with pytest.raises(SpecError) as e:
        allocate(spec, table({"x": [1, 2, 3]}, ["A", "B", "C"]))
    assert len(e.value.problems) == 2
    assert "unknown unit code `Q`" in str(e.value) and "floors sum to 120" in str(e.value)


def test_infeasible_floors_raise_not_clip():
    spec = make_spec({"x": 100}, total=100, constraints={"floor_wan": 40})
    with pytest.raises(SpecError, match="floors sum to 120"):
        allocate(spec, table({"x": [1, 2, 3]}, ["A", "B", "C"]))
    spec = make_spec({"x": 100}, total=100, constraints={"cap_share": 0.3})
    with pytest.raises(SpecError, match="caps sum to 90"):
        allocate(spec, table({"x": [1, 2, 3]}, ["A", "B", "C"]))


def test_inputs_hash_and_version_in_audit(demo_case):
    spec, t = demo_case
    a = allocate(spec, t)
    assert len(a.inputs_hash) == 64 and a.audit["inputs_sha256"] == a.inputs_hash
    assert a.audit["evalkit_version"]
    b = allocate(spec, read_factors(t.data.assign(value=t.data["value"].where(
        ~((t.data["unit_code"] == "370702") & (t.data["factor_id"] == "rev")), 1.0))))
    assert b.inputs_hash != a.inputs_hash
    for key in ("raw_values", "shares", "contributions", "vectors", "log"):
        assert key in a.audit
    vec = a.audit["vectors"]
    assert list(vec.index) == sorted(WEIFANG)
    assert (vec["amount"] == vec["rounded_down"] + vec["rounding_added"]).all()


def test_last_year_required_when_used():
    spec = make_spec({"x": 100}, base={"share_of_last_year": 0.5})
    with pytest.raises(SpecError, match="last year"):
        allocate(spec, table({"x": [1, 2]}, ["A", "B"]))


def test_wide_table_with_chinese_headers(tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text("年份,单位代码,单位名称,rev (万元),inv\n2024,370702,潍城区,100,5\n"
                 "2024,370703,寒亭区,300,5\n", encoding="utf-8")
    t = read_factors(p)
    assert set(t.data["factor_id"]) == {"rev", "inv"}
    assert t.data.loc[t.data["factor_id"] == "rev", "unit_of_measure"].tolist() == ["万元"] * 2
    assert t.names["370702"] == "潍城区"
    a = allocate(make_spec({"rev": 50, "inv": 50}, total=800), t)
    assert a.core.amounts == [300, 500]


def test_numeric_codes_in_excel_become_text(tmp_path):
    import pandas as pd
    df = pd.DataFrame({"year": [2024, 2024], "unit_code": [370702.0, 370703.0],
                       "factor_id": ["x", "x"], "value": [1, 3]})
    p = tmp_path / "f.xlsx"
    df.to_excel(p, index=False)
    t = read_factors(p)
    assert sorted(t.data["unit_code"]) == ["370702", "370703"]
    assert any("370702" in n for n in t.notes)


def test_factor_table_errors_name_rows(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("year,unit_code,factor_id,value,status\n2024,A,x,1,reported\n"
                 "20x4,B,x,2,oops\n2024,A,x,3,reported\n", encoding="utf-8")
    with pytest.raises(EvalkitError) as e:
        read_factors(p)
    msg = str(e.value)
    assert "row 3" in msg and "oops" in msg and "duplicate" in msg


def test_template_spec_loads():
    from importlib import resources

    from evalkit.allocation import load_spec
    path = resources.files("evalkit.allocation").joinpath("templates/spec_template.yaml")
    s = load_spec(str(path))
    assert s.t_alloc == 19_000 and s.exclude == ("WF-Z-ZBQ",)
    assert s.floor_units == {"370772": 300} and not s.notes  # quoted code: no note


def test_performance_grades_from_factor_table():
    import pandas as pd
    codes = ["A", "B", "C"]
    d = make_table({"x": [1, 1, 1]}, codes)
    g = pd.DataFrame({"year": 2024, "unit_code": codes[:2], "factor_id": "grade",
                      "value": ["优", "差"], "unit_of_measure": "", "source": "绩效评价",
                      "status": "reported"})
    t = read_factors(pd.concat([d, g]))
    perf = {"source_factor": "grade", "map": {"优": 1.2, "良": 1.0, "差": 0.6}}
    with pytest.raises(SpecError, match="unit C has no performance grade"):
        allocate(make_spec({"x": 100}, total=280, performance=perf), t)
    a = allocate(make_spec({"x": 100}, total=280, performance={**perf, "default": "良"}), t)
    assert a.inputs.grade == ["优", "差", "良"]
    assert a.core.amounts == [120, 60, 100]  # 280 × (1.2, 0.6, 1.0)/2.8
    assert list(a.audit["log"]["kind"]) == ["grade_default"]


def test_units_include_exclude_and_unknown():
    codes = ["A", "B", "C", "D"]
    t = table({"x": [1, 2, 3, 4]}, codes)
    a = allocate(make_spec({"x": 100}, total=100, units={"exclude": ["D"]}), t)
    assert a.codes == ["A", "B", "C"] and a.core.amounts == [17, 33, 50]
    b = allocate(make_spec({"x": 100}, total=100, units={"include": ["B", "C"]}), t)
    assert b.codes == ["B", "C"] and b.core.amounts == [40, 60]
    with pytest.raises(SpecError, match="unknown unit code `Q`"):
        allocate(make_spec({"x": 100}, units={"include": ["A", "Q"]}), t)


def test_zscore_and_per_capita_transforms_by_hand():
    from decimal import Decimal
    codes = ["A", "B", "C"]
    t = table({"g": [1, 2, 6], "y": [10, 10, 40], "pop": [1, 2, 4]}, codes)
    spec = make_spec({"g": 100}, transforms={"g": "zscore_shift"}, total=1000)
    a = allocate(spec, t)
    # mean 3, population sd sqrt(14/3); scores (x − min)/sd + 0.01 → shares
    sd = (Decimal(14) / Decimal(3)).sqrt()
    sc = [Decimal(0) / sd + Decimal("0.01"), Decimal(1) / sd + Decimal("0.01"),
          Decimal(5) / sd + Decimal("0.01")]
    want = [float(x / sum(sc)) for x in sc]
    assert [float(v) for v in a.core.z["g"]] == pytest.approx(want, abs=1e-15)
    from evalkit.allocation import spec_from_dict
    pc = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 1000, "factors": [
        {"id": "y", "name": "y", "weight": 100, "transform": "per_capita",
         "population_factor": "pop"}]})
    b = allocate(pc, t)
    assert b.core.z["y"] == [F(2, 5), F(1, 5), F(2, 5)]  # 10, 5, 10 per head
    assert b.core.amounts == [400, 200, 400]


def test_demo_data_formula_amounts_consistent_with_panel():
    # data_raw/demo: factor_fund_wan = formula amount + a non-negative discretionary top-up
    from pathlib import Path

    import pandas as pd
    root = Path(__file__).resolve().parents[2] / "data_raw" / "demo"
    if not (root / "allocation" / "factors.csv").exists():
        pytest.skip("demo data not generated")
    f = read_factors(root / "allocation" / "factors.csv")
    panel = pd.read_csv(root / "county_panel.csv", dtype={"unit_code": str})
    specs = sorted((root / "allocation").glob("spec_*.yaml"))
    assert specs
    for p in specs:
        a = allocate(p, f)
        got = panel[(panel.year == a.spec.year) & (panel.in_weifang == 1)].set_index(
            "unit_code")["factor_fund_wan"]
        assert sum(a.amounts.values()) == a.core.t_alloc
        for c, amt in a.amounts.items():
            assert got[c] >= amt
