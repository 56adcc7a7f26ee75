r"""Wild cluster bootstrap for one linear restriction :math:`R\beta = r` of a least-squares fit.

The algorithm follows the "fast and wild" idea of Roodman, Nielsen, MacKinnon and Webb (2019,
*Stata Journal* 19(1)): everything the bootstrap needs is reduced to cluster-level quantities once,
so that each draw costs :math:`O(G k)` operations whatever the number of observations.

Let :math:`a = (X'X)^{-1}R'` and let :math:`s_g = X_g'\ddot u_g` be the cluster scores of the
residuals of the bootstrap data-generating process (restricted residuals for WCR, unrestricted for
WCU). With weights :math:`v_g`, the bootstrap coefficient deviation is
:math:`(X'X)^{-1}\sum_g v_g s_g`, so

.. math::

    \text{numerator}^* = c'v, \quad c_g = a's_g, \qquad
    \text{denominator}^{*2} = \kappa \sum_g \big(c_g v_g - p_g'(S'v)\big)^2,
    \quad p_g = (X'X)^{-1}X_g'X_g a,

where :math:`S` stacks the :math:`s_g` and :math:`\kappa` is the CR1 small-sample factor. Draws are
processed in blocks (a :math:`G \times B` weight matrix), through :class:`~.executor.Executor`.

For WCR the restricted scores are affine in the hypothesised value :math:`r`, so numerator and
squared denominator are affine/quadratic in :math:`\delta = R\hat\beta - r`. The bootstrap keeps the
five per-draw coefficients of those polynomials, which makes confidence intervals by test
inversion cheap (no new draws for each trial value of :math:`r`).

Absorbed fixed effects: the bootstrap runs on the partialled-out (within-transformed) design, and
the bootstrap errors :math:`v \odot \ddot u` are re-projected on the absorbed effects exactly, as
with explicit dummies in ``X``: the cluster scores need :math:`X_g'(M_D(v\odot\ddot u))_g`.
Effects nested in the clusters (unit effects with clustering by unit or coarser) drop out of every
cluster score; the others (year effects) leave :math:`X_g'(WW'(v\odot\ddot u))_g`, where
:math:`W` is an orthonormal basis of the year dummies residualised on the unit dummies
(:class:`~evalkit.inference.design.FEProjection` with the units as its sparse set, whether
there are more units than years or fewer). :math:`W` has rank :math:`T-1`, so it enters as extra
columns of the cluster-level arrays and each draw stays :math:`O(G(k + T))`. When no absorbed set
is nested in the clusters (clusters finer than units), :math:`W` spans all absorbed effects. The
result equals the bootstrap with explicit unit and year dummies for units fewer than, as many as
or more than years, unbalanced panels and weights (tested by full enumeration against a brute-force
refit). The design must describe its absorbed effects (``design.extra["absorber"]`` from the TWFE
family, or ``["fe_codes"]``); otherwise evalkit warns and uses the demeaned-data approximation
(what a bootstrap on within-transformed data does, which moved p-values by ~0.02 at G = 12).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitWarning, InferenceError
from .._shared.future import CallableInterval
from .._shared.kernels import segment_sums
from .._shared.kernels.draws import (
    WEIGHT_KINDS,
    bootstrap_pvalue,
    draw_plan,
    draw_weights,
    enumerated_weights,
)
from .._shared.validation import check_option
from .._shared.vocabulary import DEFAULT_SEED, keywords
from ._protocol import ScalarTest
from ._wild_cv3 import cv3_arrays, cv3_poly, explicit_effects_design
from .covariance import CovarianceResult, clustered, cr1_factor, cr2_rows, register
from .design import FEProjection, LinearDesign, fe_projection
from .executor import Chunk, Executor, get_executor
from .wild_iv import wild_iv_covariance

WeightType = Literal["rademacher", "webb", "mammen"]


def _chunk_weights(chunk: Chunk, weights: str, enumerate_all: bool, H: int) -> np.ndarray:
    """The H x B weight block of ``chunk`` (enumerated sign vectors or random draws)."""
    if enumerate_all:
        return enumerated_weights(H, chunk.start, chunk.stop)
    return draw_weights(weights, H, chunk.size, chunk.rng())


def _cv3_chunk(chunk: Chunk, weights: str, enumerate_all: bool, c0, c1, Q0, Q1) -> np.ndarray:
    """One block of CV3-studentised draws (see :mod:`evalkit.inference._wild_cv3`)."""
    return cv3_poly(_chunk_weights(chunk, weights, enumerate_all, c0.shape[0]), c0, c1, Q0, Q1)


def _wild_chunk(
    chunk: Chunk,
    weights: str,
    enumerate_all: bool,
    agg: np.ndarray | None,
    c0: np.ndarray,
    c1: np.ndarray,
    S0: np.ndarray,
    S1: np.ndarray,
    P: np.ndarray,
    d0: np.ndarray | None = None,
    d1: np.ndarray | None = None,
) -> np.ndarray:
    """One block of draws: rows N0, N1, D00, D01, D11 (see module docstring).

    ``d0``/``d1`` are the bootstrap-cluster terms of the studentising scores when they differ
    from the numerator's ``c0``/``c1`` (CR2 studentisation); ``None`` = the same.
    """
    d0 = c0 if d0 is None else d0
    d1 = c1 if d1 is None else d1
    V = _chunk_weights(chunk, weights, enumerate_all, c0.shape[0])
    if agg is None:
        return _poly_fast(V, c0, c1, S0, S1, P)
    N0 = c0 @ V
    N1 = c1 @ V
    cv0 = agg @ (d0[:, None] * V)  # bootstrap clusters finer than variance clusters
    cv1 = agg @ (d1[:, None] * V)
    Z0 = cv0 - P @ (S0.T @ V)
    Z1 = cv1 - P @ (S1.T @ V)
    return np.vstack(
        [N0, N1, np.einsum("gb,gb->b", Z0, Z0), np.einsum("gb,gb->b", Z0, Z1), np.einsum("gb,gb->b", Z1, Z1)]
    )


def _poly_fast(V, c0, c1, S0, S1, P) -> np.ndarray:
    r"""N0, N1, D00, D01, D11 through one (G x (4k+2))' (G x B) product.

    With :math:`w = S'v`, :math:`q = (P \odot c)'v`: :math:`\sum_g (c_g v_g - p_g'w)^2 =
    \sum_g c_g^2 v_g^2 - 2 w'q + w'(P'P)w`, so no G x B intermediate is formed beyond ``V``.
    """
    k = S0.shape[1]
    A = np.hstack([c0[:, None], c1[:, None], S0, S1, P * c0[:, None], P * c1[:, None]])
    W = A.T @ V
    N0, N1 = W[0], W[1]
    w0, w1 = W[2 : 2 + k], W[2 + k : 2 + 2 * k]
    q0, q1 = W[2 + 2 * k : 2 + 3 * k], W[2 + 3 * k :]
    PtP = P.T @ P
    V2 = V * V
    cc = np.vstack([c0 * c0, c0 * c1, c1 * c1]) @ V2
    Pw0, Pw1 = PtP @ w0, PtP @ w1
    D00 = cc[0] - 2 * np.einsum("kb,kb->b", w0, q0) + np.einsum("kb,kb->b", w0, Pw0)
    D01 = cc[1] - np.einsum("kb,kb->b", w1, q0) - np.einsum("kb,kb->b", w0, q1) + np.einsum("kb,kb->b", w0, Pw1)
    D11 = cc[2] - 2 * np.einsum("kb,kb->b", w1, q1) + np.einsum("kb,kb->b", w1, Pw1)
    return np.vstack([N0, N1, D00, D01, D11])


@dataclass(repr=False)
class WildBootstrapResult(ScalarTest):
    """Result of a wild cluster bootstrap test of :math:`R\\beta = r`.

    A scalar result of the results protocol: ``params``, ``std_errors``, ``pvalues`` (Series
    indexed by ``term``), ``conf_int(level)`` (by inverting the test on the same draws, any
    level), ``to_frame()``, ``summary()``, ``plot()`` (the bootstrap t statistics).

    Attributes
    ----------
    estimate : float
        :math:`R\\hat\\beta`.
    std_error : float
        Its CR1 standard error (the studentising denominator of the test).
    statistic : float
        Observed t statistic :math:`(R\\hat\\beta - r)/\\text{se}`.
    pvalue : float
        Bootstrap p-value (``pvalue_type``).
    interval : tuple of float
        Confidence interval at ``level`` by test inversion (``(nan, nan)`` when not requested;
        infinite ends when the test never rejects on that side); ``conf_int(level)`` gives it
        at any level.
    level : float
        Coverage of ``interval``.
    n_draws : int
        Number of bootstrap draws (``2**G`` under full enumeration).
    full_enumeration : bool
        Whether all Rademacher sign vectors were used (exact bootstrap distribution).
    weights, impose_null, pvalue_type, statistic_type : str/bool
        The options used.
    n_clusters, n_boot_clusters : int
        Variance clusters and bootstrap clusters.
    t_boot : ndarray
        Bootstrap statistics at the tested null ``r``.
    description : str
        The method in words.
    term : str
        The tested coefficient (``param``) or ``"contrast"`` (``R``).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, wild_cluster_bootstrap
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(6), 10)
    >>> X = np.column_stack([np.ones(60), rng.normal(size=60)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=60)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], y=y, clusters=g)
    >>> w = wild_cluster_bootstrap(d, param="x", seed=1)
    >>> w.n_draws, w.level, w.term
    (64, 0.95, 'x')
    >>> lo, hi = w.conf_int(0.90)
    >>> bool(lo < w.estimate < hi), w.to_frame()["term"].tolist()
    (True, ['x'])
    """

    estimate: float
    std_error: float
    statistic: float
    pvalue: float
    interval: tuple[float, float]
    level: float
    r: float
    n_draws: int
    full_enumeration: bool
    weights: str
    impose_null: bool
    pvalue_type: str
    statistic_type: str
    n_clusters: int
    n_boot_clusters: int
    t_boot: np.ndarray
    description: str
    _poly: np.ndarray = field(default=None)  # 5 x B coefficients for test inversion
    _kappa: float = 1.0
    term: str = "contrast"

    def __repr__(self) -> str:
        return f"<WildBootstrapResult: {self.description}; p={self.pvalue:.4g}>"

    @property
    def conf_int(self) -> CallableInterval:
        """``conf_int(level=0.95)``: the interval at any level by test inversion on the same draws.

        (Until 0.3.0 the value also behaves as the ``(low, high)`` tuple at ``level``, with a
        ``FutureWarning``: it used to be an attribute.)
        """
        return CallableInterval(self.interval, self.conf_int_at, owner="WildBootstrapResult")

    def _interval(self, level: float) -> tuple[float, float]:
        return self.conf_int_at(level)

    def _draws(self):
        t_obs = self.statistic if self.statistic_type == "t" else self.estimate - self.r
        return self.t_boot, float(t_obs), "t" if self.statistic_type == "t" else "estimate"

    def pvalue_at(self, r: float) -> float:
        """Bootstrap p-value of the null :math:`R\\beta = r` (same draws, any ``r``)."""
        delta = self.estimate - r
        return _pvalue_delta(self._poly, delta, self.std_error, self._kappa, self.impose_null,
                             self.pvalue_type, self.statistic_type)

    def conf_int_at(self, level: float) -> tuple[float, float]:
        """Confidence interval at any ``level`` by inverting the bootstrap test on the same draws.

        Examples
        --------
        >>> import numpy as np
        >>> from evalkit.inference import LinearDesign
        >>> rng = np.random.default_rng(0)
        >>> cl = np.repeat(np.arange(10), 20)
        >>> X = np.column_stack([np.ones(200), rng.normal(size=200)])
        >>> y = X @ [1.0, 0.3] + rng.normal(size=10)[cl] + rng.normal(size=200)
        >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
        >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], y=y, clusters=cl)
        >>> res = wild_cluster_bootstrap(d, param="x")
        >>> lo90, hi90 = res.conf_int_at(0.90)
        >>> lo95, hi95 = res.conf_int()
        >>> lo95 <= lo90 < hi90 <= hi95
        True
        """
        if not 0 < level < 1:
            raise InferenceError(f"level must be between 0 and 1, got {level!r}.")
        if np.isfinite(self.level) and np.isclose(level, self.level):
            return tuple(self.interval)
        return _invert(self._poly, self.estimate, self.std_error, self._kappa, self.impose_null,
                       self.pvalue_type, self.statistic_type, 1 - level)


def _boot_stats(poly, delta, kappa, impose_null, statistic_type):
    N0, N1, D00, D01, D11 = poly
    if impose_null:
        num = N0 + delta * N1
        den2 = D00 + 2 * delta * D01 + delta * delta * D11
    else:
        num, den2 = N0, D00
    if statistic_type == "coef":
        return num
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / np.sqrt(kappa * np.clip(den2, 0, None))


def _pvalue_delta(poly, delta, se, kappa, impose_null, pvalue_type, statistic_type) -> float:
    t_boot = _boot_stats(poly, delta, kappa, impose_null, statistic_type)
    t_obs = delta if statistic_type == "coef" else delta / se
    return bootstrap_pvalue(t_obs, t_boot, pvalue_type)


def _invert(poly, estimate, se, kappa, impose_null, pvalue_type, statistic_type, alpha):
    """Ends of ``{r : p(r) > alpha}`` found by expanding then bisecting from ``r = estimate``."""
    if not np.isfinite(se) or se <= 0:
        return float("nan"), float("nan")

    def p(delta):
        return _pvalue_delta(poly, delta, se, kappa, impose_null, pvalue_type, statistic_type)

    ends = []
    for sign in (+1.0, -1.0):  # delta > 0 <=> r below the estimate
        lo, hi = 0.0, sign * se
        found = False
        for _ in range(60):
            if p(hi) <= alpha:
                found = True
                break
            lo, hi = hi, hi * 2.0
        if not found:
            ends.append(sign * np.inf)
            continue
        for _ in range(80):
            mid = (lo + hi) / 2
            if p(mid) <= alpha:
                hi = mid
            else:
                lo = mid
            if abs(hi - lo) <= 1e-9 * se:
                break
        ends.append((lo + hi) / 2)
    d_plus, d_minus = ends
    return float(estimate - d_plus), float(estimate - d_minus)


def _term_name(design: LinearDesign, param) -> str:
    """Name of the tested coefficient (``"contrast"`` for a restriction vector ``R``)."""
    if param is None:
        return "contrast"
    return param if isinstance(param, str) else str(design.names[int(param)])


def _restriction(design: LinearDesign, param, R) -> np.ndarray:
    k = design.k
    if (param is None) == (R is None):
        raise InferenceError("Give exactly one of param= (a coefficient name or index) or R= (a k-vector).")
    if R is not None:
        R = np.asarray(R, dtype=float)
        if R.ndim == 2 and R.shape[0] == 1:
            R = R[0]
        if R.ndim != 1 or R.size != k:
            raise InferenceError(
                f"R must be one restriction, a vector of length k={k} (got shape {np.shape(R)}); "
                "joint tests of several restrictions are not supported by the wild bootstrap here."
            )
        if not np.any(R):
            raise InferenceError("R is all zeros; it must select or combine coefficients.")
        return R
    if isinstance(param, str):
        if param not in design.names:
            raise InferenceError(f"param={param!r} is not a coefficient; available: {design.names}.")
        idx = design.names.index(param)
    else:
        idx = int(param)
        if not 0 <= idx < k:
            raise InferenceError(f"param index {idx} out of range for {k} coefficients.")
    R = np.zeros(k)
    R[idx] = 1.0
    return R


#: Largest number of absorbed-effect columns re-projected exactly when the absorbed effects are
#: not nested in the clusters (their full basis enters the cluster-level arrays).
MAX_REPROJECTED_COLUMNS = 2000


def _fe_basis(design: LinearDesign, clusters: np.ndarray) -> tuple[np.ndarray | None, str]:
    """Columns W with ``X_g' (P_D u)_g = X_g' (W W' u)_g`` for every cluster g, and a note.

    ``P_D`` is the projection on the absorbed effects. Effects nested in the clusters contribute
    nothing to any cluster score, so W spans only the others residualised on them (e.g. the year
    effects after the unit effects -- whichever of the two has more levels). When no absorbed set
    is nested in the clusters, W spans all of ``P_D``. Warns (and returns ``None``) when the
    design absorbs effects it does not describe, or when that basis would be too wide.
    """
    if design.df_absorbed <= 0:
        return None, ""
    proj = FEProjection.from_design(design, clusters=clusters)
    if proj is None:
        if design.fe_nested_in_cluster:
            msg = ("if some are not nested in the clusters (e.g. year effects), the bootstrap "
                   "residuals are not re-projected on them and the p-value is approximate")
        else:
            msg = ("they are not nested in the clusters (e.g. clusters finer than units), so the "
                   "bootstrap errors load on them and the p-value is approximate")
        warnings.warn(
            f"The design absorbs {design.df_absorbed} fixed effects without describing them "
            f"(design.extra['absorber'] or ['fe_codes']): {msg}. Describe them (fit with the "
            "evalkit.did estimators) for the exact bootstrap, or cluster at the unit level.",
            EvalkitWarning,
            stacklevel=3,
        )
        return None, "absorbed effects not re-projected (not described by the design)"
    if proj.sparse_nested:
        return proj.Z, "absorbed effects re-projected"
    width = proj.n_u + proj.Z.shape[1]
    if width > MAX_REPROJECTED_COLUMNS:
        warnings.warn(
            f"The absorbed effects are not nested in the clusters and span {width} columns (more "
            f"than {MAX_REPROJECTED_COLUMNS}): the bootstrap errors are not re-projected on them "
            "and the p-value is approximate. Cluster at the unit level or coarser.",
            EvalkitWarning,
            stacklevel=3,
        )
        return None, "absorbed effects not re-projected (not nested in the clusters)"
    return np.hstack([proj.sparse_basis(), proj.Z]), "absorbed effects (not nested in the clusters) re-projected"


def _cluster_layout(design: LinearDesign, clusters, bootcluster, n: int):
    """Cluster codes, bootstrap-cluster codes (nested in the clusters) and the cluster x
    bootstrap-cluster aggregation matrix (``None`` when they are the same)."""
    cl = design.clusters if clusters is None else clusters
    if cl is None:
        raise InferenceError("The wild cluster bootstrap needs cluster labels (cluster=...).")
    cl = np.asarray(cl)
    if cl.ndim != 1:
        raise InferenceError("The wild cluster bootstrap takes one-way clusters (a 1-d array).")
    if cl.shape[0] != n:
        raise InferenceError(f"cluster has {cl.shape[0]} labels for {n} observations.")
    _, ccodes = np.unique(cl, return_inverse=True)
    G = int(ccodes.max()) + 1
    if G < 2:
        raise InferenceError(f"The wild cluster bootstrap needs at least 2 clusters; found {G}.")
    if isinstance(bootcluster, str):
        if bootcluster != "observation":
            raise InferenceError(
                f"bootcluster must be an array of labels or 'observation', got {bootcluster!r}."
            )
        bootcluster = np.arange(n)
    if bootcluster is None:
        bcodes, Hn, agg = ccodes, G, None
    else:
        bc = np.asarray(bootcluster)
        if bc.shape != cl.shape:
            raise InferenceError("bootcluster must have one label per observation, like cluster.")
        pair = pd.DataFrame({"b": bc, "c": cl}).drop_duplicates()
        if pair["b"].duplicated().any():
            raise InferenceError(
                "bootcluster must be nested in cluster (each bootstrap cluster inside one cluster)."
            )
        _, bcodes = np.unique(bc, return_inverse=True)
        Hn = int(bcodes.max()) + 1
        b_to_c = np.zeros(Hn, dtype=np.int64)
        b_to_c[bcodes] = ccodes
        agg = np.zeros((G, Hn))
        agg[b_to_c, np.arange(Hn)] = 1.0
    return cl, ccodes, G, bcodes, Hn, agg


def _cr_arrays(design: LinearDesign, X, y, Rv, cl, ccodes, G, bcodes, Hn, agg, studentize: str,
               impose_null: bool, small_sample: str):
    """Cluster-level arrays of the CR1- or CR2-studentised bootstrap (see the module docstring):
    the estimate, its standard error, the CR factor and the arguments of :func:`_wild_chunk`."""
    XtX = X.T @ X
    XtXinv = np.linalg.pinv(XtX)
    beta = XtXinv @ (X.T @ y)
    resid = y - X @ beta
    a = XtXinv @ Rv
    est = float(Rv @ beta)

    if studentize == "cr2":
        # CR2 score weights ell_i = (A_g X_g (X'X)^-1 R)_i: the studentising variance is
        # sum_g (ell_g' e*_g)^2 with the Bell-McCaffrey adjustment A_g (absorbed effects in H).
        ell = cr2_rows(design, ccodes, G, fe_projection(design, "wild bootstrap (CR2)")) @ Rv
        kappa = 1.0
    else:
        # CR1 factor as in cov_type="clustered" (it scales t and every t* alike: p-values and
        # intervals do not depend on it, the reported standard error does).
        ell = X @ a
        kappa = cr1_factor(design, cl, small_sample)

    # rows p_g = (X'X)^-1 X_g' ell_g (CR1: ell = X a, so (X'X)^-1 X_g'X_g a), no k x k blocks
    P = segment_sums(X * ell[:, None], ccodes, G) @ XtXinv
    score_hat = segment_sums(X * resid[:, None], bcodes, Hn)  # bootstrap-cluster scores
    se = float(np.sqrt(kappa * np.sum(segment_sums(ell * resid, ccodes, G) ** 2)))

    if impose_null:
        RaR = float(Rv @ a)
        if RaR <= 0:
            raise InferenceError("R (X'X)^-1 R' is not positive: the restriction is not identified.")
        shift = a / RaR  # beta_tilde(r) = beta_hat - shift * (R beta_hat - r)
        S0 = score_hat
        S1 = segment_sums(X * (X @ shift)[:, None], bcodes, Hn)
    else:
        S0 = score_hat
        S1 = np.zeros_like(score_hat)
    c0 = S0 @ a
    c1 = S1 @ a
    if studentize == "cr2":  # denominator scores per bootstrap cluster, with ell in place of X a
        d0 = segment_sums(ell * resid, bcodes, Hn)
        d1 = segment_sums(ell * (X @ shift), bcodes, Hn) if impose_null else np.zeros(Hn)
        if agg is None:
            agg = np.eye(G)
    else:
        d0, d1 = c0, c1
    fe_basis, fe_note = _fe_basis(design, cl)
    if fe_basis is not None and fe_basis.shape[1] > 0:
        # Bootstrap residuals are M_D (v * u): minus the projection of the weighted residuals on
        # the absorbed effects. The part on effects nested in the clusters drops out of every
        # cluster score (X is orthogonal to them within each cluster); the rest is W W'(v * u)
        # with W orthonormal, so it enters as extra columns of P and S.
        Wb = fe_basis
        P = np.hstack([P, segment_sums(Wb * ell[:, None], ccodes, G)])
        S0 = np.hstack([S0, segment_sums(Wb * resid[:, None], bcodes, Hn)])
        S1 = np.hstack(
            [S1, segment_sums(Wb * (X @ shift)[:, None], bcodes, Hn) if impose_null
             else np.zeros((Hn, Wb.shape[1]))]
        )
    return est, se, kappa, fe_note, (agg, c0, c1, S0, S1, P, d0, d1), agg


def _cv3_parts(design: LinearDesign, X, y, Rv, cl, ccodes, G, bcodes, Hn, impose_null: bool):
    """The CV3 (jackknife)-studentised bootstrap: estimate, standard error, factor, note and the
    arguments of :func:`_cv3_chunk` (:mod:`evalkit.inference._wild_cv3`)."""
    Xa, ya = explicit_effects_design(design, X, y, cl)
    arr = cv3_arrays(Xa, ya, Rv, ccodes, G, bcodes, Hn, impose_null)
    fe_note = "absorbed effects refitted without each cluster" if design.df_absorbed > 0 else ""
    return (arr["estimate"], arr["se"], (G - 1) / G, fe_note,
            (arr["c0"], arr["c1"], arr["Q0"], arr["Q1"]))


def _description(impose_null, weights, B, full_enumeration, statistic, studentize, pvalue_type, G,
                 Hn, agg, fe_note) -> str:
    """The bootstrap in words, for summaries."""
    desc = (
        f"wild cluster bootstrap ({'WCR' if impose_null else 'WCU'}, {weights} weights, "
        + (f"full enumeration of {B} draws" if full_enumeration else f"{B} draws")
        + f", {'t' if statistic == 't' else 'coefficient'} statistic"
        + ({"cr2": ", CR2-studentised", "cv3": ", CV3 (jackknife)-studentised"}.get(studentize, "")
           if statistic == "t" else "")
        + f", {pvalue_type} p-value, "
        + f"{G} clusters"
        + (f", {Hn} bootstrap subclusters" if agg is not None else "")
        + (f", {fe_note}" if fe_note else "")
        + ")"
    )
    return desc


@keywords(clusters="cluster", weights="bootstrap_weights")
def wild_cluster_bootstrap(
    design: LinearDesign,
    *,
    param: str | int | None = None,
    R: np.ndarray | None = None,
    r: float = 0.0,
    cluster: np.ndarray | None = None,
    bootcluster: np.ndarray | Literal["observation"] | None = None,
    impose_null: bool = True,
    bootstrap_weights: WeightType = "rademacher",
    n_draws: int = 9999,
    full_enumeration: bool | None = None,
    pvalue_type: Literal["symmetric", "equal-tailed"] = "symmetric",
    statistic: Literal["t", "coef"] = "t",
    level: float | None = 0.95,
    seed: int | None = DEFAULT_SEED,
    executor: Executor | str | dict | None = None,
    small_sample: str = "fixest",
    studentize: Literal["cr1", "cr2", "cv3"] = "cr1",
) -> WildBootstrapResult:
    r"""Wild cluster bootstrap p-value and confidence interval for :math:`R\beta = r`.

    Parameters
    ----------
    design : LinearDesign
        Fitted least-squares design; needs ``y`` (or ``resid`` and ``beta``, from which ``y`` is
        rebuilt as ``X beta + resid``) and cluster labels.
    param : str or int, optional
        Coefficient to test (name or position). Give this or ``R``.
    R : array of length k, optional
        One linear combination of the coefficients (e.g. an average of event-study effects).
        ``R`` and ``r`` keep the names of the hypothesis :math:`R\beta = r`.
    r : float
        Hypothesised value of :math:`R\beta`.
    cluster : array, optional
        Cluster labels for the variance (default ``design.clusters``).
    bootcluster : array or "observation", optional
        Labels of the clusters whose errors share a weight, nested in ``cluster`` (the
        "subcluster" wild bootstrap of MacKinnon and Webb 2018); ``"observation"`` gives every
        observation its own weight (the ordinary wild bootstrap, still studentised by the
        cluster-robust variance). Default: ``cluster``.
    impose_null : bool
        ``True`` (WCR, restricted; recommended) or ``False`` (WCU, unrestricted).
    bootstrap_weights : {"rademacher", "webb", "mammen"}
        Distribution of the cluster weights.
    n_draws : int
        Number of random draws (ignored under full enumeration).
    full_enumeration : bool, optional
        Use all :math:`2^G` Rademacher sign vectors. Default: when weights are Rademacher and
        :math:`G \le` :data:`ENUMERATION_MAX_CLUSTERS` or :math:`2^G \le` ``n_draws``.
    pvalue_type : {"symmetric", "equal-tailed"}
        Symmetric: share of :math:`|t^*| \ge |t|`. Equal-tailed: twice the smaller tail share.
        Ties (within relative :math:`10^{-9}`) count as at least as extreme, which makes the
        full-enumeration WCR p-value exactly that of the sign-change randomization test.
    statistic : {"t", "coef"}
        Bootstrap the t statistic (default) or the unstudentised coefficient (score-type test).
    level : float or None
        Coverage of the confidence interval by test inversion; ``None`` skips it.
    seed : int or None
        Seed; identical draws for any executor or worker count.
    executor : Executor, str, dict or None
        Where the draws run (see :func:`~evalkit.inference.executor.get_executor`).
    small_sample : {"fixest", "xtreg"}
        CR1 convention of the studentising standard error (see
        :func:`~evalkit.inference.covariance.cr1_parameter_count`); it does not change p-values
        or intervals, only the reported ``std_error``.
    studentize : {"cr1", "cr2"}
        Variance that studentises the observed and every bootstrap statistic: CR1 (default) or
        CR2 (Bell-McCaffrey bias-reduced, with the absorbed effects in the hat matrix; in the
        spirit of the studentised bootstraps of MacKinnon, Nielsen and Webb 2023, who use CV3),
        or CV3: the jackknife variance :math:`\tfrac{G-1}{G}\sum_g (R\hat\beta^{(g)} -
        R\hat\beta)^2` with every leave-one-cluster-out fit refitting the absorbed effects not
        nested in the clusters (WCR-S / WCU-S of MacKinnon, Nielsen and Webb 2023; see
        :mod:`evalkit.inference._wild_cv3`). ``std_error`` is then the CV3 standard error.

    Returns
    -------
    WildBootstrapResult

    References
    ----------
    Cameron, Gelbach and Miller (2008), *REStat* 90(3); MacKinnon and Webb (2017), *JAE* 32(2);
    Roodman, Nielsen, MacKinnon and Webb (2019), *Stata Journal* 19(1); Webb (2023), *CJE* 56(3).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, wild_cluster_bootstrap
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(8), 10)
    >>> X = np.column_stack([np.ones(80), rng.normal(size=80)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=8)[g] + rng.normal(size=80)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], y=y, clusters=g)
    >>> w = wild_cluster_bootstrap(d, param="x", bootstrap_weights="webb", n_draws=999, seed=1)
    >>> print(f"{w.estimate:.2f}, p = {w.pvalue:.3f}")
    0.40, p = 0.002
    """
    weights = check_option("bootstrap_weights", bootstrap_weights, WEIGHT_KINDS)
    clusters = cluster
    studentize = check_option("studentize", studentize, ("cr1", "cr2", "cv3"))
    pvalue_type = check_option("pvalue_type", pvalue_type, ("symmetric", "equal-tailed"))
    statistic = check_option("statistic", statistic, ("t", "coef"))
    X = np.asarray(design.X, dtype=float)
    n, k = X.shape
    y = design.y if design.y is not None else X @ design.beta + design.resid
    y = np.asarray(y, dtype=float)
    Rv = _restriction(design, param, R)
    cl, ccodes, G, bcodes, Hn, agg = _cluster_layout(design, clusters, bootcluster, n)

    if studentize == "cv3":
        est, se, kappa, fe_note, chunk_args = _cv3_parts(design, X, y, Rv, cl, ccodes, G, bcodes, Hn,
                                                         impose_null)
        chunk_fn = _cv3_chunk
    else:
        est, se, kappa, fe_note, chunk_args, agg = _cr_arrays(
            design, X, y, Rv, cl, ccodes, G, bcodes, Hn, agg, studentize, impose_null, small_sample)
        chunk_fn = _wild_chunk
    delta_obs = est - r
    full_enumeration, B = draw_plan(weights, Hn, n_draws, full_enumeration, max_enumerated=24)
    parts = get_executor(executor).map(chunk_fn, B, seed=seed, desc="wild bootstrap",
                                       args=(weights, bool(full_enumeration), *chunk_args))
    poly = np.hstack(parts)
    # Restricted scores S(r) = S0 + delta * S1 with delta = R beta_hat - r (WCR); S1 = 0 for WCU.
    t_boot = _boot_stats(poly, delta_obs, kappa, impose_null, statistic)
    t_obs = delta_obs / se if statistic == "t" else delta_obs
    pval = bootstrap_pvalue(t_obs, t_boot, pvalue_type)
    if level is not None:
        if not 0 < level < 1:
            raise InferenceError(f"level must be between 0 and 1, got {level!r}.")
        ci = _invert(poly, est, se, kappa, impose_null, pvalue_type, statistic, 1 - level)
    else:
        ci = (float("nan"), float("nan"))
    desc = _description(impose_null, weights, B, full_enumeration, statistic, studentize,
                        pvalue_type, G, Hn, agg, fe_note)
    return WildBootstrapResult(
        estimate=est, std_error=se, statistic=float(delta_obs / se) if se > 0 else float("nan"),
        pvalue=pval, interval=ci, level=float(level) if level is not None else float("nan"),
        r=float(r), n_draws=B, full_enumeration=bool(full_enumeration), weights=weights,
        impose_null=bool(impose_null), pvalue_type=pvalue_type, statistic_type=statistic,
        n_clusters=G, n_boot_clusters=Hn, t_boot=t_boot, description=desc, _poly=poly,
        _kappa=kappa,
        term=_term_name(design, param),
    )


@register(
    "wild",
    allowed_kwargs={
        "param", "R", "r", "cluster", "bootcluster", "impose_null", "bootstrap_weights", "n_draws",
        "full_enumeration", "pvalue_type", "statistic", "level", "seed", "executor", "small_sample",
        "studentize",
    },
    doc="Wild cluster bootstrap p-value and interval (WCR by default) for one coefficient or R b = r.",
)
def wild(design: LinearDesign, param=None, R=None, level: float = 0.95, **options) -> CovarianceResult:
    """Wild cluster bootstrap, as a registry entry.

    The covariance is CR1 (the studentising variance of the bootstrap t); ``pvalue`` and
    ``conf_int`` come from the bootstrap (see
    :func:`evalkit.inference.wild.wild_cluster_bootstrap` for the options). ``param`` defaults to
    ``design.extra["target_param"]`` if set, else the first coefficient; ``param="all"`` bootstraps
    every coefficient (arrays of p-values and intervals).
    """
    if (design.extra or {}).get("iv") is not None and R is None:  # 2SLS: Davidson-MacKinnon WRE
        return wild_iv_covariance(design, param=param, level=level, **options)
    if options.get("cluster") is None and design.clusters is None:
        raise InferenceError("cov_type='wild' needs cluster labels (pass cluster=...).")
    base = clustered(  # warns on one treated cluster
        design, cluster=options.get("cluster"), small_sample=options.get("small_sample", "fixest")
    )
    if R is not None:
        res = wild_cluster_bootstrap(design, R=R, level=level, **options)
        return CovarianceResult(
            base.cov, base.dof, res.description, pvalue=res.pvalue,
            conf_int=np.asarray(res.interval), conf_level=level, term="contrast", details=res,
            cov_description=base.description,
        )
    if param is None:
        param = (design.extra or {}).get("target_param", design.names[0])
    if param == "all":
        runs = [wild_cluster_bootstrap(design, param=j, level=level, **options) for j in range(design.k)]
        return CovarianceResult(
            base.cov, base.dof, runs[0].description,
            pvalue=np.array([r.pvalue for r in runs]),
            conf_int=np.array([r.interval for r in runs]), conf_level=level, details=runs,
            cov_description=base.description,
        )
    res = wild_cluster_bootstrap(design, param=param, level=level, **options)
    name = param if isinstance(param, str) else design.names[int(param)]
    return CovarianceResult(
        base.cov, base.dof, res.description, pvalue=res.pvalue,
        conf_int=np.asarray(res.interval), conf_level=level, term=name, details=res,
        cov_description=base.description,
    )
