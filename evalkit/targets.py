"""The plan's numeric targets and a scorecard against city-level indicators.

The targets are data, not code: ``evalkit/plan_targets.csv`` (shipped in the package) lists each
target with an indicator id, a value, a comparison (``>=``, ``<=``, ``==``, or ``approx`` for the
plan's "about N" (左右): met when the value reaches N less a relative tolerance, exceeding being
fine), a deadline year and an aggregation:

* ``level`` -- the indicator's value in the deadline year must satisfy the comparison;
* ``cumulative`` -- the sum of the yearly values from the plan's start year must;
* ``each_year`` -- every year from the start year to the deadline must.

:func:`scorecard` compares them with a city-year indicators table (``year, indicator_id,
value``) as of an evaluation year. Before a deadline a target is "pending", and the scorecard says
whether the latest value is on the straight path from the baseline (the year before the plan) to
the target.
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
import pandas as pd

from ._shared.exceptions import PanelDataError, SpecError

PLAN_START_YEAR = 2021
COMPARISONS = (">=", "<=", "==", "approx")
AGGREGATIONS = ("level", "cumulative", "each_year")
TARGET_COLUMNS = [
    "indicator_id", "name_zh", "name_en", "target_value", "comparison", "tolerance",
    "deadline", "aggregation", "unit", "section", "source_note",
]
STATUS = ("met", "not_met", "on_track", "off_track", "pending", "no_data")


def load_targets(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and validate a targets table (default: the plan's targets shipped with evalkit).

    Raises
    ------
    SpecError
        Listing every malformed row (1-based data row numbers) and the fix.
    """
    if path is None:
        with resources.files("evalkit").joinpath("plan_targets.csv").open("rb") as fh:
            table = pd.read_csv(fh, dtype={"indicator_id": str})
    else:
        table = pd.read_csv(path, dtype={"indicator_id": str})
    missing = [c for c in TARGET_COLUMNS if c not in table.columns]
    if missing:
        raise SpecError([f"missing column(s) {missing}; expected {TARGET_COLUMNS}"], header="Targets table")
    problems = []
    for i, row in table.iterrows():
        line = i + 2  # header is line 1
        if row["comparison"] not in COMPARISONS:
            problems.append(f"line {line} ({row['indicator_id']}): comparison {row['comparison']!r} not in {COMPARISONS}")
        if row["aggregation"] not in AGGREGATIONS:
            problems.append(f"line {line} ({row['indicator_id']}): aggregation {row['aggregation']!r} not in {AGGREGATIONS}")
        if not np.isfinite(pd.to_numeric(row["target_value"], errors="coerce")):
            problems.append(f"line {line} ({row['indicator_id']}): target_value must be a number")
        if row["comparison"] == "approx" and not (pd.to_numeric(row["tolerance"], errors="coerce") > 0):
            problems.append(f"line {line} ({row['indicator_id']}): comparison 'approx' needs a positive relative tolerance")
        if not np.isfinite(pd.to_numeric(row["deadline"], errors="coerce")):
            problems.append(f"line {line} ({row['indicator_id']}): deadline must be a year")
    dup = table["indicator_id"][table["indicator_id"].duplicated()].tolist()
    if dup:
        problems.append(f"indicator ids repeated: {dup}; keep one row per indicator")
    if problems:
        raise SpecError(problems, header="Targets table has problems")
    table["target_value"] = table["target_value"].astype(float)
    table["deadline"] = table["deadline"].astype(int)
    return table


def _satisfies(value: float, target: float, comparison: str, tolerance: float) -> bool:
    if comparison == ">=":
        return value >= target
    if comparison == "<=":
        return value <= target
    if comparison == "==":
        return bool(np.isclose(value, target))
    # "about N" in the plan (左右): reaching N within the relative tolerance counts; exceeding is fine.
    return value >= target - tolerance * abs(target)


def scorecard(
    indicators: pd.DataFrame,
    year: int,
    targets: pd.DataFrame | None = None,
    *,
    start_year: int = PLAN_START_YEAR,
) -> pd.DataFrame:
    """Compare indicators with targets as of ``year``.

    Parameters
    ----------
    indicators : DataFrame
        Long table with columns ``year``, ``indicator_id``, ``value``.
    year : int
        Evaluation year (data after it are ignored).
    targets : DataFrame, optional
        From :func:`load_targets` (default: the plan's targets).
    start_year : int
        First year of the plan (for cumulative and yearly targets).

    Returns
    -------
    DataFrame
        One row per target: ``indicator_id, name_zh, name_en, unit, target_value, comparison,
        deadline, aggregation, value, value_year, baseline, expected_now, status, years_missed``.
    """
    targets = load_targets() if targets is None else targets
    need = {"year", "indicator_id", "value"}
    if not need <= set(indicators.columns):
        raise PanelDataError([f"indicators table needs columns {sorted(need)}; got {list(indicators.columns)}"],
                             header="City indicators table")
    ind = indicators.copy()
    ind["indicator_id"] = ind["indicator_id"].astype(str)
    bad = ind.index[pd.to_numeric(ind["value"], errors="coerce").isna() & ind["value"].notna()]
    if len(bad):
        raise PanelDataError([f"non-numeric values in rows {list(bad[:10])}: convert or remove them"],
                             header="City indicators table")
    ind["value"] = pd.to_numeric(ind["value"], errors="coerce")
    dup = ind.duplicated(["year", "indicator_id"], keep=False)
    if dup.any():
        pairs = ind.loc[dup, ["indicator_id", "year"]].drop_duplicates().to_records(index=False).tolist()
        raise PanelDataError([f"duplicate (indicator_id, year) pairs: {pairs[:10]}; keep one value per year"],
                             header="City indicators table")
    ind = ind[ind["year"] <= year]
    rows = []
    for _, tg in targets.iterrows():
        series = ind[ind["indicator_id"] == tg["indicator_id"]].set_index("year")["value"].dropna().sort_index()
        rows.append(_score_one(tg, series, year, start_year))
    return pd.DataFrame(rows)


def _score_one(tg: pd.Series, series: pd.Series, year: int, start_year: int) -> dict:
    tol = float(tg["tolerance"]) if pd.notna(tg["tolerance"]) else 0.0
    target, comp, deadline, agg = float(tg["target_value"]), tg["comparison"], int(tg["deadline"]), tg["aggregation"]
    out = {k: tg[k] for k in ("indicator_id", "name_zh", "name_en", "unit", "target_value", "comparison", "deadline", "aggregation")}
    out.update(value=np.nan, value_year=np.nan, baseline=np.nan, expected_now=np.nan, status="no_data", years_missed="")
    if series.empty:
        return out
    last_year = int(series.index.max())
    out["value_year"] = last_year
    baseline = series.get(start_year - 1, np.nan)
    out["baseline"] = baseline
    if agg == "each_year":
        window = series[(series.index >= start_year) & (series.index <= min(year, deadline))]
        if window.empty:
            return out
        missed = [int(y) for y, v in window.items() if not _satisfies(v, target, comp, tol)]
        out["value"] = float(window.iloc[-1])
        out["years_missed"] = ",".join(map(str, missed))
        expected_years = set(range(start_year, min(year, deadline) + 1))
        gaps = sorted(expected_years - set(window.index.astype(int)))
        if missed:
            out["status"] = "not_met" if year >= deadline else "off_track"
        elif gaps:
            out["status"] = "no_data"
            out["years_missed"] = "missing data: " + ",".join(map(str, gaps))
        else:
            out["status"] = "met" if year >= deadline else "on_track"
        return out
    if agg == "cumulative":
        window = series[(series.index >= start_year) & (series.index <= min(year, deadline))]
        value = float(window.sum()) if not window.empty else np.nan
        base_value = 0.0
    else:
        upto = series[series.index <= min(year, deadline)]
        value = float(upto.iloc[-1]) if not upto.empty else np.nan
        out["value_year"] = int(upto.index[-1]) if not upto.empty else np.nan
        base_value = baseline
    out["value"] = value
    if not np.isfinite(value):
        return out
    if year >= deadline:
        if agg == "level" and out["value_year"] != deadline:
            out["status"] = "no_data"
            out["years_missed"] = f"no value for {deadline}"
            return out
        out["status"] = "met" if _satisfies(value, target, comp, tol) else "not_met"
        return out
    if _satisfies(value, target, comp, tol) and comp in (">=", "approx"):
        out["status"] = "on_track"
        return out
    if np.isfinite(base_value):
        frac = (min(year, deadline) - (start_year - 1)) / (deadline - (start_year - 1))
        expected = base_value + frac * (target - base_value)
        out["expected_now"] = expected
        ahead = value >= expected if comp in (">=", "approx", "==") else value <= expected
        out["status"] = "on_track" if ahead else "off_track"
    else:
        out["status"] = "pending"
    return out


def summarise(card: pd.DataFrame) -> dict[str, int]:
    """Counts of targets by status (all statuses present, zero when absent)."""
    counts = card["status"].value_counts().to_dict()
    return {s: int(counts.get(s, 0)) for s in STATUS}


def check_known_ids(card_or_indicators: pd.DataFrame, targets: pd.DataFrame | None = None) -> list[str]:
    """Target ids that have no data at all in an indicators table (to report, not to drop)."""
    targets = load_targets() if targets is None else targets
    ids = set(card_or_indicators["indicator_id"].astype(str))
    return [i for i in targets["indicator_id"] if i not in ids]

