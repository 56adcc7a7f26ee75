"""Variance estimators as a registry: name -> estimator with declared keyword options.

Each estimator takes a :class:`~evalkit.inference.design.LinearDesign` and returns a
:class:`CovarianceResult` (covariance matrix, degrees of freedom for t references, and a
description in words for summaries). New methods register with :func:`register`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitWarning, FewClustersWarning, InferenceError
from .._shared.kernels import cluster_score_sums
from .._shared.validation import check_option
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
    pvalue : float or ndarray, optional
        P-values not derived from ``cov``/``dof`` (wild bootstrap), or per-coefficient p-values
        when ``dof`` differs by coefficient (CR2). One per coefficient, or a scalar for ``term``.
    conf_int : ndarray, optional
        Matching confidence intervals, shape ``(2,)`` for ``term`` or ``(k, 2)``.
    conf_level : float, optional
        Coverage of ``conf_int``.
    term : str, optional
        The coefficient or contrast that a scalar ``pvalue``/``conf_int`` refers to.
    details : object, optional
        Method-specific output (e.g. the :class:`~evalkit.inference.wild.WildBootstrapResult`).

    Notes
    -----
    A result carrying a scalar ``pvalue``/``conf_int`` maps onto
    ``ScalarEffect(pvalue_override=res.pvalue, conf_int_override=tuple(res.conf_int),
    conf_level_override=res.conf_level)`` for the coefficient ``res.term``.
    """

    cov: np.ndarray
    dof: float | np.ndarray | None
    description: str
    pvalue: float | np.ndarray | None = None
    conf_int: np.ndarray | None = None
    conf_level: float | None = None
    term: str | None = None
    details: Any = None

    def pvalue_for(self, index: int) -> float | None:
        """The override p-value of coefficient ``index`` (``None`` when there is none)."""
        if self.pvalue is None:
            return None
        arr = np.atleast_1d(np.asarray(self.pvalue, dtype=float))
        return float(arr[0] if arr.size == 1 else arr[index])

    def conf_int_for(self, index: int) -> tuple[float, float] | None:
        """The override confidence interval of coefficient ``index`` (``None`` when none)."""
        if self.conf_int is None:
            return None
        arr = np.asarray(self.conf_int, dtype=float)
        row = arr if arr.ndim == 1 else arr[index]
        return float(row[0]), float(row[1])


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
    from .precision import guard_covariance  # NaN + warning when the variance is not estimable

    return guard_covariance(design, cov_type, options, entry.func(design, **options))


def _sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    v = bread @ meat @ bread
    return (v + v.T) / 2


def cluster_scores(design: LinearDesign, clusters: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum the score contributions ``x_i e_i`` within clusters; returns (G x k scores, G)."""
    codes, uniq = _codes(clusters)
    G = len(uniq)
    return cluster_score_sums(design, codes, G), G


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


@register(
    "robust",
    allowed_kwargs={"kind"},
    doc="Heteroskedasticity-robust variance: HC1 (default), HC0, HC2 or HC3.",
)
def robust(design: LinearDesign, kind: str = "HC1") -> CovarianceResult:
    """White heteroskedasticity-robust variance.

    Parameters
    ----------
    design : LinearDesign
        The fitted design.
    kind : {"HC1", "HC0", "HC2", "HC3"}
        HC0: no correction; HC1: ``n/(n-k)`` with absorbed effects counted in ``k``; HC2/HC3:
        residuals divided by ``sqrt(1-h_ii)`` / ``(1-h_ii)``, where the leverage ``h_ii`` includes
        the absorbed fixed effects when the design carries them (see :func:`absorbed_basis`).
    """
    kind = check_option("kind", str(kind).upper(), ("HC0", "HC1", "HC2", "HC3"))
    n, dfr = design.nobs, design.df_resid
    e = design.resid
    factor = 1.0
    if kind == "HC1":
        if dfr <= 0:
            raise InferenceError("No residual degrees of freedom left for HC1.")
        factor = n / dfr
    elif kind in ("HC2", "HC3"):
        h = leverage(design)
        if np.any(h > 1 - 1e-10):
            raise InferenceError(
                f"{kind} is undefined: {int(np.sum(h > 1 - 1e-10))} observation(s) have leverage 1 "
                "(e.g. singleton units); use kind='HC1' or drop those observations."
            )
        e = e / (np.sqrt(1 - h) if kind == "HC2" else (1 - h))
    scores = design.X * e[:, None]
    v = _sandwich(design.bread(), scores.T @ scores) * factor
    return CovarianceResult(v, None, f"heteroskedasticity-robust ({kind}) standard errors")


@register(
    "clustered",
    allowed_kwargs={"clusters", "small_sample"},
    doc="Cluster-robust (CR1) variance with the Stata/fixest small-sample factor; t(G-1) reference.",
)
def clustered(
    design: LinearDesign, clusters: np.ndarray | None = None, small_sample: str = "linearmodels"
) -> CovarianceResult:
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
    _warn_treated(design, cl, "clustered")
    n = design.nobs
    k = cr1_parameter_count(design, small_sample)
    factor = G / (G - 1) * (n - 1) / (n - k)
    v = _sandwich(design.bread(), summed.T @ summed) * factor
    return CovarianceResult(v, G - 1, f"cluster-robust (CR1) standard errors, {G} clusters, t({G - 1})")


def cr1_parameter_count(design: LinearDesign, small_sample: str) -> int:
    """The ``k`` of the CR1 factor ``(n-1)/(n-k)`` under a named convention.

    * ``"linearmodels"`` (default): when the unit effects are nested in the clusters, no absorbed
      effect is counted (linearmodels ``count_effects=False``; Stata ``xtreg, fe``).
    * ``"fixest"``: absorbed effects nested in the clusters are not counted, the others are, plus
      one (fixest/pyfixest ``ssc(fixef.K="nested")``, the R default), so numbers match R output.
    """
    check_option("small_sample", small_sample, ("linearmodels", "fixest"))
    if not design.fe_nested_in_cluster:
        return design.k + design.df_absorbed
    if small_sample == "linearmodels":
        return design.k
    absorber = design.extra.get("absorber")
    nested = getattr(absorber, "n_units", None)
    if nested is None:
        raise InferenceError(
            "small_sample='fixest' needs to know which absorbed effects are nested in the clusters; "
            "this design does not say (fit it with evalkit.did estimators)."
        )
    return design.k + design.df_absorbed - int(nested) + 1


def _two_way(design: LinearDesign, cl: np.ndarray) -> CovarianceResult:
    """Cameron-Gelbach-Miller two-way clustering (each one-way CR1 factor; intersection subtracted)."""
    parts = []
    for labels in (cl[:, 0], cl[:, 1], [f"{a}|{b}" for a, b in cl]):
        summed, G = cluster_scores(design, np.asarray(labels))
        if G < 2:
            raise InferenceError(f"Two-way clustering needs at least 2 clusters in each dimension; found {G}.")
        factor = G / (G - 1) * (design.nobs - 1) / (design.nobs - design.k)
        parts.append((summed.T @ summed * factor, G))
    meat = parts[0][0] + parts[1][0] - parts[2][0]
    v = _sandwich(design.bread(), meat)
    w, vec = np.linalg.eigh(v)
    if (w < 0).any():
        v = (vec * np.clip(w, 0, None)) @ vec.T
    g_min = min(parts[0][1], parts[1][1])
    return CovarianceResult(v, g_min - 1, f"two-way cluster-robust standard errors, t({g_min - 1})")


# ---------------------------------------------------------------------------------------------
# Absorbed fixed effects: the projection on the dummies, without dense dummy matrices
# ---------------------------------------------------------------------------------------------
class FEProjection:
    r"""Projection :math:`P_D` on absorbed fixed-effect dummies (on the design's weighted scale).

    The first set of effects (the one with most levels, e.g. units) is handled through its sparse
    group structure; the others (e.g. years) through their residuals after the first set
    (Frisch--Waugh--Lovell): :math:`P_D = P_U + \tilde T(\tilde T'\tilde T)^+\tilde T'` with
    :math:`\tilde T = M_U T`. Memory is :math:`O(n p_T)` where :math:`p_T` counts the levels of the
    smaller effects.

    Parameters
    ----------
    codes : list of ndarray
        Integer codes (one array of length n per set of effects).
    weights : ndarray, optional
        Observation weights (the design is on the ``sqrt(weights)`` scale).
    """

    def __init__(self, codes: list[np.ndarray], weights: np.ndarray | None = None) -> None:
        codes = [np.unique(np.asarray(c), return_inverse=True)[1].ravel() for c in codes]
        n = codes[0].shape[0]
        order = sorted(range(len(codes)), key=lambda j: -(codes[j].max() + 1))
        self.u = codes[order[0]]
        self.n_u = int(self.u.max()) + 1
        self.s = np.ones(n) if weights is None else np.sqrt(np.asarray(weights, dtype=float))
        self.nu = np.bincount(self.u, weights=self.s**2, minlength=self.n_u)
        others = [codes[j] for j in order[1:]]
        if others:
            cols = []
            for c in others:
                m = int(c.max()) + 1
                block = np.zeros((n, m))
                block[np.arange(n), c] = self.s
                cols.append(block)
            T = np.hstack(cols)
            T = T - self.s[:, None] * (self._usum(self.s[:, None] * T) / self.nu[:, None])[self.u]
            evals, evecs = np.linalg.eigh(T.T @ T)
            keep = evals > 1e-10 * max(float(evals.max(initial=0.0)), 1.0)
            # store T~ V_keep / sqrt(lambda): then P_T = Z Z'
            self.Z = T @ (evecs[:, keep] / np.sqrt(evals[keep]))
        else:
            self.Z = np.zeros((n, 0))
        self.n = n

    def _usum(self, m: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_u,) + m.shape[1:])
        np.add.at(out, self.u, m)
        return out

    @classmethod
    def from_design(cls, design: LinearDesign) -> FEProjection | None:
        """Build from ``design.extra``: ``"fe_codes"`` (n x m codes, optional ``"weights"``) or an
        ``"absorber"`` with ``unit_codes``, ``time_codes`` and ``weights``; ``None`` if neither."""
        extra = design.extra or {}
        if extra.get("fe_codes") is not None:
            fe = np.asarray(extra["fe_codes"])
            fe = fe.reshape(fe.shape[0], -1)
            return cls([fe[:, j] for j in range(fe.shape[1])], extra.get("weights"))
        ab = extra.get("absorber")
        if ab is not None and hasattr(ab, "unit_codes") and hasattr(ab, "time_codes"):
            return cls([ab.unit_codes, ab.time_codes], getattr(ab, "weights", None))
        return None

    def block(self, idx: np.ndarray) -> np.ndarray:
        """The block ``P_D[idx, idx]``."""
        u, s = self.u[idx], self.s[idx]
        same = u[:, None] == u[None, :]
        pu = np.where(same, np.outer(s, s) / self.nu[u][:, None], 0.0)
        z = self.Z[idx]
        return pu + z @ z.T

    def diag(self) -> np.ndarray:
        """Diagonal of ``P_D`` (the leverage of the absorbed effects)."""
        return self.s**2 / self.nu[self.u] + np.einsum("ij,ij->i", self.Z, self.Z)

    def quad(self, codes: np.ndarray, q: np.ndarray, n_groups: int) -> np.ndarray:
        """``A' P_D A`` for the n x G matrix ``A`` holding ``q`` in column ``codes[i]`` of row i."""
        ucl = pd.DataFrame({"u": self.u, "g": codes, "v": self.s * q}).groupby(["u", "g"])["v"].sum()
        ua = np.zeros((self.n_u, n_groups))
        ua[ucl.index.get_level_values(0), ucl.index.get_level_values(1)] = ucl.to_numpy()
        out = ua.T @ (ua / self.nu[:, None])
        za = np.zeros((self.Z.shape[1], n_groups))
        if self.Z.shape[1]:
            za = _group_sum(codes, n_groups, self.Z * q[:, None]).T
        return out + za.T @ za


def _group_sum(codes: np.ndarray, n_groups: int, m: np.ndarray) -> np.ndarray:
    out = np.zeros((n_groups,) + m.shape[1:])
    np.add.at(out, codes, m)
    return out


def _fe_projection(design: LinearDesign, what: str) -> FEProjection | None:
    proj = FEProjection.from_design(design)
    if proj is None and design.df_absorbed > 0:
        warnings.warn(
            f"{what}: the design absorbs {design.df_absorbed} fixed effects but carries no "
            "description of them (design.extra['fe_codes'] or ['absorber']); their leverage is "
            "ignored. This is exact for effects nested in the clusters, approximate otherwise.",
            EvalkitWarning,
            stacklevel=3,
        )
    return proj


def leverage(design: LinearDesign) -> np.ndarray:
    """Diagonal of the full hat matrix (regressors plus absorbed fixed effects when known)."""
    X, B = design.X, design.bread()
    h = np.einsum("ij,jk,ik->i", X, B, X)
    proj = _fe_projection(design, "leverage")
    if proj is not None:
        h = h + proj.diag()
    return h


def _inv_sqrt_psd(m: np.ndarray) -> np.ndarray:
    m = (m + m.T) / 2
    w, v = np.linalg.eigh(m)
    keep = w > 1e-10 * max(float(w.max(initial=0.0)), 1.0)
    return (v[:, keep] / np.sqrt(w[keep])) @ v[:, keep].T


def _cluster_codes(design: LinearDesign, clusters, method: str) -> tuple[np.ndarray, int]:
    cl = design.clusters if clusters is None else np.asarray(clusters)
    if cl is None:
        raise InferenceError(f"cov_type={method!r} needs cluster labels (pass clusters=...).")
    cl = np.asarray(cl)
    if cl.ndim != 1:
        raise InferenceError(f"cov_type={method!r} takes one-way clusters (a 1-d array of labels).")
    if cl.shape[0] != design.nobs:
        raise InferenceError(f"clusters has {cl.shape[0]} labels for {design.nobs} observations.")
    codes, uniq = _codes(cl)
    G = len(uniq)
    if G < 2:
        raise InferenceError(
            f"Cluster-robust inference needs at least 2 clusters; found {G}. "
            "Use cov_type='robust', or randomization inference / placebo tests."
        )
    _warn_treated(design, cl, method)
    return codes, G


def _warn_treated(design: LinearDesign, cl: np.ndarray, method: str) -> None:
    tc = design.treated_clusters
    if tc is None:
        return
    n_treated = len(np.intersect1d(np.asarray(tc), np.unique(cl)))
    if n_treated == 1:
        warnings.warn(
            f"{method}: only one cluster is treated. Cluster-robust standard errors and the wild "
            "cluster bootstrap cannot be trusted for the treatment effect (they under- or "
            "over-reject badly). Still possible: randomization inference or a placebo-in-space test "
            "(evalkit.inference.randomization_inference / placebo_in_space), or Conley-Taber "
            "inference from the control clusters (evalkit.inference.conley_taber).",
            FewClustersWarning,
            stacklevel=4,
        )


@register(
    "cr2",
    allowed_kwargs={"clusters", "contrast", "level"},
    doc="Bias-reduced cluster-robust variance (CR2, Bell-McCaffrey) with Satterthwaite dof.",
)
def cr2(
    design: LinearDesign,
    clusters: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
    level: float = 0.95,
) -> CovarianceResult:
    r"""CR2 variance (Bell and McCaffrey 2002) with small-sample degrees of freedom.

    With the full hat matrix :math:`H` (regressors and absorbed fixed effects), the adjustment
    matrices are :math:`A_g = (I - H_{gg})^{+1/2}` (symmetric Moore--Penrose inverse square root,
    as in Pustejovsky and Tipton 2018, which handles the singular blocks created by effects nested
    in clusters) and

    .. math:: V = (X'X)^{-1}\Big(\sum_g X_g'A_g e_g e_g'A_g X_g\Big)(X'X)^{-1}.

    Degrees of freedom for a contrast :math:`c` (each coefficient by default) follow Bell and
    McCaffrey / Imbens and Kolesar (2016, :math:`K_{BM}`) -- equal to the Satterthwaite
    degrees of freedom of Pustejovsky and Tipton with the identity working model: with
    :math:`\tilde a_g` the n-vector holding :math:`A_g X_g (X'X)^{-1}c` in cluster g's rows and
    :math:`W = \tilde A' M \tilde A` (:math:`M = I - H`), :math:`\nu = (\operatorname{tr} W)^2 /
    \operatorname{tr}(W^2)`.

    The absorbed effects enter :math:`H` exactly when the design describes them
    (``design.extra["absorber"]`` from the TWFE family, or ``design.extra["fe_codes"]``).

    Parameters
    ----------
    design : LinearDesign
        The fitted design.
    clusters : array, optional
        Cluster labels (default ``design.clusters``).
    contrast : array of length k, optional
        A linear combination whose degrees of freedom, p-value and interval are also reported
        (``pvalue``/``conf_int`` of the result then refer to it; ``term="contrast"``).
    level : float
        Coverage of the reported intervals.

    Returns
    -------
    CovarianceResult
        ``dof`` per coefficient; ``pvalue`` and ``conf_int`` per coefficient (t with its own dof),
        or for ``contrast``.
    """
    codes, G = _cluster_codes(design, clusters, "cr2")
    X, e, B = design.X, design.resid, design.bread()
    n, k = X.shape
    proj = _fe_projection(design, "cr2")
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(G + 1))
    Q = np.empty((n, k))  # rows of A_g X_g (X'X)^{-1}
    meat_scores = np.empty((G, k))
    for g in range(G):
        idx = order[bounds[g] : bounds[g + 1]]
        Xg = X[idx]
        hgg = Xg @ B @ Xg.T
        if proj is not None:
            hgg = hgg + proj.block(idx)
        Ag = _inv_sqrt_psd(np.eye(len(idx)) - hgg)
        Qg = Ag @ Xg @ B
        Q[idx] = Qg
        meat_scores[g] = Qg.T @ e[idx]
    V = meat_scores.T @ meat_scores
    V = (V + V.T) / 2

    def dof_of(q: np.ndarray) -> float:
        W = -(_group_sum(codes, G, X * q[:, None]) @ B @ _group_sum(codes, G, X * q[:, None]).T)
        W[np.diag_indices(G)] += np.bincount(codes, weights=q * q, minlength=G)
        if proj is not None:
            W -= proj.quad(codes, q, G)
        tr2 = float(np.sum(W * W))
        return float(np.trace(W) ** 2 / tr2) if tr2 > 0 else float("nan")

    dof = np.array([dof_of(Q[:, j]) for j in range(k)])
    from scipy import stats

    se = np.sqrt(np.clip(np.diag(V), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = design.beta / se
    pv = 2 * stats.t.sf(np.abs(tstat), dof)
    crit = stats.t.ppf(0.5 + level / 2, dof)
    ci = np.column_stack([design.beta - crit * se, design.beta + crit * se])
    desc = f"bias-reduced cluster-robust (CR2) standard errors with Bell-McCaffrey degrees of freedom, {G} clusters"
    if contrast is not None:
        c = np.asarray(contrast, dtype=float).ravel()
        if c.size != k:
            raise InferenceError(f"contrast must have length k={k}, got {c.size}.")
        dc = dof_of(Q @ c)
        est, sec = float(c @ design.beta), float(np.sqrt(max(c @ V @ c, 0.0)))
        crit_c = float(stats.t.ppf(0.5 + level / 2, dc))
        return CovarianceResult(
            V, dof, desc + f"; contrast dof {dc:.3g}",
            pvalue=float(2 * stats.t.sf(abs(est / sec), dc)) if sec > 0 else float("nan"),
            conf_int=np.array([est - crit_c * sec, est + crit_c * sec]),
            conf_level=level,
            term="contrast",
            details={"contrast_dof": dc, "contrast_estimate": est, "contrast_se": sec},
        )
    return CovarianceResult(V, dof, desc, pvalue=pv, conf_int=ci, conf_level=level)


@register(
    "wild",
    allowed_kwargs={
        "param", "R", "r", "clusters", "bootcluster", "impose_null", "weights", "n_draws",
        "full_enumeration", "pvalue_type", "statistic", "level", "seed", "executor",
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
    from .wild import wild_cluster_bootstrap

    if (design.extra or {}).get("iv") is not None and R is None:  # 2SLS: Davidson-MacKinnon WRE
        from .wild_iv import wild_iv_covariance

        return wild_iv_covariance(design, param=param, level=level, **options)
    if options.get("clusters") is None and design.clusters is None:
        raise InferenceError("cov_type='wild' needs cluster labels (pass clusters=...).")
    base = clustered(design, clusters=options.get("clusters"))  # warns on one treated cluster
    if R is not None:
        res = wild_cluster_bootstrap(design, R=R, level=level, **options)
        return CovarianceResult(
            base.cov, base.dof, res.description, pvalue=res.pvalue,
            conf_int=np.asarray(res.conf_int), conf_level=level, term="contrast", details=res,
        )
    if param is None:
        param = (design.extra or {}).get("target_param", design.names[0])
    if param == "all":
        runs = [wild_cluster_bootstrap(design, param=j, level=level, **options) for j in range(design.k)]
        return CovarianceResult(
            base.cov, base.dof, runs[0].description,
            pvalue=np.array([r.pvalue for r in runs]),
            conf_int=np.array([r.conf_int for r in runs]), conf_level=level, details=runs,
        )
    res = wild_cluster_bootstrap(design, param=param, level=level, **options)
    name = param if isinstance(param, str) else design.names[int(param)]
    return CovarianceResult(
        base.cov, base.dof, res.description, pvalue=res.pvalue,
        conf_int=np.asarray(res.conf_int), conf_level=level, term=name, details=res,
    )
