"""Labels (zh/en) of the acceptance conclusion: verdicts, credibility checks, sections, glossary.

They are registered into the one label dictionary :data:`evalkit.report.labels.LABELS` (looked up
with :func:`evalkit.report.t`); they live in their own file only to keep the general labels short.
Texts with ``{...}`` are format templates filled by :mod:`evalkit.report.verdict` and
:mod:`evalkit.report.conclusion`.
"""

from __future__ import annotations

CONCLUSION_LABELS: dict[str, dict[str, str]] = {
    # identifying assumptions
    "assumption_synthetic_comparison": {
        "zh": "若没有试验区，潍坊各单位的走势可由山东其余县市区（加权组合）的走势代表",
        "en": "without the pilot zone, Weifang's units would have moved like a (weighted) combination of "
              "the other counties of Shandong",
    },
    "assumption_parallel_trends": {
        "zh": "若没有该政策，获支持县区与未获支持县区的结果变量变化趋势相同（平行趋势），且政策实施前无预期效应",
        "en": "without the policy, supported and unsupported counties would have followed the same trend "
              "(parallel trends), with no effect before the start",
    },
    "assumption_parallel_trends_homogeneous": {
        "zh": "平行趋势，且各批次、各年份的政策效应相同（双向固定效应所需的更强假设）",
        "en": "parallel trends and the same effect in every cohort and year (the stronger assumption "
              "two-way fixed effects needs)",
    },
    "assumption_strong_parallel_trends": {
        "zh": "强平行趋势：不同补助强度的县区之间不存在按预期收益的自选择",
        "en": "strong parallel trends: no selection on gains across subsidy intensities",
    },
    "assumption_shock_exogeneity": {
        "zh": "只有财政部门逐年确定的因素权重与资金总额是外生的（Borusyak–Hull 再中心化工具变量）",
        "en": "only the bureau's yearly factor weights and totals are exogenous (Borusyak–Hull recentred "
              "instrument)",
    },
    "assumption_shock_exogeneity_weights": {
        "zh": "只有财政部门逐年确定的因素权重是外生的（Borusyak–Hull 再中心化工具变量）",
        "en": "only the bureau's yearly factor weights are exogenous (Borusyak–Hull recentred instrument)",
    },
    "assumption_shock_exogeneity_total": {
        "zh": "只有财政部门逐年确定的资金总额是外生的（Borusyak–Hull 再中心化工具变量）",
        "en": "only the bureau's yearly fund totals are exogenous (Borusyak–Hull recentred instrument)",
    },
    "expectation_permute": {
        "zh": "期望值取观测到的各年冲击全部 {n} 种组合的精确平均",
        "en": "the expectation is the exact average over the {n} combinations of the observed yearly shocks",
    },
    "expectation_dirichlet": {
        "zh": "期望值取 {n} 次 Dirichlet 重抽（集中度 {concentration:g}）的平均",
        "en": "the expectation is the average over {n} Dirichlet redraws (concentration {concentration:g})",
    },
    "assumption_formula_exogeneity": {
        "zh": "公式所用的滞后因素水平本身与各单位收入的冲击无关（比该项评估所依据的假设更强，未被论证）",
        "en": "the lagged factor levels in the formula are themselves unrelated to shocks to revenue (a "
              "stronger assumption than the evaluation argues for)",
    },
    "assumption_no_selection": {
        "zh": "相机追加资金与各单位当年的经营冲击无关（朴素回归，通常不成立）",
        "en": "discretionary top-ups are unrelated to the units' shocks that year (naive regression; "
              "usually false)",
    },
    # verdicts
    "verdict_supports_positive": {"zh": "数据支持正向效应", "en": "The data support a positive effect"},
    "verdict_supports_negative": {"zh": "数据显示负向效应", "en": "The data indicate a negative effect"},
    "verdict_mixed": {"zh": "证据不一致", "en": "The evidence is mixed"},
    "verdict_inconclusive": {"zh": "尚无定论", "en": "Inconclusive"},
    "verdict_no_result": {"zh": "未生成结果", "en": "No result"},
    "verdict_short_supports_positive": {"zh": "支持正向效应", "en": "Supports a positive effect"},
    "verdict_short_supports_negative": {"zh": "显示负向效应", "en": "Indicates a negative effect"},
    "verdict_short_mixed": {"zh": "证据不一致", "en": "Mixed"},
    "verdict_short_inconclusive": {"zh": "尚无定论", "en": "Inconclusive"},
    "verdict_short_no_result": {"zh": "未生成结果", "en": "No result"},
    "reason_no_interval": {"zh": "首选估计没有可用的置信区间", "en": "the preferred estimate has no usable interval"},
    "reason_interval_spans_zero": {
        "zh": "在该项评估所依据的假设下，{what} {ci} 包含零，不能排除没有效应（这并不证明没有效应）",
        "en": "under the assumption the evaluation argues for, the {what} {ci} includes zero, so no effect "
              "cannot be ruled out (which does not prove there is none)",
    },
    "reason_interval_excludes_zero": {
        "zh": "{what} {ci} 不含零", "en": "the {what} {ci} excludes zero",
    },
    "interval_wald": {"zh": "95% 置信区间", "en": "95% confidence interval"},
    "interval_ar": {"zh": "95% Anderson–Rubin 置信集", "en": "95% Anderson–Rubin set"},
    "reason_weak_iv_ar": {
        "zh": "工具变量偏弱（有效 F = {f:.1f}，低于临界值 {crit:.1f}），故以对弱工具稳健的 Anderson–Rubin 置信集为准",
        "en": "the instrument is weak (effective F = {f:.1f}, below its critical value {crit:.1f}), so the "
              "weak-instrument-robust Anderson–Rubin set is used",
    },
    "reason_disagree": {
        "zh": "但依据同一假设的其他估计（{names}）与之方向相反或区间不重叠",
        "en": "but other estimates under the same assumption ({names}) differ in sign or their intervals "
              "do not overlap",
    },
    "reason_agree": {
        "zh": "依据同一假设的其他估计（{names}）方向一致，其中给出置信区间的与首选估计区间重叠",
        "en": "the other estimates under the same assumption ({names}) agree in sign (and overlap, where "
              "they have intervals)",
    },
    "reason_single": {
        "zh": "同一假设下没有第二种估计可资对照",
        "en": "no second estimate under the same assumption to compare with",
    },
    "reason_other_assumption": {
        "zh": "另一估计（{name}）{ci} 不含零，但它依赖另一假设：{assumption}，故不作为结论依据",
        "en": "another estimate ({name}) {ci} excludes zero but rests on a different assumption: "
              "{assumption}; it does not decide the verdict",
    },
    "reason_other_assumption_null": {
        "zh": "另一估计（{name}）{ci} 包含零，它依赖另一假设：{assumption}；它回答的问题未得到数据支持，不改变上述判断",
        "en": "another estimate ({name}) {ci} includes zero; it rests on a different assumption: {assumption}; "
              "the question it answers is not supported by the data, which does not change the verdict",
    },
    # credibility
    "credibility_high": {"zh": "高", "en": "High"},
    "credibility_medium": {"zh": "中", "en": "Medium"},
    "credibility_low": {"zh": "低", "en": "Low"},
    "check_pretrend_missing": {"zh": "无事前趋势检验", "en": "no pre-trend test"},
    "check_pretrend_pass": {
        "zh": "事前趋势检验通过（p = {p}）", "en": "pre-trend test passed (p = {p})",
    },
    "check_pretrend_fail": {
        "zh": "事前趋势检验未通过（p = {p}，低于 10% 门槛）",
        "en": "pre-trend test failed (p = {p}, below the 10% threshold)",
    },
    "check_power_missing": {
        "zh": "未计算事前检验的功效", "en": "power of the pre-trend test not computed",
    },
    "check_power_ok": {
        "zh": "事前检验功效尚可（能以 80% 功效发现的趋势偏误仅为估计值的 {share:.0%}）",
        "en": "pre-test has useful power (a trend it detects with 80% power biases the estimate by only "
              "{share:.0%} of it)",
    },
    "check_power_caution": {
        "zh": "事前检验功效有限（其仅以 80% 功效发现的趋势可造成相当于估计值 {share:.0%} 的偏误）",
        "en": "pre-test has little power (a trend it detects only with 80% power could bias the estimate "
              "by {share:.0%} of it)",
    },
    "check_breakdown_missing": {
        "zh": "未能计算敏感性临界值", "en": "no HonestDiD breakdown value",
    },
    "check_breakdown_ok": {
        "zh": "敏感性临界值 {m:.2f}（趋势偏离达到事前最大偏离的 {m:.2f} 倍时结论仍成立）",
        "en": "breakdown value {m:.2f} (the conclusion survives trend deviations up to {m:.2f}× the "
              "largest pre-period one)",
    },
    "check_breakdown_caution": {
        "zh": "敏感性临界值 {m:.2f}，低于 1：趋势偏离小于事前最大偏离时结论即可能改变",
        "en": "breakdown value {m:.2f}, below 1: deviations smaller than the largest pre-period one "
              "could overturn the conclusion",
    },
    "check_breakdown_problem": {
        "zh": "敏感性临界值 {m:.2f}，很低：轻微偏离平行趋势即可推翻结论",
        "en": "breakdown value {m:.2f}, very low: a slight violation of parallel trends overturns "
              "the conclusion",
    },
    "check_instrument_missing": {"zh": "无工具变量强度诊断", "en": "no instrument-strength diagnostic"},
    "check_instrument_ok": {
        "zh": "工具变量足够强（有效 F = {f:.1f} ≥ 临界值 {crit:.1f}）",
        "en": "instrument strong enough (effective F = {f:.1f} ≥ critical value {crit:.1f})",
    },
    "check_instrument_problem": {
        "zh": "工具变量偏弱（有效 F = {f:.1f} < 临界值 {crit:.1f}）",
        "en": "weak instrument (effective F = {f:.1f} < critical value {crit:.1f})",
    },
    "check_agreement_ok": {
        "zh": "同一假设下各方法结论一致（{names}）", "en": "estimators under the same assumption agree ({names})",
    },
    "check_agreement_single": {
        "zh": "同一假设下仅有一种估计", "en": "only one estimate under this assumption",
    },
    "check_agreement_problem": {
        "zh": "同一假设下的方法结论不一致（{names}）",
        "en": "estimators under the same assumption disagree ({names})",
    },
    "check_clusters_ok": {"zh": "{g} 个聚类{treated}，数量充足", "en": "{g} clusters{treated}: enough"},
    "check_clusters_caution": {
        "zh": "仅 {g} 个聚类{treated}，推断依赖少聚类校正",
        "en": "only {g} clusters{treated}: inference relies on few-cluster corrections",
    },
    "check_clusters_treated": {"zh": "（其中处理组 {g1} 个）", "en": " ({g1} treated)"},
    "check_spillover_ok": {
        "zh": "剔除与潍坊接壤的县市区后估计为 {alt}，变化 {share:.0%}，未见明显溢出",
        "en": "without the counties bordering Weifang the estimate is {alt}, a change of {share:.0%}: "
              "no sign of spillovers",
    },
    "check_spillover_caution": {
        "zh": "剔除与潍坊接壤的县市区后估计变为 {alt}，变化 {share:.0%}，可能存在溢出效应",
        "en": "without the counties bordering Weifang the estimate becomes {alt}, a change of "
              "{share:.0%}: spillovers are possible",
    },
    "thresholds": {
        "zh": "判断规则：置信水平 95%；事前趋势检验 p ≥ {a}% 为通过，p < {a2}% 为问题；事前检验以 80% 功效能发现的趋势"
              "造成的偏误须小于估计值的 {share:.0%}；敏感性临界值 ≥ {m_ok:g} 为良好、低于 {m_low:g} 为问题；"
              "聚类数不少于 {g} 个且处理组不少于 {g1} 个为充足；剔除接壤县市区后估计变化不超过 {s:.0%}；"
              "工具变量有效 F 须不低于其临界值（最坏偏误 10%）。无法计算的诊断记为“注意”。任一“问题”或 {c_low} 项及以上"
              "“注意”评为低，两项“注意”评为中，其余为高。",
        "en": "Rules: 95% confidence; a pre-trend test passes at p ≥ {a}% and is a problem below {a2}%; a trend the "
              "pre-test detects with 80% power must bias the estimate by less than {share:.0%} of it; breakdown value ≥ {m_ok:g} is good, below {m_low:g} a problem; at least {g} clusters and {g1} treated "
              "ones are enough; dropping the bordering counties may move the estimate by at most {s:.0%}; the "
              "effective F must reach its critical value (10% worst-case bias). A diagnostic that could not be "
              "computed is a caution. Any problem or {c_low} or more cautions rate Low, two cautions Medium, "
              "otherwise High.",
    },
    # plain sentences
    "sentence_effect": {
        "zh": "{subject}{indicator}约{dir} {amount}（{ci_name} {ci}，{p}）",
        "en": "{subject}: {indicator} {dir} about {amount} ({ci_name} {ci}, {p})",
    },
    "sentence_money": {
        "zh": "{subject}每增加 {scale} 万元，{indicator}约{dir} {pct}，按样本单位的平均年收入折算约合每个单位每年 "
              "{money} 万元（{ci_name} {ci}，{p}）",
        "en": "{subject}: per additional {scale} 10k CNY, {indicator} {dir} about {pct}, about {money} 10k CNY "
              "per unit-year at mean revenue ({ci_name} {ci}, {p})",
    },
    "up": {"zh": "提高", "en": "up"},
    "down": {"zh": "下降", "en": "down"},
    "subject_pilot_zone": {"zh": "试验区设立后，潍坊各单位", "en": "Weifang's units"},
    "subject_tech_subsidy": {"zh": "获得技术改造补助的县区", "en": "Subsidised counties"},
    "subject_first_unit": {"zh": "获得首台套保险补偿的县区", "en": "Counties with first-unit insurance"},
    "subject_factor_fund": {"zh": "因素法资金", "en": "Factor-method funds"},
    "indicator_log_revenue": {"zh": "规上工业营业收入", "en": "above-scale industrial revenue"},
    "indicator_log_value_added": {"zh": "规上工业增加值", "en": "industrial value added"},
    "indicator_outcome": {"zh": "结果指标", "en": "the outcome"},
    "inference_ar": {"zh": "Anderson–Rubin 检验反转（对弱工具稳健）", "en": "Anderson–Rubin test inversion (weak-IV robust)"},
    "inference_placebo": {
        "zh": "安慰剂法（把“处理”随机分给对照单位，重复估计）",
        "en": "placebo method (treatment reassigned at random to comparison units)",
    },
    "inference_wild": {"zh": "野自助法（wild bootstrap，按单位聚类）", "en": "wild cluster bootstrap"},
    "inference_cr2": {
        "zh": "CR2 聚类稳健标准误（Bell–McCaffrey 自由度，适用于聚类较少的情形）",
        "en": "CR2 cluster-robust standard errors (Bell–McCaffrey degrees of freedom, for few clusters)",
    },
    "inference_cr2_groups": {
        "zh": "CR2 聚类稳健标准误（自由度允许处理组与对照组单位误差方差不同，适用于聚类较少的情形）",
        "en": "CR2 cluster-robust standard errors (degrees of freedom allowing treated and untreated units their own error variance, for few clusters)",
    },
    "inference_multiplier": {"zh": "乘数自助法（按单位聚类）", "en": "multiplier bootstrap (clustered by unit)"},
    "inference_analytic": {"zh": "解析（影响函数）标准误，按单位聚类", "en": "analytic (influence-function) standard errors, clustered by unit"},
    "inference_cluster": {"zh": "按单位聚类的稳健标准误", "en": "standard errors clustered by unit"},
    "inference_bootstrap": {"zh": "自助法", "en": "bootstrap"},
    "inference_see_page": {"zh": "见详细页面", "en": "see the detailed page"},
    "footnote": {
        "zh": "首选方法：{estimator}；推断：{inference}；同页其他估计：{others}；详见 {page}。",
        "en": "Preferred: {estimator}; inference: {inference}; also on the page: {others}; see {page}.",
    },
    # conclusion page: titles and headers
    "conclusion_title": {"zh": "验收评估结论（{year} 年）", "en": "Acceptance evaluation: conclusions ({year})"},
    "synthetic_notice": {
        "zh": "注意：本结论根据内置的合成演示数据生成，数字不是真实统计，仅用于演示评估方法与文书格式。",
        "en": "Note: these conclusions were made from the built-in synthetic demo data; the numbers are not real "
              "statistics and only show the methods and the document's layout.",
    },
    "sec_overall": {"zh": "一、综合结论", "en": "1. Overall conclusion"},
    "sec_measures": {"zh": "二、政策措施成效", "en": "2. Effects of the plan's measures"},
    "sec_problems": {"zh": "三、问题与建议", "en": "3. Problems and suggestions"},
    "sec_sources": {"zh": "四、数据来源与口径", "en": "4. Data sources and definitions"},
    "sec_glossary": {"zh": "五、术语表", "en": "5. Glossary"},
    "sec_notes": {"zh": "注释（方法说明）", "en": "Notes (methods)"},
    "col_section": {"zh": "方案条款", "en": "Plan section"},
    "col_evaluation": {"zh": "措施", "en": "Measure"},
    "col_finding": {"zh": "主要发现", "en": "Finding"},
    "col_p": {"zh": "p 值", "en": "p-value"},
    "col_verdict": {"zh": "判断及理由", "en": "Verdict and why"},
    "col_credibility": {"zh": "可信度及理由", "en": "Credibility and why"},
    "col_file": {"zh": "文件", "en": "File"},
    "col_content": {"zh": "使用的内容与口径", "en": "What is used, and definitions"},
    "col_coverage": {"zh": "覆盖范围", "en": "Coverage"},
    "col_term": {"zh": "术语", "en": "Term"},
    "col_meaning": {"zh": "含义", "en": "Meaning"},
    "assumption_label": {"zh": "依据的假设：", "en": "Rests on the assumption: "},
    # overall conclusion
    "overall_intro": {"zh": "本次评估覆盖方案的 {n} 项措施：", "en": "The evaluation covers {n} measures of the plan: "},
    "overall_supports_positive": {"zh": "{n} 项数据支持正向效应（{names}）", "en": "{n} with data supporting a positive effect ({names})"},
    "overall_supports_negative": {"zh": "{n} 项数据显示负向效应（{names}）", "en": "{n} with data indicating a negative effect ({names})"},
    "overall_mixed": {"zh": "{n} 项证据不一致（{names}）", "en": "{n} with mixed evidence ({names})"},
    "overall_inconclusive": {"zh": "{n} 项尚无定论（{names}）", "en": "{n} inconclusive ({names})"},
    "overall_no_result": {"zh": "{n} 项未生成结果（{names}）", "en": "{n} without a result ({names})"},
    "overall_credibility_note": {
        "zh": "括号内为可信度（高/中/低），规则见第二部分表下说明。",
        "en": " Credibility (High/Medium/Low) in brackets; the rules are stated below the table in part 2.",
    },
    "overall_scorecard": {
        "zh": "方案 {total} 项量化目标中，已达成或进展符合预期 {met} 项，未达成或进度落后 {missed} 项，未到期或无数据 {other} 项（详见目标记分卡）。",
        "en": "Of the plan's {total} numeric targets, {met} are met or on track, {missed} not met or behind, "
              "{other} not yet due or without data (see the scorecard).",
    },
    # problems and suggestions
    "problem_targets": {
        "zh": "{n} 项量化目标未达成或进度落后（实际值/目标值）：{items}。建议逐项说明差距原因，明确整改措施与时限。",
        "en": "{n} numeric targets are not met or behind (actual/target): {items}. Explain each gap and set "
              "remedial steps and deadlines.",
    },
    "problem_target_no_data": {
        "zh": "以下目标缺少数据，无法判断：{items}。建议主管部门补报。",
        "en": "These targets have no data and cannot be judged: {items}. The responsible departments should "
              "supply them.",
    },
    "problem_no_scorecard": {
        "zh": "本次未生成目标记分卡，量化目标完成情况无法判断。",
        "en": "No scorecard was produced; target attainment cannot be judged.",
    },
    "problem_no_result": {"zh": "{evaluation}：未生成评估结果，请检查对应页面。", "en": "{evaluation}: no result; check its page."},
    "problem_evidence": {
        "zh": "{evaluation}：{verdict}，可信度{credibility}。主要原因：{why}。建议：{suggestion}",
        "en": "{evaluation}: {verdict}, credibility {credibility}. Main reason: {why}. Suggestion: {suggestion}",
    },
    "problem_unevaluated_measure": {
        "zh": "方案三(五)1 亩产效益评价尚无因果评估（缺少企业分类与资源要素配置数据）。建议收集 A/B/C/D 类企业名单及用电、用能、排放、信贷配置数据后补充评估。",
        "en": "The per-mu output evaluation (plan section III(5)1) has no causal evaluation yet (no firm classes or "
              "resource-allocation data). Collect the A/B/C/D firm lists and power, energy, emission and credit "
              "allocation data, then evaluate it.",
    },
    "problem_missing_files": {"zh": "缺少输入文件：{files}。", "en": "Missing input files: {files}."},
    "suggest_instrument": {
        "zh": "积累更多年份的因素法分配数据（或更多受资助单位）以增强工具变量，届时复评。",
        "en": "accumulate more years (or units) of factor-method allocations to strengthen the instrument, "
              "then re-evaluate.",
    },
    "suggest_pretrend": {
        "zh": "政策前趋势已有差异，结论应谨慎使用；建议补充更长的政策前数据或更可比的对照县区后复核。",
        "en": "pre-treatment trends already differ, so use the conclusion with care; add earlier years or more "
              "comparable control counties and check again.",
    },
    "suggest_power": {
        "zh": "事前检验难以发现可能存在的趋势差异，建议补充政策前年份数据。",
        "en": "the pre-test could miss a trend difference; add pre-policy years.",
    },
    "suggest_breakdown": {
        "zh": "结论对平行趋势的偏离较敏感，建议以区间而非点估计表述成效。",
        "en": "the conclusion is sensitive to departures from parallel trends; report the range rather than the point estimate.",
    },
    "suggest_agreement": {
        "zh": "核查不同方法结论差异的来源（样本、对照组、权重），在报告中并列说明。",
        "en": "trace why the methods differ (sample, comparison group, weights) and report them side by side.",
    },
    "suggest_clusters": {
        "zh": "受评单位较少，统计推断不确定性较大，建议结合案例与定性材料综合判断。",
        "en": "few units are evaluated, so inference is uncertain; weigh case studies and qualitative evidence too.",
    },
    "suggest_spillover": {
        "zh": "与潍坊接壤的县市区可能受到溢出影响，建议以剔除接壤县市区的估计作为稳健性结论一并报告。",
        "en": "counties bordering Weifang may be affected; report the estimate without them as a robustness result.",
    },
    "suggest_more_years": {
        "zh": "现有数据不足以得出结论，建议积累更多年份数据后复评，暂不宜据此作出成效判断。",
        "en": "the data do not yet allow a conclusion; re-evaluate with more years before judging the effect.",
    },
    "suggest_review": {
        "zh": "结合详细页面的诊断，审慎表述成效。", "en": "state the effect with care, reading the detailed page's diagnostics.",
    },
    # data sources
    "source_no_folder": {"zh": "未提供数据文件夹", "en": "no data folder given"},
    "source_missing": {"zh": "缺失", "en": "missing"},
    "source_panel": {
        "zh": "县级面板（每单位每年一行）。使用：{columns}；营业收入取自然对数作为结果变量。",
        "en": "County panel (one row per unit and year). Used: {columns}; log revenue is the outcome.",
    },
    "coverage_panel": {
        "zh": "{units} 个县级单位，{y0}–{y1} 年；所用列缺失 {missing} 个单元格",
        "en": "{units} county-level units, {y0}–{y1}; {missing} missing cells in the columns used",
    },
    "source_indicators": {
        "zh": "全市年度指标（目标记分卡的实际值）", "en": "City-level yearly indicators (the scorecard's actual values)",
    },
    "coverage_indicators": {"zh": "{n} 项指标，{y0}–{y1} 年", "en": "{n} indicators, {y0}–{y1}"},
    "source_factors": {
        "zh": "因素法分配因素表（各单位各年因素值，用于公式金额与工具变量）",
        "en": "Factor table of the factor method (each unit's factors by year; formula amounts and the instrument)",
    },
    "coverage_factors": {
        "zh": "{n} 个因素，{units} 个单位，{y0}–{y1} 年", "en": "{n} factors, {units} units, {y0}–{y1}",
    },
    "source_spec": {
        "zh": "因素法分配规则（权重、总额、取整）", "en": "Factor-method allocation rule (weights, total, rounding)",
    },
    "coverage_spec": {"zh": "{year} 年", "en": "{year}"},
    "coverage_default": {"zh": "默认规则", "en": "default rule"},
    "source_truth": {
        "zh": "合成数据植入的真实效应（仅用于检验方法）", "en": "True effects planted in the synthetic data (method checks only)",
    },
    "coverage_synthetic": {"zh": "仅合成数据", "en": "synthetic data only"},
    "source_unreadable": {"zh": "无法读取", "en": "could not be read"},
    "coverage_unreadable": {"zh": "文件内容与数据字典（data_raw/README）不符，请核对列名与取值",
                            "en": "does not match the data dictionary (data_raw/README); check its columns and values"},
    "source_other": {"zh": "其他文件（评估未使用）", "en": "other file (not used by the evaluation)"},
    "source_other_count": {"zh": "另有 {n} 个文件", "en": "{n} more file(s)"},
    # glossary
    "term_ci": {"zh": "置信区间", "en": "Confidence interval"},
    "gloss_ci": {
        "zh": "按 95% 置信水平给出的效应可能范围；区间不含零，说明效应在统计上显著。",
        "en": "The range the effect plausibly lies in, at 95% confidence; an interval without zero means a "
              "statistically significant effect.",
    },
    "term_p": {"zh": "p 值", "en": "p-value"},
    "gloss_p": {
        "zh": "假如政策实际没有效果，仍得到至少如此大估计值的概率；越小越说明效果不是偶然。本报告以 5%（区间）和 10%（事前趋势检验）为门槛。",
        "en": "The chance of an estimate at least this large if the policy had no effect; the smaller, the less "
              "likely chance. Thresholds here: 5% (intervals) and 10% (pre-trend tests).",
    },
    "term_pretrend": {"zh": "事前趋势检验", "en": "Pre-trend test"},
    "gloss_pretrend": {
        "zh": "检验政策实施前处理组与对照组的走势是否已有差异；未通过说明比较基础可能不可比。",
        "en": "Checks whether treated and comparison units already moved differently before the policy; a "
              "failure means the comparison may be unfair.",
    },
    "term_power": {"zh": "检验功效", "en": "Power"},
    "gloss_power": {
        "zh": "检验发现真实存在的差异的概率；功效低时“通过检验”并不能说明没有差异。",
        "en": "The chance a test detects a real difference; with low power, passing says little.",
    },
    "term_parallel": {"zh": "平行趋势", "en": "Parallel trends"},
    "gloss_parallel": {
        "zh": "双重差分的核心假设：没有政策时，处理组与对照组的变化幅度相同。",
        "en": "The key assumption of difference-in-differences: without the policy both groups would have "
              "changed alike.",
    },
    "term_sc": {"zh": "合成控制", "en": "Synthetic control"},
    "gloss_sc": {
        "zh": "用其他县区的加权组合拟合潍坊政策前的走势，以其政策后的走势作为“没有试验区时的潍坊”。",
        "en": "A weighted mix of other counties that tracks Weifang before the policy; its later path stands "
              "for Weifang without the pilot zone.",
    },
    "term_sdid": {"zh": "合成双重差分", "en": "Synthetic DiD"},
    "gloss_sdid": {
        "zh": "合成控制与双重差分的结合，同时给对照县区和年份加权，是本报告试验区整体效应的首选方法。",
        "en": "Synthetic control combined with difference-in-differences, weighting both counties and years; "
              "the preferred method for the pilot zone here.",
    },
    "term_breakdown": {"zh": "敏感性临界值", "en": "Breakdown value"},
    "gloss_breakdown": {
        "zh": "政策后偏离平行趋势的幅度可达政策前最大偏离的多少倍而结论不变（Rambachan–Roth）；不低于 1 较为稳健。",
        "en": "How many times the largest pre-policy deviation from parallel trends the post-policy deviation "
              "may reach before the conclusion changes (Rambachan–Roth); 1 or more is reassuring.",
    },
    "term_iv": {"zh": "工具变量", "en": "Instrumental variable"},
    "gloss_iv": {
        "zh": "只通过资金影响结果的外生变动来源（此处为按公式应得金额），用于排除相机追加资金带来的偏误。",
        "en": "A source of variation that affects the outcome only through the money (here the formula "
              "amount), removing the bias from discretionary top-ups.",
    },
    "term_f": {"zh": "有效 F 统计量", "en": "Effective F statistic"},
    "gloss_f": {
        "zh": "衡量工具变量强弱；低于临界值为“弱工具”，常规置信区间不可靠。",
        "en": "Measures instrument strength; below the critical value the instrument is weak and usual intervals "
              "are unreliable.",
    },
    "term_ar": {"zh": "Anderson–Rubin 置信集", "en": "Anderson–Rubin set"},
    "gloss_ar": {
        "zh": "对弱工具仍然可靠的置信范围，可能很宽甚至无界。",
        "en": "A confidence set that stays valid with weak instruments; it can be wide or unbounded.",
    },
    "term_cluster": {"zh": "聚类", "en": "Clusters"},
    "gloss_cluster": {
        "zh": "同一单位各年的数据相互关联，按单位分组计算不确定性；单位少时需要专门校正。",
        "en": "A unit's years are related, so uncertainty is computed by unit; few units need special corrections.",
    },
    "term_spillover": {"zh": "溢出效应", "en": "Spillovers"},
    "gloss_spillover": {
        "zh": "政策影响到相邻的对照县区（如企业或订单外溢）；剔除接壤县市区后估计变化不大，说明溢出不明显。",
        "en": "The policy also affecting neighbouring comparison counties; if dropping them barely moves the "
              "estimate, spillovers are small.",
    },
    "term_credibility": {"zh": "可信度", "en": "Credibility"},
    "gloss_credibility": {
        "zh": "按书面规则综合各项诊断给出的评级（高/中/低），规则见第二部分表下说明。",
        "en": "A rating (High/Medium/Low) from the diagnostics by written rules, stated under the table in part 2.",
    },
    # conclusion box of the evaluation pages
    "box_title": {"zh": "结论", "en": "Conclusion"},
    "key_facts_title": {"zh": "要点", "en": "Key facts"},
    "key_facts_note": {"zh": "以下为详细内容。", "en": "The details follow."},
    "box_finding": {"zh": "主要发现", "en": "Finding"},
    "box_verdict": {"zh": "判断", "en": "Verdict"},
    "box_credibility": {"zh": "可信度", "en": "Credibility"},
    "box_caveat": {"zh": "主要提示", "en": "Main caveat"},
    "box_no_caveat": {"zh": "各项诊断均未发现问题", "en": "no diagnostic raises a concern"},
    "box_method": {"zh": "方法", "en": "Method"},
    "box_see": {"zh": "详见", "en": "see"},
    "box_appendix_note": {
        "zh": "以下为附录：方法说明、诊断图表与全部估计结果。判断与可信度的规则见验收评估结论页。",
        "en": "What follows is the appendix: methods, diagnostics and every estimate. The rules behind the "
              "verdict and the credibility rating are on the conclusion page.",
    },
    "appendix_title": {"zh": "附录：方法、诊断与完整估计结果", "en": "Appendix: methods, diagnostics and all estimates"},
}
