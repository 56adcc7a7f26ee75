"""Difference-in-differences and event-study estimators.

Public functions (see ``DESIGN.md``): :func:`twfe`, :func:`two_by_two`, :func:`event_study`,
:func:`bacon_decomposition`, :func:`callaway_santanna`, :func:`sun_abraham`, :func:`imputation`,
:func:`compare`, :func:`continuous`, :func:`dcdh`. Each lives in its own module and is imported on
first use.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "twfe": "twfe",
    "two_by_two": "twfe",
    "event_study": "event_study",
    "bacon_decomposition": "bacon",
    "callaway_santanna": "callaway_santanna",
    "sun_abraham": "sun_abraham",
    "imputation": "imputation",
    "compare": "compare",
    "continuous": "continuous",
    "dcdh": "dcdh",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'evalkit.did' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
