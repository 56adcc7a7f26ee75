"""Critical values and p-values of the normal and t references (one definition for evalkit).

``dof=None`` (or infinite) means the standard normal; otherwise Student's t with ``dof`` degrees of
freedom. Results (:mod:`evalkit.results`) and estimators that check a ``level`` use these.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .exceptions import EvalkitError


def check_level(level: float) -> None:
    """Raise :class:`EvalkitError` unless ``0 < level < 1``.

    Examples
    --------
    >>> check_level(0.95)
    >>> check_level(95)
    Traceback (most recent call last):
    ...
    evalkit._shared.exceptions.EvalkitError: level must be between 0 and 1 (e.g. 0.95), got 95.
    """
    if not 0 < level < 1:
        raise EvalkitError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}.")


def critical_value(level: float, dof: float | None = None) -> float:
    """Two-sided critical value at coverage ``level`` (normal when ``dof`` is None or infinite).

    Examples
    --------
    >>> round(critical_value(0.95), 4), round(critical_value(0.95, 10), 4)
    (1.96, 2.2281)
    """
    check_level(level)
    q = 0.5 + level / 2
    return float(stats.norm.ppf(q) if dof is None or not np.isfinite(dof) else stats.t.ppf(q, dof))


def two_sided_pvalue(stat: np.ndarray, dof: float | None = None) -> np.ndarray:
    """Two-sided p-values of t statistics ``stat`` (normal when ``dof`` is None or infinite).

    Examples
    --------
    >>> np.round(two_sided_pvalue(np.array([1.96, -2.5])), 4)
    array([0.05  , 0.0124])
    """
    stat = np.abs(np.asarray(stat, dtype=float))
    if dof is None or not np.isfinite(dof):
        return 2 * stats.norm.sf(stat)
    return 2 * stats.t.sf(stat, dof)
