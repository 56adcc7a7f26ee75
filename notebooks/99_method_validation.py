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
year: int = 2025  # evaluation year (not used by the checks; kept for the pack)
data_dir: str = "../data_raw/demo"  # not used: public datasets come from installed packages
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder
n_draws: int = 200  # placebo draws for the Prop 99 standard errors (the paper used 200)

# %%
import importlib.resources
import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from evalkit import pipeline, report

nb = report.notebook.open_page(data_dir, page="99_method_validation", language=language, synthetic=False)  # public data
box = display(Markdown(""), display_id=True)  # the key facts, filled in at the end
nb.say("intro")
missing = [pkg for pkg in ("moderndid", "synthdid", "causaldata") if importlib.util.find_spec(pkg) is None]
if missing:
    pipeline.skip_notebook(
        f"needs the 'validation' extra (missing: {', '.join(missing)}): pip install -e '.[validation]'"
    )
report.use(language=language, synthetic=False)
rows = []
BACON_LABELS = {"Earlier vs Later Treated": nb.text("bacon_earlier_vs_later"),
                "Later vs Earlier Treated": nb.text("bacon_later_vs_earlier"),
                "Treated vs Untreated": nb.text("bacon_treated_vs_untreated")}
METHOD_LABELS = {"sdid": nb.text("method_sdid"), "sc": nb.text("method_sc"), "did": nb.text("method_did")}


def check(study, quantity, published, ours, tolerance, source):
    """Record one published-versus-evalkit comparison (``quantity`` in the report language)."""
    rows.append({"study": study, "quantity": quantity, "published": published, "evalkit_value": ours,
                 "difference": ours - published, "tolerance": tolerance,
                 "agrees": bool(abs(ours - published) <= tolerance), "source": source})


def show(study):
    sub = pd.DataFrame([r for r in rows if r["study"] == study])
    display(report.table(
        sub, language=language,
        columns=["quantity", "published", "evalkit_value", "difference", "tolerance", "agrees"],
        formats={"published": lambda v: f"{v:.6g}", "evalkit_value": lambda v: f"{v:.6g}",
                 "difference": lambda v: f"{v:.1e}", "tolerance": lambda v: f"{v:.1e}"},
        footnotes=[nb.text("source", sources=nb.text("source_separator").join(dict.fromkeys(sub["source"])))],
    ))


# %%
nb.say("h_mpdta")


# %%
from evalkit.did import callaway_santanna

mpdta_path = Path(importlib.util.find_spec("moderndid").origin).parent / "core" / "datasets" / "mpdta_long.pkl.gz"
mpdta = pd.read_pickle(mpdta_path)
mpdta = pd.DataFrame({c: np.asarray(mpdta[c]) for c in mpdta.columns})
cs = callaway_santanna(mpdta, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                       control_group="never_treated", method="dr")
simple = cs.aggregate("simple")
src = nb.text("src_mpdta")
check("mpdta", nb.text("q_simple_att"), -0.0399512751551763, simple.estimate, 1e-10, src)
check("mpdta", nb.text("q_simple_att_se"), 0.0120340127701854, simple.std_error, 1e-10, src)
show("mpdta")
ax = cs.aggregate("dynamic").plot(language=language, title=nb.text("fig_mpdta_dynamic"))
plt.show()

# %%
nb.say("h_castle")

# %%
from evalkit.did import bacon_decomposition

castle = pd.read_stata(str(importlib.resources.files("causaldata") / "castle" / "castle.dta"))[["sid", "year", "l_homicide", "post"]]
first_full = castle.loc[castle["post"] > 0].groupby("sid")["year"].min()
took_effect = castle["sid"].map(first_full - 1)
castle["post_eff"] = ((castle["year"] >= took_effect) & took_effect.notna()).astype(float)
bacon = bacon_decomposition(castle, outcome="l_homicide", unit="sid", time="year", treatment="post_eff")
src = "bacondecomp vignette (Flack and Jee), castle data"
check("castle", nb.text("q_twfe"), 0.0818, bacon.twfe_estimate, 0.5e-4, src)
by_type = bacon.by_type.set_index("type")
for kind, (w, est) in {"Earlier vs Later Treated": (0.05976, -0.00554),
                       "Later vs Earlier Treated": (0.03190, 0.07032),
                       "Treated vs Untreated": (0.90834, 0.08796)}.items():
    label = BACON_LABELS[kind]
    check("castle", nb.text("q_weight", name=label), w, by_type.loc[kind, "weight"], 0.5e-5, src)
    check("castle", nb.text("q_estimate", name=label), est, by_type.loc[kind, "avg_estimate"], 0.5e-5, src)
show("castle")
bacon.plot(language=language)
plt.show()

# %%
nb.say("h_prop99")

# %%
from evalkit.synth import synthetic_did

prop99 = pd.read_csv(Path(importlib.util.find_spec("synthdid").origin).parent / "data" / "california_prop99.csv", sep=";")
published = {"sdid": (-15.6038, 8.4), "sc": (-19.6197, 9.9), "did": (-27.3491, 17.7)}
sdid_results = {}
for est, (point, se) in published.items():
    res = synthetic_did(prop99, outcome="PacksPerCapita", unit="State", time="Year", treatment="treated",
                        estimator=est, cov_type="placebo", n_draws=n_draws, seed=7)
    sdid_results[est] = res
    src = "Arkhangelsky et al. (2021) Table 1; R synthdid values"
    check("prop99", nb.text("q_estimate", name=METHOD_LABELS[est]), point, res.estimate, 1e-4, src)
    # Monte-Carlo error of a standard deviation from R draws: ~ s / sqrt(2R), for both runs, 3 sigma
    mc_tol = 3 * se * np.sqrt(1 / (2 * n_draws) + 1 / (2 * 200)) + 0.05
    check("prop99", nb.text("q_placebo_se", name=METHOD_LABELS[est]), se, res.std_error, mc_tol,
          src + " (placebo, MC tolerance)")
show("prop99")
ax = sdid_results["sdid"].plot(language=language)
ax.set_title(nb.text("fig_prop99"))
ax.set_ylabel(nb.text("axis_packs"))
plt.show()

# %%
nb.say("h_medicaid")

# %%
from evalkit.did import event_study
from evalkit.sensitivity import honest_did

ehec = pd.read_pickle(mpdta_path.parent / "ehec_data.pkl.gz")
ehec = pd.DataFrame({c: np.asarray(ehec[c]) for c in ehec.columns})
ehec = ehec[(ehec["year"] < 2016) & (ehec["yexp2"].isna() | (ehec["yexp2"] != 2015))].copy()
ehec["cohort"] = ehec["yexp2"].fillna(0).astype(int)
es = event_study(ehec, outcome="dins", unit="stfips", time="year", cohort="cohort", reference=-1,
                 control_group="never_treated", cov_type="clustered", small_sample="fixest")  # as R fixest
src = "HonestDiD README, Medicaid example (knitr cache values)"
sd = honest_did(es, restriction="smoothness", m=[0.0, 0.01, 0.02, 0.03, 0.04, 0.05], event_time=0)
sd_frame = sd.table  # one row per M: m, lower, upper
sd_pub = [(0.00, 0.025941, 0.060726), (0.01, 0.013197, 0.078671), (0.02, 0.002857, 0.090716),
          (0.03, -0.007143, 0.100716), (0.04, -0.017143, 0.110716), (0.05, -0.027143, 0.120716)]
for (m, lo, hi), (_, r) in zip(sd_pub, sd_frame.iterrows(), strict=True):
    check("medicaid", nb.text("q_lower", bound=f"Δ^SD M={m}"), lo, r["lower"], 2e-4, src)
    check("medicaid", nb.text("q_upper", bound=f"Δ^SD M={m}"), hi, r["upper"], 2e-4, src)
rm = honest_did(es, restriction="relative_magnitude", m=[0.0, 0.5, 1.0, 1.5, 2.0], event_time=0)
rm_frame = rm.table
rm_pub = [(0.0, 0.028766, 0.064310), (0.5, 0.024002, 0.067242), (1.0, 0.017040, 0.072006),
          (1.5, 0.008245, 0.079701), (2.0, -0.000916, 0.088129)]
for (m, lo, hi), (_, r) in zip(rm_pub, rm_frame.iterrows(), strict=True):
    check("medicaid", nb.text("q_lower", bound=f"Δ^RM M̄={m}"), lo, r["lower"], 6e-4, src)
    check("medicaid", nb.text("q_upper", bound=f"Δ^RM M̄={m}"), hi, r["upper"], 6e-4, src)
show("medicaid")
rm.plot(language=language)
plt.show()

# %%
nb.say("h_summary")

# %%
table = pd.DataFrame(rows)
n_ok, n_all = int(table["agrees"].sum()), len(table)
nb.say("summary", n_ok=n_ok, n_all=n_all)
if n_ok < n_all:
    display(report.table(table[~table["agrees"]], language=language,
                         columns=["quantity", "published", "evalkit_value", "difference", "tolerance"]))
box.update(report.key_facts_box([nb.text("summary_index", n_ok=n_ok, n_all=n_all)], language))
_ = report.save_headlines(output_dir, "99_method_validation", [],
                      title=nb.text("index_title"),
                      extra={"checks": n_all, "agree": n_ok,
                             "summary": [nb.text("summary_index", n_ok=n_ok, n_all=n_all)]})
