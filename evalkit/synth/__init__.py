"""Synthetic control and synthetic difference-in-differences.

Public functions: :func:`synthetic_control` (Abadie-Diamond-Hainmueller predictor matching or the
outcome-based SC of Arkhangelsky et al. 2021, with placebo inference), :func:`synthetic_did`
(Arkhangelsky et al. 2021) and :func:`compare_estimators` (SDID, SC and DiD side by side).
"""

from __future__ import annotations

from .control import SCResult, synthetic_control
from .results import SynthResult
from .sdid import compare_estimators, synthetic_did

__all__ = ["SCResult", "SynthResult", "compare_estimators", "synthetic_control", "synthetic_did"]
