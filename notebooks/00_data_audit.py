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
year: int = 2025  # last year of the evaluation
data_dir: str = "../data_raw/demo"  # folder with county_panel.csv
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from evalkit import report

# later years set aside; gaps refused before this page unless --allow-missing
nb = report.notebook.start(data_dir, year=year, language=language, page="00_data_audit")  # title, banner
box = display(Markdown(""), display_id=True)  # the key facts, filled in at the end
panel, synthetic = nb.panel, nb.synthetic
validation = panel.attrs["validation"]
name_col = f"name_{language}"
nb.say("intro")
first_year, last_year = int(panel["year"].min()), int(panel["year"].max())
years = list(range(first_year, last_year + 1))
source = Path(str(panel.attrs.get("source", "")))
n_units = panel["unit_code"].nunique()
nb.say("sample", file=source.name, n_units=n_units, first_year=first_year, last_year=last_year)

# %%
nb.say("h_validation")

# %%
checks = validation.to_frame()
# the synthetic-data note is already the banner at the top of the page
checks = checks[~checks["message"].str.startswith("synthetic demo data")]
nb.say("validation_counts", n_problems=len(validation.problems),
       n_notes=len(checks) - len(validation.problems), n_recoded=len(validation.recoded))
if len(checks):
    display(report.table(checks, language=language, verbatim=["message"], values=["kind"],
                         footnotes=[nb.text("note_messages_verbatim")]))
if validation.recoded:
    recoded = pd.DataFrame(validation.recoded).head(30)
    display(report.table(recoded, language=language, verbatim=list(recoded.columns),
                         labels={c: c for c in recoded.columns},
                         title=nb.text("tab_recoded")))

# %%
nb.say("h_coverage")

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
    gaps = (missing.groupby("unit_code")["year"].apply(lambda s: report.join_list(map(str, s), language))
            .rename("missing_years").reset_index())
    gaps.insert(1, "name", gaps["unit_code"].map(names))
    display(report.table(gaps, language=language, title=nb.text("tab_missing")))
else:
    nb.say("all_complete", n_unit_years=len(grid))
per_year = panel.groupby("year")[outcomes].count().T.reset_index(names="indicator")
per_year["indicator"] = [report.t(c, language) for c in per_year["indicator"]]
per_year.columns = [str(c) for c in per_year.columns]
display(report.table(per_year, language=language, formats={c: "int" for c in per_year.columns[1:]},
                     title=nb.text("tab_values_by_year")))

# %%
nb.say("h_timing")

# %%
report.timing_heatmap(panel, unit="unit_code", time="year", treatment="first_unit", label=name_col,
                      language=language, only_treated=True)
plt.show()

# %%
from evalkit.data.masters import unit_master

# the panel names prefectures in Chinese; the unit master gives each name in the report language
prefecture_name = (unit_master().drop_duplicates("prefecture_zh")
                   .set_index("prefecture_zh", drop=False)[f"prefecture_{language}"])
subsidy = panel.groupby(["prefecture_zh", "year"], as_index=False)["tech_subsidy_wan"].mean()
subsidy["prefecture"] = subsidy["prefecture_zh"].map(prefecture_name)
report.timing_heatmap(subsidy, unit="prefecture", time="year", treatment="tech_subsidy_wan", language=language,
                      title=nb.text("fig_subsidy_by_prefecture"))
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
                     title=nb.text("tab_first_unit_cohorts")))

# %%
nb.say("h_trends")

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

# %%
nb.say("h_map")

# %%
latest = panel[(panel["year"] == last_year) & (panel["in_weifang"] == 1)]
latest = latest.assign(revenue_yi=latest["revenue_wan"] / 10_000)[["unit_code", name_col, "revenue_yi"]]
report.unit_map(latest, "revenue_yi", name_col=name_col, language=language,
                title=f"{report.t('revenue_yi', language)} · {last_year}")
plt.show()

# %%
records = [
    {"evaluation": nb.text("headline_coverage"), "estimator": nb.text("headline_unit_years"),
     "estimate": int(total["complete"]), "note": f"{first_year}-{last_year}"},
    {"evaluation": nb.text("headline_problems"), "estimator": "",
     "estimate": len(validation.problems)},
    {"evaluation": nb.text("headline_missing"), "estimator": "",
     "estimate": int(total["missing_cells"])},
]
box.update(report.key_facts_box([
    nb.text("facts_coverage", n_units=int(n_units), first_year=first_year, last_year=last_year,
            n_unit_years=int(total["complete"])),
    nb.text("facts_checks", n_problems=len(validation.problems), n_missing=int(total["missing_cells"])),
], language))
_ = report.save_headlines(output_dir, "00_data_audit", records,
                          title=nb.title,
                          extra={"units": int(n_units), "synthetic": synthetic})
