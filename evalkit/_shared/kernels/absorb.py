"""Absorbing fixed effects: one-way and two-way, weighted, balanced or not, without dummies.

:class:`OneWayAbsorber` removes weighted group means (one set of effects). :class:`TwoWayAbsorber`
removes unit and time effects exactly in one pass, for balanced and unbalanced panels, with or
without weights:

1. sweep out the unit effects by weighted within-unit demeaning (sparse group sums);
2. project the within-unit-demeaned data on the within-unit-demeaned time dummies
   (Frisch-Waugh-Lovell). The normal matrix of that projection is the small ``T x T`` matrix

   .. math:: A = \\operatorname{diag}\\Big(\\sum_i w_{is}\\Big) - \\sum_i \\frac{w_i w_i^\\top}{W_i},

   where ``w_i`` holds unit ``i``'s weights by period (zero when the period is missing) and
   ``W_i`` their sum; the right-hand side is the per-period sum of ``w * x_within``. Solving
   ``A gamma = b`` and removing ``gamma_t - mean_i(gamma)`` finishes the two-way residual.

No iteration is needed, so the result is exact to rounding (no convergence tolerance), and the
cost is ``O(n k + T^3)``. The time dimension must be the small one (years), as in every panel here.
Every estimator that absorbs fixed effects uses these two classes (tests compare them with
regressions on explicit dummies: ``tests/_shared/kernels/test_absorb.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..exceptions import PanelDataError


class OneWayAbsorber:
    """One set of fixed effects (weighted group means), ready to absorb columns.

    Parameters
    ----------
    codes : ndarray of int
        Group ``0..G-1`` of each observation.
    weights : ndarray, optional
        Positive observation weights (``None`` = equal weights).

    Examples
    --------
    >>> ab = OneWayAbsorber(np.array([0, 0, 1, 1]), weights=np.array([1.0, 3.0, 1.0, 1.0]))
    >>> ab.absorb(np.array([1.0, 2.0, 3.0, 5.0])).tolist()
    [-0.75, 0.25, -1.0, 1.0]
    """

    def __init__(self, codes: np.ndarray, weights: np.ndarray | None = None) -> None:
        self.codes = np.asarray(codes, dtype=np.int64).ravel()
        self.n = self.codes.shape[0]
        self.n_groups = int(self.codes.max()) + 1 if self.n else 0
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        self.w = np.ones(self.n) if weights is None else self.weights
        self.group_w = np.bincount(self.codes, weights=self.w, minlength=self.n_groups)
        if (self.group_w <= 0).any():
            raise PanelDataError("some groups have zero total weight; drop them or fix the weights")
        self.df_absorbed = self.n_groups

    def means(self, m: np.ndarray) -> np.ndarray:
        """Weighted group means of the columns of ``m``, shape ``(G, k)``."""
        m2 = np.asarray(m, dtype=float).reshape(self.n, -1)
        out = np.empty((self.n_groups, m2.shape[1]))
        for j in range(m2.shape[1]):
            out[:, j] = np.bincount(self.codes, weights=self.w * m2[:, j], minlength=self.n_groups)
        return out / self.group_w[:, None]

    def absorb(self, m: np.ndarray) -> np.ndarray:
        """Residuals of the columns of ``m`` on the group effects (same shape as ``m``)."""
        m = np.asarray(m, dtype=float)
        return (m.reshape(self.n, -1) - self.means(m)[self.codes]).reshape(m.shape)

    def absorb_scaled(self, m: np.ndarray) -> np.ndarray:
        r"""Residuals on the ``sqrt(weights)`` scale: ``m - s * mean_w(m / s)`` with ``s = sqrt(w)``.

        For a weighted design stored as ``s * x`` (as :class:`~evalkit.inference.design.LinearDesign`
        holds it), this is ``s * absorb(x)``: the projection on the columns ``s * dummies``.
        """
        m = np.asarray(m, dtype=float)
        m2 = m.reshape(self.n, -1)
        s = np.sqrt(self.w)
        sums = np.empty((self.n_groups, m2.shape[1]))
        for j in range(m2.shape[1]):
            sums[:, j] = np.bincount(self.codes, weights=s * m2[:, j], minlength=self.n_groups)
        return (m2 - s[:, None] * (sums / self.group_w[:, None])[self.codes]).reshape(m.shape)


def codes_of(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes ``0..G-1`` and the sorted unique labels of ``values``.

    Examples
    --------
    >>> codes, labels = codes_of(["b", "a", "b"])
    >>> codes.tolist(), labels.tolist()
    ([1, 0, 1], ['a', 'b'])
    """
    codes, uniq = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64), np.asarray(uniq)


@dataclass
class TwoWayAbsorber:
    """Unit and time fixed effects of one estimation sample, ready to absorb columns.

    Parameters
    ----------
    unit_codes, time_codes : ndarray of int
        Codes ``0..N-1`` and ``0..T-1`` of each observation.
    weights : ndarray, optional
        Positive observation weights (``None`` = equal weights).

    Examples
    --------
    >>> unit, year = np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3)
    >>> x = np.arange(12.0) ** 2
    >>> ab = TwoWayAbsorber(unit, year)
    >>> ab.df_absorbed  # 3 unit effects and 4 year effects, one constant shared
    6
    >>> np.round(ab.absorb(x)[:4], 6)
    array([ 12.,   4.,  -4., -12.])
    """

    unit_codes: np.ndarray
    time_codes: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.unit_codes = np.asarray(self.unit_codes, dtype=np.int64)
        self.time_codes = np.asarray(self.time_codes, dtype=np.int64)
        n = self.unit_codes.shape[0]
        self.n = n
        self.n_units = int(self.unit_codes.max()) + 1 if n else 0
        self.n_times = int(self.time_codes.max()) + 1 if n else 0
        w = np.ones(n) if self.weights is None else np.asarray(self.weights, dtype=float)
        self.w = w
        self.unit_w = np.bincount(self.unit_codes, weights=w, minlength=self.n_units)
        if (self.unit_w <= 0).any():
            raise PanelDataError("some units have zero total weight; drop them or fix the weights")
        # sparse unit x time weight matrix (N x T)
        cell = sp.csr_matrix((w, (self.unit_codes, self.time_codes)), shape=(self.n_units, self.n_times))
        cell.sum_duplicates()
        self._cell = cell
        time_w = np.asarray(cell.sum(axis=0)).ravel()
        if self.n_units * self.n_times <= 20_000_000:  # dense N x T is small: BLAS product
            dense = cell.toarray() / np.sqrt(self.unit_w)[:, None]
            a = np.diag(time_w) - dense.T @ dense
            del dense
        else:
            scaled = sp.diags(1.0 / np.sqrt(self.unit_w)) @ cell
            a = np.diag(time_w) - (scaled.T @ scaled).toarray()
        self._a = (a + a.T) / 2
        # the time effects are identified up to one constant per connected component
        evals, evecs = np.linalg.eigh(self._a)
        scale = max(float(np.abs(evals).max()), 1.0)
        keep = evals > 1e-10 * scale
        self.time_rank = int(keep.sum())
        self._a_pinv = (evecs[:, keep] / evals[keep]) @ evecs[:, keep].T
        self.df_absorbed = self.n_units + self.time_rank
        self.balanced = bool(cell.nnz == self.n_units * self.n_times and n == cell.nnz)
        # rows ordered unit-major, time-minor on a full grid: reshape-based demeaning
        self.grid = bool(
            self.balanced
            and np.array_equal(self.unit_codes, np.repeat(np.arange(self.n_units), self.n_times))
            and np.array_equal(self.time_codes, np.tile(np.arange(self.n_times), self.n_units))
        )
        # observation -> position in the per-unit arrays (for rebuilding unit means of gamma)
        self._cell_bool = cell.copy()
        self._cell_bool.data = self._cell_bool.data / np.repeat(self.unit_w, np.diff(cell.indptr))

    def unit_means(self, m: np.ndarray) -> np.ndarray:
        """Weighted within-unit means of the columns of ``m`` (shape ``(N, k)``)."""
        m2 = m.reshape(self.n, -1)
        out = np.empty((self.n_units, m2.shape[1]))
        for j in range(m2.shape[1]):
            out[:, j] = np.bincount(self.unit_codes, weights=self.w * m2[:, j], minlength=self.n_units)
        return out / self.unit_w[:, None]

    def solve_time_effects(self, rhs: np.ndarray) -> np.ndarray:
        """Time effects ``gamma`` solving ``A gamma = rhs`` (minimum-norm; ``A`` in the module notes).

        ``rhs`` holds per-period sums of the weighted within-unit residuals (``T`` or ``T x k``).
        """
        return self._a_pinv @ rhs

    def indicator_projection(self, cell: np.ndarray, k: int):
        """What the fixed effects remove from exclusive indicators, without dense columns.

        For ``X`` with ``X[i, cell[i]] = 1`` (``cell[i] = -1``: no indicator),
        ``absorb(X) = X - B[unit] - gamma[time]``.

        Parameters
        ----------
        cell : ndarray of int, shape (n,)
            Indicator of each observation, ``-1`` for none.
        k : int
            Number of indicators.

        Returns
        -------
        uw : sparse matrix, shape (N, k)
            Weight of each unit in each indicator (``U'WX``).
        tw : ndarray, shape (T, k)
            Weight of each period in each indicator (``T'WX``).
        B : ndarray, shape (N, k)
        gamma : ndarray, shape (T, k)
        """
        has = cell >= 0
        w = self.w[has]
        uw = sp.csr_matrix((w, (self.unit_codes[has], cell[has])), shape=(self.n_units, k))
        tw = sp.csr_matrix((w, (self.time_codes[has], cell[has])), shape=(self.n_times, k)).toarray()
        unit_mean = uw.toarray() / self.unit_w[:, None]
        small = self.n_units * self.n_times <= 20_000_000  # dense N x T: BLAS products
        cell = self._cell.toarray() if small else self._cell
        gamma = self._a_pinv @ (tw - cell.T @ unit_mean)
        share = self._cell_bool.toarray() if small else self._cell_bool
        unit_mean -= share @ gamma
        return uw, tw, unit_mean, gamma

    def absorb(self, m: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Residuals of the columns of ``m`` after weighted unit and time fixed effects.

        Parameters
        ----------
        m : ndarray, shape (n,) or (n, k)
            Columns to absorb.
        inplace : bool
            Overwrite ``m`` (a float64 array) instead of allocating a copy (saves memory on
            large designs).

        Returns
        -------
        ndarray
            Same shape as ``m``.
        """
        if inplace and isinstance(m, np.ndarray) and m.dtype == np.float64:
            out = m
        else:
            out = np.array(m, dtype=float, copy=True)
        shape = out.shape
        m2 = out.reshape(self.n, -1)
        n_u, n_t = self.n_units, self.n_times
        if self.grid and self.weights is None:
            for j in range(m2.shape[1]):
                view = m2[:, j].reshape(n_u, n_t)  # a view when the column is contiguous
                view -= view.mean(axis=1, keepdims=True)
                view -= view.mean(axis=0, keepdims=True)
                if not np.shares_memory(view, m2):
                    m2[:, j] = view.ravel()
            return out.reshape(shape)
        if self.balanced and self.weights is None:
            for j in range(m2.shape[1]):
                col = m2[:, j]
                um = np.bincount(self.unit_codes, weights=col, minlength=n_u) / n_t
                tm = np.bincount(self.time_codes, weights=col, minlength=n_t) / n_u
                col -= um[self.unit_codes] + (tm - col.mean())[self.time_codes]
            return out.reshape(shape)
        b = np.empty((n_t, m2.shape[1]))
        for j in range(m2.shape[1]):
            col = m2[:, j]
            um = np.bincount(self.unit_codes, weights=self.w * col, minlength=n_u) / self.unit_w
            col -= um[self.unit_codes]
            b[:, j] = np.bincount(self.time_codes, weights=self.w * col, minlength=n_t)
        gamma = self._a_pinv @ b  # T x k
        # each observation loses gamma_t minus its unit's weighted mean of gamma
        unit_gamma = self._cell_bool @ gamma  # N x k
        for j in range(m2.shape[1]):
            m2[:, j] -= gamma[self.time_codes, j] - unit_gamma[self.unit_codes, j]
        return out.reshape(shape)

    def fitted_effects(self, resid_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit and time effects ``(alpha, gamma)`` of ``y - x b`` (the part the FE absorbed).

        Parameters
        ----------
        resid_target : ndarray, shape (n,)
            ``y - X b`` before absorbing.

        Returns
        -------
        alpha : ndarray, shape (N,)
        gamma : ndarray, shape (T,)
            Normalised so that the weighted mean of ``gamma`` over all observations is zero.
        """
        r = np.asarray(resid_target, dtype=float)
        within = r - self.unit_means(r)[self.unit_codes, 0]
        b = np.bincount(self.time_codes, weights=self.w * within, minlength=self.n_times)
        gamma = self._a_pinv @ b
        gamma = gamma - np.average(gamma[self.time_codes], weights=self.w)
        alpha = np.bincount(
            self.unit_codes, weights=self.w * (r - gamma[self.time_codes]), minlength=self.n_units
        ) / self.unit_w
        return alpha, gamma
