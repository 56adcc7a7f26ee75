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
# # 因素法资金分配实验室 · Factor-method allocation lab
# A draft allocation rule (分配方案, YAML) and the factor table (因素数据表) give the amounts of
# each unit to the last 万元; the notebook then shows why each unit gets what it gets, how
# sensitive the result is to the weights, how it changed from last year, how fair it is, and how
# alternative rules compare. All computation is in `evalkit.allocation`.

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
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

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
if current_spec.year != year:
    display(Markdown(f"> {'注意：方案年度为' if zh else 'Note: the spec is for'} {current_spec.year}"))
prev_path = alloc_dir / f"spec_{current_spec.year - 1}.yaml"
previous = None
if not spec and not last_year and prev_path.is_file():
    previous = allocation.allocate(prev_path, factor_table)
last_amounts = allocation.read_last_year(last_year) if last_year else previous
alloc = allocation.allocate(current_spec, factor_table, last_year=last_amounts)
for note in alloc.audit["notes"]:
    display(Markdown(f"> {note}"))

# %% [markdown]
# ## 分配结果 · Allocation table

# %%
display(alloc.summary_table(language).style.hide(axis="index").format(precision=2, na_rep="—",
                                                                     thousands=","))
display(Markdown(("**可分配额** " if zh else "**T_alloc** ") + f"{alloc.core.t_alloc:,} 万元 · "
                 + ("预留 " if zh else "reserve ") + f"{current_spec.reserve_wan:,} 万元 · "
                 + ("触及保底：" if zh else "at a floor: ") + (", ".join(alloc.bound_units["floor"]) or "—")
                 + " · " + ("触及上限：" if zh else "at a cap: ")
                 + (", ".join(alloc.bound_units["cap"]) or "—")))

# %% [markdown]
# ## 测算说明 · Method sheet

# %%
display(Markdown("```\n" + alloc.method_sheet(language) + "```"))

# %% [markdown]
# ## 因素贡献 · Factor attribution (exact Shapley, vs an equal split)

# %%
attribution = allocation.shapley(alloc)
display(Markdown(("Shapley 效率性（各因素贡献之和 = 分配额 − 均分基准）精确成立：" if zh
                  else "Shapley efficiency (contributions add up exactly): ")
                 + str(attribution.check())))
alloc.plot_attribution(shapley_result=attribution, language=language)
plt.show()

# %% [markdown]
# ## 年度变动分解 · Change from last year

# %%
change = None
if previous is not None and previous.codes == alloc.codes:
    change = allocation.decompose_change(previous, alloc)
    cols = ["unit_code", "name_zh", "previous_wan", *change.components, "change_wan", "amount_wan"]
    display(change.table[cols].style.hide(axis="index").format(precision=1, thousands=","))
    biggest = change.table.loc[change.table["change_wan"].abs().idxmax(), "unit_code"]
    alloc.plot_waterfall(biggest, change=change, language=language)
else:
    biggest = alloc.codes[0]
    alloc.plot_waterfall(biggest, language=language)
plt.show()

# %% [markdown]
# ## 敏感性 · Sensitivity to the weights

# %%
mc = allocation.sensitivity.monte_carlo(alloc, n_draws=n_draws)
display(Markdown(f"Dirichlet κ={mc.settings['kappa']:g}, N={mc.settings['n_draws']:,}, "
                 f"seed={mc.settings['seed']}"))
display(mc.summary.style.hide(axis="index").format(precision=3, thousands=","))
perturbed = allocation.sensitivity.perturb_weights(alloc, delta=5)
if not perturbed.empty:
    display(perturbed.pivot_table(index="unit_code", columns=["factor_id", "shift_pp"],
                                  values="change_wan"))
loo = allocation.sensitivity.leave_one_out(alloc)
if not loo.empty:
    display(loo.pivot(index="unit_code", columns="dropped", values="change_wan"))

# %% [markdown]
# ## 公平与集中度 · Fairness and concentration

# %%
fairness = allocation.metrics(alloc)
display(fairness.style.format(precision=4))
alloc.map(language=language)
plt.show()

# %% [markdown]
# ## 方案对比 · Scenario comparison

# %%
scenarios = [current_spec]
labels = ["本方案" if zh else "this rule"]
if previous is not None and previous.spec.factor_ids == current_spec.factor_ids:
    scenarios.append(current_spec.with_weights({f.id: f.weight for f in previous.spec.factors}))
    labels.append("沿用上年权重" if zh else "last year's weights")
k = len(current_spec.factors)
equal = {f.id: 100 // k + (1 if j < 100 % k else 0) for j, f in enumerate(current_spec.factors)}
scenarios.append(current_spec.with_weights(equal))
labels.append("等权重" if zh else "equal weights")
for extra in [s.strip() for s in compare_specs.split(",") if s.strip()]:
    scenarios.append(allocation.load_spec(extra))
    labels.append(Path(extra).stem)
comparison = allocation.compare(scenarios, factor_table, last_year=last_amounts, names=labels)
display(comparison.amounts.style.hide(axis="index").format(thousands=","))
display(comparison.metrics.style.format(precision=4))

# %%
if output_dir:
    out = Path(output_dir) / "allocation"
    write_outputs(alloc, out, stem=f"allocation_{current_spec.year}")
    comparison.amounts.to_csv(out / "comparison.csv", index=False)
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
            (f"{current_spec.fund} {current_spec.year}: {alloc.core.t_alloc:,} 万元 to {len(alloc.amounts)} units, "
             f"total {'exact' if sum(alloc.amounts.values()) == alloc.core.t_alloc else 'MISMATCH'}"),
            f"Gini {float(fairness.loc['gini_amount', 'this_year']):.3f} · HHI {float(fairness.loc['hhi', 'this_year']):.0f}",
        ],
    },
)
