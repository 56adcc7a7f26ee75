"""The factor-method formula in exact rational arithmetic: transforms and the core computation.

Transforms turn each factor into a share vector (:func:`transform`); :func:`compute` combines
them into the composite share, applies performance coefficients, base, awards, floors, caps and
hold-harmless, and rounds (docs/allocation.md §2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from .._shared.exceptions import SpecError
from ._allocation_spec import AllocationSpec
from ._format import short_number
from ._spec_model import FactorSpec
from .constraints import water_fill
from .rounding import largest_recipient, largest_remainder


@dataclass
class Inputs:
    """Data of one run, validated and aligned to the included units (sorted by code).

    Attributes
    ----------
    codes : list of str
        Included units in code order.
    excluded : dict
        ``{code: reason}`` for units left out (spec ``exclude`` or missing rule ``exclude_unit``).
    values : dict
        ``{factor_id: [Fraction per unit]}`` after unit conversion and missing-data rules.
    population : dict
        ``{factor_id: [Fraction per unit]}`` for the population factors of ``per_capita``.
    raw : dict
        ``{factor_id: [value or None]}`` as read (before missing rules), in the spec's unit.
    status : dict
        ``{factor_id: [status]}`` (``reported``/``revised``/``imputed``/``missing``→rule applied).
    coefficient : list of Fraction
        Performance coefficient per unit (1 without a performance block).
    grade : list of str or None
    last_year : list of Fraction or None
        Last year's amounts (万元) per unit, ``None`` where unknown.
    log : list of dict
        Every missing-data rule applied and every note (``kind, unit_code, factor_id, detail``).
    sources : dict
        ``{factor_id: "source text"}`` from the factor table.
    award_values : dict
        ``{factor_id: [Fraction per unit]}`` of the factors that per-point awards measure.
    """

    codes: list[str]
    excluded: dict[str, str]
    values: dict[str, list[Fraction]]
    population: dict[str, list[Fraction]]
    raw: dict[str, list[Any]]
    status: dict[str, list[str]]
    coefficient: list[Fraction]
    grade: list[str | None]
    last_year: list[Fraction | None]
    log: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    uom: dict[str, str] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    award_values: dict[str, list[Fraction]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# transforms (exact)


def _sqrt(x: Fraction) -> Fraction:
    """Square root to 50 significant digits with :mod:`decimal` (platform independent)."""
    if x == 0:
        return Fraction(0)
    with localcontext() as ctx:
        ctx.prec = 50
        return Fraction(str((Decimal(x.numerator) / Decimal(x.denominator)).sqrt()))


def zscores(f: FactorSpec, x: list[Fraction]) -> list[Fraction]:
    """Standardised scores ``(x − mean) ÷ sd`` (population sd), sign turned for ``-`` factors.

    This is the 标准化处理 of 财预〔2022〕58号: （某指标 − 该指标均值）÷ 该指标标准差. All zeros
    when every unit has the same value. The square root is taken to 50 digits.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> from evalkit.allocation.spec import FactorSpec
    >>> f = FactorSpec(id="g", name="g", weight=F(100), direction="+", transform="zscore")
    >>> [str(v) for v in zscores(f, [F(1), F(3)])]
    ['-1', '1']
    """
    n = len(x)
    mean = sum(x, Fraction(0)) / n
    var = sum(((v - mean) ** 2 for v in x), Fraction(0)) / n
    if var == 0:
        return [Fraction(0)] * n
    sd = _sqrt(var)
    return [((v - mean) if f.direction == "+" else (mean - v)) / sd for v in x]


def ratios_to_mean(f: FactorSpec, x: list[Fraction]) -> list[Fraction]:
    """Ratio to the average of the included units, clipped to the factor's ``bounds``.

    ``x_i ÷ mean`` for ``+`` factors and ``mean ÷ x_i`` for ``-`` factors (values > 0 checked).
    Without bounds the shares equal ``share`` / ``inverse_share``; bounds such as
    ``[0.5, 1.5]`` (该地区指标与全市平均值之比，最低 0.5、最高 1.5) make the difference.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> from evalkit.allocation.spec import FactorSpec
    >>> f = FactorSpec(id="g", name="g", weight=F(100), direction="+", transform="ratio_to_mean",
    ...                bounds=(F(1, 2), F(3, 2)))
    >>> [str(v) for v in ratios_to_mean(f, [F(1), F(2), F(9)])]
    ['1/2', '1/2', '3/2']
    """
    n = len(x)
    mean = sum(x, Fraction(0)) / n
    if mean == 0:
        return [Fraction(1)] * n
    r = [v / mean if f.direction == "+" else mean / v for v in x]
    if f.bounds is not None:
        lo, hi = f.bounds
        r = [min(max(v, lo), hi) for v in r]
    return r


def transform(f: FactorSpec, x: list[Fraction], pop: list[Fraction] | None = None
              ) -> list[Fraction]:
    """Turn raw values into a share vector summing to 1 (docs/allocation.md §2 step 3).

    Parameters
    ----------
    f : FactorSpec
        The factor (its ``transform``, ``direction`` and ``shift``).
    x : list of Fraction
        Values per unit.
    pop : list of Fraction, optional
        Population per unit, for ``per_capita``.

    Returns
    -------
    list of Fraction
    """
    n = len(x)
    if n == 0:
        return []
    t = f.transform
    if t == "share":
        score = list(x)
    elif t == "inverse_share":
        score = [1 / v for v in x]
    elif t == "per_capita":
        pc = [x[i] / pop[i] for i in range(n)]
        score = pc if f.direction == "+" else [1 / v for v in pc]  # '-': values > 0 checked
    elif t == "minmax_shift":
        lo, hi = min(x), max(x)
        if hi == lo:
            score = [Fraction(1)] * n
        else:
            rng = hi - lo
            score = [((v - lo) if f.direction == "+" else (hi - v)) / rng + f.shift for v in x]
    elif t == "zscore_shift":
        z = zscores(f, x)
        zmin = min(z)
        score = [Fraction(1)] * n if all(v == 0 for v in z) else [v - zmin + f.shift for v in z]
    elif t == "zscore":
        score = [f.score_base + f.score_scale * v for v in zscores(f, x)]  # > 0 checked
    elif t == "ratio_to_mean":
        score = ratios_to_mean(f, x)
    else:  # pragma: no cover - validated in spec.py
        raise AssertionError(t)
    tot = sum(score, Fraction(0))
    if tot == 0:
        return [Fraction(1, n)] * n
    return [v / tot for v in score]


# ------------------------------------------------------------------------------------------
# core computation


@dataclass
class Core:
    """Exact intermediate vectors of one allocation (all per unit, in code order)."""

    z: dict[str, list[Fraction]]
    contrib: dict[str, list[Fraction]]
    composite: list[Fraction]
    adjusted: list[Fraction]
    s: list[Fraction]
    base: list[Fraction]
    lo: list[Fraction]
    hi: list[Fraction | None]
    lam: Fraction
    continuous: list[Fraction]
    bound: list[str]
    quota: list[Fraction]
    floor_units: list[int]
    remainder: list[Fraction]
    plus: list[int]
    order: list[int]
    amounts: list[int]
    t_alloc: int
    awards: dict[str, list[Fraction]] = field(default_factory=dict)
    net_award: list[Fraction] = field(default_factory=list)

    @property
    def fill_base(self) -> list[Fraction]:
        """What each unit has before the factor increment: base plus net awards (奖补)."""
        if not self.net_award:
            return list(self.base)
        return [b + a for b, a in zip(self.base, self.net_award, strict=True)]


def declared_bounds(spec: AllocationSpec, codes: list[str], last: list[Fraction | None],
                    t_alloc: int | Fraction | None = None
                    ) -> tuple[list[Fraction], list[Fraction | None]]:
    """Floors and caps per unit as the spec declares them, before rounding to the unit.

    Same rules as :func:`bounds` (``max(floor, hold_harmless × last year)``,
    ``min(cap, cap_share × T_alloc)``) without rounding; the method sheet shows both.
    """
    t_alloc = spec.t_alloc if t_alloc is None else t_alloc
    lo, hi = [], []
    for c, ly in zip(codes, last, strict=True):
        f = spec.floor_units.get(c, spec.floor_default) or Fraction(0)
        if spec.hold_harmless > 0 and ly is not None:
            f = max(f, spec.hold_harmless * ly)
        lo.append(Fraction(f))
        cap = spec.cap_units.get(c, spec.cap_default)
        if spec.cap_share is not None:
            cs = spec.cap_share * t_alloc
            cap = cs if cap is None else min(cap, cs)
        hi.append(None if cap is None else Fraction(cap))
    return lo, hi


def bounds(spec: AllocationSpec, codes: list[str], last: list[Fraction | None],
           t_alloc: int | Fraction | None = None) -> tuple[list[Fraction], list[Fraction | None]]:
    """Integer floors and caps (multiples of the rounding unit) per unit.

    Floors are ``max(floor, hold_harmless × last year, 0)`` rounded *up* to the rounding unit,
    caps ``min(cap, cap_share × T_alloc)`` rounded *down*, so integer amounts can honour both.

    Parameters
    ----------
    spec : AllocationSpec
    codes : list of str
    last : list of Fraction or None
        Last year's amounts (for hold-harmless).
    t_alloc : int, optional
        Appropriation for ``cap_share`` (default ``spec.t_alloc``).
    """
    u = spec.rounding_unit
    lo_d, hi_d = declared_bounds(spec, codes, last, t_alloc)
    lo = [Fraction(math.ceil(f / u) * u) for f in lo_d]
    hi = [None if cap is None else Fraction(math.floor(cap / u) * u) for cap in hi_d]
    return lo, hi


def compute(spec: AllocationSpec, inp: Inputs, *, weights: Mapping[str, Fraction] | None = None,
            composite: list[Fraction] | None = None) -> Core:
    """Run steps 3–8 of docs/allocation.md §2 exactly on validated inputs.

    Parameters
    ----------
    spec : AllocationSpec
    inp : Inputs
    weights : mapping, optional
        ``{factor_id: weight}`` overriding the spec (renormalised to sum to 1).
    composite : list of Fraction, optional
        Use this composite share instead of the factors (e.g. an equal split baseline).

    Returns
    -------
    Core
    """
    codes = inp.codes
    n = len(codes)
    z: dict[str, list[Fraction]] = {}
    contrib: dict[str, list[Fraction]] = {}
    wts = {f.id: f.weight for f in spec.factors} if weights is None else dict(weights)
    wsum = sum(wts.values(), Fraction(0))
    if composite is None:
        comp = [Fraction(0)] * n
        for f in spec.factors:
            z[f.id] = transform(f, inp.values[f.id], inp.population.get(f.population_factor))
            w = wts.get(f.id, Fraction(0)) / wsum if wsum else Fraction(0)
            contrib[f.id] = [w * v for v in z[f.id]]
            comp = [a + b for a, b in zip(comp, contrib[f.id], strict=True)]
    else:
        comp = list(composite)
    adjusted = [p * c for p, c in zip(inp.coefficient, comp, strict=True)]
    tot = sum(adjusted, Fraction(0))
    if tot == 0:
        raise SpecError(["所有单位的综合得分 × 系数为 0 / composite × coefficient is 0 for every unit; "
                         "check the factor data and the performance map"],
                        header="分配输入有问题 / The allocation inputs have problems")
    s = [a / tot for a in adjusted]
    t_alloc = spec.t_alloc
    base = [spec.base_share * (ly or Fraction(0)) for ly in inp.last_year]
    lo, hi = bounds(spec, codes, inp.last_year)
    awards, net = award_amounts(spec, inp)
    fill = [b + a for b, a in zip(base, net, strict=True)] if awards else base
    wf = water_fill(fill, s, lo, hi, Fraction(t_alloc), labels=codes)
    if awards and wf.lam < 0:
        raise SpecError([f"{spec.where('awards')}: 奖励净额 {short_number(sum(net, Fraction(0)))} 万元（加基数）"
                         f"超过可分配额 {short_number(Fraction(t_alloc))} 万元，因素法部分将为负 / net awards "
                         f"{short_number(sum(net, Fraction(0)))} 万元 (plus the base) exceed T_alloc = "
                         f"{short_number(Fraction(t_alloc))} 万元, so the factor part would be negative; lower per_point_wan "
                         "or cap_wan, or raise total_wan"],
                        header="奖补超过可分配额 / The awards exceed the amount to allocate")
    u = spec.rounding_unit
    quota = [a / u for a in wf.amounts]
    caps_int = [None if h is None else int(h / u) for h in hi]
    if spec.rounding_method == "largest_remainder":
        r = largest_remainder(quota, t_alloc // u, codes, caps_int)
    else:
        r = largest_recipient(quota, t_alloc // u, codes, [int(v / u) for v in lo], caps_int)
    return Core(z=z, contrib=contrib, composite=comp, adjusted=adjusted, s=s, base=base, lo=lo,
                hi=hi, lam=wf.lam, continuous=wf.amounts, bound=wf.bound, quota=quota,
                floor_units=[v * u for v in r.floors], remainder=[v * u for v in r.remainders],
                plus=[v * u for v in r.plus], order=r.order, amounts=[v * u for v in r.amounts],
                t_alloc=t_alloc, awards=awards, net_award=net if awards else [])


def award_amounts(spec: AllocationSpec, inp: Inputs
                  ) -> tuple[dict[str, list[Fraction]], list[Fraction]]:
    """Per-point awards and deductions per unit (奖补), and their net per unit.

    Returns
    -------
    awards : dict
        ``{award_id: [amount per unit]}``; deductions are negative.
    net : list of Fraction
        Σ awards − Σ deductions per unit (zeros without an ``awards`` block).
    """
    n = len(inp.codes)
    out: dict[str, list[Fraction]] = {}
    for a in spec.awards:
        sign = 1 if a.kind == "award" else -1
        out[a.id] = [sign * a.amount(v) for v in inp.award_values[a.factor]]
    net = [sum((v[i] for v in out.values()), Fraction(0)) for i in range(n)]
    return out, net
