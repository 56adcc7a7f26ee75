"""Panel IV with a formula-predicted instrument, recentring and weak-instrument diagnostics.

The factor method (因素法) gives each unit ``z_it = formula(lagged factors_i, weights_t, total_t)``
— what the unit would receive under the published rule. Actual money ``x_it`` adds discretionary
top-ups that may follow the unit's own prospects, so OLS of outcomes on ``x`` is biased; ``z`` is
a natural instrument. Its variation comes from two sources: the units' lagged factors
(predetermined but possibly correlated with trends) and the bureau's yearly *shocks* (factor
weights and totals). Following Borusyak and Hull (2023, "Nonrandom exposure to exogenous
shocks", Econometrica 91(6)), only the shocks are treated as exogenous: the expected instrument
``μ_it = E[z_it | factors]`` over the distribution of shocks is computed by recomputing the formula
with permuted (or redrawn) yearly weight vectors and totals, and ``z − μ`` is used as the
instrument (optionally with ``μ`` as a control).

Public functions
----------------
:func:`panel_iv`
    2SLS with unit and period effects (exact within transformation); inference from the
    covariance registry with the absorbed effects described (exact CR2), the wild restricted
    efficient bootstrap for ``cov_type="wild"`` and, by default (``"auto"``), with few clusters
    (:mod:`evalkit.inference.wild_iv`); naive
    OLS beside it, first stage and reduced form, Montiel Olea–Pflueger effective F with its
    critical value, and the Anderson–Rubin confidence set (exact for one instrument).
:func:`formula_instrument`, :func:`expected_instrument`, :func:`recentred_instrument`
    The formula-predicted allocation from :mod:`evalkit.allocation` and its expectation over the
    bureau's shocks; :func:`load_specs` reads ``spec_<year>.yaml`` files.
:func:`anderson_rubin_set`, :func:`effective_f`
    The diagnostics on their own.
"""

from __future__ import annotations

import inspect
import itertools
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._shared.exceptions import (
    DesignError,
    EvalkitError,
    FewClustersWarning,
    InferenceError,
    SpecError,
)
from ._shared.options import refuse_unknown
from ._shared.validation import (
    check_columns,
    check_numeric_complete,
    check_option,
    check_unique_panel,
)
from ._shared.vocabulary import DEFAULT_SEED, keywords, renamed_options
from ._summary import Summary
from .did._fe import TwoWayAbsorber
from .inference import covariance as _covariance
from .inference.covariance import CovarianceResult
from .inference.covariance import compute as compute_cov
from .inference.design import LinearDesign
from .inference.precision import not_estimable_reason
from .results import ScalarEffect

__all__ = [
    "PanelIVResult",
    "anderson_rubin_set",
    "effective_f",
    "expected_instrument",
    "formula_instrument",
    "load_specs",
    "mop_critical_value",
    "panel_iv",
    "recentred_instrument",
]

SHOCK_ASSUMPTION = (
    "Assumed exogenous (as-good-as-random given the lagged factors): the bureau's yearly factor "
    "weight vectors{total}. The units' lagged factor levels are NOT assumed exogenous: the "
    "instrument is recentred by its expectation over the shocks (Borusyak and Hull 2023)."
)


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


# ============================================================================================
# results
# ============================================================================================
@dataclass(repr=False)
class PanelIVResult(ScalarEffect):
    """2SLS estimate with first stage, reduced form, OLS beside it and weak-IV diagnostics.

    A scalar result of the results protocol about the 2SLS coefficient (``estimate``,
    ``std_error``, ``pvalue``, ``conf_int(level)`` a ``(low, high)`` tuple; ``params``,
    ``std_errors``, ``pvalues`` one-element Series); ``to_frame()`` adds the OLS, first-stage and
    reduced-form rows; ``plot()`` draws the 2SLS and OLS estimates with their intervals;
    ``with_inference(cov_type)`` recomputes the 2SLS inference without refitting.

    Attributes
    ----------
    ols : ScalarEffect
        Naive two-way fixed-effects OLS on the same sample.
    first_stage : ScalarEffect
        Coefficient of the (first) instrument in the first stage.
    reduced_form : ScalarEffect
        Coefficient of the (first) instrument in the reduced form.
    effective_f : float
        Montiel Olea–Pflueger effective F.
    f_critical : float
        Its critical value for worst-case bias ``tau`` (10%) at 5%.
    ar_set : dict
        Anderson–Rubin set (see :func:`anderson_rubin_set`).
    design : LinearDesign
        Second-stage design (``X`` = projected regressors, ``resid`` = structural residuals).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import iv
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2016, 2022)], columns=["unit", "year"])
    >>> df["z"] = rng.gamma(2.0, 500.0, len(df))
    >>> df["x"] = 0.8 * df.z + rng.normal(0, 100, len(df))
    >>> df["y"] = 0.5 * df.x / 1000 + rng.normal(0, 0.1, len(df))
    >>> r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year",
    ...                 cov_type="clustered")
    >>> print(f"{r.first_stage.estimate:.2f} {r.reduced_form.estimate:.2f}")
    0.81 0.40
    >>> r.with_inference("cr2").estimate == r.estimate
    True
    >>> r.to_frame()["term"].tolist()
    ['x per 1000', 'OLS x', 'first stage z', 'reduced form z']
    """

    ols: ScalarEffect | None = None
    first_stage: ScalarEffect | None = None
    reduced_form: ScalarEffect | None = None
    effective_f: float = float("nan")
    f_critical: float = float("nan")
    ar_set: dict = field(default_factory=dict)
    design: LinearDesign | None = None
    data_resid: dict = field(default_factory=dict)
    spec: dict = field(default_factory=dict)

    @property
    def ar_intervals(self) -> list[tuple[float, float]]:
        """The Anderson–Rubin set as a list of ``(low, high)`` intervals."""
        return list(self.ar_set.get("intervals", []))

    def ar_text(self, digits: int = 4) -> str:
        """The Anderson–Rubin set as text, e.g. ``[0.1, 0.5]`` or ``(-inf, -2] ∪ [1, inf)``."""
        iv = self.ar_intervals
        if not iv:
            return "∅ (empty)"

        def f(v):
            return "-inf" if v == -np.inf else ("inf" if v == np.inf else f"{v:.{digits}g}")

        return " ∪ ".join(
            f"{'(' if lo == -np.inf else '['}{f(lo)}, {f(hi)}{')' if hi == np.inf else ']'}"
            for lo, hi in iv)

    def with_inference(self, cov_type: str = "auto", **options) -> PanelIVResult:
        """Recompute the 2SLS inference with another registered variance estimator.

        ``"wild"`` runs the wild restricted efficient bootstrap for IV and ``"auto"`` the IV
        default (see :func:`panel_iv`); the first stage, reduced form and OLS rows are kept.

        Examples
        --------
        >>> fit.with_inference("cr2").dof  # doctest: +SKIP
        """
        check_option("cov_type", cov_type, tuple(_covariance.available()))
        cr = _iv_cov(self.design, cov_type, options)
        se = float(np.sqrt(cr.cov[0, 0]))
        dof = _first_dof(cr.dof)
        return replace(self, std_error=se, dof=dof, inference=cr.description, **_overrides(cr))

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy rows: 2SLS, OLS, first stage, reduced form."""
        parts = [super().to_frame(level)]
        for r in (self.ols, self.first_stage, self.reduced_form):
            if r is not None:
                parts.append(r.to_frame(level))
        return pd.concat(parts, ignore_index=True)

    def summary(self, level: float = 0.95) -> Summary:
        """Readable text with the diagnostics and the exogeneity statement."""
        lo, hi = self.conf_int(level)
        lines = [self.title, "=" * len(self.title),
                 f"2SLS {self.term}: {self.estimate:.5g} (s.e. {self.std_error:.4g}), "
                 f"{int(level * 100)}% CI [{lo:.5g}, {hi:.5g}], p = {self.pvalue:.3g}",
                 f"Inference: {self.inference}"]
        if self.ols is not None:
            lines.append(f"Naive TWFE OLS: {self.ols.estimate:.5g} (s.e. {self.ols.std_error:.4g})")
        if self.first_stage is not None:
            lines.append(f"First stage: {self.first_stage.estimate:.5g} "
                         f"(s.e. {self.first_stage.std_error:.4g})")
        lines.append(f"Effective F (Montiel Olea-Pflueger): {self.effective_f:.2f}; critical value "
                     f"(tau = 10% worst-case bias, 5%): {self.f_critical:.2f} -> "
                     + ("strong" if self.effective_f > self.f_critical else "WEAK instrument"))
        if self.ar_set:
            lines.append(f"Anderson-Rubin {int(self.ar_set['level'] * 100)}% set "
                         f"({self.ar_set['method']}): {self.ar_text()}")
        if self.nobs is not None:
            lines.append(f"Observations: {self.nobs}")
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def plot(self, ax=None, level: float = 0.95, language: str | None = None, **kwargs):
        """The 2SLS estimate beside the naive OLS estimate, each with its interval.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.
        level : float
            Coverage of the intervals (each by its own method, as ``conf_int``).
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).
        **kwargs
            Passed to :func:`evalkit.report.plot_effects`.

        Returns
        -------
        matplotlib Axes
        """
        from .report.plots import plot_effects
        from .report.style import plot_language

        zh = plot_language(language) == "zh"
        parts = [ScalarEffect.to_frame(self, level)]
        if self.ols is not None:
            parts.append(self.ols.to_frame(level))
        frame = pd.concat(parts, ignore_index=True)
        names = ["两阶段最小二乘", "普通最小二乘"] if zh else ["2SLS", "OLS"]
        frame["term"] = names[: len(frame)]
        kwargs.setdefault("title", "工具变量估计" if zh else self.title)
        return plot_effects(frame, ax=ax, uniform=False, language=language, **kwargs)

    def plot_first_stage(self, ax=None, language: str | None = None, bins: int = 20):
        """Binned scatter of the residualised endogenous regressor against the instrument
        (labels in ``language``: default the one set by ``report.use()``, else English)."""
        return self._binned(self.data_resid["z"], self.data_resid["x"], ax, language, bins,
                            ("first", self.first_stage))

    def plot_reduced_form(self, ax=None, language: str | None = None, bins: int = 20):
        """Binned scatter of the residualised outcome against the instrument (labels in
        ``language``: default the one set by ``report.use()``, else English)."""
        return self._binned(self.data_resid["z"], self.data_resid["y"], ax, language, bins,
                            ("reduced", self.reduced_form))

    def _binned(self, z, v, ax, language, bins, kind):
        import matplotlib.pyplot as plt

        from .report.style import mark_synthetic, plot_language, register_cjk_font

        zh = plot_language(language) == "zh"
        register_cjk_font()
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 4))
            mark_synthetic(fig)
        nz = z != 0
        zz, vv = z[nz], v[nz]
        if len(zz) > bins * 3:
            q = np.quantile(zz, np.linspace(0, 1, bins + 1))
            idx = np.clip(np.searchsorted(q[1:-1], zz, side="right"), 0, bins - 1)
            mz = np.array([zz[idx == b].mean() for b in range(bins) if (idx == b).any()])
            mv = np.array([vv[idx == b].mean() for b in range(bins) if (idx == b).any()])
            ax.scatter(zz, vv, s=6, alpha=0.25, color="grey")
            ax.scatter(mz, mv, s=30, color="C0")
        else:
            ax.scatter(zz, vv, s=14, alpha=0.7, color="C0")
        coef = kind[1].estimate if kind[1] is not None else 0.0
        g = np.linspace(zz.min(), zz.max(), 50)
        ax.plot(g, coef * g, color="C3", lw=1.5)
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xlabel("工具变量(去除固定效应后)" if zh else "Instrument (net of fixed effects)")
        if kind[0] == "first":
            ax.set_ylabel("资金(去除固定效应后)" if zh else "Funds (net of fixed effects)")
            ax.set_title("第一阶段" if zh else "First stage")
        else:
            ax.set_ylabel("结果变量(去除固定效应后)" if zh else "Outcome (net of fixed effects)")
            ax.set_title("简约式" if zh else "Reduced form")
        return ax


# ============================================================================================
# designs and inference of the 2SLS fit
# ============================================================================================
@dataclass
class _Frame:
    """What every design of one :func:`panel_iv` fit shares: absorbed effects, controls, clusters."""

    absorber: TwoWayAbsorber
    Wd: np.ndarray
    clusters: np.ndarray
    nested: bool
    treated: np.ndarray
    control_names: list[str] = field(default_factory=list)

    def design(self, X: np.ndarray, names: list[str], beta: np.ndarray, resid: np.ndarray,
               y: np.ndarray, iv: dict | None = None) -> LinearDesign:
        """A design on ``[X, controls]`` whose hat matrix includes the absorbed effects.

        ``X`` and ``y`` are residualised on the controls, so the controls' coefficients are zero
        and the coefficients of ``X`` are unchanged (Frisch-Waugh); keeping the controls as
        columns makes the leverage (CR2) and the parameter count (CR1) those of the full model.
        """
        p = self.Wd.shape[1]
        extra: dict[str, Any] = {"absorber": self.absorber, "target_param": names[0]}
        if iv is not None:
            extra["iv"] = {**iv, "W": self.Wd}
            extra["estimator"] = "2sls"
        return LinearDesign(
            X=np.column_stack([X, self.Wd]) if p else np.asarray(X, float),
            resid=resid, beta=np.concatenate([np.asarray(beta, float), np.zeros(p)]),
            names=list(names) + (self.control_names or [f"control {j}" for j in range(p)]),
            y=y, clusters=self.clusters, df_absorbed=self.absorber.df_absorbed,
            fe_nested_in_cluster=self.nested, treated_clusters=self.treated, extra=extra)


def _first_dof(dof):
    """The degrees of freedom of the first coefficient (CR2 gives one per coefficient)."""
    if dof is not None and np.ndim(dof) > 0:
        return float(np.asarray(dof, dtype=float).ravel()[0])
    return dof


def _side_options(cov_type: str, options: dict) -> dict:
    """The options a registered ``cov_type`` accepts, out of those given for the 2SLS fit."""
    allowed = _covariance._REGISTRY[cov_type].allowed_kwargs if cov_type in _covariance._REGISTRY \
        else frozenset()
    return {k: v for k, v in options.items() if k in allowed and k != "param"}


def _overrides(cr: CovarianceResult) -> dict[str, Any]:
    """``ScalarEffect`` arguments for the first coefficient's p-value and interval from ``cr``.

    When they come from bootstrap draws, the interval at another level is the same bootstrap's
    (``interval_at``), never a t interval of another method (DEVNOTES "Intervals at other
    levels").
    """
    out: dict[str, Any] = {"pvalue_override": cr.pvalue_for(0),
                           "conf_int_override": cr.conf_int_for(0),
                           "conf_level_override": getattr(cr, "conf_level", None) or 0.95,
                           "interval_at": None, "resampled_by": None}
    if cr.conf_int is not None and cr.resampling:
        out["resampled_by"] = cr.description
        out["interval_at"] = cr.interval_function(0)
    return out


def _iv_cov(design: LinearDesign, cov_type: str, options: dict) -> CovarianceResult:
    """Variance of the 2SLS coefficient: the registry, with the IV bootstrap for ``"wild"``.

    ``"wild"`` is the wild restricted efficient bootstrap (:mod:`evalkit.inference.wild_iv`);
    ``"auto"`` is :func:`evalkit.inference.wild_iv.iv_auto_inference`, chosen by the IV designs
    of the few-cluster size study. Every other name goes to
    :func:`evalkit.inference.covariance.compute`.
    """
    from .inference import wild_iv

    if cov_type in _covariance._REGISTRY:
        options = renamed_options(cov_type, options, _covariance._REGISTRY[cov_type].allowed_kwargs)
    if cov_type == "wild":
        return wild_iv.wild_iv_covariance(design, **options)
    if cov_type == "auto":
        return wild_iv.iv_auto_inference(design, **options)
    return compute_cov(design, cov_type, **options)


# ============================================================================================
# estimator
# ============================================================================================
@keywords(exog="covariates")
def panel_iv(
    data: pd.DataFrame,
    *,
    outcome: str,
    endog: str,
    instrument: str | list[str],
    unit: str,
    time: str,
    expected_instrument: str | list[str] | None = None,
    control_expected: bool = False,
    covariates: str | list[str] | None = None,
    cluster: str | None = None,
    endog_scale: float = 1000.0,
    cov_type: str = "auto",
    level: float = 0.95,
    tau: float = 0.10,
    ar_grid: np.ndarray | None = None,
    shock_assumption: str | None = None,
    **cov_options: Any,
) -> PanelIVResult:
    """2SLS with unit and period effects, a (recentred) formula instrument and weak-IV diagnostics.

    Parameters
    ----------
    data : DataFrame
        Panel (one row per unit and period; may be unbalanced).
    outcome : str
        Outcome column (e.g. ``log_revenue``).
    endog : str
        Endogenous regressor (e.g. ``factor_fund_wan``); divided by ``endog_scale``.
    instrument : str or list of str
        Excluded instrument column(s), on the same money scale as ``endog`` (also divided by
        ``endog_scale``).
    unit, time : str
        Panel identifiers; unit and period effects are absorbed.
    expected_instrument : str or list of str, optional
        Column(s) with the expectation of each instrument over the exogenous shocks; when given,
        the instrument used is ``instrument − expected`` (Borusyak–Hull recentring).
    control_expected : bool
        Also include the expected instrument as an exogenous control.
    covariates : str or list of str, optional
        Exogenous control columns.
    cluster : str, optional
        Cluster column (default: ``unit``).
    endog_scale : float
        Money unit of the coefficient (1000 → effect per 1,000 万元).
    cov_type : str
        Variance estimator of the 2SLS coefficient, any registered name
        (:func:`evalkit.inference.available`): ``"clustered"`` (CR1, t(G-1)), ``"cr2"``
        (bias-reduced, Bell-McCaffrey degrees of freedom; the absorbed unit and period effects
        enter the hat matrix exactly), ``"robust"``, ``"unadjusted"``, ``"wild"`` (the wild
        restricted efficient bootstrap of Davidson and MacKinnon 2010, see
        :func:`evalkit.inference.wild_iv.wild_restricted_efficient`) or ``"auto"`` (chosen by the
        IV designs of evalkit's few-cluster size study: the WRE with fewer than 30 clusters,
        CR1 otherwise; the default). The OLS, first-stage and reduced-form rows use the same
        name (the OLS wild cluster bootstrap for ``"wild"``, the OLS default for ``"auto"``).
    level : float
        Confidence level (also of the Anderson–Rubin set).
    tau : float
        Worst-case relative bias for the effective-F critical value.
    ar_grid : array, optional
        Grid for the Anderson–Rubin set with several instruments.
    shock_assumption : str, optional
        Statement of which shocks are assumed exogenous (shown in the summary; defaults to the
        text attached by :func:`recentred_instrument` when available).
    **cov_options
        Options of ``cov_type`` (e.g. ``small_sample="fixest"`` for ``"clustered"``, or
        ``n_draws``, ``seed``, ``executor``, ``bootstrap_weights`` for ``"wild"``).

    Returns
    -------
    PanelIVResult

    Raises
    ------
    DesignError
        An instrument without variation after removing unit and period effects, or collinear
        regressors.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import iv
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2016, 2022)], columns=["unit", "year"])
    >>> df["z"] = rng.gamma(2.0, 500.0, len(df))
    >>> u = rng.normal(size=len(df))
    >>> df["x"] = 0.8 * df.z + 300 * u + rng.normal(0, 100, len(df))
    >>> df["y"] = 0.1 * df.unit + 0.5 * df.x / 1000 + u + rng.normal(0, 0.1, len(df))
    >>> r = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year",
    ...                 cov_type="clustered")
    >>> print(f"2SLS {r.estimate:.2f}  OLS {r.ols.estimate:.2f}  effective F > 10: {r.effective_f > 10}")
    2SLS 0.62  OLS 1.31  effective F > 10: True
    """
    refuse_unknown(panel_iv, cov_options)
    check_option("cov_type", cov_type, tuple(_covariance.available()))
    inst = [instrument] if isinstance(instrument, str) else list(instrument)
    ez = ([expected_instrument] if isinstance(expected_instrument, str)
          else list(expected_instrument or []))
    if ez and len(ez) != len(inst):
        raise EvalkitError(f"expected_instrument has {len(ez)} column(s) for {len(inst)} "
                           "instrument(s); give one expectation per instrument.")
    if control_expected and not ez:
        raise EvalkitError("control_expected=True needs expected_instrument=...")
    exog = [covariates] if isinstance(covariates, str) else list(covariates or [])
    cl_col = cluster or unit
    check_columns(data, {"outcome": outcome, "endog": endog, "instrument": inst,
                         "expected_instrument": ez, "covariates": exog, "unit": unit, "time": time,
                         "cluster": cluster})
    num = list(dict.fromkeys([outcome, endog, *inst, *ez, *exog]))
    check_numeric_complete(data, num)
    check_unique_panel(data, unit, time)
    if not endog_scale > 0:
        raise EvalkitError(f"endog_scale must be positive, got {endog_scale!r}.")
    ui, units = pd.factorize(data[unit])
    ti, times = pd.factorize(data[time])
    n = len(data)
    y = data[outcome].to_numpy(float)
    x = data[endog].to_numpy(float) / endog_scale
    Zr = data[inst].to_numpy(float) / endog_scale
    EZ = data[ez].to_numpy(float) / endog_scale if ez else np.zeros((n, 0))
    Zu = Zr - EZ if ez else Zr
    W = np.column_stack([data[exog].to_numpy(float)] + ([EZ] if control_expected else [])) \
        if (exog or control_expected) else np.zeros((n, 0))
    # instrument variation checks
    for j, c in enumerate(inst):
        if np.ptp(Zr[:, j]) == 0:
            raise DesignError(
                f"Instrument {c!r} is constant ({Zr[0, j] * endog_scale:g}) in every row: it has no "
                "variation to identify the effect. Check that the formula instrument was merged "
                "(unit codes and years) and is not all zero.")
    absorber = TwoWayAbsorber(ui, ti)
    M = absorber.absorb(np.column_stack([y, x, Zu, W]))
    yd, xd = M[:, 0], M[:, 1]
    K = Zu.shape[1]
    Zd = M[:, 2:2 + K]
    Wd = M[:, 2 + K:]
    if Wd.shape[1]:
        # partial the exogenous controls out of everything (Frisch-Waugh)
        coefW = np.linalg.lstsq(Wd, np.column_stack([yd, xd, Zd]), rcond=None)[0]
        R = np.column_stack([yd, xd, Zd]) - Wd @ coefW
        yd, xd, Zd = R[:, 0], R[:, 1], R[:, 2:]
    for j, c in enumerate(inst):
        base = np.abs(Zu[:, j]).max() or 1.0
        if np.abs(Zd[:, j]).max() <= 1e-10 * base:
            raise DesignError(
                f"Instrument {c!r}{' (recentred)' if ez else ''} has no variation left after "
                f"removing {unit!r} and {time!r} effects{' and controls' if Wd.shape[1] else ''}: "
                "it is a sum of unit and year components. Use an instrument that varies within "
                "units over time differently across units.")
    if np.abs(xd).max() <= 1e-12:
        raise DesignError(f"{endog!r} has no variation after removing unit and period effects.")
    clusters = data[cl_col].to_numpy()
    n_clusters = pd.unique(clusters).size
    if cov_type not in ("robust", "unadjusted") and not_estimable_reason(n_clusters) is not None:
        raise InferenceError(
            f"panel_iv with cov_type={cov_type!r}: {not_estimable_reason(n_clusters)} "
            f"({cl_col!r} has {n_clusters} value(s)). Use cov_type='robust' (which ignores "
            "dependence within units) or data with more units.")
    nested = cl_col == unit or bool((data.groupby(unit)[cl_col].nunique() <= 1).all())
    treated = pd.unique(clusters[np.abs(x) > 0])
    frame = _Frame(absorber=absorber, Wd=Wd, clusters=clusters, nested=nested, treated=treated,
                   control_names=[*exog, *([f"E[{c}]" for c in ez] if control_expected else [])])

    # 2SLS with one endogenous regressor (exogenous controls partialled out)
    Qi = np.linalg.inv(Zd.T @ Zd)
    pi = Qi @ Zd.T @ xd
    xhat = Zd @ pi
    denom = float(xhat @ xd)
    if abs(denom) < 1e-14:
        raise DesignError("The first stage is exactly zero: the instrument does not predict "
                          f"{endog!r} at all.")
    beta = float(xhat @ yd) / denom
    u = yd - beta * xd
    design = frame.design(xhat[:, None], [endog], np.array([beta]), u, M[:, 0],
                          iv={"y": yd, "x": xd, "Z": Zd, "estimator": "2sls"})
    cr = _iv_cov(design, cov_type, cov_options)
    se = float(np.sqrt(cr.cov[0, 0]))

    # OLS (naive TWFE), first stage and reduced form with the same variance choice (the OLS
    # counterparts of the IV-only methods: the wild cluster bootstrap for "wild")
    side_type = "auto" if cov_type == "auto" else cov_type

    def _ols(yv, Xv, name, title):
        b = np.linalg.lstsq(Xv, yv, rcond=None)[0]
        d = frame.design(Xv, [name] * Xv.shape[1], b, yv - Xv @ b, yv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FewClustersWarning)  # said once, for the 2SLS
            c = compute_cov(d, side_type, **_side_options(side_type, cov_options))
        return ScalarEffect(float(b[0]), float(np.sqrt(c.cov[0, 0])), inference=c.description,
                            dof=_first_dof(c.dof), term=name, title=title, nobs=n,
                            extra={"design": d}, **_overrides(c))

    ols = _ols(yd, xd[:, None], f"OLS {endog}", "Naive two-way fixed-effects OLS")
    fs = _ols(xd, Zd, f"first stage {inst[0]}", "First stage")
    rf = _ols(yd, Zd, f"reduced form {inst[0]}", "Reduced form")
    cl_arg = clusters if cov_type not in ("robust", "unadjusted") else None
    diag_kw = dict(covariates=Wd if Wd.shape[1] else None, like=design,
                   cov_options={k: v for k, v in cov_options.items() if k == "small_sample"})
    ef = effective_f(xd, Zd, cl_arg, **diag_kw)
    fcrit = mop_critical_value(ef["W2"], tau=tau)
    ar = anderson_rubin_set(yd, xd, Zd, cl_arg, level=level, grid=ar_grid, **diag_kw)

    assumption = shock_assumption
    if assumption is None:
        assumption = data.attrs.get("iv_shock_assumption")
    notes = []
    if ez:
        notes.append("Instrument recentred: z − E[z] over the bureau's shocks (Borusyak and Hull "
                     "2023)" + ("; E[z] also controlled for." if control_expected else "."))
        if assumption:
            notes.append(assumption)
    else:
        notes.append("Instrument not recentred: its variation from the lagged factor levels is "
                     "assumed exogenous too (stronger than the shock-only assumption).")
    notes.append(f"Coefficients are effects per {endog_scale:g} units of {endog!r}.")
    if data.attrs.get("synthetic"):
        notes.append("Synthetic demo data, not real statistics.")
    treated_units = int(pd.Series(np.abs(x) > 0).groupby(ui).any().sum())
    if cov_type in ("clustered", "cr2"):
        notes.append(f"{treated_units} unit(s) receive {endog!r}; cluster-robust inference with "
                     "few treated clusters can over-reject.")
    return PanelIVResult(
        estimate=beta, std_error=se, inference=cr.description, dof=_first_dof(cr.dof),
        **_overrides(cr),
        term=f"{endog} per {endog_scale:g}", title="Panel IV (2SLS) with unit and period effects",
        nobs=n, notes=notes, ols=ols, first_stage=fs, reduced_form=rf,
        effective_f=ef["F_eff"], f_critical=fcrit, ar_set=ar, design=design,
        data_resid={"y": yd, "x": xd, "z": Zd[:, 0]},
        spec={"outcome": outcome, "endog": endog, "instrument": inst, "expected": ez,
              "control_expected": control_expected, "covariates": exog, "cluster": cl_col,
              "endog_scale": endog_scale},
        extra={"pi": pi, "n_units": len(units), "n_periods": len(times)},
    )


# ============================================================================================
# formula instrument and its expectation over the bureau's shocks
# ============================================================================================
def load_specs(path: str | Path, pattern: str = r"spec_(\d{4})\.ya?ml$") -> dict[int, Any]:
    """Read every ``spec_<year>.yaml`` in a folder with :func:`evalkit.allocation.load_spec`.

    Parameters
    ----------
    path : str or Path
        Folder (e.g. ``data_raw/demo/allocation``).
    pattern : str
        Regular expression with the year as first group.

    Returns
    -------
    dict
        ``{year: AllocationSpec}`` sorted by year.

    Examples
    --------
    >>> from evalkit import iv
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> sorted(specs)
    [2022, 2023, 2024, 2025]
    """
    from . import allocation

    p = Path(path)
    if not p.is_dir():
        raise EvalkitError(f"Allocation folder not found: {p}. Pass the folder holding "
                           "spec_<year>.yaml files.")
    out = {}
    for f in sorted(p.iterdir()):
        m = re.search(pattern, f.name)
        if m:
            out[int(m.group(1))] = allocation.load_spec(f)
    if not out:
        raise EvalkitError(f"No yearly spec files matching {pattern!r} in {p}.")
    return dict(sorted(out.items()))


def _spec_variant(spec, weights=None, total=None):
    """A copy of ``spec`` with other factor weights (percent) and/or total (万元)."""
    from .allocation import spec_from_dict

    if weights is None and total is None:
        return spec
    data = spec.flat_data()  # first-level groups folded into effective weights
    if weights is not None:
        for f in data["factors"]:
            if f["id"] in weights:
                f["weight"] = str(weights[f["id"]])  # exact text (Fraction or decimal)
    if total is not None:
        t_old = int(data["total_wan"])
        data["total_wan"] = int(round(total))
        # keep the reserve share
        if data.get("reserve_wan"):
            data["reserve_wan"] = int(round(int(data["reserve_wan"]) * total / t_old))
    return spec_from_dict(data, source=f"{spec.source} (shock redraw)")


def _percent_weights(ids: list[str], shares: np.ndarray) -> dict[str, str]:
    """Shares summing to 1 as exact decimal percent strings (6 decimals) summing to 100."""
    micro = np.round(np.asarray(shares) * 1e8).astype(np.int64)  # 1e-6 percent units
    micro[-1] = 100_000_000 - micro[:-1].sum()
    return {f: f"{m // 1_000_000}.{m % 1_000_000:06d}" for f, m in zip(ids, micro, strict=True)}


def _alloc_amounts(spec, factors, last_year, amount: str) -> pd.Series:
    from . import allocation

    a = allocation.allocate(spec, factors, last_year=last_year)
    s = a.continuous_series() if amount == "continuous" else a.amount_series().astype(float)
    s.index = s.index.astype(str)
    return s


@keywords
def formula_instrument(
    specs: dict[int, Any] | str | Path,
    factors: Any,
    *,
    amount: Literal["continuous", "rounded"] = "continuous",
    chain_last_year: bool = True,
) -> pd.DataFrame:
    """Formula-predicted allocation per unit and year (the instrument ``z``), in 万元.

    Each year's spec is applied to its lagged factors with :func:`evalkit.allocation.allocate`.
    The base part / hold-harmless rules that refer to last year's amounts use last year's
    *formula* amounts (``chain_last_year=True``), never the actual amounts, which contain the
    discretionary top-up.

    Parameters
    ----------
    specs : dict or path
        ``{year: spec}`` or a folder with ``spec_<year>.yaml``.
    factors : FactorTable, DataFrame or path
        Long factor table (``factors.csv``).
    amount : {"continuous", "rounded"}
        Pre-rounding amounts (default; smooth in the shocks) or the final integer amounts.
    chain_last_year : bool
        Feed each year's formula amounts to the next year's base/hold-harmless rules.

    Returns
    -------
    DataFrame
        Columns ``unit_code, year, z_wan``.

    Examples
    --------
    >>> from evalkit import iv
    >>> from evalkit.allocation import read_factors
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> z = iv.formula_instrument(specs, read_factors("data_raw/demo/allocation/factors.csv"))
    >>> z.columns.tolist()[:3], [int(y) for y in sorted(z.year.unique())]
    (['unit_code', 'year', 'z_wan'], [2022, 2023, 2024, 2025])
    """
    from . import allocation

    check_option("amount", amount, ("continuous", "rounded"))
    specs = load_specs(specs) if isinstance(specs, (str, Path)) else dict(sorted(specs.items()))
    table = factors if isinstance(factors, allocation.FactorTable) else \
        allocation.read_factors(factors)
    rows, last = [], None
    for yr, sp in specs.items():
        s = _alloc_amounts(sp, table, last, amount)
        rows.append(pd.DataFrame({"unit_code": s.index, "year": int(yr), "z_wan": s.to_numpy()}))
        last = s if chain_last_year else None
    return pd.concat(rows, ignore_index=True)


@keywords
def expected_instrument(
    specs: dict[int, Any] | str | Path,
    factors: Any,
    *,
    shocks: tuple[str, ...] = ("weights", "total"),
    method: Literal["permute", "dirichlet"] = "permute",
    n_draws: int = 200,
    concentration: float = 200.0,
    seed: int | None = DEFAULT_SEED,
    weight_mean: dict[str, float] | None = None,
    total_support: list[float] | None = None,
    amount: Literal["continuous", "rounded"] = "continuous",
    chain_last_year: bool = True,
) -> pd.DataFrame:
    """Expected formula instrument ``E[z_it]`` over the bureau's yearly shocks.

    ``method="permute"`` treats the observed yearly weight vectors (and totals) as exchangeable
    across years: for each year it recomputes the formula on that year's lagged factors with every
    observed weight vector (× every observed total) and averages — the exact expectation under
    the permutation distribution. ``method="dirichlet"`` redraws weights from a Dirichlet centred
    at their mean (``concentration``) and totals from the observed ones, ``n_draws`` times.

    Parameters
    ----------
    specs : dict or path
        ``{year: spec}`` or a folder with ``spec_<year>.yaml``.
    factors : FactorTable, DataFrame or path
        Factor table.
    shocks : tuple of {"weights", "total"}
        Which parts of the rule are treated as random shocks.
    method : {"permute", "dirichlet"}
        Shock distribution.
    n_draws : int
        Draws for ``method="dirichlet"``.
    concentration : float
        Dirichlet concentration (larger = closer to the mean weights).
    weight_mean : dict, optional
        ``{factor_id: percent}`` centre of the Dirichlet when the bureau documents how weights are
        set (default: the mean of the observed yearly weights).
    total_support : list of float, optional
        Totals (万元) drawn uniformly in the ``dirichlet`` method when documented (default: the
        observed yearly totals).
    seed : int or None
        Random seed (dirichlet; default :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    amount, chain_last_year : see :func:`formula_instrument`.

    Returns
    -------
    DataFrame
        Columns ``unit_code, year, ez_wan, n_draws``; ``attrs["iv_shock_assumption"]`` states the
        assumption.

    Examples
    --------
    >>> from evalkit import iv
    >>> from evalkit.allocation import read_factors
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> fac = read_factors("data_raw/demo/allocation/factors.csv")
    >>> ez = iv.expected_instrument(specs, fac, n_draws=20, seed=1)
    >>> "ez_wan" in ez.columns, "iv_shock_assumption" in ez.attrs
    (True, True)
    """
    from . import allocation

    check_option("method", method, ("permute", "dirichlet"))
    for s in shocks:
        check_option("shocks", s, ("weights", "total"))
    if not shocks:
        raise EvalkitError("shocks must name at least one of 'weights', 'total'.")
    specs = load_specs(specs) if isinstance(specs, (str, Path)) else dict(sorted(specs.items()))
    table = factors if isinstance(factors, allocation.FactorTable) else \
        allocation.read_factors(factors)
    years = list(specs)
    for sp in specs.values():
        allocation.require_redrawable(sp, "the recentred formula instrument / 重定心公式工具变量")
    ids = {yr: tuple(sp.factor_ids) for yr, sp in specs.items()}
    if "weights" in shocks and len(set(ids.values())) > 1:
        raise SpecError([f"year {yr}: factors {list(v)}" for yr, v in ids.items()],
                        header="Weight vectors can only be exchanged between years with the same "
                               "factors; the yearly specs use different factor sets")
    wvecs = {yr: {f.id: f.weight for f in sp.factors} for yr, sp in specs.items()}
    totals = {yr: float(sp.total_wan) for yr, sp in specs.items()}
    if len(years) < 2:
        raise EvalkitError("Recentring over yearly shocks needs specs for at least 2 years.")
    rng = np.random.default_rng(seed)
    if method == "permute":
        w_opts = [wvecs[y] for y in years] if "weights" in shocks else [None]
        t_opts = [totals[y] for y in years] if "total" in shocks else [None]
        draws = list(itertools.product(w_opts, t_opts))
    else:
        fid = list(wvecs[years[0]])
        if weight_mean is not None:
            unknown = sorted(set(weight_mean) ^ set(fid))
            if unknown:
                raise SpecError([f"weight_mean must name exactly the factors {fid}; "
                                 f"mismatched: {unknown}"], header="Invalid weight_mean")
            mean_w = np.array([float(weight_mean[f]) for f in fid])
        else:
            mean_w = np.mean([[float(wvecs[y][f]) for f in fid] for y in years], axis=0)
        if (mean_w <= 0).any():
            raise EvalkitError("Dirichlet centre weights must all be positive.")
        mean_w = mean_w / mean_w.sum()
        t_pool = (np.asarray(total_support, float) if total_support is not None
                  else np.array([totals[y] for y in years]))
        draws = []
        for _ in range(n_draws):
            w = None
            if "weights" in shocks:
                w = _percent_weights(fid, rng.dirichlet(concentration * mean_w))
            t = float(t_pool[rng.integers(len(t_pool))]) if "total" in shocks else None
            draws.append((w, t))
    rows = []
    last_obs = None
    for yr, sp in specs.items():
        acc = None
        for w, t in draws:
            s = _alloc_amounts(_spec_variant(sp, w, t), table, last_obs, amount)
            acc = s if acc is None else acc.add(s, fill_value=0.0)
        ez = acc / len(draws)
        rows.append(pd.DataFrame({"unit_code": ez.index, "year": int(yr), "ez_wan": ez.to_numpy(),
                                  "n_draws": len(draws)}))
        if chain_last_year:
            last_obs = _alloc_amounts(sp, table, last_obs, amount)
    out = pd.concat(rows, ignore_index=True)
    shock_txt = {("weights",): "", ("total",): "", ("total", "weights"): " and totals",
                 ("weights", "total"): " and totals"}[tuple(shocks)]
    text = SHOCK_ASSUMPTION.format(total=shock_txt)
    if shocks == ("total",):
        text = text.replace("yearly factor weight vectors", "yearly fund totals")
    if method == "permute":
        how = f"exact average over the {len(draws)} combinations of the observed yearly shocks"
    else:
        how = f"average over {n_draws} Dirichlet redraws (concentration {concentration:g})"
    text += f" Expectation: {how}."
    out.attrs["iv_shock_assumption"] = text
    return out


def recentred_instrument(specs, factors, **kwargs) -> pd.DataFrame:
    """Formula instrument, its expectation over the shocks, and the recentred instrument.

    Parameters
    ----------
    specs, factors
        See :func:`formula_instrument`.
    **kwargs
        Passed to :func:`expected_instrument` (``amount`` and ``chain_last_year`` also to
        :func:`formula_instrument`).

    Returns
    -------
    DataFrame
        ``unit_code, year, z_wan, ez_wan, z_recentred_wan`` with
        ``attrs["iv_shock_assumption"]``.

    Examples
    --------
    >>> from evalkit import iv
    >>> from evalkit.allocation import read_factors
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> fac = read_factors("data_raw/demo/allocation/factors.csv")
    >>> rc = iv.recentred_instrument(specs, fac, n_draws=20, seed=1)
    >>> "z_recentred_wan" in rc.columns
    True
    """
    refuse_unknown(recentred_instrument, kwargs, passes_to="arguments of expected_instrument",
                   accepted=list(inspect.signature(expected_instrument).parameters)[2:])
    fkw = {k: kwargs[k] for k in ("amount", "chain_last_year") if k in kwargs}
    z = formula_instrument(specs, factors, **fkw)
    ez = expected_instrument(specs, factors, **kwargs)
    out = z.merge(ez[["unit_code", "year", "ez_wan"]], on=["unit_code", "year"], how="left")
    out["z_recentred_wan"] = out["z_wan"] - out["ez_wan"]
    out.attrs["iv_shock_assumption"] = ez.attrs["iv_shock_assumption"]
    return out
