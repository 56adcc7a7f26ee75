"""Synthetic DiD re-fits on workers: the same estimates whatever runs them.

Tolerance: exact equality. The placebo permutations and bootstrap resamples are drawn in this
process before the re-fits are split into chunks, so serial, process-pool and Dask runs evaluate
the same fits with the same arithmetic (one BLAS thread in every case).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit._shared.blas import single_threaded_blas
from evalkit.inference.executor import Executor
from evalkit.synth import _sdid_core as core
from evalkit.synth import synthetic_did
from evalkit.synth._panel import block_panel

KW = dict(outcome="y", unit="unit", time="year", treatment="d", covariates=["x"])


def _panel(n=24, n_tr=3, T=12, t0=8, seed=4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(0, 1, (T, 2)).cumsum(axis=0) * 0.4
    y = rng.normal(0, 1, n)[:, None] + rng.normal(0, 1, (n, 2)) @ f.T + rng.normal(0, 0.3, (n, T))
    d = np.zeros((n, T), dtype=int)
    d[:n_tr, t0:] = 1
    x = rng.normal(0, 0.5, (n, T)) + 0.2 * d.cumsum(axis=1)
    y = y + 1.5 * d + 0.8 * x
    return pd.DataFrame({
        "unit": np.repeat([f"u{i:02d}" for i in range(n)], T),
        "year": np.tile(np.arange(2000, 2000 + T), n),
        "y": y.ravel(), "d": d.ravel(), "x": x.ravel(),
    })


def _sequential_placebo(df, n_reps, seed):
    """Algorithm 4 written out draw by draw: one permutation of the donors, one full re-fit."""
    bp = block_panel(df, **KW)
    Y, X, N0, T0 = bp.Y, bp.X, bp.N0, bp.T0
    opts, om0, la0, _ = core.default_setup(Y, N0, T0, "sdid")
    _, omega, lam, _ = core.fit(Y, N0, T0, opts, om0, la0, X)
    rng = np.random.default_rng(seed)
    perms = np.argsort(rng.random((n_reps, N0)), axis=1)
    n0 = N0 - bp.N1
    out = []
    for p in perms:
        start = core.sum_normalize(omega[p[:n0]][None, :])[0]
        out.append(core.fit(Y[p], n0, T0, opts, start, lam.copy(), X[p])[0])
    return np.array(out)


def test_serial_placebo_refits_equal_the_draw_by_draw_algorithm():
    df = _panel()
    r = synthetic_did(df, cov_type="placebo", n_draws=12, seed=9, **KW)
    with single_threaded_blas():
        expected = _sequential_placebo(df, 12, 9)
    np.testing.assert_array_equal(r.placebo_estimates, expected)


def test_dask_local_cluster_runs_fit_level_jobs_identically():
    distributed = pytest.importorskip("distributed")
    df = _panel()
    serial_p = synthetic_did(df, cov_type="placebo", n_draws=24, seed=3, **KW)
    serial_b = synthetic_did(df, cov_type="bootstrap", n_draws=12, seed=5, **KW)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        ex = Executor(cluster=cluster)
        dask_p = synthetic_did(df, cov_type="placebo", n_draws=24, seed=3, executor=ex, **KW)
        dask_b = synthetic_did(df, cov_type="bootstrap", n_draws=12, seed=5, executor=ex, **KW)
    np.testing.assert_array_equal(serial_p.placebo_estimates, dask_p.placebo_estimates)
    np.testing.assert_array_equal(serial_b.placebo_estimates, dask_b.placebo_estimates)
    assert serial_p.std_error == dask_p.std_error and serial_b.std_error == dask_b.std_error


def test_chunk_size_does_not_change_refits(monkeypatch):
    df = _panel()
    a = synthetic_did(df, cov_type="bootstrap", n_draws=7, seed=2, **KW)
    monkeypatch.setattr(core, "REFIT_CHUNK", 3)
    b = synthetic_did(df, cov_type="bootstrap", n_draws=7, seed=2, **KW)
    np.testing.assert_array_equal(a.placebo_estimates, b.placebo_estimates)
