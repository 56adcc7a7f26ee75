"""Tests of evalkit.pipeline: parameters, atomic packs, failures, timeouts, skips, HTML, manifest.

Tolerances: none (exact statuses, names and hashes). The notebooks are throwaway notebooks
written by ``tests/conftest.py``; the real notebooks are exercised in test_pipeline_e2e.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

import evalkit
from evalkit._shared.exceptions import EvalkitError, PipelineError
from evalkit.pipeline import (
    NotebookSkipped,
    check_parameters,
    coerce_parameter,
    discover_notebooks,
    notebook_parameters,
    run_evidence,
    skip_notebook,
)
from evalkit.verify import verify_pack

MALICIOUS = 'y = 0; print("PWNED-NAME"); z'


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".building-" in p.name or ".old-" in p.name)


# ------------------------------------------------------------------ parameters
def test_parameters_cell_read_with_ast(notebook_factory):
    nb = notebook_factory("00_x", extra_parameters='spec: str = "a=b"  # has =\nn = 3\n')
    assert notebook_parameters(nb) == {
        "year": "int",
        "data_dir": "str",
        "language": "str",
        "output_dir": "str",
        "spec": "str",
        "n": None,
    }


def test_malicious_parameter_name_is_refused(notebook_factory, data_dir, tmp_path):
    notebook_factory("00_x")
    with pytest.raises(EvalkitError, match=re.escape(repr(MALICIOUS))) as info:
        run_evidence(
            2025,
            data_dir,
            tmp_path / "out",
            notebooks_dir=tmp_path / "notebooks",
            parameters={"00_x": {MALICIOUS: 1}},
            check_data=False,
            progress=False,
        )
    assert "00_x.ipynb" in str(info.value) and "unknown parameter" in str(info.value)
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []


def test_parameter_type_must_match_declaration(notebook_factory):
    nb = notebook_factory("00_x", extra_parameters="flag: bool = False\n")
    with pytest.raises(EvalkitError, match=r"year='2025' is a str.*`year: int`"):
        check_parameters(nb, {"year": "2025"})
    with pytest.raises(EvalkitError, match=r"flag=1 is a int.*`flag: bool`"):
        check_parameters(nb, {"flag": 1})
    with pytest.raises(EvalkitError, match="pass str, int, float, bool"):
        check_parameters(nb, {"data_dir": Path("/x")})
    assert check_parameters(nb, {"year": 2026, "flag": True}) == {"year": 2026, "flag": True}


def test_command_line_values_follow_declared_types(notebook_factory):
    nb = notebook_factory(
        "00_x", extra_parameters='code: str = "370702"\nflag: bool = True\nshare: float = 0.5\n'
    )
    assert coerce_parameter(nb, "code", "01234") == "01234"  # papermill -p would give 1234
    assert coerce_parameter(nb, "flag", "false") is False  # papermill -p would give "false"
    assert coerce_parameter(nb, "share", "1e-2") == pytest.approx(0.01)
    assert coerce_parameter(nb, "year", "2026") == 2026
    with pytest.raises(EvalkitError, match="Cannot read 'soon' as the int"):
        coerce_parameter(nb, "year", "soon")
    with pytest.raises(EvalkitError, match="unknown parameter 'nope'"):
        coerce_parameter(nb, "nope", "1")


def test_notebook_without_parameters_cell_is_refused(notebook_factory):
    nb = notebook_factory("00_x", parameters_cell="")
    with pytest.raises(EvalkitError, match="has no cell tagged 'parameters'"):
        notebook_parameters(nb)


def test_notebook_missing_a_standard_parameter_is_refused(notebook_factory, data_dir, tmp_path):
    notebook_factory("00_x", parameters_cell="year: int = 2025\ndata_dir: str = ''\n")
    with pytest.raises(EvalkitError, match=r"00_x.ipynb does not declare.*language: str"):
        run_evidence(
            2025, data_dir, tmp_path / "out", notebooks_dir=tmp_path / "notebooks",
            check_data=False, progress=False,
        )


def test_discovery_order_selection_and_unknown_names(notebook_factory, tmp_path):
    for name in ("90_sum", "00_a", "10_b"):
        notebook_factory(name)
    (tmp_path / "notebooks" / "notes.ipynb").write_text("{}")  # not NN_name: ignored
    folder = tmp_path / "notebooks"
    assert [p.stem for p in discover_notebooks(folder)] == ["00_a", "10_b", "90_sum"]
    assert [p.stem for p in discover_notebooks(folder, ["90", "00_a.ipynb"])] == ["00_a", "90_sum"]
    with pytest.raises(EvalkitError, match=r"Unknown notebook\(s\): 20_x.*00_a, 10_b, 90_sum"):
        discover_notebooks(folder, ["20_x"])
    with pytest.raises(EvalkitError, match="does not exist"):
        discover_notebooks(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"year": "2025"}, "year must be an integer"),
        ({"language": "fr"}, "language='fr'"),
        ({"workers": 0}, "workers must be a positive integer"),
        ({"timeout": -1}, "timeout must be a positive"),
    ],
)
def test_bad_arguments(kwargs, message, data_dir, tmp_path):
    args = {"year": 2025, "data_dir": data_dir, "out_dir": tmp_path / "out"} | kwargs
    with pytest.raises(EvalkitError, match=message):
        run_evidence(**args, notebooks_dir=tmp_path, check_data=False, progress=False)


def test_missing_data_folder_and_foreign_out_folder(notebook_factory, data_dir, tmp_path):
    notebook_factory("00_x")
    with pytest.raises(EvalkitError, match="evalkit demo-data"):
        run_evidence(2025, tmp_path / "nodata", tmp_path / "out", check_data=False)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("do not delete")
    with pytest.raises(EvalkitError, match=r"is not an evalkit evidence pack.*It holds: thesis.docx"):
        run_evidence(2025, data_dir, precious, notebooks_dir=tmp_path / "notebooks",
                     check_data=False, progress=False)
    assert (precious / "thesis.docx").read_text() == "do not delete"


def test_skip_notebook_needs_a_reason_and_stops():
    with pytest.raises(EvalkitError, match="non-empty reason"):
        skip_notebook("  ")
    with pytest.raises(NotebookSkipped, match="no extra") as info:
        skip_notebook("no extra")
    assert info.value._render_traceback_() == ["Notebook skipped: no extra"]


# ------------------------------------------------------------------ a good pack
def test_pack_statuses_order_and_files(good_pack):
    runs = {r.name: r for r in good_pack.runs}
    assert [r.name for r in good_pack.runs] == ["00_plot", "10_plain", "90_summary", "99_skip"]
    assert {n: r.status for n, r in runs.items()} == {
        "00_plot": "ok", "10_plain": "ok", "90_summary": "ok", "99_skip": "skipped",
    }
    assert runs["99_skip"].reason == "needs the 'validation' extra (test)"
    assert runs["00_plot"].title == "Plot 图表"
    pack = good_pack.path
    for name in runs:
        for suffix in (".html", ".code.html"):
            assert (pack / f"{name}{suffix}").is_file()
        assert (pack / "notebooks" / f"{name}.ipynb").is_file()
    assert _leftovers(pack.parent) == []
    assert not pack.with_name("2025.failed").exists()
    # the summary ran after 00_plot had saved its headlines (the cell asserts it)
    summary = nbformat.read(pack / "notebooks" / "90_summary.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in summary.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "summary saw ['00_plot']" in text
    injected = [c.source for c in summary.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected == [injected[0]] and f'output_dir = "{pack}"' in injected[0]
    assert ".building-" not in (pack / "90_summary.code.html").read_text(encoding="utf-8")


def test_skipped_notebook_page_shows_reason_without_traceback(good_pack):
    page = (good_pack.path / "99_skip.html").read_text(encoding="utf-8")
    assert "needs the &#39;validation&#39; extra (test)" in page or "needs the 'validation'" in page
    assert "Traceback" not in page and "NotebookSkipped" not in page
    assert "An Exception was encountered" not in page


def test_index_page(good_pack):
    page = (good_pack.path / "index.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    assert "合成演示数据" in page  # synthetic-data banner (zh default)
    assert "标题 00_plot" in page  # title saved with the headlines
    assert "pilot zone · test：0.123 [0.05, 0.2], p = 0.012" in page
    assert "已跳过" in page and "needs the &#x27;validation&#x27; extra (test)" in page
    for name in ("00_plot", "10_plain", "90_summary", "99_skip"):
        assert f'href="{name}.html"' in page and f'href="{name}.code.html"' in page
    root = str(good_pack.manifest["inputs"]["root"])
    assert "2025" in page and Path(root).name in page and root not in page  # no local path on the page
    assert evalkit.__version__ in page  # the version that built the pack


def test_html_is_offline_and_code_hidden_by_default(good_pack):
    url_attr = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
                          re.IGNORECASE)
    pages = sorted(good_pack.path.glob("*.html"))
    assert len(pages) == 9
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not url_attr.search(text), f"{page.name} loads something from the network"
        for cdn in ("cdnjs", "unpkg.com", "jsdelivr", "MathJax.js", "require.min.js", "mermaid"):
            assert cdn not in text, f"{page.name} mentions {cdn}"
        assert not re.search(r"url\(\s*['\"]?https?:", text), f"{page.name}: remote CSS url()"
    plain = (good_pack.path / "00_plot.html").read_text(encoding="utf-8")
    code = (good_pack.path / "00_plot.code.html").read_text(encoding="utf-8")
    assert "<img" in plain and 'src="data:image/png;base64,' in plain
    assert "subplots" not in plain and 'hl-ipython3' not in plain
    assert "subplots" in code and 'hl-ipython3' in code


def test_manifest(good_pack):
    pack = good_pack.path
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == good_pack.manifest
    files = sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())
    assert sorted(manifest["outputs"]) == [f for f in files if f != "manifest.json"]
    digest = hashlib.sha256((pack / "index.html").read_bytes()).hexdigest()
    assert manifest["outputs"]["index.html"] == digest
    assert sorted(manifest["inputs"]["files"]) == ["county_panel.csv"]
    params = manifest["parameters"]
    assert params["year"] == 2025 and params["language"] == "zh"
    assert params["notebooks"]["00_plot"]["output_dir"] == "."
    for pkg in ("evalkit", "numpy", "pandas", "statsmodels", "linearmodels", "papermill"):
        assert manifest["packages"][pkg], pkg
    assert manifest["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", manifest["git_commit"])
    assert manifest["started_at"] <= manifest["finished_at"]
    assert manifest["environment"]["python"].count(".") == 2
    assert manifest["synthetic_data"] is True
    assert verify_pack(pack).ok


# ------------------------------------------------------------------ failures
FAIL_CELL = "raise ValueError('deliberate failure for ' + language)"
SLEEP_CELL = "import time\ntime.sleep(60)"
DIE_CELL = "import os\nos._exit(1)"


@pytest.mark.slow  # ~25 s: a second build over a good pack
def test_failing_notebooks_keep_previous_pack(good_pack, data_dir, tmp_path, nb_writer):
    """A failing, a timed-out and a crashed notebook: old pack kept, partials saved, cells named."""
    out = tmp_path / "reports" / "2025"
    shutil.copytree(good_pack.path, out)
    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    nbs = tmp_path / "nbs"
    nb_writer(nbs / "00_ok.ipynb", ["print('fine')"])
    nb_writer(nbs / "10_fail.ipynb", ["x = 1", FAIL_CELL, "print('unreached')"])
    nb_writer(nbs / "20_slow.ipynb", ["y = 2", SLEEP_CELL])
    nb_writer(nbs / "30_dies.ipynb", [DIE_CELL])
    nb_writer(nbs / "90_summary.ipynb", ["print('summary')"])
    with pytest.raises(PipelineError) as info:
        run_evidence(2025, data_dir, out, notebooks_dir=nbs, timeout=4, check_data=False,
                     progress=False)
    message = str(info.value)
    assert "3 notebook(s) failed; the previous pack is unchanged" in message
    # cells: 0 markdown, 1 parameters (In [1]), 2 injected (In [2]), 3 "x = 1", 4 the failing one
    assert "10_fail.ipynb failed at cell 4 (In [4]): ValueError: deliberate failure for zh" in message
    assert "20_slow.ipynb failed at cell 4: CellTimeoutError: the cell ran longer than the 4 s" in message
    assert "30_dies.ipynb failed at cell 3: DeadKernelError: the kernel died" in message
    assert "00_ok" not in message
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    (failed,) = (tmp_path / "reports" / "2025.failed").iterdir()  # one timestamped run folder
    assert re.fullmatch(r"\d{8}T\d{6}Z", failed.name) and str(failed) in message
    partial = nbformat.read(failed / "10_fail.ipynb", as_version=4)
    assert partial.metadata.papermill.exception is True
    assert "An Exception was encountered" in (failed / "10_fail.html").read_text(encoding="utf-8")
    assert (failed / "10_fail.code.html").is_file() and (failed / "20_slow.ipynb").is_file()
    assert "10_fail.ipynb failed at cell 4" in (failed / "FAILED.txt").read_text(encoding="utf-8")
    assert _leftovers(out.parent) == []


def test_first_run_failure_writes_no_pack(data_dir, tmp_path, nb_writer):
    nbs = tmp_path / "nbs"
    nb_writer(nbs / "00_fail.ipynb", [FAIL_CELL])
    out = tmp_path / "reports" / "2025"
    with pytest.raises(PipelineError, match="no pack written"):
        run_evidence(2025, data_dir, out, notebooks_dir=nbs, workers=1, check_data=False,
                     progress=False)
    assert not out.exists()
    (failed,) = out.with_name("2025.failed").iterdir()
    assert (failed / "00_fail.ipynb").is_file()


def test_index_shows_summary_lines_when_no_estimates_were_saved():
    from evalkit.pipeline.index import headline_lines

    assert headline_lines({"headlines": [], "extra": {"summary": ["met 8", "not met 8"]}}) == ["met 8", "not met 8"]
    rows = [{"evaluation": "x", "estimator": "y", "estimate": 0.5, "conf_low": 0.1, "conf_high": 0.9, "p_value": 0.01}]
    assert headline_lines({"headlines": rows, "extra": {"summary": ["ignored"]}}) == ["x · y: 0.5 [0.1, 0.9], p = 0.01"]


def test_index_names_evaluations_in_the_pack_language():
    from evalkit.pipeline.index import headline_lines

    rows = [{"evaluation": "pilot_zone", "estimator": "SDID", "estimate": 0.07, "p_value": 0.0001}]
    assert headline_lines({"headlines": rows}, language="zh") == ["试验区 · SDID：0.07, p < 0.001"]
    assert headline_lines({"headlines": rows}, language="en") == ["Pilot zone · SDID: 0.07, p < 0.001"]


def test_index_leads_each_evaluation_with_the_verdict_the_summary_gives():
    """The index says what the page and the acceptance summary say (verdict, credibility, the
    finding in percent and 万元, the weak-IV-robust set), not the raw estimate of the first record."""
    from evalkit.pipeline.index import verdict_lines

    recentred = {"evaluation": "factor_fund", "estimator": "2SLS, z − E[z]", "estimate": 0.0057,
                 "conf_low": -0.0016, "conf_high": 0.1029, "p_value": 0.097, "assumption": "shock_exogeneity",
                 "preferred": True, "f_eff": 13.6, "f_critical": 23.1, "ar_intervals": [[-0.0041, 0.0166]],
                 "n_clusters": 16, "outcome": "log_revenue", "effect_scale": 1000, "outcome_mean": 7.5e6}
    ols = {"evaluation": "factor_fund", "estimator": "OLS", "estimate": 0.005, "conf_low": 0.0006,
           "conf_high": 0.0086, "p_value": 0.01, "assumption": "no_selection"}
    headlines = {"40_fund_allocation_effects": {"headlines": [ols, recentred]},
                 "60_targets_scorecard": {"headlines": [], "extra": {"summary": ["met 8"]}}}
    zh = verdict_lines(headlines, "zh")
    assert list(zh) == ["40_fund_allocation_effects"]
    assert zh["40_fund_allocation_effects"][0] == "尚无定论（可信度低）"
    assert "Anderson–Rubin" in zh["40_fund_allocation_effects"][1] and "0.1029" not in zh["40_fund_allocation_effects"][1]
    en = verdict_lines(headlines, "en")
    assert en["40_fund_allocation_effects"][0] == "Inconclusive (credibility: Low)"
    assert verdict_lines({"60_targets_scorecard": {"headlines": []}}, "zh") == {}
