"""Ship the CJK glyphs the site uses, so Chinese pages render on machines without Chinese fonts.

After the HTML build, every wide (East Asian Width W or F: ideographs, kana, CJK punctuation,
full-width forms) character that a page shows is collected, and those glyphs are cut from Noto Sans CJK SC (inside the ``mplfonts`` wheel, a dependency of evalkit; SIL
Open Font License) into ``_static/evalkit-cjk.woff``. ``_static/evalkit.css`` puts that font
first in the theme's font stacks; it holds only wide glyphs, so Latin text — including ’, – and
other punctuation that the CJK font would draw full-width — keeps the theme's fonts.
Nothing is downloaded, and no system font is relied on.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

FONT_FILE = "evalkit-cjk.woff"
_TAG = re.compile(r"<[^>]+>")
_SKIP = re.compile(r"<(script|style)\b.*?</\1>|data:[^\"')\s]+", re.S)


def characters(pages) -> str:
    """Sorted wide (East Asian Width W or F), non-space characters shown on the given pages."""
    seen: set[str] = set()
    for path in pages:
        text = _SKIP.sub(" ", Path(path).read_text(encoding="utf-8", errors="replace"))
        seen.update(ch for ch in html.unescape(_TAG.sub(" ", text))
                    if unicodedata.east_asian_width(ch) in "WF" and not ch.isspace())
    return "".join(sorted(seen))


def subset(text: str, target: Path) -> int:
    """Write the glyphs of ``text`` as a WOFF font to ``target``; return its size in bytes."""
    from fontTools import subset as ft_subset

    from evalkit.report.style import cjk_font_path

    options = ft_subset.Options()
    options.flavor = "woff"  # zlib-compressed; needs no extra package
    options.layout_features = ["*"]
    options.notdef_outline = True
    font = ft_subset.load_font(str(cjk_font_path()), options)
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    ft_subset.save_font(font, str(target), options)
    return target.stat().st_size


def write_font(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    text = characters(out.rglob("*.html"))
    (out / "_static").mkdir(exist_ok=True)
    size = subset(text or "中", out / "_static" / FONT_FILE)
    from sphinx.util import logging

    logging.getLogger(__name__).info(f"cjkfont: {len(text)} characters, {size // 1024} KiB -> _static/{FONT_FILE}")


def setup(app):
    app.connect("build-finished", write_font)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
