"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens and Wager, 2021)."""

from __future__ import annotations

import inspect
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._shared.blas import single_threaded_blas
from .._shared.exceptions import EvalkitError, EvalkitWarning, InferenceError
from .._shared.options import refuse_unknown
from .._shared.validation import check_option
from .._shared.vocabulary import DEFAULT_SEED, keywords
from . import _sdid_core as core
from ._panel import block_panel
from .results import SynthResult, comparison_frame

if TYPE_CHECKING:
    from ..inference.executor import Executor

_NAMES = {
    "sdid": "Synthetic difference-in-differences",
    "sc": "Synthetic control (SDID framework)",
    "did": "Difference-in-differences (SDID framework)",
}


@keywords(se_method="cov_type", n_reps="n_draws")
def synthetic_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    covariates: list[str] | None = None,
    estimator: str = "sdid",
    cov_type: str = "placebo",
    n_draws: int = 200,
    seed: int | None = DEFAULT_SEED,
    level: float = 0.95,
    executor: Executor | str | dict | None = None,
) -> SynthResult:
    """Synthetic difference-in-differences with unit and time weights.

    Implements Arkhangelsky et al. (2021), Algorithm 1, for block adoption (every treated unit
    starts treatment in the same period). Unit weights :math:`\\hat\\omega` make the weighted
    donors' pre-period path parallel to the treated units' average (intercept allowed), with ridge
    penalty :math:`\\zeta = (N_{tr} T_{post})^{1/4} \\hat\\sigma`, where :math:`\\hat\\sigma` is the
    standard deviation of the donors' pre-period first differences; time weights
    :math:`\\hat\\lambda` make the weighted pre-periods predict the donors' post-period average
    (penalty :math:`10^{-6}\\hat\\sigma`). Both are fitted by Frank--Wolfe with the paper's two-step
    sparsification (100 iterations, drop weights at most a quarter of the largest, iterate to
    convergence). The estimate is

    .. math::

        \\hat\\tau = \\Big(\\bar Y_{tr,post} - \\sum_t \\hat\\lambda_t \\bar Y_{tr,t}\\Big)
        - \\sum_i \\hat\\omega_i \\Big(\\bar Y_{i,post} - \\sum_t \\hat\\lambda_t Y_{it}\\Big).

    Parameters
    ----------
    data : DataFrame
        Balanced long panel, one row per unit and period.
    outcome, unit, time, treatment : str
        Column names; ``treatment`` is 0/1, absorbing, switched on in one period for all treated
        units.
    covariates : list of str, optional
        Time-varying covariates. Their coefficients are fitted jointly with the weights on the
        collapsed panel and the outcome is adjusted by them before the weighted double difference
        (the handling of ``X`` in R ``synthdid``).
    estimator : {"sdid", "sc", "did"}
        Synthetic DiD, or the same framework's synthetic control (no time weights, no intercept,
        near-zero penalty) or plain DiD (uniform weights), as in the paper's Table 1.
    cov_type : {"placebo", "bootstrap", "jackknife", "none"}
        ``"placebo"`` (Algorithm 4: the treated label is given to random donors; any number of
        treated units, needs more donors than treated units), ``"bootstrap"`` (Algorithm 2: units
        resampled, weights re-fitted) or ``"jackknife"`` (Algorithm 3: leave one unit out,
        weights fixed). Bootstrap and jackknife need at least two treated units. ``"none"``: no
        standard error.
    n_draws : int
        Number of placebo or bootstrap replications.
    seed : int or None
        Random seed of the replications.
    level : float
        Confidence level of the reported interval (normal, estimate +- z * s.e.).
    executor : Executor, str, dict or None
        Where re-fits run: the bootstrap, and placebo draws with covariates (each a separate
        fit; without covariates the placebo draws are solved as one batch here). ``"processes"``
        or a Dask executor spread them over workers with identical results
        (:func:`evalkit.inference.executor.get_executor`).

    Returns
    -------
    SynthResult
        ``estimate``, ``std_error``, ``conf_int()``, ``to_frame()``, ``summary()``,
        ``weights`` (donor weights), ``time_weights``, ``trajectories``, ``placebo_estimates``
        and ``plot(kind="trajectories" | "gap" | "weights" | "placebo")``.

    Raises
    ------
    PanelDataError, DesignError
        Unbalanced panel, staggered adoption, no pre-period, more treated units than donors, a
        constant outcome (messages name the units and the fix).
    InferenceError
        The requested standard error is not defined for this design.

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W., & Wager, S. (2021). Synthetic
    difference-in-differences. American Economic Review, 111(12), 4088-4118.

    Examples
    --------
    >>> r = synthetic_did(df, outcome="log_revenue", unit="unit_code", time="year",
    ...                   treatment="pilot_zone")  # doctest: +SKIP
    >>> r.summary(); r.plot("trajectories")  # doctest: +SKIP
    """
    with single_threaded_blas():
        return _synthetic_did(data, outcome=outcome, unit=unit, time=time, treatment=treatment,
                              covariates=covariates, estimator=estimator, se_method=cov_type,
                              n_reps=n_draws, seed=seed, level=level, executor=executor)


def _synthetic_did(data, *, outcome, unit, time, treatment, covariates, estimator, se_method,
                   n_reps, seed, level, executor) -> SynthResult:
    check_option("estimator", estimator, tuple(_NAMES))
    check_option("cov_type", se_method, ("placebo", "bootstrap", "jackknife", "none"))
    if not isinstance(n_reps, (int, np.integer)) or n_reps < 2:
        raise EvalkitError(f"n_draws must be an integer >= 2, got {n_reps!r}.")
    bp = block_panel(
        data, outcome=outcome, unit=unit, time=time, treatment=treatment, covariates=covariates
    )
    Y, X, N0, T0 = bp.Y, bp.X, bp.N0, bp.T0
    N1 = bp.N1
    opts, omega0, lambda0, sigma = core.default_setup(Y, N0, T0, estimator)
    tau, omega, lam, beta = core.fit(Y, N0, T0, opts, omega0, lambda0, X)
    rng = np.random.default_rng(seed)
    draws = None
    notes = []
    if se_method == "placebo":
        if N0 <= N1:
            raise InferenceError(
                f"Placebo standard errors need more donor units ({N0}) than treated units ({N1}). "
                "Use cov_type='bootstrap' or 'jackknife', or add donor units."
            )
        draws = core.placebo_draws(Y, N0, T0, opts, omega, lam, n_reps, rng, X, executor)
        se = float(np.std(draws))
        inference = f"placebo (Arkhangelsky et al. 2021, Alg. 4; {n_reps} draws, seed {seed})"
        if N1 > 1:
            notes.append("Placebo s.e. assumes homoskedasticity across units (paper, Sec. 5).")
    elif se_method == "bootstrap":
        if N1 < 2:
            raise InferenceError(
                "The bootstrap standard error is not defined with a single treated unit "
                "(Arkhangelsky et al. 2021, Sec. 5). Use cov_type='placebo'."
            )
        draws = core.bootstrap_draws(Y, N0, T0, opts, omega, lam, n_reps, rng, X, executor)
        se = float(np.std(draws))
        inference = f"unit bootstrap (Arkhangelsky et al. 2021, Alg. 2; {n_reps} draws, seed {seed})"
    elif se_method == "jackknife":
        if N1 < 2:
            raise InferenceError(
                "The jackknife standard error is not defined with a single treated unit "
                "(Arkhangelsky et al. 2021, Sec. 5). Use cov_type='placebo'."
            )
        if estimator != "did" and np.count_nonzero(omega) == 1:
            raise InferenceError(
                "The jackknife standard error is not defined when a single donor carries all the "
                "weight. Use cov_type='placebo' or 'bootstrap'."
            )
        draws = core.jackknife_draws(Y, N0, T0, opts, omega, lam, X)
        n = len(draws)
        se = float(np.sqrt((n - 1) / n * np.sum((draws - draws.mean()) ** 2)))
        inference = "jackknife (Arkhangelsky et al. 2021, Alg. 3; weights held fixed)"
        if N1 < 5:
            warnings.warn(
                f"Jackknife with {N1} treated units can be conservative or unreliable; compare "
                "with cov_type='placebo'.",
                EvalkitWarning,
                stacklevel=2,
            )
    else:
        se = float("nan")
        inference = "none"

    times = bp.times
    ytr = Y[N0:].mean(axis=0)
    Yadj = Y if X is None or X.shape[2] == 0 else Y - X @ beta
    ysc = omega @ Yadj[:N0]
    ytr_adj = Yadj[N0:].mean(axis=0)
    if estimator == "sc":
        shift = 0.0
    else:  # intercept: align lambda-weighted pre-period means (as synthdid's plot does)
        shift = float((ytr_adj[:T0] - ysc[:T0]) @ lam)
    traj = pd.DataFrame(
        {"treated": ytr, "synthetic": ysc + shift + (ytr - ytr_adj)}, index=pd.Index(times, name=time)
    )
    traj["gap"] = traj["treated"] - traj["synthetic"]
    if N1 > 1:
        notes.append(f"{N1} treated units averaged: {', '.join(map(str, bp.treated_units[:8]))}"
                     + (" ..." if N1 > 8 else ""))
    if covariates:
        notes.append("Outcome adjusted for covariates " + ", ".join(covariates)
                     + " (coefficients " + ", ".join(f"{b:.4g}" for b in beta) + ").")
    res = SynthResult(
        estimate=tau,
        std_error=se,
        inference=inference,
        term="ATT",
        title=_NAMES[estimator],
        nobs=int(Y.size),
        notes=notes,
        extra={"noise_level": sigma, "zeta_omega": opts.zeta_omega,
               "zeta_lambda": opts.zeta_lambda, "beta": beta, "N0": N0, "N1": N1, "T0": T0,
               "T1": bp.T1, "cov_type": se_method, "n_draws": n_reps, "seed": seed},
        estimator=estimator,
        unit_weights=pd.Series(omega, index=pd.Index(bp.control_units, name=unit), name="weight"),
        time_weights=(None if estimator == "sc" else
                      pd.Series(lam, index=pd.Index(times[:T0], name=time), name="weight")),
        trajectories=traj,
        placebo_estimates=draws,
        treated_units=list(bp.treated_units),
        first_treated=bp.first_treated,
        outcome=outcome,
    )
    return res


@keywords(se_method="cov_type", n_reps="n_draws")
def compare_estimators(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    estimators: tuple[str, ...] = ("sdid", "sc", "did"),
    level: float = 0.95,
    **kwargs,
) -> tuple[pd.DataFrame, dict[str, SynthResult]]:
    """Synthetic DiD, synthetic control and DiD in one framework, side by side (paper Table 1).

    Parameters
    ----------
    data, outcome, unit, time, treatment
        As in :func:`synthetic_did`.
    estimators : tuple of str
        Any of ``"sdid"``, ``"sc"``, ``"did"``.
    level : float
        Confidence level.
    **kwargs
        Passed to :func:`synthetic_did` (``cov_type``, ``n_draws``, ``seed``, ``covariates``).

    Returns
    -------
    table : DataFrame
        Tidy table, one row per estimator (``term`` = estimator).
    results : dict
        The :class:`SynthResult` of each estimator.

    Examples
    --------
    Two of ten units treated from period 8 with a planted effect of 0.5:

    >>> import numpy as np, pandas as pd
    >>> from evalkit import synth
    >>> rng = np.random.default_rng(0)
    >>> rows = [(u, t, u % 3 + 0.1 * t + rng.normal(0, 0.05) + (0.5 if u < 2 and t >= 8 else 0),
    ...          int(u < 2 and t >= 8)) for u in range(10) for t in range(10)]
    >>> df = pd.DataFrame(rows, columns=["unit", "year", "y", "d"])
    >>> table, fits = synth.compare_estimators(df, outcome="y", unit="unit", time="year",
    ...                                        treatment="d", n_draws=50, seed=1)
    >>> print(table[["term", "estimate"]].round(2).to_string(index=False))
    term  estimate
    sdid      0.51
      sc      0.53
     did      0.50
    """
    refuse_unknown(compare_estimators, kwargs, passes_to="arguments of synthetic_did",
                   accepted=[k for k in inspect.signature(synthetic_did).parameters if k != "data"])
    results = {
        e: synthetic_did(data, outcome=outcome, unit=unit, time=time, treatment=treatment,
                         estimator=e, level=level, **kwargs)
        for e in estimators
    }
    return comparison_frame(results, level), results
