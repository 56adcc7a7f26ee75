"""The plan's numeric targets and a scorecard against city-level indicators.

The targets are data, not code: ``evalkit/plan_targets.csv`` (shipped in the package) lists each
target with an indicator id, a value, a comparison (``>=`` for the plan's "以上", ``<=``, ``==``,
or ``approx`` for its "about N" (左右): met when the value reaches N less the relative
``tolerance``, exceeding being fine), a deadline year, the target type in the plan's words, the
baseline year, the data source and the department the plan makes responsible:

* 期末 (``level``) -- the indicator's value in the deadline year must satisfy the comparison;
* 累计 (``cumulative``) -- the sum of the yearly values from the plan's start year must;
* 每年 (``each_year``) -- every year from the start year to the deadline must.

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
#: The plan's words for the target types and the aggregation each one means.
TARGET_TYPES = {"期末": "level", "累计": "cumulative", "每年": "each_year"}
TARGET_COLUMNS = [
    "indicator_id", "name_zh", "name_en", "target_value", "comparison", "tolerance",
    "deadline", "target_type", "unit", "section", "source_note",
]
#: Optional columns (filled with missing values when a custom table lacks them).
OPTIONAL_COLUMNS = ["baseline_year", "data_source_zh", "data_source_en", "department_zh", "department_en"]
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
    if "target_type" not in table.columns and "aggregation" in table.columns:  # older tables
        reverse = {v: k for k, v in TARGET_TYPES.items()}
        table["target_type"] = table["aggregation"].map(lambda a: reverse.get(a, a))
    missing = [c for c in TARGET_COLUMNS if c not in table.columns]
    if missing:
        raise SpecError([f"missing column(s) {missing}; expected {TARGET_COLUMNS}"], header="Targets table")
    problems = []
    for i, row in table.iterrows():
        line = i + 2  # header is line 1
        if row["comparison"] not in COMPARISONS:
            problems.append(f"line {line} ({row['indicator_id']}): comparison {row['comparison']!r} not in {COMPARISONS}")
        if row["target_type"] not in TARGET_TYPES and row["target_type"] not in AGGREGATIONS:
            problems.append(f"line {line} ({row['indicator_id']}): target_type {row['target_type']!r} not one of "
                            f"{tuple(TARGET_TYPES)} (期末 = value in the deadline year, 累计 = sum since "
                            f"{PLAN_START_YEAR}, 每年 = every year)")
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
    table["aggregation"] = table["target_type"].map(lambda v: TARGET_TYPES.get(v, v))
    table["target_type"] = table["aggregation"].map({v: k for k, v in TARGET_TYPES.items()})
    for col in OPTIONAL_COLUMNS:
        if col not in table.columns:
            table[col] = PLAN_START_YEAR - 1 if col == "baseline_year" else np.nan
    table["baseline_year"] = pd.to_numeric(table["baseline_year"], errors="coerce").fillna(PLAN_START_YEAR - 1).astype(int)
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
        deadline, aggregation, value, value_year, baseline, expected_now, status, years_missed,
        completion, worst_year``. For a yearly (每年) target, ``value``, ``value_year`` and
        ``completion`` are those of its worst year (the one that decides whether it is met), so the
        row never shows a year that met the target beside a status that says it was not.
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
    keep = ("indicator_id", "name_zh", "name_en", "unit", "target_value", "comparison", "tolerance", "deadline",
            "aggregation", "target_type", "section", "baseline_year", "data_source_zh", "data_source_en",
            "department_zh", "department_en")
    out = {k: tg.get(k, np.nan) for k in keep}
    out["tolerance"] = tol
    out.update(value=np.nan, value_year=np.nan, baseline=np.nan, expected_now=np.nan, status="no_data", years_missed="",
               completion=np.nan, worst_year=np.nan)
    if series.empty:
        return out
    last_year = int(series.index.max())
    out["value_year"] = last_year
    baseline = series.get(int(tg.get("baseline_year", start_year - 1)), np.nan)
    out["baseline"] = baseline
    if agg == "each_year":
        window = series[(series.index >= start_year) & (series.index <= min(year, deadline))]
        if window.empty:
            return out
        missed = [int(y) for y, v in window.items() if not _satisfies(v, target, comp, tol)]
        ratios = window.map(lambda v: _completion(v, target, comp))
        # a yearly target is as good as its worst year: value, year and completion all of that year
        worst = int(ratios.idxmin())
        out["value"] = float(window.loc[worst])
        out["value_year"] = worst
        out["completion"] = float(ratios.min())
        out["worst_year"] = worst
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
    if agg == "cumulative" and not window.empty:
        out["value_year"] = int(window.index[-1])
    if not np.isfinite(value):
        return out
    out["completion"] = _completion(value, target, comp)
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


def _completion(value: float, target: float, comparison: str) -> float:
    """完成率: actual / target (target / actual for "at most" targets), as a fraction."""
    if not np.isfinite(value) or target == 0:
        return np.nan
    if comparison == "<=":
        return float(target / value) if value > 0 else np.nan
    return float(value / target)


def threshold(row) -> float:
    """The value that meets a target: the target itself, or less the tolerance for "about N"."""
    target = float(row["target_value"])
    if row["comparison"] == "approx":
        return target - float(row["tolerance"]) * abs(target)
    return target


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _unit(row, language: str) -> str:
    from .report.labels import unit_of_measure

    unit = unit_of_measure(row["unit"], language)
    if unit == "%":
        return "%"
    return ("" if language == "zh" else " ") + unit if unit else ""


_NUMERALS = dict(zip("一二三四五六七八九十", range(1, 11), strict=True))


def section_text(section, language: str = "zh") -> str:
    """A plan section reference in ``language`` (``"三(四)3"`` -> ``"3(4)3"`` in English).

    Examples
    --------
    >>> section_text("三(二)1", "en")
    '3(2)1'
    >>> section_text("潍政字〔2021〕12号", "en")
    'Wei Zheng Zi [2021] No. 12'
    """
    import re

    text = "" if section is None or (isinstance(section, float) and section != section) else str(section)
    if language == "zh" or not text:
        return text
    doc = re.fullmatch(r"潍政字〔(\d+)〕(\d+)号", text)
    if doc:
        return f"Wei Zheng Zi [{doc.group(1)}] No. {doc.group(2)}"
    return "".join(str(_NUMERALS[ch]) if ch in _NUMERALS else ch for ch in text)


#: label key of each comparison's rule sentence ("approx" has its own, with the tolerance)
RULE_KEYS = {">=": "rule_at_least", "<=": "rule_at_most", "==": "rule_exactly"}


def rule_text(row, language: str = "zh") -> str:
    """The rule a target is scored by, in words (``"4,000家左右（不低于3,800家，容差5%）"``).

    Examples
    --------
    >>> rule_text({"target_value": 300, "comparison": ">=", "tolerance": 0, "unit": "家"}, "zh")
    '300家以上'
    >>> rule_text({"target_value": 10, "comparison": "approx", "tolerance": 0.1, "unit": "个"}, "en")
    'about 10 (at least 9, tolerance 10%)'
    """
    from .report.labels import t

    unit = _unit(row, language)
    tgt = f"{_num(float(row['target_value']))}{unit}"
    comp = row["comparison"]
    if comp in RULE_KEYS:
        return t(RULE_KEYS[comp], language).format(target=tgt)
    return t("rule_about", language).format(target=tgt, low=f"{_num(threshold(row))}{unit}",
                                            pct=f"{100 * float(row['tolerance']):g}%")


def reason_text(row, year: int, language: str = "zh") -> str:
    """Why a target is not met, off track or without data (empty for met / on-track targets).

    Parameters
    ----------
    row : mapping
        One row of :func:`scorecard`.
    year : int
        Evaluation year.
    language : {"zh", "en"}
        Language of the sentence.
    """
    from .report.labels import join_list, t

    status, agg = row["status"], row["aggregation"]
    unit = _unit(row, language)
    if status in ("met", "on_track"):
        return ""
    if status == "pending":
        return t("reason_no_baseline", language)
    if status == "no_data":
        missed = str(row.get("years_missed") or "")
        gaps = missed.replace("missing data: ", "") if missed.startswith("missing data") else ""
        if gaps:
            return t("reason_no_data_years", language).format(years=gaps)
        deadline = int(row["deadline"])
        if agg == "level" and year >= deadline:
            return t("reason_no_data_years", language).format(years=deadline)
        return t("reason_no_indicator", language)
    rule = rule_text(row, language)
    value = f"{_num(float(row['value']))}{unit}"
    if agg == "each_year":
        years = join_list(str(row.get("years_missed") or "").split(","), language)
        return t("reason_short_each_year", language).format(years=years, rule=rule)
    if agg == "cumulative":
        return t("reason_short_cumulative", language).format(since=PLAN_START_YEAR, value=value, rule=rule)
    if status == "off_track":
        return t("reason_behind_path", language).format(
            year=int(row["value_year"]), value=value, expected=f"{_num(float(row['expected_now']))}{unit}")
    return t("reason_short", language).format(year=int(row["value_year"]), value=value, rule=rule)


def cumulative_series(series: pd.Series, start_year: int = PLAN_START_YEAR) -> pd.Series:
    """Running total of yearly values from the plan's start year (what a 累计 target is scored on)."""
    window = series[series.index >= start_year].sort_index()
    return window.cumsum()


def summarise(card: pd.DataFrame) -> dict[str, int]:
    """Counts of targets by status (all statuses present, zero when absent)."""
    counts = card["status"].value_counts().to_dict()
    return {s: int(counts.get(s, 0)) for s in STATUS}


def check_known_ids(card_or_indicators: pd.DataFrame, targets: pd.DataFrame | None = None) -> list[str]:
    """Target ids that have no data at all in an indicators table (to report, not to drop)."""
    targets = load_targets() if targets is None else targets
    ids = set(card_or_indicators["indicator_id"].astype(str))
    return [i for i in targets["indicator_id"] if i not in ids]

