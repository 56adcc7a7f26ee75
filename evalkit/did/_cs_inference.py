"""Influence-function inference for Callaway--Sant'Anna: analytic covariance and multiplier bootstrap.

All quantities are linear in a *basis* of influence functions stored per unit: the ATT(g,t)
columns and one column per cohort ``w_i 1{G_i = g} - p_g`` (the estimation effect of the cohort
shares used as aggregation weights). An aggregated effect is ``basis @ coef``, so its covariance and
its bootstrap draws follow from those of the basis without touching unit-level data again.

Analytic: ``cov = S' S / n^2`` where ``S`` holds the basis summed within clusters (units when no
cluster is given). This is R did's ``t(inffunc) %*% inffunc / n^2`` for unit clusters; for coarser
clusters it is the cluster-robust sum of scores with no small-sample factor.

Bootstrap: ``draw_b = sum_c v_bc S_c / n`` with i.i.d. Mammen (default, as R did) or Rademacher
multipliers ``v`` per cluster; standard errors are the interquartile range of the draws divided by
``z_.75 - z_.25`` and the uniform critical value is the ``level`` quantile of the largest
standardised absolute draw (R did's ``mboot``, quantile type 1). R did divides cluster-mean
influence functions by ``sqrt(n_clusters)``; summing within clusters (used here) equals it for
unit clusters and is the usual cluster-robust scaling when cluster sizes differ.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import stats

from .._shared.blas import blas_limit

_KAPPA = (np.sqrt(5.0) + 1.0) / 2.0
_P_LOW = _KAPPA / np.sqrt(5.0)  # P(v = 1 - kappa)
_IQR_NORM = float(stats.norm.ppf(0.75) - stats.norm.ppf(0.25))


def cluster_sums(basis: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum the rows of ``basis`` within clusters (identity when ``cluster`` is None)."""
    if cluster is None:
        return basis
    nc = int(cluster.max()) + 1
    agg = sp.csr_matrix((np.ones(len(cluster)), (cluster, np.arange(len(cluster)))), shape=(nc, len(cluster)))
    return np.asarray(agg @ basis)


def analytic_cov(sums: np.ndarray, n: int) -> np.ndarray:
    """Covariance ``S' S / n^2`` of the estimates whose cluster-summed influence is ``sums``."""
    with blas_limit():  # one BLAS thread unless overridden: see evalkit._shared.blas
        return (sums.T @ sums) / float(n) ** 2


def multiplier_draws(
    sums: np.ndarray,
    n: int,
    n_bootstrap: int,
    seed,
    weights: str = "mammen",
    chunk_rows: int | None = None,
) -> np.ndarray:
    """Bootstrap draws ``(n_bootstrap, m)`` of ``sum_c v_c S_c / n`` with cluster-level multipliers.

    Multipliers are drawn ``chunk_rows`` bootstrap replications at a time into reused buffers (no
    fresh allocation per chunk; by default about 2**24 multipliers, i.e. 64 MiB, per chunk, so
    small problems take a single matrix product). The product ``V S`` is formed in single precision: its relative
    rounding error (about 1e-6) is far below the Monte Carlo error of the bootstrap (about
    ``1/sqrt(n_bootstrap)``); the result is returned in double precision.
    """
    rng = np.random.default_rng(seed)
    nc, m = sums.shape
    if weights == "mammen":
        lo, hi, p_lo = 1.0 - _KAPPA, _KAPPA, _P_LOW
    else:  # rademacher
        lo, hi, p_lo = -1.0, 1.0, 0.5
    s32 = np.ascontiguousarray(sums, dtype=np.float32)
    out = np.empty((n_bootstrap, m))
    if chunk_rows is None:
        chunk_rows = max(64, (1 << 24) // max(nc, 1))
    rows = max(1, min(n_bootstrap, chunk_rows))
    u = np.empty((rows, nc), dtype=np.float32)
    low = np.empty((rows, nc), dtype=bool)
    with blas_limit():  # one BLAS thread unless overridden: see evalkit._shared.blas
        _fill_draws(out, u, low, s32, rng, lo, hi, p_lo)
    return out / float(n)


def _fill_draws(out, u, low, s32, rng, lo, hi, p_lo) -> None:
    """Write multiplier draws times ``s32`` into ``out`` in chunks of ``len(u)`` replications."""
    rows, n_bootstrap = u.shape[0], out.shape[0]
    for start in range(0, n_bootstrap, rows):
        b = min(rows, n_bootstrap - start)
        ub, lb = u[:b], low[:b]
        rng.random(out=ub, dtype=np.float32)
        np.less(ub, p_lo, out=lb)
        # v = hi + (lo - hi) 1{u < p_lo}, written over the uniforms
        np.multiply(lb, np.float32(lo - hi), out=ub)
        ub += np.float32(hi)
        out[start : start + b] = ub @ s32


def bootstrap_summary(draws: np.ndarray, level: float, return_sup: bool = False):
    """Bootstrap standard errors (IQR rule) and the sup-t critical value at ``level``.

    With ``return_sup=True`` also the per-draw sup-t statistics (``None`` when no standard error
    is positive), from which the critical value at any level is their quantile.
    """
    q75 = np.quantile(draws, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(draws, 0.25, axis=0, method="inverted_cdf")
    se = (q75 - q25) / _IQR_NORM
    ok = se > np.sqrt(np.finfo(float).eps) * 10
    if not ok.any():
        return (se, float("nan"), None) if return_sup else (se, float("nan"))
    t = np.abs(draws[:, ok] / se[ok]).max(axis=1)
    crit = float(np.quantile(t, level, method="inverted_cdf"))
    return (se, crit, t) if return_sup else (se, crit)


def bootstrap_cov(draw_cov: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Covariance with the bootstrap (IQR) standard errors on the diagonal.

    ``draw_cov`` is the sample covariance of the draws of these effects (for their correlation).
    """
    c = np.atleast_2d(draw_cov)
    sd = np.sqrt(np.clip(np.diag(c), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = c / np.outer(sd, sd)
    corr[~np.isfinite(corr)] = 0.0
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(se, se)
