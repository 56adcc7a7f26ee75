r"""CV3 (jackknife) studentisation of the wild cluster bootstrap: WCR-S / WCU-S.

MacKinnon, Nielsen and Webb (2023, *Journal of Applied Econometrics* 38(5)) studentise every
bootstrap statistic by the jackknife variance
:math:`\mathrm{CV}_3 = \tfrac{G-1}{G}\sum_g (R\hat\beta^{(g)} - R\hat\beta)^2`, where
:math:`\hat\beta^{(g)}` refits the model without cluster :math:`g`. They compute it from
cluster-level blocks: :math:`\hat\beta^{(g)} = (A - A_g)^{-1}(b - b_g)` with
:math:`A_g = X_g'X_g`, :math:`b_g = X_g'y_g`.

Absorbed effects. The leave-one-cluster-out fit must refit the effects that are not nested in
the clusters (year effects with clusters = units) without cluster :math:`g`. Nested effects
(unit effects) vanish with their cluster; after partialling them out, the regressors are
orthogonal to them inside every cluster, so they do not change any refit. The others enter as
explicit columns: :math:`\tilde X = M_U[X, Z]`, with :math:`Z` a basis of the year dummies
residualised on the unit dummies (:class:`~evalkit.inference.design.FEProjection`).
Regressing :math:`M_U y` on :math:`\tilde X` with or without any cluster is then exactly the
regression with explicit unit and year dummies on the same observations.

Bootstrap. With :math:`y^* = \tilde X\tilde\beta + v\odot\tilde u` and bootstrap-cluster scores
:math:`s_h = \tilde X_h'\tilde u_h`, both the numerator :math:`R(\hat\beta^*-\tilde\beta) =
\sum_h v_h a's_h` (:math:`a = A^{-1}R'`) and every jackknife deviation are linear in the weights:

.. math::

    R\hat\beta^{*(g)} - R\hat\beta^* = \sum_h v_h\big[(m_g - a)'s_h - 1\{h \subset g\}\, m_g's_h\big]
    = (Qv)_g, \qquad m_g = (A - A_g)^{-1}R',

because :math:`m_g'(A - A_g)\tilde\beta = R\tilde\beta`. So each draw costs :math:`O(GH)`. Under
WCR the scores are affine in :math:`\delta = R\hat\beta - r`, :math:`Q = Q_0 + \delta Q_1`, and the
bootstrap keeps the same five polynomial rows as the CR1 version (test inversion unchanged).
"""

from __future__ import annotations

import numpy as np

from .._shared.exceptions import InferenceError
from .._shared.kernels import segment_sums
from .design import FEProjection, LinearDesign


def explicit_effects_design(design: LinearDesign, X: np.ndarray, y: np.ndarray,
                            clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``(M_U [X, Z], M_U y)``: the design with its non-nested absorbed effects as columns.

    ``U`` is the absorbed set nested in the clusters (partialled out), ``Z`` a basis of the
    other absorbed effects after ``U``. Without absorbed effects, ``(X, y)`` unchanged.

    Raises
    ------
    InferenceError
        When the design absorbs effects it does not describe, or when none of them is nested in
        the clusters (the leave-one-cluster-out refit would need every effect as a column).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import LinearDesign
    >>> unit, year = np.repeat(np.arange(4), 6), np.tile(np.arange(6), 4)
    >>> x = np.random.default_rng(0).normal(size=24)
    >>> d = LinearDesign(X=x[:, None], resid=x, beta=np.zeros(1), names=["x"], y=x, clusters=unit,
    ...                  df_absorbed=9, extra={"fe_codes": np.column_stack([unit, year])})
    >>> Xa, ya = explicit_effects_design(d, d.X, d.y, unit)
    >>> Xa.shape  # x and the 5 year effects left after the unit effects
    (24, 6)
    """
    if design.df_absorbed <= 0:
        return X, y
    proj = FEProjection.from_design(design, clusters=clusters)
    if proj is None:
        raise InferenceError(
            f"studentize='cv3' needs the design's {design.df_absorbed} absorbed fixed effects "
            "described (design.extra['absorber'] or ['fe_codes']) to refit them without each "
            "cluster; fit with the evalkit.did estimators, or use studentize='cr1'."
        )
    if not proj.sparse_nested:
        raise InferenceError(
            "studentize='cv3' needs one set of absorbed effects nested in the clusters (e.g. unit "
            "effects with clusters = units or coarser); cluster at the unit level or use "
            "studentize='cr1'."
        )

    Xa = proj.absorber.absorb_scaled(np.hstack([X, proj.Z]))
    return Xa, proj.absorber.absorb_scaled(y)


def cv3_arrays(Xa: np.ndarray, y: np.ndarray, Rv: np.ndarray, ccodes: np.ndarray, G: int,
               bcodes: np.ndarray, Hn: int, impose_null: bool) -> dict:
    r"""Everything the CV3-studentised bootstrap needs, at cluster level.

    Parameters
    ----------
    Xa, y : ndarray
        Regressors with the non-nested effects as columns, and the response (see
        :func:`explicit_effects_design`).
    Rv : ndarray
        Restriction on the first ``len(Rv)`` columns of ``Xa``.
    ccodes, G, bcodes, Hn : ndarray, int
        Variance-cluster and bootstrap-cluster codes and counts (bootstrap clusters nested).
    impose_null : bool
        WCR (restricted scores affine in :math:`\delta`) or WCU.

    Returns
    -------
    dict
        ``estimate``, ``se`` (CV3 standard error of the sample), ``c0, c1`` (numerator weights,
        length H), ``Q0, Q1`` (G x H jackknife maps), ``shift_ok``.
    """
    n, K = Xa.shape
    Rp = np.zeros(K)
    Rp[: Rv.size] = Rv
    A = Xa.T @ Xa
    Ainv = np.linalg.pinv(A)
    beta = Ainv @ (Xa.T @ y)
    resid = y - Xa @ beta
    a = Ainv @ Rp
    blocks = np.einsum("ik,il->ikl", Xa, Xa)
    A_g = segment_sums(blocks, ccodes, G)
    b_g = segment_sums(Xa * y[:, None], ccodes, G)
    b = Xa.T @ y
    M = np.empty((K, G))
    for g in range(G):
        Am = A - A_g[g]
        if np.linalg.matrix_rank(Am, tol=1e-10 * max(np.abs(A).max(), 1.0)) < np.linalg.matrix_rank(A):
            raise InferenceError(
                f"Without cluster {g} (0-based, in sorted label order) the model is not identified "
                "(e.g. the only treated cluster, or a year observed only there), so the jackknife "
                "CV3 variance does not exist; use studentize='cr1'."
            )
        M[:, g] = np.linalg.pinv(Am) @ Rp
    est = float(Rp @ beta)
    jack = np.einsum("kg,gk->g", M, b[None, :] - b_g) - est
    se = float(np.sqrt((G - 1) / G * np.sum(jack**2)))
    member = np.zeros((G, Hn))
    b_to_c = np.zeros(Hn, dtype=np.int64)
    b_to_c[bcodes] = ccodes
    member[b_to_c, np.arange(Hn)] = 1.0

    def maps(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        S = segment_sums(Xa * u[:, None], bcodes, Hn)  # H x K bootstrap-cluster scores
        c = S @ a
        MS = M.T @ S.T  # G x H: m_g' s_h
        return c, MS - c[None, :] - MS * member

    c0, Q0 = maps(resid)
    if impose_null:
        RaR = float(Rp @ a)
        if RaR <= 0:
            raise InferenceError("R (X'X)^-1 R' is not positive: the restriction is not identified.")
        c1, Q1 = maps(Xa @ (a / RaR))  # restricted residuals: resid + delta * Xa a / RaR
    else:
        c1, Q1 = np.zeros(Hn), np.zeros((G, Hn))
    return {"estimate": est, "se": se, "c0": c0, "c1": c1, "Q0": Q0, "Q1": Q1}


def cv3_poly(V: np.ndarray, c0: np.ndarray, c1: np.ndarray, Q0: np.ndarray, Q1: np.ndarray) -> np.ndarray:
    """Rows N0, N1, D00, D01, D11 for the weight block ``V`` (H x B); kappa = (G-1)/G."""
    J0, J1 = Q0 @ V, Q1 @ V
    return np.vstack([c0 @ V, c1 @ V, np.einsum("gb,gb->b", J0, J0),
                      np.einsum("gb,gb->b", J0, J1), np.einsum("gb,gb->b", J1, J1)])
