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
    tg.loc[2, "aggregation"] = "sum"
    path = tmp_path / "t.csv"
    tg.to_csv(path, index=False)
    with pytest.raises(SpecError, match=r"(?s)line 3 .*comparison 'at least'.*line 4 .*aggregation 'sum'"):
        targets.load_targets(path)


def test_about_n_accepts_exceeding():
    rows = [(y, "innovation_platforms_new", v) for y, v in zip(range(2021, 2026), [13, 9, 10, 12, 11], strict=True)]
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    assert card.loc["innovation_platforms_new", "status"] == "met"  # 9 is within 10% of "about 10"
    rows[1] = (2022, "innovation_platforms_new", 8)
    card = targets.scorecard(_ind(rows), 2025).set_index("indicator_id")
    assert card.loc["innovation_platforms_new", "years_missed"] == "2022"
