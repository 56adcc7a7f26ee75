"""The documentation site's generated parts, checked without building it (Sphinx is not needed).

* API pages (docs/_ext/apigen.py): every name of every package's ``__all__`` is listed, and the
  result classes the estimators return are documented too.
* CJK font (docs/_ext/cjkfont.py): the subset holds exactly the wide characters the pages show.
* Every "allocation.md §n" that evalkit's docstrings cite is a section of docs/allocation.md.

Tolerances: none (exact set comparisons).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

import evalkit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
apigen = importlib.import_module("apigen")
cjkfont = importlib.import_module("cjkfont")


def _listed(package: str) -> set[str]:
    page = apigen.page(package, "title")
    return set(re.findall(r"^   (\S+)$", page, re.M)) - {":nosignatures:", ":no-members:", ":no-index:"}


@pytest.mark.parametrize("package", [name for name, _ in apigen.PACKAGES])
def test_api_page_lists_every_public_name(package):
    module = importlib.import_module(package)
    listed = _listed(package)
    public = set(getattr(module, "__all__", [])) - {"__version__"}
    assert public <= listed, f"missing from the API page: {sorted(public - listed)}"


def test_every_subpackage_has_an_api_page():
    documented = {name.split(".", 1)[1] for name, _ in apigen.PACKAGES}
    assert set(evalkit._SUBMODULES) <= documented


def test_result_classes_returned_by_estimators_are_documented():
    """Every class a public estimator function returns (found from the return annotations) is
    listed on its package's API page, exported (``CSResult``) or by module (``module.Class``)."""
    from result_classes import returned_classes

    for cls in returned_classes():
        parts = cls.__module__.split(".")
        package = "evalkit.results" if parts[1] == "results" else f"evalkit.{parts[1]}"
        if parts[1] in ("_summary", "_shared"):
            continue  # Summary and the transition helper: documented with the results family
        listed = _listed(package)
        local = ".".join(parts[2:] + [cls.__name__])
        assert cls.__name__ in listed or local in listed, f"{cls.__module__}.{cls.__name__}"
    assert {"EffectVector", "ScalarEffect", "Result", "TidyVector"} <= _listed("evalkit.results")
    assert "shapley.ShapleyResult" in _listed("evalkit.allocation")


def test_cjk_subset_holds_the_wide_characters_of_the_pages(tmp_path):
    from fontTools.ttLib import TTFont

    page = tmp_path / "p.html"
    page.write_text("<html><head><style>.x{content:'样'}</style><script>var a='脚';</script></head>"
                    "<body><p>R’s “did” – 财政局，手册。</p><img src='data:image/png;base64,图'></body>"
                    "</html>", encoding="utf-8")
    text = cjkfont.characters([page])
    assert text == "".join(sorted("财政局，手册。"))
    font = tmp_path / "f.woff"
    assert cjkfont.subset(text, font) > 0
    cmap = TTFont(str(font)).getBestCmap()
    assert {ord(c) for c in text} <= set(cmap) and ord("’") not in cmap and ord("R") not in cmap


def test_allocation_sections_cited_by_docstrings_exist():
    doc = (ROOT / "docs" / "allocation.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## §(\d+)", doc, re.M))
    cited = set()
    for path in (ROOT / "evalkit").rglob("*.py"):
        cited |= set(re.findall(r"allocation\.md[`]* §(\d+)", path.read_text(encoding="utf-8")))
    assert cited and cited <= sections, sorted(cited - sections)
