"""Least squares on mutually exclusive indicators with absorbed unit and time effects, without
forming the dense ``n x k`` regressor matrix.

The Sun-Abraham regressors are cohort x event-time indicators: each observation carries at most
one of them. After absorbing unit and time effects the regressors become dense, and at firm-level
scale (a million rows, ~300 cells) the dense matrix alone exceeds 2 GiB. With ``M`` the weighted
two-way annihilator and ``X`` the indicator matrix, the absorbed regressors are

.. math:: M X = X - U B - T \\Gamma,

with ``B`` (units x k) and ``Gamma`` (periods x k) from
:meth:`~evalkit._shared.kernels.TwoWayAbsorber.indicator_projection`. Everything the fit and the
cluster-robust variance need follows from these small matrices and sparse cell sums:
``X'WMX = diag(W_c) - (X'WU) B - (X'WT) Gamma``, the residuals
``y~ - beta[c_i] + (B beta)[u_i] + (Gamma beta)[t_i]``, and the cluster score sums. The dense
matrix is built only if a variance method other than these asks for ``design.X``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._shared.blas import limited_blas
from .._shared.kernels import TwoWayAbsorber
from ..inference.design import LinearDesign
from ._fe import RANK_TOL, cluster_layout

#: Largest number of cells of a (groups x periods) matrix that is multiplied densely.
DENSE_CELLS = 20_000_000


class IndicatorDesign(LinearDesign):
    """A :class:`~evalkit.inference.design.LinearDesign` of absorbed exclusive indicators.

    ``X`` is materialised on first access (and kept); ``bread`` and cluster score sums never need
    it. Build it with :func:`fit_indicators`.
    """

    def __init__(self, *, cell, absorber: TwoWayAbsorber, B, gamma, xtx, **fields) -> None:
        self._cell_codes = cell
        self._absorber = absorber
        self._B = B
        self._gamma = gamma
        self._xtx = xtx
        self._X = None
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def X(self) -> np.ndarray:  # noqa: N802 - the field name of LinearDesign
        """The absorbed regressors on the ``sqrt(weights)`` scale (built on first use)."""
        if self._X is None:
            ab = self._absorber
            k = self._B.shape[1]
            x = np.zeros((ab.n, k), order="F")
            has = np.flatnonzero(self._cell_codes >= 0)
            x[has, self._cell_codes[has]] = 1.0
            sw = np.sqrt(ab.w)
            for j in range(k):
                x[:, j] -= self._B[ab.unit_codes, j] + self._gamma[ab.time_codes, j]
                if ab.weights is not None:
                    x[:, j] *= sw
            self._X = x
        return self._X

    @property
    def nobs(self) -> int:
        """Number of observations."""
        return int(self._absorber.n)

    @property
    def k(self) -> int:
        """Number of estimated coefficients."""
        return int(self._B.shape[1])

    def bread(self) -> np.ndarray:
        """``(X'X)^{-1}`` from the structured normal matrix."""
        return np.linalg.pinv(self._xtx)

    def __repr__(self) -> str:
        return f"IndicatorDesign(nobs={self.nobs}, k={self.k})"

    def cluster_score_sums(self, codes: np.ndarray, n_groups: int) -> np.ndarray:
        """Per-cluster sums of ``x~_i e_i`` (``n_groups x k``) from sparse cell sums.

        ``sum_{i in g} x~_i e_i = X_g'r - (sum over units) r B - (sum over periods) r Gamma`` with
        ``r = sqrt(w) e``; each part is a sparse (cluster x cell / unit / period) sum times a small
        dense matrix.
        """
        ab = self._absorber
        r = self.resid * np.sqrt(ab.w) if ab.weights is not None else self.resid
        codes = np.asarray(codes, dtype=np.int64).ravel()
        has = self._cell_codes >= 0
        direct = sp.csr_matrix((r[has], (codes[has], self._cell_codes[has])),
                               shape=(n_groups, self.k)).toarray()
        by_time = _small_dense(sp.csr_matrix((r, (codes, ab.time_codes)), shape=(n_groups, ab.n_times)))
        direct -= by_time @ self._gamma
        if not _nests_units(codes, ab):  # nested: each unit's residuals sum to zero, no B term
            direct -= sp.csr_matrix((r, (codes, ab.unit_codes)), shape=(n_groups, ab.n_units)) @ self._B
        return direct


@limited_blas
def fit_indicators(
    y: np.ndarray,
    cell: np.ndarray,
    names: list[str],
    absorber: TwoWayAbsorber,
    clusters: np.ndarray | None,
    unit_labels: np.ndarray,
    treated_mask: np.ndarray | None = None,
) -> IndicatorDesign | None:
    """Weighted least squares of ``y`` on exclusive indicators with absorbed unit and time effects.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Outcome.
    cell : ndarray of int, shape (n,)
        Index of the indicator each observation carries (``-1`` = none).
    names : list of str
        Indicator names (``len(names)`` = number of indicators).
    absorber : TwoWayAbsorber
        Unit and time effects of the sample.
    clusters, unit_labels, treated_mask
        As in :func:`~evalkit.did._fe.fit_absorbed`.

    Returns
    -------
    IndicatorDesign or None
        ``None`` when the normal matrix looks rank deficient; the caller then fits the dense
        design, whose rank check names the offending terms.

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit._shared.kernels import TwoWayAbsorber
    >>> u, t = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    >>> cell = np.where((u < 2) & (t == 2), 0, -1)
    >>> y = 1.0 * u + 0.5 * t + 2.0 * (cell == 0) + 0.1 * np.sin(np.arange(12))
    >>> d = fit_indicators(y, cell, ["post"], TwoWayAbsorber(u, t), u, u)
    >>> round(float(d.beta[0]), 6)
    1.998547
    """
    k = len(names)
    cell = np.asarray(cell, dtype=np.int64)
    uw, tw, B, gamma = absorber.indicator_projection(cell, k)
    has = cell >= 0
    cell_w = np.bincount(cell[has], weights=absorber.w[has], minlength=k)
    xtx = np.diag(cell_w) - uw.T @ B - tw.T @ gamma
    xtx = (xtx + xtx.T) / 2
    d = np.sqrt(np.clip(np.diag(xtx), 0, None))
    if (d <= 1e-9 * np.sqrt(np.maximum(cell_w, 1e-300))).any() or np.linalg.eigvalsh(
        xtx / np.outer(np.maximum(d, 1e-300), np.maximum(d, 1e-300))
    ).min() < RANK_TOL:
        return None
    y_abs = absorber.absorb(np.asarray(y, dtype=float))
    xty = np.bincount(cell[has], weights=absorber.w[has] * y_abs[has], minlength=k)
    beta = np.linalg.solve(xtx, xty)
    fitted = np.where(has, beta[np.where(has, cell, 0)], 0.0)
    fitted -= (B @ beta)[absorber.unit_codes] + (gamma @ beta)[absorber.time_codes]
    resid = y_abs - fitted
    if absorber.weights is not None:
        sw = np.sqrt(absorber.w)
        resid *= sw
        y_abs *= sw
    nested, tclus = cluster_layout(absorber, clusters, unit_labels, treated_mask)
    return IndicatorDesign(
        cell=cell, absorber=absorber, B=B, gamma=gamma, xtx=xtx,
        resid=resid, beta=beta, names=list(names), y=y_abs, clusters=clusters,
        df_absorbed=absorber.df_absorbed, fe_nested_in_cluster=nested, treated_clusters=tclus,
        extra={"absorber": absorber},
    )


def _small_dense(m):
    """A sparse matrix as a dense array when that is small (a BLAS product beats a sparse one)."""
    return m.toarray() if m.shape[0] * m.shape[1] <= DENSE_CELLS else m


def _nests_units(codes: np.ndarray, ab: TwoWayAbsorber) -> bool:
    """Whether every unit lies in a single cluster."""
    first = np.full(ab.n_units, -1, dtype=np.int64)
    first[ab.unit_codes] = codes
    return bool(np.array_equal(first[ab.unit_codes], codes))
