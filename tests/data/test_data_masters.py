"""Unit masters and the code crosswalk shipped inside the package (no tolerances: exact)."""

from __future__ import annotations

from evalkit.data import crosswalk, shandong_counties, unit_master, weifang_units


def test_shandong_counties():
    sd = shandong_counties()
    assert len(sd) == 136 and sd["unit_code"].is_unique
    assert sd["prefecture_code"].nunique() == 16
    assert all(isinstance(c, str) and len(c) == 6 for c in sd["unit_code"])
    assert set(sd["unit_type"]) == {"district", "county", "county_city"}
    assert sd["name_en"].str.len().gt(0).all()
    assert sd.set_index("unit_code").loc["370783", "name_en"] == "Shouguang City"


def test_weifang_units_and_master():
    wf = weifang_units()
    assert len(wf) == 17
    assert wf.set_index("unit_code").loc["WF-Z-JKQ", "is_panel_unit"] == 0
    um = unit_master()
    assert len(um) == 140 and um["unit_code"].is_unique
    w = um[um.in_weifang == 1]
    assert len(w) == 16 and (w.unit_type == "zone").sum() == 4
    assert um.loc[um.unit_type == "zone", "map_polygon"].eq(0).all()


def test_crosswalk_targets_are_current_codes():
    cw = crosswalk()
    current = set(unit_master()["unit_code"])
    assert cw["old_code"].is_unique
    assert set(cw["new_code"]) <= current
    assert not set(cw["old_code"]) & current
    assert cw["source"].str.len().gt(10).all()
    row = cw.set_index("old_code")
    assert row.loc["371202", "new_code"] == "370116" and row.loc["371202", "effective_year"] == 2019
    assert row.loc["370684", "new_code"] == row.loc["370634", "new_code"] == "370614"
    assert row.loc["370282", "new_code"] == "370215"
