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

page_title = "因素法资金的效应" if language == "zh" else "Effects of factor-method funds"
display(Markdown(f"# {page_title}"))  # the title in the pack's language only
nb = report.notebook.start(data_dir, year=year, language=language)
panel, synthetic, zh = nb.balanced(), nb.synthetic, nb.zh  # dCDH needs every unit-year (units with gaps named)
box = display(Markdown(""), display_id=True)  # the conclusion box, filled in at the end
display(Markdown("## " + report.t("appendix_title", language)))
display(Markdown(
    "因素法资金 = 公式金额 + 相机追加。追加部分可能流向当年经营困难的单位，因此直接回归（OLS）会低估资金效应。"
    "公式按上年（滞后）因素数据与当年权重、总额计算出“按公式应得金额”，可作为实际到位资金的工具变量。"
    "本页论证的识别假设是：只有财政部门逐年确定的权重与总额是外生冲击（Borusyak–Hull 2023）；滞后因素水平本身"
    "可能与各单位的经营状况相关，不作外生假定。因此首选估计为“再中心化”工具变量（工具变量减去其在这些冲击分布下的"
    "期望）；工具变量偏弱时以 Anderson–Rubin 置信集为准。未再中心化的公式工具变量依赖更强的假设，仅作对照。"
    if zh else
    "Factor-method money = formula amount + a discretionary top-up that may go to units doing badly this year, "
    "so OLS is biased. The formula amount computed from lagged factors with each year's weights and total "
    "instruments the money received. The identifying assumption argued here: only the bureau's yearly weights "
    "and totals are exogenous shocks (Borusyak and Hull 2023); the lagged factor levels may be related to the "
    "units' fortunes and are not assumed exogenous. The preferred estimate is therefore the recentred "
    "instrument (minus its expectation over those shocks), read through the Anderson–Rubin set when the "
    "instrument is weak. The formula instrument without recentring rests on a stronger assumption and is shown "
    "for comparison only."))
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
     f"\n\n**外生性假设**：{report.t('assumption_shock_exogeneity', language)}。" if zh else
     f"**Sample**: Weifang's {sample.unit_code.nunique()} units, {first_year}–{year}, "
     f"{len(sample)} unit-years.\n\n**Exogeneity**: {assumption}"))

# %%
display(Markdown('## 公式金额、期望与实际资金'
                 if zh else
                 '## Formula amount, its expectation and the money received'))

# %%
shown = sample[["unit_code", "name_zh" if zh else "name_en", "year", "factor_fund_wan", "z_wan", "ez_wan",
                "z_recentred_wan"]].round(1)
display(report.table(shown.head(16), language=language, digits=1))

# %%
display(Markdown('## 三种估计\n\n1. 朴素 OLS（单位、年份固定效应）\n2. 公式工具变量\n3. 再中心化工具变量'
                 if zh else
                 '## Three estimates\n\n1. naive OLS with unit and year effects\n2. formula IV (z)\n3. recentred IV (z − E[z])'))

# %%
common = dict(outcome=outcome, endog="factor_fund_wan", unit="unit_code", time="year",
              endog_scale=endog_scale)
fit_formula = iv.panel_iv(sample, instrument="z_wan", **common)
fit_recentred = iv.panel_iv(sample, instrument="z_wan", expected_instrument="ez_wan",
                            shock_assumption=assumption, **common)

# %%
rows = []
for name, r_ in [("OLS", fit_formula.ols), ("IV: z", fit_formula), ("IV: z − E[z]", fit_recentred)]:
    lo, hi = r_.conf_int()
    rows.append({"estimator": name, "estimate": r_.estimate, "std_error": r_.std_error,
                 "conf_low": lo, "conf_high": hi,
                 "F_eff": getattr(r_, "effective_f", None),
                 "AR": r_.ar_text() if hasattr(r_, "ar_text") else ""})
table = pd.DataFrame(rows)
display(report.table(table, language=language, digits=4,
                     labels={"F_eff": "有效 F" if zh else "Effective F",
                             "AR": "Anderson–Rubin 置信集" if zh else "Anderson–Rubin set"}))

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
               f"Effect of {endog_scale:g} {report.unit_of_measure('万元', language)} on {report.t(outcome, language)}")
fig.tight_layout()
report.mark_synthetic(fig)
plt.show()

# %%
display(Markdown('## 第一阶段与简约式\n\n有效 F 统计量（Montiel Olea–Pflueger）与其临界值（最坏情形偏误 10%）；Anderson–Rubin 置信集对弱工具稳健。'
                 if zh else
                 "## First stage and reduced form\n\nEffective F statistic (Montiel Olea–Pflueger) and its critical "
                 "value (10% worst-case bias); the Anderson–Rubin set is robust to weak instruments."))

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

# %%
display(Markdown("## 稳健性：把年度资金额当作可开可关的连续处理\n\nde Chaisemartin–D'Haultfœuille（2024）事件研究：比较资金额发生变化的单位与资金额保持为 0 的单位（潍坊以外）。注意：对照单位同时不属于试验区，试验区自身的效应会混入，结果仅作描述性对照。"
                 if zh else
                 '## Robustness: yearly amounts as a non-absorbing treatment\n\ndCDH (2024) event study comparing units whose amounts change with units that stay at zero (outside Weifang). Caution: those comparison units are also outside the pilot zone, whose own effect is mixed in, so this is a descriptive check only.'))

# %%
dyn_sample = panel[panel["year"] <= year].assign(fund_per_scale=lambda d: d["factor_fund_wan"] / endog_scale)
dyn_sample.attrs.update(panel.attrs)
n_eff = int(dyn_sample.loc[dyn_sample["fund_per_scale"] > 0, "year"].nunique())
dyn = did.dcdh(dyn_sample, outcome=outcome, unit="unit_code", time="year", treatment="fund_per_scale",
               effects=max(1, n_eff), placebo=3, normalized=True)
fig, ax = plt.subplots(figsize=(7, 4))
dyn.plot(ax=ax, language=language)
ax.set_title("dCDH 事件研究（每单位剂量，归一化）" if zh else "dCDH event study (normalised, per unit of dose)")
report.mark_synthetic(fig)
plt.show()

# %%
common = dict(outcome=outcome, effect_scale=endog_scale, outcome_mean=float(sample["revenue_wan"].mean()),
              n_clusters=sample["unit_code"].nunique(),
              truth=truth["beta_per_1000_wan"] if truth else None)


def _iv_fields(r_):
    return dict(f_eff=r_.effective_f, f_critical=r_.f_critical,
                ar_intervals=[list(iv_) for iv_ in r_.ar_intervals])


records = [
    report.headline("factor_fund", "2SLS, z − E[z] (Borusyak–Hull)", fit_recentred, assumption="shock_exogeneity",
                    preferred=True, language=language, **_iv_fields(fit_recentred), **common),
    report.headline("factor_fund", "2SLS, z", fit_formula, assumption="formula_exogeneity", language=language,
                    **_iv_fields(fit_formula), **common),
    report.headline("factor_fund", "OLS", fit_formula.ols, assumption="no_selection", language=language, **common),
    report.headline("factor_fund", "dCDH (2024)", dyn.average_total_effect, assumption="parallel_trends",
                    language=language, **{**common, "n_clusters": None}),
]
box.update(report.conclusion_box(records, "factor_fund", language))
report.save_headlines(output_dir, "40_fund_allocation_effects", records,
                      title=page_title);
