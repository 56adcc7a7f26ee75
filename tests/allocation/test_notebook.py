"""Run notebook 50_allocation_lab on the demo data with papermill (slow, notebook marker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.notebook
def test_allocation_lab_runs_on_demo(tmp_path):
    pm = pytest.importorskip("papermill")
    demo = ROOT / "data_raw" / "demo" / "allocation" / "factors.csv"
    if not demo.exists():
        pytest.skip("demo allocation data not generated")
    pm.execute_notebook(str(ROOT / "notebooks" / "50_allocation_lab.ipynb"),
                        str(tmp_path / "out.ipynb"),
                        parameters={"output_dir": str(tmp_path / "pack"), "n_draws": 2000,
                                    "data_dir": str(ROOT / "data_raw" / "demo")},
                        cwd=str(ROOT / "notebooks"), kernel_name="python3", progress_bar=False)
    saved = json.loads((tmp_path / "pack" / "results" / "50_allocation_lab.json")
                       .read_text(encoding="utf-8"))
    assert saved["extra"]["sum_equals_t_alloc"] is True
    assert sum(saved["extra"]["amounts"].values()) == saved["extra"]["t_alloc_wan"]
    assert (tmp_path / "pack" / "allocation" / "allocation_2025.xlsx").exists()
