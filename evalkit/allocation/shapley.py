"""Exact Shapley attribution (factor → unit) and the year-on-year change decomposition.

Both evaluate a value function on all 2^P subsets of P players with the vectorised float model,
then aggregate the Shapley sums **in exact rational arithmetic**: every float64 is a dyadic
rational and the Shapley weights ``|S|!(P-|S|-1)!/P!`` are rationals, so efficiency
``Σ_k φ_k = v(all) - v(∅)`` holds exactly (and is checked), and a player that changes nothing gets
exactly 0. ``v(all)`` is the float model's amount, which agrees with the exact engine to ~1e-12
万元; the change decomposition's rounding component is measured from that same value, so the
components add up exactly to each unit's integer change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from ._vector import VectorModel

if TYPE_CHECKING:
    from .engine import Allocation

MAX_PLAYERS = 14


def _popcount(m: np.ndarray) -> np.ndarray:
    c = np.zeros_like(m)
    x = m.copy()
    while x.any():
        c += x & 1
        x >>= 1
    return c


def subset_masks(p: int) -> np.ndarray:
    """Membership matrix (2^p, p) of all subsets, row ``r`` = the bits of ``r``."""
    r = np.arange(2**p)
    return ((r[:, None] >> np.arange(p)[None, :]) & 1).astype(bool)


def exact_shapley(values: np.ndarray, v_full: list[Fraction] | None = None,
                  v_empty: list[Fraction] | None = None) -> list[list[Fraction]]:
    """Shapley values from subset values, aggregated exactly.

    Parameters
    ----------
    values : ndarray (2^P, n)
        ``v(S)`` per subset (row = bitmask) and unit, float.
    v_full, v_empty : list of Fraction (n,), optional
        Exact ``v(all)`` and ``v(∅)`` replacing the last and first rows (default: the rows).

    Returns
    -------
    list of list of Fraction
        ``phi[k][i]`` for player ``k`` and unit ``i``; ``Σ_k phi[k][i] == v_full[i] - v_empty[i]``
        exactly (checked).
    """
    m, n = values.shape
    p = int(round(math.log2(m)))
    if 2**p != m:
        raise EvalkitError(f"values must have 2^P rows, got {m}.")
    full = m - 1
    if p == 0:
        return []
    sizes = _popcount(np.arange(m))
    coef = [math.factorial(s) * math.factorial(p - s - 1) for s in range(p)]
    pfact = math.factorial(p)
    phi: list[list[Fraction]] = [[Fraction(0)] * n for _ in range(p)]
    for i in range(n):
        ratios = [float(v).as_integer_ratio() for v in values[:, i]]
        if v_empty is not None:
            ratios[0] = (v_empty[i].numerator, v_empty[i].denominator)
        if v_full is not None:
            ratios[full] = (v_full[i].numerator, v_full[i].denominator)
        lo_v, hi_v = Fraction(*ratios[0]), Fraction(*ratios[full])
        den = 1
        for _, b in ratios:
            den = den * b // math.gcd(den, b)
        ints = np.array([a * (den // b) for a, b in ratios], dtype=object)
        for k in range(p):
            without = np.flatnonzero(((np.arange(m) >> k) & 1) == 0)
            diff = ints[without | (1 << k)] - ints[without]
            cw = np.array([coef[s] for s in sizes[without]], dtype=object)
            phi[k][i] = Fraction(int((diff * cw).sum()), pfact * den)
        total = sum((phi[k][i] for k in range(p)), Fraction(0))
        if total != hi_v - lo_v:  # pragma: no cover - exact arithmetic
            raise EvalkitError(f"Shapley efficiency failed for column {i}: {total} != "
                               f"{hi_v - lo_v}")
    return phi


COEFFICIENT_PLAYER = "coefficients"


@dataclass
class ShapleyResult:
    """Attribution of each unit's amount to the factors and the performance coefficient.

    Attributes
    ----------
    table : DataFrame
        Unit rows: ``unit_code, name_zh, baseline_wan``, one column per factor (万元), a
        ``coefficients`` column when the spec has unequal performance coefficients, and
        ``continuous_wan`` (= baseline + Σ contributions).
    exact : dict
        ``{player: [Fraction per unit]}`` (players: factor ids, then ``coefficients``).
    baseline : str
        ``equal``, ``population`` or ``last_year``.
    constrained : bool
        Whether floors and caps were applied in each ``v(S)``.
    names : dict
        ``{player: display name}`` (factor names; 绩效系数 for the coefficient).
    """

    table: pd.DataFrame
    exact: dict[str, list[Fraction]]
    baseline: str
    constrained: bool
    v_full: list[Fraction]
    v_empty: list[Fraction]
    names: dict[str, str] = field(default_factory=dict)

    def player_names(self) -> dict[str, str]:
        """``{column: display name}`` of the contribution columns, in order."""
        return {k: self.names.get(k, k) for k in self.exact}

    def check(self) -> bool:
        """Verify efficiency ``Σ_k φ_k = v(all) - v(∅)`` exactly for every unit.

        Returns
        -------
        bool
            True when every unit balances exactly.
        """
        for i in range(len(self.v_full)):
            tot = sum((v[i] for v in self.exact.values()), Fraction(0))
            if tot != self.v_full[i] - self.v_empty[i]:
                return False
        return True


def _baseline_composite(alloc: Allocation, baseline: str, population_factor: str | None
                        ) -> list[Fraction]:
    n = len(alloc.codes)
    if baseline == "equal":
        return [Fraction(1, n)] * n
    if baseline == "population":
        pf = population_factor
        vals = alloc.inputs.population.get(pf) or alloc.inputs.values.get(pf)
        if vals is None:
            raise EvalkitError(f"baseline='population' needs population_factor naming a factor of "
                               f"the run; got {pf!r}.")
        tot = sum(vals, Fraction(0))
        return [v / tot for v in vals]
    raise EvalkitError(f"Invalid argument baseline={baseline!r}. Expecting one of "
                       "('equal', 'population', 'last_year').")


def _coefficient_is_player(alloc: Allocation) -> bool:
    return alloc.spec.performance is not None and len(set(alloc.inputs.coefficient)) > 1


def shapley(alloc: Allocation, *, baseline: str = "equal", constrained: bool = True,
            population_factor: str | None = None) -> ShapleyResult:
    """Exact Shapley attribution of each unit's continuous amount to the factors.

    Players are the factors and, when the spec's performance coefficients differ between units,
    the coefficient (绩效系数) as a player of its own. ``v(S)`` is the unit's continuous amount
    using only the factors in S (weights renormalised within S), with the coefficients applied
    only when the coefficient player is in S. ``v(∅)`` is the baseline: a true equal split
    (every unit the same amount, no coefficient), a population split, or last year's amount.

    Parameters
    ----------
    alloc : Allocation
    baseline : {"equal", "population", "last_year"}
    constrained : bool
        Apply floors, caps and hold-harmless in every ``v(S)`` (default) or not.
    population_factor : str, optional
        Factor id of population for ``baseline="population"``.

    Returns
    -------
    ShapleyResult

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> sh = allocation.shapley(a)
    >>> sh.check()  # contributions add up exactly to amount minus the equal split
    True
    """
    spec = alloc.spec
    K = len(spec.factors)
    with_p = _coefficient_is_player(alloc)
    P = K + int(with_p)
    if P > MAX_PLAYERS:
        raise EvalkitError(f"Exact Shapley over 2^K subsets is limited to K ≤ {MAX_PLAYERS} players "
                           f"(got {P}).")
    model = VectorModel.from_allocation(alloc)
    masks = subset_masks(P)
    W = masks[:, :K] * model.w[None, :]
    use_p = masks[:, K] if with_p else np.zeros(len(masks), dtype=bool)
    if not with_p and spec.performance is not None:
        use_p = np.ones(len(masks), dtype=bool)  # equal coefficients: they change nothing
    n = len(alloc.codes)
    if baseline == "last_year":
        if any(v is None for v in alloc.inputs.last_year):
            raise EvalkitError("baseline='last_year' needs last year's amounts (allocate(..., "
                               "last_year=...)).")
        empty_comp = np.full(n, 1.0 / n)
    else:
        comp = _baseline_composite(alloc, baseline, population_factor)
        empty_comp = np.array([float(v) for v in comp])
    s = model.shares(W, empty=empty_comp, use_p=use_p)
    vals, _ = model.continuous(s, constrained=constrained)
    if baseline == "last_year":
        vals[0] = [float(v) for v in alloc.inputs.last_year]
    v_empty = [Fraction(float(v)) for v in vals[0]]
    v_full = [Fraction(float(v)) for v in vals[-1]]
    phi = exact_shapley(vals)
    exact = {f.id: phi[k] for k, f in enumerate(spec.factors)}
    names = {f.id: f.name for f in spec.factors}
    if with_p:
        exact[COEFFICIENT_PLAYER] = phi[K]
        names[COEFFICIENT_PLAYER] = "绩效系数"
    table = pd.DataFrame({"unit_code": alloc.codes,
                          "name_zh": [alloc.name(c) for c in alloc.codes],
                          "baseline_wan": [float(v) for v in v_empty]})
    for k in exact:
        table[k] = [float(v) for v in exact[k]]
    table["continuous_wan"] = [float(v) for v in v_full]
    return ShapleyResult(table=table, exact=exact, baseline=baseline, constrained=constrained,
                         v_full=list(v_full), v_empty=list(v_empty), names=names)


# ------------------------------------------------------------------------------------------
# year-on-year change decomposition


@dataclass
class ChangeDecomposition:
    """Year-on-year change of each unit split into components (Shapley over components).

    Attributes
    ----------
    table : DataFrame
        Unit rows: ``unit_code, name_zh, previous_wan``, one column per component, then
        ``change_wan`` and ``amount_wan``. Components sum exactly to ``change_wan``.
    components : list of str
        Column names of the components, in display order.
    exact : dict
        ``{component: [Fraction per unit]}``.
    """

    table: pd.DataFrame
    components: list[str]
    exact: dict[str, list[Fraction]]


def _state_arrays(alloc: Allocation, fids: list[str]) -> dict[str, Any]:
    spec, inp, core = alloc.spec, alloc.inputs, alloc.core
    n = len(alloc.codes)
    w = {f.id: float(f.weight) / 100 for f in spec.factors}
    z = {f: np.array([float(v) for v in core.z[f]]) if f in core.z else None for f in fids}
    ref = np.array([0.0 if v is None else float(v) for v in inp.last_year])
    floors = []
    caps = []
    for c in alloc.codes:
        fl = spec.floor_units.get(c, spec.floor_default)
        floors.append(0.0 if fl is None else float(fl))
        cp = spec.cap_units.get(c, spec.cap_default)
        caps.append(np.inf if cp is None else float(cp))
    return {"T": float(core.t_alloc), "beta": float(spec.base_share), "ref": ref,
            "w": np.array([w.get(f, 0.0) for f in fids]), "z": z,
            "p": np.array([float(v) for v in inp.coefficient]),
            "floor": np.array(floors), "cap": np.array(caps),
            "hold": float(spec.hold_harmless),
            "cap_share": None if spec.cap_share is None else float(spec.cap_share),
            "unit": spec.rounding_unit, "n": n}


def decompose_change(previous: Allocation, current: Allocation) -> ChangeDecomposition:
    """Split each unit's change from ``previous`` to ``current`` into components.

    Components (players of a Shapley decomposition, so the order does not matter):
    ``budget`` (appropriation and reserve), ``base`` (β and the last-year amounts it applies to),
    ``weights``, ``data:<factor>`` for each factor, ``coefficients`` (performance grades),
    ``constraints`` (floors, caps, hold-harmless) and ``rounding``
    (``(amount - continuous)`` this year minus last year). They sum exactly to
    ``current.amount - previous.amount``.

    In a mixed state (e.g. this year's floors with last year's budget) floors that would exceed
    the budget are scaled down proportionally, and caps that fall short are scaled up, so every
    state is feasible.

    Parameters
    ----------
    previous, current : Allocation
        Two allocations over the same units.

    Returns
    -------
    ChangeDecomposition

    Examples
    --------
    >>> from evalkit import allocation
    >>> d = "data_raw/demo/allocation/"
    >>> a24 = allocation.allocate(d + "spec_2024.yaml", d + "factors.csv")
    >>> a25 = allocation.allocate(d + "spec_2025.yaml", d + "factors.csv")
    >>> ch = allocation.decompose_change(a24, a25)
    >>> type(ch).__name__
    'ChangeDecomposition'
    """
    if previous.codes != current.codes:
        a, b = set(previous.codes), set(current.codes)
        raise EvalkitError(
            "decompose_change needs the same units in both years / 两年参与单位须一致; only previous: "
            f"{sorted(a - b)}, only current: {sorted(b - a)}.")
    fids = list(dict.fromkeys(previous.spec.factor_ids + current.spec.factor_ids))
    P0, P1 = _state_arrays(previous, fids), _state_arrays(current, fids)
    n = P0["n"]
    players = ["budget", "base", "weights"] + [f"data:{f}" for f in fids] + \
        ["coefficients", "constraints"]
    P = len(players)
    if P > MAX_PLAYERS:
        raise EvalkitError(f"decompose_change supports up to {MAX_PLAYERS - 5} factors.")
    masks = subset_masks(P)
    m = masks.shape[0]
    col = {p: masks[:, i] for i, p in enumerate(players)}

    def pick(key: str, player: str) -> np.ndarray:
        a0, a1 = np.asarray(P0[key], dtype=float), np.asarray(P1[key], dtype=float)
        return np.where(col[player].reshape((m,) + (1,) * a0.ndim), a1[None], a0[None])

    T = np.where(col["budget"], P1["T"], P0["T"])
    beta = np.where(col["base"], P1["beta"], P0["beta"])
    ref = pick("ref", "base")
    W = pick("w", "weights")
    comp = np.zeros((m, n))
    wsum = W.sum(axis=1, keepdims=True)
    for k, f in enumerate(fids):
        z0, z1 = P0["z"][f], P1["z"][f]
        z0 = z1 if z0 is None else z0
        z1 = z0 if z1 is None else z1
        zk = np.where(col[f"data:{f}"][:, None], z1[None, :], z0[None, :])
        comp += W[:, k:k + 1] / wsum * zk
    p = pick("p", "coefficients")
    adj = comp * p
    s = adj / adj.sum(axis=1, keepdims=True)
    base = beta[:, None] * ref
    cons = col["constraints"]
    floor = pick("floor", "constraints")
    hold = np.where(cons, P1["hold"], P0["hold"])
    unit = np.where(cons, P1["unit"], P0["unit"]).astype(float)
    lo = np.ceil(np.maximum(floor, hold[:, None] * ref) / unit[:, None]) * unit[:, None]
    cap = pick("cap", "constraints")
    cs0 = np.inf if P0["cap_share"] is None else P0["cap_share"]
    cs1 = np.inf if P1["cap_share"] is None else P1["cap_share"]
    cap_share = np.where(cons, cs1, cs0)
    with np.errstate(invalid="ignore"):
        hi = np.minimum(cap, np.where(np.isfinite(cap_share), cap_share * T, np.inf)[:, None])
    hi = np.where(np.isfinite(hi), np.floor(hi / unit[:, None]) * unit[:, None], np.inf)
    lo_sum = lo.sum(axis=1)
    lo = np.where((lo_sum > T)[:, None], lo * (T / np.where(lo_sum > 0, lo_sum, 1))[:, None], lo)
    hi_sum = np.where(np.isfinite(hi).all(axis=1), hi.sum(axis=1), np.inf)
    hi = hi * np.where(hi_sum < T, T / np.where(np.isfinite(hi_sum), hi_sum, 1.0), 1.0)[:, None]
    from .constraints import water_fill_batch
    vals, _ = water_fill_batch(base, s, lo, hi, T)
    phi = exact_shapley(vals)
    exact = {players[k]: phi[k] for k in range(P)}
    c1s = [Fraction(float(v)) for v in vals[-1]]
    c0s = [Fraction(float(v)) for v in vals[0]]
    exact["rounding"] = [(Fraction(a1) - c1) - (Fraction(a0) - c0) for a1, c1, a0, c0 in
                         zip(current.core.amounts, c1s, previous.core.amounts, c0s, strict=True)]
    comps = players + ["rounding"]
    table = pd.DataFrame({"unit_code": current.codes,
                          "name_zh": [current.name(c) for c in current.codes],
                          "previous_wan": previous.core.amounts})
    for c in comps:
        table[c] = [float(v) for v in exact[c]]
    change = [a1 - a0 for a1, a0 in zip(current.core.amounts, previous.core.amounts, strict=True)]
    for i in range(n):
        tot = sum((exact[c][i] for c in comps), Fraction(0))
        if tot != change[i]:  # pragma: no cover - exact arithmetic
            raise EvalkitError(f"change decomposition does not sum for {current.codes[i]}")
    table["change_wan"] = change
    table["amount_wan"] = current.core.amounts
    return ChangeDecomposition(table=table, components=comps, exact=exact)


__all__ = ["ChangeDecomposition", "ShapleyResult", "decompose_change", "exact_shapley",
           "shapley", "subset_masks"]
