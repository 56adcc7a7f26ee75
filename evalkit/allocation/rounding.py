"""Rounding continuous amounts to whole 万元 so they sum exactly to the appropriation.

* :func:`largest_remainder` (Hamilton, the default): floor every quota, then give +1 to the
  largest remainders; ties go to the larger quota, then to the smaller unit code. A unit already at
  its integer cap never gets +1. Exact in rational arithmetic, so floating-point noise cannot flip
  a tie.
* :func:`largest_recipient` (尾差): round every quota half-up, then put the residual on the
  largest recipient (then the next largest, if a cap or floor stops it).
* :func:`largest_remainder_batch`: the vectorised float64 version used by the Monte Carlo, with
  remainders rounded to 1e-9 before ranking.

Largest-remainder is not monotone in the total (the Alabama paradox: shares 0.1705, 0.3068,
0.5227 give [3, 4, 7] for 14 and [2, 5, 8] for 15).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .._shared.exceptions import SpecError


@dataclass(frozen=True)
class Rounded:
    """Rounding result (all in rounding units).

    Attributes
    ----------
    amounts : list of int
    floors : list of int
        ``floor(quota)`` (largest remainder) or the half-up value (largest recipient).
    remainders : list of Fraction
    plus : list of int
        What the rounding step added (+1, 0, or the residual for 尾差).
    order : list of int
        Rank of each unit in the remainder (or size) order, 1 = first served.
    """

    amounts: list[int]
    floors: list[int]
    remainders: list[Fraction]
    plus: list[int]
    order: list[int]


def largest_remainder(quotas: Sequence[Fraction], total: int, codes: Sequence[str],
                      caps: Sequence[int | None] | None = None) -> Rounded:
    """Hamilton rounding with ties broken by larger quota, then unit code.

    Parameters
    ----------
    quotas : sequence of Fraction
        Continuous amounts in rounding units, summing exactly to ``total``.
    total : int
        Integer total.
    codes : sequence of str
        Unit codes (tie-break).
    caps : sequence of int or None, optional
        Integer caps; a unit whose floor already equals its cap gets no +1.

    Returns
    -------
    Rounded

    Raises
    ------
    SpecError
        If the quotas do not sum to ``total`` or the caps leave too little room.
    """
    q = [Fraction(x) for x in quotas]
    n = len(q)
    if sum(q, Fraction(0)) != total:
        raise SpecError([f"quotas sum to {float(sum(q, Fraction(0)))}, not {total}"],
                        header="Rounding input is inconsistent")
    caps = list(caps) if caps is not None else [None] * n
    fl = [math.floor(x) for x in q]
    rem = [q[i] - fl[i] for i in range(n)]
    need = total - sum(fl)
    eligible = [i for i in range(n) if caps[i] is None or fl[i] < caps[i]]
    ranked = sorted(eligible, key=lambda i: (-rem[i], -q[i], codes[i]))
    if need > len(ranked):
        raise SpecError(["integer caps leave too little room for the rounding residual"],
                        header="保底/上限不可行 / Floors and caps are infeasible")
    plus = [0] * n
    for i in ranked[:need]:
        plus[i] = 1
    order = [0] * n
    for r, i in enumerate(sorted(range(n), key=lambda i: (-rem[i], -q[i], codes[i])), start=1):
        order[i] = r
    return Rounded(amounts=[fl[i] + plus[i] for i in range(n)], floors=fl, remainders=rem,
                   plus=plus, order=order)


def largest_recipient(quotas: Sequence[Fraction], total: int, codes: Sequence[str],
                      lo: Sequence[int] | None = None, caps: Sequence[int | None] | None = None
                      ) -> Rounded:
    """Round half-up, then put the residual (尾差) on the largest recipient.

    Parameters
    ----------
    quotas : sequence of Fraction
        Continuous amounts in rounding units, summing to ``total``.
    total : int
    codes : sequence of str
    lo : sequence of int, optional
        Integer floors the residual must not break.
    caps : sequence of int or None, optional
        Integer caps the residual must not break.

    Returns
    -------
    Rounded
        ``plus`` holds the residual given to (or taken from) each unit.
    """
    q = [Fraction(x) for x in quotas]
    n = len(q)
    lo = list(lo) if lo is not None else [0] * n
    caps = list(caps) if caps is not None else [None] * n
    half = [math.floor(x + Fraction(1, 2)) for x in q]
    rem = [q[i] - half[i] for i in range(n)]
    resid = total - sum(half)
    by_size = sorted(range(n), key=lambda i: (-q[i], codes[i]))
    plus = [0] * n
    for i in by_size:
        if resid == 0:
            break
        if resid > 0:
            room = resid if caps[i] is None else min(resid, caps[i] - half[i])
        else:
            room = max(resid, lo[i] - half[i])
        if (resid > 0 and room > 0) or (resid < 0 and room < 0):
            plus[i] = room
            resid -= room
    if resid != 0:
        raise SpecError(["floors/caps leave no room for the rounding residual (尾差)"],
                        header="保底/上限不可行 / Floors and caps are infeasible")
    order = [0] * n
    for r, i in enumerate(by_size, start=1):
        order[i] = r
    return Rounded(amounts=[half[i] + plus[i] for i in range(n)], floors=half, remainders=rem,
                   plus=plus, order=order)


def largest_remainder_batch(quotas: np.ndarray, total: int, caps: np.ndarray | None = None,
                            digits: int = 9) -> np.ndarray:
    """Vectorised Hamilton rounding of many quota vectors (rows).

    Columns must be in unit-code order (the final tie-break). Remainders are rounded to
    ``digits`` decimals before ranking so float noise cannot reorder exact ties.

    Parameters
    ----------
    quotas : ndarray, shape (m, n)
        Rows summing (up to float noise) to ``total``.
    total : int
    caps : ndarray, shape (n,), optional
        Integer caps (``inf`` for none).
    digits : int

    Returns
    -------
    ndarray of int64, shape (m, n)
    """
    q = np.atleast_2d(np.asarray(quotas, dtype=float))
    m, n = q.shape
    qr = np.round(q, digits)
    fl = np.floor(qr)
    rem = np.round(qr - fl, digits)
    if caps is not None:
        rem = np.where(fl >= np.asarray(caps, dtype=float)[None, :], -1.0, rem)
    need = (total - fl.sum(axis=1)).round().astype(np.int64)
    code_rank = np.broadcast_to(np.arange(n), (m, n))
    order = np.lexsort((code_rank, -qr, -rem), axis=-1)
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.broadcast_to(np.arange(n), (m, n)), axis=1)
    return (fl + (pos < need[:, None])).astype(np.int64)
