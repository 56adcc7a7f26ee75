"""Several staggered-adoption estimators on one design: one tidy table, one overlay plot.

``compare`` runs the requested estimators on the same data and columns and stacks their tidy
frames with an ``estimator`` column and a ``kind`` column (``"overall"`` for the single average
effect, ``"event_time"`` for dynamic effects). The overlay plot draws every dynamic estimate with
its pointwise interval, side by side by event time.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from .._shared.inputs import panel_input
from .._shared.vocabulary import keywords
from .._summary import Summary
from ..results import TIDY_COLUMNS, TidyVector
from ._common import as_list
from ._registry import CompareRequest, comparison_entries

#: How the dynamic estimates of every estimator are normalised (table notes and plot caption).
NORMALISATION_TEXT = {
    "en": "All event-time estimates are relative to event time -1 (reference, 0 by construction); "
          "Callaway-Sant'Anna uses base_period='universal' so its pre-periods match.",
}


@dataclass(repr=False)
class Comparison(TidyVector):
    """Results of several estimators on one design.

    A vector result of the results protocol whose entries are the rows of ``table``:
    ``params``, ``std_errors``, ``pvalues`` and ``conf_int()`` (95%, as the table) are indexed by
    ``(estimator, term)``; ``to_frame()``, ``summary()``, ``plot()`` (the dynamic estimates
    overlaid). Each estimator's own result is in ``results``.

    Attributes
    ----------
    table : DataFrame
        ``estimator``, ``kind`` and the TIDY columns, one row per reported effect.
    results : dict
        The estimator results by name.
    notes : list of str
        Lines shown under the summary; the first states the normalisation of the pre-periods.
    normalisation : str
        ``"e=-1"`` when every dynamic estimate is relative to event time -1 (the default), or a
        sentence saying how CS options passed through ``cs_options`` depart from it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> c = did.compare(df, estimators=("twfe", "imputation"), outcome="y", unit="unit",
    ...                 time="year", cohort="cohort", lags=1)
    >>> round(float(c.params.loc[("TWFE", "ATT")]), 1), c.params.index.names
    (1.0, FrozenList(['estimator', 'term']))
    >>> sorted(c.results)
    ['imputation', 'twfe']
    """

    fixed_level: ClassVar[float] = 0.95
    rerun_hint: ClassVar[str] = (
        "the table is at 95%; take each estimator's result from .results and call its "
        "conf_int(level) or to_frame(level)"
    )
    inference_fixed: ClassVar[str] = (
        "it holds several estimators' results; call with_inference() on a result in .results "
        "(the least-squares ones have it)"
    )
    title: ClassVar[str] = "Estimator comparison"

    table: pd.DataFrame
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    normalisation: str = "e=-1"

    def to_frame(self) -> pd.DataFrame:
        """The stacked tidy table."""
        return self.table.copy()

    def _index(self, frame: pd.DataFrame) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays([frame["estimator"].astype(str), frame["term"].astype(str)],
                                         names=["estimator", "term"])

    def overall(self) -> pd.DataFrame:
        """One row per estimator with its overall average effect."""
        return self.table.loc[self.table["kind"] == "overall"].reset_index(drop=True)

    def summary(self) -> Summary:
        """Readable text: the overall effects, then the dynamic effects by event time."""
        cols = ["estimator", "estimate", "std_error", "conf_low", "conf_high", "p_value"]
        out = ["Estimator comparison", "====================",
               self.overall()[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}")]
        dyn = self.table.loc[self.table["kind"] == "event_time"]
        if not dyn.empty:
            wide = dyn.pivot_table(index="event_time", columns="estimator", values="estimate")
            out += ["", "Dynamic effects by event time", wide.to_string(float_format=lambda x: f"{x:.4g}")]
        out += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(out))

    def __repr__(self) -> str:
        return f"<Comparison: {', '.join(self.results) or 'no estimators'}>"

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (self.table.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="")
                + (f"<ul>{notes}</ul>" if notes else ""))

    def plot(self, ax=None, language: str | None = None, truth: pd.Series | None = None, **kwargs):
        """Overlay event-study plot of every dynamic estimator (``report.plots.overlay_effects``).

        Parameters
        ----------
        ax : matplotlib Axes, optional
        language : {"zh", "en"}, optional
            Label language (default: the one set by ``report.use()``, else English).
        truth : Series, optional
            True effects by event time, drawn as a line (simulations, demo data).
        **kwargs
            Passed to ``overlay_effects``.
        """
        from ..report.labels import label_or_name, t
        from ..report.plots import overlay_effects
        from ..report.style import plot_language

        dyn = self.table.loc[self.table["kind"] == "event_time"].copy()
        lang = plot_language(language)
        keys = {entry.label: name for name, entry in comparison_entries().items()}
        dyn["estimator"] = [label_or_name(keys.get(name, name), lang) if lang != "en" else name
                            for name in dyn["estimator"]]
        ax = overlay_effects(dyn, by="estimator", ax=ax, language=lang, truth=truth, **kwargs)
        if self.normalisation:
            text = t("normalisation_caption", lang) if self.normalisation == "e=-1" else self.normalisation
            ax.annotate(text, xy=(0.0, -0.16), xycoords="axes fraction", fontsize=8, color="0.35",
                        ha="left", va="top")
        return ax


def _tidy(frame: pd.DataFrame, estimator: str, kind: str) -> pd.DataFrame:
    out = frame.reindex(columns=TIDY_COLUMNS).copy()
    out.insert(0, "kind", kind)
    entry = comparison_entries().get(estimator)
    out.insert(0, "estimator", entry.label if entry is not None else estimator)
    return out


@keywords(control="control_group")
@panel_input
def compare(
    data: pd.DataFrame,
    *,
    estimators: Sequence[str] = ("twfe", "event_study", "sun_abraham", "imputation", "callaway_santanna"),
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    leads: int | None = None,
    lags: int | None = None,
    control_group: str = "never_treated",
    covariates: str | list[str] | None = None,
    cluster: str | None = None,
    cs_options: dict | None = None,
) -> Comparison:
    """Run several staggered-adoption estimators on one design.

    Parameters
    ----------
    data : DataFrame
        Long panel.
    estimators : sequence of str
        Any of ``"twfe"`` (static, treatment ``1[t >= cohort > 0]``), ``"event_study"``,
        ``"sun_abraham"``, ``"imputation"``, ``"callaway_santanna"`` (its ``dynamic`` aggregation;
        overall = ``simple``).
    outcome, unit, time, cohort : str
        Column names (cohort: first treated period, 0 = never).
    leads, lags : int, optional
        Event window for the dynamic estimators (``None`` = all event times). Applied to the
        TWFE/SA event studies (binned end points for the TWFE event study), to the imputation
        horizons and pre-trend leads, and to CS's ``dynamic`` aggregation window. Overall effects
        (CS ``simple``, BJS, Sun-Abraham ``att()``) always average every treated cell.
    control_group : {"never_treated", "last_treated"}
        Comparison group for the event studies; Callaway-Sant'Anna uses ``"never_treated"`` with
        ``"never_treated"`` and ``"not_yet_treated"`` with ``"last_treated"`` (or what
        ``cs_options`` says).
    covariates : str or list of str, optional
        Time-varying controls passed to every estimator that takes them (not CS, whose covariates
        are time-invariant: pass them in ``cs_options``).
    cluster : str, optional
        Cluster column (default unit).
    cs_options : dict, optional
        Extra keyword arguments of ``callaway_santanna``. ``base_period`` defaults to
        ``"universal"`` here (not CS's own default ``"varying"``) so that CS's pre-treatment
        estimates are, like every other estimator's, differences from event time -1. Passing
        ``base_period="varying"`` is allowed and stated in ``notes`` and the plot.

    Returns
    -------
    Comparison
        ``table``, ``results``, ``overall()``, ``plot()``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> c = did.compare(df, estimators=("twfe", "imputation"), outcome="y", unit="unit",
    ...                 time="year", cohort="cohort")
    >>> print(c.overall()[["estimator", "estimate"]].round(1).to_string(index=False))
           estimator  estimate
    Imputation (BJS)       1.0
                TWFE       1.0
    """
    known = list(comparison_entries())
    unknown = [e for e in estimators if e not in known]
    if unknown:
        raise EvalkitError(f"Unknown estimator(s) {unknown}; choose from {known}.")
    covs = as_list(covariates)
    if cohort not in data.columns:
        raise EvalkitError(f"Column(s) not found in the data: cohort={cohort!r}.")
    request = CompareRequest(data=data, outcome=outcome, unit=unit, time=time, cohort=cohort,
                             leads=leads, lags=lags, control_group=control_group, covariates=covs,
                             cluster=cluster, cs_options=cs_options)
    entries = comparison_entries()
    results: dict[str, Any] = {}
    parts: list[pd.DataFrame] = []
    notes: list[str] = []
    normalisation = "e=-1"
    for name in estimators:
        run = entries[name].run(request)
        results[name] = run.result
        parts += [_tidy(frame, name, kind) for frame, kind in run.parts]
        if run.normalisation is not None:
            normalisation = run.normalisation
    if not parts:
        raise EvalkitError("No estimator produced results.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        table = pd.concat(parts, ignore_index=True)
    table["event_time"] = pd.to_numeric(table["event_time"], errors="coerce")
    table = table.sort_values(["kind", "estimator", "event_time"], kind="mergesort", na_position="first")
    table = table.reset_index(drop=True)
    if np.isfinite(table.loc[table["kind"] == "overall", "estimate"]).sum() == 0:
        notes.append("no estimator reported an overall effect")
    notes.insert(0, NORMALISATION_TEXT["en"] if normalisation == "e=-1" else normalisation)
    return Comparison(table=table, results=results, notes=notes, normalisation=normalisation)
