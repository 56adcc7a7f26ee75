"""The tables researchers have, turned into what the estimators expect, once, at the door.

:func:`panel_input` decorates a public estimator whose first argument is ``data``:

* a polars ``DataFrame``/``LazyFrame`` or a pyarrow ``Table`` is converted to pandas once;
* a datetime ``time`` column (and a datetime ``cohort`` column) holding one date per year is
  converted to integer years, and the result's ``notes`` say so; datetimes with several dates in
  a year are refused (evalkit's estimators count periods, and months are not years);
* a ``cohort`` column holding only 0 and 1 while the periods are years is refused as what it
  almost surely is: a treatment dummy, not the first treated period.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd

from .exceptions import EvalkitError, PanelDataError


def as_pandas(data: Any) -> pd.DataFrame:
    """``data`` as a pandas DataFrame (polars and pyarrow tables converted; pandas returned as is).

    Examples
    --------
    >>> import pandas as pd
    >>> as_pandas(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    if isinstance(data, pd.DataFrame):
        return data
    module = type(data).__module__.split(".")[0]
    if module == "polars" and hasattr(data, "collect") and not hasattr(data, "to_pandas"):
        data = data.collect()  # a LazyFrame
    if module in ("polars", "pyarrow") and hasattr(data, "to_pandas"):
        return data.to_pandas()
    raise EvalkitError(
        f"data must be a table (pandas DataFrame, polars DataFrame or pyarrow Table), got "
        f"{type(data).__module__}.{type(data).__name__}. Convert it with pandas.DataFrame(...) first."
    )


def _years(values: pd.Series, column: str, role: str) -> pd.Series:
    """Integer years of a datetime column with one date per year; refuse anything finer."""
    dates = pd.Series(pd.unique(values.dropna()))
    per_year = dates.groupby(dates.dt.year).nunique()
    if (per_year > 1).any():
        year = int(per_year.index[per_year > 1][0])
        shown = sorted(dates[dates.dt.year == year])[:3]
        raise PanelDataError(
            f"{role} column {column!r} holds datetimes with several dates in one year (e.g. "
            f"{', '.join(str(d.date()) for d in shown)}). evalkit's estimators count periods, and "
            "only yearly dates can be read as periods. Aggregate the data to one row per unit "
            "and year, or pass integer periods (for months: 12 * year + month)."
        )
    return values.dt.year.astype("Int64")


def _datetime_to_years(df: pd.DataFrame, kwargs: dict) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    converted = {}
    for role in ("time", "cohort"):
        col = kwargs.get(role)
        if not isinstance(col, str) or col not in df.columns:
            continue
        if not pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        years = _years(df[col], col, role)
        if role == "cohort":
            years = years.fillna(0)  # NaT = never treated
        converted[col] = years.astype("int64") if not years.isna().any() else years.astype(float)
        notes.append(f"{role} column {col!r} held yearly dates; they were converted to years "
                     f"({int(converted[col].min())}..{int(converted[col].max())}).")
    if converted:
        df = df.assign(**converted)
    return df, notes


def check_not_a_dummy(df: pd.DataFrame, cohort: str, time: str, unit: str | None = None) -> None:
    """Refuse a 0/1 ``cohort`` column when 1 is not a period of the data (a treatment dummy).

    Raises
    ------
    PanelDataError
        Saying that the column looks like a treatment indicator and how to build a cohort.
    """
    if cohort not in df.columns or time not in df.columns:
        return
    g, t = df[cohort], df[time]
    if not (pd.api.types.is_numeric_dtype(g) and pd.api.types.is_numeric_dtype(t)):
        return
    vals = set(pd.unique(g.dropna()))
    if not vals or not vals <= {0, 1} or 1 not in vals or (t == 1).any():
        return
    n1 = int((g == 1).sum())
    raise PanelDataError(
        f"cohort column {cohort!r} holds only 0 and 1 ({n1} rows equal 1), but the periods in "
        f"{time!r} run {t.min():g}..{t.max():g}: it looks like a treatment dummy, not the first "
        "treated period. The cohort must hold the period in which each unit is first treated (0 "
        "for never treated). From a treated-in-period dummy D build it with\n"
        f"    data['cohort'] = data[{time!r}].where(data['D'] == 1).groupby(data[{unit or '<unit>'!r}])"
        ".transform('min').fillna(0)\n"
        "and pass cohort='cohort' (mpdta ships it as 'first.treat')."
    )


def _add_notes(result: Any, notes: list[str]) -> None:
    for obj in (result, getattr(result, "att_gt", None)):
        existing = getattr(obj, "notes", None)
        if isinstance(existing, list):
            existing.extend(n for n in notes if n not in existing)


#: Column arguments recorded on results (``extra["columns"]``: tables, depvar, cluster variable).
COLUMN_ROLES = ("outcome", "unit", "time", "cohort", "treatment", "group", "post", "cluster", "weights")


def _record_columns(result: Any, kwargs: dict) -> None:
    extra = getattr(result, "extra", None)
    if isinstance(extra, dict):
        extra.setdefault("columns", {r: kwargs[r] for r in COLUMN_ROLES if isinstance(kwargs.get(r), str)})


def _call_keeping_warning_locations(func: Callable, df, args, kwargs):
    """Call ``func``; warnings it points at this wrapper are re-issued at the caller's line.

    Estimators warn with ``stacklevel`` counted for a direct call; the decorator adds one frame,
    which would point those warnings here instead of at the user's code.
    """
    caller = sys._getframe(2)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            return func(df, *args, **kwargs)
    finally:  # also when func raises: its warnings explain the error
        for w in caught:
            if w.filename == __file__:
                warnings.warn_explicit(
                    w.message, w.category, caller.f_code.co_filename, caller.f_lineno,
                    module=caller.f_globals.get("__name__", "__main__"),
                    registry=caller.f_globals.setdefault("__warningregistry__", {}),
                )
            else:  # (module=None would make warn_explicit drop the warning)
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def panel_input(func: Callable) -> Callable:
    """Decorator: convert ``data`` and yearly datetimes once, refuse a 0/1 cohort (see module)."""

    @functools.wraps(func)
    def wrapper(data, *args, **kwargs):
        df = as_pandas(data)
        df, notes = _datetime_to_years(df, kwargs)
        if isinstance(kwargs.get("cohort"), str) and isinstance(kwargs.get("time"), str):
            check_not_a_dummy(df, kwargs["cohort"], kwargs["time"], kwargs.get("unit"))
        result = _call_keeping_warning_locations(func, df, args, kwargs)
        if notes:
            _add_notes(result, notes)
        _record_columns(result, kwargs)
        return result

    return wrapper


__all__ = ["as_pandas", "check_not_a_dummy", "panel_input"]
