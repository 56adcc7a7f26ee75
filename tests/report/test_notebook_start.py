"""The shared notebook opening: panel up to the year, synthetic flag, truth, p-value display."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import report

DEMO = Path(__file__).resolve().parents[2] / "data_raw" / "demo"


def test_start_on_demo_data_limits_years_and_reads_truth():
    nb = report.notebook.start(DEMO, year=2023, language="en", display_banner=False)
    assert nb.panel["year"].max() == 2023 and nb.synthetic and not nb.zh
    assert nb.panel.attrs.get("synthetic") is True
    assert "beta_per_1000_wan" in nb.truth("factor_fund")
    assert report.current().synthetic and report.current().language == "en"


def test_format_p_is_display_only():
    frame = pd.DataFrame({"p_value": [0.0001, 0.25, np.nan], "p_joint": [0.5, 1e-9, 0.01], "estimate": [1.0, 2.0, 3.0]})
    out = report.format_p(frame)
    assert out["p_value"].tolist() == ["<0.001", "0.250", ""]
    assert out["p_joint"].tolist() == ["0.500", "<0.001", "0.010"]
    assert frame["p_value"].iloc[0] == 0.0001 and out["estimate"].tolist() == [1.0, 2.0, 3.0]
