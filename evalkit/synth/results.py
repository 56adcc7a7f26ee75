"""Result objects of the synthetic-control family (subclasses of :class:`ScalarEffect`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from .._shared.validation import check_option
from ..results import TIDY_COLUMNS, ScalarEffect

#: report label key of each word of the synthetic-control plots ("treated", "weight", "estimate" and
#: outcome names are the report's own keys)
_PLOT_KEYS = {"synthetic": "synth_synthetic", "gap": "synth_gap", "time_weights": "synth_time_weights",
              "placebo": "synth_placebo", "treatment": "synth_treatment_start", "density": "count",
              "ratio": "synth_rmspe_ratio"}


def plot_label(key: str, language: str) -> str:
    """Label ``key`` of a synthetic-control plot in ``language`` (a column name without a label
    is shown as written)."""
    from ..report.labels import label_or_name

    return label_or_name(_PLOT_KEYS.get(key, key), language)


# report label of each estimator, for plot titles in the report's language
_TITLE_KEYS = {"sdid": "synthetic_did", "sc": "synthetic_control", "did": "two_by_two",
               "sc_outcomes": "synthetic_control", "sc_adh": "synthetic_control"}


@dataclass(repr=False)
class SynthResult(ScalarEffect):
    """A synthetic-control style estimate (SC, synthetic DiD, DiD in the same framework).

    A scalar result of the results protocol (the :class:`~evalkit.results.ScalarEffect`
    interface: ``estimate``, ``std_error``, ``pvalue``, ``conf_int(level)`` a ``(low, high)``
    tuple, ``params``/``std_errors``/``pvalues`` one-element Series, ``to_frame()``,
    ``summary()``); besides it carries the fitted weights, the trajectories and the placebo
    draws, drawn by ``plot(kind=...)``. ``with_inference`` is not available: the standard error
    comes from the replications chosen at the call (``se_method=``, ``n_reps=``).

    Attributes
    ----------
    estimator : str
        ``"sdid"``, ``"sc"``, ``"did"``, ``"sc_outcomes"`` or ``"sc_adh"``.
    unit_weights : Series
        Weight of every donor unit (index: unit labels).
    time_weights : Series or None
        Weight of every pre-treatment period (synthetic DiD; ``None`` for SC).
    trajectories : DataFrame
        Index: periods; columns ``treated`` (average of the treated units), ``synthetic`` (the
        weighted donors, shifted by the fitted intercept where the estimator has one), ``gap``.
    placebo_estimates : ndarray or None
        Estimates from the placebo / bootstrap / jackknife replications.
    treated_units : list
        Labels of the treated units.
    first_treated : object
        First treated period.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit.synth import synthetic_did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(12) for t in range(2010, 2020)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 2) & (df.year >= 2017)).astype(int)
    >>> df["y"] = df.unit + 0.1 * (df.year - 2010) + 1.0 * df.treated + rng.normal(0, 0.05, len(df))
    >>> r = synthetic_did(df, outcome="y", unit="unit", time="year", treatment="treated", n_draws=50)
    >>> print(r.estimator, f"{r.estimate:.1f}", f"{r.unit_weights.sum():.2f}")
    sdid 1.0 1.00
    >>> print(r.trajectories.columns.tolist())
    ['treated', 'synthetic', 'gap']
    >>> r.params.index.tolist(), r.result_kind
    (['ATT'], 'scalar')
    """

    inference_fixed: ClassVar[str] = (
        "its standard error comes from the placebo, bootstrap or jackknife replications chosen "
        "at the call; call synthetic_did(..., se_method=, n_reps=) or synthetic_control(...) again"
    )

    estimator: str = "sdid"
    unit_weights: pd.Series | None = None
    time_weights: pd.Series | None = None
    trajectories: pd.DataFrame | None = None
    placebo_estimates: np.ndarray | None = None
    treated_units: list = field(default_factory=list)
    first_treated: object = None
    outcome: str = ""

    def _plot_title(self, language: str) -> str:
        """The method's name in ``language`` for a plot title (the full English title in "en")."""
        key = _TITLE_KEYS.get(self.estimator)
        return self.title if language == "en" or key is None else plot_label(key, language)

    @property
    def weights(self) -> pd.DataFrame:
        """Donor weights table (``unit``, ``weight``), largest first, zeros dropped."""
        w = self.unit_weights
        frame = pd.DataFrame({"unit": w.index, "weight": w.to_numpy()})
        frame = frame[frame["weight"] > 0].sort_values("weight", ascending=False)
        return frame.reset_index(drop=True)

    @property
    def time_weights_table(self) -> pd.DataFrame | None:
        """Time weights (``time``, ``weight``) of synthetic DiD, ``None`` otherwise."""
        if self.time_weights is None:
            return None
        return pd.DataFrame(
            {"time": self.time_weights.index, "weight": self.time_weights.to_numpy()}
        )

    # -- plots ------------------------------------------------------------------------------
    def plot(self, kind: str = "trajectories", ax=None, language: str | None = None, **kwargs):
        """Draw the result.

        Parameters
        ----------
        kind : {"trajectories", "gap", "weights", "placebo"}
            Treated vs synthetic paths (with time weights for synthetic DiD), their gap, the donor
            weights as bars, or the histogram of placebo estimates with the estimate marked.
            ``"weights"`` takes ``top`` (bars shown, default 20) and ``names`` (``{unit: label}``,
            e.g. county names for the codes).
        ax : matplotlib Axes, optional
            Axes to draw on.
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).

        Returns
        -------
        matplotlib Axes
        """
        kinds = ["trajectories", "gap", "weights", "placebo"] + list(self._extra_kinds())
        check_option("kind", kind, kinds)
        import matplotlib.pyplot as plt

        from ..report.style import mark_synthetic, plot_language, register_cjk_font

        language = plot_language(language)
        register_cjk_font()
        if ax is None:
            fig, ax = plt.subplots(figsize=kwargs.pop("figsize", (7.5, 4.2)))
            mark_synthetic(fig)
        if kind == "trajectories":
            return self._plot_trajectories(ax, language)
        if kind == "gap":
            return self._plot_gap(ax, language)
        if kind == "weights":
            return self._plot_weights(ax, language, **kwargs)
        if kind == "placebo":
            return self._plot_placebo_hist(ax, language)
        return self._plot_extra(kind, ax, language, **kwargs)

    def _extra_kinds(self):
        return ()

    def _plot_extra(self, kind, ax, language, **kwargs):  # pragma: no cover - overridden
        raise EvalkitError(f"plot kind {kind!r} is not available for this result")

    def _vline(self, ax, language):
        ax.axvline(self.first_treated, color="0.4", ls="--", lw=1, label=plot_label("treatment", language))

    def _plot_trajectories(self, ax, language):
        tr = self.trajectories
        ax.plot(tr.index, tr["treated"], color="C3", lw=2, label=plot_label("treated", language))
        ax.plot(tr.index, tr["synthetic"], color="C0", lw=2, ls="-", label=plot_label("synthetic", language))
        self._vline(ax, language)
        if self.time_weights is not None and self.time_weights.sum() > 0:
            ax2 = ax.twinx()
            ax2.bar(self.time_weights.index, self.time_weights.to_numpy(), color="C2", alpha=0.35,
                    width=0.8, label=plot_label("time_weights", language))
            ax2.set_ylim(0, max(3.0, 3 * float(self.time_weights.max())))
            ax2.set_ylabel(plot_label("time_weights", language))
        ax.set_ylabel(plot_label(self.outcome, language))
        ax.set_title(self._plot_title(language))
        ax.legend(loc="upper left", frameon=False)
        return ax

    def _plot_gap(self, ax, language):
        tr = self.trajectories
        ax.plot(tr.index, tr["gap"], color="C3", lw=2, label=plot_label("gap", language))
        ax.axhline(0, color="0.3", lw=0.8)
        self._vline(ax, language)
        ax.set_ylabel(plot_label("gap", language))
        ax.set_title(self._plot_title(language))
        ax.legend(frameon=False)
        return ax

    def _plot_weights(self, ax, language, top: int = 20, names=None):
        w = self.weights.head(top)
        labels = w["unit"].astype(str)
        if names is not None:  # readers know counties by name, not by code
            labels = labels.map(lambda code: str(names.get(code, code)))
        ax.barh(labels[::-1], w["weight"].to_numpy()[::-1], color="C0")
        ax.set_xlabel(plot_label("weight", language))
        ax.set_title(self._plot_title(language))
        return ax

    def _plot_placebo_hist(self, ax, language):
        if self.placebo_estimates is None or len(self.placebo_estimates) == 0:
            raise EvalkitError(
                "This result has no placebo draws: estimate with cov_type='placebo' (synthetic "
                "DiD) or placebo=True (synthetic control)."
            )
        ax.hist(self.placebo_estimates, bins=30, color="0.7", label=plot_label("placebo", language))
        ax.axvline(self.estimate, color="C3", lw=2, label=plot_label("estimate", language))
        ax.set_xlabel(plot_label("estimate", language))
        ax.set_ylabel(plot_label("density", language))
        ax.set_title(self._plot_title(language))
        ax.legend(frameon=False)
        return ax


def comparison_frame(results: dict[str, ScalarEffect], level: float = 0.95) -> pd.DataFrame:
    """Stack several scalar results into one tidy table (``term`` = the dictionary key)."""
    rows = []
    for name, res in results.items():
        f = res.to_frame(level)
        f["term"] = name
        rows.append(f)
    return pd.concat(rows, ignore_index=True)[TIDY_COLUMNS]
