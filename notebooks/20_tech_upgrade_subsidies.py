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
include_weifang: bool = False  # include Weifang's units (they also carry the pilot zone)
method: str = "spline"  # spline or binned
degree: int = 2  # B-spline degree (about 10 subsidised units per cohort: a cubic per cell overfits)
knots: int = 0  # number of interior knots (quantiles of the dose)
n_bins: int = 4  # dose bins for the binned estimator
control_group: str = "never_treated"  # never_treated or not_yet_treated
n_draws: int = 999  # multiplier-bootstrap draws for the uniform band

# %%

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from evalkit import did, report, sensitivity

page_title = "技术改造补助的剂量效应" if language == "zh" else "Dose response to technology-upgrade subsidies"
display(Markdown(f"# {page_title}"))  # the title in the pack's language only
nb = report.notebook.start(data_dir, year=year, language=language)
panel, synthetic, zh = nb.panel, nb.synthetic, nb.zh
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
display(Markdown(
    "技术改造补助按不同强度（上年营业收入的 ‰）在不同年份开始发放。本页用 Callaway、Goodman-Bacon 与 Sant'Anna"
    "（2024）的连续处理双重差分估计剂量效应曲线 ATT(d) 与平均因果响应 ACRT(d)，并与带连续处理变量的双向固定效应"
    "（TWFE）回归及其权重诊断（de Chaisemartin–D'Haultfœuille 2020）并列比较。"
    if zh else
    "Technology-upgrade subsidies start in different years at different intensities (‰ of the previous year's "
    "revenue). We estimate the dose-response curve ATT(d) and the average causal response ACRT(d) with the "
    "continuous-treatment DiD of Callaway, Goodman-Bacon and Sant'Anna (2024), and set beside it TWFE with the "
    "continuous treatment and its weight diagnosis."))
sample = panel if include_weifang else panel[panel["in_weifang"] == 0]
sample.attrs.update(panel.attrs)
truth = nb.truth("tech_subsidy")
units = sample.groupby("unit_code")[["tech_subsidy_start", "tech_subsidy_dose"]].first()
display(Markdown(
    f"**样本**：{'含' if include_weifang else '不含'}潍坊单位，{units.shape[0]} 个县级单位，"
     f"{sample['year'].min()}–{sample['year'].max()} 年；获补助 {(units.tech_subsidy_start > 0).sum()} 个，"
     f"从未获补助 {(units.tech_subsidy_start == 0).sum()} 个。"
     if zh else
     f"**Sample**: {'with' if include_weifang else 'without'} Weifang's units, {units.shape[0]} "
     f"county-level units, {sample['year'].min()}–{sample['year'].max()}; "
     f"{(units.tech_subsidy_start > 0).sum()} subsidised, {(units.tech_subsidy_start == 0).sum()} "
     "never subsidised."))

# %%
display(Markdown('## 剂量效应曲线\n\nATT(d) 只需平行趋势假设；把 ACRT(d)（或不同剂量间 ATT 的差异）解读为因果效应还需要更强的“强平行趋势”假设（不同剂量单位之间不存在基于收益的选择）。'
                 if zh else
                 '## Dose-response curves\n\nATT(d) needs parallel trends only; a causal reading of ACRT(d) needs *strong* parallel trends (no selection on gains across doses).'))

# %%
res = did.continuous(
    sample, outcome=outcome, unit="unit_code", time="year", dose="tech_subsidy_dose",
    cohort="tech_subsidy_start", method=method, degree=degree, knots=knots, n_bins=n_bins,
    control_group=control_group, n_draws=n_draws, seed=20240601)

# %%
truth_att = truth_acrt = None
if truth is not None:
    g = truth["grid"]
    gd = np.array([p["dose"] for p in g])

    def truth_att(d):
        return float(np.interp(d, gd, [p["att"] for p in g]))

    def truth_acrt(d):
        return float(np.interp(d, gd, [p["acrt"] for p in g]))

fig = res.plot(language=language, truth_att=truth_att, truth_acrt=truth_acrt)
fig.axes[0].set_title("剂量效应 ATT(d)" if zh else "Dose response ATT(d)")
fig.axes[1].set_title("平均因果响应 ACRT(d)" if zh else "Average causal response ACRT(d)")
for ax in fig.axes:
    ax.set_xlabel("补贴强度（上年营业收入的‰）" if zh else "Subsidy intensity (‰ of last year's revenue)")
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()

# %%
binned = did.continuous(
    sample, outcome=outcome, unit="unit_code", time="year", dose="tech_subsidy_dose",
    cohort="tech_subsidy_start", method="binned", n_bins=n_bins, control_group=control_group,
    n_draws=n_draws, seed=20240601, twfe=False)
cols = ["dose", "estimate", "std_error", "conf_low", "conf_high", "conf_low_uniform", "conf_high_uniform"]
display(Markdown("**分箱估计（剂量分位数分箱）**" if zh else "**Binned estimator (dose quantile bins)**"))
display(report.table(binned.att_d.to_frame()[cols], language=language, digits=4))

# %%
display(Markdown('## 事件研究（二值化）与平行趋势检验'
                 if zh else
                 '## Binarised event study and pre-trends'))

# %%
fig, ax = plt.subplots(figsize=(7, 4))
res.event_study.plot(ax=ax, language=language, uniform=False)
ax.set_title("二值化事件研究 ATT^o(e)" if zh else "Binarised event study ATT^o(e)")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
report.mark_synthetic(fig)
plt.show()
pt = res.pretrend_test()
display(Markdown(f"事前期联合检验：χ²({pt['df']}) = {pt['statistic']:.2f}，p = {pt['p_value']:.3f}"
                  if zh else
                  f"Joint pre-trend test: chi2({pt['df']}) = {pt['statistic']:.2f}, p = {pt['p_value']:.3f}"))

# %%
display(Markdown('### 平行趋势敏感性\n\nRambachan–Roth（2023）相对幅度分析需要一个以单一参照期（e = −1）归一的事件研究：处理前系数是相对参照期的水平差。二值化事件研究的处理前系数若是逐期（相邻年份）差分，就不满足这一前提，断点值无法计算。'
                 if zh else
                 "### Sensitivity (HonestDiD)\n\nRambachan–Roth (2023) relative magnitudes need an event study normalised at one reference period (e = −1), whose pre-treatment coefficients are level gaps relative to it. If the binarised event study's pre-treatment coefficients are period-to-period (varying-base) differences, the premise fails and no breakdown value can be computed."))

# %%
breakdown_att = None
hd = None
es_b = res.event_study
ref = (es_b.labels["event_time"] == -1).to_numpy()
varying_base = bool(ref.any() and np.abs(es_b.params.to_numpy()[ref]).max() > 0)
if not varying_base:
    n_post = int((es_b.labels["event_time"] >= 0).sum())
    hd = sensitivity.honest_did(es_b, restriction="relative_magnitude", m=[0, 0.5, 1, 1.5, 2],
                                l_vec=[1 / n_post] * n_post)
else:
    display(Markdown(
        "**未计算断点值。** 二值化事件研究（`did.continuous(...).event_study`）的处理前系数采用“逐期基期”"
        "（第 t 年对第 t−1 年的差分），e = −1 也是估计值而非归一的零，因此不是 HonestDiD 所需的以 e = −1 "
        "归一的事件研究；且该估计量没有“统一基期”选项。头条中 breakdown 留空。"
        if zh else
        "**No breakdown value.** The pre-treatment coefficients of the binarised event study "
        "(`did.continuous(...).event_study`) use a *varying* base period (year t against t−1), so e = −1 is an "
        "estimate rather than a normalised zero: this is not the event study normalised at e = −1 that HonestDiD "
        "needs, and the continuous estimator has no universal-base option. The headline's breakdown is left "
        "empty."))
if hd is not None:
    breakdown_att = hd.breakdown(tol=0.01)
    ax = hd.plot(language=language)
    report.mark_synthetic(ax.figure)
    plt.show()
    display(report.table(hd.to_frame()[["term", "estimate", "conf_low", "conf_high"]], language=language,
                         digits=4))

# %%
display(Markdown("## 对照：带连续处理的 TWFE 及其权重\n\nTWFE 系数是各单位-年份“每单位剂量效应”的加权和，部分权重可能为负（de Chaisemartin–D'Haultfœuille 2020）。"
                 if zh else
                 "## Beside it: TWFE with the continuous treatment\n\nThe TWFE coefficient is a weighted sum of "
                 "the unit-year effects per unit of dose, and some weights can be negative (de Chaisemartin–"
                 "D'Haultfœuille 2020)."))

# %%
nw = res.twfe_negative_weights
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(res.twfe_weights["weight"], bins=40, color="C0")
ax.axvline(0, color="k", lw=0.8)
ax.set_xlabel("TWFE 权重" if zh else "TWFE weight")
ax.set_ylabel("单位-年份数" if zh else "Unit-years")
ax.set_title(f"负权重 {nw['n_negative']}/{nw['n_cells']}，合计 {nw['sum_negative']:.3f}" if zh else
              f"Negative weights {nw['n_negative']}/{nw['n_cells']}, sum {nw['sum_negative']:.3f}")
report.mark_synthetic(fig)
plt.show()
tw = res.twfe
display(Markdown(
    f"TWFE 系数（每 1‰ 强度）：{tw.estimate:.4f}（标准误 {tw.std_error:.4f}）；"
     f"CGBS 平均因果响应 ACRT^o：{res.acrt_overall.estimate:.4f}（标准误 {res.acrt_overall.std_error:.4f}）。"
     if zh else
     f"TWFE coefficient (per 1‰ of intensity): {tw.estimate:.4f} (s.e. {tw.std_error:.4f}); "
     f"CGBS ACRT^o: {res.acrt_overall.estimate:.4f} (s.e. {res.acrt_overall.std_error:.4f})."))

# %%
display(Markdown('## 与已知真值比较（仅合成数据）'
                 if zh else
                 '## Against the planted truth (synthetic data only)'))

# %%
if truth is not None:
    rows = [("ATT^o", res.att_overall, truth["att_avg"]), ("ACRT^o", res.acrt_overall, truth["acrt_avg"])]
    for name, r_, tv in rows:
        lo, hi = r_.conf_int()
        display(Markdown(f"- {name}: {r_.estimate:.4f} [{lo:.4f}, {hi:.4f}] — "
                         f"{'真值' if zh else 'truth'} {tv:.4f} "
                         f"({'在区间内' if lo <= tv <= hi else '不在区间内'})" if zh else
                         f"- {name}: {r_.estimate:.4f} [{lo:.4f}, {hi:.4f}] — truth {tv:.4f} "
                         f"({'inside' if lo <= tv <= hi else 'outside'} the interval)"))

# %%
n_subsidised = int((units.tech_subsidy_start > 0).sum())
common = dict(outcome=outcome, n_clusters=units.shape[0], n_treated=n_subsidised,
              pretrend_p=pt["p_value"])
records = [
    report.headline("tech_subsidy", "CGBS (2024) ATT^o", res.att_overall, assumption="parallel_trends",
                    preferred=True, language=language, breakdown=breakdown_att,
                    truth=truth["att_avg"] if truth else None, **common),
    report.headline("tech_subsidy", "CGBS (2024) ACRT^o", res.acrt_overall, assumption="strong_parallel_trends",
                    language=language, truth=truth["acrt_avg"] if truth else None, **common),
    report.headline("tech_subsidy", "TWFE", res.twfe, assumption="parallel_trends_homogeneous",
                    language=language, **common),
]
shown = pd.DataFrame(records)[["estimator", "estimate", "conf_low", "conf_high", "p_value"]]
display(report.table(shown, language=language, digits=4))
box.update(report.conclusion_box(records, "tech_subsidy", language))
report.save_headlines(output_dir, "20_tech_upgrade_subsidies", records,
                      title=page_title);
