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
# # 目标完成情况记分卡
# 《潍坊市创建制造业高质量发展试验区总体方案》（2021）中的量化目标，与数据文件夹中的全市年度指标表逐项对照。
# 每个目标列出目标类型（期末：看期限年份的数值；累计：2021 年起逐年相加；每年：每一年都须达到）、2020 年基期值、
# 达标规则（“左右”按所列容差判定）、实际值、完成率、状态、未达成的原因、数据来源和方案指定的责任部门。

# %% [markdown] tags=["lang-en"]
# # Targets scorecard
# The numeric targets of the 2021 plan for Weifang's manufacturing pilot zone, each set against the
# city's yearly indicators in the data folder. Each target shows its type (end of period: the value in
# the deadline year; cumulative: the sum from 2021; every year: each year must reach it), the 2020
# baseline, the rule (an "about N" target is met within the stated tolerance), the actual value, the
# completion rate, the status, the reason when it is not met, the data source and the department the
# plan makes responsible.

# %% tags=["parameters"]
year: int = 2025  # evaluation year
data_dir: str = "../data_raw/demo"  # folder with city_indicators.csv
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)
targets_file: str = ""  # optional custom targets CSV (empty: the plan's targets)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.ticker import MaxNLocator

from evalkit import data, report, targets

indicators_path = Path(data_dir) / "city_indicators.csv"
indicators = data.load_city_indicators(indicators_path)  # the shared reader: GB18030, title rows, empty files
synthetic = (Path(data_dir) / "SYNTHETIC").exists()
report.use(language=language, synthetic=synthetic)
banner = report.synthetic_banner(language=language)
if banner is not None:
    display(banner)
zh = language == "zh"

# %%
target_table = targets.load_targets(targets_file or None)
card = targets.scorecard(indicators, year, target_table)
missing_ids = targets.check_known_ids(indicators, target_table)
status_label = {s: report.t(s, language) for s in targets.STATUS}
deadlines = sorted(card["deadline"].unique())
passed = [int(d) for d in deadlines if d < year]
display(Markdown(
    (f"**评估年份：{year} 年。** 数据截至 {int(indicators['year'].max())} 年；期限在评估年份之前的目标"
     f"（{'、'.join(map(str, passed))} 年）按期限年份的数值评价，“数据年份”一栏写明所用年份。") if zh and passed else
    (f"**评估年份：{year} 年。** 数据截至 {int(indicators['year'].max())} 年。") if zh else
    (f"**Evaluation year: {year}.** Data run to {int(indicators['year'].max())}; targets whose deadline has "
     f"passed ({', '.join(map(str, passed))}) are scored on the deadline year's value, shown under "
     "\"Data year\".") if passed else
    f"**Evaluation year: {year}.** Data run to {int(indicators['year'].max())}."
))


def _value(row, col):
    v = row[col]
    if pd.isna(v):
        return report.MISSING
    unit = report.unit_of_measure(row["unit"], language)
    text = report.format_number(v, 1 if not float(v).is_integer() else None)
    return f"{text}{'' if zh or unit == '%' else ' '}{unit}" if unit else text


shown = pd.DataFrame({
    "indicator": card["name_zh"] if zh else card["name_en"],
    "section": [targets.section_text(v, language) for v in card["section"]],
    "target_type": card["target_type"].map({"期末": "level", "累计": "cumulative", "每年": "each_year"}),
    "rule": [targets.rule_text(r, language) for _, r in card.iterrows()],
    "deadline": card["deadline"],
    "baseline": [_value(r, "baseline") for _, r in card.iterrows()],
    "actual": [_value(r, "value") for _, r in card.iterrows()],
    "value_year": card["value_year"],
    "completion": card["completion"],
    "status": card["status"],
    "reason": [targets.reason_text(r, year, language) for _, r in card.iterrows()],
})
display(report.table(
    shown, language=language, values=["target_type", "status"],
    formats={"completion": "share", "baseline": "text", "actual": "text", "reason": str},
    labels={"baseline": report.t("baseline", language), "actual": report.t("actual", language)},
    title="目标完成情况" if zh else "Targets",
    footnotes=[
        "完成率 = 实际值 ÷ 目标值；“每年”类目标取完成率最低的一年；“累计”类目标为 2021 年起逐年相加之和。"
        if zh else
        "Completion = actual ÷ target; for every-year targets the lowest year; for cumulative targets the sum "
        "since 2021.",
        "基期值为 2020 年数值（方案实施前一年）。" if zh else "Baseline: the 2020 value (the year before the plan).",
    ],
    missing_note=("“—”表示数据表中没有该年份的数值。" if zh
                  else "“—”: the indicators table has no value for that year."),
))
sources = pd.DataFrame({
    "indicator": card["name_zh"] if zh else card["name_en"],
    "data_source": card["data_source_zh"] if zh else card["data_source_en"],
    "department": card["department_zh"] if zh else card["department_en"],
})
display(report.table(
    sources, language=language, title="数据来源与责任部门" if zh else "Data sources and responsible departments",
    missing_note=("“—”：总体方案未指定责任部门（该目标出自配套实施意见）。" if zh
                  else "“—”: the plan names no department (the target comes from a follow-up policy document)."),
))
if missing_ids:
    names = card.set_index("indicator_id").loc[missing_ids, "name_zh" if zh else "name_en"]
    display(Markdown(("**数据表中没有数值的目标：** " if zh else "**Targets without any data:** ")
                     + "、".join(names) if zh else ", ".join(names)))

# %%
counts = targets.summarise(card)
fig, ax = plt.subplots(figsize=(7, 3))
order = [s for s in targets.STATUS if counts[s]]
colors = {"met": "#4f8f3a", "on_track": "#9bbb59", "pending": "#bbbbbb", "no_data": "#dddddd",
          "off_track": "#d98c1f", "not_met": "#c0504d"}
ax.barh([status_label[s] for s in order], [counts[s] for s in order], color=[colors[s] for s in order])
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_xlabel(report.t("target_count", language))
ax.set_title(f"目标完成情况汇总（{year} 年评估）" if zh else f"Targets by status ({year} evaluation)")
report.mark_synthetic(fig)
fig.tight_layout(rect=(0, 0.05, 1, 1))
plt.show()

# %% [markdown] tags=["lang-zh"]
# ## 指标走势
# 实线为实际值，虚线为目标值（“左右”类目标的灰色带为容差范围）；“累计”类目标画的是 2021 年起的累计数，
# 与累计目标直接可比。

# %% [markdown] tags=["lang-en"]
# ## Indicator trends
# Solid line: actual values; dashed line: the target (grey band: the tolerance of an "about N" target).
# Cumulative targets are drawn as the running total since 2021, comparable with the target itself.

# %%
plot_ids = [i for i in card["indicator_id"] if i in set(indicators["indicator_id"])]
ncol = 3
nrow = max(1, -(-len(plot_ids) // ncol))
fig, axes = plt.subplots(nrow, ncol, figsize=(12, 2.9 * nrow + 0.6), squeeze=False)
by_id = card.set_index("indicator_id")
for ax, ind_id in zip(axes.ravel(), plot_ids, strict=False):
    row = by_id.loc[ind_id]
    series = (indicators[(indicators["indicator_id"] == ind_id) & (indicators["year"] <= year)]
              .set_index("year")["value"].dropna().sort_index())
    if row["aggregation"] == "cumulative":
        series = targets.cumulative_series(series)
    ax.plot(series.index, series.to_numpy(), marker="o", ms=3, color="#1f4e79")
    ax.axhline(row["target_value"], color="#c0504d", ls="--", lw=1)
    if row["comparison"] == "approx":
        ax.axhspan(targets.threshold(row), row["target_value"], color="#999999", alpha=0.15, lw=0)
    unit = report.unit_of_measure(row["unit"], language)
    kind = report.t(row["aggregation"], language)
    name = row["name_zh"] if zh else row["name_en"]
    ax.set_title(f"{name}（{kind}）" if zh else f"{name} ({kind.lower()})", fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
for ax in axes.ravel()[len(plot_ids):]:
    ax.axis("off")
report.mark_synthetic(fig)
fig.tight_layout(rect=(0, 0.03, 1, 1))
plt.show()

# %%
_ = report.save_headlines(
    output_dir,
    "60_targets_scorecard",
    [],
    title="目标完成情况记分卡" if zh else "Targets scorecard",
    extra={"counts": counts, "year": year, "n_targets": len(card),
           "summary": [" · ".join(f"{report.t(k, language)} {v}" for k, v in counts.items() if v)],
           "card": card[["indicator_id", "name_zh", "name_en", "status", "value", "target_value", "target_type",
                         "completion"]].assign(reason=shown["reason"]).to_dict("records")},
)
