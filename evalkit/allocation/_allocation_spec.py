""":class:`AllocationSpec` and the validation of one spec document (without pools) into it.

Each block of the file (header, base, factors and groups, awards, advance, performance,
constraints, rounding, units, stage and notes) has its own reader; every problem goes into one
:class:`~evalkit.allocation._inputs.Problems` list and one :class:`SpecError`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .._shared.exceptions import SpecError
from ._inputs import (
    ID_RE,
    MAX_TOTAL_WAN,
    MIN_UNIT_WAN,
    TOO_BIG,
    Problems,
    check_cents,
    check_identifier,
    check_unique_id,
    check_unknown_keys,
    exact_text,
    mapping_items,
    money_value,
    parse_code,
    parse_number,
    parse_per_unit,
    plain_number,
    plain_tree,
)
from ._spec_model import (
    AWARD_KEYS,
    AWARD_KINDS,
    DEFAULT_SHIFT,
    DIRECTIONS,
    FACTOR_KEYS,
    GROUP_KEYS,
    MISSING_RULES,
    ROUNDING_ALIASES,
    ROUNDING_METHODS,
    STAGES,
    TIE_BREAKS,
    TOP_KEYS,
    TRANSFORMS,
    AwardSpec,
    FactorSpec,
    GroupSpec,
    PerformanceSpec,
)
from ._yaml import LinedDocument


@dataclass(frozen=True)
class AllocationSpec:
    """A validated allocation rule. Build it with :func:`load_spec` or :func:`spec_from_dict`.

    Attributes
    ----------
    fund, name : str
        Fund name and scenario label.
    year, data_year : int
        Allocation year and the year of the factor data (declared; default ``year - 1``).
    total_wan, reserve_wan : int or Fraction
        Appropriation and reserve (预留), 万元 (``int`` when whole; down to 0.01 万元).
    base_share : Fraction
        β in ``base_i = β × last_year_i``.
    factors : tuple of FactorSpec
    performance : PerformanceSpec or None
    floor_default, cap_default : Fraction or None
        Default floor / cap in 万元; per-unit values in ``floor_units`` / ``cap_units``.
    cap_share : Fraction or None
        No unit above this share of ``T_alloc``.
    hold_harmless : Fraction
        Each unit gets at least this fraction of last year's amount.
    rounding_unit : int or Fraction
        Amounts are multiples of this many 万元 (1 by default; down to 0.01 万元).
    rounding_method : str
        ``largest_remainder`` (default) or ``largest_recipient`` (尾差 to the largest recipient).
    include, exclude : tuple of str
        Units taking part (empty ``include`` = every unit in the factor table) and units left out.
    unit_names : dict
        Names given in the spec (override the unit master).
    notes : tuple of str
        Notes from loading (numeric keys kept as text ...), shown in the method sheet.
    stage : str or None
        Draft stage printed in the workbook title: 征求意见稿, 送审稿 or 定稿.
    advance_share : Fraction or None
        预拨比例: the share of each unit's allocation on preliminary data paid in advance; the
        rest is settled (清算) against the final data (:func:`evalkit.allocation.settle`).
    awards : tuple of AwardSpec
        Per-point awards and deductions (奖补), added to / subtracted from the factor amounts.
    groups : tuple of GroupSpec
        First-level factors (一级因素) when the spec has a ``groups`` block; each factor's
        ``weight`` is then its effective weight (group weight × weight within the group / 100).
    source : str
        File name.
    document : LinedDocument
        The parsed YAML with line numbers (used to place later errors, e.g. unknown codes).

    Examples
    --------
    >>> from evalkit.allocation import spec_from_dict
    >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100,
    ...                      "factors": [{"id": "gdp", "weight": 60}, {"id": "pop", "weight": 40}]})
    >>> type(sp).__name__, sp.year, [f.id for f in sp.factors]
    ('AllocationSpec', 2025, ['gdp', 'pop'])
    """

    fund: str
    name: str
    year: int
    data_year: int
    total_wan: int | Fraction
    reserve_wan: int | Fraction
    base_share: Fraction
    factors: tuple[FactorSpec, ...]
    performance: PerformanceSpec | None
    floor_default: Fraction | None
    floor_units: dict[str, Fraction]
    cap_default: Fraction | None
    cap_units: dict[str, Fraction]
    cap_share: Fraction | None
    hold_harmless: Fraction
    rounding_unit: int | Fraction
    rounding_method: str
    tie_break: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    unit_names: dict[str, str]
    notes: tuple[str, ...]
    text_notes: tuple[str, ...]
    source: str
    document: LinedDocument = field(repr=False, compare=False)
    stage: str | None = None
    groups: tuple[GroupSpec, ...] = ()
    awards: tuple[AwardSpec, ...] = ()
    advance_share: Fraction | None = None

    @property
    def t_alloc(self) -> int | Fraction:
        """``total_wan - reserve_wan``: the amount to allocate now (万元)."""
        return self.total_wan - self.reserve_wan

    @property
    def factor_ids(self) -> list[str]:
        """Factor ids in spec order."""
        return [f.id for f in self.factors]

    def canonical(self) -> str:
        """Canonical JSON of the spec data (sorted keys): the spec part of the inputs hash."""
        return json.dumps(self.document.data, sort_keys=True, ensure_ascii=False, default=str,
                          separators=(",", ":"))

    def sha256(self) -> str:
        """SHA-256 of :meth:`canonical`."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    def where(self, *path: Any) -> str:
        """Location text (file, line, field) for messages about this spec."""
        return self.document.where(*path)

    def with_weights(self, weights: Mapping[str, Any]) -> AllocationSpec:
        """Return a copy with new factor weights (percent; must still sum to 100).

        Parameters
        ----------
        weights : mapping
            ``{factor_id: weight_in_percent}``; factors not named keep their weight.
        """
        data = self.flat_data()
        for i, f in enumerate(data["factors"]):
            if f["id"] in weights:
                data["factors"][i]["weight"] = plain_number(weights[f["id"]])
        doc = LinedDocument(data=None, source=self.source + " (weights changed)")
        doc.data = plain_tree(data, (), doc)
        return from_document(doc)

    def flat_data(self) -> dict[str, Any]:
        """The spec data with first-level groups folded into effective factor weights.

        A spec with ``groups`` gives the same allocation as this flat spec, where each factor's
        ``weight`` is ``group weight × weight within the group / 100`` (exact text). Tools that
        change factor weights (sensitivity, the recentred instrument) work on this form.

        Returns
        -------
        dict
            A plain mapping that :func:`spec_from_dict` accepts.

        Examples
        --------
        >>> from evalkit.allocation import spec_from_dict
        >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100,
        ...     "groups": [{"id": "biz", "weight": 80}, {"id": "perf", "weight": 20}],
        ...     "factors": [{"id": "a", "group": "biz", "weight": 50},
        ...                 {"id": "b", "group": "biz", "weight": 50},
        ...                 {"id": "c", "group": "perf", "weight": 100}]})
        >>> [f["weight"] for f in sp.flat_data()["factors"]]
        [40, 40, 20]
        """
        data = json.loads(self.canonical())
        if not self.groups:
            return data
        eff = {f.id: f.weight for f in self.factors}
        data.pop("groups", None)
        for f in data["factors"]:
            f.pop("group", None)
            f["weight"] = exact_text(eff[f["id"]])
        return data


def parse_awards(pr: Problems, al: Any) -> tuple[AwardSpec, ...]:
    """Parse the optional ``awards`` block (按点奖励与扣减)."""
    if al is None:
        return ()
    if not isinstance(al, list) or not al:
        pr.add(("awards",), "应为非空列表，每项如 {id: grw_award, factor: grw, kind: award, threshold: 5, "
               "per_point_wan: 500, cap_wan: 10000}",
               "expected a non-empty list of items like {id: grw_award, factor: grw, kind: award, "
               "threshold: 5, per_point_wan: 500, cap_wan: 10000}")
        return ()
    out: list[AwardSpec] = []
    seen: set[str] = set()
    for i, path, a in mapping_items(pr, "awards", al, AWARD_KEYS,
                                    "每项奖补应为映射 {id, factor, kind, threshold, per_point_wan}",
                                    "each award must be a mapping {id, factor, kind, threshold, per_point_wan}"):
        if a is None:
            continue
        aid = check_unique_id(pr, path, a.get("id"), seen, kind_zh="奖补", kind_en="an award",
                         fallback=f"award{i + 1}")
        fac = a.get("factor")
        if not isinstance(fac, str) or not ID_RE.match(fac):
            pr.add(path + ("factor",), f"需要 factor（因素表中的因素代码），实际为 {fac!r}",
                   f"needs factor (a factor id of the factor table), got {fac!r}")
        kind = a.get("kind", "award")
        kind = {"奖励": "award", "扣减": "deduction"}.get(kind, kind)
        if kind not in AWARD_KINDS:
            pr.add(path + ("kind",), f"kind {kind!r} 无效；允许 award（奖励）或 deduction（扣减）",
                   f"invalid kind {kind!r}; allowed: award or deduction")
        nums = {}
        for key, lo, req in (("threshold", None, True), ("per_point_wan", Fraction(0), True),
                             ("point", Fraction(0), False), ("min_wan", Fraction(0), False),
                             ("cap_wan", Fraction(0), False)):
            if key not in a:
                if req:
                    pr.add(path, f"奖补 `{aid}` 缺少 `{key}`", f"award `{aid}` needs `{key}`")
                continue
            nums[key] = parse_number(pr, path + (key,), a[key], lo=lo, hi=MAX_TOTAL_WAN)
        if nums.get("point") == 0:
            pr.add(path + ("point",), "point 必须为正", "point must be positive")
            nums["point"] = None
        if nums.get("min_wan") is not None and nums.get("cap_wan") is not None and \
                nums["min_wan"] > nums["cap_wan"]:
            pr.add(path + ("min_wan",), f"最低额 {a['min_wan']} 高于最高额 {a['cap_wan']}",
                   f"min_wan {a['min_wan']} exceeds cap_wan {a['cap_wan']}")
        if None in (nums.get("threshold"), nums.get("per_point_wan")) or kind not in AWARD_KINDS \
                or not isinstance(fac, str):
            continue
        out.append(AwardSpec(id=aid, name=str(a.get("name", aid)), factor=fac, kind=kind,
                             threshold=nums["threshold"], per_point_wan=nums["per_point_wan"],
                             point=nums.get("point") or Fraction(1), min_wan=nums.get("min_wan"),
                             cap_wan=nums.get("cap_wan")))
    return tuple(out)


def parse_groups(pr: Problems, gl: Any) -> dict[str, GroupSpec]:
    """Parse the optional ``groups`` block (一级因素): ``{id: GroupSpec}`` in spec order."""
    if gl is None:
        return {}
    if not isinstance(gl, list) or not gl:
        pr.add(("groups",), "应为非空列表，每项如 {id: biz, name: 业务因素, weight: 85}",
               "expected a non-empty list of items like {id: biz, name: 业务因素, weight: 85}")
        return {}
    out: dict[str, GroupSpec] = {}
    total = Fraction(0)
    ok = True
    for _, path, g in mapping_items(pr, "groups", gl, GROUP_KEYS, "每个一级因素应为映射 {id, name, weight}",
                                    "each group must be a mapping {id, name, weight}"):
        if g is None:
            ok = False
            continue
        gid = g.get("id")
        if not check_identifier(pr, path, gid, "一级因素", "group"):
            ok = False
            continue
        if gid in out:
            pr.add(path + ("id",), f"一级因素代码 `{gid}` 重复", f"group id `{gid}` is repeated")
            ok = False
            continue
        w = parse_number(pr, path + ("weight",), g.get("weight"), lo=Fraction(0),
                 what="（权重为百分数，不得为负）/ (weights are percentages, never negative)")
        if w is None:
            ok = False
            w = Fraction(0)
        total += w
        out[gid] = GroupSpec(id=gid, name=str(g.get("name", gid)), weight=w)
    if ok and total != 100:
        listed = " + ".join(f"{g.id}:{plain_number(g.weight)}" for g in out.values())
        pr.add(("groups",), f"一级因素权重之和为 {plain_number(total)}，应为 100（{listed}）",
               f"group weights sum to {plain_number(total)}, they must sum to 100 ({listed})")
    return out


def group_weights(pr: Problems, groups: dict[str, GroupSpec],
                   members: dict[str, list[tuple[str, Fraction]]],
                   factors: list[FactorSpec]) -> list[FactorSpec]:
    """Check each group's second-level weights sum to 100; return factors with effective weights."""
    from dataclasses import replace

    for gi, gid in enumerate(groups):
        ms = members.get(gid, [])
        path = ("groups", gi)
        if not ms:
            pr.add(path, f"一级因素 `{gid}` 下没有二级因素（没有 factors 项写 group: {gid}）",
                   f"group `{gid}` has no factors (no item of factors says group: {gid})")
            continue
        tot = sum((w for _, w in ms), Fraction(0))
        if tot != 100:
            listed = " + ".join(f"{fid}:{plain_number(w)}" for fid, w in ms)
            pr.add(path, f"一级因素 `{gid}` 下二级因素权重之和为 {plain_number(tot)}，应为 100（{listed}）",
                   f"the weights of the factors in group `{gid}` sum to {plain_number(tot)}, they must "
                   f"sum to 100 ({listed})")
    return [replace(f, local_weight=f.weight, weight=groups[f.group].weight * f.weight / 100)
            if f.group else f for f in factors]


def transform_options(pr: Problems, path: tuple, f: Mapping[str, Any], transform: str
                       ) -> tuple[tuple[Fraction, Fraction] | None, Fraction, Fraction]:
    """``bounds`` (ratio_to_mean) and ``score_base``/``score_scale`` (zscore) of one factor."""
    for key, owner in (("bounds", "ratio_to_mean"), ("score_base", "zscore"),
                       ("score_scale", "zscore")):
        if key in f and transform != owner:
            pr.add(path + (key,), f"`{key}` 只用于 transform: {owner}，本因素为 {transform}",
                   f"`{key}` applies only to transform: {owner}; this factor uses {transform}")
    bounds = None
    b = f.get("bounds")
    if b is not None and transform == "ratio_to_mean":
        if not isinstance(b, list) or len(b) != 2:
            pr.add(path + ("bounds",), f"应为 [下限, 上限]，如 [0.5, 1.5]，实际为 {b!r}",
                   f"expected [low, high] such as [0.5, 1.5], got {b!r}")
        else:
            lo = parse_number(pr, path + ("bounds", 0), b[0], lo=Fraction(0))
            hi = parse_number(pr, path + ("bounds", 1), b[1], lo=Fraction(0))
            if lo is not None and hi is not None:
                if hi <= lo or hi == 0:
                    pr.add(path + ("bounds",), f"上限 {b[1]} 应大于下限 {b[0]}",
                           f"the high bound {b[1]} must exceed the low bound {b[0]}")
                else:
                    bounds = (lo, hi)
    base, scale = Fraction(50), Fraction(10)
    if "score_base" in f and transform == "zscore":
        v = parse_number(pr, path + ("score_base",), f["score_base"])
        base = v if v is not None else base
    if "score_scale" in f and transform == "zscore":
        v = parse_number(pr, path + ("score_scale",), f["score_scale"], lo=Fraction(0))
        if v == 0:
            pr.add(path + ("score_scale",), "score_scale 必须为正", "score_scale must be positive")
        scale = v if v else scale
    return bounds, base, scale


def parse_factors(pr: Problems, data: Mapping[str, Any]
                   ) -> tuple[list[FactorSpec], dict[str, str], tuple[GroupSpec, ...]]:
    """Parse ``groups``, ``factors`` and ``missing`` (shared by allocation and scoring specs)."""
    # missing rules
    miss = data.get("missing") or {}
    missing_default = "error"
    missing_map: dict[str, str] = {}
    if not isinstance(miss, Mapping):
        pr.add(("missing",), "应为映射，如 {default: error, grw: carry_forward}",
               "expected a mapping such as {default: error, grw: carry_forward}")
        miss = {}
    for k, v in miss.items():
        if v not in MISSING_RULES:
            pr.add(("missing", k), f"缺失规则 {v!r} 无效；允许：{', '.join(MISSING_RULES)}",
                   f"invalid missing-data rule {v!r}; allowed: {', '.join(MISSING_RULES)}")
            continue
        if k == "default":
            missing_default = v
        else:
            missing_map[str(k)] = v

    # factors
    factors: list[FactorSpec] = []
    flist = data.get("factors", [])
    if not isinstance(flist, list) or not flist:
        if "factors" in data:
            pr.add(("factors",), "应为非空列表，每项如 {id: rev, weight: 30, direction: +, transform: share}",
                   "expected a non-empty list of items like "
                   "{id: rev, weight: 30, direction: +, transform: share}")
        flist = []
    groups = parse_groups(pr, data.get("groups"))
    members: dict[str, list[tuple[str, Fraction]]] = {}
    seen: dict[str, int] = {}
    weight_sum = Fraction(0)
    weights_ok = True
    for i, path, f in mapping_items(pr, "factors", flist, FACTOR_KEYS,
                                    "每个因素应为映射 {id, name, weight, direction, transform}",
                                    "each factor must be a mapping {id, name, weight, direction, transform}"):
        if f is None:
            weights_ok = False
            continue
        fid = f.get("id")
        if not check_identifier(pr, path, fid, "因素", "factor"):
            fid = f"#{i}"
        elif fid in seen:
            pr.add(path + ("id",), f"因素代码 `{fid}` 重复（第 {seen[fid] + 1} 项已使用）",
                   f"factor id `{fid}` is repeated (already used by item {seen[fid] + 1})")
        seen.setdefault(fid, i)
        w = parse_number(pr, path + ("weight",), f.get("weight"), lo=Fraction(0),
                 what="（权重为百分数，不得为负）/ (weights are percentages, never negative)")
        if w is None:
            weights_ok = False
            w = Fraction(0)
        weight_sum += w
        direction = f.get("direction", "+")
        direction = {"positive": "+", "negative": "-", "正向": "+", "逆向": "-"}.get(direction,
                                                                                  direction)
        if direction not in DIRECTIONS:
            pr.add(path + ("direction",), f"方向 {direction!r} 无效；允许 + 或 -",
                   f"invalid direction {direction!r}; allowed: + or -")
        transform = f.get("transform", "share")
        if transform not in TRANSFORMS:
            pr.add(path + ("transform",), f"变换 {transform!r} 无效；允许：{', '.join(TRANSFORMS)}",
                   f"invalid transform {transform!r}; allowed: {', '.join(TRANSFORMS)}")
        elif direction == "-" and transform == "share":
            pr.add(path + ("direction",),
                   "逆向因素（越少越多）不能用 share，请用 inverse_share、minmax_shift 或 zscore_shift",
                   "a '-' factor (less is more) cannot use transform share; use inverse_share, "
                   "minmax_shift or zscore_shift")
        elif direction == "+" and transform == "inverse_share":
            pr.add(path + ("direction",), "inverse_share 只用于逆向因素，请将 direction 设为 -",
                   "inverse_share is for '-' factors; set direction: -")
        bounds, score_base, score_scale = transform_options(pr, path, f, transform)
        pop = f.get("population_factor")
        if transform == "per_capita" and not pop:
            pr.add(path + ("population_factor",),
                   "per_capita 需要 population_factor（人口因素代码，如 pop）",
                   "per_capita needs population_factor (the factor id of population, e.g. pop)")
        conv: dict[str, Fraction] = {}
        cv = f.get("convert") or {}
        if not isinstance(cv, Mapping):
            pr.add(path + ("convert",), "应为映射，如 {亿元: 10000}", "expected a mapping like {亿元: 10000}")
        else:
            for u, m in cv.items():
                n = parse_number(pr, path + ("convert", u), m, lo=Fraction(0))
                if n is not None and n > 0:
                    conv[str(u)] = n
                elif n is not None:
                    pr.add(path + ("convert", u), "换算系数必须为正", "a conversion must be positive")
        shift = DEFAULT_SHIFT
        if "shift" in f:
            s = parse_number(pr, path + ("shift",), f["shift"], lo=Fraction(0))
            shift = s if s is not None else shift
        grp = f.get("group")
        if grp is not None and not groups:
            pr.add(path + ("group",), f"因素指定了 group: {grp}，但方案没有 groups（一级因素）块",
                   f"factor names group: {grp} but the spec has no groups block (first-level "
                   "factors); add groups or remove group")
        elif groups and grp not in groups:
            pr.add(path + ("group",), f"一级因素 {grp!r} 不在 groups 中；已有：{', '.join(groups)}",
                   f"group {grp!r} is not in groups; known: {', '.join(groups)}")
        elif groups:
            members.setdefault(grp, []).append((fid, w))
        factors.append(FactorSpec(
            id=fid, name=str(f.get("name", fid)), weight=w, direction=direction,
            transform=transform, unit_of_measure=(str(f["unit_of_measure"])
                                                  if f.get("unit_of_measure") else None),
            convert=conv, shift=shift, population_factor=str(pop) if pop else None,
            source=str(f["source"]) if f.get("source") else None,
            missing=missing_map.get(fid, missing_default),
            group=str(grp) if groups and grp in groups else None, bounds=bounds,
            score_base=score_base, score_scale=score_scale,
        ))
    if groups:
        if weights_ok:
            factors = group_weights(pr, groups, members, factors)
        return factors, missing_map, tuple(groups.values())
    if flist and weights_ok and weight_sum != 100:
        listed = " + ".join(f"{f.id}:{plain_number(f.weight)}" for f in factors)
        pr.add(("factors",), f"权重之和为 {plain_number(weight_sum)}，应为 100（{listed}）",
               f"weights sum to {plain_number(weight_sum)}, they must sum to 100 ({listed})")
    return factors, missing_map, ()


class ProvisionalSpecError(SpecError):
    """A spec error that still carries a best-effort spec, so data checks can run too."""

    def __init__(self, problems: list[str], spec: AllocationSpec | None, header: str):
        super().__init__(problems, header=header)
        self.spec = spec


def _read_header(pr: Problems, data: Mapping[str, Any]):
    """Fund, year, data year, total and reserve (``year_v`` None when the year is bad)."""
    for req in ("fund", "year", "total_wan", "factors"):
        if req not in data:
            pr.add((), f"缺少必填字段 `{req}`（{TOP_KEYS[req]}）",
                   f"required field `{req}` is missing ({TOP_KEYS[req]})")
    fund = str(data.get("fund", ""))
    year_v = parse_number(pr, ("year",), data.get("year", 0), lo=Fraction(1900), hi=Fraction(2200),
                  integer=True) if "year" in data else None
    year = int(year_v) if year_v is not None else 0
    data_year = year - 1
    if "data_year" in data:
        dy = parse_number(pr, ("data_year",), data["data_year"], lo=Fraction(1900), hi=Fraction(2200),
                  integer=True)
        if dy is not None:
            data_year = int(dy)
    total = check_cents(pr, ("total_wan",), parse_number(pr, ("total_wan",), data.get("total_wan", 0),
                                            lo=Fraction(0), hi=MAX_TOTAL_WAN, what=TOO_BIG))
    reserve = check_cents(pr, ("reserve_wan",), parse_number(pr, ("reserve_wan",), data.get("reserve_wan", 0),
                                                lo=Fraction(0), hi=MAX_TOTAL_WAN, what=TOO_BIG))
    if total is not None and reserve is not None and reserve > total:
        pr.add(("reserve_wan",), f"预留 {reserve} 大于资金总额 {total}",
               f"reserve {reserve} exceeds total_wan {total}; it must be between 0 and the total")
    return fund, year_v, year, data_year, total, reserve


def _read_base(pr: Problems, data: Mapping[str, Any]):
    """The ``base`` block: the share of last year paid as base."""
    base_share = Fraction(0)
    base = data.get("base") or {}
    if not isinstance(base, Mapping):
        pr.add(("base",), "应为映射，如 {share_of_last_year: 0.5}",
               "expected a mapping such as {share_of_last_year: 0.5}")
    else:
        check_unknown_keys(pr, ("base",), base, ["share_of_last_year"])
        if "share_of_last_year" in base:
            b = parse_number(pr, ("base", "share_of_last_year"), base["share_of_last_year"],
                     lo=Fraction(0), hi=Fraction(1), what="（0.5 表示上年的一半）/ (0.5 = half of last year)")
            base_share = b if b is not None else Fraction(0)
    return base_share


def _read_factors(pr: Problems, data: Mapping[str, Any]):
    """Factors, missing-data rules and groups, with checks across them."""
    factors, missing_map, groups = parse_factors(pr, data)
    fids = {f.id for f in factors}
    seen = {f.id: i for i, f in enumerate(factors)}
    for k in missing_map:
        if k not in fids and not (data.get("performance") or {}).get("source_factor") == k:
            pr.add(("missing", k), f"因素 `{k}` 不在 factors 中；已有：{', '.join(sorted(fids))}",
                   f"factor `{k}` is not in factors; known: {', '.join(sorted(fids))}")
    for f in factors:
        if f.population_factor and f.population_factor == f.id:
            pr.add(("factors", seen.get(f.id, 0), "population_factor"),
                   "人口因素不能是它自身", "population_factor cannot be the factor itself")
    return factors, missing_map, groups


def _read_advance(pr: Problems, data: Mapping[str, Any]):
    """The ``advance`` block: the share advanced now (``None`` without one)."""
    advance_share = None
    adv = data.get("advance")
    if adv is not None:
        if not isinstance(adv, Mapping) or "share" not in adv:
            pr.add(("advance",), "应为 {share: 0.7}（预拨比例）", "expected {share: 0.7} (share advanced)")
        else:
            check_unknown_keys(pr, ("advance",), adv, ["share"])
            advance_share = parse_number(pr, ("advance", "share"), adv["share"], lo=Fraction(0),
                                 hi=Fraction(1), what="（0.7 表示预拨 70%）/ (0.7 = 70% advanced)")
    return advance_share


def _read_performance(pr: Problems, data: Mapping[str, Any]):
    """The ``performance`` block (``None`` without one)."""
    perf = None
    pdata = data.get("performance")
    if pdata is not None:
        if not isinstance(pdata, Mapping):
            pr.add(("performance",), "应为映射 {source_factor, map}", "expected {source_factor, map}")
        else:
            check_unknown_keys(pr, ("performance",), pdata, ["source_factor", "grades", "map", "default"])
            pmap: dict[str, Fraction] = {}
            mp = pdata.get("map")
            if not isinstance(mp, Mapping) or not mp:
                pr.add(("performance", "map"), "需要等级到系数的映射，如 {优: 1.10, 良: 1.00}",
                       "needs a grade → coefficient mapping such as {优: 1.10, 良: 1.00}")
                mp = {}
            for g, c in mp.items():
                n = parse_number(pr, ("performance", "map", g), c, lo=Fraction(0))
                if n is not None:
                    pmap[str(g)] = n
            grades: dict[str, str] = {}
            gd = pdata.get("grades") or {}
            if not isinstance(gd, Mapping):
                pr.add(("performance", "grades"), "应为 {单位代码: 等级}", "expected {unit_code: grade}")
                gd = {}
            for u, g in gd.items():
                if str(g) not in pmap:
                    pr.add(("performance", "grades", u), f"等级 {g!r} 不在 map 中：{', '.join(pmap)}",
                           f"grade {g!r} is not in map: {', '.join(pmap)}")
                grades[str(u)] = str(g)
            sf = pdata.get("source_factor")
            if sf is None and not grades:
                pr.add(("performance",), "需要 source_factor（因素表中的等级）或 grades（逐单位等级）",
                       "needs source_factor (grades in the factor table) or grades (per unit)")
            default = pdata.get("default")
            if default is not None and str(default) not in pmap:
                pr.add(("performance", "default"), f"默认等级 {default!r} 不在 map 中",
                       f"default grade {default!r} is not in map")
            perf = PerformanceSpec(source_factor=str(sf) if sf else None, grades=grades, map=pmap,
                                   default=str(default) if default is not None else None)
    return perf


def _read_constraints(pr: Problems, data: Mapping[str, Any]):
    """The ``constraints`` block: floors, caps, cap share and hold-harmless."""
    cons = data.get("constraints") or {}
    if not isinstance(cons, Mapping):
        pr.add(("constraints",), "应为映射", "expected a mapping")
        cons = {}
    check_unknown_keys(pr, ("constraints",), cons, ["floor_wan", "cap_wan", "cap_share", "hold_harmless"])
    floor_default, floor_units = parse_per_unit(pr, ("constraints", "floor_wan"),
                                           cons.get("floor_wan"), what="")
    cap_default, cap_units = parse_per_unit(pr, ("constraints", "cap_wan"), cons.get("cap_wan"), what="")
    cap_share = None
    if cons.get("cap_share") is not None:
        cap_share = parse_number(pr, ("constraints", "cap_share"), cons["cap_share"], lo=Fraction(0),
                         hi=Fraction(1), what="（0.25 表示 25%）/ (0.25 = 25%)")
    hold = Fraction(0)
    if cons.get("hold_harmless") is not None:
        h = parse_number(pr, ("constraints", "hold_harmless"), cons["hold_harmless"], lo=Fraction(0),
                 hi=Fraction(1), what="（0.9 表示不低于上年的 90%）/ (0.9 = at least 90% of last year)")
        hold = h if h is not None else hold
    return floor_default, floor_units, cap_default, cap_units, cap_share, hold


def _read_rounding(pr: Problems, data: Mapping[str, Any], advance_share, total, reserve):
    """The ``rounding`` block, checked against the total and the advance."""
    rnd = data.get("rounding") or {}
    if not isinstance(rnd, Mapping):
        pr.add(("rounding",), "应为映射", "expected a mapping")
        rnd = {}
    check_unknown_keys(pr, ("rounding",), rnd, ["unit_wan", "method", "tie_break"])
    unit = parse_number(pr, ("rounding", "unit_wan"), rnd.get("unit_wan", 1), lo=MIN_UNIT_WAN,
                what="（最小 0.01 万元，即 100 元）/ (at least 0.01 万元 = 100 元)")
    unit = check_cents(pr, ("rounding", "unit_wan"), unit)
    unit_i = money_value(unit) if unit is not None else 1
    method = ROUNDING_ALIASES.get(rnd.get("method", "largest_remainder"),
                                   rnd.get("method", "largest_remainder"))
    if method not in ROUNDING_METHODS:
        pr.add(("rounding", "method"), f"取整方法 {method!r} 无效；允许：{', '.join(ROUNDING_METHODS)}",
               f"invalid rounding method {method!r}; allowed: {', '.join(ROUNDING_METHODS)}")
    tie = rnd.get("tie_break", "code")
    if tie not in TIE_BREAKS:
        pr.add(("rounding", "tie_break"), f"并列规则 {tie!r} 无效；允许：code",
               f"invalid tie_break {tie!r}; allowed: code")
    if advance_share is not None and total is not None and reserve is not None and \
            unit is not None and (advance_share * (total - reserve)) % unit:
        pr.add(("advance", "share"),
               f"预拨额 {plain_number(advance_share * (total - reserve))} 万元不是取整单位 {plain_number(unit)} 的整数倍",
               f"the advance {plain_number(advance_share * (total - reserve))} 万元 (share × T_alloc) is "
               f"not a multiple of unit_wan {plain_number(unit)}; choose a share that gives whole units")
    if total is not None and reserve is not None and unit is not None and (total - reserve) % unit:
        pr.add(("rounding", "unit_wan"),
               f"可分配额 {total - reserve} 不是取整单位 {unit} 的整数倍",
               f"T_alloc = {total - reserve} is not a multiple of unit_wan {unit}")
    return unit_i, method, tie


def _read_units(pr: Problems, data: Mapping[str, Any]):
    """The ``units`` block: included and excluded codes and names."""
    include: list[str] = []
    exclude: list[str] = []
    names: dict[str, str] = {}
    ud = data.get("units")
    if ud is not None:
        if isinstance(ud, list):
            ud = {"include": ud}
        if not isinstance(ud, Mapping):
            pr.add(("units",), "应为代码列表或 {include, exclude, names}",
                   "expected a list of codes or {include, exclude, names}")
            ud = {}
        check_unknown_keys(pr, ("units",), ud, ["include", "exclude", "names"])
        for key, target in (("include", include), ("exclude", exclude)):
            lst = ud.get(key) or []
            if not isinstance(lst, list):
                pr.add(("units", key), "应为代码列表", "expected a list of unit codes")
                continue
            for j, c in enumerate(lst):
                code = parse_code(pr, ("units", key, j), c)
                if code is not None:
                    target.append(code)
        nm = ud.get("names") or {}
        if isinstance(nm, Mapping):
            names = {str(k): str(v) for k, v in nm.items()}
        both = sorted(set(include) & set(exclude))
        if both:
            pr.add(("units",), f"单位同时出现在 include 和 exclude：{', '.join(both)}",
                   f"units both included and excluded: {', '.join(both)}")
    return include, exclude, names


def _read_stage_notes(pr: Problems, data: Mapping[str, Any]):
    """Draft stage and the notes for the method sheet."""
    stage = data.get("stage")
    if stage is not None and str(stage) not in STAGES:
        pr.add(("stage",), f"稿别 {stage!r} 无效；允许：{'、'.join(STAGES)}",
               f"invalid stage {stage!r}; allowed: {', '.join(STAGES)}")
        stage = None
    text_notes: list[str] = []
    nt = data.get("notes")
    if isinstance(nt, str):
        text_notes = [nt]
    elif isinstance(nt, list):
        text_notes = [str(x) for x in nt]
    return stage, text_notes


def from_document(doc: LinedDocument, lenient: bool = False) -> AllocationSpec:
    """Validate one spec document into an :class:`AllocationSpec` (every problem in one error).

    With ``lenient`` the problems raise :class:`ProvisionalSpecError` carrying a best-effort spec.
    """
    data = doc.data
    pr = Problems(doc)
    if not isinstance(data, Mapping):
        raise SpecError([f"{doc.source}: 规则文件应为键值映射 / the spec must be a mapping of fields"],
                        header="规则文件有问题 / The spec has problems")
    check_unknown_keys(pr, (), data, list(TOP_KEYS))
    fund, year_v, year, data_year, total, reserve = _read_header(pr, data)
    base_share = _read_base(pr, data)
    factors, missing_map, groups = _read_factors(pr, data)
    awards = parse_awards(pr, data.get("awards"))
    advance_share = _read_advance(pr, data)
    perf = _read_performance(pr, data)
    floor_default, floor_units, cap_default, cap_units, cap_share, hold = _read_constraints(pr, data)
    unit_i, method, tie = _read_rounding(pr, data, advance_share, total, reserve)
    include, exclude, names = _read_units(pr, data)
    stage, text_notes = _read_stage_notes(pr, data)
    if pr.items and not lenient:
        raise SpecError(pr.items, header=(f"规则文件 {doc.source} 有 {len(pr.items)} 个问题 / "
                                          f"The spec {doc.source} has {len(pr.items)} problem(s)"))
    if pr.items:
        provisional = None
        if total is not None and reserve is not None and year_v is not None and \
                all(f.transform in TRANSFORMS for f in factors):
            # never used to compute amounts: only to check the data against it
            provisional = AllocationSpec(
                fund=fund, name=str(data.get("name") or fund), year=year, data_year=data_year,
                total_wan=money_value(total), reserve_wan=money_value(reserve), base_share=base_share,
                factors=tuple(factors), performance=perf, floor_default=floor_default,
                floor_units=floor_units, cap_default=cap_default, cap_units=cap_units,
                cap_share=cap_share, hold_harmless=hold, rounding_unit=unit_i,
                rounding_method=method if method in ROUNDING_METHODS else "largest_remainder",
                tie_break="code", include=tuple(include), exclude=tuple(exclude),
                unit_names=names, notes=tuple(doc.notes), text_notes=tuple(text_notes),
                source=doc.source, document=doc,
                stage=None if stage is None else str(stage), groups=groups, awards=awards, advance_share=advance_share)
        raise ProvisionalSpecError(pr.items, provisional, header=(
            f"规则文件 {doc.source} 有 {len(pr.items)} 个问题 / The spec {doc.source} has "
            f"{len(pr.items)} problem(s)"))
    return AllocationSpec(
        fund=fund, name=str(data.get("name") or fund), year=year, data_year=data_year,
        total_wan=money_value(total), reserve_wan=money_value(reserve), base_share=base_share,
        factors=tuple(factors), performance=perf, floor_default=floor_default,
        floor_units=floor_units, cap_default=cap_default, cap_units=cap_units,
        cap_share=cap_share, hold_harmless=hold, rounding_unit=unit_i, rounding_method=method,
        tie_break=tie, include=tuple(include), exclude=tuple(exclude), unit_names=names,
        notes=tuple(doc.notes), text_notes=tuple(text_notes), source=doc.source, document=doc,
        stage=None if stage is None else str(stage), groups=groups, awards=awards, advance_share=advance_share,
    )
