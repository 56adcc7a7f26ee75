"""Number formats of the evidence pages: money, shares, p-values and counts.

One set of rules for every table and sentence of a pack: money in 万元 (or 亿元 from 10,000 万元
up) with thousands separators and decimals that suit the size, shares in %, p-values as
``"<0.001"`` or three decimals, and "—" for a missing value (explained by a footnote where it is
shown).
"""

from __future__ import annotations

import math

from .context import resolve_language
from .labels import unit_of_measure

MISSING = "—"


def is_missing(value) -> bool:
    """Whether ``value`` is missing (``None``, NaN, NaT, ``pd.NA``) or not finite."""
    if value is None:
        return True
    try:
        import pandas as pd

        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, float) and not math.isfinite(value)


def format_number(value, digits: int | None = None) -> str:
    """A number with thousands separators; integers without decimals, others with ``digits``.

    ``digits=None`` picks by size: 0 from 1,000, 1 from 100, 2 from 1, 3 below 1.

    Examples
    --------
    >>> format_number(1234567)
    '1,234,567'
    >>> format_number(0.123456)
    '0.123'
    >>> format_number(float("nan"))
    '—'
    """
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and digits is None and abs(value) >= 1):
        return f"{int(round(value)):,}"
    v = float(value)
    if digits is None:
        size = abs(v)
        digits = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 3
    return _no_negative_zero(f"{v:,.{digits}f}")


def _no_negative_zero(text: str) -> str:
    """``"-0"`` / ``"-0.00"`` (a tiny negative rounded away) written without the sign."""
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def format_money(value_wan, language: str | None = None, *, unit: str | None = None, digits: int | None = None,
                 with_unit: bool = True) -> str:
    """Money given in 万元, shown in 万元 (or in 亿元 from 10,000 万元 when ``unit`` is None).

    Parameters
    ----------
    value_wan : float
        Amount in 万元.
    language : {"zh", "en"}, optional
        Unit words (万元/亿元 or CNY 10k/CNY 100m).
    unit : {"万元", "亿元"}, optional
        Force a unit (a table column keeps one unit); default by size.
    digits : int, optional
        Decimals (default: 0 in 万元, 2 in 亿元).
    with_unit : bool
        Append the unit.

    Examples
    --------
    >>> format_money(1234.4, "zh")
    '1,234 万元'
    >>> format_money(123456, "en")
    '12.35 CNY 100m'
    """
    if is_missing(value_wan):
        return MISSING
    lang = resolve_language(language)
    v = float(value_wan)
    use = unit or ("亿元" if abs(v) >= 10_000 else "万元")
    if use == "亿元":
        v /= 10_000
        digits = 2 if digits is None else digits
    else:
        digits = 0 if digits is None else digits
    text = _no_negative_zero(f"{v:,.{digits}f}")
    return f"{text} {unit_of_measure(use, lang)}" if with_unit else text


def format_share(value, digits: int = 1) -> str:
    """A share (0.123) as a percentage (``"12.3%"``).

    Examples
    --------
    >>> format_share(0.1234)
    '12.3%'
    """
    if is_missing(value):
        return MISSING
    return f"{100 * float(value):,.{digits}f}%"


def format_percent(value, digits: int = 1) -> str:
    """A value already in percent (12.3) as ``"12.3%"``.

    Examples
    --------
    >>> from evalkit.report import format_percent
    >>> format_percent(12.345), format_percent(None)
    ('12.3%', '—')
    """
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}%"


def format_pvalue(value) -> str:
    """A p-value as ``"<0.001"`` or with three decimals.

    Examples
    --------
    >>> format_pvalue(0.0004)
    '<0.001'
    >>> format_pvalue(0.0641)
    '0.064'
    """
    if is_missing(value):
        return MISSING
    v = float(value)
    return "<0.001" if v < 0.001 else f"{v:.3f}"
