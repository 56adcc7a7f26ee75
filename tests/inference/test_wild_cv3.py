"""CV3-studentised wild cluster bootstrap (WCR-S / WCU-S) against a brute-force refit.

Tolerances: bootstrap statistics, observed statistic and CV3 standard error agree with the
brute-force implementation (explicit unit and year dummies, every draw refitted on the full
sample and without each cluster, all 2^H sign vectors) to 1e-8 (relative and absolute);
p-values exactly (same draws, same tie rule).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._shared.exceptions import InferenceError
from evalkit._shared.kernels import enumerated_weights
from evalkit.inference import LinearDesign
from evalkit.inference.wild import wild_cluster_bootstrap

TOL = 1e-8


def _panel(N, T, seed, drop=0, weighted=False, n_treated=2):
    rng = np.random.default_rng(seed)
    unit, year = np.repeat(np.arange(N), T), np.tile(np.arange(T), N)
    d = ((unit < n_treated) & (year >= T // 2)).astype(float)
    y = rng.normal(size=N)[unit] + rng.normal(size=T)[year] + 0.3 * d + rng.normal(size=N * T) * (1 + unit % 3)
    keep = np.ones(N * T, bool)
    if drop:  # unbalanced: drop some untreated-period observations of the last units
        keep[rng.choice(np.flatnonzero(unit >= n_treated), drop, replace=False)] = False
    w = rng.uniform(0.5, 2.0, size=N * T) if weighted else np.ones(N * T)
    return unit[keep], year[keep], d[keep], y[keep], w[keep]


def _dummies(unit, year):
    U = (unit[:, None] == np.unique(unit)[None, :]).astype(float)
    Y = (year[:, None] == np.unique(year)[None, 1:]).astype(float)
    return np.hstack([U, Y])


def _fit(F, y):
    keep = np.abs(F).sum(axis=0) > 0  # a left-out unit's dummy column is all zeros
    return np.linalg.lstsq(F[:, keep], y, rcond=None)[0][0]


def _design(unit, year, d, y, w):
    """The design as evalkit's TWFE builds it: within-transformed (weighted scale), effects described."""
    s = np.sqrt(w)
    D = _dummies(unit, year) * s[:, None]

    def within(v):
        return v - D @ np.linalg.lstsq(D, v, rcond=None)[0]

    xt, yt = within(s * d), within(s * y)
    beta = np.array([xt @ yt / (xt @ xt)])
    return LinearDesign(X=xt[:, None], resid=yt - xt * beta[0], beta=beta, names=["treat"], y=yt,
                        clusters=unit, df_absorbed=len(np.unique(unit)) + len(np.unique(year)) - 1,
                        fe_nested_in_cluster=True,
                        extra={"fe_codes": np.column_stack([unit, year]), "weights": w})


def _brute(unit, year, d, y, w, impose_null, boot):
    """t statistic and every bootstrap t (CV3 by explicit leave-one-cluster-out refits)."""
    s = np.sqrt(w)
    F = np.column_stack([d, _dummies(unit, year)]) * s[:, None]
    ys = s * y
    G = len(np.unique(unit))

    def t_and_se(yv, center):
        b = _fit(F, yv)
        jack = np.array([_fit(F[unit != g], yv[unit != g]) for g in range(G)])
        se = np.sqrt((G - 1) / G * np.sum((jack - b) ** 2))
        return (b - center) / se, se

    t_obs, se = t_and_se(ys, 0.0)
    if impose_null:
        coef = np.linalg.lstsq(F[:, 1:], ys, rcond=None)[0]
        fitted, center = F[:, 1:] @ coef, 0.0
    else:
        coef = np.linalg.lstsq(F, ys, rcond=None)[0]
        fitted, center = F @ coef, coef[0]
    u = ys - fitted
    _, bcodes = np.unique(boot, return_inverse=True)
    V = enumerated_weights(int(bcodes.max()) + 1, 0, 2 ** (int(bcodes.max()) + 1))
    boot_t_se = np.array([t_and_se(fitted + V[bcodes, j] * u, center) for j in range(V.shape[1])])
    return t_obs, se, boot_t_se[:, 0], boot_t_se[:, 1]


CASES = {
    "units<years": dict(N=6, T=9, seed=1),
    "units>years": dict(N=8, T=5, seed=2),
    "unbalanced": dict(N=7, T=7, seed=3, drop=5),
    "weighted": dict(N=6, T=7, seed=4, weighted=True),
}


@pytest.mark.parametrize("impose_null", [True, False], ids=["WCR-S", "WCU-S"])
@pytest.mark.parametrize("case", list(CASES))
def test_cv3_bootstrap_matches_brute_force(case, impose_null):
    unit, year, d, y, w = _panel(**CASES[case])
    res = wild_cluster_bootstrap(_design(unit, year, d, y, w), param=0, studentize="cv3",
                                 impose_null=impose_null, level=None)
    t_obs, se, t_boot, _ = _brute(unit, year, d, y, w, impose_null, unit)
    assert res.full_enumeration and res.n_draws == t_boot.size
    np.testing.assert_allclose(res.std_error, se, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.statistic, t_obs, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.t_boot, t_boot, rtol=TOL, atol=TOL)
    assert res.pvalue == pytest.approx(np.mean(np.abs(t_boot) >= np.abs(t_obs) * (1 - 1e-9)), abs=0)
    assert "CV3" in res.description and "refitted without each cluster" in res.description


def test_cv3_subcluster_bootstrap_matches_brute_force():
    """Weights per unit x pre/post block (bootstrap clusters nested in the variance clusters)."""
    unit, year, d, y, w = _panel(N=5, T=6, seed=5)
    boot = unit * 2 + (year >= 3)
    res = wild_cluster_bootstrap(_design(unit, year, d, y, w), param=0, studentize="cv3",
                                 bootcluster=boot, level=None)
    t_obs, _, t_boot, se_boot = _brute(unit, year, d, y, w, True, boot)
    # draws flipping every unit's pre and post blocks in opposite directions (v = +-1 by period,
    # in the span of the year effects) leave 0/0 (every refit is 0 up to rounding): skipped
    ok = se_boot > 1e-9
    assert ok.mean() > 0.9
    np.testing.assert_allclose(res.t_boot[ok], t_boot[ok], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.statistic, t_obs, rtol=TOL, atol=TOL)


def test_cv3_wcr_draw_of_ones_reproduces_sample_and_interval_covers():
    unit, year, d, y, w = _panel(N=7, T=9, seed=6)
    res = wild_cluster_bootstrap(_design(unit, year, d, y, w), param=0, studentize="cv3", level=0.9)
    assert res.t_boot[0] == pytest.approx(res.statistic, rel=1e-10)
    lo, hi = res.conf_int(0.9)
    assert lo < res.estimate < hi
    assert res.pvalue_at(lo) == pytest.approx(0.1, abs=2 / res.n_draws)


def test_cv3_refuses_when_a_refit_is_not_identified():
    unit, year, d, y, w = _panel(N=6, T=6, seed=7, n_treated=1)
    with pytest.raises(InferenceError, match="Without cluster 0"):
        wild_cluster_bootstrap(_design(unit, year, d, y, w), param=0, studentize="cv3")


def test_cv3_refuses_undescribed_absorbed_effects():
    unit, year, d, y, w = _panel(N=6, T=6, seed=8)
    des = _design(unit, year, d, y, w)
    des.extra = {}
    with pytest.raises(InferenceError, match="described"):
        wild_cluster_bootstrap(des, param=0, studentize="cv3")
