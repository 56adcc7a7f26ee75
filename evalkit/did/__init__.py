"""Difference-in-differences and event-study estimators.

Public functions (methods in ``docs/methods/did.md``): :func:`twfe`, :func:`two_by_two`, :func:`event_study`,
:func:`bacon_decomposition`, :func:`callaway_santanna`, :func:`sun_abraham`, :func:`imputation`,
:func:`compare`, :func:`continuous`, :func:`dcdh`.

The result classes the functions return are exported too (``evalkit.did.CSResult`` ...); every
one follows the results protocol of :mod:`evalkit.results`.

Several modules share their public function's name (``evalkit/did/twfe.py`` defines ``twfe``), so
the functions are bound here explicitly, after their modules are imported: ``did.twfe`` is always
the function, whichever module was imported first.
"""

from __future__ import annotations

from .bacon import BaconResult, bacon_decomposition
from .callaway_santanna import AggregatedEffects, CSResult, GroupTimeEffects, callaway_santanna
from .compare import Comparison, compare
from .continuous import ContinuousResult, DoseCurve, continuous
from .dcdh import DCDHResult, dcdh
from .event_study import EventStudyResult, event_study
from .imputation import ImputationResult, imputation
from .sun_abraham import SunAbrahamResult, sun_abraham
from .twfe import TWFEResult, twfe, two_by_two

__all__ = [
    "AggregatedEffects",
    "BaconResult",
    "CSResult",
    "Comparison",
    "ContinuousResult",
    "DCDHResult",
    "DoseCurve",
    "EventStudyResult",
    "GroupTimeEffects",
    "ImputationResult",
    "SunAbrahamResult",
    "TWFEResult",
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
