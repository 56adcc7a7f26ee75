"""Tables for the evidence pages: labelled headers, formatted numbers, no row index, no NaN.

:func:`table` is the one way a notebook shows a table to the panel::

    report.table(frame, language=language, title="...", footnotes=["..."])

It labels every column through :data:`evalkit.report.labels.LABELS` (a raw column name with no
label is an error, so it cannot reach a page), formats values by the column's kind (money in 万元,
shares in %, p-values as "<0.001" or three decimals, years without separators), writes missing
values as "—" with a footnote saying why, translates coded values (``county_city`` ->
"县级市") in the columns named in ``values``, and never shows the row index.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from .._shared.exceptions import EvalkitError
from .context import resolve_language
from .formats import (
    MISSING,
    format_money,
    format_number,
    format_percent,
    format_pvalue,
    format_share,
    is_missing,
)
from .labels import LABELS, t, translate_columns, value_label

DISPLAY_COLUMNS = ["term", "group", "time", "event_time", "estimate", "std_error", "p_value", "conf_low", "conf_high"]
#: Column kinds :func:`table` knows (``formats={"col": kind}``), besides a callable or "float:N".
KINDS = ("money", "yi", "share", "percent", "p", "int", "year", "float", "text", "bool")
_NUMBER_START = re.compile(r"^[<>≥≤]?[-+−]?[0-9]")
RAW_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?:\(.*\))?$")
#: Columns whose cells are codes with labels (translated by default).
CODED_COLUMNS = ("unit_type", "kind", "aggregation", "target_type", "status")

_CSS = """<style>
.evalkit-table { margin: 0.6em 0 1.2em 0; max-width: 100%; overflow-x: auto; }
.evalkit-table table { border-collapse: collapse; font-size: 0.9em; }
.evalkit-table caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 0.4em 0; }
.evalkit-table th { border-bottom: 1px solid #555; padding: 0.25em 0.6em; text-align: left !important; vertical-align: bottom; }
.evalkit-table td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left !important; vertical-align: top; }
.evalkit-table td.num, .evalkit-table th.num { text-align: right !important; font-variant-numeric: tabular-nums; }
.evalkit-table td.short { white-space: nowrap; }
.evalkit-table tr.total td { font-weight: 600; border-top: 1px solid #555; }
.evalkit-table .evalkit-footnote { font-size: 0.85em; color: #444; margin: 0.3em 0 0 0; }
@media print { .evalkit-table { overflow: visible; } .evalkit-table table { font-size: 8.5pt; } }
</style>"""


def column_kind(name: str, series: pd.Series) -> str:
    """The format kind :func:`table` uses for a column (from its name, then its dtype)."""
    low = str(name).lower()
    if low.endswith("_wan"):
        return "money"
    if low.endswith("_yi"):
        return "yi"
    if low in ("p_value", "pretrend_p", "pvalue") or low.startswith("p_") or low.endswith("_p"):
        return "p"
    if low in ("share",) or low.endswith("_share") or low.startswith("prob_"):
        return "share"
    if low.endswith("_pct") or low in ("completion",):
        return "percent"
    if low in ("year", "deadline", "value_year", "cohort", "first_unit_year") or low.endswith("_year"):
        return "year"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        numbers = series.dropna()
        if len(numbers) and (numbers == numbers.round()).all() and numbers.abs().max() >= 1:
            return "int"
        return "float"
    return "text"


def _formatter(kind, language: str, digits: int | None) -> Callable:
    if callable(kind):
        return lambda v: MISSING if is_missing(v) else str(kind(v))
    if isinstance(kind, str) and kind.startswith("float:"):
        n = int(kind.split(":", 1)[1])
        return lambda v: format_number(v, n)
    if kind == "money":
        return lambda v: format_money(v, language, unit="万元", with_unit=False, digits=digits)
    if kind == "yi":
        return lambda v: format_number(v, 2 if digits is None else digits)
    if kind == "share":
        return lambda v: format_share(v)
    if kind == "percent":
        return lambda v: format_percent(v)
    if kind == "p":
        return format_pvalue
    if kind == "year":
        return lambda v: MISSING if is_missing(v) else str(int(v)) if isinstance(v, (int, float)) else str(v)
    if kind == "int":
        return lambda v: format_number(v, 0)
    if kind == "float":
        return lambda v: format_number(v, digits)
    if kind == "bool":
        return lambda v: MISSING if is_missing(v) else t("yes" if v else "no", language)
    if kind == "text":
        return lambda v: MISSING if is_missing(v) or str(v).strip() == "" else str(v)
    raise EvalkitError(f"Unknown column format {kind!r}; use one of {KINDS}, 'float:N' or a function.")


def _header(name, labels: Mapping, language: str) -> str:
    if name in labels:
        return str(labels[name])
    if isinstance(name, str) and name in LABELS:
        return t(name, language)
    text = str(name)
    if RAW_NAME.match(text):
        raise EvalkitError(
            f"Column {text!r} has no label: add it to evalkit/report/labels.py (zh and en) or pass "
            f"labels={{{text!r}: '...'}} to report.table, so no raw column name reaches a page."
        )
    return text


class Table:
    """A formatted table that renders itself as clean HTML in a notebook.

    Attributes
    ----------
    data : DataFrame
        The cells as displayed text (labelled headers, no index).
    title : str or None
        Caption above the table.
    footnotes : list of str
        Notes under the table (the "—" footnote is added when a value is missing).
    numeric : list of bool
        Which columns are right-aligned numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.report import Table, table
    >>> tab = table(pd.DataFrame({"estimate": [0.1234]}), title="Effect", language="en")
    >>> isinstance(tab, Table), tab.title, tab.data.columns.tolist()
    (True, 'Effect', ['Estimate'])
    """

    def __init__(self, data: pd.DataFrame, title: str | None, footnotes: list[str], numeric: list[bool],
                 total_last: bool = False, verbatim: Iterable[str] = ()):
        self.data = data
        self.verbatim = set(verbatim)
        self.title = title
        self.footnotes = footnotes
        self.numeric = numeric
        self.total_last = total_last

    def to_html(self) -> str:
        """The table as an HTML fragment (with its own small stylesheet)."""
        esc = html.escape
        short = [self.data[c].astype(str).str.len().max() <= 12 if len(self.data) else True
                 for c in self.data.columns]
        cls = [" ".join(k for k, on in (("num", n), ("short", s)) if on) for n, s in zip(self.numeric, short, strict=True)]
        head = "".join(f'<th class="{c}">{esc(str(h))}</th>' for h, c in zip(self.data.columns, cls, strict=True))
        rows = []
        last = len(self.data) - 1
        for i, row in enumerate(self.data.itertuples(index=False)):
            tr = ' class="total"' if self.total_last and i == last else ""
            cells = "".join(
                f'<td class="{c}"><span class="evalkit-verbatim">{esc(str(v))}</span></td>'
                if h in self.verbatim and v != MISSING
                else f'<td class="{c}">{esc(str(v))}</td>'
                for v, c, h in zip(row, cls, self.data.columns, strict=True)
            )
            rows.append(f"<tr{tr}>{cells}</tr>")
        caption = f"<caption>{esc(self.title)}</caption>" if self.title else ""
        notes = "".join(f'<p class="evalkit-footnote">{esc(n)}</p>' for n in self.footnotes)
        return (f'{_CSS}<div class="evalkit-table"><table>{caption}<thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>{notes}</div>')

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.data.to_string(index=False)


def table(
    frame: pd.DataFrame,
    *,
    language: str | None = None,
    columns: Iterable[str] | None = None,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, object] | None = None,
    values: Iterable[str] | None = None,
    title: str | None = None,
    footnotes: Iterable[str] = (),
    missing_note: str | None = None,
    digits: int | None = None,
    index: bool = False,
    total_last: bool = False,
    verbatim: Iterable[str] = (),
) -> Table:
    """A clean, labelled table for an evidence page.

    Parameters
    ----------
    frame : DataFrame
        The data (tidy frames straight from ``to_frame()`` work).
    language : {"zh", "en"}, optional
        Overrides the active report language.
    columns : iterable of str, optional
        Columns to show, in order (default: all).
    labels : mapping, optional
        Header text for columns the label dictionary does not hold (or to override it).
    formats : mapping, optional
        Format kind per column: one of :data:`KINDS`, ``"float:N"`` or a function of the value;
        default from :func:`column_kind`.
    values : iterable of str, optional
        Columns whose coded values are translated through the labels (default
        :data:`CODED_COLUMNS` present in the frame).
    title : str, optional
        Caption.
    footnotes : iterable of str
        Notes under the table.
    missing_note : str, optional
        Why values are missing; default "“—” means not applicable or no data" (added only
        when a "—" is shown).
    digits : int, optional
        Decimals of plain numbers (default by size: 0 from 1,000, 1 from 100, 2 from 1, else 3).
    index : bool
        Show the frame's index as a first column (named rows only; never a 0..n-1 count).
    total_last : bool
        Style the last row as a total row.
    verbatim : iterable of str
        Columns quoted as written (program messages, names from the user's files); the page check
        leaves their language alone.

    Returns
    -------
    Table
        Displays as HTML; ``.data`` holds the text cells.

    Raises
    ------
    EvalkitError
        When a column has no label (a raw name would reach the page) or a format is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> tab = table(pd.DataFrame({"unit_type": ["county_city"], "amount_wan": [12345.6],
    ...                           "p_value": [0.0002]}), language="en")
    >>> tab.data.iloc[0].tolist()
    ['County-level city', '12,346', '<0.001']
    """
    lang = resolve_language(language)
    data = frame.reset_index() if index else frame
    if index and isinstance(frame.index, pd.RangeIndex):
        raise EvalkitError("index=True shows the row index; this frame's index is a plain row count.")
    cols = [c for c in (columns if columns is not None else data.columns) if c in data.columns]
    data = data[cols]
    labels = dict(labels or {})
    formats = dict(formats or {})
    coded = set(values) if values is not None else {c for c in CODED_COLUMNS if c in cols}
    shown = {}
    numeric = []
    any_missing = False
    for col in cols:
        series = data[col]
        kind = formats.get(col) or column_kind(col, series)
        fmt = _formatter(kind, lang, digits)
        cells = [fmt(value_label(v, lang) if col in coded else v) for v in series]
        any_missing |= MISSING in cells
        shown[_header(col, labels, lang)] = cells
        looks_numeric = all(c == MISSING or _NUMBER_START.match(c) for c in cells)
        numeric.append(looks_numeric if not isinstance(kind, str) or kind in ("text", "bool") else True)
    out = pd.DataFrame(shown, columns=list(shown))
    notes = list(footnotes)
    if any_missing:
        notes.append(missing_note or t("missing_footnote", lang))
    shown_verbatim = [_header(c, labels, lang) for c in verbatim if c in cols]
    return Table(out, title, notes, numeric, total_last=total_last, verbatim=shown_verbatim)


def display_table(frame: pd.DataFrame, language: str | None = None, digits: int = 4, columns=None) -> pd.DataFrame:
    """Round numbers, drop all-missing columns and translate the headers of a tidy frame.

    Kept for code that post-processes the frame; pages show tables with :func:`table`.

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.report import display_table
    >>> out = display_table(pd.DataFrame({"estimate": [0.123456], "empty": [None]}), language="en")
    >>> out.columns.tolist(), float(out.iloc[0, 0])
    (['Estimate'], 0.1235)
    """
    lang = resolve_language(language)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    out = frame[cols].dropna(axis=1, how="all").copy()
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(digits)
    return translate_columns(out, lang)
