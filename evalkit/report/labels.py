"""Bilingual (zh/en) labels for headings, axes, legends and table headers.

``t(key, language)`` looks a key up; unknown keys raise so a typo never shows up silently in a
report. Estimator-specific text lives with the notebooks that use it through :func:`t` too: extend
:data:`LABELS` here rather than writing strings into figures.
"""

from __future__ import annotations

from .._shared.exceptions import EvalkitError
from .context import resolve_language

LABELS: dict[str, dict[str, str]] = {
    # general
    "synthetic_mark": {"zh": "合成演示数据 · 非真实统计", "en": "SYNTHETIC DEMO DATA - not real statistics"},
    "synthetic_banner": {
        "zh": "注意：本页使用的是内置的合成演示数据（已植入已知效应），不是真实统计数据。",
        "en": "Note: this page uses the built-in synthetic demo panel (with planted, known effects), not real statistics.",
    },
    "schematic_map": {"zh": "示意图（非正式地图）", "en": "Schematic map, not an official map"},
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
    "list_separator": {"zh": "、", "en": ", "},
    "clause_separator": {"zh": "；", "en": "; "},
    "sentence_end": {"zh": "。", "en": "."},
    "label_colon": {"zh": "：", "en": ": "},
    "page_of_pages": {"zh": "第 {page} 页，共 {pages} 页", "en": "Page {page} of {pages}"},
    "finding_with_note": {"zh": "{sentence}。[{n}] {label}{assumption}。", "en": "{sentence}. [{n}] {label}{assumption}."},
    "name_with_note": {"zh": "{name}（{note}）", "en": "{name} ({note})"},
    "attachment_xlsx": {"zh": "测算表（Excel）", "en": "allocation workbook (Excel)"},
    "attachment_csv": {"zh": "表格（CSV）", "en": "table (CSV)"},
    "attachment_json": {"zh": "完整测算记录（JSON）", "en": "full audit record (JSON)"},
    "attachment_txt": {"zh": "说明（文本）", "en": "note (text)"},
    "attachment_pdf": {"zh": "PDF 文件", "en": "PDF"},
    "attachment_docx": {"zh": "Word 文件", "en": "Word file"},
    "attachment_other": {"zh": "附件", "en": "attachment"},
    "attachment_method_note": {"zh": "测算说明", "en": "method note"},
    "left_out_units": {
        "zh": "本页的估计需要完整的单位-年份，以下缺年的单位未纳入：{names}。",
        "en": "The estimates on this page need every unit-year; these units with missing years are left out: {names}.",
    },
    "unbalanced_panel": {
        "zh": "本页基于不平衡面板：缺少 {n} 个单位-年份（{units} 个单位，涉及 {years} 年），经 --allow-missing "
              "允许；缺失单位-年份未被插补，估计只使用现有观测。",
        "en": "This page uses an unbalanced panel: {n} unit-year(s) of {units} unit(s) are missing (years {years}), "
              "allowed with --allow-missing; nothing was imputed, the estimates use the observed rows only.",
    },
    "treated": {"zh": "处理", "en": "Treated"},
    "untreated": {"zh": "未处理", "en": "Untreated"},
    "never_treated": {"zh": "从未处理", "en": "Never treated"},
    # outcomes and treatments
    "revenue_wan": {"zh": "规上工业营业收入（万元）", "en": "Above-scale industrial revenue (CNY 10k)"},
    "log_revenue": {"zh": "规上工业营业收入（对数）", "en": "Above-scale industrial revenue (log)"},
    "revenue_yi": {"zh": "规上工业营业收入（亿元）", "en": "Above-scale industrial revenue (CNY 100m)"},
    "value_added_wan": {"zh": "规上工业增加值（万元）", "en": "Industrial value added (CNY 10k)"},
    "log_value_added": {"zh": "规上工业增加值（对数）", "en": "Industrial value added (log)"},
    "n_firms": {"zh": "规上工业企业数", "en": "Above-scale industrial firms"},
    "rd_wan": {"zh": "R&D 经费（万元）", "en": "R&D spending (CNY 10k)"},
    "energy_tce": {"zh": "能源消费量（吨标准煤）", "en": "Energy use (tce)"},
    "employment": {"zh": "规上工业从业人员（人）", "en": "Industrial employment (persons)"},
    "pilot_zone": {"zh": "试验区", "en": "Pilot zone"},
    "first_unit": {"zh": "首台套保险补偿", "en": "First-unit insurance compensation"},
    "first_unit_year": {"zh": "首台套保险补偿起始年", "en": "First year of first-unit insurance"},
    "tech_subsidy_wan": {"zh": "技术改造补助（万元）", "en": "Technology-upgrade subsidy (CNY 10k)"},
    "tech_subsidy": {"zh": "技术改造补助", "en": "Technology-upgrade subsidies"},
    "factor_fund_wan": {"zh": "因素法资金到位额（万元）", "en": "Factor-method funds received (CNY 10k)"},
    "factor_fund": {"zh": "因素法资金分配", "en": "Factor-method fund allocation"},
    "amount_wan": {"zh": "分配金额（万元）", "en": "Amount (CNY 10k)"},
    # evaluations
    "eval_pilot_zone": {"zh": "试验区整体效应", "en": "Pilot zone as a whole"},
    "eval_tech_subsidy": {"zh": "技术改造补助", "en": "Technology-upgrade subsidies"},
    "eval_first_unit": {"zh": "首台套保险补偿", "en": "First-unit insurance compensation"},
    "eval_factor_fund": {"zh": "因素法资金分配", "en": "Factor-method funds"},
    # statistics and inference
    "estimate_short": {"zh": "估计", "en": "Estimate"},
    "conf_low_uniform": {"zh": "一致置信带下限", "en": "Uniform band lower"},
    "conf_high_uniform": {"zh": "一致置信带上限", "en": "Uniform band upper"},
    "pretrend_p": {"zh": "事前趋势检验 p 值", "en": "Pre-trend test p-value"},
    "breakdown": {"zh": "敏感性临界值", "en": "Breakdown value"},
    "pre_rmspe": {"zh": "处理前拟合误差（RMSPE）", "en": "Pre-period fit error (RMSPE)"},
    "post_rmspe": {"zh": "处理后拟合误差（RMSPE）", "en": "Post-period fit error (RMSPE)"},
    "ratio": {"zh": "后/前误差比", "en": "Post/pre error ratio"},
    "truth": {"zh": "真实值（合成数据）", "en": "True value (synthetic data)"},
    "true_effect": {"zh": "真实效应（合成数据）", "en": "True effect (synthetic data)"},
    "estimand": {"zh": "估计对象", "en": "Estimand"},
    "evaluation": {"zh": "评估对象", "en": "Evaluation"},
    "note": {"zh": "说明", "en": "Note"},
    "df": {"zh": "自由度", "en": "Degrees of freedom"},
    "n": {"zh": "个数", "en": "Count"},
    "n_units": {"zh": "单位数", "en": "Units"},
    "type": {"zh": "类别", "en": "Type"},
    "avg_estimate": {"zh": "平均估计值", "en": "Average estimate"},
    "dose": {"zh": "处理强度", "en": "Dose"},
    "cohort": {"zh": "首次处理年份", "en": "First treated year"},
    "relative_magnitude": {"zh": "相对幅度限制", "en": "Relative-magnitude restriction"},
    "smoothness": {"zh": "平滑性限制", "en": "Smoothness restriction"},
    "m_bar": {"zh": "相对幅度上限 M̄", "en": "Relative-magnitude bound M̄"},
    "m_smooth": {"zh": "平滑性上限 M", "en": "Smoothness bound M"},
    "lower": {"zh": "下限", "en": "Lower bound"},
    "upper": {"zh": "上限", "en": "Upper bound"},
    "quantity": {"zh": "检验项目", "en": "Quantity"},
    "published": {"zh": "已发表数值", "en": "Published"},
    "evalkit_value": {"zh": "evalkit 结果", "en": "evalkit"},
    "difference": {"zh": "差异", "en": "Difference"},
    "tolerance": {"zh": "容差", "en": "Tolerance"},
    "agrees": {"zh": "是否一致", "en": "Agrees"},
    "source": {"zh": "来源", "en": "Source"},
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
    "total": {"zh": "合计", "en": "Total"},
    "missing_footnote": {"zh": "“—”表示不适用或无数据。", "en": "“—” means not applicable or no data."},
    # the scorecard's rules and reasons (evalkit.targets.rule_text / reason_text)
    "rule_at_least": {"zh": "{target}以上", "en": "at least {target}"},
    "rule_at_most": {"zh": "不超过{target}", "en": "at most {target}"},
    "rule_exactly": {"zh": "等于{target}", "en": "exactly {target}"},
    "rule_about": {"zh": "{target}左右（不低于{low}，容差{pct}）", "en": "about {target} (at least {low}, tolerance {pct})"},
    "reason_no_baseline": {"zh": "无基期值，无法判断进度", "en": "no baseline value to judge progress against"},
    "reason_no_data_years": {"zh": "缺少 {years} 年数据", "en": "no data for {years}"},
    "reason_no_indicator": {"zh": "数据表中没有该指标", "en": "the indicators table has no values for this target"},
    "reason_short_each_year": {"zh": "{years} 年未达到每年{rule}", "en": "short of {rule} in {years}"},
    "reason_short_cumulative": {"zh": "{since} 年以来累计 {value}，未达到{rule}",
                                "en": "{value} in total since {since}, short of {rule}"},
    "reason_behind_path": {"zh": "{year} 年为 {value}，低于按进度应达到的 {expected}",
                           "en": "{value} in {year}, below the {expected} a steady path needs"},
    "reason_short": {"zh": "{year} 年为 {value}，未达到{rule}", "en": "{value} in {year}, short of {rule}"},
    # the evidence pack's index page (evalkit.pipeline.index)
    "index_title": {
        "zh": "潍坊市制造业高质量发展试验区 评估证据包",
        "en": "Weifang Manufacturing High-Quality Development Pilot Zone — evidence pack",
    },
    "index_synthetic": {
        "zh": "合成演示数据：本证据包中的所有数字均来自模拟数据，不是真实统计，不得用于验收结论。",
        "en": "SYNTHETIC DEMO DATA: every number in this pack comes from simulated data, not real "
              "statistics; do not use it for the acceptance decision.",
    },
    "index_year": {"zh": "评估年份", "en": "Evaluation year"},
    "index_data": {"zh": "数据目录", "en": "Data folder"},
    "index_version": {"zh": "evalkit 版本", "en": "evalkit version"},
    "index_commit": {"zh": "代码版本（git）", "en": "Code version (git)"},
    "index_generated": {"zh": "生成时间（UTC）", "en": "Generated (UTC)"},
    "index_runtime": {"zh": "总运行时间", "en": "Total run time"},
    "index_col_nb": {"zh": "评估内容", "en": "Page"},
    "index_col_status": {"zh": "状态", "en": "Status"},
    "index_col_time": {"zh": "运行时间", "en": "Run time"},
    "index_col_headlines": {"zh": "主要结果", "en": "Headline figures"},
    "index_col_links": {"zh": "页面", "en": "Pages"},
    "index_report": {"zh": "报告", "en": "report"},
    "index_code": {"zh": "含代码", "en": "with code"},
    "index_ipynb": {"zh": "ipynb", "en": "ipynb"},
    "index_ok": {"zh": "完成", "en": "ok"},
    "index_failed": {"zh": "失败", "en": "failed"},
    "index_skipped": {"zh": "已跳过", "en": "skipped"},
    "index_not_run": {"zh": "未运行", "en": "not run"},
    "index_none": {"zh": "—", "en": "—"},
    "index_verdict_line": {"zh": "{verdict}（可信度{credibility}）", "en": "{verdict} (credibility: {credibility})"},
    "index_attachments": {
        "zh": "附件：因素法资金测算表与测算说明",
        "en": "Attachments: factor-method allocation workbook and method note",
    },
    "index_verify": {
        "zh": "核验：evalkit verify <本目录> --sha256 <构建时给出的摘要> 会对照 manifest.json 检查每个文件的 SHA-256，并用证据包旁的 "
              "<本目录>.manifest.sha256 核对 manifest.json 本身。",
        "en": "Check: `evalkit verify <this folder> --sha256 <digest the build printed>` compares "
              "every file with the SHA-256 recorded in manifest.json, and manifest.json itself with "
              "the digest (also in <this folder>.manifest.sha256 beside the pack).",
    },
    "index_uncommitted": {"zh": "（有未提交的修改）", "en": "(uncommitted changes)"},
    # words inside the plots that result objects draw of themselves
    "bacon_earlier_vs_later": {"zh": "早处理组 vs 晚处理组", "en": "Earlier vs Later Treated"},
    "bacon_later_vs_earlier": {"zh": "晚处理组 vs 早处理组(已处理作对照)", "en": "Later vs Earlier Treated"},
    "bacon_treated_vs_untreated": {"zh": "处理组 vs 从未处理组", "en": "Treated vs Untreated"},
    "bacon_later_vs_always": {"zh": "晚处理组 vs 始终处理组", "en": "Later vs Always Treated"},
    "twfe_estimate_line": {"zh": "TWFE 估计 = {value:.3g}", "en": "TWFE estimate = {value:.3g}"},
    "two_by_two_estimate": {"zh": "2×2 DiD 估计", "en": "2x2 DiD estimate"},
    "periods_since_change": {"zh": "距首次变化的期数", "en": "Periods since first treatment change"},
    "effect": {"zh": "效应", "en": "Effect"},
    "count": {"zh": "次数", "en": "Count"},
    "test_draws": {"zh": "抽样分布", "en": "Draws"},
    "test_observed": {"zh": "观测值", "en": "Observed"},
    "t_statistic": {"zh": "t 统计量", "en": "t statistic"},
    "curve_dose": {"zh": "补贴强度", "en": "Dose"},
    "curve_att": {"zh": "平均处理效应 ATT(d)", "en": "ATT(d)"},
    "curve_acrt": {"zh": "平均因果响应 ACRT(d)", "en": "ACRT(d)"},
    "curve_pointwise": {"zh": "逐点置信区间", "en": "pointwise CI"},
    "curve_uniform": {"zh": "一致置信带", "en": "uniform band"},
    "curve_truth": {"zh": "真实值", "en": "truth"},
    "synth_synthetic": {"zh": "合成对照", "en": "Synthetic comparison"},
    "synth_gap": {"zh": "处理组减合成对照", "en": "Treated minus synthetic"},
    "synth_time_weights": {"zh": "时间权重", "en": "time weight"},
    "synth_placebo": {"zh": "安慰剂（对照单位）", "en": "Placebo (donor units)"},
    "synth_treatment_start": {"zh": "政策开始", "en": "Treatment starts"},
    "synth_rmspe_ratio": {"zh": "政策后/前 RMSPE 之比", "en": "post/pre RMSPE"},
    "honest_ci": {"zh": "{level:.0%} 置信区间", "en": "{level:.0%} CI"},
    "honest_title": {"zh": "平行趋势偏离敏感性（Rambachan–Roth）", "en": "{title}"},
    "normalisation_caption": {
        "zh": "所有估计均以事件时间 −1 为参照（取 0）；Callaway–Sant'Anna 采用统一基期，处理前各期与其他估计量口径一致。",
        "en": "All estimates relative to event time −1 (= 0); Callaway–Sant'Anna with the universal base "
              "period, so its pre-periods match the others.",
    },
    "true_effect_line": {"zh": "真实效应（合成数据）", "en": "True effect (synthetic)"},
    "never_treated_hidden": {"zh": "{n} 个单位从未处理，未显示", "en": "{n} never-treated units not shown"},
    "more_units_hidden": {"zh": "另有 {n} 个单位未显示", "en": "{n} more units not shown"},
    "original_interval": {"zh": "原始区间", "en": "original"},
    "original_short": {"zh": "原始", "en": "orig."},
    "range_to": {"zh": " 至 ", "en": " to "},
    "money_wan": {"zh": "万元", "en": "10k CNY"},
    "panel_iv_title": {"zh": "工具变量估计", "en": "Panel IV (2SLS) with unit and period effects"},
    "two_sls": {"zh": "两阶段最小二乘", "en": "2SLS"},
    "ols": {"zh": "普通最小二乘", "en": "OLS"},
    "instrument_net_fe": {"zh": "工具变量(去除固定效应后)", "en": "Instrument (net of fixed effects)"},
    "funds_net_fe": {"zh": "资金(去除固定效应后)", "en": "Funds (net of fixed effects)"},
    "outcome_net_fe": {"zh": "结果变量(去除固定效应后)", "en": "Outcome (net of fixed effects)"},
    "first_stage": {"zh": "第一阶段", "en": "First stage"},
    "reduced_form": {"zh": "简约式", "en": "Reduced form"},
    # methods (names shown in tables and legends)
    "twfe": {"zh": "双向固定效应（TWFE）", "en": "Two-way fixed effects (TWFE)"},
    "two_by_two": {"zh": "2×2 双重差分", "en": "2×2 difference-in-differences"},
    "event_study": {"zh": "事件研究", "en": "Event study"},
    "callaway_santanna": {"zh": "Callaway–Sant'Anna", "en": "Callaway–Sant'Anna"},
    "sun_abraham": {"zh": "Sun–Abraham", "en": "Sun–Abraham"},
    "imputation": {"zh": "插补估计（Borusyak–Jaravel–Spiess）", "en": "Imputation (Borusyak–Jaravel–Spiess)"},
    "synthetic_control": {"zh": "合成控制", "en": "Synthetic control"},
    "synthetic_did": {"zh": "合成双重差分", "en": "Synthetic DiD"},
    "continuous_did": {"zh": "连续处理双重差分", "en": "Continuous-treatment DiD"},
    "dcdh": {"zh": "de Chaisemartin–D'Haultfœuille", "en": "de Chaisemartin–D'Haultfœuille"},
    "iv": {"zh": "工具变量（2SLS）", "en": "Instrumental variables (2SLS)"},
    "bacon": {"zh": "Goodman-Bacon 分解", "en": "Goodman-Bacon decomposition"},
    "honest_did": {"zh": "HonestDiD 稳健区间", "en": "HonestDiD robust interval"},
    # unit types
    "unit_type": {"zh": "单位类型", "en": "Unit type"},
    "district": {"zh": "市辖区", "en": "District"},
    "county": {"zh": "县", "en": "County"},
    "county_city": {"zh": "县级市", "en": "County-level city"},
    "zone": {"zh": "市属开发区", "en": "City development zone"},
    "in_weifang": {"zh": "是否潍坊", "en": "In Weifang"},
    "prefecture_zh": {"zh": "地级市", "en": "Prefecture"},
    # data audit
    "kind": {"zh": "类别", "en": "Kind"},
    "message": {"zh": "内容", "en": "Message"},
    "unit_years": {"zh": "单位×年份", "en": "Unit-years"},
    "rows_present": {"zh": "有数据的行", "en": "Rows present"},
    "complete": {"zh": "结果变量完整", "en": "Complete outcomes"},
    "missing_cells": {"zh": "缺失单元", "en": "Missing cells"},
    "missing_years": {"zh": "缺失年份", "en": "Missing years"},
    "population_10k": {"zh": "常住人口（万人）", "en": "Resident population (10k persons)"},
    "log_pop_2015": {"zh": "2015 年人口（对数）", "en": "Population 2015 (log)"},
    "area": {"zh": "地区", "en": "Area"},
    # allocation
    "name_zh": {"zh": "单位名称", "en": "Unit name"},
    "name_en": {"zh": "单位名称", "en": "Unit name"},
    "alloc_group": {"zh": "单位类别", "en": "Unit group"},
    "last_year_wan": {"zh": "上年金额（万元）", "en": "Last year (CNY 10k)"},
    "previous_wan": {"zh": "上年金额（万元）", "en": "Last year (CNY 10k)"},
    "change_wan": {"zh": "增减（万元）", "en": "Change (CNY 10k)"},
    "change_pct": {"zh": "增减幅度", "en": "Change (%)"},
    "share": {"zh": "份额", "en": "Share"},
    "composite": {"zh": "综合得分", "en": "Composite score"},
    "coefficient": {"zh": "调节系数", "en": "Adjustment coefficient"},
    "base_wan": {"zh": "基数（万元）", "en": "Base (CNY 10k)"},
    "floor_wan": {"zh": "保底（万元）", "en": "Floor (CNY 10k)"},
    "cap_wan": {"zh": "上限（万元）", "en": "Cap (CNY 10k)"},
    "rounding_wan": {"zh": "取整调整（万元）", "en": "Rounding (CNY 10k)"},
    "factor_id": {"zh": "因素", "en": "Factor"},
    "factor": {"zh": "因素", "en": "Factor"},
    "factor_weight": {"zh": "权重", "en": "Weight"},
    "contribution_wan": {"zh": "贡献（万元）", "en": "Contribution (CNY 10k)"},
    "equal_split": {"zh": "均分基准", "en": "Equal split"},
    "weights": {"zh": "权重变化", "en": "Weights"},
    "budget": {"zh": "资金总额变化", "en": "Budget"},
    "rounding": {"zh": "取整", "en": "Rounding"},
    "constraints": {"zh": "保底与上限", "en": "Floors and caps"},
    "pure_output": {"zh": "因素数据变化", "en": "Factor data"},
    "coefficients": {"zh": "调节系数变化", "en": "Coefficients"},
    "base": {"zh": "基数变化", "en": "Base"},
    "mean": {"zh": "均值", "en": "Mean"},
    "sd": {"zh": "标准差", "en": "Std. dev."},
    "prob_floor": {"zh": "触及保底概率", "en": "P(at floor)"},
    "prob_cap": {"zh": "触及上限概率", "en": "P(at cap)"},
    "prob_rank_change": {"zh": "名次变动概率", "en": "P(rank changes)"},
    "shift_pp": {"zh": "权重调整（百分点）", "en": "Weight shift (pp)"},
    "dropped": {"zh": "去掉的因素", "en": "Factor left out"},
    "gini_amount": {"zh": "基尼系数（分配额）", "en": "Gini coefficient (amounts)"},
    "hhi": {"zh": "赫芬达尔指数（HHI）", "en": "Herfindahl index (HHI)"},
    "max_min_ratio": {"zh": "最高/最低分配额之比", "en": "Highest/lowest amount"},
    "theil_total": {"zh": "泰尔指数（总）", "en": "Theil index (total)"},
    "theil_between": {"zh": "泰尔指数（组间）", "en": "Theil index (between groups)"},
    "theil_within": {"zh": "泰尔指数（组内）", "en": "Theil index (within groups)"},
    "effective_n": {"zh": "有效单位数", "en": "Effective number of units"},
    "this_year": {"zh": "本年", "en": "This year"},
    "top3_share": {"zh": "前三名份额", "en": "Top-3 share"},
    "p5": {"zh": "5% 分位数", "en": "5th percentile"},
    "p50": {"zh": "中位数", "en": "Median"},
    "p95": {"zh": "95% 分位数", "en": "95th percentile"},
    "last_year": {"zh": "上年", "en": "Last year"},
    "scenario": {"zh": "方案", "en": "Scenario"},
    "metric": {"zh": "指标", "en": "Metric"},
    # fund IV (page 40)
    "z_wan": {"zh": "公式预测资金（万元）", "en": "Formula-predicted funds (CNY 10k)"},
    "ez_wan": {"zh": "预测资金期望值（万元）", "en": "Expected predicted funds (CNY 10k)"},
    "z_recentred_wan": {"zh": "再中心化预测资金（万元）", "en": "Recentred predicted funds (CNY 10k)"},
    # scorecard
    "indicator": {"zh": "指标", "en": "Indicator"},
    "target_type": {"zh": "目标类型", "en": "Target type"},
    "cumulative": {"zh": "累计", "en": "Cumulative"},
    "each_year": {"zh": "每年", "en": "Every year"},
    "level": {"zh": "期末", "en": "End of period"},
    "baseline": {"zh": "基期值（2020）", "en": "Baseline (2020)"},
    "actual": {"zh": "实际值", "en": "Actual"},
    "completion": {"zh": "完成率", "en": "Completion"},
    "reason": {"zh": "原因", "en": "Reason"},
    "data_source": {"zh": "数据来源", "en": "Data source"},
    "department": {"zh": "责任部门", "en": "Responsible department"},
    "section": {"zh": "方案条目", "en": "Plan section"},
    "value_year": {"zh": "数据年份", "en": "Data year"},
    "rule": {"zh": "达标规则", "en": "Rule"},
    "target_count": {"zh": "目标个数", "en": "Number of targets"},
}

#: Units of measure by name (the plan's and the data's codes -> words per language).
UNITS: dict[str, dict[str, str]] = {
    "家": {"zh": "家", "en": "firms"},
    "个": {"zh": "个", "en": ""},
    "条": {"zh": "条", "en": "chains"},
    "场": {"zh": "场", "en": "events"},
    "%": {"zh": "%", "en": "%"},
    "万元": {"zh": "万元", "en": "CNY 10k"},
    "亿元": {"zh": "亿元", "en": "CNY 100m"},
    "元": {"zh": "元", "en": "CNY"},
    "人": {"zh": "人", "en": "persons"},
    "万人": {"zh": "万人", "en": "10k persons"},
    "吨标准煤": {"zh": "吨标准煤", "en": "tonnes of coal equivalent"},
    "tce": {"zh": "吨标准煤", "en": "tonnes of coal equivalent"},
    "亩": {"zh": "亩", "en": "mu"},
    "项": {"zh": "项", "en": "items"},
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

    Examples
    --------
    >>> from evalkit.report import t
    >>> t("unit_type", "en"), t("unit_type", "zh")
    ('Unit type', '单位类型')
    """
    lang = resolve_language(language)
    if key not in LABELS:
        import difflib

        close = difflib.get_close_matches(key, LABELS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise EvalkitError(f"Unknown label key {key!r}.{hint} Add it to evalkit/report/labels.py.")
    return LABELS[key][lang]


def label_or_name(key: str, language: str | None = None) -> str:
    """Like :func:`t`, but returns ``key`` itself when it has no label (column names).

    Examples
    --------
    >>> from evalkit.report import label_or_name
    >>> label_or_name("county_city", "en"), label_or_name("my_own_column", "en")
    ('County-level city', 'my_own_column')
    """
    return t(key, language) if key in LABELS else key


def translate_columns(frame, language: str | None = None):
    """Rename a frame's columns to labels where a label exists (for display tables).

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.report import translate_columns
    >>> translate_columns(pd.DataFrame(columns=["estimate", "my_column"]), "en").columns.tolist()
    ['Estimate', 'my_column']
    """
    return frame.rename(columns={c: label_or_name(c, language) for c in frame.columns})


def unit_of_measure(unit, language: str | None = None) -> str:
    """A unit of measure by name in ``language`` (``"亿元"`` -> ``"CNY 100m"`` in English).

    Unknown units are returned as written; a missing unit gives ``""``.

    Examples
    --------
    >>> unit_of_measure("家", "en")
    'firms'
    >>> unit_of_measure("亿元", "zh")
    '亿元'
    """
    lang = resolve_language(language)
    if unit is None or (isinstance(unit, float) and unit != unit):
        return ""
    return UNITS.get(str(unit), {}).get(lang, str(unit))


def unit_names(codes, language: str | None = None, *, names: dict | None = None) -> list[str]:
    """Display names of units by code in ``language`` (from the unit master; codes it lacks stay).

    Parameters
    ----------
    codes : iterable of str
        Unit codes (GB/T 2260 codes or zone ids).
    language : {"zh", "en"}, optional
        Overrides the active report language.
    names : dict, optional
        ``{code: name}`` that takes precedence (e.g. names from the user's own files).

    Examples
    --------
    >>> unit_names(["370702"], "en")
    ['Weicheng District']
    """
    lang = resolve_language(language)
    from ..data.masters import unit_master

    master = unit_master().set_index("unit_code")[f"name_{lang}"].to_dict()
    given = names or {}
    return [str(given.get(str(c), master.get(str(c), c))) for c in codes]


def join_list(items, language: str | None = None) -> str:
    """Items written as a list the way ``language`` writes one ("甲、乙" in Chinese, "a, b" in English).

    Examples
    --------
    >>> from evalkit.report import join_list
    >>> join_list(["寿光市", "青州市"], "zh"), join_list(["Shouguang", "Qingzhou"], "en")
    ('寿光市、青州市', 'Shouguang, Qingzhou')
    """
    return t("list_separator", language).join(str(item) for item in items)


def value_label(value, language: str | None = None) -> str:
    """Translate a coded cell value (``"county_city"``, ``"cumulative"``) when it has a label.

    Examples
    --------
    >>> from evalkit.report import value_label
    >>> value_label("county_city", "en"), value_label(3.5, "en")
    ('County-level city', 3.5)
    """
    if isinstance(value, str) and value in LABELS:
        return t(value, language)
    return value
