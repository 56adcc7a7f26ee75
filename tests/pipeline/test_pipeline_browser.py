"""Headless-Chromium check of an evidence pack: open index.html, follow every link, fail on a
console error, an uncaught exception, a failed load, a missing image, a broken link or anchor.

Screenshots of the index and of the first report land in the test's temporary folder (and in
``$EVALKIT_SCREENSHOT_DIR`` when set) for a person to look at. Skipped, with the reason, when
Chromium is not installed. Tolerances: none.
"""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a pack build and headless Chromium (~50 s)


def test_pack_opens_cleanly_in_chromium(good_pack, browse):
    result = browse(good_pack.index)
    assert result["problems"] == []
    visited = sorted(p.name for p in result["pages"])
    expected = sorted(p.name for p in good_pack.path.glob("*.html"))
    assert visited == expected  # every page was reached from the index
    assert all(s.stat().st_size > 10_000 for s in result["screenshots"])


def test_browser_check_catches_broken_pages(good_pack, browse, tmp_path):
    """The check itself can fail: a dangling link, a missing image and a script error."""
    pack = tmp_path / "broken"
    shutil.copytree(good_pack.path, pack)
    index = pack / "index.html"
    html = index.read_text(encoding="utf-8")
    html = html.replace("</body>", '<a href="gone.html">gone</a><img src="nothing.png">'
                        "<script>undefinedFunction()</script></body>")
    index.write_text(html, encoding="utf-8")
    problems = browse(index)["problems"]
    assert "index.html: broken link gone.html" in problems
    assert any(p.startswith("index.html: missing image") and "nothing.png" in p for p in problems)
    assert any(p.startswith("index.html: exception:") for p in problems)
