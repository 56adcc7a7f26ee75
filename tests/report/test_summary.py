"""Acceptance summary table built from saved headlines."""

from __future__ import annotations

import math

from evalkit import report
from evalkit.report.summary import acceptance_table, verdict


def test_acceptance_table_from_saved_headlines(tmp_path):
    report.save_headlines(tmp_path, "10_pilot_zone", [
        {"evaluation": "pilot_zone", "estimator": "DiD", "estimate": 0.03, "conf_low": -0.01, "conf_high": 0.07},
        {"evaluation": "pilot_zone", "estimator": "SDID", "estimate": 0.05, "conf_low": 0.02, "conf_high": 0.08,
         "pretrend_p": 0.6, "breakdown": 1.5, "preferred": True, "truth": 0.045},
    ])
    report.save_headlines(tmp_path, "30_first_unit_insurance", [
        {"estimator": "CS", "estimate": 0.04, "conf_low": 0.01, "conf_high": 0.07, "pretrend_p": 0.02},
        {"estimator": "TWFE", "estimate": -0.01, "conf_low": -0.03, "conf_high": 0.01},
    ])
    table = acceptance_table(report.load_headlines(tmp_path), "en").set_index("notebook")
    pz = table.loc["10_pilot_zone"]
    assert pz["estimator"] == "SDID" and pz["estimate"] == 0.05 and pz["agreement"] == "agree"
    assert "positive effect" in pz["verdict"] and "1.5x" in pz["verdict"]
    fu = table.loc["30_first_unit_insurance"]
    assert fu["estimator"] == "CS" and fu["agreement"] == "disagree"
    assert "pre-trend test rejects" in fu["verdict"] and "disagree" in fu["verdict"]
    assert table.loc["20_tech_upgrade_subsidies", "verdict"] == "no result"
    assert math.isnan(table.loc["20_tech_upgrade_subsidies", "estimate"])


def test_verdict_wording_zero_inside_interval():
    text = verdict({"conf_low": -0.1, "conf_high": 0.2, "pretrend_p": 0.5}, "zh")
    assert "包含零" in text and "不等于没有效应" in text
    assert "Cannot judge" in verdict({"conf_low": None, "conf_high": 1}, "en")


def test_agreement_is_translated_in_chinese(tmp_path):
    report.save_headlines(tmp_path, "30_first_unit_insurance", [
        {"estimator": "CS", "estimate": 0.04, "conf_low": 0.01, "conf_high": 0.07},
        {"estimator": "TWFE", "estimate": -0.01, "conf_low": -0.03, "conf_high": 0.01},
    ])
    row = acceptance_table(report.load_headlines(tmp_path), "zh").set_index("notebook").loc["30_first_unit_insurance"]
    assert row["agreement"] == "方向不一致" and "不同估计方法结论不一致" in row["verdict"]
