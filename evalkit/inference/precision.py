"""No false precision: standard errors become NaN, with a warning, when they cannot be estimated.

A cluster-robust variance sums scores (or influence functions) within clusters. With one cluster
the sum is identically zero; with two clusters the two sums are equal and opposite (they add to
zero), so the variance has at most one degree of freedom, and with unit effects absorbed and
clusters = units it is exactly zero: estimators then printed standard errors of 1e-16 and
p-values of 0. Every estimator routes such cases through this module: the estimate is kept,
standard errors, p-values and intervals become NaN, and an :class:`EvalkitWarning` names the
reason and what to do instead.

Examples
--------
>>> not_estimable_reason(2)[:15]
'only 2 clusters'
>>> not_estimable_reason(12) is None
True
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .._shared.exceptions import EvalkitWarning

if TYPE_CHECKING:
    from .covariance import CovarianceResult

#: Fewest clusters for which a cluster-robust variance is reported.
MIN_CLUSTERS_FOR_VARIANCE = 3

#: Cluster-based ``cov_type`` names the rule applies to.
CLUSTER_METHODS = frozenset({"clustered", "cr2", "wild"})

_ADVICE = (
    "Report the estimate without a standard error, or use randomization inference / a placebo "
    "in space over units (evalkit.inference.randomization_inference, placebo_in_space), which "
    "do not rest on cluster sums."
)


def not_estimable_reason(n_clusters: int) -> str | None:
    """Why a cluster-robust variance with ``n_clusters`` clusters is not estimable (or ``None``)."""
    if n_clusters < 2:
        return (f"only {n_clusters} cluster: the cluster sum of the scores is identically zero, so "
                "no cluster-robust variance can be estimated")
    if n_clusters < MIN_CLUSTERS_FOR_VARIANCE:
        return (f"only {n_clusters} clusters: their score sums are equal and opposite (and exactly "
                "zero with two units and unit effects), so the cluster-robust variance is not "
                "estimable")
    return None


def warn_not_estimable(what: str, reason: str, stacklevel: int = 3) -> None:
    """Emit the :class:`EvalkitWarning` saying the standard errors of ``what`` are NaN."""
    warnings.warn(f"{what}: standard errors set to NaN: {reason}. {_ADVICE}", EvalkitWarning,
                  stacklevel=stacklevel)


def nan_covariance(res: CovarianceResult, reason: str) -> CovarianceResult:
    """A copy of ``res`` with NaN covariance, p-values and intervals, the reason in its description."""
    k = np.shape(res.cov)[0]
    nan_p = None if res.pvalue is None else np.full(np.shape(np.atleast_1d(res.pvalue)), np.nan)
    nan_ci = None if res.conf_int is None else np.full(np.shape(res.conf_int), np.nan)
    if nan_p is not None and np.ndim(res.pvalue) == 0:
        nan_p = float("nan")
    return replace(res, cov=np.full((k, k), np.nan), pvalue=nan_p, conf_int=nan_ci,
                   description=f"{res.description}; variance not estimable ({reason})")


def cluster_count(labels) -> int | None:
    """Number of distinct one-way cluster labels (``None`` for missing or two-way labels)."""
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.ndim != 1:
        return None
    return int(np.unique(arr).size)


def guard_covariance(design, cov_type: str, options: dict, res: CovarianceResult) -> CovarianceResult:
    """Hook of :func:`evalkit.inference.covariance.compute`: NaN with a warning when the
    cluster-robust variance of ``res`` is not estimable (fewer than
    :data:`MIN_CLUSTERS_FOR_VARIANCE` clusters)."""
    if cov_type not in CLUSTER_METHODS:
        return res
    G = cluster_count(options.get("cluster") if options.get("cluster") is not None else design.clusters)
    reason = None if G is None else not_estimable_reason(G)
    if reason is None:
        return res
    warn_not_estimable(f"cov_type={cov_type!r}", reason, stacklevel=4)
    return nan_covariance(res, reason)
