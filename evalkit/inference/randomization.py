"""Randomization inference for any estimator that returns a scalar, and Conley-Taber inference.

Randomization (permutation) inference re-assigns treatment across units as if it had been random,
re-computes the statistic for each assignment and locates the observed statistic in that
distribution (Fisher 1935; for DiD with few treated clusters: MacKinnon and Webb 2020, *JoE*
218(2)). Two schemes:

``"units"``
    Permute the unit-level treatment assignment (the cohort / first-treated year, 0 = never) over
    all units: fake treated units receive the real adoption years.
``"timing"``
    Keep the set of treated units and permute their adoption years (cohort permutation), for
    staggered designs.

When the number of distinct assignments is small (e.g. 12 units with 3 treated: 220) every one of
them is used (exact test). The default statistic is the t statistic (studentised): MacKinnon and
Webb show that randomization inference on the coefficient over-rejects when treated clusters are
noisier, while the t statistic is more robust.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import InferenceError
from .._shared.future import CallableInterval
from .._shared.kernels import TwoWayAbsorber
from .._shared.validation import check_columns, check_option
from .._shared.vocabulary import DEFAULT_SEED
from ._permute import (
    MAX_EXACT,
    choose_exact,
    enumerate_arrangements,
    evaluate_assignments,
    permutation_pvalue,
    statistic_value,
)
from ._protocol import ScalarTest
from .executor import Executor


@dataclass(repr=False)
class RandomizationResult(ScalarTest):
    """Outcome of a randomization (permutation) test.

    A scalar result of the results protocol: ``params``, ``std_errors``, ``pvalues`` (Series
    indexed by ``term``), ``to_frame()`` (one tidy row), ``summary()``, ``plot()`` (the
    randomization distribution); ``conf_int()`` raises (a test of the sharp null gives no
    interval); ``draws_frame()`` holds the distribution.

    Attributes
    ----------
    observed : float
        The statistic at the actual assignment.
    estimate, std_error : float
        Observed estimate and its standard error when the statistic provides them (else ``nan``).
    pvalue : float
        Randomization p-value (``alternative``).
    distribution : ndarray
        The statistic under each re-assignment (the actual one included when exact).
    n_draws : int
        Number of assignments evaluated.
    exact : bool
        Whether all distinct assignments were enumerated.
    scheme, statistic, alternative : str
        The options used.
    description : str
        The method in words.
    term : str
        Name of the effect in ``to_frame()`` (``"effect"``).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import permutation_test
    >>> y = np.array([3.1, 2.9, 3.4, 1.0, 1.2, 0.9])
    >>> res = permutation_test(lambda a: float(y[a == 1].mean() - y[a == 0].mean()),
    ...                        np.array([1, 1, 0, 0, 0, 0]), statistic="estimate")
    >>> res.exact, res.n_draws
    (True, 15)
    >>> print(res.to_frame()[["term", "estimate", "p_value"]].round(3).to_string(index=False))
      term  estimate  p_value
    effect     1.375      0.4
    """

    observed: float
    estimate: float
    std_error: float
    pvalue: float
    distribution: np.ndarray
    n_draws: int
    exact: bool
    scheme: str
    statistic: str
    alternative: str
    description: str
    term: str = "effect"

    def __repr__(self) -> str:
        return f"<RandomizationResult: {self.description}; p={self.pvalue:.4g}>"

    def _interval(self, level: float) -> None:
        return None

    def _no_interval(self, level: float) -> str:
        return (
            f"A randomization test gives a p-value for the null of no effect, not a {level:.0%} "
            "interval (that would need the test re-run for every hypothesised effect). For an "
            f"interval use the estimator's cov_type (e.g. cov_type='wild' with level={level}) or "
            "evalkit.inference.conley_taber(..., level=...)"
        )

    def conf_int(self, level: float = 0.95):
        """Not available: a randomization test of the sharp null gives a p-value, no interval.

        Raises
        ------
        InferenceError
            Always, saying what gives an interval at ``level``.
        """
        raise InferenceError(self._no_interval(level) + ".")

    def _draws(self):
        return self.distribution, float(self.observed), "t" if self.statistic == "t" else "value"

    def draws_frame(self) -> pd.DataFrame:
        """Plot-ready frame: one row per assignment (``draw, value``) plus the observed row."""
        frame = pd.DataFrame(
            {"draw": np.arange(self.distribution.size), "value": self.distribution, "is_observed": False}
        )
        obs = pd.DataFrame({"draw": [-1], "value": [self.observed], "is_observed": [True]})
        return pd.concat([frame, obs], ignore_index=True)


def permutation_test(
    stat_fn: Callable[[np.ndarray], Any],
    assignment: np.ndarray,
    *,
    scheme: Literal["units", "timing"] = "units",
    statistic: Literal["t", "estimate"] = "t",
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
    n_draws: int = 999,
    exact: bool | None = None,
    max_exact: int = MAX_EXACT,
    seed: int | None = DEFAULT_SEED,
    executor: Executor | str | dict | None = None,
) -> RandomizationResult:
    """Randomization test over re-arrangements of a unit-level assignment vector.

    Parameters
    ----------
    stat_fn : callable
        ``stat_fn(assignment) -> float | (estimate, std_error) | result``; module-level (picklable)
        for the ``"processes"``/``"dask"`` executors.
    assignment : ndarray
        One value per unit: the cohort (first treated period, 0 = never) or a 0/1 treated flag.
    scheme : {"units", "timing"}
        Permute over all units, or only among treated units (non-zero values).
    statistic : {"t", "estimate"}
        Test on the studentised statistic (default) or on the estimate.
    alternative : {"two-sided", "greater", "less"}
        Two-sided compares absolute values.
    n_draws : int
        Random permutations when not exact.
    exact : bool, optional
        Enumerate every distinct assignment. Default: when their number is at most
        ``max_exact``.
    max_exact : int
        Largest enumeration done automatically.
    seed : int or None
        Seed of the random permutations.
    executor : Executor, str, dict or None
        Where the statistics are computed.

    Returns
    -------
    RandomizationResult

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import permutation_test
    >>> y = np.array([3.1, 2.9, 3.4, 1.0, 1.2, 0.9, 1.1, 1.3])
    >>> def diff_in_means(assign):
    ...     return float(y[assign == 1].mean() - y[assign == 0].mean())
    ...
    >>> res = permutation_test(diff_in_means, np.array([1, 1, 1, 0, 0, 0, 0, 0]), statistic="estimate")
    >>> print(f"{res.observed:.2f}, exact p = {res.pvalue:.4f} ({res.n_draws} assignments)")
    2.03, exact p = 0.0179 (56 assignments)
    """
    scheme = check_option("scheme", scheme, ("units", "timing"))
    statistic = check_option("statistic", statistic, ("t", "estimate"))
    alternative = check_option("alternative", alternative, ("two-sided", "greater", "less"))
    base = np.asarray(assignment)
    if base.ndim != 1 or base.size < 2:
        raise InferenceError("assignment must be a 1-d array with one value per unit (at least 2).")
    positions = np.arange(base.size) if scheme == "units" else np.flatnonzero(base != 0)
    values = base[positions]
    if np.unique(values).size < 2:
        raise InferenceError(
            f"scheme={scheme!r}: all permutable units share the same assignment, so there is "
            "nothing to permute" + (" (use scheme='units' when there is one adoption year)." if scheme == "timing" else ".")
        )
    n_distinct, exact = choose_exact(values, exact, max_exact)
    if exact and n_distinct > 10 * max_exact:
        raise InferenceError(f"Exact enumeration of {n_distinct} assignments is too large; use exact=False.")
    obs_val, est, se = statistic_value(stat_fn(base.copy()), statistic)
    table = enumerate_arrangements(values) if exact else None
    B = n_distinct if exact else int(n_draws)
    dist = evaluate_assignments(
        stat_fn, B, statistic=statistic, table=table, base=base, positions=positions, seed=seed,
        executor=executor, desc="randomization inference",
    )[:, 0].copy()
    if np.isnan(dist).mean() > 0.05:
        raise InferenceError(
            f"The statistic is undefined for {np.isnan(dist).mean():.0%} of the re-assignments "
            "(e.g. a zero standard error); check the design or use statistic='estimate'."
        )
    p = permutation_pvalue(obs_val, dist, alternative, bool(exact))
    desc = (
        f"randomization inference ({'exact, all ' if exact else ''}{B} "
        f"{'assignments' if exact else 'random permutations'} of "
        f"{'treated units' if scheme == 'units' else 'adoption timing'}, "
        f"{'t statistic' if statistic == 't' else 'estimate'}, {alternative})"
    )
    return RandomizationResult(obs_val, est, se, p, dist, B, bool(exact), scheme, statistic, alternative, desc)


@dataclass
class PanelReassigner:
    """Callable turning a unit-level cohort vector into a panel and evaluating a statistic.

    Parameters
    ----------
    data : DataFrame
        The panel.
    stat : callable
        ``stat(data) -> float | (estimate, std_error) | result``.
    unit, cohort : str
        Column names; ``cohort`` is the first treated period, 0 = never.
    time, treatment : str, optional
        When both are given, ``treatment`` is rebuilt as ``(time >= cohort) & (cohort > 0)``.
    """

    data: pd.DataFrame
    stat: Callable[[pd.DataFrame], Any]
    unit: str
    cohort: str
    time: str | None = None
    treatment: str | None = None

    def __post_init__(self) -> None:
        self.units, self.codes = np.unique(self.data[self.unit].to_numpy(), return_inverse=True)
        first = pd.Series(self.data[self.cohort].to_numpy()).groupby(self.codes).first()
        self.base = first.sort_index().to_numpy()

    def panel(self, assignment: np.ndarray) -> pd.DataFrame:
        """The panel with cohort (and treatment) implied by ``assignment``."""
        df = self.data.copy()
        coh = np.asarray(assignment)[self.codes]
        df[self.cohort] = coh
        if self.treatment is not None and self.time is not None:
            df[self.treatment] = ((df[self.time].to_numpy() >= coh) & (coh > 0)).astype(int)
        return df

    def __call__(self, assignment: np.ndarray) -> Any:
        return self.stat(self.panel(assignment))


def randomization_inference(
    data: pd.DataFrame,
    stat: Callable[[pd.DataFrame], Any],
    *,
    unit: str,
    cohort: str,
    time: str | None = None,
    treatment: str | None = None,
    scheme: Literal["units", "timing"] = "units",
    statistic: Literal["t", "estimate"] = "t",
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
    n_draws: int = 999,
    exact: bool | None = None,
    seed: int | None = DEFAULT_SEED,
    executor: Executor | str | dict | None = None,
) -> RandomizationResult:
    """Randomization inference for a statistic computed on a panel.

    Parameters
    ----------
    data : DataFrame
        The panel (one row per unit and period).
    stat : callable
        ``stat(data)`` returns the statistic: a float (with ``statistic="estimate"``), an
        ``(estimate, std_error)`` tuple or a result with ``.estimate`` and ``.std_error`` (e.g.
        ``lambda d: evalkit.did.twfe(d, ...)``). It must derive treatment from ``cohort`` (or pass
        ``time`` and ``treatment`` so the treatment column is rebuilt for each assignment).
    unit, cohort : str
        Unit identifier and first-treated period (0 = never treated), constant within unit.
    time, treatment : str, optional
        See ``stat``.
    scheme, statistic, alternative, n_draws, exact, seed, executor
        See :func:`permutation_test`.

    Returns
    -------
    RandomizationResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import randomization_inference
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(8) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 2, 2018, 0)
    >>> df["treated"] = ((df.cohort > 0) & (df.year >= df.cohort)).astype(int)
    >>> df["y"] = df.unit + 2 * df.treated + rng.normal(0, 0.1, len(df))
    >>> def att(d):
    ...     return did.twfe(d, outcome="y", unit="unit", time="year", treatment="treated",
    ...                     cov_type="robust").estimate
    ...
    >>> res = randomization_inference(df, att, unit="unit", cohort="cohort", time="year",
    ...                               treatment="treated", statistic="estimate")
    >>> print(f"{res.observed:.1f}, p = {res.pvalue:.3f} ({res.n_draws} assignments)")
    1.9, p = 0.036 (28 assignments)
    """
    check_columns(data, {"unit": unit, "cohort": cohort, "time": time, "treatment": treatment})
    if (treatment is None) != (time is None) and treatment is not None:
        raise InferenceError("Pass time= together with treatment= so treatment can be rebuilt.")
    if (data.groupby(unit)[cohort].nunique() > 1).any():
        raise InferenceError(f"Column {cohort!r} must be constant within each {unit!r}.")
    fn = PanelReassigner(data, stat, unit, cohort, time, treatment)
    return permutation_test(
        fn, fn.base, scheme=scheme, statistic=statistic, alternative=alternative,
        n_draws=n_draws, exact=exact, seed=seed, executor=executor,
    )


# ---------------------------------------------------------------------------------------------
# Conley and Taber (2011): inference with few treated groups from the control groups' residuals
# ---------------------------------------------------------------------------------------------
@dataclass(repr=False)
class ConleyTaberResult(ScalarTest):
    """Conley-Taber test and interval for the TWFE effect of a binary absorbing treatment.

    A scalar result of the results protocol: ``params``, ``std_errors`` (missing: the method
    uses none), ``pvalues``, ``conf_int(level)`` (from the same simulated distribution, any
    level), ``to_frame()``, ``summary()``, ``plot()`` (the simulated distribution).

    Attributes
    ----------
    estimate : float
        TWFE coefficient.
    pvalue : float
        Share of simulated :math:`|W|` at least :math:`|\\hat\\beta|`.
    interval : tuple
        Interval ``[beta - q_hi, beta - q_lo]`` from the simulated quantiles at ``level``
        (``conf_int(level)`` at any level).
    distribution : ndarray
        Simulated values of :math:`\\hat\\beta - \\beta` under the null.
    exact : bool
        Whether all assignments of control residuals to treated units were enumerated.
    description : str
        The method in words.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit.inference import conley_taber
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(20) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 2) & (df.year >= 2018)).astype(int)
    >>> df["y"] = df.unit + 1.0 * df.treated + rng.normal(0, 0.1, len(df))
    >>> ct = conley_taber(df, outcome="y", unit="unit", time="year", treatment="treated", n_draws=999)
    >>> type(ct).__name__, ct.term
    ('ConleyTaberResult', 'treated')
    >>> lo, hi = ct.conf_int(0.90)
    >>> bool(lo < ct.estimate < hi)
    True
    """

    estimate: float
    pvalue: float
    interval: tuple[float, float]
    level: float
    distribution: np.ndarray
    exact: bool
    description: str
    term: str = "treatment"

    def __repr__(self) -> str:
        return f"<ConleyTaberResult: {self.description}; p={self.pvalue:.4g}>"

    @property
    def std_error(self) -> float:
        """Not used by the method: ``nan``."""
        return float("nan")

    @property
    def n_draws(self) -> int:
        """Number of simulated values."""
        return int(np.size(self.distribution))

    @property
    def conf_int(self) -> CallableInterval:
        """``conf_int(level=0.95)``: the interval at any level from the same simulated distribution.

        (Until 0.3.0 the value also behaves as the ``(low, high)`` tuple at ``level``, with a
        ``FutureWarning``: it used to be an attribute.)
        """
        return CallableInterval(self.interval, self.conf_int_at, owner="ConleyTaberResult")

    def _interval(self, level: float) -> tuple[float, float]:
        return self.conf_int_at(level)

    def _draws(self):
        return self.distribution, float(self.estimate), "estimate"

    def conf_int_at(self, level: float) -> tuple[float, float]:
        """Interval at any ``level`` from the same simulated distribution (``interval`` is the
        one at ``self.level``)."""
        if not 0 < level < 1:
            raise InferenceError(f"level must be between 0 and 1, got {level!r}.")
        a = 1 - level
        lo_q, hi_q = np.quantile(self.distribution, [a / 2, 1 - a / 2])
        return float(self.estimate - hi_q), float(self.estimate - lo_q)


def _two_way_resid(Y: np.ndarray) -> np.ndarray:
    """Residual of a balanced ``N x T`` panel matrix on unit and period effects."""
    n_units, n_times = Y.shape
    absorber = TwoWayAbsorber(np.repeat(np.arange(n_units), n_times), np.tile(np.arange(n_times), n_units))
    return absorber.absorb(Y.ravel()).reshape(n_units, n_times)


def conley_taber_matrix(
    Y: np.ndarray,
    D: np.ndarray,
    *,
    level: float = 0.95,
    n_draws: int = 9999,
    max_exact: int = 100_000,
    seed: int | None = DEFAULT_SEED,
) -> ConleyTaberResult:
    r"""Conley-Taber inference on a balanced panel given as unit x period matrices.

    With few treated units :math:`j` and many controls, the TWFE estimate satisfies
    :math:`\hat\beta - \beta \approx \sum_j \sum_t \tilde d_{jt}\eta_{jt} / \sum_j\sum_t \tilde
    d_{jt}^2` with :math:`\tilde d_{jt} = d_{jt} - \bar d_j`. The distribution of the numerator is
    estimated by giving each treated unit's demeaned treatment path the TWFE residuals of a
    control unit (with replacement; every combination when feasible), assuming the errors are
    exchangeable across units (Conley and Taber 2011, *REStat* 93(1)).

    Parameters
    ----------
    Y : ndarray, shape (N, T)
        Outcomes.
    D : ndarray, shape (N, T)
        Treatment (0/1); units with any 1 are treated.
    level : float
        Coverage of the interval.
    n_draws : int
        Random draws when enumeration is too large.
    max_exact : int
        Enumerate when ``N0 ** N1`` is at most this.
    seed : int or None
        Seed.
    """
    Y = np.asarray(Y, dtype=float)
    D = np.asarray(D, dtype=float)
    if Y.shape != D.shape or Y.ndim != 2:
        raise InferenceError("Y and D must be N x T matrices of the same shape (balanced panel).")
    treated = D.any(axis=1)
    N1, N0 = int(treated.sum()), int((~treated).sum())
    if N1 < 1 or N0 < 2:
        raise InferenceError(f"Conley-Taber needs treated units and at least 2 controls (have {N1}, {N0}).")
    Dt = _two_way_resid(D)
    beta = float(np.sum(Dt * Y) / np.sum(Dt * Dt))
    E = _two_way_resid(Y - beta * D)
    paths = D[treated] - D[treated].mean(axis=1, keepdims=True)  # N1 x T
    denom = float(np.sum(paths * paths))
    W = paths @ E[~treated].T  # N1 x N0: treated path j applied to control l's residuals
    total = N0**N1
    exact = total <= max_exact
    if exact:
        idx = np.array(list(itertools.product(range(N0), repeat=N1)))
    else:
        idx = np.random.default_rng(seed).integers(0, N0, size=(n_draws, N1))
    dist = W[np.arange(N1)[None, :], idx].sum(axis=1) / denom
    tol = 1e-12 * max(1.0, abs(beta))
    p = float(np.mean(np.abs(dist) >= abs(beta) - tol))
    a = 1 - level
    lo_q, hi_q = np.quantile(dist, [a / 2, 1 - a / 2])
    desc = (
        f"Conley-Taber inference ({N1} treated, {N0} control units, "
        f"{'all ' + str(total) if exact else str(n_draws)} residual assignments)"
    )
    return ConleyTaberResult(beta, p, (beta - float(hi_q), beta - float(lo_q)), level, dist, exact, desc)


def conley_taber(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    level: float = 0.95,
    n_draws: int = 9999,
    seed: int | None = DEFAULT_SEED,
) -> ConleyTaberResult:
    """Conley-Taber inference for a TWFE effect with few treated units (balanced panel).

    Parameters
    ----------
    data : DataFrame
        Balanced panel.
    outcome, unit, time, treatment : str
        Column names; ``treatment`` is 0/1.
    level, n_draws, seed
        See :func:`conley_taber_matrix`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit.inference import conley_taber
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(20) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 2) & (df.year >= 2018)).astype(int)
    >>> df["y"] = df.unit + 1.0 * df.treated + rng.normal(0, 0.1, len(df))
    >>> ct = conley_taber(df, outcome="y", unit="unit", time="year", treatment="treated", n_draws=999)
    >>> print(f"{ct.estimate:.1f}")
    0.9
    """
    check_columns(data, {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment})
    wide_y = data.pivot(index=unit, columns=time, values=outcome)
    wide_d = data.pivot(index=unit, columns=time, values=treatment)
    if wide_y.isna().any().any():
        raise InferenceError("conley_taber needs a balanced panel (every unit in every period).")
    res = conley_taber_matrix(wide_y.to_numpy(), wide_d.to_numpy(), level=level, n_draws=n_draws, seed=seed)
    res.term = treatment
    return res
