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
# # 验收评估总结 · Acceptance summary
# One table across the four evaluations, read from the detailed notebooks' saved results (nothing is
# recomputed here), then the targets scorecard and links to the detailed pages.

# %% tags=["parameters"]
year: int = 2025  # evaluation year
data_dir: str = "../data_raw/demo"  # data folder used by the pack
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder holding results/*.json

# %%
import math
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from evalkit import report
from evalkit.report.summary import EVALUATIONS, acceptance_table

synthetic = (Path(data_dir) / "SYNTHETIC").exists()
report.use(language=language, synthetic=synthetic)
zh = language == "zh"
banner = report.synthetic_banner(language=language)
if banner is not None:
    display(banner)
headlines = report.load_headlines(output_dir) if output_dir else {}
if not headlines:
    display(Markdown("**尚无已保存的结果：请通过 `evalkit evidence` 运行整套报告。**" if zh
                     else "**No saved results yet: run the whole pack with `evalkit evidence`.**"))

# %%
table = acceptance_table(headlines, language)
display(Markdown(f"## {'四项评估结论' if zh else 'The four evaluations'} ({year})"))
cols = ["evaluation", "estimator", "estimate", "conf_low", "conf_high", "inference", "pretrend_p",
        "agreement", "estimate_range", "breakdown", "verdict"]
if synthetic and "truth" in table and table["truth"].notna().any():
    cols.insert(5, "truth")
names_zh = {"evaluation": "评估对象", "estimator": "首选方法", "estimate": "估计值", "conf_low": "95%下限",
            "conf_high": "95%上限", "truth": "真实值（合成）", "inference": "推断方法（少聚类稳健）",
            "pretrend_p": "事前趋势检验 p", "agreement": "方法间一致性", "estimate_range": "各方法估计范围",
            "breakdown": "敏感性临界值", "verdict": "结论"}
names_en = {"evaluation": "Evaluation", "estimator": "Preferred estimator", "estimate": "Estimate",
            "conf_low": "95% low", "conf_high": "95% high", "truth": "True value (synthetic)",
            "inference": "Inference (few-cluster robust)", "pretrend_p": "Pre-trend p", "agreement": "Agreement",
            "estimate_range": "Range across estimators", "breakdown": "Breakdown value", "verdict": "Verdict"}
shown = table.reindex(columns=cols)
names = names_zh if zh else names_en
styled = (shown.rename(columns=names).style.hide(axis="index").format(precision=4, na_rep="—")
          .set_properties(subset=[names["evaluation"]], **{"white-space": "nowrap", "font-weight": "bold"})
          .set_properties(subset=[names["verdict"], names["inference"]], **{"text-align": "left", "min-width": "16em"}))
display(styled)

# %%
plot_rows = table.dropna(subset=["estimate", "conf_low", "conf_high"]) if "estimate" in table else table.iloc[0:0]
if len(plot_rows):
    fig, ax = plt.subplots(figsize=(8, 0.8 * len(plot_rows) + 1.5))
    y = range(len(plot_rows))
    ax.errorbar(plot_rows["estimate"], list(y),
                xerr=[plot_rows["estimate"] - plot_rows["conf_low"], plot_rows["conf_high"] - plot_rows["estimate"]],
                fmt="o", color="#1f4e79", capsize=4)
    if synthetic and plot_rows["truth"].notna().any():
        ax.scatter(plot_rows["truth"], list(y), marker="x", color="#c0504d", zorder=3,
                   label="真实值（合成数据）" if zh else "True value (synthetic)")
        ax.legend(fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(list(y), plot_rows["evaluation"])
    ax.set_xlabel("估计值与 95% 置信区间（各评估单位不同，见详细页面）" if zh
                  else "Estimate and 95% CI (units differ: see detailed pages)")
    report.mark_synthetic(fig)
    plt.show()

# %%
score = headlines.get("60_targets_scorecard", {}).get("extra")
if score:
    counts = score["counts"]
    parts = [f"{report.t(s, language)}: {n}" for s, n in counts.items() if n]
    display(Markdown(("## 目标记分卡\n" if zh else "## Targets scorecard\n") + " · ".join(parts)))
    missed = [r for r in score["card"] if r["status"] in ("not_met", "off_track")]
    if missed:
        display(Markdown(("**未达成或进度落后：** " if zh else "**Not met or behind:** ")
                         + "; ".join((r["name_zh"] if zh else r["name_en"]) for r in missed)))

# %%
links = []
for nb in sorted(set(EVALUATIONS) | set(headlines) | {"00_data_audit", "50_allocation_lab", "60_targets_scorecard", "99_method_validation"}):
    title = (headlines.get(nb) or {}).get("title") or nb
    links.append(f"- [{title}]({nb}.html)")
display(Markdown(("## 详细页面\n" if zh else "## Detailed pages\n") + "\n".join(links)))

# %%
summary_records = [
    {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
    for r in table.to_dict("records")
]
_ = report.save_headlines(output_dir, "90_acceptance_summary", [],
                      title="验收评估总结" if zh else "Acceptance summary",
                      extra={"table": summary_records,
                             "summary": [f"{r['evaluation']}: {r.get('verdict', '')}"[:90] for r in summary_records]})
