"""Sun and Abraham (2021) interaction-weighted (IW) event study.

Step 1 regresses the outcome on cohort x event-time indicators ``1[G_i = g] 1[t - g = e]`` for
every treated cohort and event time except the reference(s), with unit and time effects absorbed
exactly; the comparison cohort is the never-treated units (``control_group="never_treated"``) or the
last-treated cohort before its treatment (``"last_treated"``). Step 2 averages the
cohort-specific effects ``delta_{g,e}`` at each event time with the cohort shares
``n_{g,e} / sum_g n_{g,e}`` (observations, or weights, of cohort ``g`` at event time ``e`` in the
sample). The covariance is ``W V W'`` (delta method with the shares held fixed, as fixest's
``sunab``/``aggregate`` and diff-diff do); ``V`` comes from the covariance registry, so
``with_inference`` works for any registered ``cov_type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._shared.exceptions import DesignError, EvalkitError
from .._shared.inputs import panel_input
from .._shared.options import refuse_unknown
from .._shared.stats import check_level
from .._shared.vocabulary import keywords
from ..results import ScalarEffect
from ._common import as_list, dof_for, vector_inference
from ._fe import fit_absorbed
from ._indicator import fit_indicators
from ._registry import CompareRequest, CompareRun, register_comparison
from .event_study import (
    EventStudyResult,
    absorbed_inputs,
    event_term,
    vector_result,
    windowed_event_sample,
)


@dataclass(repr=False)
class SunAbrahamResult(EventStudyResult):
    """IW event-study effects; cohort-specific effects in ``cohort_effects``; ``att()`` overall.

    A vector result of the results protocol (``params``, ``std_errors``, ``pvalues``,
    ``conf_int()`` by event time, ``to_frame()``, ``summary()``, ``plot()``, ``pretrend_test()``,
    ``with_inference(cov_type)``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> r = did.sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=2, lags=1,
    ...                     cov_type="clustered")
    >>> print(f"{r.att().estimate:.1f}", r.cohort_effects["group"].unique().tolist())
    1.0 [2018, 2020]
    >>> r.with_inference("cr2").params.equals(r.params), r.pretrend_test()["df"]
    (True, 1)
    """

    def _coefficient_cov(self):
        """Covariance of the cohort x event-time coefficients (computed once per result)."""
        if getattr(self, "_coef_cov", None) is None:
            self._coef_cov = vector_inference(self.design, self.cov_type, self.cov_options)
        return self._coef_cov

    @property
    def cohort_effects(self) -> pd.DataFrame:
        """Cohort x event-time coefficients with standard errors and IW shares."""
        d = self.design
        res = self._coefficient_cov()
        cov = np.asarray(res.cov)
        cols = list(self.aggregation.columns)
        idx = [d.names.index(c) for c in cols]
        info = self.extra["cells"].set_index("term").loc[cols]
        return pd.DataFrame(
            {
                "group": info["group"].to_numpy(),
                "event_time": info["event_time"].to_numpy(),
                "estimate": d.beta[idx],
                "std_error": np.sqrt(np.clip(np.diag(cov)[idx], 0, None)),
                "n_obs": info["n"].to_numpy(),
                "share": [self.aggregation.loc[event_term(e), c] for e, c in zip(info["event_time"], cols, strict=True)],
            }
        )

    def att(self, level: float = 0.95) -> ScalarEffect:
        """Average effect over post-treatment cells ``e >= 0``, weighted by their sizes ``n_{g,e}``.

        Returns
        -------
        ScalarEffect
            With delta-method standard error (shares fixed).
        """
        cells = self.extra["cells"]
        post = cells.loc[cells["event_time"] >= 0]
        if post.empty:
            raise DesignError("No post-treatment event times were estimated.")
        w = pd.Series(post["n"].to_numpy() / post["n"].sum(), index=post["term"].to_numpy())
        d = self.design
        res = self._coefficient_cov()
        a = np.zeros(len(d.names))
        for term, v in w.items():
            a[d.names.index(term)] = v
        est = float(a @ d.beta)
        se = float(np.sqrt(max(a @ np.asarray(res.cov) @ a, 0.0)))
        dof = dof_for(res.dof)
        check_level(level)
        return ScalarEffect(est, se, inference=res.description_of_cov, dof=dof, term="ATT",
                            title="Sun-Abraham average post-treatment effect", nobs=d.nobs)


@keywords(control="control_group")
@panel_input
def sun_abraham(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    control_group: str = "never_treated",
    leads: int | None = None,
    lags: int | None = None,
    bin_endpoints: bool = False,
    reference: int | Sequence[int] = -1,
    covariates: str | list[str] | None = None,
    weights: str | None = None,
    cov_type: str = "auto",
    cluster: str | None = None,
    **cov_options,
) -> SunAbrahamResult:
    """Sun-Abraham (2021) interaction-weighted event study.

    Parameters
    ----------
    data : DataFrame
        Long panel.
    outcome, unit, time : str
        Column names.
    cohort : str
        First treated period (0 = never treated).
    control_group : {"never_treated", "last_treated"}
        Comparison cohort.
    leads, lags : int, optional
        Event window (``None`` = every event time); outside it treated rows are dropped unless
        ``bin_endpoints=True`` pools them into the end points (per cohort).
    bin_endpoints : bool
        See above.
    reference : int or sequence of int
        Event time(s) omitted for every cohort (default -1).
    covariates : str or list of str, optional
        Time-varying controls.
    weights : str, optional
        Observation weights (regression and cohort shares).
    cov_type : str
        Registered covariance name (:func:`evalkit.inference.available`), clustered by unit /
        ``cluster``; the default ``"auto"`` is the vector rule of :func:`evalkit.did.event_study`.
    cluster : str, optional
        Cluster column.
    **cov_options
        Options of the covariance estimator.

    Returns
    -------
    SunAbrahamResult
        Event-time IW effects (``params``, ``cov``, ``to_frame()``, ``plot()``,
        ``pretrend_test()``), ``cohort_effects``, ``att()``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> r = did.sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=2, lags=1)
    >>> print(r.to_frame()[["event_time", "estimate"]].round(1).to_string(index=False))
     event_time  estimate
             -2       0.0
              0       1.0
              1       1.1
    """
    refuse_unknown(sun_abraham, cov_options)
    if control_group not in ("never_treated", "last_treated"):
        raise EvalkitError(
            f"Invalid argument control_group={control_group!r}. Expecting one of ('never_treated', "
            "'last_treated')."
        )
    covs = as_list(covariates)
    refs = sorted({int(r) for r in ([reference] if np.isscalar(reference) else reference)})
    df, rel, notes = windowed_event_sample(
        data, outcome=outcome, unit=unit, time=time, cohort=cohort, control_group=control_group, covariates=covs,
        weights=weights, cluster=cluster, leads=leads, lags=lags, bin_endpoints=bin_endpoints,
    )
    g = df["_g"].to_numpy()
    treated = ~np.isnan(rel)
    w_obs = df[weights].to_numpy(float) if weights else np.ones(len(df))
    cell = pd.DataFrame({"g": g[treated], "e": rel[treated].astype(int), "w": w_obs[treated]})
    counts = cell.groupby(["g", "e"])["w"].sum()
    for gg in sorted(cell["g"].unique()):
        have = set(counts.loc[gg].index)
        miss = [r for r in refs if r not in have]
        if miss:
            raise DesignError(
                f"cohort {gg} has no observation at reference event time(s) {miss} (no pre-treatment "
                "period to compare with). Drop that cohort or choose another reference."
            )
    cells = counts.drop([(gg, r) for gg in counts.index.get_level_values(0).unique() for r in refs])
    terms = [f"cohort::{int(gg)}:{event_term(e)}" for gg, e in cells.index]
    # integer cell keys (cohort, event time) -> column positions, without pandas indexing
    cell_g = cells.index.get_level_values(0).to_numpy().astype(np.int64)
    cell_e = cells.index.get_level_values(1).to_numpy().astype(np.int64)
    key_idx = _cell_positions(g, rel, treated, cell_g, cell_e)
    absorber, ulab, clusters = absorbed_inputs(df, unit=unit, time=time, weights=weights, cluster=cluster)
    y = df[outcome].to_numpy(float)
    post = treated & (rel >= 0)
    design = None
    if not covs:  # exclusive indicators only: no dense n x k matrix (see _indicator.py)
        design = fit_indicators(y, key_idx, terms, absorber, clusters, ulab, treated_mask=post)
    if design is None:
        yx = np.zeros((len(df), 1 + len(terms) + len(covs)), order="F")
        yx[:, 0] = y
        rows = np.nonzero(key_idx >= 0)[0]
        yx[rows, 1 + key_idx[rows]] = 1.0
        for c_i, c in enumerate(covs):
            yx[:, 1 + len(terms) + c_i] = df[c].to_numpy(float)
        design = fit_absorbed(None, yx, terms + covs, absorber, clusters, ulab, treated_mask=post,
                              what="cohort x event-time indicator or covariate")
        del yx
    # interaction weights: cohort shares of each event time's observations
    events = sorted({int(e) for e in cell_e})
    e_pos = np.searchsorted(np.array(events), cell_e)
    n_cell = cells.to_numpy(dtype=float)
    tot = np.bincount(e_pos, weights=n_cell, minlength=len(events))
    a = np.zeros((len(events), len(terms)))
    a[e_pos, np.arange(len(terms))] = n_cell / tot[e_pos]
    agg = pd.DataFrame(a, index=[event_term(e) for e in events], columns=terms)
    info = pd.DataFrame({"term": terms, "group": [int(a) for a, _ in cells.index],
                         "event_time": [int(b) for _, b in cells.index], "n": cells.to_numpy()})
    labels = pd.DataFrame({"event_time": events})
    extra = {"control_group": control_group, "cells": info, "n_units": absorber.n_units, "n_periods": absorber.n_times}
    notes.append("interaction weights: cohort shares of each event time's observations")
    return vector_result(design, list(agg.index), labels, cov_type, cov_options,
                          "Sun-Abraham interaction-weighted event study", notes, extra, refs,
                          cls=SunAbrahamResult, agg=agg)


def _cell_positions(g: np.ndarray, rel: np.ndarray, treated: np.ndarray, cell_g: np.ndarray,
                    cell_e: np.ndarray) -> np.ndarray:
    """Column of each observation's (cohort, event time) cell among the estimated cells; -1 for
    control rows and reference event times."""
    off = int(max(np.abs(cell_e).max(), np.nanmax(np.abs(rel))) + 1) if len(cell_e) else 1
    cell_key = cell_g * (2 * off + 1) + cell_e + off
    order = np.argsort(cell_key)
    key_idx = np.full(len(g), -1)
    tr = np.nonzero(treated)[0]
    if len(order) == 0:
        return key_idx
    obs_key = g[tr].astype(np.int64) * (2 * off + 1) + rel[tr].astype(np.int64) + off
    pos_sorted = np.clip(np.searchsorted(cell_key[order], obs_key), 0, len(order) - 1)
    hit = cell_key[order][pos_sorted] == obs_key
    key_idx[tr[hit]] = order[pos_sorted[hit]]
    return key_idx


@register_comparison("sun_abraham", "Sun-Abraham")
def _compare(request: CompareRequest) -> CompareRun:
    """:func:`sun_abraham` in :func:`~evalkit.did.compare`: every event time is estimated (so the
    overall ATT averages all treated cells, like CS "simple" and BJS); the table shows the window."""
    r = sun_abraham(request.data, cohort=request.cohort, control_group=request.control_group,
                    covariates=request.covariates or None, cluster=request.cluster, **request.common)
    return CompareRun(r, [(r.att().to_frame(), "overall"),
                          (request.in_window(r.to_frame()), "event_time")])
