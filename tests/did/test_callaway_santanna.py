"""Tests of :func:`evalkit.did.callaway_santanna`.

Tolerances (stated once, never loosened to pass):

* PUBLISHED: half a unit of the last printed digit (``0.5 * 10**-decimals``) plus 1e-12, against
  R ``did`` output printed in its README and reference manual (fixtures in
  ``tests/reference/cs_did_mpdta_published.json``, each with its source).
* PEERS_SIMPLE: 1e-10 against the 16-digit simple ATT and analytic SE in ``PEERS.md``.
* PEER: 1e-6 (absolute) against moderndid 0.2.0 (which reproduces R ``did``), ATT(g,t), their
  analytic standard errors, and all four aggregations with their standard errors.
* INTERNAL: 1e-10 between two code paths computing the same closed form.
* Monte Carlo: estimates within 4 standard errors of the truth; coverage of uniform bands within
  a binomial 99.9% range of the nominal level for the number of replications used.

mpdta ships in the moderndid wheel (``moderndid/core/datasets/mpdta_long.pkl.gz``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import (
    EvalkitError,
    EvalkitWarning,
    ExcludedUnitsWarning,
    NoControlUnitsError,
    PanelDataError,
    SingularDesignError,
)
from evalkit.did.callaway_santanna import AggregatedEffects, GroupTimeEffects, callaway_santanna

PEER = 1e-6
INTERNAL = 1e-10
PEERS_SIMPLE = 1e-10
REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "cs_did_mpdta_published.json").read_text()
)
KW = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    md = pytest.importorskip("moderndid")
    return md.load_mpdta().to_pandas()


def _tol(decimals: int) -> float:
    return 0.5 * 10.0**-decimals + 1e-12


def _att_map(res):
    f = res.att_gt.to_frame()
    return {(int(g), int(t)): v for g, t, v in zip(f["group"], f["time"], f["estimate"])}


# --------------------------------------------------------------------------- published numbers
def test_readme_reg_no_covariates(mpdta):
    pub = REF["readme_reg_nocov"]
    r = callaway_santanna(mpdta, method="reg", **KW)
    tol = _tol(pub["decimals"])
    got = _att_map(r)
    for g, t, v in pub["att_gt"]:
        assert abs(got[(g, t)] - v) <= tol, (g, t)
    dyn = r.aggregate("dynamic")
    assert abs(dyn.overall.estimate - pub["dynamic_overall"]) <= tol
    evs = dict(zip(dyn.labels["event_time"].astype(int), dyn.params.to_numpy()))
    for e, v in pub["dynamic"]:
        assert abs(evs[e] - v) <= tol, e
    grp = r.aggregate("group")
    assert abs(grp.overall.estimate - pub["group_overall"]) <= _tol(pub["group_overall_decimals"])
    gs = dict(zip(grp.labels["group"].astype(int), grp.params.to_numpy()))
    for g, v in pub["group"]:
        assert abs(gs[g] - v) <= tol, g


@pytest.mark.parametrize(
    "key,control", [("manual_dr_lpop_never", "never_treated"), ("manual_dr_lpop_notyet", "not_yet_treated")]
)
def test_manual_dr_with_lpop(mpdta, key, control):
    pub = REF[key]
    r = callaway_santanna(mpdta, method="dr", covariates=["lpop"], control_group=control, **KW)
    got = _att_map(r)
    for g, t, v in pub["att_gt"]:
        assert abs(got[(g, t)] - v) <= _tol(pub["decimals"]), (g, t)


@pytest.mark.parametrize(
    "key,kw",
    [
        ("readme_reg_nocov", {"method": "reg"}),
        ("manual_dr_lpop_never", {"covariates": ["lpop"]}),
        ("manual_dr_lpop_notyet", {"covariates": ["lpop"], "control_group": "not_yet_treated"}),
    ],
)
def test_pretest_p_value_published(mpdta, key, kw):
    p = callaway_santanna(mpdta, **kw, **KW).pretrend_test()
    assert p["df"] == 5
    assert abs(p["p_value"] - REF[key]["pretest_p"]) <= _tol(5)


def test_peers_simple_att_and_analytic_se(mpdta):
    r = callaway_santanna(mpdta, **KW)
    s = r.aggregate("simple")
    assert abs(s.estimate - REF["peers_simple"]["att"]) <= PEERS_SIMPLE
    assert abs(s.std_error - REF["peers_simple"]["se"]) <= PEERS_SIMPLE


# --------------------------------------------------------------------------- moderndid 0.2.0
def _moderndid(data, idname="countyreal", **kw):
    md = pytest.importorskip("moderndid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return md.att_gt(
            data=data, yname="lemp", tname="year", idname=idname, gname="first.treat", boot=False, **kw
        )


def _check_against(mine, m, aggs=True, balance_e=None):
    md = pytest.importorskip("moderndid")
    np.testing.assert_allclose(mine.att_gt.params.to_numpy(), m.att_gt, atol=PEER, rtol=0)
    se_m = np.asarray(m.se_gt, float)
    ok = np.isfinite(se_m)  # moderndid reports NaN for the universal-base reference cells (ours: 0)
    np.testing.assert_allclose(mine.att_gt.std_errors.to_numpy()[ok], se_m[ok], atol=PEER, rtol=0)
    assert np.all(mine.att_gt.std_errors.to_numpy()[~ok] == 0)
    if not aggs:
        return
    for kind in ("simple", "group", "calendar", "dynamic"):
        kw = {"balance_e": balance_e} if (balance_e is not None and kind == "dynamic") else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = md.aggte(m, type=kind, boot=False, **kw)
        res = mine.aggregate(kind, **kw)
        overall = res if kind == "simple" else res.overall
        assert abs(overall.estimate - a.overall_att) <= PEER, kind
        assert abs(overall.std_error - a.overall_se) <= PEER, kind
        if kind != "simple":
            np.testing.assert_allclose(res.params.to_numpy(), a.att_by_event, atol=PEER, rtol=0)
            se_a = np.asarray(a.se_by_event, float)
            ok = np.isfinite(se_a)
            np.testing.assert_allclose(res.std_errors.to_numpy()[ok], se_a[ok], atol=PEER, rtol=0)


CONFIGS = {
    "never_dr_nocov": ({}, {}),
    "notyet_nocov": ({"control_group": "not_yet_treated"}, {"control_group": "notyettreated"}),
    "universal": ({"base_period": "universal"}, {"base_period": "universal"}),
    "lpop_dr": ({"covariates": ["lpop"], "method": "dr"}, {"xformla": "~lpop", "est_method": "dr"}),
    "lpop_ipw": ({"covariates": ["lpop"], "method": "ipw"}, {"xformla": "~lpop", "est_method": "ipw"}),
    "lpop_reg": ({"covariates": ["lpop"], "method": "reg"}, {"xformla": "~lpop", "est_method": "reg"}),
    "notyet_lpop_dr": (
        {"covariates": ["lpop"], "control_group": "not_yet_treated"},
        {"xformla": "~lpop", "control_group": "notyettreated"},
    ),
    "notyet_lpop_ipw_universal": (
        {"covariates": ["lpop"], "control_group": "not_yet_treated", "method": "ipw", "base_period": "universal"},
        {"xformla": "~lpop", "control_group": "notyettreated", "est_method": "ipw", "base_period": "universal"},
    ),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_agrees_with_moderndid(mpdta, name):
    mine_kw, md_kw = CONFIGS[name]
    _check_against(callaway_santanna(mpdta, **mine_kw, **KW), _moderndid(mpdta, **md_kw))


def test_balance_e_and_window_agree_with_moderndid(mpdta):
    md = pytest.importorskip("moderndid")
    r = callaway_santanna(mpdta, **KW)
    m = _moderndid(mpdta)
    _check_against(r, m, aggs=True, balance_e=1)
    a = md.aggte(m, type="dynamic", boot=False, min_e=-2, max_e=2)
    mine = r.aggregate("dynamic", min_e=-2, max_e=2)
    np.testing.assert_allclose(mine.params.to_numpy(), a.att_by_event, atol=PEER, rtol=0)
    np.testing.assert_allclose(mine.std_errors.to_numpy(), a.se_by_event, atol=PEER, rtol=0)
    assert abs(mine.overall.std_error - a.overall_se) <= PEER


def test_anticipation_agrees_with_moderndid(mpdta):
    # with anticipation=1 the 2004 cohort has no pre-period (evalkit raises, see bad-input tests);
    # both packages get the panel without it
    d = mpdta[mpdta["first.treat"] != 2004]
    for mine_kw, md_kw in [
        ({"control_group": "not_yet_treated"}, {"control_group": "notyettreated"}),
        ({"base_period": "universal", "covariates": ["lpop"]}, {"base_period": "universal", "xformla": "~lpop"}),
    ]:
        r = callaway_santanna(d, anticipation=1, **mine_kw, **KW)
        _check_against(r, _moderndid(d, anticipation=1, **md_kw))


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_repeated_cross_sections_agree_with_moderndid(mpdta, method):
    d = mpdta.sample(frac=0.8, random_state=3).sort_values(["countyreal", "year"])
    r = callaway_santanna(d, covariates=["lpop"], method=method, panel=False, **KW)
    m = _moderndid(d, idname=None, xformla="~lpop", est_method=method, panel=False)
    _check_against(r, m)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_unbalanced_panel_agrees_with_moderndid(mpdta, method):
    d = mpdta.sample(frac=0.9, random_state=3).sort_values(["countyreal", "year"])
    r = callaway_santanna(d, covariates=["lpop"], method=method, allow_unbalanced=True, **KW)
    m = _moderndid(d, xformla="~lpop", est_method=method, allow_unbalanced_panel=True, panel=False)
    _check_against(r, m, aggs=False)
    # moderndid 0.2.0 pairs its unit-level cohort vector (ordered by cohort, then id) with influence
    # functions ordered by id when the panel is unbalanced; with the cohort vector re-aligned to
    # the influence-function rows its aggte reproduces ours.
    g_by_id = d.groupby("countyreal")["first.treat"].first().sort_index().to_numpy().astype(float)
    _check_against(r, m._replace(G=pd.Series(g_by_id)))


@pytest.mark.parametrize(
    "covs,control", [(["lpop"], "never_treated"), (["lpop", "xv"], "not_yet_treated")]
)
def test_improved_dr_agrees_with_moderndid_drdid_imp_panel(mpdta, covs, control):
    # moderndid's port of R DRDID::drdid_imp_panel, passed to its att_gt as a custom est_method
    from moderndid.drdid.estimators.drdid_imp_panel import drdid_imp_panel

    def est(y1, y0, d, covariates, i_weights, influence_func=True):
        return drdid_imp_panel(
            y1=y1, y0=y0, d=d, covariates=covariates, i_weights=i_weights, influence_func=True
        )

    d = mpdta.copy()
    d["xv"] = d["lpop"] + np.random.default_rng(5).normal(scale=0.3, size=len(d))
    r = callaway_santanna(d, method="dr_improved", covariates=covs, control_group=control, **KW)
    m = _moderndid(
        d, est_method=est, xformla="~" + "+".join(covs), control_group=control.replace("_", "")
    )
    _check_against(r, m)


def test_sampling_weights_agree_with_moderndid(mpdta):
    d = mpdta.copy()
    d["w"] = np.exp(d["lpop"] / 3)
    r = callaway_santanna(d, weights="w", covariates=["lpop"], **KW)
    m = _moderndid(d, weightsname="w", xformla="~lpop")
    _check_against(r, m, aggs=False)
    # moderndid 0.2.0 drops the sampling weights from the aggregation weights (its ``weights_ind``
    # is None); R did uses them. Supplying them (units in moderndid's order: cohort, then id)
    # makes its aggte reproduce ours.
    units = d.groupby("countyreal")[["first.treat", "w"]].first()
    units["g"] = units["first.treat"].replace(0, np.inf)
    units = units.sort_values(["g"], kind="stable")
    _check_against(r, m._replace(weights_ind=pd.Series(units["w"].to_numpy())))


# --------------------------------------------------------------------------- internal identities
def test_methods_coincide_without_covariates(mpdta):
    base = callaway_santanna(mpdta, method="dr", **KW).att_gt
    for method in ("ipw", "reg"):
        other = callaway_santanna(mpdta, method=method, **KW).att_gt
        np.testing.assert_allclose(other.params, base.params, atol=INTERNAL)
        np.testing.assert_allclose(other.cov.to_numpy(), base.cov.to_numpy(), atol=INTERNAL)


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_vectorised_path_equals_cell_path(mpdta, control, base_period):
    from evalkit.did._cs_cells import estimate_cells

    opts = dict(control_group=control, base_period=base_period)
    fast = callaway_santanna(mpdta, **opts, **KW)
    d = fast._fit.data
    d.X = np.ones((len(d.times), d.n, 1))  # intercept only, forces the per-cell estimator
    g, t, att, basis = estimate_cells(
        d, method="dr", anticipation=0, covariates=[], **opts
    )
    np.testing.assert_allclose(att, fast._fit.att, atol=INTERNAL)
    np.testing.assert_allclose(basis[:, : len(att)], fast._fit.infl, atol=INTERNAL)


def test_cluster_at_unit_equals_default(mpdta):
    a = callaway_santanna(mpdta, **KW).aggregate("dynamic")
    b = callaway_santanna(mpdta, cluster="countyreal", **KW).aggregate("dynamic")
    np.testing.assert_allclose(a.cov.to_numpy(), b.cov.to_numpy(), atol=INTERNAL)


def test_coarser_cluster_is_sum_of_scores(mpdta):
    d = mpdta.copy()
    d["state"] = d["countyreal"] // 1000
    r = callaway_santanna(d, cluster="state", **KW)
    f = r._fit
    scores = pd.DataFrame(f.infl).groupby(
        d.drop_duplicates("countyreal").set_index("countyreal").loc[f.data.unit_ids, "state"].to_numpy()
    ).sum().to_numpy()
    expect = scores.T @ scores / f.data.n**2
    np.testing.assert_allclose(r.att_gt.cov.to_numpy(), expect, atol=INTERNAL)
    assert r.n_clusters == d["state"].nunique()


def test_result_shapes_and_frames(mpdta):
    r = callaway_santanna(mpdta, **KW)
    assert isinstance(r.att_gt, GroupTimeEffects)
    f = r.to_frame()
    assert list(f.columns[:10]) == [
        "term", "group", "time", "event_time", "estimate", "std_error", "statistic", "p_value",
        "conf_low", "conf_high",
    ]
    assert (f["event_time"] == f["time"] - f["group"]).all()
    dyn = r.aggregate("dynamic")
    assert isinstance(dyn, AggregatedEffects)
    assert dyn.cov.shape == (7, 7)
    assert list(dyn.labels["event_time"]) == [-3, -2, -1, 0, 1, 2, 3]
    assert "Callaway" in r.summary()
    assert dyn.overall.std_error > 0


# --------------------------------------------------------------------------- simulation
def simulate_staggered(n_units, n_periods=8, cohorts=(4, 5, 6, 7), seed=0, covariate=False):
    """Staggered panel with known ATT(g,t) = 1 + 0.5 (t - g) for t >= g (cohort 0 = never).

    With ``covariate`` the trend depends on x and cohort membership depends on x, so an
    unconditional comparison is biased while conditioning on x removes the bias.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_units)
    logits = np.column_stack([np.zeros(n_units)] + [0.8 * x * covariate for _ in cohorts])
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(n_units)[:, None]
    choice = (u > np.cumsum(p, axis=1)).sum(axis=1)
    g = np.array((0,) + tuple(cohorts))[choice]
    t = np.arange(1, n_periods + 1)
    alpha = rng.normal(size=n_units)
    eps = rng.normal(scale=0.5, size=(n_units, n_periods))
    trend = (0.3 * t)[None, :] + (0.4 * x[:, None] * t[None, :] if covariate else 0.0)
    effect = np.where((g[:, None] > 0) & (t[None, :] >= g[:, None]), 1 + 0.5 * (t[None, :] - g[:, None]), 0.0)
    y = alpha[:, None] + trend + effect + eps
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_units), n_periods),
            "t": np.tile(t, n_units),
            "g": np.repeat(g, n_periods),
            "x": np.repeat(x, n_periods),
            "y": y.ravel(),
        }
    )


SIM = dict(outcome="y", unit="id", time="t", cohort="g")


@pytest.mark.parametrize("method", ["dr", "ipw", "reg", "dr_improved"])
def test_simulation_recovers_att_gt(method):
    df = simulate_staggered(2500, covariate=True, seed=11)
    r = callaway_santanna(df, method=method, covariates=["x"], **SIM)
    f = r.to_frame()
    truth = np.where(f["time"] >= f["group"], 1 + 0.5 * (f["time"] - f["group"]), 0.0)
    z = (f["estimate"] - truth) / f["std_error"]
    assert np.all(np.abs(z) < 4), f.assign(truth=truth, z=z)
    # without the covariate the comparison is biased (the check has power)
    r0 = callaway_santanna(df, **SIM).to_frame()
    assert np.max(np.abs((r0["estimate"] - truth) / r0["std_error"])) > 4


def test_bootstrap_se_close_to_analytic(mpdta):
    r = callaway_santanna(mpdta, n_draws=999, seed=7, **KW)
    a = callaway_santanna(mpdta, **KW)
    ratio = r.att_gt.std_errors / a.att_gt.std_errors
    assert np.all(np.abs(ratio - 1) < 0.15)  # 999 draws: IQR-based s.e. has ~4% MC error
    dyn = r.aggregate("dynamic")
    assert dyn.critical_value(uniform=True) > dyn.critical_value()
    assert "bootstrap" in dyn.inference
    # same seed, same draws
    r2 = callaway_santanna(mpdta, n_draws=999, seed=7, **KW)
    np.testing.assert_array_equal(r2.att_gt.std_errors, r.att_gt.std_errors)
    rad = callaway_santanna(mpdta, n_draws=999, bootstrap_weights="rademacher", seed=7, **KW)
    assert np.all(np.abs(rad.att_gt.std_errors / a.att_gt.std_errors - 1) < 0.15)


def test_uniform_band_coverage_small_mc():
    reps, hits = 60, 0
    for s in range(reps):
        df = simulate_staggered(300, n_periods=6, cohorts=(4, 5), seed=100 + s)
        dyn = callaway_santanna(df, n_draws=499, seed=s, **SIM).aggregate(
            "dynamic", min_e=0
        )
        truth = 1 + 0.5 * dyn.labels["event_time"].to_numpy()
        ci = dyn.conf_int(uniform=True)
        hits += bool(np.all((ci["lower"].to_numpy() <= truth) & (truth <= ci["upper"].to_numpy())))
    # 95% nominal; 99.9% binomial range for 60 reps is about [0.82, 1]
    assert hits / reps >= 0.82


# --------------------------------------------------------------------------- bad input
def test_no_never_treated_suggests_not_yet(mpdta):
    d = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(NoControlUnitsError, match="not_yet_treated"):
        callaway_santanna(d, **KW)
    with pytest.warns(ExcludedUnitsWarning, match="2007"):
        r = callaway_santanna(d, control_group="not_yet_treated", **KW)
    assert set(r.att_gt.labels["group"]) == {2004, 2006}


def test_cohort_without_pre_period(mpdta):
    with pytest.raises(EvalkitError, match="no pre-treatment period.*anticipation=1"):
        callaway_santanna(mpdta, anticipation=1, **KW)


def test_cohort_changing_within_unit(mpdta):
    d = mpdta.copy()
    d.loc[(d["countyreal"] == 8001) & (d["year"] == 2005), "first.treat"] = 2006
    with pytest.raises(PanelDataError, match="8001"):
        callaway_santanna(d, **KW)


@pytest.mark.parametrize("never", [np.nan, np.inf])
def test_nan_or_inf_cohort_message_says_zero(mpdta, never):
    d = mpdta.copy().astype({"first.treat": float})
    d.loc[d["first.treat"] == 0, "first.treat"] = never
    with pytest.raises(PanelDataError, match="never-treated units as 0"):
        callaway_santanna(d, **KW)


def test_small_cohort_singular_propensity_score(mpdta):
    d = mpdta.copy()
    keep = d.loc[d["first.treat"] == 2004, "countyreal"].unique()[:2]
    d = d[(d["first.treat"] != 2004) | d["countyreal"].isin(keep)]
    # z separates the two remaining 2004 units from everyone else: no logit MLE exists
    d["z"] = np.where(d["countyreal"].isin(keep), 5.0, 0.0) + d["lpop"] * 0.01
    with pytest.warns(EvalkitWarning, match="Small cohorts.*2004: 2 unit"):
        with pytest.raises(SingularDesignError, match=r"cohort 2004.*\[lpop, z\]"):
            callaway_santanna(d, covariates=["lpop", "z"], **KW)
    # collinear covariates: singular outcome regression / propensity score, named
    d["lpop2"] = 2 * d["lpop"]
    with pytest.raises(SingularDesignError, match=r"\[lpop, lpop2\]"):
        callaway_santanna(mpdta.assign(lpop2=2 * mpdta["lpop"]), covariates=["lpop", "lpop2"], **KW)


def test_early_treated_units_excluded_with_names(mpdta):
    d = mpdta.copy()
    d.loc[d["countyreal"] == 8001, "first.treat"] = 2003
    with pytest.warns(ExcludedUnitsWarning, match="8001"):
        r = callaway_santanna(d, **KW)
    assert r.n_units == 499


def test_unbalanced_without_flag_drops_with_warning(mpdta):
    d = mpdta.drop(index=mpdta.index[(mpdta["countyreal"] == 8019) & (mpdta["year"] == 2005)])
    with pytest.warns(ExcludedUnitsWarning, match="allow_unbalanced=True.*8019"):
        r = callaway_santanna(d, **KW)
    assert r.n_units == 499


def test_bad_options(mpdta):
    with pytest.raises(EvalkitError, match="control_group"):
        callaway_santanna(mpdta, control_group="never", **KW)
    with pytest.raises(EvalkitError, match="method"):
        callaway_santanna(mpdta, method="ols", **KW)
    with pytest.raises(EvalkitError, match="not found"):
        callaway_santanna(mpdta, covariates=["nope"], **KW)
    r = callaway_santanna(mpdta, **KW)
    with pytest.raises(EvalkitError, match="kind"):
        r.aggregate("event")


@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_time_varying_covariate_agrees_with_moderndid(mpdta, base_period):
    # panel covariates are taken in the earlier of each cell's two periods (as R did)
    d = mpdta.copy()
    d["xv"] = d["lpop"] + np.random.default_rng(5).normal(scale=0.3, size=len(d))
    r = callaway_santanna(d, covariates=["xv"], base_period=base_period, **KW)
    _check_against(r, _moderndid(d, xformla="~xv", base_period=base_period), aggs=False)


def test_clustered_bootstrap_close_to_clustered_analytic(mpdta):
    d = mpdta.copy()
    d["state"] = d["countyreal"] // 1000
    a = callaway_santanna(d, cluster="state", **KW).aggregate("dynamic")
    b = callaway_santanna(d, cluster="state", n_draws=999, seed=3, **KW).aggregate("dynamic")
    # 29 state clusters: the IQR-based bootstrap s.e. has a larger MC/finite-cluster error
    assert np.all(np.abs(b.std_errors / a.std_errors - 1) < 0.3)
    assert "clustered by state" in b.inference


def test_demo_panel_recovers_planted_effects():
    """The demo panel's planted first-unit insurance effects (data_raw/demo/truth.json)."""
    root = Path(__file__).parents[2] / "data_raw" / "demo"
    if not (root / "truth.json").exists():
        pytest.skip("demo data not generated")
    from evalkit import data

    truth = json.loads((root / "truth.json").read_text())["first_unit"]["full_sample"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = data.load_panel(root / "county_panel.csv")
    r = callaway_santanna(
        df, outcome="log_revenue", unit="unit_code", time="year", cohort="first_unit_year"
    )
    s = r.aggregate("simple")
    assert abs(s.estimate - truth["simple"]) < 4 * s.std_error
    g = r.aggregate("group").overall
    assert abs(g.estimate - truth["group_overall"]) < 4 * g.std_error
    dyn = r.aggregate("dynamic")
    est = dict(zip(dyn.labels["event_time"], zip(dyn.params, dyn.std_errors)))
    for row in truth["dynamic"]:
        e, v = row["event_time"], row["att"]
        if e in est:
            assert abs(est[e][0] - v) < 4 * est[e][1], e


def test_influence_function_reproduces_covariance(mpdta):
    r = callaway_santanna(mpdta, **KW)
    dyn = r.aggregate("dynamic")
    psi = r.influence_function(dyn)
    assert psi.shape == (500, 7)
    np.testing.assert_allclose(psi.T @ psi / 500**2, dyn.cov.to_numpy(), atol=INTERNAL)
    s = r.aggregate("simple")
    ps = r.influence_function(s)
    assert abs(np.sqrt((ps.to_numpy() ** 2).sum()) / 500 - s.std_error) < INTERNAL
