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
nb = report.notebook.open_page(data_dir, page="60_targets_scorecard", language=language)  # title, banner
box = display(Markdown(""), display_id=True)  # the key facts, filled in at the end
synthetic = nb.synthetic
nb.say("intro")

# %%
target_table = targets.load_targets(targets_file or None)
card = targets.scorecard(indicators, year, target_table)
missing_ids = targets.check_known_ids(indicators, target_table)
status_label = {s: report.t(s, language) for s in targets.STATUS}
deadlines = sorted(card["deadline"].unique())
passed = [int(d) for d in deadlines if d < year]
if passed:
    nb.say("evaluation_year_passed", year=year, data_year=int(indicators["year"].max()),
           passed=report.join_list(passed, language))
else:
    nb.say("evaluation_year", year=year, data_year=int(indicators["year"].max()))


def _value(row, col):
    v = row[col]
    if pd.isna(v):
        return report.MISSING
    unit = report.unit_of_measure(row["unit"], language)
    text = report.format_number(v, 1 if not float(v).is_integer() else None)
    return nb.text("value_percent" if unit == "%" else "value_unit", value=text, unit=unit) if unit else text


shown = pd.DataFrame({
    "indicator": card[f"name_{language}"],
    "section": [targets.section_text(v, language) for v in card["section"]],
    "target_type": card["target_type"].map(targets.TARGET_TYPES),
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
    title=nb.text("tab_targets"),
    footnotes=[nb.text("note_completion"), nb.text("note_baseline")],
    missing_note=nb.text("note_no_value"),
))
sources = pd.DataFrame({
    "indicator": card[f"name_{language}"],
    "data_source": card[f"data_source_{language}"],
    "department": card[f"department_{language}"],
})
display(report.table(
    sources, language=language, title=nb.text("tab_sources"),
    missing_note=nb.text("note_no_department"),
))
if missing_ids:
    names = card.set_index("indicator_id").loc[missing_ids, f"name_{language}"]
    nb.say("targets_without_data", names=report.join_list(names, language))

# %%
counts = targets.summarise(card)
fig, ax = plt.subplots(figsize=(7, 3))
order = [s for s in targets.STATUS if counts[s]]
colors = {"met": "#4f8f3a", "on_track": "#9bbb59", "pending": "#bbbbbb", "no_data": "#dddddd",
          "off_track": "#d98c1f", "not_met": "#c0504d"}
ax.barh([status_label[s] for s in order], [counts[s] for s in order], color=[colors[s] for s in order])
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_xlabel(report.t("target_count", language))
ax.set_title(nb.text("fig_status", year=year))
report.mark_synthetic(fig)
fig.tight_layout(rect=(0, 0.05, 1, 1))
plt.show()

# %%
nb.say("h_trends")

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
    ax.set_title(nb.text("fig_indicator", name=row[f"name_{language}"], kind=kind.lower()), fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if series.mod(1).eq(0).all() and float(row["target_value"]).is_integer():  # counts: whole-number ticks
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
for ax in axes.ravel()[len(plot_ids):]:
    ax.axis("off")
report.mark_synthetic(fig)
fig.tight_layout(rect=(0, 0.03, 1, 1))
plt.show()

# %%
shortfalls = report.target_shortfalls(card.to_dict("records"), language)  # as the conclusion page lists them
key_facts = [nb.text("facts_counts", n=len(card), met=counts["met"] + counts["on_track"],
                     missed=counts["not_met"] + counts["off_track"], other=counts["pending"] + counts["no_data"])]
if shortfalls:
    key_facts.append(nb.text("facts_missed", items=report.join_list(shortfalls, language)))
box.update(report.key_facts_box(key_facts, language))
_ = report.save_headlines(
    output_dir,
    "60_targets_scorecard",
    [],
    title=nb.title,
    extra={"counts": counts, "year": year, "n_targets": len(card),
           "summary": [" · ".join(f"{report.t(k, language)} {v}" for k, v in counts.items() if v)],
           "card": card[["indicator_id", "name_zh", "name_en", "status", "value", "target_value", "target_type",
                         "completion"]].assign(reason=shown["reason"]).to_dict("records")},
)
