"""Tests of ``evalkit.did.continuous`` (Callaway, Goodman-Bacon and Sant'Anna 2024).

Tolerances
----------
* Against diff-diff 3.13 ``ContinuousDiD`` (an independent implementation of CGBS 2024 following
  R ``contdid``) on the same data, basis (clamped cubic B-spline, same knots), dose grid and cell
  weights: estimates 1e-10 absolute, analytic standard errors 1e-8 relative. The one documented
  difference: our ACRT^o influence function adds the sampling variation of the treated doses
  (``(ψ'(D_i)'β − ACRT^o)/n``), which diff-diff omits, so ours is >= theirs.
* Simulation with a known ATT(d) (``_dose_sim.att_true``): Monte-Carlo mean within 4 Monte-Carlo
  standard errors of the truth; coverage of 95% intervals of ATT^o within [0.85, 1].
* TWFE: coefficient against linearmodels ``PanelOLS`` (entity and time effects) 1e-8 relative;
  clustered SE against an explicit-dummy numpy sandwich with the registry's CR1 convention
  (G/(G-1), absorbed effects not counted) 1e-8; the dCDH (2020) decomposition identity 1e-10.
* Binned estimator against a hand computation with pandas (1e-12).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _dose_sim import acrt_true, att_true, simulate_dose_panel

from evalkit import did
from evalkit._shared.exceptions import NoControlUnitsError, PanelDataError

KW = dict(outcome="y", unit="unit", time="time", dose="dose", cohort="cohort")


@pytest.mark.parametrize("knots,control", [(0, "never_treated"), (2, "not_yet_treated")])
def test_matches_diff_diff(knots, control):
    diff_diff = pytest.importorskip("diff_diff")
    df = simulate_dose_panel(500, 8, cohorts=(4, 6), seed=1)
    r = did.continuous(df, **KW, knots=knots, control_group=control, n_draws=0, twfe=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = diff_diff.ContinuousDiD(degree=3, num_knots=knots, control_group=control,
                                      n_bootstrap=0).fit(
            df, outcome="y", unit="unit", time="time", first_treat="cohort", dose="dose")
    np.testing.assert_allclose(r.att_d.dose, ref.dose_response_att.dose_grid, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.att_d.params, ref.dose_response_att.effects, atol=1e-10)
    np.testing.assert_allclose(r.acrt_d.params, ref.dose_response_acrt.effects, atol=1e-10)
    np.testing.assert_allclose(r.att_d.std_errors, ref.dose_response_att.se, rtol=1e-8)
    np.testing.assert_allclose(r.acrt_d.std_errors, ref.dose_response_acrt.se, rtol=1e-8)
    assert r.att_overall.estimate == pytest.approx(ref.overall_att, abs=1e-10)
    assert r.acrt_overall.estimate == pytest.approx(ref.overall_acrt, abs=1e-10)
    assert r.att_overall.std_error == pytest.approx(ref.overall_att_se, rel=1e-8)
    assert r.acrt_overall.std_error >= ref.overall_acrt_se * (1 - 1e-12)


def test_recovers_known_curve_monte_carlo():
    reps, est, ato, cover = 40, [], [], 0
    grid = np.array([1.0, 1.5, 2.0, 2.5])
    # truth of the averages for D ~ U(0.5, 3): E[0.5 D + 0.1 D^2], E[0.5 + 0.2 D]
    ed2 = (3**3 - 0.5**3) / (3 * 2.5)
    att_o_true = 0.5 * 1.75 + 0.1 * ed2
    acrt_o_true = 0.5 + 0.2 * 1.75
    acrt_o = []
    for s in range(reps):
        df = simulate_dose_panel(400, 6, cohorts=(3, 5), seed=100 + s)
        r = did.continuous(df, **KW, dose_grid=grid, n_draws=0, twfe=False)
        est.append(np.r_[r.att_d.params.to_numpy(), r.acrt_d.params.to_numpy()])
        ato.append(r.att_overall.estimate)
        acrt_o.append(r.acrt_overall.estimate)
        lo, hi = r.att_overall.conf_int()
        cover += lo <= att_o_true <= hi
    est = np.array(est)
    truth = np.r_[att_true(grid), acrt_true(grid)]
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(est.mean(axis=0) - truth) < 4 * mc_se)
    assert abs(np.mean(ato) - att_o_true) < 4 * np.std(ato, ddof=1) / np.sqrt(reps)
    assert abs(np.mean(acrt_o) - acrt_o_true) < 4 * np.std(acrt_o, ddof=1) / np.sqrt(reps)
    assert 0.85 <= cover / reps <= 1.0


def test_binned_matches_hand_computation():
    df = simulate_dose_panel(300, 5, cohorts=(3,), seed=3)
    r = did.continuous(df, **KW, method="binned", n_bins=3, n_draws=0, twfe=False)
    wide = df.pivot(index="unit", columns="time", values="y")
    unit = df.groupby("unit")[["dose", "cohort"]].first()
    tr = unit[unit.cohort == 3]
    edges = np.quantile(tr.dose, [0, 1 / 3, 2 / 3, 1])
    b = np.clip(np.searchsorted(edges[1:-1], tr.dose, side="right"), 0, 2)
    att = np.zeros(3)
    for t in (3, 4, 5):  # post periods, base period 2, equal weights
        dy = wide[t] - wide[2]
        ctrl = dy[unit.cohort == 0].mean()
        att += np.array([dy[tr.index[b == j]].mean() - ctrl for j in range(3)]) / 3
    np.testing.assert_allclose(r.att_d.params, att, atol=1e-12)
    centers = np.array([tr.dose[b == j].mean() for j in range(3)])
    np.testing.assert_allclose(r.att_d.dose, centers, atol=1e-12)
    acrt = np.diff(np.r_[0, att]) / np.diff(np.r_[0, centers])
    np.testing.assert_allclose(r.acrt_d.params, acrt, atol=1e-12)
    assert "dose" in r.att_d.to_frame().columns


def test_bands_and_outputs():
    df = simulate_dose_panel(400, 6, cohorts=(3, 5), seed=4)
    r = did.continuous(df, **KW, n_draws=499, seed=1)
    fr = r.att_d.to_frame()
    assert {"dose", "estimate", "conf_low_uniform", "conf_high_uniform"} <= set(fr.columns)
    assert set(fr.columns) >= {"term", "group", "time", "event_time", "std_error", "p_value"}
    assert np.all(fr.conf_high_uniform - fr.conf_low_uniform > fr.conf_high - fr.conf_low)
    crit = r.att_d.critical_value(uniform=True)
    assert 1.96 < crit < 4.5
    text = r.summary()
    assert "STRONG parallel trends" in text and "parallel trends" in text
    assert 0 <= r.pretrend_test()["p_value"] <= 1
    assert len(r.to_frame()) == 2 * len(r.att_d.params) + 3


def test_twfe_against_linearmodels_and_weight_identity():
    from linearmodels.panel import PanelOLS

    df = simulate_dose_panel(200, 6, cohorts=(3, 5), seed=5)
    r = did.continuous(df, **KW, n_draws=0)
    p = df.assign(dpost=lambda d: d.dose * ((d.time >= d.cohort) & (d.cohort > 0))).set_index(
        ["unit", "time"])
    m = PanelOLS(p.y, p[["dpost"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    assert r.twfe.estimate == pytest.approx(m.params["dpost"], rel=1e-8)
    # CR1 with the registry's default convention (fixest: unit effects nested in the clusters
    # not counted, the T-1 time effects and one constant counted in k): explicit dummies
    d = p.reset_index()
    X = np.column_stack([d.dpost, pd.get_dummies(d.unit, dtype=float),
                         pd.get_dummies(d.time, dtype=float).iloc[:, 1:]])
    b, *_ = np.linalg.lstsq(X, d.y, rcond=None)
    e = d.y - X @ b
    bread = np.linalg.pinv(X.T @ X)
    sc = pd.DataFrame(X * e.to_numpy()[:, None]).groupby(d.unit.to_numpy()).sum().to_numpy()
    G = d.unit.nunique()
    n, T = len(d), d.time.nunique()
    v = bread @ sc.T @ sc @ bread * G / (G - 1) * (n - 1) / (n - 1 - T)
    assert r.twfe.estimate == pytest.approx(b[0], rel=1e-8)
    assert r.twfe.std_error == pytest.approx(np.sqrt(v[0, 0]), rel=1e-8)
    # dCDH (2020): with no noise, beta_TWFE = sum_{treated cells} w_it * effect_it / D_it
    df0 = simulate_dose_panel(200, 6, cohorts=(3, 5), seed=5, noise=0.0)
    r0 = did.continuous(df0, **KW, n_draws=0)
    w = r0.twfe_weights
    per_dose = att_true(w.dose) / w.dose
    assert r0.twfe.estimate == pytest.approx(float((w.weight * per_dose).sum()), abs=1e-10)
    assert w.weight.sum() == pytest.approx(1.0, abs=1e-12)
    nw = r0.twfe_negative_weights
    assert nw["n_negative"] == int((w.weight < 0).sum()) and nw["sum_negative"] <= 0


def test_cluster_equal_to_unit_gives_same_se():
    df = simulate_dose_panel(200, 5, cohorts=(3,), seed=6)
    a = did.continuous(df, **KW, n_draws=0, twfe=False)
    b = did.continuous(df.assign(cl=df.unit), **KW, n_draws=0, twfe=False, cluster="cl")
    np.testing.assert_allclose(a.att_d.std_errors, b.att_d.std_errors, rtol=1e-12)
    c = did.continuous(df.assign(cl=df.unit // 4), **KW, n_draws=0, twfe=False, cluster="cl")
    assert not np.allclose(a.att_d.std_errors, c.att_d.std_errors)


def test_bad_input_errors():
    df = simulate_dose_panel(100, 5, cohorts=(3,), seed=7)
    bad = df.copy()
    bad.loc[bad.index[bad.dose > 0][0], "dose"] = -1.0
    with pytest.raises(PanelDataError, match="negative"):
        did.continuous(bad, **KW)
    with pytest.raises(NoControlUnitsError, match="zero-dose"):
        did.continuous(df[df.cohort > 0], **KW)
    ch = df.copy()
    u = ch.loc[ch.cohort > 0, "unit"].iloc[0]
    ch.loc[(ch.unit == u) & (ch.time == 5), "dose"] += 1.0
    with pytest.raises(PanelDataError, match=f"changes after adoption.*{u}"):
        did.continuous(ch, **KW)
    nv = df.copy()
    u0 = nv.loc[nv.cohort == 0, "unit"].iloc[0]
    nv.loc[nv.unit == u0, "dose"] = 1.0
    with pytest.raises(PanelDataError, match="never treated"):
        did.continuous(nv, **KW)
    with pytest.raises(Exception, match="method"):
        did.continuous(df, **KW, method="kernel")
