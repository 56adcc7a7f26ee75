"""The canonical county-year schema, held as data.

Every column of the county panel is described once here: its canonical name, dtype, unit of
measure, Chinese and English labels, the raw headers accepted for it, its role (identifier,
outcome, treatment, covariate), and the rules the validator applies (absorbing treatment,
non-negative, positive, required). The reader, the validator and the data dictionary
(``data_raw/README.md``) are all driven by :data:`SCHEMA`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from .._shared.exceptions import EvalkitError

Role = Literal["id", "outcome", "treatment", "covariate"]
Dtype = Literal["str", "int", "float", "flag"]

#: Units of measure the reader converts, grouped by the canonical unit they convert to.
#: Each entry maps a spelling found in headers (after normalisation) to the factor that turns a
#: value in that unit into the canonical unit.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "万元": {
        "元": 1e-4, "yuan": 1e-4, "cny": 1e-4, "rmb": 1e-4,
        "万元": 1.0, "wan": 1.0, "wanyuan": 1.0, "10kyuan": 1.0, "10k": 1.0,
        "亿元": 1e4, "yi": 1e4, "yiyuan": 1e4, "100myuan": 1e4, "100m": 1e4,
    },
    "吨标准煤": {"吨标准煤": 1.0, "吨标煤": 1.0, "tce": 1.0, "万吨标准煤": 1e4, "万吨标煤": 1e4, "10ktce": 1e4},
    "人": {"人": 1.0, "persons": 1.0, "person": 1.0, "万人": 1e4},
    "万人": {"万人": 1.0, "10k": 1.0, "10kpersons": 1.0, "人": 1e-4, "persons": 1e-4},
}


@dataclass(frozen=True)
class Column:
    """One canonical column of the county-year panel.

    Attributes
    ----------
    name : str
        Canonical snake_case name.
    dtype : {"str", "int", "float", "flag"}
        Stored type; ``flag`` is an integer 0/1 indicator.
    unit : str
        Unit of measure of the stored values ("" when not applicable).
    label_zh, label_en : str
        Chinese and English labels (data dictionary, tables).
    role : {"id", "outcome", "treatment", "covariate"}
        What the column is used for.
    meaning : str
        One-sentence definition for the data dictionary.
    aliases : tuple of str
        Accepted raw headers (Chinese or English), without a unit suffix.
    required : bool
        Whether a panel file must contain it (identifier columns that the unit master provides
        and derivable columns are not required).
    absorbing : bool
        A 0/1 treatment that, once on, never switches off within a unit.
    nonnegative : bool
        Values must be >= 0.
    positive : bool
        Values must be > 0 (the column is logged).
    convertible : bool
        Whether the reader converts units of measure (the header suffix or ``units=`` says which).

    Examples
    --------
    >>> from evalkit.data import column
    >>> c = column("revenue_wan")
    >>> c.name, c.dtype, c.unit
    ('revenue_wan', 'float', '万元')
    """

    name: str
    dtype: Dtype
    unit: str
    label_zh: str
    label_en: str
    role: Role
    meaning: str
    aliases: tuple[str, ...] = field(default_factory=tuple)
    required: bool = False
    absorbing: bool = False
    nonnegative: bool = False
    positive: bool = False
    convertible: bool = False


SCHEMA: tuple[Column, ...] = (
    Column("unit_code", "str", "", "单位代码", "Unit code", "id",
           "GB/T 2260 county-level code (text, e.g. 370702) or a zone id such as WF-Z-GXQ",
           ("代码", "区划代码", "行政区划代码", "单位代码", "县区代码", "统计用区划代码", "code", "unit", "unit_id",
            "county_code", "adcode", "gb_code"), required=True),
    Column("name_zh", "str", "", "单位名称", "Unit name (Chinese)", "id",
           "Chinese name of the unit (filled from the unit master when absent)",
           ("名称", "单位名称", "县市区", "县(市、区)", "地区", "name", "name_cn", "county_name")),
    Column("name_en", "str", "", "英文名称", "Unit name (English)", "id",
           "English name of the unit (filled from the unit master when absent)",
           ("英文名称", "name_english", "english_name")),
    Column("prefecture_code", "str", "", "地级市代码", "Prefecture code", "id",
           "GB/T 2260 code of the prefecture-level city (filled from the unit master)",
           ("地市代码", "地级市代码", "市代码", "prefecture_gb_code", "city_code")),
    Column("prefecture_zh", "str", "", "所属地级市", "Prefecture", "id",
           "Chinese name of the prefecture-level city (filled from the unit master)",
           ("地市", "所属地市", "所属地级市", "地级市", "prefecture_name", "city")),
    Column("unit_type", "str", "", "单位类型", "Unit type", "id",
           "district, county, county_city or zone (filled from the unit master)",
           ("类型", "单位类型", "type")),
    Column("in_weifang", "flag", "", "是否潍坊", "In Weifang", "id",
           "1 for Weifang's 12 county-level divisions and 4 city development zones, else 0",
           ("是否潍坊", "潍坊", "weifang")),
    Column("reported_within", "str", "", "统计含于", "Reported within", "id",
           "code of the unit whose published figures already include this unit's (e.g. a zone "
           "published together with its host district); blank = reported separately. Such a unit "
           "is counted once in Weifang-wide totals (filled from the unit master when absent)",
           ("统计含于", "数据含于", "含于", "并入统计", "reported_in", "included_in", "host_code")),
    Column("year", "int", "年", "年份", "Year", "id", "calendar year of the observation",
           ("年份", "年度", "年", "yr", "period"), required=True),
    Column("revenue_wan", "float", "万元", "规上工业营业收入", "Above-scale industrial operating revenue",
           "outcome", "operating revenue of above-scale industrial enterprises (annual revenue >= 20 million yuan)",
           ("规上工业营业收入", "规模以上工业营业收入", "规模以上工业企业营业收入", "工业营业收入", "营业收入",
            "营收", "revenue", "operating_revenue", "industrial_revenue"),
           required=True, nonnegative=True, positive=True, convertible=True),
    Column("value_added_wan", "float", "万元", "规上工业增加值", "Above-scale industrial value added", "outcome",
           "value added of above-scale industrial enterprises, current prices",
           ("规上工业增加值", "规模以上工业增加值", "工业增加值", "增加值", "value_added", "industrial_value_added"),
           nonnegative=True, positive=True, convertible=True),
    Column("n_firms", "int", "家", "规上工业企业数", "Above-scale industrial firms", "outcome",
           "number of above-scale industrial enterprises at year end",
           ("规上工业企业数", "规模以上工业企业数", "规上企业数", "企业数", "企业个数", "firms", "n_firm",
            "number_of_firms"), nonnegative=True),
    Column("rd_wan", "float", "万元", "R&D经费", "R&D expenditure", "outcome",
           "internal R&D expenditure of above-scale industrial enterprises",
           ("R&D经费", "研发经费", "研究与试验发展经费", "R&D经费内部支出", "rd", "rd_expenditure", "r&d"),
           nonnegative=True, convertible=True),
    Column("energy_tce", "float", "吨标准煤", "能源消费量", "Energy consumption", "outcome",
           "energy consumption of above-scale industry, tonnes of standard coal equivalent",
           ("能源消费量", "综合能源消费量", "规上工业能源消费量", "能耗", "energy", "energy_use",
            "energy_consumption"), nonnegative=True, convertible=True),
    Column("employment", "int", "人", "规上工业从业人员", "Above-scale industrial employment", "outcome",
           "average number of employed persons in above-scale industrial enterprises",
           ("规上工业从业人员", "从业人员", "从业人员平均人数", "就业人数", "employees", "employment_persons"),
           nonnegative=True, convertible=True),
    Column("population_10k", "float", "万人", "常住人口", "Resident population", "covariate",
           "year-end resident population",
           ("常住人口", "年末常住人口", "人口", "population", "pop"), nonnegative=True, positive=True,
           convertible=True),
    Column("log_pop_2015", "float", "", "2015年常住人口(对数)", "Log population 2015", "covariate",
           "ln of the 2015 resident population in 万人, time-invariant (derived from population_10k "
           "when absent)", ("ln_pop_2015", "log_population_2015", "2015年人口对数")),
    Column("pilot_zone", "flag", "", "试验区", "Pilot zone", "treatment",
           "1 from the year a unit is covered by the manufacturing pilot zone (Weifang units from 2021)",
           ("试验区", "是否试验区", "制造业高质量发展试验区", "pilot", "pilot_zone_flag"),
           required=True, absorbing=True),
    Column("first_unit_year", "int", "年", "首台套保险补偿起始年", "First-unit insurance: first year",
           "treatment", "first year the unit received first-unit (首台套) insurance compensation; 0 = never "
           "(a blank cell is read as 0 and reported)",
           ("首台套起始年", "首台套保险补偿起始年", "首台套首年", "首台套年份", "cohort", "first_unit_cohort",
            "first_year_first_unit"), required=True, nonnegative=True),
    Column("first_unit", "flag", "", "首台套保险补偿", "First-unit insurance", "treatment",
           "1 when year >= first_unit_year > 0 (derived from the cohort when absent)",
           ("首台套", "首台套保险补偿", "是否首台套", "first_unit_flag", "first_unit_insurance"), absorbing=True),
    Column("tech_subsidy_wan", "float", "万元", "技术改造补助", "Technology-upgrade subsidy", "treatment",
           "technology-upgrade (技术改造) subsidy received in the year",
           ("技术改造补助", "技改补助", "技术改造资金", "技改资金", "tech_subsidy", "technology_subsidy"),
           required=True, nonnegative=True, convertible=True),
    Column("factor_fund_wan", "float", "万元", "因素法分配资金", "Factor-method allocation", "treatment",
           "pilot-zone funds received under the factor-method allocation (Weifang units from 2022, else 0)",
           ("因素法分配资金", "因素法资金", "因素法分配", "分配资金", "factor_fund", "factor_allocation",
            "allocation"), required=True, nonnegative=True, convertible=True),
)

#: Columns added by :func:`evalkit.data.add_derived` (not read from files).
DERIVED: tuple[tuple[str, str, str, str], ...] = (
    ("log_revenue", "ln(revenue_wan)", "规上工业营业收入(对数)", "Log revenue"),
    ("log_value_added", "ln(value_added_wan)", "规上工业增加值(对数)", "Log value added"),
    ("tech_subsidy_intensity", "1000 × tech_subsidy_wan / previous year's revenue_wan (‰; 0 when "
     "no subsidy; missing in a unit's first year when a subsidy has no previous-year revenue)",
     "技改补助强度(‰)", "Tech-upgrade subsidy intensity (‰)"),
    ("tech_subsidy_start", "first year with tech_subsidy_wan > 0 (0 = never)", "技改补助起始年",
     "First tech-subsidy year"),
    ("tech_subsidy_dose", "the unit's intensity fixed from its first subsidised year: median of "
     "tech_subsidy_intensity over its subsidised years, rounded to 0.01‰ (0 = never)",
     "技改补助剂量(‰)", "Tech-subsidy dose (‰)"),
)

_BY_NAME = {c.name: c for c in SCHEMA}


def column(name: str) -> Column:
    """Return the schema entry of a canonical column.

    Parameters
    ----------
    name : str
        Canonical column name.

    Returns
    -------
    Column

    Examples
    --------
    >>> from evalkit.data import column
    >>> column("first_unit_year").label_en
    'First-unit insurance: first year'
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise EvalkitError(
            f"{name!r} is not a canonical panel column; known: {', '.join(_BY_NAME)}."
        ) from None


def column_names() -> list[str]:
    """Canonical column names in schema order."""
    return [c.name for c in SCHEMA]


def normalize_header(text: str) -> str:
    """Normalise a raw header for alias matching.

    Full-width characters become ASCII (NFKC), letters are lower-cased and spaces, dashes and
    dots become underscores collapsed to one.

    Parameters
    ----------
    text : str
        The raw header.

    Returns
    -------
    str
    """
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    t = re.sub(r"[\s\-\.·/]+", "_", t)
    t = re.sub(r"_+", "_", t).strip("_")
    return t


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for c in SCHEMA:
        for a in (c.name, *c.aliases, c.label_zh, c.label_en):
            key = normalize_header(a)
            if key in table and table[key] != c.name:  # pragma: no cover - schema integrity
                raise RuntimeError(f"alias {a!r} claimed by {table[key]} and {c.name}")
            table[key] = c.name
        if c.convertible and c.unit:
            # the stem of the canonical name (revenue_wan -> revenue) is accepted with a unit suffix
            stem = c.name.rsplit("_", 1)[0]
            table.setdefault(normalize_header(stem), c.name)
    return table


ALIASES: dict[str, str] = _alias_table()

_PAREN_UNIT = re.compile(r"^(?P<base>.+?)_?[(\[](?P<unit>[^()\[\]]+)[)\]]$")


def match_header(raw: str) -> tuple[str | None, str | None]:
    """Map a raw header to a canonical column and the unit its header declares.

    Recognises a unit in parentheses (``营业收入(亿元)``, ``revenue (100m yuan)``) or as an
    English suffix (``revenue_yi``, ``revenue_yuan``, ``revenue_wan``).

    Parameters
    ----------
    raw : str
        The header as found in the file.

    Returns
    -------
    (canonical, unit) : tuple
        ``canonical`` is None when the header is not recognised; ``unit`` is the unit spelling
        found in the header (normalised), or None when the header names no unit.
    """
    key = normalize_header(raw)
    m = _PAREN_UNIT.match(key)
    if m:
        base, unit = m.group("base").strip("_"), m.group("unit").replace("_", "")
        canon = ALIASES.get(base)
        if canon is not None:
            return canon, unit
    if key in ALIASES:
        canon = ALIASES[key]
        col = _BY_NAME[canon]
        if key == canon and col.convertible and col.unit:
            return canon, _canonical_unit_key(col.unit)
        return canon, None
    if "_" in key:
        base, suffix = key.rsplit("_", 1)
        canon = ALIASES.get(base)
        if canon is not None and _BY_NAME[canon].convertible:
            if suffix in UNIT_FACTORS.get(_BY_NAME[canon].unit, {}):
                return canon, suffix
    return None, None


def _canonical_unit_key(unit: str) -> str:
    return normalize_header(unit)


def unit_factor(col: Column, unit: str) -> float | None:
    """Factor converting a value in ``unit`` to the column's canonical unit (None if unknown).

    Parameters
    ----------
    col : Column
        Schema entry.
    unit : str
        Unit spelling (any case, full- or half-width).

    Returns
    -------
    float or None
    """
    table = UNIT_FACTORS.get(col.unit, {})
    key = normalize_header(unit).replace("_", "")
    return table.get(key)


def dictionary_markdown() -> str:
    """The data dictionary table (Markdown) generated from :data:`SCHEMA` and :data:`DERIVED`.

    ``data_raw/README.md`` embeds this text between ``<!-- BEGIN SCHEMA -->`` and
    ``<!-- END SCHEMA -->``; a test checks that they agree.

    Returns
    -------
    str
    """
    lines = ["| column | 中文 | unit | role | required | rules | accepted headers (besides the canonical name) | meaning |",
             "|---|---|---|---|---|---|---|---|"]
    for c in SCHEMA:
        rules = [r for r, on in (("absorbing", c.absorbing), ("≥ 0", c.nonnegative and not c.positive),
                                 ("> 0", c.positive), ("unit converted", c.convertible)) if on]
        if c.dtype == "str":
            rules.insert(0, "text")
        elif c.dtype == "flag":
            rules.insert(0, "0/1")
        elif c.dtype == "int":
            rules.insert(0, "whole number")
        heads = ", ".join(f"`{a}`" for a in c.aliases)
        lines.append(f"| `{c.name}` | {c.label_zh} | {c.unit or '—'} | {c.role} | "
                     f"{'yes' if c.required else 'no'} | {'; '.join(rules)} | {heads} | {c.meaning} |")
    lines += ["", "Derived by `load_panel` (never read from files):", "",
              "| column | 中文 | definition |", "|---|---|---|"]
    for name, definition, zh, _en in DERIVED:
        lines.append(f"| `{name}` | {zh} | {definition} |")
    return "\n".join(lines) + "\n"
