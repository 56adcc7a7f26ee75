"""Small argument validators whose messages name the argument and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import EvalkitError, PanelDataError


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise a message listing the options.

    Parameters
    ----------
    name : str
        Argument name, used in the message.
    value : object
        The value given by the user.
    allowed : iterable
        The accepted values.
    """
    allowed = tuple(allowed)
    if value not in allowed:
        opts = ", ".join(repr(a) for a in allowed)
        raise EvalkitError(f"Invalid argument {name}={value!r}. Expecting one of ({opts}).")
    return value


def check_columns(df: pd.DataFrame, columns: dict[str, str | Sequence[str] | None]) -> None:
    """Check that every named column exists in ``df``.

    Parameters
    ----------
    df : DataFrame
        The data.
    columns : dict
        Mapping of argument name to a column name, a list of column names, or ``None`` (skipped).
    """
    if not isinstance(df, pd.DataFrame):
        raise EvalkitError(f"data must be a pandas DataFrame, got {type(df).__module__}.{type(df).__name__}.")
    missing = []
    for arg, cols in columns.items():
        if cols is None:
            continue
        for c in [cols] if isinstance(cols, str) else list(cols):
            if c not in df.columns:
                missing.append(f"{arg}={c!r}")
    if missing:
        avail = ", ".join(map(str, list(df.columns)[:30]))
        raise EvalkitError(
            "Column(s) not found in the data: "
            + ", ".join(missing)
            + f". Available columns: {avail}. Pass the name of an existing column."
        )


def _row_list(index: Iterable[Any], limit: int = 10) -> str:
    idx = list(index)
    shown = ", ".join(str(i) for i in idx[:limit])
    more = f" (and {len(idx) - limit} more)" if len(idx) > limit else ""
    return shown + more


def check_numeric_complete(df: pd.DataFrame, cols: Sequence[str]) -> None:
    """Raise one error listing every non-numeric or missing cell in ``cols``.

    Row labels in the message are the DataFrame index labels.
    """
    problems = []
    for c in cols:
        s = df[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            coerced = pd.to_numeric(s, errors="coerce")
            bad = s.index[coerced.isna() & s.notna()]
            if len(bad):
                problems.append(
                    f"column {c!r} has non-numeric values in rows {_row_list(bad)}: "
                    "convert them to numbers or remove those rows explicitly"
                )
                continue
            s = coerced
        na = s.index[s.isna()]
        if len(na):
            problems.append(
                f"column {c!r} has {len(na)} missing value(s) in rows {_row_list(na)}: "
                "fill them or drop those rows explicitly before estimating"
            )
        else:
            arr = np.asarray(s, dtype=float)
            if not np.isfinite(arr).all():
                bad = s.index[~np.isfinite(arr)]
                problems.append(f"column {c!r} has infinite values in rows {_row_list(bad)}")
    if problems:
        raise PanelDataError(problems, header="Estimation data are not usable")


def check_unique_panel(df: pd.DataFrame, unit: str, time: str) -> None:
    """Raise if a (unit, time) pair appears more than once, naming the pairs and rows."""
    dup = df.duplicated([unit, time], keep=False)
    if dup.any():
        pairs = df.loc[dup, [unit, time]].drop_duplicates()
        listed = "; ".join(f"{u}/{t}" for u, t in pairs.itertuples(index=False))
        raise PanelDataError(
            [
                f"{int(dup.sum())} rows share a ({unit}, {time}) pair: {listed[:600]}; rows "
                f"{_row_list(df.index[dup])}. Keep one row per unit and period "
                "(aggregate or remove the duplicates)."
            ],
            header="Duplicate unit-period rows",
        )
