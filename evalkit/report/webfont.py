"""Embed a subset of the CJK font into HTML pages so Chinese text renders on any machine.

A browser without Chinese fonts shows empty boxes for Chinese text. The evidence pages must open
offline and read correctly anywhere, so the pipeline embeds, per page, only the glyphs the page
uses (typically a few hundred characters, ~100-300 KB) from the Noto Sans CJK SC font shipped in
the ``mplfonts`` wheel, as a base64 ``@font-face`` rule. Subsetting is done with fontTools
(installed with matplotlib).
"""

from __future__ import annotations

import base64
import html
import io
import re

from .._shared.files import atomic_write_text
from .style import CJK_FONT_NAME, cjk_font_path

FONT_FAMILY = "evalkit CJK"
_TAG = re.compile(r"<[^>]+>")
_DATA_URI = re.compile(r"data:[^\"')\s]+")


def page_characters(page: str) -> str:
    """Characters a page shows (text outside tags and data URIs), non-ASCII only, sorted."""
    text = _DATA_URI.sub("", page)
    text = html.unescape(_TAG.sub(" ", text))
    return "".join(sorted({ch for ch in text if ord(ch) > 0x7F and not ch.isspace()}))


def subset_font_css(characters: str) -> str:
    """A ``<style>`` block with an ``@font-face`` holding just ``characters`` (empty if none).

    Parameters
    ----------
    characters : str
        The characters to keep (ASCII is left to the page's normal fonts).
    """
    if not characters:
        return ""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; needs no extra package
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(cjk_font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        "<style>\n"
        f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url(data:font/woff;base64,{data}) format('woff'); }}\n"
        "body, body *:not(code):not(pre):not(kbd):not(samp):not(.highlight):not(.highlight *) {\n"
        # The subset font goes first: it holds only the page's non-ASCII characters, so Latin text
        # falls through to the system fonts; listed later, Chromium fails to fall back to it.
        f"  font-family: '{FONT_FAMILY}', system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue',\n"
        f"               Arial, '{CJK_FONT_NAME}', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
        " !important;\n"
        "}\n</style>\n"
    )


def embed_cjk_font(page: str) -> str:
    """Return ``page`` with a subset CJK web font embedded before ``</head>`` (idempotent)."""
    if f"font-family: '{FONT_FAMILY}'" in page:
        return page
    css = subset_font_css(page_characters(page))
    if not css:
        return page
    if "</head>" in page:
        return page.replace("</head>", css + "</head>", 1)
    return css + page


def embed_cjk_font_in_files(paths) -> int:
    """Embed one shared subset font (the union of the pages' characters) into several HTML files.

    Subsetting the 16 MB source font costs a few seconds, so a pack does it once for all its
    pages. Files are rewritten in place atomically. Returns the number of files changed.
    """
    from pathlib import Path

    pages = {Path(p): Path(p).read_text(encoding="utf-8") for p in paths}
    todo = {p: s for p, s in pages.items() if f"font-family: '{FONT_FAMILY}'" not in s}
    chars = "".join(sorted(set().union(*(set(page_characters(s)) for s in todo.values())))) if todo else ""
    css = subset_font_css(chars)
    if not css:
        return 0
    for path, page in todo.items():
        new = page.replace("</head>", css + "</head>", 1) if "</head>" in page else css + page
        atomic_write_text(path, new)
    return len(todo)
