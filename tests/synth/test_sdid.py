"""Synthetic DiD: published Table 1, Monte-Carlo tolerances, simulation, peers and bad input.

Tolerances
----------
* Point estimates on California Proposition 99 (Arkhangelsky et al. 2021, AER 111(12), Table 1;
  R ``synthdid`` values as ported by synthdid-py: SDID -15.6038, SC -19.6197, DiD -27.3491):
  absolute 1e-4 (half a unit of the fourth printed decimal).
* Placebo standard errors (published 8.4, 9.9, 17.7; the paper's 200 draws): the published value
  and ours are both Monte-Carlo draws. Var of a placebo s.e. from R draws ~= s^2 (kurt - 1) / (4R)
  (delta method, kurtosis estimated from our draws); we require the gap to be within 3 combined
  Monte-Carlo standard deviations plus the paper's rounding (0.05).
* Compiled vs numpy Frank-Wolfe: 1e-9 (same arithmetic, different summation order).
* diff-diff (test-only peer) on simulated data: estimates 1e-6.
* Simulation recovery: |estimate - truth| < 3 placebo standard errors.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.exceptions import DesignError, InferenceError, PanelDataError
from evalkit.synth import compare_estimators, synthetic_did

PUBLISHED = {"sdid": (-15.6038, 8.4), "sc": (-19.6197, 9.9), "did": (-27.3491, 17.7)}


def _prop99() -> pd.DataFrame:
    spec = importlib.util.find_spec("synthdid")
    if spec is None:
        pytest.skip("synthdid-py (ships the Prop 99 data) is not installed")
    path = Path(spec.origin).parent / "data" / "california_prop99.csv"
    return pd.read_csv(path, sep=";")


def _sim(n=50, n_tr=5, T=20, t0=14, effect=2.0, seed=3, noise=0.3):
    rng = np.random.default_rng(seed)
    f = rng.normal(0, 1, (T, 2)).cumsum(axis=0) * 0.4
    load = rng.normal(0, 1, (n, 2))
    y = rng.normal(0, 1, n)[:, None] + load @ f.T + rng.normal(0, noise, (n, T))
    d = np.zeros((n, T), dtype=int)
    d[:n_tr, t0:] = 1
    y = y + effect * d
    return pd.DataFrame({
        "unit": np.repeat([f"u{i:02d}" for i in range(n)], T),
        "year": np.tile(np.arange(2000, 2000 + T), n),
        "y": y.ravel(), "d": d.ravel(),
    })


KW = dict(outcome="PacksPerCapita", unit="State", time="Year", treatment="treated")


@pytest.mark.parametrize("estimator", ["sdid", "sc", "did"])
def test_table1_point_estimates(estimator):
    r = synthetic_did(_prop99(), estimator=estimator, cov_type="none", **KW)
    assert abs(r.estimate - PUBLISHED[estimator][0]) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["sdid", "sc", "did"])
def test_table1_placebo_se_within_monte_carlo_error(estimator):
    reps = 1000
    r = synthetic_did(_prop99(), estimator=estimator, cov_type="placebo", n_draws=reps, seed=7, **KW)
    draws = r.placebo_estimates
    z = (draws - draws.mean()) / draws.std()
    kurt = float(np.mean(z**4))
    s = r.std_error
    var_ours = s**2 * (kurt - 1) / (4 * reps)
    var_paper = s**2 * (kurt - 1) / (4 * 200)
    tol = 3 * np.sqrt(var_ours + var_paper) + 0.05
    assert abs(s - PUBLISHED[estimator][1]) < tol, (s, tol)


def test_compare_estimators_table():
    table, res = compare_estimators(_prop99(), cov_type="none", **KW)
    assert list(table["term"]) == ["sdid", "sc", "did"]
    np.testing.assert_allclose(table["estimate"], [v[0] for v in PUBLISHED.values()], atol=1e-4)
    w = res["sdid"].weights
    assert abs(w["weight"].sum() - 1) < 1e-12 and (w["weight"] > 0).all()
    assert abs(res["sdid"].time_weights.sum() - 1) < 1e-12


def test_compiled_and_numpy_frank_wolfe_agree():
    from evalkit.synth import _frankwolfe as fw

    if not fw.HAVE_NUMBA:
        pytest.skip("numba not installed: only the numpy path exists")
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 12, 8))
    b = rng.normal(size=(3, 12))
    G = np.einsum("rna,rnb->rab", A, A)
    c = np.einsum("rna,rn->ra", A, b)
    bb = np.einsum("rn,rn->r", b, b)
    x0 = np.full((3, 8), 1 / 8)
    kw = dict(zeta2=0.05, nrow=12, min_decrease=1e-6, max_iter=5000)
    x1, v1, i1 = fw.solve(fw.StackedGram(G), c, bb, x0, engine="numba", **kw)
    x2, v2, i2 = fw.solve(fw.StackedGram(G), c, bb, x0, engine="numpy", **kw)
    np.testing.assert_allclose(x1, x2, atol=1e-9)
    np.testing.assert_array_equal(i1, i2)
    # objective at the solution equals the direct formula
    direct = 0.05 * (x1**2).sum(1) + ((np.einsum("rna,ra->rn", A, x1) - b) ** 2).sum(1) / 12
    np.testing.assert_allclose(v1, direct, rtol=1e-10)


def test_simulation_recovers_planted_effect():
    df = _sim()
    r = synthetic_did(df, outcome="y", unit="unit", time="year", treatment="d", n_draws=200)
    assert abs(r.estimate - 2.0) < 3 * r.std_error
    assert r.std_error < 0.5
    assert r.trajectories.shape == (20, 3)


def test_bootstrap_and_jackknife_need_two_treated():
    df = _sim(n=30, n_tr=4, seed=5)
    kw = dict(outcome="y", unit="unit", time="year", treatment="d")
    b = synthetic_did(df, cov_type="bootstrap", n_draws=50, **kw)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = synthetic_did(df, cov_type="jackknife", **kw)
    assert np.isfinite(b.std_error) and np.isfinite(j.std_error)
    assert 0.2 < b.std_error / j.std_error < 5
    one = _sim(n=30, n_tr=1, seed=5)
    with pytest.raises(InferenceError, match="single treated unit"):
        synthetic_did(one, cov_type="bootstrap", **kw)


def test_covariates_remove_confounding():
    df = _sim(n=40, n_tr=4, seed=11, noise=0.2)
    rng = np.random.default_rng(2)
    # a covariate that trends differently for treated units and shifts the outcome
    treated = df["unit"].isin([f"u{i:02d}" for i in range(4)])
    x = rng.normal(0, 0.3, len(df)) + treated * (df["year"] - 2000) * 0.3
    df = df.assign(x=x, y=df["y"] + 2.0 * x)
    kw = dict(outcome="y", unit="unit", time="year", treatment="d", cov_type="none")
    plain = synthetic_did(df, **kw)
    adj = synthetic_did(df, covariates=["x"], **kw)
    assert abs(adj.estimate - 2.0) < abs(plain.estimate - 2.0)
    assert abs(adj.extra["beta"][0] - 2.0) < 0.3


def test_matches_diff_diff_on_simulated_panel():
    dd = pytest.importorskip("diff_diff")
    df = _sim(n=40, n_tr=4, seed=9)
    r = synthetic_did(df, outcome="y", unit="unit", time="year", treatment="d", cov_type="none")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = dd.SyntheticDiD(variance_method="placebo", n_bootstrap=20, seed=1)
        fit = m.fit(df.assign(tr=df.groupby("unit")["d"].transform("max")), outcome="y",
                    treatment="tr", unit="unit", time="year",
                    post_periods=list(range(2014, 2020)))
    assert abs(r.estimate - float(fit.att)) < 1e-6


def test_bad_input_messages():
    kw = dict(outcome="y", unit="unit", time="year", treatment="d")
    df = _sim(n=12, n_tr=2, seed=1)
    # treated units without a pre-period
    nopre = df.assign(d=np.where(df["unit"].isin(["u00", "u01"]), 1, 0))
    with pytest.raises(DesignError, match="0 pre-treatment period"):
        synthetic_did(nopre, **kw)
    # donors with missing years
    gap = df.drop(df.index[(df["unit"] == "u07") & (df["year"].isin([2003, 2004]))])
    with pytest.raises(PanelDataError, match="u07.*2003, 2004"):
        synthetic_did(gap, **kw)
    # more treated units than donors
    many = _sim(n=12, n_tr=7, seed=1)
    with pytest.raises(DesignError, match=r"More treated units \(7\) than donor units \(5\)"):
        synthetic_did(many, **kw)
    # constant outcome
    with pytest.raises(DesignError, match="constant"):
        synthetic_did(df.assign(y=1.0), **kw)
    # staggered adoption
    stag = df.copy()
    stag.loc[(stag["unit"] == "u01") & (stag["year"] == 2014), "d"] = 0
    with pytest.raises(DesignError, match="different periods"):
        synthetic_did(stag, **kw)
    with pytest.raises(Exception, match="cov_type"):
        synthetic_did(df, cov_type="wild", **kw)


def test_plots_render(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    r = synthetic_did(_sim(), outcome="y", unit="unit", time="year", treatment="d", n_draws=50)
    for kind in ["trajectories", "gap", "weights", "placebo"]:
        ax = r.plot(kind)
        ax.figure.savefig(tmp_path / f"{kind}.png")
    assert "ATT" in r.summary() and r.to_frame().shape[0] == 1
    # donor bars labelled by name where a name is given (codes otherwise), at most `top` bars
    top = r.weights.head(3)
    names = {str(top["unit"].iloc[0]): "Alpha county"}
    ax = r.plot("weights", top=3, names=names)
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert len(labels) == 3 and labels[-1] == "Alpha county" and str(top["unit"].iloc[1]) in labels


def test_covariate_loop_compiled_matches_python():
    from evalkit.synth import _sdid_core as core

    df = _sim(n=15, n_tr=2, T=10, t0=7, seed=12)
    rng = np.random.default_rng(0)
    Y = df.pivot(index="unit", columns="year", values="y").to_numpy()
    Y = np.vstack([Y[2:], Y[:2]])  # controls first
    X = rng.normal(size=(15, 10, 2))
    opts, om0, la0, _ = core.default_setup(Y, 13, 7, "sdid")
    a = core.covariate_weights(Y, X, 13, 7, opts, om0, la0, engine="python")
    b = core.covariate_weights(Y, X, 13, 7, opts, om0, la0)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, atol=1e-9)
