"""Offline HTML export of executed notebooks for the evidence pack.

nbconvert's ``lab`` template loads require.js, MathJax and mermaid from a CDN and, when a notebook
carries widget state, the widget manager from unpkg. An evidence pack must open on a machine
without a network, so the template used here extends ``lab`` and empties those blocks. Images are
already inlined by nbconvert (base64 ``data:`` URIs) and the CSS is inlined by the template, so
the result is one self-contained file. LaTeX in markdown is shown as typed (no MathJax).

Two files are written per notebook: ``<name>.html`` without code (prompts and inputs removed, for
the panel) and ``<name>.code.html`` with the code.
"""

from __future__ import annotations

import copy
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter

OFFLINE_TEMPLATE_NAME = "evalkit_offline.html.j2"
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
# A4 print stylesheet and the conclusion boxes' styles, on every page (evalkit/report/templates)
PRINT_CSS = (Path(__file__).parent.parent / "report" / "templates" / "evalkit_print.css").read_text(encoding="utf-8")
OFFLINE_TEMPLATE += (
    "{%- block html_head_css -%}<style>{% raw %}" + PRINT_CSS + "{% endraw %}</style>{%- endblock html_head_css -%}\n"
)

#: Tag papermill puts on the red "An Exception was encountered" banner cells.
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"


def _exporter(*, exclude_input: bool, language: str) -> HTMLExporter:
    return HTMLExporter(
        extra_loaders=[jinja2.DictLoader({OFFLINE_TEMPLATE_NAME: OFFLINE_TEMPLATE})],
        template_file=OFFLINE_TEMPLATE_NAME,
        exclude_input=exclude_input,
        exclude_input_prompt=exclude_input,
        language_code="zh" if language == "zh" else "en",
    )


LANGUAGE_TAG_PREFIX = "lang-"


def notebook_language(nb: nbformat.NotebookNode) -> str | None:
    """The ``language`` parameter an executed notebook ran with (papermill metadata), if any."""
    params = nb.get("metadata", {}).get("papermill", {}).get("parameters", {}) or {}
    lang = params.get("language")
    return lang if lang in ("zh", "en") else None


def filter_language(nb: nbformat.NotebookNode, language: str | None) -> nbformat.NotebookNode:
    """A copy of ``nb`` without the cells tagged for another language.

    A markdown (or code) cell tagged ``lang-zh`` is kept only in the Chinese pack and one tagged
    ``lang-en`` only in the English pack, so each page is in one language. Untagged cells are kept.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    language : {"zh", "en"} or None
        The pack's language; ``None`` keeps every cell.
    """
    clean = copy.deepcopy(nb)
    if language is None:
        return clean

    clean.cells = [c for c in clean.cells if _language_kept(c, language)]
    return clean


def _language_kept(cell, language: str | None) -> bool:
    """Whether a cell is shown in the pack of ``language`` (untagged cells always are)."""
    tags = [t for t in cell.get("metadata", {}).get("tags", []) if t.startswith(LANGUAGE_TAG_PREFIX)]
    return language is None or not tags or f"{LANGUAGE_TAG_PREFIX}{language}" in tags


def notebook_title(nb: nbformat.NotebookNode, default: str) -> str:
    """Return the text of the first heading of a notebook, or ``default``.

    The heading is the first ``#`` line of a markdown cell or of a Markdown output (a title that a
    notebook displays in the pack's language).

    Parameters
    ----------
    nb : NotebookNode
        The notebook.
    default : str
        Returned when no markdown cell or Markdown output starts with ``#``.

    Returns
    -------
    str
        The heading without the leading ``#`` characters.
    """
    for cell in filter_language(nb, notebook_language(nb)).cells:
        if cell.get("cell_type") == "markdown":
            lines = str(cell.get("source", "")).splitlines()
        else:  # a title displayed in the pack's language: display(Markdown("# ..."))
            lines = [str(o.get("data", {}).get("text/markdown", "")).split("\n", 1)[0]
                     for o in cell.get("outputs", [])]
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("#"):
                text = stripped.lstrip("#").strip()
                if text:
                    return text
    return default


def strip_skip_traceback(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of a skipped notebook without papermill's error banners and tracebacks.

    A notebook that ends itself with :func:`evalkit.pipeline.skip_notebook` stops with an
    exception; the reader should see the skip message the notebook displayed, not a red banner.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.

    Returns
    -------
    NotebookNode
        A cleaned deep copy.
    """
    clean = copy.deepcopy(nb)
    clean.cells = [
        c for c in clean.cells if PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    for cell in clean.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
    return clean


def export_html(
    nb: nbformat.NotebookNode,
    target: str | os.PathLike,
    *,
    title: str,
    language: str = "zh",
) -> tuple[Path, Path]:
    """Write the code-hidden and the code-showing HTML pages of an executed notebook.

    Parameters
    ----------
    nb : NotebookNode
        The executed (or partially executed) notebook.
    target : path-like
        Path of the code-hidden page, ending in ``.html``; the page with code goes beside it with
        the suffix ``.code.html``.
    title : str
        Text of the page's ``<title>``.
    language : {"zh", "en"}
        Language code written into ``<html lang=...>``.

    Returns
    -------
    tuple of Path
        ``(page without code, page with code)``.
    """
    target = Path(target)
    code_target = target.with_name(target.name[: -len(".html")] + ".code.html")
    nb = filter_language(nb, language)
    nb.metadata["title"] = title
    for exclude_input, path in ((True, target), (False, code_target)):
        body, _ = _exporter(exclude_input=exclude_input, language=language).from_notebook_node(nb)
        path.write_text(body, encoding="utf-8")
    return target, code_target


# --------------------------------------------------------------------------------------------
# Page hygiene: nothing from Python may reach a page
# --------------------------------------------------------------------------------------------
#: The MIME type nbconvert shows for an output, in its order of preference.
DISPLAY_PRIORITY = ("text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png", "image/jpeg",
                    "text/markdown", "text/plain")
_DATA_URI = re.compile(r"data:[^\"')\s]+")
_WARNING = re.compile(r"\b[A-Z]?\w*(?:Warning|Error|Exception)\b\s*:|Traceback \(most recent call last\)")
_REPR = re.compile(
    r"<[\w.]+ (?:object )?at 0x[0-9a-fA-F]+>|\b(?:PosixPath|WindowsPath|PurePath|Text|Line2D|AxesSubplot|Axes|"
    r"Figure|Styler|DataFrame|Series)\((?!\))|<Figure size|^Out\[\d+\]", re.MULTILINE)
_PATH = re.compile(r"(?<![\w.:/])(?:/(?:tmp|home|root|work|Users|usr|opt|var|mnt|srv|private|data)/[^\s'\"<>)]*"
                   r"|[A-Za-z]:\\[^\s'\"<>]+)")
_TABLE_NAN = {"nan", "NaN", "NAN", "None", "inf", "-inf", "<NA>", "NaT"}
_PROSE_NAN = re.compile(r"(?<![\w.])(?:nan|NaN|-?inf)(?![\w])")
_CJK = re.compile(r"[\u3400-\u9fff]")
_EN_RUN = re.compile(r"(?:[A-Za-z][A-Za-z'’\-]*[\s,;:]+){3,}[A-Za-z][A-Za-z'’\-]*")
_CODE_SPAN = re.compile(r"`[^`]*`|<code>.*?</code>|<pre>.*?</pre>", re.DOTALL)
_RAW_HEADER = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\(.*\))?$|^[a-z]+$")
_TAG = re.compile(r"<[^>]+>")
_VERBATIM = re.compile(r'<span class="evalkit-verbatim">.*?</span>', re.DOTALL)


@dataclass
class PageProblem:
    """One thing on a page a reader must not see.

    Attributes
    ----------
    cell_index : int or None
        Index of the cell in the executed notebook (as papermill counts, with the injected cell).
    exec_count : int or None
        Its ``In [n]`` number.
    problem : str
        What is wrong, with the offending text.
    """

    cell_index: int | None
    exec_count: int | None
    problem: str

    def __str__(self) -> str:
        where = "cell ?" if self.cell_index is None else f"cell {self.cell_index}"
        if self.exec_count is not None:
            where += f" (In [{self.exec_count}])"
        return f"{where}: {self.problem}"


def _shown(output) -> tuple[str, str]:
    """The MIME type and text nbconvert shows for one display output."""
    data = output.get("data", {})
    for mime in DISPLAY_PRIORITY:
        if mime in data:
            value = data[mime]
            return mime, "".join(value) if isinstance(value, list) else str(value)
    return "", ""


def _html_table_problems(fragment: str, language: str) -> list[str]:
    out = []
    if "<table" not in fragment:
        return out
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    for tab in soup.find_all("table"):
        for cell in tab.find_all(["td", "th"]):
            text = cell.get_text(" ", strip=True)
            if text in _TABLE_NAN:
                out.append(f"missing value shown as {text!r} in a table")
                break
        heads = [th.get_text(" ", strip=True) for th in tab.find_all("th")]
        from ..report.labels import LABELS

        raw = [h for h in heads if _RAW_HEADER.match(h) and ("_" in h or h in LABELS)]
        if raw:
            out.append(f"raw column name(s) as table header: {', '.join(dict.fromkeys(raw))}")
        body = tab.find("tbody") or tab
        firsts = []
        for tr in body.find_all("tr"):
            first = tr.find(["th", "td"])
            if first is not None and first.name == "th":
                firsts.append(first.get_text(strip=True))
        if firsts and firsts == [str(i) for i in range(len(firsts))]:
            out.append("row index (0, 1, 2, ...) shown in a table")
    return out


def _language_problems(text: str, language: str) -> list[str]:
    plain = _CODE_SPAN.sub(" ", text)
    if language == "en":
        found = _CJK.findall(plain)
        return [f"Chinese text in an English page: {''.join(found[:12])!r}"] if found else []
    runs = [r for r in _EN_RUN.findall(plain) if sum(w[:1].islower() for w in r.split()) >= 3]
    return [f"English text in a Chinese page: {runs[0][:60]!r}"] if runs else []


def _text_problems(text: str, language: str, *, html_fragment: bool, allowed=()) -> list[str]:
    from ..report.figcheck import strip_allowed

    text = _VERBATIM.sub(" ", _DATA_URI.sub("", text))
    out = []
    if html_fragment:
        out += _html_table_problems(text, language)
        text = html.unescape(_TAG.sub(" ", re.sub(r"<style.*?</style>", " ", text, flags=re.DOTALL)))
    text = strip_allowed(text, allowed)
    if _WARNING.search(text):
        out.append(f"warning or traceback: {_WARNING.search(text).group(0)!r}")
    if _REPR.search(text):
        out.append(f"Python object repr: {_REPR.search(text).group(0)!r}")
    if _PATH.search(text):
        out.append(f"local path: {_PATH.search(text).group(0)[:80]!r}")
    if _PROSE_NAN.search(text):
        out.append(f"missing value shown as {_PROSE_NAN.search(text).group(0)!r}")
    out += _language_problems(text, language)
    return out


def _cell_problems(cell, language: str, allowed=()) -> list[str]:
    if cell.get("cell_type") == "markdown":
        return _text_problems(str(cell.get("source", "")), language, html_fragment=True, allowed=allowed)
    out = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            out.append(f"traceback: {output.get('ename')}: {str(output.get('evalue'))[:120]}")
        elif kind == "stream":
            text = "".join(output.get("text", ""))
            if output.get("name") == "stderr":
                first = next((line for line in text.splitlines() if line.strip()), "")
                out.append(f"warning or message on stderr: {first[:160]!r}")
            else:
                out += _text_problems(text, language, html_fragment=False, allowed=allowed)
        elif kind in ("execute_result", "display_data"):
            mime, text = _shown(output)
            if mime == "text/plain":
                out.append(f"raw Python output (no table or figure): {text[:80]!r}")
            elif mime in ("text/html", "text/markdown"):
                out += _text_problems(text, language, html_fragment=True, allowed=allowed)
    return out


def page_problems(nb: nbformat.NotebookNode, language: str, *, figure_log=None) -> list[PageProblem]:
    """Everything on the page of an executed notebook that must not reach a reader.

    Checks, cell by cell, what the code-hidden page shows: warnings and messages on stderr,
    tracebacks, raw Python output (object reprs, ``Out[]`` values without a table or figure),
    local paths, NaN/None/inf (in tables and prose), raw column names as table headers, row indices
    0, 1, 2, ... and text in the other language (markdown cells of the other language are removed
    first, see :func:`filter_language`); then adds the figure problems the kernel recorded in
    ``figure_log`` (see :mod:`evalkit.report.figcheck`), attributed to their cells.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    language : {"zh", "en"}
        The pack's language.
    figure_log : path-like, optional
        The kernel's figure-problem log.

    Returns
    -------
    list of PageProblem
        Empty when the page is clean.
    """
    problems = []
    shown = [(i, c) for i, c in enumerate(nb.cells) if _language_kept(c, language)]
    allowed = set()
    if figure_log is not None:
        from ..report.figcheck import read_allowed

        allowed = read_allowed(figure_log)
    by_count = {}
    for index, cell in shown:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []) or \
                "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        count = cell.get("execution_count")
        if count is not None:
            by_count[count] = index
        for problem in dict.fromkeys(_cell_problems(cell, language, allowed)):
            problems.append(PageProblem(index, count, problem))
    if figure_log is not None:
        from ..report.figcheck import read_log

        for rec in read_log(figure_log):
            count = rec.get("exec_count")
            problems.append(PageProblem(by_count.get(count), count,
                                        f"figure text {rec.get('text')!r}: {rec.get('problem')}"))
    return problems


def describe_problems(name: str, problems: list[PageProblem], limit: int = 12) -> str:
    """One message naming the page and each offending cell (at most ``limit`` lines)."""
    lines = [f"page {name}.html shows {len(problems)} thing(s) a reader must not see:"]
    lines += [f"    {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"    ... and {len(problems) - limit} more")
    return "\n".join(lines)
