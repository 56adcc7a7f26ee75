"""Shared simulators for the TWFE-family tests (staggered adoption with known effects)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def staggered_panel(
    n_units: int = 300,
    years: tuple[int, int] = (2010, 2019),
    cohorts: tuple[int, ...] = (0, 2013, 2015, 2017),
    effect=lambda e: 1.0 + 0.0 * e,
    seed: int = 0,
    noise: float = 1.0,
    unit_trend_sd: float = 0.0,
) -> pd.DataFrame:
    """Balanced panel; ``effect(e)`` is the true effect at event time ``e >= 0`` (any cohort)."""
    rng = np.random.default_rng(seed)
    t0, t1 = years
    periods = np.arange(t0, t1 + 1)
    g = rng.choice(cohorts, n_units)
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), len(periods)),
            "year": np.tile(periods, n_units),
            "cohort": np.repeat(g, len(periods)),
        }
    )
    alpha = rng.normal(size=n_units)
    gamma = rng.normal(size=len(periods)).cumsum() * 0.3
    df["x"] = rng.normal(size=len(df))
    rel = df["year"] - df["cohort"]
    treated = (df["cohort"] > 0) & (rel >= 0)
    df["treat"] = treated.astype(float)
    df["rel"] = np.where(df["cohort"] > 0, rel, np.nan)
    tau = np.where(treated, np.vectorize(effect)(rel.where(treated, 0)), 0.0)
    df["tau"] = tau
    df["y"] = (
        alpha[df["unit"]]
        + gamma[df["year"] - t0]
        + 0.5 * df["x"]
        + tau
        + noise * rng.normal(size=len(df))
    )
    return df
