"""Checks before any notebook runs: missing unit-years, rows after --year, year typos, jumps,
header typos, reported_within, infinite values; the evidence command refuses with exit 2.

Tolerances: none (counts, codes and exact sums of the demo panel's 2-decimal values; the
Weifang total is compared with rtol 1e-12).
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import PanelDataError
from evalkit.data import ImplausibleValueWarning, active_units, load_panel, weifang_total
from evalkit.data.checks import missing_unit_years, typo_problems, year_ranges
from evalkit.report.notebook import coverage_note

DEMO = Path(__file__).resolve().parents[2] / "data_raw" / "demo"


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return pd.read_csv(DEMO / "county_panel.csv", dtype=str, keep_default_na=False)


def _write(tmp_path: Path, rows: pd.DataFrame, synthetic: bool = False) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    rows.to_csv(folder / "county_panel.csv", index=False)
    if synthetic:
        (folder / "SYNTHETIC").write_text("synthetic\n")
    return folder


def _line(rows: pd.DataFrame, unit: str, year: int) -> int:
    return int(rows.index[(rows["unit_code"] == unit) & (rows["year"] == str(year))][0]) + 2


def test_balanced_demo_passes_and_rows_after_year_are_set_aside(demo_rows, tmp_path):
    panel = load_panel(_write(tmp_path, demo_rows), year=2024)
    rep = panel.attrs["validation"]
    assert int(panel["year"].max()) == 2024 and not panel.attrs["unbalanced"]
    assert len(rep.set_aside) == 140 and set(rep.set_aside["year"]) == {2025.0}
    note = next(n for n in rep.notes if n.startswith("rows after --year 2024 set aside"))
    assert "2025 (140 rows)" in note and f"lines {_line(demo_rows, '370102', 2025)}," in note
    assert rep.warnings == [] and rep.ok


def test_missing_unit_years_refused_naming_units_and_years(demo_rows, tmp_path):
    drop = (demo_rows["unit_code"] == "370702") & demo_rows["year"].isin(["2019", "2020"])
    drop |= (demo_rows["unit_code"] == "WF-Z-GXQ") & (demo_rows["year"] == "2023")
    folder = _write(tmp_path, demo_rows[~drop])
    with pytest.raises(PanelDataError) as e:
        load_panel(folder, year=2025)
    msg = str(e.value)
    assert "3 unit-year(s) of 2 unit(s) missing" in msg
    assert "370702 潍城区: 2019-2020; WF-Z-GXQ 潍坊高新技术产业开发区: 2023" in msg
    assert "--allow-missing" in msg
    panel = load_panel(folder, year=2025, allow_missing=True)
    assert panel.attrs["unbalanced"]
    miss = panel.attrs["validation"].missing
    assert list(zip(miss["unit_code"], miss["year"], strict=True)) == [("370702", 2019), ("370702", 2020),
                                                                      ("WF-Z-GXQ", 2023)]
    assert coverage_note(panel, "en").startswith("This page uses an unbalanced panel: 3 unit-year(s) of 2 unit(s)")
    assert "缺少 3 个单位-年份" in coverage_note(panel, "zh")


def test_data_ending_before_year_says_so(demo_rows, tmp_path):
    folder = _write(tmp_path, demo_rows[demo_rows["year"] != "2025"])
    with pytest.raises(PanelDataError, match=re.escape("no rows at all for 2025: bring the data through --year")):
        load_panel(folder, year=2025)


def test_zone_expected_from_its_first_year():
    assert "WF-Z-ZBQ" not in set(active_units(2010)["unit_code"])
    assert "WF-Z-ZBQ" in set(active_units(2011)["unit_code"])
    assert len(active_units(2012)) == 140
    panel = pd.DataFrame({"unit_code": ["370702"] * 2, "year": [2010, 2011]})
    miss = missing_unit_years(panel, first=2010, last=2011)
    zbq = miss.loc[miss["unit_code"] == "WF-Z-ZBQ", "year"].tolist()
    assert zbq == [2011]  # not expected before its founding year


def test_year_typo_refused(demo_rows, tmp_path):
    rows = demo_rows.copy()
    i = rows.index[(rows["unit_code"] == "370705") & (rows["year"] == "2021")][0]
    rows.loc[i, "year"] = "2041"
    with pytest.raises(PanelDataError) as e:
        load_panel(_write(tmp_path, rows), year=2025)
    msg = str(e.value)
    assert (f"year 2041 is far outside the data's years 2012-2025 (line {i + 2}; unit 370705): a typo?"
            in msg)
    assert "370705 奎文区: 2021" in msg  # the typo also leaves 2021 missing: both said at once


def test_jump_warned_naming_unit_year(demo_rows, tmp_path):
    rows = demo_rows.copy()
    i = rows.index[(rows["unit_code"] == "370724") & (rows["year"] == "2019")][0]
    rows.loc[i, "revenue_wan"] = str(float(rows.loc[i, "revenue_wan"]) * 100)  # a slip by two digits
    with pytest.warns(ImplausibleValueWarning, match=r"revenue_wan of 370724 in 2019 \(\d+(\.\d+)?×\)"):
        panel = load_panel(_write(tmp_path, rows), year=2025)
    w = panel.attrs["validation"].warnings
    assert len(w) == 1 and f"line {i + 2}" in w[0]
    assert "warning" in set(panel.attrs["validation"].to_frame()["kind"])


def test_typo_column_refused_with_suggestion(demo_rows, tmp_path):
    rows = demo_rows.rename(columns={"value_added_wan": "value_aded_wan"})
    with pytest.raises(PanelDataError, match=re.escape(
            "column 'value_aded_wan' is not a schema column: did you mean 'value_added_wan'?")):
        load_panel(_write(tmp_path, rows), year=2025)
    ok = load_panel(_write(tmp_path, demo_rows.rename(columns={"rd_wan": "extra_rd_wan_old"})), year=2025)
    assert "extra_rd_wan_old" in ok.columns
    assert typo_problems(["备注", "source_note", "unit_code"]) == []
    assert "did you mean 'first_unit_year'" in typo_problems(["first_unit_yaer"])[0]


def test_reported_within_counted_once(demo_rows, tmp_path):
    rows = demo_rows.copy()
    rows["reported_within"] = np.where(rows["unit_code"] == "WF-Z-ZBQ", "370703", "")
    panel = load_panel(_write(tmp_path, rows), year=2025)
    rep = panel.attrs["validation"]
    assert any(n.startswith("WF-Z-ZBQ is reported within 370703") for n in rep.notes)
    wf = panel[(panel["in_weifang"] == 1) & (panel["year"] == 2025)]
    expect = wf.loc[wf["unit_code"] != "WF-Z-ZBQ", "revenue_wan"].sum()
    assert weifang_total(panel, "revenue_wan").loc[2025] == pytest.approx(expect, rel=1e-12)
    plain = load_panel(DEMO, year=2025)
    assert weifang_total(plain, "revenue_wan").loc[2025] == pytest.approx(
        plain.loc[(plain["in_weifang"] == 1) & (plain["year"] == 2025), "revenue_wan"].sum(), rel=1e-12)
    rows["reported_within"] = np.where(rows["unit_code"] == "WF-Z-ZBQ", "WF-Z-ZBQ", "")
    with pytest.raises(PanelDataError, match="reported_within of WF-Z-ZBQ is WF-Z-ZBQ"):
        load_panel(_write(tmp_path, rows), year=2025)


def test_unit_reported_within_host_is_pointed_out(demo_rows, tmp_path):
    extra = demo_rows[demo_rows["unit_code"] == "370703"].head(1).assign(unit_code="WF-Z-JKQ")
    with pytest.raises(PanelDataError, match=re.escape("WF-Z-JKQ (潍坊经济开发区) is reported within 370703")):
        load_panel(_write(tmp_path, pd.concat([demo_rows, extra])), year=2025)


def test_infinite_value_refused(demo_rows, tmp_path):
    rows = demo_rows.copy()
    rows.loc[5, "rd_wan"] = "inf"
    with pytest.raises(PanelDataError, match="column 'rd_wan' is infinite in line 7"):
        load_panel(_write(tmp_path, rows), year=2025)


def test_year_ranges():
    assert year_ranges([2012, 2013, 2015]) == "2012-2013, 2015"


# ---- the evidence command: refused before any notebook, exit 2 -----------------------------

def test_evidence_refuses_missing_unit_years_before_any_notebook(demo_rows, tmp_path, capsys):
    from evalkit.cli import main

    folder = _write(tmp_path, demo_rows[~((demo_rows["unit_code"] == "370702") & (demo_rows["year"] == "2019"))])
    out = tmp_path / "pack"
    code = main(["evidence", "--year", "2025", "--data", str(folder), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "370702 潍城区: 2019" in err and "--allow-missing" in err and "Traceback" not in err
    assert not out.exists() and not any(p.name.startswith(".pack.") for p in tmp_path.iterdir())


def test_evidence_prints_jump_warnings_on_stderr(demo_rows, tmp_path, capsys, monkeypatch):
    import evalkit.pipeline.build as pipeline

    rows = demo_rows.copy()
    i = rows.index[(rows["unit_code"] == "370724") & (rows["year"] == "2019")][0]
    rows.loc[i, "revenue_wan"] = str(float(rows.loc[i, "revenue_wan"]) * 100)
    folder = _write(tmp_path, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the pipeline prints them once instead of warning
        assert pipeline._inspect_data(folder, 2025, None, True) is False
    err = capsys.readouterr().err
    assert "evalkit: warning / 警告: 数值异常跳变 / implausible jump: revenue_wan of 370724 in 2019" in err


@pytest.mark.parametrize("flag", [[], ["--allow-missing"]])
def test_evidence_allow_missing_flag_reaches_validation(demo_rows, tmp_path, monkeypatch, flag):
    import evalkit.pipeline.build as pipeline

    seen = {}

    def fake(data_path, year, synthetic, check_data, allow_missing=False):
        seen["allow_missing"] = allow_missing
        raise pipeline.EvalkitError("stop here")

    monkeypatch.setattr(pipeline, "_inspect_data", fake)
    from evalkit.cli import main

    src = tmp_path / "d"
    shutil.copytree(DEMO, src)
    assert main(["evidence", "--year", "2025", "--data", str(src), "--out", str(tmp_path / "o"), "--quiet",
                 *flag]) == 2
    assert seen["allow_missing"] is bool(flag)


def test_notebook_start_says_unbalanced_and_balanced_names_left_out_units(demo_rows, tmp_path, monkeypatch):
    import IPython.display

    from evalkit import report

    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(getattr(obj, "data", str(obj))))
    drop = (demo_rows["unit_code"] == "370702") & (demo_rows["year"] == "2019")
    nb = report.notebook.start(_write(tmp_path, demo_rows[~drop]), year=2025, language="zh")
    assert nb.panel.attrs["unbalanced"] and len(nb.panel) == 140 * 14 - 1
    assert any("本页基于不平衡面板：缺少 1 个单位-年份" in s for s in shown)
    bal = nb.balanced()
    assert "370702" not in set(bal["unit_code"]) and bal.attrs["left_out_units"] == ["370702"]
    assert any("以下缺年的单位未纳入：370702 潍城区" in s for s in shown)
    full = report.notebook.start(DEMO, year=2025, language="en", display_banner=False)
    assert full.balanced() is full.panel


@pytest.mark.parametrize("content,expect", [
    (b"", "county_panel.csv: 文件为空（0 字节）"),
    ("代码,年份,营业收入(万元)\n".encode("gb18030"), "county_panel.csv: 只有表头（第 1 行），没有数据行"),
])
def test_evidence_refuses_empty_panel_file(tmp_path, capsys, content, expect):
    from evalkit.cli import main

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "county_panel.csv").write_bytes(content)
    code = main(["evidence", "--year", "2025", "--data", str(folder), "--out", str(tmp_path / "pack"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err


def test_whole_column_in_yuan_refused_and_yi_warned(demo_rows, tmp_path):
    rows = demo_rows.copy()
    rows["revenue_wan"] = (rows["revenue_wan"].astype(float) * 1e4).astype(str)  # every value in 元
    with pytest.raises(PanelDataError, match=re.escape("column 'revenue_wan' exceeds 1,000,000,000 (about the "
                                                       "whole of Shandong)")):
        load_panel(_write(tmp_path, rows), year=2025)
    rows = demo_rows.copy()
    rows["revenue_wan"] = (rows["revenue_wan"].astype(float) / 1e4).astype(str)  # every value in 亿元
    with pytest.warns(ImplausibleValueWarning, match="revenue_wan per above-scale firm is below 1,000 万元"):
        load_panel(_write(tmp_path, rows), year=2025)
