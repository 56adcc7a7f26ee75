"""Panel checks run before any analysis: years, coverage, implausible jumps, header typos, double counting.

These are the checks of :func:`evalkit.data.validate_panel` that look across rows rather than at
one cell:

* :func:`split_years` — rows after the evaluation year are set aside (a 2026 file can rebuild
  the 2025 pack) and years far outside the data's range (a 2041 typo) are refused;
* :func:`missing_unit_years` — every unit of the unit master active in a year is expected in
  every year from the data's first year to the evaluation year;
* :func:`jump_warnings` — a unit-year more than :data:`JUMP_FACTOR` times (or less than
  1/:data:`JUMP_FACTOR` of) the unit's own median, e.g. 元 written under a 万元 header;
* :func:`typo_problems` — an unknown column that looks like a schema column ("did you mean
  value_added_wan?");
* :func:`reported_within_checks` — units whose figures a host unit's statistics already include.

Each function returns messages; :func:`evalkit.data.validate_panel` collects them so that every
problem is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitWarning
from .masters import active_units
from .schema import ALIASES, DERIVED, SCHEMA, normalize_header

#: A value more than this many times its unit's own median (or less than its reciprocal) is warned about.
JUMP_FACTOR = 50.0

#: A year more than this many years beyond the data's main range is refused as a likely typo.
FAR_YEARS = 2

#: Columns checked for implausible jumps: amounts that a wrong unit of measure scales.
JUMP_COLUMNS = ("revenue_wan", "value_added_wan", "n_firms", "rd_wan", "energy_tce", "employment",
                "population_10k")

#: Prefix that keeps an extra column without the typo check.
EXTRA_PREFIX = "extra_"

_LISTED = 12


class ImplausibleValueWarning(EvalkitWarning):
    """A value is far from its unit's own median (a unit-of-measure slip?).

    Examples
    --------
    >>> import warnings
    >>> from evalkit.data import ImplausibleValueWarning
    >>> issubclass(ImplausibleValueWarning, UserWarning)
    True
    >>> from evalkit.data import load_panel
    >>> with warnings.catch_warnings():  # once the flagged jumps have been reviewed
    ...     warnings.simplefilter("ignore", ImplausibleValueWarning)
    ...     panel = load_panel("data_raw/demo")
    ...
    >>> len(panel)
    1960
    """


def year_ranges(years: Iterable[int]) -> str:
    """Compact text of years: ``2012-2014, 2019``.

    Parameters
    ----------
    years : iterable of int

    Returns
    -------
    str

    Examples
    --------
    >>> year_ranges([2019, 2012, 2013, 2014])
    '2012-2014, 2019'
    """
    ys = sorted({int(y) for y in years})
    parts: list[str] = []
    i = 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        parts.append(str(ys[i]) if i == j else f"{ys[i]}-{ys[j]}")
        i = j + 1
    return ", ".join(parts)


def _labels(index: Iterable[object], label: str) -> str:
    idx = list(index)
    shown = ", ".join(map(str, idx[:_LISTED])) + (f" (and {len(idx) - _LISTED} more)" if len(idx) > _LISTED else "")
    return f"{label}{'s' if len(idx) != 1 else ''} {shown}"


def main_years(years: pd.Series) -> tuple[int, int]:
    """First and last year of the data's main range: years holding at least a quarter of the
    rows of the fullest year.

    Parameters
    ----------
    years : Series of numbers
        The ``year`` column (missing values ignored).

    Returns
    -------
    (first, last) : tuple of int
    """
    counts = years.dropna().astype(int).value_counts()
    core = counts.index[counts >= 0.25 * counts.max()]
    return int(core.min()), int(core.max())


def split_years(d: pd.DataFrame, *, year: int, row_label: str) -> tuple[pd.Series, pd.Series, list[str], list[str]]:
    """Which rows fall after the evaluation year, and which years are far outside the data.

    Parameters
    ----------
    d : DataFrame
        The panel with a ``year`` column (text or numbers).
    year : int
        The evaluation year (``--year``).
    row_label : str
        How rows are named (``line``, ``record``, ``row``).

    Returns
    -------
    (after, far, problems, notes)
        Boolean Series: rows after ``year`` to set aside; rows with a year far outside the
        data's main range (refused). ``problems`` name the far rows; ``notes`` the set-aside rows.
    """
    y = pd.to_numeric(d["year"], errors="coerce")
    if y.notna().sum() == 0:
        none = pd.Series(False, index=d.index)
        return none, none, [], []
    lo, hi = main_years(y)
    far = y.notna() & ((y > max(hi, year) + FAR_YEARS) | (y < lo - FAR_YEARS))
    problems = []
    for v in sorted(pd.unique(y[far])):
        rows = d.index[far & (y == v)]
        units = ", ".join(list(map(str, pd.unique(d.loc[rows, "unit_code"])))[:_LISTED]) \
            if "unit_code" in d.columns else ""
        problems.append(
            f"年份 {int(v)} 远离数据年份 {lo}-{hi}，疑为笔误 / year {int(v)} is far outside the data's "
            f"years {lo}-{hi} ({_labels(rows, row_label)}{'; unit ' + units if units else ''}): "
            "a typo? Correct the year or remove the row")
    after = y.notna() & (y > year) & ~far
    notes = []
    if after.any():
        by_year = ", ".join(f"{int(v)} ({int((y[after] == v).sum())} rows)" for v in sorted(pd.unique(y[after])))
        notes.append(f"rows after --year {year} set aside, not used: {by_year}; {_labels(d.index[after], row_label)}")
    return after, far, problems, notes


def missing_unit_years(d: pd.DataFrame, *, first: int, last: int) -> pd.DataFrame:
    """Unit-years expected but absent: every unit active in a year (see
    :func:`evalkit.data.masters.active_units`) for every year ``first..last``.

    Parameters
    ----------
    d : DataFrame
        Panel with ``unit_code`` and ``year`` (codes already recoded to current ones).
    first, last : int
        Year range.

    Returns
    -------
    DataFrame
        ``unit_code, name_zh, year`` of the missing unit-years, sorted.

    Examples
    --------
    >>> panel = pd.DataFrame({"unit_code": ["370702"], "year": [2024]})
    >>> miss = missing_unit_years(panel, first=2024, last=2024)
    >>> len(miss), "370702" in set(miss["unit_code"])
    (139, False)
    """
    have = set(zip(d["unit_code"].astype(str), pd.to_numeric(d["year"]).astype(int), strict=True))
    rows = []
    for yr in range(int(first), int(last) + 1):
        act = active_units(yr)
        rows += [(c, n, yr) for c, n in zip(act["unit_code"], act["name_zh"], strict=True) if (c, yr) not in have]
    out = pd.DataFrame(rows, columns=["unit_code", "name_zh", "year"])
    return out.sort_values(["unit_code", "year"], kind="mergesort").reset_index(drop=True)


def describe_missing(missing: pd.DataFrame, *, first: int, last: int) -> str:
    """One message listing missing unit-years by unit (Chinese and English).

    Parameters
    ----------
    missing : DataFrame
        From :func:`missing_unit_years`.
    first, last : int
        The expected year range.

    Returns
    -------
    str
    """
    per_year = missing.groupby("year")["unit_code"].nunique()
    whole = [int(y) for y, n in per_year.items() if n == len(active_units(int(y)))]
    clauses = []
    if whole:
        clauses.append(f"没有 {year_ranges(whole)} 年的任何数据 / no rows at all for {year_ranges(whole)}: bring the "
                       "data through --year, or choose an earlier --year")
    rest = missing[~missing["year"].isin(whole)]
    if len(rest):
        by_unit = rest.groupby(["unit_code", "name_zh"], sort=True)["year"].apply(list)
        parts = [f"{c} {n}: {year_ranges(ys)}" for (c, n), ys in by_unit.items()]
        shown = "; ".join(parts[:_LISTED]) + (f"; ... and {len(parts) - _LISTED} more units"
                                               if len(parts) > _LISTED else "")
        clauses.append(f"{len(rest)} unit-year(s) of {len(parts)} unit(s) missing / 缺少 {len(rest)} 个单位-年份"
                       f"（{len(parts)} 个单位）: {shown}")
    return (f"expected unit-years are missing (every unit active in a year is expected in every year "
            f"{first}-{last}) / 面板缺少应有的单位-年份: " + "; ".join(clauses))


def jump_warnings(d: pd.DataFrame, *, row_label: str, factor: float = JUMP_FACTOR) -> list[str]:
    """Unit-years whose value is more than ``factor`` times the unit's own median, or less than
    its ``1/factor`` part.

    Parameters
    ----------
    d : DataFrame
        Typed panel (numeric columns as floats) with ``unit_code`` and ``year``; the index names
        the rows (file lines).
    row_label : str
        How rows are named.
    factor : float
        The ratio that counts as implausible.

    Returns
    -------
    list of str
        One message per column and unit, naming the unit-years and rows.
    """
    out = []
    for col in JUMP_COLUMNS:
        if col not in d.columns or not pd.api.types.is_numeric_dtype(d[col]):
            continue
        s = d[col].astype(float)
        med = s.where(s > 0).groupby(d["unit_code"]).transform("median")
        ratio = s / med
        bad = med.notna() & (s > 0) & np.isfinite(s) & ((ratio > factor) | (ratio < 1.0 / factor))
        for uc in pd.unique(d.loc[bad, "unit_code"]):
            m = bad & (d["unit_code"] == uc)
            cells = ", ".join(f"{int(yr)} ({r:,.4g}×)" for yr, r in zip(d.loc[m, "year"], ratio[m], strict=True))
            out.append(f"数值异常跳变 / implausible jump: {col} of {uc} in {cells} of its own median "
                       f"{med[m].iloc[0]:,.6g} ({_labels(d.index[m], row_label)}): a unit slip (元 under a 万元 "
                       "header, 亿元 as 万元)? Check the source")
    return out


#: Values no county-level unit can reach in a year: about the whole of Shandong province
#: (industrial revenue ≈ 10 万亿元 = 1e9 万元; R&D < 1e8 万元; energy < 1e9 吨标准煤; about 1 亿 people).
IMPOSSIBLE_ABOVE = {"revenue_wan": 1e9, "value_added_wan": 1e9, "rd_wan": 1e8, "energy_tce": 1e9,
                    "employment": 1e8, "population_10k": 2e4}

#: Above-scale (规模以上) industrial firms have an annual revenue of at least 2,000 万元 each.
ABOVE_SCALE_WAN = 2000.0


def magnitude_checks(d: pd.DataFrame, *, row_label: str) -> tuple[list[str], list[str]]:
    """Values that cannot be right for a county-level unit, whatever the unit's history.

    A value above :data:`IMPOSSIBLE_ABOVE` (the size of the whole province) is a problem — almost
    always 元 written under a 万元 header. Revenue below half of :data:`ABOVE_SCALE_WAN` per
    above-scale firm (``revenue_wan / n_firms``) is warned about — often 亿元 written as 万元.

    Parameters
    ----------
    d : DataFrame
        Typed panel; the index names the rows.
    row_label : str

    Returns
    -------
    (problems, warnings) : lists of str
    """
    problems, warns = [], []
    for col, top in IMPOSSIBLE_ABOVE.items():
        if col in d.columns and pd.api.types.is_numeric_dtype(d[col]):
            big = np.isfinite(d[col]) & (d[col] > top)
            if big.any():
                problems.append(
                    f"column {col!r} exceeds {top:,.0f} (about the whole of Shandong) in "
                    f"{_labels(d.index[big], row_label)}: a unit slip (元 under a 万元 header)? Write the unit in "
                    f"the header, e.g. 营业收入(元), so it is converted / {col} 数值超过全省总量，疑为单位错误")
    if {"revenue_wan", "n_firms"} <= set(d.columns) and pd.api.types.is_numeric_dtype(d["revenue_wan"]) \
            and pd.api.types.is_numeric_dtype(d["n_firms"]):
        per_firm = d["revenue_wan"] / d["n_firms"].where(d["n_firms"] > 0)
        low = per_firm.notna() & (per_firm < ABOVE_SCALE_WAN / 2)
        if low.any():
            warns.append(
                f"revenue_wan per above-scale firm is below {ABOVE_SCALE_WAN / 2:,.0f} 万元 (each such firm has at "
                f"least {ABOVE_SCALE_WAN:,.0f} 万元) in {_labels(d.index[low], row_label)}: 亿元 written as 万元? "
                "Check the unit of revenue / 规上企业户均营业收入过低，请检查单位")
    return problems, warns


def _candidates() -> dict[str, str]:
    names = {normalize_header(c.name): c.name for c in SCHEMA}
    names.update({normalize_header(n): n for n, *_ in DERIVED})
    names.update({k: v for k, v in ALIASES.items() if k.isascii() or len(k) >= 3})
    return names


def typo_problems(columns: Iterable[object]) -> list[str]:
    """Unknown columns that look like a schema column: "did you mean value_added_wan?".

    Columns starting with :data:`EXTRA_PREFIX` are kept as extras without this check.

    Parameters
    ----------
    columns : iterable
        Column names after header mapping (schema columns already renamed).

    Returns
    -------
    list of str

    Examples
    --------
    >>> typo_problems(["unit_code", "value_aded_wan", "extra_value_aded"])[0][:60]
    "column 'value_aded_wan' is not a schema column: did you mean"
    """
    known = _candidates()
    canon = set(known.values())
    out = []
    for col in columns:
        name = str(col)
        if name in canon or name.startswith(EXTRA_PREFIX) or name.startswith("Unnamed: "):
            continue
        key = normalize_header(name)
        base = key.split("_(")[0].split("(")[0]
        hit = difflib.get_close_matches(base, list(known), n=1, cutoff=0.8) or \
            difflib.get_close_matches(key, list(known), n=1, cutoff=0.8)
        if hit:
            target = known[hit[0]]
            out.append(f"column {name!r} is not a schema column: did you mean {target!r}? / 列 {name!r} 不在"
                       f"数据字典中，是否应为 {target!r}？ Rename it (or prefix it with '{EXTRA_PREFIX}' to keep "
                       "it as an extra column)")
    return out


def reported_within_checks(d: pd.DataFrame, known_codes: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Check units declared as reported within a host unit.

    Parameters
    ----------
    d : DataFrame
        Typed panel with ``unit_code``, ``year`` and ``reported_within`` (blank = separate).
    known_codes : set of str
        Codes of the unit master.

    Returns
    -------
    (problems, notes, warnings) : lists of str
        A host that is not a known unit, or the unit itself, is a problem; each contained unit
        gets a note; a contained unit whose revenue exceeds its host's in a year is warned about.
    """
    problems: list[str] = []
    notes: list[str] = []
    warns: list[str] = []
    host = d["reported_within"].fillna("").astype(str).str.strip()
    inside = host != ""
    for uc in pd.unique(d.loc[inside, "unit_code"]):
        hosts = sorted(set(host[inside & (d["unit_code"] == uc)]))
        if len(hosts) > 1 or hosts[0] == uc or hosts[0] not in known_codes:
            problems.append(f"reported_within of {uc} is {', '.join(hosts)}: it must be one known unit code other "
                            "than the unit itself / reported_within 应为另一个已知单位代码")
            continue
        notes.append(f"{uc} is reported within {hosts[0]} (its figures are part of {hosts[0]}'s): Weifang-wide "
                     f"totals count them once, through {hosts[0]} / {uc} 的数据已含在 {hosts[0]} 中，合计时不重复计算")
        if "revenue_wan" in d.columns:
            own = d.loc[d["unit_code"] == uc].set_index("year")["revenue_wan"]
            par = d.loc[d["unit_code"] == hosts[0]].set_index("year")["revenue_wan"]
            over = own.index[(own > par.reindex(own.index)).to_numpy()]
            if len(over):
                warns.append(f"revenue_wan of {uc} exceeds that of {hosts[0]}, which should include it, in "
                             f"{year_ranges(over)}: check reported_within or the figures")
    return problems, notes, warns


def separately_reported(panel: pd.DataFrame) -> pd.Series:
    """Rows whose figures are not already inside another unit's (``reported_within`` blank).

    Parameters
    ----------
    panel : DataFrame
        A loaded panel.

    Returns
    -------
    Series of bool

    Examples
    --------
    >>> from evalkit.data import load_panel, separately_reported
    >>> df = load_panel("data_raw/demo")
    >>> bool(separately_reported(df).all())
    True
    """
    if "reported_within" not in panel.columns:
        return pd.Series(True, index=panel.index)
    return panel["reported_within"].fillna("").astype(str).str.strip() == ""


def weifang_total(panel: pd.DataFrame, column: str) -> pd.Series:
    """Weifang-wide total of a column by year, counting every figure once.

    Units reported within a host unit (``reported_within``) are left out: their figures are
    already in the host's.

    Parameters
    ----------
    panel : DataFrame
        A loaded panel (``in_weifang``, ``year`` and the column).
    column : str
        An additive column such as ``revenue_wan``.

    Returns
    -------
    Series
        Indexed by year.

    Examples
    --------
    >>> p = pd.DataFrame({"unit_code": ["A", "B", "C"], "year": [2024] * 3, "in_weifang": [1, 1, 0],
    ...                   "reported_within": ["", "A", ""], "revenue_wan": [10.0, 4.0, 99.0]})
    >>> float(weifang_total(p, "revenue_wan").loc[2024])
    10.0
    """
    keep = (panel["in_weifang"] == 1) & separately_reported(panel)
    return panel.loc[keep].groupby("year")[column].sum()


def finite_problems(d: pd.DataFrame, columns: Iterable[str], *, row_label: str) -> list[str]:
    """Infinite values (``inf``, ``1e400``) in numeric columns.

    Parameters
    ----------
    d : DataFrame
    columns : iterable of str
    row_label : str

    Returns
    -------
    list of str
    """
    out = []
    for c in columns:
        if c in d.columns and pd.api.types.is_numeric_dtype(d[c]):
            inf = np.isinf(d[c].astype(float))
            if inf.any():
                out.append(f"column {c!r} is infinite in {_labels(d.index[inf], row_label)}: write the figure "
                           f"/ {c} 列有无穷大值，请填写实际数值")
    return out
