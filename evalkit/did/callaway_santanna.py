"""Callaway and Sant'Anna (2021) group-time average treatment effects and their aggregations.

``callaway_santanna`` estimates ATT(g,t), the average effect in period ``t`` for the cohort first
treated in period ``g``, by a two-group two-period DiD of cohort ``g`` against never-treated or
not-yet-treated units, with outcome regression, inverse probability weighting or the doubly robust
estimator of Sant'Anna and Zhao (2020) when covariates are given. Results follow R ``did``
(``att_gt`` then ``aggte``): the same cells, base periods, comparison groups, aggregation weights
and influence functions, so estimates and analytic standard errors agree with R ``did`` 2.x.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
*Journal of Econometrics* 225(2), 200-230.
Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators.
*Journal of Econometrics* 219(1), 101-122.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from .._maketables import DelegatingMaketables
from .._shared.exceptions import EvalkitError, EvalkitWarning, InferenceError, SingularDesignError
from .._shared.future import warn_renamed
from .._shared.inputs import panel_input
from .._shared.kernels import multiplier_draws, segment_sums
from .._shared.stats import check_level
from .._shared.validation import check_option
from .._shared.vocabulary import DEFAULT_SEED, keywords
from .._summary import Summary
from ..inference.precision import not_estimable_reason, warn_not_estimable
from ..results import EffectVector, Result, ScalarEffect
from . import _cs_inference as inf
from ._cs_cells import estimate_cells, period_text
from ._cs_data import CSData, prepare
from ._registry import CompareRequest, CompareRun, register_comparison

__all__ = ["AggregatedEffects", "CSResult", "GroupTimeEffects", "callaway_santanna"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
Method = Literal["dr", "ipw", "reg", "dr_improved"]
BasePeriod = Literal["varying", "universal"]
AggKind = Literal["simple", "group", "calendar", "dynamic"]


class GroupTimeEffects(EffectVector):
    """ATT(g,t): one row per cohort ``group`` and period ``time`` (``event_time = time - group``).

    A vector result of the results protocol (``CSResult.att_gt``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> cs = did.callaway_santanna(df, outcome="y", unit="unit", time="year", cohort="cohort")
    >>> att = cs.att_gt
    >>> att.to_frame()[["group", "time"]].iloc[0].astype(int).tolist(), len(att.params)
    ([2018, 2016], 12)
    """

    inference_fixed: ClassVar[str] = (
        "Callaway-Sant'Anna inference comes from the influence functions (analytic) or the "
        "multiplier bootstrap; choose it with callaway_santanna(..., bootstrap=True, cluster=...) "
        "or aggregate(..., bootstrap=True)"
    )


@dataclass(repr=False)
class AggregatedEffects(EffectVector):
    """Aggregated effects (by group, calendar time or event time) with their ``overall`` average.

    ``overall`` is a :class:`~evalkit.results.ScalarEffect`; ``cov`` is the joint covariance of
    the effects (from their influence functions), as needed by HonestDiD-type sensitivity analysis.
    A vector result of the results protocol; the dynamic aggregation's ``pretrend_test()`` tests
    its pre-treatment event times (a normalised reference, at zero, left out).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> cs = did.callaway_santanna(df, outcome="y", unit="unit", time="year", cohort="cohort")
    >>> dyn = cs.aggregate("dynamic")
    >>> dyn.labels["event_time"].astype(int).tolist()
    [-4, -3, -2, -1, 0, 1, 2, 3]
    >>> print(f"{dyn.overall.estimate:.1f}", dyn.pretrend_test()["df"])
    1.1 4
    """

    inference_fixed: ClassVar[str] = GroupTimeEffects.inference_fixed
    overall: ScalarEffect | None = None

    def summary(self, level: float = 0.95) -> Summary:
        """Readable text: the overall effect, then the table."""
        head = self.overall.summary(level) if self.overall is not None else ""
        return Summary(head + "\n\n" + super().summary(level))


@dataclass
class _Fit:
    data: CSData
    groups: np.ndarray  # per cell
    times: np.ndarray  # per cell
    att: np.ndarray
    infl: np.ndarray  # n x K
    pg: np.ndarray  # per cohort (data.groups)
    basis_sums: np.ndarray  # n_clusters x (K + n_cohorts)
    gram: np.ndarray  # covariance of the basis: S'S / n^2
    options: dict[str, Any] = field(default_factory=dict)


def _warn_small_cohorts(d: CSData, covariates: list[str], control_group: str) -> None:
    """Warn (as R did) about cohorts with fewer than ``len(covariates) + 5`` units."""
    need = len(covariates) + 5
    cohorts = np.concatenate([[0.0], d.groups])
    sizes = np.array([(d.G == g).sum() for g in cohorts])
    small = [f"{period_text(g) if g else 'never treated (0)'}: {s} unit(s)" for g, s in zip(cohorts, sizes) if s < need]
    if small:
        warnings.warn(
            f"Small cohorts (fewer than {need} units for {len(covariates)} covariate(s)): "
            + "; ".join(small)
            + ". Their ATT(g,t) are imprecise; covariate models may fail for them.",
            EvalkitWarning,
            stacklevel=3,
        )
        if sizes[0] < need and control_group == "never_treated" and sizes[0] <= len(covariates) + 1:
            raise SingularDesignError(
                f"The never-treated group has {sizes[0]} unit(s), too few for "
                f"{len(covariates)} covariate(s); use control_group='not_yet_treated'."
            )


def _check_options(control_group, method, panel, allow_unbalanced, base_period, bootstrap_weights,
                   level, n_draws) -> None:
    """Refuse option values :func:`callaway_santanna` does not know, naming the allowed ones."""
    check_option("control_group", control_group, ("never_treated", "not_yet_treated"))
    check_option("method", method, ("dr", "ipw", "reg", "dr_improved"))
    if method == "dr_improved" and (not panel or allow_unbalanced):
        raise EvalkitError(
            "method='dr_improved' is implemented for balanced panels only; use method='dr' (the "
            "locally efficient doubly robust estimator) for repeated cross-sections or "
            "unbalanced panels."
        )
    check_option("base_period", base_period, ("varying", "universal"))
    check_option("bootstrap_weights", bootstrap_weights, ("mammen", "rademacher"))
    check_option("panel", panel, (True, False))
    check_level(level)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws == 1 or n_draws < 0:
        raise EvalkitError(
            f"n_draws must be 0 (analytic inference) or an integer >= 2 (multiplier bootstrap "
            f"draws), got {n_draws!r}."
        )


def _influence_basis(d: CSData, cg, ct, att, basis):
    """Drop cells without an estimate; fill the cohort-share columns of the influence basis.

    The cohort-share columns ``w_i 1{G_i = g} - p_g`` carry the estimation effect of the
    aggregation weights. Returns the kept cells, the basis, the shares ``p_g``, the basis summed
    within clusters and its analytic covariance.
    """
    K = len(att)
    keep = np.isfinite(att)
    if not keep.all():
        cols = np.concatenate([np.nonzero(keep)[0], np.arange(K, basis.shape[1])])
        cg, ct, att, basis = cg[keep], ct[keep], att[keep], basis[:, cols]
        K = len(att)
    pg = np.empty(len(d.groups))
    for k, gv in enumerate(d.groups):
        col = basis[:, K + k]
        np.multiply(d.w, d.G == gv, out=col)
        pg[k] = col.mean()
        col -= pg[k]
    sums = basis if d.cluster is None else segment_sums(basis, d.cluster, int(d.cluster.max()) + 1)
    return cg, ct, att, basis, pg, sums, inf.analytic_cov(sums, d.n)


#: What the retired ``aggregate(bootstrap=True)`` meant: the fit's draws, or 999 for an analytic fit.
_FIT_OR_999 = object()


def _retired_bootstrap(old: dict) -> dict:
    """``bootstrap=True/False`` and ``n_bootstrap=`` (retired) as ``n_draws`` (0 = analytic)."""
    return {"n_draws": int(old.get("n_bootstrap", 999)) if old.get("bootstrap", False) else 0}


@keywords(bootstrap="n_draws", n_bootstrap="n_draws", convert=_retired_bootstrap)
@panel_input
def callaway_santanna(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str | None,
    time: str,
    cohort: str,
    control_group: ControlGroup = "never_treated",
    method: Method = "dr",
    covariates: list[str] | None = None,
    anticipation: int = 0,
    base_period: BasePeriod = "varying",
    panel: bool = True,
    weights: str | None = None,
    cluster: str | None = None,
    n_draws: int = 0,
    bootstrap_weights: Literal["mammen", "rademacher"] = "mammen",
    seed: int | None = DEFAULT_SEED,
    level: float = 0.95,
    allow_unbalanced: bool = False,
) -> CSResult:
    r"""Group-time average treatment effects of Callaway and Sant'Anna (2021).

    For each cohort :math:`g` (units first treated in period :math:`g`) and period :math:`t`,

    .. math:: ATT(g,t) = E[Y_t - Y_{b} \mid G = g] - E[Y_t - Y_{b} \mid C],

    with base period :math:`b = g - \delta - 1` (the last period before treatment, :math:`\delta` =
    ``anticipation``) for post-treatment cells and, with ``base_period="varying"``,
    :math:`b = t - 1` for pre-treatment cells; the comparison group :math:`C` is the never-treated
    units or the units not yet treated by :math:`\max(t, b) + \delta`. Covariates enter through
    outcome regression, inverse probability weighting or the doubly robust estimator.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per unit and period (panel) or per observation (``panel=False``).
    outcome, unit, time, cohort : str
        Column names. ``cohort`` holds the first treated period and **0 for never-treated units**
        (not NaN); it must be constant within a unit. Cohorts after the last period count as never
        treated. ``unit`` may be None for repeated cross-sections.
    control_group : {"never_treated", "not_yet_treated"}
        Comparison units. Without never-treated units, ``"not_yet_treated"`` uses the last cohort as
        comparison and drops the periods from its treatment on (as R ``did``).
    method : {"dr", "ipw", "reg", "dr_improved"}
        Doubly robust (default; logit propensity score by maximum likelihood and OLS outcome
        regression, R did's ``est_method="dr"``), normalised inverse probability weighting,
        outcome regression, or the improved doubly robust estimator for balanced panels
        (inverse-probability-tilting propensity score and odds-weighted least squares; R DRDID's
        ``drdid_imp_panel``). Without covariates all four coincide.
    covariates : list of str, optional
        Covariates (values from the earlier of the two periods of each cell in panels).
    anticipation : int
        Number of periods before ``g`` in which units may already react.
    base_period : {"varying", "universal"}
        Pre-treatment cells compare consecutive periods ("varying") or every period with
        ``g - anticipation - 1`` ("universal", whose reference cell is reported as 0).
    panel : bool
        False for repeated cross-sections: each row is an independent observation (``unit`` is
        not used; pass ``cluster=`` to allow dependence between rows). Cells use the rows of
        their two periods and the repeated cross-section estimators.
    weights : str, optional
        Sampling-weight column (constant within unit); normalised to mean one.
    cluster : str, optional
        Cluster column (constant within unit, e.g. prefecture) for analytic and bootstrap inference.
        Analytic: influence functions summed within clusters, ``V = S'S / n^2`` (no small-sample
        factor; equals R did's analytic s.e. when clusters are units). Bootstrap: one multiplier
        per cluster.
    n_draws : int
        0 (default): analytic standard errors and pointwise intervals. A positive number: multiplier
        bootstrap with that many draws (at least 2; R ``did`` uses 999) for the standard errors and
        simultaneous (sup-t) bands.
    bootstrap_weights : {"mammen", "rademacher"}
        Multiplier distribution (Mammen as R ``did``).
    seed : int, optional
        Seed of the bootstrap (default :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    level : float
        Confidence level of intervals and of the uniform bands.
    allow_unbalanced : bool
        Keep units not observed in every period (R ``did``'s ``allow_unbalanced_panel``): each cell
        uses the rows of its two periods with the repeated cross-section estimators and influence
        functions summed by unit. If False, incomplete units are dropped with a warning.

    Returns
    -------
    CSResult
        ``.att_gt`` (a :class:`GroupTimeEffects`), ``.aggregate(kind)``, ``to_frame()``,
        ``summary()`` and ``plot()``.

    Raises
    ------
    NoControlUnitsError
        ``control_group="never_treated"`` without never-treated units.
    SingularDesignError
        A cohort too small for its covariates (the message names cohort and covariates).
    PanelDataError, EvalkitError
        Malformed inputs (the messages name rows, units and the fix).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> r = did.callaway_santanna(df, outcome="y", unit="unit", time="year", cohort="cohort")
    >>> overall = r.aggregate("simple")
    >>> print(f"{overall.to_frame()['estimate'].iloc[0]:.1f}")
    1.1
    """
    _check_options(control_group, method, panel, allow_unbalanced, base_period, bootstrap_weights,
                   level, n_draws)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    options = dict(method=method, control_group=control_group, anticipation=int(anticipation),
                   base_period=base_period, covariates=covariates, n_draws=int(n_draws),
                   bootstrap_weights=bootstrap_weights, seed=seed,
                   level=level, cluster=cluster, outcome=outcome)
    d = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, covariates=covariates,
                weights=weights, cluster=cluster, panel=panel, allow_unbalanced=allow_unbalanced,
                anticipation=int(anticipation), control_group=control_group)
    _warn_small_cohorts(d, covariates, control_group)
    cg, ct, att, basis = estimate_cells(d, method=method, control_group=control_group,
                                        anticipation=int(anticipation), base_period=base_period,
                                        covariates=covariates)
    cg, ct, att, basis, pg, sums, gram = _influence_basis(d, cg, ct, att, basis)
    reason = not_estimable_reason(sums.shape[0])
    if reason is not None:  # no false precision: the influence-function sums cancel
        warn_not_estimable("callaway_santanna", reason)
        gram = np.full_like(gram, np.nan)
    fit = _Fit(data=d, groups=cg, times=ct, att=att, infl=basis[:, :len(att)], pg=pg,
               basis_sums=sums, gram=gram, options=options)
    return CSResult(fit)


class CSResult(DelegatingMaketables, Result):
    """Result of :func:`callaway_santanna`.

    A vector result of the results protocol over the ATT(g,t): ``params``, ``std_errors``,
    ``pvalues``, ``cov``, ``conf_int(level, uniform=False)`` and ``to_frame()`` are those of
    :attr:`att_gt`; ``summary()``, ``plot()``; ``pretrend_test()`` is the Wald pre-test of all
    pre-treatment ATT(g,t) (R did's); :meth:`aggregate` gives the simple, group, calendar and
    dynamic aggregations. ``with_inference`` is not available (see :attr:`inference_fixed`).

    Attributes
    ----------
    att_gt : GroupTimeEffects
        ATT(g,t) with labels ``group``, ``time``, ``event_time`` and the joint covariance.
    n_units : int
        Number of units (observations for repeated cross-sections) used.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> cs = did.callaway_santanna(df, outcome="y", unit="unit", time="year", cohort="cohort")
    >>> cs.params.index[:2].tolist(), cs.result_kind
    (['ATT(2018,2016)', 'ATT(2018,2017)'], 'vector')
    >>> print(f"{cs.aggregate('simple').estimate:.1f}", cs.pretrend_test()["df"])
    1.1 6
    """

    result_kind: ClassVar[str] = "vector"
    inference_fixed: ClassVar[str] = GroupTimeEffects.inference_fixed
    title = "Callaway-Sant'Anna group-time effects"

    def __init__(self, fit: _Fit):
        self._fit = fit
        self._draws: np.ndarray | None = None
        self._draw_cov: np.ndarray | None = None
        d = fit.data
        o = fit.options
        self.n_units = d.n
        self.n_clusters = int(fit.basis_sums.shape[0])
        self.notes = list(d.notes)
        K = len(fit.att)
        coef = np.vstack([np.eye(K), np.zeros((len(d.groups), K))])
        labels = pd.DataFrame(
            {"group": fit.groups, "time": fit.times, "event_time": fit.times - fit.groups}
        )
        terms = [f"ATT({period_text(g)},{period_text(t)})" for g, t in zip(fit.groups, fit.times)]
        self.att_gt = self._vector(
            fit.att, coef, labels, terms, "Group-time average treatment effects ATT(g,t)",
            n_draws=o["n_draws"],
        )

    # ------------------------------------------------------------------ inference helpers
    def _inference_text(self, n_draws: int) -> str:
        o = self._fit.options
        clus = f"clustered by {o['cluster']}" if o["cluster"] else "by unit"
        if n_draws:
            return (
                f"multiplier bootstrap ({n_draws} {o['bootstrap_weights']} draws, {clus}); "
                "uniform bands by sup-t"
            )
        return f"analytic influence function ({clus})"

    def _boot_draws(self, n_draws: int) -> np.ndarray:
        if self._draws is None or self._draws.shape[0] != n_draws:
            o = self._fit.options
            self._draw_cov = None
            self._draws = multiplier_draws(
                self._fit.basis_sums,
                self._fit.data.n,
                n_draws,
                o["seed"],
                o["bootstrap_weights"],
            )
        return self._draws

    def _boot_draw_cov(self, n_draws: int) -> np.ndarray:
        draws = self._boot_draws(n_draws)
        if self._draw_cov is None:
            self._draw_cov = np.atleast_2d(np.cov(draws, rowvar=False))
        return self._draw_cov

    def _moments(self, coef: np.ndarray, n_draws: int):
        """Covariance (and uniform critical value) of ``basis @ coef``; ``n_draws`` 0 = analytic."""
        cov = coef.T @ self._fit.gram @ coef
        if not n_draws or np.isnan(self._fit.gram).all():  # NaN: variance not estimable
            return cov, None, None
        draws = self._boot_draws(n_draws) @ coef
        se, crit, sup = inf.bootstrap_summary(draws, self._fit.options["level"], return_sup=True)
        return inf.bootstrap_cov(coef.T @ self._boot_draw_cov(n_draws) @ coef, se), crit, sup

    def _vector(self, est, coef, labels, terms, title, n_draws, cls=GroupTimeEffects, **kw):
        cov, crit, sup = self._moments(coef, n_draws)
        o = self._fit.options
        return cls(
            params=pd.Series(est, index=terms, dtype=float),
            cov=pd.DataFrame(cov, index=terms, columns=terms),
            inference=self._inference_text(n_draws),
            labels=labels.reset_index(drop=True),
            uniform_crit=crit,
            uniform_level=o["level"],
            uniform_draws=sup,
            title=title,
            nobs=self._fit.data.n_obs,
            notes=list(self.notes),
            extra={"n_units": self.n_units, "n_clusters": self.n_clusters, "basis_coef": coef, **o},
            **kw,
        )

    def _scalar(self, est, coef, term, title, n_draws):
        cov, _, _ = self._moments(coef[:, None], n_draws)
        return ScalarEffect(
            estimate=float(est),
            std_error=float(np.sqrt(max(cov[0, 0], 0.0))),
            inference=self._inference_text(n_draws),
            term=term,
            title=title,
            nobs=self._fit.data.n_obs,
            notes=list(self.notes),
            extra={"n_units": self.n_units, "n_clusters": self.n_clusters, "basis_coef": coef,
                   "outcome": self._fit.options["outcome"], "cluster": self._fit.options["cluster"],
                   "inference_fixed": GroupTimeEffects.inference_fixed},
        )

    # ------------------------------------------------------------------ aggregation
    def _weighted(self, keep: np.ndarray):
        """pg-weighted average of the ATT(g,t) in ``keep`` with the cohort-share estimation effect."""
        f = self._fit
        K = len(f.att)
        gi = np.searchsorted(f.data.groups, f.groups[keep])
        pgk = f.pg[gi]
        P = pgk.sum()
        a = pgk / P
        est = float(a @ f.att[keep])
        coef = np.zeros(K + len(f.data.groups))
        coef[np.nonzero(keep)[0]] = a
        # estimation effect of the weights (R did's ``wif``): d/dpg of sum pg att / sum pg
        np.add.at(coef, K + gi, (f.att[keep] - est) / P)
        return est, coef

    @keywords(bootstrap="n_draws", convert=lambda old: {
        "n_draws": _FIT_OR_999 if old["bootstrap"] else 0})
    def aggregate(
        self,
        kind: AggKind = "simple",
        *,
        min_e: float | None = None,
        max_e: float | None = None,
        balance_e: int | None = None,
        n_draws: int | None = None,
    ) -> ScalarEffect | AggregatedEffects:
        """Aggregate ATT(g,t) as R ``did``'s ``aggte``.

        Parameters
        ----------
        kind : {"simple", "group", "calendar", "dynamic"}
            ``simple``: average of post-treatment ATT(g,t) weighted by cohort size; ``group``: per
            cohort average over its post periods, overall = cohort-size weighted; ``calendar``: per
            period average over treated cohorts, overall = mean over periods; ``dynamic``: per event
            time ``e = t - g`` (cohort-size weighted), overall = mean over ``e >= 0``.
        min_e, max_e : float, optional
            Event-time window (``dynamic``; ``max_e`` also limits ``simple`` and ``group``).
        balance_e : int, optional
            ``dynamic`` only: keep cohorts observed for at least ``balance_e`` periods after
            treatment, so the composition does not change over ``e <= balance_e``.
        n_draws : int, optional
            Multiplier bootstrap draws (0 = analytic inference); default as in the fit. The draws
            use the fit's seed and multiplier distribution.

        Returns
        -------
        ScalarEffect or AggregatedEffects
            A scalar for ``simple``; otherwise a vector with ``.overall``, ``.cov`` and labels.
        """
        check_option("kind", kind, ("simple", "group", "calendar", "dynamic"))
        if balance_e is not None and kind != "dynamic":
            raise EvalkitError("balance_e applies only to kind='dynamic'.")
        f = self._fit
        bs = f.options["n_draws"] if n_draws is None else n_draws
        if bs is _FIT_OR_999:  # retired bootstrap=True: the fit's draws, else R did's 999
            bs = f.options["n_draws"] or 999
        if isinstance(bs, bool) or not isinstance(bs, int | np.integer) or bs == 1 or bs < 0:
            raise EvalkitError(f"n_draws must be 0 (analytic) or an integer >= 2, got {n_draws!r}.")
        g, t = f.groups, f.times
        e = t - g
        lo = -np.inf if min_e is None else min_e
        hi = np.inf if max_e is None else max_e
        post = (g <= t) & (t <= g + hi)
        K = len(f.att)
        nb = K + len(f.data.groups)
        if kind == "simple":
            if not post.any():
                raise EvalkitError("No post-treatment ATT(g,t) to aggregate.")
            est, coef = self._weighted(post)
            return self._scalar(est, coef, "ATT", "Callaway-Sant'Anna: overall ATT (simple)", bs)
        rows, coefs, labels = [], [], []
        if kind == "group":
            for gv in f.data.groups:
                m = post & (g == gv)
                if not m.any():
                    continue
                c = np.zeros(nb)
                c[np.nonzero(m)[0]] = 1.0 / m.sum()
                rows.append(float(f.att[m].mean()))
                coefs.append(c)
                labels.append({"group": gv, "time": np.nan, "event_time": np.nan})
            est_g = np.array(rows)
            gi = np.searchsorted(f.data.groups, [lab["group"] for lab in labels])
            pg = f.pg[gi]
            P = pg.sum()
            overall = float(pg @ est_g / P)
            oc = np.array(coefs).T @ (pg / P)
            np.add.at(oc, K + gi, (est_g - overall) / P)
            terms = [f"ATT(g={period_text(lab['group'])})" for lab in labels]
            title = "Callaway-Sant'Anna: ATT by cohort"
        elif kind == "calendar":
            for tv in np.unique(t[t >= f.data.groups.min()]):
                m = (t == tv) & (g <= t)
                if not m.any():
                    continue
                est, c = self._weighted(m)
                rows.append(est)
                coefs.append(c)
                labels.append({"group": np.nan, "time": tv, "event_time": np.nan})
            overall = float(np.mean(rows))
            oc = np.array(coefs).mean(axis=0)
            terms = [f"ATT(t={period_text(lab['time'])})" for lab in labels]
            title = "Callaway-Sant'Anna: ATT by calendar period"
        else:
            incl = np.ones(K, dtype=bool)
            eseq = np.unique(e)
            if balance_e is not None:
                tmax, tmin = f.data.times.max(), f.data.times.min()
                incl = (tmax - g) >= balance_e
                eseq = np.unique(e[incl])
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
            eseq = eseq[(eseq >= lo) & (eseq <= hi)]
            for ev in eseq:
                m = (e == ev) & incl
                if not m.any():
                    continue
                est, c = self._weighted(m)
                rows.append(est)
                coefs.append(c)
                labels.append({"group": np.nan, "time": np.nan, "event_time": ev})
            evs = np.array([lab["event_time"] for lab in labels])
            pos = evs >= 0
            if not pos.any():
                raise EvalkitError("No event time >= 0 in the window: widen min_e/max_e.")
            overall = float(np.mean(np.array(rows)[pos]))
            oc = np.array(coefs)[pos].mean(axis=0)
            terms = [f"ATT(e={period_text(v)})" for v in evs]
            title = "Callaway-Sant'Anna: ATT by event time"
        if not rows:
            raise EvalkitError(f"No ATT(g,t) to aggregate for kind={kind!r}.")
        coef = np.array(coefs).T
        lab = pd.DataFrame(labels)
        vec = self._vector(np.array(rows), coef, lab, terms, title, bs, cls=AggregatedEffects)
        vec.overall = self._scalar(overall, oc, "ATT", title + " (overall)", bs)
        if kind == "dynamic" and f.options["base_period"] == "universal":
            vec.reference = [float(-1 - f.options["anticipation"])]
        return vec

    # ------------------------------------------------------------------ results protocol
    @property
    def params(self) -> pd.Series:
        """ATT(g,t) estimates (``att_gt.params``)."""
        return self.att_gt.params

    @property
    def std_errors(self) -> pd.Series:
        """ATT(g,t) standard errors (``att_gt.std_errors``)."""
        return self.att_gt.std_errors

    @property
    def pvalues(self) -> pd.Series:
        """ATT(g,t) pointwise p-values (``att_gt.pvalues``)."""
        return self.att_gt.pvalues

    @property
    def cov(self) -> pd.DataFrame:
        """Joint covariance of the ATT(g,t) (``att_gt.cov``)."""
        return self.att_gt.cov

    def conf_int(self, level: float = 0.95, uniform: bool = False) -> pd.DataFrame:
        """ATT(g,t) intervals (columns ``lower``, ``upper``), pointwise or simultaneous."""
        return self.att_gt.conf_int(level, uniform=uniform)

    def pretest(self) -> dict[str, float]:
        """Deprecated name of :meth:`pretrend_test` (removed in 0.3.0)."""
        warn_renamed("CSResult.pretest()", "CSResult.pretrend_test()")
        return self.pretrend_test()

    def pretrend_test(self) -> dict[str, float]:
        """Wald pre-test of parallel trends: all pre-treatment ATT(g,t) equal zero.

        The chi-square statistic ``att_pre' V_pre^{-1} att_pre`` with the analytic covariance of the
        pre-treatment cells (R did's "P-value for pre-test of parallel trends assumption"); cells
        with zero variance (universal-base reference cells) are left out.

        Returns
        -------
        dict
            ``statistic``, ``df`` and ``p_value``.

        Raises
        ------
        InferenceError
            The covariance of the pre-treatment cells is singular (small cohorts with many
            pre-treatment periods); test the dynamic aggregation's pre-periods instead.
        """
        f = self._fit
        pre = np.nonzero((f.times < f.groups) & (np.diag(f.gram)[: len(f.att)] > 0))[0]
        if len(pre) == 0:
            raise EvalkitError("No pre-treatment ATT(g,t) to test (no cohort has a pre-period cell).")
        b = f.att[pre]
        v = f.gram[np.ix_(pre, pre)]
        rank = int(np.linalg.matrix_rank(v, hermitian=True))
        if rank < len(pre):
            # R did also refuses ("singular covariance matrix"); solve() would return garbage
            raise InferenceError(
                f"The covariance of the {len(pre)} pre-treatment ATT(g,t) has rank {rank}: the "
                "cohorts are too small for this many pre-treatment cells, so no Wald pre-test of "
                "all cells exists. Test the pre-treatment event times of aggregate('dynamic') "
                "instead (EffectVector.wald_test on the terms with event_time < 0)."
            )
        stat = float(b @ np.linalg.solve(v, b))
        from scipy import stats

        return {"statistic": stat, "df": len(pre), "p_value": float(stats.chi2.sf(stat, len(pre)))}

    def influence_function(self, effects: ScalarEffect | EffectVector | None = None) -> pd.DataFrame:
        """Unit-level influence functions of ``effects`` (ATT(g,t) when None).

        Scaled as R ``did``: ``estimate - truth ~ mean over units of the column``, so the analytic
        covariance is ``IF' IF / n**2`` (cluster sums first when clustered). Rows are units (rows
        of the data for repeated cross-sections), columns the effects' terms.

        Parameters
        ----------
        effects : ScalarEffect or EffectVector, optional
            ``self.att_gt`` or a result of :meth:`aggregate` of this fit.
        """
        effects = self.att_gt if effects is None else effects
        coef = effects.extra.get("basis_coef") if hasattr(effects, "extra") else None
        if coef is None:
            raise EvalkitError("effects must be att_gt or a result of aggregate() of this fit.")
        coef = coef if coef.ndim == 2 else coef[:, None]
        f = self._fit
        basis = np.hstack([f.infl, (f.data.G[:, None] == f.data.groups[None, :]) * f.data.w[:, None] - f.pg])
        terms = list(effects.params.index)
        return pd.DataFrame(basis @ coef, index=pd.Index(f.data.unit_ids, name="unit"), columns=terms)

    # ------------------------------------------------------------------ rendering
    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table of ATT(g,t) (see :meth:`EffectVector.to_frame`)."""
        return self.att_gt.to_frame(level)

    def summary(self, level: float = 0.95) -> Summary:
        """ATT(g,t) table and the simple aggregate."""
        o = self._fit.options
        head = (
            f"Callaway-Sant'Anna ({o['method']}, {o['control_group'].replace('_', '-')} controls, "
            f"{o['base_period']} base period, anticipation {o['anticipation']}); "
            f"{self.n_units} units"
        )
        return Summary(head + "\n\n" + self.aggregate("simple").summary(level) + "\n\n"
                       + self.att_gt.summary(level))

    def __repr__(self) -> str:
        return f"<CSResult: {len(self._fit.att)} ATT(g,t), {self.n_units} units>"

    def _repr_html_(self) -> str:
        return self.att_gt._repr_html_()

    def _maketables_result(self) -> ScalarEffect:
        """In a maketables ``ETable`` a CS fit shows its overall (``simple``) ATT."""
        return self.aggregate("simple")

    def plot(self, ax=None, **kwargs):
        """Plot ATT(g,t) (pointwise and uniform bands); see :meth:`EffectVector.plot` (labels in
        the language set by ``report.use()``, else English)."""
        return self.att_gt.plot(ax=ax, **kwargs)


@register_comparison("callaway_santanna", "Callaway-Sant'Anna")
def _compare(request: CompareRequest) -> CompareRun:
    """:func:`callaway_santanna` in :func:`~evalkit.did.compare`: the universal base period (so
    the pre-periods are relative to event time -1 like the other estimators) unless
    ``cs_options`` says otherwise; the simple aggregate and the dynamic effects in the window."""
    opts = {"control_group": "never_treated" if request.control_group == "never_treated" else "not_yet_treated",
            "base_period": "universal"}
    opts.update(request.cs_options or {})
    normalisation = None
    if opts["base_period"] != "universal":
        normalisation = (
            f"Callaway-Sant'Anna pre-periods use base_period={opts['base_period']!r} (each "
            "pre-period against the one before), not event time -1 like the other "
            "estimators: compare its pre-periods with care."
        )
    r = callaway_santanna(request.data, cohort=request.cohort, cluster=request.cluster,
                          **request.common, **opts)
    kw = {}
    if request.leads is not None:
        kw["min_e"] = -request.leads
    if request.lags is not None:
        kw["max_e"] = request.lags
    return CompareRun(r, [(r.aggregate("simple").to_frame(), "overall"),
                          (r.aggregate("dynamic", **kw).to_frame(), "event_time")], normalisation)
