"""Synthetic control and synthetic difference-in-differences.

Public functions: :func:`synthetic_control` (Abadie-Diamond-Hainmueller predictor matching or the
outcome-based SC of Arkhangelsky et al. 2021, with placebo inference), :func:`synthetic_did`
(Arkhangelsky et al. 2021) and :func:`compare_estimators` (SDID, SC and DiD side by side).
"""

from __future__ import annotations

import importlib

_WHERE = {
    "synthetic_control": "control",
    "synthetic_did": "sdid",
    "compare_estimators": "sdid",
    "SynthResult": "results",
    "SCResult": "control",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'evalkit.synth' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
