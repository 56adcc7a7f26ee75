"""Readers for county-year tables in CSV, XLSX or Parquet with Chinese or English headers.

:func:`read_table` maps raw headers to the canonical names of :mod:`evalkit.data.schema`,
converts units of measure (元/亿元 → 万元, 万吨标准煤 → 吨标准煤, 万人 ↔ 人) from the header suffix or
an explicit ``units=`` argument, and keeps codes as text. It does not validate values: that is
:func:`evalkit.data.validate_panel`'s job, which names rows by the file line numbers kept in the
returned frame's index.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._shared.exceptions import PanelDataError
from .reader import NA_VALUES, read_raw_table
from .schema import SCHEMA, UNIT_FACTORS, column, match_header, unit_factor

_TEXT_COLUMNS = {c.name for c in SCHEMA if c.dtype == "str"}
_NUMERIC_COLUMNS = {c.name for c in SCHEMA if c.dtype != "str"}


def _is_schema_header(text: str) -> bool:
    return match_header(text)[0] is not None


def _read_raw(path: Path, sheet_name: str | int, notes: list[str]) -> tuple[pd.DataFrame, str]:
    raw = read_raw_table(path, sheet_name=sheet_name, is_known=_is_schema_header, notes=notes)
    attrs = raw.attrs
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        numeric = raw.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                          and not (isinstance(v, float) and np.isnan(v)))
        numeric_cells = [str(c) for c in raw.columns[numeric.any(axis=0).to_numpy()]]
        raw = raw.map(_excel_cell_text)
        raw = raw.replace({v: np.nan for v in NA_VALUES})
        attrs = {**attrs, "numeric_cells": numeric_cells}
    raw.attrs = attrs
    return raw, str(raw.index.name)


def _excel_cell_text(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        return str(v.year) if (v.month, v.day) == (1, 1) else v.isoformat()
    return str(v).strip()


def _code_text(s: pd.Series, name: str, notes: list[str], where: str) -> pd.Series:
    """Return codes as stripped text, undoing numeric storage (370702.0 → 370702) with a note."""
    if pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s):
        notes.append(f"{name}: {where} stores codes as numbers; converted to text (check that no "
                     "leading zeros were lost in the source)")
        out = s.map(lambda v: np.nan if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
        return out.astype(object)
    out = s.astype(object).map(lambda v: v if pd.isna(v) else str(v).strip())
    floaty = out.map(lambda v: isinstance(v, str) and v.endswith(".0") and v[:-2].isdigit())
    if floaty.any():
        notes.append(f"{name}: {int(floaty.sum())} code(s) written like numbers ('370702.0'); "
                     "the trailing '.0' was removed")
        out = out.where(~floaty, out.str[:-2])
    return out


def _numeric(s: pd.Series) -> pd.Series:
    """Parse numbers; cells that are not numbers are kept as their text so the validator names them."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    text = s.astype(object).map(lambda v: v if pd.isna(v) else str(v).strip().replace(",", ""))
    num = pd.to_numeric(text, errors="coerce")
    bad = num.isna() & text.notna()
    if not bad.any():
        return num.astype(float)
    out = num.astype(object)
    out[bad] = s[bad]
    return out


def _scale(s: pd.Series, f: float) -> pd.Series:
    if s.dtype != object:
        return s * f
    return s.map(lambda v: v * f if isinstance(v, float) else v)


def _resolve_units(units: str | Mapping[str, str] | None) -> tuple[str | None, dict[str, str]]:
    if units is None:
        return None, {}
    if isinstance(units, str):
        return units, {}
    out: dict[str, str] = {}
    for k, v in units.items():
        canon, _ = match_header(k)
        out[canon or str(k)] = v
    return None, out


def read_table(path: str | Path, *, units: str | Mapping[str, str] | None = None,
               sheet_name: str | int = 0) -> pd.DataFrame:
    """Read a county-year table and map it to canonical columns and units.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK), ``.xlsx`` or ``.parquet``
        file, read by :func:`evalkit.data.reader.read_raw_table` (the header row is found under
        title rows, with a note; empty and header-only files are refused).
    units : str or dict, optional
        Units of measure of columns whose header does not say (e.g. ``营业收入`` without
        ``(万元)``). A string (``"亿元"``) applies to every money column; a dict maps a column
        (canonical name or raw header) to its unit, e.g. ``{"revenue_wan": "亿元"}``.
    sheet_name : str or int, default 0
        Worksheet of an XLSX file.

    Returns
    -------
    DataFrame
        Canonical column names; unknown columns are kept under their own names. Codes are text;
        numeric columns are floats, except that cells which are not numbers keep their text so
        that validation can name them. The index holds the 1-based file line numbers (``line``;
        header = line 1) or, for Parquet, record numbers (``record``). ``attrs["source"]`` holds
        the file path and ``attrs["read_notes"]`` lists what the reader did (header mapping,
        unit conversions).

    Raises
    ------
    PanelDataError
        Listing every header problem at once: two headers for one column, a money column whose
        unit is unknown or not stated, an unsupported unit.

    Examples
    --------
    >>> from evalkit.data import read_table
    >>> df = read_table("data_raw/demo/county_panel.csv")
    >>> {"unit_code", "year", "revenue_wan"} <= set(df.columns)
    True
    """
    path = Path(path)
    notes: list[str] = []
    raw, where = _read_raw(path, sheet_name, notes)
    empty = raw.isna().all(axis=1)
    if empty.any():
        lines = ", ".join(str(i) for i in raw.index[empty][:20])
        notes.append(f"{path.name}: {int(empty.sum())} empty {where}(s) skipped ({where}s {lines})")
        raw = raw.loc[~empty]

    default_unit, unit_map = _resolve_units(units)
    problems: list[str] = []
    mapping: dict[str, str] = {}
    header_unit: dict[str, str | None] = {}
    seen: dict[str, str] = {}
    for h in raw.columns:
        canon, unit = match_header(str(h))
        if canon is None:
            notes.append(f"column {h!r} is not in the schema; kept unchanged")
            continue
        if canon in seen:
            problems.append(f"columns {seen[canon]!r} and {h!r} both map to {canon!r}: keep one of them")
            continue
        seen[canon] = str(h)
        mapping[str(h)] = canon
        header_unit[canon] = unit

    factors: dict[str, float] = {}
    for canon, h_unit in header_unit.items():
        col = column(canon)
        if not col.convertible:
            continue
        arg_unit = unit_map.get(canon)
        if arg_unit is None and default_unit is not None and col.unit == "万元":
            arg_unit = default_unit
        raw_header = seen[canon]
        if h_unit is not None and arg_unit is not None:
            fh, fa = unit_factor(col, h_unit), unit_factor(col, arg_unit)
            if fh is not None and fa is not None and fh != fa:
                problems.append(f"column {raw_header!r}: the header says {h_unit!r} but units= says "
                                f"{arg_unit!r}; remove one of them")
                continue
        unit = h_unit if h_unit is not None else arg_unit
        if unit is None:
            allowed = "/".join(k for k in UNIT_FACTORS[col.unit] if not k.isascii()) or col.unit
            problems.append(
                f"column {raw_header!r} ({canon}): the unit of measure is not stated; write it in the "
                f"header, e.g. '{raw_header}({col.unit})', or pass units={{'{canon}': '{col.unit}'}} "
                f"(accepted: {allowed})")
            continue
        f = unit_factor(col, unit)
        if f is None:
            allowed = ", ".join(UNIT_FACTORS[col.unit])
            problems.append(f"column {raw_header!r} ({canon}): unknown unit {unit!r}; accepted: {allowed}")
            continue
        factors[canon] = f
    unknown_units = [k for k in unit_map if k not in header_unit]
    for k in unknown_units:
        problems.append(f"units= names {k!r}, which is not a column of {path.name}")
    if problems:
        raise PanelDataError(problems, header=f"{path.name}: the headers cannot be mapped to the schema")

    df = raw.rename(columns=mapping)
    for canon in mapping.values():
        if canon in _TEXT_COLUMNS:
            raw_h = seen[canon]
            if canon.endswith("code") and raw_h in raw.attrs.get("numeric_cells", []):
                notes.append(f"{canon}: the workbook {path.name} stores codes as numbers in column "
                             f"{raw_h!r}; converted to text (check that no leading zeros were lost; "
                             "format the column as text in Excel)")
            df[canon] = _code_text(df[canon], canon, notes, f"the file {path.name}") \
                if canon.endswith("code") else df[canon].astype(object).map(
                    lambda v: v if pd.isna(v) else str(v).strip())
        elif canon in _NUMERIC_COLUMNS:
            df[canon] = _numeric(df[canon])
    for raw_h, canon in mapping.items():
        f = factors.get(canon, 1.0)
        if raw_h != canon:
            note = f"column {raw_h!r} read as {canon}"
            if f != 1.0:
                note += f" (values × {f:g} to convert to {column(canon).unit})"
            notes.append(note)
        if f != 1.0:
            df[canon] = _scale(df[canon], f)
    df.attrs["source"] = str(path)
    df.attrs["read_notes"] = notes
    return df


def normalize_frame(df: pd.DataFrame, *, units: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """Map the headers of an in-memory frame to canonical names (as :func:`read_table` does).

    Parameters
    ----------
    df : DataFrame
        Raw table with Chinese or English headers.
    units : str or dict, optional
        As in :func:`read_table`.

    Returns
    -------
    DataFrame
        A copy with canonical names and converted units; the index is kept.
    """
    tmp = df.copy()
    default_unit, unit_map = _resolve_units(units)
    mapping: dict[str, str] = {}
    factors: dict[str, float] = {}
    problems: list[str] = []
    for h in tmp.columns:
        canon, unit = match_header(str(h))
        if canon is None:
            continue
        if canon in mapping.values():
            problems.append(f"two columns map to {canon!r} (one is {h!r}): keep one of them")
            continue
        mapping[h] = canon
        col = column(canon)
        if col.convertible:
            u = unit or unit_map.get(canon) or (default_unit if col.unit == "万元" else None)
            if u is None:
                problems.append(f"column {h!r} ({canon}): the unit of measure is not stated; pass "
                                f"units={{'{canon}': '{col.unit}'}}")
                continue
            f = unit_factor(col, u)
            if f is None:
                problems.append(f"column {h!r} ({canon}): unknown unit {u!r}")
                continue
            factors[canon] = f
    if problems:
        raise PanelDataError(problems, header="The headers cannot be mapped to the schema")
    tmp = tmp.rename(columns=mapping)
    notes = list(df.attrs.get("read_notes", []))
    for canon in mapping.values():
        if canon in _TEXT_COLUMNS:
            if canon.endswith("code"):
                tmp[canon] = _code_text(tmp[canon], canon, notes, "the frame")
        elif canon in _NUMERIC_COLUMNS:
            tmp[canon] = _numeric(tmp[canon])
            if factors.get(canon, 1.0) != 1.0:
                tmp[canon] = _scale(tmp[canon], factors[canon])
    tmp.attrs["read_notes"] = notes
    return tmp
