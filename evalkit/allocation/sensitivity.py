"""Sensitivity of an allocation to its weights and data (docs/allocation.md §4).

* :func:`perturb_weights`: each weight ±δ percentage points, the others rescaled proportionally;
  exact amounts, change per unit and rank changes.
* :func:`leave_one_out`: drop one factor and renormalise the others (exact).
* :func:`monte_carlo`: weights drawn from Dirichlet(κ·w), optional multiplicative lognormal noise
  on the data; P5/P50/P95 per unit, probability of a rank change and of hitting a floor or cap.
  Vectorised (10,000 draws for 16 units × 8 factors well under a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from .._shared.vocabulary import DEFAULT_SEED
from ._vector import VectorModel, ranks
from .formula import compute, transform

if TYPE_CHECKING:
    from .engine import Allocation


def _rank_exact(alloc: Allocation, amounts: list[int]) -> list[int]:
    return list(ranks(np.array([amounts], dtype=float))[0])


def _scenario_rows(alloc: Allocation, label: dict[str, Any], weights: dict[str, Fraction]
                   ) -> list[dict[str, Any]]:
    core = compute(alloc.spec, alloc.inputs, weights=weights)
    base_rank = _rank_exact(alloc, alloc.core.amounts)
    new_rank = _rank_exact(alloc, core.amounts)
    rows = []
    for i, c in enumerate(alloc.codes):
        rows.append({**label, "unit_code": c, "name_zh": alloc.name(c),
                     "amount_wan": core.amounts[i], "baseline_wan": alloc.core.amounts[i],
                     "change_wan": core.amounts[i] - alloc.core.amounts[i],
                     "continuous_wan": float(core.continuous[i]),
                     "rank": new_rank[i], "baseline_rank": base_rank[i],
                     "rank_change": base_rank[i] - new_rank[i], "bound": core.bound[i]})
    return rows


def perturb_weights(alloc: Allocation, delta: float = 5.0) -> pd.DataFrame:
    """Shift each weight by ±δ percentage points, rescaling the others proportionally.

    Parameters
    ----------
    alloc : Allocation
    delta : float
        Shift in percentage points (default 5). A weight is clipped to [0, 100].

    Returns
    -------
    DataFrame
        One row per (factor, shift, unit): ``factor_id, shift_pp, weight_pct, unit_code,
        name_zh, amount_wan, baseline_wan, change_wan, continuous_wan, rank, baseline_rank,
        rank_change, bound`` (``rank_change > 0`` = moved up).
    """
    if delta <= 0:
        raise EvalkitError(f"delta must be > 0 percentage points, got {delta}.")
    d = Fraction(repr(float(delta)))
    w0 = {f.id: f.weight for f in alloc.spec.factors}
    rows: list[dict[str, Any]] = []
    for f in alloc.spec.factors:
        rest = 100 - w0[f.id]
        for sign in (-1, 1):
            wk = min(max(w0[f.id] + sign * d, Fraction(0)), Fraction(100))
            if wk == w0[f.id] or rest == 0:
                continue
            new = {g: (wk if g == f.id else w0[g] * (100 - wk) / rest) for g in w0}
            rows += _scenario_rows(alloc, {"factor_id": f.id, "shift_pp": float(sign * d),
                                           "weight_pct": float(wk)}, new)
    return pd.DataFrame(rows)


def leave_one_out(alloc: Allocation) -> pd.DataFrame:
    """Drop each factor in turn and renormalise the remaining weights.

    Returns
    -------
    DataFrame
        One row per (dropped factor, unit), columns as :func:`perturb_weights` with
        ``dropped`` instead of the shift.
    """
    w0 = {f.id: f.weight for f in alloc.spec.factors}
    rows: list[dict[str, Any]] = []
    for f in alloc.spec.factors:
        if w0[f.id] == 0 or sum(w for g, w in w0.items() if g != f.id) == 0:
            continue
        new = {g: (Fraction(0) if g == f.id else w) for g, w in w0.items()}
        rows += _scenario_rows(alloc, {"dropped": f.id}, new)
    return pd.DataFrame(rows)


@dataclass
class MonteCarloResult:
    """Monte Carlo over weights.

    Attributes
    ----------
    summary : DataFrame
        Per unit: ``unit_code, name_zh, amount_wan, p5, p50, p95, mean, sd, prob_rank_change,
        prob_floor, prob_cap``.
    amounts : ndarray (N, n)
        Rounded amounts per draw.
    weights : ndarray (N, K)
        The drawn weights (fractions).
    settings : dict
        ``n_draws, kappa, seed, noise``.
    """

    summary: pd.DataFrame
    amounts: np.ndarray
    weights: np.ndarray
    settings: dict[str, Any]


def _noisy_shares(alloc: Allocation, rng: np.random.Generator, n_draws: int,
                  noise: dict[str, float]) -> np.ndarray:
    """Factor share arrays (N, n, K) with multiplicative lognormal noise on the raw data."""
    fids = alloc.spec.factor_ids
    n = len(alloc.codes)
    Z = np.empty((n_draws, n, len(fids)))
    for k, f in enumerate(alloc.spec.factors):
        x = np.array([float(v) for v in alloc.inputs.values[f.id]])
        sigma = float(noise.get(f.id, 0.0))
        if sigma == 0:
            Z[:, :, k] = [float(v) for v in alloc.core.z[f.id]]
            continue
        pop = alloc.inputs.population.get(f.population_factor)
        pop_a = None if pop is None else np.array([float(v) for v in pop])
        xs = x[None, :] * rng.lognormal(0.0, sigma, size=(n_draws, n))
        Z[:, :, k] = _transform_float(f, xs, pop_a)
    return Z


def _transform_float(f, x: np.ndarray, pop: np.ndarray | None) -> np.ndarray:
    """Float version of :func:`~evalkit.allocation.formula.transform` on rows of ``x``."""
    eps = float(f.shift)
    t = f.transform
    if t == "share":
        sc = x
    elif t == "inverse_share":
        sc = 1.0 / x
    elif t == "per_capita":
        pc = x / pop[None, :]
        sc = pc if f.direction == "+" else 1.0 / pc
    elif t == "minmax_shift":
        lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
        rng = np.where(hi > lo, hi - lo, 1.0)
        sc = ((x - lo) if f.direction == "+" else (hi - x)) / rng + eps
        sc = np.where(hi > lo, sc, 1.0)
    elif t == "ratio_to_mean":
        mean = x.mean(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = x / mean if f.direction == "+" else mean / x
        if f.bounds is not None:
            r = np.clip(r, float(f.bounds[0]), float(f.bounds[1]))
        sc = np.where(mean > 0, r, 1.0)
    else:  # zscore_shift, zscore
        sd = x.std(axis=1, keepdims=True)
        z = (x - x.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
        z = z if f.direction == "+" else -z
        if t == "zscore":
            sc = float(f.score_base) + float(f.score_scale) * z
        else:
            sc = np.where(sd > 0, z - z.min(axis=1, keepdims=True) + eps, 1.0)
    tot = sc.sum(axis=1, keepdims=True)
    return sc / tot


def monte_carlo(alloc: Allocation, n_draws: int = 10_000, kappa: float = 200.0,
                seed: int = DEFAULT_SEED, noise: dict[str, float] | None = None,
                keep_draws: bool = True) -> MonteCarloResult:
    """Monte Carlo over the weights: Dirichlet(κ·w) draws, fixed seed.

    Parameters
    ----------
    alloc : Allocation
    n_draws : int
        Number of draws (default 10,000).
    kappa : float
        Concentration; default 200 gives about ±3 percentage points per weight.
    seed : int
        Seed of :func:`numpy.random.default_rng` (results are reproducible; default evalkit's one
        default seed, :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    noise : dict, optional
        ``{factor_id: σ}`` multiplicative lognormal data noise per factor.
    keep_draws : bool
        Keep the (N, n) amounts and (N, K) weights in the result.

    Returns
    -------
    MonteCarloResult
    """
    if n_draws < 1 or kappa <= 0:
        raise EvalkitError(f"n_draws must be ≥ 1 and kappa > 0 (got {n_draws}, {kappa}).")
    model = VectorModel.from_allocation(alloc)
    rng = np.random.default_rng(seed)
    alpha = kappa * model.w
    W = np.zeros((n_draws, len(model.w)))
    pos = alpha > 0
    G = rng.standard_gamma(alpha[pos], size=(n_draws, int(pos.sum())))
    W[:, pos] = G / G.sum(axis=1, keepdims=True)
    Z = _noisy_shares(alloc, rng, n_draws, noise) if noise else None
    s = model.shares(W, Z)
    cont, bound = model.continuous(s)
    amounts = model.rounded(cont)
    base_rank = ranks(np.array([alloc.core.amounts], dtype=float))[0]
    rk = ranks(amounts.astype(float))
    pct = np.percentile(amounts, [5, 50, 95], axis=0)
    summary = pd.DataFrame({
        "unit_code": alloc.codes,
        "name_zh": [alloc.name(c) for c in alloc.codes],
        "amount_wan": alloc.core.amounts,
        "p5": pct[0], "p50": pct[1], "p95": pct[2],
        "mean": amounts.mean(axis=0), "sd": amounts.std(axis=0),
        "prob_rank_change": (rk != base_rank[None, :]).mean(axis=0),
        "prob_floor": (bound == -1).mean(axis=0),
        "prob_cap": (bound == 1).mean(axis=0),
    })
    return MonteCarloResult(summary=summary, amounts=amounts if keep_draws else np.empty((0, 0)),
                            weights=W if keep_draws else np.empty((0, 0)),
                            settings={"n_draws": n_draws, "kappa": kappa, "seed": seed,
                                      "noise": dict(noise or {})})


__all__ = ["MonteCarloResult", "leave_one_out", "monte_carlo", "perturb_weights", "transform"]
