"""Data layer: read, map headers, validate, unit masters, and the synthetic demo panel.

::

    from evalkit import data
    df = data.load_panel("data_raw/demo")          # validated county-year panel
    df.attrs["validation"].summary()                # what was checked, recoded, noted
    truth = data.load_truth("data_raw/demo")        # true effects of the synthetic demo

The canonical schema is :data:`evalkit.data.schema.SCHEMA`; the data dictionary is
``data_raw/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError, PanelDataError
from .checks import ImplausibleValueWarning, separately_reported, weifang_total
from .demo import DEMO_SEED, DemoData, make_demo_panel, write_demo
from .io import read_table
from .masters import (
    active_units,
    crosswalk,
    shandong_counties,
    unit_master,
    weifang_neighbours,
    weifang_units,
)
from .reader import read_raw_table, read_text
from .schema import SCHEMA, Column, column
from .validate import CodeRecodedWarning, ValidationReport, validate_panel

__all__ = [
    "DEMO_SEED",
    "SCHEMA",
    "CodeRecodedWarning",
    "ImplausibleValueWarning",
    "Column",
    "DemoData",
    "ValidationReport",
    "active_units",
    "add_derived",
    "column",
    "crosswalk",
    "is_synthetic",
    "load_city_indicators",
    "load_panel",
    "load_truth",
    "make_demo_panel",
    "read_raw_table",
    "read_table",
    "read_text",
    "separately_reported",
    "shandong_counties",
    "unit_master",
    "weifang_neighbours",
    "validate_panel",
    "weifang_total",
    "weifang_units",
    "write_demo",
]

_PANEL_SUFFIXES = (".csv", ".xlsx", ".parquet")
MARKER = "SYNTHETIC"


def _panel_file(path_or_dir: str | Path) -> Path:
    p = Path(path_or_dir)
    if p.is_dir():
        found = [p / f"county_panel{s}" for s in _PANEL_SUFFIXES if (p / f"county_panel{s}").exists()]
        if not found:
            raise PanelDataError([f"{p}: no county_panel.csv, county_panel.xlsx or county_panel.parquet "
                                  "in this folder; pass the file itself or put the panel there"],
                                 header="Cannot find the panel")
        if len(found) > 1:
            raise PanelDataError([f"{p}: several panel files ({', '.join(f.name for f in found)}); "
                                  "keep one or pass the file itself"], header="Cannot find the panel")
        return found[0]
    if not p.exists():
        raise PanelDataError([f"{p}: file not found; check the path"], header="Cannot find the panel")
    return p


def is_synthetic(path_or_dir: str | Path) -> bool:
    """True when the file's folder (or the folder itself) holds the ``SYNTHETIC`` marker.

    Parameters
    ----------
    path_or_dir : str or Path
        A data folder or a file in it.

    Returns
    -------
    bool

    Examples
    --------
    >>> from evalkit.data import is_synthetic
    >>> is_synthetic("data_raw/demo")
    True
    """
    p = Path(path_or_dir)
    folder = p if p.is_dir() else p.parent
    return (folder / MARKER).exists()


def add_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Add the derived analysis columns to a validated panel.

    Adds ``log_revenue = ln(revenue_wan)``, ``log_value_added = ln(value_added_wan)`` (when
    present), ``tech_subsidy_intensity`` (‰ of the previous year's revenue of the same unit;
    0 without subsidy; missing when a subsidy has no previous-year row), ``tech_subsidy_start``
    (first year with a subsidy, 0 = never) and ``tech_subsidy_dose`` (the unit's intensity,
    fixed from its first subsidised year: median over its subsidised years, rounded to 0.01‰;
    0 = never).

    Parameters
    ----------
    df : DataFrame
        A panel with canonical columns (``unit_code``, ``year``, ``revenue_wan``,
        ``tech_subsidy_wan``).

    Returns
    -------
    DataFrame
        A copy with the derived columns; attrs are kept.

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.data import add_derived, load_panel
    >>> df = load_panel("data_raw/demo").drop(columns=["log_revenue"])
    >>> bool(np.allclose(add_derived(df)["log_revenue"], np.log(df["revenue_wan"])))
    True
    """
    need = [c for c in ("unit_code", "year", "revenue_wan") if c not in df.columns]
    if need:
        raise EvalkitError(f"add_derived needs the column(s) {', '.join(need)}; load the panel with "
                           "evalkit.data.load_panel")
    out = df.copy()
    out["log_revenue"] = np.log(out["revenue_wan"].astype(float))
    if "value_added_wan" in out.columns:
        out["log_value_added"] = np.log(out["value_added_wan"].astype(float))
    if "tech_subsidy_wan" in out.columns:
        order = out.sort_values(["unit_code", "year"]).index
        s = out.loc[order]
        prev_rev = s.groupby("unit_code")["revenue_wan"].shift(1)
        prev_year = s.groupby("unit_code")["year"].shift(1)
        prev_rev = prev_rev.where(prev_year == s["year"] - 1)
        sub = s["tech_subsidy_wan"].astype(float)
        inten = np.where(sub > 0, 1000.0 * sub / prev_rev, 0.0)
        out.loc[order, "tech_subsidy_intensity"] = inten
        on = sub > 0
        start = s["year"].where(on).groupby(s["unit_code"]).transform("min").fillna(0).astype(int)
        out.loc[order, "tech_subsidy_start"] = start.to_numpy()
        out["tech_subsidy_start"] = out["tech_subsidy_start"].astype(int)
        dose = pd.Series(inten, index=order).where(on).groupby(s["unit_code"]).transform("median")
        out.loc[order, "tech_subsidy_dose"] = dose.fillna(0.0).round(2).to_numpy()
    return out


def load_panel(path_or_dir: str | Path, *, start_year: int | None = None, end_year: int | None = None,
               units: str | Mapping[str, str] | None = None, sheet_name: str | int = 0,
               year: int | None = None, allow_missing: bool = False) -> pd.DataFrame:
    """Read, validate and enrich the county-year panel.

    Parameters
    ----------
    path_or_dir : str or Path
        A panel file (``.csv``, ``.xlsx``, ``.parquet``) or a folder holding ``county_panel.*``.
    start_year, end_year : int, optional
        Requested year range; rows outside it are an error (select the years you need in the
        file, or widen the range).
    units : str or dict, optional
        Units of measure of columns whose header does not state them (see
        :func:`read_table`), e.g. ``units={"revenue_wan": "亿元"}``.
    sheet_name : str or int, default 0
        Worksheet of an XLSX file.
    year : int, optional
        The evaluation year. Rows after it are set aside (named in a note; kept in
        ``attrs["validation"].set_aside``), a year far outside the data's range (a 2041 typo)
        is refused, and every unit of the unit master active in a year must have a row in every
        year from the data's first year to ``year``.
    allow_missing : bool, default False
        With ``year``: accept missing unit-years; the panel is then unbalanced
        (``attrs["unbalanced"]`` is True, ``attrs["validation"].missing`` lists them).

    Returns
    -------
    DataFrame
        Canonical columns plus ``log_revenue``, ``log_value_added``,
        ``tech_subsidy_intensity``, ``tech_subsidy_start``, ``tech_subsidy_dose``; sorted by
        ``unit_code, year``. ``attrs["synthetic"]`` is True for the demo data (``SYNTHETIC``
        marker beside the file), ``attrs["validation"]`` is the :class:`ValidationReport`
        and ``attrs["unbalanced"]`` says whether expected unit-years are missing (allowed).

    Raises
    ------
    PanelDataError
        Listing every problem at once (``err.report`` holds the full report).

    Warns
    -----
    ImplausibleValueWarning
        For a unit-year more than 50 times its unit's own median (or under 1/50 of it).

    Examples
    --------
    >>> from evalkit.data import load_panel
    >>> panel = load_panel("data_raw/demo", year=2024)
    >>> int(panel["year"].max()), panel.attrs["unbalanced"], panel.attrs["synthetic"]
    (2024, False, True)
    """
    f = _panel_file(path_or_dir)
    raw = read_table(f, units=units, sheet_name=sheet_name)
    df = validate_panel(raw, start_year=start_year, end_year=end_year, year=year, allow_missing=allow_missing)
    rep = df.attrs["validation"]
    synthetic = is_synthetic(f)
    if synthetic:
        rep.notes.append("synthetic demo data (SYNTHETIC marker found): not real statistics")
    out = add_derived(df)
    out.attrs = {"source": str(f), "synthetic": synthetic, "validation": rep, "unbalanced": rep.unbalanced}
    return out


def load_city_indicators(path_or_dir: str | Path) -> pd.DataFrame:
    """Read ``city_indicators.csv`` (``year, indicator_id, value, unit``).

    Parameters
    ----------
    path_or_dir : str or Path
        The file or the folder holding it.

    Returns
    -------
    DataFrame
        ``year`` as int, ``value`` as float; ``attrs["synthetic"]`` as for :func:`load_panel`.

    Examples
    --------
    >>> from evalkit.data import load_city_indicators
    >>> ci = load_city_indicators("data_raw/demo")
    >>> ci.columns.tolist()[:4]
    ['year', 'indicator_id', 'value', 'unit']
    """
    p = Path(path_or_dir)
    f = p / "city_indicators.csv" if p.is_dir() else p
    if not f.exists():
        raise PanelDataError([f"{f}: file not found; check the path"], header="City indicators")
    notes: list[str] = []
    df = read_raw_table(f, is_known={"year", "indicator_id", "value", "unit"}, notes=notes)
    need = {"year", "indicator_id", "value", "unit"}
    if not need <= set(df.columns):
        raise PanelDataError([f"{f.name} needs the columns year, indicator_id, value, unit; found "
                              f"{', '.join(map(str, df.columns))}"], header="City indicators")
    problems = []
    for c in ("year", "value"):
        num = pd.to_numeric(df[c], errors="coerce")
        bad = num.isna()
        if bad.any():
            lines = ", ".join(str(i) for i in df.index[bad][:10])
            problems.append(f"column {c!r} is missing or not a number in lines {lines}")
        df[c] = num
    if problems:
        raise PanelDataError(problems, header=f"{f.name}: city indicators")
    df["year"] = df["year"].astype(int)
    df = df.reset_index(drop=True)
    df.attrs = {"source": str(f), "synthetic": is_synthetic(f), "read_notes": notes}
    return df


def load_truth(path_or_dir: str | Path) -> dict[str, Any]:
    """Read the demo's ``truth.json`` (true values and definitions of every estimand).

    Parameters
    ----------
    path_or_dir : str or Path
        The file or the demo folder.

    Returns
    -------
    dict
        Keys ``pilot_zone``, ``first_unit``, ``tech_subsidy``, ``factor_fund`` (each with a
        ``definition``), plus ``seed``, ``end_year`` and ``synthetic``.

    Examples
    --------
    >>> from evalkit.data import load_truth
    >>> truth = load_truth("data_raw/demo")
    >>> isinstance(truth, dict)
    True
    """
    p = Path(path_or_dir)
    f = p / "truth.json" if p.is_dir() else p
    if not f.exists():
        raise EvalkitError(f"{f}: no truth file; true effects exist only for the synthetic demo data "
                           "(evalkit demo-data --out DIR writes them)")
    return json.loads(f.read_text(encoding="utf-8"))
