"""Floors, caps and hold-harmless by continuous water-filling (docs/allocation.md §2 step 7).

Find λ with ``Σ_i clip(base_i + λ s_i, lo_i, hi_i) = T``. The left side is continuous,
piecewise linear and non-decreasing in λ, so the amounts are unique (λ may not be, on a flat
stretch, but the amounts are the same there). The breakpoints of unit *i* are
``(lo_i - base_i)/s_i`` and ``(hi_i - base_i)/s_i``; we evaluate the sum at the sorted breakpoints,
take the last one whose sum does not exceed ``T`` and solve the linear piece to its right.

Two implementations share this algorithm: :func:`water_fill` in exact rational arithmetic (the
published allocation) and :func:`water_fill_batch` in vectorised float64 for many weight draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .._shared.exceptions import SpecError

FLOOR, CAP, FREE = "floor", "cap", ""


@dataclass(frozen=True)
class WaterFill:
    """Result of the exact water-filling.

    Attributes
    ----------
    amounts : list of Fraction
        Continuous amounts, summing exactly to the target.
    lam : Fraction
        The level λ found.
    bound : list of str
        ``"floor"``, ``"cap"`` or ``""`` per unit (bound means the unconstrained value
        ``base + λ s`` lies strictly outside ``[lo, hi]``).
    """

    amounts: list[Fraction]
    lam: Fraction
    bound: list[str]


def _clip(v: Fraction, lo: Fraction, hi: Fraction | None) -> Fraction:
    if v < lo:
        return lo
    if hi is not None and v > hi:
        return hi
    return v


def water_fill(base: Sequence[Fraction], s: Sequence[Fraction], lo: Sequence[Fraction],
               hi: Sequence[Fraction | None], total: Fraction,
               labels: Sequence[str] | None = None) -> WaterFill:
    """Exact water-filling.

    Parameters
    ----------
    base : sequence of Fraction
        Base amounts (β × last year), added before the factor increment.
    s : sequence of Fraction
        Factor shares (≥ 0).
    lo, hi : sequences
        Lower and upper bounds per unit (``hi`` may be ``None`` = no cap).
    total : Fraction
        Target sum ``T``.
    labels : sequence of str, optional
        Unit codes for error messages.

    Returns
    -------
    WaterFill

    Raises
    ------
    SpecError
        If ``Σ lo > T`` or ``Σ hi < T`` (floors or caps infeasible), or a unit has ``lo > hi``.
    """
    n = len(s)
    labels = list(labels) if labels is not None else [str(i) for i in range(n)]
    problems = []
    for i in range(n):
        if hi[i] is not None and lo[i] > hi[i]:
            problems.append(f"单位 {labels[i]}：保底 {lo[i]} 高于上限 {hi[i]} / unit {labels[i]}: floor "
                            f"{lo[i]} is above its cap {hi[i]}; lower the floor or raise the cap")
    fixed = [i for i in range(n) if s[i] == 0]
    movers = [i for i in range(n) if s[i] > 0]
    f_min = sum((_clip(base[i], lo[i], hi[i]) for i in fixed), Fraction(0)) + sum(
        (lo[i] for i in movers), Fraction(0))
    capped = all(hi[i] is not None for i in movers)
    f_max = (sum((_clip(base[i], lo[i], hi[i]) for i in fixed), Fraction(0))
             + sum((hi[i] for i in movers), Fraction(0))) if capped else None
    if not problems and f_min > total:
        problems.append(f"保底合计 {_fmt(f_min)} 万元超过可分配额 {_fmt(total)} 万元 / floors sum to "
                        f"{_fmt(f_min)} 万元, more than T_alloc = {_fmt(total)} 万元; lower the floors "
                        "(floor_wan / hold_harmless) or raise total_wan")
    if not problems and f_max is not None and f_max < total and fixed:
        names = ", ".join(labels[i] for i in fixed)
        problems.append(f"单位 {names} 的综合份额为 0（所有因素值均为 0，或绩效系数为 0），只能得到保底/基数 "
                        f"{_fmt(sum((_clip(base[i], lo[i], hi[i]) for i in fixed), Fraction(0)))} 万元；"
                        f"其余单位即使都达到上限也只能分到 {_fmt(f_max)} 万元，少于可分配额 {_fmt(total)} 万元。"
                        f"请核对这些单位的因素数据（是否漏填），或将其排除（units.exclude）/ units {names} "
                        "have a composite share of 0 (every factor value is 0, or the coefficient is "
                        "0), so they can only receive their floor/base; the other units' caps then "
                        f"add up to {_fmt(f_max)} 万元, less than T_alloc = {_fmt(total)} 万元. Check "
                        "these units' factor data (left blank?) or exclude them (units.exclude)")
    elif not problems and f_max is not None and f_max < total:
        problems.append(f"上限合计 {_fmt(f_max)} 万元低于可分配额 {_fmt(total)} 万元 / caps sum to "
                        f"{_fmt(f_max)} 万元, less than T_alloc = {_fmt(total)} 万元; raise the caps "
                        "(cap_wan / cap_share) or lower total_wan")
    if problems:
        raise SpecError(problems, header="保底/上限不可行 / Floors and caps are infeasible")

    def f(lam: Fraction) -> Fraction:
        return sum((_clip(base[i] + lam * s[i], lo[i], hi[i]) for i in range(n)), Fraction(0))

    cands = sorted({(lo[i] - base[i]) / s[i] for i in movers}
                   | {(hi[i] - base[i]) / s[i] for i in movers if hi[i] is not None})
    if not cands:  # nothing moves: all amounts fixed, and feasibility made f == total
        lam = Fraction(0)
    else:
        lam = cands[0]
        f_at = f(lam)
        for c in cands[1:]:
            fc = f(c)
            if fc > total:
                break
            lam, f_at = c, fc
        if f_at < total:
            slope = sum((s[i] for i in movers if (lo[i] - base[i]) / s[i] <= lam
                         and (hi[i] is None or lam < (hi[i] - base[i]) / s[i])), Fraction(0))
            lam = lam + (total - f_at) / slope
    amounts = [_clip(base[i] + lam * s[i], lo[i], hi[i]) for i in range(n)]
    bound = []
    for i in range(n):
        v = base[i] + lam * s[i]
        bound.append(FLOOR if v < lo[i] else CAP if hi[i] is not None and v > hi[i] else FREE)
    return WaterFill(amounts=amounts, lam=lam, bound=bound)


def _fmt(x: Fraction) -> str:
    return str(int(x)) if x.denominator == 1 else f"{float(x):.4f}"


def water_fill_batch(base: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                     total: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised float64 water-filling for many share vectors at once.

    Parameters
    ----------
    base : ndarray, shape (n,) or (m, n)
    s : ndarray, shape (m, n)
        Shares per draw (rows) and unit (columns), ≥ 0.
    lo, hi : ndarray, shape (n,)
        Bounds (``hi`` may hold ``inf``). Feasibility must have been checked.
    total : float or ndarray, shape (m,)
        Target sum (per draw if an array).

    Returns
    -------
    amounts : ndarray, shape (m, n)
    bound : ndarray of int8, shape (m, n)
        -1 at a floor, +1 at a cap, 0 free.
    """
    s = np.atleast_2d(np.asarray(s, dtype=float))
    m, n = s.shape
    base = np.broadcast_to(np.asarray(base, dtype=float), (m, n))
    lo = np.broadcast_to(np.asarray(lo, dtype=float), (m, n))
    hi = np.broadcast_to(np.asarray(hi, dtype=float), (m, n))
    total = np.broadcast_to(np.asarray(total, dtype=float), (m,))
    pos = s > 0
    safe_s = np.where(pos, s, 1.0)
    capped = pos & np.isfinite(hi)
    # events: at a_i a unit leaves its floor (slope +s_i), at b_i it reaches its cap (slope -s_i)
    a = np.where(pos, (lo - base) / safe_s, np.inf)
    b = np.where(capped, (hi - base) / safe_s, np.inf)
    where = np.concatenate([a, b], axis=1)
    dconst = np.concatenate([np.where(pos, base - lo, 0.0),
                             np.where(capped, hi - base, 0.0)], axis=1)
    dslope = np.concatenate([np.where(pos, s, 0.0), np.where(capped, -s, 0.0)], axis=1)
    order = np.argsort(where, axis=1, kind="stable")
    cand = np.take_along_axis(where, order, axis=1)
    cum_c = np.cumsum(np.take_along_axis(dconst, order, axis=1), axis=1)
    cum_s = np.cumsum(np.take_along_axis(dslope, order, axis=1), axis=1)
    c0 = np.where(pos, lo, np.clip(base, lo, hi)).sum(axis=1)
    finite = np.isfinite(cand)
    cc = np.where(finite, cand, 0.0)
    # f at each breakpoint (f is continuous, so partial application of tied events is exact)
    fvals = c0[:, None] + cum_c + cc * cum_s
    tol = 1e-12 * np.maximum(1.0, np.abs(total))
    ok = finite & (fvals <= (total + tol)[:, None])
    has = ok.any(axis=1)
    idx = np.where(has, 2 * n - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
    rows = np.arange(m)
    lam = cc[rows, idx]
    f_at = np.where(has, fvals[rows, idx], c0)
    slope = np.where(has, cum_s[rows, idx], 0.0)
    gap = total - f_at
    lam = lam + np.where((slope > 0) & (gap > 0), gap / np.where(slope > 0, slope, 1.0), 0.0)
    raw = base + lam[:, None] * s
    amounts = np.clip(raw, lo, hi)
    eps = (1e-9 * np.maximum(1.0, np.abs(total)))[:, None]
    bound = np.where(raw < lo - eps, -1, np.where(raw > hi + eps, 1, 0)).astype(np.int8)
    return amounts, bound
