"""The pieces of a fitted linear model that variance estimators need.

Estimators that end in a least-squares fit (TWFE, event studies, 2x2 DiD, IV second stages) keep a
:class:`LinearDesign` on their result, so inference can be recomputed by name without refitting
(``result.with_inference(cov_type=...)``).

A design with absorbed fixed effects describes them (``extra["absorber"]`` or ``extra["fe_codes"]``);
:class:`FEProjection` is the projection on those effects that CR2's leverage, the fixest CR1 count
and the wild bootstrap's re-projection need.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitWarning
from .._shared.kernels import OneWayAbsorber, segment_sums


@dataclass
class LinearDesign:
    """Regressors after absorbing fixed effects, with residuals and cluster ids.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Regressors after partialling out absorbed fixed effects (already multiplied by
        ``sqrt(weights)`` when weights are used).
    resid : ndarray, shape (n,)
        Residuals on the same (weighted) scale.
    beta : ndarray, shape (k,)
        Coefficient estimates.
    names : list of str
        Coefficient names.
    y : ndarray, shape (n,), optional
        Dependent variable after partialling out (weighted scale); needed by the wild bootstrap.
    clusters : ndarray, shape (n,) or (n, 2), optional
        Cluster labels (one column, or two for two-way clustering).
    df_absorbed : int
        Number of parameters absorbed by fixed effects (for small-sample corrections).
    fe_nested_in_cluster : bool
        Whether the absorbed effects are nested in the clusters (Stata/fixest then do not count
        them in the CR1 degrees-of-freedom correction).
    treated_clusters : ndarray, optional
        Labels of clusters that contain treated observations (for few-treated-cluster checks).
    extra : dict
        Anything else an inference method may need (e.g. raw data for randomization inference).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign, compute
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=40)
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> d = LinearDesign(X=X, resid=y - X @ b, beta=b, names=["const", "x"], y=y, clusters=np.arange(40) % 8)
    >>> print(np.round(d.beta, 2))
    [1.3  0.42]
    """

    X: np.ndarray
    resid: np.ndarray
    beta: np.ndarray
    names: list[str]
    y: np.ndarray | None = None
    clusters: np.ndarray | None = None
    df_absorbed: int = 0
    fe_nested_in_cluster: bool = False
    treated_clusters: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def nobs(self) -> int:
        """Number of observations."""
        return int(self.X.shape[0])

    @property
    def k(self) -> int:
        """Number of estimated (non-absorbed) coefficients."""
        return int(self.X.shape[1])

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom ``n - k - absorbed``."""
        return self.nobs - self.k - self.df_absorbed

    def bread(self) -> np.ndarray:
        """``(X'X)^{-1}``."""
        return np.linalg.pinv(self.X.T @ self.X)


# ---------------------------------------------------------------------------------------------
# Absorbed fixed effects: the projection on the dummies, without dense dummy matrices
# ---------------------------------------------------------------------------------------------
class FEProjection:
    r"""Projection :math:`P_D` on absorbed fixed-effect dummies (on the design's weighted scale).

    One set of effects :math:`U` (the *sparse* set: by default the one with most levels, or the
    one named by ``sparse``) is handled through its group structure; the others :math:`T` through
    their residuals after :math:`U` (Frisch--Waugh--Lovell): :math:`P_D = P_U + Z Z'` with
    :math:`Z` an orthonormal basis of :math:`\tilde T = M_U T`. The sum is :math:`P_D` whichever
    set is sparse; which one is matters to the wild bootstrap, which drops :math:`P_U` when
    :math:`U` is nested in the clusters and so needs :math:`U` to be that set (e.g. units, even
    when there are fewer units than years). Memory is :math:`O(n p_T)` where :math:`p_T` counts
    the levels of the other effects.

    Parameters
    ----------
    codes : list of ndarray
        Integer codes (one array of length n per set of effects).
    weights : ndarray, optional
        Observation weights (the design is on the ``sqrt(weights)`` scale).
    sparse : int, optional
        Position in ``codes`` of the set handled through its group structure (default: the set
        with most levels).

    Examples
    --------
    >>> import numpy as np
    >>> unit, year = np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3)
    >>> proj = FEProjection([unit, year], sparse=0)
    >>> proj.Z.shape  # year effects residualised on the 3 unit effects: rank 3
    (12, 3)
    >>> round(float(proj.diag().sum()), 10)  # trace of P_D = 3 + 4 - 1
    6.0
    """

    def __init__(
        self, codes: list[np.ndarray], weights: np.ndarray | None = None, sparse: int | None = None
    ) -> None:
        codes = [np.unique(np.asarray(c), return_inverse=True)[1].ravel() for c in codes]
        n = codes[0].shape[0]
        order = sorted(range(len(codes)), key=lambda j: -(codes[j].max() + 1))
        if sparse is not None:
            order = [int(sparse)] + [j for j in order if j != int(sparse)]
        self.u = codes[order[0]]
        self.n_u = int(self.u.max()) + 1
        self.s = np.ones(n) if weights is None else np.sqrt(np.asarray(weights, dtype=float))
        #: the sparse set as a one-way absorber (on the ``sqrt(weights)`` scale: ``absorb_scaled``)
        self.absorber = OneWayAbsorber(self.u, self.s**2)
        self.nu = self.absorber.group_w
        others = [codes[j] for j in order[1:]]
        if others:
            cols = []
            for c in others:
                m = int(c.max()) + 1
                block = np.zeros((n, m))
                block[np.arange(n), c] = self.s
                cols.append(block)
            T = self.absorber.absorb_scaled(np.hstack(cols))
            evals, evecs = np.linalg.eigh(T.T @ T)
            keep = evals > 1e-10 * max(float(evals.max(initial=0.0)), 1.0)
            # store T~ V_keep / sqrt(lambda): then P_T = Z Z'
            self.Z = T @ (evecs[:, keep] / np.sqrt(evals[keep]))
        else:
            self.Z = np.zeros((n, 0))
        self.n = n
        #: whether the sparse set is known to be nested in the clusters (see from_design)
        self.sparse_nested = False

    @classmethod
    def from_design(cls, design: LinearDesign, clusters: np.ndarray | None = None) -> FEProjection | None:
        """Build from ``design.extra``: ``"fe_codes"`` (n x m codes, optional ``"weights"``) or an
        ``"absorber"`` with ``unit_codes``, ``time_codes`` and ``weights``; ``None`` if neither.

        With ``clusters``, the sparse set is the one nested in them with most levels (so that
        :attr:`sparse_nested` is true and :attr:`Z` spans what the clusters do not absorb);
        without, the set with most levels.
        """
        sets = fe_code_sets(design)
        if sets is None:
            return None
        codes, weights = sets
        sparse = None
        nested = False
        if clusters is not None:
            inside = [j for j, c in enumerate(codes) if nested_in(c, clusters)]
            if inside:
                sparse = max(inside, key=lambda j: np.unique(codes[j]).size)
                nested = True
        proj = cls(codes, weights, sparse=sparse)
        proj.sparse_nested = nested
        return proj

    def sparse_basis(self) -> np.ndarray:
        """Orthonormal columns spanning the sparse set's dummies (``P_U`` = this times its
        transpose), n x (levels of the sparse set)."""
        out = np.zeros((self.n, self.n_u))
        out[np.arange(self.n), self.u] = self.s / np.sqrt(self.nu[self.u])
        return out

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

    def _cluster_column_parts(
        self, codes: np.ndarray, q: np.ndarray, n_groups: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """For the n x G matrix ``A`` holding ``q`` in column ``codes[i]`` of row i: the sums of
        ``s q`` by (sparse level, column) (``n_u x G``) and ``Z' A`` (``p_T x G``)."""
        ucl = pd.DataFrame({"u": self.u, "g": codes, "v": self.s * q}).groupby(["u", "g"])["v"].sum()
        ua = np.zeros((self.n_u, n_groups))
        ua[ucl.index.get_level_values(0), ucl.index.get_level_values(1)] = ucl.to_numpy()
        za = np.zeros((self.Z.shape[1], n_groups))
        if self.Z.shape[1]:
            za = segment_sums(self.Z * q[:, None], codes, n_groups).T
        return ua, za

    def quad(self, codes: np.ndarray, q: np.ndarray, n_groups: int) -> np.ndarray:
        """``A' P_D A`` for the n x G matrix ``A`` holding ``q`` in column ``codes[i]`` of row i."""
        ua, za = self._cluster_column_parts(codes, q, n_groups)
        return ua.T @ (ua / self.nu[:, None]) + za.T @ za

    def project_cluster_columns(self, codes: np.ndarray, q: np.ndarray, n_groups: int) -> np.ndarray:
        """``P_D A`` (n x G) for the n x G matrix ``A`` holding ``q`` in column ``codes[i]`` of
        row i.

        Examples
        --------
        >>> import numpy as np
        >>> unit, year = np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3)
        >>> proj = FEProjection([unit, year], sparse=0)
        >>> q = np.arange(12.0)
        >>> A = np.zeros((12, 3))
        >>> A[np.arange(12), unit] = q
        >>> D = np.column_stack([np.eye(3)[unit], np.eye(4)[year]])
        >>> bool(np.allclose(proj.project_cluster_columns(unit, q, 3), D @ np.linalg.pinv(D) @ A))
        True
        """
        ua, za = self._cluster_column_parts(codes, q, n_groups)
        return self.s[:, None] * (ua / self.nu[:, None])[self.u] + self.Z @ za


def fe_code_sets(design: LinearDesign) -> tuple[list[np.ndarray], np.ndarray | None] | None:
    """The absorbed effects a design describes: (list of code arrays, weights), or ``None``."""
    extra = design.extra or {}
    if extra.get("fe_codes") is not None:
        fe = np.asarray(extra["fe_codes"])
        fe = fe.reshape(fe.shape[0], -1)
        return [fe[:, j] for j in range(fe.shape[1])], extra.get("weights")
    ab = extra.get("absorber")
    if ab is not None and hasattr(ab, "unit_codes") and hasattr(ab, "time_codes"):
        return [np.asarray(ab.unit_codes), np.asarray(ab.time_codes)], getattr(ab, "weights", None)
    return None


def nested_in(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether every level of ``inner`` lies inside one level of ``outer`` (e.g. units in states).

    Examples
    --------
    >>> import numpy as np
    >>> nested_in(np.array([0, 0, 1, 1]), np.array(["a", "a", "a", "a"]))
    True
    >>> nested_in(np.array([0, 1, 0, 1]), np.array(["a", "a", "b", "b"]))
    False
    """
    _, ic = np.unique(np.asarray(inner), return_inverse=True)
    _, oc = np.unique(np.asarray(outer), return_inverse=True)
    ic, oc = ic.ravel(), oc.ravel()
    first = np.full(int(ic.max()) + 1 if ic.size else 0, -1, dtype=np.int64)
    first[ic] = oc
    return bool(np.array_equal(first[ic], oc))


def fe_projection(design: LinearDesign, what: str) -> FEProjection | None:
    """:meth:`FEProjection.from_design`, warning when the design absorbs effects it does not describe.

    ``what`` names the method in the warning (their leverage is then ignored).

    Examples
    --------
    >>> unit, year = np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3)
    >>> d = LinearDesign(X=np.ones((12, 1)), resid=np.zeros(12), beta=np.zeros(1), names=["x"],
    ...                  df_absorbed=6, extra={"fe_codes": np.column_stack([unit, year])})
    >>> fe_projection(d, "cr2").Z.shape  # unit effects after the 4 year effects: rank 2
    (12, 2)
    """
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
