"""Estimators that :func:`evalkit.did.compare` can run, registered by their own modules.

Each staggered-adoption estimator module registers a small adapter with
:func:`register_comparison`: it runs the estimator on a :class:`CompareRequest` (the one design
every estimator shares) and returns the tidy frames to stack (:class:`CompareRun`). ``compare``
loops over :func:`comparison_entries`; adding an estimator to the comparison touches only its own
module. The entry's ``name`` is also the estimator's key in :data:`evalkit.report.labels.LABELS`,
so pages label it in either language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CompareRequest:
    """The design every compared estimator runs on (the arguments of :func:`~evalkit.did.compare`)."""

    data: pd.DataFrame
    outcome: str
    unit: str
    time: str
    cohort: str
    leads: int | None = None
    lags: int | None = None
    control_group: str = "never_treated"
    covariates: list[str] = field(default_factory=list)
    cluster: str | None = None
    cs_options: dict | None = None

    @property
    def common(self) -> dict[str, str]:
        """``outcome``, ``unit`` and ``time`` as keyword arguments."""
        return {"outcome": self.outcome, "unit": self.unit, "time": self.time}

    def in_window(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of an event-time frame inside ``-leads .. lags``."""
        keep = np.ones(len(frame), dtype=bool)
        if self.leads is not None:
            keep &= frame["event_time"].to_numpy() >= -self.leads
        if self.lags is not None:
            keep &= frame["event_time"].to_numpy() <= self.lags
        return frame.loc[keep]


@dataclass
class CompareRun:
    """What one estimator contributes: its result, tidy frames with their ``kind``
    (``"overall"`` or ``"event_time"``), and a sentence when its pre-periods are not relative to
    event time -1 (``None`` when they are)."""

    result: Any
    parts: list[tuple[pd.DataFrame, str]]
    normalisation: str | None = None


@dataclass(frozen=True)
class ComparisonEntry:
    """A registered estimator: ``name`` (the argument of ``compare``), its ``label`` in tables."""

    name: str
    label: str
    run: Callable[[CompareRequest], CompareRun]


_ENTRIES: dict[str, ComparisonEntry] = {}


def register_comparison(name: str, label: str):
    """Decorator registering ``run(request) -> CompareRun`` as estimator ``name`` of ``compare``.

    Examples
    --------
    >>> @register_comparison("demo_mean", "Mean difference (demo)")
    ... def _run(request):
    ...     return CompareRun(result=None, parts=[])
    >>> comparison_entries()["demo_mean"].label
    'Mean difference (demo)'
    >>> unregister_comparison("demo_mean")  # keep the registry as shipped
    """

    def deco(run: Callable[[CompareRequest], CompareRun]):
        _ENTRIES[name] = ComparisonEntry(name, label, run)
        return run

    return deco


def unregister_comparison(name: str) -> None:
    """Remove estimator ``name`` from the registry (tests and examples)."""
    _ENTRIES.pop(name, None)


def comparison_entries() -> dict[str, ComparisonEntry]:
    """The registered estimators, in registration order."""
    return dict(_ENTRIES)
