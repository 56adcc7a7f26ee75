"""Sensitivity of event-study conclusions: HonestDiD bounds and pre-trend power.

Public functions: :func:`honest_did` (Rambachan and Roth 2023 robust confidence sets under
relative-magnitude or smoothness restrictions, with breakdown values) and :func:`pretrend_power`
(Roth 2022: the linear pre-trend a pre-test would detect with given power).
"""

from __future__ import annotations

from .honest import HonestDiDResult, honest_did
from .power import pretrend_power

__all__ = ["HonestDiDResult", "honest_did", "pretrend_power"]
