"""Small formatting helpers shared by the allocation outputs (tables, method sheets, workbooks).

Amounts are in 万元 and exact (:class:`fractions.Fraction`); these helpers turn them into table
cells and text the same way everywhere.
"""

from __future__ import annotations

import io
import re
import zipfile
from fractions import Fraction
from typing import Any

import numpy as np

#: Label of the total row of every allocation table.
TOTAL_LABEL = "合计"
#: Timestamps written into workbooks so identical inputs give identical bytes.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2000-01-01T00:00:00Z"


def evalkit_version() -> str:
    """The running evalkit version (written into every output)."""
    try:
        from .. import __version__
    except ImportError:  # pragma: no cover - the package always defines it
        return "unknown"
    return __version__


def money_cell(x: int | Fraction) -> int | float:
    """An amount for a table cell: ``int`` when whole, else a float (exact to 0.01 万元)."""
    x = Fraction(x)
    return int(x) if x.denominator == 1 else float(x)


def amount_text(x: Fraction | float | int) -> str:
    """An amount as text: thousands separators, at most two decimals (``12,345.5``)."""
    x = Fraction(x) if not isinstance(x, Fraction) else x
    if x.denominator == 1:
        return f"{int(x):,}"
    return f"{float(x):,.2f}".rstrip("0").rstrip(".")


def percent_text(x: Fraction) -> str:
    """A percentage as text (``12.5%``)."""
    return amount_text(x) + "%"


def stable_zip(data: bytes) -> bytes:
    """Rewrite an xlsx zip with fixed timestamps so identical inputs give identical bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              lambda m: m.group(1) + FIXED_DOC_TIME + m.group(3), text)
                body = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def exact_fraction(v: Any) -> Fraction:
    """Exact Fraction of a number as its shortest decimal text (0.1 → 1/10)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    return Fraction(repr(float(v)))


def short_number(x: Fraction) -> str:
    """A Fraction as short text for messages (integer, or decimal to 6 places)."""
    return str(int(x)) if x.denominator == 1 else f"{float(x):.6g}"
