"""Shared fixtures: throwaway evidence notebooks and a headless-Chromium locator.

The pipeline tests build small notebooks in temporary folders instead of running the project's
real notebooks, so they test the runner (parameters, failures, skips, atomic replacement, HTML,
manifest) quickly and independently of the estimators.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import pytest

STANDARD_PARAMETERS_CELL = (
    "year: int = 2025  # last year of the evaluation\n"
    'data_dir: str = "../data_raw/demo"  # input folder\n'
    'language: str = "zh"  # zh or en\n'
    'output_dir: str = ""  # pack folder, empty = do not save\n'
)


def write_notebook(
    path: Path,
    cells: Sequence[str],
    *,
    title: str = "Test notebook 测试",
    extra_parameters: str = "",
    parameters_cell: str | None = None,
) -> Path:
    """Write an output-free notebook: a markdown title, a parameters cell, then code cells.

    Parameters
    ----------
    path : Path
        Target ``.ipynb``.
    cells : sequence of str
        Source of the code cells after the parameters cell.
    title : str
        Markdown heading of the first cell.
    extra_parameters : str
        Lines appended to the standard parameters cell.
    parameters_cell : str, optional
        Replace the whole parameters cell (``""`` = no parameters cell at all).
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}"))
    source = STANDARD_PARAMETERS_CELL + extra_parameters if parameters_cell is None else parameters_cell
    if source:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    for src in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


#: A notebook cell that draws a PNG and saves one headline record.
PLOT_AND_HEADLINE = """
import matplotlib.pyplot as plt
from evalkit.report import save_headlines
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([2021, 2022, 2023], [1.0, 2.0, 1.5])
plt.show()
_ = save_headlines(output_dir, NAME, [{"evaluation": "pilot zone", "estimator": "test",
               "estimate": 0.1234, "conf_low": 0.05, "conf_high": 0.2, "p_value": 0.012}],
               title="标题 " + NAME)
"""


@pytest.fixture
def notebook_factory(tmp_path: Path) -> Callable[..., Path]:
    """Return ``make(name, cells, **kw)`` writing ``<tmp>/notebooks/<name>.ipynb``."""
    folder = tmp_path / "notebooks"

    def make(name: str, cells: Sequence[str] = ("print(year)",), **kwargs) -> Path:
        return write_notebook(folder / f"{name}.ipynb", cells, **kwargs)

    return make


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A tiny input folder (two files) for runs with ``check_data=False``."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "county_panel.csv").write_text("unit_code,year\n370702,2025\n", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "spec.yaml").write_text("total: 1\n", encoding="utf-8")
    return folder


def find_chromium() -> str | None:
    """Path of a Chromium binary (``EVALKIT_CHROMIUM`` overrides), or ``None``."""
    override = os.environ.get("EVALKIT_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


SUMMARY_CELL = """
from evalkit.report import load_headlines
seen = sorted(load_headlines(output_dir)) if output_dir else []
assert "00_plot" in seen, f"the summary ran before 00_plot saved its headlines: {seen}"
print("summary saw", seen)
"""
SKIP_CELL = """
from evalkit.pipeline import skip_notebook
skip_notebook("needs the 'validation' extra (test)")
"""


def build_test_notebooks(folder: Path) -> Path:
    """Write four notebooks: a plot with headlines, a plain one, a summary (90) and a skip (99)."""
    write_notebook(folder / "00_plot.ipynb", ['NAME = "00_plot"', PLOT_AND_HEADLINE],
                   title="Plot 图表")
    write_notebook(folder / "10_plain.ipynb", ["print('rows', year, language)"])
    write_notebook(folder / "90_summary.ipynb", [SUMMARY_CELL], title="Summary 汇总")
    write_notebook(folder / "99_skip.ipynb", [SKIP_CELL, "raise RuntimeError('must not run')"])
    return folder


@pytest.fixture(scope="session")
def good_pack(tmp_path_factory: pytest.TempPathFactory):
    """A finished evidence pack of the four test notebooks (built once per test session)."""
    from evalkit.pipeline import run_evidence

    root = tmp_path_factory.mktemp("good_pack")
    data = root / "data"
    data.mkdir()
    (data / "county_panel.csv").write_text("unit_code,year\n370702,2025\n", encoding="utf-8")
    notebooks = build_test_notebooks(root / "notebooks")
    pack = run_evidence(
        2025,
        data,
        root / "reports" / "2025",
        notebooks_dir=notebooks,
        check_data=False,
        synthetic=True,
        progress=False,
    )
    return pack


@pytest.fixture
def nb_writer() -> Callable[..., Path]:
    """The :func:`write_notebook` helper, as a fixture (tests/ is not a package)."""
    return write_notebook
