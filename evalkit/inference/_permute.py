"""Permutation machinery shared by randomization inference and placebo tests.

Distinct arrangements of a multiset (counted, enumerated), a statistic evaluated at many
assignments on an executor, and the rank p-value. :mod:`.randomization` and :mod:`.placebo` use it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._shared.exceptions import InferenceError
from .executor import Chunk, Executor, get_executor

#: Largest number of distinct assignments enumerated exactly by default.
MAX_EXACT = 10_000


def statistic_value(out: Any, statistic: str) -> tuple[float, float, float]:
    """(value used by the test, estimate, std_error) from what a statistic returns."""
    if isinstance(out, tuple) and len(out) == 2:
        est, se = float(out[0]), float(out[1])
    elif hasattr(out, "estimate") and hasattr(out, "std_error"):
        est, se = float(out.estimate), float(out.std_error)
    else:
        try:
            val = float(out)
        except (TypeError, ValueError) as err:
            raise InferenceError(
                "The statistic must return a float, an (estimate, std_error) tuple or a result with "
                f".estimate and .std_error; got {type(out).__name__}."
            ) from err
        if statistic == "t":
            raise InferenceError(
                "statistic='t' needs the standard error: return (estimate, std_error) or a result "
                "object from the statistic, or pass statistic='estimate'."
            )
        return val, val, float("nan")
    if statistic == "t":
        return (est / se if se > 0 else float("nan")), est, se
    return est, est, se


def count_arrangements(values: np.ndarray) -> int:
    """Number of distinct arrangements of a multiset (multinomial coefficient)."""
    _, counts = np.unique(values, return_counts=True)
    total, out = int(counts.sum()), 1
    for c in counts:
        out *= math.comb(total, int(c))
        total -= int(c)
    return out


def enumerate_arrangements(values: np.ndarray) -> np.ndarray:
    """Every distinct arrangement of the multiset ``values`` (rows), the input order first."""
    values = np.asarray(values)
    uniq, counts = np.unique(values, return_counts=True)
    n = values.size
    rows: list[np.ndarray] = []

    def rec(remaining: tuple[int, ...], level: int, current: np.ndarray) -> None:
        if level == len(uniq) - 1:
            row = current.copy()
            row[list(remaining)] = uniq[level]
            rows.append(row)
            return
        for comb in itertools.combinations(remaining, int(counts[level])):
            current[list(comb)] = uniq[level]
            rest = tuple(i for i in remaining if i not in comb)
            rec(rest, level + 1, current)

    rec(tuple(range(n)), 0, np.empty(n, dtype=values.dtype))
    out = np.array(rows)
    # put the observed arrangement first (draw 0), keep the rest in enumeration order
    first = np.flatnonzero((out == values).all(axis=1))[0]
    return np.vstack([out[first : first + 1], np.delete(out, first, axis=0)])


def _perm_chunk(
    chunk: Chunk,
    stat_fn: Callable,
    base: np.ndarray | None,
    positions: np.ndarray | None,
    table: np.ndarray | None,
    statistic: str,
) -> np.ndarray:
    """``(value, estimate, std_error)`` rows for assignments ``chunk.start .. chunk.stop - 1``.

    With ``positions`` None every ``table`` row is a whole assignment; otherwise the row (or,
    without a table, a random permutation of ``base[positions]``) is placed at ``positions`` of
    ``base``.
    """
    out = np.empty((chunk.size, 3))
    rng = None if table is not None else chunk.rng()
    for j, b in enumerate(range(chunk.start, chunk.stop)):
        if positions is None:
            a = table[b]
        else:
            a = base.copy()
            if table is not None:
                a[positions] = table[b]
            else:
                a[positions] = base[positions][rng.permutation(positions.size)]
        out[j] = statistic_value(stat_fn(a), statistic)
    return out


def evaluate_assignments(
    stat_fn: Callable,
    n: int,
    *,
    statistic: str,
    table: np.ndarray | None,
    base: np.ndarray | None = None,
    positions: np.ndarray | None = None,
    seed: int | None,
    executor: Executor | str | dict | None,
    chunk_size: int | None = None,
    desc: str,
) -> np.ndarray:
    """The statistic at ``n`` assignments (see :func:`_perm_chunk`) on an executor: ``(n, 3)``.

    ``chunk_size`` defaults to the executor's, at most 250.
    """
    ex = get_executor(executor)
    size = min(ex.chunk_size, 250) if chunk_size is None else chunk_size
    parts = ex.map(_perm_chunk, n, seed=seed, args=(stat_fn, base, positions, table, statistic),
                   chunk_size=size, desc=desc)
    return np.vstack(parts)


def choose_exact(values: np.ndarray, exact: bool | None, max_exact: int) -> tuple[int, bool]:
    """``(number of distinct arrangements of values, exact)``; ``exact`` defaults to that number
    being at most ``max_exact``."""
    n_distinct = count_arrangements(values)
    if exact is None:
        exact = n_distinct <= max_exact
    return n_distinct, bool(exact)


def permutation_pvalue(observed: float, dist: np.ndarray, alternative: str, exact: bool) -> float:
    """Share of the distribution at least as extreme as ``observed`` (ties within 1e-9 count).

    ``exact``: the distribution enumerates every assignment, the observed one included; otherwise
    the observed statistic is added to the draws (``(1 + hits) / (1 + draws)``).
    """
    dist = dist[np.isfinite(dist)]
    tol = 1e-9 * max(1.0, abs(observed))
    if alternative == "two-sided":
        hits = np.count_nonzero(np.abs(dist) >= abs(observed) - tol)
    elif alternative == "greater":
        hits = np.count_nonzero(dist >= observed - tol)
    else:
        hits = np.count_nonzero(dist <= observed + tol)
    if exact:  # the actual assignment is one of the enumerated ones
        return float(hits / dist.size)
    return float((1 + hits) / (1 + dist.size))
