"""Placebo tests: fake adoption years (in time) and fake treated units (in space).

* **In space** (Abadie, Diamond and Hainmueller 2010): the actual treated units are dropped and
  never-treated units are given the actual adoption years instead; the statistic is recomputed for
  each fake treated set. Under no effect, the actual statistic is one draw from that distribution.
* **In time**: the sample is cut before the first actual adoption and the treated units are given
  fake adoption years inside the pre-period; an estimator that finds "effects" there signals
  pre-existing trends or anticipation.

Both return a :class:`PlaceboResult` with a tidy, plot-ready frame (one row per placebo plus the
observed row), the placebo distribution and a rank p-value
:math:`(1 + \\#\\{|s_b| \\ge |s_{obs}|\\}) / (1 + B)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import InferenceError
from .._shared.validation import check_columns, check_option
from .._shared.vocabulary import DEFAULT_SEED
from . import _permute as permute
from ._protocol import ScalarTest
from .executor import Executor
from .randomization import PanelReassigner


@dataclass(repr=False)
class PlaceboResult(ScalarTest):
    """A placebo distribution with the observed statistic and a rank p-value.

    A scalar result of the results protocol: ``params`` and ``std_errors`` (the observed
    estimate and its standard error), ``pvalues`` (the rank p-value), ``to_frame()`` (one tidy
    row), ``summary()``, ``plot()`` (the placebo distribution); ``conf_int()`` raises (a placebo
    test gives no interval); ``draws_frame()`` holds the placebos.

    Attributes
    ----------
    kind : {"space", "time"}
        Placebo type.
    observed : float
        Statistic on the actual data.
    pvalue : float
        Rank p-value of the observed statistic among the placebos (two-sided, by absolute value).
    distribution : DataFrame
        One row per placebo: ``label, value, estimate, std_error``.
    statistic : str
        ``"t"`` or ``"estimate"``.
    exact : bool
        Whether every placebo assignment was evaluated.
    description : str
        The method in words.
    term : str
        Name of the effect in ``to_frame()`` (``"effect"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit.inference import placebo_in_space
    >>> df = pd.DataFrame({"unit": range(6), "cohort": [2018, 0, 0, 0, 0, 0],
    ...                    "y": [5.0, 1.0, 1.2, 0.8, 1.1, 0.9]})
    >>> def gap(d):
    ...     return float(d.loc[d.cohort > 0, "y"].mean() - d.loc[d.cohort == 0, "y"].mean())
    ...
    >>> pl = placebo_in_space(df, gap, unit="unit", cohort="cohort")
    >>> pl.kind, pl.exact, round(pl.pvalue, 3)
    ('space', True, 0.167)
    >>> print(pl.to_frame()[["term", "estimate", "p_value"]].round(3).to_string(index=False))
      term  estimate  p_value
    effect       4.0    0.167
    """

    kind: str
    observed: float
    observed_estimate: float
    observed_std_error: float
    pvalue: float
    distribution: pd.DataFrame
    statistic: str
    exact: bool
    description: str
    term: str = "effect"

    def __repr__(self) -> str:
        return f"<PlaceboResult: {self.description}; p={self.pvalue:.4g}>"

    @property
    def estimate(self) -> float:
        """The observed estimate."""
        return float(self.observed_estimate)

    @property
    def std_error(self) -> float:
        """The observed estimate's standard error (``nan`` when the statistic gives none)."""
        return float(self.observed_std_error)

    @property
    def n_draws(self) -> int:
        """Number of placebos."""
        return int(len(self.distribution))

    def _interval(self, level: float) -> None:
        return None

    def _no_interval(self, level: float) -> str:
        return (
            f"A placebo test gives a rank p-value, not a {level:.0%} interval. For an interval "
            f"use the estimator's cov_type (e.g. cov_type='wild' with level={level}) or "
            "evalkit.inference.conley_taber(..., level=...)"
        )

    def conf_int(self, level: float = 0.95):
        """Not available: a placebo test ranks the observed statistic, it gives no interval.

        Raises
        ------
        InferenceError
            Always, saying what gives an interval at ``level``.
        """
        raise InferenceError(self._no_interval(level) + ".")

    def _draws(self):
        return self.distribution["value"].to_numpy(float), float(self.observed), (
            "t" if self.statistic == "t" else "estimate")

    def draws_frame(self) -> pd.DataFrame:
        """Plot-ready frame: ``kind, label, value, estimate, std_error, is_observed``."""
        frame = self.distribution.assign(kind=self.kind, is_observed=False)
        obs = pd.DataFrame(
            {
                "label": ["observed"],
                "value": [self.observed],
                "estimate": [self.observed_estimate],
                "std_error": [self.observed_std_error],
                "kind": [self.kind],
                "is_observed": [True],
            }
        )
        cols = ["kind", "label", "value", "estimate", "std_error", "is_observed"]
        return pd.concat([frame[cols], obs[cols]], ignore_index=True)


def placebo_in_space(
    data: pd.DataFrame,
    stat: Callable[[pd.DataFrame], Any],
    *,
    unit: str,
    cohort: str,
    time: str | None = None,
    treatment: str | None = None,
    statistic: Literal["t", "estimate"] = "estimate",
    n_draws: int = 999,
    exact: bool | None = None,
    seed: int | None = DEFAULT_SEED,
    executor: Executor | str | dict | None = None,
) -> PlaceboResult:
    """Placebo-in-space test: give the actual adoption years to never-treated units instead.

    Parameters
    ----------
    data : DataFrame
        The panel.
    stat : callable
        ``stat(data)`` -> float, ``(estimate, std_error)`` or a result object (see
        :func:`~evalkit.inference.randomization.randomization_inference`).
    unit, cohort : str
        Unit identifier and first-treated period (0 = never treated).
    time, treatment : str, optional
        When both given, ``treatment`` is rebuilt from the fake cohorts.
    statistic : {"estimate", "t"}
        Compare estimates (the classic placebo, default) or t statistics.
    n_draws : int
        Random fake treated sets when not exact.
    exact : bool, optional
        Enumerate every fake treated set (default when there are at most
        :data:`~evalkit.inference._permute.MAX_EXACT`).
    seed : int or None
        Seed.
    executor : Executor, str, dict or None
        Where the placebo statistics are computed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import placebo_in_space
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(8) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 2, 2018, 0)
    >>> df["treated"] = ((df.cohort > 0) & (df.year >= df.cohort)).astype(int)
    >>> df["y"] = df.unit + 2 * df.treated + rng.normal(0, 0.1, len(df))
    >>> def att(d):
    ...     return did.twfe(d, outcome="y", unit="unit", time="year", treatment="treated",
    ...                     cov_type="robust").estimate
    ...
    >>> pl = placebo_in_space(df, att, unit="unit", cohort="cohort", time="year", treatment="treated")
    >>> print(f"{pl.observed:.1f}, p = {pl.pvalue:.3f}")
    1.9, p = 0.062
    """
    statistic = check_option("statistic", statistic, ("t", "estimate"))
    check_columns(data, {"unit": unit, "cohort": cohort, "time": time, "treatment": treatment})
    obs_val, obs_est, obs_se = permute.statistic_value(stat(data), statistic)
    by_unit = data.groupby(unit)[cohort].first()
    treated_cohorts = by_unit[by_unit != 0].to_numpy()
    n1 = treated_cohorts.size
    controls = data[data[cohort] == 0]
    n0 = controls[unit].nunique()
    if n1 == 0:
        raise InferenceError("placebo_in_space: no treated units in the data.")
    if n0 <= n1:
        raise InferenceError(
            f"placebo_in_space needs more never-treated units ({n0}) than treated ones ({n1})."
        )
    fn = PanelReassigner(controls, stat, unit, cohort, time, treatment)
    values = np.concatenate([treated_cohorts, np.zeros(n0 - n1, dtype=treated_cohorts.dtype)])
    _, exact = permute.choose_exact(values, exact, permute.MAX_EXACT)
    if exact:
        table = permute.enumerate_arrangements(values)
    else:
        rng = np.random.default_rng(seed)
        table = np.array([values[rng.permutation(n0)] for _ in range(int(n_draws))])
    vals = permute.evaluate_assignments(fn, len(table), statistic=statistic, table=table, seed=seed,
                                 executor=executor, desc="placebo in space")
    labels = [
        ",".join(str(u) for u in fn.units[np.flatnonzero(row != 0)]) for row in table
    ]
    dist = pd.DataFrame({"label": labels, "value": vals[:, 0], "estimate": vals[:, 1], "std_error": vals[:, 2]})
    p = permute.permutation_pvalue(obs_val, dist["value"].to_numpy(), "two-sided", exact=False)
    desc = (
        f"placebo in space ({len(table)} {'(all) ' if exact else ''}fake treated sets of {n1} "
        f"among {n0} never-treated units, {statistic})"
    )
    return PlaceboResult("space", obs_val, obs_est, obs_se, p, dist, statistic, bool(exact), desc)


def placebo_in_time(
    data: pd.DataFrame,
    stat: Callable[[pd.DataFrame], Any],
    *,
    unit: str,
    time: str,
    cohort: str,
    treatment: str | None = None,
    fake_years: Sequence[Any] | None = None,
    statistic: Literal["t", "estimate"] = "estimate",
    executor: Executor | str | dict | None = None,
) -> PlaceboResult:
    """Placebo-in-time test: fake adoption years within the pre-treatment period.

    The sample is restricted to periods before the first actual adoption; for each fake year
    ``f`` every treated unit gets cohort ``f`` and the statistic is recomputed.

    Parameters
    ----------
    data : DataFrame
        The panel.
    stat : callable
        As in :func:`placebo_in_space`.
    unit, time, cohort : str
        Column names (cohort 0 = never treated).
    treatment : str, optional
        Rebuilt as ``(time >= fake cohort)`` for treated units when given.
    fake_years : sequence, optional
        Fake adoption years; default every pre-period year except the first (so each placebo has
        at least one earlier period).
    statistic : {"estimate", "t"}
        What is compared.
    executor : Executor, str, dict or None
        Where the placebo statistics are computed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.inference import placebo_in_time
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(8) for t in range(2014, 2021)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 2, 2019, 0)
    >>> df["treated"] = ((df.cohort > 0) & (df.year >= df.cohort)).astype(int)
    >>> df["y"] = df.unit + 2 * df.treated + rng.normal(0, 0.1, len(df))
    >>> def att(d):
    ...     return did.twfe(d, outcome="y", unit="unit", time="year", treatment="treated",
    ...                     cov_type="robust").estimate
    ...
    >>> pl = placebo_in_time(df, att, unit="unit", time="year", cohort="cohort", treatment="treated",
    ...                      fake_years=[2016, 2017])
    >>> for label, est in zip(pl.distribution["label"], pl.distribution["estimate"]):
    ...     print(label, f"{round(est, 2) + 0.0:.2f}")
    ...
    2016 -0.03
    2017 -0.06
    """
    statistic = check_option("statistic", statistic, ("t", "estimate"))
    check_columns(data, {"unit": unit, "time": time, "cohort": cohort, "treatment": treatment})
    coh = data[cohort].to_numpy()
    if not (coh > 0).any():
        raise InferenceError("placebo_in_time: no treated units in the data.")
    first = coh[coh > 0].min()
    pre = data[data[time] < first]
    years = np.sort(pre[time].unique())
    if fake_years is None:
        fake_years = list(years[1:])
    fake_years = [y for y in fake_years]
    bad = [y for y in fake_years if y not in set(years[1:])]
    if bad or not fake_years:
        raise InferenceError(
            f"fake_years must lie in the pre-period after its first year ({list(years[1:])}); got "
            f"{bad or 'none'}."
        )
    obs_val, obs_est, obs_se = permute.statistic_value(stat(data), statistic)
    fn = PanelReassigner(pre, stat, unit, cohort, time, treatment)
    table = np.array([np.where(fn.base != 0, f, 0) for f in fake_years])
    vals = permute.evaluate_assignments(fn, len(table), statistic=statistic, table=table, seed=0,
                                 executor=executor, chunk_size=1, desc="placebo in time")
    dist = pd.DataFrame(
        {"label": [str(f) for f in fake_years], "value": vals[:, 0], "estimate": vals[:, 1], "std_error": vals[:, 2]}
    )
    p = permute.permutation_pvalue(obs_val, dist["value"].to_numpy(), "two-sided", exact=False)
    desc = f"placebo in time ({len(fake_years)} fake adoption years before {first}, {statistic})"
    return PlaceboResult("time", obs_val, obs_est, obs_se, p, dist, statistic, True, desc)

