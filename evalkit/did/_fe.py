"""Least squares with absorbed unit and time effects (the core of the TWFE family).

The fixed effects are absorbed by the shared kernel
(:class:`evalkit._shared.kernels.TwoWayAbsorber`); this module adds the rank checks that name
absorbed or collinear regressors, fixest-like dropping, and the fit that returns a
:class:`~evalkit.inference.design.LinearDesign` describing its absorbed effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg as sla

from .._shared.blas import limited_blas
from .._shared.exceptions import SingularDesignError
from .._shared.kernels import TwoWayAbsorber, codes_of
from ..inference.design import LinearDesign

#: A regressor whose norm falls below this share of its norm before absorbing is "absorbed".
ABSORBED_TOL = 1e-9
#: Relative tolerance of the pivoted-QR rank decision for collinear regressors.
RANK_TOL = 1e-10
#: ``collinear="drop"``: a regressor is dropped when the squared norm of its residual on the
#: regressors kept before it (after absorbing the fixed effects) is at most this share of its
#: squared norm before absorbing. fixest's ``collin.tol`` default (1e-10), made scale-free.
COLLIN_TOL = 1e-10
COLLINEAR_CHOICES = ("raise", "drop")


def check_rank(xt: np.ndarray, raw_norm: np.ndarray, names: list[str], what: str = "regressor") -> None:
    """Raise :class:`SingularDesignError` naming absorbed or collinear regressors.

    Parameters
    ----------
    xt : ndarray, shape (n, k)
        Regressors after absorbing the fixed effects (weighted scale).
    raw_norm : ndarray, shape (k,)
        Column norms of the same regressors before absorbing (to judge what the FE absorbed).
    names : list of str
        Regressor names.
    what : str
        Word used in the message.
    """
    if xt.shape[1] == 0:
        return
    new_norm = np.sqrt((xt**2).sum(axis=0))
    absorbed = [n for n, a, b in zip(names, raw_norm, new_norm, strict=True) if b <= ABSORBED_TOL * max(a, 1e-300)]
    if absorbed:
        raise SingularDesignError(
            f"The {what}(s) {absorbed} are absorbed by the unit and time fixed effects (constant "
            "within units, or common to all units in each period, in the estimation sample). "
            "Drop them, or use a specification in which they vary within units over time."
        )
    scaled = xt / new_norm
    _, r, piv = sla.qr(scaled, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > RANK_TOL * diag[0]).sum())
    if rank < xt.shape[1]:
        dependent = [names[i] for i in piv[rank:]]
        basis = [names[i] for i in piv[:rank]]
        coef, *_ = np.linalg.lstsq(scaled[:, piv[:rank]], scaled[:, piv[rank:]], rcond=None)
        involved = sorted(
            {basis[i] for i in np.where(np.abs(coef).max(axis=1) > 1e-8)[0]} | set(dependent),
            key=names.index,
        )
        raise SingularDesignError(
            f"The {what}s are collinear after absorbing unit and time fixed effects: "
            f"{dependent} can be written as a combination of the others; the terms involved are "
            f"{involved}. Drop one of them (or combine them) and re-estimate."
        )


def collinear_columns(xw: np.ndarray, raw_norm: np.ndarray, tol: float = COLLIN_TOL) -> np.ndarray:
    """Columns to drop so that the rest have full rank, chosen in column order (as fixest).

    A Cholesky factorisation of ``X'X`` column by column: column ``j`` is dropped when its squared
    residual on the columns kept before it is at most ``tol * raw_norm[j]**2``. So the earlier of
    two collinear regressors is kept (put the regressor of interest first), and columns the fixed
    effects absorbed (residual zero) are dropped too.

    Parameters
    ----------
    xw : ndarray, shape (n, k)
        Regressors after absorbing the fixed effects (weighted scale).
    raw_norm : ndarray, shape (k,)
        Their norms before absorbing.
    tol : float
        Relative tolerance (see :data:`COLLIN_TOL`).

    Returns
    -------
    ndarray of bool, shape (k,)
        ``True`` for the columns to drop.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 2.0, 1.0]])
    >>> collinear_columns(x, np.sqrt((x**2).sum(axis=0))).tolist()
    [False, True, False]
    """
    k = xw.shape[1]
    xtx = xw.T @ xw
    r = np.zeros((k, k))
    drop = np.zeros(k, dtype=bool)
    for j in range(k):
        kept = np.nonzero(~drop[:j])[0]
        resid = xtx[j, j] - r[kept, j] @ r[kept, j]
        if resid <= tol * max(float(raw_norm[j]) ** 2, 1e-300):
            drop[j] = True
            continue
        r[j, j] = np.sqrt(resid)
        r[j, j + 1 :] = (xtx[j, j + 1 :] - r[kept, j] @ r[kept, j + 1 :]) / r[j, j]
    return drop


def solve_normal(xw: np.ndarray, yw: np.ndarray, raw_norm: np.ndarray, names: list[str], what: str) -> np.ndarray:
    """Least-squares coefficients from the normal equations, after a rank check naming terms.

    The Cholesky solve of ``X'X b = X'y`` on the absorbed (weighted) data is fast for the tall,
    narrow designs here; rank problems are reported by :func:`check_rank` before solving.
    ``raw_norm`` holds the (weighted) column norms before absorbing.
    """
    k = xw.shape[1]
    if k == 0:
        return np.zeros(0)
    xtx = xw.T @ xw
    d = np.sqrt(np.diag(xtx))
    if (d <= ABSORBED_TOL * np.maximum(raw_norm, 1e-300)).any() or np.linalg.eigvalsh(
        xtx / np.outer(np.maximum(d, 1e-300), np.maximum(d, 1e-300))
    ).min() < RANK_TOL:
        check_rank(xw, raw_norm, names, what)
    c, low = sla.cho_factor(xtx)
    return sla.cho_solve((c, low), xw.T @ yw)


def check_collinear_arg(collinear: str) -> None:
    """``collinear`` is ``"raise"`` or ``"drop"``."""
    if collinear not in COLLINEAR_CHOICES:
        raise SingularDesignError(
            f"collinear must be one of {COLLINEAR_CHOICES} (fixest-like dropping is 'drop'), got {collinear!r}."
        )


def dropped_note(dropped: list[str]) -> str:
    """The note listing regressors dropped by ``collinear="drop"``."""
    return (f"collinear='drop': {len(dropped)} regressor(s) dropped as absorbed by the fixed effects "
            f"or collinear with earlier ones: {', '.join(dropped)}")


@limited_blas
def fit_absorbed(
    y: np.ndarray | None,
    x: np.ndarray,
    names: list[str],
    absorber: TwoWayAbsorber,
    clusters: np.ndarray | None,
    unit_labels: np.ndarray,
    treated_mask: np.ndarray | None = None,
    what: str = "regressor",
    collinear: str = "raise",
    protect: tuple[str, ...] = (),
) -> LinearDesign:
    """Weighted least squares of ``y`` on ``x`` with absorbed unit and time effects.

    Parameters
    ----------
    y : ndarray, shape (n,), or None
        Outcome; ``None`` when ``x`` already holds ``[y, X]`` (then absorbed in place).
    x : ndarray, shape (n, k) (or (n, k + 1))
    names : list of str
    absorber : TwoWayAbsorber
    clusters : ndarray or None
        Cluster labels per observation (kept on the design for ``cov_type="clustered"``).
    unit_labels : ndarray
        Unit label of each observation (to decide whether the unit effects nest in the clusters).
    treated_mask : ndarray of bool, optional
        Observations that are treated (their clusters are stored as ``treated_clusters``).
    what : str
        Word used in singular-design messages.
    collinear : {"raise", "drop"}
        ``"raise"``: absorbed or collinear regressors raise :class:`SingularDesignError` naming
        them. ``"drop"``: they are dropped in column order (:func:`collinear_columns`) and listed
        in ``extra["dropped"]``; the design's ``names`` are the kept regressors.
    protect : tuple of str
        Regressors that may not be dropped (the effect of interest): if one is absorbed or
        collinear with earlier columns, the error is raised even with ``collinear="drop"``.

    Returns
    -------
    LinearDesign
        On the ``sqrt(weights)`` scale; ``extra["absorber"]`` holds the fixed-effects absorber.
    """
    n = absorber.n
    if y is None:  # x holds [y, X] already; absorbed in place (column-major for BLAS)
        both = x if (x.flags.f_contiguous and x.dtype == np.float64) else np.asfortranarray(x, dtype=float)
    else:
        x = np.asarray(x, dtype=float).reshape(n, -1)
        both = np.empty((n, x.shape[1] + 1), order="F")
        both[:, 0] = y
        both[:, 1:] = x
    wcol = absorber.w if absorber.weights is not None else None
    raw_norm = np.array([
        np.sqrt(np.dot(both[:, j] * wcol, both[:, j]) if wcol is not None else np.dot(both[:, j], both[:, j]))
        for j in range(1, both.shape[1])
    ])
    absorber.absorb(both, inplace=True)
    sw = np.sqrt(absorber.w)
    if absorber.weights is not None:
        both *= sw[:, None]
    yw = both[:, 0]
    xw = both[:, 1:]
    dropped: list[str] = []
    if collinear == "drop" and xw.shape[1]:
        mask = collinear_columns(xw, raw_norm)
        lost = [p for p in protect if p in names and mask[names.index(p)]]
        if lost:
            raise SingularDesignError(
                f"{lost} cannot be estimated: absorbed by the unit and time fixed effects or "
                "collinear with the regressors before it, and collinear='drop' never drops the "
                "effect of interest. Change the specification."
            )
        if mask.any():
            dropped = [n for n, m in zip(names, mask, strict=True) if m]
            xw = np.asfortranarray(xw[:, ~mask])
            raw_norm = raw_norm[~mask]
            names = [n for n, m in zip(names, mask, strict=True) if not m]
    beta = solve_normal(xw, yw, raw_norm, names, what)
    resid = yw - xw @ beta
    nested, tclus = cluster_layout(absorber, clusters, unit_labels, treated_mask)
    return LinearDesign(
        X=xw,
        resid=resid,
        beta=beta,
        names=list(names),
        y=yw,
        clusters=clusters,
        df_absorbed=absorber.df_absorbed,
        fe_nested_in_cluster=nested,
        treated_clusters=tclus,
        extra={"absorber": absorber, "dropped": dropped},
    )


def cluster_layout(absorber: TwoWayAbsorber, clusters, unit_labels, treated_mask) -> tuple[bool, object]:
    """``(unit effects nested in the clusters?, labels of clusters with treated observations)``."""
    nested = False
    tclus = None
    if clusters is not None:
        cl = np.asarray(clusters)
        if cl.ndim == 1:
            if cl is unit_labels:
                nested = True
            else:
                c_codes, _ = codes_of(cl)
                first = np.full(absorber.n_units, -1, dtype=np.int64)
                first[absorber.unit_codes] = c_codes
                nested = bool(np.array_equal(first[absorber.unit_codes], c_codes))
        if treated_mask is not None and cl.ndim == 1:
            tclus = pd.unique(cl[np.asarray(treated_mask, dtype=bool)])
    return nested, tclus
