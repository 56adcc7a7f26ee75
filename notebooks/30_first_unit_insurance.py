# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
year: int = 2025  # evaluation year (last year used)
data_dir: str = "../data_raw/demo"  # folder with county_panel.csv
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)
outcome: str = "log_revenue"  # outcome column
include_weifang: bool = False  # include Weifang's units (they also carry the pilot zone from 2021)
leads: int = 5  # pre-treatment event times shown
lags: int = 5  # post-treatment event times shown
control_group: str = "never_treated"  # never_treated or not_yet_treated (Callaway-Sant'Anna)

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from evalkit import did, report, sensitivity

page_title = "首台套保险补偿的效果" if language == "zh" else "Effects of first-unit insurance compensation"
display(Markdown(f"# {page_title}"))  # the title in the pack's language only
nb = report.notebook.start(data_dir, year=year, language=language)
panel, synthetic, zh = nb.panel, nb.synthetic, nb.zh
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
display(Markdown(
    "各县区在不同年份开始获得首台套保险补偿（交错采纳）。当效果随实施年数增长时，普通的双向固定效应（TWFE）回归"
    "会把已处理单位当作对照，结果可能严重偏误。本页先展示采纳时间，再给出 TWFE 及其 Goodman-Bacon 分解，然后并列"
    "Callaway–Sant'Anna、Sun–Abraham 与插补法（Borusyak–Jaravel–Spiess）的事件研究结果，并解读处理前趋势。"
    if zh else
    "Counties started first-unit insurance compensation in different years (staggered adoption). When effects "
    "grow with exposure, a plain two-way fixed-effects (TWFE) regression uses already-treated units as controls "
    "and can be badly biased. We show the adoption timing, TWFE and its Goodman-Bacon diagnosis, then "
    "Callaway–Sant'Anna, Sun–Abraham and imputation (Borusyak–Jaravel–Spiess) event studies side by side, and "
    "read the pre-treatment trends."))
sample = panel if include_weifang else panel[panel["in_weifang"] == 0]
sample = sample.reset_index(drop=True)
sample.attrs.update(panel.attrs)
design = {"outcome": outcome, "unit": "unit_code", "time": "year"}
truth = None
t_all = nb.truth("first_unit") or {}
if t_all.get("outcome") == outcome and year == panel["year"].max():
    truth = t_all.get("full_sample" if include_weifang else "excluding_weifang")
first_year, last_year = int(sample["year"].min()), int(sample["year"].max())
display(Markdown(
    (f"样本：{sample['unit_code'].nunique()} 个县级单位，{first_year}–{last_year} 年"
     + ("（含潍坊单位）。" if include_weifang else "（不含潍坊单位，以免混入试验区效应）。"))
    if zh else
    (f"Sample: {sample['unit_code'].nunique()} county-level units, {first_year}–{last_year}"
     + (" (Weifang's units included)." if include_weifang else
        " (Weifang's units excluded so the pilot-zone effect does not contaminate the comparison)."))
))

# %%
display(Markdown('## 采纳时间'
                 if zh else
                 '## Adoption timing'))

# %%
first = sample.groupby("unit_code")["first_unit_year"].first()
first = first.where((first > 0) & (first <= last_year), 0)
cohorts = first.value_counts().sort_index()
cohorts.index = [("从未" if zh else "never") if i == 0 else int(i) for i in cohorts.index]
display(cohorts.rename("单位数" if zh else "units").to_frame().T)
ax = report.timing_heatmap(sample, unit="unit_code", time="year", treatment="first_unit", language=language,
                           label="name_zh" if zh else "name_en", max_units=80)
plt.show()

# %%
display(Markdown('## 双向固定效应及其 Goodman-Bacon 分解'
                 if zh else
                 '## TWFE and its Goodman-Bacon decomposition'))

# %%
tw = did.twfe(sample, treatment="first_unit", **design)
display(report.table(tw.to_frame(), language=language, digits=4))
bacon = did.bacon_decomposition(sample, treatment="first_unit", **design)
display(report.table(bacon.by_type, language=language, digits=4))
ax = bacon.plot(language=language)
plt.show()
bt = bacon.by_type.set_index("type")
bad_w = float(bt["weight"].get("Later vs Earlier Treated", 0.0))
display(Markdown(
    f"TWFE 估计为 {tw.estimate:.4f}。其中 {bad_w:.0%} 的权重来自“晚处理组 vs 早处理组”比较——以已经处理的"
    "单位作对照；当效果随时间增长时，这类比较会把对照组自身的效果增长当成反事实，使 TWFE 偏低。"
    if zh else
    f"TWFE gives {tw.estimate:.4f}. {bad_w:.0%} of its weight comes from 'Later vs Earlier Treated' "
    "comparisons, which use already-treated units as controls; when effects grow over time these "
    "comparisons subtract the controls' own growing effects and pull TWFE down."
))

# %%
display(Markdown('## 稳健估计量并列'
                 if zh else
                 '## Heterogeneity-robust estimators side by side'))

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=UserWarning)
    cmp = did.compare(sample, estimators=["twfe", "event_study", "sun_abraham", "imputation", "callaway_santanna"],
                      cohort="first_unit_year", leads=leads, lags=lags,
                      cs_options={"control_group": control_group, "base_period": "universal"}, **design)
overall = cmp.overall()
display(report.table(overall[["estimator", "estimate", "std_error", "conf_low", "conf_high", "p_value"]],
                     language=language, digits=4))
display(Markdown(
    f"推断：{sample['unit_code'].nunique()} 个单位即 {sample['unit_code'].nunique()} 个聚类（按单位聚类），聚类数充足，"
    "Callaway–Sant'Anna 的解析（影响函数）标准误与正态临界值即可，无需少聚类校正。Callaway–Sant'Anna 使用"
    "“统一基期”（各队列处理前一年 e = −1 为参照），使其事件研究与其他估计量一样以 e = −1 归一，"
    "并可直接用于下文的敏感性分析；处理后各期估计与“逐期基期”完全相同。"
    if zh else
    f"Inference: {sample['unit_code'].nunique()} units, i.e. {sample['unit_code'].nunique()} clusters (clustered "
    "by unit) — plenty, so the analytic (influence-function) Callaway–Sant'Anna standard errors with normal "
    "critical values are adequate; no few-cluster correction is needed. Callaway–Sant'Anna uses the "
    "*universal* base period (each cohort's last pre-treatment year, e = −1, is the reference), so its event "
    "study is normalised at e = −1 like the others and can be used in the sensitivity analysis below; the "
    "post-treatment estimates are identical to those with the varying base period."))
truth_dyn = None
if truth is not None:
    truth_dyn = pd.Series({d["event_time"]: d["att"] for d in truth["dynamic"]})
    truth_dyn = truth_dyn[(truth_dyn.index >= -leads) & (truth_dyn.index <= lags)]
ax = cmp.plot(language=language, truth=truth_dyn)
plt.show()

# %%
display(Markdown('## 处理前趋势'
                 if zh else
                 '## Pre-treatment trends'))

# %%
es = cmp.results["event_study"]
sa = cmp.results["sun_abraham"]
imp = cmp.results["imputation"]
cs = cmp.results["callaway_santanna"]
cs_dyn = cs.aggregate("dynamic", min_e=-leads, max_e=lags)
att_gt = cs.att_gt.to_frame()
pre_cells = att_gt[(att_gt["time"] < att_gt["group"]) & (att_gt["std_error"] > 0)]
cells_pre = pre_cells["term"].tolist()
cells_rank = int(np.linalg.matrix_rank(cs.att_gt.cov.loc[cells_pre, cells_pre].to_numpy(), hermitian=True))
n_g = first[first > 0].value_counts()
n_pre_cells = int(pre_cells.groupby("group").size().max())
pre = {
    "Callaway-Sant'Anna": cs_dyn.pretrend_test(),  # the universal reference e = -1 (at 0) left out
    "TWFE event study": es.pretrend_test(),
    "Sun-Abraham": sa.pretrend_test(),
    "Imputation (BJS)": imp.pretrend_test(leads=leads),
}
pre_table = pd.DataFrame(
    [{"estimator": k, "statistic": v["statistic"], "df": v["df"], "p_value": v["p_value"]} for k, v in pre.items()]
)
display(report.table(pre_table, language=language, digits=4))
display(Markdown(
    f"Callaway–Sant'Anna 的事前检验为动态聚合（按事件时间）中处理前各期（e = −{leads}…−2，参照 e = −1）系数的"
    "联合 Wald 检验（χ²，使用其联合解析协方差）。`CSResult.pretrend_test()`（对全部处理前 ATT(g,t) 单元的联合检验）"
    f"在此不作为主检验：每个队列只有 {n_g.min()}–{n_g.max()} 个单位，却有多达 {n_pre_cells} 个处理前单元，"
    f"单元协方差矩阵（秩 {cells_rank} < {len(cells_pre)}）奇异，无法构成有效的 Wald 统计量。"
    if zh else
    "The Callaway–Sant'Anna pre-trend test is the joint Wald test (chi-square, with their joint analytic "
    f"covariance) of the pre-treatment event-time coefficients e = −{leads}…−2 of the dynamic aggregation "
    f"(reference e = −1). `CSResult.pretrend_test()` (all pre-treatment ATT(g,t) cells jointly) is not used: each "
    f"cohort has only {n_g.min()}–{n_g.max()} units but up to {n_pre_cells} pre-treatment cells, so the cells' "
    f"covariance matrix is singular (rank {cells_rank} < {len(cells_pre)}) and no valid Wald statistic exists."))
for name, v in pre.items():
    p = v["p_value"]
    if zh:
        txt = (f"{name}：处理前 {v['df']} 个系数联合检验 p = {p:.3f}。"
               + ("未发现违背平行趋势的证据（但检验功效有限，不能证明趋势平行）。" if p >= 0.10 else
                  "处理前系数在 10% 水平上联合显著：存在偏离平行趋势的微弱证据，结果需谨慎解读。" if p >= 0.05 else
                  "处理前系数联合显著，平行趋势假设存疑，结果需谨慎解读。"))
    else:
        txt = (f"{name}: joint test of {v['df']} pre-treatment coefficients, p = {p:.3f}. "
               + ("No evidence against parallel pre-trends (the test has limited power; it does not prove "
                  "the trends are parallel)." if p >= 0.10 else
                  "Pre-treatment coefficients are jointly significant at the 10% level: weak evidence against "
                  "parallel trends; read with caution." if p >= 0.05 else
                  "Pre-treatment coefficients are jointly significant: parallel trends are in doubt."))
    display(Markdown(txt))

# %%
display(Markdown("## 平行趋势敏感性\n\n对 Callaway–Sant'Anna 动态聚合（e = −leads…lags，参照 e = −1）做 Rambachan–Roth（2023）相对幅度分析：允许处理后趋势偏离（相邻两期之间）至多为处理前最大偏离的 M̄ 倍，目标为处理后各期效应（e = 0…lags）的等权平均值。断点值是稳健区间仍不含零的最大 M̄。"
                 if zh else
                 "## Sensitivity to parallel-trend violations\n\nRambachan–Roth (2023) relative magnitudes on the Callaway–Sant'Anna dynamic aggregation (e = −leads…lags, reference e = −1): post-treatment period-to-period deviations from parallel trends may be up to M̄ times the largest pre-treatment one. The target is the average of the post-treatment event-time effects (e = 0…lags, equal weights). The breakdown value is the largest M̄ at which the robust interval still excludes zero."))

# %%
n_post = int((cs_dyn.labels["event_time"] >= 0).sum())
hd = sensitivity.honest_did(cs_dyn, restriction="relative_magnitude", m=[0, 0.5, 1, 1.5, 2],
                            l_vec=[1 / n_post] * n_post)
breakdown_cs = hd.breakdown(tol=0.01)
ax = hd.plot(language=language)
report.mark_synthetic(ax.figure)
plt.show()
display(report.table(hd.to_frame()[["term", "estimate", "conf_low", "conf_high"]], language=language, digits=4))
display(Markdown(
    f"处理后 e = 0…{lags} 平均效应 {hd.original['estimate']:.4f}；在 M̄ ≤ {breakdown_cs:.2f} 时稳健区间仍不含零"
    f"（断点值）。即处理后趋势偏离若超过处理前最大偏离的 {breakdown_cs:.2f} 倍，就不能排除零效应。"
    "注意：该平均值与下文首选的 simple ATT（按队列规模加权全部处理后单元）权重不同，断点值用作其敏感性的近似。"
    if zh else
    f"Average effect over e = 0…{lags}: {hd.original['estimate']:.4f}; the robust interval excludes zero for "
    f"M̄ up to {breakdown_cs:.2f} (breakdown value): if post-treatment deviations from parallel trends may exceed "
    f"{breakdown_cs:.2f} times the largest pre-treatment one, a zero effect can no longer be ruled out. Note: "
    "this average weights event times differently from the preferred simple ATT (all post-treatment cells "
    "weighted by cohort size); its breakdown value stands in for the preferred estimate's sensitivity."))

# %%
display(Markdown('## 与已知真值比较（仅合成数据）'
                 if zh else
                 '## Against the planted truth (synthetic data only)'))

# %%
if truth is not None:
    rows = [("TWFE", tw.estimate, truth["twfe_estimand"],
             "TWFE 的方差加权估计对象" if zh else "TWFE's variance-weighted estimand"),
            ("Callaway–Sant'Anna", float(overall.set_index("estimator").loc["Callaway-Sant'Anna", "estimate"]),
             truth["simple"], "简单平均处理效应" if zh else "simple average effect")]
    display(report.table(pd.DataFrame(rows, columns=["estimator", "estimate", "truth", "estimand"]),
                         language=language, digits=4))
    display(Markdown(
        f"真实的平均处理效应（simple）为 {truth['simple']:.4f}；无噪声时 TWFE 只能得到 {truth['twfe_estimand']:.4f}。"
        if zh else
        f"The true average effect (simple) is {truth['simple']:.4f}; even without noise TWFE would give "
        f"{truth['twfe_estimand']:.4f}."
    ))

# %%
display(Markdown('## 保存结论'
                 if zh else
                 '## Headlines'))

# %%
ov = overall.set_index("estimator")
pretrend_p = {"TWFE": pre["TWFE event study"]["p_value"], "Sun-Abraham": pre["Sun-Abraham"]["p_value"],
              "Imputation (BJS)": pre["Imputation (BJS)"]["p_value"],
              "Callaway-Sant'Anna": pre["Callaway-Sant'Anna"]["p_value"]}
inference = {"TWFE": tw.inference, "Sun-Abraham": sa.inference, "Imputation (BJS)": imp.inference,
             "Callaway-Sant'Anna": cs.aggregate("simple").inference
             + f"; {sample['unit_code'].nunique()} clusters (units): analytic s.e. adequate"}
power_cs = sensitivity.pretrend_power(cs_dyn, power=[0.8])
bias_cols = [c for c in power_cs.columns if c.startswith("bias_e")]
n_treated_units = int((first > 0).sum())
assumptions = {"TWFE": "parallel_trends_homogeneous"}
records = []
for name in ["Callaway-Sant'Anna", "Imputation (BJS)", "Sun-Abraham", "TWFE"]:
    if name not in ov.index:
        continue
    r = ov.loc[name]
    # the comparison table's numbers (overall()) are the ones on the page
    row = report.headline(
        "first_unit", name, {**r.to_dict(), "inference": inference[name]},
        assumption=assumptions.get(name, "parallel_trends"),
        preferred=name == "Callaway-Sant'Anna", language=language, outcome=outcome,
        pretrend_p=pretrend_p[name], breakdown=breakdown_cs if name == "Callaway-Sant'Anna" else None,
        pretrend_power_bias=(float(power_cs[bias_cols].to_numpy().mean())
                             if name == "Callaway-Sant'Anna" and bias_cols else None),
        n_clusters=sample["unit_code"].nunique(), n_treated=n_treated_units,
        truth=(truth["twfe_estimand"] if name == "TWFE" else truth["simple"]) if truth else None)
    records.append(row)
box.update(report.conclusion_box(records, "first_unit", language))
report.save_headlines(output_dir, "30_first_unit_insurance", records,
                      title=page_title)
display(report.table(pd.DataFrame(records)[
    ["estimator", "estimate", "conf_low", "conf_high", "p_value", "pretrend_p", "breakdown"]], language=language, digits=4))
