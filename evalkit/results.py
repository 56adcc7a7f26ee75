"""The one results family shared by every evalkit estimator: the results protocol.

Every result returned by a public function of ``evalkit.did``, ``synth``, ``iv``, ``inference``
and ``sensitivity`` offers the same members (DEVNOTES.md "Results family"):

* ``params``, ``std_errors``, ``pvalues`` -- pandas Series indexed by term (always Series, also
  for a single effect);
* ``conf_int(level=0.95)`` -- its type depends on the result's :attr:`Result.result_kind`: a
  ``"scalar"`` result (one headline effect: ``estimate``, ``std_error``, ``pvalue`` floats)
  returns the tuple ``(low, high)`` of floats for that effect; a ``"vector"`` result returns a
  DataFrame with columns ``lower``, ``upper`` indexed like ``params``. Intervals at any level come
  from the result's own method (``interval_at``, ``uniform_draws``) or are refused
  (``resampled_by``), never from a t interval of another method;
* ``to_frame()`` -- the tidy table with the columns of :data:`TIDY_COLUMNS`;
* ``summary()`` -- a :class:`~evalkit._summary.Summary` (``str()`` is the text; displays itself in
  Jupyter);
* ``plot()`` -- a matplotlib figure in the language set by ``evalkit.report.use()`` (English
  without it);
* ``with_inference(cov_type, **options)`` -- a new result with another covariance, for
  estimators that keep a least-squares design; other results raise :class:`InferenceError`
  saying why.

Results with pre-treatment periods also offer ``pretrend_test()``.

Two shapes carry the numbers:

* :class:`ScalarEffect` -- one effect (TWFE coefficient, 2x2 DiD, an aggregated ATT, a synthetic
  control estimate...).
* :class:`EffectVector` -- several effects with a joint covariance (event studies, ATT(g,t),
  dynamic aggregations), with simultaneous bands (``conf_int(level, uniform=True)``).

Results that hold several parts (a Callaway-Sant'Anna fit, dose curves, dCDH, a decomposition)
derive from :class:`TidyVector`: their ``params``, ``std_errors``, ``pvalues`` and ``conf_int``
are the rows of their ``to_frame()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


class Result(MaketablesMixin):
    """Base of every evalkit result: the members of the results protocol all results share.

    Subclasses set :attr:`result_kind` and implement ``params``, ``std_errors``, ``pvalues``,
    ``conf_int``, ``to_frame``, ``summary`` and ``plot``; a result whose estimator keeps a
    least-squares design overrides :meth:`with_inference`, the others state in
    :attr:`inference_fixed` why their inference cannot be swapped after the fit.

    Examples
    --------
    >>> from evalkit.results import Result, ScalarEffect
    >>> eff = ScalarEffect(estimate=1.0, std_error=0.5)
    >>> isinstance(eff, Result), eff.result_kind
    (True, 'scalar')
    >>> eff.with_inference("cr2")
    Traceback (most recent call last):
    ...
    evalkit._shared.exceptions.InferenceError: ScalarEffect.with_inference() is not available: ...
    """

    #: ``"scalar"`` (``conf_int()`` is a ``(low, high)`` tuple) or ``"vector"`` (a DataFrame).
    result_kind: ClassVar[str] = "vector"
    #: Why ``with_inference`` is not available for this kind of result.
    inference_fixed: ClassVar[str] = (
        "the estimator that produced it fixed its inference; re-run that estimator with other "
        "inference options"
    )
    title: str = "Result"
    notes: list[str]

    def summary(self) -> Summary:  # pragma: no cover - overridden
        raise NotImplementedError

    def with_inference(self, cov_type: str = "auto", **options):
        """Not available for this result: the error says why and what to do instead.

        Raises
        ------
        InferenceError
            Always (results that keep a least-squares design override this method); the reason
            is the class's :attr:`inference_fixed` or the result's ``extra["inference_fixed"]``.
        """
        from ._shared.exceptions import InferenceError

        reason = (getattr(self, "extra", None) or {}).get("inference_fixed", self.inference_fixed)
        raise InferenceError(f"{type(self).__name__}.with_inference() is not available: {reason}.")

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}>"

    def _repr_html_(self) -> str:
        import html

        frame = self.to_frame()  # type: ignore[attr-defined]
        frame = frame.dropna(axis=1, how="all")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in getattr(self, "notes", []) or [])
        return (
            f"<div><strong>{html.escape(self.title)}</strong>"
            + frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="")
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


#: Former names of :class:`Result` (kept for code that imported them).
Renderable = Result
_Renderable = Result


class TidyVector(Result):
    """A result whose protocol members are the rows of its ``to_frame()``.

    ``params``, ``std_errors`` and ``pvalues`` are the columns ``estimate``, ``std_error`` and
    ``p_value`` indexed by ``term`` (unique per result); ``conf_int(level)`` is ``conf_low`` and
    ``conf_high`` as columns ``lower``, ``upper``. A result whose table has fixed intervals (set
    at the fit) names that level in :attr:`fixed_level` and refuses other levels, saying how to
    rerun.

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.results import TidyVector
    >>> class Two(TidyVector):
    ...     def to_frame(self, level=0.95):
    ...         return pd.DataFrame({"term": ["a", "b"], "estimate": [1.0, 2.0],
    ...                              "std_error": [0.1, 0.2], "p_value": [0.0, 0.0],
    ...                              "conf_low": [0.8, 1.6], "conf_high": [1.2, 2.4]})
    >>> Two().params.to_dict(), Two().conf_int().loc["b"].tolist()
    ({'a': 1.0, 'b': 2.0}, [1.6, 2.4])
    """

    result_kind: ClassVar[str] = "vector"
    #: Level of the intervals in ``to_frame()`` when they cannot be recomputed at another level
    #: (``None``: ``to_frame(level)`` answers any level).
    fixed_level: ClassVar[float | None] = None
    #: How to get intervals at another level when :attr:`fixed_level` is set.
    rerun_hint: ClassVar[str] = "re-run the estimator with that level"

    def _frame(self, level: float = 0.95) -> pd.DataFrame:
        if self._fixed_level() is None:
            return self.to_frame(level)  # type: ignore[attr-defined]
        return self.to_frame()  # type: ignore[attr-defined]

    def _fixed_level(self) -> float | None:
        return self.fixed_level

    def _index(self, frame: pd.DataFrame) -> pd.Index:
        return pd.Index([str(t) for t in frame["term"]], name="term")

    def _column(self, name: str, level: float = 0.95) -> pd.Series:
        frame = self._frame(level)
        values = frame[name].to_numpy(float) if name in frame.columns else np.full(len(frame), np.nan)
        return pd.Series(values, index=self._index(frame), dtype=float)

    @property
    def params(self) -> pd.Series:
        """Estimates, one per row of ``to_frame()``, indexed by term."""
        return self._column("estimate")

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors (missing where the row has none), indexed like ``params``."""
        return self._column("std_error")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values (missing where the row has none), indexed like ``params``."""
        return self._column("p_value")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals at ``level``: columns ``lower``, ``upper`` indexed like ``params``.

        Raises
        ------
        EvalkitError
            ``level`` differs from the level fixed at the fit (:attr:`fixed_level`) for a result
            whose intervals cannot be recomputed (the message says how to rerun).
        """
        check_level(level)
        fixed = self._fixed_level()
        if fixed is not None and not np.isclose(level, fixed):
            from ._shared.exceptions import EvalkitError

            raise EvalkitError(
                f"The intervals of this {type(self).__name__} were computed at the {fixed:.0%} "
                f"level and cannot be recomputed at {level:.0%} from the result: "
                f"{self.rerun_hint} (level={level})."
            )
        frame = self._frame(level)
        return pd.DataFrame(
            {"lower": frame["conf_low"].to_numpy(float), "upper": frame["conf_high"].to_numpy(float)},
            index=self._index(frame),
        )


@dataclass(repr=False)
class ScalarEffect(Result):
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

    Notes
    -----
    A scalar result (:attr:`result_kind` ``"scalar"``): ``estimate``, ``std_error`` and ``pvalue`` are
    floats and ``conf_int(level)`` is the tuple ``(low, high)``; ``params``, ``std_errors`` and
    ``pvalues`` are Series indexed by ``term`` (one entry here; every coefficient for regression
    results such as :class:`~evalkit.did.TWFEResult`).

    Examples
    --------
    >>> eff = ScalarEffect(estimate=1.2, std_error=0.5, dof=20)
    >>> [round(x, 3) for x in eff.conf_int(0.90)]
    [0.338, 2.062]
    >>> eff.params.to_dict(), round(float(eff.pvalues["ATT"]), 4)
    ({'ATT': 1.2}, 0.0262)
    >>> print(eff.summary())
    Effect estimate
    ====================
    ATT: 1.2  (s.e. 0.5)
    95% CI: [0.157018, 2.24298]   p-value: 0.02625
    Inference: analytic
    """

    result_kind: ClassVar[str] = "scalar"

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
        """The estimate as a one-element Series indexed by ``term``."""
        return pd.Series({self.term: self.estimate}, dtype=float)

    @property
    def std_errors(self) -> pd.Series:
        """The standard error as a one-element Series indexed by ``term``."""
        return pd.Series({self.term: self.std_error}, dtype=float)

    @property
    def pvalues(self) -> pd.Series:
        """The p-value as a one-element Series indexed by ``term``."""
        return pd.Series({self.term: self.pvalue}, dtype=float)

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

    def summary(self, level: float = 0.95) -> Summary:
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

    def plot(self, ax=None, level: float = 0.95, language: str | None = None, **kwargs):
        """The estimate with its confidence interval and a zero line.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure otherwise).
        level : float
            Coverage of the interval (by the result's own method, as ``conf_int``).
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).
        **kwargs
            Passed to :func:`evalkit.report.plot_effects` (``title``, ``color``, ``ylabel`` ...).

        Returns
        -------
        matplotlib Axes
        """
        from .report.plots import plot_effects

        kwargs.setdefault("title", self.title)
        return plot_effects(self.to_frame(level), ax=ax, uniform=False, language=language, **kwargs)


@dataclass(repr=False)
class EffectVector(Result):
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

    Notes
    -----
    A vector result (:attr:`result_kind` ``"vector"``): ``params``, ``std_errors``, ``pvalues`` are
    Series indexed by term and ``conf_int(level, uniform=False)`` is a DataFrame with columns
    ``lower``, ``upper`` indexed like ``params``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> v = EffectVector(params=pd.Series({"e0": 1.0, "e1": 2.0}), cov=np.diag([0.25, 0.25]),
    ...                  labels=pd.DataFrame({"event_time": [0, 1]}))
    >>> v.std_errors.tolist(), v.conf_int().round(2).loc["e1"].tolist()
    ([0.5, 0.5], [1.02, 2.98])
    >>> print(v.to_frame()[["term", "event_time", "estimate"]].to_string(index=False))
    term  event_time  estimate
      e0           0       1.0
      e1           1       2.0
    """

    result_kind: ClassVar[str] = "vector"

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

    def pretrend_test(self, terms: list | None = None) -> dict[str, float]:
        """Joint Wald test that the pre-treatment effects (event time < 0) are all zero.

        Parameters
        ----------
        terms : sequence, optional
            Event times to test (default: every negative event time with a non-zero variance;
            a normalised reference period, reported at zero, is left out).

        Returns
        -------
        dict
            ``statistic``, ``df``, ``p_value`` (F with the result's dof, else chi-square).

        Raises
        ------
        DesignError
            The result has no event times, or none of the requested pre-treatment ones.
        """
        from ._shared.exceptions import DesignError

        if self.labels is None or "event_time" not in self.labels.columns:
            raise DesignError(
                f"{type(self).__name__} has no event times, so it has no pre-treatment effects to "
                "test; pretrend_test() needs an event study (effects by event time)."
            )
        et = pd.to_numeric(self.labels["event_time"], errors="coerce").to_numpy(float)
        var = np.diag(self.cov.to_numpy())
        if terms is None:
            pick = [t for t, e, v in zip(self.params.index, et, var, strict=True) if e < 0 and v > 0]
        else:
            wanted = {int(v) for v in terms}
            pick = [t for t, e in zip(self.params.index, et, strict=True)
                    if np.isfinite(e) and int(e) in wanted]
        if not pick:
            raise DesignError("No pre-treatment (negative) event-time coefficients to test.")
        return self.wald_test(pick)

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

    def summary(self, level: float = 0.95) -> Summary:
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

        Delegates to :func:`evalkit.report.plots.plot_effects` with ``to_frame()``; labels in
        ``language`` (default: the one set by ``report.use()``, else English).
        """
        from .report.plots import plot_effects

        kwargs.setdefault("title", self.title)
        kwargs.setdefault("reference", self.reference)
        return plot_effects(self.to_frame(level), ax=ax, uniform=uniform, language=language, **kwargs)
