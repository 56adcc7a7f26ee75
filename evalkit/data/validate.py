"""Validation of the county-year panel: every problem at once, naming rows, columns and the fix.

:func:`validate_panel` checks a canonical frame (as returned by :func:`evalkit.data.read_table`)
against :mod:`evalkit.data.schema` and the unit master, recodes old county codes through the
crosswalk, and returns the typed, sorted frame with a :class:`ValidationReport` in
``attrs["validation"]``. Problems are collected and raised together in one
:class:`~evalkit._shared.exceptions.PanelDataError`; nothing is dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitWarning, PanelDataError
from .checks import (
    ImplausibleValueWarning,
    describe_missing,
    finite_problems,
    jump_warnings,
    magnitude_checks,
    missing_unit_years,
    reported_within_checks,
    split_years,
    typo_problems,
)
from .io import normalize_frame
from .masters import crosswalk, outside_units, unit_master
from .schema import SCHEMA, column_names

_MAX_LISTED = 10


class CodeRecodedWarning(EvalkitWarning):
    """Old unit codes were replaced by current ones through the crosswalk.

    Examples
    --------
    >>> import warnings
    >>> from evalkit.data import CodeRecodedWarning, read_table, validate_panel
    >>> raw = read_table("data_raw/demo/county_panel.csv")
    >>> raw.loc[raw.unit_code == "370116", "unit_code"] = "371202"  # 莱城区's code before 2019
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     checked = validate_panel(raw)
    ...
    >>> any(issubclass(w.category, CodeRecodedWarning) for w in caught)
    True
    >>> "371202" in set(checked.unit_code)
    False
    """


@dataclass(eq=False)
class ValidationReport:
    """What validation found and did.

    Attributes
    ----------
    problems : list of str
        Errors (each names rows, columns and the fix). Empty when the panel is valid.
    notes : list of str
        Things done or noticed that are not errors (header mapping, blank cohorts read as 0,
        identifiers filled from the unit master, gaps in a unit's years).
    recoded : list of dict
        One entry per changed cell: ``row`` (file line, record or index label), ``column``,
        ``old``, ``new``, ``reason``.
    source : str
        The file (or ``"<DataFrame>"``).
    row_label : str
        How rows are named in messages: ``line`` (file line, header = line 1), ``record``
        (1-based Parquet record) or ``row`` (index label of an in-memory frame).
    n_rows, n_units : int
        Size of the validated table.
    years : tuple of int
        First and last year present (``(0, 0)`` when unknown).
    warnings : list of str
        Implausible values (a unit-year far from its unit's median) and similar doubts: not
        errors, but shown in the audit and on stderr.
    missing : DataFrame
        Expected unit-years that are absent (``unit_code, name_zh, year``); checked only when
        the evaluation year is given. Non-empty only with ``allow_missing`` (else a problem).
    set_aside : DataFrame
        Rows after the evaluation year, set aside (not in the panel), as read.

    Examples
    --------
    >>> from evalkit.data import read_table, validate_panel
    >>> raw = read_table("data_raw/demo/county_panel.csv")
    >>> raw.loc[0, "revenue_wan"] = -1.0
    >>> rep = validate_panel(raw, raise_on_error=False).attrs["validation"]
    >>> len(rep.problems) > 0
    True
    """

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recoded: list[dict[str, Any]] = field(default_factory=list)
    source: str = "<DataFrame>"
    row_label: str = "row"
    n_rows: int = 0
    n_units: int = 0
    years: tuple[int, int] = (0, 0)
    warnings: list[str] = field(default_factory=list)
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["unit_code", "name_zh", "year"]))
    set_aside: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def unbalanced(self) -> bool:
        """True when expected unit-years are missing and were allowed (``allow_missing``)."""
        return len(self.missing) > 0

    @property
    def ok(self) -> bool:
        """True when there are no problems."""
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """One row per problem or note: columns ``kind`` (problem/note/recoded) and ``message``."""
        rows = [("problem", p) for p in self.problems] + [("warning", w) for w in self.warnings]
        rows += [("note", n) for n in self.notes]
        rows += [("recoded", f"{self.row_label} {r['row']}: {r['column']} {r['old']!r} → {r['new']!r} "
                  f"({r['reason']})") for r in self.recoded]
        return pd.DataFrame(rows, columns=["kind", "message"])

    def recoded_frame(self) -> pd.DataFrame:
        """The recoded cells as a table: ``row, column, old, new, reason``."""
        return pd.DataFrame(self.recoded, columns=["row", "column", "old", "new", "reason"])

    def summary(self) -> str:
        """Readable text for notebooks and logs."""
        head = (f"{self.source}: {self.n_rows} rows, {self.n_units} units, years "
                f"{self.years[0]}..{self.years[1]}; {len(self.problems)} problem(s), "
                f"{len(self.warnings)} warning(s), {len(self.notes)} note(s), {len(self.recoded)} recoded cell(s)")
        parts = [head]
        if self.problems:
            parts += ["Problems:"] + [f"  - {p}" for p in self.problems]
        if self.warnings:
            parts += ["Warnings:"] + [f"  - {w}" for w in self.warnings]
        if self.notes:
            parts += ["Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = self.summary().splitlines()[0]
        return f"<p>{head}</p>" + self.to_frame().to_html(index=False)

    def __deepcopy__(self, memo: dict) -> ValidationReport:
        # pandas deep-copies attrs on every operation; the report is read-only after validation.
        return self


def _rows(labels: Iterable[Any]) -> str:
    idx = list(labels)
    shown = ", ".join(str(i) for i in idx[:_MAX_LISTED])
    if len(idx) > _MAX_LISTED:
        shown += f" (and {len(idx) - _MAX_LISTED} more)"
    return shown


def _where(label: str, labels: Iterable[Any]) -> str:
    """``"line 5"`` or ``"lines 5, 7"``: the row label with the listed rows."""
    idx = list(labels)
    return f"{label}{'s' if len(idx) != 1 else ''} {_rows(idx)}"


# Ad-hoc codes that local systems use for Weifang's zones (data_raw/README.md, "Units"): never
# recoded automatically (they collide with GB/T 2260 space), only pointed out.
_AD_HOC_ZONE_CODES = {"370706": "WF-Z-GXQ (高新区)", "370709": "WF-Z-XSQ (峡山区)",
                      "370793": "WF-Z-XSQ (峡山区)"}


def _code_hint(code: str) -> str:
    outside = outside_units().set_index("unit_code")
    if code in outside.index:
        host = outside.loc[code, "reported_within"]
        return (f"; {code} ({outside.loc[code, 'name_zh']}) is reported within {host}: its figures are "
                f"already in {host}'s, so remove these rows")
    if code in _AD_HOC_ZONE_CODES:
        return (f"; {code} is an ad-hoc local code that some systems use for "
                f"{_AD_HOC_ZONE_CODES[code]}: if so, write that id")
    if len(code) == 6 and code.isdigit() and code.endswith("00"):
        return "; it looks like a prefecture or province total: the panel holds county-level units only"
    return ""


def _check_codes(d: pd.DataFrame, rep: ValidationReport, row_label: str, master: pd.DataFrame):
    """Blank and unknown unit codes; old codes recoded through the crosswalk (in place)."""
    P = rep.problems
    if "unit_code" in d.columns:
        code = d["unit_code"]
        blank = code.isna() | (code.astype(str).str.strip() == "")
        if blank.any():
            P.append(f"unit_code is blank in {_where(row_label, d.index[blank])}: fill in the unit's code")
        cw = crosswalk().set_index("old_code")
        old = code.isin(cw.index) & ~blank
        if old.any():
            for lab, oc in code[old].items():
                r = cw.loc[oc]
                rep.recoded.append({"row": lab, "column": "unit_code", "old": oc, "new": r["new_code"],
                                    "reason": f"{r['old_name_zh']} → {r['new_name_zh']} "
                                              f"({r['change']}, {r['effective_year']})"})
            d.loc[old, "unit_code"] = code[old].map(cw["new_code"])
            olds = sorted({r["old"] for r in rep.recoded if r["column"] == "unit_code"})
            msg = (f"{int(old.sum())} row(s) with old unit codes recoded to current codes "
                   f"({', '.join(olds)}); see the report's recoded rows")
            rep.notes.append(msg)
            warnings.warn(msg, CodeRecodedWarning, stacklevel=3)
        code = d["unit_code"]
        unknown = ~code.isin(master.index) & ~blank
        for uc in pd.unique(code[unknown]):
            labs = d.index[unknown & (code == uc)]
            P.append(f"unknown unit code {uc!r} in {_where(row_label, labs)}: use a code of the unit master "
                     "(evalkit.data.unit_master(): GB/T 2260 codes such as '370702' or zone ids such "
                     "as 'WF-Z-GXQ'; old codes are recoded through evalkit.data.crosswalk())"
                     + _code_hint(str(uc)))


def _check_numeric(d: pd.DataFrame, rep: ValidationReport, row_label: str):
    """Numeric columns: text, missing values, blank cohorts, fractions, flags, signs (converted in place)."""
    P = rep.problems
    numeric_ok: dict[str, bool] = {}
    for c in SCHEMA:
        if c.dtype == "str" or c.name not in d.columns:
            continue
        s = d[c.name]
        if s.dtype == object:
            text_bad = s.map(lambda v: not pd.isna(v) and not isinstance(v, (int, float, np.number)))
            if text_bad.any():
                examples = ", ".join(repr(v) for v in pd.unique(s[text_bad])[:3])
                P.append(f"column {c.name!r} has non-numeric values in {_where(row_label, d.index[text_bad])} "
                         f"(e.g. {examples}): write plain numbers")
                s = s.where(~text_bad)
            else:
                text_bad = pd.Series(False, index=s.index)
            s = pd.to_numeric(s, errors="coerce")
        else:
            text_bad = pd.Series(False, index=s.index)
        s = s.astype(float)
        na = s.isna() & ~text_bad
        if c.name == "first_unit_year" and na.any():
            for lab in d.index[na]:
                rep.recoded.append({"row": lab, "column": "first_unit_year", "old": "", "new": 0,
                                    "reason": "blank cohort read as 0 (never treated)"})
            rep.notes.append(f"first_unit_year is blank in {int(na.sum())} row(s) ("
                             f"{_where(row_label, d.index[na])}): read as 0 = never treated")
            s = s.fillna(0.0)
            na = s.isna()
        if na.any() and c.name not in ("log_pop_2015",):
            P.append(f"column {c.name!r} has {int(na.sum())} missing value(s) in "
                     f"{_where(row_label, d.index[na])}: fill them in (use 0 only where the true value is 0)")
        if c.name == "log_pop_2015" and na.any():
            P.append(f"column 'log_pop_2015' has {int(na.sum())} missing value(s) in "
                     f"{_where(row_label, d.index[na])}: fill them in or drop the column to derive it from "
                     "population_10k")
        finite = s.notna()
        if c.dtype in ("int", "flag"):
            frac = finite & (s.round() != s)
            if frac.any():
                P.append(f"column {c.name!r} must hold whole numbers but does not in "
                         f"{_where(row_label, d.index[frac])}")
        if c.dtype == "flag":
            bad = finite & ~s.isin([0.0, 1.0])
            if bad.any():
                P.append(f"column {c.name!r} must be 0 or 1 but is not in {_where(row_label, d.index[bad])}")
        if c.nonnegative:
            neg = finite & (s < 0)
            if neg.any():
                P.append(f"column {c.name!r} has negative values in {_where(row_label, d.index[neg])}: "
                         "amounts cannot be negative; correct the sign or the source")
        if c.positive:
            zero = finite & (s == 0)
            if zero.any():
                P.append(f"column {c.name!r} is 0 in {_where(row_label, d.index[zero])}: it must be positive "
                         f"(its log is used); check the source")
        d[c.name] = s
        numeric_ok[c.name] = not (na.any() or text_bad.any())

    P.extend(finite_problems(d, [c.name for c in SCHEMA if c.dtype != "str"], row_label=row_label))
    return numeric_ok


def _check_year_range(d: pd.DataFrame, rep: ValidationReport, row_label: str, start_year: int | None,
                      end_year: int | None):
    """Rows outside ``start_year..end_year``."""
    P = rep.problems
    if "year" in d.columns:
        y = d["year"]
        if start_year is not None or end_year is not None:
            lo = start_year if start_year is not None else -np.inf
            hi = end_year if end_year is not None else np.inf
            out = y.notna() & ((y < lo) | (y > hi))
            if out.any():
                rng = f"{start_year if start_year is not None else '...'}.." \
                      f"{end_year if end_year is not None else '...'}"
                yrs = ", ".join(str(int(v)) for v in sorted(pd.unique(y[out])))
                P.append(f"year(s) {yrs} outside the requested range {rng} in "
                         f"{_where(row_label, d.index[out])}: remove those rows or widen start_year/end_year")


def _check_duplicates(d: pd.DataFrame, rep: ValidationReport, row_label: str):
    """More than one row for a unit and year."""
    P = rep.problems
    have_uy = {"unit_code", "year"} <= set(d.columns)
    if have_uy:
        key = d[["unit_code", "year"]]
        dup = key.duplicated(keep=False) & key.notna().all(axis=1)
        if dup.any():
            recoded_rows = {r["row"] for r in rep.recoded if r["column"] == "unit_code"}
            for (uc, yr), grp in d[dup].groupby(["unit_code", "year"], sort=True):
                hint = "keep one row per unit and year (remove or aggregate the duplicates)"
                if recoded_rows & set(grp.index):
                    hint = ("some of these rows were recoded from old codes of merged units; sum the "
                            "merged units' amounts into one row before loading")
                P.append(f"duplicate unit-year {uc}/{int(yr)} in {_where(row_label, grp.index)}: {hint}")


def _check_cohorts(d: pd.DataFrame, df: pd.DataFrame, rep: ValidationReport, row_label: str,
                   numeric_ok: dict[str, bool]):
    """Cohort years, the first_unit flag against them, and absorbing flags that switch off."""
    P = rep.problems
    have_uy = {"unit_code", "year"} <= set(d.columns)
    if have_uy and "first_unit_year" in d.columns:
        g = d["first_unit_year"]
        plaus = (g != 0) & g.notna() & ((g < 1949) | (g > 2100))
        if plaus.any():
            P.append(f"first_unit_year must be 0 (never) or a calendar year but is not in "
                     f"{_where(row_label, d.index[plaus])}")
        nun = d.groupby("unit_code")["first_unit_year"].nunique()
        for uc in nun.index[nun > 1]:
            sub = d[d["unit_code"] == uc]
            vals = ", ".join(str(int(v)) for v in sorted(pd.unique(sub["first_unit_year"].dropna())))
            P.append(f"first_unit_year varies within unit {uc} ({vals}) in {_where(row_label, sub.index)}: "
                     "the cohort is the unit's first treated year and must be the same in every row")
        if "first_unit" in d.columns:
            expect = ((g > 0) & (d["year"] >= g)).astype(float)
            bad = d["first_unit"].notna() & g.notna() & d["year"].notna() & (d["first_unit"] != expect)
            if bad.any():
                P.append(f"first_unit contradicts first_unit_year in {_where(row_label, d.index[bad])}: "
                         "first_unit must be 1 exactly when year >= first_unit_year > 0; correct the "
                         "cohort year or the indicator")
        elif numeric_ok.get("first_unit_year", False) and numeric_ok.get("year", True):
            d["first_unit"] = ((g > 0) & (d["year"] >= g)).astype(float)
            rep.notes.append("first_unit derived from first_unit_year (1 when year >= first_unit_year > 0)")
    if have_uy:
        for c in SCHEMA:
            if not c.absorbing or c.name not in df.columns:
                continue
            sub = d[["unit_code", "year", c.name]].dropna().sort_values(["unit_code", "year"])
            prev = sub.groupby("unit_code")[c.name].cummax()
            off = (sub[c.name] < prev)
            for uc in pd.unique(sub.loc[off, "unit_code"]):
                u = sub[sub["unit_code"] == uc]
                first_on = int(u.loc[u[c.name] == 1, "year"].min())
                offyrs = u.loc[off & (sub["unit_code"] == uc), "year"].astype(int).tolist()
                P.append(f"{c.name} switches off in unit {uc}: on from {first_on} but 0 in "
                         f"{', '.join(map(str, offyrs))} ({_where(row_label, u.index[off.loc[u.index]])}); it is "
                         "absorbing (stays 1 once on): correct the flag")


def _fill_identifiers(d: pd.DataFrame, df: pd.DataFrame, rep: ValidationReport, row_label: str,
                      master: pd.DataFrame):
    """Identifiers from the unit master, ``reported_within``, and ``log_pop_2015`` (in place)."""
    P = rep.problems
    have_uy = {"unit_code", "year"} <= set(d.columns)
    if "unit_code" in d.columns:
        known = d["unit_code"].isin(master.index)
        for idc in ("name_zh", "name_en", "prefecture_code", "prefecture_zh", "unit_type", "in_weifang"):
            mval = d["unit_code"].map(master[idc])
            if idc in d.columns:
                given = d[idc]
                if idc == "in_weifang":
                    differ = known & given.notna() & (given.astype(float) != mval.astype(float))
                else:
                    differ = known & given.notna() & (given.astype(str) != mval.astype(str))
                if differ.any():
                    rep.notes.append(f"{idc} differs from the unit master in {int(differ.sum())} row(s) "
                                     f"({_where(row_label, d.index[differ])}); the master's value is used")
                d[idc] = mval.where(known, given)
            else:
                d[idc] = mval
        given_rw = d["reported_within"].fillna("").astype(str).str.strip() if "reported_within" in d.columns \
            else pd.Series("", index=d.index)
        d["reported_within"] = given_rw.where(given_rw != "", d["unit_code"].map(master["reported_within"]).fillna(""))
        rw_problems, rw_notes, rw_warnings = reported_within_checks(d, set(master.index))
        P.extend(rw_problems)
        rep.notes.extend(rw_notes)
        rep.warnings.extend(rw_warnings)
        missing_ids = [c for c in ("name_zh", "name_en", "prefecture_code") if c not in df.columns]
        if missing_ids:
            rep.notes.append(f"identifier column(s) {', '.join(missing_ids)} filled from the unit master")
    if have_uy and "log_pop_2015" not in d.columns and "population_10k" in d.columns:
        p15 = d.loc[d["year"] == 2015].groupby("unit_code")["population_10k"].first()
        d["log_pop_2015"] = np.log(d["unit_code"].map(p15))
        miss = d["log_pop_2015"].isna()
        rep.notes.append("log_pop_2015 derived as ln(population_10k in 2015)"
                         + (f"; missing for units without a 2015 row ({_rows(pd.unique(d.loc[miss, 'unit_code']))})"
                            if miss.any() else ""))
    elif have_uy and "log_pop_2015" in d.columns:
        nun = d.groupby("unit_code")["log_pop_2015"].nunique()
        for uc in nun.index[nun > 1]:
            P.append(f"log_pop_2015 varies within unit {uc}: it is time-invariant; use one value per unit")


def _check_gaps(d: pd.DataFrame, rep: ValidationReport, master: pd.DataFrame, numeric_ok: dict[str, bool],
                year: int | None, start_year: int | None, end_year: int | None, allow_missing: bool):
    """Missing unit-years up to the evaluation year (a problem unless ``allow_missing``), or gaps noted."""
    P = rep.problems
    have_uy = {"unit_code", "year"} <= set(d.columns)
    if have_uy and year is not None and numeric_ok.get("year", False) and d["year"].notna().any():
        first = int(d["year"].min())
        rep.missing = missing_unit_years(d[d["unit_code"].isin(master.index)], first=first, last=int(year))
        if len(rep.missing):
            msg = describe_missing(rep.missing, first=first, last=int(year))
            if allow_missing:
                rep.notes.append(msg + " — allowed (allow_missing / --allow-missing): the analyses run on an "
                                 "unbalanced panel and every page says so")
            else:
                P.append(msg + ". 请补齐这些行，或加 --allow-missing 在不平衡面板上运行 / add the rows, or pass "
                         "--allow-missing (allow_missing=True) to run on the unbalanced panel (every page then "
                         "says so)")
    elif have_uy and d["year"].notna().any():
        yrs = d["year"].dropna()
        lo = int(start_year if start_year is not None else yrs.min())
        hi = int(end_year if end_year is not None else yrs.max())
        counts = d.dropna(subset=["year"]).groupby("unit_code")["year"].nunique()
        short = counts[counts < (hi - lo + 1)]
        if len(short):
            rep.notes.append(f"{len(short)} unit(s) lack some years of {lo}..{hi} (unbalanced panel): "
                             f"{_rows(short.index)}")


def validate_panel(df: pd.DataFrame, *, start_year: int | None = None, end_year: int | None = None,
                   year: int | None = None, allow_missing: bool = False,
                   raise_on_error: bool = True) -> pd.DataFrame:
    """Validate a county-year panel and return it typed, recoded and sorted.

    Checks (all reported together): required columns; unit codes (blank, unknown after the
    crosswalk); years (missing, not whole numbers, outside ``start_year..end_year``); duplicate
    unit-years; missing or non-numeric values; negative amounts and non-positive logged
    amounts; 0/1 flags; a cohort year (``first_unit_year``) that varies within a unit or
    contradicts ``first_unit``; absorbing treatments (``pilot_zone``, ``first_unit``) that
    switch off; a time-invariant covariate that varies.

    Parameters
    ----------
    df : DataFrame
        Canonical frame from :func:`~evalkit.data.read_table` (rows are named by file line) or
        any frame with canonical or aliased headers (rows named by index label).
    start_year, end_year : int, optional
        The requested range; a year outside it is an error.
    year : int, optional
        The evaluation year (``--year``). Rows after it are set aside (``report.set_aside``,
        with a note), years far outside the data's range are refused as typos, and every unit
        active in a year (:func:`evalkit.data.masters.active_units`) must have a row in every
        year from the data's first year to ``year``.
    allow_missing : bool, default False
        With ``year``: accept missing unit-years (an unbalanced panel; ``report.missing`` lists
        them and a note says so) instead of refusing them.
    raise_on_error : bool, default True
        Raise :class:`PanelDataError` listing every problem (the report is attached as
        ``err.report``). With False, return the frame as far as it could be typed, with the
        report (``attrs["validation"]``) holding the problems.

    Returns
    -------
    DataFrame
        Canonical columns in schema order (then any extra columns), codes as text, integers
        as ``int64``, sorted by ``unit_code, year`` with a fresh index. Identifier columns come
        from the unit master. ``attrs["validation"]`` is the :class:`ValidationReport`.

    Warns
    -----
    CodeRecodedWarning
        When old codes were recoded through the crosswalk (every recoded row is in the report).
    ImplausibleValueWarning
        For each value more than 50 times its unit's own median, or less than 1/50 of it
        (``report.warnings``).

    Examples
    --------
    >>> from evalkit.data import read_table, validate_panel
    >>> raw = read_table("data_raw/demo/county_panel.csv")
    >>> checked = validate_panel(raw)
    >>> rep = checked.attrs["validation"]
    >>> rep.n_units, len(rep.problems)
    (140, 0)
    """
    source = str(df.attrs.get("source", "<DataFrame>"))
    if "read_notes" not in df.attrs:
        df = normalize_frame(df)
    row_label = df.index.name if df.index.name in ("line", "record") else "row"
    rep = ValidationReport(source=source, row_label=row_label, notes=list(df.attrs.get("read_notes", [])))
    P = rep.problems
    d = df.copy()

    # 1. required columns -------------------------------------------------------------
    for c in SCHEMA:
        if c.required and c.name not in d.columns:
            heads = ", ".join((c.name, *c.aliases[:6]))
            P.append(f"required column {c.name!r} ({c.label_zh}) is missing: add it under one of the "
                     f"accepted headers ({heads}); see data_raw/README.md")

    P.extend(typo_problems(d.columns))

    master = unit_master().set_index("unit_code")
    _check_codes(d, rep, row_label, master)

    # 2b. rows after the evaluation year, far-off years ----------------------------------
    if year is not None and "year" in d.columns:
        after, far, year_problems, year_notes = split_years(d, year=year, row_label=row_label)
        P.extend(year_problems)
        rep.notes.extend(year_notes)
        rep.set_aside = df.loc[after[after].index] if after.any() else rep.set_aside
        d = d.loc[~after & ~far]

    numeric_ok = _check_numeric(d, rep, row_label)
    _check_year_range(d, rep, row_label, start_year, end_year)
    _check_duplicates(d, rep, row_label)
    _check_cohorts(d, df, rep, row_label, numeric_ok)
    _fill_identifiers(d, df, rep, row_label, master)
    _check_gaps(d, rep, master, numeric_ok, year, start_year, end_year, allow_missing)
    have_uy = {"unit_code", "year"} <= set(d.columns)
    size_problems, size_warnings = magnitude_checks(d, row_label=row_label)
    P.extend(size_problems)
    if have_uy and numeric_ok.get("year", False):
        for w in size_warnings + jump_warnings(d, row_label=row_label):
            rep.warnings.append(w)
            warnings.warn(w, ImplausibleValueWarning, stacklevel=2)

    # 8. types, order ------------------------------------------------------------------
    if not P:
        for c in SCHEMA:
            if c.name in d.columns and c.dtype in ("int", "flag"):
                d[c.name] = d[c.name].astype("int64")
            elif c.name in d.columns and c.dtype == "str":
                d[c.name] = d[c.name].astype(object)
    order = [c for c in column_names() if c in d.columns]
    order += [c for c in d.columns if c not in order]
    d = d[order]
    if have_uy and not P:
        d = d.sort_values(["unit_code", "year"], kind="mergesort").reset_index(drop=True)
    rep.n_rows = len(d)
    rep.n_units = int(d["unit_code"].nunique()) if "unit_code" in d.columns else 0
    if "year" in d.columns and d["year"].notna().any():
        rep.years = (int(d["year"].min()), int(d["year"].max()))
    d.attrs = {k: v for k, v in df.attrs.items() if k != "read_notes"}
    d.attrs["validation"] = rep
    if P and raise_on_error:
        err = PanelDataError(P, header=f"{source}: 面板数据有 {len(P)} 个问题，未载入 / {len(P)} problem(s) in "
                                       "the panel; nothing was loaded")
        err.report = rep
        raise err
    return d
