"""Simulated panels with known dose responses (shared by the dose tests and the benchmark)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def att_true(d):
    """True ATT(d) of :func:`simulate_dose_panel` (constant over time and cohorts)."""
    d = np.asarray(d, dtype=float)
    return 0.5 * d + 0.1 * d**2


def acrt_true(d):
    """True ACRT(d) = dATT/dd."""
    return 0.5 + 0.2 * np.asarray(d, dtype=float)


def simulate_dose_panel(n_units=500, n_periods=8, cohorts=(4, 6), p_never=0.3, seed=0,
                        noise=1.0, start=1):
    """Staggered adoption with a fixed dose ~ U(0.5, 3); never-treated share ``p_never``.

    The effect is ``att_true(d)`` in every post period (no selection on gains, so parallel and
    strong parallel trends both hold). Unit effects correlate with the dose.
    """
    rng = np.random.default_rng(seed)
    never = rng.random(n_units) < p_never
    g = np.where(never, 0, rng.choice(cohorts, size=n_units))
    d = np.where(never, 0.0, rng.uniform(0.5, 3.0, n_units))
    alpha = rng.normal(size=n_units) + 0.5 * d
    times = np.arange(start, start + n_periods)
    lam = 0.3 * np.arange(n_periods)
    post = (g[:, None] > 0) & (times[None, :] >= g[:, None])
    y = alpha[:, None] + lam[None, :] + post * att_true(d)[:, None] + noise * rng.normal(
        size=(n_units, n_periods))
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_periods),
        "time": np.tile(times, n_units),
        "y": y.ravel(),
        "dose": np.repeat(d, n_periods),
        "cohort": np.repeat(g, n_periods),
    })
