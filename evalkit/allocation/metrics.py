"""Fairness and concentration metrics of an allocation (docs/allocation.md §5) and scenario comparison.

* Gini on amounts, per capita and per need;
* Theil T with the between/within decomposition over groups (counties vs development zones):
  ``T = Σ_g S_g ln(S_g / W_g) + Σ_g S_g T_g`` with ``S_g`` the group's share of money and ``W_g``
  its share of the reference weights (units, or population);
* HHI ``Σ s_i² × 10,000`` and the effective number of recipients ``1 / Σ s_i²``;
* max/min ratio and the top-3 share;

each for this year, last year, a pure-output and a pure-population benchmark allocation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from . import _units
from .rounding import largest_remainder

if TYPE_CHECKING:
    from .engine import Allocation


def gini(x: Sequence[float]) -> float:
    """Gini coefficient ``Σ_i Σ_j |x_i - x_j| / (2 n² μ)`` (0 = equal; NaN if all zero).

    Parameters
    ----------
    x : sequence of float
        Non-negative values.
    """
    a = np.sort(np.asarray(x, dtype=float))
    n = a.size
    if n == 0 or a.sum() == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * a).sum() / (n * a.sum()))


def theil(x: Sequence[float], groups: Sequence[str] | None = None,
          weights: Sequence[float] | None = None) -> dict[str, float]:
    """Theil T index with an exact between/within decomposition.

    Parameters
    ----------
    x : sequence of float
        Amounts (≥ 0); a zero amount contributes 0.
    groups : sequence of str, optional
        Group label per unit (e.g. ``county`` / ``zone``).
    weights : sequence of float, optional
        Reference weights (population); default one per unit.

    Returns
    -------
    dict
        ``total``, ``between``, ``within`` (``between + within == total`` up to float rounding).
    """
    a = np.asarray(x, dtype=float)
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=float)
    if a.sum() <= 0:
        return {"total": float("nan"), "between": float("nan"), "within": float("nan")}
    s = a / a.sum()
    r = w / w.sum()

    def t(si: np.ndarray, ri: np.ndarray) -> float:
        m = si > 0
        return float((si[m] * np.log(si[m] / ri[m])).sum())

    total = t(s, r)
    if groups is None:
        return {"total": total, "between": 0.0, "within": total}
    g = np.asarray(list(groups))
    between = within = 0.0
    for lab in np.unique(g):
        m = g == lab
        S, R = s[m].sum(), r[m].sum()
        if S > 0:
            between += S * np.log(S / R)
            within += S * t(s[m] / S, r[m] / R)
    return {"total": total, "between": float(between), "within": float(within)}


def hhi(x: Sequence[float]) -> tuple[float, float]:
    """Return (HHI on the 0–10,000 scale, effective number of recipients ``1/Σ s²``)."""
    a = np.asarray(x, dtype=float)
    if a.sum() <= 0:
        return float("nan"), float("nan")
    s = a / a.sum()
    h = float((s**2).sum())
    return h * 10_000, 1.0 / h


def _metric_column(amounts: np.ndarray, groups: list[str], pop: np.ndarray | None,
                   need: np.ndarray | None) -> dict[str, float]:
    h, eff = hhi(amounts)
    th = theil(amounts, groups)
    srt = np.sort(amounts)[::-1]
    out = {
        "gini_amount": gini(amounts),
        "theil_total": th["total"], "theil_between": th["between"], "theil_within": th["within"],
        "hhi": h, "effective_n": eff,
        "max_min_ratio": float(srt[0] / srt[-1]) if srt[-1] > 0 else float("nan"),
        "top3_share": float(srt[:3].sum() / srt.sum()) if srt.sum() > 0 else float("nan"),
    }
    if pop is not None:
        out["gini_per_capita"] = gini(amounts / pop)
        pth = theil(amounts, groups, weights=pop)
        out["theil_per_capita"] = pth["total"]
    if need is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = amounts / need
        out["gini_per_need"] = gini(ratio[np.isfinite(ratio)])
    return out


def _benchmark(alloc: Allocation, values: list[Fraction]) -> np.ndarray:
    tot = sum(values, Fraction(0))
    t, u = Fraction(alloc.core.t_alloc), Fraction(alloc.spec.rounding_unit)
    r = largest_remainder([v / tot * t / u for v in values], int(t / u), alloc.codes)
    return np.array([float(a * u) for a in r.amounts], dtype=float)


def metrics(alloc: Allocation, *, population_factor: str | None = None,
            need_factor: str | None = None, output_factor: str | None = None,
            groups: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Fairness and concentration metrics with benchmarks.

    Parameters
    ----------
    alloc : Allocation
    population_factor : str, optional
        Factor id of population (per-capita metrics and the pure-population benchmark). Default:
        the ``population_factor`` of a ``per_capita`` factor of the spec, if any.
    need_factor : str, optional
        Factor id of need for ``gini_per_need``.
    output_factor : str, optional
        Factor id of output for the pure-output benchmark (default: the first ``share`` factor).
    groups : mapping, optional
        ``{unit_code: group}``; default county vs zone from the unit master.

    Returns
    -------
    DataFrame
        Index: metric names; columns: ``this_year``, and where available ``last_year``,
        ``pure_output``, ``pure_population``.

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> m = allocation.metrics(a)
    >>> "this_year" in m.columns, len(m) > 3
    (True, True)
    """
    inp = alloc.inputs
    codes = alloc.codes
    grp = [(groups or {}).get(c) or _units.group_of(c) for c in codes]
    if population_factor is None:
        population_factor = next((f.population_factor for f in alloc.spec.factors
                                  if f.population_factor), None)
    pop_vals = None
    if population_factor is not None:
        pop_vals = inp.population.get(population_factor) or inp.values.get(population_factor)
        if pop_vals is None:
            pop_vals = _factor_values(alloc, population_factor)
    need_vals = None
    if need_factor is not None:
        need_vals = inp.values.get(need_factor) or _factor_values(alloc, need_factor)
    if output_factor is None:
        output_factor = next((f.id for f in alloc.spec.factors if f.transform == "share"), None)
    pop = None if pop_vals is None else np.array([float(v) for v in pop_vals])
    need = None if need_vals is None else np.array([float(v) for v in need_vals])
    cols: dict[str, dict[str, float]] = {
        "this_year": _metric_column(np.array(alloc.core.amounts, dtype=float), grp, pop, need)}
    if all(v is not None for v in inp.last_year):
        cols["last_year"] = _metric_column(np.array([float(v) for v in inp.last_year]), grp, pop,
                                           need)
    if output_factor is not None:
        ov = inp.values.get(output_factor) or _factor_values(alloc, output_factor)
        cols["pure_output"] = _metric_column(_benchmark(alloc, ov), grp, pop, need)
    if pop_vals is not None:
        cols["pure_population"] = _metric_column(_benchmark(alloc, list(pop_vals)), grp, pop, need)
    return pd.DataFrame(cols)


def _factor_values(alloc: Allocation, fid: str) -> list[Fraction]:
    d = alloc.factors.data
    sub = d[(d["year"] == alloc.spec.data_year) & (d["factor_id"] == fid)]
    vals = dict(zip(sub["unit_code"], sub["value"], strict=True))
    missing = [c for c in alloc.codes if not isinstance(vals.get(c), float)
               or np.isnan(vals.get(c))]
    if missing:
        raise EvalkitError(f"factor {fid!r} has no numeric {alloc.spec.data_year} value for "
                           f"units {missing}; choose another factor or complete the data.")
    return [Fraction(repr(vals[c])) for c in alloc.codes]


def read_history(obj: Any) -> dict[int, dict[str, float]]:
    """Past years' amounts as ``{year: {unit_code: 万元}}``.

    Parameters
    ----------
    obj : mapping, DataFrame or path
        ``{year: {code: amount}}``; or a long table (CSV/XLSX or frame) with columns
        ``year, unit_code, amount_wan`` (Chinese headers 年份, 单位代码, 分配金额 also read);
        合计/小计 rows are skipped.

    Examples
    --------
    >>> from evalkit.allocation import read_history
    >>> h = read_history({2023: {"370702": 1000}, 2024: {"370702": 1100}})
    >>> sorted(h), h[2024]["370702"]
    ([2023, 2024], 1100.0)
    """
    if isinstance(obj, Mapping):
        return {int(y): {str(c): float(v) for c, v in m.items()} for y, m in obj.items()}
    if not isinstance(obj, pd.DataFrame):
        from pathlib import Path

        from ..data.reader import read_raw_table

        p = Path(obj)
        if not p.is_file():
            raise EvalkitError(f"history file not found / 找不到历年分配文件: {p}")
        obj = read_raw_table(p, is_known=set(_HISTORY_HEADERS) | set(_HISTORY_HEADERS.values()))
    df = obj.rename(columns=_HISTORY_HEADERS)
    need = {"year", "unit_code", "amount_wan"}
    if not need <= set(df.columns):
        raise EvalkitError(f"history needs the columns year, unit_code, amount_wan (年份, 单位代码, "
                           f"分配金额); found {list(df.columns)}.")
    out: dict[int, dict[str, float]] = {}
    bad: list[str] = []
    for line, y, c, v in zip(df.index, df["year"], df["unit_code"], df["amount_wan"], strict=True):
        c = str(c).strip()
        if _units.is_aggregate(c) or _units.is_aggregate(str(y).strip()):
            continue
        year, amount = pd.to_numeric(y, errors="coerce"), pd.to_numeric(v, errors="coerce")
        if pd.isna(year) or pd.isna(amount) or year != int(year) or not np.isfinite(amount):
            bad.append(f"{line} ({c}: {y!s} / {v!s})")
            continue
        out.setdefault(int(year), {})[c] = float(amount)
    if bad:
        raise EvalkitError(
            "历年分配表中以下行的年份或金额不是数字（或为空）/ rows of the history table whose year or "
            f"amount is not a number (or is blank): {', '.join(bad[:10])}"
            + (f" … ({len(bad)} rows)" if len(bad) > 10 else "")
            + ". 请填写整数年份和金额（未分配填 0）/ Fill in a whole-number year and an amount (0 when "
            "nothing was allocated)."
        )
    return out


_HISTORY_HEADERS = {"年份": "year", "年度": "year", "单位代码": "unit_code", "分配金额": "amount_wan",
                    "分配金额(万元)": "amount_wan", "分配金额（万元）": "amount_wan", "金额": "amount_wan"}


def years_view(alloc: Allocation, history: Any, n_years: int = 3) -> pd.DataFrame:
    """This year's amounts against the last ``n_years`` years' amounts, with 小计 and 合计.

    Parameters
    ----------
    alloc : Allocation or PooledAllocation
        With separate pools, one 小计 per pool (``<pool name>小计``), else one for the counties
        and one for the development zones.
    history : mapping, DataFrame or path
        Past amounts (see :func:`read_history`); years before ``alloc.spec.year`` are used.
    n_years : int
        How many past years to show (the most recent ones).

    Returns
    -------
    DataFrame
        ``unit_code, name_zh, row_kind``, one column per past year, ``this_year``,
        ``change_last`` (vs the latest past year), ``change_last_pct``, ``mean_past`` and
        ``change_mean_pct`` (vs the mean of the shown past years).

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> past = {2024: {code: 1000.0 for code in a.continuous_series().index}}
    >>> view = allocation.years_view(a, past)
    >>> {"this_year", "change_last"} <= set(view.columns)
    True
    """
    hist = read_history(history)
    years = sorted(y for y in hist if y < alloc.spec.year)[-n_years:]
    if not years:
        raise EvalkitError(f"history has no year before {alloc.spec.year}; years: {sorted(hist)}.")
    # groups with a 小计 each: the pools of a spec with pools, else counties and zones
    pools = getattr(alloc, "pools", None)
    parts_of = [(f"{pname}小计", a) for _, pname, a in pools] if pools else [(None, alloc)]
    rows = []
    for label, a in parts_of:
        for c in (c for c in a.table["unit_code"] if c != "合计"):
            rows.append({"unit_code": c, "name_zh": a.name(c),
                         "group": label or _units.group_of(c),
                         **{str(y): hist[y].get(c, np.nan) for y in years},
                         "this_year": float(a.amounts.get(c, 0))})
    body = pd.DataFrame(rows)
    parts = []
    ycols = [str(y) for y in years] + ["this_year"]
    groups = ([(label, label) for label, _ in parts_of] if pools else
              [(_units.COUNTY, "县（市、区）小计"), (_units.ZONE, "开发区小计")])
    for grp, label in groups:
        g = body[body["group"] == grp].sort_values("unit_code", kind="mergesort")
        if g.empty:
            continue
        parts.append(g.assign(row_kind="unit"))
        parts.append(pd.DataFrame([{"unit_code": "", "name_zh": label, "row_kind": "subtotal",
                                    **{k: g[k].sum(min_count=len(g)) for k in ycols}}]))
    parts.append(pd.DataFrame([{"unit_code": "合计", "name_zh": "合计", "row_kind": "total",
                                **{k: body[k].sum(min_count=len(body)) for k in ycols}}]))
    df = pd.concat(parts, ignore_index=True).drop(columns="group")
    last = df[str(years[-1])]
    df["change_last"] = df["this_year"] - last
    with np.errstate(divide="ignore", invalid="ignore"):
        df["change_last_pct"] = np.where(last != 0, df["change_last"] / last * 100, np.nan)
        df["mean_past"] = df[[str(y) for y in years]].mean(axis=1, skipna=False)
        df["change_mean_pct"] = np.where(df["mean_past"] != 0,
                                         (df["this_year"] - df["mean_past"]) / df["mean_past"]
                                         * 100, np.nan)
    return df
