"""The conclusion page as a Word document (python-docx), for the panel's report edited in Word.

A4 portrait, 2 cm margins, a CJK-capable font (the East-Asian font is set explicitly, or Word
falls back to a Latin font for Chinese), the same sections and sentences as the HTML page.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._shared.files import atomic_write_bytes
from .labels import t

if TYPE_CHECKING:  # pragma: no cover
    from .conclusion import Conclusion

FONT_ZH = "Noto Sans CJK SC"
FONT_LATIN = "Arial"


def _font(run, size: float | None = None, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = FONT_LATIN
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), FONT_ZH)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _field(paragraph, instruction: str) -> None:
    """A Word field (``PAGE``, ``NUMPAGES``) that Word and LibreOffice fill in when they lay out."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _header_and_footer(section, language: str, synthetic: bool) -> None:
    """Every printed page: the synthetic-data mark at the top (synthetic data) and 'page n of N'."""
    import re

    from docx.enum.text import WD_ALIGN_PARAGRAPH

    if synthetic:
        head = section.header.paragraphs[0]
        head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(head.add_run(t("synthetic_mark", language)), 8, bold=True)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in re.split(r"(\{page\}|\{pages\})", t("page_of_pages", language)):
        if part == "{page}":
            _field(foot, "PAGE")
        elif part == "{pages}":
            _field(foot, "NUMPAGES")
        elif part:
            _font(foot.add_run(part), 8)


def _para(doc, text: str, size: float = 10, bold: bool = False, style: str | None = None):
    p = doc.add_paragraph(style=style)
    _font(p.add_run(text), size, bold)
    return p


def _table(doc, headers: list[str], rows: list[list[str]], widths_cm: list[float], size: float = 8.5):
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for column, w in zip(table.columns, widths_cm, strict=True):  # the grid LibreOffice lays out by
        column.width = Cm(w)
    for cell, text, w in zip(table.rows[0].cells, headers, widths_cm, strict=True):
        cell.width = Cm(w)
        cell.paragraphs[0].text = ""
        _font(cell.paragraphs[0].add_run(str(text)), size, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text, w in zip(cells, row, widths_cm, strict=True):
            cell.width = Cm(w)
            _font(cell.paragraphs[0].add_run(str(text)), size)
    return table


def conclusion_document(conclusion: Conclusion):
    """Build the python-docx ``Document`` of a :class:`~evalkit.report.conclusion.Conclusion`."""
    from docx import Document
    from docx.shared import Cm

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    _header_and_footer(section, conclusion.language, conclusion.synthetic)
    h = conclusion.headers()
    _para(doc, conclusion.title, 16, bold=True)
    if conclusion.synthetic:
        _para(doc, h["synthetic_notice"], 9, bold=True)
    _para(doc, h["sec_overall"], 12, bold=True)
    for text in conclusion.overall:
        _para(doc, text)
    _para(doc, h["sec_measures"], 12, bold=True)
    _table(doc, [h["col_section"], h["col_evaluation"], h["col_finding"], h["col_p"], h["col_verdict"],
                 h["col_credibility"]], conclusion.measure_rows(), [1.5, 1.8, 5.0, 1.5, 3.6, 3.6])
    _para(doc, conclusion.thresholds, 8)
    _para(doc, h["sec_problems"], 12, bold=True)
    for i, text in enumerate(conclusion.problems, start=1):
        _para(doc, f"{i}. {text}", 9.5)
    _para(doc, h["sec_sources"], 12, bold=True)
    _table(doc, [h["col_file"], h["col_content"], h["col_coverage"]],
           conclusion.sources.values.tolist(), [4.0, 8.0, 5.0])
    _para(doc, h["sec_glossary"], 12, bold=True)
    _table(doc, [h["col_term"], h["col_meaning"]], [list(g) for g in conclusion.glossary], [3.5, 13.5])
    _para(doc, h["sec_notes"], 12, bold=True)
    for note in conclusion.footnotes():
        _para(doc, note, 8)
    return doc


def write_conclusion_docx(conclusion: Conclusion, path: str | os.PathLike) -> Path:
    """Write the Word document atomically (temporary file, then rename); return the path."""
    buffer = io.BytesIO()
    conclusion_document(conclusion).save(buffer)
    return atomic_write_bytes(path, buffer.getvalue())
