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
# # 目标完成情况记分卡 · Targets scorecard
# The plan's numeric targets (`evalkit/plan_targets.csv`, from the 2021 plan) against the city-year
# indicators table of the data folder.

# %% tags=["parameters"]
year: int = 2025  # evaluation year
data_dir: str = "../data_raw/demo"  # folder with city_indicators.csv
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)
targets_file: str = ""  # optional custom targets CSV (empty: the plan's targets)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
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
shown = card.assign(
    name=card["name_zh"] if zh else card["name_en"],
    status_text=card["status"].map(status_label),
)[["indicator_id", "name", "unit", "comparison", "target_value", "deadline", "value", "value_year", "status_text", "years_missed"]]
headers_zh = {"indicator_id": "指标代码", "name": "指标", "unit": "单位", "comparison": "比较", "target_value": "目标值",
              "deadline": "期限", "value": "实际值", "value_year": "数据年份", "status_text": "状态", "years_missed": "未达标年份"}
headers_en = {"indicator_id": "Indicator id", "name": "Indicator", "unit": "Unit", "comparison": "Comparison",
              "target_value": "Target", "deadline": "Deadline", "value": "Value", "value_year": "Data year",
              "status_text": "Status", "years_missed": "Years missed"}
display(Markdown(f"## {'评估年份' if zh else 'Evaluation year'}: {year}"))
display(shown.rename(columns=headers_zh if zh else headers_en).style.hide(axis="index").format(precision=0, na_rep="—"))
if missing_ids:
    display(Markdown(("**无数据的指标：** " if zh else "**Targets without any data:** ") + ", ".join(missing_ids)))

# %%
counts = targets.summarise(card)
fig, ax = plt.subplots(figsize=(7, 3))
order = [s for s in targets.STATUS if counts[s]]
colors = {"met": "#4f8f3a", "on_track": "#9bbb59", "pending": "#bbbbbb", "no_data": "#dddddd",
          "off_track": "#d98c1f", "not_met": "#c0504d"}
ax.barh([status_label[s] for s in order], [counts[s] for s in order], color=[colors[s] for s in order])
ax.set_xlabel("目标个数" if zh else "Number of targets")
ax.set_title(("目标完成情况汇总（%d年）" if zh else "Targets by status (%d)") % year)
report.mark_synthetic(fig)
plt.show()

# %%
plot_ids = [i for i in card["indicator_id"] if i in set(indicators["indicator_id"])]
ncol = 3
nrow = max(1, -(-len(plot_ids) // ncol))
fig, axes = plt.subplots(nrow, ncol, figsize=(12, 2.8 * nrow), squeeze=False)
for ax, ind_id in zip(axes.ravel(), plot_ids, strict=False):
    row = card.set_index("indicator_id").loc[ind_id]
    series = indicators[(indicators["indicator_id"] == ind_id) & (indicators["year"] <= year)].sort_values("year")
    ax.plot(series["year"], series["value"], marker="o", ms=3, color="#1f4e79")
    ax.axhline(row["target_value"], color="#c0504d", ls="--", lw=1)
    ax.set_title(row["name_zh"] if zh else row["name_en"], fontsize=9)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
for ax in axes.ravel()[len(plot_ids):]:
    ax.axis("off")
fig.suptitle("指标走势（虚线为目标值）" if zh else "Indicator trends (dashed line: target)")
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()

# %%
_ = report.save_headlines(
    output_dir,
    "60_targets_scorecard",
    [],
    title="目标完成情况记分卡" if zh else "Targets scorecard",
    extra={"counts": counts, "year": year, "n_targets": len(card),
           "summary": [" · ".join(f"{report.t(k, language)} {v}" for k, v in counts.items() if v)],
           "card": card[["indicator_id", "name_zh", "name_en", "status", "value", "target_value"]].to_dict("records")},
)
