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
# # 数据审计 · Data audit
# 进入任何估计之前，先看清数据：哪些县区、哪些年份有数据，校验发现了什么，各项政策何时到达哪些单位，
# 潍坊与山东其他县区的结果变量走势，以及各单位在地图上的位置。
#
# Before any estimate, look at the data: which units and years are covered, what validation found,
# when each policy reached which units, how Weifang's outcomes moved against the rest of Shandong,
# and where the units are on the map.

# %% tags=["parameters"]
year: int = 2025  # last year of the evaluation
data_dir: str = "../data_raw/demo"  # folder with county_panel.csv
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)

# %%
import warnings

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
banner = report.synthetic_banner(language=language)
if banner is not None:
    display(banner)
first_year, last_year = int(panel["year"].min()), int(panel["year"].max())
years = list(range(first_year, last_year + 1))
display(Markdown(
    f"**{'数据' if zh else 'Data'}:** `{panel.attrs.get('source')}` · "
    f"{panel['unit_code'].nunique()} {'个单位' if zh else 'units'} · {first_year}–{last_year}"
))

# %% [markdown]
# ## 1. 校验摘要 · Validation summary

# %%
checks = validation.to_frame()
display(Markdown(
    (f"校验问题 **{len(validation.problems)}** 项，说明 **{len(validation.notes)}** 项，"
     f"代码调整 **{len(validation.recoded)}** 处。")
    if zh else
    (f"**{len(validation.problems)}** problems, **{len(validation.notes)}** notes, "
     f"**{len(validation.recoded)}** recoded cells.")
))
if len(checks):
    display(checks.rename(columns={"kind": "类别" if zh else "Kind",
                                   "message": "内容" if zh else "Message"}))
if validation.recoded:
    display(pd.DataFrame(validation.recoded).head(30))

# %% [markdown]
# ## 2. 覆盖情况 · Coverage (units × years)

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
            row_present=lambda d: d.set_index(["unit_code", "year"]).index.isin(present.index))
    .groupby("unit_type")
    .agg(units=("unit_code", "nunique"), cells=("complete", "size"),
         rows=("row_present", "sum"), complete=("complete", "sum"))
)
coverage["missing_cells"] = coverage["cells"] - coverage["complete"]
coverage.loc["total"] = coverage.sum()
coverage_labels = (
    {"units": "单位数", "cells": "单位×年份", "rows": "有数据的行", "complete": "结果变量完整",
     "missing_cells": "缺失单元"} if zh else
    {"units": "Units", "cells": "Unit-years", "rows": "Rows present", "complete": "Complete outcomes",
     "missing_cells": "Missing cells"}
)
display(coverage.rename(columns=coverage_labels))
missing = complete[~complete].reset_index()
if len(missing):
    display(Markdown("缺失的单位-年份：" if zh else "Missing unit-years:"))
    display(missing.groupby("unit_code")["year"].apply(list).to_frame())
else:
    display(Markdown(
        f"全部 {len(grid)} 个单位-年份的结果变量均完整。" if zh
        else f"All {len(grid)} unit-years have complete outcomes."
    ))
per_year = panel.groupby("year")[outcomes].count().T
per_year.index = [report.label_or_name(c, language) for c in per_year.index]
display(per_year)

# %% [markdown]
# ## 3. 政策时间分布 · Treatment timing (units × years)

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 9))
with warnings.catch_warnings():  # pandas casts the never-treated "inf" first year when sorting
    warnings.simplefilter("ignore", RuntimeWarning)
    report.timing_heatmap(panel, unit="unit_code", time="year", treatment="first_unit",
                          label="name_zh", ax=axes[0], language=language, max_units=60)
    report.timing_heatmap(panel, unit="unit_code", time="year", treatment="tech_subsidy_wan",
                          label="name_zh", ax=axes[1], language=language, max_units=60)
fig.tight_layout()
plt.show()

# %%
weifang = panel[panel["in_weifang"] == 1]
fig, axes = plt.subplots(1, 2, figsize=(14, 5))
report.timing_heatmap(weifang, unit="unit_code", time="year", treatment="pilot_zone",
                      label="name_zh", ax=axes[0], language=language)
report.timing_heatmap(weifang, unit="unit_code", time="year", treatment="factor_fund_wan",
                      label="name_zh", ax=axes[1], language=language)
fig.tight_layout()
plt.show()

# %%
cohorts = (panel.groupby("unit_code")["first_unit_year"].first().value_counts().sort_index()
           .rename_axis(report.t("first_unit_year", language)).rename("n").to_frame().T)
display(cohorts)

# %% [markdown]
# ## 4. 结果变量走势 · Outcome trends: Weifang vs the rest of Shandong

# %%
panel["area"] = panel["in_weifang"].map({1: report.t("weifang", language),
                                         0: report.t("rest_of_shandong", language)})
treated_years = panel.loc[panel["pilot_zone"] == 1, "year"]
pilot_start = int(treated_years.min()) if len(treated_years) else None
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, col in zip(axes, ["log_revenue", "log_value_added", "n_firms"], strict=True):
    means = panel.groupby(["area", "year"], as_index=False)[col].mean()
    report.trend_plot(means, time="year", value=col, group="area", ax=ax, language=language,
                      vline=pilot_start - 0.5 if pilot_start else None)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. 地图 · Map (示意图)

# %%
latest = panel[panel["year"] == last_year]
report.unit_map(latest[latest["in_weifang"] == 1][["unit_code", "name_zh", "revenue_wan"]],
                "revenue_wan", language=language,
                title=f"{report.t('revenue_wan', language)} · {last_year}")
plt.show()

# %%
records = [
    {"evaluation": "数据覆盖" if zh else "coverage", "estimator": "unit-years" if not zh else "单位-年份",
     "estimate": int(coverage.loc["total", "complete"]),
     "note": f"{first_year}-{last_year}"},
    {"evaluation": "校验问题" if zh else "validation problems", "estimator": "",
     "estimate": len(validation.problems)},
    {"evaluation": "缺失单元" if zh else "missing cells", "estimator": "",
     "estimate": int(coverage.loc["total", "missing_cells"])},
]
_ = report.save_headlines(output_dir, "00_data_audit", records,
                          title="数据审计" if zh else "Data audit",
                          extra={"units": int(panel["unit_code"].nunique()), "synthetic": synthetic})
