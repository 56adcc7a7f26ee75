"""The real factor-fund page and the conclusion page run end to end on the demo data.

Checks what issue 11 asks of them: the conclusion box sits above the appendix on page 40, the
summary's factor-fund row is page 40's preferred (recentred IV) row and does not claim support,
the conclusion page holds every section, and the Word document holds the same sentences.
Marked slow (about a minute on 2 cores). Tolerances: none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.pipeline import run_evidence

ROOT = Path(__file__).resolve().parents[2]



@pytest.mark.slow
@pytest.mark.notebook
def test_fund_page_and_conclusion_page(tmp_path):
    docx = pytest.importorskip("docx")
    pack = run_evidence(2025, ROOT / "data_raw" / "demo", tmp_path / "pack",
                        notebooks=["40_fund_allocation_effects", "90_acceptance_summary"],
                        notebooks_dir=ROOT / "notebooks", progress=False)
    assert [r.status for r in pack.runs] == ["ok", "ok"]
    page40 = (pack.path / "40_fund_allocation_effects.html").read_text(encoding="utf-8")
    assert page40.index('class="ek-box"') < page40.index("附录：方法、诊断与完整估计结果")
    saved = json.loads((pack.path / "results" / "40_fund_allocation_effects.json").read_text(encoding="utf-8"))
    preferred = [r for r in saved["headlines"] if r["preferred"]]
    assert len(preferred) == 1 and preferred[0]["assumption"] == "shock_exogeneity"
    assert preferred[0]["f_eff"] is not None and preferred[0]["ar_intervals"]
    summary = json.loads((pack.path / "results" / "90_acceptance_summary.json").read_text(encoding="utf-8"))
    row = next(r for r in summary["extra"]["table"] if r["notebook"] == "40_fund_allocation_effects")
    assert row["estimate"] == pytest.approx(preferred[0]["estimate"])
    if preferred[0]["f_eff"] < preferred[0]["f_critical"]:
        assert "Anderson–Rubin" in row["verdict_sentence"]
    page90 = (pack.path / "90_acceptance_summary.html").read_text(encoding="utf-8")
    for title in ("一、综合结论", "二、政策措施成效", "三、问题与建议", "四、数据来源与口径", "五、术语表", "三(六)4"):
        assert title in page90
    doc = docx.Document(str(pack.path / "90_acceptance_summary.docx"))
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert row["sentence"] in cells and row["verdict_sentence"] in cells


def test_page_title_displayed_in_the_pack_language_is_found():
    import nbformat

    from evalkit.pipeline.html import notebook_title

    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("display(Markdown('# 标题'))")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "# 试验区整体效果"})]
    nb.cells = [nbformat.v4.new_code_cell("year = 2025"), code,
                nbformat.v4.new_markdown_cell("## 附录")]
    assert notebook_title(nb, "10_pilot_zone") == "试验区整体效果"
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    assert notebook_title(nb, "10_pilot_zone") == "10_pilot_zone"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh", "en"])
def test_conclusion_page_prints_on_at_most_two_a4_pages(tmp_path, language):
    """Issue 11: the conclusion page printed from Chromium is A4 and at most two pages."""
    from pypdf import PdfReader

    from evalkit.report import pdf as pdfmod

    if pdfmod.find_chromium() is None:
        pytest.skip("needs chromium (apt-get install chromium)")
    notebooks = ["10_pilot_zone", "20_tech_upgrade_subsidies", "30_first_unit_insurance",
                 "40_fund_allocation_effects", "60_targets_scorecard", "90_acceptance_summary"]
    pack = run_evidence(2025, ROOT / "data_raw" / "demo", tmp_path / "pack", language=language,
                        notebooks=notebooks, notebooks_dir=ROOT / "notebooks", progress=False,
                        pdf=True)
    assert all(r.status == "ok" for r in pack.runs)
    reader = PdfReader(str(pack.path / "90_acceptance_summary.pdf"))
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
