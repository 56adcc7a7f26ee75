"""Verdict and credibility rules, the acceptance table and the conclusion document.

The factor-fund case uses the numbers of the 2025 demo pack quoted in issue 11 (2SLS with the
formula instrument 0.0111 [0.0047, 0.0176]; recentred IV 0.0057 [-0.0024, 0.0139], p = 0.155,
effective F 14.5 < 23.1). Tolerances: exact (rules on given numbers; percentages to 0.1).
"""

from __future__ import annotations

import math
import os

import pytest

from evalkit import report
from evalkit._shared.exceptions import EvalkitError
from evalkit.report.conclusion import build_conclusion
from evalkit.report.summary import acceptance_table, effect_sentence, verdict
from evalkit.report.verdict import credibility, preferred_interval

RECENTRED = {"evaluation": "factor_fund", "estimator": "2SLS, z − E[z]", "estimate": 0.0057,
             "conf_low": -0.0024, "conf_high": 0.0139, "p_value": 0.155, "assumption": "shock_exogeneity",
             "preferred": True, "f_eff": 14.5, "f_critical": 23.1, "ar_intervals": [[-0.0040, 0.0210]],
             "n_clusters": 16, "outcome": "log_revenue", "effect_scale": 1000, "outcome_mean": 5.0e6}
FORMULA = {"evaluation": "factor_fund", "estimator": "2SLS, z", "estimate": 0.0111, "conf_low": 0.0047,
           "conf_high": 0.0176, "p_value": 0.006, "assumption": "formula_exogeneity", "f_eff": 30.0,
           "f_critical": 23.1}


def _did(name, est, lo, hi, **kw):
    return {"estimator": name, "estimate": est, "conf_low": lo, "conf_high": hi, "p_value": 1e-4,
            "assumption": "parallel_trends", "outcome": "log_revenue", **kw}


def test_factor_fund_case_is_not_supports():
    """The recentred IV is preferred; the positive formula-IV interval does not decide the verdict."""
    v = verdict([RECENTRED, FORMULA], "zh")
    assert v.kind == "inconclusive"
    assert "Anderson–Rubin" in v.sentence and "14.5" in v.sentence and "23.1" in v.sentence
    assert "2SLS, z" in v.sentence and "另一假设" in v.sentence
    # the old summary's wording must not come back
    assert "支持正向效应" not in v.sentence
    # even a strong-looking preferred Wald interval is replaced by the AR set when F is weak
    strong_wald = {**RECENTRED, "conf_low": 0.001, "conf_high": 0.02}
    assert verdict([strong_wald, FORMULA], "en").kind == "inconclusive"
    assert preferred_interval(strong_wald)[2] == "ar"
    cred = credibility([RECENTRED, FORMULA], "en")
    assert cred.rating == "low" and any("weak instrument" in r for r in cred.reasons(("problem",)))


def test_weak_instrument_with_ar_set_above_zero_can_support():
    row = {**RECENTRED, "ar_intervals": [[0.002, None]]}  # unbounded above, excludes zero
    v = verdict([row], "en")
    assert v.kind == "supports_positive" and "∞" in v.sentence
    assert "Anderson–Rubin" in effect_sentence(row, "factor_fund", "en")


def test_strong_instrument_uses_the_wald_interval():
    row = {**RECENTRED, "f_eff": 40.0, "conf_low": 0.001, "conf_high": 0.01}
    assert preferred_interval(row) == (0.001, 0.01, "wald")
    assert verdict([row], "en").kind == "supports_positive"


def test_preferred_interval_spanning_zero_is_inconclusive():
    rows = [_did("CS", 0.03, -0.01, 0.07, preferred=True), _did("BJS", 0.04, 0.01, 0.07)]
    v = verdict(rows, "zh")
    assert v.kind == "inconclusive" and "包含零" in v.sentence and "并不证明没有效应" in v.sentence


def test_disagreement_under_the_same_assumption_is_mixed():
    rows = [_did("CS", 0.05, 0.02, 0.08, preferred=True), _did("SA", -0.04, -0.07, -0.01),
            {**_did("TWFE", -0.2, -0.3, -0.1), "assumption": "parallel_trends_homogeneous"}]
    v = verdict(rows, "en")
    assert v.kind == "mixed" and "SA" in v.sentence and "TWFE" not in v.sentence
    assert credibility(rows, "en").rating == "low"


def test_agreement_supports_and_other_assumptions_do_not_count():
    rows = [_did("CS", 0.05, 0.02, 0.08, preferred=True), _did("BJS", 0.06, 0.03, 0.09),
            {**_did("TWFE", -0.2, -0.3, -0.1), "assumption": "parallel_trends_homogeneous"}]
    v = verdict(rows, "en")
    assert v.kind == "supports_positive" and "BJS" in v.sentence


def test_non_overlapping_intervals_disagree():
    rows = [_did("CS", 0.05, 0.04, 0.06, preferred=True), _did("BJS", 0.20, 0.15, 0.25)]
    assert verdict(rows, "en").kind == "mixed"


def test_credibility_rules():
    good = _did("CS", 0.10, 0.05, 0.15, preferred=True, pretrend_p=0.5, pretrend_power_bias=0.01,
                breakdown=1.5, n_clusters=120, n_treated=40)
    rows = [good, _did("BJS", 0.11, 0.06, 0.16)]
    assert credibility(rows, "en").rating == "high"
    # one caution keeps "high"; two give "medium"; three give "low", like a problem
    assert credibility([{**good, "breakdown": 0.7}, rows[1]], "en").rating == "high"
    assert credibility([{**good, "breakdown": 0.7, "pretrend_p": 0.07}, rows[1]], "en").rating == "medium"
    assert credibility([{**good, "breakdown": 0.7, "pretrend_p": 0.07, "n_clusters": 16}, rows[1]],
                       "en").rating == "low"
    # unchecked is not better than checked: pre-test power and breakdown not computed and no second
    # estimate under the assumption are three cautions (page 20 of the demo pack was rated medium)
    unchecked = credibility([{**good, "pretrend_power_bias": None, "breakdown": None}], "en")
    assert unchecked.rating == "low" and len(unchecked.flagged()) == 3
    # a problem gives "low": failed pre-trend test at 5 %, or a very low breakdown value
    assert credibility([{**good, "pretrend_p": 0.01}, rows[1]], "en").rating == "low"
    assert credibility([{**good, "breakdown": 0.2}, rows[1]], "en").rating == "low"
    # a low-power pre-test and few clusters are cautions
    few = credibility([{**good, "pretrend_power_bias": 0.08, "n_clusters": 16}, rows[1]], "en")
    assert few.rating == "medium" and {c.name for c in few.flagged()} == {"power", "clusters"}
    # spillovers: the estimate without bordering counties moving by more than 25 % is a caution
    spill = credibility([{**good, "spillover_estimate": 0.05}, rows[1]], "en")
    assert [c.name for c in spill.flagged()] == ["spillover"]


def test_unknown_assumption_and_two_preferred_rows_raise():
    from evalkit.results import ScalarEffect

    with pytest.raises(EvalkitError, match="Unknown identifying assumption 'parallel'"):
        report.headline("x", "y", ScalarEffect(0.1, 0.01), assumption="parallel")
    with pytest.raises(EvalkitError, match="More than one headline record"):
        verdict([_did("a", 1, 0.5, 1.5, preferred=True), _did("b", 1, 0.5, 1.5, preferred=True)])


def test_effect_in_own_terms():
    row = _did("SDID", 0.0737, 0.045, 0.102, p_value=1e-6)
    text = effect_sentence(row, "pilot_zone", "zh")
    assert "约提高 7.6%" in text and "4.6% 至 10.7%" in text and "p<0.001" in text
    money = effect_sentence({**RECENTRED, "f_eff": 40.0}, "factor_fund", "zh")
    # 100 (e^0.0057 - 1) % = 0.57 %; of 5,000,000 万元 that is 28,581 万元 per 1,000 万元
    assert "每增加 1,000 万元" in money and "0.57%" in money and "28,581 万元" in money


def test_acceptance_table_and_conclusion_from_saved_headlines(tmp_path):
    report.save_headlines(tmp_path, "40_fund_allocation_effects", [RECENTRED, FORMULA])
    report.save_headlines(tmp_path, "30_first_unit_insurance", [
        _did("CS", 0.10, 0.05, 0.15, preferred=True, pretrend_p=0.064), _did("BJS", 0.11, 0.06, 0.16)])
    saved = report.load_headlines(tmp_path)
    assert saved["30_first_unit_insurance"]["headlines"][0]["agrees_with"] == ["BJS"]
    table = acceptance_table(saved, "zh").set_index("notebook")
    assert table.loc["40_fund_allocation_effects", "verdict_kind"] == "inconclusive"
    assert table.loc["40_fund_allocation_effects", "section"] == "三(六)4"
    fu = table.loc["30_first_unit_insurance"]
    assert fu["verdict_kind"] == "supports_positive" and fu["p_value"] == "<0.001"
    assert "10% 门槛" in fu["caveat"]  # the threshold is stated
    assert table.loc["10_pilot_zone", "verdict_kind"] == "no_result"
    c = build_conclusion(saved, None, year=2025, language="zh")
    html = c.to_html()
    for title in ("综合结论", "政策措施成效", "问题与建议", "数据来源与口径", "术语表"):
        assert title in html
    assert "nan" not in html.lower()
    assert any("因素法资金分配" in p and "尚无定论" in p for p in c.problems)


def test_conclusion_docx_reads_back(tmp_path):
    docx = pytest.importorskip("docx")
    report.save_headlines(tmp_path, "40_fund_allocation_effects", [RECENTRED, FORMULA])
    c = build_conclusion(report.load_headlines(tmp_path), None, year=2025, language="zh", synthetic=True)
    path = c.to_docx(tmp_path / "out" / "conclusion.docx")
    doc = docx.Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    for sentence in c.table["sentence"]:
        assert sentence in cells
    for sentence in c.table["verdict_sentence"]:
        assert sentence in cells
    assert c.overall[0] in text and "合成演示数据" in text
    section = doc.sections[0]
    assert math.isclose(section.page_width.cm, 21.0, abs_tol=0.01)
    assert math.isclose(section.page_height.cm, 29.7, abs_tol=0.01)
    # every printed page: the synthetic mark in the header, "第 n 页，共 N 页" (Word fields) in the footer
    assert section.header.paragraphs[0].text == "合成演示数据 · 非真实统计"
    footer = section.footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer and 'w:instr="NUMPAGES"' in footer and "共" in footer
    assert not list((tmp_path / "out").glob("*.tmp"))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not mkstemp's 0600


def test_supported_effect_mentions_an_estimate_under_another_assumption_that_spans_zero():
    """Technology subsidies: receiving a subsidy raises revenue (ATT, parallel trends), but the dose
    response (ACRT, strong parallel trends) includes zero: the verdict stays 'supports' and says so,
    so that it is not read as 'more subsidy, more effect'."""
    att = _did("ATT", 0.078, 0.057, 0.100, preferred=True)
    acrt = {**_did("ACRT", 0.0145, -0.0101, 0.0391), "assumption": "strong_parallel_trends"}
    v = verdict([att, acrt], "en")
    assert v.kind == "supports_positive"
    assert "another estimate (ACRT)" in v.sentence and "includes zero" in v.sentence
    assert "no selection on gains" in v.sentence
    # an estimate under another assumption that excludes zero adds nothing to a supported verdict
    twfe = {**_did("TWFE", 0.09, 0.06, 0.12), "assumption": "parallel_trends_homogeneous"}
    assert "another estimate" not in verdict([att, twfe], "en").sentence
