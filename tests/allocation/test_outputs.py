"""Outputs a finance bureau signs and publishes: recipients, the 测算表 workbook, comparisons, charts.

Tolerances: none (integers, exact fractions, text); Shapley efficiency is checked exactly.
"""

from __future__ import annotations

import re
from fractions import Fraction as F
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import WEIFANG, make_spec, make_table, table

from evalkit._shared.exceptions import SpecError
from evalkit.allocation import _units, allocate, compare, recipients, shapley, years_view
from evalkit.allocation.cli import main as cli_main
from evalkit.allocation.workbook import text_width

SPEC = """\
fund: 技术改造专项资金
year: 2025
total_wan: 20000
reserve_wan: 1000
stage: 征求意见稿
factors:
  - {id: rev, name: 规上工业营业收入, weight: 60, direction: +, transform: share, unit_of_measure: 万元}
  - {id: inv, name: 工业技改投资额, weight: 40, direction: +, transform: share, unit_of_measure: 万元}
performance:
  grades: {"370702": 优, "370703": 良}
  default: 良
  map: {优: 1.1, 良: 1.0}
constraints:
  floor_wan: {default: 200}
  cap_share: 0.25
"""
RAW = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def _factors(codes=WEIFANG, extra=()):
    rev = [100_000 + 37_000 * i for i in range(len(codes))]
    inv = [20_000 + 5_000 * (i % 5) for i in range(len(codes))]
    d = make_table({"rev": rev, "inv": inv}, list(codes), uom={"rev": "万元", "inv": "万元"})
    rows = [d]
    for code, name in extra:
        rows.append(pd.DataFrame([{"year": 2024, "unit_code": code, "factor_id": f,
                                   "value": 9_999_999, "unit_of_measure": "万元", "source": "t",
                                   "status": "reported", "name_zh": name} for f in ("rev", "inv")]))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def files(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    fac = tmp_path / "factors.csv"
    _factors().to_csv(fac, index=False)
    return spec, fac


# ------------------------------------------------------------------------------------------
# 1. recipients


@pytest.mark.real_master
def test_recipients_come_from_the_unit_master():
    r = recipients(2025)
    assert r == sorted(WEIFANG)
    assert "WF-Z-JKQ" not in r and "370700" not in r


@pytest.mark.real_master
@pytest.mark.parametrize("code,name,expect", [
    ("370700", "潍坊市", "合计/小计或市级汇总行"),
    ("合计", "合计", "合计/小计或市级汇总行"),
    ("370799", "", "未知单位代码 `370799`"),
    ("WF-Z-JKQ", "潍坊经济开发区", "统计数据并入其他单位"),
])
def test_aggregate_and_unknown_rows_refused_naming_rows(tmp_path, code, name, expect):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    fac = tmp_path / "factors.csv"
    _factors(extra=[(code, name)]).to_csv(fac, index=False)
    with pytest.raises(SpecError) as e:
        allocate(spec, fac)
    msg = str(e.value)
    assert expect in msg and f"`{code}" in msg
    # the two rows of that code are named: data rows follow the 2 × 16 unit rows
    assert "第 34, 35 行" in msg
    out = tmp_path / "out"
    assert cli_main(["allocate", str(spec), "--factors", str(fac), "--out", str(out)]) == 2
    assert not out.exists()


@pytest.mark.real_master
def test_merged_zone_is_not_a_recipient_after_its_merge(monkeypatch):
    cw = pd.DataFrame([{"old_code": "WF-Z-ZBQ", "old_name_zh": "潍坊综合保税区",
                        "new_code": "WF-Z-GXQ", "new_name_zh": "潍坊高新技术产业开发区",
                        "effective_year": 2025, "change": "merge", "source": "test"}])
    monkeypatch.setattr(_units, "_crosswalk", lambda: cw)
    assert "WF-Z-ZBQ" in recipients(2024) and "WF-Z-ZBQ" not in recipients(2025)
    spec = make_spec({"rev": 60, "inv": 40})
    with pytest.raises(SpecError, match="已于 2025 年并入"):
        allocate(spec, table({"rev": [1] * 16, "inv": [2] * 16}, WEIFANG))
    spec_units = make_spec({"rev": 60, "inv": 40}, units={"include": ["370702", "WF-Z-ZBQ"]})
    with pytest.raises(SpecError, match="units must be a subset of the recipients"):
        allocate(spec_units, table({"rev": [1, 2], "inv": [2, 1]}, ["370702", "370703"]))


def test_all_zero_unit_is_named_not_the_caps():
    spec = make_spec({"x": 100}, total=100, constraints={"cap_wan": 40})
    with pytest.raises(SpecError) as e:
        allocate(spec, table({"x": [5, 3, 0]}, ["A", "B", "C"]))
    msg = str(e.value)
    assert "单位 C 的综合份额为 0" in msg and "every factor value is 0" in msg
    ok = allocate(make_spec({"x": 100}, total=100, constraints={"floor_wan": 10}),
                  table({"x": [5, 3, 0]}, ["A", "B", "C"]))
    assert ok.amounts["C"] == 10
    assert "只得到保底额" in ok.method_sheet("zh")


def test_rounding_caused_infeasibility_is_explained():
    spec = make_spec({"x": 100}, total=100, constraints={"floor_wan": 33.2})
    with pytest.raises(SpecError) as e:
        allocate(spec, table({"x": [1, 2, 3]}, ["A", "B", "C"]))
    msg = str(e.value)
    assert "floors sum to 102" in msg and "99.60" in msg and "rounding each floor up" in msg


def test_method_sheet_states_caps_actually_applied():
    spec = make_spec({"x": 100}, total=19_001, constraints={"cap_share": 0.25})
    a = allocate(spec, table({"x": [1, 1, 1, 1, 10]}, ["A", "B", "C", "D", "U00"]))
    text = a.method_sheet("zh")
    assert "实际执行的上限（取整后）：各单位 4,750 万元（按规则为 4,750.25 万元，向下取整" in text
    assert "测算无解" in text


# ------------------------------------------------------------------------------------------
# 2. the workbook


def test_result_sheet_is_printable_and_signable(files, tmp_path):
    spec, fac = files
    a = allocate(spec, fac)
    p = a.to_excel(tmp_path / "a.xlsx", sensitivity=False, date="2025年3月1日")
    p2 = allocate(spec, fac).to_excel(tmp_path / "b.xlsx", sensitivity=False, date="2025年3月1日")
    assert p.read_bytes() == p2.read_bytes()
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames[:2] == ["附件1 分配表", "附件2 测算说明"]
    ws = wb["附件1 分配表"]
    assert ws["A1"].value == "附件1"
    assert ws["A2"].value == "技术改造专项资金2025年度分配测算表（征求意见稿）"
    assert ws["A3"].value == "编制日期：2025年3月1日"
    assert "单位：万元" in [c.value for c in ws[3]]
    header = [c.value for c in ws[4]]
    assert header[:3] == ["序号", "单位名称", "单位代码"] and "分配金额" in header
    assert "规上工业营业收入\n（万元）" in header and "绩效系数" in header
    names = [ws.cell(row=r, column=2).value for r in range(5, ws.max_row + 1)]
    i_c, i_z, i_t = names.index("县（市、区）小计"), names.index("开发区小计"), names.index("合计")
    assert i_c == 12 and i_z == 17 and i_t == 18  # 12 counties, subtotal, 4 zones, subtotal, total
    assert names[13] == "潍坊滨海经济技术开发区"  # 370772 is a zone: listed after the counties
    amt = header.index("分配金额") + 1
    col = [ws.cell(row=5 + k, column=amt).value for k in range(i_t + 1)]
    assert col[i_c] == sum(col[:i_c]) and col[i_z] == sum(col[i_c + 1:i_z])
    assert col[i_t] == col[i_c] + col[i_z] == 19_000
    total = ws.cell(row=5 + i_t, column=amt)
    assert total.font.b and total.border.top.style == "medium"
    assert total.number_format == "#,##0"
    flat = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert {"编制：", "审核：", "审批："} <= set(flat)
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$4:$4"
    assert ws.column_dimensions["B"].width >= text_width("潍坊高新技术产业开发区")
    assert ws.cell(row=4, column=1).alignment.wrap_text


def test_no_raw_column_names_and_chinese_formats_on_every_sheet(files, tmp_path):
    spec, fac = files
    p = allocate(spec, fac).to_excel(tmp_path / "a.xlsx", n_draws=300, date="2025年3月1日")
    wb = openpyxl.load_workbook(p)
    assert {"明细", "因素数据", "因素贡献", "敏感性", "权重扰动", "指标", "审计"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        raw = [c.value for row in ws.iter_rows() for c in row
               if isinstance(c.value, str) and RAW.match(c.value)]
        assert not raw, (ws.title, raw)
        assert int(ws.page_setup.paperSize) == 9  # A4
        floats = [c for row in ws.iter_rows() for c in row if isinstance(c.value, float)]
        assert all(c.number_format != "General" for c in floats), ws.title
    pert = [c.value for c in wb["权重扰动"][4] if c.value]
    assert "规上工业营业收入\n+5个百分点" in pert and not any("rev" in h for h in pert)
    sens = wb["敏感性"]
    assert "κ=200" in sens["A2"].value and "P5 与 P95" in sens["A2"].value
    assert "均分基准" in wb["因素贡献"]["A2"].value


def test_public_version_has_no_audit_columns(files, tmp_path):
    spec, fac = files
    p = allocate(spec, fac).to_excel(tmp_path / "pub.xlsx", public=True, date="2025年3月1日")
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["附件1 分配表", "附件2 测算说明"]
    header = [c.value for c in wb["附件1 分配表"][4] if c.value]
    assert header == ["序号", "单位名称", "分配金额"]


def _sheet_table(ws) -> tuple[list[str], dict[str, dict[str, object]]]:
    """Header row (the row after the unit line) and ``{unit name: {header: cell}}``."""
    hr = next(r for r in range(1, 8) if ws.cell(row=r, column=1).value == "单位代码")
    head = [c.value for c in ws[hr]]
    rows = {}
    for r in range(hr + 1, ws.max_row + 1):
        cells = list(ws[r])
        rows[cells[1].value] = {h: c for h, c in zip(head, cells, strict=True)}
    return head, rows


def test_detail_sheet_shows_awards_and_deductions(tmp_path):
    # the hand example of test_formulas.test_awards_and_deductions_by_hand: grw 8.5, 40, 4;
    #   award 500 per point above 5 (cap 10,000): 1750, 10,000, 0; deduction 200 per point below
    #   5 (cap 300): 0, 0, 200; net 1750, 10,000, −200 (Σ 11,550); factor part λ·s with
    #   λ = 30,000 − 11,550 = 18,450 and s = 1/2, 1/3, 1/6: 9225, 6150, 3075
    spec = make_spec({"task": 100}, total=30_000, awards=[
        {"id": "up", "name": "增速奖励", "factor": "grw", "kind": "award", "threshold": 5,
         "per_point_wan": 500, "cap_wan": 10_000},
        {"id": "down", "name": "增速扣减", "factor": "grw", "kind": "deduction", "threshold": 5,
         "per_point_wan": 200, "cap_wan": 300}])
    codes = ["370702", "370703", "370704"]
    a = allocate(spec, table({"task": [300, 200, 100], "grw": ["8.5", 40, 4]}, codes))
    p = a.to_excel(tmp_path / "awards.xlsx", sensitivity=False, date="2025年3月1日")
    ws = openpyxl.load_workbook(p)["明细"]
    head, rows = _sheet_table(ws)
    names = [a.name(c) for c in codes]
    expect = {"奖补依据：增速奖励、增速扣减": [8.5, 40, 4],
              "增速奖励\n（万元）": [1750, 10_000, 0, 11_750],
              "增速扣减\n（万元）": [0, 0, -200, -200],
              "奖补净额\n（万元）": [1750, 10_000, -200, 11_550],
              "因素法金额\n（取整前，万元）": [9225, 6150, 3075, 18_450],
              "取整前金额\n（万元）": [10_975, 16_150, 2875, 30_000]}
    for h, want in expect.items():
        assert h in head, (h, head)
        got = [rows[n][h].value for n in names + ["合计"]][:len(want)]
        assert got == want, h
        assert all(rows[n][h].number_format in ("#,##0", "#,##0.00", "#,##0.##")
                   for n in names), h
    # the award columns come after the shares and before the floors, caps and rounding
    assert head.index("综合份额") < head.index("增速奖励\n（万元）") < head.index("取整前金额\n（万元）")
    assert "奖补" in ws["A2"].value and "扣减为负数" in ws["A2"].value
    assert ws["A2"].value.count("奖补") >= 2
    # the 合计 row names itself once (no unit code), and the totals are bold
    assert rows["合计"]["单位代码"].value in (None, "") and rows["合计"]["增速奖励\n（万元）"].font.b
    # the worked example (non-whole factor parts): the totals still reconcile exactly,
    #   因素法金额合计 = 可分配额 − 奖补净额合计 = 43,500 − 3370
    demo = Path(__file__).resolve().parents[2] / "data_raw" / "demo" / "allocation"
    w = allocate(demo / "formula_awards.yaml", demo / "factors.csv")
    _, wrows = _sheet_table(openpyxl.load_workbook(
        w.to_excel(tmp_path / "w.xlsx", sensitivity=False, date="2025年3月1日"))["明细"])
    tot = wrows["合计"]
    assert tot["奖补净额\n（万元）"].value == 3370
    assert tot["因素法金额\n（取整前，万元）"].value == 43_500 - 3370
    # the signed sheet (附件1) says how much of each amount is 奖补, with subtotals and total;
    #   its publication version does not
    res = openpyxl.load_workbook(p)["附件1 分配表"]
    rhead = [c.value for c in res[4]]
    assert rhead.index("其中：\n奖补净额") == rhead.index("分配金额") - 1
    col = rhead.index("其中：\n奖补净额") + 1
    by_name = {res.cell(row=r, column=2).value: res.cell(row=r, column=col)
               for r in range(5, res.max_row + 1)}
    assert [by_name[n].value for n in names] == [1750, 10_000, -200]
    assert by_name["县（市、区）小计"].value == 11_550 and by_name["合计"].value == 11_550
    assert by_name["合计"].number_format == "#,##0"
    assert any("奖补净额" in str(c.value) and "已含在分配金额中" in str(c.value)
               for row in res.iter_rows() for c in row)
    pub = openpyxl.load_workbook(a.to_excel(tmp_path / "pub.xlsx", public=True,
                                            date="2025年3月1日"))["附件1 分配表"]
    assert "其中：\n奖补净额" not in [c.value for c in pub[4]]
    # a spec without awards has none of these columns
    b = allocate(make_spec({"task": 100}, total=30_000), table({"task": [300, 200, 100]}, codes))
    head_b, _ = _sheet_table(openpyxl.load_workbook(
        b.to_excel(tmp_path / "plain.xlsx", sensitivity=False, date="2025年3月1日"))["明细"])
    assert not any("奖补" in h or "因素法金额" in h for h in head_b)


# ------------------------------------------------------------------------------------------
# 3. comparisons and the multi-year view


def test_compare_b_minus_a_and_percent_with_subtotals(files, tmp_path):
    spec, fac = files
    spec_b = tmp_path / "b.yaml"
    spec_b.write_text(SPEC.replace("weight: 60", "weight: 80").replace("weight: 40", "weight: 20")
                      .replace("fund: 技术改造专项资金", "fund: 技术改造专项资金\nname: 方案B"),
                      encoding="utf-8")
    cmp = compare([spec, spec_b], fac)
    d = cmp.differences()
    a_lab, b_lab = list(cmp.allocations)
    assert list(d.columns) == ["unit_code", "name_zh", "row_kind", a_lab, b_lab,
                               f"{b_lab}−{a_lab}", f"{b_lab}−{a_lab} %"]
    u = d[d.unit_code == "370702"].iloc[0]
    a_amt, b_amt = cmp.allocations[a_lab].amounts["370702"], cmp.allocations[b_lab].amounts["370702"]
    assert u[f"{b_lab}−{a_lab}"] == b_amt - a_amt
    assert u[f"{b_lab}−{a_lab} %"] == pytest.approx((b_amt - a_amt) / a_amt * 100, rel=1e-12)
    assert list(d.row_kind).count("subtotal") == 2 and d.iloc[-1][f"{b_lab}−{a_lab}"] == 0
    out = tmp_path / "cmp"
    assert cli_main(["allocate-compare", str(spec), str(spec_b), "--factors", str(fac),
                     "--out", str(out), "--date", "2025年3月1日"]) == 0
    ws = openpyxl.load_workbook(out / "comparison.xlsx")["方案对比"]
    head = [c.value for c in ws[4]]
    assert head[3:] == [f"B：{b_lab}", "B−A", "增减(%)"]
    assert ws.cell(row=5, column=6).number_format == "0.0%"


def test_compare_lists_every_bad_spec(files, tmp_path):
    spec, fac = files
    bad1, bad2 = tmp_path / "bad1.yaml", tmp_path / "bad2.yaml"
    bad1.write_text(SPEC.replace("weight: 40", "weight: 30"), encoding="utf-8")
    bad2.write_text(SPEC.replace("transform: share, unit_of_measure: 万元}\n  - {id: inv",
                                 "transform: shares, unit_of_measure: 万元}\n  - {id: inv"),
                    encoding="utf-8")
    with pytest.raises(SpecError) as e:
        compare([spec, bad1, bad2], fac)
    msg = str(e.value)
    assert "2 个方案有问题" in msg and "bad1.yaml" in msg and "bad2.yaml" in msg


def test_years_view_against_past_years(files):
    spec, fac = files
    a = allocate(spec, fac)
    hist = {y: {c: 1000.0 + y - 2020 for c in WEIFANG} for y in (2020, 2021, 2022, 2023, 2024)}
    v = years_view(a, hist, n_years=3)
    assert [c for c in v.columns if c.isdigit()] == ["2022", "2023", "2024"]
    row = v[v.unit_code == "370702"].iloc[0]
    assert row["change_last"] == a.amounts["370702"] - 1004.0
    assert row["mean_past"] == pytest.approx(1003.0)
    assert v.iloc[-1]["this_year"] == 19_000


# ------------------------------------------------------------------------------------------
# 4. inputs and 5. sensitivity


def test_cli_year_for_a_wide_table_and_charts(files, tmp_path):
    spec, fac = files
    long = pd.read_csv(fac, dtype={"unit_code": str})
    wide = long.pivot(index="unit_code", columns="factor_id", values="value").reset_index()
    wide.columns = ["单位代码", "inv (万元)", "rev (万元)"]
    wpath = tmp_path / "wide.csv"
    wide.to_csv(wpath, index=False)
    out = tmp_path / "out"
    assert cli_main(["allocate", str(spec), "--factors", str(wpath), "--out", str(out),
                     "--no-sensitivity"]) == 2  # no year column and no --year
    assert not out.exists()
    assert cli_main(["allocate", str(spec), "--factors", str(wpath), "--year", "2024",
                     "--out", str(out), "--date", "2025年3月1日"]) == 0
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["allocation_2025_图1_因素贡献.png", "allocation_2025_图2_金额区间.png"]
    assert all((out / n).stat().st_size > 5_000 for n in pngs)
    assert "均分基准" in (out / "allocation_2025_图表说明.txt").read_text(encoding="utf-8")
    assert (out / "allocation_2025_公开版.xlsx").exists()


def test_shapley_equal_split_baseline_and_coefficient_player(files):
    spec, fac = files
    a = allocate(spec, fac)
    sh = shapley(a, constrained=False)
    assert sh.check()
    assert all(v == F(19_000, 16) for v in sh.v_empty)  # a true equal split, no coefficient
    assert "coefficients" in sh.table.columns and sh.names["coefficients"] == "绩效系数"
    # 370702 is graded 优 (1.1) against 良 elsewhere: the coefficient raises it
    assert sh.table.set_index("unit_code").loc["370702", "coefficients"] > 0
    plain = allocate(make_spec({"rev": 60, "inv": 40}), fac)
    assert "coefficients" not in shapley(plain).table.columns


# ------------------------------------------------------------------------------------------
# the factor-table template


@pytest.mark.real_master
def test_shipped_templates_match_the_generator_and_the_unit_master(tmp_path):
    from importlib import resources

    from evalkit.allocation import load_spec, read_factors
    from evalkit.allocation.template import write_factor_template
    root = resources.files("evalkit.allocation").joinpath("templates")
    for name, example in (("因素数据表模板.xlsx", False), ("因素数据表示例.xlsx", True)):
        fresh = write_factor_template(tmp_path / name, example=example)
        assert fresh.read_bytes() == root.joinpath(name).read_bytes(), name
    wb = openpyxl.load_workbook(tmp_path / "因素数据表模板.xlsx")
    ws = wb["因素数据"]
    assert [c.value for c in ws[1]] == ["年份", "单位代码", "单位名称", "因素代码", "数值", "计量单位",
                                        "来源", "状态"]
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert kinds == {"whole", "list", "decimal"}
    spec = load_spec(root.joinpath("spec_template.yaml").read_text(encoding="utf-8"))
    listed = sorted({ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)})
    assert listed == [c for c in recipients(2025) if c not in spec.exclude]
    a = allocate(spec, read_factors(tmp_path / "因素数据表示例.xlsx"))
    assert sum(a.amounts.values()) == spec.t_alloc
    with pytest.raises(SpecError, match="缺少因素 `rev`"):
        allocate(spec, read_factors(tmp_path / "因素数据表模板.xlsx"))


def test_cli_template_never_overwrites(tmp_path, capsys):
    out = tmp_path / "t.xlsx"
    assert cli_main(["allocate-template", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert cli_main(["allocate-template", "--out", str(out), "--example"]) == 2
    assert out.read_bytes() == before and "未覆盖" in capsys.readouterr().err


@pytest.mark.real_master
def test_cli_history_writes_the_multi_year_view(files, tmp_path):
    spec, fac = files
    hist = tmp_path / "history.csv"
    pd.DataFrame([{"年份": y, "单位代码": c, "分配金额": 1000 + y - 2020} for y in (2022, 2023, 2024)
                  for c in WEIFANG] + [{"年份": 2024, "单位代码": "合计", "分配金额": 16064}]
                 ).to_csv(hist, index=False)
    out = tmp_path / "out"
    assert cli_main(["allocate", str(spec), "--factors", str(fac), "--history", str(hist),
                     "--history-years", "2", "--out", str(out), "--no-sensitivity",
                     "--charts", "none", "--date", "2025年3月1日"]) == 0
    ws = openpyxl.load_workbook(out / "allocation_2025_多年对比.xlsx")["多年对比"]
    head = [c.value for c in ws[4]]
    assert head[:4] == ["单位名称", "2023年", "2024年", "2025年\n（本年）"] and "比上年增减(%)" in head
    names = [ws.cell(row=r, column=1).value for r in range(5, ws.max_row + 1)]
    assert names[-1] == "合计" and "县（市、区）小计" in names and "开发区小计" in names
    # a partial sample table with the absent units named in the method sheet
    part = tmp_path / "part.csv"
    _factors(codes=WEIFANG[:14]).to_csv(part, index=False)
    a = allocate(spec, part)
    assert "未参与本次分配：潍坊峡山生态经济开发区、潍坊综合保税区" in a.method_sheet("zh")


def test_years_view_of_a_pooled_allocation_has_a_subtotal_per_pool():
    demo = Path(__file__).resolve().parents[2] / "data_raw" / "demo" / "allocation"
    a = allocate(demo / "formula_pools.yaml", demo / "factors.csv")
    past = {y: {c: 1000.0 + y - 2020 for c in a.codes} for y in (2022, 2023, 2024)}
    v = years_view(a, past, n_years=2)
    assert [c for c in v.columns if c.isdigit()] == ["2023", "2024"]
    county, zone = (p[2] for p in a.pools)
    assert list(v["unit_code"]) == county.codes + [""] + zone.codes + [""] + ["合计"]
    subs = v[v["row_kind"] == "subtotal"]
    assert list(subs["name_zh"]) == ["县市区小计", "功能区小计"]
    assert list(subs["this_year"]) == [sum(county.amounts.values()), sum(zone.amounts.values())]
    assert list(subs["2024"]) == [1004.0 * len(county.codes), 1004.0 * len(zone.codes)]
    assert v.iloc[-1]["this_year"] == 43_500 and v.iloc[-1]["change_last"] == 43_500 - 16_064


def test_cli_history_and_charts_for_a_pooled_spec(tmp_path, capsys):
    demo = Path(__file__).resolve().parents[2] / "data_raw" / "demo" / "allocation"
    hist = tmp_path / "history.csv"
    pd.DataFrame([{"年份": y, "单位代码": c, "分配金额": 1000 + y - 2020} for y in (2023, 2024)
                  for c in WEIFANG]).to_csv(hist, index=False)
    out = tmp_path / "out"
    assert cli_main(["allocate", str(demo / "formula_pools.yaml"), "--factors",
                     str(demo / "factors.csv"), "--history", str(hist), "--out", str(out),
                     "--no-sensitivity", "--charts", "all", "--date", "2025年3月1日"]) == 0
    assert "not produced" not in capsys.readouterr().err
    ws = openpyxl.load_workbook(out / "allocation_2025_多年对比.xlsx")["多年对比"]
    names = [ws.cell(row=r, column=1).value for r in range(5, ws.max_row + 1)]
    assert "县市区小计" in names and "功能区小计" in names and names[-1] == "合计"
    head = [c.value for c in ws[4]]
    this = head.index("2025年\n（本年）") + 1
    assert ws.cell(row=5 + names.index("合计"), column=this).value == 43_500
    pngs = sorted(p.name for p in out.glob("*.png"))
    for pid in ("county", "zone"):
        assert f"allocation_2025_{pid}_图1_因素贡献.png" in pngs
    # waterfalls for every unit of both pools (16), and one attribution chart per pool
    assert len([p for p in pngs if "_图3_构成_" in p]) == 16 and len(pngs) == 18
    notes = (out / "allocation_2025_图表说明.txt").read_text(encoding="utf-8")
    assert "allocation_2025_county_图1_因素贡献.png" in notes and "zone" in notes
    assert "县市区" in notes and "功能区" in notes


def test_pool_charts_name_the_pool():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    demo = Path(__file__).resolve().parents[2] / "data_raw" / "demo" / "allocation"
    zone = allocate(demo / "formula_pools.yaml", demo / "factors.csv").pools[1][2]
    fig = zone.plot_attribution(heading="功能区")
    assert fig.axes[0].get_title().startswith("功能区：各因素对分配额的贡献")
    fig2 = zone.plot_waterfall("WF-Z-GXQ", heading="功能区")
    assert fig2.axes[0].get_title().startswith("功能区：")
    plt.close("all")


@pytest.mark.slow
def test_result_sheet_prints_on_one_a4_landscape_page(files, tmp_path):
    import shutil
    import subprocess
    if not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdfinfo")):
        pytest.skip("LibreOffice / poppler not installed")
    spec, fac = files
    x = allocate(spec, fac).to_excel(tmp_path / "r.xlsx", sensitivity=False, date="2025年3月1日")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(x)],
                   check=True, capture_output=True, timeout=170)
    pdf = tmp_path / "r.pdf"
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "1", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    w, h = (float(v) for v in re.search(r"Page\s+1 size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(w), round(h)) == (842, 595)  # A4 landscape, points
    page = [subprocess.run(["pdftotext", "-f", str(k), "-l", str(k), "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout for k in (1, 2)]
    for text in ("附件1", "单位：万元", "县（市、区）小计", "开发区小计", "合计", "编制：", "审批：",
                 "潍坊高新技术产业开发区"):
        assert text in page[0], text
    assert "附件2" in page[1] and "附件1" not in page[1]


@pytest.mark.real_master
def test_gb18030_and_title_row_xlsx_through_the_cli(files, tmp_path, capsys):
    spec, fac = files
    d = pd.read_csv(fac, dtype={"unit_code": str}).rename(columns={
        "year": "年份", "unit_code": "单位代码", "factor_id": "因素代码", "value": "数值",
        "unit_of_measure": "计量单位", "source": "来源", "status": "状态"})
    gb = tmp_path / "gb.csv"
    d.to_csv(gb, index=False, encoding="gb18030")
    assert cli_main(["allocate", str(spec), "--factors", str(gb), "--out", str(tmp_path / "g"),
                     "--no-sensitivity", "--charts", "none", "--date", "2025年3月1日"]) == 0
    xlsx = tmp_path / "title.xlsx"
    bad = pd.concat([d, pd.DataFrame([{**d.iloc[0].to_dict(), "单位代码": "370700"}])])
    with pd.ExcelWriter(xlsx) as xw:
        pd.DataFrame([["潍坊市因素数据表（2024年）"]]).to_excel(xw, index=False, header=False)
        bad.to_excel(xw, index=False, startrow=2)
    out = tmp_path / "x"
    assert cli_main(["allocate", str(spec), "--factors", str(xlsx), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # title on line 1, header on line 3, 32 unit rows on lines 4-35: the city row is line 36
    assert "第 36 行" in err and "`370700" in err and not out.exists()
    ok = tmp_path / "ok.xlsx"
    with pd.ExcelWriter(ok) as xw:
        pd.DataFrame([["潍坊市因素数据表（2024年）"]]).to_excel(xw, index=False, header=False)
        d.to_excel(xw, index=False, startrow=2)
    assert cli_main(["allocate", str(spec), "--factors", str(ok), "--out", str(tmp_path / "y"),
                     "--no-sensitivity", "--charts", "none", "--date", "2025年3月1日"]) == 0
    same = [(tmp_path / k / "allocation_2025.csv").read_bytes() for k in ("g", "y")]
    assert same[0] == same[1]


def test_stage_is_checked_and_printed(files, tmp_path):
    from evalkit.allocation import load_spec
    spec, fac = files
    with pytest.raises(SpecError, match="invalid stage '草稿'"):
        load_spec(SPEC.replace("stage: 征求意见稿", "stage: 草稿"))
    p = allocate(spec, fac).to_excel(tmp_path / "s.xlsx", sensitivity=False, stage="定稿",
                                     date="2025年3月1日")
    assert openpyxl.load_workbook(p)["附件1 分配表"]["A2"].value.endswith("（定稿）")
