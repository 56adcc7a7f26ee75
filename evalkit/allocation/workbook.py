"""The 测算表 workbook a finance bureau prints, signs and publishes (openpyxl).

Layout of the result sheet (附件1 分配表): the annex number, a title with the fund, year and draft
stage (征求意见稿 / 送审稿 / 定稿), the date and "单位：万元", one header row, the counties then the
development zones each followed by a 小计 row, a bold bordered 合计 row and the 编制 / 审核 / 审批
signature block. Every sheet prints on A4 (the result sheet on one landscape page), fits one page
wide, repeats its header row, wraps long text, and has Chinese headers and number formats
(万元 with thousands separators, percentages with one decimal); factors appear by name.

:func:`build_workbook` returns the openpyxl workbook; ``export.to_excel`` saves it byte-stably.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _units
from ._format import TOTAL_LABEL
from .explain import explain

if TYPE_CHECKING:
    from .engine import Allocation

WAN = "#,##0"
WAN2 = "#,##0.00"
PCT = "0.0%"
SHARE = "0.00%"
COEF = "0.00"
NUM = "#,##0.##"
STAGE_DEFAULT = None

COUNTY_SUBTOTAL = "县（市、区）小计"
ZONE_SUBTOTAL = "开发区小计"
_GROUP_ZH = {_units.COUNTY: "县市区", _units.ZONE: "开发区"}
_BOUND_ZH = {"floor": "触及保底", "cap": "触及上限", "excluded": "不参与本次分配", "": ""}
_STATUS_ZH = {"reported": "上报", "revised": "修订", "imputed": "估算", "missing": "缺失",
              "zero": "缺失按0计", "carry_forward": "沿用上年", "impute_share": "按上年占比推算",
              "exclude_unit": "缺失排除", "bad_unit": "计量单位不符"}
_LOG_KIND_ZH = {"convert": "计量单位换算", "missing:zero": "缺失按0计", "missing:carry_forward":
                "缺失沿用上年", "missing:impute_share": "缺失按上年占比推算", "missing:exclude_unit":
                "缺失排除单位", "grade_default": "绩效等级默认", "note": "说明", "zero_share": "综合份额为0"}


def _font(**kw: Any):
    from openpyxl.styles import Font
    return Font(name="宋体", **kw)


def text_width(value: Any) -> float:
    """Display width of a cell text in Excel character units (a CJK character counts 2)."""
    s = "" if value is None else str(value)
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in s)


def _fmt_sample(v: Any, fmt: str | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if fmt in (WAN, NUM) and isinstance(v, (int, float)):
        return f"{v:,.0f}"
    if fmt in (WAN2, COEF) and isinstance(v, (int, float)):
        return f"{v:,.2f}"
    if fmt in (PCT, SHARE) and isinstance(v, (int, float)):
        return f"{v * 100:.2f}%"
    if isinstance(v, float):
        return f"{v:,.4f}"
    return str(v)


@dataclass
class Column:
    """One printed column: Chinese header, number format and how to read a row."""

    header: str
    get: Callable[[dict[str, Any]], Any]
    fmt: str | None = None
    min_width: float = 6.0


def _money_num(v: Any) -> int | float:
    """A 万元 amount (int or Fraction) as an int when whole, else a float."""
    if isinstance(v, Fraction):  # exact: a float close to a whole number is not whole
        return int(v) if v.denominator == 1 else float(v)
    return int(v) if float(v).is_integer() else float(v)


def _num(v: Any) -> Any:
    """A cell value: floats/ints as Python numbers, NaN/None as empty."""
    if v is None:
        return None
    if isinstance(v, Fraction):  # amounts below 1 万元 (rounding unit 0.01 ...)
        return _money_num(v)
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# ------------------------------------------------------------------------------------------
# generic sheet writing


def _border():
    from openpyxl.styles import Border, Side
    thin = Side(style="thin", color="000000")
    return Border(left=thin, right=thin, top=thin, bottom=thin)


def _page_setup(ws, *, landscape: bool, header_row: int | None, footer: str,
                one_page: bool = False) -> None:
    from openpyxl.worksheet.page import PageMargins
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3,
                                  footer=0.3)
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.left.text = "第 &P 页，共 &N 页"
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = footer
    ws.oddFooter.right.size = 7


def _merged_text(ws, row: int, ncols: int, text: str, *, size: int = 10, bold: bool = False,
                 align: str = "left", line_chars: float | None = None) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter
    ws.cell(row=row, column=1, value=text)
    if ncols > 1:
        ws.merge_cells(f"A{row}:{get_column_letter(ncols)}{row}")
    c = ws.cell(row=row, column=1)
    c.font = _font(size=size, bold=bold)
    c.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    if line_chars:
        lines = max(1, math.ceil(text_width(text) / max(line_chars, 10)))
        ws.row_dimensions[row].height = max(size * 1.6, lines * size * 1.45 + 4)


def _header(ws, row: int, headers: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, PatternFill
    fill = PatternFill("solid", fgColor="F2F2F2")
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=row, column=j, value=h)
        c.font = _font(bold=True, size=10)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = _border()
        c.fill = fill


def _widths(ws, columns: Sequence[Column], rows: Sequence[dict[str, Any]],
            max_width: float = 40.0) -> list[float]:
    from openpyxl.utils import get_column_letter
    widths = []
    for j, col in enumerate(columns, start=1):
        body = max((text_width(_fmt_sample(col.get(r), col.fmt)) for r in rows), default=0.0)
        head = max(text_width(part) for part in col.header.split("\n"))
        # headers wrap: allow them about two lines, but never narrower than the body
        w = min(max_width, max(col.min_width, body + 2.5, min(head, max(body + 2.5, head / 2 + 2))))
        ws.column_dimensions[get_column_letter(j)].width = round(w, 1)
        widths.append(w)
    return widths


def _body(ws, start: int, columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> int:
    from openpyxl.styles import Alignment
    r = start
    for row in rows:
        strong = row.get("_strong", False)
        for j, col in enumerate(columns, start=1):
            v = _num(col.get(row))
            c = ws.cell(row=r, column=j, value=v)
            if col.fmt and isinstance(v, (int, float)):
                c.number_format = col.fmt
                c.alignment = Alignment(horizontal="right", vertical="center")
            else:
                c.alignment = Alignment(horizontal="left" if j > 1 or not strong else "center",
                                        vertical="center", wrap_text=True)
            c.border = _border()
            c.font = _font(size=10, bold=bool(strong))
        r += 1
    return r


def data_sheet(wb, title: str, columns: Sequence[Column], rows: Sequence[dict[str, Any]], *,
               footer: str, note: str | None = None, unit: str | None = "单位：万元",
               landscape: bool = True, caption: str | None = None):
    """A titled, explained, bordered table sheet with print setup; returns the worksheet."""
    from openpyxl.styles import Alignment
    ws = wb.create_sheet(title)
    n = len(columns)
    widths = _widths(ws, columns, rows)
    line = sum(widths) * 0.95
    _merged_text(ws, 1, n, caption or title, size=13, bold=True, align="center")
    r = 2
    if note:
        _merged_text(ws, r, n, note, size=9, line_chars=line)
        r += 1
    if unit:
        c = ws.cell(row=r, column=n, value=unit)
        c.font = _font(size=9)
        c.alignment = Alignment(horizontal="right")
        r += 1
    _header(ws, r, [c.header for c in columns])
    lines = max(max(h.count("\n") + 1, math.ceil(text_width(h) / max(w - 1, 4)))
                for h, w in zip((c.header for c in columns), widths, strict=True))
    ws.row_dimensions[r].height = 14 * min(lines, 4) + 4
    ws.freeze_panes = f"A{r + 1}"
    _body(ws, r + 1, columns, rows)
    _page_setup(ws, landscape=landscape, header_row=r, footer=footer)
    return ws


# ------------------------------------------------------------------------------------------
# the result sheet


def _wan_fmt(alloc: Allocation) -> str:
    """Number format of 万元 amounts: whole 万元, or two decimals for a unit such as 0.01."""
    return WAN if isinstance(alloc.spec.rounding_unit, int) else WAN2


def _value_fmt(values: Sequence[Any]) -> str:
    nums = [v for v in values if isinstance(v, (int, float)) and not
            (isinstance(v, float) and math.isnan(v))]
    return WAN if all(float(v).is_integer() for v in nums) else WAN2


def ordered_rows(alloc: Allocation) -> list[dict[str, Any]]:
    """Unit rows of ``alloc.table`` ordered counties → 小计 → zones → 小计 → 合计.

    Each row is a dict of the table's columns plus ``_kind`` (``unit``, ``subtotal``, ``total``)
    and ``_strong`` (bold); subtotals add amounts, last year and change, and recompute the %.
    """
    t = alloc.table
    body = t[t["unit_code"] != TOTAL_LABEL]
    total = t[t["unit_code"] == TOTAL_LABEL].iloc[0].to_dict()
    # 奖补 (per-point awards less deductions) per unit, exact, when the spec has awards
    exact = dict(zip(alloc.codes, alloc.core.net_award, strict=True)) if alloc.spec.awards else {}
    net = {c: {"award_net": _money_num(v)} for c, v in exact.items()}
    out: list[dict[str, Any]] = []
    seq = 0
    for grp, label in ((_units.COUNTY, COUNTY_SUBTOTAL), (_units.ZONE, ZONE_SUBTOTAL)):
        part = body[body["group"] == grp].sort_values("unit_code", kind="mergesort")
        if part.empty:
            continue
        for rec in part.to_dict(orient="records"):
            seq += 1
            out.append({**rec, "_kind": "unit", "_seq": seq, **net.get(rec["unit_code"], {})})
        sub = _sum_row(part, label)
        if net:
            sub["award_net"] = _money_num(sum((exact[c] for c in part["unit_code"] if c in exact),
                                              Fraction(0)))
        out.append({**sub, "_kind": "subtotal", "_strong": True})
    if net:
        total = {**total, "award_net": _money_num(sum(exact.values(), Fraction(0)))}
    out.append({**total, "unit_code": "", "name_zh": TOTAL_LABEL, "_kind": "total",
                "_strong": True})
    return out


def _sum_row(part: pd.DataFrame, label: str) -> dict[str, Any]:
    amt = int(part["amount_wan"].sum())
    ly = part["last_year_wan"]
    ly_tot = None if ly.isna().any() else float(ly.sum())
    return {"unit_code": "", "name_zh": label, "amount_wan": amt, "last_year_wan": ly_tot,
            "change_wan": None if ly_tot is None else amt - ly_tot,
            "change_pct": None if not ly_tot else (amt - ly_tot) / ly_tot * 100,
            "share": float(part["share"].fillna(0).sum()) if "share" in part else None}


def result_columns(alloc: Allocation, *, public: bool = False) -> list[Column]:
    """Columns of the result sheet (附件1); ``public`` drops the factor data and audit columns."""
    WAN = _wan_fmt(alloc)  # amounts: 2 decimals when the rounding unit is below 1 万元
    has_last = alloc.table["last_year_wan"].notna().any()
    cols = [Column("序号", lambda r: r.get("_seq"), None, 5),
            Column("单位名称", lambda r: r.get("name_zh"), None, 10)]
    if not public:
        cols.append(Column("单位代码", lambda r: r.get("unit_code") or None, None, 8))
        t = alloc.table
        for f in alloc.spec.factors:
            uom = alloc.inputs.uom.get(f.id) or ""
            key = f"{f.id}_value"
            fmt = _value_fmt(list(t[key])) if key in t else WAN
            cols.append(Column(f"{f.name}\n（{uom}）" if uom else f.name,
                               (lambda k: lambda r: r.get(k) if r["_kind"] == "unit" else None)(key),
                               fmt, 8))
        cols.append(Column("综合份额", lambda r: r.get("share"), SHARE, 8))
        if alloc.spec.performance:
            cols.append(Column("绩效系数", lambda r: r.get("coefficient")
                               if r["_kind"] == "unit" else None, COEF, 6))
    if not public and alloc.spec.awards:
        cols.append(Column("其中：\n奖补净额", lambda r: r.get("award_net"),
                           _value_fmt([_money_num(v) for v in alloc.core.net_award]), 8))
    cols.append(Column("分配金额", lambda r: r.get("amount_wan"), WAN, 9))
    if has_last:
        cols += [Column("上年金额", lambda r: r.get("last_year_wan"), WAN, 9),
                 Column("增减额", lambda r: r.get("change_wan"), WAN, 8),
                 Column("增减(%)", lambda r: None if r.get("change_pct") is None or (
                     isinstance(r.get("change_pct"), float) and math.isnan(r["change_pct"]))
                     else r["change_pct"] / 100, PCT, 7)]
    if not public:
        cols.append(Column("备注", lambda r: _BOUND_ZH.get(r.get("bound") or "", "")
                           if r["_kind"] == "unit" else None, None, 8))
    return cols


def date_text(date: _dt.date | str | None) -> str:
    """``2025年3月1日`` for a date (today when ``None``); text is used as given."""
    if isinstance(date, str):
        return date
    d = date or _dt.date.today()
    return f"{d.year}年{d.month}月{d.day}日"


def result_sheet(wb, alloc: Allocation, *, footer: str, stage: str | None,
                 date: _dt.date | str | None, public: bool = False, annex: str = "附件1"):
    """Write the printable, signable result sheet (附件1 分配表)."""
    from openpyxl.styles import Alignment, Border, Side
    from openpyxl.utils import get_column_letter
    spec = alloc.spec
    ws = wb.create_sheet(f"{annex} 分配表")
    rows = ordered_rows(alloc)
    cols = result_columns(alloc, public=public)
    n = len(cols)
    _widths(ws, cols, rows)
    ws.cell(row=1, column=1, value=annex).font = _font(size=11, bold=True)
    title = f"{spec.fund}{spec.year}年度分配" + ("结果" if public else "测算表")
    if stage:
        title += f"（{stage}）"
    _merged_text(ws, 2, n, title, size=16, bold=True, align="center")
    ws.row_dimensions[2].height = 30
    half = max(1, n // 2)
    ws.cell(row=3, column=1, value=f"编制日期：{date_text(date)}").font = _font(size=10)
    if half > 1:
        ws.merge_cells(f"A3:{get_column_letter(half)}3")
    c = ws.cell(row=3, column=n, value="单位：万元")
    c.font = _font(size=10)
    c.alignment = Alignment(horizontal="right")
    _header(ws, 4, [c.header for c in cols])
    ws.row_dimensions[4].height = 42
    ws.freeze_panes = "C5"
    end = _body(ws, 5, cols, rows)
    thick = Side(style="medium", color="000000")
    for j in range(1, n + 1):  # the 合计 row: bold with a heavier frame
        cell = ws.cell(row=end - 1, column=j)
        cell.border = Border(left=cell.border.left, right=cell.border.right, top=thick,
                             bottom=thick)
    for rr in range(5, end):
        if ws.cell(row=rr, column=2).value in (COUNTY_SUBTOTAL, ZONE_SUBTOTAL, TOTAL_LABEL):
            ws.cell(row=rr, column=2).alignment = Alignment(horizontal="center")
    sig = end + 1
    if not public:
        thirds = [1, max(2, n // 3 + 1), max(3, 2 * n // 3 + 1)]
        for col, label in zip(thirds, ("编制：", "审核：", "审批："), strict=True):
            ws.cell(row=sig, column=col, value=label).font = _font(size=11, bold=True)
        ws.row_dimensions[sig].height = 36
        ws.cell(row=sig + 1, column=1,
                value="（签字）").font = _font(size=9)
        note_row = sig + 2
    else:
        note_row = sig
    whole = isinstance(spec.rounding_unit, int) and spec.rounding_unit == 1
    unit = float(spec.rounding_unit)
    _merged_text(ws, note_row, n, "注：" + explain(
        "result", fund=spec.fund, year=spec.year, t_alloc=_money_num(alloc.core.t_alloc),
        money_zh="整数万元" if whole else f"{unit:g} 万元的整数倍",
        money_en="whole 万元" if whole else f"multiples of {unit:g} 万元")
        + ("“其中：奖补净额”为按点奖励减扣减的金额，已含在分配金额中。" if spec.awards and not public
           else ""), size=9,
                 line_chars=sum(ws.column_dimensions[get_column_letter(j)].width
                                for j in range(1, n + 1)) * 0.95)
    _page_setup(ws, landscape=not public, header_row=4, footer=footer, one_page=True)
    ws.print_area = f"A1:{get_column_letter(n)}{note_row}"
    return ws


def method_sheet_ws(wb, alloc: Allocation, *, footer: str, annex: str = "附件2"):
    """The method sheet (附件2 测算说明) as wrapped paragraphs on portrait A4."""
    from openpyxl.styles import Alignment
    ws = wb.create_sheet(f"{annex} 测算说明")
    ws.column_dimensions["A"].width = 76  # fits portrait A4 at 100% in Excel and LibreOffice
    ws.cell(row=1, column=1, value=annex).font = _font(size=11, bold=True)
    lines = alloc.method_sheet("zh").rstrip("\n").split("\n")
    c = ws.cell(row=2, column=1, value=lines[0])
    c.font = _font(size=15, bold=True)
    c.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[2].height = 28
    r = 3
    for text in lines[1:]:
        cell = ws.cell(row=r, column=1, value=text or None)
        heading = bool(text) and text[0] in "一二三四五六七八九十" and "、" in text[:3]
        cell.font = _font(size=11, bold=heading)
        cell.alignment = Alignment(horizontal="left", wrap_text=True, vertical="top")
        n_lines = max(1, math.ceil(text_width(text) / 72))
        ws.row_dimensions[r].height = 16 * n_lines + 2
        r += 1
    _page_setup(ws, landscape=False, header_row=None, footer=footer)
    ws.sheet_properties.pageSetUpPr.fitToPage = False  # one column that already fits the width
    ws.print_options.horizontalCentered = False
    return ws


# ------------------------------------------------------------------------------------------
# the other sheets


def _get(key: str, scale: float = 1.0) -> Callable[[dict[str, Any]], Any]:
    def get(r: dict[str, Any]) -> Any:
        v = r.get(key)
        if scale != 1.0 and isinstance(v, (int, float)) and not isinstance(v, bool):
            return v * scale
        return v
    return get


def _name_cols() -> list[Column]:
    return [Column("单位代码", _get("unit_code"), None, 8), Column("单位名称", _get("name_zh"), None, 10)]


def _award_fields(alloc: Allocation) -> tuple[list[Column], dict[str, dict[str, Any]]]:
    """The 奖补 columns of 明细 and their values per unit code (plus ``合计``).

    Per factor an award measures, its value (奖补依据); per award its amount (deductions
    negative); with more than one award the net; and the factor-method part λ·s of the amount
    before floors, caps and rounding, so that 取整前金额 = 基数 + 奖补净额 + 因素法金额 for every
    unit not bound by a floor or a cap.
    """
    spec, core, inp = alloc.spec, alloc.core, alloc.inputs
    if not spec.awards:
        return [], {}
    WAN = _wan_fmt(alloc)
    names = {f.id: f.name for f in spec.factors}
    by_factor: dict[str, list[str]] = {}
    for a in spec.awards:
        by_factor.setdefault(a.factor, []).append(a.name)
    cols: list[Column] = []
    for fid, award_names in by_factor.items():
        uom = inp.uom.get(fid) or ""
        label = f"奖补依据：{names.get(fid) or '、'.join(award_names)}"
        cols.append(Column(f"{label}\n（{uom}）" if uom else label, _get(f"award_value_{fid}"),
                           NUM, 8))
    cols += [Column(f"{a.name}\n（万元）", _get(f"award_{a.id}"), WAN, 8) for a in spec.awards]
    if len(spec.awards) > 1:
        cols.append(Column("奖补净额\n（万元）", _get("award_net"), WAN, 8))
    cols.append(Column("因素法金额\n（取整前，万元）", _get("factor_part"), WAN2, 10))
    exact: dict[str, dict[str, Fraction]] = {}
    for i, c in enumerate(alloc.codes):
        row = {f"award_value_{fid}": inp.award_values[fid][i] for fid in by_factor}
        row.update({f"award_{a.id}": core.awards[a.id][i] for a in spec.awards})
        row["award_net"] = core.net_award[i]
        row["factor_part"] = core.lam * core.s[i]
        exact[c] = row
    summed = [f"award_{a.id}" for a in spec.awards] + ["award_net", "factor_part"]
    exact[TOTAL_LABEL] = {k: sum((r[k] for r in list(exact.values())), Fraction(0))
                          for k in summed}
    values = {c: {k: _money_num(v) for k, v in r.items()} for c, r in exact.items()}
    return cols, values


def detail_sheet(wb, alloc: Allocation, *, footer: str):
    """明细: every factor's weighted share per unit, then the steps (奖补, floors, caps, rounding)."""
    WAN = _wan_fmt(alloc)  # amounts: 2 decimals when the rounding unit is below 1 万元
    award_cols, award_values = _award_fields(alloc)
    rows = [{**r, "_strong": r.get("unit_code") == TOTAL_LABEL,
             "unit_code": "" if r.get("unit_code") == TOTAL_LABEL else r.get("unit_code"),
             "group": _GROUP_ZH.get(r.get("group"), r.get("group") or ""),
             "bound": _BOUND_ZH.get(r.get("bound") or "", r.get("bound") or ""),
             **award_values.get(r.get("unit_code"), {}),
             **{f"{f.id}_status": _STATUS_ZH.get(r.get(f"{f.id}_status"), r.get(f"{f.id}_status"))
                for f in alloc.spec.factors}}
            for r in alloc.table.to_dict(orient="records")]
    cols = _name_cols() + [Column("类别", _get("group"), None, 6),
                           Column("分配金额\n（万元）", _get("amount_wan"), WAN, 9)]
    cols += [Column(f"{f.name}\n加权份额", _get(f"{f.id}_contrib"), SHARE, 7)
             for f in alloc.spec.factors]
    cols.append(Column("综合份额", _get("composite"), SHARE, 7))
    if alloc.spec.performance:  # without grades the coefficient is 1 and the share unchanged
        cols += [Column("绩效等级", _get("grade"), None, 5),
                 Column("绩效系数", _get("coefficient"), COEF, 5),
                 Column("调整后份额", _get("share"), SHARE, 7)]
    if alloc.spec.base_share > 0:
        cols.append(Column("基数\n（万元）", _get("base_wan"), WAN2, 8))
    cols += award_cols
    if any(v > 0 for v in alloc.core.lo):
        cols.append(Column("保底\n（万元）", _get("floor_wan"), WAN, 7))
    cols += [Column("上限\n（万元）", _get("cap_wan"), WAN, 7),
             Column("约束", _get("bound"), None, 8),
             Column("取整前金额\n（万元）", _get("continuous_wan"), WAN2, 9),
             Column("取整补足\n（万元）", _get("rounding_wan"), WAN, 9),
             Column("上年金额\n（万元）", _get("last_year_wan"), WAN, 8),
             Column("增减\n（万元）", _get("change_wan"), WAN, 7),
             Column("增减(%)", _get("change_pct", 0.01), PCT, 6),
             Column("备注", _get("note"), None, 6)]
    note = explain("detail") + (explain("detail_awards") if award_cols else "")
    return data_sheet(wb, "明细", _nonempty(cols, rows), rows, footer=footer, note=note,
                      caption="分配测算明细")


def _nonempty(cols: Sequence[Column], rows: Sequence[dict[str, Any]]) -> list[Column]:
    """Columns with at least one value (no 上年 columns without last year's amounts ...)."""
    def empty(v: Any) -> bool:
        return v is None or v == "" or (isinstance(v, float) and math.isnan(v))
    return [c for c in cols if not all(empty(c.get(r)) for r in rows)]


def factor_data_sheet(wb, alloc: Allocation, *, footer: str):
    """因素数据: one row per unit and factor (value, unit, status, share, weight, weighted share)."""
    t = alloc.table[alloc.table["unit_code"] != TOTAL_LABEL]
    rows = []
    for f in alloc.spec.factors:
        for r in t.to_dict(orient="records"):
            if r.get(f"{f.id}_value") is None or r.get("bound") == "excluded":
                continue
            rows.append({"unit_code": r["unit_code"], "name_zh": r["name_zh"], "factor": f.name,
                         "value": r[f"{f.id}_value"], "uom": alloc.inputs.uom.get(f.id) or "",
                         "status": _STATUS_ZH.get(r[f"{f.id}_status"], r[f"{f.id}_status"]),
                         "share": r[f"{f.id}_share"], "weight": float(f.weight) / 100,
                         "contrib": r[f"{f.id}_contrib"]})
    cols = [Column("因素", _get("factor"), None, 8)] + _name_cols() + [
        Column("数值", _get("value"), NUM, 9), Column("计量单位", _get("uom"), None, 6),
        Column("数据状态", _get("status"), None, 6), Column("该因素份额", _get("share"), SHARE, 8),
        Column("权重", _get("weight"), PCT, 6), Column("加权份额", _get("contrib"), SHARE, 8)]
    return data_sheet(wb, "因素数据", cols, rows, footer=footer, unit=None,
                      caption="因素数据及份额", landscape=False,
                      note="本表逐个因素列出各单位的原始数据、数据状态和份额（该单位数值占全部参与单位的比重，"
                           "逆向因素按倒数计算），加权份额 = 权重 × 份额；各因素加权份额之和即综合份额。")


def sensitivity_sheet(wb, alloc: Allocation, mc, loo: pd.DataFrame, *, footer: str):
    """敏感性: Monte Carlo ranges and rank stability, plus the leave-one-factor-out changes."""
    WAN = _wan_fmt(alloc)  # amounts: 2 decimals when the rounding unit is below 1 万元
    rows = mc.summary.to_dict(orient="records")
    names = {f.id: f.name for f in alloc.spec.factors}
    if not loo.empty:
        piv = loo.pivot(index="unit_code", columns="dropped", values="change_wan")
        for r in rows:
            for fid in piv.columns:
                r[f"loo_{fid}"] = piv.loc[r["unit_code"], fid]
    cols = _name_cols() + [
        Column("分配金额", _get("amount_wan"), WAN, 8),
        Column("P5", _get("p5"), WAN, 7), Column("P50（中位数）", _get("p50"), WAN, 8),
        Column("P95", _get("p95"), WAN, 7), Column("均值", _get("mean"), WAN, 7),
        Column("标准差", _get("sd"), WAN, 7), Column("位次变化概率", _get("prob_rank_change"), PCT, 7),
        Column("触及保底概率", _get("prob_floor"), PCT, 7),
        Column("触及上限概率", _get("prob_cap"), PCT, 7)]
    if not loo.empty:
        cols += [Column(f"去掉“{names[f]}”\n后增减", _get(f"loo_{f}"), WAN, 8)
                 for f in loo["dropped"].unique()]
    s = mc.settings
    note = explain("monte_carlo", kappa=s["kappa"], n_draws=s["n_draws"], seed=s["seed"])
    if not loo.empty:
        note += explain("leave_one_out")
    return data_sheet(wb, "敏感性", cols, rows, footer=footer, note=note,
                      caption="权重敏感性分析（随机扰动与逐一去掉因素）")


def perturb_sheet(wb, alloc: Allocation, pert: pd.DataFrame, delta: float, *, footer: str):
    """权重扰动: each weight ±δ percentage points, change per unit (万元), by factor name."""
    WAN = _wan_fmt(alloc)  # amounts: 2 decimals when the rounding unit is below 1 万元
    names = {f.id: f.name for f in alloc.spec.factors}
    labels = []
    for f, d in zip(pert["factor_id"], pert["shift_pp"], strict=True):
        lab = f"{names[f]}\n{'+' if d > 0 else '−'}{abs(d):g}个百分点"
        labels.append(lab)
    pert = pert.assign(scenario=labels)
    piv = pert.pivot(index="unit_code", columns="scenario", values="change_wan")
    order = list(dict.fromkeys(labels))
    rows = [{"unit_code": c, "name_zh": alloc.name(c), **{k: piv.loc[c, k] for k in order}}
            for c in piv.index]
    cols = _name_cols() + [Column(k, _get(k), WAN, 8) for k in order]
    return data_sheet(wb, "权重扰动", cols, rows, footer=footer,
                      note=explain("perturb", delta=delta), caption="权重扰动：金额增减（万元）")


def shapley_sheet(wb, alloc: Allocation, sh, *, footer: str):
    """因素贡献: equal split + each factor + the coefficient + rounding = amount (万元)."""
    WAN = _wan_fmt(alloc)  # amounts: 2 decimals when the rounding unit is below 1 万元
    t = sh.table
    rows = t.to_dict(orient="records")
    amounts = dict(zip(alloc.codes, alloc.core.amounts, strict=True))
    for r in rows:
        r["amount_wan"] = amounts[r["unit_code"]]
        r["rounding_wan"] = r["amount_wan"] - r["continuous_wan"]
    cols = _name_cols() + [Column("均分基准", _get("baseline_wan"), WAN, 8)]
    cols += [Column(f"{p}贡献" if p != "绩效系数" else "绩效系数贡献", _get(k), WAN, 8)
             for k, p in sh.player_names().items()]
    cols += [Column("取整前金额", _get("continuous_wan"), WAN, 8),
             Column("取整", _get("rounding_wan"), WAN, 6),
             Column("分配金额", _get("amount_wan"), WAN, 8)]
    return data_sheet(wb, "因素贡献", cols, rows, footer=footer, note=explain("shapley"),
                      caption="各因素对分配金额的贡献（相对均分基准）")


METRIC_ZH = {"gini_amount": ("基尼系数（金额）", "0.000"), "theil_total": ("泰尔指数", "0.000"),
             "theil_between": ("泰尔指数：县市区与开发区之间", "0.000"),
             "theil_within": ("泰尔指数：组内", "0.000"), "hhi": ("HHI（0–10000）", "#,##0"),
             "effective_n": ("有效受益单位数", "0.0"), "max_min_ratio": ("最高/最低（倍）", "0.00"),
             "top3_share": ("前三名占比", PCT), "gini_per_capita": ("基尼系数（人均）", "0.000"),
             "theil_per_capita": ("泰尔指数（人均，人口加权）", "0.000"),
             "gini_per_need": ("基尼系数（单位需求）", "0.000")}
METRIC_COLS_ZH = {"this_year": "本方案", "last_year": "上年", "pure_output": "纯产出基准",
                  "pure_population": "纯人口基准"}


def metrics_sheet(wb, met: pd.DataFrame, *, footer: str):
    """指标: fairness and concentration with benchmarks; each row in its own format."""
    from openpyxl.styles import Alignment
    rows = [{"metric": METRIC_ZH.get(m, (m, "0.000"))[0], **met.loc[m].to_dict()}
            for m in met.index]
    cols = [Column("指标", _get("metric"), None, 14)] + [
        Column(METRIC_COLS_ZH.get(c, c), _get(c), "0.000", 9) for c in met.columns]
    ws = data_sheet(wb, "指标", cols, rows, footer=footer, note=explain("metrics"), unit=None,
                    caption="公平与集中度指标", landscape=False)
    first = ws.freeze_panes and int(ws.freeze_panes[1:]) or 4
    for i, m in enumerate(met.index):
        fmt = METRIC_ZH.get(m, (m, "0.000"))[1]
        for j in range(2, len(cols) + 1):
            cell = ws.cell(row=first + i, column=j)
            cell.number_format = fmt
            cell.alignment = Alignment(horizontal="right")
    return ws


AUDIT_ZH = {"composite": ("综合份额", SHARE), "coefficient": ("绩效系数", COEF),
            "adjusted": ("综合份额×系数", SHARE), "share": ("调整后份额", SHARE),
            "last_year": ("上年金额", WAN), "base": ("基数", WAN2), "floor": ("保底", WAN),
            "cap": ("上限", WAN), "continuous": ("取整前金额", WAN2), "bound": ("约束", None),
            "quota": ("取整前金额÷取整单位", WAN2), "rounded_down": ("整数部分", WAN),
            "remainder": ("余数", "0.0000"), "remainder_rank": ("余数排序", "0"),
            "rounding_added": ("取整补足", WAN), "amount": ("分配金额", WAN)}


def audit_sheet(wb, alloc: Allocation, *, footer: str):
    """审计: every intermediate vector of the computation, in Chinese."""
    vec = alloc.audit["vectors"].reset_index()
    rows = vec.to_dict(orient="records")
    for r in rows:
        r["name_zh"] = alloc.name(r["unit_code"])
        r["bound"] = _BOUND_ZH.get(r.get("bound") or "", r.get("bound"))
    cols = _name_cols() + [Column(h + ("\n（万元）" if f in (WAN, WAN2) else ""), _get(k), f, 7)
                           for k, (h, f) in AUDIT_ZH.items() if k in vec.columns]
    return data_sheet(wb, "审计", _nonempty(cols, rows), rows, footer=footer,
                      note=explain("audit"), caption="计算过程审计", unit=None)


def log_sheet(wb, alloc: Allocation, *, footer: str):
    """日志: missing-data rules applied, conversions and notes."""
    log = alloc.audit["log"]
    names = {f.id: f.name for f in alloc.spec.factors}
    rows = [{"kind": _LOG_KIND_ZH.get(r["kind"], r["kind"]), "unit_code": r["unit_code"],
             "name_zh": alloc.name(r["unit_code"]) if r["unit_code"] else "",
             "factor": names.get(r["factor_id"], r["factor_id"]), "detail": r["detail"]}
            for r in log.to_dict(orient="records")]
    cols = [Column("类别", _get("kind"), None, 8)] + _name_cols() + [
        Column("因素", _get("factor"), None, 8), Column("说明", _get("detail"), None, 40)]
    return data_sheet(wb, "日志", cols, rows, footer=footer, unit=None, caption="数据处理日志",
                      note="本表列出测算中对数据所做的每一项处理（缺失值规则、计量单位换算等）。")
