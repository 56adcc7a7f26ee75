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
    #: Set by :func:`evalkit.report.use`: library plots are English until a report language is chosen.
    language_chosen: bool = False


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


def plot_language(language: str | None = None) -> str:
    """Language of a figure: ``language`` if given, else the one set by ``report.use()``, else English.

    Every ``plot()`` of an evalkit result calls this, so plots follow ``report.use(language=...)``
    in an evidence pack and are English in library use (no ``report.use()`` call).

    Examples
    --------
    >>> from evalkit.report.style import plot_language
    >>> plot_language("zh")
    'zh'
    >>> plot_language() in ("en", "zh")  # "en" until report.use() chooses a language
    True
    """
    if language is not None:
        return check_option("language", language, LANGUAGES)
    return _CONTEXT.language if _CONTEXT.language_chosen else "en"
