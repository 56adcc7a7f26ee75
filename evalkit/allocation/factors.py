"""Factor tables (因素数据表): reading CSV/XLSX, long or wide, Chinese or English headers.

The canonical long form has the columns ``year, unit_code, factor_id, value, unit_of_measure,
source, status`` with ``status`` in {reported, revised, imputed, missing}. Unit codes are always
text; a code stored as a number in a spreadsheet (``370702.0``) is turned back into ``"370702"``
and reported in :attr:`FactorTable.notes`.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._shared.exceptions import PanelDataError
from ..data.reader import read_raw_table
from ._units import is_aggregate

LONG_COLUMNS = ("year", "unit_code", "factor_id", "value", "unit_of_measure", "source", "status")
STATUSES = ("reported", "revised", "imputed", "missing")
_STATUS_ALIASES = {"上报": "reported", "报送": "reported", "修订": "revised", "估算": "imputed",
                   "插补": "imputed", "缺失": "missing", "": "reported"}

HEADER_ALIASES = {
    "year": ("year", "年份", "年度", "数据年度"),
    "unit_code": ("unit_code", "code", "单位代码", "地区代码", "区划代码", "代码"),
    "factor_id": ("factor_id", "factor", "因素", "因素代码", "指标代码", "指标"),
    "value": ("value", "数值", "值", "数据"),
    "unit_of_measure": ("unit_of_measure", "uom", "计量单位", "计量单位名称"),
    "source": ("source", "来源", "数据来源"),
    "status": ("status", "状态", "数据状态"),
    "name_zh": ("name_zh", "name", "单位名称", "地区", "名称"),
}
_LOOKUP = {alias.lower(): canon for canon, aliases in HEADER_ALIASES.items() for alias in aliases}
_UOM_IN_HEADER = re.compile(r"^(?P<id>[^\[\(（]+?)\s*[\[\(（](?P<uom>[^\]\)）]+)[\]\)）]\s*$")


@dataclass
class FactorTable:
    """A validated long factor table.

    Attributes
    ----------
    data : DataFrame
        Columns ``year, unit_code, factor_id, value, unit_of_measure, source, status``; ``value``
        is numeric (or a grade text for a performance factor) and missing cells are NaN.
    source : str
        File name (or ``"<DataFrame>"``).
    notes : list of str
        Things changed while reading (numeric codes turned into text ...).
    names : dict
        ``{unit_code: name_zh}`` when the file carries a name column.
    rows : dict
        ``{(year, unit_code): [file row numbers]}`` (1 = the header row), so messages about a unit
        can name the rows to fix.

    Examples
    --------
    >>> from evalkit.allocation import FactorTable, read_factors
    >>> ft = read_factors("data_raw/demo/allocation/factors.csv")
    >>> isinstance(ft, FactorTable), ft.source
    (True, 'factors.csv')
    """

    data: pd.DataFrame
    source: str = "<DataFrame>"
    notes: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    rows: dict[tuple[int, str], list[int]] = field(default_factory=dict)

    def rows_of(self, code: str, year: int | None = None) -> list[int]:
        """File row numbers holding ``code`` (in ``year`` when given)."""
        return sorted({r for (y, c), rs in self.rows.items() for r in rs
                       if c == code and (year is None or y == year)})

    def canonical_csv(self) -> str:
        """Sorted CSV text of the table: the data part of the inputs hash."""
        d = self.data.sort_values(["year", "unit_code", "factor_id"], kind="mergesort")
        return d.to_csv(index=False, lineterminator="\n")

    def sha256(self) -> str:
        """SHA-256 of :meth:`canonical_csv`."""
        return hashlib.sha256(self.canonical_csv().encode("utf-8")).hexdigest()

    def lookup(self, year: int, factor_id: str) -> dict[str, Any]:
        """``{unit_code: row}`` for one data year and factor (rows have ``value``,
        ``unit_of_measure``, ``source``, ``status`` attributes); built once, then cached."""
        idx = self.__dict__.get("_index")
        if idx is None:
            idx = {}
            d = self.data
            for row in d.itertuples(index=False):
                idx.setdefault((int(row.year), row.factor_id), {})[row.unit_code] = row
            self.__dict__["_index"] = idx
        return idx.get((int(year), factor_id), {})

    def years(self) -> list[int]:
        """Years present in the table."""
        return sorted(int(y) for y in self.data["year"].unique())

    def wide(self, year: int) -> pd.DataFrame:
        """Unit × factor table of values for one data year (NaN where missing)."""
        d = self.data[self.data["year"] == year]
        return d.pivot(index="unit_code", columns="factor_id", values="value")


def _code_text(v: Any) -> tuple[str | None, bool]:
    """Return (code text, changed?) for a cell of the unit_code column."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None, False
    if isinstance(v, bool):
        return str(v), True
    if isinstance(v, int):
        return str(v), True
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v)), True
        return repr(v), True
    s = str(v).strip()
    if re.fullmatch(r"\d+\.0+", s):
        return s.split(".")[0], True
    return s, False


def _canonical_headers(df: pd.DataFrame) -> pd.DataFrame:
    ren = {}
    for c in df.columns:
        key = str(c).strip().lower()
        if key in _LOOKUP:
            ren[c] = _LOOKUP[key]
    return df.rename(columns=ren)


def read_factors(path: str | Path | pd.DataFrame, *, sheet: str | int | None = 0,
                 year: int | None = None, format: str = "auto") -> FactorTable:
    """Read a factor table from CSV, XLSX or a DataFrame.

    Parameters
    ----------
    path : str, Path or DataFrame
        The file (``.csv``, ``.xlsx``) or a frame.
    sheet : str or int, optional
        Excel sheet (default the first).
    year : int, optional
        For a wide table without a ``year`` column: the data year of its values.
    format : {"auto", "long", "wide"}
        ``auto`` treats a table with ``factor_id`` and ``value`` columns as long, else wide.
        In a wide table every column other than year / unit_code / name is a factor; a header
        like ``rev (万元)`` or ``rev[万元]`` carries the unit of measure.

    Returns
    -------
    FactorTable

    Raises
    ------
    PanelDataError
        Listing every problem (missing columns, non-numeric values, duplicates, bad status),
        each with the row numbers of the file, in Chinese and English.

    Examples
    --------
    >>> from evalkit.allocation import read_factors
    >>> ft = read_factors("data_raw/demo/allocation/factors.csv")
    >>> ft.data.columns.tolist()[:4]
    ['year', 'unit_code', 'factor_id', 'value']
    """
    notes: list[str] = []
    if isinstance(path, pd.DataFrame):
        raw = path.copy()
        source = "<DataFrame>"
    else:
        p = Path(path)
        source = p.name
        if not p.is_file():
            raise PanelDataError([f"找不到因素数据文件 / factor file not found: {p}"],
                                 header="因素数据无法读取 / Factor data cannot be read")
        # the shared reader: encodings, title rows above the header, empty files (issue 19)
        raw = read_raw_table(p, sheet_name=sheet if sheet is not None else 0, is_known=lambda h: h.lower() in _LOOKUP,
                             na_values=["", "NA", "NaN", "nan", "缺失"], notes=notes)
        raw.index = raw.index - 2  # messages say row i + 2: make that the file line
    raw = _canonical_headers(raw)
    is_long = {"factor_id", "value"} <= set(raw.columns)
    if format == "long" or (format == "auto" and is_long):
        df, names = _from_long(raw, source, notes)
    elif format in ("wide", "auto"):
        df, names = _from_wide(raw, source, notes, year)
    else:
        raise PanelDataError([f"format={format!r} 无效 / invalid; 允许/allowed: auto, long, wide"])
    rows: dict[tuple[int, str], list[int]] = {}
    for y, c, r in zip(df["year"], df["unit_code"], df.pop("_row"), strict=True):
        rows.setdefault((int(y), c), []).append(int(r))
    return FactorTable(data=df, source=source, notes=notes, names=names, rows=rows)


def _fix_codes(df: pd.DataFrame, source: str, notes: list[str], problems: list[str]) -> None:
    codes = []
    changed = []
    names = df["name_zh"] if "name_zh" in df.columns else pd.Series("", index=df.index)
    for i, v in zip(df.index, df["unit_code"], strict=True):
        c, ch = _code_text(v)
        row = df.at[i, "_row"] if "_row" in df.columns else i + 2
        if c is None and is_aggregate("", str(names[i]) if isinstance(names[i], str) else ""):
            problems.append(f"{source} 第 {row} 行 / row {row}: “{names[i]}”是合计/小计行，不是受益单位；"
                            "请删除该行（合计由 evalkit 计算）/ a total/subtotal row, not a recipient; "
                            "delete it (evalkit computes the totals)")
        elif c is None:
            problems.append(f"{source} 第 {row} 行 / row {row}: unit_code 为空 / is empty; "
                            "填写单位代码 / fill in the unit code")
        if ch:
            changed.append(c)
        codes.append(c)
    df["unit_code"] = codes
    if changed:
        shown = ", ".join(sorted(set(changed))[:8])
        notes.append(f"{source}: 单位代码以数字存储，已转为文本（{shown}）/ unit codes stored as numbers "
                     f"were turned into text ({shown})")


def _from_long(raw: pd.DataFrame, source: str, notes: list[str]) -> tuple[pd.DataFrame, dict]:
    problems: list[str] = []
    miss = [c for c in ("year", "unit_code", "factor_id", "value") if c not in raw.columns]
    if miss:
        raise PanelDataError(
            [f"{source}: 缺少列 / missing column(s) {', '.join(miss)}; 需要/required: "
             f"{', '.join(LONG_COLUMNS)} (中文表头也可: 年份, 单位代码, 因素代码, 数值, 计量单位, 来源, 状态)"],
            header="因素数据有问题 / The factor table has problems")
    df = raw.copy()
    if "_row" not in df.columns:
        df["_row"] = df.index + 2
    names = {}
    for c in ("unit_of_measure", "source"):
        if c not in df.columns:
            df[c] = ""
    if "status" not in df.columns:
        df["status"] = "reported"
    _fix_codes(df, source, notes, problems)
    if "name_zh" in df.columns:
        names = {c: str(n) for c, n in zip(df["unit_code"], df["name_zh"], strict=True)
                 if c is not None and isinstance(n, str) and n}
    years = pd.to_numeric(df["year"], errors="coerce")
    bad = df.index[years.isna() | (years % 1 != 0)]
    for i in bad[:20]:
        problems.append(f"{source} 第 {i + 2} 行 / row {i + 2}: year={df.at[i, 'year']!r} 不是整数年份 / "
                        "is not an integer year")
    df["year"] = years.fillna(0).astype(int)
    df["factor_id"] = df["factor_id"].astype(str).str.strip()
    df["unit_of_measure"] = df["unit_of_measure"].fillna("").astype(str).str.strip()
    df["source"] = df["source"].fillna("").astype(str).str.strip()
    st = df["status"].fillna("").astype(str).str.strip().map(lambda s: _STATUS_ALIASES.get(s, s))
    for i in df.index[~st.isin(STATUSES)][:20]:
        problems.append(f"{source} 第 {i + 2} 行 / row {i + 2}: status={df.at[i, 'status']!r} 无效 / "
                        f"invalid; 允许/allowed: {', '.join(STATUSES)}")
    df["status"] = st
    df["value"] = _values(df["value"])
    for i in df.index[df["value"].map(lambda v: isinstance(v, float) and math.isinf(v))][:20]:
        problems.append(f"{source} 第 {i + 2} 行 / row {i + 2}: value={raw.at[i, 'value']!r} 不是有限数值，"
                        "请填写实际数值或留空并标为 missing / is not a finite number; write the figure, "
                        "or leave it empty with status missing")
    df.loc[df["status"] == "missing", "value"] = float("nan")
    dup = df.duplicated(["year", "unit_code", "factor_id"], keep=False)
    if dup.any():
        rows = ", ".join(str(i + 2) for i in df.index[dup][:20])
        problems.append(f"{source}: 年份-单位-因素重复 / duplicate (year, unit_code, factor_id) "
                        f"in rows {rows}; 每组只保留一行 / keep one row each")
    if problems:
        raise PanelDataError(problems, header=f"因素数据 {source} 有问题 / The factor table "
                             f"{source} has problems")
    return df[[*LONG_COLUMNS, "_row"]].reset_index(drop=True), names


def _values(s: pd.Series) -> pd.Series:
    """Numbers as floats; text such as a grade (优/良) is kept as text."""
    out = []
    for v in s:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            out.append(float("nan"))
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
            continue
        t = str(v).strip().replace(",", "")
        try:
            out.append(float(t))
        except ValueError:
            out.append(t if t else float("nan"))
    return pd.Series(out, index=s.index, dtype=object)


def _from_wide(raw: pd.DataFrame, source: str, notes: list[str], year: int | None
               ) -> tuple[pd.DataFrame, dict]:
    problems: list[str] = []
    df = raw.copy()
    if "unit_code" not in df.columns:
        raise PanelDataError([f"{source}: 宽表缺少单位代码列 / the wide table has no unit_code column "
                              "(unit_code / 单位代码)"],
                             header="因素数据有问题 / The factor table has problems")
    if "year" not in df.columns:
        if year is None:
            raise PanelDataError([f"{source}: 宽表没有年份列，请传入 year= / the wide table has no year "
                                  "column; pass year=<data year>"],
                                 header="因素数据有问题 / The factor table has problems")
        df["year"] = year
    _fix_codes(df, source, notes, problems)
    has_names = "name_zh" in df.columns
    fcols = [c for c in df.columns if c not in ("year", "unit_code", "name_zh", "source", "status")]
    rows = []
    for c in fcols:
        m = _UOM_IN_HEADER.match(str(c))
        fid, uom = (m.group("id").strip(), m.group("uom").strip()) if m else (str(c).strip(), "")
        vals = _values(df[c])
        for i in df.index:
            v = vals[i]
            rows.append({"year": df.at[i, "year"], "unit_code": df.at[i, "unit_code"],
                         "factor_id": fid, "value": v, "unit_of_measure": uom, "source": source,
                         "status": "missing" if (isinstance(v, float) and pd.isna(v))
                         else "reported",
                         "name_zh": df.at[i, "name_zh"] if has_names else None,
                         "_row": i + 2})
    long = pd.DataFrame(rows, columns=[*LONG_COLUMNS, "name_zh", "_row"])
    if problems:
        raise PanelDataError(problems, header=f"因素数据 {source} 有问题 / The factor table "
                             f"{source} has problems")
    return _from_long(long, source, notes)


def as_table(factors: Any) -> FactorTable:
    """``factors`` itself when it is a :class:`FactorTable`, else :func:`read_factors` of it."""
    return factors if isinstance(factors, FactorTable) else read_factors(factors)
