"""Batched Frank--Wolfe solvers for synthetic-control style weights.

The weight problems of Arkhangelsky et al. (2021, Algorithm 1) are quadratic programmes over the
unit simplex,

.. math::

    \\min_{x \\in \\Delta} \\; \\zeta^2 \\lVert x \\rVert^2 + \\frac{1}{n}\\lVert A x - b \\rVert^2,

solved by Frank--Wolfe with an exact line search. Everything the iteration needs is expressed
through the Gram matrix :math:`G = A^\\top A`, :math:`c = A^\\top b` and :math:`b^\\top b`, so one
iteration costs :math:`O(p)` (``p`` = number of weights) instead of :math:`O(np)`: ``G x`` is
updated in place along the Frank--Wolfe direction. Many problems (placebo draws) are solved at once
as rows of one batch, each with its own stopping rule, as in R ``synthdid``'s ``sc.weight.fw``
(stop when the objective decreases by less than ``min_decrease**2`` or after ``max_iter``
iterations).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def sparsify(x: np.ndarray) -> np.ndarray:
    """Zero weights at most a quarter of the largest (row-wise) and renormalise.

    This is the two-step sparsification of Arkhangelsky et al. (2021) as used by R ``synthdid``.
    """
    x = np.array(x, dtype=float, copy=True)
    mx = x.max(axis=-1, keepdims=True)
    x[x <= mx / 4] = 0.0
    return sum_normalize(x)


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """Divide rows by their sums; rows summing to zero become uniform."""
    x = np.asarray(x, dtype=float)
    s = x.sum(axis=-1, keepdims=True)
    n = x.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(s != 0, x / np.where(s != 0, s, 1.0), 1.0 / n)
    return out


def frank_wolfe_gram(
    matvec: Callable[[np.ndarray], np.ndarray],
    column: Callable[[np.ndarray], np.ndarray],
    diag: Callable[[np.ndarray], np.ndarray],
    c: np.ndarray,
    bb: np.ndarray,
    x0: np.ndarray,
    *,
    zeta2: float,
    nrow: int,
    min_decrease: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve a batch of simplex-constrained ridge problems by Frank--Wolfe.

    Parameters
    ----------
    matvec : callable
        ``matvec(x)`` returns ``G_r x_r`` for every batch row (shape ``(R, p)``).
    column : callable
        ``column(i, rows)`` returns ``G_r[:, i_r]`` for the batch rows ``rows`` and one index per
        row (shape ``(len(rows), p)``).
    diag : callable
        ``diag(i, rows)`` returns ``G_r[i_r, i_r]`` (shape ``(len(rows),)``).
    c : ndarray, shape (R, p)
        ``A_r^T b_r``.
    bb : ndarray, shape (R,)
        ``b_r^T b_r``.
    x0 : ndarray, shape (R, p)
        Starting weights (rows on the simplex).
    zeta2 : float
        Squared regularisation :math:`\\zeta^2`; the step uses ``eta = nrow * zeta2``.
    nrow : int
        Number of rows of ``A`` (the divisor of the squared error).
    min_decrease : float
        Stop a row once the objective falls by less than ``min_decrease**2``.
    max_iter : int
        Maximum number of iterations.

    Returns
    -------
    x : ndarray, shape (R, p)
        The weights.
    value : ndarray, shape (R,)
        Final objective values.
    iterations : ndarray, shape (R,)
        Iterations used per row.
    """
    x = np.array(x0, dtype=float, copy=True)
    R, p = x.shape
    eta = nrow * zeta2
    ar = np.arange(R)
    gx = matvec(x)
    xgx = np.einsum("rp,rp->r", x, gx)
    cx = np.einsum("rp,rp->r", c, x)
    xx = np.einsum("rp,rp->r", x, x)
    prev = np.full(R, np.inf)
    active = np.ones(R, dtype=bool)
    iters = np.zeros(R, dtype=int)
    tol = min_decrease**2
    value = zeta2 * xx + (xgx - 2 * cx + bb) / nrow
    for t in range(1, max_iter + 1):
        rows = ar[active]
        if rows.size == 0:
            break
        # work on the active rows only (compact when many rows have stopped)
        if rows.size < R:
            xs, gxs, cs = x[rows], gx[rows], c[rows]
        else:
            xs, gxs, cs = x, gx, c
        half_grad = gxs - cs + eta * xs
        i = np.argmin(half_grad, axis=1)
        ra = np.arange(rows.size)
        xi = xs[ra, i]
        hg_dx = half_grad[ra, i] - np.einsum("rp,rp->r", half_grad, xs)
        gii = diag(i, rows)
        gxi = gxs[ra, i]
        derr2 = gii - 2 * gxi + xgx[rows]
        dx2 = 1 - 2 * xi + xx[rows]
        denom = derr2 + eta * dx2
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(denom > 0, -hg_dx / np.where(denom > 0, denom, 1.0), 0.0)
        step = np.clip(step, 0.0, 1.0)
        step[xi == 1.0] = 0.0  # already at the vertex (R: all(d.x == 0))
        one_m = 1 - step
        gcol = column(i, rows)
        xs = xs * one_m[:, None]
        xs[ra, i] += step
        gxs = gxs * one_m[:, None] + step[:, None] * gcol
        xgx[rows] = one_m**2 * xgx[rows] + 2 * step * one_m * gxi + step**2 * gii
        cx[rows] = one_m * cx[rows] + step * cs[ra, i]
        xx[rows] = one_m**2 * xx[rows] + 2 * step * one_m * xi + step**2
        x[rows] = xs
        gx[rows] = gxs
        val = zeta2 * xx[rows] + (xgx[rows] - 2 * cx[rows] + bb[rows]) / nrow
        iters[rows] = t
        stop = (t >= 2) & (prev[rows] - val <= tol)
        prev[rows] = val
        value[rows] = val
        active[rows[stop]] = False
    return x, value, iters


class SharedGram:
    """Gram access for batch rows that select subsets ``idx`` of one shared Gram matrix.

    Parameters
    ----------
    gram : ndarray, shape (M, M)
        The Gram matrix of all candidate columns.
    idx : ndarray of int, shape (R, p)
        Row ``r`` uses columns ``idx[r]``.
    """

    def __init__(self, gram: np.ndarray, idx: np.ndarray):
        self.gram = gram
        self.idx = np.asarray(idx)

    def matvec(self, x: np.ndarray) -> np.ndarray:
        R = x.shape[0]
        M = self.gram.shape[0]
        z = np.zeros((R, M))
        np.put_along_axis(z, self.idx, x, axis=1)
        full = z @ self.gram  # symmetric
        return np.take_along_axis(full, self.idx, axis=1)

    def column(self, i: np.ndarray, rows: np.ndarray) -> np.ndarray:
        idx = self.idx[rows]
        cols = idx[np.arange(len(rows)), i]
        return self.gram[idx, cols[:, None]]

    def diag(self, i: np.ndarray, rows: np.ndarray) -> np.ndarray:
        idx = self.idx[rows]
        cols = idx[np.arange(len(rows)), i]
        return self.gram[cols, cols]


class StackedGram:
    """Gram access for a stack of per-row Gram matrices ``(R, p, p)``."""

    def __init__(self, gram: np.ndarray):
        self.gram = gram

    def matvec(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("rpq,rq->rp", self.gram, x)

    def column(self, i: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.gram[rows, :, i]

    def diag(self, i: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.gram[rows, i, i]


def solve(gram_access, c, bb, x0, *, zeta2, nrow, min_decrease, max_iter, engine="auto"):
    """Solve a batch with a Gram accessor object.

    ``engine="auto"`` uses the compiled kernel when numba is installed and the vectorised numpy
    iteration otherwise; both run the same arithmetic (tests compare them).
    """
    x0 = np.ascontiguousarray(x0, dtype=float)
    if engine == "numba" or (engine == "auto" and HAVE_NUMBA):
        R, p = x0.shape
        gram3, gsel, idx = _as_rows(gram_access, R, p)
        return _fw_rows_compiled(
            np.ascontiguousarray(gram3, dtype=float), gsel, idx,
            np.ascontiguousarray(c, dtype=float), np.ascontiguousarray(bb, dtype=float), x0,
            float(zeta2), float(nrow), float(min_decrease) ** 2, int(max_iter),
        )
    return frank_wolfe_gram(
        gram_access.matvec,
        gram_access.column,
        gram_access.diag,
        c,
        bb,
        x0,
        zeta2=zeta2,
        nrow=nrow,
        min_decrease=min_decrease,
        max_iter=max_iter,
    )


# --------------------------------------------------------------------------------------------
# compiled kernel (numba): the same iteration, one row at a time, O(p) per step
# --------------------------------------------------------------------------------------------
try:  # numba is optional: without it the vectorised numpy path above is used
    import numba as _numba
except ImportError:  # pragma: no cover - depends on the environment
    _numba = None


def _fw_rows(gram3, gsel, idx, c, bb, x0, zeta2, nrow, tol, max_iter):
    R, p = x0.shape
    x = x0.copy()
    vals = np.empty(R)
    iters = np.zeros(R, np.int64)
    eta = nrow * zeta2
    gx = np.empty(p)
    for r in range(R):
        g = gram3[gsel[r]]
        ix = idx[r]
        cr = c[r]
        xr = x[r]
        for a in range(p):
            s = 0.0
            ia = ix[a]
            for b in range(p):
                s += g[ia, ix[b]] * xr[b]
            gx[a] = s
        xgx = 0.0
        cx = 0.0
        xx = 0.0
        for a in range(p):
            xgx += xr[a] * gx[a]
            cx += cr[a] * xr[a]
            xx += xr[a] * xr[a]
        val = zeta2 * xx + (xgx - 2.0 * cx + bb[r]) / nrow
        prev = np.inf
        t = 0
        while t < max_iter:
            t += 1
            best = np.inf
            i = 0
            hgx = 0.0
            for a in range(p):
                h = gx[a] - cr[a] + eta * xr[a]
                hgx += h * xr[a]
                if h < best:
                    best = h
                    i = a
            xi = xr[i]
            step = 0.0
            gii = g[ix[i], ix[i]]
            if xi != 1.0:
                denom = (gii - 2.0 * gx[i] + xgx) + eta * (1.0 - 2.0 * xi + xx)
                if denom > 0:
                    step = -(best - hgx) / denom
                    if step < 0.0:
                        step = 0.0
                    elif step > 1.0:
                        step = 1.0
            if step > 0.0:
                om = 1.0 - step
                xgx = om * om * xgx + 2.0 * step * om * gx[i] + step * step * gii
                cx = om * cx + step * cr[i]
                xx = om * om * xx + 2.0 * step * om * xi + step * step
                col = ix[i]
                for a in range(p):
                    xr[a] *= om
                    gx[a] = om * gx[a] + step * g[ix[a], col]
                xr[i] += step
            val = zeta2 * xx + (xgx - 2.0 * cx + bb[r]) / nrow
            if t >= 2 and prev - val <= tol:
                break
            prev = val
        vals[r] = val
        iters[r] = t
    return x, vals, iters


if _numba is not None:
    _fw_rows_compiled = _numba.njit(cache=True, nogil=True)(_fw_rows)
else:  # pragma: no cover
    _fw_rows_compiled = None

HAVE_NUMBA = _fw_rows_compiled is not None


def _as_rows(access, R, p):
    if isinstance(access, SharedGram):
        return access.gram[None, :, :], np.zeros(R, np.int64), np.ascontiguousarray(access.idx)
    return access.gram, np.arange(R, dtype=np.int64), np.tile(np.arange(p, dtype=np.int64), (R, 1))
