"""Check every figure a notebook shows, inside the kernel, for text a reader must never see.

An HTML scan cannot read labels drawn inside PNG images, so :func:`install` (called by
:func:`evalkit.report.use`) wraps :meth:`matplotlib.figure.Figure.draw`: each time a figure is
drawn (shown inline or saved) every text artist -- titles, axis labels, tick labels, legends,
annotations, table cells, colour-bar labels -- is checked by :func:`text_problems` for raw column
names, NaN/None/inf and text of the other language, and missing-glyph warnings (tofu) are caught.
Problems are kept in :data:`PROBLEMS` and, under ``evalkit evidence``, appended to a sidecar file
next to the notebook's status file, which the pipeline reads to fail the build naming page and cell.

Combining marks (``M̄``) have no glyph in the CJK font and render as boxes, so text holding a
letter with a combining macron is drawn as mathtext (``$\\bar{M}$``) instead.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

STATUS_ENV = "EVALKIT_PIPELINE_STATUS_FILE"  # same name as evalkit.pipeline.execute.STATUS_ENV
FIGURE_LOG_SUFFIX = ".figures.jsonl"
#: Problems found in this kernel: dicts with ``exec_count``, ``text``, ``problem``.
PROBLEMS: list[dict] = []

_MATH = re.compile(r"\$[^$]*\$")
_RAW = re.compile(r"(?<![\w.\-/])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w\-])")
_NAN = re.compile(r"(?<![\w.])(?:nan|NaN|NAN|None|-?inf|<NA>|NaT)(?![\w])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
_WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
_COMBINING = re.compile(r"([A-Za-z])\u0304")
#: Lower-case words that may appear in Chinese text (package, data set and method names).
ALLOWED_WORDS = frozenset({"evalkit", "mpdta", "castle", "prop", "log", "did", "honestdid", "synthdid", "moderndid",
                           "causaldata", "bacondecomp", "fixest", "csdid", "rmspe", "tce", "cny", "pre", "post"})
#: Names from the user's own files (units, factors, funds) that may stay as written in either language.
ALLOWED_TEXTS: set[str] = set()
_INSTALLED = False
_PRINTING: list[bool] = []
_SEEN: set[tuple] = set()


def text_problems(text: str, language: str) -> list[str]:
    """What is wrong with one piece of text shown to a reader (empty list when nothing).

    Parameters
    ----------
    text : str
        The text (a label, tick label, legend entry, table cell, ...).
    language : {"zh", "en"}
        The pack's language.

    Examples
    --------
    >>> text_problems("pre_rmspe", "zh")
    ['raw column name pre_rmspe']
    >>> text_problems("规上工业营业收入", "en")
    ['Chinese text in an English page']
    >>> text_problems("估计值", "zh")
    []
    """
    plain = strip_allowed(_MATH.sub(" ", str(text)))
    out = [f"raw column name {m}" for m in dict.fromkeys(_RAW.findall(plain))]
    if _NAN.search(plain):
        out.append(f"missing value shown as {_NAN.search(plain).group(0)}")
    if language == "en" and _CJK.search(plain):
        out.append("Chinese text in an English page")
    if language == "zh":
        words = [w for w in _WORD.findall(plain) if w not in ALLOWED_WORDS]
        if len(words) >= 2:
            out.append("English text in a Chinese page")
    return out


def strip_allowed(text: str, allowed=None) -> str:
    """``text`` without the allowed user-file names (longest first)."""
    for name in sorted(ALLOWED_TEXTS if allowed is None else allowed, key=len, reverse=True):
        if name:
            text = text.replace(name, " ")
    return text


def allow_names(names) -> None:
    """Let names from the user's own files (a fund's, a factor's, a unit's) stay as written.

    They are exempt from the language check in figures and, through the figure log, on the page.

    Parameters
    ----------
    names : iterable of str
        The names, exactly as they appear.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from evalkit.report import allow_names
    >>> allow_names(["潍坊市技改专项资金"])  # a fund's own name may appear in any page language
    """
    new = {str(n) for n in names if n is not None and str(n).strip()} - ALLOWED_TEXTS
    ALLOWED_TEXTS.update(new)
    path = _log_path()
    if new and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"allow": sorted(new)}, ensure_ascii=False) + "\n")


def _figure_texts(fig) -> list:
    texts = list(fig.texts)
    for attr in ("_suptitle", "_supxlabel", "_supylabel"):
        if getattr(fig, attr, None) is not None:
            texts.append(getattr(fig, attr))
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax._left_title, ax._right_title]
        if ax.xaxis.get_visible() and ax.axison:  # axis labels and ticks are drawn only with the axis
            texts += [ax.xaxis.label, *ax.get_xticklabels(which="both")]
        if ax.yaxis.get_visible() and ax.axison:
            texts += [ax.yaxis.label, *ax.get_yticklabels(which="both")]
        texts += list(ax.texts)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            texts += [*legend.get_texts(), legend.get_title()]
        for tab in ax.tables:
            texts += [cell.get_text() for cell in tab.get_celld().values()]
    return [t for t in texts if t is not None and t.get_visible() and str(t.get_text()).strip()]


def _exec_count() -> int | None:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            return None
        # the history holds the running cell's input at index In [n] (the execution counter itself
        # is already advanced during the cell in recent IPython versions)
        return len(shell.history_manager.input_hist_raw) - 1
    except Exception:  # noqa: BLE001 - outside IPython there is no cell to name
        return None


def _log_path() -> Path | None:
    status = os.environ.get(STATUS_ENV)
    return Path(status).with_suffix(FIGURE_LOG_SUFFIX) if status else None


def _record(problems: list[dict]) -> None:
    new = []
    for p in problems:
        key = (p["exec_count"], p["text"], p["problem"])
        if key not in _SEEN:
            _SEEN.add(key)
            new.append(p)
    PROBLEMS.extend(new)
    path = _log_path()
    if new and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            for p in new:
                fh.write(json.dumps(p, ensure_ascii=False) + "\n")


def check_figure(fig, language: str | None = None) -> list[dict]:
    """Check the text artists of a drawn figure; returns (and records) the problems found."""
    from .context import current

    lang = language or current().language
    count = _exec_count()
    found = []
    for artist in _figure_texts(fig):
        text = str(artist.get_text())
        for problem in text_problems(text, lang):
            found.append({"exec_count": count, "text": text[:120], "problem": problem})
    _record(found)
    return found


def _use_mathtext_for_combining_marks(fig) -> None:
    for artist in _figure_texts(fig):
        text = str(artist.get_text())
        if "\u0304" in text and "$" not in text:
            artist.set_text(_COMBINING.sub(lambda m: f"$\\bar{{{m.group(1)}}}$", text))


def place_synthetic_mark(fig) -> None:
    """Put the synthetic-data mark below everything else in ``fig``, right-aligned, so it never overlaps.

    The mark (a figure text with the ``evalkit-synthetic-mark`` gid) starts in the bottom-right
    corner, where tick labels, axis labels or tables may already be; before the figure is shown or
    saved it is moved just under the bounding box of all other artists.
    """
    from .context import SYNTHETIC_MARK_GID

    marks = [t for t in fig.texts if t.get_gid() == SYNTHETIC_MARK_GID]
    if not marks:
        return
    try:
        renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else fig._get_renderer()
        for m in marks:
            m.set_visible(False)
        box = fig.get_tightbbox(renderer)
    except Exception:  # noqa: BLE001 - keep the default corner when the layout cannot be measured
        for m in marks:
            m.set_visible(True)
        return
    width, height = fig.get_size_inches()
    for m in marks:
        m.set_visible(True)
        m.set_position((min(box.x1, width) / width, box.y0 / height - 0.01))
        m.set_verticalalignment("top")
        m.set_horizontalalignment("right")


def install() -> None:
    """Wrap ``Figure.draw`` so every drawn figure is checked (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.figure import Figure

    original = Figure.draw
    original_print = FigureCanvasBase.print_figure

    def print_figure(self, *args, **kwargs):
        # only a figure that is shown or saved is checked (not intermediate draws while building it)
        place_synthetic_mark(self.figure)
        _PRINTING.append(True)
        try:
            return original_print(self, *args, **kwargs)
        finally:
            _PRINTING.pop()

    def draw(self, renderer):
        if not _PRINTING:
            return original(self, renderer)
        _use_mathtext_for_combining_marks(self)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = original(self, renderer)
        glyphs = sorted({str(w.message) for w in caught if "missing from font" in str(w.message)})
        for w in caught:  # passed on unchanged (the page check reports what reaches stderr)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if glyphs:
            _record([{"exec_count": _exec_count(), "text": g[:120], "problem": "glyph missing from the font (tofu)"}
                     for g in glyphs])
        check_figure(self)
        return result

    draw.__wrapped__ = original
    print_figure.__wrapped__ = original_print
    Figure.draw = draw
    FigureCanvasBase.print_figure = print_figure
    _INSTALLED = True


def read_log(path: str | os.PathLike) -> list[dict]:
    """Problems recorded in a figure log (empty when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "allow" not in r]


def read_allowed(path: str | os.PathLike) -> set[str]:
    """The user-file names a notebook declared with :func:`allow_names` (from its figure log)."""
    path = Path(path)
    if not path.exists():
        return set()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {name for r in rows for name in r.get("allow", [])}
