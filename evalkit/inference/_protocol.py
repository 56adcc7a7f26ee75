"""The results protocol for the outcome of one test of one effect (bootstrap, randomization, ...).

:class:`ScalarTest` gives the wild bootstrap, WRE, randomization, placebo and Conley-Taber results
the members every evalkit result has (``params``, ``std_errors``, ``pvalues``, ``conf_int(level)``,
``to_frame()``, ``summary()``, ``plot()``). They are scalar results: ``conf_int(level)`` returns
``(low, high)`` by the test's own method (inverting it on the same draws), or raises when the test
gives no interval.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from .._shared.exceptions import InferenceError
from .._shared.stats import check_level
from .._summary import Summary
from ..results import TIDY_COLUMNS, Result

#: report label keys of the test plot's words
_PLOT_LABELS = {"draws": "test_draws", "observed": "test_observed", "count": "count",
                "t": "t_statistic", "estimate": "estimate", "value": "statistic"}


class ScalarTest(Result):
    """Protocol members of a test result with ``estimate``, ``std_error``, ``pvalue``, ``term``.

    Subclasses implement :meth:`_interval` (``level -> (low, high)``, or ``None`` when the test
    gives no interval, with the reason in :meth:`_no_interval`) and :meth:`_draws` (the values
    drawn by the test and the observed one, for ``plot()``).

    Examples
    --------
    >>> import numpy as np
    >>> from evalkit.inference import permutation_test
    >>> y = np.array([3.1, 2.9, 3.4, 1.0, 1.2, 0.9])
    >>> res = permutation_test(lambda a: float(y[a == 1].mean() - y[a == 0].mean()),
    ...                        np.array([1, 1, 0, 0, 0, 0]), statistic="estimate")
    >>> res.result_kind, isinstance(res, ScalarTest), round(float(res.pvalues.iloc[0]), 3)
    ('scalar', True, 0.4)
    """

    result_kind: ClassVar[str] = "scalar"
    inference_fixed: ClassVar[str] = (
        "it is the outcome of one test; run the test again with other options (or call "
        "with_inference() on the estimator's own result)"
    )

    # -- to implement ------------------------------------------------------------------------
    def _interval(self, level: float) -> tuple[float, float] | None:  # pragma: no cover
        raise NotImplementedError

    def _no_interval(self, level: float) -> str:
        return f"this test gives no {level:.0%} interval"

    def _draws(self) -> tuple[np.ndarray, float, str]:  # pragma: no cover
        """``(draws, observed value, "t" | "estimate" | "value")`` for the histogram."""
        raise NotImplementedError

    # -- protocol ----------------------------------------------------------------------------
    @property
    def title(self) -> str:  # type: ignore[override]
        return str(getattr(self, "description", type(self).__name__))

    @property
    def inference(self) -> str:
        """The method in words."""
        return self.title

    def _series(self, value: float) -> pd.Series:
        return pd.Series({str(self.term): value}, dtype=float)  # type: ignore[attr-defined]

    @property
    def params(self) -> pd.Series:
        """The estimate as a one-element Series indexed by ``term``."""
        return self._series(self.estimate)  # type: ignore[attr-defined]

    @property
    def std_errors(self) -> pd.Series:
        """The standard error (missing when the test uses none) indexed by ``term``."""
        return self._series(self.std_error)  # type: ignore[attr-defined]

    @property
    def pvalues(self) -> pd.Series:
        """The test's p-value indexed by ``term``."""
        return self._series(self.pvalue)  # type: ignore[attr-defined]

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval ``(low, high)`` at ``level`` by this test's own method.

        Raises
        ------
        InferenceError
            When the test gives no interval (the message says what does).
        """
        check_level(level)
        ci = self._interval(level)
        if ci is None:
            raise InferenceError(self._no_interval(level))
        return float(ci[0]), float(ci[1])

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One-row tidy table (:data:`~evalkit.results.TIDY_COLUMNS`); interval columns missing
        when the test gives none; extra columns ``n_draws`` and ``method``."""
        check_level(level)
        ci = self._interval(level)
        lo, hi = (np.nan, np.nan) if ci is None else ci
        est = float(self.estimate)  # type: ignore[attr-defined]
        se = float(self.std_error)  # type: ignore[attr-defined]
        row = {"term": str(self.term), "group": np.nan, "time": np.nan, "event_time": np.nan,  # type: ignore[attr-defined]
               "estimate": est, "std_error": se,
               "statistic": est / se if np.isfinite(se) and se > 0 else np.nan,
               "p_value": float(self.pvalue), "conf_low": float(lo), "conf_high": float(hi),  # type: ignore[attr-defined]
               "n_draws": int(getattr(self, "n_draws", len(self._draws()[0]))),
               "method": self.title}
        return pd.DataFrame([row], columns=[*TIDY_COLUMNS, "n_draws", "method"])

    def summary(self, level: float = 0.95) -> Summary:
        """Readable text: the estimate, the p-value, the interval when the test gives one."""
        row = self.to_frame(level).iloc[0]
        lines = [self.title, "=" * max(len(self.title), 20),
                 f"{row['term']}: {row['estimate']:.6g}"
                 + (f"  (s.e. {row['std_error']:.4g})" if np.isfinite(row["std_error"]) else ""),
                 f"p-value: {row['p_value']:.4g} ({row['n_draws']} draws)"]
        if np.isfinite(row["conf_low"]) or np.isfinite(row["conf_high"]):
            lines.append(f"{level:.0%} CI: [{row['conf_low']:.6g}, {row['conf_high']:.6g}]")
        else:
            lines.append(f"No interval: {self._no_interval(level)}.")
        lines += [f"Note: {n}" for n in getattr(self, "notes", []) or []]
        return Summary("\n".join(lines))

    def plot(self, ax=None, language: str | None = None, bins: int = 30):
        """Histogram of the test's draws with the observed value marked.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure otherwise).
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).
        bins : int
            Histogram bins.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        from ..report.labels import t
        from ..report.style import mark_synthetic, plot_language, register_cjk_font

        lang = plot_language(language)
        lab = {name: t(key, lang) for name, key in _PLOT_LABELS.items()}
        register_cjk_font()
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
            mark_synthetic(fig)
        draws, observed, what = self._draws()
        draws = np.asarray(draws, dtype=float)
        draws = draws[np.isfinite(draws)]
        ax.hist(draws, bins=bins, color="0.7", label=lab["draws"])
        ax.axvline(observed, color="C3", lw=2, label=f"{lab['observed']} = {observed:.3g}")
        ax.set_xlabel(lab[what])
        ax.set_ylabel(lab["count"])
        ax.legend(frameon=False, fontsize=8)
        return ax
