"""The engine's inputs: the factor data checked against the spec and made exact (docs/allocation.md §2).

:func:`prepare` validates the factor table against the spec (one error listing every problem),
applies the missing-data rules (logged) and returns the :class:`Inputs` the formula works on.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pandas as pd

from .._shared.exceptions import SpecError
from . import _units
from ._allocation_spec import AllocationSpec
from ._format import exact_fraction, short_number
from ._spec_model import FactorSpec
from .factors import FactorTable
from .formula import Inputs, bounds, declared_bounds, transform, zscores


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


def _present_factors(spec: AllocationSpec, table: FactorTable, problems: list[str]):
    """Rows of the data year for the factors the spec needs; factors, population factors and award factors missing from the table are problems."""
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
    return cur, present, pops, award_fs


def _run_units(spec: AllocationSpec, cur: pd.DataFrame, allowed: list[str], recipients: list[str] | None,
               problems: list[str]):
    """The units of this run (``include`` or the table), the excluded ones, and recipients absent from the table."""
    dy = spec.data_year
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
    return universe, excluded, absent


def _read_values(spec: AllocationSpec, table: FactorTable, present: set, pops: list[str], award_fs: list[str],
                 universe: list[str], problems: list[str], log: list[dict[str, Any]]):
    """Every needed factor per unit: converted to the declared unit of measure, missing values per the rules."""
    dy = spec.data_year
    fids = spec.factor_ids
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
                    v = exact_fraction(v) * fs.convert[r.unit_of_measure]
                    log.append({"kind": "convert", "unit_code": c, "factor_id": fid,
                                "detail": f"{r.unit_of_measure} → {expect} ×"
                                          f"{fs.convert[r.unit_of_measure]}"})
                else:
                    bad_uom.setdefault(r.unit_of_measure, []).append(c)
                    v = None
                    st = "bad_unit"
            elif v is not None:
                v = exact_fraction(v)
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
    return values, raw, status, sources, uoms, drop_units, fspecs


def _check_values(spec: AllocationSpec, codes: list[str], values: dict[str, list[Any]], problems: list[str]):
    """Values each transform cannot take (negative shares, zero columns, non-positive inverses and scores)."""
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
                problems.append(f"{w}: 因素 `{f.id}` 的标准分 {short_number(f.score_base)} + "
                                f"{short_number(f.score_scale)} × z 在单位 {', '.join(low)} 不为正，"
                                "无法计算份额；请提高 score_base 或改用 zscore_shift / factor "
                                f"`{f.id}`: the standard score {short_number(f.score_base)} + "
                                f"{short_number(f.score_scale)} × z is ≤ 0 for units {', '.join(low)}, "
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


def _coefficients(spec: AllocationSpec, codes: list[str], table: FactorTable, problems: list[str],
                  log: list[dict[str, Any]]):
    """Performance grade and coefficient of every unit (1 without a performance block)."""
    dy = spec.data_year
    lookup = table.lookup
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
    return coef, grades


def _check_last_year(spec: AllocationSpec, codes: list[str], last: dict[str, Fraction], problems: list[str]):
    """Last year's amounts the spec needs, and whether the floors and caps fit the amount to allocate."""
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
    return last_v


def prepare(spec: AllocationSpec, table: FactorTable, last: dict[str, Fraction],
             recipients: list[str] | None = None) -> Inputs:
    """The data of one run checked against the spec (one :class:`SpecError` listing every problem)."""
    problems: list[str] = []
    allowed = _units.recipients(spec.year) if recipients is None else list(recipients)
    _check_recipients(spec, table, allowed, problems)
    if problems:
        raise SpecError(problems, header=f"因素表或方案中有 {len(problems)} 处不是受益单位，未计算也未写出任何文件 / "
                        f"{len(problems)} problem(s) with who may receive money; nothing was "
                        "computed or written")
    log: list[dict[str, Any]] = []
    dy = spec.data_year
    fids = spec.factor_ids
    cur, present, pops, award_fs = _present_factors(spec, table, problems)
    universe, excluded, absent = _run_units(spec, cur, allowed, recipients, problems)
    values, raw, status, sources, uoms, drop_units, fspecs = _read_values(
        spec, table, present, pops, award_fs, universe, problems, log)
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
    _check_values(spec, codes, values, problems)
    coef, grades = _coefficients(spec, codes, table, problems, log)
    last_v = _check_last_year(spec, codes, last, problems)
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
        return exact_fraction(v), "carry_forward"
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
        pv.append(exact_fraction(v))
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
