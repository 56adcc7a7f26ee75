"""Every validation problem, each from a bad file, with the exact message text.

Tolerances: none (messages are compared verbatim; line numbers are 1-based file lines with the
header on line 1).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from evalkit._shared.exceptions import PanelDataError
from evalkit.data import CodeRecodedWarning, load_panel, read_table, validate_panel

HEADER = ("unit_code,year,revenue_wan,pilot_zone,first_unit_year,first_unit,tech_subsidy_wan,"
          "factor_fund_wan\n")
GOOD = [
    "370702,2020,100,0,2019,1,0,0",
    "370702,2021,110,1,2019,1,5,0",
    "370102,2020,90,0,0,0,0,0",
    "370102,2021,95,0,0,0,0,0",
]


def _write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "panel.csv") -> Path:
    p = tmp_path / name
    p.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def _problems(path: Path, **kw) -> list[str]:
    with pytest.raises(PanelDataError) as info:
        load_panel(path, **kw)
    return info.value.problems


def test_good_file_loads(tmp_path):
    df = load_panel(_write(tmp_path, GOOD))
    assert list(df["unit_code"]) == ["370102", "370102", "370702", "370702"]
    assert df["year"].dtype == "int64"
    assert df.attrs["synthetic"] is False
    rep = df.attrs["validation"]
    assert rep.ok and rep.n_rows == 4 and rep.n_units == 2 and rep.years == (2020, 2021)
    # identifiers filled from the master
    assert df.loc[df.unit_code == "370702", "name_zh"].iloc[0] == "潍城区"
    assert df.loc[df.unit_code == "370702", "in_weifang"].iloc[0] == 1


def test_duplicate_unit_year(tmp_path):
    rows = GOOD + ["370702,2021,111,1,2019,1,5,0"]
    assert _problems(_write(tmp_path, rows)) == [
        "duplicate unit-year 370702/2021 in lines 3, 6: keep one row per unit and year "
        "(remove or aggregate the duplicates)"]


def test_unknown_unit_code(tmp_path):
    rows = GOOD + ["379999,2020,5,0,0,0,0,0", "379999,2021,5,0,0,0,0,0"]
    assert _problems(_write(tmp_path, rows)) == [
        "unknown unit code '379999' in lines 6, 7: use a code of the unit master "
        "(evalkit.data.unit_master(): GB/T 2260 codes such as '370702' or zone ids such as "
        "'WF-Z-GXQ'; old codes are recoded through evalkit.data.crosswalk())"]


def test_missing_and_non_numeric(tmp_path):
    rows = list(GOOD)
    rows[1] = "370702,2021,,1,2019,1,5,0"
    rows[3] = "370102,2021,95,0,0,0,n/a?,0"
    assert _problems(_write(tmp_path, rows)) == [
        "column 'revenue_wan' has 1 missing value(s) in line 3: fill them in (use 0 only where "
        "the true value is 0)",
        "column 'tech_subsidy_wan' has non-numeric values in line 5 (e.g. 'n/a?'): write plain numbers",
    ]


def test_negative_amount(tmp_path):
    rows = list(GOOD)
    rows[2] = "370102,2020,90,0,0,0,-3,0"
    assert _problems(_write(tmp_path, rows)) == [
        "column 'tech_subsidy_wan' has negative values in line 4: amounts cannot be negative; "
        "correct the sign or the source"]


def test_year_outside_range(tmp_path):
    assert _problems(_write(tmp_path, GOOD), start_year=2021, end_year=2025) == [
        "year(s) 2020 outside the requested range 2021..2025 in lines 2, 4: remove those rows or "
        "widen start_year/end_year"]


def test_cohort_contradicts_indicator(tmp_path):
    rows = list(GOOD)
    rows[0] = "370702,2020,100,0,2019,0,0,0"
    assert _problems(_write(tmp_path, rows)) == [
        "first_unit contradicts first_unit_year in line 2: first_unit must be 1 exactly when "
        "year >= first_unit_year > 0; correct the cohort year or the indicator"]


def test_absorbing_switches_off(tmp_path):
    rows = GOOD + ["370702,2022,120,0,2019,1,5,0"]
    assert _problems(_write(tmp_path, rows)) == [
        "pilot_zone switches off in unit 370702: on from 2021 but 0 in 2022 (line 6); it is "
        "absorbing (stays 1 once on): correct the flag"]


def test_required_column_missing_and_flag_values(tmp_path):
    header = "unit_code,year,revenue_wan,pilot_zone,first_unit_year,tech_subsidy_wan\n"
    rows = ["370702,2020,100,2,0,0"]
    probs = _problems(_write(tmp_path, rows, header=header))
    assert probs == [
        "required column 'factor_fund_wan' (因素法分配资金) is missing: add it under one of the "
        "accepted headers (factor_fund_wan, 因素法分配资金, 因素法资金, 因素法分配, 分配资金, "
        "factor_fund, factor_allocation); see data_raw/README.md",
        "column 'pilot_zone' must be 0 or 1 but is not in line 2",
    ]


def test_every_problem_at_once_and_report_attached(tmp_path):
    rows = GOOD + ["370702,2021,111,1,2019,1,5,0", "379999,2020,5,0,0,0,-1,0"]
    with pytest.raises(PanelDataError) as info:
        load_panel(_write(tmp_path, rows), end_year=2021)
    err = info.value
    assert len(err.problems) == 3
    assert str(err).startswith(f"{tmp_path / 'panel.csv'}: 面板数据有 3 个问题，未载入 / 3 problem(s) in the panel; nothing was loaded")
    assert err.report.problems == err.problems
    assert err.report.to_frame()["kind"].tolist().count("problem") == 3


def test_blank_cohort_read_as_zero_and_reported(tmp_path):
    rows = list(GOOD)
    rows[2] = "370102,2020,90,0,,0,0,0"
    rows[3] = "370102,2021,95,0,,0,0,0"
    df = load_panel(_write(tmp_path, rows))
    rep = df.attrs["validation"]
    assert df.loc[df.unit_code == "370102", "first_unit_year"].tolist() == [0, 0]
    assert "first_unit_year is blank in 2 row(s) (lines 4, 5): read as 0 = never treated" in rep.notes
    rec = rep.recoded_frame()
    assert rec["row"].tolist() == [4, 5] and set(rec["column"]) == {"first_unit_year"}


def test_crosswalk_recoding_reported(tmp_path):
    rows = ["371202,2018,100,0,0,0,0,0", "370116,2019,110,0,0,0,0,0"]
    with pytest.warns(CodeRecodedWarning, match=re.escape("1 row(s) with old unit codes recoded")):
        df = load_panel(_write(tmp_path, rows))
    assert df["unit_code"].tolist() == ["370116", "370116"]
    assert df["name_zh"].tolist() == ["莱芜区", "莱芜区"]
    rec = df.attrs["validation"].recoded_frame()
    assert rec.to_dict("records") == [{"row": 2, "column": "unit_code", "old": "371202", "new": "370116",
                                       "reason": "莱城区 → 莱芜区 (prefecture_merge, 2019)"}]


def test_merged_units_become_duplicates_with_hint(tmp_path):
    rows = ["370684,2019,100,0,0,0,0,0", "370634,2019,10,0,0,0,0,0"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CodeRecodedWarning)
        probs = _problems(_write(tmp_path, rows))
    assert probs == ["duplicate unit-year 370614/2019 in lines 2, 3: some of these rows were recoded "
                     "from old codes of merged units; sum the merged units' amounts into one row "
                     "before loading"]


def test_in_memory_frame_rows_named_by_index(tmp_path):
    df = read_table(_write(tmp_path, GOOD)).reset_index(drop=True)
    df.loc[1, "revenue_wan"] = -1.0
    with pytest.raises(PanelDataError, match=re.escape("has negative values in row 1:")):
        validate_panel(df)
    out = validate_panel(df, raise_on_error=False)
    assert not out.attrs["validation"].ok


def test_cohort_varies_within_unit(tmp_path):
    rows = list(GOOD)
    rows[1] = "370702,2021,110,1,2021,1,5,0"
    assert _problems(_write(tmp_path, rows)) == [
        "first_unit_year varies within unit 370702 (2019, 2021) in lines 2, 3: the cohort is the "
        "unit's first treated year and must be the same in every row"]


def test_unknown_code_hints(tmp_path):
    rows = GOOD + ["370706,2020,5,0,0,0,0,0", "370700,2020,500,0,0,0,0,0"]
    probs = _problems(_write(tmp_path, rows))
    assert probs[0].endswith("; 370706 is an ad-hoc local code that some systems use for "
                             "WF-Z-GXQ (高新区): if so, write that id")
    assert probs[1].endswith("; it looks like a prefecture or province total: the panel holds "
                             "county-level units only")
