"""A4 PDFs of the evidence pack's pages with headless Chromium, and one combined PDF.

Chromium prints each finished HTML page (the pages carry an ``@page { size: A4 }`` print
stylesheet); :mod:`pypdf` joins the conclusion page, the evaluation pages and the scorecard into
``evidence_pack.pdf``. Without Chromium nothing is written and :func:`write_pack_pdfs` says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .._shared.exceptions import EvalkitError

#: Pages of the combined PDF, in this order (those present in the pack).
COMBINED_ORDER = ("90_acceptance_summary", "10_pilot_zone", "20_tech_upgrade_subsidies",
                  "30_first_unit_insurance", "40_fund_allocation_effects", "60_targets_scorecard")
COMBINED_NAME = "evidence_pack.pdf"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-pdf-header-footer")


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium on this machine, or ``None``."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_to_pdf(html: str | os.PathLike, pdf: str | os.PathLike, *, chromium: str,
                 timeout: float = 120) -> Path:
    """Print one HTML page to an A4 PDF with headless Chromium (fresh profile); return the PDF path.

    Raises
    ------
    EvalkitError
        When Chromium fails or writes no PDF (the message names the page).
    """
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    with tempfile.TemporaryDirectory(prefix="evalkit-chromium-") as profile:
        tmp_pdf = Path(profile) / "out.pdf"
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp_pdf}",
               html.as_uri()]
        try:
            subprocess.run(cmd, check=False, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EvalkitError(f"Chromium took longer than {timeout:.0f} s printing {html.name}.") from None
        if not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
            raise EvalkitError(f"Chromium wrote no PDF for {html.name}; check that `{chromium} --headless` runs.")
        shutil.move(tmp_pdf, pdf)
    return pdf


def merge_pdfs(parts: Sequence[str | os.PathLike], target: str | os.PathLike) -> Path:
    """Join PDFs into ``target`` (pypdf), written through a temporary file."""
    import io

    from pypdf import PdfWriter

    from .._shared.files import atomic_write_bytes

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    buffer = io.BytesIO()
    writer.write(buffer)
    return atomic_write_bytes(target, buffer.getvalue())


def write_pack_pdfs(pack: str | os.PathLike, *, chromium: str | None = None,
                    workers: int = 2) -> tuple[list[Path], str]:
    """Print every page of a pack to ``<page>.pdf`` and write the combined ``evidence_pack.pdf``.

    Parameters
    ----------
    pack : path
        The pack folder (pages ``NN_*.html``; the ``.code.html`` pages are not printed).
    chromium : str, optional
        Browser executable; default :func:`find_chromium`.
    workers : int
        Pages printed at the same time.

    Returns
    -------
    (list of Path, str)
        The PDFs written (none without Chromium) and a sentence saying what was done.
    """
    pack = Path(pack)
    chromium = chromium or find_chromium()
    if chromium is None:
        return [], ("未找到 Chromium（Debian: apt-get install chromium），未生成 PDF。 / "
                    "Chromium not found (Debian: apt-get install chromium); no PDF written.")
    pages = sorted(p for p in pack.glob("[0-9][0-9]_*.html") if not p.name.endswith(".code.html"))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:  # each print is its own Chromium process
        written = list(pool.map(lambda p: print_to_pdf(p, p.with_suffix(".pdf"), chromium=chromium), pages))
    by_name = {p.stem: p for p in written}
    parts = [by_name[n] for n in COMBINED_ORDER if n in by_name]
    if parts:
        written.append(merge_pdfs(parts, pack / COMBINED_NAME))
    return written, f"{len(written)} PDF(s) written with {chromium} (A4)."
