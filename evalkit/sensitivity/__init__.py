"""Sensitivity of event-study conclusions: HonestDiD bounds and pre-trend power.

Public functions: :func:`honest_did` (Rambachan and Roth 2023 robust confidence sets under
relative-magnitude or smoothness restrictions, with breakdown values) and :func:`pretrend_power`
(Roth 2022: the linear pre-trend a pre-test would detect with given power).
"""

from __future__ import annotations

import importlib

_WHERE = {
    "honest_did": "honest",
    "HonestDiDResult": "honest",
    "pretrend_power": "power",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'evalkit.sensitivity' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
