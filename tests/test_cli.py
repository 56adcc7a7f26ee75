"""Tests of the ``evalkit`` command line: subcommands, defaults, exit codes and messages.

Exit codes: 0 success, 1 failed notebook / pack that does not verify, 2 bad input.
Tolerances: none.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit import __version__
from evalkit.cli import build_parser, main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"evalkit {__version__}"
    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"evidence", "demo-data", "verify"} <= set(commands)
    if importlib.util.find_spec("evalkit.allocation.cli") is not None:
        assert {"allocate", "allocate-compare"} <= set(commands)


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("evalkit")
    exe = str(script) if script.exists() else shutil.which("evalkit")
    assert exe, "the evalkit console script is not installed: pip install -e ."
    done = subprocess.run([exe, "evidence", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--year" in done.stdout and "reports/<year>" in done.stdout


def test_usage_errors_exit_2_with_a_message(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["evidence", "--year", "twenty"])
    assert info.value.code == 2 and "expected a year" in capsys.readouterr().err
    assert main(["evidence", "--year", "2025", "--data", "missing", "--notebooks-dir", "."]) == 2
    assert "Data folder 'missing' does not exist" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "has no manifest.json" in capsys.readouterr().err


def test_bad_notebook_and_parameter_options_exit_2(tmp_path, capsys, notebook_factory, data_dir):
    notebook_factory("00_x")
    base = ["evidence", "--year", "2025", "--data", str(data_dir),
            "--notebooks-dir", str(tmp_path / "notebooks"), "--out", str(tmp_path / "out")]
    assert main(base + ["--notebooks", "55_nope"]) == 2
    assert "Unknown notebook(s): 55_nope" in capsys.readouterr().err
    assert main(base + ["-p", "no-colon=1"]) == 2
    assert "write NOTEBOOK:NAME=VALUE" in capsys.readouterr().err
    assert main(base + ["-p", "00_x:evil; import os=1"]) == 2
    assert "unknown parameter 'evil; import os'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # ~16 s: a pack built through the command line
def test_evidence_then_verify_then_tamper(tmp_path, capsys, monkeypatch, nb_writer):
    """Default --out is reports/<year>; -p values are typed; verify passes, then fails."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "county_panel.csv").write_text("unit_code,year\n370702,2026\n")
    (data / "SYNTHETIC").write_text("demo")
    nb_writer(tmp_path / "notebooks" / "00_x.ipynb",
              ["assert isinstance(code, str) and code == '01234', repr(code)\nprint(year, code)"],
              extra_parameters='code: str = "370702"  # a unit code\n')
    monkeypatch.setattr("evalkit.pipeline.build._inspect_data", lambda d, y, s, c, *rest: True)
    code = main(["evidence", "--year", "2026", "--data", str(data), "--quiet",
                 "-p", "00_x:code=01234", "--workers", "1"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "reports/2026/index.html (1 ok)" in out.out
    assert main(["verify", "reports/2026"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
    index = tmp_path / "reports" / "2026" / "index.html"
    index.write_bytes(index.read_bytes().replace(b"2026", b"2027", 1))
    assert main(["verify", "reports/2026"]) == 1
    assert "output file changed: index.html" in capsys.readouterr().err


def test_failing_notebook_exits_1_naming_notebook_and_cell(
    tmp_path, capsys, nb_writer, data_dir, monkeypatch
):
    monkeypatch.setattr("evalkit.pipeline.build._inspect_data", lambda d, y, s, c, *rest: True)
    nb_writer(tmp_path / "nbs" / "00_bad.ipynb", ["1 / 0"])
    code = main(["evidence", "--year", "2025", "--data", str(data_dir), "--quiet",
                 "--notebooks-dir", str(tmp_path / "nbs"), "--out", str(tmp_path / "r" / "2025")])
    err = capsys.readouterr().err
    assert code == 1
    assert "00_bad.ipynb failed at cell 3 (In [3]): ZeroDivisionError: division by zero" in err
    assert not (tmp_path / "r" / "2025").exists()


def test_demo_data_end_year(tmp_path, capsys):
    from evalkit.data import is_synthetic, load_panel

    assert main(["demo-data", "--end-year", "2026", "--out", str(tmp_path / "demo2026")]) == 0
    assert "2012-2026" in capsys.readouterr().out
    panel = load_panel(tmp_path / "demo2026")
    assert int(panel["year"].max()) == 2026 and is_synthetic(tmp_path / "demo2026")
