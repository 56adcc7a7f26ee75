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

# no title or banner here: the conclusion below shows both (its title carries the year)
nb = report.notebook.open_page(data_dir, page="90_acceptance_summary", language=language,
                               display_banner=False)
synthetic = nb.synthetic
headlines = report.load_headlines(output_dir) if output_dir else {}
if not headlines:
    nb.say("no_results")
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
           "summary": [nb.text("summary_line", evaluation=r["evaluation"], verdict=r["verdict"],
                               credibility=r["credibility"])
                       for r in records]})
