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

nb = report.notebook.start(data_dir, year=year, language=language,
                           page="20_tech_upgrade_subsidies")  # title, banner
panel, synthetic = nb.panel, nb.synthetic
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
nb.say("intro")
sample = panel if include_weifang else panel[panel["in_weifang"] == 0]
sample.attrs.update(panel.attrs)
truth = nb.truth("tech_subsidy")
units = sample.groupby("unit_code")[["tech_subsidy_start", "tech_subsidy_dose"]].first()
nb.say("sample", weifang=nb.text("sample_with_weifang" if include_weifang else "sample_without_weifang"),
       n_units=units.shape[0], first_year=sample["year"].min(), last_year=sample["year"].max(),
       n_subsidised=(units.tech_subsidy_start > 0).sum(), n_never=(units.tech_subsidy_start == 0).sum())

# %%
nb.say("h_dose_response")

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
fig.axes[0].set_title(nb.text("fig_att"))
fig.axes[1].set_title(nb.text("fig_acrt"))
for ax in fig.axes:
    ax.set_xlabel(nb.text("axis_dose"))
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()

# %%
binned = did.continuous(
    sample, outcome=outcome, unit="unit_code", time="year", dose="tech_subsidy_dose",
    cohort="tech_subsidy_start", method="binned", n_bins=n_bins, control_group=control_group,
    n_draws=n_draws, seed=20240601, twfe=False)
cols = ["dose", "estimate", "std_error", "conf_low", "conf_high", "conf_low_uniform", "conf_high_uniform"]
nb.say("h_binned")
display(report.table(binned.att_d.to_frame()[cols], language=language, digits=4))

# %%
nb.say("h_event_study")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
res.event_study.plot(ax=ax, language=language, uniform=False)
ax.set_title(nb.text("fig_event_study"))
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
report.mark_synthetic(fig)
plt.show()
pt = res.pretrend_test()
nb.say("pretrend_test", df=pt["df"], statistic=pt["statistic"], p=pt["p_value"])

# %%
nb.say("h_sensitivity")

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
    nb.say("no_breakdown")
if hd is not None:
    breakdown_att = hd.breakdown(tol=0.01)
    ax = hd.plot(language=language)
    report.mark_synthetic(ax.figure)
    plt.show()
    display(report.table(hd.to_frame()[["term", "estimate", "conf_low", "conf_high"]], language=language,
                         digits=4))

# %%
nb.say("h_twfe")

# %%
nw = res.twfe_negative_weights
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(res.twfe_weights["weight"], bins=40, color="C0")
ax.axvline(0, color="k", lw=0.8)
ax.set_xlabel(nb.text("axis_twfe_weight"))
ax.set_ylabel(nb.text("axis_unit_years"))
ax.set_title(nb.text("fig_negative_weights", n_negative=nw["n_negative"], n_cells=nw["n_cells"],
                     sum_negative=nw["sum_negative"]))
report.mark_synthetic(fig)
plt.show()
tw = res.twfe
nb.say("twfe_vs_acrt", twfe=tw.estimate, twfe_se=tw.std_error, acrt=res.acrt_overall.estimate,
       acrt_se=res.acrt_overall.std_error)

# %%
nb.say("h_truth")

# %%
if truth is not None:
    rows = [("ATT^o", res.att_overall, truth["att_avg"]), ("ACRT^o", res.acrt_overall, truth["acrt_avg"])]
    for name, r_, tv in rows:
        lo, hi = r_.conf_int()
        nb.say("truth_line", name=name, estimate=r_.estimate, low=lo, high=hi, truth=tv,
               where=nb.text("truth_inside" if lo <= tv <= hi else "truth_outside"))

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
                      title=nb.title);
