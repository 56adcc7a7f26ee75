"""The report's context: the language of the pages and whether the data are synthetic.

:func:`evalkit.report.use` sets it once per notebook; labels, tables, figures and their checks
read it (:func:`current`, :func:`resolve_language`). It imports nothing else of the report, so
every report module can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._shared.validation import check_option

LANGUAGES = ("zh", "en")
#: gid of the synthetic-data mark drawn on figures (the figure checks look it up).
SYNTHETIC_MARK_GID = "evalkit-synthetic-mark"


@dataclass
class ReportContext:
    """Presentation settings shared by the figures of one notebook run."""

    language: str = "zh"
    synthetic: bool = False


_CONTEXT = ReportContext()


def current() -> ReportContext:
    """The active :class:`ReportContext`.

    Examples
    --------
    >>> from evalkit.report import current
    >>> type(current()).__name__, current().language in ("zh", "en")
    ('ReportContext', True)
    """
    return _CONTEXT


def resolve_language(language: str | None) -> str:
    """``language`` if given, else the active context's language (validated)."""
    lang = _CONTEXT.language if language is None else language
    return check_option("language", lang, LANGUAGES)
