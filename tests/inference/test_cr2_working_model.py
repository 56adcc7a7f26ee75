"""CR2 degrees of freedom under the treated/untreated working model (the few-cluster default).

Checked three ways:

* with a constant working-model variance the formula is the identity model's, i.e. Bell and
  McCaffrey's dof (themselves checked against R clubSandwich in ``test_covariance.py``), to 1e-10,
  through the code path that builds ``M A`` from the fixed-effect projection (units fewer and more
  than years, unbalanced, weighted);
* against a brute-force computation with explicit unit and year dummies and the dense
  annihilator, to 1e-9;
* by simulation: with the true working-model variances plugged in, the dof equal
  ``2 E[V]^2 / Var[V]`` of the simulated CR2 variance (Satterthwaite's definition) within 10 %
  (4,000 draws: the Monte-Carlo s.e. of that ratio is about 3 %);
* the default's size: 5 % tests on 10 units x 20 years with noisier AR(1) treated units (the size
  study's hardest design) reject within [2.5 %, 8.5 %] of 600 true nulls (binomial s.e. 0.9
  points), where the Bell-McCaffrey dof reject more.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit import did
from evalkit._shared.exceptions import InferenceError
from evalkit.inference import covariance


def _panel(N, T, n_treated, seed=0, drop=0, weights=False, noisy=3.0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(N) for t in range(T)], columns=["unit", "year"])
    df["treated"] = ((df.unit < n_treated) & (df.year >= T // 2)).astype(int)
    scale = np.where(df.unit < n_treated, noisy, 1.0)
    df["y"] = rng.normal(size=N)[df.unit] + rng.normal(size=T)[df.year] + rng.normal(size=len(df)) * scale
    if weights:
        df["w"] = rng.uniform(0.5, 2.0, size=N)[df.unit]
    if drop:
        df = df.drop(index=rng.choice(len(df), size=drop, replace=False)).reset_index(drop=True)
    return df


def _fit(df, weights=False):
    return did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated",
                    weights="w" if weights else None, cov_type="clustered")


SHAPES = [
    dict(N=12, T=14, n_treated=3),  # units < years (Weifang's counties)
    dict(N=10, T=20, n_treated=3),
    dict(N=16, T=14, n_treated=4),  # units > years
    dict(N=12, T=10, n_treated=3, drop=9),  # unbalanced
    dict(N=12, T=12, n_treated=4, weights=True),  # weighted
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s.values())))
def test_constant_working_variance_gives_bell_mccaffrey(shape, monkeypatch):
    r = _fit(_panel(**shape), weights=shape.get("weights", False))
    bm = covariance.compute(r.design, "cr2")
    monkeypatch.setattr(covariance, "treatment_group_variances",
                        lambda design, labels: np.full(design.nobs, 2.5))
    tg = covariance.compute(r.design, "cr2", working_model="treatment_groups")
    np.testing.assert_allclose(tg.dof, bm.dof, rtol=1e-10)
    np.testing.assert_allclose(tg.cov, bm.cov, rtol=1e-12)


def _brute_force_dof(df, r, weights=False):
    """Satterthwaite dof under the treated/untreated model from explicit dummies."""
    sw = np.sqrt(df["w"].to_numpy()) if weights else np.ones(len(df))
    unit, year = df["unit"].to_numpy(), df["year"].to_numpy()
    Z = np.column_stack([df["treated"].to_numpy(float), np.eye(unit.max() + 1)[unit],
                         np.eye(year.max() + 1)[year][:, 1:]]) * sw[:, None]
    M = np.eye(len(df)) - Z @ np.linalg.pinv(Z)
    e = M @ (df["y"].to_numpy() * sw)
    treated = np.isin(unit, df.loc[df.treated == 1, "unit"].unique())
    phi = np.empty(len(df))
    for part in (treated, ~treated):
        phi[part] = np.sum(e[part] ** 2) / np.sum(np.diag(M)[part])
    G = unit.max() + 1
    q = covariance.cr2_rows(r.design, unit, G, covariance.FEProjection.from_design(r.design, unit))[:, 0]
    A = np.zeros((len(df), G))
    A[np.arange(len(df)), unit] = q
    MA = M @ A
    W = MA.T @ (phi[:, None] * MA)
    return np.trace(W) ** 2 / np.sum(W * W)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s.values())))
def test_matches_explicit_dummies(shape):
    df = _panel(**shape)
    r = _fit(df, weights=shape.get("weights", False))
    tg = covariance.compute(r.design, "cr2", working_model="treatment_groups")
    assert tg.dof[0] == pytest.approx(_brute_force_dof(df, r, shape.get("weights", False)), rel=1e-9)


def test_satterthwaite_moments_by_simulation(monkeypatch):
    """With the true variances as the working model, nu = 2 E[V]^2 / Var[V] of the CR2 variance."""
    N, T, n1, noisy = 10, 12, 3, 3.0
    base = _panel(N, T, n1, seed=1)
    r0 = _fit(base)
    design = r0.design
    truth = np.where(np.isin(base["unit"], np.arange(n1)), noisy**2, 1.0)
    monkeypatch.setattr(covariance, "treatment_group_variances", lambda d, labels: truth)
    nu = covariance.compute(design, "cr2", working_model="treatment_groups").dof[0]
    # fixed regressors, new errors: the design's residuals are M u (M annihilates X and the effects)
    unit, year = base["unit"].to_numpy(), base["year"].to_numpy()
    Z = np.column_stack([design.X[:, 0], np.eye(N)[unit], np.eye(T)[year][:, 1:]])
    M = np.eye(len(base)) - Z @ np.linalg.pinv(Z)
    rng = np.random.default_rng(7)
    V = []
    for _ in range(4000):
        u = rng.normal(size=len(base)) * np.sqrt(truth)
        design.resid = M @ u
        V.append(covariance.compute(design, "cr2").cov[0, 0])
    V = np.array(V)
    assert 2 * V.mean() ** 2 / V.var() == pytest.approx(nu, rel=0.10)


def _ar1_noisy_panel(rng, N=10, T=20, n1=3):
    e = np.empty((N, T))
    e[:, 0] = rng.normal(size=N) / np.sqrt(1 - 0.49)
    for t in range(1, T):
        e[:, t] = 0.7 * e[:, t - 1] + rng.normal(size=N)
    e *= np.sqrt(1 - 0.49) * np.where(np.arange(N) < n1, 3.0, 1.0)[:, None]
    y = rng.normal(size=(N, 1)) + rng.normal(size=(1, T)) + e
    unit, year = np.repeat(np.arange(N), T), np.tile(np.arange(T), N)
    return pd.DataFrame({"unit": unit, "year": year, "y": y.ravel(),
                         "treated": ((unit < n1) & (year >= T // 2)).astype(int)})


def test_default_size_on_the_hardest_design():
    rng = np.random.default_rng(20261203)
    rej = {"treatment_groups": 0, "identity": 0}
    reps = 600
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(reps):
            r = _fit(_ar1_noisy_panel(rng))
            for model in rej:
                rej[model] += covariance.compute(r.design, "cr2", working_model=model).pvalue[0] <= 0.05
    rate = {k: 100 * v / reps for k, v in rej.items()}
    assert 2.5 <= rate["treatment_groups"] <= 8.5, rate
    assert rate["identity"] > rate["treatment_groups"], rate


def test_falls_back_to_identity_and_says_so():
    r = _fit(_panel(12, 10, 3))
    r.design.treated_clusters = None
    tg = covariance.compute(r.design, "cr2", working_model="treatment_groups")
    bm = covariance.compute(r.design, "cr2")
    np.testing.assert_allclose(tg.dof, bm.dof)
    assert "identity model was used" in tg.description


def test_unknown_working_model_is_refused():
    r = _fit(_panel(12, 10, 3))
    with pytest.raises(InferenceError, match="working_model='ar1' is not one of"):
        covariance.compute(r.design, "cr2", working_model="ar1")
