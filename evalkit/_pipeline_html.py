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
import os
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
PRINT_CSS = (Path(__file__).parent / "report" / "templates" / "evalkit_print.css").read_text(encoding="utf-8")
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
    for cell in nb.cells:
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
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    for exclude_input, path in ((True, target), (False, code_target)):
        body, _ = _exporter(exclude_input=exclude_input, language=language).from_notebook_node(nb)
        path.write_text(body, encoding="utf-8")
    return target, code_target
