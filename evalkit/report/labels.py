"""Bilingual (zh/en) labels for headings, axes, legends and table headers.

``t(key, language)`` looks a key up; unknown keys raise so a typo never shows up silently in a
report. Estimator-specific text lives with the notebooks that use it through :func:`t` too: extend
:data:`LABELS` here rather than writing strings into figures.
"""

from __future__ import annotations

from .._shared.exceptions import EvalkitError
from .style import resolve_language

LABELS: dict[str, dict[str, str]] = {
    # general
    "synthetic_mark": {"zh": "合成演示数据 · 非真实统计", "en": "SYNTHETIC DEMO DATA - not real statistics"},
    "synthetic_banner": {
        "zh": "注意：本页使用的是内置的合成演示数据（已植入已知效应），不是真实统计数据。",
        "en": "Note: this page uses the built-in synthetic demo panel (with planted, known effects), not real statistics.",
    },
    "schematic_map": {"zh": "示意图（非正式地图）", "en": "Schematic map (示意图), not an official map"},
    "year": {"zh": "年份", "en": "Year"},
    "unit": {"zh": "单位", "en": "Unit"},
    "unit_code": {"zh": "单位代码", "en": "Unit code"},
    "name": {"zh": "名称", "en": "Name"},
    "event_time": {"zh": "相对处理年份", "en": "Years relative to treatment"},
    "estimate": {"zh": "估计值", "en": "Estimate"},
    "std_error": {"zh": "标准误", "en": "Std. error"},
    "statistic": {"zh": "统计量", "en": "Statistic"},
    "p_value": {"zh": "p 值", "en": "p-value"},
    "conf_low": {"zh": "置信区间下限", "en": "CI lower"},
    "conf_high": {"zh": "置信区间上限", "en": "CI upper"},
    "ci95": {"zh": "95% 置信区间", "en": "95% confidence interval"},
    "ci_pointwise": {"zh": "逐点置信区间", "en": "Pointwise CI"},
    "ci_uniform": {"zh": "一致置信带", "en": "Uniform band"},
    "reference_period": {"zh": "基期", "en": "Reference period"},
    "term": {"zh": "项", "en": "Term"},
    "group": {"zh": "组别（首次处理年）", "en": "Group (first treated year)"},
    "time": {"zh": "时期", "en": "Period"},
    "estimator": {"zh": "估计方法", "en": "Estimator"},
    "inference": {"zh": "推断方法", "en": "Inference"},
    "weight": {"zh": "权重", "en": "Weight"},
    "value": {"zh": "数值", "en": "Value"},
    "target": {"zh": "目标值", "en": "Target"},
    "status": {"zh": "状态", "en": "Status"},
    "deadline": {"zh": "期限", "en": "Deadline"},
    "met": {"zh": "已达成", "en": "Met"},
    "not_met": {"zh": "未达成", "en": "Not met"},
    "on_track": {"zh": "进展符合预期", "en": "On track"},
    "off_track": {"zh": "进度落后", "en": "Behind schedule"},
    "no_data": {"zh": "无数据", "en": "No data"},
    "pending": {"zh": "未到期", "en": "Not yet due"},
    "weifang": {"zh": "潍坊市", "en": "Weifang"},
    "rest_of_shandong": {"zh": "山东省其他县区", "en": "Rest of Shandong"},
    "zones_table": {"zh": "市属开发区（无边界，列表显示）", "en": "City development zones (no boundary; listed)"},
    "missing": {"zh": "缺失", "en": "Missing"},
    "treated": {"zh": "处理", "en": "Treated"},
    "untreated": {"zh": "未处理", "en": "Untreated"},
    "never_treated": {"zh": "从未处理", "en": "Never treated"},
    # outcomes and treatments
    "revenue_wan": {"zh": "规上工业营业收入（万元）", "en": "Above-scale industrial revenue (10k CNY)"},
    "log_revenue": {"zh": "规上工业营业收入（对数）", "en": "Above-scale industrial revenue (log)"},
    "value_added_wan": {"zh": "规上工业增加值（万元）", "en": "Industrial value added (10k CNY)"},
    "log_value_added": {"zh": "规上工业增加值（对数）", "en": "Industrial value added (log)"},
    "n_firms": {"zh": "规上工业企业数", "en": "Above-scale industrial firms"},
    "rd_wan": {"zh": "R&D 经费（万元）", "en": "R&D spending (10k CNY)"},
    "energy_tce": {"zh": "能源消费量（吨标准煤）", "en": "Energy use (tce)"},
    "employment": {"zh": "规上工业从业人员（人）", "en": "Industrial employment (persons)"},
    "pilot_zone": {"zh": "试验区", "en": "Pilot zone"},
    "first_unit": {"zh": "首台套保险补偿", "en": "First-unit insurance compensation"},
    "first_unit_year": {"zh": "首台套保险补偿起始年", "en": "First year of first-unit insurance"},
    "tech_subsidy_wan": {"zh": "技术改造补助（万元）", "en": "Technology-upgrade subsidy (10k CNY)"},
    "tech_subsidy": {"zh": "技术改造补助", "en": "Technology-upgrade subsidies"},
    "factor_fund_wan": {"zh": "因素法分配资金（万元）", "en": "Factor-method funds (10k CNY)"},
    "factor_fund": {"zh": "因素法资金分配", "en": "Factor-method fund allocation"},
    "amount_wan": {"zh": "分配金额（万元）", "en": "Amount (10k CNY)"},
    # evaluations
    "eval_pilot_zone": {"zh": "试验区整体效应", "en": "Pilot zone as a whole"},
    "eval_tech_subsidy": {"zh": "技术改造补助", "en": "Technology-upgrade subsidies"},
    "eval_first_unit": {"zh": "首台套保险补偿", "en": "First-unit insurance compensation"},
    "eval_factor_fund": {"zh": "因素法资金分配", "en": "Factor-method funds"},
}
# the acceptance conclusion's texts (verdicts, credibility checks, sections) join the one dictionary
from .conclusion_labels import CONCLUSION_LABELS  # noqa: E402

LABELS.update(CONCLUSION_LABELS)


def t(key: str, language: str | None = None) -> str:
    """Label ``key`` in ``language`` (default: the active report language).

    Raises
    ------
    EvalkitError
        If ``key`` is unknown (names close matches).
    """
    lang = resolve_language(language)
    if key not in LABELS:
        import difflib

        close = difflib.get_close_matches(key, LABELS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise EvalkitError(f"Unknown label key {key!r}.{hint} Add it to evalkit/report/labels.py.")
    return LABELS[key][lang]


def label_or_name(key: str, language: str | None = None) -> str:
    """Like :func:`t`, but returns ``key`` itself when it has no label (column names)."""
    return t(key, language) if key in LABELS else key


def translate_columns(frame, language: str | None = None):
    """Rename a frame's columns to labels where a label exists (for display tables)."""
    return frame.rename(columns={c: label_or_name(c, language) for c in frame.columns})
