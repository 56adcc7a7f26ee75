"""The formula spec (分配方案): schema, YAML loading and validation.

A spec is one YAML file per fund and year that a finance officer edits (format in
``docs/allocation.md`` §1). :func:`load_spec` reads it, checks every field against the schema and
raises one :class:`~evalkit._shared.exceptions.SpecError` that lists **all** problems, each naming
the file, the line, the field, what was found and what is allowed, in Chinese and English.

Numbers that matter for exactness (weights, shares, coefficients) are kept as
:class:`fractions.Fraction` built from the text the user wrote, so ``0.1`` is exactly 1/10.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .._shared.exceptions import SpecError
from ..data.reader import read_text
from ._yaml import LinedDocument, load_with_lines

TRANSFORMS = ("share", "inverse_share", "minmax_shift", "zscore_shift", "per_capita", "zscore",
              "ratio_to_mean")
DIRECTIONS = ("+", "-")
MISSING_RULES = ("error", "zero", "carry_forward", "impute_share", "exclude_unit")
ROUNDING_METHODS = ("largest_remainder", "largest_recipient")
_ROUNDING_ALIASES = {"hamilton": "largest_remainder", "尾差": "largest_recipient",
                     "residual_to_largest": "largest_recipient"}
TIE_BREAKS = ("code",)
DEFAULT_SHIFT = Fraction(1, 100)

_TOP_KEYS = {
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
_AWARD_KEYS = ("id", "name", "factor", "kind", "threshold", "per_point_wan", "point", "min_wan",
               "cap_wan")
STAGES = ("征求意见稿", "送审稿", "定稿")
_FACTOR_KEYS = ("id", "name", "weight", "direction", "transform", "unit_of_measure", "convert",
                "shift", "population_factor", "source", "group", "bounds", "score_base",
                "score_scale")
_GROUP_KEYS = ("id", "name", "weight")
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
                data["factors"][i]["weight"] = _plain(weights[f["id"]])
        return spec_from_dict(data, source=self.source + " (weights changed)")

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
            f["weight"] = _exact_text(eff[f["id"]])
        return data


def _exact_text(x: Fraction) -> Any:
    """An int, or the exact decimal text of a Fraction, or ``"p/q"`` when it has no decimal form."""
    if x.denominator == 1:
        return int(x)
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    digits = 0
    while (x * 10 ** digits).denominator != 1:
        digits += 1
    n = x.numerator * 10 ** digits // x.denominator
    sign = "-" if n < 0 else ""
    n = abs(n)
    return f"{sign}{n // 10 ** digits}.{n % 10 ** digits:0{digits}d}"


#: Smallest money step: 0.01 万元 (100 元).
MIN_UNIT_WAN = Fraction(1, 100)


def _money(x: Fraction) -> int | Fraction:
    """An amount in 万元: ``int`` when whole (the usual case), else the exact Fraction."""
    return int(x) if x.denominator == 1 else x


def _cents(pr: Any, path: tuple, v: Fraction | None) -> Fraction | None:
    """Check an amount has at most two decimals (multiples of 0.01 万元 = 100 元)."""
    if v is not None and (v / MIN_UNIT_WAN).denominator != 1:
        pr.add(path, f"金额 {float(v)} 最多保留两位小数（0.01 万元 = 100 元）",
               f"amount {float(v)} has more than two decimals; 万元 amounts go down to 0.01 "
               "(100 元)")
        return None
    return v


def _plain(x: Any) -> Any:
    if isinstance(x, Fraction):
        return float(x) if x.denominator != 1 else int(x)
    return x


# ------------------------------------------------------------------------------------------
# loading


#: Largest accepted fund total (万元, i.e. 10 trillion yuan): a larger figure is a unit slip (元 as 万元).
MAX_TOTAL_WAN = Fraction(10**9)
_TOO_BIG = "（金额以万元计，是否误按元填写？/ amounts are in 万元: was it written in 元?）"


def load_spec(path: str | Path | Mapping[str, Any]) -> AllocationSpec:
    """Read and validate a formula spec (分配方案) YAML file.

    Parameters
    ----------
    path : str, Path or mapping
        A YAML file, a YAML string containing a newline, or an already parsed mapping.

    Returns
    -------
    AllocationSpec

    Raises
    ------
    SpecError
        Listing every problem at once, each with file, line and field, what was found and what
        is allowed (Chinese and English).

    Examples
    --------
    >>> from evalkit.allocation import load_spec
    >>> spec = load_spec("data_raw/demo/allocation/spec.yaml")
    >>> spec.year, len(spec.factors) > 0
    (2025, True)
    """
    if isinstance(path, Mapping):
        return spec_from_dict(path)
    text_in = str(path)
    if isinstance(path, str) and "\n" in path:
        return _from_document(load_with_lines(path, "<spec text>"))
    p = Path(text_in)
    if not p.is_file():
        raise SpecError(
            [f"找不到规则文件 / spec file not found: {p}. 请检查路径 / check the path."],
            header="规则文件无法读取 / The spec file cannot be read",
        )
    return _from_document(_load_file(p))


def _load_file(p: Path) -> LinedDocument:
    """Parse a spec file read by the shared reader (UTF-8, BOM, GB18030/GBK); the encoding is noted."""
    enc_notes: list[str] = []
    doc = load_with_lines(read_text(p, notes=enc_notes), p.name)
    doc.notes.extend(enc_notes)
    return doc


def spec_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> AllocationSpec:
    """Validate an already parsed spec mapping (no line numbers available).

    Parameters
    ----------
    data : mapping
        Same structure as the YAML file.
    source : str
        Name used in messages.

    Returns
    -------
    AllocationSpec

    Examples
    --------
    >>> from evalkit.allocation import spec_from_dict
    >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100,
    ...                      "factors": [{"id": "a", "weight": 100}]})
    >>> sp.fund, sp.year
    ('f', 2025)
    """
    doc = LinedDocument(data=None, source=source)
    doc.data = _plain_tree(data, (), doc)
    return _from_document(doc)


def _plain_tree(obj: Any, path: tuple, doc: LinedDocument) -> Any:
    """Copy a mapping tree with text keys (numeric keys become text, with a note)."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if isinstance(k, (int, float)) and not isinstance(k, bool):
                doc.notes.append(f"{doc.where(*path)}: 键 {k} 为数字，已按文本 \"{k}\" 处理 / key {k} is a "
                                 f"number; kept as the text \"{k}\"")
            key = k if isinstance(k, str) else str(k)
            out[key] = _plain_tree(v, path + (key,), doc)
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain_tree(v, path + (i,), doc) for i, v in enumerate(obj)]
    if isinstance(obj, Fraction):
        return float(obj) if obj.denominator != 1 else int(obj)
    if hasattr(obj, "item") and not isinstance(obj, str):
        return obj.item()
    return obj


class _Problems:
    def __init__(self, doc: LinedDocument):
        self.doc = doc
        self.items: list[str] = []

    def add(self, path: tuple, zh: str, en: str) -> None:
        self.items.append(f"{self.doc.where(*path)}: {zh} / {en}")


def _num(pr: _Problems, path: tuple, value: Any, *, lo: Fraction | None = None,
         hi: Fraction | None = None, integer: bool = False, what: str = "") -> Fraction | None:
    """Convert to Fraction, checking type and range; record a problem and return None if bad."""
    allowed = ("整数 / an integer" if integer else "数字 / a number")
    rng = ""
    if lo is not None or hi is not None:
        rng = f" 范围/range [{'' if lo is None else lo}, {'' if hi is None else hi}]"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        pr.add(path, f"应为{allowed}{rng}，实际为 {value!r}", f"expected {allowed}{rng}, got {value!r}")
        return None
    try:
        raw = pr.doc.raw.get(path)
        v = Fraction(raw.replace("_", "")) if raw is not None and isinstance(value, (int, float)) \
            and re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", raw.replace("_", "")) \
            else Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        pr.add(path, f"应为{allowed}{rng}，实际为 {value!r}", f"expected {allowed}{rng}, got {value!r}")
        return None
    if integer and v.denominator != 1:
        pr.add(path, f"应为整数（万元），实际为 {value!r}",
               f"expected an integer (万元), got {value!r}; round it in the spec")
        return None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        pr.add(path, f"取值 {value!r} 超出范围{rng}{what}", f"value {value!r} is outside{rng}{what}")
        return None
    return v


def _code(pr: _Problems, path: tuple, value: Any) -> str | None:
    """A unit code as text; numbers that YAML parsed are turned back into their typed text."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        raw = pr.doc.raw.get(path, str(value))
        pr.doc.notes.append(
            f"{pr.doc.where(*path)}: 单位代码 {raw} 被 YAML 读作数字，已按文本 \"{raw}\" 处理（建议加引号）"
            f" / unit code {raw} was read by YAML as a number; kept as the text \"{raw}\" "
            "(quote it to be explicit)"
        )
        return raw
    pr.add(path, f"单位代码应为文本，如 \"370702\" 或 \"WF-Z-GXQ\"，实际为 {value!r}",
           f"a unit code must be text such as \"370702\" or \"WF-Z-GXQ\", got {value!r}")
    return None


def _unknown_keys(pr: _Problems, path: tuple, obj: Mapping, allowed: Any) -> None:
    for k in obj:
        if k not in allowed:
            pr.add(path + (k,), f"未知字段 `{k}`；允许的字段：{', '.join(map(str, allowed))}",
                   f"unknown field `{k}`; allowed: {', '.join(map(str, allowed))}")


def _unique_id(pr: _Problems, path: tuple, value: Any, seen: set[str], *, kind_zh: str,
               kind_en: str, fallback: str) -> str:
    """The ``id`` of one item of a list (award, pool): an identifier not used before in ``seen``.

    A bad or repeated id is reported and ``fallback`` stands in, so later checks still run.
    """
    if not isinstance(value, str) or not _ID_RE.match(value) or value in seen:
        pr.add(path + ("id",), f"{kind_zh}代码应为不重复的标识符（字母开头），实际为 {value!r}",
               f"{kind_en} id must be a unique identifier starting with a letter, got {value!r}")
        value = fallback
    seen.add(value)
    return value


def _per_unit(pr: _Problems, path: tuple, value: Any, *, what: str
              ) -> tuple[Fraction | None, dict[str, Fraction]]:
    """``200`` or ``{default: 200, "370772": 300}`` → (default, {code: value})."""
    if value is None:
        return None, {}
    if not isinstance(value, Mapping):
        return _num(pr, path, value, lo=Fraction(0), what=what), {}
    default = None
    units: dict[str, Fraction] = {}
    for k, v in value.items():
        if k == "default":
            default = _num(pr, path + (k,), v, lo=Fraction(0), what=what)
            continue
        code = k if isinstance(k, str) else str(k)
        n = _num(pr, path + (k,), v, lo=Fraction(0), what=what)
        if n is not None:
            units[code] = n
    return default, units


def _parse_awards(pr: _Problems, al: Any) -> tuple[AwardSpec, ...]:
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
    for i, a in enumerate(al):
        path = ("awards", i)
        if not isinstance(a, Mapping):
            pr.add(path, "每项奖补应为映射 {id, factor, kind, threshold, per_point_wan}",
                   "each award must be a mapping {id, factor, kind, threshold, per_point_wan}")
            continue
        _unknown_keys(pr, path, a, _AWARD_KEYS)
        aid = _unique_id(pr, path, a.get("id"), seen, kind_zh="奖补", kind_en="an award",
                         fallback=f"award{i + 1}")
        fac = a.get("factor")
        if not isinstance(fac, str) or not _ID_RE.match(fac):
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
            nums[key] = _num(pr, path + (key,), a[key], lo=lo, hi=MAX_TOTAL_WAN)
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


def _parse_groups(pr: _Problems, gl: Any) -> dict[str, GroupSpec]:
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
    for i, g in enumerate(gl):
        path = ("groups", i)
        if not isinstance(g, Mapping):
            pr.add(path, "每个一级因素应为映射 {id, name, weight}",
                   "each group must be a mapping {id, name, weight}")
            ok = False
            continue
        _unknown_keys(pr, path, g, _GROUP_KEYS)
        gid = g.get("id")
        if not isinstance(gid, str) or not _ID_RE.match(gid):
            pr.add(path + ("id",), f"一级因素代码应为字母开头的标识符，实际为 {gid!r}",
                   f"group id must be an identifier starting with a letter, got {gid!r}")
            ok = False
            continue
        if gid in out:
            pr.add(path + ("id",), f"一级因素代码 `{gid}` 重复", f"group id `{gid}` is repeated")
            ok = False
            continue
        w = _num(pr, path + ("weight",), g.get("weight"), lo=Fraction(0),
                 what="（权重为百分数，不得为负）/ (weights are percentages, never negative)")
        if w is None:
            ok = False
            w = Fraction(0)
        total += w
        out[gid] = GroupSpec(id=gid, name=str(g.get("name", gid)), weight=w)
    if ok and total != 100:
        listed = " + ".join(f"{g.id}:{_plain(g.weight)}" for g in out.values())
        pr.add(("groups",), f"一级因素权重之和为 {_plain(total)}，应为 100（{listed}）",
               f"group weights sum to {_plain(total)}, they must sum to 100 ({listed})")
    return out


def _group_weights(pr: _Problems, groups: dict[str, GroupSpec],
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
            listed = " + ".join(f"{fid}:{_plain(w)}" for fid, w in ms)
            pr.add(path, f"一级因素 `{gid}` 下二级因素权重之和为 {_plain(tot)}，应为 100（{listed}）",
                   f"the weights of the factors in group `{gid}` sum to {_plain(tot)}, they must "
                   f"sum to 100 ({listed})")
    return [replace(f, local_weight=f.weight, weight=groups[f.group].weight * f.weight / 100)
            if f.group else f for f in factors]


def _transform_options(pr: _Problems, path: tuple, f: Mapping[str, Any], transform: str
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
            lo = _num(pr, path + ("bounds", 0), b[0], lo=Fraction(0))
            hi = _num(pr, path + ("bounds", 1), b[1], lo=Fraction(0))
            if lo is not None and hi is not None:
                if hi <= lo or hi == 0:
                    pr.add(path + ("bounds",), f"上限 {b[1]} 应大于下限 {b[0]}",
                           f"the high bound {b[1]} must exceed the low bound {b[0]}")
                else:
                    bounds = (lo, hi)
    base, scale = Fraction(50), Fraction(10)
    if "score_base" in f and transform == "zscore":
        v = _num(pr, path + ("score_base",), f["score_base"])
        base = v if v is not None else base
    if "score_scale" in f and transform == "zscore":
        v = _num(pr, path + ("score_scale",), f["score_scale"], lo=Fraction(0))
        if v == 0:
            pr.add(path + ("score_scale",), "score_scale 必须为正", "score_scale must be positive")
        scale = v if v else scale
    return bounds, base, scale


def _parse_factors(pr: _Problems, data: Mapping[str, Any]
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
    groups = _parse_groups(pr, data.get("groups"))
    members: dict[str, list[tuple[str, Fraction]]] = {}
    seen: dict[str, int] = {}
    weight_sum = Fraction(0)
    weights_ok = True
    for i, f in enumerate(flist):
        path = ("factors", i)
        if not isinstance(f, Mapping):
            pr.add(path, "每个因素应为映射 {id, name, weight, direction, transform}",
                   "each factor must be a mapping {id, name, weight, direction, transform}")
            weights_ok = False
            continue
        _unknown_keys(pr, path, f, _FACTOR_KEYS)
        fid = f.get("id")
        if not isinstance(fid, str) or not _ID_RE.match(fid):
            pr.add(path + ("id",), f"因素代码应为字母开头的标识符，实际为 {fid!r}",
                   f"factor id must be an identifier starting with a letter, got {fid!r}")
            fid = f"#{i}"
        elif fid in seen:
            pr.add(path + ("id",), f"因素代码 `{fid}` 重复（第 {seen[fid] + 1} 项已使用）",
                   f"factor id `{fid}` is repeated (already used by item {seen[fid] + 1})")
        seen.setdefault(fid, i)
        w = _num(pr, path + ("weight",), f.get("weight"), lo=Fraction(0),
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
        bounds, score_base, score_scale = _transform_options(pr, path, f, transform)
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
                n = _num(pr, path + ("convert", u), m, lo=Fraction(0))
                if n is not None and n > 0:
                    conv[str(u)] = n
                elif n is not None:
                    pr.add(path + ("convert", u), "换算系数必须为正", "a conversion must be positive")
        shift = DEFAULT_SHIFT
        if "shift" in f:
            s = _num(pr, path + ("shift",), f["shift"], lo=Fraction(0))
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
            factors = _group_weights(pr, groups, members, factors)
        return factors, missing_map, tuple(groups.values())
    if flist and weights_ok and weight_sum != 100:
        listed = " + ".join(f"{f.id}:{_plain(f.weight)}" for f in factors)
        pr.add(("factors",), f"权重之和为 {_plain(weight_sum)}，应为 100（{listed}）",
               f"weights sum to {_plain(weight_sum)}, they must sum to 100 ({listed})")
    return factors, missing_map, ()



def redraw_blockers(spec: Any) -> list[str]:
    """Features of ``spec`` that tools redrawing weights and totals cannot handle.

    The recentred formula instrument (:mod:`evalkit.iv`) recomputes a spec with other factor
    weights and totals. First-level groups are folded into effective weights
    (:meth:`AllocationSpec.flat_data`) and new transforms are recomputed as they are; a spec
    with separate pools has no single weight vector or total, so it is refused.

    Returns
    -------
    list of str
        One bilingual line per unsupported feature (empty when the spec can be redrawn).
    """
    out = []
    if not isinstance(spec, AllocationSpec):
        out.append("资金池 pools（各池有各自的总额和因素，没有统一的权重向量）/ separate pools "
                   "(each pool has its own total and factors, so there is no single weight vector)")
    return out


def require_redrawable(spec: Any, what: str) -> None:
    """Raise :class:`SpecError` naming every feature of ``spec`` that ``what`` cannot redraw.

    Examples
    --------
    >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 10,
    ...                      "factors": [{"id": "a", "weight": 100}]})
    >>> require_redrawable(sp, "the recentred instrument")  # nothing to refuse
    """
    blockers = redraw_blockers(spec)
    if blockers:
        raise SpecError(blockers, header=(
            f"{what} 不支持方案 {getattr(spec, 'source', '')} 使用的以下功能 / {what} does not "
            "support these features of the spec; use a spec without them for the instrument"))


class _ProvisionalSpecError(SpecError):
    """A spec error that still carries a best-effort spec, so data checks can run too."""

    def __init__(self, problems: list[str], spec: AllocationSpec | None, header: str):
        super().__init__(problems, header=header)
        self.spec = spec


def load_spec_collecting(path: Any) -> tuple[AllocationSpec | None, list[str]]:
    """Load a spec and return ``(spec_or_provisional, problems)`` instead of raising.

    When the spec has problems but its structure is usable (e.g. only the weights do not sum to
    100), a provisional spec is returned with the problems so the factor data can be checked
    against it and every problem reported at once. Callers must not allocate with it.
    """
    from .pools import PooledSpec
    if isinstance(path, (AllocationSpec, PooledSpec)):
        return path, []
    try:
        if isinstance(path, Mapping):
            doc = LinedDocument(data=None, source="<dict>")
            doc.data = _plain_tree(path, (), doc)
        elif isinstance(path, str) and "\n" in path:
            doc = load_with_lines(path, "<spec text>")
        else:
            p = Path(str(path))
            if not p.is_file():
                return None, [f"找不到规则文件 / spec file not found: {p}. 请检查路径 / check the path."]
            doc = _load_file(p)
        return _from_document(doc, lenient=True), []
    except _ProvisionalSpecError as exc:
        return exc.spec, list(exc.problems)
    except SpecError as exc:
        return None, list(exc.problems)


def _from_document(doc: LinedDocument, lenient: bool = False) -> AllocationSpec:
    data = doc.data
    pr = _Problems(doc)
    if not isinstance(data, Mapping):
        raise SpecError([f"{doc.source}: 规则文件应为键值映射 / the spec must be a mapping of fields"],
                        header="规则文件有问题 / The spec has problems")
    if "pools" in data:
        from .pools import pooled_from_document
        return pooled_from_document(doc)
    _unknown_keys(pr, (), data, list(_TOP_KEYS))
    for req in ("fund", "year", "total_wan", "factors"):
        if req not in data:
            pr.add((), f"缺少必填字段 `{req}`（{_TOP_KEYS[req]}）",
                   f"required field `{req}` is missing ({_TOP_KEYS[req]})")
    fund = str(data.get("fund", ""))
    year_v = _num(pr, ("year",), data.get("year", 0), lo=Fraction(1900), hi=Fraction(2200),
                  integer=True) if "year" in data else None
    year = int(year_v) if year_v is not None else 0
    data_year = year - 1
    if "data_year" in data:
        dy = _num(pr, ("data_year",), data["data_year"], lo=Fraction(1900), hi=Fraction(2200),
                  integer=True)
        if dy is not None:
            data_year = int(dy)
    total = _cents(pr, ("total_wan",), _num(pr, ("total_wan",), data.get("total_wan", 0),
                                            lo=Fraction(0), hi=MAX_TOTAL_WAN, what=_TOO_BIG))
    reserve = _cents(pr, ("reserve_wan",), _num(pr, ("reserve_wan",), data.get("reserve_wan", 0),
                                                lo=Fraction(0), hi=MAX_TOTAL_WAN, what=_TOO_BIG))
    if total is not None and reserve is not None and reserve > total:
        pr.add(("reserve_wan",), f"预留 {reserve} 大于资金总额 {total}",
               f"reserve {reserve} exceeds total_wan {total}; it must be between 0 and the total")

    # base
    base_share = Fraction(0)
    base = data.get("base") or {}
    if not isinstance(base, Mapping):
        pr.add(("base",), "应为映射，如 {share_of_last_year: 0.5}",
               "expected a mapping such as {share_of_last_year: 0.5}")
    else:
        _unknown_keys(pr, ("base",), base, ["share_of_last_year"])
        if "share_of_last_year" in base:
            b = _num(pr, ("base", "share_of_last_year"), base["share_of_last_year"],
                     lo=Fraction(0), hi=Fraction(1), what="（0.5 表示上年的一半）/ (0.5 = half of last year)")
            base_share = b if b is not None else Fraction(0)

    factors, missing_map, groups = _parse_factors(pr, data)
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

    awards = _parse_awards(pr, data.get("awards"))
    advance_share = None
    adv = data.get("advance")
    if adv is not None:
        if not isinstance(adv, Mapping) or "share" not in adv:
            pr.add(("advance",), "应为 {share: 0.7}（预拨比例）", "expected {share: 0.7} (share advanced)")
        else:
            _unknown_keys(pr, ("advance",), adv, ["share"])
            advance_share = _num(pr, ("advance", "share"), adv["share"], lo=Fraction(0),
                                 hi=Fraction(1), what="（0.7 表示预拨 70%）/ (0.7 = 70% advanced)")

    # performance
    perf = None
    pdata = data.get("performance")
    if pdata is not None:
        if not isinstance(pdata, Mapping):
            pr.add(("performance",), "应为映射 {source_factor, map}", "expected {source_factor, map}")
        else:
            _unknown_keys(pr, ("performance",), pdata, ["source_factor", "grades", "map", "default"])
            pmap: dict[str, Fraction] = {}
            mp = pdata.get("map")
            if not isinstance(mp, Mapping) or not mp:
                pr.add(("performance", "map"), "需要等级到系数的映射，如 {优: 1.10, 良: 1.00}",
                       "needs a grade → coefficient mapping such as {优: 1.10, 良: 1.00}")
                mp = {}
            for g, c in mp.items():
                n = _num(pr, ("performance", "map", g), c, lo=Fraction(0))
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

    # constraints
    cons = data.get("constraints") or {}
    if not isinstance(cons, Mapping):
        pr.add(("constraints",), "应为映射", "expected a mapping")
        cons = {}
    _unknown_keys(pr, ("constraints",), cons, ["floor_wan", "cap_wan", "cap_share", "hold_harmless"])
    floor_default, floor_units = _per_unit(pr, ("constraints", "floor_wan"),
                                           cons.get("floor_wan"), what="")
    cap_default, cap_units = _per_unit(pr, ("constraints", "cap_wan"), cons.get("cap_wan"), what="")
    cap_share = None
    if cons.get("cap_share") is not None:
        cap_share = _num(pr, ("constraints", "cap_share"), cons["cap_share"], lo=Fraction(0),
                         hi=Fraction(1), what="（0.25 表示 25%）/ (0.25 = 25%)")
    hold = Fraction(0)
    if cons.get("hold_harmless") is not None:
        h = _num(pr, ("constraints", "hold_harmless"), cons["hold_harmless"], lo=Fraction(0),
                 hi=Fraction(1), what="（0.9 表示不低于上年的 90%）/ (0.9 = at least 90% of last year)")
        hold = h if h is not None else hold

    # rounding
    rnd = data.get("rounding") or {}
    if not isinstance(rnd, Mapping):
        pr.add(("rounding",), "应为映射", "expected a mapping")
        rnd = {}
    _unknown_keys(pr, ("rounding",), rnd, ["unit_wan", "method", "tie_break"])
    unit = _num(pr, ("rounding", "unit_wan"), rnd.get("unit_wan", 1), lo=MIN_UNIT_WAN,
                what="（最小 0.01 万元，即 100 元）/ (at least 0.01 万元 = 100 元)")
    unit = _cents(pr, ("rounding", "unit_wan"), unit)
    unit_i = _money(unit) if unit is not None else 1
    method = _ROUNDING_ALIASES.get(rnd.get("method", "largest_remainder"),
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
               f"预拨额 {_plain(advance_share * (total - reserve))} 万元不是取整单位 {_plain(unit)} 的整数倍",
               f"the advance {_plain(advance_share * (total - reserve))} 万元 (share × T_alloc) is "
               f"not a multiple of unit_wan {_plain(unit)}; choose a share that gives whole units")
    if total is not None and reserve is not None and unit is not None and (total - reserve) % unit:
        pr.add(("rounding", "unit_wan"),
               f"可分配额 {total - reserve} 不是取整单位 {unit} 的整数倍",
               f"T_alloc = {total - reserve} is not a multiple of unit_wan {unit}")

    # units
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
        _unknown_keys(pr, ("units",), ud, ["include", "exclude", "names"])
        for key, target in (("include", include), ("exclude", exclude)):
            lst = ud.get(key) or []
            if not isinstance(lst, list):
                pr.add(("units", key), "应为代码列表", "expected a list of unit codes")
                continue
            for j, c in enumerate(lst):
                code = _code(pr, ("units", key, j), c)
                if code is not None:
                    target.append(code)
        nm = ud.get("names") or {}
        if isinstance(nm, Mapping):
            names = {str(k): str(v) for k, v in nm.items()}
        both = sorted(set(include) & set(exclude))
        if both:
            pr.add(("units",), f"单位同时出现在 include 和 exclude：{', '.join(both)}",
                   f"units both included and excluded: {', '.join(both)}")

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
                total_wan=_money(total), reserve_wan=_money(reserve), base_share=base_share,
                factors=tuple(factors), performance=perf, floor_default=floor_default,
                floor_units=floor_units, cap_default=cap_default, cap_units=cap_units,
                cap_share=cap_share, hold_harmless=hold, rounding_unit=unit_i,
                rounding_method=method if method in ROUNDING_METHODS else "largest_remainder",
                tie_break="code", include=tuple(include), exclude=tuple(exclude),
                unit_names=names, notes=tuple(doc.notes), text_notes=tuple(text_notes),
                source=doc.source, document=doc,
                stage=None if stage is None else str(stage), groups=groups, awards=awards, advance_share=advance_share)
        raise _ProvisionalSpecError(pr.items, provisional, header=(
            f"规则文件 {doc.source} 有 {len(pr.items)} 个问题 / The spec {doc.source} has "
            f"{len(pr.items)} problem(s)"))
    return AllocationSpec(
        fund=fund, name=str(data.get("name") or fund), year=year, data_year=data_year,
        total_wan=_money(total), reserve_wan=_money(reserve), base_share=base_share,
        factors=tuple(factors), performance=perf, floor_default=floor_default,
        floor_units=floor_units, cap_default=cap_default, cap_units=cap_units,
        cap_share=cap_share, hold_harmless=hold, rounding_unit=unit_i, rounding_method=method,
        tie_break=tie, include=tuple(include), exclude=tuple(exclude), unit_names=names,
        notes=tuple(doc.notes), text_notes=tuple(text_notes), source=doc.source, document=doc,
        stage=None if stage is None else str(stage), groups=groups, awards=awards, advance_share=advance_share,
    )


def spec_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec file, for editors and external tooling.

    :func:`load_spec` is the authority (it also checks cross-field rules such as weights summing
    to 100 and gives bilingual messages with line numbers); this schema describes the same
    fields and allowed values so an editor can offer completion and early warnings.

    Returns
    -------
    dict

    Examples
    --------
    >>> from evalkit.allocation import spec_schema
    >>> schema = spec_schema()
    >>> schema["type"], "factors" in schema["properties"]
    ('object', True)
    """
    num = {"type": "number"}
    per_unit = {"oneOf": [{"type": "number", "minimum": 0},
                          {"type": "object", "additionalProperties": {"type": "number",
                                                                       "minimum": 0}}]}
    factor = {
        "type": "object", "additionalProperties": False, "required": ["id", "weight"],
        "properties": {
            "id": {"type": "string", "pattern": _ID_RE.pattern}, "name": {"type": "string"},
            "weight": {"type": "number", "minimum": 0, "maximum": 100},
            "direction": {"enum": list(DIRECTIONS) + ["positive", "negative", "正向", "逆向"]},
            "transform": {"enum": list(TRANSFORMS)},
            "unit_of_measure": {"type": "string"},
            "convert": {"type": "object", "additionalProperties": {"type": "number",
                                                                   "exclusiveMinimum": 0}},
            "shift": {"type": "number", "minimum": 0},
            "population_factor": {"type": "string"}, "source": {"type": "string"},
            "group": {"type": "string", "pattern": _ID_RE.pattern},
            "bounds": {"type": "array", "items": {"type": "number", "minimum": 0},
                       "minItems": 2, "maxItems": 2},
            "score_base": {"type": "number"},
            "score_scale": {"type": "number", "exclusiveMinimum": 0},
        },
    }
    group = {"type": "object", "additionalProperties": False, "required": ["id", "weight"],
             "properties": {"id": {"type": "string", "pattern": _ID_RE.pattern},
                            "name": {"type": "string"},
                            "weight": {"type": "number", "minimum": 0, "maximum": 100}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "evalkit allocation spec (因素法分配方案)",
        "type": "object", "additionalProperties": False,
        "required": ["fund", "year"],  # total_wan and factors: top level or per pool
        "properties": {
            "fund": {"type": "string"}, "name": {"type": "string"},
            "year": {"type": "integer", "minimum": 1900, "maximum": 2200},
            "data_year": {"type": "integer", "minimum": 1900, "maximum": 2200},
            "total_wan": {"type": "number", "minimum": 0, "multipleOf": 0.01},
            "reserve_wan": {"type": "number", "minimum": 0, "multipleOf": 0.01},
            "base": {"type": "object", "additionalProperties": False, "properties": {
                "share_of_last_year": {"type": "number", "minimum": 0, "maximum": 1}}},
            "groups": {"type": "array", "minItems": 1, "items": group},
            "awards": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "factor", "threshold", "per_point_wan"],
                "properties": {"id": {"type": "string", "pattern": _ID_RE.pattern},
                               "name": {"type": "string"},
                               "factor": {"type": "string", "pattern": _ID_RE.pattern},
                               "kind": {"enum": list(AWARD_KINDS) + ["奖励", "扣减"]},
                               "threshold": num, "per_point_wan": {"type": "number", "minimum": 0},
                               "point": {"type": "number", "exclusiveMinimum": 0},
                               "min_wan": {"type": "number", "minimum": 0},
                               "cap_wan": {"type": "number", "minimum": 0}}}},
            "pools": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["id", "total_wan", "units"],
                "properties": {"id": {"type": "string", "pattern": _ID_RE.pattern},
                               "name": {"type": "string"},
                               "total_wan": {"type": "number", "minimum": 0},
                               "reserve_wan": {"type": "number", "minimum": 0}}}},
            "factors": {"type": "array", "minItems": 1, "items": factor},
            "performance": {"type": "object", "additionalProperties": False,
                            "required": ["map"], "properties": {
                                "source_factor": {"type": "string"},
                                "grades": {"type": "object",
                                           "additionalProperties": {"type": "string"}},
                                "map": {"type": "object", "additionalProperties": num},
                                "default": {"type": "string"}}},
            "constraints": {"type": "object", "additionalProperties": False, "properties": {
                "floor_wan": per_unit, "cap_wan": per_unit,
                "cap_share": {"type": "number", "minimum": 0, "maximum": 1},
                "hold_harmless": {"type": "number", "minimum": 0, "maximum": 1}}},
            "missing": {"type": "object",
                        "additionalProperties": {"enum": list(MISSING_RULES)}},
            "rounding": {"type": "object", "additionalProperties": False, "properties": {
                "unit_wan": {"type": "number", "minimum": 0.01},
                "method": {"enum": list(ROUNDING_METHODS) + list(_ROUNDING_ALIASES)},
                "tie_break": {"enum": list(TIE_BREAKS)}}},
            "units": {"oneOf": [
                {"type": "array", "items": {"type": ["string", "integer"]}},
                {"type": "object", "additionalProperties": False, "properties": {
                    "include": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "exclude": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "names": {"type": "object", "additionalProperties": {"type": "string"}}}}]},
            "stage": {"enum": list(STAGES)},
            "notes": {"oneOf": [{"type": "string"},
                                {"type": "array", "items": {"type": "string"}}]},
        },
    }
