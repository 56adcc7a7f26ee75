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

# %% [markdown] tags=["lang-zh"]
# # 数据审计
# 进入任何估计之前，先看清数据：哪些县区、哪些年份有数据，校验发现了什么，各项政策何时到达哪些单位，
# 潍坊与山东其他县区的结果变量走势，以及各单位在地图上的位置。

# %% [markdown] tags=["lang-en"]
# # Data audit
# Before any estimate, look at the data: which units and years are covered, what validation found,
# when each policy reached which units, how Weifang's outcomes moved against the rest of Shandong,
# and where the units are on the map.

# %% tags=["parameters"]
year: int = 2025  # last year of the evaluation
data_dir: str = "../data_raw/demo"  # folder with county_panel.csv
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from evalkit import data, report

panel = data.load_panel(data_dir, year=year, allow_missing=True)  # later years set aside; gaps refused before this page unless --allow-missing
panel = panel[panel["year"] <= year].copy()
synthetic = bool(panel.attrs.get("synthetic"))
validation = panel.attrs["validation"]
report.use(language=language, synthetic=synthetic)
zh = language == "zh"
name_col = "name_zh" if zh else "name_en"
banner = report.synthetic_banner(language=language)
if banner is not None:
    display(banner)
first_year, last_year = int(panel["year"].min()), int(panel["year"].max())
years = list(range(first_year, last_year + 1))
source = Path(str(panel.attrs.get("source", "")))
n_units = panel["unit_code"].nunique()
display(Markdown(
    f"**数据：** 文件 `{source.name}`，{n_units} 个单位，{first_year}–{last_year} 年。" if zh else
    f"**Data:** file `{source.name}`, {n_units} units, {first_year}–{last_year}."
))

# %% [markdown] tags=["lang-zh"]
# ## 1. 校验摘要

# %% [markdown] tags=["lang-en"]
# ## 1. Validation summary

# %%
checks = validation.to_frame()
# the synthetic-data note is already the banner at the top of the page
checks = checks[~checks["message"].str.startswith("synthetic demo data")]
display(Markdown(
    (f"校验问题 **{len(validation.problems)}** 项，其他说明 **{len(checks) - len(validation.problems)}** 项，"
     f"代码调整 **{len(validation.recoded)}** 处。")
    if zh else
    (f"**{len(validation.problems)}** problems, **{len(checks) - len(validation.problems)}** other notes, "
     f"**{len(validation.recoded)}** recoded cells.")
))
if len(checks):
    display(report.table(checks, language=language, verbatim=["message"], values=["kind"],
                         footnotes=["校验信息按程序原文列出。" if zh else "Messages as the validator wrote them."]))
if validation.recoded:
    recoded = pd.DataFrame(validation.recoded).head(30)
    display(report.table(recoded, language=language, verbatim=list(recoded.columns),
                         labels={c: c for c in recoded.columns},
                         title="代码调整（前 30 处）" if zh else "Recoded cells (first 30)"))

# %% [markdown] tags=["lang-zh"]
# ## 2. 覆盖情况（单位 × 年份）

# %% [markdown] tags=["lang-en"]
# ## 2. Coverage (units × years)

# %%
outcomes = ["revenue_wan", "value_added_wan", "n_firms", "rd_wan", "energy_tce", "employment"]
outcomes = [c for c in outcomes if c in panel.columns]
grid = pd.MultiIndex.from_product([panel["unit_code"].unique(), years], names=["unit_code", "year"])
present = panel.set_index(["unit_code", "year"])
complete = present[outcomes].notna().all(axis=1).reindex(grid, fill_value=False)
type_of = panel.groupby("unit_code")["unit_type"].first()
coverage = (
    complete.rename("complete").reset_index()
    .assign(unit_type=lambda d: d["unit_code"].map(type_of),
            rows_present=lambda d: d.set_index(["unit_code", "year"]).index.isin(present.index))
    .groupby("unit_type", as_index=False)
    .agg(n_units=("unit_code", "nunique"), unit_years=("complete", "size"),
         rows_present=("rows_present", "sum"), complete=("complete", "sum"))
)
coverage["missing_cells"] = coverage["unit_years"] - coverage["complete"]
total = coverage.drop(columns="unit_type").sum().to_dict()
coverage = pd.concat([coverage, pd.DataFrame([{"unit_type": "total", **total}])], ignore_index=True)
display(report.table(coverage, language=language, values=["unit_type"], total_last=True))
missing = complete[~complete].reset_index()
if len(missing):
    names = panel.groupby("unit_code")[name_col].first()
    gaps = (missing.groupby("unit_code")["year"].apply(lambda s: "、".join(map(str, s)) if zh else ", ".join(map(str, s)))
            .rename("missing_years").reset_index())
    gaps.insert(1, "name", gaps["unit_code"].map(names))
    display(report.table(gaps, language=language, title="缺失的单位-年份" if zh else "Missing unit-years"))
else:
    display(Markdown(
        f"全部 {len(grid):,} 个单位-年份的结果变量均完整。" if zh
        else f"All {len(grid):,} unit-years have complete outcomes."
    ))
per_year = panel.groupby("year")[outcomes].count().T.reset_index(names="indicator")
per_year["indicator"] = [report.t(c, language) for c in per_year["indicator"]]
per_year.columns = [str(c) for c in per_year.columns]
display(report.table(per_year, language=language, formats={c: "int" for c in per_year.columns[1:]},
                     title="各年份有数值的单位数" if zh else "Units with a value, by year"))

# %% [markdown] tags=["lang-zh"]
# ## 3. 政策时间分布
# 首台套保险补偿：各单位开始获得补偿的年份（只列出已获补偿的单位）；技术改造补助：各地级市所辖县区的平均补助额；
# 试验区和因素法资金：潍坊各单位。

# %% [markdown] tags=["lang-en"]
# ## 3. Treatment timing
# First-unit insurance: the year each unit began to receive compensation (units that did only);
# technology-upgrade subsidies: the average amount per county in each prefecture; the pilot zone
# and the factor-method funds: Weifang's units.

# %%
report.timing_heatmap(panel, unit="unit_code", time="year", treatment="first_unit", label=name_col,
                      language=language, only_treated=True)
plt.show()

# %%
from evalkit.data.masters import unit_master

prefecture_en = unit_master().drop_duplicates("prefecture_zh").set_index("prefecture_zh")["prefecture_en"]
subsidy = panel.groupby(["prefecture_zh", "year"], as_index=False)["tech_subsidy_wan"].mean()
subsidy["prefecture"] = subsidy["prefecture_zh"] if zh else subsidy["prefecture_zh"].map(prefecture_en)
report.timing_heatmap(subsidy, unit="prefecture", time="year", treatment="tech_subsidy_wan", language=language,
                      title=("各地级市县均技术改造补助（万元）" if zh
                             else "Average technology-upgrade subsidy per county, by prefecture (CNY 10k)"))
plt.show()

# %%
weifang = panel[panel["in_weifang"] == 1]
report.timing_heatmap(weifang, unit="unit_code", time="year", treatment="pilot_zone", label=name_col,
                      language=language)
plt.show()
report.timing_heatmap(weifang, unit="unit_code", time="year", treatment="factor_fund_wan", label=name_col,
                      language=language)
plt.show()

# %%
first = panel.groupby("unit_code")["first_unit_year"].first()
cohorts = first.value_counts().sort_index().rename("n_units").reset_index()
cohorts["cohort"] = [report.t("never_treated", language) if y == 0 else str(int(y)) for y in cohorts["first_unit_year"]]
display(report.table(cohorts, language=language, columns=["cohort", "n_units"],
                     labels={"cohort": report.t("first_unit_year", language)},
                     title="首台套保险补偿起始年份分布" if zh else "Units by first year of first-unit insurance"))

# %% [markdown] tags=["lang-zh"]
# ## 4. 结果变量走势：潍坊与山东其他县区
# 各组县区的平均值；虚线为试验区开始的年份。

# %% [markdown] tags=["lang-en"]
# ## 4. Outcome trends: Weifang and the rest of Shandong
# Averages over each group's units; the dashed line marks the start of the pilot zone.

# %%
panel["area"] = panel["in_weifang"].map({1: report.t("weifang", language),
                                         0: report.t("rest_of_shandong", language)})
treated_years = panel.loc[panel["pilot_zone"] == 1, "year"]
pilot_start = int(treated_years.min()) if len(treated_years) else None
fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
for ax, col in zip(axes, ["log_revenue", "log_value_added", "n_firms"], strict=True):
    means = panel.groupby(["area", "year"], as_index=False)[col].mean()
    report.trend_plot(means, time="year", value=col, group="area", ax=ax, language=language,
                      vline=pilot_start - 0.5 if pilot_start else None)
report.mark_synthetic(fig)
fig.tight_layout(rect=(0, 0.04, 1, 1))
plt.show()

# %% [markdown] tags=["lang-zh"]
# ## 5. 地图（示意图）

# %% [markdown] tags=["lang-en"]
# ## 5. Map (schematic)

# %%
latest = panel[(panel["year"] == last_year) & (panel["in_weifang"] == 1)]
latest = latest.assign(revenue_yi=latest["revenue_wan"] / 10_000)[["unit_code", name_col, "revenue_yi"]]
report.unit_map(latest, "revenue_yi", name_col=name_col, language=language,
                title=f"{report.t('revenue_yi', language)} · {last_year}")
plt.show()

# %%
records = [
    {"evaluation": "数据覆盖" if zh else "coverage", "estimator": "单位-年份" if zh else "unit-years",
     "estimate": int(total["complete"]), "note": f"{first_year}-{last_year}"},
    {"evaluation": "校验问题" if zh else "validation problems", "estimator": "",
     "estimate": len(validation.problems)},
    {"evaluation": "缺失单元" if zh else "missing cells", "estimator": "",
     "estimate": int(total["missing_cells"])},
]
_ = report.save_headlines(output_dir, "00_data_audit", records,
                          title="数据审计" if zh else "Data audit",
                          extra={"units": int(n_units), "synthetic": synthetic})
