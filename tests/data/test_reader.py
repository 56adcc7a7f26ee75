"""The one input reader: encodings, title rows, empty and header-only files, every caller.

Tolerances: none (text and exact small numbers are compared exactly).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from evalkit._shared.exceptions import InputFileError
from evalkit.allocation import read_factors, read_last_year
from evalkit.allocation.spec import load_spec
from evalkit.data import load_city_indicators, read_table
from evalkit.data.reader import decode_bytes, find_header_row, read_raw_table, read_text

DEMO = Path(__file__).resolve().parents[2] / "data_raw" / "demo"
TABLE = "单位代码,因素,数值\n370702,gdp,1.5\n370703,gdp,2\n"


def _w(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("encoding,label,note", [
    ("utf-8", "utf-8", None),
    ("utf-8-sig", "utf-8-sig", "byte-order mark"),
    ("gb18030", "gb18030", "GB18030"),
    ("gbk", "gb18030", "GB18030"),
    ("utf-16", "utf-16", "UTF-16"),
])
def test_encodings_detected_and_said(tmp_path, encoding, label, note):
    notes: list[str] = []
    t = read_raw_table(_w(tmp_path, "t.csv", TABLE.encode(encoding)), notes=notes)
    assert list(t.columns) == ["单位代码", "因素", "数值"]
    assert t.attrs["encoding"] == label
    assert list(t.index) == [2, 3] and t.index.name == "line"
    assert t.loc[3, "数值"] == "2"
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0] and "t.csv" in notes[0]


def test_undecodable_text_is_refused_naming_the_file(tmp_path):
    # \x80 alone is invalid in UTF-8 and GB18030 (a lead byte range starts at \x81)
    p = _w(tmp_path, "bad.csv", b"a,b\n\x80,\xff\n")
    with pytest.raises(InputFileError, match=re.escape(f"{p}: 不是 UTF-8 或 GB18030/GBK")) as e:
        read_raw_table(p)
    assert "save it as 'CSV UTF-8'" in str(e.value)


@pytest.mark.parametrize("content,zh,en", [
    (b"", "文件为空（0 字节）", "the file is empty (0 bytes)"),
    (b"\n\n  \n", "文件为空（没有任何内容）", "the file is empty (no cells at all)"),
    (b",,\n,,\n", "文件为空（没有任何内容）", "the file is empty (no cells at all)"),
    ("单位代码,数值\n".encode(), "只有表头（第 1 行），没有数据行", "has a header row (line 1) but no data rows"),
    ("单位代码,数值\n,\n\n".encode(), "只有表头（第 1 行），没有数据行", "has a header row (line 1) but no data rows"),
])
def test_empty_and_header_only_csv_refused(tmp_path, content, zh, en):
    p = _w(tmp_path, "empty.csv", content)
    with pytest.raises(InputFileError) as e:
        read_raw_table(p)
    msg = str(e.value)
    assert str(p) in msg and zh in msg and en in msg
    assert msg.startswith("无法读取输入文件 / Cannot read the input file")


def test_header_only_xlsx_and_empty_parquet_refused(tmp_path):
    wb = Workbook()
    wb.active.append(["年份", "单位代码"])
    wb.save(tmp_path / "h.xlsx")
    with pytest.raises(InputFileError, match="has a header row \\(line 1\\) but no data rows"):
        read_raw_table(tmp_path / "h.xlsx")
    pd.DataFrame({"year": pd.Series([], dtype=int)}).to_parquet(tmp_path / "e.parquet")
    with pytest.raises(InputFileError, match="has no data rows"):
        read_raw_table(tmp_path / "e.parquet")


def _title_workbook(path: Path, rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "因素"
    ws.append(["2024年潍坊市因素数据表"])
    ws.merge_cells("A1:C1")
    ws.append([None, None, "单位：万元"])
    ws.append([])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_header_found_under_title_rows(tmp_path):
    p = _title_workbook(tmp_path / "t.xlsx", [["单位代码", "因素", "数值"], [370702, "gdp", 1.5],
                                              [None, None, None], ["370703", "gdp", 2]])
    notes: list[str] = []
    t = read_raw_table(p, is_known={"单位代码"}, notes=notes)
    assert list(t.columns) == ["单位代码", "因素", "数值"]
    assert t.attrs["header_line"] == 4
    assert list(t.index) == [5, 7]  # file lines; the blank line 6 is skipped with a note
    assert t.loc[5, "单位代码"] == 370702 and t.loc[5, "数值"] == 1.5  # workbook values kept
    assert notes[0] == ("t.xlsx: header row found on line 4; lines 1-3 above it skipped as title rows "
                        "(2024年潍坊市因素数据表 | 单位：万元)")
    assert notes[1] == "t.xlsx: 1 empty line(s) skipped (lines 6)"


def test_csv_title_rows_without_known_headers():
    rows = [["表1 因素数据"], [None, None, "单位：万元"], ["a", "b", "c"], ["1", "2", "3"]]
    assert find_header_row(rows) == 2
    assert find_header_row([[None], [None]]) is None


def test_xlsx_missing_sheet_and_foreign_files(tmp_path):
    p = _title_workbook(tmp_path / "t.xlsx", [["单位代码", "数值"], ["370702", 1]])
    with pytest.raises(InputFileError, match="has no sheet 'Sheet9' \\(sheets: 因素\\)"):
        read_raw_table(p, sheet_name="Sheet9")
    renamed = _w(tmp_path, "t.csv", p.read_bytes())
    with pytest.raises(InputFileError, match="this is an Excel workbook \\(xlsx\\), not a text file; rename"):
        read_raw_table(renamed)
    with pytest.raises(InputFileError, match="unsupported file type '.xls'"):
        read_raw_table(_w(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0"))
    with pytest.raises(InputFileError, match="file not found; check the path"):
        read_raw_table(tmp_path / "nope.csv")


def test_read_text_encodings_and_empty(tmp_path):
    notes: list[str] = []
    assert read_text(_w(tmp_path, "s.yaml", "fund: 资金\n".encode("gb18030")), notes=notes) == "fund: 资金\n"
    assert "GB18030" in notes[0]
    assert read_text(_w(tmp_path, "b.yaml", "fund: 资金\n".encode("utf-8-sig"))) == "fund: 资金\n"
    with pytest.raises(InputFileError, match="the file is empty; fill it in"):
        read_text(_w(tmp_path, "e.yaml", b"  \n"))
    assert decode_bytes("潍坊".encode("gbk")) == ("潍坊", "gb18030")


# ---- every caller goes through the reader -------------------------------------------------

def test_panel_reader_finds_header_under_title(tmp_path):
    src = read_table(DEMO / "county_panel.csv").reset_index(drop=True).head(3)
    wb = Workbook()
    ws = wb.active
    ws.append(["山东省县域工业面板（演示）"])
    ws.append(list(src.columns))
    for row in src.itertuples(index=False):
        ws.append(list(row))
    wb.save(tmp_path / "panel.xlsx")
    t = read_table(tmp_path / "panel.xlsx")
    assert list(t.index) == [3, 4, 5]
    assert any("header row found on line 2" in n for n in t.attrs["read_notes"])
    assert t["revenue_wan"].tolist() == pytest.approx(src["revenue_wan"].tolist())


def test_city_indicators_gb18030(tmp_path):
    text = (DEMO / "city_indicators.csv").read_text(encoding="utf-8")
    p = _w(tmp_path, "city_indicators.csv", text.encode("gb18030"))
    df = load_city_indicators(p)
    assert len(df) == len(load_city_indicators(DEMO))
    assert any("GB18030" in n for n in df.attrs["read_notes"])


def test_factor_table_gb18030_and_title_rows(tmp_path):
    demo = read_factors(DEMO / "allocation" / "factors.csv")
    text = (DEMO / "allocation" / "factors.csv").read_text(encoding="utf-8")
    gb = read_factors(_w(tmp_path, "factors.csv", text.encode("gb18030")))
    assert gb.sha256() == demo.sha256()
    titled = _w(tmp_path, "titled.csv", ("2024年因素数据表,,\n" + text).encode("gb18030"))
    t = read_factors(titled)
    assert t.sha256() == demo.sha256()
    assert any("header row found on line 2" in n for n in t.notes)


def test_factor_errors_name_file_lines_under_title_rows(tmp_path):
    p = _w(tmp_path, "f.csv", "因素数据\n年份,单位代码,因素代码,数值\n2024,370702,gdp,1\nxx,370703,gdp,2\n"
           .encode())
    with pytest.raises(Exception, match=re.escape("f.csv 第 4 行 / row 4: year='xx'")):
        read_factors(p)


def test_empty_factor_table_and_spec_refused(tmp_path):
    with pytest.raises(InputFileError, match="factors.csv: 文件为空"):
        read_factors(_w(tmp_path, "factors.csv", b""))
    with pytest.raises(InputFileError, match="has a header row \\(line 1\\) but no data rows"):
        read_factors(_w(tmp_path, "h.csv", b"year,unit_code,factor_id,value\n"))
    with pytest.raises(InputFileError, match="spec.yaml: 文件为空"):
        load_spec(_w(tmp_path, "spec.yaml", b"\n"))


def test_spec_gb18030(tmp_path):
    text = (DEMO / "allocation" / "spec.yaml").read_text(encoding="utf-8")
    spec = load_spec(_w(tmp_path, "spec.yaml", text.encode("gb18030")))
    assert spec.t_alloc == load_spec(DEMO / "allocation" / "spec.yaml").t_alloc


def test_last_year_amounts_gb18030_with_title(tmp_path):
    p = _w(tmp_path, "last.csv", "上年分配表\n单位代码,金额\n370702,100\n370703,50.5\n合计,150.5\n"
           .encode("gb18030"))
    got = read_last_year(p)
    assert {k: float(v) for k, v in got.items()} == {"370702": 100.0, "370703": 50.5}


def test_evalkit_allocate_reads_gb18030_inputs(tmp_path, capsys):
    from evalkit.cli import main

    alloc = DEMO / "allocation"
    spec = _w(tmp_path, "spec.yaml", (alloc / "spec.yaml").read_text(encoding="utf-8").encode("gb18030"))
    fac = _w(tmp_path, "factors.csv", (alloc / "factors.csv").read_text(encoding="utf-8").encode("gb18030"))
    code = main(["allocate", str(spec), "--factors", str(fac), "--out", str(tmp_path / "out"),
                 "--no-sensitivity"])
    assert code == 0, capsys.readouterr().err
    assert any(p.suffix == ".xlsx" for p in (tmp_path / "out").iterdir())
    assert "GB18030" in capsys.readouterr().err  # the encoding is said among the notes


@pytest.mark.parametrize("spec_bytes,factor_bytes,expect", [
    (None, b"", "factors.csv: 文件为空（0 字节）"),
    (None, b"year,unit_code,factor_id,value\n", "factors.csv: 只有表头（第 1 行），没有数据行"),
    (b"", None, "spec.yaml: 文件为空"),
])
def test_evalkit_allocate_empty_inputs_exit_2_without_traceback(tmp_path, capsys, spec_bytes,
                                                                factor_bytes, expect):
    from evalkit.cli import main

    alloc = DEMO / "allocation"
    spec = _w(tmp_path, "spec.yaml", (alloc / "spec.yaml").read_bytes() if spec_bytes is None else spec_bytes)
    fac = _w(tmp_path, "factors.csv", (alloc / "factors.csv").read_bytes() if factor_bytes is None
             else factor_bytes)
    code = main(["allocate", str(spec), "--factors", str(fac), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert expect in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_evalkit_allocate_overflowing_total_and_infinite_factor_exit_2(tmp_path, capsys):
    from evalkit.cli import main

    alloc = DEMO / "allocation"
    spec_text = (alloc / "spec.yaml").read_text(encoding="utf-8")
    big = _w(tmp_path, "big.yaml", re.sub(r"total_wan: \d+", "total_wan: 1e20", spec_text).encode())
    assert main(["allocate", str(big), "--factors", str(alloc / "factors.csv"), "--out",
                 str(tmp_path / "o1")]) == 2
    err = capsys.readouterr().err
    assert "big.yaml:" in err and "`total_wan`" in err and "was it written in 元?" in err
    assert "Traceback" not in err and not (tmp_path / "o1").exists()

    lines = (alloc / "factors.csv").read_text(encoding="utf-8").splitlines()
    spec = load_spec(alloc / "spec.yaml")
    k = next(i for i, ln in enumerate(lines) if ln.startswith(f"{spec.data_year},"))
    cells = lines[k].split(",")
    cells[3] = "inf"
    lines[k] = ",".join(cells)
    fac = _w(tmp_path, "factors.csv", ("\n".join(lines) + "\n").encode())
    assert main(["allocate", str(alloc / "spec.yaml"), "--factors", str(fac), "--out",
                 str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert f"factors.csv 第 {k + 1} 行 / row {k + 1}: value='inf'" in err and "is not a finite number" in err
    assert "Traceback" not in err and not (tmp_path / "o2").exists()


def test_evalkit_allocate_reads_xlsx_factor_table_with_title_rows(tmp_path, capsys):
    from evalkit.cli import main

    alloc = DEMO / "allocation"
    table = pd.read_csv(alloc / "factors.csv", dtype=str, keep_default_na=False)
    rows = [list(table.columns)] + [[int(v) if c in ("year", "unit_code") and v.isdigit() else v
                                     for c, v in zip(table.columns, r, strict=True)]
                                    for r in table.itertuples(index=False)]
    path = _title_workbook(tmp_path / "factors.xlsx", rows)
    code = main(["allocate", str(alloc / "spec.yaml"), "--factors", str(path), "--out", str(tmp_path / "out"),
                 "--no-sensitivity"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "header row found on line 4" in captured.err
    csv_out = next((tmp_path / "out").glob("*.csv"))
    ref_dir = tmp_path / "ref"
    assert main(["allocate", str(alloc / "spec.yaml"), "--factors", str(alloc / "factors.csv"), "--out",
                 str(ref_dir), "--no-sensitivity"]) == 0
    assert csv_out.read_bytes() == next(ref_dir.glob("*.csv")).read_bytes()
