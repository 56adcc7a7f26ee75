"""HonestDiD relative-magnitude bounds away from zero, input shapes and bad inputs.

R HonestDiD tests the target on the grid ``[-20, 20]`` standard errors around *zero*; an effect
further than 20 standard errors from zero (a clean event study with a precise estimate) then has
no accepted grid point and the bounds came back NaN. The grid now holds the point estimate, which
every Delta^RM(Mbar) confidence set contains (delta_post = 0 satisfies every relative-magnitude
restriction, so the test statistic at the estimate is at most zero).

Reference values: the R HonestDiD README (Medicaid example), kept in ``test_honest_did.py``
(``RM_R``; see the citation there). The relative-magnitude confidence set is translation
equivariant: adding ``c`` to every post-period coefficient shifts the set by ``c * sum(l_vec)``
exactly (the pre-trend restrictions concern delta, which does not move), so the Medicaid study
shifted far from zero must reproduce R's intervals shifted by ``c``.

Tolerances
----------
* Shifted Medicaid study against R: 6e-4 absolute, as for the unshifted study (refined end points
  lie within one grid step, 3.7e-4, of R's grid points).
* Shift equivariance, same data: 1e-5 standard errors of the target. The refinement resolves
  1e-6 of a grid step (4e-8 s.e. on R's grid, more on a widened grid); the grid itself moves with
  the estimate once it leaves R's default grid, so only refined end points compare.
* Monte Carlo coverage (200 simulated panels under parallel trends): the interval covers the true
  effect in at least 95% - 3 binomial standard deviations (3 * sqrt(.95 * .05 / 200) = 4.6
  percentage points) of the draws, at Mbar = 0 and Mbar = 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_honest_did import RM_R, _medicaid_event_study

from evalkit._shared.exceptions import EvalkitError
from evalkit.results import EffectVector
from evalkit.sensitivity import honest_did


def _vector(event_times, beta, cov) -> EffectVector:
    names = [f"event_time::{e}" for e in event_times]
    return EffectVector(pd.Series(np.asarray(beta, float), index=names),
                        pd.DataFrame(np.asarray(cov, float), names, names),
                        labels=pd.DataFrame({"event_time": list(event_times)}), reference=[-1])


def _panel(seed: int, effect: float = 1.0) -> pd.DataFrame:
    """40 units, 2014-2021, half treated from 2019; unit and year effects (parallel trends)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(40) for t in range(2014, 2022)],
                      columns=["unit", "year"])
    df["cohort"] = np.where(df["unit"] < 20, 2019, 0)
    year_effect = rng.normal(0, 0.3, 8)[df["year"] - 2014]
    treated = (df["cohort"] > 0) & (df["year"] >= 2019)
    df["y"] = 0.1 * df["unit"] + year_effect + effect * treated + rng.normal(0, 0.1, len(df))
    return df


def _event_study(df):
    from evalkit import did

    return did.event_study(df, outcome="y", unit="unit", time="year", cohort="cohort",
                           leads=4, lags=2)


def test_relative_magnitudes_clean_simulated_event_study_is_finite():
    # the call of the defect report: the effect (1.07) lies 26 standard errors from zero
    es = _event_study(_panel(0))
    h = honest_did(es, restriction="relative_magnitude", m=[0, 1])
    t = h.table.set_index("m")
    assert np.isfinite(t[["lower", "upper"]].to_numpy()).all(), t
    est = h.original["estimate"]
    assert t.loc[0, "lower"] < est < t.loc[0, "upper"]
    assert t.loc[1, "lower"] <= t.loc[0, "lower"] and t.loc[1, "upper"] >= t.loc[0, "upper"]
    # Mbar = 0 rules out any post-period violation: the C-LF interval is close to the
    # conventional one (a little wider: the hybrid spends alpha/10 on its first stage)
    assert t.loc[0, "lower"] > h.original["lower"] - 0.5 * h.original["std_error"]
    assert t.loc[0, "upper"] < h.original["upper"] + 0.5 * h.original["std_error"]


def test_relative_magnitudes_far_from_zero_reproduce_r_shifted():
    base = _medicaid_event_study()
    post = np.asarray(base.labels["event_time"]) >= 0
    shift = 1.0  # about 100 standard errors of the 2014 coefficient
    moved = EffectVector(base.params + shift * post, base.cov, labels=base.labels, reference=[-1])
    r = honest_did(moved, restriction="relative_magnitude", m=[v[0] for v in RM_R])
    want = np.array([v[1:] for v in RM_R]) + shift
    np.testing.assert_allclose(r.table[["lower", "upper"]].to_numpy(), want, atol=6e-4)


@pytest.mark.parametrize("l_vec", [None, [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
def test_relative_magnitudes_are_shift_equivariant(l_vec):
    es = _event_study(_panel(1))
    lv = np.array([1.0, 0, 0]) if l_vec is None else np.asarray(l_vec)
    ms = [0, 0.5, 2]
    here = honest_did(es, restriction="relative_magnitude", m=ms, l_vec=l_vec)
    post = np.asarray(es.labels["event_time"]) >= 0
    for shift in (-1.0, -60.0, 250.0):
        moved = EffectVector(es.params + shift * post, es.cov, labels=es.labels, reference=[-1])
        there = honest_did(moved, restriction="relative_magnitude", m=ms, l_vec=l_vec)
        np.testing.assert_allclose(there.table[["lower", "upper"]].to_numpy(),
                                   here.table[["lower", "upper"]].to_numpy() + shift * lv.sum(),
                                   atol=1e-5 * here.original["std_error"])


@pytest.mark.slow
def test_relative_magnitudes_cover_the_truth_under_parallel_trends():
    truth, n = 1.0, 200
    cover = {0.0: 0, 1.0: 0}
    for rep in range(n):
        es = _event_study(_panel(100 + rep, effect=truth))
        t = honest_did(es, restriction="relative_magnitude", m=list(cover)).table
        for row in t.itertuples():
            assert np.isfinite(row.lower) and np.isfinite(row.upper)
            cover[row.m] += row.lower <= truth <= row.upper
    floor = 0.95 - 3 * np.sqrt(0.95 * 0.05 / n)
    for m, c in cover.items():
        assert c / n >= floor, f"coverage at Mbar={m}: {c / n:.3f} < {floor:.3f}"


# --- every input shape gives finite bounds ------------------------------------------------------

SHAPES = [(1, 1), (1, 3), (2, 2), (4, 1), (4, 3)]


@pytest.mark.parametrize(("n_pre", "n_post"), SHAPES)
@pytest.mark.parametrize("level_of_effect", [0.05, 5.0])
def test_relative_magnitudes_every_shape_finite(n_pre, n_post, level_of_effect):
    rng = np.random.default_rng(n_pre * 10 + n_post)
    et = list(range(-n_pre - 1, -1)) + list(range(n_post))
    k = n_pre + n_post
    cov = 0.01 * (np.eye(k) + 0.3)
    beta = np.r_[0.01 * rng.standard_normal(n_pre), np.full(n_post, level_of_effect)]
    ev = _vector(et, beta, cov)
    targets = [dict(event_time=0), dict(event_time=n_post - 1),
               dict(l_vec=np.full(n_post, 1 / n_post))]
    for target in targets:
        for restriction in ("relative_magnitude", "smoothness"):
            h = honest_did(ev, restriction=restriction, m=[0.0, 0.5, 1.0], **target)
            bounds = h.table[["lower", "upper"]].to_numpy()
            assert np.isfinite(bounds).all(), (restriction, target, h.table)
            assert (bounds[:, 0] < bounds[:, 1]).all()
            if restriction == "relative_magnitude":
                # every Delta^RM set contains the point estimate
                assert (bounds[:, 0] <= h.original["estimate"]).all()
                assert (bounds[:, 1] >= h.original["estimate"]).all()


# --- inputs that cannot give bounds raise, naming the argument ---------------------------------


def _small():
    return _vector([-3, -2, 0, 1], [0.01, -0.02, 0.5, 0.6], 0.01 * (np.eye(4) + 0.2))


@pytest.mark.parametrize("restriction", ["relative_magnitude", "smoothness"])
def test_zero_l_vec_raises(restriction):
    with pytest.raises(EvalkitError, match="l_vec"):
        honest_did(_small(), restriction=restriction, l_vec=[0, 0])


@pytest.mark.parametrize("restriction", ["relative_magnitude", "smoothness"])
def test_non_finite_l_vec_raises(restriction):
    with pytest.raises(EvalkitError, match="l_vec"):
        honest_did(_small(), restriction=restriction, l_vec=[np.nan, 1])


@pytest.mark.parametrize("bad", [[np.nan], [0, np.inf], [-0.5]])
@pytest.mark.parametrize("restriction", ["relative_magnitude", "smoothness"])
def test_bad_m_raises(restriction, bad):
    with pytest.raises(EvalkitError, match="m "):
        honest_did(_small(), restriction=restriction, m=bad)


def test_empty_m_raises():
    with pytest.raises(EvalkitError, match="m "):
        honest_did(_small(), m=[])


def test_fractional_event_time_raises():
    with pytest.raises(EvalkitError, match="event_time"):
        honest_did(_small(), event_time=0.5)


@pytest.mark.parametrize("where", ["params", "cov"])
@pytest.mark.parametrize("restriction", ["relative_magnitude", "smoothness"])
def test_missing_coefficients_or_covariance_raise_naming_event_times(restriction, where):
    ev = _small()
    params, cov = ev.params.copy(), ev.cov.copy()
    if where == "params":
        params.iloc[1] = np.nan
    else:
        cov.iloc[1, 1] = np.nan
    bad = EffectVector(params, cov, labels=ev.labels, reference=[-1])
    with pytest.raises(EvalkitError, match=r"event time.*-2"):
        honest_did(bad, restriction=restriction)


@pytest.mark.parametrize("restriction", ["relative_magnitude", "smoothness"])
def test_zero_variance_target_raises(restriction):
    cov = 0.01 * (np.eye(4) + 0.2)
    cov[2, :] = cov[:, 2] = 0.0
    ev = _vector([-3, -2, 0, 1], [0.01, -0.02, 0.5, 0.6], cov)
    with pytest.raises(EvalkitError, match="variance"):
        honest_did(ev, restriction=restriction, event_time=0)
    flat = _vector([-3, -2, 0, 1], [0.01, -0.02, 0.5, 0.6], np.zeros((4, 4)))
    with pytest.raises(EvalkitError, match="variance"):
        honest_did(flat, restriction=restriction, l_vec=[0.5, 0.5])
