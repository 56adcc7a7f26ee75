"""The words of the evidence pages: one catalogue per notebook, each entry in Chinese and English.

A page's headings, explanations, sample descriptions, figure titles and column names live in
``evalkit/report/texts/<notebook>.toml``, never in the notebook. Each entry is a template with
named fields that the notebook fills with its numbers::

    [sample]
    zh = "**样本**：{n_units} 个县级单位，{first}–{last} 年。"
    en = "**Sample**: {n_units} county-level units, {first}–{last}."

The notebook asks for it by key (``nb.text("sample", n_units=136, first=2012, last=2025)``), so
a page is in one language throughout, translators edit one file per page, and a missing or
misspelt key or field is an error at build time rather than a blank on a printed page. Both
languages of an entry must use the same fields (``tests/report/test_page_text.py`` checks every
catalogue, and that the notebooks hold no Chinese text of their own).

Words that several pages share (axis names, column headers, "estimate", "p-value") stay in
:data:`evalkit.report.labels.LABELS` and are reached with :func:`evalkit.report.t`.
"""

from __future__ import annotations

import difflib
import string
import tomllib
from functools import cache
from pathlib import Path

from .._shared.exceptions import EvalkitError
from .context import LANGUAGES, resolve_language

CATALOGUE_DIR = Path(__file__).with_name("texts")


class PageTextError(EvalkitError, KeyError):
    """A page asked for an entry, or filled a field, that its catalogue does not have.

    Examples
    --------
    >>> from evalkit.report import PageText, PageTextError
    >>> words = PageText("demo", {"sample": {"zh": "{n} 个单位", "en": "{n} units"}})
    >>> try:
    ...     words("sampel", "en", n=3)
    ... except PageTextError as err:
    ...     print(err)
    page 'demo' has no text 'sampel' (add it to texts/demo.toml); did you mean sample?
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def template_fields(template: str) -> set[str]:
    """Names of the fields a template fills (``"{n:.3f} of {total}"`` → ``{"n", "total"}``).

    Examples
    --------
    >>> sorted(template_fields("{n:.3f} of {total} ({{literal}})"))
    ['n', 'total']
    """
    return {name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(template) if name}


class PageText:
    """The catalogue of one evidence page.

    Parameters
    ----------
    page : str
        The notebook's name without suffix, e.g. ``"10_pilot_zone"``.
    entries : dict
        ``{key: {"zh": template, "en": template}}``.

    Examples
    --------
    >>> words = PageText("demo", {"sample": {"zh": "{n} 个单位", "en": "{n} units"}})
    >>> words("sample", "en", n=3)
    '3 units'
    >>> words("sample", "zh", n=3)
    '3 个单位'
    """

    def __init__(self, page: str, entries: dict[str, dict[str, str]]):
        self.page = page
        self.entries = entries

    def keys(self) -> list[str]:
        """The entry keys, in file order."""
        return list(self.entries)

    def __call__(self, key: str, language: str | None = None, /, **fields) -> str:
        """The entry ``key`` in ``language`` with its fields filled in.

        Raises
        ------
        PageTextError
            Unknown key (the nearest keys are suggested), a field the template needs but was not
            given, or a field given that neither language uses.
        """
        entry = self.entries.get(key)
        if entry is None:
            near = difflib.get_close_matches(key, self.entries, n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise PageTextError(f"page {self.page!r} has no text {key!r} (add it to "
                                f"{CATALOGUE_DIR.name}/{self.page}.toml){hint}")
        template = entry[resolve_language(language)]
        needed = template_fields(template)
        missing = sorted(needed - set(fields))
        unused = sorted(set(fields) - needed)
        if missing or unused:
            parts = ([f"needs {', '.join(missing)}"] if missing else []) + (
                [f"does not use {', '.join(unused)}"] if unused else [])
            raise PageTextError(f"text {key!r} of page {self.page!r} {' and '.join(parts)}")
        return template.format(**fields)


def _check_entries(page: str, raw: dict) -> dict[str, dict[str, str]]:
    """Every entry has exactly zh and en, both strings, with the same fields."""
    problems = []
    for key, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGUAGES):
            problems.append(f"{key}: needs exactly the keys zh and en")
            continue
        if not all(isinstance(v, str) for v in entry.values()):
            problems.append(f"{key}: zh and en must be text")
            continue
        try:
            zh, en = template_fields(entry["zh"]), template_fields(entry["en"])
        except ValueError as exc:
            problems.append(f"{key}: {exc} (write a literal brace as {{{{ or }}}})")
            continue
        if zh != en:
            problems.append(f"{key}: zh fills {sorted(zh)} but en fills {sorted(en)}")
    if problems:
        raise PageTextError(f"{CATALOGUE_DIR.name}/{page}.toml: " + "; ".join(problems))
    return raw


@cache
def page_text(page: str) -> PageText:
    """The catalogue of one page, read and checked once.

    Parameters
    ----------
    page : str
        Notebook name without suffix (``"20_tech_upgrade_subsidies"``).

    Returns
    -------
    PageText

    Raises
    ------
    PageTextError
        No catalogue for that page (the available ones are named), or an entry without both
        languages or with different fields in each.

    Examples
    --------
    >>> from evalkit.report import page_text
    >>> words = page_text("10_pilot_zone")
    >>> words("title", "en")
    'The pilot zone as a whole'
    """
    path = CATALOGUE_DIR / f"{page}.toml"
    if not path.is_file():
        raise PageTextError(f"no page text for {page!r}; catalogues exist for: {', '.join(catalogues())}")
    with path.open("rb") as fh:  # package data, not user input
        raw = tomllib.load(fh)
    return PageText(page, _check_entries(page, raw))


def catalogues() -> list[str]:
    """Names of the pages that have a catalogue.

    Examples
    --------
    >>> "10_pilot_zone" in catalogues()
    True
    """
    return sorted(p.stem for p in CATALOGUE_DIR.glob("*.toml"))
