"""Recover the planted pilot-zone effect on the demo panel.

Truth: ``data_raw/demo/truth.json`` -> ``pilot_zone.att`` (mean planted effect on log_revenue over
Weifang's unit-years from the pilot-zone start). Tolerance: 3 placebo standard errors (the demo
panel is one draw of a noisy data-generating process; a small extra bias of ~0.003 from other
policies is documented in ``truth.json`` as ``other_measures_did_bias``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.synth import synthetic_did

DEMO = Path(__file__).resolve().parents[2] / "data_raw" / "demo"


@pytest.mark.skipif(not (DEMO / "county_panel.csv").exists(), reason="demo panel not generated")
def test_sdid_recovers_pilot_zone_effect():
    from evalkit import data

    df = data.load_panel(DEMO)
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["pilot_zone"]["att"]
    r = synthetic_did(df, outcome="log_revenue", unit="unit_code", time="year",
                      treatment="pilot_zone", n_draws=100, seed=1)
    assert abs(r.estimate - truth) < 3 * r.std_error
    lo, hi = r.conf_int()
    assert lo > 0  # the effect is detected
