r"""Random weights of the bootstraps: wild-bootstrap weights and multiplier-bootstrap draws.

Two layouts of random numbers, each kept stable so that a published seed reproduces its numbers:

- :func:`draw_weights` (the wild cluster bootstraps, OLS and IV): a ``clusters x draws`` block;
  Rademacher weights take one random bit each, Webb weights one random byte, Mammen weights one
  double-precision uniform.
- :func:`multiplier_draws` (influence-function bootstraps: Callaway--Sant'Anna, continuous dose):
  ``draws x clusters`` blocks of multipliers times the cluster sums of the influence functions;
  Mammen multipliers from single-precision uniforms, Rademacher multipliers from ``int8`` draws.

:func:`enumerated_weights` lists the ``2**G`` Rademacher sign vectors in a fixed order.
"""

from __future__ import annotations

import numpy as np

from ..blas import blas_limit
from ..exceptions import InferenceError

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
