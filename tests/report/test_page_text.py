"""The pages' words live in ``evalkit/report/texts/``, never in the notebooks.

Checks: every catalogue has zh and en for each entry with the same fields; English entries hold no
Chinese; every key a notebook asks for exists and every entry is used; the evidence notebooks
(``.py`` and the ``.ipynb`` papermill runs) hold no Chinese literal and no expression that picks a
text by language; the lookup's errors name the page, key and field. Each rule is shown failing on a
made-up notebook or catalogue. Tolerances: none (exact strings).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from evalkit.report import PageText, PageTextError, page_text
from evalkit.report.page_text import CATALOGUE_DIR, _check_entries, catalogues, template_fields

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
#: methods of the notebook object that take a catalogue key as first argument
TEXT_CALLS = {"text", "say"}


def cjk_literals(source: str) -> list[str]:
    """Chinese in string literals and comments of a Python source (``line: text``)."""
    return [f"{i}: {line.strip()}" for i, line in enumerate(source.splitlines(), 1) if CJK.search(line)]


def language_switches(source: str) -> list[str]:
    """Expressions that choose a text by language: ``a if zh else b``, ``a if language == "zh" …``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.IfExp):
            names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)}
            if names & {"zh", "language", "lang"}:
                found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def _key_constants(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _key_constants(node.body) | _key_constants(node.orelse)
    raise AssertionError(f"line {node.lineno}: write the key as a literal (or a conditional of "
                         f"literals) so the catalogue check can see it: {ast.unparse(node)}")


def keys_asked_for(source: str) -> set[str]:
    """Catalogue keys in ``nb.text("key", …)`` / ``nb.say("key", …)`` calls (both branches of a
    conditional key counted)."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in TEXT_CALLS and node.args):
            keys |= _key_constants(node.args[0])
    return keys


def ipynb_source(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


# --- the catalogues --------------------------------------------------------------------------

@pytest.mark.parametrize("page", catalogues())
def test_catalogue_loads_with_both_languages_and_the_same_fields(page):
    words = page_text(page)
    assert "title" in words.keys()
    for key in words.keys():
        entry = words.entries[key]
        assert template_fields(entry["zh"]) == template_fields(entry["en"]), key
        assert entry["zh"].strip() and entry["en"].strip(), key


@pytest.mark.parametrize("page", catalogues())
def test_english_entries_hold_no_chinese(page):
    words = page_text(page)
    mixed = {k: e["en"] for k, e in words.entries.items() if CJK.search(e["en"])}
    assert not mixed, f"{page}: English text with Chinese characters: {mixed}"


def test_every_evidence_notebook_has_a_catalogue():
    assert {p.stem for p in NOTEBOOKS} <= set(catalogues())
    assert set(catalogues()) <= {p.stem for p in NOTEBOOKS}, "a catalogue without its notebook"


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_asks_only_for_existing_keys_and_uses_every_entry(script):
    source = script.read_text(encoding="utf-8")
    assert f'page="{script.stem}"' in source, "start the notebook with page=<its name>"
    asked = keys_asked_for(source)
    defined = set(page_text(script.stem).keys())
    assert not asked - defined, f"keys missing from texts/{script.stem}.toml: {sorted(asked - defined)}"
    unused = defined - asked - {"title"}  # the title is shown by report.notebook.start
    assert not unused, f"entries of texts/{script.stem}.toml no page uses: {sorted(unused)}"


# --- the notebooks hold no words of their own ------------------------------------------------

@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_holds_no_chinese_and_no_language_switch(script):
    for source in (script.read_text(encoding="utf-8"), ipynb_source(script.with_suffix(".ipynb"))):
        assert not cjk_literals(source), f"move these into texts/{script.stem}.toml: {cjk_literals(source)}"
        switches = language_switches(source)
        assert not switches, f"use nb.text(...) instead of choosing by language: {switches}"


def test_the_notebook_rules_catch_what_they_forbid():
    bad = 'title = "试验区" if zh else "Pilot zone"\nx = "a" if language == "zh" else "b"\n'
    assert len(cjk_literals(bad)) == 1
    assert len(language_switches(bad)) == 2
    assert keys_asked_for('nb.say("intro")\nnb.text("a" if x["p"] < 0.1 else "b", n=1)\nnb.other("c")') == {
        "intro", "a", "b"}
    with pytest.raises(AssertionError, match="write the key as a literal"):
        keys_asked_for('nb.text(key)')
    assert not language_switches('x = 1 if p < 0.05 else 2')


# --- the lookup ------------------------------------------------------------------------------

def test_lookup_fills_fields_and_keeps_format_specs():
    words = PageText("demo", {"p": {"zh": "p = {p:.3f}（{n} 次）", "en": "p = {p:.3f} ({n} draws)"}})
    assert words("p", "zh", p=0.01234, n=999) == "p = 0.012（999 次）"
    assert words("p", "en", p=0.01234, n=999) == "p = 0.012 (999 draws)"


def test_lookup_errors_name_page_key_and_field():
    words = PageText("demo", {"sample": {"zh": "{n} 个", "en": "{n} units"}})
    with pytest.raises(PageTextError, match=r"no text 'sampel'.*did you mean sample"):
        words("sampel", "en", n=1)
    with pytest.raises(PageTextError, match=r"'sample' of page 'demo' needs n"):
        words("sample", "en")
    with pytest.raises(PageTextError, match=r"does not use m"):
        words("sample", "en", n=1, m=2)
    with pytest.raises(PageTextError, match="no page text for 'nope'.*10_pilot_zone"):
        page_text("nope")


def test_catalogue_check_refuses_one_sided_or_mismatched_entries():
    with pytest.raises(PageTextError, match="a: needs exactly the keys zh and en"):
        _check_entries("demo", {"a": {"zh": "甲"}})
    with pytest.raises(PageTextError, match=r"b: zh fills \['n'\] but en fills \['m'\]"):
        _check_entries("demo", {"b": {"zh": "{n}", "en": "{m}"}})
    with pytest.raises(PageTextError, match="literal brace"):
        _check_entries("demo", {"c": {"zh": "{", "en": "x"}})
    assert CATALOGUE_DIR.name == "texts"


def test_notebook_start_shows_the_title_and_reads_its_catalogue(monkeypatch):
    from evalkit import report

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(getattr(obj, "data", obj)))
    nb = report.notebook.start(ROOT / "data_raw" / "demo", year=2023, language="en", page="10_pilot_zone")
    assert shown[0] == "# The pilot zone as a whole"
    assert nb.title == "The pilot zone as a whole"
    with pytest.raises(PageTextError):
        report.notebook.start(ROOT / "data_raw" / "demo", year=2023, language="en", page="10_pilot_zon")


# --- estimators and plots: words only through report's dictionary ----------------------------

#: modules whose words reach pages or figures (docstrings aside) and must come from
#: ``evalkit.report.LABELS`` / the page catalogues
WORDLESS = ["did", "synth", "iv", "sensitivity", "inference", "results.py", "report/plots.py",
            "report/notebook.py", "report/verdict.py", "report/conclusion.py", "report/style.py",
            "report/headlines.py", "report/page_text.py"]
#: Chinese that is not page text: (module, literal) with the reason
NOT_PAGE_TEXT = {
    ("iv/instrument.py", "the recentred formula instrument / 重定心公式工具变量"): "a bilingual error message",
}


def chinese_literals_outside_docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and ast.get_docstring(node) is not None}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)
            and id(node) not in docs]


def test_estimators_and_plots_hold_no_chinese_words():
    package = ROOT / "evalkit"
    found = []
    for entry in WORDLESS:
        paths = sorted((package / entry).rglob("*.py")) if (package / entry).is_dir() else [package / entry]
        for path in paths:
            rel = path.relative_to(package).as_posix()
            found += [f"{rel}: {text[:40]!r}" for text in chinese_literals_outside_docstrings(path)
                      if (rel, text) not in NOT_PAGE_TEXT]
    assert not found, f"take these words from evalkit/report/labels.py (report.t): {found}"


def test_the_module_rule_sees_literals_but_not_docstrings(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""模块说明。"""\ndef f():\n    """函数说明。"""\n    return "效应"\n', encoding="utf-8")
    assert chinese_literals_outside_docstrings(path) == ["效应"]
