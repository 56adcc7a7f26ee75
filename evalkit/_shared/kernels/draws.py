r"""Random weights of the bootstraps: wild-bootstrap weights and multiplier-bootstrap draws.

Two layouts of random numbers, each kept stable so that a published seed reproduces its numbers:

- :func:`draw_weights` (the wild cluster bootstraps, OLS and IV): a ``clusters x draws`` block;
  Rademacher weights take one random bit each, Webb weights one random byte, Mammen weights one
  double-precision uniform.
- :func:`multiplier_draws` (influence-function bootstraps: Callaway--Sant'Anna, continuous dose):
  ``draws x clusters`` blocks of multipliers times the cluster sums of the influence functions;
  Mammen multipliers from single-precision uniforms, Rademacher multipliers from ``int8`` draws.

:func:`enumerated_weights` lists the ``2**G`` Rademacher sign vectors in a fixed order;
:func:`draw_plan` decides between enumerating them and drawing, and :func:`bootstrap_pvalue`
locates the observed statistic among the draws.
"""

from __future__ import annotations

import numpy as np

from ..blas import blas_limit
from ..exceptions import InferenceError

#: Rademacher weights are fully enumerated (2**G draws) up to this many bootstrap clusters by
#: default, and whenever ``2**G <= n_draws``.
ENUMERATION_MAX_CLUSTERS = 12
#: Relative tolerance within which a bootstrap statistic ties with the observed one.
TIE_RTOL = 1e-9

WEIGHT_KINDS = ("rademacher", "webb", "mammen")
MULTIPLIER_KINDS = ("mammen", "rademacher")

#: Webb's (2014) six-point distribution.
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
_SQ5 = np.sqrt(5.0)
#: Mammen's (1993) two points ``(1 -/+ sqrt 5) / 2``.
MAMMEN = np.array([(1 - _SQ5) / 2, (1 + _SQ5) / 2])
#: Probability of Mammen's negative point, ``(sqrt 5 + 1) / (2 sqrt 5)``.
MAMMEN_P = (_SQ5 + 1) / (2 * _SQ5)
_KAPPA = (np.sqrt(5.0) + 1.0) / 2.0
_P_LOW = _KAPPA / np.sqrt(5.0)  # the same probability, as the multiplier bootstrap computes it


def draw_plan(
    weights: str, n_clusters: int, n_draws: int, full_enumeration: bool | None,
    *, max_enumerated: int,
) -> tuple[bool, int]:
    """Whether to enumerate every Rademacher sign vector, and how many draws that makes.

    ``full_enumeration=None`` enumerates with Rademacher weights when there are at most
    :data:`ENUMERATION_MAX_CLUSTERS` clusters or ``2**n_clusters <= n_draws``.

    Parameters
    ----------
    weights : str
        Weight distribution (enumeration needs ``"rademacher"``).
    n_clusters : int
        Bootstrap clusters.
    n_draws : int
        Draws asked for when not enumerating.
    full_enumeration : bool or None
        The caller's choice (``None``: decide as above).
    max_enumerated : int
        Most clusters whose ``2**n_clusters`` sign vectors may be enumerated.

    Returns
    -------
    (bool, int)
        Whether all sign vectors are used, and the number of bootstrap draws.

    Examples
    --------
    >>> draw_plan("rademacher", 10, 999, None, max_enumerated=24)
    (True, 1024)
    >>> draw_plan("webb", 10, 999, None, max_enumerated=24)
    (False, 999)
    """
    if full_enumeration is None:
        full_enumeration = weights == "rademacher" and (
            n_clusters <= ENUMERATION_MAX_CLUSTERS or 2**min(n_clusters, 64) <= n_draws
        )
    if full_enumeration:
        if weights != "rademacher":
            raise InferenceError("full_enumeration is only defined for Rademacher weights.")
        if n_clusters > max_enumerated:
            raise InferenceError(f"Full enumeration of 2**{n_clusters} sign vectors is too large.")
        return True, 2**n_clusters
    if n_draws < 1:
        raise InferenceError(f"n_draws must be positive, got {n_draws}.")
    return False, int(n_draws)


def bootstrap_pvalue(t_obs: float, t_boot: np.ndarray, pvalue_type: str) -> float:
    """Bootstrap p-value of ``t_obs`` among the draws ``t_boot`` (non-finite draws dropped).

    ``pvalue_type="symmetric"``: share of ``|t*| >= |t|``; otherwise equal-tailed (twice the
    smaller tail). Ties within :data:`TIE_RTOL` (relative) count as at least as extreme.

    Examples
    --------
    >>> bootstrap_pvalue(2.0, np.array([-3.0, -1.0, 0.5, 2.0, 2.5]), "symmetric")
    0.6
    """
    t_boot = t_boot[np.isfinite(t_boot)]
    B = t_boot.size
    if B == 0:
        return float("nan")
    tol = TIE_RTOL * max(1.0, abs(t_obs))
    if pvalue_type == "symmetric":
        return float(np.count_nonzero(np.abs(t_boot) >= abs(t_obs) - tol) / B)
    lo = np.count_nonzero(t_boot <= t_obs + tol) / B
    hi = np.count_nonzero(t_boot >= t_obs - tol) / B
    return float(min(1.0, 2 * min(lo, hi)))


def draw_weights(kind: str, n_clusters: int, n: int, rng: np.random.Generator) -> np.ndarray:
    r"""Wild-bootstrap weights, shape ``(n_clusters, n)``.

    Parameters
    ----------
    kind : {"rademacher", "webb", "mammen"}
        Rademacher: :math:`\pm 1` with probability 1/2. Webb (2014): six points
        :math:`\pm\sqrt{1/2}, \pm 1, \pm\sqrt{3/2}`, equally likely. Mammen (1993): two points
        :math:`(1\mp\sqrt5)/2` with probabilities :math:`(\sqrt5\pm1)/(2\sqrt5)`.
    n_clusters : int
        Number of bootstrap clusters.
    n : int
        Number of draws.
    rng : Generator
        Random source.

    Examples
    --------
    >>> v = draw_weights("rademacher", 3, 4, np.random.default_rng(0))
    >>> v.shape, sorted(set(v.ravel().tolist()))
    ((3, 4), [-1.0, 1.0])
    """
    if kind == "rademacher":  # one random bit per weight
        m = n_clusters * n
        bits = np.unpackbits(np.frombuffer(rng.bytes((m + 7) // 8), dtype=np.uint8), count=m)
        return (1.0 - 2.0 * bits).reshape(n_clusters, n)
    if kind == "webb":
        return WEBB[rng.integers(0, 6, size=(n_clusters, n), dtype=np.int8)]
    if kind == "mammen":
        return np.where(rng.random((n_clusters, n)) < MAMMEN_P, MAMMEN[0], MAMMEN[1])
    raise InferenceError(f"Unknown weights {kind!r}; use one of {', '.join(WEIGHT_KINDS)}.")


def enumerated_weights(n_clusters: int, start: int, stop: int) -> np.ndarray:
    """Rademacher weight vectors number ``start..stop-1`` of the full enumeration.

    Draw ``b`` sets :math:`v_g = -1` when bit ``g`` of ``b`` is one; draw 0 is all ones (it
    reproduces the sample under WCR).

    Examples
    --------
    >>> enumerated_weights(2, 0, 4)
    array([[ 1., -1.,  1., -1.],
           [ 1.,  1., -1., -1.]])
    """
    b = np.arange(start, stop, dtype=np.int64)
    bits = (b[None, :] >> np.arange(n_clusters, dtype=np.int64)[:, None]) & 1
    return 1.0 - 2.0 * bits


def multiplier_draws(
    sums: np.ndarray,
    n: int,
    n_bootstrap: int,
    seed,
    weights: str = "mammen",
    chunk_rows: int | None = None,
    dtype=np.float32,
) -> np.ndarray:
    """Bootstrap draws ``(n_bootstrap, m)`` of ``sum_c v_c S_c / n`` with cluster-level multipliers.

    Multipliers are drawn ``chunk_rows`` bootstrap replications at a time into reused buffers (by
    default about 2**24 multipliers, i.e. 64 MiB, per chunk, so small problems take a single
    matrix product). With ``dtype=float32`` the product ``V S`` is formed in single precision: its
    relative rounding error (about 1e-6) is far below the Monte Carlo error of the bootstrap
    (about ``1/sqrt(n_bootstrap)``); the result is returned in double precision.

    Parameters
    ----------
    sums : ndarray, shape (G, m)
        Influence functions summed within clusters (one row per cluster).
    n : int
        Divisor of the draws (the number of units for a mean of influence functions; 1 for sums).
    n_bootstrap : int
        Number of draws.
    seed : int, Generator or None
        Random source (:func:`numpy.random.default_rng`).
    weights : {"mammen", "rademacher"}
        Multiplier distribution.
    chunk_rows : int, optional
        Replications per block.
    dtype : {numpy.float32, numpy.float64}
        Precision of the multipliers and of the product.

    Examples
    --------
    >>> sums = np.array([[1.0], [-1.0], [2.0]])
    >>> draws = multiplier_draws(sums, 3, 500, seed=1, weights="rademacher", dtype=np.float64)
    >>> draws.shape, bool(abs(draws.mean()) < 0.1)
    ((500, 1), True)
    """
    if weights not in MULTIPLIER_KINDS:
        raise InferenceError(f"Unknown multiplier weights {weights!r}; use one of {MULTIPLIER_KINDS}.")
    rng = np.random.default_rng(seed)
    nc, m = sums.shape
    s = np.ascontiguousarray(sums, dtype=dtype)
    out = np.empty((n_bootstrap, m))
    if chunk_rows is None:
        chunk_rows = max(64, (1 << 24) // max(nc, 1))
    rows = max(1, min(n_bootstrap, chunk_rows))
    with blas_limit():  # one BLAS thread unless overridden: see evalkit._shared.blas
        if weights == "mammen":
            _fill_mammen(out, np.empty((rows, nc), dtype=dtype), np.empty((rows, nc), dtype=bool), s, rng)
        else:
            _fill_rademacher(out, rows, s, rng)
    return out / float(n)


def _fill_mammen(out, u, low, s, rng) -> None:
    """Mammen multipliers times ``s`` into ``out``, ``len(u)`` replications at a time."""
    lo, hi, p_lo = 1.0 - _KAPPA, _KAPPA, _P_LOW
    rows, n_bootstrap = u.shape[0], out.shape[0]
    for start in range(0, n_bootstrap, rows):
        b = min(rows, n_bootstrap - start)
        ub, lb = u[:b], low[:b]
        rng.random(out=ub, dtype=u.dtype)
        np.less(ub, p_lo, out=lb)
        # v = hi + (lo - hi) 1{u < p_lo}, written over the uniforms
        np.multiply(lb, u.dtype.type(lo - hi), out=ub)
        ub += u.dtype.type(hi)
        out[start : start + b] = ub @ s


def _fill_rademacher(out, rows, s, rng) -> None:
    """Rademacher multipliers (from ``int8`` draws) times ``s`` into ``out``, by blocks of rows."""
    n_bootstrap, nc = out.shape[0], s.shape[0]
    for start in range(0, n_bootstrap, rows):
        b = min(rows, n_bootstrap - start)
        xi = rng.integers(0, 2, size=(b, nc), dtype=np.int8).astype(s.dtype)
        xi *= 2.0
        xi -= 1.0
        out[start : start + b] = xi @ s
