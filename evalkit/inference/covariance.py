"""Variance estimators as a registry: name -> estimator with declared keyword options.

Each estimator takes a :class:`~evalkit.inference.design.LinearDesign` and returns a
:class:`CovarianceResult` (covariance matrix, degrees of freedom for t references, and a
description in words for summaries). New methods register with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._shared.exceptions import InferenceError
from .design import LinearDesign


@dataclass
class CovarianceResult:
    """Output of a variance estimator.

    Parameters
    ----------
    cov : ndarray
        Covariance matrix of the coefficients.
    dof : float or None
        Degrees of freedom of the t reference (``None`` = normal). May be a per-coefficient array.
    description : str
        The method in words, shown in summaries.
    """

    cov: np.ndarray
    dof: float | np.ndarray | None
    description: str


@dataclass
class _Entry:
    func: Callable[..., CovarianceResult]
    allowed_kwargs: frozenset[str]
    doc: str


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, allowed_kwargs: set[str] | frozenset[str] = frozenset(), doc: str = ""):
    """Decorator registering a variance estimator under ``name``.

    Parameters
    ----------
    name : str
        The ``cov_type`` users pass.
    allowed_kwargs : set of str
        Keyword options the estimator accepts; anything else raises an error listing these.
    doc : str
        One-line description.
    """

    def deco(func):
        _REGISTRY[name] = _Entry(func, frozenset(allowed_kwargs), doc or (func.__doc__ or "").strip())
        return func

    return deco


def available() -> dict[str, str]:
    """Registered ``cov_type`` names with their one-line descriptions."""
    return {k: v.doc.splitlines()[0] if v.doc else "" for k, v in _REGISTRY.items()}


def compute(design: LinearDesign, cov_type: str = "clustered", **options) -> CovarianceResult:
    """Compute the covariance named ``cov_type`` on ``design``.

    Raises
    ------
    InferenceError
        For an unknown name or an option the method does not accept.
    """
    if cov_type not in _REGISTRY:
        raise InferenceError(
            f"Unknown cov_type={cov_type!r}. Available: {', '.join(sorted(_REGISTRY))}."
        )
    entry = _REGISTRY[cov_type]
    bad = set(options) - entry.allowed_kwargs
    if bad:
        allowed = ", ".join(sorted(entry.allowed_kwargs)) or "none"
        raise InferenceError(
            f"cov_type={cov_type!r} does not accept option(s) {sorted(bad)}; allowed: {allowed}."
        )
    return entry.func(design, **options)


def _sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    v = bread @ meat @ bread
    return (v + v.T) / 2


def cluster_scores(design: LinearDesign, clusters: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum the score contributions ``x_i e_i`` within clusters; returns (G x k scores, G)."""
    codes, uniq = _codes(clusters)
    scores = design.X * design.resid[:, None]
    G = len(uniq)
    summed = np.zeros((G, design.k))
    np.add.at(summed, codes, scores)
    return summed, G


def _codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(np.asarray(labels), return_inverse=True)
    return codes.ravel(), uniq


@register("unadjusted", doc="Classical homoskedastic OLS variance.")
def unadjusted(design: LinearDesign) -> CovarianceResult:
    """Classical homoskedastic OLS variance ``s^2 (X'X)^{-1}``."""
    dfr = design.df_resid
    if dfr <= 0:
        raise InferenceError("No residual degrees of freedom left for the unadjusted variance.")
    s2 = float(design.resid @ design.resid) / dfr
    return CovarianceResult(s2 * design.bread(), dfr, "classical (homoskedastic) standard errors")


@register("robust", doc="Heteroskedasticity-robust (HC1) variance.")
def robust(design: LinearDesign) -> CovarianceResult:
    """White/HC1 heteroskedasticity-robust variance with the ``n/(n-k)`` correction."""
    n, dfr = design.nobs, design.df_resid
    scores = design.X * design.resid[:, None]
    meat = scores.T @ scores
    v = _sandwich(design.bread(), meat) * n / dfr
    return CovarianceResult(v, None, "heteroskedasticity-robust (HC1) standard errors")


@register(
    "clustered",
    allowed_kwargs={"clusters"},
    doc="Cluster-robust (CR1) variance with the Stata/fixest small-sample factor; t(G-1) reference.",
)
def clustered(design: LinearDesign, clusters: np.ndarray | None = None) -> CovarianceResult:
    """Cluster-robust CR1 variance.

    Small-sample factor ``G/(G-1) * (n-1)/(n-k)`` where absorbed fixed effects nested in the
    clusters are not counted in ``k`` (as Stata ``xtreg, fe`` / fixest / linearmodels), and a
    ``t(G-1)`` reference distribution.
    """
    cl = design.clusters if clusters is None else np.asarray(clusters)
    if cl is None:
        raise InferenceError("cov_type='clustered' needs cluster labels (pass clusters=...).")
    if cl.ndim == 2 and cl.shape[1] == 2:
        return _two_way(design, cl)
    summed, G = cluster_scores(design, cl)
    if G < 2:
        raise InferenceError(
            f"Cluster-robust inference needs at least 2 clusters; found {G}. "
            "Use cov_type='robust' or a randomization-based method."
        )
    n = design.nobs
    k = design.k + (0 if design.fe_nested_in_cluster else design.df_absorbed)
    factor = G / (G - 1) * (n - 1) / (n - k)
    v = _sandwich(design.bread(), summed.T @ summed) * factor
    return CovarianceResult(v, G - 1, f"cluster-robust (CR1) standard errors, {G} clusters, t({G - 1})")


def _two_way(design: LinearDesign, cl: np.ndarray) -> CovarianceResult:
    """Cameron-Gelbach-Miller two-way clustering (each one-way CR1 factor; intersection subtracted)."""
    parts = []
    for labels in (cl[:, 0], cl[:, 1], [f"{a}|{b}" for a, b in cl]):
        summed, G = cluster_scores(design, np.asarray(labels))
        factor = G / (G - 1) * (design.nobs - 1) / (design.nobs - design.k)
        parts.append((summed.T @ summed * factor, G))
    meat = parts[0][0] + parts[1][0] - parts[2][0]
    v = _sandwich(design.bread(), meat)
    w, vec = np.linalg.eigh(v)
    if (w < 0).any():
        v = (vec * np.clip(w, 0, None)) @ vec.T
    g_min = min(parts[0][1], parts[1][1])
    return CovarianceResult(v, g_min - 1, f"two-way cluster-robust standard errors, t({g_min - 1})")
