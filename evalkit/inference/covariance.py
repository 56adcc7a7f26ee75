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

from .._shared.exceptions import EvalkitWarning, FewClustersWarning, InferenceError
from .._shared.kernels import cluster_score_sums, segment_sums
from .._shared.retired import renamed_options
from .._shared.validation import check_option
from .design import FEProjection, LinearDesign, fe_code_sets, fe_projection, nested_in
from .precision import guard_covariance


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
    cov_description : str, optional
        The method behind ``cov`` in words, when ``pvalue``/``conf_int`` come from another one
        (the wild bootstrap's ``cov`` is CR1): results built from ``cov`` alone (event-study
        vectors, aggregated effects) must say this, not ``description``.

    Notes
    -----
    A result carrying a scalar ``pvalue``/``conf_int`` maps onto
    ``ScalarEffect(pvalue_override=res.pvalue, conf_int_override=tuple(res.conf_int),
    conf_level_override=res.conf_level)`` for the coefficient ``res.term``.

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, compute
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=40)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], clusters=np.arange(40) % 8)
    >>> cr = compute(d, "clustered")
    >>> cr.cov.shape, cr.dof
    ((2, 2), 7)
    """

    cov: np.ndarray
    dof: float | np.ndarray | None
    description: str
    pvalue: float | np.ndarray | None = None
    conf_int: np.ndarray | None = None
    conf_level: float | None = None
    term: str | None = None
    details: Any = None
    cov_description: str | None = None

    @property
    def description_of_cov(self) -> str:
        """Words for inference drawn from ``cov``/``dof`` alone (see ``cov_description``)."""
        return self.cov_description or self.description

    def pvalue_for(self, index: int) -> float | None:
        """The override p-value of coefficient ``index`` (``None`` when there is none)."""
        if self.pvalue is None:
            return None
        arr = np.atleast_1d(np.asarray(self.pvalue, dtype=float))
        return float(arr[0] if arr.size == 1 else arr[index])

    def interval_function(self, index: int) -> Callable[[float], tuple[float, float]] | None:
        """``level -> (low, high)`` for coefficient ``index`` from the method's own draws, when
        the method resamples and keeps what that needs (the wild bootstrap); ``None`` otherwise
        (analytic methods: the interval at any level follows from ``cov`` and ``dof``)."""
        d = self.details
        if isinstance(d, list):
            d = d[index] if 0 <= index < len(d) else None
        return getattr(d, "conf_int_at", None)

    @property
    def resampling(self) -> bool:
        """Whether ``pvalue``/``conf_int`` come from draws (bootstrap) rather than ``cov``."""
        d = self.details[0] if isinstance(self.details, list) and self.details else self.details
        return hasattr(d, "conf_int_at")

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

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import CovarianceResult, LinearDesign, available, compute, register
    >>> @register("homoskedastic_demo", doc="classical OLS variance (example)")
    ... def _classical(design):
    ...     n, k = design.X.shape
    ...     s2 = design.resid @ design.resid / (n - k)
    ...     return CovarianceResult(cov=s2 * np.linalg.inv(design.X.T @ design.X), dof=n - k,
    ...                             description="classical")
    ...
    >>> "homoskedastic_demo" in available()
    True
    >>> X = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> d = LinearDesign(X=X, resid=np.array([0.1, -0.2, 0.1, 0.0, 0.0]), beta=np.zeros(2), names=["c", "x"])
    >>> compute(d, "homoskedastic_demo").dof
    3
    >>> from evalkit.inference import covariance
    >>> del covariance._REGISTRY["homoskedastic_demo"]  # keep the registry as shipped
    """

    def deco(func):
        _REGISTRY[name] = _Entry(func, frozenset(allowed_kwargs), doc or (func.__doc__ or "").strip())
        return func

    return deco


def allowed_options(cov_type: str) -> frozenset[str]:
    """The keyword options the estimator registered as ``cov_type`` accepts.

    Examples
    --------
    >>> sorted(allowed_options("clustered"))
    ['cluster', 'small_sample']
    """
    if cov_type not in _REGISTRY:
        raise InferenceError(f"Unknown cov_type={cov_type!r}. Available: {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[cov_type].allowed_kwargs


def option_names() -> set[str]:
    """Every option name accepted by some registered covariance estimator."""
    return {name for entry in _REGISTRY.values() for name in entry.allowed_kwargs}


def available() -> dict[str, str]:
    """Registered ``cov_type`` names with their one-line descriptions.

    Examples
    --------
    >>> from evalkit.inference import available
    >>> sorted(available())[:4]
    ['auto', 'clustered', 'cr2', 'robust']
    """
    return {k: v.doc.splitlines()[0] if v.doc else "" for k, v in _REGISTRY.items()}


def compute(design: LinearDesign, cov_type: str = "clustered", **options) -> CovarianceResult:
    """Compute the covariance named ``cov_type`` on ``design``.

    Raises
    ------
    InferenceError
        For an unknown name or an option the method does not accept.

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, compute
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=40)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], clusters=np.arange(40) % 8)
    >>> cr = compute(d, "robust")
    >>> print(np.round(np.sqrt(np.diag(cr.cov)), 3))
    [0.18  0.232]
    """
    if cov_type not in _REGISTRY:
        raise InferenceError(
            f"Unknown cov_type={cov_type!r}. Available: {', '.join(sorted(_REGISTRY))}."
        )
    entry = _REGISTRY[cov_type]
    options = renamed_options(cov_type, options, entry.allowed_kwargs)
    bad = set(options) - entry.allowed_kwargs
    if bad:
        allowed = ", ".join(sorted(entry.allowed_kwargs)) or "none"
        raise InferenceError(
            f"cov_type={cov_type!r} does not accept option(s) {sorted(bad)}; allowed: {allowed}."
        )
    # NaN + warning when the variance is not estimable
    return guard_covariance(design, cov_type, options, entry.func(design, **options))


def _sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    v = bread @ meat @ bread
    return (v + v.T) / 2


def cluster_scores(design: LinearDesign, cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum the score contributions ``x_i e_i`` within clusters; returns (G x k scores, G)."""
    codes, uniq = _codes(cluster)
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


#: Names of the CR1 small-sample conventions (``small_sample=`` of ``cov_type="clustered"``).
SMALL_SAMPLE_CONVENTIONS = ("fixest", "xtreg")


@register(
    "clustered",
    allowed_kwargs={"cluster", "small_sample"},
    doc="Cluster-robust (CR1) variance with fixest's small-sample factor (or xtreg's); t(G-1) reference.",
)
def clustered(
    design: LinearDesign, cluster: np.ndarray | None = None, small_sample: str = "fixest"
) -> CovarianceResult:
    """Cluster-robust CR1 variance.

    Small-sample factor ``G/(G-1) * (n-1)/(n-k)`` and a ``t(G-1)`` reference; ``k`` follows the
    convention ``small_sample`` (see :func:`cr1_parameter_count`):

    * ``"fixest"`` (default): absorbed fixed effects count in ``k`` unless they are nested in the
      clusters (R fixest / pyfixest ``ssc(fixef.K="nested")``), so numbers match R output.
    * ``"xtreg"``: absorbed effects do not count when the unit effects are nested in the clusters
      (Stata ``xtreg, fe vce(cluster)`` with the time effects absorbed; linearmodels
      ``PanelOLS(...).fit(cov_type="clustered", count_effects=False)``). Smaller standard errors
      when time effects are absorbed: by ``sqrt((n-k-T)/(n-k))`` with ``T`` periods.

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, covariance
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=40)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], clusters=np.arange(40) % 8)
    >>> covariance.compute(d, "clustered").dof  # t(G - 1)
    7
    """
    cl = design.clusters if cluster is None else np.asarray(cluster)
    if cl is None:
        raise InferenceError("cov_type='clustered' needs cluster labels (pass cluster=...).")
    if cl.ndim == 2 and cl.shape[1] == 2:
        return _two_way(design, cl)
    summed, G = cluster_scores(design, cl)
    if G < 2:
        raise InferenceError(
            f"Cluster-robust inference needs at least 2 clusters; found {G}. "
            "Use cov_type='robust' or a randomization-based method."
        )
    warn_treated(design, cl, "clustered")
    factor = cr1_factor(design, cl, small_sample)
    v = _sandwich(design.bread(), summed.T @ summed) * factor
    return CovarianceResult(
        v, G - 1,
        f"cluster-robust (CR1) standard errors, {G} clusters, t({G - 1}), {small_sample} small-sample factor",
    )


def cr1_factor(design: LinearDesign, cluster: np.ndarray, small_sample: str = "fixest") -> float:
    """The CR1 factor ``G/(G-1) * (n-1)/(n-k)`` with ``k`` from :func:`cr1_parameter_count`."""
    G = int(np.unique(np.asarray(cluster)).size)
    n = design.nobs
    k = cr1_parameter_count(design, small_sample, cluster)
    if n - k <= 0:
        raise InferenceError(
            f"No residual degrees of freedom left for CR1: {n} observations, {k} parameters "
            f"counted (small_sample={small_sample!r})."
        )
    return G / (G - 1) * (n - 1) / (n - k)


def cr1_parameter_count(
    design: LinearDesign, small_sample: str = "fixest", cluster: np.ndarray | None = None
) -> int:
    """The ``k`` of the CR1 factor ``(n-1)/(n-k)`` under a named convention.

    Parameters
    ----------
    design : LinearDesign
        The fitted design (``k`` regressors, ``df_absorbed`` absorbed effects).
    small_sample : {"fixest", "xtreg"}
        * ``"fixest"`` (default): every absorbed effect counts except those of a set nested in the
          clusters, of which one is kept per nested set (fixest/pyfixest
          ``ssc(fixef.K="nested")``, the R default): unit + year effects clustered by unit give
          ``k + T``. Needs the design to describe its absorbed effects
          (``design.extra["absorber"]`` or ``["fe_codes"]``, as every evalkit TWFE-family design
          does) when some are nested; otherwise warns and counts like ``"xtreg"``.
        * ``"xtreg"``: no absorbed effect counts when the design's unit effects are nested in the
          clusters (Stata ``xtreg, fe`` with absorbed time effects; linearmodels
          ``count_effects=False``); all count otherwise.

        Without absorbed effects both give ``k``.
    cluster : array, optional
        Cluster labels (default ``design.clusters``).

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign
    >>> unit, year = np.repeat(np.arange(4), 5), np.tile(np.arange(5), 4)
    >>> d = LinearDesign(X=np.ones((20, 1)), resid=np.zeros(20), beta=np.zeros(1), names=["x"],
    ...                  clusters=unit, df_absorbed=8, fe_nested_in_cluster=True,
    ...                  extra={"fe_codes": np.column_stack([unit, year])})
    >>> cr1_parameter_count(d, "fixest"), cr1_parameter_count(d, "xtreg")
    (6, 1)
    """
    check_option("small_sample", small_sample, SMALL_SAMPLE_CONVENTIONS)
    k, absorbed = design.k, design.df_absorbed
    if absorbed <= 0:
        return k
    cl = design.clusters if cluster is None else cluster
    sets = fe_code_sets(design)
    if sets is not None and cl is not None and np.ndim(cl) == 1:
        levels = [int(np.unique(c).size) for c in sets[0] if nested_in(c, cl)]
        if not levels:
            return k + absorbed
        if small_sample == "xtreg":
            return k
        return k + absorbed - sum(m - 1 for m in levels)
    if not design.fe_nested_in_cluster:
        return k + absorbed
    if small_sample == "fixest":
        warnings.warn(
            f"small_sample='fixest' needs to know which of the {absorbed} absorbed effects are "
            "nested in the clusters, and this design does not describe them (design.extra"
            "['absorber'] or ['fe_codes']): counting none of them (small_sample='xtreg'). "
            "Fit with the evalkit.did estimators, or pass small_sample='xtreg' to silence this.",
            EvalkitWarning,
            stacklevel=4,
        )
    return k


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


def leverage(design: LinearDesign) -> np.ndarray:
    """Diagonal of the full hat matrix (regressors plus absorbed fixed effects when known)."""
    X, B = design.X, design.bread()
    h = np.einsum("ij,jk,ik->i", X, B, X)
    proj = fe_projection(design, "leverage")
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
        raise InferenceError(f"cov_type={method!r} needs cluster labels (pass cluster=...).")
    cl = np.asarray(cl)
    if cl.ndim != 1:
        raise InferenceError(f"cov_type={method!r} takes one-way clusters (a 1-d array of labels).")
    if cl.shape[0] != design.nobs:
        raise InferenceError(f"cluster has {cl.shape[0]} labels for {design.nobs} observations.")
    codes, uniq = _codes(cl)
    G = len(uniq)
    if G < 2:
        raise InferenceError(
            f"Cluster-robust inference needs at least 2 clusters; found {G}. "
            "Use cov_type='robust', or randomization inference / placebo tests."
        )
    warn_treated(design, cl, method)
    return codes, G


def warn_treated(design: LinearDesign, cl: np.ndarray, method: str) -> None:
    """Warn (:class:`FewClustersWarning`) when only one of the clusters ``cl`` is treated."""
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


def cr2_rows(
    design: LinearDesign, codes: np.ndarray, n_groups: int, proj: FEProjection | None
) -> np.ndarray:
    """Rows of :math:`A_g X_g (X'X)^{-1}` for every cluster g (n x k), the CR2 score weights.

    :math:`A_g = (I - H_{gg})^{+1/2}` with :math:`H` the full hat matrix (regressors plus the
    absorbed effects described by ``proj``). The CR2 cluster score of coefficient ``j`` is
    ``sum_{i in g} Q[i, j] e_i``.
    """
    X, B = design.X, design.bread()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    Q = np.empty(X.shape)
    for g in range(n_groups):
        idx = order[bounds[g] : bounds[g + 1]]
        Xg = X[idx]
        hgg = Xg @ B @ Xg.T
        if proj is not None:
            hgg = hgg + proj.block(idx)
        Q[idx] = _inv_sqrt_psd(np.eye(len(idx)) - hgg) @ Xg @ B
    return Q


#: Working models for CR2's Satterthwaite degrees of freedom (see :func:`cr2`).
WORKING_MODELS = ("identity", "treatment_groups")

#: Above this many entries of the n x G matrix M A, the ``"treatment_groups"`` working model is
#: refused (it is meant for few clusters, where the dense matrix is small).
_MAX_WORKING_MODEL_CELLS = 50_000_000


def _annihilate_cluster_columns(
    design: LinearDesign, codes: np.ndarray, n_groups: int, q: np.ndarray, proj: FEProjection | None
) -> np.ndarray:
    """``M A`` (n x G): ``A`` holds ``q`` in column ``codes[i]`` of row ``i`` and ``M = I - H``
    annihilates the regressors and the absorbed effects described by ``proj``."""
    n = design.nobs
    if n * n_groups > _MAX_WORKING_MODEL_CELLS:
        raise InferenceError(
            f"working_model='treatment_groups' builds an n x G matrix ({n} x {n_groups}); that is "
            "too large. It is meant for few clusters; use working_model='identity'."
        )
    X, B = design.X, design.bread()
    A = np.zeros((n, n_groups))
    A[np.arange(n), codes] = q
    out = A - X @ (B @ segment_sums(X * q[:, None], codes, n_groups).T)
    if proj is not None:
        out -= proj.project_cluster_columns(codes, q, n_groups)
    return out


def treatment_group_variances(design: LinearDesign, labels: np.ndarray) -> np.ndarray | None:
    r"""Per-observation error variance of the ``"treatment_groups"`` working model, or ``None``.

    The working model gives the errors one variance in the treated clusters
    (``design.treated_clusters``) and another in the rest, each estimated without bias under that
    model: :math:`\hat\sigma^2_k = \sum_{i \in k} e_i^2 / \sum_{i \in k} (1 - h_{ii})` with
    :math:`h` the full leverage. ``None`` when the design does not say which clusters are treated,
    or when all or none are. ``labels`` are the observations' cluster labels.
    """
    tc = design.treated_clusters
    if tc is None:
        return None
    treated = np.isin(np.asarray(labels), np.asarray(tc))
    if treated.all() or not treated.any():
        return None
    e2, m = design.resid**2, 1.0 - leverage(design)
    out = np.empty(design.nobs)
    for part in (treated, ~treated):
        out[part] = e2[part].sum() / max(float(m[part].sum()), np.finfo(float).tiny)
    return out


@register(
    "cr2",
    allowed_kwargs={"cluster", "contrast", "level", "working_model"},
    doc="Bias-reduced cluster-robust variance (CR2, Bell-McCaffrey) with Satterthwaite dof.",
)
def cr2(
    design: LinearDesign,
    cluster: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
    level: float = 0.95,
    working_model: str = "identity",
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

    The degrees of freedom rest on a *working model* for the errors (the variance estimator does
    not; it is the same whatever the model). With ``working_model="treatment_groups"`` the errors
    have one variance in the treated clusters and another in the untreated ones, both estimated
    from the residuals (:func:`treatment_group_variances`), and
    :math:`\nu = (\operatorname{tr} W_\Phi)^2 / \operatorname{tr}(W_\Phi^2)` with
    :math:`W_\Phi = (M\tilde A)'\Phi(M\tilde A)` -- the Satterthwaite approximation of
    Pustejovsky and Tipton (2018) under that model. When the treated clusters are noisier than
    the others the variance estimate rests mostly on them and the identity model's dof are too
    large (its tests over-reject, 7.5-9.6 % at 5 % in evalkit's size study); this model follows
    the imbalance (3.7-4.9 %, ``benchmarks/README.md``), and with equal variances it is close to
    the identity model. It needs ``design.treated_clusters``; without them it falls back to the
    identity model and says so in the description.

    Parameters
    ----------
    design : LinearDesign
        The fitted design.
    cluster : array, optional
        Cluster labels (default ``design.clusters``).
    contrast : array of length k, optional
        A linear combination whose degrees of freedom, p-value and interval are also reported
        (``pvalue``/``conf_int`` of the result then refer to it; ``term="contrast"``).
    level : float
        Coverage of the reported intervals.
    working_model : {"identity", "treatment_groups"}
        Error model behind the degrees of freedom (default ``"identity"``: Bell-McCaffrey).

    Returns
    -------
    CovarianceResult
        ``dof`` per coefficient; ``pvalue`` and ``conf_int`` per coefficient (t with its own dof),
        or for ``contrast``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import covariance
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame([(u, t) for u in range(12) for t in range(2012, 2026)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 3) & (df.year >= 2019)).astype(int)
    >>> df["y"] = df.unit + rng.normal(0, np.where(df.unit < 3, 3.0, 1.0))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", cov_type="clustered")
    >>> bm = covariance.compute(r.design, "cr2")
    >>> tg = covariance.compute(r.design, "cr2", working_model="treatment_groups")
    >>> bool(tg.dof[0] < bm.dof[0])  # noisier treated clusters: fewer effective dof
    True
    """
    if working_model not in WORKING_MODELS:
        raise InferenceError(
            f"working_model={working_model!r} is not one of {', '.join(map(repr, WORKING_MODELS))}."
        )
    codes, G = _cluster_codes(design, cluster, "cr2")
    X, e, B = design.X, design.resid, design.bread()
    n, k = X.shape
    proj = fe_projection(design, "cr2")
    Q = cr2_rows(design, codes, G, proj)
    meat_scores = segment_sums(Q * e[:, None], codes, G)
    V = meat_scores.T @ meat_scores
    V = (V + V.T) / 2

    phi = None
    if working_model == "treatment_groups":
        phi = treatment_group_variances(design, design.clusters if cluster is None else cluster)

    def dof_of(q: np.ndarray) -> float:
        if phi is not None:
            MA = _annihilate_cluster_columns(design, codes, G, q, proj)
            W = MA.T @ (phi[:, None] * MA)
        else:
            xq = segment_sums(X * q[:, None], codes, G)
            W = -(xq @ B @ xq.T)
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
    if working_model == "identity":
        desc = f"bias-reduced cluster-robust (CR2) standard errors with Bell-McCaffrey degrees of freedom, {G} clusters"
    elif phi is not None:
        desc = (f"bias-reduced cluster-robust (CR2) standard errors with Satterthwaite degrees of "
                f"freedom under a working model with separate error variances for treated and "
                f"untreated clusters, {G} clusters")
    else:
        desc = (f"bias-reduced cluster-robust (CR2) standard errors with Bell-McCaffrey degrees of "
                f"freedom, {G} clusters (the treated/untreated working model needs to know which "
                f"clusters are treated; the design does not say, so the identity model was used)")
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
