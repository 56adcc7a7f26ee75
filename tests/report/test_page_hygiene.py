"""Nothing from Python reaches a page: the pipeline's page check and the in-kernel figure check.

Tolerances: none (exact problem lists). The end-to-end tests run throwaway notebooks through
``run_evidence`` and expect the build to fail naming the page and the cell.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pytest

from evalkit._shared.exceptions import PipelineError
from evalkit.pipeline import run_evidence
from evalkit.pipeline.html import filter_language, notebook_title, page_problems
from evalkit.report import figcheck


def _nb(*cells, language="zh"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"language": language}}
    for i, (kind, payload) in enumerate(cells, start=1):
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(payload))
            continue
        cell = nbformat.v4.new_code_cell("x", execution_count=i)
        cell.outputs = [payload]
        nb.cells.append(cell)
    return nb


def _html(fragment):
    return nbformat.v4.new_output("display_data", data={"text/html": fragment, "text/plain": "<obj>"})


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (nbformat.v4.new_output("stream", name="stderr", text="x.py:3: UserWarning: careful\n"), "stderr"),
        (nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]), "traceback"),
        (nbformat.v4.new_output("execute_result", data={"text/plain": "PosixPath('/tmp/x')"}, execution_count=1),
         "raw Python output"),
        (nbformat.v4.new_output("stream", name="stdout", text="saved to /work/data/x.csv\n"), "local path"),
        (_html("<table><tr><th>估计值</th></tr><tr><td>nan</td></tr></table>"), "missing value"),
        (_html("<table><tbody><tr><th>0</th><td>1</td></tr><tr><th>1</th><td>2</td></tr></tbody></table>"),
         "row index"),
        (_html("<table><thead><tr><th>pre_rmspe</th></tr></thead><tr><td>1</td></tr></table>"), "raw column"),
        (_html("<p>The estimates below are robust to the choice of controls.</p>"), "English text"),
    ],
)
def test_page_problems_found_in_chinese_page(output, expected):
    problems = page_problems(_nb(("code", output)), "zh")
    assert len(problems) >= 1 and expected in problems[0].problem
    assert problems[0].cell_index == 0 and problems[0].exec_count == 1


def test_clean_page_passes_and_english_page_refuses_chinese():
    good = _html("<table><thead><tr><th>估计值</th></tr></thead><tr><td>0.123</td></tr></table>")
    assert page_problems(_nb(("code", good), ("md", "## 结论\n估计值为正（Callaway–Sant'Anna）。")), "zh") == []
    problems = page_problems(_nb(("md", "## Result\nThe effect is 规上 revenue."), language="en"), "en")
    assert [p.cell_index for p in problems] == [0] and "Chinese text" in problems[0].problem


def test_language_tagged_cells_are_kept_only_in_their_pack():
    nb = _nb(("md", "# 数据审计"), ("md", "# Data audit"))
    nb.cells[0].metadata["tags"] = ["lang-zh"]
    nb.cells[1].metadata["tags"] = ["lang-en"]
    assert [c.source for c in filter_language(nb, "en").cells] == ["# Data audit"]
    assert notebook_title(nb, "x") == "数据审计"  # the notebook ran with language zh
    assert page_problems(nb, "zh") == []


def test_figure_check_finds_raw_names_nan_and_other_language(tmp_path, monkeypatch):
    from evalkit import report

    monkeypatch.setenv(figcheck.STATUS_ENV, str(tmp_path / "status" / "x.json"))
    report.use(language="en", synthetic=False)
    figcheck.PROBLEMS.clear()
    fig, ax = plt.subplots()
    ax.plot([2021, 2022], [1, 2], label="log_revenue")
    ax.legend()
    ax.set_title("营业收入")
    ax.set_xticks([2021, 2022], ["2021", "nan"])
    fig.savefig(tmp_path / "x.png")
    plt.close(fig)
    problems = {p["problem"] for p in figcheck.read_log(tmp_path / "status" / "x.figures.jsonl")}
    assert problems == {"raw column name log_revenue", "Chinese text in an English page", "missing value shown as nan"}


def test_combining_macron_drawn_as_mathtext(tmp_path):
    from evalkit import report

    report.use(language="zh", synthetic=False)
    fig, ax = plt.subplots()
    ax.set_xlabel("M̄")
    fig.savefig(tmp_path / "m.png")
    assert ax.get_xlabel() == "$\\bar{M}$"
    plt.close(fig)


WARN_CELL = "import warnings\nwarnings.warn('the leverage is ignored')\nprint('done')"
RAW_NAME_CELL = """
import matplotlib.pyplot as plt
from evalkit import report
report.use(language=language, synthetic=False)
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([2021, 2022], [1.0, 2.0])
ax.set_ylabel("log_revenue")
plt.show()
"""


@pytest.mark.parametrize(
    ("cells", "expected"),
    [([WARN_CELL], r"(?s)00_page\.ipynb failed at cell 3 \(In \[3\]\): PageHygieneError.*UserWarning"),
     pytest.param(["x = 1", RAW_NAME_CELL],
                  r"(?s)00_page\.ipynb failed at cell 4 \(In \[4\]\).*raw column name log_revenue",
                  marks=pytest.mark.slow)],  # ~25 s: a figure in a real kernel
    ids=["warning", "raw-column-name-in-figure"],
)
def test_build_fails_naming_page_and_cell(cells, expected, data_dir, tmp_path, nb_writer):
    nb_writer(tmp_path / "notebooks" / "00_page.ipynb", cells, title="页面")
    with pytest.raises(PipelineError, match=expected):
        run_evidence(2025, data_dir, tmp_path / "out", notebooks_dir=tmp_path / "notebooks",
                     check_data=False, progress=False, workers=1)
    assert not (tmp_path / "out").exists()
