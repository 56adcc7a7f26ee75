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

nb = report.notebook.start(data_dir, year=year, language=language, page="30_first_unit_insurance")  # title, banner
panel, synthetic = nb.panel, nb.synthetic
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
nb.say("intro")
sample = panel if include_weifang else panel[panel["in_weifang"] == 0]
sample = sample.reset_index(drop=True)
sample.attrs.update(panel.attrs)
design = {"outcome": outcome, "unit": "unit_code", "time": "year"}
truth = None
t_all = nb.truth("first_unit") or {}
if t_all.get("outcome") == outcome and year == panel["year"].max():
    truth = t_all.get("full_sample" if include_weifang else "excluding_weifang")
first_year, last_year = int(sample["year"].min()), int(sample["year"].max())
nb.say("sample", n_units=sample["unit_code"].nunique(), first_year=first_year, last_year=last_year,
       weifang=nb.text("sample_with_weifang" if include_weifang else "sample_without_weifang"))

# %%
nb.say("h_timing")

# %%
first = sample.groupby("unit_code")["first_unit_year"].first()
first = first.where((first > 0) & (first <= last_year), 0)
cohorts = first.value_counts().sort_index()
cohorts.index = [nb.text("cohort_never") if i == 0 else int(i) for i in cohorts.index]
display(cohorts.rename(nb.text("col_units")).to_frame().T)
ax = report.timing_heatmap(sample, unit="unit_code", time="year", treatment="first_unit", language=language,
                           label=f"name_{language}", max_units=80)
plt.show()

# %%
nb.say("h_twfe")

# %%
tw = did.twfe(sample, treatment="first_unit", **design)
display(report.table(tw.to_frame(), language=language, digits=4))
bacon = did.bacon_decomposition(sample, treatment="first_unit", **design)
display(report.table(bacon.by_type, language=language, digits=4))
ax = bacon.plot(language=language)
plt.show()
bt = bacon.by_type.set_index("type")
bad_w = float(bt["weight"].get("Later vs Earlier Treated", 0.0))
nb.say("twfe_reading", estimate=tw.estimate, bad_weight=bad_w)

# %%
nb.say("h_robust")

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=UserWarning)
    cmp = did.compare(sample, estimators=["twfe", "event_study", "sun_abraham", "imputation", "callaway_santanna"],
                      cohort="first_unit_year", leads=leads, lags=lags,
                      cs_options={"control_group": control_group, "base_period": "universal"}, **design)
overall = cmp.overall()
display(report.table(overall[["estimator", "estimate", "std_error", "conf_low", "conf_high", "p_value"]],
                     language=language, digits=4))
nb.say("inference", n_units=sample["unit_code"].nunique())
truth_dyn = None
if truth is not None:
    truth_dyn = pd.Series({d["event_time"]: d["att"] for d in truth["dynamic"]})
    truth_dyn = truth_dyn[(truth_dyn.index >= -leads) & (truth_dyn.index <= lags)]
ax = cmp.plot(language=language, truth=truth_dyn)
plt.show()

# %%
nb.say("h_pretrends")

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
nb.say("cs_pretrend_test", leads=leads, n_min=n_g.min(), n_max=n_g.max(), n_pre_cells=n_pre_cells,
       cells_rank=cells_rank, n_cells=len(cells_pre))
for name, v in pre.items():
    p = v["p_value"]
    nb.say("pretrend_joint", estimator=name, df=v["df"], p=p,
           verdict=nb.text("pretrend_none" if p >= 0.10 else "pretrend_weak" if p >= 0.05 else "pretrend_strong"))

# %%
nb.say("h_sensitivity", leads=leads, lags=lags)

# %%
n_post = int((cs_dyn.labels["event_time"] >= 0).sum())
hd = sensitivity.honest_did(cs_dyn, restriction="relative_magnitude", m=[0, 0.5, 1, 1.5, 2],
                            l_vec=[1 / n_post] * n_post)
breakdown_cs = hd.breakdown(tol=0.01)
ax = hd.plot(language=language)
report.mark_synthetic(ax.figure)
plt.show()
display(report.table(hd.to_frame()[["term", "estimate", "conf_low", "conf_high"]], language=language, digits=4))
nb.say("sensitivity_reading", lags=lags, estimate=hd.original["estimate"], breakdown=breakdown_cs)

# %%
nb.say("h_truth")

# %%
if truth is not None:
    rows = [("TWFE", tw.estimate, truth["twfe_estimand"], nb.text("estimand_twfe")),
            ("Callaway–Sant'Anna", float(overall.set_index("estimator").loc["Callaway-Sant'Anna", "estimate"]),
             truth["simple"], nb.text("estimand_simple"))]
    display(report.table(pd.DataFrame(rows, columns=["estimator", "estimate", "truth", "estimand"]),
                         language=language, digits=4))
    nb.say("truth_reading", simple=truth["simple"], twfe_estimand=truth["twfe_estimand"])

# %%
nb.say("h_headlines")

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
                      title=nb.title)
display(report.table(pd.DataFrame(records)[
    ["estimator", "estimate", "conf_low", "conf_high", "p_value", "pretrend_p", "breakdown"]], language=language, digits=4))
