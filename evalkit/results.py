"""The one results family shared by every evalkit estimator.

Two shapes of result exist:

* :class:`ScalarEffect` -- one effect (TWFE coefficient, 2x2 DiD, an aggregated ATT, a synthetic
  control estimate...). Exposes ``estimate``, ``std_error``, ``pvalue``, ``conf_int(level)`` and
  ``inference`` (the method in words).
* :class:`EffectVector` -- several effects with a joint covariance (event studies, ATT(g,t),
  dynamic aggregations). Exposes ``params``, ``std_errors``, ``cov``, ``conf_int(level,
  uniform=False)`` and ``plot()``.

Both have ``to_frame()`` returning the tidy table with the columns of :data:`TIDY_COLUMNS`
(columns that do not apply hold missing values), ``summary()`` returning readable text, and
``_repr_html_`` for notebooks. Tables and plots are drawn from ``to_frame()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._maketables import MaketablesMixin
from ._shared.stats import check_level, critical_value, two_sided_pvalue
from ._summary import Summary

TIDY_COLUMNS = [
    "term",
    "group",
    "time",
    "event_time",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
]


def uniform_critical_value(
    cov: np.ndarray, level: float = 0.95, draws: int = 100_000, seed: int = 20210514
) -> float:
    """Critical value for simultaneous (sup-t) bands from a Gaussian approximation.

    Draws from :math:`N(0, \\Sigma)`, standardises by the standard errors and takes the ``level``
    quantile of the maximum absolute t-statistic. A fixed seed keeps reports reproducible.

    Parameters
    ----------
    cov : ndarray
        Covariance matrix of the estimates.
    level : float
        Joint coverage.
    draws : int
        Number of Gaussian draws.
    seed : int
        Random seed.
    """
    cov = np.asarray(cov, dtype=float)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    keep = se > 0
    if keep.sum() == 0:
        return critical_value(level, None)
    corr = cov[np.ix_(keep, keep)] / np.outer(se[keep], se[keep])
    w, v = np.linalg.eigh(corr)
    root = v * np.sqrt(np.clip(w, 0, None))
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((draws, keep.sum())) @ root.T
    return float(np.quantile(np.abs(z).max(axis=1), level))


class Renderable(MaketablesMixin):
    """Mixin: ``__str__`` and ``_repr_html_`` from ``summary()`` and ``to_frame()``."""

    title: str = "Result"
    notes: list[str]

    def summary(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}>"

    def _repr_html_(self) -> str:
        frame = self.to_frame()  # type: ignore[attr-defined]
        frame = frame.dropna(axis=1, how="all")
        notes = "".join(f"<li>{n}</li>" for n in getattr(self, "notes", []) or [])
        return (
            f"<div><strong>{self.title}</strong>"
            + frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="")
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


@dataclass(repr=False)
class ScalarEffect(Renderable):
    """A single estimated effect with its inference.

    Parameters
    ----------
    estimate : float
        The point estimate.
    std_error : float
        Its standard error (``nan`` when inference is not by a standard error).
    inference : str
        The inference method in words (shown in ``summary()``).
    dof : float or None
        Degrees of freedom of the reference t distribution; ``None`` means normal.
    term : str
        Name of the effect in ``to_frame()``.
    title : str
        Heading of the summary.
    nobs : int or None
        Number of observations used.
    pvalue_override : float or None
        A p-value not derived from estimate/std_error (bootstrap, randomization).
    conf_int_override : tuple or None
        ``(low, high)`` at ``conf_level_override`` not derived from a t/normal interval.
    notes : list of str
        Lines shown under the summary (assumptions, warnings, "synthetic data").
    extra : dict
        Estimator-specific information (kept for advanced users).
    interval_at : callable, optional
        ``level -> (low, high)`` recomputing the interval at any level with the result's own
        method (e.g. test inversion on the stored bootstrap draws).
    resampled_by : str, optional
        The resampling method (in words) behind ``conf_int_override``. Set when the interval
        comes from draws: at a level other than ``conf_level_override`` the interval is then
        ``interval_at(level)``, or refused when that is unavailable -- never silently a
        t/normal interval of another method.

    Examples
    --------
    >>> eff = ScalarEffect(estimate=1.2, std_error=0.5, dof=20)
    >>> [round(x, 3) for x in eff.conf_int(0.90)]
    [0.338, 2.062]
    """

    estimate: float
    std_error: float
    inference: str = "analytic"
    dof: float | None = None
    term: str = "ATT"
    title: str = "Effect estimate"
    nobs: int | None = None
    pvalue_override: float | None = None
    conf_int_override: tuple[float, float] | None = None
    conf_level_override: float = 0.95
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    interval_at: Callable[[float], tuple[float, float]] | None = None
    resampled_by: str | None = None

    @property
    def params(self) -> pd.Series:
        """The estimate as a one-element Series (for uniformity with vector results)."""
        return pd.Series({self.term: self.estimate})

    @property
    def statistic(self) -> float:
        """t (or z) statistic ``estimate / std_error``."""
        if not np.isfinite(self.std_error) or self.std_error == 0:
            return float("nan")
        return float(self.estimate / self.std_error)

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of the null of no effect."""
        if self.pvalue_override is not None:
            return float(self.pvalue_override)
        return float(two_sided_pvalue(self.statistic, self.dof))

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval ``(low, high)`` at ``level``, by the result's own method.

        Raises
        ------
        EvalkitError
            When the interval comes from resampling draws that cannot answer ``level`` (the
            message says how to rerun at that level).
        """
        if self.conf_int_override is not None and np.isclose(level, self.conf_level_override):
            lo, hi = self.conf_int_override
            return float(lo), float(hi)
        if self.interval_at is not None:
            check_level(level)
            lo, hi = self.interval_at(level)
            return float(lo), float(hi)
        if self.resampled_by is not None:
            from ._shared.exceptions import EvalkitError

            raise EvalkitError(
                f"This result's interval comes from {self.resampled_by} at the "
                f"{self.conf_level_override:.0%} level, and its draws cannot give the {level:.0%} "
                f"interval. Rerun at that level: result.with_inference(..., level={level}) or "
                f"the estimator's level={level} argument."
            )
        c = critical_value(level, self.dof)
        return float(self.estimate - c * self.std_error), float(self.estimate + c * self.std_error)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy one-row table with the columns of :data:`TIDY_COLUMNS`."""
        lo, hi = self.conf_int(level)
        row = {
            "term": self.term,
            "group": np.nan,
            "time": np.nan,
            "event_time": np.nan,
            "estimate": self.estimate,
            "std_error": self.std_error,
            "statistic": self.statistic,
            "p_value": self.pvalue,
            "conf_low": lo,
            "conf_high": hi,
        }
        return pd.DataFrame([row], columns=TIDY_COLUMNS)

    def summary(self, level: float = 0.95) -> str:
        """Readable text summary."""
        lo, hi = self.conf_int(level)
        lines = [
            self.title,
            "=" * max(len(self.title), 20),
            f"{self.term}: {self.estimate:.6g}  (s.e. {self.std_error:.4g})",
            f"{int(level * 100)}% CI: [{lo:.6g}, {hi:.6g}]   p-value: {self.pvalue:.4g}",
            f"Inference: {self.inference}",
        ]
        if self.nobs is not None:
            lines.append(f"Observations: {self.nobs}")
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))


@dataclass(repr=False)
class EffectVector(Renderable):
    """Several effects with a joint covariance matrix.

    Parameters
    ----------
    params : Series
        Estimates, indexed by term label.
    cov : DataFrame
        Covariance matrix, rows and columns labelled like ``params``.
    inference : str
        The inference method in words.
    labels : DataFrame, optional
        One row per term (same order as ``params``) with any of the columns ``group``, ``time``,
        ``event_time`` copied into ``to_frame()``.
    dof : float or None
        Degrees of freedom of the reference t distribution; ``None`` means normal.
    uniform_crit : float or None
        Critical value for simultaneous bands at ``uniform_level`` (e.g. from a multiplier
        bootstrap); computed from a Gaussian approximation of ``cov`` when ``None``.
    uniform_draws : ndarray or None
        The bootstrap draws of the sup-t statistic behind ``uniform_crit``: bands at any other
        level are their quantile (the same bootstrap). When ``uniform_crit`` is set without
        them, bands at another level are refused rather than taken from another method.
    uniform_quantile : str
        numpy quantile rule used with ``uniform_draws`` (the one that gave ``uniform_crit``).
    reference : list
        Event times normalised to zero (drawn as reference points by ``plot()``).
    title, notes, extra : see :class:`ScalarEffect`.
    """

    params: pd.Series
    cov: pd.DataFrame
    inference: str = "analytic"
    labels: pd.DataFrame | None = None
    dof: float | None = None
    uniform_crit: float | None = None
    uniform_level: float = 0.95
    uniform_draws: np.ndarray | None = None
    uniform_quantile: str = "inverted_cdf"
    reference: list = field(default_factory=list)
    title: str = "Effect estimates"
    nobs: int | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = pd.Series(self.params, dtype=float)
        if not isinstance(self.cov, pd.DataFrame):
            self.cov = pd.DataFrame(self.cov, index=self.params.index, columns=self.params.index)

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors (square roots of the covariance diagonal)."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0, None)), index=self.params.index)

    @property
    def tstats(self) -> pd.Series:
        """Estimate divided by standard error."""
        se = self.std_errors.replace(0, np.nan)
        return self.params / se

    @property
    def pvalues(self) -> pd.Series:
        """Pointwise two-sided p-values."""
        return pd.Series(two_sided_pvalue(self.tstats.to_numpy(), self.dof), index=self.params.index)

    def critical_value(self, level: float = 0.95, uniform: bool = False) -> float:
        """Pointwise or simultaneous critical value at ``level``."""
        if not uniform:
            return critical_value(level, self.dof)
        if self.uniform_crit is not None and np.isclose(level, self.uniform_level):
            return float(self.uniform_crit)
        if self.uniform_draws is not None:
            check_level(level)
            return float(np.quantile(self.uniform_draws, level, method=self.uniform_quantile))
        if self.uniform_crit is not None and np.isfinite(self.uniform_crit):
            from ._shared.exceptions import EvalkitError

            raise EvalkitError(
                f"The simultaneous bands of this result come from a bootstrap at the "
                f"{self.uniform_level:.0%} level, and its draws were not kept, so the "
                f"{level:.0%} bands cannot be computed by the same method. Refit with "
                f"level={level}."
            )
        # 100,000 Gaussian draws per call: computed once per covariance and level, since
        # to_frame(), summary() and plot() all ask for it.
        key = (id(self.cov), float(level))
        cache = self.__dict__.setdefault("_uniform_cache", {})
        if key not in cache:
            cache[key] = uniform_critical_value(self.cov.to_numpy(), level)
        return cache[key]

    def conf_int(self, level: float = 0.95, uniform: bool = False) -> pd.DataFrame:
        """Confidence intervals (columns ``lower``, ``upper``), pointwise or simultaneous."""
        c = self.critical_value(level, uniform)
        se = self.std_errors
        return pd.DataFrame({"lower": self.params - c * se, "upper": self.params + c * se})

    def wald_test(self, terms: list | None = None) -> dict[str, float]:
        """Joint Wald test that the selected effects are all zero.

        Returns a dict with ``statistic``, ``df`` and ``p_value`` (chi-square reference, or F when
        the result carries finite degrees of freedom).
        """
        idx = list(self.params.index) if terms is None else list(terms)
        b = self.params.loc[idx].to_numpy()
        v = self.cov.loc[idx, idx].to_numpy()
        stat = float(b @ np.linalg.pinv(v) @ b)
        q = len(idx)
        if self.dof is None or not np.isfinite(self.dof):
            p = float(stats.chi2.sf(stat, q))
        else:
            p = float(stats.f.sf(stat / q, q, self.dof))
        return {"statistic": stat, "df": q, "p_value": p}

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table, one row per effect, with the columns of :data:`TIDY_COLUMNS`.

        Two extra columns ``conf_low_uniform`` and ``conf_high_uniform`` hold simultaneous bands.
        """
        ci = self.conf_int(level)
        ciu = self.conf_int(level, uniform=True)
        out = pd.DataFrame(
            {
                "term": [str(t) for t in self.params.index],
                "group": np.nan,
                "time": np.nan,
                "event_time": np.nan,
                "estimate": self.params.to_numpy(),
                "std_error": self.std_errors.to_numpy(),
                "statistic": self.tstats.to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "conf_low": ci["lower"].to_numpy(),
                "conf_high": ci["upper"].to_numpy(),
            }
        )
        if self.labels is not None:
            for col in ("group", "time", "event_time"):
                if col in self.labels.columns:
                    out[col] = self.labels[col].to_numpy()
        out["conf_low_uniform"] = ciu["lower"].to_numpy()
        out["conf_high_uniform"] = ciu["upper"].to_numpy()
        return out

    def summary(self, level: float = 0.95) -> str:
        """Readable text summary."""
        frame = self.to_frame(level).dropna(axis=1, how="all")
        lines = [self.title, "=" * max(len(self.title), 20), f"Inference: {self.inference}"]
        if self.nobs is not None:
            lines.append(f"Observations: {self.nobs}")
        lines.append(frame.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def plot(self, ax=None, level: float = 0.95, uniform: bool = True, language: str | None = None, **kwargs):
        """Plot estimates with pointwise (and uniform) bands and a zero reference line.

        Delegates to :func:`evalkit.report.plots.plot_effects` with ``to_frame()``.
        """
        from .report.plots import plot_effects

        kwargs.setdefault("title", self.title)
        kwargs.setdefault("reference", self.reference)
        return plot_effects(self.to_frame(level), ax=ax, uniform=uniform, language=language, **kwargs)
