"""Influence-function inference for Callaway--Sant'Anna: analytic covariance and multiplier bootstrap.

All quantities are linear in a *basis* of influence functions stored per unit: the ATT(g,t)
columns and one column per cohort ``w_i 1{G_i = g} - p_g`` (the estimation effect of the cohort
shares used as aggregation weights). An aggregated effect is ``basis @ coef``, so its covariance and
its bootstrap draws follow from those of the basis without touching unit-level data again.

Analytic: ``cov = S' S / n^2`` where ``S`` holds the basis summed within clusters (units when no
cluster is given). This is R did's ``t(inffunc) %*% inffunc / n^2`` for unit clusters; for coarser
clusters it is the cluster-robust sum of scores with no small-sample factor.

Bootstrap: ``draw_b = sum_c v_bc S_c / n`` with i.i.d. Mammen (default, as R did) or Rademacher
multipliers ``v`` per cluster (:func:`evalkit._shared.kernels.multiplier_draws`, like the cluster
sums :func:`evalkit._shared.kernels.segment_sums`); standard errors are the interquartile range of the draws divided by
``z_.75 - z_.25`` and the uniform critical value is the ``level`` quantile of the largest
standardised absolute draw (R did's ``mboot``, quantile type 1). R did divides cluster-mean
influence functions by ``sqrt(n_clusters)``; summing within clusters (used here) equals it for
unit clusters and is the usual cluster-robust scaling when cluster sizes differ.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._shared.blas import blas_limit

_IQR_NORM = float(stats.norm.ppf(0.75) - stats.norm.ppf(0.25))


def analytic_cov(sums: np.ndarray, n: int) -> np.ndarray:
    """Covariance ``S' S / n^2`` of the estimates whose cluster-summed influence is ``sums``."""
    with blas_limit():  # one BLAS thread unless overridden: see evalkit._shared.blas
        return (sums.T @ sums) / float(n) ** 2


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
