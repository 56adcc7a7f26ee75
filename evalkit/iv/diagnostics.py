"""Weak-instrument diagnostics of panel IV: Montiel Olea-Pflueger effective F and its critical
value, and the Anderson-Rubin confidence set (variances from the covariance registry)."""


from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._shared.exceptions import (
    EvalkitError,
    InferenceError,
)
from .._shared.validation import (
    check_option,
)
from .._shared.vocabulary import keywords
from ..inference.covariance import compute as compute_cov
from ..inference.design import LinearDesign


# ============================================================================================
# weak-IV diagnostics (their variances come from the covariance registry, like every estimate)
# ============================================================================================
def _plain_design(X: np.ndarray, resid: np.ndarray, clusters: np.ndarray | None,
                  template: LinearDesign | None) -> LinearDesign:
    """A least-squares design on ``X`` with ``resid``, absorbed effects as in ``template``."""
    X = np.atleast_2d(np.asarray(X, float).T).T
    if template is None:
        return LinearDesign(X=X, resid=resid, beta=np.zeros(X.shape[1]), names=["z"] * X.shape[1],
                            clusters=clusters)
    return LinearDesign(X=X, resid=resid, beta=np.zeros(X.shape[1]), names=["z"] * X.shape[1],
                        clusters=clusters, df_absorbed=template.df_absorbed,
                        fe_nested_in_cluster=template.fe_nested_in_cluster,
                        extra={"absorber": template.extra.get("absorber")})


def _diagnostic_cov(X: np.ndarray, resid: np.ndarray, clusters: np.ndarray | None,
                    template: LinearDesign | None, options: dict | None = None) -> tuple[np.ndarray, int]:
    """CR1 (clusters given) or HC1 covariance of the coefficients of ``X``, and the cluster count.

    Computed by :func:`evalkit.inference.covariance.compute`, so the small-sample convention is the
    registry's. The instrument block (first ``K`` columns) is what the diagnostics use.
    """
    d = _plain_design(X, resid, clusters, template)
    opts = dict(options or {})
    if clusters is None:
        return compute_cov(d, "robust", kind="HC1").cov, d.nobs
    keep = {k: v for k, v in opts.items() if k == "small_sample"}
    return compute_cov(d, "clustered", **keep).cov, int(pd.unique(np.asarray(clusters)).size)


@keywords(clusters="cluster", controls="covariates")
def effective_f(
    x: np.ndarray,
    Z: np.ndarray,
    cluster: np.ndarray | None = None,
    *,
    covariates: np.ndarray | None = None,
    like: LinearDesign | None = None,
    cov_options: dict | None = None,
) -> dict:
    """Montiel Olea–Pflueger (2013) effective first-stage F for one endogenous regressor.

    ``F_eff = π̂' Q π̂ / tr(Σ_π Q)`` with ``Q = Z'Z`` and ``Σ_π`` the cluster-robust (CR1) or
    heteroskedasticity-robust (HC1) covariance of the first-stage coefficients ``π̂``; with one
    instrument it equals the robust first-stage Wald statistic. ``x`` and ``Z`` must already be
    residualised on the fixed effects and exogenous controls.

    Parameters
    ----------
    x : ndarray (n,)
        Endogenous regressor.
    Z : ndarray (n, K)
        Excluded instruments.
    cluster : ndarray, optional
        Cluster labels (robust HC1 when ``None``).
    covariates : ndarray (n, p), optional
        Exogenous controls already partialled out of ``x`` and ``Z`` (residualised on the fixed
        effects); they are counted as regressors by the small-sample factor.
    like : LinearDesign, optional
        A design whose absorbed fixed effects (``df_absorbed``, nesting, absorber) the variance
        should count, e.g. the 2SLS design of :func:`panel_iv`.
    cov_options : dict, optional
        ``small_sample`` for the cluster-robust variance (see
        :func:`evalkit.inference.covariance.clustered`).

    Returns
    -------
    dict
        ``F_eff``, ``pi``, ``cov_pi``, ``W2`` (normalised first-stage variance used by the
        critical value), ``n_clusters``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=200); x = 0.5 * z + rng.normal(size=200)
    >>> round(effective_f(x, z)["F_eff"]) > 10
    True
    """
    Z = np.atleast_2d(np.asarray(Z, float).T).T
    n, K = Z.shape
    Q = Z.T @ Z
    Qi = np.linalg.inv(Q)
    pi = Qi @ Z.T @ x
    v = x - Z @ pi
    X = Z if covariates is None or np.size(covariates) == 0 else np.column_stack([Z, covariates])
    cov, G = _diagnostic_cov(X, v, cluster, like, cov_options)
    cov_pi = cov[:K, :K]
    F = float(pi @ Q @ pi / np.trace(cov_pi @ Q))
    w, U = np.linalg.eigh(Q)
    Qh = U @ np.diag(np.sqrt(w)) @ U.T  # Q^{1/2}
    W2 = Qh @ cov_pi @ Qh
    return {"F_eff": F, "pi": pi, "cov_pi": cov_pi, "W2": W2, "n_clusters": G}


@keywords(alpha="level", convert=lambda old: {"level": 1 - float(old["alpha"])})
def mop_critical_value(W2: np.ndarray, tau: float = 0.10, level: float = 0.95) -> float:
    """Critical value of the Montiel Olea–Pflueger simplified test (worst-case bias ``tau``).

    ``K_eff = tr(W2)^2 (1 + 2x) / (tr(W2 W2) + 2x tr(W2) λ_max(W2))`` with ``x = 1/tau``, and the
    critical value is the ``level`` quantile of a noncentral χ²(K_eff, K_eff·x) divided by
    ``K_eff`` (Montiel Olea and Pflueger 2013, Section 4.2). With one instrument it is 23.1 for
    ``tau = 0.10`` and ``level = 0.95`` (a 5% test).

    Parameters
    ----------
    W2 : ndarray (K, K)
        Normalised first-stage variance (see :func:`effective_f`).
    tau : float
        Worst-case Nagar bias relative to the OLS benchmark.
    level : float
        One minus the size of the test (0.95: a 5% test).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit import iv
    >>> round(iv.mop_critical_value(np.array([[2.5]]), tau=0.10), 2)
    23.11
    """
    W2 = np.atleast_2d(W2)
    x = 1.0 / tau
    tr = np.trace(W2)
    lmax = float(np.linalg.eigvalsh(W2).max())
    k_eff = tr**2 * (1 + 2 * x) / (np.trace(W2 @ W2) + 2 * x * tr * lmax)
    return float(stats.ncx2.ppf(level, k_eff, k_eff * x) / k_eff)


@keywords(clusters="cluster", controls="covariates")
def anderson_rubin_set(
    y: np.ndarray,
    x: np.ndarray,
    Z: np.ndarray,
    cluster: np.ndarray | None = None,
    level: float = 0.95,
    grid: np.ndarray | None = None,
    dist: Literal["F", "chi2"] = "F",
    *,
    covariates: np.ndarray | None = None,
    like: LinearDesign | None = None,
    cov_options: dict | None = None,
) -> dict:
    """Weak-instrument-robust Anderson–Rubin confidence set for one endogenous coefficient.

    For each ``β0`` the reduced-form regression of ``y − β0 x`` on ``Z`` is tested for zero
    coefficients with a cluster-robust (CR1) Wald statistic ``/K`` against ``F(K, G−1)`` (or
    ``χ²(K)/K``). With one instrument the statistic is a ratio of quadratics in ``β0`` and the set
    is computed exactly: an interval, the complement of an interval (two rays), the whole line or
    empty. With several instruments it is found on ``grid`` (returned as a union of intervals;
    flagged unbounded when the grid ends are accepted).

    Parameters
    ----------
    y, x : ndarray (n,)
        Outcome and endogenous regressor, residualised on fixed effects and controls.
    Z : ndarray (n, K)
        Instruments, residualised likewise.
    cluster : ndarray, optional
        Cluster labels (HC1 when ``None``).
    level : float
        Confidence level.
    grid : ndarray, optional
        Values of ``β0`` for the grid inversion (needed when ``K > 1``).
    dist : {"F", "chi2"}
        Reference distribution.
    covariates, like, cov_options
        As in :func:`effective_f` (what the small-sample factor counts).

    Returns
    -------
    dict
        ``intervals`` (list of ``(low, high)``, infinite ends allowed), ``bounded``, ``critical``,
        ``statistic`` (callable ``β0 -> AR statistic``), ``method``.

    Notes
    -----
    The covariance of the reduced-form coefficients of ``y − β0 x`` is quadratic in ``β0``:
    ``V(β0) = V_yy − β0 (V_xy + V_xy') + β0² V_xx``. The three matrices are obtained from the
    registry's cluster-robust (or HC1) variance with residuals ``e_y``, ``e_x`` and ``e_y + e_x``
    (polarisation), so the small-sample factor is the registry's.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> z = rng.normal(size=300); x = z + rng.normal(size=300); y = 0.5 * x + rng.normal(size=300)
    >>> s = anderson_rubin_set(y, x, z)
    >>> lo, hi = s["intervals"][0]; bool(lo < 0.5 < hi)
    True
    """
    check_option("dist", dist, ("F", "chi2"))
    Z = np.atleast_2d(np.asarray(Z, float).T).T
    n, K = Z.shape
    Qi = np.linalg.inv(Z.T @ Z)
    gy, gx = Qi @ Z.T @ y, Qi @ Z.T @ x
    ey, ex = y - Z @ gy, x - Z @ gx
    if cluster is not None and pd.unique(np.asarray(cluster)).size < 2:
        raise InferenceError("The Anderson-Rubin set needs at least 2 clusters.")
    X = Z if covariates is None or np.size(covariates) == 0 else np.column_stack([Z, covariates])

    def vcov(e):
        return _diagnostic_cov(X, e, cluster, like, cov_options)

    (Vyy, G), (Vxx, _), (Vsum, _) = vcov(ey), vcov(ex), vcov(ey + ex)
    Vyy, Vxx = Vyy[:K, :K], Vxx[:K, :K]
    Vsym = Vsum[:K, :K] - Vyy - Vxx  # V_xy + V_xy'
    crit = (stats.f.ppf(level, K, G - 1) if dist == "F" else stats.chi2.ppf(level, K) / K)

    def stat(b0):
        g = gy - b0 * gx
        V = Vyy - b0 * Vsym + b0**2 * Vxx
        return float(g @ np.linalg.solve(V, g) / K)

    if K == 1:
        p, c = gx[0], crit
        a2 = p**2 - c * Vxx[0, 0]
        a1 = -2 * gy[0] * p + c * Vsym[0, 0]
        a0 = gy[0] ** 2 - c * Vyy[0, 0]
        intervals = _quadratic_set(a2, a1, a0)
        method = "exact (one instrument: quadratic inequality)"
    else:
        if grid is None:
            raise EvalkitError("With several instruments pass grid=... (values of beta0).")
        grid = np.sort(np.asarray(grid, float))
        acc = np.array([stat(b) <= crit for b in grid])
        intervals = []
        i = 0
        while i < len(grid):
            if acc[i]:
                j = i
                while j + 1 < len(grid) and acc[j + 1]:
                    j += 1
                lo = -np.inf if i == 0 else grid[i]
                hi = np.inf if j == len(grid) - 1 else grid[j]
                intervals.append((float(lo), float(hi)))
                i = j + 1
            else:
                i += 1
        method = f"grid inversion ({len(grid)} points)"
    bounded = all(np.isfinite(lo) and np.isfinite(hi) for lo, hi in intervals)
    return {"intervals": intervals, "bounded": bounded, "critical": float(crit), "statistic": stat,
            "method": method, "n_clusters": G, "level": level}


def _quadratic_set(a2: float, a1: float, a0: float) -> list[tuple[float, float]]:
    """``{b: a2 b² + a1 b + a0 <= 0}`` as a list of intervals."""
    eps = 1e-14 * max(abs(a2), abs(a1), abs(a0), 1e-300)
    if abs(a2) <= eps:
        if abs(a1) <= eps:
            return [(-np.inf, np.inf)] if a0 <= 0 else []
        r = -a0 / a1
        return [(-np.inf, r)] if a1 > 0 else [(r, np.inf)]
    disc = a1**2 - 4 * a2 * a0
    if disc < 0:
        return [] if a2 > 0 else [(-np.inf, np.inf)]
    r1, r2 = sorted(((-a1 - np.sqrt(disc)) / (2 * a2), (-a1 + np.sqrt(disc)) / (2 * a2)))
    if a2 > 0:
        return [(float(r1), float(r2))]
    return [(-np.inf, float(r1)), (float(r2), np.inf)]
