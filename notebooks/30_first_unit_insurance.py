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

# %% [markdown]
# # 首台套保险补偿的效果 · Effects of first-unit (首台套) insurance compensation
# 各县区在不同年份开始获得首台套保险补偿（交错采纳）。当效果随实施年数增长时，普通的双向固定效应
# （TWFE）回归会把已处理单位当作对照，结果可能严重偏误。本笔记本先展示采纳时间，再给出 TWFE 及其
# Goodman-Bacon 分解，然后并列 Callaway–Sant'Anna、Sun–Abraham 与插补法（Borusyak–Jaravel–Spiess）
# 的事件研究结果，并解读处理前趋势。
#
# Counties started first-unit insurance compensation in different years (staggered adoption). When
# effects grow with exposure, a plain two-way fixed-effects (TWFE) regression uses already-treated
# units as controls and can be badly biased. We show the adoption timing, TWFE and its
# Goodman-Bacon diagnosis, then Callaway–Sant'Anna, Sun–Abraham and imputation (Borusyak–Jaravel–
# Spiess) event studies side by side, and read the pre-treatment trends.

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
import json
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from evalkit import data, did, report

panel = data.load_panel(data_dir)
panel = panel[panel["year"] <= year]
synthetic = bool(panel.attrs.get("synthetic"))
report.use(language=language, synthetic=synthetic)
banner = report.synthetic_banner(language=language)
if banner is not None:
    display(banner)
zh = language == "zh"
sample = panel if include_weifang else panel[panel["in_weifang"] == 0]
sample = sample.reset_index(drop=True)
sample.attrs.update(panel.attrs)
design = {"outcome": outcome, "unit": "unit_code", "time": "year"}
truth = None
truth_file = Path(data_dir) / "truth.json"
if synthetic and truth_file.exists():
    t_all = json.loads(truth_file.read_text(encoding="utf-8")).get("first_unit", {})
    if t_all.get("outcome") == outcome and year == panel["year"].max():
        truth = t_all.get("full_sample" if include_weifang else "excluding_weifang")
first_year, last_year = int(sample["year"].min()), int(sample["year"].max())
display(Markdown(
    (f"样本：{sample['unit_code'].nunique()} 个县级单位，{first_year}–{last_year} 年"
     + ("（含潍坊单位）。" if include_weifang else "（不含潍坊单位，以免混入先行区效应）。"))
    if zh else
    (f"Sample: {sample['unit_code'].nunique()} county-level units, {first_year}–{last_year}"
     + (" (Weifang's units included)." if include_weifang else
        " (Weifang's units excluded so the pilot-zone effect does not contaminate the comparison)."))
))

# %% [markdown]
# ## 采纳时间 · Adoption timing

# %%
first = sample.groupby("unit_code")["first_unit_year"].first()
first = first.where((first > 0) & (first <= last_year), 0)
cohorts = first.value_counts().sort_index()
cohorts.index = [("从未" if zh else "never") if i == 0 else int(i) for i in cohorts.index]
display(cohorts.rename("单位数" if zh else "units").to_frame().T)
ax = report.timing_heatmap(sample, unit="unit_code", time="year", treatment="first_unit", language=language,
                           max_units=80)
plt.show()

# %% [markdown]
# ## 双向固定效应及其 Goodman-Bacon 分解 · TWFE and its Goodman-Bacon decomposition

# %%
tw = did.twfe(sample, treatment="first_unit", **design)
display(report.translate_columns(tw.to_frame().round(4), language))
bacon = did.bacon_decomposition(sample, treatment="first_unit", **design)
display(bacon.by_type.round(4))
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

# %% [markdown]
# ## 稳健估计量并列 · Heterogeneity-robust estimators side by side

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=UserWarning)
    cmp = did.compare(sample, estimators=["twfe", "event_study", "sun_abraham", "imputation", "callaway_santanna"],
                      cohort="first_unit_year", leads=leads, lags=lags,
                      cs_options={"control_group": control_group}, **design)
overall = cmp.overall()
display(report.translate_columns(overall[["estimator", "estimate", "std_error", "conf_low", "conf_high",
                                          "p_value"]].round(4), language))
truth_dyn = None
if truth is not None:
    truth_dyn = pd.Series({d["event_time"]: d["att"] for d in truth["dynamic"]})
    truth_dyn = truth_dyn[(truth_dyn.index >= -leads) & (truth_dyn.index <= lags)]
ax = cmp.plot(language=language, truth=truth_dyn)
plt.show()

# %% [markdown]
# ## 处理前趋势 · Pre-treatment trends

# %%
es = cmp.results["event_study"]
sa = cmp.results["sun_abraham"]
imp = cmp.results["imputation"]
pre = {
    "TWFE event study": es.pretrend_test(),
    "Sun-Abraham": sa.pretrend_test(),
    "Imputation (BJS)": imp.pretrend_test(leads=leads),
}
pre_table = pd.DataFrame(
    [{"estimator": k, "statistic": v["statistic"], "df": v["df"], "p_value": v["p_value"]} for k, v in pre.items()]
)
display(report.translate_columns(pre_table.round(4), language))
for name, v in pre.items():
    p = v["p_value"]
    if zh:
        txt = (f"{name}：处理前 {v['df']} 个系数联合检验 p = {p:.3f}。"
               + ("未发现违背平行趋势的证据（但检验功效有限，不能证明趋势平行）。" if p >= 0.05 else
                  "处理前系数联合显著，平行趋势假设存疑，结果需谨慎解读。"))
    else:
        txt = (f"{name}: joint test of {v['df']} pre-treatment coefficients, p = {p:.3f}. "
               + ("No evidence against parallel pre-trends (the test has limited power; it does not prove "
                  "the trends are parallel)." if p >= 0.05 else
                  "Pre-treatment coefficients are jointly significant: parallel trends are in doubt."))
    display(Markdown(txt))

# %% [markdown]
# ## 与已知真值比较（仅合成数据）· Against the planted truth (synthetic data only)

# %%
if truth is not None:
    rows = [("TWFE", tw.estimate, truth["twfe_estimand"], "twfe_estimand"),
            ("Callaway-Sant'Anna", float(overall.set_index("estimator").loc["Callaway-Sant'Anna", "estimate"]),
             truth["simple"], "simple")]
    display(pd.DataFrame(rows, columns=["estimator", "estimate", "truth", "estimand"]).round(4))
    display(Markdown(
        f"真实的平均处理效应（simple）为 {truth['simple']:.4f}；无噪声时 TWFE 只能得到 {truth['twfe_estimand']:.4f}。"
        if zh else
        f"The true average effect (simple) is {truth['simple']:.4f}; even without noise TWFE would give "
        f"{truth['twfe_estimand']:.4f}."
    ))

# %% [markdown]
# ## 保存结论 · Headlines

# %%
ov = overall.set_index("estimator")
pretrend_p = {"TWFE": pre["TWFE event study"]["p_value"], "Sun-Abraham": pre["Sun-Abraham"]["p_value"],
              "Imputation (BJS)": pre["Imputation (BJS)"]["p_value"], "Callaway-Sant'Anna": None}
inference = {"TWFE": tw.inference, "Sun-Abraham": sa.inference, "Imputation (BJS)": imp.inference,
             "Callaway-Sant'Anna": cmp.results["callaway_santanna"].aggregate("simple").inference}
records = []
for name in ["Callaway-Sant'Anna", "Imputation (BJS)", "Sun-Abraham", "TWFE"]:
    if name not in ov.index:
        continue
    r = ov.loc[name]
    note = ("TWFE is biased under staggered adoption with growing effects; see the Bacon decomposition"
            if name == "TWFE" else "heterogeneity-robust")
    records.append({
        "evaluation": "first_unit_insurance", "estimator": name, "estimate": float(r["estimate"]),
        "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]), "p_value": float(r["p_value"]),
        "inference": inference[name], "pretrend_p": pretrend_p[name], "breakdown": None,
        "truth": (truth["twfe_estimand"] if name == "TWFE" else truth["simple"]) if truth else None,
        "note": note, "term": "ATT", "outcome": outcome, "sample": "all" if include_weifang else "excluding_weifang",
    })
report.save_headlines(output_dir, "30_first_unit_insurance", records,
                      title="首台套保险补偿 · First-unit insurance")
display(pd.DataFrame(records)[["estimator", "estimate", "conf_low", "conf_high", "p_value", "pretrend_p"]].round(4))
