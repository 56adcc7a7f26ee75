"""End-to-end evidence runs of the real ``notebooks/00_data_audit`` on the demo data.

- 2025 in Chinese on the shipped demo data (``data_raw/demo``; generated into a temporary folder
  when the checkout does not have it yet), checked with ``evalkit verify`` and, when Chromium is
  installed, in the headless browser;
- a rerun for 2026 in English on demo data generated through 2026 (``evalkit demo-data
  --end-year 2026``), as a new year's researchers would do it.

Both are marked ``slow`` (each takes 20-60 s on 2 cores). Tolerances: none.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.pipeline import run_evidence
from evalkit.verify import verify_pack

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _demo_dir(tmp_path: Path) -> Path:
    shipped = ROOT / "data_raw" / "demo"
    if (shipped / "county_panel.csv").exists():
        return shipped
    from evalkit.data import write_demo

    return write_demo(tmp_path / "demo", end_year=2025)


def test_data_audit_2025_on_demo_data(tmp_path, request):
    data = _demo_dir(tmp_path)
    pack = run_evidence(2025, data, tmp_path / "reports" / "2025", notebooks=["00_data_audit"],
                        notebooks_dir=NOTEBOOKS, progress=False)
    (run,) = pack.runs
    assert run.status == "ok" and run.title == "数据审计"  # one language per page
    saved = json.loads((pack.path / "results" / "00_data_audit.json").read_text(encoding="utf-8"))
    assert saved["title"] == "数据审计" and saved["extra"]["synthetic"] is True
    assert saved["headlines"][0]["estimate"] > 0
    index = pack.index.read_text(encoding="utf-8")
    assert "合成演示数据" in index and "数据审计" in index
    page = (pack.path / "00_data_audit.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') >= 4  # heat maps, trends, map
    assert "Traceback" not in page and "Warning" not in page
    assert verify_pack(pack.path).ok
    assert pack.manifest["parameters"]["notebooks"]["00_data_audit"]["data_dir"] == str(data.resolve())
    if shutil.which("chromium") or os.environ.get("EVALKIT_CHROMIUM"):
        browse = request.getfixturevalue("browse")
        assert browse(pack.index)["problems"] == []


def test_rerun_for_2026_in_english(tmp_path, capsys, monkeypatch):
    assert main(["demo-data", "--end-year", "2026", "--out", str(tmp_path / "demo2026")]) == 0
    monkeypatch.chdir(tmp_path)
    code = main(["evidence", "--year", "2026", "--data", "demo2026", "--language", "en",
                 "--notebooks", "00_data_audit", "--notebooks-dir", str(NOTEBOOKS), "--quiet"])
    out = capsys.readouterr()
    assert code == 0, out.err
    pack = tmp_path / "reports" / "2026"
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["year"] == 2026 and manifest["parameters"]["language"] == "en"
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DEMO DATA" in index and "evidence pack · 2026" in index
    saved = json.loads((pack / "results" / "00_data_audit.json").read_text(encoding="utf-8"))
    assert saved["headlines"][0]["note"] == "2012-2026"
    assert main(["verify", str(pack)]) == 0
