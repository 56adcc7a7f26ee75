"""A4 PDFs of pack pages with headless Chromium, the combined PDF, and the no-Chromium path.

Tolerances: page size within 1 pt of A4 (595.28 x 841.89 pt).
"""

from __future__ import annotations

import pytest

from evalkit.report import pdf as pdfmod
from evalkit.report.conclusion import build_conclusion

A4 = (595.28, 841.89)


def _pack(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    html = build_conclusion({}, None, year=2025, language="en").to_html()
    css = "<style>@page { size: A4; }</style>"
    for name in ("90_acceptance_summary", "10_pilot_zone"):
        (pack / f"{name}.html").write_text(f"<html><head>{css}</head><body>{html}</body></html>", encoding="utf-8")
    (pack / "10_pilot_zone.code.html").write_text("<html><body>code</body></html>", encoding="utf-8")
    return pack


def test_no_chromium_writes_no_pdf_and_says_so(tmp_path, monkeypatch):
    pack = _pack(tmp_path)
    monkeypatch.setattr(pdfmod, "find_chromium", lambda: None)
    written, said = pdfmod.write_pack_pdfs(pack)
    assert written == [] and "Chromium" in said and "未找到" in said
    assert not list(pack.glob("*.pdf"))


@pytest.mark.browser
@pytest.mark.skipif(pdfmod.find_chromium() is None, reason="needs chromium (apt-get install chromium)")
def test_pages_print_to_a4_and_combine(tmp_path):
    from pypdf import PdfReader

    pack = _pack(tmp_path)
    written, said = pdfmod.write_pack_pdfs(pack)
    names = sorted(p.name for p in written)
    assert names == ["10_pilot_zone.pdf", "90_acceptance_summary.pdf", "evidence_pack.pdf"]
    assert not (pack / "10_pilot_zone.code.pdf").exists()
    for path in written:
        for page in PdfReader(str(path)).pages:
            w, h = float(page.mediabox.width), float(page.mediabox.height)
            assert abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1
    combined = PdfReader(str(pack / "evidence_pack.pdf"))
    parts = sum(len(PdfReader(str(pack / f"{n}.pdf")).pages) for n in ("90_acceptance_summary", "10_pilot_zone"))
    assert len(combined.pages) == parts
    assert "Overall conclusion" in combined.pages[0].extract_text()
