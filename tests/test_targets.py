"""Scorecard of the plan's numeric targets (evalkit.targets)."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit import targets
from evalkit._shared.exceptions import PanelDataError, SpecError


def _ind(rows):
    return pd.DataFrame(rows, columns=["year", "indicator_id", "value"])


def test_shipped_targets_cover_the_plan():
    tg = targets.load_targets()
    ids = set(tg["indicator_id"])
    assert {"above_scale_firms", "new_above_scale_firms", "firms_rev_ge_100yi", "clusters_1000yi"} <= ids
    row = tg.set_index("indicator_id").loc["above_scale_firms"]
    assert row["target_value"] == 4000 and row["comparison"] == "approx" and row["deadline"] == 2025


def test_level_approx_met_and_not_met():
    tg = targets.load_targets()
    ok = targets.scorecard(_ind([(2020, "above_scale_firms", 3100), (2025, "above_scale_firms", 3900)]), 2025, tg)
    assert ok.set_index("indicator_id").loc["above_scale_firms", "status"] == "met"  # within 5% of 4000
    bad = targets.scorecard(_ind([(2025, "above_scale_firms", 3700)]), 2025, tg)  # more than 5% short of "about 4000"
    assert bad.set_index("indicator_id").loc["above_scale_firms", "status"] == "not_met"


def test_each_year_lists_missed_years():
    rows = [(y, "new_above_scale_firms", v) for y, v in zip(range(2021, 2026), [320, 290, 310, 350, 301], strict=True)]
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    assert card.loc["new_above_scale_firms", "status"] == "not_met"
    assert card.loc["new_above_scale_firms", "years_missed"] == "2022"


def test_cumulative_sum_from_plan_start():
    rows = [(2020, "new_gazelle_unicorn", 40)] + [(y, "new_gazelle_unicorn", 11) for y in range(2021, 2026)]
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    assert card.loc["new_gazelle_unicorn", "value"] == 55  # 2020 not counted
    assert card.loc["new_gazelle_unicorn", "status"] == "met"


def test_before_deadline_on_or_off_track():
    rows = [(2020, "firms_rev_ge_100yi", 10), (2023, "firms_rev_ge_100yi", 17)]
    card = targets.scorecard(_ind(rows), 2023).set_index("indicator_id")
    # straight path 10 -> 20 over 2020..2025 expects 16 in 2023
    assert card.loc["firms_rev_ge_100yi", "expected_now"] == pytest.approx(16)
    assert card.loc["firms_rev_ge_100yi", "status"] == "on_track"
    rows[-1] = (2023, "firms_rev_ge_100yi", 12)
    assert targets.scorecard(_ind(rows), 2023).set_index("indicator_id").loc["firms_rev_ge_100yi", "status"] == "off_track"


def test_no_data_and_future_data_ignored():
    card = targets.scorecard(_ind([(2026, "above_scale_firms", 5000)]), 2025).set_index("indicator_id")
    assert card.loc["above_scale_firms", "status"] == "no_data"
    assert targets.summarise(card.reset_index())["no_data"] == len(card)


def test_bad_indicator_tables_raise():
    with pytest.raises(PanelDataError, match="duplicate"):
        targets.scorecard(_ind([(2025, "above_scale_firms", 1), (2025, "above_scale_firms", 2)]), 2025)
    with pytest.raises(PanelDataError, match="non-numeric"):
        targets.scorecard(_ind([(2025, "above_scale_firms", "many")]), 2025)


def test_malformed_targets_file_names_lines(tmp_path):
    tg = targets.load_targets()
    tg.loc[1, "comparison"] = "at least"
    tg.loc[2, "target_type"] = "sum"
    path = tmp_path / "t.csv"
    tg.to_csv(path, index=False)
    with pytest.raises(SpecError, match=r"(?s)line 3 .*comparison 'at least'.*line 4 .*target_type 'sum'"):
        targets.load_targets(path)


def test_about_n_accepts_exceeding():
    rows = [(y, "innovation_platforms_new", v) for y, v in zip(range(2021, 2026), [13, 9, 10, 12, 11], strict=True)]
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    assert card.loc["innovation_platforms_new", "status"] == "met"  # 9 is within 10% of "about 10"
    rows[1] = (2022, "innovation_platforms_new", 8)
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    assert card.loc["innovation_platforms_new", "years_missed"] == "2022"


# ------------------------------------------------------------------ target types (issue 12)
def test_shipped_target_types_baselines_and_departments():
    tg = targets.load_targets().set_index("indicator_id")
    assert tg.loc["new_gazelle_unicorn", "target_type"] == "累计" and tg.loc["new_gazelle_unicorn", "aggregation"] == "cumulative"
    assert tg.loc["new_above_scale_firms", "target_type"] == "每年"
    assert tg.loc["above_scale_firms", "target_type"] == "期末"
    assert (tg["baseline_year"] == 2020).all()
    assert tg.loc["above_scale_firms", "department_zh"].startswith("市工信局")
    assert pd.isna(tg.loc["industrial_revenue_yi", "department_zh"])  # the plan names none for this one


def test_cumulative_target_scored_and_plotted_on_the_running_total():
    rows = [(2020, "new_gazelle_unicorn", 6)] + [(y, "new_gazelle_unicorn", v)
                                                 for y, v in zip(range(2021, 2026), [9, 11, 11, 13, 13], strict=True)]
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    row = card.loc["new_gazelle_unicorn"]
    assert row["value"] == 57 and row["status"] == "met"  # yearly 13 < 50, but 57 in total since 2021
    assert row["completion"] == pytest.approx(57 / 50) and row["baseline"] == 6
    running = targets.cumulative_series(_ind(rows).set_index("year")["value"])
    assert running.tolist() == [9, 20, 31, 44, 57]
    assert targets.reason_text(row, 2025, "zh") == ""


def test_cumulative_target_not_met_gives_reason():
    rows = [(y, "new_gazelle_unicorn", 8) for y in range(2021, 2026)]
    row = targets.scorecard(_ind(rows), 2025).set_index("indicator_id").loc["new_gazelle_unicorn"]
    assert row["status"] == "not_met" and row["completion"] == pytest.approx(0.8)
    assert targets.reason_text(row, 2025, "zh") == "2021 年以来累计 40家，未达到50家以上"
    assert targets.reason_text(row, 2025, "en") == "40 firms in total since 2021, short of at least 50 firms"


def test_each_year_completion_is_the_worst_year():
    rows = [(y, "new_above_scale_firms", v) for y, v in zip(range(2021, 2026), [321, 341, 311, 310, 277], strict=True)]
    row = targets.scorecard(_ind(rows), 2025).set_index("indicator_id").loc["new_above_scale_firms"]
    assert row["status"] == "not_met" and row["years_missed"] == "2025" and row["worst_year"] == 2025
    assert row["completion"] == pytest.approx(277 / 300)
    assert targets.reason_text(row, 2025, "zh") == "2025 年未达到每年300家以上"


def test_level_target_equal_to_its_value_is_met_and_about_n_uses_tolerance():
    row = targets.scorecard(_ind([(2025, "chain_chief_chains", 15)]), 2025).set_index("indicator_id").loc["chain_chief_chains"]
    assert row["status"] == "met" and row["completion"] == pytest.approx(1.0)
    tg = targets.load_targets().set_index("indicator_id")
    assert targets.rule_text(tg.loc["above_scale_firms"], "zh") == "4,000家左右（不低于3,800家，容差5%）"
    assert targets.rule_text(tg.loc["rd_institution_coverage"], "en") == "at least 100%"
    bad = targets.scorecard(_ind([(2025, "above_scale_firms", 3700)]), 2025).set_index("indicator_id").loc["above_scale_firms"]
    assert targets.reason_text(bad, 2025, "zh") == "2025 年为 3,700家，未达到4,000家左右（不低于3,800家，容差5%）"


def test_rerun_in_a_later_year_scores_the_deadline_year_value():
    rows = [(2020, "above_scale_firms", 2988), (2025, "above_scale_firms", 3960), (2026, "above_scale_firms", 3500)]
    row = targets.scorecard(_ind(rows), 2026).set_index("indicator_id").loc["above_scale_firms"]
    assert row["value"] == 3960 and row["value_year"] == 2025 and row["status"] == "met"
    assert row["baseline"] == 2988


def test_level_target_without_deadline_value_says_why():
    row = targets.scorecard(_ind([(2024, "above_scale_firms", 3960)]), 2025).set_index("indicator_id").loc["above_scale_firms"]
    assert row["status"] == "no_data" and targets.reason_text(row, 2025, "zh") == "缺少 2025 年数据"


def test_older_tables_with_aggregation_column_still_load(tmp_path):
    tg = targets.load_targets().drop(columns=["target_type", "data_source_zh", "baseline_year"])
    path = tmp_path / "old.csv"
    tg.to_csv(path, index=False)
    again = targets.load_targets(path).set_index("indicator_id")
    assert again.loc["new_gazelle_unicorn", "target_type"] == "累计" and (again["baseline_year"] == 2020).all()
