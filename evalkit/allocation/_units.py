"""Unit names and groups (county vs development zone) for allocation tables.

The names come, in order of precedence, from the spec (``units.names``), the factor table's name
column, the package unit master (``evalkit.data`` when it ships one) and the allocation module's
own copy of the 16 Weifang statistical units (``templates/units.csv``).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

ZONE, COUNTY = "zone", "county"


@lru_cache(maxsize=1)
def master() -> dict[str, dict[str, str]]:
    """Return ``{code: {"name_zh", "name_en", "group", "map_polygon"}}`` for the known units."""
    out: dict[str, dict[str, str]] = {}
    with resources.files("evalkit.allocation").joinpath("templates/units.csv").open(
            encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["code"]] = row
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
