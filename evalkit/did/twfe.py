"""Static two-way fixed effects (TWFE) regression and the canonical 2x2 difference-in-differences.

``twfe`` regresses the outcome on a treatment (any numeric regressor: on/off, staggered,
continuous) and optional covariates with unit and time effects absorbed exactly (see
:mod:`evalkit.did._fe`). ``two_by_two`` is the textbook group x post comparison, for panels or
repeated cross-sections.

Degrees-of-freedom convention of ``cov_type="clustered"`` (from the covariance registry): CR1 with
factor ``G/(G-1) * (n-1)/(n-k)`` and reference ``t(G-1)``; ``k`` follows ``small_sample=``:

* ``"fixest"`` (default): ``k`` counts the regressors and the absorbed effects not nested in the
  clusters (one kept per nested set), as R fixest / pyfixest ``ssc(fixef.K="nested")``: with unit
  and year effects clustered by unit, ``k + T`` (tested against pyfixest on the castle-doctrine
  panel).
* ``"xtreg"``: ``k`` counts the regressors only when the unit effects are nested in the clusters
  (Stata ``xtreg, fe vce(cluster unit)`` with the year effects absorbed; linearmodels
  ``PanelOLS(..., entity_effects=True, time_effects=True).fit(cov_type="clustered",
  cluster_entity=True, debiased=True, group_debias=True, auto_df=False, count_effects=False)``,
  tested to 1e-8). Standard errors smaller than fixest's by ``sqrt((n-k-T)/(n-k))``.

When the unit effects are not nested in the clusters both count every absorbed effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import DesignError, EvalkitError, SingularDesignError
from .._shared.inputs import panel_input
from .._shared.kernels import TwoWayAbsorber, codes_of
from .._shared.options import refuse_unknown
from .._shared.stats import critical_value, two_sided_pvalue
from .._shared.validation import check_columns, check_numeric_complete
from .._shared.vocabulary import keywords
from ..inference.design import LinearDesign
from ..results import TIDY_COLUMNS, ScalarEffect
from ._common import as_list, compute_inference, dof_for, prepare_panel
from ._fe import (
    check_collinear_arg,
    collinear_columns,
    dropped_note,
    fit_absorbed,
)
from ._registry import CompareRequest, CompareRun, register_comparison

CovType = Literal["auto", "unadjusted", "robust", "clustered", "cr2", "wild", "randomization"]


@dataclass(repr=False)
class TWFEResult(ScalarEffect):
    """A least-squares effect with all coefficients and a re-computable covariance.

    A scalar result of the results protocol: ``estimate``, ``std_error``, ``pvalue`` and
    ``conf_int(level)`` (a ``(low, high)`` tuple) refer to the treatment (``term``); ``params``,
    ``std_errors``, ``cov``, ``pvalues`` and ``coef_table(level)`` cover every regressor (the
    treatment first). ``plot()`` draws the treatment coefficient with its interval.
    ``with_inference`` returns a new result with another ``cov_type`` without refitting.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 10) & (df.year >= 2018)).astype(int)
    >>> df["x"] = rng.normal(0, 1, len(df))
    >>> df["y"] = 0.1 * df.unit + 1.0 * df.treated + 0.5 * df.x + rng.normal(0, 0.1, len(df))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", covariates="x",
    ...              cov_type="clustered")
    >>> r.params.round(1).to_dict()
    {'treated': 1.0, 'x': 0.5}
    >>> lo, hi = r.conf_int(0.90)
    >>> bool(lo < r.estimate < hi), r.with_inference("cr2").estimate == r.estimate
    (True, True)
    """

    coefficients: pd.Series | None = None
    covariance: pd.DataFrame | None = None
    design: LinearDesign | None = None
    cov_type: str = "clustered"
    cov_options: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> pd.Series:  # type: ignore[override]
        """Coefficients of every regressor (treatment first)."""
        return self.coefficients

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance matrix of all coefficients."""
        return self.covariance

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors of all coefficients."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.covariance.to_numpy()), 0, None)), index=self.coefficients.index)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of all coefficients."""
        return pd.Series(two_sided_pvalue(self.coefficients / self.std_errors, self.dof), index=self.coefficients.index)

    def coef_table(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table of every coefficient (TIDY columns)."""
        c = critical_value(level, self.dof)
        se = self.std_errors
        out = pd.DataFrame(
            {
                "term": list(self.coefficients.index),
                "group": np.nan,
                "time": np.nan,
                "event_time": np.nan,
                "estimate": self.coefficients.to_numpy(),
                "std_error": se.to_numpy(),
                "statistic": (self.coefficients / se).to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "conf_low": (self.coefficients - c * se).to_numpy(),
                "conf_high": (self.coefficients + c * se).to_numpy(),
            }
        )
        out.loc[out["term"] == self.term] = self.to_frame(level).to_numpy()
        return out[TIDY_COLUMNS]

    def with_inference(self, cov_type: str = "auto", **options) -> TWFEResult:
        """New result with the covariance ``cov_type`` (any registered name), without refitting.

        Parameters
        ----------
        cov_type : str
            A name from :func:`evalkit.inference.available` (default ``"auto"``, as the fit).
        **options
            Options of that covariance estimator (e.g. ``cluster=`` labels).
        """
        return _finish(self.design, self.term, cov_type, options, self.title, self.notes, self.extra)


def _finish(design: LinearDesign, term: str, cov_type: str, options: dict, title: str, notes, extra) -> TWFEResult:
    res = compute_inference(design, cov_type, options)
    names = design.names
    cov = pd.DataFrame(np.asarray(res.cov, dtype=float), index=names, columns=names)
    i = names.index(term)
    params = pd.Series(design.beta, index=names)
    se = float(np.sqrt(max(cov.iloc[i, i], 0.0)))
    override: dict[str, Any] = {}
    applies = getattr(res, "term", None) in (None, term)
    pv = res.pvalue_for(i) if applies and hasattr(res, "pvalue_for") else None
    ci = res.conf_int_for(i) if applies and hasattr(res, "conf_int_for") else None
    if pv is not None:
        override["pvalue_override"] = pv
    if ci is not None:
        override["conf_int_override"] = tuple(ci)
        if getattr(res, "conf_level", None):
            override["conf_level_override"] = float(res.conf_level)
        if applies and getattr(res, "resampling", False):  # intervals from the draws, any level
            override["resampled_by"] = res.description
            override["interval_at"] = res.interval_function(i)
    return TWFEResult(
        estimate=float(params.iloc[i]),
        std_error=se,
        inference=res.description,
        dof=dof_for(res.dof, i),
        term=term,
        title=title,
        nobs=design.nobs,
        notes=list(notes),
        extra=dict(extra),
        coefficients=params,
        covariance=cov,
        design=design,
        cov_type=cov_type,
        cov_options=dict(options),
        **override,
    )


@keywords
@panel_input
def twfe(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    covariates: str | list[str] | None = None,
    weights: str | None = None,
    cov_type: CovType | str = "auto",
    cluster: str | None = None,
    collinear: str = "raise",
    **cov_options,
) -> TWFEResult:
    """Static two-way fixed-effects regression ``y_it = a_i + g_t + b * D_it + X_it c + e_it``.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period (unbalanced panels are fine).
    outcome, unit, time : str
        Column names.
    treatment : str
        Numeric regressor of interest: a 0/1 indicator (absorbing or switching), a dose, ...
    covariates : str or list of str, optional
        Further numeric regressors (time-varying; time-invariant ones are absorbed and rejected).
    weights : str, optional
        Column of positive observation weights (weighted least squares).
    cov_type : str
        Covariance by name from the inference registry (``"unadjusted"``, ``"robust"``,
        ``"clustered"``, ``"cr2"``, ``"wild"``, ...). The default ``"auto"`` clusters by unit
        with CR1 when there are at least 30 clusters and 10 treated ones, and otherwise uses the
        method evalkit's few-cluster size study supports (see
        :func:`evalkit.inference.recommend_inference`); ``.inference`` says which and why.
    cluster : str, optional
        Cluster column (default: ``unit``). Stored on the design, so every cluster-based
        ``cov_type`` uses it.
    collinear : {"raise", "drop"}
        What to do with covariates absorbed by the fixed effects or collinear with other
        regressors. ``"raise"`` (the default: in an evaluation a collinear covariate is usually a
        specification mistake worth seeing) names them in a :class:`SingularDesignError`.
        ``"drop"`` does what fixest and Stata do: drops them in column order (the earlier of two
        collinear regressors is kept; tolerance :data:`evalkit.did._fe.COLLIN_TOL`) and lists
        them in ``notes``, ``summary()`` and ``extra["dropped"]``. The treatment is never dropped.
    **cov_options
        Options of the covariance estimator, e.g. ``small_sample="fixest"`` (default) or
        ``"xtreg"`` for the CR1 factor of ``"clustered"`` (see the module notes), ``level=`` for
        the interval of ``"wild"``.

    Returns
    -------
    TWFEResult
        ``estimate`` is the treatment coefficient; ``params`` holds every coefficient.

    Raises
    ------
    SingularDesignError
        If the treatment or a covariate is absorbed by the fixed effects or they are collinear;
        the message names the terms.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2023)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit < 10) & (df.year >= 2019)).astype(int)
    >>> df["y"] = 0.1 * df.unit + 0.2 * (df.year - 2015) + 1.0 * df.treated + rng.normal(0, 0.1, len(df))
    >>> r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", cov_type="clustered")
    >>> print(f"{r.estimate:.2f} ({r.std_error:.3f})")
    1.01 (0.024)
    """
    refuse_unknown(twfe, cov_options)
    check_collinear_arg(collinear)
    covs = as_list(covariates)
    if treatment in covs:
        raise EvalkitError(f"treatment {treatment!r} is also listed in covariates; list it once.")
    df = prepare_panel(
        data, outcome=outcome, unit=unit, time=time, numeric=[treatment, *covs], weights=weights, cluster=cluster,
        extra={"treatment": treatment, "covariates": covs}, return_codes=True,
    )
    names = [treatment, *covs]
    df, (u, t) = df
    w = df[weights].to_numpy(float) if weights else None
    absorber = TwoWayAbsorber(u, t, w)
    ulab = df[unit].to_numpy()
    clusters = df[cluster].to_numpy() if cluster else ulab
    treat = df[treatment].to_numpy(float)
    design = fit_absorbed(
        df[outcome].to_numpy(float), df[names].to_numpy(float), names, absorber, clusters,
        ulab, treated_mask=treat != 0, collinear=collinear, protect=(treatment,),
    )
    design.extra.update({"unit": ulab, "time": df[time].to_numpy(), "target_param": treatment})
    notes = [dropped_note(design.extra["dropped"])] if design.extra["dropped"] else []
    if weights:
        notes.append(f"weighted by {weights!r}")
    extra = {"n_units": absorber.n_units, "n_periods": absorber.n_times, "balanced": absorber.balanced,
             "dropped": list(design.extra["dropped"])}
    return _finish(design, treatment, cov_type, cov_options, "Two-way fixed effects (TWFE)", notes, extra)


@keywords
@panel_input
def two_by_two(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    post: str,
    covariates: str | list[str] | None = None,
    cov_type: CovType | str = "auto",
    unit: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    collinear: str = "raise",
    **cov_options,
) -> TWFEResult:
    """Canonical 2x2 difference-in-differences: ``y = a + b1 G + b2 P + d (G x P) + X c + e``.

    Parameters
    ----------
    data : DataFrame
        A panel (pass ``unit``) or repeated cross-sections (no ``unit``).
    outcome : str
        Outcome column.
    group : str
        0/1 column: 1 for the treated group.
    post : str
        0/1 column: 1 for periods after the treatment starts.
    covariates : str or list of str, optional
        Further numeric regressors.
    cov_type : str
        Covariance by name (default ``"auto"``: clustered by ``unit`` for panels, with the
        few-cluster default when clusters are few; ``"robust"`` for cross-sections without a
        cluster column).
    unit : str, optional
        Unit column for panels: the regression then absorbs unit effects (identical point
        estimate in a balanced panel, unit-clustered inference by default).
    cluster : str, optional
        Cluster column (default ``unit``).
    weights : str, optional
        Positive observation weights.
    collinear : {"raise", "drop"}
        What to do with covariates absorbed by the fixed effects or collinear with other
        regressors. ``"raise"`` (the default: in an evaluation a collinear covariate is usually a
        specification mistake worth seeing) names them in a :class:`SingularDesignError`.
        ``"drop"`` does what fixest and Stata do: drops them in column order (the earlier of two
        collinear regressors is kept; tolerance :data:`evalkit.did._fe.COLLIN_TOL`) and lists
        them in ``notes``, ``summary()`` and ``extra["dropped"]``. The DiD term and the group and
        post dummies are never dropped.
    **cov_options
        Options of the covariance estimator.

    Returns
    -------
    TWFEResult
        ``estimate`` is the DiD coefficient ``d`` (term ``"group:post"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"g": np.repeat([0, 1], 40), "post": np.tile(np.repeat([0, 1], 20), 2)})
    >>> df["y"] = 1.0 + 0.5 * df.g + 0.3 * df.post + 2.0 * df.g * df.post + rng.normal(0, 0.1, 80)
    >>> r = did.two_by_two(df, outcome="y", group="g", post="post", cov_type="robust")
    >>> print(f"{r.estimate:.2f}")
    1.97
    """
    refuse_unknown(two_by_two, cov_options)
    check_collinear_arg(collinear)
    covs = as_list(covariates)
    check_columns(data, {"outcome": outcome, "group": group, "post": post, "covariates": covs,
                         "unit": unit, "cluster": cluster, "weights": weights})
    check_numeric_complete(data, [outcome, group, post, *covs] + ([weights] if weights else []))
    df = data.reset_index(drop=True)
    for c in (group, post):
        vals = set(np.unique(df[c].to_numpy(float)))
        if not vals <= {0.0, 1.0}:
            raise EvalkitError(f"column {c!r} must be 0/1; found values {sorted(vals)[:10]}.")
    gg, pp = df[group].to_numpy(float), df[post].to_numpy(float)
    cells = {(a, b) for a, b in zip(gg, pp, strict=True)}
    if len(cells) < 4:
        missing = {(a, b) for a in (0.0, 1.0) for b in (0.0, 1.0)} - cells
        raise DesignError(
            f"a 2x2 DiD needs all four group x post cells; missing (group, post) = {sorted(missing)}."
        )
    y = df[outcome].to_numpy(float)
    w = df[weights].to_numpy(float) if weights else np.ones(len(df))
    term = "group:post"
    notes: list[str] = []
    if unit is not None:
        if df[unit].isna().any():
            raise EvalkitError(f"unit column {unit!r} has missing values.")
        gu = df.groupby(unit)[group].nunique()
        if (gu > 1).any():
            raise EvalkitError(f"group {group!r} changes within unit(s) {list(gu.index[gu > 1][:10])}.")
        # unit effects absorb the group dummy; time dimension is post (two periods)
        u, _ = codes_of(df[unit])
        absorber = TwoWayAbsorber(u, pp.astype(np.int64), w if weights else None)
        names = [term, *covs]
        x = np.column_stack([gg * pp] + [df[c].to_numpy(float) for c in covs])
        ulab = df[unit].to_numpy()
        clusters = df[cluster].to_numpy() if cluster else ulab
        design = fit_absorbed(y, x, names, absorber, clusters, ulab, treated_mask=gg * pp != 0,
                              collinear=collinear, protect=(term,))
        design.extra["target_param"] = term
        dropped = design.extra["dropped"]
        notes.append("panel: unit effects absorbed")
    else:
        names = ["const", group, post, term, *covs]
        x = np.column_stack([np.ones(len(df)), gg, pp, gg * pp] + [df[c].to_numpy(float) for c in covs])
        sw = np.sqrt(w)
        xw, yw = x * sw[:, None], y * sw
        dropped = []
        if collinear == "drop":
            xw, names, dropped = _drop_plain(xw, names, protect=("const", group, post, term))
        _rank_plain(xw, names)
        beta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
        clusters = df[cluster].to_numpy() if cluster else None
        design = LinearDesign(
            X=xw, resid=yw - xw @ beta, beta=beta, names=names, y=yw, clusters=clusters,
            df_absorbed=0, fe_nested_in_cluster=False, extra={"target_param": term},
        )
        notes.append("repeated cross-sections: pooled regression with group and post dummies")
        if cov_type in ("clustered", "auto") and clusters is None and "clusters" not in cov_options:
            cov_type = "robust"
            notes.append("no unit or cluster column: heteroskedasticity-robust (HC1) inference")
    if dropped:
        notes.append(dropped_note(dropped))
    return _finish(design, term, cov_type, cov_options, "2x2 difference-in-differences", notes,
                   {"dropped": list(dropped)})


def _drop_plain(xw: np.ndarray, names: list[str], protect: tuple[str, ...]):
    """``collinear="drop"`` without absorbed effects: drop in column order, never ``protect``."""
    norms = np.sqrt((xw**2).sum(axis=0))
    mask = collinear_columns(xw, norms)
    lost = [n for n, m in zip(names, mask, strict=True) if m and n in protect]
    if lost:
        raise SingularDesignError(f"{lost} cannot be estimated (collinear with the regressors before them).")
    return xw[:, ~mask], [n for n, m in zip(names, mask, strict=True) if not m], [
        n for n, m in zip(names, mask, strict=True) if m]


def _rank_plain(xw: np.ndarray, names: list[str]) -> None:
    import scipy.linalg as sla

    norms = np.sqrt((xw**2).sum(axis=0))
    zero = [n for n, v in zip(names, norms, strict=True) if v == 0]
    if zero:
        raise SingularDesignError(f"regressor(s) {zero} are identically zero in the sample.")
    _, r, piv = sla.qr(xw / norms, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > 1e-10 * d[0]).sum())
    if rank < len(names):
        raise SingularDesignError(
            f"the regressors are collinear: {[names[i] for i in piv[rank:]]} are combinations of "
            f"{[names[i] for i in piv[:rank]]}. Drop the redundant covariates."
        )


__all__ = ["TWFEResult", "twfe", "two_by_two"]


@register_comparison("twfe", "TWFE")
def _compare(request: CompareRequest) -> CompareRun:
    """:func:`twfe` in :func:`~evalkit.did.compare`: the static effect of the absorbing treatment
    built from the cohort column."""
    data, cohort, time = request.data, request.cohort, request.time
    d = data.assign(_treated=((data[cohort] > 0) & (data[time] >= data[cohort])).astype(float))
    r = twfe(d, treatment="_treated", covariates=request.covariates or None, cluster=request.cluster,
             **request.common)
    f = r.to_frame()
    f["term"] = "ATT"
    return CompareRun(r, [(f, "overall")])
