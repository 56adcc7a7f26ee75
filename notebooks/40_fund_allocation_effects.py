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
# # 因素法资金的效应 · Effects of factor-method funds
# 因素法资金 = 公式金额 + 相机追加。追加部分可能流向当年经营困难的单位，因此直接回归（OLS）会低估资金效应。
# 公式按上年（滞后）因素数据与当年权重、总额计算出“按公式应得金额”，可作为实际到位资金的工具变量。
# 按 Borusyak–Hull（2023），只把财政局逐年的权重与总额视为外生冲击：把工具变量减去其在这些冲击分布下的
# 期望（重排各年的权重向量与总额后重算公式），得到“再中心化”工具变量。
#
# Factor-method money = formula amount + a discretionary top-up that may go to units doing badly
# this year, so OLS is biased. The formula amount computed from lagged factors with each year's
# weights and total instruments the money received. Following Borusyak and Hull (2023) only the
# bureau's yearly weights and totals are treated as exogenous shocks: the instrument is recentred
# by its expectation over those shocks (recomputing the formula with permuted yearly weight vectors
# and totals).

# %% tags=["parameters"]
year: int = 2025  # evaluation year (last year used)
data_dir: str = "../data_raw/demo"  # folder with county_panel.csv and allocation/
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save headlines)
outcome: str = "log_revenue"  # outcome column
endog_scale: float = 1000.0  # effect per this many 万元
recentre_method: str = "permute"  # permute (exact over observed shocks) or dirichlet
n_draws: int = 200  # draws for recentre_method = dirichlet
shocks: str = "weights,total"  # which parts of the rule are exogenous shocks

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from evalkit import did, iv, report

nb = report.notebook.start(data_dir, year=year, language=language)
panel, synthetic, zh = nb.balanced(), nb.synthetic, nb.zh  # dCDH needs every unit-year (units with gaps named)
alloc_dir = Path(data_dir) / "allocation"
specs = {y: s for y, s in iv.load_specs(alloc_dir).items() if y <= year}
instr = iv.recentred_instrument(specs, alloc_dir / "factors.csv", method=recentre_method,
                                n_draws=n_draws, shocks=tuple(s.strip() for s in shocks.split(",")))
assumption = instr.attrs["iv_shock_assumption"]
first_year = min(specs)
sample = panel[(panel["in_weifang"] == 1) & panel["year"].between(first_year, year)]
sample = sample.merge(instr, on=["unit_code", "year"], how="left", validate="one_to_one")
sample.attrs.update(panel.attrs)
truth = nb.truth("factor_fund")
display(Markdown(
    f"**样本**：潍坊 {sample.unit_code.nunique()} 个单位，{first_year}–{year} 年，共 {len(sample)} 个单位-年份。"
     f"\n\n**外生性假设**：{assumption}" if zh else
     f"**Sample**: Weifang's {sample.unit_code.nunique()} units, {first_year}–{year}, "
     f"{len(sample)} unit-years.\n\n**Exogeneity**: {assumption}"))

# %% [markdown]
# ## 公式金额、期望与实际资金 · Formula amount, its expectation and the money received

# %%
shown = sample[["unit_code", "name_zh" if zh else "name_en", "year", "factor_fund_wan", "z_wan", "ez_wan",
                "z_recentred_wan"]].round(1)
display(report.translate_columns(shown.head(16), language))

# %% [markdown]
# ## 三种估计 · Three estimates
# 1. 朴素 OLS（单位、年份固定效应）· naive OLS with unit and year effects;
# 2. 公式工具变量 · formula IV (z);
# 3. 再中心化工具变量 · recentred IV (z − E[z]).

# %%
common = dict(outcome=outcome, endog="factor_fund_wan", unit="unit_code", time="year",
              endog_scale=endog_scale)
fit_formula = iv.panel_iv(sample, instrument="z_wan", **common)
fit_recentred = iv.panel_iv(sample, instrument="z_wan", expected_instrument="ez_wan",
                            shock_assumption=assumption, **common)
print(fit_formula.summary())
print()
print(fit_recentred.summary())

# %%
rows = []
for name, r_ in [("OLS", fit_formula.ols), ("IV: z", fit_formula), ("IV: z − E[z]", fit_recentred)]:
    lo, hi = r_.conf_int()
    rows.append({"estimator": name, "estimate": r_.estimate, "std_error": r_.std_error,
                 "conf_low": lo, "conf_high": hi,
                 "F_eff": getattr(r_, "effective_f", None),
                 "AR": r_.ar_text() if hasattr(r_, "ar_text") else ""})
table = pd.DataFrame(rows)
display(report.translate_columns(table, language).round(4))

fig, ax = plt.subplots(figsize=(6.5, 3.5))
for i, r_ in enumerate(rows):
    ax.errorbar(r_["estimate"], i, xerr=[[r_["estimate"] - r_["conf_low"]], [r_["conf_high"] - r_["estimate"]]],
                fmt="o", capsize=4, color=f"C{i}")
if truth is not None:
    ax.axvline(truth["beta_per_1000_wan"], color="k", ls="--", lw=1, label="真值" if zh else "truth")
    ax.legend(frameon=False)
ax.axvline(0, color="grey", lw=0.8)
ax.set_yticks(range(len(rows)), [r_["estimator"] for r_ in rows])
ax.set_xlabel(f"每 {endog_scale:g} 万元资金对 {report.t(outcome, language)} 的效应" if zh else
               f"Effect of {endog_scale:g} 万元 on {report.t(outcome, language)}")
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()

# %% [markdown]
# ## 第一阶段与简约式 · First stage and reduced form
# 有效 F 统计量（Montiel Olea–Pflueger）与其临界值（最坏情形偏误 10%）；Anderson–Rubin 置信集对弱工具稳健。

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
    display(Markdown(
        f"- {name}：有效 F = {r_.effective_f:.1f}（临界值 {r_.f_critical:.1f}）；"
         f"AR 95% 置信集 {r_.ar_text()}" if zh else
         f"- {name}: effective F = {r_.effective_f:.1f} (critical value {r_.f_critical:.1f}); "
         f"Anderson–Rubin 95% set {r_.ar_text()}"))

# %%
if truth is not None:
    tv = truth["beta_per_1000_wan"]
    for name, r_ in [("OLS", fit_formula.ols), ("IV z", fit_formula), ("IV z − E[z]", fit_recentred)]:
        lo, hi = r_.conf_int()
        inside = lo <= tv <= hi
        display(Markdown(f"- {name}: {r_.estimate:.4f} [{lo:.4f}, {hi:.4f}]; "
                         + (f"真值 {tv} {'在区间内' if inside else '不在区间内'}" if zh else
                            f"truth {tv} {'inside' if inside else 'outside'}")))

# %% [markdown]
# ## 稳健性：把年度资金额当作可开可关的连续处理 · Robustness: yearly amounts as a non-absorbing treatment
# de Chaisemartin–D'Haultfœuille（2024）事件研究：比较资金额发生变化的单位与资金额保持为 0 的单位（潍坊以外）。
# 注意：对照单位同时不属于试验区，试验区自身的效应会混入，结果仅作描述性对照。
# dCDH (2024) event study comparing units whose amounts change with units that stay at zero (outside
# Weifang). Caution: those comparison units are also outside the pilot zone, whose own effect is
# mixed in, so this is a descriptive check only.

# %%
dyn_sample = panel[panel["year"] <= year].assign(fund_per_scale=lambda d: d["factor_fund_wan"] / endog_scale)
dyn_sample.attrs.update(panel.attrs)
n_eff = int(dyn_sample.loc[dyn_sample["fund_per_scale"] > 0, "year"].nunique())
dyn = did.dcdh(dyn_sample, outcome=outcome, unit="unit_code", time="year", treatment="fund_per_scale",
               effects=max(1, n_eff), placebo=3, normalized=True)
print(dyn.summary())
fig, ax = plt.subplots(figsize=(7, 4))
dyn.plot(ax=ax, language=language)
ax.set_title("dCDH 事件研究（每单位剂量，归一化）" if zh else "dCDH event study (normalised, per unit of dose)")
report.mark_synthetic(fig)
plt.show()

# %%
def _record(r_, estimator, note, ar=""):
    lo, hi = r_.conf_int()
    return {"evaluation": "factor_fund", "estimator": estimator, "estimate": r_.estimate,
            "conf_low": lo, "conf_high": hi, "p_value": r_.pvalue, "inference": r_.inference,
            "pretrend_p": None, "breakdown": None,
            "truth": truth["beta_per_1000_wan"] if truth else None, "note": note + ar}


# Weifang has only 16 units: panel_iv's default inference (cov_type="auto") is then the wild
# restricted efficient bootstrap, the only method that held its level in every design of evalkit's
# IV size study (benchmarks/README.md). The formula-instrument row with CR1 is kept for comparison.
fit_preferred = fit_formula
records = [
    {**_record(fit_preferred, "2SLS, formula instrument z (WRE wild bootstrap)",
               f"F_eff {fit_formula.effective_f:.1f} (crit {fit_formula.f_critical:.1f}); ",
               f"AR set {fit_formula.ar_text()}"), "preferred": True},
    _record(fit_formula.ols, "TWFE OLS (naive)", f"effect per {endog_scale:g} 万元; biased by top-ups"),
    _record(fit_formula.with_inference("clustered"), "2SLS, formula instrument z (CR1)",
            f"F_eff {fit_formula.effective_f:.1f} (crit {fit_formula.f_critical:.1f}); ",
            f"AR set {fit_formula.ar_text()}"),
    _record(fit_recentred, "2SLS, recentred instrument z − E[z] (Borusyak–Hull)",
            f"F_eff {fit_recentred.effective_f:.1f} (crit {fit_recentred.f_critical:.1f}); ",
            f"AR set {fit_recentred.ar_text()}; {assumption}"),
    _record(dyn.average_total_effect, "dCDH (2024) average total effect per unit of treatment",
            "descriptive: comparison units outside Weifang also lack the pilot zone; placebo p = "
            + (f"{dyn.placebo_test['p_value']:.3f}" if dyn.placebo_test else "n/a")),
]
report.save_headlines(output_dir, "40_fund_allocation_effects", records,
                      title="因素法资金效应 / Effects of factor-method funds")
