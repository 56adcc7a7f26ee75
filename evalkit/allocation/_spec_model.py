"""The parts of a spec (factors, groups, awards, performance) and the spec's vocabularies.

:class:`~evalkit.allocation.AllocationSpec` (in :mod:`._allocation_spec`) is made of these frozen
dataclasses; :mod:`.spec` loads and validates spec files (:func:`~evalkit.allocation.load_spec`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

TRANSFORMS = ("share", "inverse_share", "minmax_shift", "zscore_shift", "per_capita", "zscore",
              "ratio_to_mean")
DIRECTIONS = ("+", "-")
MISSING_RULES = ("error", "zero", "carry_forward", "impute_share", "exclude_unit")
ROUNDING_METHODS = ("largest_remainder", "largest_recipient")
ROUNDING_ALIASES = {"hamilton": "largest_remainder", "尾差": "largest_recipient",
                     "residual_to_largest": "largest_recipient"}
TIE_BREAKS = ("code",)
DEFAULT_SHIFT = Fraction(1, 100)

TOP_KEYS = {
    "fund": "资金名称 / fund name",
    "name": "方案名称 / scenario label",
    "year": "分配年度 / allocation year",
    "data_year": "因素数据年度 / year of the factor data (default year-1)",
    "total_wan": "资金总额(万元，最多两位小数) / total (万元, up to 2 decimals)",
    "reserve_wan": "预留(万元) / reserve (万元, up to 2 decimals)",
    "base": "基数 / base part",
    "groups": "一级因素 / first-level factor groups (optional)",
    "factors": "因素 / factors",
    "performance": "绩效调节系数 / performance coefficients",
    "constraints": "保底与上限 / floors and caps",
    "missing": "缺失数据规则 / missing-data rules",
    "rounding": "取整 / rounding",
    "units": "参与单位 / units included",
    "notes": "备注 / notes for the method sheet",
    "stage": "稿别 / draft stage: 征求意见稿, 送审稿 or 定稿",
    "pools": "资金池 / separate pools (each with its own total, units, factors ...)",
    "awards": "按点奖励与扣减 / per-point awards and deductions (奖补)",
    "advance": "预拨与清算 / advance now, settlement on final data: {share: 0.7}",
}
AWARD_KINDS = ("award", "deduction")
AWARD_KEYS = ("id", "name", "factor", "kind", "threshold", "per_point_wan", "point", "min_wan",
               "cap_wan")
STAGES = ("征求意见稿", "送审稿", "定稿")
FACTOR_KEYS = ("id", "name", "weight", "direction", "transform", "unit_of_measure", "convert",
                "shift", "population_factor", "source", "group", "bounds", "score_base",
                "score_scale")
GROUP_KEYS = ("id", "name", "weight")


@dataclass(frozen=True)
class FactorSpec:
    """One factor of the formula.

    Attributes
    ----------
    id : str
        Identifier used in the factor table (``factor_id``).
    name : str
        Chinese name for the method sheet.
    weight : Fraction
        Weight in percent (weights sum to 100).
    direction : {"+", "-"}
        ``+``: more is more; ``-``: less is more (handled by the transform, never by the weight).
    transform : str
        One of ``share``, ``inverse_share``, ``minmax_shift``, ``zscore_shift``, ``per_capita``,
        ``zscore`` (standard score ``base + scale × z``) and ``ratio_to_mean`` (ratio to the
        average, optionally clipped to ``bounds``).
    unit_of_measure : str or None
        Expected unit of measure in the factor table (``万元``, ``亿元``, ``人`` ...).
    convert : dict
        ``{other_unit: multiplier}`` accepted conversions to ``unit_of_measure``.
    shift : Fraction
        The ε added by ``minmax_shift`` / ``zscore_shift`` so no unit gets a zero score.
    population_factor : str or None
        Factor id of the population used by ``per_capita``.
    source : str or None
        Data source text for the method sheet (else taken from the factor table).
    missing : str
        Missing-data rule in force for this factor.
    bounds : tuple of Fraction or None
        ``(low, high)`` clip of the ``ratio_to_mean`` ratio (e.g. 0.5 and 1.5).
    score_base, score_scale : Fraction
        ``zscore`` score ``base + scale × z`` (defaults 50 and 10, the T score 标准分);
        must be > 0 for every unit.
    group : str or None
        Id of the first-level group (一级因素) this second-level factor belongs to.
    local_weight : Fraction or None
        Weight within the group in percent (the group's factors sum to 100); ``weight`` is then
        the effective weight ``group weight × local_weight / 100``.

    Examples
    --------
    >>> from evalkit.allocation import spec_from_dict
    >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100,
    ...                      "factors": [{"id": "gdp", "weight": 60}, {"id": "pop", "weight": 40}]})
    >>> f = sp.factors[0]
    >>> type(f).__name__, f.id, str(f.weight), f.transform
    ('FactorSpec', 'gdp', '60', 'share')
    """

    id: str
    name: str
    weight: Fraction
    direction: str
    transform: str
    unit_of_measure: str | None = None
    convert: dict[str, Fraction] = field(default_factory=dict)
    shift: Fraction = DEFAULT_SHIFT
    population_factor: str | None = None
    source: str | None = None
    missing: str = "error"
    bounds: tuple[Fraction, Fraction] | None = None
    score_base: Fraction = Fraction(50)
    score_scale: Fraction = Fraction(10)
    group: str | None = None
    local_weight: Fraction | None = None


@dataclass(frozen=True)
class GroupSpec:
    """A first-level factor (一级因素) grouping second-level factors (二级因素).

    Attributes
    ----------
    id : str
        Identifier named by the factors' ``group`` field.
    name : str
        Chinese name for the method sheet (e.g. 业务因素, 绩效因素).
    weight : Fraction
        Weight in percent (group weights sum to 100).
    """

    id: str
    name: str
    weight: Fraction


@dataclass(frozen=True)
class AwardSpec:
    """A per-point award or deduction (按点奖励/扣减), e.g. 每提高 1 个百分点奖励 500 万元，最高 1 亿元.

    For an ``award`` the points are ``(value − threshold) ÷ point`` where positive, for a
    ``deduction`` ``(threshold − value) ÷ point``; the amount is ``per_point_wan × points``,
    raised to ``min_wan`` when a unit qualifies and limited to ``cap_wan``.

    Attributes
    ----------
    id, name : str
    factor : str
        Factor id in the factor table whose value is measured (need not be weighted).
    kind : {"award", "deduction"}
    threshold : Fraction
        Value above which awards (below which deductions) start.
    per_point_wan : Fraction
        万元 per point.
    point : Fraction
        Size of one point in the factor's unit (default 1, e.g. one percentage point).
    min_wan, cap_wan : Fraction or None
        Smallest amount for a unit that qualifies, largest amount per unit.
    """

    id: str
    name: str
    factor: str
    kind: str
    threshold: Fraction
    per_point_wan: Fraction
    point: Fraction = Fraction(1)
    min_wan: Fraction | None = None
    cap_wan: Fraction | None = None

    def amount(self, value: Fraction) -> Fraction:
        """The award (or deduction, as a positive amount) for one unit's value.

        Examples
        --------
        >>> from fractions import Fraction as F
        >>> a = AwardSpec("g", "增速奖励", "grw", "award", F(5), F(500), cap_wan=F(10000))
        >>> a.amount(F("8.5")), a.amount(F(40)), a.amount(F(4))
        (Fraction(1750, 1), Fraction(10000, 1), Fraction(0, 1))
        """
        gap = value - self.threshold if self.kind == "award" else self.threshold - value
        if gap <= 0:
            return Fraction(0)
        amt = self.per_point_wan * gap / self.point
        if self.min_wan is not None:
            amt = max(amt, self.min_wan)
        if self.cap_wan is not None:
            amt = min(amt, self.cap_wan)
        return amt


@dataclass(frozen=True)
class PerformanceSpec:
    """Performance grades mapped to coefficients (绩效调节系数), renormalised afterwards.

    Attributes
    ----------
    source_factor : str or None
        Factor id in the factor table whose value is the grade (e.g. ``grade``).
    grades : dict
        ``{unit_code: grade}`` given in the spec itself (used when ``source_factor`` is None).
    map : dict
        ``{grade: coefficient}``.
    default : str or None
        Grade used for a unit without one; ``None`` makes a missing grade an error.
    """

    source_factor: str | None
    grades: dict[str, str]
    map: dict[str, Fraction]
    default: str | None = None
