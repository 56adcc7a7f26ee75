"""Who may receive money: unit names, groups and the recipients of a spec year.

One unit master decides: ``evalkit.data.masters`` (Weifang's statistical units and the code
crosswalk). A unit is a recipient in year ``Y`` when it is a Weifang statistical unit
(``is_panel_unit = 1``) that is active in ``Y``: not the old code of a merger or recode whose
``effective_year`` is ``Y`` or earlier. A spec may narrow the list (``units.include``); it can never
add a unit the master does not know.

Rows that are not units at all (合计, 小计, a city code such as 370700) are *aggregate rows*; they
and unknown codes are refused by the engine with the file rows named (:func:`classify`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

ZONE, COUNTY = "zone", "county"
AGGREGATE_WORDS = ("合计", "小计", "总计", "全市", "全省", "总额", "total", "subtotal")
_CITY_CODE = re.compile(r"^\d{4}00$")


@lru_cache(maxsize=1)
def master() -> dict[str, dict[str, str]]:
    """Return ``{code: {"name_zh", "name_en", "group", "map_polygon", "is_panel_unit",
    "notes"}}`` for Weifang's statistical units, read from ``evalkit.data.masters``."""
    from ..data.masters import weifang_units

    out: dict[str, dict[str, str]] = {}
    for row in weifang_units().itertuples(index=False):
        out[row.unit_code] = {
            "name_zh": row.name_zh, "name_en": row.name_en,
            "group": ZONE if row.unit_type == "zone" else COUNTY,
            "map_polygon": str(row.map_polygon), "is_panel_unit": str(row.is_panel_unit),
            "notes": row.notes or ""}
    return out


def group_of(code: str) -> str:
    """``"zone"`` for a development zone (370772 or a ``WF-Z-*`` id), else ``"county"``."""
    row = master().get(code)
    if row is not None:
        return row["group"]
    return ZONE if code.startswith("WF-Z-") or code == "370772" else COUNTY


def name_of(code: str, language: str = "zh") -> str:
    """Name of a unit from the master, or the code itself when unknown."""
    row = master().get(code)
    if row is None:
        return code
    return row["name_zh"] if language == "zh" else row["name_en"]


@lru_cache(maxsize=1)
def _crosswalk() -> pd.DataFrame:
    from ..data.masters import crosswalk

    return crosswalk()


def _changes(cw: pd.DataFrame) -> list[tuple[str, str, int]]:
    return [(str(o), str(n), int(y)) for o, n, y in
            zip(cw["old_code"], cw["new_code"], cw["effective_year"], strict=True)]


def recipients(year: int, *, crosswalk: pd.DataFrame | None = None) -> list[str]:
    """Codes that may receive money in allocation year ``year`` (code order).

    Parameters
    ----------
    year : int
        The spec's allocation year.
    crosswalk : DataFrame, optional
        Code changes (``old_code, new_code, effective_year``); default the package crosswalk.

    Returns
    -------
    list of str

    Examples
    --------
    >>> "370702" in recipients(2025)
    True
    >>> "WF-Z-JKQ" in recipients(2025)  # reported inside 寒亭区, not a unit of its own
    False
    """
    changes = _changes(_crosswalk() if crosswalk is None else crosswalk)
    year = int(year)
    gone = {o for o, _, y in changes if y <= year}
    not_yet = {n for _, n, y in changes if y > year} - {n for _, n, y in changes if y <= year}
    return sorted(c for c, r in master().items()
                  if r["is_panel_unit"] == "1" and c not in gone and c not in not_yet)


@dataclass(frozen=True)
class Refusal:
    """Why a code may not receive money (``kind`` in aggregate / unknown / merged / not_unit)."""

    kind: str
    zh: str
    en: str


def is_aggregate(code: str, name: str | None = None) -> bool:
    """True for a 合计/小计 row or a city/province code ending in 00 (e.g. 370700)."""
    text = f"{code} {name or ''}".lower()
    return bool(_CITY_CODE.match(code)) or any(w in text for w in AGGREGATE_WORDS)


def classify(code: str, year: int, allowed: Sequence[str], *, name: str | None = None,
             crosswalk: pd.DataFrame | None = None) -> Refusal | None:
    """Return why ``code`` may not receive money in ``year`` (``None`` when it may).

    Parameters
    ----------
    code : str
    year : int
        Allocation year.
    allowed : sequence of str
        The recipients of the run (the master's :func:`recipients` or a caller's own list).
    name : str, optional
        Name given in the factor table (a row named 合计 is an aggregate whatever its code).
    crosswalk : DataFrame, optional
    """
    if is_aggregate(code, name):
        return Refusal("aggregate", "合计/小计或市级汇总行，不是受益单位；请删除该行（合计由 evalkit 计算）",
                       "a total/subtotal or city-level row, not a recipient; delete the row "
                       "(evalkit computes the totals)")
    if code in allowed:
        return None
    cw = _crosswalk() if crosswalk is None else crosswalk
    hit = cw[(cw["old_code"].astype(str) == code) & (cw["effective_year"].astype(int) <= year)]
    if not hit.empty:
        r = hit.iloc[0]
        return Refusal("merged", f"已于 {int(r['effective_year'])} 年并入/改为 {r['new_code']}"
                                 f"（{r['new_name_zh']}），{year} 年不是受益单位；请把数据并入新代码",
                       f"merged into / recoded as {r['new_code']} from {int(r['effective_year'])}; "
                       f"not a recipient in {year}: put its data under the new code")
    row = master().get(code)
    if row is not None and row["is_panel_unit"] != "1":
        return Refusal("not_unit", f"{row['name_zh']} 的统计数据并入其他单位，不单独分配",
                       f"{row['name_en']} is reported inside another unit: {row['notes']}")
    return Refusal("unknown", f"未知单位代码 `{code}`，不在 {year} 年受益单位名单中",
                   f"unknown unit code `{code}`: not among the {year} recipients")
