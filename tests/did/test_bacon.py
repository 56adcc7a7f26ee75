"""Goodman-Bacon decomposition.

Published reference: R ``bacondecomp`` vignette / README (Flack and Jee), castle-doctrine data of
Cheng and Hoekstra (2013), ``bacon(l_homicide ~ post, id_var = "state", time_var = "year")``:
TWFE 0.0818; Earlier vs Later Treated weight 0.05976, avg_est -0.00554; Later vs Earlier Treated
0.03190, 0.07032; Treated vs Untreated 0.90834, 0.08796. Data: causaldata 0.1.5 ``castle.dta``,
whose ``post`` starts in the first *full* year of each law; the published coding starts one year
earlier (the year the law took effect), recoded in ``test_twfe.castle``.
Tolerances: half a unit of the last printed digit for the published table; 1e-10 for the exact
identity sum(weight * estimate) = TWFE coefficient.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_twfe import castle
from twfe_sim import staggered_panel

from evalkit._shared.exceptions import PanelDataError
from evalkit.did import bacon_decomposition, twfe

PUBLISHED = {
    "Earlier vs Later Treated": (0.05976, -0.00554),
    "Later vs Earlier Treated": (0.03190, 0.07032),
    "Treated vs Untreated": (0.90834, 0.08796),
}


def test_castle_matches_bacondecomp_vignette():
    r = bacon_decomposition(castle(), outcome="l_homicide", unit="sid", time="year", treatment="post_eff")
    assert round(r.twfe_estimate, 4) == 0.0818
    bt = r.by_type.set_index("type")
    assert set(bt.index) == set(PUBLISHED)
    for kind, (w, est) in PUBLISHED.items():
        assert abs(bt.loc[kind, "weight"] - w) <= 0.5e-5
        assert abs(bt.loc[kind, "avg_estimate"] - est) <= 0.5e-5
    assert abs(r.decomposition_sum - r.twfe_estimate) < 1e-10
    frame = r.to_frame()
    assert frame["term"].tolist() == list(bt.index)
    assert abs(frame["weight"].sum() - 1) < 1e-10


def test_identity_with_always_treated_units_and_twfe():
    df = staggered_panel(n_units=150, cohorts=(0, 2010, 2013, 2016), effect=lambda e: 1 + 0.4 * e, seed=4)
    r = bacon_decomposition(df, outcome="y", unit="unit", time="year", treatment="treat")
    tw = twfe(df, outcome="y", unit="unit", time="year", treatment="treat")
    assert abs(r.twfe_estimate - tw.estimate) < 1e-10
    assert abs(r.decomposition_sum - tw.estimate) < 1e-10
    assert abs(r.two_by_twos["weight"].sum() - 1) < 1e-10
    assert "Later vs Always Treated" in set(r.two_by_twos["type"])


def test_matches_diff_diff_on_simulated_panel():
    from diff_diff import BaconDecomposition

    df = staggered_panel(n_units=120, cohorts=(0, 2012, 2014, 2017), effect=lambda e: 0.5 + 0.3 * e, seed=12)
    r = bacon_decomposition(df, outcome="y", unit="unit", time="year", treatment="treat")
    dd = df.assign(first_treat=df["cohort"])
    peer = BaconDecomposition().fit(dd, outcome="y", unit="unit", time="year", first_treat="first_treat")
    assert abs(peer.twfe_estimate - r.twfe_estimate) < 1e-8
    pairs = peer.to_dataframe()
    pairs["control"] = [np.inf if c == "never_treated" else float(c) for c in pairs["control_group"]]
    pairs["treated"] = pairs["treated_group"].astype(float)
    mine = r.two_by_twos.assign(treated=lambda d: d["treated"].astype(float))
    m = mine.merge(pairs, on=["treated", "control"], suffixes=("", "_dd"))
    assert len(m) == len(mine) == len(pairs)
    np.testing.assert_allclose(m["estimate"], m["estimate_dd"], rtol=1e-8)
    np.testing.assert_allclose(m["weight"], m["weight_dd"], rtol=1e-8)


def test_bad_inputs(tmp_path):
    df = staggered_panel(n_units=40, seed=2)
    with pytest.raises(PanelDataError, match="balanced"):
        bacon_decomposition(df.iloc[1:], outcome="y", unit="unit", time="year", treatment="treat")
    off = df.copy()
    off.loc[(off["unit"] == 5) & (off["year"] == 2019), "treat"] = 0
    off.loc[(off["unit"] == 5), "treat"] = np.where(off.loc[off["unit"] == 5, "year"] == 2018, 1, 0)
    with pytest.raises(PanelDataError, match=r"switches off.*\b5\b"):
        bacon_decomposition(off, outcome="y", unit="unit", time="year", treatment="treat")
    import matplotlib

    matplotlib.use("Agg")
    r = bacon_decomposition(df, outcome="y", unit="unit", time="year", treatment="treat")
    ax = r.plot()
    ax.figure.savefig(tmp_path / "bacon.png")
    assert (tmp_path / "bacon.png").stat().st_size > 0
