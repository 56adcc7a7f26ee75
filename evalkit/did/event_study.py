"""Dynamic two-way fixed effects (event-study) regression for staggered adoption.

``y_it = a_i + g_t + sum_{e not in reference} b_e 1[t - G_i = e] + X_it c + e_it``: one coefficient
per event time (period relative to the unit's first treated period ``G_i``), with unit and time
effects absorbed exactly. Choices:

* ``leads``/``lags``: the window ``[-leads, lags]``; ``None`` keeps every event time in the data.
  Treated observations outside the window are **dropped** unless ``bin_endpoints=True``, which
  pools them into the end points (Schmidheiny and Siegloch 2023). They are never silently pooled
  with the reference period.
* ``reference``: event time(s) normalised to zero (default ``-1``).
* ``control_group``: ``"never_treated"`` (cohort 0 units), ``"last_treated"`` (the last cohort, in the
  periods before it is treated; never-treated units dropped) or ``"both"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import DesignError, EvalkitError, NoControlUnitsError
from .._shared.inputs import panel_input
from .._shared.kernels import TwoWayAbsorber, codes_of
from .._shared.options import refuse_unknown
from .._shared.validation import check_option
from .._shared.vocabulary import keywords
from ..inference.design import LinearDesign
from ..results import EffectVector
from ._common import (
    as_list,
    check_cohort,
    dof_for,
    drop_always_treated,
    prepare_panel,
    require_never_treated,
    vector_inference,
)
from ._fe import check_collinear_arg, dropped_note, fit_absorbed
from ._registry import CompareRequest, CompareRun, register_comparison

Control = Literal["never_treated", "last_treated", "both"]
CONTROLS = ("never_treated", "last_treated", "both")


def event_term(e: int) -> str:
    """Coefficient name of event time ``e``."""
    return f"event_time::{int(e)}"


@dataclass(repr=False)
class EventStudyResult(EffectVector):
    """Event-study coefficients with their covariance; recomputable inference.

    ``params``/``cov`` hold the event-time coefficients (labels in ``to_frame()["event_time"]``);
    covariate coefficients are in ``extra["covariates"]``. ``pretrend_test()`` is the joint Wald
    test of the leads (:meth:`~evalkit.results.EffectVector.pretrend_test`); ``with_inference``
    changes ``cov_type`` without refitting.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2014, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 15, 2018, 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= 2018)) + rng.normal(0, 0.1, len(df))
    >>> es = did.event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=3, lags=2,
    ...                      cov_type="clustered")
    >>> es.params.round(1).tolist()
    [0.0, 0.1, 1.0, 1.1, 1.1]
    >>> pt = es.pretrend_test()
    >>> pt["df"], round(pt["p_value"], 2)
    (2, 0.03)
    >>> es.with_inference("cr2").conf_int().columns.tolist()
    ['lower', 'upper']
    """

    design: LinearDesign | None = None
    cov_type: str = "clustered"
    cov_options: dict[str, Any] = field(default_factory=dict)
    aggregation: pd.DataFrame | None = None

    def with_inference(self, cov_type: str = "auto", **options) -> EventStudyResult:
        """New result with covariance ``cov_type`` (any registered name; ``"auto"`` as in
        :func:`event_study`), without refitting."""
        return vector_result(self.design, list(self.params.index), self.labels, cov_type, options,
                              self.title, self.notes, self.extra, self.reference, type(self),
                              agg=self.aggregation)


def vector_result(design, names, labels, cov_type, options, title, notes, extra, reference,
                   cls=None, agg: pd.DataFrame | None = None):
    """Build a vector result from a design: ``params = A beta``, ``cov = A V A'``.

    ``agg`` (rows: reported terms, columns: design coefficients) aggregates coefficients (the
    Sun-Abraham interaction weights); without it the reported terms are ``names`` themselves.
    """
    cls = cls or EventStudyResult
    res = vector_inference(design, cov_type, options)
    full = pd.DataFrame(np.asarray(res.cov, dtype=float), index=design.names, columns=design.names)
    beta = pd.Series(design.beta, index=design.names)
    if agg is None:
        agg = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    a = agg.reindex(columns=design.names, fill_value=0.0).to_numpy()
    used = np.nonzero(np.abs(a).sum(axis=0) > 0)[0]
    dof = None if res.dof is None else dof_for(res.dof, int(used[0]) if np.size(res.dof) > 1 else None)
    extra = dict(extra)
    other = [n for n in design.names if n not in set(agg.columns)]
    extra["covariates"] = beta[other]
    extra["covariates_se"] = pd.Series(np.sqrt(np.clip(np.diag(full.loc[other, other]), 0, None)), index=other)
    params = pd.Series(a @ design.beta, index=agg.index)
    cov = a @ full.to_numpy() @ a.T
    out = cls(
        params=params,
        cov=pd.DataFrame((cov + cov.T) / 2, index=agg.index, columns=agg.index),
        inference=res.description_of_cov,
        labels=labels.reset_index(drop=True),
        dof=dof,
        reference=list(reference),
        title=title,
        nobs=design.nobs,
        notes=list(notes),
        extra=extra,
        design=design,
        cov_type=cov_type,
        cov_options=dict(options),
        aggregation=agg,
    )
    out._coef_cov = res  # the coefficients' covariance, reused by att() / cohort_effects
    return out


def event_sample(
    df: pd.DataFrame, *, unit: str, time: str, cohort: str, control_group: str
) -> tuple[pd.DataFrame, list[str]]:
    """Estimation sample for a staggered event study and notes describing it.

    Adds ``_g`` (cohort, 0 for units serving as controls) and ``_rel`` (event time, NaN for
    controls). Cohorts first treated after the last period are counted as never treated; units
    treated from their first period are dropped with a warning naming them.

    Raises
    ------
    NoControlUnitsError
        If the requested control group does not exist.
    """
    check_option("control_group", control_group, CONTROLS)
    g_unit = check_cohort(df, unit, time, cohort)
    notes: list[str] = []
    df = df.copy()
    tmax = df[time].max()
    late = (df[cohort] > tmax)
    if late.any():
        notes.append(f"{df.loc[late, unit].nunique()} unit(s) first treated after {tmax} count as never treated")
        df.loc[late, cohort] = 0
    df = drop_always_treated(df, unit, time, cohort)
    g_unit = df.groupby(unit)[cohort].first()
    treated_cohorts = sorted(set(g_unit[g_unit > 0]))
    if not treated_cohorts:
        raise DesignError(f"No treated units: cohort column {cohort!r} is 0 (never) for every unit.")
    if control_group == "never_treated":
        require_never_treated(g_unit, cohort, control_group, "control_group='last_treated'")
        df["_g"] = df[cohort]
        notes.append("controls: never-treated units")
    else:
        if len(treated_cohorts) < 2 and control_group == "last_treated":
            raise NoControlUnitsError(
                "control_group='last_treated' needs at least two treated cohorts (the last one "
                f"serves as control); found {treated_cohorts}. Use control_group='never_treated'."
            )
        last = treated_cohorts[-1]
        if control_group == "last_treated":
            df = df.loc[df[cohort] > 0]
        else:
            require_never_treated(g_unit, cohort, control_group, "control_group='last_treated'")
        df = df.loc[df[time] < last].reset_index(drop=True)
        df["_g"] = np.where(df[cohort] == last, 0, df[cohort])
        notes.append(
            f"controls: cohort {last} (last treated), periods before {last} only"
            + (" and never-treated units" if control_group == "both" else "")
        )
    df["_rel"] = np.where(df["_g"] > 0, df[time] - df["_g"], np.nan)
    return df.reset_index(drop=True), notes


def _window(rel: np.ndarray, leads, lags, bin_endpoints) -> tuple[np.ndarray, np.ndarray]:
    """Apply the event window: returns (binned event time, keep mask)."""
    rel = rel.copy()
    keep = np.ones(rel.shape[0], dtype=bool)
    treated = ~np.isnan(rel)
    lo = -int(leads) if leads is not None else None
    hi = int(lags) if lags is not None else None
    for bound, side in ((lo, "lo"), (hi, "hi")):
        if bound is None:
            continue
        out = treated & ((rel < bound) if side == "lo" else (rel > bound))
        if bin_endpoints:
            rel[out] = bound
        else:
            keep &= ~out
    return rel, keep


def windowed_event_sample(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    control_group: str,
    covariates: list[str],
    weights: str | None,
    cluster: str | None,
    leads,
    lags,
    bin_endpoints: bool,
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Checked panel, :func:`event_sample` and the event window: ``(df, event time, notes)``.

    Treated observations outside the window are dropped (noted) unless ``bin_endpoints``.
    """
    df = prepare_panel(data, outcome=outcome, unit=unit, time=time, numeric=covariates, weights=weights,
                       cluster=cluster, extra={"cohort": cohort, "covariates": covariates})
    df, notes = event_sample(df, unit=unit, time=time, cohort=cohort, control_group=control_group)
    rel, keep = _window(df["_rel"].to_numpy(float), leads, lags, bin_endpoints)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} treated observations outside the event window were dropped")
        df = df.loc[keep].reset_index(drop=True)
        rel = rel[keep]
    return df, rel, notes


def absorbed_inputs(
    df: pd.DataFrame, *, unit: str, time: str, weights: str | None, cluster: str | None
) -> tuple[TwoWayAbsorber, np.ndarray, np.ndarray]:
    """``(unit and time fixed-effect absorber, unit labels, cluster labels)`` of a checked panel;
    clusters default to the units."""
    u, _ = codes_of(df[unit])
    t, _ = codes_of(df[time])
    absorber = TwoWayAbsorber(u, t, df[weights].to_numpy(float) if weights else None)
    ulab = df[unit].to_numpy()
    clusters = df[cluster].to_numpy() if cluster else ulab
    return absorber, ulab, clusters


@keywords(control="control_group")
@panel_input
def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    leads: int | None = None,
    lags: int | None = None,
    bin_endpoints: bool = False,
    reference: int | Sequence[int] = -1,
    control_group: Control = "never_treated",
    covariates: str | list[str] | None = None,
    weights: str | None = None,
    cov_type: str = "auto",
    cluster: str | None = None,
    collinear: str = "raise",
    **cov_options,
) -> EventStudyResult:
    """Dynamic TWFE event study with one coefficient per event time.

    Parameters
    ----------
    data : DataFrame
        Long panel (balanced or not).
    outcome, unit, time : str
        Column names.
    cohort : str
        First treated period of each unit (0 = never treated); constant within a unit.
    leads, lags : int, optional
        Window ``[-leads, lags]`` of event times; ``None`` keeps every event time in the data.
    bin_endpoints : bool
        Pool event times beyond the window into the end points (else those treated observations
        are dropped).
    reference : int or sequence of int
        Event time(s) normalised to zero.
    control_group : {"never_treated", "last_treated", "both"}
        Comparison units (see module docstring).
    covariates : str or list of str, optional
        Time-varying numeric controls.
    weights : str, optional
        Positive observation weights.
    cov_type : str
        Registered covariance name (:func:`evalkit.inference.available`), clustered by
        ``cluster``. The default ``"auto"`` gives the event-time vector (``std_errors``, ``cov``
        and uniform bands) the covariance of evalkit's few-cluster rule
        (:func:`evalkit.inference.recommend_inference`): CR1 with a t(G-1) reference with at
        least 30 clusters and 10 treated ones, CR2 with the treatment-group working model with
        fewer. Where the rule picks the wild bootstrap (treated clusters unknown, or all
        treated), the vector gets CR1 with t(G-1): the bootstrap tests one coefficient at a time
        and gives no covariance (:func:`evalkit.inference.few_cluster_report` runs it for one
        coefficient or contrast). The description says which was used.
    cluster : str, optional
        Cluster column (default ``unit``).
    collinear : {"raise", "drop"}
        What to do with covariates absorbed by the fixed effects or collinear with other
        regressors. ``"raise"`` (the default: in an evaluation a collinear covariate is usually a
        specification mistake worth seeing) names them in a :class:`SingularDesignError`.
        ``"drop"`` does what fixest and Stata do: drops them in column order (the earlier of two
        collinear regressors is kept; tolerance :data:`evalkit.did._fe.COLLIN_TOL`) and lists
        them in ``notes``, ``summary()`` and ``extra["dropped"]``. Event-time dummies can be
        dropped too (as in fixest) and then have no coefficient.
    **cov_options
        Options of the covariance estimator.

    Returns
    -------
    EventStudyResult
        ``params``, ``cov``, ``to_frame()`` with ``event_time``, ``pretrend_test()``, ``plot()``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2023)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 10, 2019, 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= 2019)) + rng.normal(0, 0.1, len(df))
    >>> r = did.event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=3, lags=2)
    >>> print(r.to_frame()[["event_time", "estimate"]].round(1).to_string(index=False))
     event_time  estimate
             -3       0.0
             -2       0.1
              0       1.0
              1       1.0
              2       1.1
    """
    refuse_unknown(event_study, cov_options)
    check_collinear_arg(collinear)
    covs = as_list(covariates)
    if not isinstance(bin_endpoints, bool):
        raise EvalkitError("bin_endpoints must be True or False.")
    for name, v in (("leads", leads), ("lags", lags)):
        if v is not None and (not isinstance(v, (int, np.integer)) or v < 0):
            raise EvalkitError(f"{name} must be a non-negative integer or None, got {v!r}.")
    refs = sorted({int(r) for r in ([reference] if np.isscalar(reference) else reference)})
    if not refs:
        raise EvalkitError("reference must name at least one event time (e.g. -1).")
    df, rel, notes = windowed_event_sample(
        data, outcome=outcome, unit=unit, time=time, cohort=cohort, control_group=control_group, covariates=covs,
        weights=weights, cluster=cluster, leads=leads, lags=lags, bin_endpoints=bin_endpoints,
    )
    present = np.unique(rel[~np.isnan(rel)]).astype(int)
    missing_ref = [r for r in refs if r not in present]
    if missing_ref:
        raise DesignError(
            f"reference event time(s) {missing_ref} do not occur in the estimation sample (event times "
            f"{present.min()}..{present.max()}). Choose a reference inside that range; cohorts need "
            "an observed period before treatment."
        )
    events = [int(e) for e in present if e not in refs]
    rel_i = np.where(np.isnan(rel), -10**9, rel).astype(np.int64)
    pos = {e: j for j, e in enumerate(events)}
    yx = np.zeros((len(df), 1 + len(events) + len(covs)), order="F")
    yx[:, 0] = df[outcome].to_numpy(float)
    col = _map_pos(rel_i, pos)
    rows = np.nonzero(col >= 0)[0]
    yx[rows, 1 + col[rows]] = 1.0
    for j, c in enumerate(covs):
        yx[:, 1 + len(events) + j] = df[c].to_numpy(float)
    names = [event_term(e) for e in events] + covs
    absorber, ulab, clusters = absorbed_inputs(df, unit=unit, time=time, weights=weights, cluster=cluster)
    design = fit_absorbed(None, yx, names, absorber, clusters, ulab,
                          treated_mask=rel_i >= 0, what="event-time dummy or covariate",
                          collinear=collinear)
    del yx
    dropped = design.extra["dropped"]
    if dropped:
        notes.append(dropped_note(dropped))
        events = [e for e in events if event_term(e) not in dropped]
    labels = pd.DataFrame({"event_time": events})
    if bin_endpoints:
        notes.append("end points bin all event times beyond the window")
    extra = {"control_group": control_group, "n_units": absorber.n_units, "n_periods": absorber.n_times,
             "binned": bin_endpoints, "dropped": list(dropped)}
    return vector_result(design, [event_term(e) for e in events], labels, cov_type, cov_options,
                          "Event study (dynamic TWFE)", notes, extra, refs)


def _map_pos(rel_i: np.ndarray, pos: dict[int, int]) -> np.ndarray:
    if not pos:
        return np.full(rel_i.shape[0], -1)
    lo = min(min(pos), int(rel_i[rel_i > -10**9].min()) if (rel_i > -10**9).any() else 0)
    hi = max(max(pos), int(rel_i.max()))
    lut = np.full(hi - lo + 1, -1)
    for e, j in pos.items():
        lut[e - lo] = j
    out = np.full(rel_i.shape[0], -1)
    ok = rel_i > -10**9
    out[ok] = lut[rel_i[ok] - lo]
    return out


@register_comparison("event_study", "TWFE event study")
def _compare(request: CompareRequest) -> CompareRun:
    """:func:`event_study` in :func:`~evalkit.did.compare` (end points binned when a window is set)."""
    binned = request.leads is not None or request.lags is not None
    r = event_study(request.data, cohort=request.cohort, leads=request.leads, lags=request.lags,
                    bin_endpoints=binned, control_group=request.control_group,
                    covariates=request.covariates or None, cluster=request.cluster, **request.common)
    return CompareRun(r, [(r.to_frame(), "event_time")])
