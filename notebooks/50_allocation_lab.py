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
# # 因素法资金分配实验室
# 由分配方案（YAML 文件）和因素数据表算出每个单位的分配额（精确到万元），再说明每个单位为什么得到这个数额、
# 结果对权重有多敏感、与上年相比如何变化、分配是否公平集中，以及不同方案的比较。全部计算由 `evalkit.allocation` 完成；
# 测算表（Excel）和测算说明随本页一起写入证据包，见本页末尾的链接。

# %% [markdown] tags=["lang-en"]
# # Factor-method allocation lab
# A draft allocation rule (a YAML spec) and the factor table give each unit's amount to the last
# 10,000 yuan; the page then shows why each unit gets what it gets, how sensitive the result is to the
# weights, how it changed from last year, how fair and concentrated it is, and how alternative rules
# compare. All computation is in `evalkit.allocation`; the allocation workbook (Excel) and its method
# note are written into the evidence pack and linked at the end of this page.

# %% tags=["parameters"]
year: int = 2025  # allocation year
data_dir: str = "../data_raw/demo"  # folder with allocation/factors.csv and allocation/spec_<year>.yaml
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder (empty: do not save)
spec: str = ""  # spec YAML (empty: <data_dir>/allocation/spec_<year>.yaml, else spec.yaml)
compare_specs: str = ""  # more spec YAML files to compare, separated by commas
factors: str = ""  # factor table CSV/XLSX (empty: <data_dir>/allocation/factors.csv)
last_year: str = ""  # last year's amounts CSV/XLSX (empty: recomputed from spec_<year-1>.yaml if present)
n_draws: int = 10000  # Monte Carlo weight draws

# %%
import html
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display

from evalkit import allocation, report
from evalkit.allocation.export import write_outputs

zh = language == "zh"
alloc_dir = Path(data_dir) / "allocation"
synthetic = (Path(data_dir) / "SYNTHETIC").exists()
report.use(language=language, synthetic=synthetic)
banner = report.synthetic_banner(language=language)
if banner is not None:
    display(banner)


def _spec_path(y: int) -> Path | None:
    for cand in (alloc_dir / f"spec_{y}.yaml", alloc_dir / "spec.yaml"):
        if cand.is_file():
            return cand
    return None


spec_path = Path(spec) if spec else _spec_path(year)
if spec_path is None:
    raise FileNotFoundError(f"No spec: pass spec=... or put spec_{year}.yaml in {alloc_dir}")
factor_table = allocation.read_factors(Path(factors) if factors else alloc_dir / "factors.csv")
current_spec = allocation.load_spec(spec_path)
factor_names = {f.id: f.name or f.id for f in current_spec.factors}
# names from the user's own files (fund, factors) stay as written in either language
report.allow_names([current_spec.fund, *factor_names.values()])
if current_spec.year != year:
    display(Markdown(f"> 注意：方案年度为 {current_spec.year} 年。" if zh
                     else f"> Note: the spec is for {current_spec.year}."))
prev_path = alloc_dir / f"spec_{current_spec.year - 1}.yaml"
previous = None
if not spec and not last_year and prev_path.is_file():
    previous = allocation.allocate(prev_path, factor_table)
last_amounts = allocation.read_last_year(last_year) if last_year else previous
alloc = allocation.allocate(current_spec, factor_table, last_year=last_amounts)
names = dict(zip(alloc.codes, report.unit_names(alloc.codes, language), strict=True))
for note in alloc.audit["notes"]:
    display(Markdown(f"> {note}"))


def named(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the unit's name in the report language in place of name_zh."""
    out = frame.drop(columns=[c for c in ("name_zh",) if c in frame.columns]).copy()
    total = report.t("total", language)
    out.insert(out.columns.get_loc("unit_code") + 1, "name",
               [names.get(c, total if str(c).strip() in ("合计", "total", "Total") else c) for c in out["unit_code"]])
    return out


# %% [markdown] tags=["lang-zh"]
# ## 分配结果

# %% [markdown] tags=["lang-en"]
# ## Allocation

# %%
units = alloc.table[alloc.table["unit_code"].isin(alloc.codes)]
result = named(units[["unit_code", "name_zh", "amount_wan", "last_year_wan", "change_wan", "change_pct"]])
total = {"unit_code": "", "name": report.t("total", language), "amount_wan": result["amount_wan"].sum(),
         "last_year_wan": result["last_year_wan"].sum(min_count=1), "change_wan": result["change_wan"].sum(min_count=1)}
result = pd.concat([result, pd.DataFrame([total])], ignore_index=True)
display(report.table(result, language=language, columns=["name", "amount_wan", "last_year_wan", "change_wan", "change_pct"],
                     total_last=True, title=f"{current_spec.fund} · {current_spec.year}",
                     missing_note=("“—”：没有上年金额可比。" if zh else "“—”: no last-year amount to compare with.")))
floor_units = [names.get(c, c) for c in alloc.bound_units["floor"]]
cap_units = [names.get(c, c) for c in alloc.bound_units["cap"]]
sep = "、" if zh else ", "
display(Markdown(
    (f"**可分配额** {report.format_money(alloc.core.t_alloc, language, unit='万元')} · "
     f"预留 {report.format_money(current_spec.reserve_wan, language, unit='万元')} · "
     f"触及保底：{sep.join(floor_units) or '无'} · 触及上限：{sep.join(cap_units) or '无'}") if zh else
    (f"**Amount to allocate** {report.format_money(alloc.core.t_alloc, language, unit='万元')} · "
     f"reserve {report.format_money(current_spec.reserve_wan, language, unit='万元')} · "
     f"at a floor: {sep.join(floor_units) or 'none'} · at a cap: {sep.join(cap_units) or 'none'}")
))

# %% [markdown] tags=["lang-zh"]
# ## 测算说明

# %% [markdown] tags=["lang-en"]
# ## Method note

# %%
sheet = html.escape(alloc.method_sheet(language))
# generated in the report language; notes quoted from the spec file stay as written there
display(HTML(f'<div style="white-space: pre-wrap; line-height: 1.6; font-size: 0.92em">'
             f'<span class="evalkit-verbatim">{sheet}</span></div>'))

# %% [markdown] tags=["lang-zh"]
# ## 因素贡献（精确 Shapley 分解，相对于均分基准）

# %% [markdown] tags=["lang-en"]
# ## Factor attribution (exact Shapley values, against an equal split)

# %%
attribution = allocation.shapley(alloc)
exact = attribution.check()
display(Markdown(
    ("各因素贡献之和等于“分配额 − 均分基准”：" + ("精确成立。" if exact else "**不成立**，请检查输入。")) if zh else
    ("The factors' contributions add up to the amount less the equal split: "
     + ("exactly." if exact else "**they do not**; check the inputs."))
))
alloc.plot_attribution(shapley_result=attribution, language=language)
plt.show()

# %% [markdown] tags=["lang-zh"]
# ## 年度变动分解
# 每个单位与上年相比的增减，拆成资金总额、基数、权重、各因素数据、调节系数、保底与上限、取整各部分的贡献（万元）。

# %% [markdown] tags=["lang-en"]
# ## Change from last year
# Each unit's change from last year, split into the parts due to the budget, the base, the weights,
# each factor's data, the coefficients, the floors and caps, and rounding (CNY 10k).

# %%
change = None


def component_label(c: str) -> str:
    if c.startswith("data:"):
        fid = c.split(":", 1)[1]
        return (f"因素数据：{factor_names.get(fid, fid)}" if zh else f"Data: {factor_names.get(fid, fid)}")
    return report.t(c, language)


if previous is not None and previous.codes == alloc.codes:
    change = allocation.decompose_change(previous, alloc)
    cols = ["unit_code", "name_zh", "previous_wan", *change.components, "change_wan", "amount_wan"]
    table = named(change.table[cols])
    display(report.table(table, language=language, columns=["name", "previous_wan", *change.components,
                                                            "change_wan", "amount_wan"],
                         labels={c: component_label(c) for c in change.components},
                         formats={c: "money" for c in change.components}))
    biggest = change.table.loc[change.table["change_wan"].abs().idxmax(), "unit_code"]
    alloc.plot_waterfall(biggest, change=change, language=language)
else:
    biggest = alloc.codes[0]
    alloc.plot_waterfall(biggest, language=language)
plt.show()

# %% [markdown] tags=["lang-zh"]
# ## 对权重的敏感性
# 在方案权重附近随机抽取权重（Dirichlet 分布），看每个单位分配额的波动和名次变化的概率；再把每个因素的权重
# 上下调 5 个百分点，以及逐个去掉一个因素，看分配额的变化（万元）。

# %% [markdown] tags=["lang-en"]
# ## Sensitivity to the weights
# Weights drawn at random around the rule's weights (Dirichlet), with each unit's spread of amounts
# and its chance of changing rank; then each factor's weight moved by 5 percentage points either way,
# and each factor left out in turn, with the change of each amount (CNY 10k).

# %%
mc = allocation.sensitivity.monte_carlo(alloc, n_draws=n_draws)
display(Markdown(
    f"狄利克雷集中参数 κ = {mc.settings['kappa']:g}，抽样 {mc.settings['n_draws']:,} 次，随机种子 {mc.settings['seed']}。"
    if zh else
    f"Dirichlet concentration κ = {mc.settings['kappa']:g}, {mc.settings['n_draws']:,} draws, seed {mc.settings['seed']}."
))
display(report.table(named(mc.summary), language=language,
                     columns=["name", "amount_wan", "mean", "sd", "prob_rank_change", "prob_floor", "prob_cap"],
                     formats={"mean": "money", "sd": "money"}))
perturbed = allocation.sensitivity.perturb_weights(alloc, delta=5)
if not perturbed.empty:
    wide = perturbed.pivot_table(index="unit_code", columns=["factor_id", "shift_pp"], values="change_wan")
    labels = {}
    for fid, shift in wide.columns:
        labels[(fid, shift)] = f"{factor_names.get(fid, fid)} {shift:+g}{' 个百分点' if zh else ' pp'}"
    wide.columns = [labels[c] for c in wide.columns]
    wide = named(wide.reset_index())
    display(report.table(wide, language=language, columns=["name", *labels.values()],
                         formats={v: "money" for v in labels.values()},
                         title="权重上下调 5 个百分点时的分配额变化（万元）" if zh
                         else "Change of each amount when a weight moves by 5 points (CNY 10k)"))
loo = allocation.sensitivity.leave_one_out(alloc)
if not loo.empty:
    wide = loo.pivot(index="unit_code", columns="dropped", values="change_wan")
    wide.columns = [factor_names.get(c, c) for c in wide.columns]
    cols = list(wide.columns)
    display(report.table(named(wide.reset_index()), language=language, columns=["name", *cols],
                         formats={c: "money" for c in cols},
                         title="去掉一个因素时的分配额变化（万元）" if zh
                         else "Change of each amount when one factor is left out (CNY 10k)"))

# %% [markdown] tags=["lang-zh"]
# ## 公平与集中度

# %% [markdown] tags=["lang-en"]
# ## Fairness and concentration

# %%
METRIC_FORMAT = {"hhi": lambda v: report.format_number(v, 0), "top3_share": report.format_share,
                 "effective_n": lambda v: report.format_number(v, 1), "max_min_ratio": lambda v: report.format_number(v, 1)}


def metric_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Metrics by row, each in its own format (shares in %, indices to three decimals)."""
    rows = []
    for name, values in frame.iterrows():
        fmt = METRIC_FORMAT.get(name, lambda v: report.format_number(v, 3))
        label = report.t(name, language) if name in report.LABELS else name
        rows.append({"metric": label, **{c: fmt(v) for c, v in values.items()}})
    return pd.DataFrame(rows)


fairness = allocation.metrics(alloc)
display(report.table(metric_table(fairness), language=language,
                     footnotes=["“因素数据变化”一列只用因素数据计算（不含基数、保底和上限）。" if zh else
                                "“Factor data”: computed from the factor data alone (no base, floors or caps)."]))
alloc.map(language=language)
plt.show()

# %% [markdown] tags=["lang-zh"]
# ## 方案对比

# %% [markdown] tags=["lang-en"]
# ## Scenario comparison

# %%
scenarios = [current_spec]
scenario_names = ["本方案" if zh else "This rule"]
if previous is not None and previous.spec.factor_ids == current_spec.factor_ids:
    scenarios.append(current_spec.with_weights({f.id: f.weight for f in previous.spec.factors}))
    scenario_names.append("沿用上年权重" if zh else "Last year's weights")
k = len(current_spec.factors)
equal = {f.id: 100 // k + (1 if j < 100 % k else 0) for j, f in enumerate(current_spec.factors)}
scenarios.append(current_spec.with_weights(equal))
scenario_names.append("等权重" if zh else "Equal weights")
for extra in [s.strip() for s in compare_specs.split(",") if s.strip()]:
    scenarios.append(allocation.load_spec(extra))
    scenario_names.append(Path(extra).stem)
report.allow_names(scenario_names)
comparison = allocation.compare(scenarios, factor_table, last_year=last_amounts, names=scenario_names)
amounts = named(comparison.amounts)
display(report.table(amounts, language=language, columns=["name", *scenario_names],
                     formats={n: "money" for n in scenario_names},
                     total_last=amounts["name"].iloc[-1] == report.t("total", language),
                     title="各方案的分配额（万元）" if zh else "Amounts under each rule (CNY 10k)"))
display(report.table(metric_table(comparison.metrics), language=language))

# %% [markdown] tags=["lang-zh"]
# ## 测算表与测算说明（随证据包提供）

# %% [markdown] tags=["lang-en"]
# ## Allocation workbook and method note (in the evidence pack)

# %%
DESCRIPTIONS = {".xlsx": ("测算表（Excel）", "allocation workbook (Excel)"), ".csv": ("分配表（CSV）", "allocation table (CSV)"),
                ".json": ("完整测算记录（JSON）", "full audit record (JSON)"), ".txt": ("测算说明", "method note"),
                ".pdf": ("测算说明（PDF）", "method note (PDF)"), ".docx": ("测算说明（Word）", "method note (Word)")}
if output_dir:
    out = Path(output_dir) / "allocation"
    write_outputs(alloc, out, stem=f"allocation_{current_spec.year}")
    comparison.amounts.to_csv(out / "comparison.csv", index=False)
    items = []
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):
            continue
        zh_text, en_text = DESCRIPTIONS.get(path.suffix, ("附件", "attachment"))
        if "测算说明" in path.name or "method" in path.name.lower():
            zh_text, en_text = "测算说明", "method note"
        if path.name == "comparison.csv":
            zh_text, en_text = "方案对比（CSV）", "scenario comparison (CSV)"
        href = f"allocation/{path.name}"
        items.append(f'<li><a href="{href}">{path.name}</a>：{zh_text}</li>' if zh
                     else f'<li><a href="{href}">{path.name}</a>: {en_text}</li>')
    report.allow_names([p.name for p in out.iterdir()])
    display(HTML("<ul>" + "".join(items) + "</ul>"))
else:
    display(Markdown("未保存（没有指定证据包文件夹）。" if zh else "Not saved (no evidence-pack folder given)."))

# %%
_ = report.save_headlines(
    output_dir,
    "50_allocation_lab",
    [],
    title="因素法资金分配实验室" if zh else "Factor-method allocation lab",
    extra={
        "year": current_spec.year, "fund": current_spec.fund, "t_alloc_wan": alloc.core.t_alloc,
        "sum_equals_t_alloc": sum(alloc.amounts.values()) == alloc.core.t_alloc,
        "inputs_sha256": alloc.inputs_hash,
        "floor_bound": alloc.bound_units["floor"], "cap_bound": alloc.bound_units["cap"],
        "gini": float(fairness.loc["gini_amount", "this_year"]),
        "hhi": float(fairness.loc["hhi", "this_year"]),
        "max_prob_rank_change": float(mc.summary["prob_rank_change"].max()),
        "amounts": dict(alloc.amounts),
        "summary": [
            (f"{current_spec.fund} {current_spec.year}：分配 {alloc.core.t_alloc:,} 万元，"
             f"{len(alloc.amounts)} 个单位，合计{'相符' if sum(alloc.amounts.values()) == alloc.core.t_alloc else '不符'}")
            if zh else
            (f"{current_spec.fund} {current_spec.year}: CNY {alloc.core.t_alloc:,}0k to {len(alloc.amounts)} units, "
             f"total {'exact' if sum(alloc.amounts.values()) == alloc.core.t_alloc else 'MISMATCH'}"),
            (f"基尼系数 {float(fairness.loc['gini_amount', 'this_year']):.3f} · "
             f"赫芬达尔指数 {float(fairness.loc['hhi', 'this_year']):.0f}") if zh else
            (f"Gini {float(fairness.loc['gini_amount', 'this_year']):.3f} · "
             f"HHI {float(fairness.loc['hhi', 'this_year']):.0f}"),
        ],
    },
)
