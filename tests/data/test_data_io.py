"""Readers: Chinese/English header aliases, unit conversion, codes as text, XLSX and Parquet.

Tolerances: unit conversions are exact up to float rounding (rtol 1e-12).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import PanelDataError
from evalkit.data import load_panel, read_table
from evalkit.data.schema import SCHEMA, match_header

ZH = ("代码,年份,营业收入(亿元),规上工业增加值（万元）,试验区,首台套起始年,技改补助(元),因素法资金(万元),"
      "能源消费量(万吨标准煤),常住人口(人)\n"
      "370702,2020,1.5,3000,0,0,250000,0,2.5,650000\n"
      "370702,2021,1.6,3100,1,0,0,0,2.6,652000\n")


def _w(tmp_path: Path, text: str, name: str = "p.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_chinese_headers_and_units(tmp_path):
    df = read_table(_w(tmp_path, ZH))
    assert list(df.columns) == ["unit_code", "year", "revenue_wan", "value_added_wan", "pilot_zone",
                                "first_unit_year", "tech_subsidy_wan", "factor_fund_wan",
                                "energy_tce", "population_10k"]
    np.testing.assert_allclose(df["revenue_wan"], [15000.0, 16000.0], rtol=1e-12)  # 亿元 → 万元
    np.testing.assert_allclose(df["tech_subsidy_wan"], [25.0, 0.0], rtol=1e-12)  # 元 → 万元
    np.testing.assert_allclose(df["energy_tce"], [25000.0, 26000.0], rtol=1e-12)
    np.testing.assert_allclose(df["population_10k"], [65.0, 65.2], rtol=1e-12)
    assert df.index.name == "line" and list(df.index) == [2, 3]
    assert "column '营业收入(亿元)' read as revenue_wan (values × 10000 to convert to 万元)" in df.attrs["read_notes"]


def test_gb18030_csv(tmp_path):
    df = read_table(_w(tmp_path, ZH, encoding="gb18030"))
    assert df["revenue_wan"].iloc[0] == pytest.approx(15000.0)
    assert any("GB18030" in n for n in df.attrs["read_notes"])


@pytest.mark.parametrize("header,expected", [
    ("revenue_yi", ("revenue_wan", "yi")),
    ("revenue_yuan", ("revenue_wan", "yuan")),
    ("revenue_wan", ("revenue_wan", "万元")),
    ("Revenue (100m yuan)", ("revenue_wan", "100myuan")),
    ("规模以上工业企业营业收入（亿元）", ("revenue_wan", "亿元")),
    ("首台套起始年", ("first_unit_year", None)),
    ("county_code", ("unit_code", None)),
    ("something else", (None, None)),
])
def test_match_header(header, expected):
    assert match_header(header) == expected


def test_english_suffix_units(tmp_path):
    text = ("unit_code,year,revenue_yi,tech_subsidy_yuan,factor_fund_wan,pilot_zone,first_unit_year\n"
            "370702,2020,2,10000,5,0,0\n")
    df = read_table(_w(tmp_path, text))
    assert df["revenue_wan"].iloc[0] == pytest.approx(20000.0)
    assert df["tech_subsidy_wan"].iloc[0] == pytest.approx(1.0)
    assert df["factor_fund_wan"].iloc[0] == pytest.approx(5.0)


def test_units_argument_and_missing_unit(tmp_path):
    text = "代码,年份,营业收入,试验区\n370702,2020,2,0\n"
    p = _w(tmp_path, text)
    with pytest.raises(PanelDataError, match=re.escape(
            "column '营业收入' (revenue_wan): the unit of measure is not stated; write it in the header, "
            "e.g. '营业收入(万元)', or pass units={'revenue_wan': '万元'} (accepted: 元/万元/亿元)")):
        read_table(p)
    assert read_table(p, units={"revenue_wan": "亿元"})["revenue_wan"].iloc[0] == pytest.approx(20000.0)
    assert read_table(p, units="亿元")["revenue_wan"].iloc[0] == pytest.approx(20000.0)


def test_header_and_units_conflict(tmp_path):
    p = _w(tmp_path, "unit_code,year,营业收入(亿元)\n370702,2020,1\n")
    with pytest.raises(PanelDataError, match=re.escape(
            "column '营业收入(亿元)': the header says '亿元' but units= says '万元'; remove one of them")):
        read_table(p, units={"revenue_wan": "万元"})


def test_unknown_unit_and_duplicate_headers(tmp_path):
    p = _w(tmp_path, "unit_code,year,营业收入(千元),revenue_wan\n370702,2020,1,2\n")
    with pytest.raises(PanelDataError) as info:
        read_table(p)
    assert info.value.problems == [
        "columns '营业收入(千元)' and 'revenue_wan' both map to 'revenue_wan': keep one of them",
        "column '营业收入(千元)' (revenue_wan): unknown unit '千元'; accepted: 元, yuan, cny, rmb, 万元, "
        "wan, wanyuan, 10kyuan, 10k, 亿元, yi, yiyuan, 100myuan, 100m"]
    p2 = _w(tmp_path, "unit_code,year,营业收入(千元)\n370702,2020,1\n", name="q.csv")
    with pytest.raises(PanelDataError, match=re.escape("unknown unit '千元'; accepted: 元, yuan")):
        read_table(p2)


def test_codes_stay_text(tmp_path):
    text = "unit_code,year,revenue_wan\n370702,2020,1\n370702.0,2021,1\n"
    df = read_table(_w(tmp_path, text))
    assert df["unit_code"].tolist() == ["370702", "370702"]
    assert all(isinstance(v, str) for v in df["unit_code"])
    assert any("trailing '.0'" in n for n in df.attrs["read_notes"])


def _demo_rows() -> pd.DataFrame:
    df = load_panel(Path(__file__).parents[2] / "data_raw" / "demo")
    cols = [c.name for c in SCHEMA]
    return df.loc[df["unit_code"].isin(["370702", "WF-Z-GXQ", "370102"]), cols].reset_index(drop=True)


def test_xlsx_round_trip_chinese_headers(tmp_path):
    ref = _demo_rows()
    zh = {c.name: (f"{c.label_zh}({c.unit})" if c.convertible else c.label_zh) for c in SCHEMA}
    zh["unit_code"] = "代码"
    zh["year"] = "年份"
    out = ref.rename(columns=zh)
    out["营业收入_亿元_check"] = 0  # an extra column is kept, not an error
    path = tmp_path / "county_panel.xlsx"
    out.to_excel(path, index=False)
    back = load_panel(path)
    pd.testing.assert_frame_equal(back[ref.columns].reset_index(drop=True), ref, check_exact=False, rtol=1e-12)
    assert back["unit_code"].dtype == object
    # codes typed as numbers in Excel are read as text, with a note
    num = out[out["代码"] != "WF-Z-GXQ"].copy()
    num["代码"] = num["代码"].astype(int)
    p2 = tmp_path / "num.xlsx"
    num.to_excel(p2, index=False)
    raw = read_table(p2)
    assert raw["unit_code"].iloc[0] == "370102" and raw.index[0] == 2
    assert any("stores codes as numbers in column '代码'" in n for n in raw.attrs["read_notes"])


def test_parquet_round_trip_and_numeric_codes(tmp_path):
    ref = _demo_rows()
    ref.attrs = {}
    path = tmp_path / "county_panel.parquet"
    ref.to_parquet(path, index=False)
    back = load_panel(tmp_path)
    pd.testing.assert_frame_equal(back[ref.columns].reset_index(drop=True), ref, check_exact=False, rtol=1e-12)
    # codes stored as integers are converted to text, with a note
    num = ref[ref["unit_code"] != "WF-Z-GXQ"].copy()
    num["unit_code"] = num["unit_code"].astype(int)
    p2 = tmp_path / "num.parquet"
    num.to_parquet(p2, index=False)
    raw = read_table(p2)
    assert raw["unit_code"].iloc[0] == "370102"
    assert any("stores codes as numbers" in n for n in raw.attrs["read_notes"])
    assert raw.index.name == "record" and raw.index[0] == 1


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(PanelDataError, match=re.escape("unsupported file type '.xls'")):
        read_table(_w(tmp_path, "x", name="a.xls"))
    with pytest.raises(PanelDataError, match="no county_panel.csv, county_panel.xlsx or county_panel.parquet"):
        load_panel(tmp_path)
