"""Difference-in-differences and event-study estimators.

Public functions (methods in ``docs/methods/did.md``): :func:`twfe`, :func:`two_by_two`, :func:`event_study`,
:func:`bacon_decomposition`, :func:`callaway_santanna`, :func:`sun_abraham`, :func:`imputation`,
:func:`compare`, :func:`continuous`, :func:`dcdh`.

Several modules share their public function's name (``evalkit/did/twfe.py`` defines ``twfe``), so
the functions are bound here explicitly, after their modules are imported: ``did.twfe`` is always
the function, whichever module was imported first.
"""

from __future__ import annotations

from .bacon import bacon_decomposition
from .callaway_santanna import callaway_santanna
from .compare import compare
from .continuous import continuous
from .dcdh import dcdh
from .event_study import event_study
from .imputation import imputation
from .sun_abraham import sun_abraham
from .twfe import twfe, two_by_two

__all__ = [
    "bacon_decomposition",
    "callaway_santanna",
    "compare",
    "continuous",
    "dcdh",
    "event_study",
    "imputation",
    "sun_abraham",
    "twfe",
    "two_by_two",
]
