"""The CJK web font embedded in HTML pages holds exactly the characters the pages show."""

from __future__ import annotations

import base64
import io
import re

from fontTools.ttLib import TTFont

from evalkit.report.webfont import (
    FONT_FAMILY,
    embed_cjk_font,
    embed_cjk_font_in_files,
    page_characters,
)


def _font_cmap(page: str) -> set[int]:
    data = re.search(r"base64,([A-Za-z0-9+/=]+)\)", page).group(1)
    return set(TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap())


def test_page_characters_skip_tags_and_data_uris():
    page = '<html><head><title>x</title></head><body><h1 id="潍">试验区</h1><img src="data:image/png;base64,5Lit"/>&#28493;</body></html>'
    assert set(page_characters(page)) == set("试验区潍")


def test_embedded_font_covers_every_character(tmp_path):
    page = "<html><head></head><body><h1>目标完成情况记分卡</h1><p>规上工业企业数量 Targets</p></body></html>"
    out = embed_cjk_font(page)
    assert f"font-family: '{FONT_FAMILY}'" in out and "http" not in out
    cmap = _font_cmap(out)
    assert {ord(c) for c in "目标完成情况记分卡规上工业企业数量"} <= cmap
    assert embed_cjk_font(out) == out  # idempotent


def test_shared_font_for_several_files(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    a.write_text("<html><head></head><body>潍坊</body></html>", encoding="utf-8")
    b.write_text("<html><head></head><body>寿光</body></html>", encoding="utf-8")
    assert embed_cjk_font_in_files([a, b]) == 2
    cmap = _font_cmap(b.read_text(encoding="utf-8"))
    assert {ord(c) for c in "潍坊寿光"} <= cmap
    assert embed_cjk_font_in_files([a, b]) == 0
