"""One reader for every file evalkit reads: encodings, formats, title rows, empty files.

Every input file (the county panel, the city indicators, factor tables, allocation specs, last
year's amounts) goes through this module, so every file gets the same treatment:

* **Encodings** — UTF-8, UTF-8 with a byte-order mark (what Excel writes as "CSV UTF-8"),
  UTF-16 with a byte-order mark (Excel's "Unicode text") and GB18030, the superset of GBK that
  Excel on Chinese Windows writes as plain "CSV". The encoding used is kept in
  ``attrs["encoding"]`` and every encoding other than plain UTF-8 is said in a note.
* **Formats** — CSV (comma; tab for ``.tsv`` or a tab-separated text file), XLSX and Parquet.
* **Title rows** — a table whose header row sits under title rows (``2024年因素数据表``,
  ``单位：万元``) is found and read from its header row, with a note saying so.
* **Empty files** — a file with nothing in it, or a header row but no data rows, is refused
  with a message in Chinese and English naming the file.

:func:`read_text` returns a text file's decoded content (e.g. a spec YAML);
:func:`read_raw_table` returns a table with its raw headers and cells, the file line number of
each row as the index, and notes. Mapping headers to a schema is the caller's job (e.g.
:func:`evalkit.data.read_table` for the panel).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._shared.exceptions import InputFileError

#: Cell spellings read as missing in CSV files.
NA_VALUES = ("", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "-", "--", "—", "…")

#: Rows searched for the header row of a table (title rows above it are skipped).
MAX_TITLE_ROWS = 30

_KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
          ".parquet": "parquet", ".pq": "parquet"}
_HEADER = "无法读取输入文件 / Cannot read the input file"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def _fail(path: Path, zh: str, en: str) -> InputFileError:
    return InputFileError([f"{path}: {zh} / {en}"], header=_HEADER)


def decode_bytes(data: bytes, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode a text file's bytes, detecting its encoding.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path
        Named in the error message.

    Returns
    -------
    (text, encoding) : tuple of str
        ``encoding`` is ``"utf-8"``, ``"utf-8-sig"`` (UTF-8 with a byte-order mark),
        ``"utf-16"`` (with a byte-order mark) or ``"gb18030"`` (also covers GBK and GB2312).

    Raises
    ------
    InputFileError
        When the bytes are none of these encodings.

    Examples
    --------
    >>> decode_bytes("单位代码".encode("gbk"))
    ('单位代码', 'gb18030')
    >>> decode_bytes(b"\\xef\\xbb\\xbfyear")
    ('year', 'utf-8-sig')
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise _fail(Path(path), "不是 UTF-8 或 GB18030/GBK 编码的文本，请在 Excel 中另存为“CSV UTF-8”",
                "the file is not text in UTF-8 or GB18030/GBK; save it as 'CSV UTF-8' in Excel")


def encoding_note(name: str, encoding: str) -> str | None:
    """The note that says which encoding a file was read in (None for plain UTF-8).

    Parameters
    ----------
    name : str
        File name.
    encoding : str
        As returned by :func:`decode_bytes`.

    Returns
    -------
    str or None
    """
    return {
        "utf-8-sig": f"{name}: read as UTF-8 with a byte-order mark (BOM)",
        "utf-16": f"{name}: read as UTF-16 (Excel 'Unicode text')",
        "gb18030": f"{name}: not UTF-8; read as GB18030 (GBK-compatible, the Chinese Windows encoding)",
    }.get(encoding)


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise _fail(p, "文件不存在，请检查路径", "file not found; check the path")
    if p.is_dir():
        raise _fail(p, "这是文件夹，请给出文件", "this is a folder; pass a file")
    return p


def read_text(path: str | Path, *, notes: list[str] | None = None) -> str:
    """Read a text file (e.g. a spec YAML) in UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK.

    Parameters
    ----------
    path : str or Path
        The file.
    notes : list of str, optional
        When given, a note naming the encoding is appended (unless plain UTF-8).

    Returns
    -------
    str
        The decoded text (without a byte-order mark).

    Raises
    ------
    InputFileError
        The file is missing, empty (or only blanks) or not decodable; the message names the file
        and the fix in Chinese and English.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "spec.yaml"
    >>> _ = p.write_bytes("fund: 试验区资金\\n".encode("gb18030"))
    >>> notes = []
    >>> read_text(p, notes=notes)
    'fund: 试验区资金\\n'
    >>> "GB18030" in notes[0]
    True
    """
    p = _existing(path)
    data = p.read_bytes()
    _refuse_binary(p, data, text_wanted=True)
    text, enc = decode_bytes(data, p)
    if not text.strip():
        raise _fail(p, "文件为空，请填入内容后再试", "the file is empty; fill it in and try again")
    note = encoding_note(p.name, enc)
    if note and notes is not None:
        notes.append(note)
    return text


def _refuse_binary(path: Path, data: bytes, *, text_wanted: bool) -> None:
    if data.startswith(_ZIP_MAGIC):
        raise _fail(path, "这是 Excel 工作簿(xlsx)而不是文本文件；请把扩展名改为 .xlsx"
                    + ("" if not text_wanted else " 或另存为文本"),
                    "this is an Excel workbook (xlsx), not a text file; rename it to .xlsx"
                    + ("" if not text_wanted else " or save it as text"))
    if data.startswith(_OLE_MAGIC):
        raise _fail(path, "这是旧版 Excel 工作簿(.xls)；请在 Excel 中另存为 .xlsx",
                    "this is an old Excel workbook (.xls); save it as .xlsx in Excel")


def _is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _csv_rows(path: Path, na_values: Sequence[str], notes: list[str]) -> tuple[list[list[Any]], str]:
    data = path.read_bytes()
    _refuse_binary(path, data, text_wanted=False)
    text, enc = decode_bytes(data, path)
    note = encoding_note(path.name, enc)
    if note:
        notes.append(note)
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    tabbed = path.suffix.lower() == ".tsv" or ("\t" in first and "," not in first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if tabbed else ",")
    na = set(na_values)
    rows = [[None if c.strip() in na else c for c in row] for row in reader]
    return rows, enc


def _xlsx_rows(path: Path, sheet_name: str | int) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged or foreign file
        raise _fail(path, f"无法作为 xlsx 工作簿打开（{type(exc).__name__}）；请在 Excel 中另存为 .xlsx",
                    f"cannot be opened as an xlsx workbook ({type(exc).__name__}: {exc}); "
                    "save it again as .xlsx in Excel") from None
    try:
        names = wb.sheetnames
        if isinstance(sheet_name, int):
            if not 0 <= sheet_name < len(names):
                raise _fail(path, f"没有第 {sheet_name + 1} 个工作表（共有：{'、'.join(names)}）",
                            f"has no sheet number {sheet_name} (sheets: {', '.join(names)})")
            ws = wb[names[sheet_name]]
        else:
            if sheet_name not in names:
                raise _fail(path, f"没有名为 {sheet_name!r} 的工作表（共有：{'、'.join(names)}）",
                            f"has no sheet {sheet_name!r} (sheets: {', '.join(names)})")
            ws = wb[sheet_name]
        rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    finally:
        wb.close()
    return [[None if _is_blank(v) else (v.strip() if isinstance(v, str) else v) for v in r]
            for r in rows]


def find_header_row(rows: Sequence[Sequence[Any]],
                    is_known: Callable[[str], bool] | None = None) -> int | None:
    """Index of the header row among the first :data:`MAX_TITLE_ROWS` rows (None if all blank).

    With ``is_known`` the row holding the most recognised headers wins (the first of equals);
    otherwise, and when no row holds a recognised header, the first row filled at least as
    much as 60 % of the fullest row (and with two cells or more) is the header. Title rows
    (one merged cell, ``单位：万元``) fill fewer cells than a header.

    Parameters
    ----------
    rows : sequence of sequences
        Cells, ``None`` for blank.
    is_known : callable, optional
        ``is_known(cell_text)`` is True for a header the caller recognises.

    Returns
    -------
    int or None

    Examples
    --------
    >>> find_header_row([["2024年因素数据表", None, None], [None, None, "单位：万元"],
    ...                  ["单位代码", "因素", "数值"], ["370702", "gdp", "1"]])
    2
    """
    top = [list(r) for r in rows[:MAX_TITLE_ROWS]]
    counts = [sum(not _is_blank(v) for v in r) for r in top]
    if not any(counts):
        return None
    if is_known is not None:
        scores = [sum(1 for v in r if not _is_blank(v) and is_known(str(v).strip())) for r in top]
        best = max(scores)
        if best > 0:
            return scores.index(best)
    need = max(2, math.ceil(0.6 * max(counts)))
    for i, c in enumerate(counts):
        if c >= need:
            return i
    return next(i for i, c in enumerate(counts) if c)


def _headers(cells: Sequence[Any]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for k, v in enumerate(cells):
        name = f"Unnamed: {k}" if _is_blank(v) else str(v).strip()
        if isinstance(v, float) and v.is_integer():
            name = str(int(v))
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _title_text(rows: Sequence[Sequence[Any]]) -> str:
    cells = [str(v).strip() for r in rows for v in r if not _is_blank(v)]
    text = " | ".join(cells)
    return text if len(text) <= 60 else text[:57] + "..."


def _table_from_rows(path: Path, rows: list[list[Any]], is_known: Callable[[str], bool] | None,
                     notes: list[str], where: str) -> tuple[pd.DataFrame, int]:
    h = find_header_row(rows, is_known)
    if h is None:
        raise _fail(path, "文件为空（没有任何内容）；请填入表头和数据",
                    "the file is empty (no cells at all); add a header row and data rows")
    if h > 0:
        above = _title_text(rows[:h])
        notes.append(f"{path.name}: header row found on line {h + 1}{where}; "
                     f"{'line 1' if h == 1 else f'lines 1-{h}'} above it skipped as title rows"
                     + (f" ({above})" if above else ""))
    header = rows[h]
    width = max(len(r) for r in rows[h:])
    header = list(header) + [None] * (width - len(header))
    body = [list(r) + [None] * (width - len(r)) for r in rows[h + 1:]]
    lines = list(range(h + 2, h + 2 + len(body)))
    keep_cols = [k for k in range(width)
                 if not _is_blank(header[k]) or any(not _is_blank(r[k]) for r in body)]
    header = [header[k] for k in keep_cols]
    body = [[r[k] for k in keep_cols] for r in body]
    blank = {i for i, r in enumerate(body) if all(_is_blank(v) for v in r)}
    data = [r for i, r in enumerate(body) if i not in blank]
    idx = [ln for i, ln in enumerate(lines) if i not in blank]
    if not data:
        raise _fail(path, f"只有表头（第 {h + 1} 行），没有数据行；请在表头下填入数据",
                    f"has a header row (line {h + 1}) but no data rows; fill in the data under the header")
    inner = [lines[i] for i in sorted(blank) if lines[i] < idx[-1]]
    if inner:
        shown = ", ".join(map(str, inner[:20])) + (" ..." if len(inner) > 20 else "")
        notes.append(f"{path.name}: {len(inner)} empty line(s) skipped (lines {shown})")
    frame = pd.DataFrame(data, columns=_headers(header), index=pd.Index(idx, name="line"),
                         dtype=object)
    return frame, h + 1


def read_raw_table(path: str | Path, *, sheet_name: str | int = 0,
                   is_known: Callable[[str], bool] | Iterable[str] | None = None,
                   na_values: Sequence[str] = NA_VALUES, notes: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet table with its raw headers, finding the header row.

    Parameters
    ----------
    path : str or Path
        ``.csv`` / ``.tsv`` / ``.txt`` (UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK), ``.xlsx`` /
        ``.xlsm`` or ``.parquet``.
    sheet_name : str or int, default 0
        Worksheet of an XLSX file (name or 0-based position).
    is_known : callable or iterable of str, optional
        Recognised headers (a predicate on the header text, or a set of names compared without
        case), used to find the header row under title rows.
    na_values : sequence of str
        CSV cell spellings read as missing (XLSX blank cells are always missing).
    notes : list of str, optional
        Notes are appended here as well as to ``attrs["read_notes"]``.

    Returns
    -------
    DataFrame
        Columns are the header texts (a blank header becomes ``Unnamed: k``; a repeated one
        ``name.1``; fully blank columns are dropped). Cells are text (CSV) or the workbook's
        values (XLSX: numbers stay numbers), ``None`` where blank. The index holds the file line
        numbers (``line``) of the rows, or for Parquet the 1-based record numbers
        (``record``). Blank rows are dropped (with a note when inside the table). ``attrs``:
        ``source`` (the path), ``encoding`` (text files), ``header_line`` and ``read_notes``.

    Raises
    ------
    InputFileError
        A missing, empty or header-only file, an unsupported type, an undecodable text file, a
        missing worksheet; the message names the file and the fix in Chinese and English.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_bytes("2024年因素数据表\\n单位代码,数值\\n370702,5\\n".encode("gbk"))
    >>> t = read_raw_table(p, is_known={"单位代码"})
    >>> t.loc[3, "数值"], t.attrs["encoding"], t.attrs["header_line"]
    ('5', 'gb18030', 2)
    """
    p = _existing(path)
    kind = _KINDS.get(p.suffix.lower())
    if kind is None:
        raise _fail(p, f"不支持的文件类型 {p.suffix!r}；请用 .csv、.xlsx 或 .parquet（.xls 请另存为 .xlsx）",
                    f"unsupported file type {p.suffix!r}; use .csv, .xlsx or .parquet "
                    "(save .xls workbooks as .xlsx)")
    if p.stat().st_size == 0:
        raise _fail(p, "文件为空（0 字节）；请填入表头和数据", "the file is empty (0 bytes); add a header "
                    "row and data rows")
    if callable(is_known) or is_known is None:
        known = is_known
    else:
        names = {str(n).strip().lower() for n in is_known}
        known = lambda h: h.strip().lower() in names  # noqa: E731
    own: list[str] = []
    encoding = None
    if kind == "parquet":
        frame = pd.read_parquet(p)
        if frame.empty:
            raise _fail(p, "没有数据行；请写入数据", "has no data rows; write the data")
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="record")
        header_line = 0
    else:
        if kind == "csv":
            rows, encoding = _csv_rows(p, na_values, own)
            where = ""
        else:
            rows = _xlsx_rows(p, sheet_name)
            where = f" of sheet {sheet_name!r}" if not isinstance(sheet_name, int) or sheet_name else ""
        frame, header_line = _table_from_rows(p, rows, known, own, where)
    frame.attrs = {"source": str(p), "encoding": encoding, "header_line": header_line,
                   "read_notes": list(own)}
    if notes is not None:
        notes.extend(own)
    return frame
