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
year: int = 2025  # evaluation year
data_dir: str = "../data_raw/demo"  # data folder used by the pack
language: str = "zh"  # zh or en
output_dir: str = ""  # evidence pack folder holding results/*.json

# %%
from pathlib import Path

from IPython.display import HTML, Markdown, display

from evalkit import report
from evalkit.report.conclusion import build_conclusion

synthetic = (Path(data_dir) / "SYNTHETIC").exists()
report.use(language=language, synthetic=synthetic)
zh = language == "zh"
headlines = report.load_headlines(output_dir) if output_dir else {}
if not headlines:
    display(Markdown("**尚无已保存的结果：请通过 evalkit evidence 运行整套报告。**" if zh
                     else "**No saved results yet: run the whole pack with evalkit evidence.**"))
conclusion = build_conclusion(headlines, data_dir, year=year, language=language, synthetic=synthetic)
display(Markdown(f"# {conclusion.title}"))
display(HTML(conclusion.to_html()))

# %%
if output_dir:
    conclusion.to_docx(Path(output_dir) / "90_acceptance_summary.docx")
records = conclusion.table.drop(columns=["credibility_reasons", "credibility_flagged"], errors="ignore").to_dict("records")
_ = report.save_headlines(
    output_dir, "90_acceptance_summary", [],
    title=conclusion.title,
    extra={"table": records,
           "summary": [f"{r['evaluation']}：{r['verdict']}（{report.t('box_credibility', language)}"
                       f"{r['credibility']}）" if zh else
                       f"{r['evaluation']}: {r['verdict']} (credibility {r['credibility']})"
                       for r in records]})
