"""Factor-method (因素法) fund allocation workbench.

Spec → exact allocation → sensitivity, attribution, metrics and publication outputs::

    from evalkit import allocation
    spec = allocation.load_spec("data_raw/demo/allocation/spec.yaml")
    factors = allocation.read_factors("data_raw/demo/allocation/factors.csv")
    a = allocation.allocate(spec, factors, last_year=None)
    a.table; a.audit; a.method_sheet("zh"); a.to_excel("out.xlsx")
    allocation.sensitivity.monte_carlo(a); allocation.shapley(a); allocation.metrics(a)

See ``docs/allocation.md`` (domain brief) for the formula, the invariants and the outputs.
"""

from __future__ import annotations

from . import sensitivity
from ._units import recipients
from .engine import Allocation, allocate, read_last_year
from .explain import explain
from .factors import FactorTable, read_factors
from .metrics import metrics, read_history, years_view
from .pools import PooledAllocation, PooledSpec
from .scenarios import compare
from .scoring import load_scoring_spec, score_firms
from .settlement import PooledSettlement, Settlement, settle
from .shapley import decompose_change, shapley
from .spec import (
                   AllocationSpec,
                   FactorSpec,
                   load_spec,
                   require_redrawable,
                   spec_from_dict,
                   spec_schema,
)

__all__ = [
    "Allocation",
    "AllocationSpec",
    "FactorSpec",
    "FactorTable",
    "PooledAllocation",
    "PooledSettlement",
    "PooledSpec",
    "Settlement",
    "allocate",
    "compare",
    "decompose_change",
    "explain",
    "load_scoring_spec",
    "load_spec",
    "metrics",
    "read_factors",
    "read_history",
    "read_last_year",
    "recipients",
    "require_redrawable",
    "score_firms",
    "sensitivity",
    "settle",
    "shapley",
    "spec_from_dict",
    "spec_schema",
    "years_view",
]
