"""Panel IV with a formula-predicted instrument, recentring and weak-instrument diagnostics.

The factor method (因素法) gives each unit ``z_it = formula(lagged factors_i, weights_t, total_t)``
— what the unit would receive under the published rule. Actual money ``x_it`` adds discretionary
top-ups that may follow the unit's own prospects, so OLS of outcomes on ``x`` is biased; ``z`` is
a natural instrument. Its variation comes from two sources: the units' lagged factors
(predetermined but possibly correlated with trends) and the bureau's yearly *shocks* (factor
weights and totals). Following Borusyak and Hull (2023, "Nonrandom exposure to exogenous
shocks", Econometrica 91(6)), only the shocks are treated as exogenous: the expected instrument
``μ_it = E[z_it | factors]`` over the distribution of shocks is computed by recomputing the formula
with permuted (or redrawn) yearly weight vectors and totals, and ``z − μ`` is used as the
instrument (optionally with ``μ`` as a control).

Public functions
----------------
:func:`panel_iv`
    2SLS with unit and period effects (exact within transformation); inference from the
    covariance registry with the absorbed effects described (exact CR2), the wild restricted
    efficient bootstrap for ``cov_type="wild"`` and, by default (``"auto"``), with few clusters
    (:mod:`evalkit.inference.wild_iv`); naive
    OLS beside it, first stage and reduced form, Montiel Olea–Pflueger effective F with its
    critical value, and the Anderson–Rubin confidence set (exact for one instrument).
:func:`formula_instrument`, :func:`expected_instrument`, :func:`recentred_instrument`
    The formula-predicted allocation from :mod:`evalkit.allocation` and its expectation over the
    bureau's shocks; :func:`load_specs` reads ``spec_<year>.yaml`` files.
:func:`anderson_rubin_set`, :func:`effective_f`
    The diagnostics on their own.

The package: :mod:`.panel` (the estimator and its result, which take the instrument as a data
column), :mod:`.diagnostics` (effective F, Anderson-Rubin) and :mod:`.instrument` (the adapter that
computes the formula instrument from :mod:`evalkit.allocation` specs; the estimator does not import
the allocation engine).
"""

from .diagnostics import anderson_rubin_set, effective_f, mop_critical_value
from .instrument import expected_instrument, formula_instrument, load_specs, recentred_instrument
from .panel import PanelIVResult, panel_iv

__all__ = [
    "PanelIVResult",
    "anderson_rubin_set",
    "effective_f",
    "expected_instrument",
    "formula_instrument",
    "load_specs",
    "mop_critical_value",
    "panel_iv",
    "recentred_instrument",
]
