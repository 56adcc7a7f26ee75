"""Group (cluster) sums of rows and of a design's scores, without ``np.add.at``.

``np.add.at`` is unbuffered and slow for tall score matrices (a million rows times a few hundred
columns took tens of seconds). :func:`segment_sums` sorts the group codes once (a stable counting
order when they are already sorted, as in unit-major panels) and adds contiguous row blocks with
``np.add.reduceat``; :func:`cluster_score_sums` uses a design's own structured scores when the
design provides them (:class:`evalkit.did._indicator.IndicatorDesign`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def segment_sums(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the rows of ``values`` within groups ``codes`` (``0..n_groups-1``).

    Parameters
    ----------
    values : ndarray, shape (n,) or (n, k)
        Rows to add up.
    codes : ndarray of int, shape (n,)
        Group of each row.
    n_groups : int
        Number of groups (groups without rows get zeros).

    Returns
    -------
    ndarray, shape (n_groups,) or (n_groups, k)

    Examples
    --------
    >>> segment_sums(np.array([[1.0], [2.0], [4.0]]), np.array([1, 0, 1]), 3)
    array([[2.],
           [5.],
           [0.]])
    """
    values = np.asarray(values, dtype=float)
    codes = np.asarray(codes, dtype=np.int64).ravel()
    out = np.zeros((n_groups,) + values.shape[1:])
    if codes.size == 0:
        return out
    if codes.size > 1 and np.any(codes[1:] < codes[:-1]):
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        values = values[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out[codes[starts]] = np.add.reduceat(values, starts, axis=0)
    return out


def cluster_score_sums(design, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-cluster sums of the scores ``x_i e_i`` of a fitted design (``n_groups x k``).

    Designs with a ``cluster_score_sums(codes, n_groups)`` method (indicator designs that never
    form the dense regressor matrix) answer themselves; otherwise the scores are formed and added
    with :func:`segment_sums`.

    Examples
    --------
    >>> from evalkit.inference.design import LinearDesign
    >>> d = LinearDesign(X=np.ones((4, 1)), resid=np.array([1.0, -1.0, 2.0, 0.5]), beta=np.zeros(1),
    ...                  names=["x"])
    >>> cluster_score_sums(d, np.array([0, 0, 1, 1]), 2)
    array([[0. ],
           [2.5]])
    """
    own = getattr(design, "cluster_score_sums", None)
    if own is not None:
        return own(codes, n_groups)
    return segment_sums(design.X * design.resid[:, None], codes, n_groups)


def label_sums(values: np.ndarray, labels) -> tuple[np.ndarray, int]:
    """Sum the rows of ``values`` within the groups of ``labels`` (any hashable labels).

    Groups are numbered in order of first appearance (:func:`pandas.factorize`).

    Returns
    -------
    (ndarray, int)
        The group sums, shape ``(G,)`` or ``(G, k)``, and ``G``.

    Examples
    --------
    >>> sums, n_groups = label_sums(np.array([1.0, 2.0, 4.0]), np.array(["b", "a", "b"]))
    >>> sums.tolist(), n_groups
    ([5.0, 2.0], 2)
    """
    codes, uniq = pd.factorize(np.asarray(labels))
    return segment_sums(values, codes, len(uniq)), len(uniq)
