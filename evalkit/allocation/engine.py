"""The allocation engine (docs/allocation.md §2), in exact rational arithmetic.

Steps: validate the data against the spec (one error listing every problem) → apply the
missing-data rules (logged) → transform each factor to a share vector → composite share →
performance coefficient and renormalisation → base plus factor increment → floors, caps and
hold-harmless by water-filling → rounding to whole 万元 → table and audit trail.

Every number is a :class:`fractions.Fraction` built from the decimal text of the input, so the
result does not depend on the platform, the row order or floating-point noise. Units are always
processed in unit-code order.

Monotonicity (docs/allocation.md §3 invariant 4) holds for ``share``, ``inverse_share``,
``per_capita`` and ``ratio_to_mean`` factors with any performance coefficients, and for
``minmax_shift`` / ``zscore_shift`` / ``zscore`` factors when every coefficient is equal and no floor or cap binds: raising the
minimum of a min-max factor lowers the other units' scores unevenly, and unequal coefficients, or
a unit pushed onto its floor, can then move money away from the raised unit (counterexamples of
both are kept in the tests).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import PanelDataError, SpecError
from ..data.reader import read_raw_table
from . import _units
from .constraints import water_fill
from .factors import FactorTable, read_factors
from .rounding import largest_recipient, largest_remainder
from .spec import AllocationSpec, FactorSpec, load_spec_collecting

TOTAL_LABEL = "合计"


def _frac(v: Any) -> Fraction:
    """Exact Fraction of a number as its shortest decimal text (0.1 → 1/10)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    return Fraction(repr(float(v)))


def _plain_num(x: Fraction) -> str:
    """A Fraction as short text for messages (integer, or decimal to 6 places)."""
    return str(int(x)) if x.denominator == 1 else f"{float(x):.6g}"


def _evalkit_version() -> str:
    try:
        from .. import __version__
    except ImportError:  # pragma: no cover - the package always defines it
        return "unknown"
    return __version__


# ------------------------------------------------------------------------------------------
# inputs


@dataclass
class Inputs:
    """Data of one run, validated and aligned to the included units (sorted by code).

    Attributes
    ----------
    codes : list of str
        Included units in code order.
    excluded : dict
        ``{code: reason}`` for units left out (spec ``exclude`` or missing rule ``exclude_unit``).
    values : dict
        ``{factor_id: [Fraction per unit]}`` after unit conversion and missing-data rules.
    population : dict
        ``{factor_id: [Fraction per unit]}`` for the population factors of ``per_capita``.
    raw : dict
        ``{factor_id: [value or None]}`` as read (before missing rules), in the spec's unit.
    status : dict
        ``{factor_id: [status]}`` (``reported``/``revised``/``imputed``/``missing``→rule applied).
    coefficient : list of Fraction
        Performance coefficient per unit (1 without a performance block).
    grade : list of str or None
    last_year : list of Fraction or None
        Last year's amounts (万元) per unit, ``None`` where unknown.
    log : list of dict
        Every missing-data rule applied and every note (``kind, unit_code, factor_id, detail``).
    sources : dict
        ``{factor_id: "source text"}`` from the factor table.
    award_values : dict
        ``{factor_id: [Fraction per unit]}`` of the factors that per-point awards measure.
    """

    codes: list[str]
    excluded: dict[str, str]
    values: dict[str, list[Fraction]]
    population: dict[str, list[Fraction]]
    raw: dict[str, list[Any]]
    status: dict[str, list[str]]
    coefficient: list[Fraction]
    grade: list[str | None]
    last_year: list[Fraction | None]
    log: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    uom: dict[str, str] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    award_values: dict[str, list[Fraction]] = field(default_factory=dict)


def read_last_year(obj: Any) -> dict[str, Fraction]:
    """Last year's amounts as ``{unit_code: Fraction 万元}``.

    Parameters
    ----------
    obj : Allocation, mapping, Series, DataFrame or path
        A previous :class:`Allocation`; ``{code: amount}``; a Series indexed by code; a frame or a
        CSV/XLSX with ``unit_code`` and ``amount_wan`` (or ``last_year_wan`` / 金额) columns. A
        ``合计`` row is ignored.

    Examples
    --------
    >>> from evalkit.allocation import read_last_year
    >>> last = read_last_year({"370702": 1200, "370703": 800.5})
    >>> {code: str(v) for code, v in last.items()}
    {'370702': '1200', '370703': '1601/2'}
    """
    if obj is None:
        return {}
    if isinstance(obj, Allocation):
        return {c: Fraction(a) for c, a in obj.amounts.items()}
    if isinstance(obj, Mapping):
        return {str(k): _frac(v) for k, v in obj.items()}
    if isinstance(obj, pd.Series):
        return {str(k): _frac(v) for k, v in obj.items() if str(k) != TOTAL_LABEL and pd.notna(v)}
    if isinstance(obj, (str, Path)):
        p = Path(obj)
        if not p.is_file():
            raise SpecError([f"找不到上年分配文件 / last-year file not found: {p}"],
                            header="上年分配数据无法读取 / Last year's amounts cannot be read")
        obj = read_raw_table(p, is_known={"unit_code", "单位代码", "amount_wan", "分配金额(万元)",
                                          "分配金额", "金额", "amount", "last_year_wan"})
    if isinstance(obj, pd.DataFrame):
        df = obj.rename(columns={"单位代码": "unit_code"})
        if "amount_wan" not in df.columns:
            for alt in ("分配金额(万元)", "分配金额", "金额", "amount", "last_year_wan"):
                if alt in df.columns:
                    df = df.rename(columns={alt: "amount_wan"})
                    break
        if not {"unit_code", "amount_wan"} <= set(df.columns):
            raise SpecError(["上年分配表需要 unit_code 和 amount_wan 两列 / last year's table needs the "
                             f"columns unit_code and amount_wan; found {list(df.columns)}"],
                            header="上年分配数据无法读取 / Last year's amounts cannot be read")
        out = {}
        bad = []
        for c, a in zip(df["unit_code"], df["amount_wan"], strict=True):
            c = str(c).strip()
            if c.endswith(".0") and c[:-2].isdigit():
                c = c[:-2]
            if c in (TOTAL_LABEL, "total", "nan") or pd.isna(a):
                continue
            try:
                out[c] = _frac(a)
            except (TypeError, ValueError):
                bad.append(f"{c}={a!r}")
        if bad:
            raise SpecError([f"上年分配金额不是数字 / last year's amounts are not numbers: "
                             f"{', '.join(bad[:10])}"],
                            header="上年分配数据无法读取 / Last year's amounts cannot be read")
        return out
    raise SpecError([f"无法识别的上年分配数据类型 / unsupported last_year type {type(obj).__name__}"])


def _check_recipients(spec: AllocationSpec, table: FactorTable, allowed: list[str],
                      problems: list[str]) -> None:
    """Refuse aggregate rows, unknown or merged codes in the data year and in ``units``."""
    dy = spec.data_year
    d = table.data
    bad: dict[str, list[str]] = {}
    for c in sorted(set(d.loc[d["year"] == dy, "unit_code"])):
        why = _units.classify(c, spec.year, allowed, name=table.names.get(c))
        if why is None:
            continue
        rows = table.rows_of(c, dy)
        shown = ", ".join(map(str, rows[:12])) + (" …" if len(rows) > 12 else "")
        name = table.names.get(c) or _units.name_of(c)
        label = c if name == c else f"{c} {name}"
        bad.setdefault(why.kind, []).append(
            f"{table.source} 第 {shown} 行 / rows {shown}: `{label}` — {why.zh} / {why.en}")
    for kind in ("aggregate", "merged", "not_unit", "unknown"):
        for msg in bad.get(kind, []):
            problems.append(msg)
    if bad:
        problems.append(f"{spec.year} 年可受益单位（单位主表 evalkit/data/masters）/ recipients in "
                        f"{spec.year} (unit master): {', '.join(allowed)}")
    for j, c in enumerate(spec.include):
        why = _units.classify(c, spec.year, allowed)
        if why is not None:
            problems.append(f"{spec.where('units', 'include', j)}: `{c}` — {why.zh} / {why.en}; "
                            "units 只能从受益单位中选择 / units must be a subset of the recipients")


def _prepare(spec: AllocationSpec, table: FactorTable, last: dict[str, Fraction],
             recipients: list[str] | None = None) -> Inputs:
    problems: list[str] = []
    allowed = _units.recipients(spec.year) if recipients is None else list(recipients)
    _check_recipients(spec, table, allowed, problems)
    if problems:
        raise SpecError(problems, header=f"因素表或方案中有 {len(problems)} 处不是受益单位，未计算也未写出任何文件 / "
                        f"{len(problems)} problem(s) with who may receive money; nothing was "
                        "computed or written")
    log: list[dict[str, Any]] = []
    d = table.data
    dy = spec.data_year
    fids = spec.factor_ids
    pops = sorted({f.population_factor for f in spec.factors if f.population_factor} - set(fids))
    award_fs = sorted({a.factor for a in spec.awards} - set(fids) - set(pops))
    perf_f = spec.performance.source_factor if spec.performance else None
    needed = fids + pops + award_fs + ([perf_f] if perf_f else [])
    cur = d[(d["year"] == dy) & d["factor_id"].isin(needed)]
    if cur.empty:
        problems.append(
            f"{spec.where('data_year')}: 因素表中没有 {dy} 年的数据（分配年度 {spec.year} 使用 {dy} 年数据）；"
            f"表中年份：{table.years()} / the factor table has no rows for data year {dy} (allocation "
            f"year {spec.year} uses data of {dy}); years present: {table.years()}. Set data_year in "
            "the spec or supply the data.")
        raise SpecError(problems, header="分配输入有问题 / The allocation inputs have problems")
    present = set(d.loc[d["year"] == dy, "factor_id"])
    for i, f in enumerate(spec.factors):
        if f.id not in present:
            problems.append(f"{spec.where('factors', i, 'id')}: 因素 `{f.id}` 在因素表 {dy} 年中不存在；"
                            f"表中因素：{', '.join(sorted(present))} / factor `{f.id}` is not in the "
                            f"factor table for {dy}; factors present: {', '.join(sorted(present))}")
    for pf in pops:
        if pf not in present:
            problems.append(f"{spec.where('factors')}: 人口因素 `{pf}` 在因素表 {dy} 年中不存在 / population "
                            f"factor `{pf}` (per_capita) is not in the factor table for {dy}")
    for j, a in enumerate(spec.awards):
        if a.factor not in present:
            problems.append(f"{spec.where('awards', j, 'factor')}: 奖补 `{a.id}` 的因素 `{a.factor}` 在因素表 "
                            f"{dy} 年中不存在 / factor `{a.factor}` of award `{a.id}` is not in the "
                            f"factor table for {dy}")
    table_codes = sorted(set(cur["unit_code"]))
    absent = [] if spec.include or recipients is not None else [
        c for c in allowed if c not in table_codes and c not in spec.exclude]
    if spec.include:
        for j, c in enumerate(spec.include):
            if c not in table_codes:
                problems.append(f"{spec.where('units', 'include', j)}: 未知单位代码 `{c}`，因素表 {dy} 年中没有；"
                                f"已有：{', '.join(table_codes)} / unknown unit code `{c}`: not in the "
                                f"factor table for {dy}; known: {', '.join(table_codes)}")
        universe = sorted(set(spec.include))
    else:
        universe = table_codes
    for j, c in enumerate(spec.exclude):
        if c not in table_codes and c not in spec.include and c not in allowed:
            problems.append(f"{spec.where('units', 'exclude', j)}: 未知单位代码 `{c}` / unknown unit code "
                            f"`{c}`; known: {', '.join(table_codes)}")
    excluded: dict[str, str] = {c: "方案排除 / excluded by the spec" for c in spec.exclude}
    universe = [c for c in universe if c not in excluded]
    for key, mapping in (("floor_wan", spec.floor_units), ("cap_wan", spec.cap_units)):
        for c in mapping:
            if c not in universe and c not in excluded:
                problems.append(f"{spec.where('constraints', key, c)}: 未知单位代码 `{c}`；参与单位："
                                f"{', '.join(universe)} / unknown unit code `{c}`; units in this run: "
                                f"{', '.join(universe)}")
    if spec.performance:
        for c in spec.performance.grades:
            if c not in universe and c not in excluded:
                problems.append(f"{spec.where('performance', 'grades', c)}: 未知单位代码 `{c}` / unknown "
                                f"unit code `{c}`; units in this run: {', '.join(universe)}")

    lookup = table.lookup

    values: dict[str, list[Any]] = {}
    raw: dict[str, list[Any]] = {}
    status: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    uoms: dict[str, str] = {}
    drop_units: dict[str, str] = {}
    fspecs: dict[str, FactorSpec | None] = {f.id: f for f in spec.factors}
    for pf in pops + award_fs:
        fspecs[pf] = None
    for fid, fs in fspecs.items():
        if fid not in present:
            continue
        idx = fids.index(fid) if fid in fids else None
        rows = lookup(dy, fid)
        prev = lookup(dy - 1, fid)
        rule = fs.missing if fs is not None else "error"
        src = sorted({r.source for r in rows.values() if r.source})
        sources[fid] = "; ".join(src)
        col_uoms = sorted({r.unit_of_measure for c, r in rows.items()
                           if c in universe and r.unit_of_measure})
        expect = fs.unit_of_measure if fs is not None else None
        where = spec.where("factors", idx, "unit_of_measure") if idx is not None else spec.where(
            "factors")
        if expect is None and len(col_uoms) > 1:
            problems.append(f"{where}: 因素 `{fid}` 的计量单位不一致（{', '.join(col_uoms)}），请在方案中声明 "
                            f"unit_of_measure 和 convert / factor `{fid}` mixes units of measure "
                            f"({', '.join(col_uoms)}); declare unit_of_measure and convert in the spec")
        uoms[fid] = expect or (col_uoms[0] if col_uoms else "")
        vals: list[Any] = []
        rws: list[Any] = []
        sts: list[str] = []
        bad_uom: dict[str, list[str]] = {}
        for c in universe:
            r = rows.get(c)
            v = None if r is None else r.value
            st = "missing" if r is None else r.status
            if isinstance(v, float) and math.isnan(v):
                v = None
                st = "missing"
            if isinstance(v, str):
                problems.append(f"{table.source}: 单位 {c} 因素 `{fid}` 的值 {v!r} 不是数字 / unit {c}, "
                                f"factor `{fid}`: value {v!r} is not a number")
                v = None
            if v is not None and expect is not None and r.unit_of_measure and \
                    r.unit_of_measure != expect:
                if r.unit_of_measure in fs.convert:
                    v = _frac(v) * fs.convert[r.unit_of_measure]
                    log.append({"kind": "convert", "unit_code": c, "factor_id": fid,
                                "detail": f"{r.unit_of_measure} → {expect} ×"
                                          f"{fs.convert[r.unit_of_measure]}"})
                else:
                    bad_uom.setdefault(r.unit_of_measure, []).append(c)
                    v = None
                    st = "bad_unit"
            elif v is not None:
                v = _frac(v)
            rws.append(v)
            if v is None and st != "bad_unit":
                v, st = _apply_missing(spec, fs, fid, rule, c, prev, dy, problems, log, drop_units,
                                       idx)
            vals.append(v)
            sts.append(st)
        for u, cs in bad_uom.items():
            problems.append(
                f"{where}: 因素 `{fid}` 在单位 {', '.join(cs)} 的计量单位为 {u}，方案要求 {expect}；请统一数据"
                f"或在方案中声明 convert: {{{u}: 系数}} / factor `{fid}`: units {', '.join(cs)} report "
                f"{u} but the spec expects {expect}; fix the data or declare convert: {{{u}: factor}}")
        values[fid], raw[fid], status[fid] = vals, rws, sts
    # impute_share needs the other units' values: second pass
    for fid, fs in fspecs.items():
        if fid not in values or fs is None or fs.missing != "impute_share":
            continue
        _impute_share(spec, table, fid, universe, values[fid], status[fid], dy, problems, log)
    for c, why in drop_units.items():
        excluded[c] = why
    keep = [i for i, c in enumerate(universe) if c not in drop_units]
    codes = [universe[i] for i in keep]
    for fid in list(values):
        values[fid] = [values[fid][i] for i in keep]
        raw[fid] = [raw[fid][i] for i in keep]
        status[fid] = [status[fid][i] for i in keep]
    if not codes and not problems:
        problems.append("没有参与分配的单位 / no unit is left to allocate to")

    # value checks per transform
    for i, f in enumerate(spec.factors):
        vals = values.get(f.id)
        if vals is None:
            continue
        complete = all(v is not None for v in vals)
        w = spec.where("factors", i, "transform")
        if f.transform in ("share", "per_capita") or (f.transform == "ratio_to_mean"
                                                       and f.direction == "+"):
            neg = [c for c, v in zip(codes, vals, strict=True) if v is not None and v < 0]
            if neg:
                problems.append(f"{w}: 因素 `{f.id}` 使用 {f.transform}，但单位 {', '.join(neg)} 的值为负；份额要求"
                                f"非负，增速等可正可负的指标请用 minmax_shift 或 zscore_shift / factor "
                                f"`{f.id}` uses {f.transform} but units {', '.join(neg)} have negative "
                                "values; shares need values ≥ 0 (use minmax_shift or zscore_shift for "
                                "signed indicators such as growth rates)")
            elif complete and f.weight > 0 and sum(vals, Fraction(0)) == 0:
                problems.append(f"{w}: 因素 `{f.id}` 所有单位均为 0，无法计算份额 / factor `{f.id}` is zero "
                                "for every unit, so its share is undefined; drop it or set weight 0")
        if f.transform == "zscore" and complete and len(vals) > 0:
            low = [c for c, v in zip(codes, zscores(f, vals), strict=True)
                   if f.score_base + f.score_scale * v <= 0]
            if low:
                problems.append(f"{w}: 因素 `{f.id}` 的标准分 {_plain_num(f.score_base)} + "
                                f"{_plain_num(f.score_scale)} × z 在单位 {', '.join(low)} 不为正，"
                                "无法计算份额；请提高 score_base 或改用 zscore_shift / factor "
                                f"`{f.id}`: the standard score {_plain_num(f.score_base)} + "
                                f"{_plain_num(f.score_scale)} × z is ≤ 0 for units {', '.join(low)}, "
                                "so no share can be formed; raise score_base or use zscore_shift")
        if f.transform == "inverse_share" or (f.transform in ("per_capita", "ratio_to_mean")
                                              and f.direction == "-"):
            bad = [c for c, v in zip(codes, vals, strict=True) if v is not None and v <= 0]
            if bad:
                problems.append(f"{w}: 因素 `{f.id}` 使用 {f.transform}（逆向），单位 {', '.join(bad)} 的值不为正 / "
                                f"factor `{f.id}` uses {f.transform} (less is more) but units "
                                f"{', '.join(bad)} have values ≤ 0 (1/x needs x > 0)")
        if f.transform == "per_capita" and f.population_factor in values:
            pv = values[f.population_factor]
            bad = [c for c, v in zip(codes, pv, strict=True) if v is not None and v <= 0]
            if bad:
                problems.append(f"{w}: 人口因素 `{f.population_factor}` 在单位 {', '.join(bad)} 不为正 / "
                                f"population `{f.population_factor}` is ≤ 0 for units "
                                f"{', '.join(bad)}")

    # performance coefficients
    coef = [Fraction(1)] * len(codes)
    grades: list[str | None] = [None] * len(codes)
    if spec.performance:
        pm = spec.performance
        trows = lookup(dy, pm.source_factor) if pm.source_factor else {}
        for j, c in enumerate(codes):
            g: Any = pm.grades.get(c)
            if g is None and c in trows:
                g = trows[c].value
                if isinstance(g, float):
                    g = None if math.isnan(g) else (str(int(g)) if g.is_integer() else repr(g))
            if g is None:
                if pm.default is not None:
                    g = pm.default
                    log.append({"kind": "grade_default", "unit_code": c, "factor_id": pm.source_factor,
                                "detail": f"无绩效等级，按默认 {g} / no grade, default {g} used"})
                else:
                    problems.append(f"{spec.where('performance')}: 单位 {c} 没有绩效等级；请补充或设置 "
                                    f"performance.default / unit {c} has no performance grade; "
                                    "supply it or set performance.default")
                    continue
            g = str(g)
            if g not in pm.map:
                problems.append(f"{spec.where('performance', 'map')}: 单位 {c} 的绩效等级 {g!r} 不在 map 中"
                                f"（{', '.join(pm.map)}）/ unit {c}: grade {g!r} is not in map "
                                f"({', '.join(pm.map)})")
                continue
            grades[j] = g
            coef[j] = pm.map[g]

    # last year
    last_v: list[Fraction | None] = [last.get(c) for c in codes]
    if spec.base_share > 0 or spec.hold_harmless > 0:
        miss = [c for c, v in zip(codes, last_v, strict=True) if v is None]
        if not last:
            field_ = "base.share_of_last_year" if spec.base_share > 0 else \
                "constraints.hold_harmless"
            problems.append(f"{spec.where(*field_.split('.'))}: 方案使用上年金额（{field_}），但未提供上年分配 "
                            "（--last-year / last_year=）/ the spec uses last year's amounts "
                            f"({field_}) but none were given (--last-year / last_year=)")
        elif miss:
            problems.append(f"上年分配缺少单位 {', '.join(miss)} / last year's amounts lack units "
                            f"{', '.join(miss)}; add them (0 if they received nothing)")
    if codes and not any("last year" in p for p in problems):
        lo, hi = bounds(spec, codes, last_v)
        t = spec.t_alloc
        lo_d, hi_d = declared_bounds(spec, codes, last_v)
        u = spec.rounding_unit
        if sum(lo) > t:
            why = ""
            if sum(lo_d) <= t:
                why = (f"；按方案声明的保底合计为 {float(sum(lo_d)):,.2f} 万元，本可行，但每个保底须向上取整到 "
                       f"{u} 万元的整数倍后才超出 / the declared floors add up to "
                       f"{float(sum(lo_d)):,.2f} 万元, which fits: rounding each floor up to a "
                       f"multiple of {u} 万元 makes them exceed T_alloc")
            problems.append(
                f"{spec.where('constraints')}: 保底合计（取整后）{float(sum(lo)):,.0f} 万元超过可分配额 {t:,} 万元"
                f" / floors sum to {float(sum(lo)):,.0f} 万元 (after rounding), more than T_alloc = "
                f"{t:,} 万元; lower floor_wan / hold_harmless or raise total_wan{why}")
        if all(h is not None for h in hi) and sum(hi) < t:
            why = ""
            if sum(hi_d) >= t:
                why = (f"；按方案声明的上限合计为 {float(sum(hi_d)):,.2f} 万元，本可行，但每个上限须向下取整到 "
                       f"{u} 万元的整数倍后才不足 / the declared caps add up to "
                       f"{float(sum(hi_d)):,.2f} 万元, which fits: rounding each cap down to a "
                       f"multiple of {u} 万元 makes them fall short")
            problems.append(
                f"{spec.where('constraints')}: 上限合计（取整后）{float(sum(hi)):,.0f} 万元低于可分配额 {t:,} 万元"
                f" / caps sum to {float(sum(hi)):,.0f} 万元 (after rounding), less than T_alloc = "
                f"{t:,} 万元; raise cap_wan / cap_share or lower total_wan{why}")
    for c in sorted(set(last) - set(codes) - set(excluded)):
        log.append({"kind": "note", "unit_code": c, "factor_id": "",
                    "detail": "上年有分配但本年不参与 / in last year's table but not in this run"})
    if problems:
        raise SpecError(problems, header=f"分配输入有 {len(problems)} 个问题，未计算也未写出任何文件 / "
                        f"The allocation inputs have {len(problems)} problem(s); nothing was "
                        "computed or written")
    pop_vals = {f.population_factor: values[f.population_factor] for f in spec.factors
                if f.population_factor}
    for c in _zero_share_units(spec, codes, values, pop_vals, coef):
        log.append({"kind": "zero_share", "unit_code": c, "factor_id": "",
                    "detail": "各因素值均为 0（或绩效系数为 0），综合份额为 0，只能得到保底额 / every factor "
                              "value is 0 (or the coefficient is 0): share 0, the unit gets only its "
                              "floor"})
    return Inputs(codes=codes, excluded=excluded, values={f: values[f] for f in fids},
                  population=pop_vals, raw={f: raw[f] for f in fids},
                  status={f: status[f] for f in fids}, coefficient=coef, grade=grades,
                  last_year=last_v, log=log, sources=sources, uom=uoms, absent=absent,
                  award_values={a.factor: values[a.factor] for a in spec.awards})


def _zero_share_units(spec: AllocationSpec, codes: list[str], values: dict[str, list[Any]],
                      pop: dict[str, list[Any]], coef: list[Fraction]) -> list[str]:
    """Units whose composite share × coefficient is 0 (they can only get their floor)."""
    if not codes:
        return []
    weighted = [f for f in spec.factors if f.weight != 0]
    # a composite of 0 needs every weighted factor at its minimum (cheap pre-check)
    at_min = [all(values[f.id][i] == min(values[f.id]) for f in weighted) or coef[i] == 0
              for i in range(len(codes))]
    if not any(at_min):
        return []
    score = [Fraction(0)] * len(codes)
    for f in spec.factors:
        if f.weight == 0:
            continue
        z = transform(f, values[f.id], pop.get(f.population_factor))
        score = [a + f.weight * b for a, b in zip(score, z, strict=True)]
    return [c for c, v, p in zip(codes, score, coef, strict=True) if v * p == 0]


def _apply_missing(spec: AllocationSpec, fs: FactorSpec | None, fid: str, rule: str, code: str,
                   prev: dict, dy: int, problems: list[str], log: list[dict], drop: dict,
                   idx: int | None) -> tuple[Any, str]:
    where = spec.where("missing", fid) if fid in spec.document.data.get("missing", {}) else \
        spec.where("factors", idx) if idx is not None else spec.where("factors")
    if rule == "error":
        problems.append(f"{where}: 单位 {code} 缺少因素 `{fid}`（{dy} 年），规则为 error；请补充数据或在 missing 中"
                        f"设置 zero / carry_forward / impute_share / exclude_unit / unit {code} has no "
                        f"value for factor `{fid}` ({dy}) and the rule is error; supply it or set a "
                        "missing rule (zero, carry_forward, impute_share, exclude_unit)")
        return None, "missing"
    if rule == "zero":
        log.append({"kind": "missing:zero", "unit_code": code, "factor_id": fid,
                    "detail": "缺失视同为 0（视同放弃）/ missing counted as 0 (item forfeited)"})
        return Fraction(0), "zero"
    if rule == "carry_forward":
        r = prev.get(code)
        v = None if r is None else r.value
        if v is None or isinstance(v, str) or (isinstance(v, float) and math.isnan(v)):
            problems.append(f"{where}: 单位 {code} 因素 `{fid}` 缺失，carry_forward 需要 {dy - 1} 年数据但也缺失 / "
                            f"unit {code}, factor `{fid}`: carry_forward needs the {dy - 1} value, "
                            "which is missing too")
            return None, "missing"
        log.append({"kind": "missing:carry_forward", "unit_code": code, "factor_id": fid,
                    "detail": f"沿用 {dy - 1} 年数值 {v} / carried forward the {dy - 1} value {v}"})
        return _frac(v), "carry_forward"
    if rule == "impute_share":
        return None, "impute_share"
    if rule == "exclude_unit":
        drop[code] = f"缺少因素 {fid}，按规则不参与分配 / missing factor {fid}, excluded by rule"
        log.append({"kind": "missing:exclude_unit", "unit_code": code, "factor_id": fid,
                    "detail": "缺失，单位不参与本次分配 / missing, unit excluded from this run"})
        return Fraction(0), "exclude_unit"
    raise AssertionError(rule)  # pragma: no cover - rules are validated in spec.py


def _impute_share(spec: AllocationSpec, table: FactorTable, fid: str, universe: list[str],
                  vals: list[Any], sts: list[str], dy: int, problems: list[str],
                  log: list[dict]) -> None:
    miss = [i for i, st in enumerate(sts) if st == "impute_share"]
    if not miss:
        return
    d = table.data
    sub = d[(d["year"] == dy - 1) & (d["factor_id"] == fid)]
    prev = {r.unit_code: r.value for r in sub.itertuples(index=False)}
    pv = []
    for c in universe:
        v = prev.get(c)
        if v is None or isinstance(v, str) or (isinstance(v, float) and math.isnan(v)):
            problems.append(f"{spec.where('missing', fid)}: impute_share 需要 {dy - 1} 年所有单位的 `{fid}`，"
                            f"单位 {c} 缺失 / impute_share needs `{fid}` of {dy - 1} for every unit; "
                            f"{c} is missing")
            return
        pv.append(_frac(v))
    tot_prev = sum(pv, Fraction(0))
    miss_share = sum((pv[i] / tot_prev for i in miss), Fraction(0)) if tot_prev else Fraction(0)
    reported = sum((v for i, v in enumerate(vals) if i not in miss and v is not None), Fraction(0))
    if tot_prev == 0 or miss_share >= 1:
        problems.append(f"{spec.where('missing', fid)}: impute_share 无法计算（上年合计为 0 或全部缺失）/ "
                        f"impute_share is undefined for `{fid}` (last year's total is 0 or every "
                        "unit is missing)")
        return
    for i in miss:
        share = pv[i] / tot_prev
        vals[i] = share * reported / (1 - miss_share)
        log.append({"kind": "missing:impute_share", "unit_code": universe[i], "factor_id": fid,
                    "detail": f"按 {dy - 1} 年份额 {float(share):.4%} 推算 / imputed keeping the {dy - 1} "
                              f"share {float(share):.4%}"})


# ------------------------------------------------------------------------------------------
# transforms (exact)


def _sqrt(x: Fraction) -> Fraction:
    """Square root to 50 significant digits with :mod:`decimal` (platform independent)."""
    if x == 0:
        return Fraction(0)
    with localcontext() as ctx:
        ctx.prec = 50
        return Fraction(str((Decimal(x.numerator) / Decimal(x.denominator)).sqrt()))


def zscores(f: FactorSpec, x: list[Fraction]) -> list[Fraction]:
    """Standardised scores ``(x − mean) ÷ sd`` (population sd), sign turned for ``-`` factors.

    This is the 标准化处理 of 财预〔2022〕58号: （某指标 − 该指标均值）÷ 该指标标准差. All zeros
    when every unit has the same value. The square root is taken to 50 digits.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> from evalkit.allocation.spec import FactorSpec
    >>> f = FactorSpec(id="g", name="g", weight=F(100), direction="+", transform="zscore")
    >>> [str(v) for v in zscores(f, [F(1), F(3)])]
    ['-1', '1']
    """
    n = len(x)
    mean = sum(x, Fraction(0)) / n
    var = sum(((v - mean) ** 2 for v in x), Fraction(0)) / n
    if var == 0:
        return [Fraction(0)] * n
    sd = _sqrt(var)
    return [((v - mean) if f.direction == "+" else (mean - v)) / sd for v in x]


def ratios_to_mean(f: FactorSpec, x: list[Fraction]) -> list[Fraction]:
    """Ratio to the average of the included units, clipped to the factor's ``bounds``.

    ``x_i ÷ mean`` for ``+`` factors and ``mean ÷ x_i`` for ``-`` factors (values > 0 checked).
    Without bounds the shares equal ``share`` / ``inverse_share``; bounds such as
    ``[0.5, 1.5]`` (该地区指标与全市平均值之比，最低 0.5、最高 1.5) make the difference.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> from evalkit.allocation.spec import FactorSpec
    >>> f = FactorSpec(id="g", name="g", weight=F(100), direction="+", transform="ratio_to_mean",
    ...                bounds=(F(1, 2), F(3, 2)))
    >>> [str(v) for v in ratios_to_mean(f, [F(1), F(2), F(9)])]
    ['1/2', '1/2', '3/2']
    """
    n = len(x)
    mean = sum(x, Fraction(0)) / n
    if mean == 0:
        return [Fraction(1)] * n
    r = [v / mean if f.direction == "+" else mean / v for v in x]
    if f.bounds is not None:
        lo, hi = f.bounds
        r = [min(max(v, lo), hi) for v in r]
    return r


def transform(f: FactorSpec, x: list[Fraction], pop: list[Fraction] | None = None
              ) -> list[Fraction]:
    """Turn raw values into a share vector summing to 1 (docs/allocation.md §2 step 3).

    Parameters
    ----------
    f : FactorSpec
        The factor (its ``transform``, ``direction`` and ``shift``).
    x : list of Fraction
        Values per unit.
    pop : list of Fraction, optional
        Population per unit, for ``per_capita``.

    Returns
    -------
    list of Fraction
    """
    n = len(x)
    if n == 0:
        return []
    t = f.transform
    if t == "share":
        score = list(x)
    elif t == "inverse_share":
        score = [1 / v for v in x]
    elif t == "per_capita":
        pc = [x[i] / pop[i] for i in range(n)]
        score = pc if f.direction == "+" else [1 / v for v in pc]  # '-': values > 0 checked
    elif t == "minmax_shift":
        lo, hi = min(x), max(x)
        if hi == lo:
            score = [Fraction(1)] * n
        else:
            rng = hi - lo
            score = [((v - lo) if f.direction == "+" else (hi - v)) / rng + f.shift for v in x]
    elif t == "zscore_shift":
        z = zscores(f, x)
        zmin = min(z)
        score = [Fraction(1)] * n if all(v == 0 for v in z) else [v - zmin + f.shift for v in z]
    elif t == "zscore":
        score = [f.score_base + f.score_scale * v for v in zscores(f, x)]  # > 0 checked
    elif t == "ratio_to_mean":
        score = ratios_to_mean(f, x)
    else:  # pragma: no cover - validated in spec.py
        raise AssertionError(t)
    tot = sum(score, Fraction(0))
    if tot == 0:
        return [Fraction(1, n)] * n
    return [v / tot for v in score]


# ------------------------------------------------------------------------------------------
# core computation


@dataclass
class Core:
    """Exact intermediate vectors of one allocation (all per unit, in code order)."""

    z: dict[str, list[Fraction]]
    contrib: dict[str, list[Fraction]]
    composite: list[Fraction]
    adjusted: list[Fraction]
    s: list[Fraction]
    base: list[Fraction]
    lo: list[Fraction]
    hi: list[Fraction | None]
    lam: Fraction
    continuous: list[Fraction]
    bound: list[str]
    quota: list[Fraction]
    floor_units: list[int]
    remainder: list[Fraction]
    plus: list[int]
    order: list[int]
    amounts: list[int]
    t_alloc: int
    awards: dict[str, list[Fraction]] = field(default_factory=dict)
    net_award: list[Fraction] = field(default_factory=list)

    @property
    def fill_base(self) -> list[Fraction]:
        """What each unit has before the factor increment: base plus net awards (奖补)."""
        if not self.net_award:
            return list(self.base)
        return [b + a for b, a in zip(self.base, self.net_award, strict=True)]


def declared_bounds(spec: AllocationSpec, codes: list[str], last: list[Fraction | None],
                    t_alloc: int | Fraction | None = None
                    ) -> tuple[list[Fraction], list[Fraction | None]]:
    """Floors and caps per unit as the spec declares them, before rounding to the unit.

    Same rules as :func:`bounds` (``max(floor, hold_harmless × last year)``,
    ``min(cap, cap_share × T_alloc)``) without rounding; the method sheet shows both.
    """
    t_alloc = spec.t_alloc if t_alloc is None else t_alloc
    lo, hi = [], []
    for c, ly in zip(codes, last, strict=True):
        f = spec.floor_units.get(c, spec.floor_default) or Fraction(0)
        if spec.hold_harmless > 0 and ly is not None:
            f = max(f, spec.hold_harmless * ly)
        lo.append(Fraction(f))
        cap = spec.cap_units.get(c, spec.cap_default)
        if spec.cap_share is not None:
            cs = spec.cap_share * t_alloc
            cap = cs if cap is None else min(cap, cs)
        hi.append(None if cap is None else Fraction(cap))
    return lo, hi


def bounds(spec: AllocationSpec, codes: list[str], last: list[Fraction | None],
           t_alloc: int | Fraction | None = None) -> tuple[list[Fraction], list[Fraction | None]]:
    """Integer floors and caps (multiples of the rounding unit) per unit.

    Floors are ``max(floor, hold_harmless × last year, 0)`` rounded *up* to the rounding unit,
    caps ``min(cap, cap_share × T_alloc)`` rounded *down*, so integer amounts can honour both.

    Parameters
    ----------
    spec : AllocationSpec
    codes : list of str
    last : list of Fraction or None
        Last year's amounts (for hold-harmless).
    t_alloc : int, optional
        Appropriation for ``cap_share`` (default ``spec.t_alloc``).
    """
    u = spec.rounding_unit
    lo_d, hi_d = declared_bounds(spec, codes, last, t_alloc)
    lo = [Fraction(math.ceil(f / u) * u) for f in lo_d]
    hi = [None if cap is None else Fraction(math.floor(cap / u) * u) for cap in hi_d]
    return lo, hi


def compute(spec: AllocationSpec, inp: Inputs, *, weights: Mapping[str, Fraction] | None = None,
            composite: list[Fraction] | None = None) -> Core:
    """Run steps 3–8 of docs/allocation.md §2 exactly on validated inputs.

    Parameters
    ----------
    spec : AllocationSpec
    inp : Inputs
    weights : mapping, optional
        ``{factor_id: weight}`` overriding the spec (renormalised to sum to 1).
    composite : list of Fraction, optional
        Use this composite share instead of the factors (e.g. an equal split baseline).

    Returns
    -------
    Core
    """
    codes = inp.codes
    n = len(codes)
    z: dict[str, list[Fraction]] = {}
    contrib: dict[str, list[Fraction]] = {}
    wts = {f.id: f.weight for f in spec.factors} if weights is None else dict(weights)
    wsum = sum(wts.values(), Fraction(0))
    if composite is None:
        comp = [Fraction(0)] * n
        for f in spec.factors:
            z[f.id] = transform(f, inp.values[f.id], inp.population.get(f.population_factor))
            w = wts.get(f.id, Fraction(0)) / wsum if wsum else Fraction(0)
            contrib[f.id] = [w * v for v in z[f.id]]
            comp = [a + b for a, b in zip(comp, contrib[f.id], strict=True)]
    else:
        comp = list(composite)
    adjusted = [p * c for p, c in zip(inp.coefficient, comp, strict=True)]
    tot = sum(adjusted, Fraction(0))
    if tot == 0:
        raise SpecError(["所有单位的综合得分 × 系数为 0 / composite × coefficient is 0 for every unit; "
                         "check the factor data and the performance map"],
                        header="分配输入有问题 / The allocation inputs have problems")
    s = [a / tot for a in adjusted]
    t_alloc = spec.t_alloc
    base = [spec.base_share * (ly or Fraction(0)) for ly in inp.last_year]
    lo, hi = bounds(spec, codes, inp.last_year)
    awards, net = award_amounts(spec, inp)
    fill = [b + a for b, a in zip(base, net, strict=True)] if awards else base
    wf = water_fill(fill, s, lo, hi, Fraction(t_alloc), labels=codes)
    if awards and wf.lam < 0:
        raise SpecError([f"{spec.where('awards')}: 奖励净额 {_plain_num(sum(net, Fraction(0)))} 万元（加基数）"
                         f"超过可分配额 {_plain_num(Fraction(t_alloc))} 万元，因素法部分将为负 / net awards "
                         f"{_plain_num(sum(net, Fraction(0)))} 万元 (plus the base) exceed T_alloc = "
                         f"{_plain_num(Fraction(t_alloc))} 万元, so the factor part would be negative; lower per_point_wan "
                         "or cap_wan, or raise total_wan"],
                        header="奖补超过可分配额 / The awards exceed the amount to allocate")
    u = spec.rounding_unit
    quota = [a / u for a in wf.amounts]
    caps_int = [None if h is None else int(h / u) for h in hi]
    if spec.rounding_method == "largest_remainder":
        r = largest_remainder(quota, t_alloc // u, codes, caps_int)
    else:
        r = largest_recipient(quota, t_alloc // u, codes, [int(v / u) for v in lo], caps_int)
    return Core(z=z, contrib=contrib, composite=comp, adjusted=adjusted, s=s, base=base, lo=lo,
                hi=hi, lam=wf.lam, continuous=wf.amounts, bound=wf.bound, quota=quota,
                floor_units=[v * u for v in r.floors], remainder=[v * u for v in r.remainders],
                plus=[v * u for v in r.plus], order=r.order, amounts=[v * u for v in r.amounts],
                t_alloc=t_alloc, awards=awards, net_award=net if awards else [])


def award_amounts(spec: AllocationSpec, inp: Inputs
                  ) -> tuple[dict[str, list[Fraction]], list[Fraction]]:
    """Per-point awards and deductions per unit (奖补), and their net per unit.

    Returns
    -------
    awards : dict
        ``{award_id: [amount per unit]}``; deductions are negative.
    net : list of Fraction
        Σ awards − Σ deductions per unit (zeros without an ``awards`` block).
    """
    n = len(inp.codes)
    out: dict[str, list[Fraction]] = {}
    for a in spec.awards:
        sign = 1 if a.kind == "award" else -1
        out[a.id] = [sign * a.amount(v) for v in inp.award_values[a.factor]]
    net = [sum((v[i] for v in out.values()), Fraction(0)) for i in range(n)]
    return out, net


def _as_table(factors: Any) -> FactorTable:
    return factors if isinstance(factors, FactorTable) else read_factors(factors)


def allocate(spec: AllocationSpec | str | Path, factors: FactorTable | pd.DataFrame | str | Path,
             last_year: Any = None, *, recipients: Any = None) -> Allocation:
    """Allocate a fund by the factor method (因素法).

    Parameters
    ----------
    spec : AllocationSpec or path
        The formula spec (see :func:`~evalkit.allocation.load_spec`).
    factors : FactorTable, DataFrame or path
        The factor table (see :func:`~evalkit.allocation.read_factors`).
    last_year : Allocation, mapping, Series, DataFrame or path, optional
        Last year's amounts (万元) for the base part, hold-harmless and the change columns.
    recipients : sequence of str, optional
        Who may receive money. Default: the unit master's units active in the spec year
        (:func:`evalkit.allocation.recipients`). Give a list to allocate among other units
        (another city, a research setting). Aggregate rows (合计, 小计, codes ending 00) are
        refused either way.

    Returns
    -------
    Allocation

    Raises
    ------
    SpecError
        One error listing every problem of the spec, the data and the constraints.

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> print(a.table.tail(1)[["unit_code", "amount_wan"]].to_string(index=False))
    unit_code  amount_wan
           合计       43500
    """
    spec_obj, problems = load_spec_collecting(spec)
    loaded: list[Any] = []
    for fn, arg in ((_as_table, factors), (read_last_year, last_year)):
        try:
            loaded.append(fn(arg))
        except (SpecError, PanelDataError) as exc:  # collect every file's problems first
            problems += exc.problems
            loaded.append(None)
    table, last = loaded
    if problems:
        # check the data against a usable (provisional) spec too, so all problems come at once
        if isinstance(spec_obj, AllocationSpec) and table is not None and last is not None:
            try:
                _prepare(spec_obj, table, last, recipients)
            except SpecError as exc:
                problems += exc.problems
        raise SpecError(problems, header=f"分配输入有 {len(problems)} 个问题，未计算也未写出任何文件 / "
                        f"The allocation inputs have {len(problems)} problem(s); nothing was "
                        "computed or written")
    spec = spec_obj
    if not isinstance(spec, AllocationSpec):  # a spec with pools: each pool on its own
        from .pools import allocate_pools
        return allocate_pools(spec, table, last, recipients)
    inp = _prepare(spec, table, last, None if recipients is None else list(recipients))
    core = compute(spec, inp)
    return Allocation(spec=spec, factors=table, inputs=inp, core=core, last_year_input=last)


# ------------------------------------------------------------------------------------------
# result


def _money_cell(x: int | Fraction) -> int | float:
    """An amount for a table cell: ``int`` when whole, else a float (exact to 0.01 万元)."""
    x = Fraction(x)
    return int(x) if x.denominator == 1 else float(x)


def _f(x: Fraction | None) -> float:
    return float("nan") if x is None else float(x)


class Allocation:
    """An allocation with its audit trail.

    Attributes
    ----------
    spec : AllocationSpec
    factors : FactorTable
    inputs : Inputs
    core : Core
        Exact intermediate vectors.
    amounts : dict
        ``{unit_code: int 万元}`` (included units; excluded units get 0 in the table).
    table : DataFrame
        The allocation table (docs/allocation.md §6.1) with a final ``合计`` row.
    audit : dict
        Every intermediate vector, the log and the provenance (inputs hash, evalkit version).
    inputs_hash : str
        SHA-256 of the canonical spec, factor table and last-year amounts.

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> a.check()  # re-check the invariants of docs/allocation.md §3
    >>> s = a.continuous_series()
    >>> len(s), round(float(s.sum()))
    (16, 43500)
    """

    def __init__(self, spec: AllocationSpec, factors: FactorTable, inputs: Inputs, core: Core,
                 last_year_input: dict[str, Fraction]):
        self.spec = spec
        self.factors = factors
        self.inputs = inputs
        self.core = core
        self.last_year_input = last_year_input
        self.amounts = dict(zip(inputs.codes, core.amounts, strict=True))
        self.evalkit_version = _evalkit_version()

    @cached_property
    def inputs_hash(self) -> str:
        """SHA-256 of the canonical spec, factor table and last-year amounts."""
        h = hashlib.sha256()
        h.update(self.spec.canonical().encode("utf-8"))
        h.update(b"\n--factors--\n")
        h.update(self.factors.canonical_csv().encode("utf-8"))
        h.update(b"\n--last_year--\n")
        for c in sorted(self.last_year_input):
            h.update(f"{c},{self.last_year_input[c]}\n".encode())
        return h.hexdigest()

    @cached_property
    def table(self) -> pd.DataFrame:
        """The allocation table (docs/allocation.md §6.1) with a final ``合计`` row."""
        return self._table()

    @cached_property
    def audit(self) -> dict[str, Any]:
        """Every intermediate vector, the log and the provenance."""
        return self._audit()

    # -- names ---------------------------------------------------------------------------
    def name(self, code: str) -> str:
        """Chinese name of a unit (spec names, then factor table, then the unit master)."""
        return self.spec.unit_names.get(code) or self.factors.names.get(code) or \
            _units.name_of(code)

    @property
    def codes(self) -> list[str]:
        """Included unit codes (code order)."""
        return list(self.inputs.codes)

    def amount_series(self) -> pd.Series:
        """Final amounts (万元; int, or float with a rounding unit below 1) by unit code."""
        if isinstance(self.spec.rounding_unit, int):
            return pd.Series(self.amounts, name="amount_wan", dtype="int64")
        return pd.Series({c: float(v) for c, v in self.amounts.items()}, name="amount_wan",
                         dtype="float64")

    def continuous_series(self) -> pd.Series:
        """Continuous (pre-rounding) amounts as floats, indexed by unit code."""
        return pd.Series({c: float(v) for c, v in zip(self.codes, self.core.continuous,
                                                      strict=True)}, name="continuous_wan")

    # -- table ---------------------------------------------------------------------------
    def _table(self) -> pd.DataFrame:
        inp, core, spec = self.inputs, self.core, self.spec
        rows = []
        for i, c in enumerate(inp.codes):
            ly = inp.last_year[i] if inp.last_year[i] is not None else self.last_year_input.get(c)
            amt = core.amounts[i]
            row: dict[str, Any] = {
                "unit_code": c, "name_zh": self.name(c), "group": _units.group_of(c),
                "amount_wan": _money_cell(amt),
                "last_year_wan": None if ly is None else _f(ly),
                "change_wan": None if ly is None else _f(amt - ly),
                "change_pct": None if ly is None or ly == 0 else round(
                    float((amt - ly) / ly * 100), 2),
            }
            for f in spec.factors:
                v = inp.raw[f.id][i]
                row[f"{f.id}_value"] = _f(inp.values[f.id][i]) if v is None else _f(v)
                row[f"{f.id}_status"] = inp.status[f.id][i]
                row[f"{f.id}_share"] = _f(core.z[f.id][i])
                row[f"{f.id}_contrib"] = _f(core.contrib[f.id][i])
            row.update({
                "composite": _f(core.composite[i]), "grade": inp.grade[i] or "",
                "coefficient": _f(inp.coefficient[i]), "share": _f(core.s[i]),
                "base_wan": _f(core.base[i]), "floor_wan": _f(core.lo[i]),
                "cap_wan": _f(core.hi[i]), "bound": core.bound[i],
                "continuous_wan": _f(core.continuous[i]),
                "rounding_wan": _money_cell(core.plus[i]),
            })
            for aid, vals in core.awards.items():  # 奖补 (deductions negative)
                row[f"{aid}_wan"] = _f(vals[i])
            rows.append(row)
        for c, why in sorted(self.inputs.excluded.items()):
            ly = self.last_year_input.get(c)
            rows.append({"unit_code": c, "name_zh": self.name(c), "group": _units.group_of(c),
                         "amount_wan": 0, "last_year_wan": None if ly is None else _f(ly),
                         "change_wan": None if ly is None else _f(-ly),
                         "change_pct": None if not ly else -100.0, "bound": "excluded",
                         "note": why})
        df = pd.DataFrame(rows)
        lys = [r.get("last_year_wan") for r in rows]
        ly_tot = None if any(v is None for v in lys) else sum(Fraction(repr(v)) for v in lys)
        total = {"unit_code": TOTAL_LABEL, "name_zh": TOTAL_LABEL, "group": "",
                 "amount_wan": _money_cell(sum(core.amounts)),
                 "last_year_wan": None if ly_tot is None else float(ly_tot),
                 "change_wan": None if ly_tot is None else float(sum(core.amounts) - ly_tot),
                 "change_pct": None if not ly_tot else round(
                     float((sum(core.amounts) - ly_tot) / ly_tot * 100), 2),
                 "share": 1.0, "continuous_wan": float(sum(core.continuous, Fraction(0))),
                 "base_wan": float(sum(core.base, Fraction(0)))}
        df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
        df["amount_wan"] = df["amount_wan"].astype(
            "int64" if isinstance(spec.rounding_unit, int) else "float64")
        for col in ("last_year_wan", "change_wan", "change_pct"):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        if "note" not in df.columns:
            df["note"] = ""
        df["note"] = df["note"].fillna("")
        return df

    def summary_table(self, language: str = "zh") -> pd.DataFrame:
        """The compact publication table: code, name, amount, last year, change, change %."""
        cols = ["unit_code", "name_zh", "amount_wan", "last_year_wan", "change_wan", "change_pct"]
        df = self.table[cols].copy()
        if language == "zh":
            df.columns = ["单位代码", "单位名称", "分配金额(万元)", "上年金额(万元)", "增减(万元)", "增减(%)"]
        return df

    # -- audit ---------------------------------------------------------------------------
    def _audit(self) -> dict[str, Any]:
        inp, core = self.inputs, self.core
        idx = pd.Index(inp.codes, name="unit_code")
        vec = pd.DataFrame({
            "composite": [_f(v) for v in core.composite],
            "coefficient": [_f(v) for v in inp.coefficient],
            "adjusted": [_f(v) for v in core.adjusted],
            "share": [_f(v) for v in core.s],
            "last_year": [_f(v) for v in inp.last_year],
            "base": [_f(v) for v in core.base],
            "floor": [_f(v) for v in core.lo],
            "cap": [_f(v) for v in core.hi],
            "continuous": [_f(v) for v in core.continuous],
            "bound": core.bound,
            "quota": [_f(v) for v in core.quota],
            "rounded_down": core.floor_units,
            "remainder": [_f(v) for v in core.remainder],
            "remainder_rank": core.order,
            "rounding_added": core.plus,
            "amount": core.amounts,
        }, index=idx)
        return {
            "raw_values": pd.DataFrame({k: [_f(v) for v in vals] for k, vals in inp.raw.items()},
                                       index=idx),
            "values": pd.DataFrame({k: [_f(v) for v in vals] for k, vals in inp.values.items()},
                                   index=idx),
            "status": pd.DataFrame(inp.status, index=idx),
            "shares": pd.DataFrame({k: [_f(v) for v in vals] for k, vals in core.z.items()},
                                   index=idx),
            "contributions": pd.DataFrame({k: [_f(v) for v in vals]
                                           for k, vals in core.contrib.items()}, index=idx),
            "vectors": vec,
            "lambda": _f(core.lam),
            "t_alloc": core.t_alloc,
            "reserve_wan": self.spec.reserve_wan,
            "total_wan": self.spec.total_wan,
            "log": pd.DataFrame(inp.log, columns=["kind", "unit_code", "factor_id", "detail"]),
            "excluded": dict(inp.excluded),
            "notes": list(self.spec.notes) + list(self.factors.notes) + [
                f"单位主表中的 {c}（{self.name(c)}）在因素表中没有 {self.spec.data_year} 年数据，未参与分配 / "
                f"{c} is a recipient but has no {self.spec.data_year} rows in the factor table: "
                "not in this run" for c in self.inputs.absent],
            "inputs_sha256": self.inputs_hash,
            "spec_sha256": self.spec.sha256(),
            "factors_sha256": self.factors.sha256(),
            "evalkit_version": self.evalkit_version,
        }

    @property
    def bound_units(self) -> dict[str, list[str]]:
        """Units bound at a floor or at a cap: ``{"floor": [...], "cap": [...]}``."""
        out: dict[str, list[str]] = {"floor": [], "cap": []}
        for c, b in zip(self.codes, self.core.bound, strict=True):
            if b:
                out[b].append(c)
        return out

    def check(self) -> None:
        """Re-check the invariants of docs/allocation.md §3 on this result (raises on violation)."""
        core = self.core
        problems = []
        if sum(core.amounts) != core.t_alloc:
            problems.append(f"sum {sum(core.amounts)} != T_alloc {core.t_alloc}")
        for c, a, lo, hi in zip(self.codes, core.amounts, core.lo, core.hi, strict=True):
            if a < 0 or a < lo or (hi is not None and a > hi):
                problems.append(f"{c}: {a} outside [{lo}, {hi}]")
        if problems:  # pragma: no cover - would be an engine bug
            raise SpecError(problems, header="Allocation invariants violated (engine bug)")

    # -- outputs (implemented in export.py / charts.py) -----------------------------------
    def method_sheet(self, language: str = "zh") -> str:
        """The method sheet (测算说明) text, ready to publish.

        Parameters
        ----------
        language : {"zh", "en"}
        """
        from .export import method_sheet
        return method_sheet(self, language=language)

    def to_excel(self, path: str | Path, *, sensitivity: bool = True, **options: Any) -> Path:
        """Write the 测算表 workbook; options as :func:`evalkit.allocation.export.to_excel`
        (``n_draws``, ``stage``, ``date``, ``public``)."""
        from .export import to_excel
        return to_excel(self, path, sensitivity=sensitivity, **options)

    def to_csv(self, path: str | Path) -> Path:
        """Write the allocation table as UTF-8 CSV (with BOM for Excel)."""
        from .export import to_csv
        return to_csv(self, path)

    def to_json(self, path: str | Path | None = None) -> str:
        """Return (and optionally write) the allocation and audit trail as JSON."""
        from .export import to_json
        return to_json(self, path)

    def plot_waterfall(self, unit: str, *, change: Any = None, language: str = "zh", ax=None,
                       heading: str | None = None):
        """Waterfall chart for one unit (see :func:`evalkit.allocation.charts.plot_waterfall`)."""
        from .charts import plot_waterfall
        return plot_waterfall(self, unit, change=change, language=language, ax=ax,
                              heading=heading)

    def plot_attribution(self, *, shapley_result: Any = None, language: str = "zh", ax=None,
                         heading: str | None = None):
        """Factor-attribution bar chart (Shapley) for every unit."""
        from .charts import plot_attribution
        return plot_attribution(self, shapley_result=shapley_result, language=language, ax=ax,
                                heading=heading)

    def map(self, *, value: str = "amount_wan", language: str = "zh"):
        """Map of amounts (zones in a side table) via ``evalkit.report.unit_map``."""
        from .charts import plot_map
        return plot_map(self, value=value, language=language)

    def summary(self) -> str:
        """A short text summary."""
        b = self.bound_units
        return (f"{self.spec.fund} {self.spec.year}: T_alloc={self.core.t_alloc} 万元 over "
                f"{len(self.codes)} units; floor-bound {b['floor']}, cap-bound {b['cap']}; "
                f"inputs sha256 {self.inputs_hash[:12]}")

    def __repr__(self) -> str:
        return f"<Allocation {self.summary()}>"

    def _repr_html_(self) -> str:
        return self.summary_table().to_html(index=False)
