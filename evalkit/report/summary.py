"""The acceptance summary table, built from the headlines the detailed notebooks saved.

One row per evaluation: the preferred estimate and its interval, the pre-trend test, whether the
estimators agree, the sensitivity breakdown value, and a carefully worded verdict. Nothing is
recomputed here: every number comes from a notebook's saved headlines.
"""

from __future__ import annotations

import math

import pandas as pd

from .labels import t
from .style import resolve_language

# notebook -> evaluation key (label key "eval_<key>")
EVALUATIONS = {
    "10_pilot_zone": "pilot_zone",
    "20_tech_upgrade_subsidies": "tech_subsidy",
    "30_first_unit_insurance": "first_unit",
    "40_fund_allocation_effects": "factor_fund",
}
PRETREND_ALPHA = 0.10
AGREEMENT_ZH = {"agree": "方向一致", "disagree": "方向不一致", "single": "仅一种方法"}


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _agreement(rows: list[dict]) -> tuple[str, float, float]:
    ests = [_num(r.get("estimate")) for r in rows if math.isfinite(_num(r.get("estimate")))]
    if len(ests) < 2:
        return "single", min(ests, default=math.nan), max(ests, default=math.nan)
    same_sign = all(e > 0 for e in ests) or all(e < 0 for e in ests)
    return ("agree" if same_sign else "disagree"), min(ests), max(ests)


def verdict(row: dict, language: str = "zh") -> str:
    """Carefully worded verdict from the interval, pre-trend test, agreement and breakdown."""
    zh = language == "zh"
    lo, hi = _num(row.get("conf_low")), _num(row.get("conf_high"))
    pre = _num(row.get("pretrend_p"))
    brk = _num(row.get("breakdown"))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "无法判断：缺少置信区间。" if zh else "Cannot judge: no confidence interval."
    parts = []
    if lo > 0:
        parts.append("95% 置信区间为正：数据支持正向效应" if zh else "95% interval above zero: the data support a positive effect")
    elif hi < 0:
        parts.append("95% 置信区间为负：数据显示负向效应" if zh else "95% interval below zero: the data indicate a negative effect")
    else:
        parts.append("置信区间包含零：未发现统计上显著的效应（不等于没有效应）" if zh
                     else "interval includes zero: no statistically significant effect (not proof of no effect)")
    if math.isfinite(pre) and pre < PRETREND_ALPHA:
        parts.append("事前趋势检验未通过，结论需谨慎" if zh else "pre-trend test rejects: read with caution")
    elif math.isfinite(pre):
        parts.append("未发现事前趋势差异（检验功效有限）" if zh else "no pre-trend detected (the test has limited power)")
    if row.get("agreement") in ("disagree", AGREEMENT_ZH["disagree"]):
        parts.append("不同估计方法结论不一致" if zh else "estimators disagree in sign")
    if math.isfinite(brk):
        parts.append(f"在平行趋势偏离不超过事前最大偏离的 {brk:.2g} 倍时结论成立" if zh
                      else f"conclusion holds for parallel-trend violations up to {brk:.2g}x the largest pre-period one")
    return ("；" if zh else "; ").join(parts) + ("。" if zh else ".")


def acceptance_table(headlines: dict[str, dict], language: str | None = None) -> pd.DataFrame:
    """One row per evaluation from saved headlines (``report.load_headlines(pack)``).

    The preferred row of a notebook is the one flagged ``preferred``; otherwise its first row.
    Evaluations whose notebook saved nothing appear with status "no result".
    """
    lang = resolve_language(language)
    rows = []
    for notebook, key in EVALUATIONS.items():
        payload = headlines.get(notebook)
        records = (payload or {}).get("headlines") or []
        base = {"evaluation": t(f"eval_{key}", lang), "notebook": notebook}
        if not records:
            rows.append({**base, "estimator": None, "verdict": "未生成结果" if lang == "zh" else "no result"})
            continue
        main = next((r for r in records if r.get("preferred")), records[0])
        agree, lo_est, hi_est = _agreement(records)
        row = {
            **base,
            "estimator": main.get("estimator"),
            "estimate": _num(main.get("estimate")),
            "conf_low": _num(main.get("conf_low")),
            "conf_high": _num(main.get("conf_high")),
            "p_value": _num(main.get("p_value")),
            "inference": main.get("inference"),
            "pretrend_p": _num(main.get("pretrend_p")),
            "agreement": agree,
            "estimate_range": f"[{lo_est:.3g}, {hi_est:.3g}]" if math.isfinite(lo_est) else "",
            "n_estimators": len(records),
            "breakdown": _num(main.get("breakdown")),
            "truth": _num(main.get("truth")),
            "outcome_note": main.get("note"),
        }
        row["verdict"] = verdict(row, lang)
        if lang == "zh":
            row["agreement"] = AGREEMENT_ZH[agree]
        rows.append(row)
    return pd.DataFrame(rows)
