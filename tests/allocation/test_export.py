"""Exports (xlsx/csv/json/method sheet), determinism and the command line.

Tolerances: none (bytes and integers).
"""

from __future__ import annotations

import hashlib
import json

import openpyxl
import pytest
from conftest import make_table

from evalkit.allocation import allocate
from evalkit.allocation.cli import main as cli_main

SPEC = """\
fund: 技术改造专项资金
year: 2025
total_wan: 20000
reserve_wan: 1000
factors:
  - {id: rev, name: 规上工业营业收入, weight: 60, direction: +, transform: share, unit_of_measure: 万元}
  - {id: cap, name: 人均财力, weight: 40, direction: -, transform: inverse_share}
constraints:
  floor_wan: {default: 200, 370772: 3000}
  cap_share: 0.4
missing: {default: error}
"""
CODES = ["370702", "370703", "370772", "WF-Z-GXQ"]


@pytest.fixture
def files(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    fac = tmp_path / "factors.csv"
    make_table({"rev": [500_000, 900_000, 120_000, 2_000_000], "cap": [1.2, 0.8, 2.5, 3.0]},
               CODES, uom={"rev": "万元", "cap": "万元/人"}).to_csv(fac, index=False)
    return spec, fac


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_excel_workbook_contents_and_determinism(files, tmp_path):
    spec, fac = files
    a = allocate(spec, fac)
    p1 = a.to_excel(tmp_path / "a.xlsx")
    p2 = allocate(spec, fac).to_excel(tmp_path / "b.xlsx")
    assert _sha(p1) == _sha(p2)  # byte-identical across runs
    wb = openpyxl.load_workbook(p1)
    assert wb.sheetnames == ["附件1 分配表", "附件2 测算说明", "明细", "因素数据", "因素贡献", "敏感性",
                             "权重扰动", "指标", "审计"]
    ws = wb["附件1 分配表"]
    assert ws.freeze_panes == "C5"
    assert a.inputs_hash[:16] in ws.oddFooter.right.text
    header = [c.value for c in ws[4]]
    assert header[:3] == ["序号", "单位名称", "单位代码"]
    amt = header.index("分配金额") + 1
    names = [ws.cell(row=r, column=2).value for r in range(5, 5 + len(CODES) + 3)]
    amounts = [ws.cell(row=r, column=amt).value for r in range(5, 5 + len(CODES) + 3)]
    assert all(isinstance(x, int) for x in amounts)
    assert names[-1] == "合计" and amounts[-1] == 19_000
    assert sum(x for x, n in zip(amounts, names, strict=True) if "计" not in n) == 19_000
    method = "\n".join(str(c.value) for c in wb["附件2 测算说明"]["A"] if c.value)
    assert "预留 1,000 万元" in method and "规上工业营业收入" in method and "权重 60%" in method


def test_csv_json_deterministic_and_complete(files, tmp_path):
    spec, fac = files
    a = allocate(spec, fac)
    a.to_csv(tmp_path / "a.csv")
    allocate(spec, fac).to_csv(tmp_path / "b.csv")
    assert _sha(tmp_path / "a.csv") == _sha(tmp_path / "b.csv")
    data = json.loads(a.to_json())
    assert data["t_alloc_wan"] == 19_000
    assert data["inputs_sha256"] == a.inputs_hash
    assert data["table"][-1]["unit_code"] == "合计"
    assert set(data["audit"]["vectors"]) >= {"composite", "share", "continuous", "amount",
                                             "remainder", "floor", "cap"}


def test_method_sheet_states_rules(files):
    spec, fac = files
    a = allocate(spec, fac)
    zh = a.method_sheet("zh")
    assert "测算说明" in zh and "19,000 万元" in zh
    assert "保底 200 万元（潍坊滨海经济技术开发区 3,000 万元）" in zh
    assert "最大余额法" in zh and a.inputs_hash in zh
    assert "触及保底的单位：潍坊滨海经济技术开发区" in zh
    en = a.method_sheet("en")
    assert "largest_remainder" in en and "370772" in en


def test_cli_writes_everything(files, tmp_path):
    spec, fac = files
    out = tmp_path / "out"
    assert cli_main(["allocate", str(spec), "--factors", str(fac), "--out", str(out),
                     "--no-sensitivity"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["allocation_2025.csv", "allocation_2025.json", "allocation_2025.xlsx",
                     "allocation_2025_公开版.xlsx", "allocation_2025_图1_因素贡献.png",
                     "allocation_2025_图表说明.txt", "allocation_2025_测算说明.txt"]
    spec_b = tmp_path / "spec_b.yaml"
    spec_b.write_text(SPEC.replace("weight: 60", "weight: 80").replace("weight: 40", "weight: 20")
                      .replace("fund: 技术改造专项资金", "fund: 技术改造专项资金\nname: 方案B"),
                      encoding="utf-8")
    out2 = tmp_path / "cmp"
    assert cli_main(["allocate-compare", str(spec), str(spec_b), "--factors", str(fac),
                     "--out", str(out2)]) == 0
    assert (out2 / "comparison.csv").exists() and (out2 / "方案B.xlsx").exists()


def test_cli_bad_input_writes_nothing(files, tmp_path, capsys):
    spec, fac = files
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.replace("weight: 40", "weight: 30"), encoding="utf-8")
    out = tmp_path / "out"
    assert cli_main(["allocate", str(bad), "--factors", str(fac), "--out", str(out)]) == 2
    assert not out.exists()
    assert "weights sum to 90" in capsys.readouterr().err
    # data problem (unit of measure) → also nothing written, and no temp folder left behind
    fac2 = tmp_path / "f2.csv"
    fac2.write_text(fac.read_text(encoding="utf-8").replace("万元,test", "亿元,test"),
                    encoding="utf-8")
    assert cli_main(["allocate", str(spec), "--factors", str(fac2), "--out", str(out)]) == 2
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".alloc-")]


def test_charts_render(files, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    spec, fac = files
    a = allocate(spec, fac)
    for fig, name in ((a.plot_waterfall("370702"), "wf.png"), (a.plot_attribution(), "at.png"),
                      (a.map(), "map.png")):
        fig.savefig(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 5_000


def test_cli_last_year_roundtrip_from_own_csv(files, tmp_path):
    spec, fac = files
    out = tmp_path / "y1"
    assert cli_main(["allocate", str(spec), "--factors", str(fac), "--out", str(out),
                     "--no-sensitivity", "--charts", "none", "--stem", "prev"]) == 0
    hh = tmp_path / "hh.yaml"
    hh.write_text(SPEC.replace("cap_share: 0.4", "cap_share: 0.4\n  hold_harmless: 0.9")
                  .replace("total_wan: 20000", "total_wan: 19000"), encoding="utf-8")
    out2 = tmp_path / "y2"
    assert cli_main(["allocate", str(hh), "--factors", str(fac), "--last-year",
                     str(out / "prev.csv"), "--out", str(out2), "--no-sensitivity",
                     "--charts", "none"]) == 0
    import pandas as pd
    prev = pd.read_csv(out / "prev.csv", dtype={"unit_code": str}, encoding="utf-8-sig")
    cur = pd.read_csv(out2 / "allocation_2025.csv", dtype={"unit_code": str},
                      encoding="utf-8-sig")
    merged = prev.merge(cur, on="unit_code", suffixes=("_prev", "_cur"))
    body = merged[merged.unit_code != "合计"]
    assert (body["amount_wan_cur"] >= 0.9 * body["amount_wan_prev"] - 1e-9).all()
    assert (body["last_year_wan_cur"] == body["amount_wan_prev"]).all()
    assert cur.iloc[-1]["amount_wan"] == 18_000
