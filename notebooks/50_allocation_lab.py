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

alloc_dir = Path(data_dir) / "allocation"
nb = report.notebook.open_page(data_dir, page="50_allocation_lab", language=language)  # title, banner
box = display(Markdown(""), display_id=True)  # the key facts, filled in at the end
synthetic = nb.synthetic
nb.say("intro")


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
    nb.say("spec_year_note", spec_year=current_spec.year)
prev_path = alloc_dir / f"spec_{current_spec.year - 1}.yaml"
previous = None
if not spec and not last_year and prev_path.is_file():
    previous = allocation.allocate(prev_path, factor_table)
last_amounts = allocation.read_last_year(last_year) if last_year else previous
alloc = allocation.allocate(current_spec, factor_table, last_year=last_amounts)
names = dict(zip(alloc.codes, report.unit_names(alloc.codes, language), strict=True))
for note in alloc.audit["notes"]:
    display(Markdown(f"> {note}"))


# the allocation table ends with its total row: that row's code marks the total rows of every table
TOTAL_CODES = {str(alloc.table["unit_code"].iloc[-1]), "total", "Total"}


def named(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the unit's name in the report language in place of name_zh."""
    out = frame.drop(columns=[c for c in ("name_zh",) if c in frame.columns]).copy()
    total = report.t("total", language)
    out.insert(out.columns.get_loc("unit_code") + 1, "name",
               [names.get(c, total if str(c).strip() in TOTAL_CODES else c) for c in out["unit_code"]])
    return out


# %%
nb.say("h_allocation")


# %%
units = alloc.table[alloc.table["unit_code"].isin(alloc.codes)]
result = named(units[["unit_code", "name_zh", "amount_wan", "last_year_wan", "change_wan", "change_pct"]])
total = {"unit_code": "", "name": report.t("total", language), "amount_wan": result["amount_wan"].sum(),
         "last_year_wan": result["last_year_wan"].sum(min_count=1), "change_wan": result["change_wan"].sum(min_count=1)}
result = pd.concat([result, pd.DataFrame([total])], ignore_index=True)
display(report.table(result, language=language, columns=["name", "amount_wan", "last_year_wan", "change_wan", "change_pct"],
                     total_last=True, title=f"{current_spec.fund} · {current_spec.year}",
                     missing_note=nb.text("note_no_last_year")))
floor_units = [names.get(c, c) for c in alloc.bound_units["floor"]]
cap_units = [names.get(c, c) for c in alloc.bound_units["cap"]]
nb.say("bounds", t_alloc=alloc.core.t_alloc, reserve=current_spec.reserve_wan,
       floor_units=report.join_list(floor_units, language) or nb.text("no_units"),
       cap_units=report.join_list(cap_units, language) or nb.text("no_units"))

# %%
nb.say("h_method_note")

# %%
sheet = html.escape(alloc.method_sheet(language))
# generated in the report language; notes quoted from the spec file stay as written there
display(HTML(f'<div style="white-space: pre-wrap; line-height: 1.6; font-size: 0.92em">'
             f'<span class="evalkit-verbatim">{sheet}</span></div>'))

# %%
nb.say("h_attribution")

# %%
attribution = allocation.shapley(alloc)
exact = attribution.check()
nb.say("attribution_check", verdict=nb.text("attribution_exact" if exact else "attribution_broken"))
alloc.plot_attribution(shapley_result=attribution, language=language)
plt.show()

# %%
nb.say("h_change")

# %%
change = None


def component_label(c: str) -> str:
    if c.startswith("data:"):
        fid = c.split(":", 1)[1]
        return nb.text("col_factor_data", factor=factor_names.get(fid, fid))
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

# %%
nb.say("h_sensitivity")

# %%
mc = allocation.sensitivity.monte_carlo(alloc, n_draws=n_draws)
nb.say("monte_carlo_settings", kappa=mc.settings["kappa"], n_draws=mc.settings["n_draws"],
       seed=mc.settings["seed"])
display(report.table(named(mc.summary), language=language,
                     columns=["name", "amount_wan", "mean", "sd", "prob_rank_change", "prob_floor", "prob_cap"],
                     formats={"mean": "money", "sd": "money"}))
perturbed = allocation.sensitivity.perturb_weights(alloc, delta=5)
if not perturbed.empty:
    wide = perturbed.pivot_table(index="unit_code", columns=["factor_id", "shift_pp"], values="change_wan")
    labels = {}
    for fid, shift in wide.columns:
        labels[(fid, shift)] = nb.text("col_weight_shift", factor=factor_names.get(fid, fid), shift=shift)
    wide.columns = [labels[c] for c in wide.columns]
    wide = named(wide.reset_index())
    display(report.table(wide, language=language, columns=["name", *labels.values()],
                         formats={v: "money" for v in labels.values()},
                         title=nb.text("tab_weight_shift")))
loo = allocation.sensitivity.leave_one_out(alloc)
if not loo.empty:
    wide = loo.pivot(index="unit_code", columns="dropped", values="change_wan")
    wide.columns = [factor_names.get(c, c) for c in wide.columns]
    cols = list(wide.columns)
    display(report.table(named(wide.reset_index()), language=language, columns=["name", *cols],
                         formats={c: "money" for c in cols},
                         title=nb.text("tab_leave_one_out")))

# %%
nb.say("h_fairness")

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
                     footnotes=[nb.text("note_factor_data")]))
alloc.map(language=language)
plt.show()

# %%
nb.say("h_scenarios")

# %%
scenarios = [current_spec]
scenario_names = [nb.text("scenario_this")]
if previous is not None and previous.spec.factor_ids == current_spec.factor_ids:
    scenarios.append(current_spec.with_weights({f.id: f.weight for f in previous.spec.factors}))
    scenario_names.append(nb.text("scenario_last_year"))
k = len(current_spec.factors)
equal = {f.id: 100 // k + (1 if j < 100 % k else 0) for j, f in enumerate(current_spec.factors)}
scenarios.append(current_spec.with_weights(equal))
scenario_names.append(nb.text("scenario_equal"))
for extra in [s.strip() for s in compare_specs.split(",") if s.strip()]:
    scenarios.append(allocation.load_spec(extra))
    scenario_names.append(Path(extra).stem)
report.allow_names(scenario_names)
comparison = allocation.compare(scenarios, factor_table, last_year=last_amounts, names=scenario_names)
amounts = named(comparison.amounts)
display(report.table(amounts, language=language, columns=["name", *scenario_names],
                     formats={n: "money" for n in scenario_names},
                     total_last=amounts["name"].iloc[-1] == report.t("total", language),
                     title=nb.text("tab_scenarios")))
display(report.table(metric_table(comparison.metrics), language=language))

# %%
nb.say("h_files")

# %%
DESCRIPTIONS = {".xlsx": nb.text("file_xlsx"), ".csv": nb.text("file_csv"), ".json": nb.text("file_json"),
                ".txt": nb.text("file_method_note"), ".pdf": nb.text("file_pdf"), ".docx": nb.text("file_docx")}
if output_dir:
    out = Path(output_dir) / "allocation"
    written = write_outputs(alloc, out, stem=f"allocation_{current_spec.year}")
    method_notes = {p.name for p in written if p.suffix == ".txt"}  # the method sheet write_outputs wrote
    comparison.amounts.to_csv(out / "comparison.csv", index=False)
    items = []
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):
            continue
        what = DESCRIPTIONS.get(path.suffix, nb.text("file_other"))
        if path.name in method_notes or "method" in path.name.lower():
            what = nb.text("file_method_note")
        if path.name == "comparison.csv":
            what = nb.text("file_comparison")
        link = f'<a href="allocation/{path.name}">{path.name}</a>'
        items.append(f"<li>{nb.text('file_item', link=link, what=what)}</li>")
    report.allow_names([p.name for p in out.iterdir()])
    display(HTML("<ul>" + "".join(items) + "</ul>"))
else:
    nb.say("not_saved")

# %%
key_facts = [
    nb.text("summary_amount", fund=current_spec.fund, year=current_spec.year, t_alloc=alloc.core.t_alloc,
            n_units=len(alloc.amounts),
            total_check=nb.text("total_exact" if sum(alloc.amounts.values()) == alloc.core.t_alloc
                                else "total_mismatch")),
    nb.text("summary_fairness", gini=float(fairness.loc["gini_amount", "this_year"]),
            hhi=float(fairness.loc["hhi", "this_year"])),
]
box.update(report.key_facts_box(key_facts, language))
_ = report.save_headlines(
    output_dir,
    "50_allocation_lab",
    [],
    title=nb.title,
    extra={
        "year": current_spec.year, "fund": current_spec.fund, "t_alloc_wan": alloc.core.t_alloc,
        "sum_equals_t_alloc": sum(alloc.amounts.values()) == alloc.core.t_alloc,
        "inputs_sha256": alloc.inputs_hash,
        "floor_bound": alloc.bound_units["floor"], "cap_bound": alloc.bound_units["cap"],
        "gini": float(fairness.loc["gini_amount", "this_year"]),
        "hhi": float(fairness.loc["hhi", "this_year"]),
        "max_prob_rank_change": float(mc.summary["prob_rank_change"].max()),
        "amounts": dict(alloc.amounts),
        "summary": key_facts,
    },
)
