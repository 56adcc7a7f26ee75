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
n_draws: int = 200  # placebo draws for the SDID/SC/DiD standard errors and the SC placebo groups
seed: int = 20210514  # random seed of the placebo draws
mbar_max: float = 2.0  # largest relative-magnitude bound Mbar in the sensitivity analysis

# %%

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from evalkit import data, did, report, sensitivity, synth

nb = report.notebook.start(data_dir, year=year, language=language, page="10_pilot_zone")  # title, banner
panel, synthetic = nb.balanced(), nb.synthetic  # SC/SDID need every unit-year (units with gaps named)
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
nb.say("intro")


truth = nb.truth("pilot_zone")
start = int(panel.loc[panel["pilot_zone"] == 1, "year"].min())
treated_units = sorted(panel.loc[panel["pilot_zone"] == 1, "unit_code"].unique())
n_units = panel["unit_code"].nunique()
KW = dict(outcome=outcome, unit="unit_code", time="year", treatment="pilot_zone")
nb.say("sample", n_units=n_units, first_year=panel["year"].min(), last_year=panel["year"].max(),
       n_treated=len(treated_units), start=start, n_donors=n_units - len(treated_units))

# %%
nb.say("h_compare")

# %%
table, fits = synth.compare_estimators(panel, cov_type="placebo", n_draws=n_draws, seed=seed, **KW)
names = {"sdid": "SDID", "sc": "SC", "did": "DiD"}
show = table[["term", "estimate", "std_error", "conf_low", "conf_high", "p_value"]].copy()
show["term"] = show["term"].map(names)
if truth is not None:
    show["truth"] = truth["att"]
display(report.table(show, language=language, digits=4))
if truth is not None:
    nb.say("truth", att=truth["att"])

# %%
sdid = fits["sdid"]
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [3, 2]})
sdid.plot("trajectories", ax=axes[0], language=language)
# legend below the panel so it never covers the trajectories
axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
axes[0].set_title(nb.text("fig_sdid_trajectories"))
axes[1].set_title(nb.text("fig_sdid_weights"))
donor_codes = sdid.weights["unit"].astype(str).tolist()
sdid.plot("weights", ax=axes[1], language=language, top=15,
          names=dict(zip(donor_codes, report.unit_names(donor_codes, language), strict=True)))
report.mark_synthetic(fig)
fig.tight_layout()
plt.show()

# %%
nb.say("h_placebo")

# %%
sc = synth.synthetic_control(panel, method="outcomes", statistic="estimate", n_draws=n_draws,
                             seed=seed, **KW)
fake = int(panel["year"].min()) + (start - int(panel["year"].min())) // 2 + 1
in_time = sc.in_time_placebo(fake)
pt = sc.placebo_table
pre_treated = float(pt.loc[pt["treated"], "pre_rmspe"].iloc[0])
pre_groups = float(pt.loc[~pt["treated"], "pre_rmspe"].median())
p_floor = 1 / (n_draws + 1)
nb.say("placebo_results", estimate=sc.estimate, p_gap=sc.extra["p_estimate"], p_ratio=sc.extra["p_ratio"],
       fake_start=fake, in_time=in_time.estimate, p_in_time=in_time.pvalue)
nb.say("placebo_reading", p_gap=sc.extra["p_estimate"], n_draws=n_draws, p_floor=p_floor,
       how_many=nb.text("placebo_none" if sc.extra["p_estimate"] <= p_floor + 1e-12 else "placebo_few"),
       p_ratio=sc.extra["p_ratio"], n_treated=len(treated_units), pre_groups=pre_groups,
       pre_treated=pre_treated)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
sc.plot("spaghetti", ax=axes[0], language=language)
sc.plot("placebo", ax=axes[1], language=language)
axes[0].set_title(nb.text("fig_sc_gaps"))
axes[1].set_title(nb.text("fig_sc_placebo"))
report.mark_synthetic(fig)
fig.tight_layout()
plt.show()

# %%
per_unit = sc.per_unit.copy()
if "unit" in per_unit.columns:  # unit names beside the codes
    unit_names = panel.groupby("unit_code")[f"name_{language}"].first()
    per_unit.insert(1, "name", per_unit["unit"].map(unit_names))
# a unit whose pre-period fit is far worse than the others' has no credible synthetic control
POOR_FIT_FACTOR = 5  # pre-period RMSPE above this many times the median of Weifang's units
poor = per_unit["pre_rmspe"] > POOR_FIT_FACTOR * per_unit["pre_rmspe"].median()
per_unit["note"] = [nb.text("poor_fit") if bad else "" for bad in poor]
nb.say("h_per_unit")
display(report.table(per_unit, language=language, digits=4))
if poor.any():
    nb.say("poor_fit_rule", factor=POOR_FIT_FACTOR, n=int(poor.sum()))

# %%
nb.say("h_sensitivity")

# %%
es_data = panel.assign(
    pilot_cohort=np.where(panel.groupby("unit_code")["pilot_zone"].transform("max") == 1, start, 0))
es = did.event_study(es_data, outcome=outcome, unit="unit_code", time="year", cohort="pilot_cohort")
pre = es.pretrend_test()
post_times = [e for e in es.labels["event_time"] if e >= 0]
l_avg = np.full(len(post_times), 1 / len(post_times))
rm = sensitivity.honest_did(es, restriction="relative_magnitude",
                            m=list(np.linspace(0, mbar_max, 5)), l_vec=l_avg)
sd = sensitivity.honest_did(es, restriction="smoothness", l_vec=l_avg,
                            m=list(np.linspace(0, float(es.std_errors.iloc[-1]), 5)))
breakdown_rm = rm.breakdown(tol=0.05)
power = sensitivity.pretrend_power(es, power=[0.5, 0.8])
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
es.plot(ax=axes[0], language=language)
rm.plot(ax=axes[1], language=language)
sd.plot(ax=axes[2], language=language)
axes[0].set_title(nb.text("fig_event_study"))
axes[1].set_title(nb.text("fig_relative_magnitudes"))
axes[2].set_title(nb.text("fig_smoothness"))
report.mark_synthetic(fig)
fig.tight_layout()
plt.show()
nb.say("sensitivity_results", pretrend_p=pre["p_value"], breakdown=breakdown_rm,
       slope50=power["slope"].iloc[0], slope80=power["slope"].iloc[1])
display(report.table(rm.to_frame()[["term", "conf_low", "conf_high"]], language=language, digits=4))

# %%
nb.say("h_spillovers")

# %%
neighbours = data.weifang_neighbours()
no_border = panel[~panel["unit_code"].isin(neighbours["unit_code"])].copy()
no_border.attrs.update(panel.attrs)
spill = {key: fn(no_border, cov_type="none", **KW) for key, fn in
         (("sdid", synth.synthetic_did), ("did", lambda d, **k: synth.synthetic_did(d, estimator="did", **k)))}
spill_table = pd.DataFrame([
    {"estimator": names[k], "estimate": fits[k].estimate, "estimate_no_border": spill[k].estimate,
     "change": spill[k].estimate - fits[k].estimate}
    for k in spill])
nb.say("spillover_sample", n_neighbours=len(neighbours),
       neighbours=report.join_list(report.unit_names(neighbours["unit_code"], language), language))
spill_show = spill_table.assign(
    change=[nb.text("change_with_share", change=c, share=c / e)
            for c, e in zip(spill_table["change"], spill_table["estimate"], strict=True)])
display(spill_show.round(4).rename(columns={
    "estimator": report.t("estimator", language), "estimate": report.t("estimate", language),
    "estimate_no_border": nb.text("col_without_border"),
    "change": nb.text("col_change")}).style.hide(axis="index").format(precision=4))

# %%
nb.say("h_headlines")

# %%
bias80 = power.loc[np.isclose(power["power"], 0.8), [c for c in power.columns if c.startswith("bias_e")]]
common = dict(outcome=outcome, pretrend_p=pre["p_value"], n_clusters=n_units, n_treated=len(treated_units),
              pretrend_power_bias=float(bias80.to_numpy().mean()) if bias80.size else None,
              truth=truth["att"] if truth is not None else None)
records = [
    report.headline("pilot_zone", names[key], res, assumption="synthetic_comparison", language=language,
                    preferred=key == "sdid", breakdown=breakdown_rm if key in ("sdid", "did") else None,
                    spillover_estimate=spill["sdid"].estimate if key == "sdid" else None, **common)
    for key, res in fits.items()
]
records.append(report.headline(
    "pilot_zone", nb.text("estimator_sdid_no_border"),
    spill["sdid"], assumption="synthetic_comparison", language=language, **common))
shown = pd.DataFrame(records)[["estimator", "estimate", "conf_low", "conf_high", "p_value"]]
display(report.table(shown, language=language, digits=4))
box.update(report.conclusion_box(records, "pilot_zone", language))
report.save_headlines(output_dir, "10_pilot_zone", records,
                      title=nb.title);
