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
data_dir: str = "../data_raw/demo"  # folder with county_panel.csv and allocation/
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)
outcome: str = "log_revenue"  # outcome column
endog_scale: float = 1000.0  # effect per this many CNY 10k (wan yuan)
recentre_method: str = "permute"  # permute (exact over observed shocks) or dirichlet
n_draws: int = 200  # draws for recentre_method = dirichlet
shocks: str = "weights,total"  # which parts of the rule are exogenous shocks

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from evalkit import data, did, iv, report

nb = report.notebook.start(data_dir, year=year, language=language, page="40_fund_allocation_effects")  # title, banner
panel, synthetic = nb.balanced(), nb.synthetic  # dCDH needs every unit-year (units with gaps named)
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
nb.say("intro")
alloc_dir = Path(data_dir) / "allocation"
specs = {y: s for y, s in iv.load_specs(alloc_dir).items() if y <= year}
instr = iv.recentred_instrument(specs, alloc_dir / "factors.csv", method=recentre_method,
                                n_draws=n_draws, shocks=tuple(s.strip() for s in shocks.split(",")))
assumption = instr.attrs["iv_shock_assumption"]  # kept in the fit's notes (English, for the library)
assumption_key, assumption_words = report.shock_assumption(instr.attrs, language)
first_year = min(specs)
sample = panel[(panel["in_weifang"] == 1) & panel["year"].between(first_year, year)]
sample = sample.merge(instr, on=["unit_code", "year"], how="left", validate="one_to_one")
sample.attrs.update(panel.attrs)
truth = nb.truth("factor_fund")
nb.say("sample", n_units=sample.unit_code.nunique(), first_year=first_year, year=year, n_rows=len(sample),
       assumption=assumption_words)

# %%
nb.say("h_amounts", n_units=sample["unit_code"].nunique(), n_rows=len(sample))

# %%
shown = sample[["unit_code", f"name_{language}", "year", "factor_fund_wan", "z_wan", "ez_wan",
                "z_recentred_wan"]].round(1)
display(report.table(shown[shown["unit_code"].isin(shown["unit_code"].unique()[:4])], language=language,
                     digits=1))

# %%
nb.say("h_estimates")

# %%
common = dict(outcome=outcome, endog="factor_fund_wan", unit="unit_code", time="year",
              endog_scale=endog_scale)
fit_formula = iv.panel_iv(sample, instrument="z_wan", **common)
fit_recentred = iv.panel_iv(sample, instrument="z_wan", expected_instrument="ez_wan",
                            shock_assumption=assumption, **common)

# %%
def _iv_fields(r_):
    return dict(f_eff=r_.effective_f, f_critical=r_.f_critical,
                ar_intervals=[list(iv_) for iv_ in r_.ar_intervals])


rows = []
for name, r_ in [("OLS", fit_formula.ols), ("IV: z", fit_formula), ("IV: z − E[z]", fit_recentred)]:
    lo, hi = r_.conf_int()
    rows.append({"estimator": name, "estimate": r_.estimate, "std_error": r_.std_error,
                 "conf_low": lo, "conf_high": hi,
                 "F_eff": getattr(r_, "effective_f", None),
                 "AR": r_.ar_text() if hasattr(r_, "ar_text") else ""})
table = pd.DataFrame(rows)
display(report.table(table, language=language, digits=4,
                     labels={"F_eff": nb.text("col_f_eff"), "AR": nb.text("col_ar")}))
if report.verdict.weak_instrument(_iv_fields(fit_recentred)):  # the verdict's rule: say why the interval is wide
    nb.say("weak_iv_interval", low=table["conf_low"].iloc[-1], high=table["conf_high"].iloc[-1],
           f_eff=fit_recentred.effective_f, f_critical=fit_recentred.f_critical)

fig, ax = plt.subplots(figsize=(6.5, 3.5))
for i, r_ in enumerate(rows):
    ax.errorbar(r_["estimate"], i, xerr=[[r_["estimate"] - r_["conf_low"]], [r_["conf_high"] - r_["estimate"]]],
                fmt="o", capsize=4, color=f"C{i}")
if truth is not None:
    ax.axvline(truth["beta_per_1000_wan"], color="k", ls="--", lw=1, label=nb.text("legend_truth"))
    ax.legend(frameon=False)
ax.axvline(0, color="grey", lw=0.8)
ax.set_yticks(range(len(rows)), [r_["estimator"] for r_ in rows])
ax.set_xlabel(nb.text("axis_effect", scale=endog_scale, outcome=report.t(outcome, language),
                      unit=report.unit_of_measure(data.column(common["endog"]).unit, language)))
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()

# %%
nb.say("h_first_stage")

# %%
fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
fit_formula.plot_first_stage(ax=axes[0, 0], language=language)
fit_formula.plot_reduced_form(ax=axes[0, 1], language=language)
fit_recentred.plot_first_stage(ax=axes[1, 0], language=language)
fit_recentred.plot_reduced_form(ax=axes[1, 1], language=language)
for ax, lab in zip(axes[:, 0], ["z", "z − E[z]"], strict=True):
    ax.set_title(ax.get_title() + f" ({lab})")
for ax, lab in zip(axes[:, 1], ["z", "z − E[z]"], strict=True):
    ax.set_title(ax.get_title() + f" ({lab})")
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()
for name, r_ in [("z", fit_formula), ("z − E[z]", fit_recentred)]:
    nb.say("first_stage", instrument=name, f_eff=r_.effective_f, f_critical=r_.f_critical, ar=r_.ar_text())

# %%
if truth is not None:
    tv = truth["beta_per_1000_wan"]
    for name, r_ in [("OLS", fit_formula.ols), ("IV z", fit_formula), ("IV z − E[z]", fit_recentred)]:
        lo, hi = r_.conf_int()
        inside = lo <= tv <= hi
        nb.say("truth_check", estimator=name, estimate=r_.estimate, lo=lo, hi=hi, truth=tv,
               where=nb.text("truth_inside" if inside else "truth_outside"))

# %%
nb.say("h_dcdh")

# %%
dyn_sample = panel[panel["year"] <= year].assign(fund_per_scale=lambda d: d["factor_fund_wan"] / endog_scale)
dyn_sample.attrs.update(panel.attrs)
n_eff = int(dyn_sample.loc[dyn_sample["fund_per_scale"] > 0, "year"].nunique())
dyn = did.dcdh(dyn_sample, outcome=outcome, unit="unit_code", time="year", treatment="fund_per_scale",
               effects=max(1, n_eff), placebo=3, normalized=True)
fig, ax = plt.subplots(figsize=(7, 4))
dyn.plot(ax=ax, language=language)
ax.set_title(nb.text("fig_dcdh"))
report.mark_synthetic(fig)
plt.show()

# %%
common = dict(outcome=outcome, effect_scale=endog_scale, outcome_mean=float(sample["revenue_wan"].mean()),
              n_clusters=sample["unit_code"].nunique(),
              truth=truth["beta_per_1000_wan"] if truth else None)


records = [
    report.headline("factor_fund", "2SLS, z − E[z] (Borusyak–Hull)", fit_recentred, assumption=assumption_key,
                    preferred=True, language=language, **_iv_fields(fit_recentred), **common),
    report.headline("factor_fund", "2SLS, z", fit_formula, assumption="formula_exogeneity", language=language,
                    **_iv_fields(fit_formula), **common),
    report.headline("factor_fund", "OLS", fit_formula.ols, assumption="no_selection", language=language, **common),
    report.headline("factor_fund", "dCDH (2024)", dyn.average_total_effect, assumption="parallel_trends",
                    language=language, **{**common, "n_clusters": None}),
]
box.update(report.conclusion_box(records, "factor_fund", language))
report.save_headlines(output_dir, "40_fund_allocation_effects", records,
                      title=nb.title);
