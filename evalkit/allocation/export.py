"""Outputs for the finance bureau (docs/allocation.md §6).

* :func:`method_sheet`: the method sheet 测算说明 (Chinese, or English), ready to publish;
* :func:`to_excel`: one workbook with the allocation, method, detail, sensitivity, metrics and
  audit sheets; amounts as integer 万元, frozen headers, the inputs' SHA-256 in every footer;
* :func:`to_csv` / :func:`to_json`: for researchers;
* :func:`write_outputs`: all of them into a folder, atomically (a temporary folder moved into
  place only when everything succeeded).

Exports are byte-identical for identical inputs: no timestamps (the workbook's zip entries and
document properties carry a fixed date), sorted keys, and floats written by ``repr``.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._format import amount_text, percent_text, stable_zip

if TYPE_CHECKING:
    from .engine import Allocation

_TRANSFORM_ZH = {
    "share": "按该单位数值占参与单位合计的比重计算",
    "inverse_share": "按数值倒数占合计的比重计算（数值越小，份额越大）",
    "minmax_shift": "按（数值−最小值）÷（最大值−最小值）标准化并加 {eps} 后计算比重",
    "zscore_shift": "按标准化得分（（数值−均值）÷标准差）平移至最小为 {eps} 后计算比重",
    "per_capita": "按人均值（除以人口因素 {pop}）占合计的比重计算",
    "zscore": "按标准分 {base} + {scale} × 标准化值（标准化值 =（数值−均值）÷标准差）占合计的比重计算",
    "ratio_to_mean": "按该单位数值与参与单位平均值之比{bounds}占合计的比重计算",
}
_TRANSFORM_EN = {
    "share": "share of the units' total",
    "inverse_share": "share of 1/value (smaller values get more)",
    "minmax_shift": "(value − min)/(max − min) + {eps}, then share",
    "zscore_shift": "z-score (value − mean)/sd shifted so the minimum is {eps}, then share",
    "per_capita": "per-capita value (÷ population factor {pop}), then share",
    "zscore": "standard score {base} + {scale} × z, z = (value − mean)/sd, then share",
    "ratio_to_mean": "ratio of the value to the units' average{bounds_en}, then share",
}


def _how(f: Any, table: dict[str, str]) -> str:
    """The transform of a factor described in words (Chinese or English table)."""
    inv = f.direction == "-"
    bz = bn = ""
    if f.bounds is not None:
        bz = f"（最低 {amount_text(f.bounds[0])}、最高 {amount_text(f.bounds[1])}）"
        bn = f" (clipped to [{amount_text(f.bounds[0])}, {amount_text(f.bounds[1])}])"
    if inv and f.transform == "ratio_to_mean":
        bz = "的倒数（平均值÷数值）" + bz
        bn = " inverted (average ÷ value)" + bn
    return table[f.transform].format(eps=amount_text(f.shift), pop=f.population_factor,
                                     base=amount_text(f.score_base), scale=amount_text(f.score_scale),
                                     bounds=bz, bounds_en=bn)
_MISSING_ZH = {"error": "不允许缺失（缺失即报错）", "zero": "缺失视同为 0（视同放弃）",
               "carry_forward": "缺失时沿用上一年数值", "impute_share": "缺失时保持上一年占比推算",
               "exclude_unit": "缺失的单位不参与本次分配"}
_MISSING_EN = {"error": "no missing values allowed", "zero": "missing counted as 0 (forfeited)",
               "carry_forward": "missing: last year's value carried forward",
               "impute_share": "missing: last year's share kept",
               "exclude_unit": "missing: unit excluded from this run"}




def _bound_line(alloc: Allocation, declared, applied, title: str, rounded_note: str) -> str:
    """One line of applied bounds: units grouped by (declared, applied) amount, the rounding said
    where the two differ (``rounded_note`` has a ``{}`` for the declared amount)."""
    groups: dict[tuple[Any, Any], list[str]] = {}
    for c, d, a in zip(alloc.codes, declared, applied, strict=True):
        if a is not None:
            groups.setdefault((d, a), []).append(alloc.name(c))
    parts = []
    for (d, a), names in sorted(groups.items(), key=lambda kv: kv[0][1]):
        txt = f"{amount_text(a)} 万元"
        if d != a:
            txt += "（" + rounded_note.format(amount_text(d)) + "）"
        parts.append(f"{'、'.join(names) if len(groups) > 1 else '各单位'} {txt}")
    return f"  {title}：" + "；".join(parts) + "。"


def _applied_bounds_zh(alloc: Allocation) -> list[str]:
    """Lines stating the floors and caps actually applied (after rounding to the unit)."""
    from .formula import declared_bounds
    core, spec = alloc.core, alloc.spec
    lo_d, hi_d = declared_bounds(spec, alloc.codes, alloc.inputs.last_year)
    u = amount_text(spec.rounding_unit)
    out: list[str] = []
    if any(v > 0 for v in core.lo):
        out.append(_bound_line(alloc, lo_d, core.lo, "实际执行的保底（取整后）",
                               f"声明 {{}} 万元，向上取整到 {u} 万元的整数倍"))
    if any(h is not None for h in core.hi):
        out.append(_bound_line(alloc, hi_d, core.hi, "实际执行的上限（取整后）",
                               f"按规则为 {{}} 万元，向下取整到 {u} 万元的整数倍"))
    if out:
        out.append("  保底向上取整、上限向下取整，是为了使取整后的整数金额仍然满足保底和上限；因此若保底合计"
                   "（取整后）超过可分配额、或上限合计（取整后）低于可分配额，测算无解，evalkit 会报错并说明原因，"
                   "不会自行放宽。")
    return out


_CN_NUM = "一二三四五六七八九十"


def _factor_line_zh(j: int, f: Any, inp: Any) -> str:
    how = _how(f, _TRANSFORM_ZH)
    src = f.source or inp.sources.get(f.id) or "因素数据表"
    uom = inp.uom.get(f.id) or ""
    wt = (f"组内权重 {percent_text(f.local_weight)}，折合总权重 {percent_text(f.weight)}" if f.group
          else f"权重 {percent_text(f.weight)}")
    return (f"  {j}. {f.name}（{f.id}{'，' + uom if uom else ''}），{wt}，"
            f"{'正向' if f.direction == '+' else '逆向'}因素，{how}；数据来源：{src}。")


def _factor_lines_zh(spec: Any, inp: Any) -> list[str]:
    """Section 二 of the method sheet: flat factors, or 一级/二级 factors with both weights."""
    if not spec.groups:
        return [_factor_line_zh(j, f, inp) for j, f in enumerate(spec.factors, start=1)]
    out = ["  分配因素分两级：一级因素权重之和为 100%，每个一级因素下的二级因素组内权重之和为 100%；"
           "二级因素的折合总权重 = 一级因素权重 × 组内权重。"]
    for gi, g in enumerate(spec.groups):
        label = _CN_NUM[gi] if gi < len(_CN_NUM) else str(gi + 1)
        out.append(f"  （{label}）{g.name}（{g.id}），一级权重 {percent_text(g.weight)}：")
        members = [f for f in spec.factors if f.group == g.id]
        out += ["  " + _factor_line_zh(j, f, inp) for j, f in enumerate(members, start=1)]
    return out


def _award_lines_zh(alloc: Any, names: dict[str, str]) -> list[str]:
    """The 奖补 part of section 三: each rule in words and the amounts per unit."""
    spec, core = alloc.spec, alloc.core
    if not spec.awards:
        return []
    out = ["  按点奖励与扣减（奖补）：奖励额加到、扣减额从该单位的分配额中扣除；可分配额不变，"
           "因素法部分相应减少（或增加）：因素法部分 = 可分配额 − 奖励合计 + 扣减合计；"]
    for a in spec.awards:
        verb, side = ("奖励", "超过") if a.kind == "award" else ("扣减", "低于")
        rule = (f"    {a.name}（{a.id}）：因素 {a.factor} {side} {amount_text(a.threshold)} 的部分，"
                f"每{'多' if a.kind == 'award' else '少'} {amount_text(a.point)}{verb} "
                f"{amount_text(a.per_point_wan)} 万元")
        if a.min_wan:
            rule += f"，最低 {amount_text(a.min_wan)} 万元"
        if a.cap_wan is not None:
            rule += f"，每个单位最高{verb} {amount_text(a.cap_wan)} 万元"
        got = [f"{names[c]} {amount_text(abs(v))}" for c, v in zip(alloc.codes, core.awards[a.id],
                                                        strict=True) if v]
        out.append(rule + "；" + (f"本次{verb}：" + "、".join(got) + " 万元。" if got
                                  else f"本次无单位获得{verb}。"))
    tot = sum(core.net_award, Fraction(0))
    out.append(f"    奖补净额合计 {amount_text(tot)} 万元，因素法部分 {amount_text(core.t_alloc - tot)} 万元"
               "（触及保底或上限时，以保底、上限为准）。")
    return out


def _factor_lines_en(spec: Any, inp: Any) -> list[str]:
    """Section 2 of the English method sheet (groups shown with both weights)."""
    out = []
    for g in spec.groups:
        out.append(f"  group {g.name} ({g.id}), weight {percent_text(g.weight)}; within it:")
    for j, f in enumerate(spec.factors, start=1):
        how = _how(f, _TRANSFORM_EN)
        src = f.source or inp.sources.get(f.id) or "factor table"
        wt = (f"group {f.group}, weight within group {percent_text(f.local_weight)}, effective "
              f"{percent_text(f.weight)}" if f.group else f"weight {percent_text(f.weight)}")
        out.append(f"  {j}. {f.name} ({f.id}), {wt}, direction {f.direction}, {how}; "
                   f"source: {src}.")
    return out


def _method_sheet_zh(alloc: Allocation, names: dict[str, str], base_tot: Fraction) -> list[str]:
    """The lines of the Chinese method sheet."""
    spec, core, inp, b = alloc.spec, alloc.core, alloc.inputs, alloc.bound_units
    L: list[str] = []
    L.append(f"{spec.fund}{spec.year}年度分配测算说明")
    L.append("")
    L.append("一、资金规模")
    line = f"  资金总额 {amount_text(spec.total_wan)} 万元"
    if spec.reserve_wan:
        line += f"，其中预留 {amount_text(spec.reserve_wan)} 万元暂不分配到地区，后续另行下达"
    line += f"；本次按因素法分配 {amount_text(core.t_alloc)} 万元。"
    L.append(line)
    if spec.base_share > 0:
        L.append(f"  采用“基数+因素”方式：基数为上年分配额的 {percent_text(spec.base_share * 100)}，合计 "
                 f"{amount_text(base_tot)} 万元；其余 {amount_text(core.t_alloc - base_tot)} 万元按因素分配。")
    L.append("")
    L.append(f"二、分配因素及权重（使用 {spec.data_year} 年数据）")
    L += _factor_lines_zh(spec, inp)
    L.append("")
    L.append("三、计算方法")
    L.append("  某单位综合份额 = Σ（" + ("二级因素折合总权重" if spec.groups else "因素权重")
             + " × 该单位该因素份额）；")
    if spec.performance:
        mp = "、".join(f"{g} {amount_text(c)}" for g, c in spec.performance.map.items())
        L.append(f"  综合份额乘以绩效调节系数（{mp}）后重新归一，使各单位份额之和为 1；")
    L.append("  某单位分配额 = " + ("基数 +（可分配额 − 基数合计）" if spec.base_share > 0
                                  else "可分配额")
             + " × 该单位份额，再按保底、上限调整并取整。")
    if spec.performance:
        L.append("  各单位绩效等级：" + "、".join(
            f"{names[c]} {g}" for c, g in zip(alloc.codes, inp.grade, strict=True) if g) + "。")
    L += _award_lines_zh(alloc, names)
    L.append("")
    L.append("四、保底、上限与取整")
    cons = []
    if spec.floor_default or spec.floor_units:
        s = f"保底 {amount_text(spec.floor_default or 0)} 万元"
        if spec.floor_units:
            s += "（" + "、".join(f"{names.get(c, c)} {amount_text(v)} 万元"
                                 for c, v in sorted(spec.floor_units.items())) + "）"
        cons.append(s)
    if spec.cap_share is not None:
        cons.append(f"单个单位不超过可分配额的 {percent_text(spec.cap_share * 100)}"
                    f"（{amount_text(spec.cap_share * core.t_alloc)} 万元）")
    if spec.cap_default or spec.cap_units:
        s = f"上限 {amount_text(spec.cap_default) if spec.cap_default else '—'} 万元"
        if spec.cap_units:
            s += "（" + "、".join(f"{names.get(c, c)} {amount_text(v)} 万元"
                                 for c, v in sorted(spec.cap_units.items())) + "）"
        cons.append(s)
    if spec.hold_harmless > 0:
        cons.append(f"各单位不低于上年分配额的 {percent_text(spec.hold_harmless * 100)}")
    L.append("  " + ("；".join(cons) + "。" if cons else "未设保底和上限。"))
    L += _applied_bounds_zh(alloc)
    if cons:
        L.append("  超出上限或低于保底的部分，按各单位份额在其余单位间等比例调整（连续“注水”法）。")
        L.append(f"  本次触及保底的单位：{'、'.join(names[c] for c in b['floor']) or '无'}；"
                 f"触及上限的单位：{'、'.join(names[c] for c in b['cap']) or '无'}。")
    meth = ("最大余额法：先取整数部分，剩余金额按小数部分从大到小逐一补足，小数部分相同时按份额大者、"
            "再按单位代码先后" if spec.rounding_method == "largest_remainder"
            else "四舍五入后，尾差计入分配额最大的单位")
    L.append(f"  金额以 {amount_text(spec.rounding_unit)} 万元为单位取整，采用{meth}，各单位合计与可分配额 "
             f"{amount_text(core.t_alloc)} 万元一致。取整使每个单位的金额与未取整金额相差不到 "
             f"{amount_text(spec.rounding_unit)} 万元（触及保底或上限的单位除外）；取整调整明细见“明细”表“取整补足”列。")
    L.append("")
    L.append("五、缺失数据处理")
    for f in spec.factors:
        L.append(f"  {f.name}：{_MISSING_ZH[f.missing]}。")
    log = [r for r in inp.log if r["kind"].startswith("missing:") or r["kind"] == "convert"]
    for r in log:
        L.append(f"  · {names.get(r['unit_code'], r['unit_code'])}（{r['factor_id']}）："
                 f"{r['detail'].split(' / ')[0]}")
    L.append("")
    L.append("六、参与单位")
    L.append(f"  共 {len(alloc.codes)} 个单位：{'、'.join(names[c] for c in alloc.codes)}。")
    if inp.absent:
        L.append("  单位主表中以下单位在因素表中没有数据，未参与本次分配：" + "、".join(
            alloc.name(c) for c in inp.absent) + "。")
    zero = [r["unit_code"] for r in inp.log if r["kind"] == "zero_share"]
    if zero:
        L.append("  各因素值均为 0、综合份额为 0 的单位（只得到保底额）：" + "、".join(names[c] for c in zero)
                 + "。请核对其数据是否漏填。")
    if inp.excluded:
        L.append("  不参与本次分配：" + "；".join(f"{alloc.name(c)}（{w.split(' / ')[0]}）"
                                          for c, w in sorted(inp.excluded.items())) + "。")
    if spec.text_notes:
        L.append("")
        L.append("七、其他说明")
        L += [f"  {t}" for t in spec.text_notes]
    L.append("")
    L.append(f"数据与方案校验码（SHA-256）：{alloc.inputs_hash}；计算工具 evalkit {alloc.evalkit_version}。")
    return L


def _method_sheet_en(alloc: Allocation, base_tot: Fraction) -> list[str]:
    """The lines of the English method sheet."""
    spec, core, inp, b = alloc.spec, alloc.core, alloc.inputs, alloc.bound_units
    L: list[str] = []
    L.append(f"{spec.fund} {spec.year}: method of allocation")
    L.append("")
    L.append("1. Amount")
    L.append(f"  Total {amount_text(spec.total_wan)} 万元; reserve {amount_text(spec.reserve_wan)} 万元 held back; "
             f"{amount_text(core.t_alloc)} 万元 allocated by the factor method.")
    if spec.base_share > 0:
        L.append(f"  Base plus factors: base = {percent_text(spec.base_share * 100)} of last year "
                 f"({amount_text(base_tot)} 万元 in all); the rest by factors.")
    L.append("")
    L.append(f"2. Factors and weights (data of {spec.data_year})")
    L += _factor_lines_en(spec, inp)
    L.append("")
    L.append("3. Formula")
    L.append("  composite share = Σ weight × factor share"
             + ("; × performance coefficient, renormalised" if spec.performance else "")
             + "; amount = " + ("base + " if spec.base_share > 0 else "")
             + "increment × share, then floors/caps (water-filling) and rounding.")
    for a in spec.awards:
        L.append(f"  {a.kind} {a.name} ({a.id}): {amount_text(a.per_point_wan)} 万元 per "
                 f"{amount_text(a.point)} of {a.factor} {'above' if a.kind == 'award' else 'below'} "
                 f"{amount_text(a.threshold)}" + (f", at least {amount_text(a.min_wan)}" if a.min_wan else "")
                 + (f", at most {amount_text(a.cap_wan)} 万元 per unit" if a.cap_wan else "")
                 + "; added to (deductions: subtracted from) the unit's amount, the factor "
                   "part shrinks or grows so the total is unchanged.")
    L.append("")
    L.append("4. Floors, caps, rounding")
    L.append(f"  floor default {amount_text(spec.floor_default or 0)} 万元, per unit "
             f"{ {c: amount_text(v) for c, v in spec.floor_units.items()} }; cap share "
             f"{'—' if spec.cap_share is None else percent_text(spec.cap_share * 100)}; hold-harmless "
             f"{percent_text(spec.hold_harmless * 100)}.")
    L.append(f"  bound at a floor: {', '.join(b['floor']) or 'none'}; at a cap: "
             f"{', '.join(b['cap']) or 'none'}.")
    L.append(f"  rounded to {amount_text(spec.rounding_unit)} 万元 by {spec.rounding_method}; the amounts add "
             f"up to {amount_text(core.t_alloc)} 万元.")
    L.append("")
    L.append("5. Missing data")
    for f in spec.factors:
        L.append(f"  {f.id}: {_MISSING_EN[f.missing]}.")
    for r in inp.log:
        if r["kind"].startswith("missing:") or r["kind"] == "convert":
            L.append(f"  · {r['unit_code']} ({r['factor_id']}): "
                     f"{r['detail'].split(' / ')[-1]}")
    L.append("")
    L.append(f"6. Units: {len(alloc.codes)} ({', '.join(alloc.codes)}).")
    if inp.excluded:
        L.append("  excluded: " + "; ".join(f"{c} ({w.split(' / ')[-1]})"
                                            for c, w in sorted(inp.excluded.items())))
    L.append("")
    L.append(f"Inputs SHA-256 {alloc.inputs_hash}; evalkit {alloc.evalkit_version}.")
    return L


def method_sheet(alloc: Allocation, language: str = "zh") -> str:
    """The method sheet (测算说明): factors, weights, sources and year, rules as applied.

    Parameters
    ----------
    alloc : Allocation
    language : {"zh", "en"}

    Returns
    -------
    str
        Plain text with numbered sections, ready to paste into a publication.
    """
    if language not in ("zh", "en"):
        from .._shared.validation import check_option
        check_option("language", language, ("zh", "en"))
    base_tot = sum(alloc.core.base, Fraction(0))
    if language == "zh":
        L = _method_sheet_zh(alloc, {c: alloc.name(c) for c in alloc.codes}, base_tot)
    else:
        L = _method_sheet_en(alloc, base_tot)
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------------------------------
# CSV / JSON


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return _scalar(v)


def _scalar(v: Any) -> Any:
    """A plain Python value: Fractions and NumPy scalars as floats/ints, non-finite floats as None."""
    if isinstance(v, Fraction):
        return float(v)
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def to_csv(alloc: Allocation, path: str | Path) -> Path:
    """Write the allocation table as UTF-8 CSV with a BOM (opens correctly in Excel)."""
    p = Path(path)
    text = alloc.table.to_csv(index=False, lineterminator="\n")
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return p


def to_json(alloc: Allocation, path: str | Path | None = None) -> str:
    """The allocation, its audit trail and provenance as JSON (sorted keys; NaN → null).

    Parameters
    ----------
    alloc : Allocation
    path : str or Path, optional
        Where to write the text as well.

    Returns
    -------
    str
    """
    a = alloc.audit
    payload = {
        "fund": alloc.spec.fund, "scenario": alloc.spec.name, "year": alloc.spec.year,
        "data_year": alloc.spec.data_year, "total_wan": alloc.spec.total_wan,
        "reserve_wan": alloc.spec.reserve_wan, "t_alloc_wan": alloc.core.t_alloc,
        "table": [_clean(r) for r in alloc.table.to_dict(orient="records")],
        "audit": {
            "lambda": a["lambda"],
            "vectors": {c: _clean(dict(zip(a["vectors"].index, a["vectors"][c], strict=True)))
                        for c in a["vectors"].columns},
            "shares": _clean(a["shares"].to_dict()),
            "values": _clean(a["values"].to_dict()),
            "status": _clean(a["status"].to_dict()),
            "log": [_clean(r) for r in a["log"].to_dict(orient="records")],
            "excluded": a["excluded"], "notes": a["notes"],
        },
        "inputs_sha256": alloc.inputs_hash, "spec_sha256": a["spec_sha256"],
        "factors_sha256": a["factors_sha256"], "evalkit_version": alloc.evalkit_version,
    }
    text = json.dumps(_clean(payload), ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


# ------------------------------------------------------------------------------------------
# Excel


def build_workbook(alloc: Allocation, *, sensitivity: bool = True, n_draws: int = 10_000,
                   stage: str | None = None, date: Any = None, public: bool = False):
    """The openpyxl workbook of :func:`to_excel` (not saved).

    Sheets: 附件1 分配表 (printable, signable), 附件2 测算说明; unless ``public``: 明细,
    因素贡献, 敏感性, 权重扰动 (with ``sensitivity``), 指标, 审计 and 日志 (when anything was
    logged).
    """
    from openpyxl import Workbook

    from . import workbook as wbk
    from .metrics import metrics
    from .sensitivity import leave_one_out, monte_carlo, perturb_weights
    from .shapley import shapley

    footer = f"校验码 SHA-256：{alloc.inputs_hash[:16]}… · evalkit {alloc.evalkit_version}"
    stage = stage or alloc.spec.stage
    wb = Workbook()
    wb.remove(wb.active)
    wbk.result_sheet(wb, alloc, footer=footer, stage=stage, date=date, public=public)
    wbk.method_sheet_ws(wb, alloc, footer=footer)
    if public:
        return wb
    wbk.detail_sheet(wb, alloc, footer=footer)
    wbk.factor_data_sheet(wb, alloc, footer=footer)
    wbk.shapley_sheet(wb, alloc, shapley(alloc), footer=footer)
    if sensitivity:
        mc = monte_carlo(alloc, n_draws=n_draws, keep_draws=False)
        wbk.sensitivity_sheet(wb, alloc, mc, leave_one_out(alloc), footer=footer)
        pert = perturb_weights(alloc, delta=5)
        if not pert.empty:
            wbk.perturb_sheet(wb, alloc, pert, 5, footer=footer)
    wbk.metrics_sheet(wb, metrics(alloc), footer=footer)
    wbk.audit_sheet(wb, alloc, footer=footer)
    if not alloc.audit["log"].empty:
        wbk.log_sheet(wb, alloc, footer=footer)
    return wb


def to_excel(alloc: Allocation, path: str | Path, *, sensitivity: bool = True,
             n_draws: int = 10_000, stage: str | None = None, date: Any = None,
             public: bool = False) -> Path:
    """Write the 测算表 workbook (or its 公开版 with ``public=True``).

    Parameters
    ----------
    alloc : Allocation
    path : str or Path
    sensitivity : bool
        Include the sensitivity sheets (Monte Carlo with ``n_draws`` draws, leave-one-out,
        weight perturbation).
    n_draws : int
    stage : {"征求意见稿", "送审稿", "定稿"}, optional
        Draft stage in the title (default the spec's ``stage``; none when neither gives one).
    date : datetime.date or str, optional
        Date printed under the title (default today; pass one for byte-identical reruns on
        other days).
    public : bool
        The publication version: 附件1 分配表 without factor data and audit columns, and 附件2.

    Returns
    -------
    Path

    Examples
    --------
    >>> a.to_excel("测算表.xlsx", stage="送审稿", date="2025年3月1日")  # doctest: +SKIP
    """
    if stage is not None:
        from .._shared.validation import check_option
        from ._spec_model import STAGES
        check_option("stage", stage, STAGES)
    wb = build_workbook(alloc, sensitivity=sensitivity, n_draws=n_draws, stage=stage, date=date,
                        public=public)
    buf = io.BytesIO()
    wb.save(buf)
    p = Path(path)
    p.write_bytes(stable_zip(buf.getvalue()))
    return p


def write_outputs(alloc: Allocation, out_dir: str | Path, *, stem: str = "allocation",
                  sensitivity: bool = True, extra: dict[str, str] | None = None,
                  public: bool = False, stage: str | None = None, date: Any = None
                  ) -> list[Path]:
    """Write xlsx, csv, json and the method sheet into ``out_dir`` atomically.

    Everything is first written to a temporary folder beside ``out_dir``; the files are moved
    into place only after all of them were produced, so a failure leaves nothing behind.

    Parameters
    ----------
    alloc : Allocation
    out_dir : str or Path
    stem : str
        File name stem.
    sensitivity : bool
        Include the sensitivity sheet in the workbook.
    extra : dict, optional
        ``{file name: text}`` more text files to write alongside.
    public : bool
        Also write the 公开版 workbook (``<stem>_公开版.xlsx``).
    stage, date
        As :func:`to_excel`.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".alloc-", dir=out.parent))
    try:
        to_excel(alloc, tmp / f"{stem}.xlsx", sensitivity=sensitivity, stage=stage, date=date)
        if public:
            to_excel(alloc, tmp / f"{stem}_公开版.xlsx", public=True, stage=stage, date=date)
        to_csv(alloc, tmp / f"{stem}.csv")
        to_json(alloc, tmp / f"{stem}.json")
        (tmp / f"{stem}_测算说明.txt").write_text(alloc.method_sheet("zh"), encoding="utf-8")
        for name, text in (extra or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        return commit_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def commit_dir(tmp: Path, out: Path) -> list[Path]:
    """Move every file of ``tmp`` into ``out`` (created if needed) and return the targets."""
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for f in sorted(tmp.iterdir()):
        target = out / f.name
        os.replace(f, target)
        done.append(target)
    return done
