"""Borusyak, Jaravel and Spiess (2024) imputation estimator for staggered adoption.

1. Fit ``y_it = a_i + b_t (+ X_it d)`` by least squares on the untreated observations ``Omega_0``
   (never-treated units and not-yet-treated periods).
2. Impute ``y_it(0)`` for every treated observation and take ``tau_it = y_it - y_it(0)``.
3. Average ``tau_it`` with estimand weights ``w_it``: the overall ATT (all treated observations
   equally) and one estimand per horizon ``h = t - G_i``.

Inference is the paper's conservative variance (Theorem 3): each estimate is
``sum_it v_it y_it`` with ``v = w`` on treated and ``v = -Z_0 (Z_0'Z_0)^- Z_1' w`` on untreated
observations (the imputation weights, computed exactly through the small ``T x T`` system of the
two-way absorber, never with dense unit dummies), and

.. math:: \\hat\\sigma^2 = \\sum_c \\Big(\\sum_{it \\in c} v_{it} \\tilde\\varepsilon_{it}\\Big)^2,

with ``tilde eps`` the step-1 residual on untreated observations and ``tau_it - tau_tilde_g`` on
treated ones, where ``tau_tilde_g`` is the unit-clustered aggregate of the paper's equation (8)
within the partition ``aux_partition`` (cohort x horizon by default). ``leave_out=True`` applies
the leave-one-unit-out refinement of the paper's appendix A.9 (``tau_tilde`` of each unit computed
without that unit). The covariance between estimands uses the same per-cluster scores.

The pre-trend test (the paper's Test 1/equation 9) regresses ``y`` on unit and time effects and
lead indicators ``1[t - G_i = -k]`` on ``Omega_0`` only, and tests the leads jointly with
cluster-robust inference from the registry. ``leads=K`` uses ``k = 1..K`` as in the paper (longer
leads and never-treated units form the comparison); the default ``leads=None`` uses every
observed lead except ``-1`` (the reference, as diff-diff's ``ImputationDiD`` does), since all
leads together are collinear with the unit effects.

``ImputationResult.event_study(leads=...)`` stacks the lead coefficients (reference ``-1``) and
the horizon estimates into one ``EffectVector`` with a joint covariance built from per-cluster
scores of both linear estimators (details in its docstring), so that
``evalkit.sensitivity.honest_did`` applies to imputation results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from .._shared.blas import limited_blas
from .._shared.exceptions import DesignError, EvalkitError, NoControlUnitsError
from .._shared.inputs import panel_input
from .._shared.kernels import TwoWayAbsorber, codes_of, segment_sums
from .._shared.validation import check_option
from .._shared.vocabulary import keywords
from ..inference.precision import not_estimable_reason, warn_not_estimable
from ..results import EffectVector, ScalarEffect
from ._common import as_list, check_cohort, drop_always_treated, prepare_panel
from ._fe import fit_absorbed, solve_normal
from ._registry import CompareRequest, CompareRun, register_comparison
from .event_study import event_term, vector_result

Partition = Literal["cohort_horizon", "cohort", "horizon"]


@dataclass(repr=False)
class ImputationResult(EffectVector):
    """Horizon-specific imputation estimates; overall ATT in ``att``; ``pretrend_test()``;
    ``event_study()`` (leads and horizons with a joint covariance, for HonestDiD).

    A vector result of the results protocol (``params``, ``std_errors``, ``pvalues``,
    ``conf_int()`` by horizon, ``to_frame()``, ``summary()``, ``plot()``). ``with_inference``
    is not available: the variance is BJS's conservative formula, chosen at the call.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> r = did.imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", horizons=[0, 1])
    >>> print(f"{r.att.estimate:.1f}", r.params.index.tolist())
    1.0 ['event_time::0', 'event_time::1']
    >>> pt = r.pretrend_test()
    >>> pt["df"], 0 <= pt["p_value"] <= 1
    (4, True)
    """

    inference_fixed: ClassVar[str] = (
        "its variance is the conservative formula of Borusyak, Jaravel and Spiess, set by the "
        "call (cluster=, aux_partition=, leave_out=); call imputation(...) again to change it"
    )

    att: ScalarEffect | None = None
    _pre: dict[str, Any] = field(default_factory=dict)

    def pretrends(self, leads: int | None = None, cov_type: str = "auto", **options) -> EffectVector:
        """Lead coefficients of the pre-trend regression on untreated observations.

        Parameters
        ----------
        leads : int, optional
            ``K``: leads ``-1..-K`` (paper's Test 1). Default: every observed lead except the
            reference ``-1``.
        cov_type : str
            Registered covariance name, clustered by the estimation clusters; the default
            ``"auto"`` is the vector rule of :func:`evalkit.did.event_study`.
        **options
            Options of the covariance estimator.
        """
        return _pretrend_fit(self._pre, leads, cov_type, options)

    def pretrend_test(self, leads: int | None = None, cov_type: str = "auto", **options) -> dict[str, float]:
        """Joint Wald test that all lead coefficients are zero (F with the registry's dof)."""
        return self.pretrends(leads, cov_type, **options).wald_test()

    def event_study(self, leads: int | None = None, small_sample: str = "fixest") -> EffectVector:
        """Pre-trend leads and post-treatment horizons in one vector with a joint covariance.

        The vector is ``(beta_{-K}, ..., beta_{-2}, tau_0, ..., tau_H)``: the lead coefficients of
        the pre-trend regression (BJS Test 1: OLS of ``y`` on lead dummies, covariates and unit
        and time effects on the untreated observations ``Omega_0``) followed by this result's
        horizon estimates. Event time ``-1`` is the omitted reference (``reference=[-1]``; the
        convention of :meth:`pretrends` with ``leads=None`` and of diff-diff), so the vector feeds
        :func:`evalkit.sensitivity.honest_did` directly; ``honest_did(result, leads=...)`` calls
        this method itself.

        Parameters
        ----------
        leads : int, optional
            Lead window ``[-leads, -1]`` as in :func:`evalkit.did.event_study`: coefficients for
            event times ``-leads .. -2`` (those observed), ``-1`` the reference; earlier leads are
            pooled with ``-1`` and the never-treated observations in the comparison. ``None``
            (default) estimates every observed lead except ``-1`` (then the reference is ``-1``
            alone). ``leads < 2`` leaves no lead coefficient and raises :class:`DesignError`.
        small_sample : {"fixest", "xtreg"}
            CR1 convention of the lead block (as ``pretrends(cov_type="clustered", ...)``; see
            :func:`evalkit.inference.covariance.cr1_parameter_count`): ``"fixest"`` (default)
            counts the absorbed effects not nested in the clusters, ``"xtreg"`` none of them.

        Returns
        -------
        EffectVector
            ``params``/``cov`` over the leads and horizons, ``labels["event_time"]`` (leads
            negative), ``reference=[-1]``, normal reference distribution (``dof=None``);
            ``extra`` holds ``lead_design`` (the pre-trend ``LinearDesign``), ``cr1_factor``
            and ``scores`` (the per-cluster score matrix whose Gram matrix is ``cov``).

        Notes
        -----
        Both pieces are linear in the outcome. Each horizon is ``tau_h = sum_it v_hit y_it``
        (imputation weights: ``v = w_h`` on treated, ``v = -Z_0 (Z_0'Z_0)^- Z_1' w_h`` on untreated
        observations) and each lead is ``beta_k = sum_{it in Omega_0} a_kit y_it`` with
        ``a = (X'X)^{-1} X'`` the OLS weights of the lead regression (``X`` = lead dummies and
        covariates after absorbing unit and time effects on ``Omega_0``; ``a = 0`` on treated
        observations). With clusters ``c`` (the estimation's ``cluster``, default the unit), the
        per-cluster scores are

        * horizons: ``psi_hc = sum_{it in c} v_hit eps~_it`` with the residual choice of the BJS
          conservative variance that the horizon standard errors already use (step-1 residual of
          the no-lead model on ``Omega_0``; ``tau_it - tau~_g`` on treated observations, with this
          result's ``aux_partition`` and ``leave_out``);
        * leads: ``phi_kc = sqrt(f) sum_{it in c} a_kit e^_it`` with ``e^`` the residual of the
          lead regression and ``f = G/(G-1) (n_0-1)/(n_0-k)`` the CR1 factor of
          ``cov_type="clustered"`` (``k`` by the ``small_sample`` convention);

        and ``cov = S'S`` with ``S = [phi, psi]`` (G rows). Hence the horizon block equals this
        result's ``cov`` (BJS conservative variance), the lead block equals
        ``pretrends(cov_type="clustered")``'s CR1 covariance, and the cross block is
        ``sqrt(f) sum_c phi_c psi_c'`` -- each estimator's own residual times its own weights,
        summed within clusters. Being a Gram matrix, ``cov`` is positive semi-definite.

        Assumptions: clusters are independent and the same clustering applies to both pieces;
        the lead residual ``e^`` and the step-1 residual both estimate the untreated-outcome error
        (they coincide when the lead coefficients are zero), so the cross terms are consistent under
        the BJS model; the horizon block is conservative when treatment effects are heterogeneous
        within ``aux_partition`` groups (as in BJS Theorem 3), which makes the joint covariance
        conservative in that block only. The factor ``sqrt(f)`` on the lead scores keeps the
        matrix a Gram matrix (no CR1 factor on the horizons, as in BJS). For Rambachan-Roth
        bounds, the lead at ``-k`` is read as the trend difference relative to ``-1`` and the
        horizon biases as its post-treatment continuation; the horizons' counterfactual is fitted
        on all untreated periods rather than on ``-1`` alone, so this is the usual approximation
        of applying HonestDiD to imputation estimates (as Stata's ``honestdid`` after
        ``did_imputation``).
        """
        from ..inference.covariance import SMALL_SAMPLE_CONVENTIONS, cr1_parameter_count

        check_option("small_sample", small_sample, SMALL_SAMPLE_CONVENTIONS)
        pre = self._pre
        avail = _available_leads(pre)
        if leads is None:
            ks = sorted((k for k in avail if k != 1), reverse=True)
        else:
            if int(leads) < 2:
                raise DesignError(
                    f"leads={leads} requests no lead coefficient: the window [-leads, -1] has -1 as "
                    "its reference, so the joint event study needs leads >= 2 (or leads=None for "
                    "every observed lead)."
                )
            ks = [k for k in range(int(leads), 1, -1) if k in avail]
        if not ks:
            raise DesignError(
                "No lead event time besides the reference -1 is observed before treatment, so the "
                "imputation event study has no pre-period coefficients."
            )
        lead = _lead_fit(pre, ks, [-1], "clustered", {"small_sample": small_sample})
        design = lead.design
        n_lead = len(ks)
        bread = design.bread()
        a = bread[:n_lead] @ design.X.T  # OLS weights of the leads on Omega_0 (n_lead x n_0)
        c_uniq = pre["cluster_labels"]
        codes = pd.Index(c_uniq).get_indexer(pre["data"][pre["cluster"]].to_numpy())
        n_c = len(c_uniq)
        phi = segment_sums((a * design.resid[None, :]).T, codes, n_c)
        g0 = len(np.unique(codes))
        n0 = design.nobs
        factor = g0 / (g0 - 1) * (n0 - 1) / (n0 - cr1_parameter_count(design, small_sample))
        scores = np.column_stack([np.sqrt(factor) * phi, pre["psi"]])
        cov = scores.T @ scores
        names = list(lead.params.index) + list(self.params.index)
        params = np.concatenate([lead.params.to_numpy(), self.params.to_numpy()])
        et = [-k for k in ks] + self.labels["event_time"].tolist()
        return EffectVector(
            params=pd.Series(params, index=names),
            cov=pd.DataFrame((cov + cov.T) / 2, index=names, columns=names),
            inference=f"{self.inference}; leads: cluster-robust (CR1) pre-trend regression; joint "
                      "covariance from per-cluster scores",
            labels=pd.DataFrame({"event_time": et}),
            dof=None,
            reference=[-1],
            title="Imputation event study with pre-trend leads (Borusyak-Jaravel-Spiess)",
            nobs=self.nobs,
            notes=list(self.notes),
            extra={"lead_design": design, "cr1_factor": factor,
                   "scores": pd.DataFrame(scores, index=c_uniq, columns=names)},
        )


def _available_leads(pre: dict) -> list[int]:
    rel = pre["data"]["_rel"].to_numpy(float)
    avail = sorted({int(-r) for r in rel[~np.isnan(rel)] if r < 0})
    if not avail:
        raise DesignError("No pre-treatment observations of eventually treated units to test.")
    return avail


def _pretrend_fit(pre: dict, leads, cov_type, options) -> EffectVector:
    avail = _available_leads(pre)
    if leads is None:
        ks = sorted((k for k in avail if k != 1), reverse=True)  # every lead, relative to -1
        refs = [-1]
    else:
        if int(leads) < 1:
            raise EvalkitError("leads must be at least 1.")
        ks = [k for k in range(int(leads), 0, -1) if k in avail]
        refs = []
    if not ks:
        raise DesignError("No lead event times to test (only event time -1 is observed before treatment).")
    return _lead_fit(pre, ks, refs, cov_type, options)


def _lead_fit(pre: dict, ks: list[int], refs: list[int], cov_type, options) -> EffectVector:
    """Regression of ``y`` on the lead dummies ``1[t - G_i = -k]`` (``k`` in ``ks``), covariates
    and unit and time effects on the untreated observations."""
    d0 = pre["data"]
    rel = d0["_rel"].to_numpy(float)
    names = [event_term(-k) for k in ks]
    covs = pre["covariates"]
    yx = np.zeros((len(d0), 1 + len(ks) + len(covs)), order="F")
    yx[:, 0] = d0[pre["outcome"]].to_numpy(float)
    for j, k in enumerate(ks):
        yx[:, 1 + j] = (rel == -k).astype(float)
    for j, c in enumerate(covs):
        yx[:, 1 + len(ks) + j] = d0[c].to_numpy(float)
    u, _ = codes_of(d0[pre["unit"]])
    t, _ = codes_of(d0[pre["time"]])
    absorber = TwoWayAbsorber(u, t)
    design = fit_absorbed(None, yx, names + covs, absorber, d0[pre["cluster"]].to_numpy(),
                          d0[pre["unit"]].to_numpy(), what="lead indicator or covariate")
    labels = pd.DataFrame({"event_time": [-k for k in ks]})
    return vector_result(design, names, labels, cov_type, options,
                          "Imputation pre-trend regression (untreated observations)", [], {}, refs)


def _impute(df, outcome, covs, absorber, i0, i1, u0, t0, u1, t1):
    """Fit unit and period effects (and covariates) on the untreated observations; return the
    covariate coefficients, the untreated residuals and the imputed effects of the treated."""
    y = df[outcome].to_numpy(float)
    x = df[covs].to_numpy(float) if covs else np.zeros((len(df), 0))
    x0t = absorber.absorb(x[i0]) if covs else x[i0]
    if covs:
        y0t = absorber.absorb(y[i0])
        raw = np.sqrt((x[i0] ** 2).sum(axis=0))
        delta = solve_normal(x0t, y0t, raw, covs, "covariate")
    else:
        delta = np.zeros(0)
    alpha, gamma = absorber.effects(y[i0] - x[i0] @ delta)
    e0 = y[i0] - alpha[u0] - gamma[t0] - x[i0] @ delta
    tau = y[i1] - alpha[u1] - gamma[t1] - x[i1] @ delta
    return delta, x, x0t, e0, tau


def _horizon_weights(rel1, horizons, n_treated: int):
    """The horizons to report and the weights of every estimand (overall ATT first)."""
    all_h = sorted(set(rel1.tolist()))
    if horizons is None:
        hs = all_h
    elif np.isscalar(horizons):
        hs = [h for h in range(0, int(horizons) + 1)]
    else:
        hs = sorted({int(h) for h in horizons})
    missing = [h for h in hs if h not in all_h]
    if missing:
        raise DesignError(f"horizon(s) {missing} have no treated observations; observed horizons are {all_h}.")
    weights = [np.full(n_treated, 1.0 / n_treated)]
    for h in hs:
        w = (rel1 == h).astype(float)
        weights.append(w / w.sum())
    return hs, weights


def _estimates_and_scores(weights, tau, e0, absorber, u1, t1, x, x0t, i0, i1, c_codes, n_c, g1, rel1,
                          n_u, aux_partition, leave_out):
    """Each estimand and its cluster scores (BJS's conservative variance), and how many
    leave-out groups fell back to the plain auxiliary estimate."""
    if aux_partition == "cohort_horizon":
        part = pd.factorize(pd.Series(g1.astype(np.int64) * 10_000 + rel1 + 5_000))[0]
    elif aux_partition == "cohort":
        part = pd.factorize(pd.Series(g1))[0]
    else:
        part = pd.factorize(pd.Series(rel1))[0]
    pu_keys, pu = np.unique(part.astype(np.int64) * n_u + u1, return_inverse=True)
    pu_part = (pu_keys // n_u).astype(np.int64)
    n_part = int(part.max()) + 1
    ests = np.empty(len(weights))
    psi = np.zeros((n_c, len(weights)))
    lo_fallback = 0
    for j, w1 in enumerate(weights):
        ests[j] = float(w1 @ tau)
        v0 = absorber.imputation_weights(w1, u1, t1, x[i0], x0t, x[i1])
        tilde, fb = _tau_tilde(tau, w1, pu, pu_part, n_part, leave_out)
        lo_fallback += fb
        eps1 = tau - tilde
        psi[:, j] = np.bincount(c_codes[i0], weights=v0 * e0, minlength=n_c) + np.bincount(
            c_codes[i1], weights=w1 * eps1, minlength=n_c
        )
    return ests, psi, lo_fallback


@keywords
@panel_input
@limited_blas
def imputation(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    horizons: int | Sequence[int] | None = None,
    covariates: str | list[str] | None = None,
    cluster: str | None = None,
    aux_partition: Partition = "cohort_horizon",
    leave_out: bool = False,
) -> ImputationResult:
    """Borusyak-Jaravel-Spiess imputation estimator with conservative standard errors.

    Parameters
    ----------
    data : DataFrame
        Long panel (balanced or not).
    outcome, unit, time : str
        Column names.
    cohort : str
        First treated period (0 = never treated).
    horizons : int or sequence of int, optional
        Horizons ``h >= 0`` to report: ``None`` = every horizon observed, an int ``H`` = ``0..H``,
        or an explicit list. The overall ATT always averages all treated observations.
    covariates : str or list of str, optional
        Time-varying controls entering the untreated-outcome model.
    cluster : str, optional
        Cluster column for the variance (default ``unit``).
    aux_partition : {"cohort_horizon", "cohort", "horizon"}
        Groups within which ``tau_tilde`` is averaged for the variance.
    leave_out : bool
        Leave-one-unit-out ``tau_tilde`` (appendix A.9 refinement; larger, less biased SE).

    Returns
    -------
    ImputationResult
        ``params``/``cov`` by horizon (``to_frame()``, ``plot()``), ``att`` (ScalarEffect),
        ``pretrend_test()``, ``pretrends()``, ``event_study()`` (leads and horizons jointly).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2015, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= df.cohort)) + rng.normal(0, 0.1, len(df))
    >>> r = did.imputation(df, outcome="y", unit="unit", time="year", cohort="cohort", horizons=[0, 1])
    >>> print(r.to_frame()[["term", "estimate"]].round(1).to_string(index=False))
             term  estimate
    event_time::0       1.0
    event_time::1       1.0
    """
    check_option("aux_partition", aux_partition, ("cohort_horizon", "cohort", "horizon"))
    covs = as_list(covariates)
    df = prepare_panel(data, outcome=outcome, unit=unit, time=time, numeric=covs, cluster=cluster,
                       extra={"cohort": cohort, "covariates": covs})
    check_cohort(df, unit, time, cohort)
    notes: list[str] = []
    tmax = df[time].max()
    late = df[cohort] > tmax
    if late.any():
        df.loc[late, cohort] = 0
        notes.append(f"units first treated after {tmax} count as never treated")
    df = drop_always_treated(df, unit, time, cohort)
    g = df[cohort].to_numpy()
    tt = df[time].to_numpy()
    treated = (g > 0) & (tt >= g)
    if not treated.any():
        raise DesignError(f"No treated observations: cohort {cohort!r} never precedes the observed periods.")
    df["_rel"] = np.where(g > 0, tt - g, np.nan)
    u_all, units = codes_of(df[unit])
    t_all, periods = codes_of(df[time])
    # treated observations in periods without untreated observations cannot be imputed
    untreated_times = set(t_all[~treated])
    bad_t = treated & ~np.isin(t_all, list(untreated_times))
    if bad_t.any():
        bad_years = sorted(set(tt[bad_t].tolist()))
        notes.append(
            f"{int(bad_t.sum())} treated observations in periods {sorted(set(tt[bad_t].tolist()))} have no "
            "untreated comparison (every unit treated) and are excluded"
        )
        df = df.loc[~bad_t].reset_index(drop=True)
        g, tt = df[cohort].to_numpy(), df[time].to_numpy()
        treated = (g > 0) & (tt >= g)
        u_all, units = codes_of(df[unit])
        t_all, periods = codes_of(df[time])
        if not treated.any():
            raise NoControlUnitsError(
                f"No comparison observations: in every period with treated units "
                f"({', '.join(map(str, bad_years))}) all units are treated, and there are no "
                "never-treated (cohort 0) or "
                "not-yet-treated units to impute their untreated outcomes from. Add never-treated "
                "units or units treated later, or estimate pre/post changes without a comparison "
                "group elsewhere."
            )
    n_u, n_t = len(units), len(periods)
    i0, i1 = np.nonzero(~treated)[0], np.nonzero(treated)[0]
    u0, t0, u1, t1 = u_all[i0], t_all[i0], u_all[i1], t_all[i1]
    absorber = _Omega0(u0, t0, n_u, n_t)
    delta, x, x0t, e0, tau = _impute(df, outcome, covs, absorber, i0, i1, u0, t0, u1, t1)
    rel1 = (tt[i1] - g[i1]).astype(int)
    g1 = g[i1]
    hs, weights = _horizon_weights(rel1, horizons, len(i1))
    cl = df[cluster if cluster else unit].to_numpy()
    c_codes, c_uniq = codes_of(cl)
    n_c = len(c_uniq)
    ests, psi, lo_fallback = _estimates_and_scores(weights, tau, e0, absorber, u1, t1, x, x0t, i0,
                                                   i1, c_codes, n_c, g1, rel1, n_u, aux_partition,
                                                   leave_out)
    cov = psi.T @ psi
    reason = not_estimable_reason(n_c)
    if reason is not None:  # no false precision: the cluster sums cancel
        warn_not_estimable("imputation", reason)
        cov = np.full_like(cov, np.nan)
    if leave_out and lo_fallback:
        notes.append("leave-out: groups with a single unit use the non-leave-out tau_tilde")
    labels = pd.DataFrame({"event_time": hs})
    names = [event_term(h) for h in hs]
    inference = "BJS conservative variance" + (" (leave-one-out)" if leave_out else "") + f", {n_c} clusters"
    att = ScalarEffect(float(ests[0]), float(np.sqrt(cov[0, 0])), inference=inference, term="ATT",
                       title="Imputation (BJS) average effect on the treated", nobs=len(df))
    pre = {"data": df.loc[~treated].reset_index(drop=True), "outcome": outcome, "unit": unit, "time": time,
           "covariates": covs, "cluster": cluster if cluster else unit, "psi": psi[:, 1:],
           "cluster_labels": c_uniq}
    return ImputationResult(
        params=pd.Series(ests[1:], index=names),
        cov=pd.DataFrame(cov[1:, 1:], index=names, columns=names),
        inference=inference,
        labels=labels,
        reference=[],
        title="Imputation event study (Borusyak-Jaravel-Spiess)",
        nobs=len(df),
        notes=notes,
        extra={"n_treated_obs": len(i1), "n_untreated_obs": len(i0), "delta": pd.Series(delta, index=covs),
               "tau": pd.DataFrame({unit: df[unit].to_numpy()[i1], time: tt[i1], "tau": tau})},
        att=att,
        _pre=pre,
    )


def _tau_tilde(tau, w1, pu, pu_part, n_part, leave_out) -> tuple[np.ndarray, int]:
    """Equation (8) aggregate ``sum_i a_i b_i / sum_i a_i^2`` per partition group (optionally leave-out).

    ``pu`` codes each treated observation's (partition group, unit) pair and ``pu_part`` maps a
    pair to its group; ``a`` and ``b`` are the within-pair sums of ``w`` and ``w * tau``.
    """
    n_pu = len(pu_part)
    a = np.bincount(pu, weights=w1, minlength=n_pu)
    b = np.bincount(pu, weights=w1 * tau, minlength=n_pu)
    ab, aa = a * b, a * a
    s_ab = np.bincount(pu_part, weights=ab, minlength=n_part)[pu_part]
    s_aa = np.bincount(pu_part, weights=aa, minlength=n_part)[pu_part]
    with np.errstate(invalid="ignore", divide="ignore"):
        full = np.where(s_aa > 0, s_ab / np.where(s_aa > 0, s_aa, 1.0), 0.0)
        fallback = 0
        if leave_out:
            den = s_aa - aa
            single = (aa > 0) & (den <= 1e-14 * s_aa)
            fallback = int(single.sum())
            val = np.where(single | (s_aa == 0), full, (s_ab - ab) / np.where(den > 0, den, 1.0))
        else:
            val = full
    return val[pu], fallback


class _Omega0:
    """Two-way fixed effects on the untreated observations, with the dual solve for BJS weights."""

    def __init__(self, u0: np.ndarray, t0: np.ndarray, n_u: int, n_t: int):
        self.u0, self.t0, self.n_u, self.n_t = u0, t0, n_u, n_t
        self.n0_unit = np.bincount(u0, minlength=n_u).astype(float)
        if (self.n0_unit == 0).any():
            raise DesignError("Some units have no untreated observation; they cannot be imputed.")
        # absorber with global codes: pad so that every unit/time code exists
        self.abs = TwoWayAbsorber(u0, t0)
        if self.abs.n_units != n_u or self.abs.n_times != n_t:
            raise DesignError("Untreated observations do not cover every unit and period.")

    def absorb(self, m):
        return self.abs.absorb(m)

    def effects(self, r0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.abs.fitted_effects(r0)

    def imputation_weights(self, w1, u1, t1, x0, x0t, x1) -> np.ndarray:
        """``v_0 = -Z_0 (Z_0'Z_0)^- Z_1' w_1`` for unit and time dummies (and covariates)."""
        r = np.bincount(u1, weights=w1, minlength=self.n_u)
        c = np.bincount(t1, weights=w1, minlength=self.n_t)
        rhs = c - np.bincount(self.t0, weights=(r / self.n0_unit)[self.u0], minlength=self.n_t)
        beta = self.abs.solve_time_effects(rhs)
        alpha = (r - np.bincount(self.u0, weights=beta[self.t0], minlength=self.n_u)) / self.n0_unit
        h0 = alpha[self.u0] + beta[self.t0]
        if x0.shape[1] == 0:
            return -h0
        gx = np.linalg.solve(x0t.T @ x0t, x0.T @ h0 - x1.T @ w1)
        return -h0 + x0t @ gx


@register_comparison("imputation", "Imputation (BJS)")
def _compare(request: CompareRequest) -> CompareRun:
    """:func:`imputation` in :func:`~evalkit.did.compare`: the overall ATT, the pre-trend
    coefficients in the window and the effects by horizon."""
    r = imputation(request.data, cohort=request.cohort, horizons=request.lags,
                   covariates=request.covariates or None, cluster=request.cluster, **request.common)
    return CompareRun(r, [(r.att.to_frame(), "overall"),
                          (request.in_window(r.pretrends().to_frame()), "event_time"),
                          (r.to_frame(), "event_time")])
