"""Tests of ``evalkit.did.dcdh`` (de Chaisemartin and D'Haultfœuille 2024, ``did_multiplegt_dyn``).

Reference data: Favara and Imbs (2015) county panel shipped in moderndid 0.2.0
(``moderndid/core/datasets/favara_imbs.csv.gz``), the example of the authors' Stata/R help files
(``did_multiplegt_dyn Dl_vloans_b county year inter_bra, effects(5) placebo(3)``).

Tolerances
----------
* Against moderndid 0.2.0 ``did_multiplegt`` (independent Python port of the authors' R/Stata
  command), unclustered: estimates 1e-10 absolute, standard errors 1e-6 relative (effects,
  normalised effects, placebos, average total effect).
* Clustered by state: estimates 1e-10; effect standard errors within 1% relative. Documented
  difference: the centring of clustered contributions (cluster counts per cohort) follows the
  paper's rule and differs slightly from moderndid's port; placebo standard errors are checked
  within 12%. moderndid's average-total-effect SE ignores clustering, so it is not compared.
* Switchers-out only (with some units later moving above their baseline, whose cells are dropped
  as in did_multiplegt_dyn): exactly minus moderndid (it reports the effect of the decrease; we
  follow the paper's S_g-signed definition), same standard errors (1e-6) and switcher counts.
* Covariate adjustment (``controls``): a covariate trending only for switchers biases the raw
  estimator; the adjusted one recovers θ within 4 Monte-Carlo s.e. (moderndid's port estimates θ
  per horizon among never-switchers only, so its adjusted numbers differ slightly; not compared).
* Simulation with known truth (effect θ per unit of current treatment, switches up and down):
  the average total effect equals θ, normalised effects θ/ℓ, placebos 0; Monte-Carlo means
  within 4 Monte-Carlo standard errors, coverage of 95% intervals >= 0.8 over 30 draws.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit import did
from evalkit._shared.exceptions import NoControlUnitsError, PanelDataError

FI = dict(outcome="Dl_vloans_b", unit="county", time="year", treatment="inter_bra")


@pytest.fixture(scope="module")
def favara_imbs():
    md = pytest.importorskip("moderndid")
    return md, md.load_favara_imbs()


@pytest.mark.parametrize("normalized", [False, True])
def test_favara_imbs_matches_moderndid_unclustered(favara_imbs, normalized):
    md, fi = favara_imbs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = md.did_multiplegt(data=fi, yname="Dl_vloans_b", idname="county", tname="year",
                                dname="inter_bra", effects=5, placebo=3, normalized=normalized)
        r = did.dcdh(fi.to_pandas(), **FI, effects=5, placebo=3, normalized=normalized)
    np.testing.assert_allclose(r.effects.params, ref.effects.estimates, atol=1e-10)
    np.testing.assert_allclose(r.effects.std_errors, ref.effects.std_errors, rtol=1e-6)
    np.testing.assert_allclose(r.placebos.params, ref.placebos.estimates, atol=1e-10)
    np.testing.assert_allclose(r.placebos.std_errors, ref.placebos.std_errors, rtol=1e-6)
    assert r.average_total_effect.estimate == pytest.approx(ref.ate.estimate, abs=1e-10)
    assert r.average_total_effect.std_error == pytest.approx(ref.ate.std_error, rel=1e-6)
    np.testing.assert_array_equal(r.table.n_switchers[:5], ref.effects.n_switchers)
    np.testing.assert_array_equal(r.table.n_obs[:5], ref.effects.n_observations)


def test_favara_imbs_clustered(favara_imbs):
    md, fi = favara_imbs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = md.did_multiplegt(data=fi, yname="Dl_vloans_b", idname="county", tname="year",
                                dname="inter_bra", effects=5, placebo=3, cluster="state_n")
        r = did.dcdh(fi.to_pandas(), **FI, effects=5, placebo=3, cluster="state_n")
    np.testing.assert_allclose(r.effects.params, ref.effects.estimates, atol=1e-10)
    np.testing.assert_allclose(r.effects.std_errors, ref.effects.std_errors, rtol=0.01)
    np.testing.assert_allclose(r.placebos.std_errors, ref.placebos.std_errors, rtol=0.12)
    assert "50 clusters" in r.effects.inference


def simulate_switching(n=400, T=10, theta=0.5, seed=0):
    """Baseline 0 units switch up to d ~ U(0.5, 2); baseline 1 units may switch down to 0."""
    rng = np.random.default_rng(seed)
    base = np.where(rng.random(n) < 0.3, 1.0, 0.0)
    switch = rng.random(n) < np.where(base == 0, 0.6, 0.5)
    F = rng.integers(3, 9, size=n)
    new = np.where(base == 0, rng.uniform(0.5, 2.0, n), 0.0)
    t = np.arange(1, T + 1)
    D = np.where(switch[:, None] & (t[None, :] >= F[:, None]), new[:, None], base[:, None])
    alpha = rng.normal(size=n) + base
    Y = alpha[:, None] + 0.2 * t[None, :] + theta * D + rng.normal(size=(n, T))
    return pd.DataFrame({"g": np.repeat(np.arange(n), T), "t": np.tile(t, n), "y": Y.ravel(),
                         "d": D.ravel()})


@pytest.mark.slow
def test_simulation_known_truth():
    theta, reps = 0.5, 30
    ate, cover, pl, norm = [], 0, [], []
    for s in range(reps):
        df = simulate_switching(seed=s, theta=theta)
        r = did.dcdh(df, outcome="y", unit="g", time="t", treatment="d", effects=3, placebo=2)
        rn = did.dcdh(df, outcome="y", unit="g", time="t", treatment="d", effects=3,
                      normalized=True)
        a = r.average_total_effect
        ate.append(a.estimate)
        lo, hi = a.conf_int()
        cover += lo <= theta <= hi
        pl.append(r.placebos.params.to_numpy())
        norm.append(rn.effects.params.to_numpy())
    ate, pl, norm = np.array(ate), np.array(pl), np.array(norm)
    assert abs(ate.mean() - theta) < 4 * ate.std(ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(pl.mean(0)) < 4 * pl.std(0, ddof=1) / np.sqrt(reps))
    truth_n = theta / np.arange(1, 4)
    assert np.all(np.abs(norm.mean(0) - truth_n) < 4 * norm.std(0, ddof=1) / np.sqrt(reps))
    assert cover / reps >= 0.8


def test_outputs_and_bootstrap():
    df = simulate_switching(seed=1)
    r = did.dcdh(df, outcome="y", unit="g", time="t", treatment="d", effects=3, placebo=2)
    fr = r.to_frame()
    assert list(fr.event_time.dropna()) == [-1, -2, 1, 2, 3]
    assert "Av_tot_eff" in set(fr.term)
    es = r.event_study()
    assert list(es.labels.event_time) == [-2, -1, 1, 2, 3]
    rb = did.dcdh(df, outcome="y", unit="g", time="t", treatment="d", effects=3, placebo=2,
                  n_draws=49, seed=3)
    np.testing.assert_allclose(rb.effects.params, r.effects.params)
    # bootstrap and analytic SEs agree roughly (49 draws: within 35%)
    np.testing.assert_allclose(rb.effects.std_errors, r.effects.std_errors, rtol=0.35)
    assert "bootstrap" in rb.effects.inference


def test_errors():
    df = simulate_switching(seed=2)
    # every unit switches in the same period from the same baseline: no comparison units
    bad = df.assign(d=np.where(df.t >= 5, 1.0, 0.0))
    with pytest.raises(NoControlUnitsError, match="comparison unit"):
        did.dcdh(bad, outcome="y", unit="g", time="t", treatment="d")
    with pytest.raises(PanelDataError, match="consecutive"):
        did.dcdh(df[df.t != 4], outcome="y", unit="g", time="t", treatment="d")
    with pytest.raises(Exception, match="effects"):
        did.dcdh(df, outcome="y", unit="g", time="t", treatment="d", effects=0)


def test_switchers_out_sign_convention(favara_imbs):
    """Units whose treatment decreases enter with S_g = -1 (dCDH 2024: effects of a weakly higher
    treatment). moderndid 0.2.0 reports the effect of the decrease itself, so on a sample of
    switchers-out only its estimates are exactly minus ours, with the same standard errors."""
    md, _ = favara_imbs
    import polars as pl

    df = simulate_switching(n=600, seed=4)
    out = df[df.groupby("g").d.transform("first") == 1].copy()
    # a third of the switchers go back above their baseline two periods after switching down:
    # those unit-periods are dropped (both directions), as did_multiplegt_dyn does
    first_change = out[out.d != 1].groupby("g").t.min()
    f = out.g.map(first_change)
    out.loc[f.notna() & (out.g % 3 == 0) & (out.t >= f + 2), "d"] = 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = did.dcdh(out, outcome="y", unit="g", time="t", treatment="d", effects=4, placebo=2)
        m = md.did_multiplegt(data=pl.from_pandas(out), yname="y", idname="g", tname="t",
                              dname="d", effects=4, placebo=2)
    np.testing.assert_allclose(r.effects.params, -m.effects.estimates, atol=1e-10)
    np.testing.assert_allclose(r.effects.std_errors, m.effects.std_errors, rtol=1e-6)
    np.testing.assert_allclose(r.placebos.params, -m.placebos.estimates, atol=1e-10)
    np.testing.assert_array_equal(r.table.n_switchers[:4], m.effects.n_switchers)
    assert r.average_total_effect.estimate == pytest.approx(-m.ate.estimate, abs=1e-10)
    assert len(r.dropped_units) > 0


@pytest.mark.slow
def test_controls_remove_covariate_confounding():
    """A covariate whose trend differs between switchers and stayers biases the raw estimator;
    the covariate adjustment (θ from first differences among not-yet-switched units, by baseline)
    recovers θ (Monte-Carlo mean within 4 MC s.e.; raw estimator off by > 10 MC s.e.)."""
    theta, reps = 0.5, 12
    adj, raw = [], []
    for s in range(reps):
        df = simulate_switching(seed=200 + s, theta=theta)
        rng = np.random.default_rng(s)
        switcher = df.groupby("g").d.transform(lambda v: float(v.nunique() > 1))
        df["x"] = 1.0 * df.t * switcher + rng.normal(size=len(df))
        df["y"] = df.y + 0.7 * df.x
        kw = dict(outcome="y", unit="g", time="t", treatment="d", effects=3)
        adj.append(did.dcdh(df, **kw, covariates=["x"]).average_total_effect.estimate)
        raw.append(did.dcdh(df, **kw).average_total_effect.estimate)
    adj, raw = np.array(adj), np.array(raw)
    assert abs(adj.mean() - theta) < 4 * adj.std(ddof=1) / np.sqrt(reps)
    assert abs(raw.mean() - theta) > 10 * raw.std(ddof=1) / np.sqrt(reps)
