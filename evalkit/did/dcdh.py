"""Event-study DiD for non-binary, non-absorbing treatments (de Chaisemartin–D'Haultfœuille 2024).

The ``did_multiplegt_dyn`` estimator of de Chaisemartin and D'Haultfœuille (2024, "Difference-in-
differences estimators of intertemporal treatment effects", Review of Economics and Statistics
106(6)). For a unit ``g`` with baseline (first-period) treatment ``D_{g,1}``, let ``F_g`` be the
first period in which its treatment differs from the baseline and ``S_g = ±1`` the direction of
that change. For ``ℓ = 1, 2, ...``

.. math::

    DID_{g,\\ell} = Y_{g,F_g-1+\\ell} - Y_{g,F_g-1}
      - \\frac{1}{N^g}\\sum_{g': D_{g',1}=D_{g,1},\\ F_{g'} > F_g-1+\\ell}
        (Y_{g',F_g-1+\\ell} - Y_{g',F_g-1}),

compares the switcher's outcome change since its last period at the baseline treatment with that
of units with the same baseline treatment that have not changed treatment yet, and
``DID_ℓ = Σ_g S_g DID_{g,ℓ} / N_ℓ`` averages over the ``N_ℓ`` switchers for which a comparison
exists. Normalised effects divide by the average cumulative treatment change
``δ^D_ℓ = Σ_g S_g Σ_{k<ℓ}(D_{g,F_g+k} − D_{g,1}) / N_ℓ``; the average total effect per unit of
treatment is ``Σ_ℓ N_ℓ DID_ℓ / Σ_ℓ N_ℓ δ^D_ℓ``. Placebos compare ``Y_{g,F_g−1−ℓ} − Y_{g,F_g−1}``
of the same switchers and controls (pre-trends).

Inference follows the paper's influence-function approach: each switcher's contribution is
centred at the mean of switchers of the same cohort (baseline treatment, switch date and
treatment path, with the ``sqrt(s/(s−1))`` small-cohort factor), each control's contribution at
the mean of its comparison cell, and contributions are summed within units (or clusters). This
is conservative when effects are heterogeneous within cohorts; a cluster bootstrap is available.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from .._shared.exceptions import (
    DesignError,
    EvalkitError,
    ExcludedUnitsWarning,
    NoControlUnitsError,
    PanelDataError,
)
from .._shared.future import warn_renamed
from .._shared.inputs import panel_input
from .._shared.kernels import segment_sums
from .._shared.validation import check_columns, check_numeric_complete, check_unique_panel
from .._shared.vocabulary import DEFAULT_SEED, keywords
from .._summary import Summary
from ..inference.precision import not_estimable_reason, warn_not_estimable
from ..results import EffectVector, ScalarEffect, TidyVector
from ._common import unit_clusters

__all__ = ["DCDHResult", "dcdh"]



@dataclass(repr=False)
class DCDHResult(TidyVector):
    """Output of :func:`dcdh`.

    A vector result of the results protocol whose entries are the rows of ``to_frame()``:
    placebos, effects and the average total effect (``params``, ``std_errors``, ``pvalues``,
    ``conf_int(level)``); ``summary()``, ``plot()``; ``pretrend_test()`` (the joint test that
    all placebos are zero); :meth:`event_study` (placebos and effects with their joint
    covariance, reference event time 0, which :func:`evalkit.sensitivity.honest_did` reads).

    Attributes
    ----------
    effects : EffectVector
        ``DID_ℓ`` (or normalised ``DID^n_ℓ``) for ``ℓ = 1..L``; ``event_time`` is ``ℓ`` (periods
        since the first change, ``ℓ = 1`` being the period of the change). Horizons without any
        switcher-control comparison are left out.
    placebos : EffectVector or None
        Placebo estimates for ``ℓ' = 1..L'`` at ``event_time = −ℓ'`` (reference: the period
        before the change, shown at 0 by ``plot()``).
    average_total_effect : ScalarEffect
        Average total effect per unit of treatment change.
    table : DataFrame
        Per horizon: estimate, std_error, n_switchers, n_obs (switcher and control cells used),
        delta_d (average cumulative treatment change).
    effects_placebos_cov : DataFrame or None
        Covariance between the effects (rows) and the placebos (columns), from the same
        influence functions (or bootstrap draws) as their own covariances.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["d"] = np.where((df.unit < 15) & (df.year >= 2015 + 2 + df.unit % 3), 1.0, 0.0)
    >>> df["y"] = 0.1 * df.unit + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> r = did.dcdh(df, outcome="y", unit="unit", time="year", treatment="d", effects=2, placebo=1)
    >>> r.params.index.tolist()
    ['Placebo_1', 'Effect_1', 'Effect_2', 'Av_tot_eff']
    >>> print(f"{r.params['Effect_1']:.1f}", 0 <= r.pretrend_test()["p_value"] <= 1)
    2.0 True
    >>> es = r.event_study()
    >>> es.labels["event_time"].tolist(), es.reference
    ([-1, 1, 2], [0])
    """

    inference_fixed: ClassVar[str] = (
        "its standard errors come from the influence functions of de Chaisemartin and "
        "D'Haultfoeuille (or a cluster bootstrap), chosen at the call; call dcdh(..., cluster=, "
        "bootstrap=) again"
    )
    effects: EffectVector
    placebos: EffectVector | None
    average_total_effect: ScalarEffect
    _placebo_test: dict[str, float] | None
    table: pd.DataFrame
    normalized: bool
    n_units: int
    n_switchers: int
    n_never_switchers: int
    dropped_units: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    title: str = "Event-study DiD for non-binary, non-absorbing treatments (dCDH 2024)"
    effects_placebos_cov: pd.DataFrame | None = None

    def pretrend_test(self) -> dict[str, float]:
        """Joint Wald test that all placebo estimates are zero (the pre-trend test of dCDH).

        Returns
        -------
        dict
            ``statistic``, ``df``, ``p_value`` (chi-square).

        Raises
        ------
        DesignError
            No placebo was estimated: call ``dcdh(..., placebo=k)`` with ``k >= 1``.
        """
        if self._placebo_test is None:
            raise DesignError(
                "This dCDH result has no placebo estimates, so no pre-trend test: call "
                "dcdh(..., placebo=k) with k >= 1 (placebos compare the switchers with their "
                "controls before the switch)."
            )
        return dict(self._placebo_test)

    @property
    def placebo_test(self) -> dict[str, float] | None:
        """Deprecated: use :meth:`pretrend_test` (removed in 0.3.0)."""
        warn_renamed("DCDHResult.placebo_test", "DCDHResult.pretrend_test()")
        return None if self._placebo_test is None else dict(self._placebo_test)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table: placebos (negative event times), effects (positive), average total effect."""
        parts = []
        if self.placebos is not None:
            parts.append(self.placebos.to_frame(level))
        parts.append(self.effects.to_frame(level))
        parts.append(self.average_total_effect.to_frame(level))
        return pd.concat(parts, ignore_index=True)

    def event_study(self) -> EffectVector:
        """Placebos and effects stacked into one event-study vector with their joint covariance.

        Placebo ``ℓ'`` sits at event time ``−ℓ'`` and effect ``ℓ`` at ``ℓ``; the period before the
        switch is the reference at event time 0 (``reference=[0]``). The covariance between
        placebos and effects comes from the same influence functions (or bootstrap draws) as
        their own variances, so the vector can feed :func:`evalkit.sensitivity.honest_did`.
        """
        e = self.effects
        if self.placebos is None:
            return EffectVector(params=e.params, cov=e.cov, inference=e.inference, labels=e.labels,
                                dof=e.dof, reference=[0], title=self.title, notes=self.notes)
        p = self.placebos
        params = pd.concat([p.params.iloc[::-1], e.params])
        cov = pd.DataFrame(0.0, index=params.index, columns=params.index)
        cov.loc[p.params.index, p.params.index] = p.cov.loc[p.params.index, p.params.index]
        cov.loc[e.params.index, e.params.index] = e.cov
        cross = self.effects_placebos_cov
        if cross is None:
            raise EvalkitError("This dCDH result has no effect-placebo covariance; re-run dcdh().")
        cross = cross.loc[e.params.index, p.params.index]
        cov.loc[e.params.index, p.params.index] = cross.to_numpy()
        cov.loc[p.params.index, e.params.index] = cross.T.to_numpy()
        et = np.concatenate([p.labels["event_time"].to_numpy()[::-1],
                             e.labels["event_time"].to_numpy()])
        return EffectVector(params=params, cov=cov, inference=e.inference,
                            labels=pd.DataFrame({"event_time": et}), dof=e.dof, reference=[0],
                            title=self.title, notes=self.notes)

    def summary(self, level: float = 0.95) -> Summary:
        """Readable text summary."""
        lines = [self.title, "=" * len(self.title),
                 f"Units: {self.n_units}; switchers: {self.n_switchers}; never switchers: "
                 f"{self.n_never_switchers}; effects {'normalised' if self.normalized else 'raw'}",
                 f"Inference: {self.effects.inference}"]
        tab = self.table.copy()
        lines.append(tab.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        a = self.average_total_effect
        lo, hi = a.conf_int(level)
        lines.append(f"Average total effect per unit of treatment: {a.estimate:.5g} "
                     f"(s.e. {a.std_error:.4g}), CI [{lo:.5g}, {hi:.5g}]")
        if self._placebo_test:
            lines.append(f"Joint test of placebos = 0: p = {self._placebo_test['p_value']:.4g}")
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def __repr__(self) -> str:
        return f"<DCDHResult: {len(self.effects.params)} effects>"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def plot(self, ax=None, level: float = 0.95, language: str | None = None):
        """Event-study plot: placebos and effects with pointwise confidence intervals.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.
        level : float
            Coverage of the intervals.
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        from ..report.labels import t
        from ..report.style import mark_synthetic, plot_language, register_cjk_font

        language = plot_language(language)
        register_cjk_font()
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
            mark_synthetic(fig)
        fr = self.event_study().to_frame(level)
        x = np.concatenate([fr["event_time"].to_numpy(), [0.0]])
        y = np.concatenate([fr["estimate"].to_numpy(), [0.0]])
        lo = np.concatenate([fr["conf_low"].to_numpy(), [0.0]])
        hi = np.concatenate([fr["conf_high"].to_numpy(), [0.0]])
        o = np.argsort(x)
        ax.errorbar(x[o], y[o], yerr=[y[o] - lo[o], hi[o] - y[o]], fmt="o", capsize=3)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_xlabel(t("periods_since_change", language))
        ax.set_ylabel(t("effect", language))
        return ax


def _panel_matrices(data, outcome, unit, time, treatment, controls, cluster):
    """The ``units x periods`` outcome and treatment matrices (consecutive integer periods, no gaps
    in a unit's treatment), each unit's first observed period and span, and the unit clusters."""
    cols = list(dict.fromkeys([unit, time, outcome, treatment, *controls] + ([cluster] if cluster
                                                                            else [])))
    df = data[cols].copy()
    check_numeric_complete(df, [time, treatment])
    check_unique_panel(df, unit, time)
    df[outcome] = pd.to_numeric(df[outcome], errors="coerce")
    times = np.sort(df[time].unique())
    if not np.all(np.diff(times) == 1):
        raise PanelDataError(
            [f"periods in {time!r} are not consecutive integers ({times.tolist()[:15]}): recode "
             "them to consecutive integers (e.g. years with none missing)"],
            header="Uneven time grid")
    units = np.sort(df[unit].unique())
    n, T = len(units), len(times)
    ui = np.searchsorted(units, df[unit].to_numpy())
    ti = (df[time].to_numpy() - times[0]).astype(int)
    Y = np.full((n, T), np.nan)
    D = np.full((n, T), np.nan)
    Y[ui, ti] = df[outcome].to_numpy(float)
    D[ui, ti] = df[treatment].to_numpy(float)
    # treatment must be observed within each unit's span
    obs = ~np.isnan(D)
    first = obs.argmax(axis=1)
    last = T - 1 - obs[:, ::-1].argmax(axis=1)
    span = (np.arange(T)[None, :] >= first[:, None]) & (np.arange(T)[None, :] <= last[:, None])
    gaps = (span & ~obs).any(axis=1)
    if gaps.any():
        raise PanelDataError(
            [f"{gaps.sum()} unit(s) miss their treatment in some period inside their span: "
             f"{', '.join(map(str, units[gaps][:10]))}; fill the rows or drop those units"],
            header="Missing treatment")
    cl = unit_clusters(df, unit, cluster, units)
    return df, units, times, Y, D, ui, ti, first, span, cl


def _switchers(D, first, span):
    """Baseline treatment, index of the first change (``T`` = never), its direction ``S_g`` and
    the cells where a unit has been both above and below its baseline."""
    n, T = D.shape
    d1 = D[np.arange(n), first]
    changed = span & (np.abs(D - d1[:, None]) > 0)
    has_sw = changed.any(axis=1)
    F = np.where(has_sw, changed.argmax(axis=1), T)  # index of first change; T = never
    S = np.zeros(n)
    S[has_sw] = np.sign(D[np.where(has_sw)[0], F[has_sw]] - d1[has_sw])
    # cells where the unit has by then been both strictly above and strictly below its baseline
    # are dropped (as did_multiplegt_dyn does by default): the sign of the effect is ambiguous
    with np.errstate(invalid="ignore"):
        ever_above = np.maximum.accumulate(span & (D > d1[:, None]), axis=1)
        ever_below = np.maximum.accumulate(span & (D < d1[:, None]), axis=1)
    both = ever_above & ever_below
    return d1, has_sw, F, S, both


def _covariances(est, Y, D, d1, F, S, keep, first, effects, placebo, normalized, cl, bootstrap,
                 seed, cluster, n_cl):
    """Covariances of the effects, placebos, average total effect and of the effects with the
    placebos (bootstrap or analytic), and their description."""
    if bootstrap and bootstrap > 0:
        return _bootstrap(Y, D, d1, F, S, keep, first, effects, placebo, normalized, cl, bootstrap,
                          seed)
    IFe, IFp, IFa = est["IF_e"], est["IF_p"], est["IF_a"]
    if cl is not None:
        codes, _ = pd.factorize(cl)
        IFe, IFp, IFa = (segment_sums(M, codes, codes.max() + 1) for M in (IFe, IFp, IFa))
    cov_e, cov_p, cov_a = IFe.T @ IFe, IFp.T @ IFp, float(IFa @ IFa)
    inf_desc = (f"analytic influence-function standard errors (dCDH 2024), clustered by "
                f"{'column ' + repr(cluster) if cluster else 'unit'} ({n_cl} clusters)")
    return cov_e, cov_p, cov_a, IFe.T @ IFp, inf_desc


def _effect_vectors(est, cov_e, cov_p, cov_ep, effects, placebo, normalized, inf_desc, notes):
    """The effects and placebos as :class:`EffectVector` (cells without an estimate left out), the
    joint test of the placebos and the effect-placebo covariance (``None`` without placebos)."""
    lab_e = [f"Effect_{ell}" for ell in range(1, effects + 1)]
    ok_e = np.isfinite(est["effects"])
    eff = EffectVector(
        params=pd.Series(est["effects"][ok_e], index=np.array(lab_e)[ok_e]),
        cov=pd.DataFrame(cov_e[np.ix_(ok_e, ok_e)], index=np.array(lab_e)[ok_e],
                         columns=np.array(lab_e)[ok_e]),
        inference=inf_desc, labels=pd.DataFrame({"event_time": np.arange(1, effects + 1)[ok_e]}),
        title="dCDH event-study effects" + (" (normalised)" if normalized else ""),
        notes=notes)
    pl = None
    ptest = None
    cross = None
    if placebo:
        lab_p = [f"Placebo_{ell}" for ell in range(1, placebo + 1)]
        ok_p = np.isfinite(est["placebos"])
        if ok_p.any():
            pl = EffectVector(
                params=pd.Series(est["placebos"][ok_p], index=np.array(lab_p)[ok_p]),
                cov=pd.DataFrame(cov_p[np.ix_(ok_p, ok_p)], index=np.array(lab_p)[ok_p],
                                 columns=np.array(lab_p)[ok_p]),
                inference=inf_desc,
                labels=pd.DataFrame({"event_time": -np.arange(1, placebo + 1)[ok_p]}),
                title="dCDH placebo estimates", notes=notes)
            ptest = pl.wald_test()
            cross = pd.DataFrame(cov_ep[np.ix_(ok_e, ok_p)], index=np.array(lab_e)[ok_e],
                                 columns=np.array(lab_p)[ok_p])
    return eff, pl, ptest, cross


def _table(est, cov_e, cov_p, effects, placebo, level):
    """One row per effect and placebo with switchers, observations and a normal interval."""
    lab_e = [f"Effect_{ell}" for ell in range(1, effects + 1)]
    table = pd.DataFrame({
        "term": lab_e, "estimate": est["effects"],
        "std_error": np.sqrt(np.clip(np.diag(cov_e), 0, None)),
        "n_switchers": est["n_sw"], "n_obs": est["n_obs"], "delta_d": est["delta_d"]})
    if placebo:
        pt = pd.DataFrame({"term": [f"Placebo_{ell}" for ell in range(1, placebo + 1)],
                           "estimate": est["placebos"],
                           "std_error": np.sqrt(np.clip(np.diag(cov_p), 0, None)),
                           "n_switchers": est["n_sw_p"], "n_obs": est["n_obs_p"],
                           "delta_d": np.nan})
        table = pd.concat([table, pt], ignore_index=True)
    table.loc[table["estimate"].isna(), "std_error"] = np.nan
    z = stats.norm.ppf(0.5 + level / 2)
    table["conf_low"] = table["estimate"] - z * table["std_error"]
    table["conf_high"] = table["estimate"] + z * table["std_error"]
    return table


# --------------------------------------------------------------------------------------------
@keywords(controls="covariates", bootstrap="n_draws")
@panel_input
def dcdh(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    effects: int = 1,
    placebo: int = 0,
    normalized: bool = False,
    covariates: str | list[str] | None = None,
    cluster: str | None = None,
    keep_bidirectional_switchers: bool = False,
    n_draws: int = 0,
    seed: int | None = DEFAULT_SEED,
    level: float = 0.95,
) -> DCDHResult:
    """de Chaisemartin–D'Haultfœuille (2024) event-study effects (``did_multiplegt_dyn``).

    Parameters
    ----------
    data : DataFrame
        Unit-period panel (periods must be consecutive integers; missing outcomes are allowed).
    outcome, unit, time, treatment : str
        Column names. The treatment may be binary, discrete or continuous and switch on and off;
        it must be observed in every period of a unit's span. Comparisons need units with exactly
        the same first-period treatment (e.g. 0 for units outside a scheme); with continuous
        baseline values few comparisons exist.
    effects : int
        Number of event-study effects ``ℓ = 1..effects``.
    placebo : int
        Number of placebo estimates.
    normalized : bool
        Divide each effect by the average cumulative treatment change (effect per unit of
        treatment, a weighted average of the effects of the current and lagged treatments).
    covariates : str or list of str, optional
        Time-varying covariates: for each baseline treatment, the first-differenced outcome is
        regressed on the first-differenced covariates and period effects among units that have not
        switched yet, and the outcome is adjusted by the fitted covariate contribution before the
        DiD comparisons (the covariate step is not propagated to the standard errors).
    cluster : str, optional
        Cluster column (whole units within clusters). Default: units.
    keep_bidirectional_switchers : bool
        Keep the unit-periods at which a unit has been both strictly above and strictly below its
        baseline treatment (dropped by default, as ``did_multiplegt_dyn`` does; the sign of the
        effect is then ambiguous).
    n_draws : int
        0 (default): analytic influence-function standard errors. A positive number: standard
        errors from this many cluster-bootstrap replications.
    seed : int or None
        Bootstrap seed (default :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    level : float
        Confidence level used in the summary.

    Returns
    -------
    DCDHResult

    Raises
    ------
    NoControlUnitsError
        No switcher has a not-yet-switched unit with the same baseline treatment.
    PanelDataError
        Duplicate rows, missing treatment, gaps in periods, clusters splitting units.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2021)], columns=["unit", "year"])
    >>> df["d"] = np.where((df.unit < 15) & (df.year >= 2015 + 1 + df.unit % 4), 1.0, 0.0)
    >>> df["y"] = 0.1 * df.unit + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> r = did.dcdh(df, outcome="y", unit="unit", time="year", treatment="d", effects=2)
    >>> print(r.effects.to_frame()[["term", "estimate"]].round(1).to_string(index=False))
        term  estimate
    Effect_1       2.0
    Effect_2       2.0
    """
    if not isinstance(effects, (int, np.integer)) or effects < 1:
        raise EvalkitError(f"effects must be a positive integer, got {effects!r}.")
    if not isinstance(placebo, (int, np.integer)) or placebo < 0:
        raise EvalkitError(f"placebo must be a non-negative integer, got {placebo!r}.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 0:
        raise EvalkitError(
            f"n_draws must be 0 (analytic standard errors) or a positive number of bootstrap "
            f"replications, got {n_draws!r}."
        )
    controls = [covariates] if isinstance(covariates, str) else list(covariates or [])
    bootstrap = int(n_draws)
    check_columns(data, {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment,
                         "covariates": controls, "cluster": cluster})
    df, units, times, Y, D, ui, ti, first, span, cl = _panel_matrices(
        data, outcome, unit, time, treatment, controls, cluster)
    n, T = Y.shape

    d1, has_sw, F, S, both = _switchers(D, first, span)
    bidir = both.any(axis=1)
    dropped = []
    if bidir.any() and not keep_bidirectional_switchers:
        dropped = list(units[bidir])
        warnings.warn(
            f"{bidir.sum()} unit(s) have had treatment both above and below their baseline; their "
            f"unit-periods from then on are dropped (keep_bidirectional_switchers=True keeps "
            f"them): {', '.join(map(str, dropped[:10]))}", ExcludedUnitsWarning, stacklevel=2)
        Y = np.where(both, np.nan, Y)
    keep = np.ones(n, bool)

    notes = ["Effects compare switchers with units of the same baseline treatment whose "
             "treatment has not changed yet; identification assumes parallel trends of the "
             "status-quo outcome and no anticipation (dCDH 2024).",
             "Units whose treatment decreases enter with sign -1 (S_g), so every effect is that "
             "of a weakly higher treatment, as in the paper."]
    if controls:
        Y = _adjust_controls(df, Y, units, times, unit, time, controls, d1, F, keep, ui, ti)
        notes.append(f"Outcome adjusted for covariates {controls} (estimated among not-yet-switched "
                     "units by baseline treatment); their estimation error is not in the SEs.")
    if data.attrs.get("synthetic"):
        notes.append("Synthetic demo data, not real statistics.")

    cl_ids = pd.factorize(cl)[0] if cl is not None else np.arange(n)
    est = _estimate(Y, D, d1, F, S, keep, first, effects, placebo, normalized, cl_ids)
    if not np.isfinite(est["effects"]).any():
        raise NoControlUnitsError(
            "No switcher has a comparison unit: for every unit whose treatment changes there is "
            "no unit with the same baseline treatment that has not changed yet. Add units whose "
            f"{treatment!r} stays at its first-period value (e.g. units outside the scheme at 0).")

    n_cl = len(np.unique(cl)) if cl is not None else int(keep.sum())
    cov_e, cov_p, cov_a, cov_ep, inf_desc = _covariances(est, Y, D, d1, F, S, keep, first, effects,
                                                         placebo, normalized, cl, bootstrap, seed,
                                                         cluster, n_cl)
    reason = not_estimable_reason(n_cl)
    if reason is not None:  # no false precision with one or two clusters
        warn_not_estimable("dcdh", reason)
        cov_e, cov_p, cov_a = np.full_like(cov_e, np.nan), np.full_like(cov_p, np.nan), float("nan")
        cov_ep = np.full_like(cov_ep, np.nan)
        inf_desc += f"; variance not estimable ({reason})"
    eff, pl, ptest, cross = _effect_vectors(est, cov_e, cov_p, cov_ep, effects, placebo, normalized,
                                            inf_desc, notes)
    ate = ScalarEffect(est["ate"], float(np.sqrt(max(cov_a, 0.0))), inference=inf_desc,
                       term="Av_tot_eff", title="Average total effect per unit of treatment",
                       notes=notes)
    table = _table(est, cov_e, cov_p, effects, placebo, level)
    return DCDHResult(
        effects=eff, placebos=pl, average_total_effect=ate, _placebo_test=ptest, table=table,
        normalized=normalized, n_units=int(keep.sum()), n_switchers=int((keep & has_sw).sum()),
        n_never_switchers=int((keep & ~has_sw).sum()), dropped_units=dropped, notes=notes,
        extra={"influence_effects": est["IF_e"], "units": units}, effects_placebos_cov=cross)


def _dof(ids: np.ndarray) -> int:
    return len(np.unique(ids))


def _cell_did(Y, S, gs, ctrl, t, base):
    """One comparison cell from period ``base`` to ``t``: ``(s, dy_s, dy_c, numerator)``, with
    the switchers' signs ``s``, the switchers' and controls' outcome changes and
    ``sum(s * (dy_s - mean(dy_c)))``."""
    dy_s = Y[gs, t] - Y[gs, base]
    dy_c = Y[ctrl, t] - Y[ctrl, base]
    s = S[gs]
    return s, dy_s, dy_c, float(np.sum(s * (dy_s - dy_c.mean())))


def _centred(contrib, gs, ctrl, s, dy_s, dy_c, d_new, cl_ids):
    """Add one comparison cell's centred influence contributions (dCDH 2024 variance).

    Switchers are centred at the mean of their cohort (same baseline, switch date and first new
    treatment value) and scaled by ``sqrt(k/(k-1))``, ``k`` the number of units (clusters) in the
    cohort; controls at their cell mean with the same factor. A singleton cohort falls back to
    the mean of all switchers and controls of the cell; a singleton cell is not centred.
    """
    n_c = len(ctrl)
    k_c = _dof(cl_ids[ctrl])
    union_y = np.concatenate([dy_s, dy_c])
    k_u = _dof(np.concatenate([cl_ids[gs], cl_ids[ctrl]]))
    u_mean = union_y.mean()
    u_fac = np.sqrt(k_u / (k_u - 1)) if k_u >= 2 else 1.0
    cen = np.empty(len(gs))
    _, coh = np.unique(d_new, return_inverse=True)
    coh = coh.ravel()
    for c in np.unique(coh):
        m = coh == c
        k = _dof(cl_ids[gs[m]])
        if k >= 2:
            cen[m] = (dy_s[m] - dy_s[m].mean()) * np.sqrt(k / (k - 1))
        elif k_u >= 2:
            cen[m] = (dy_s[m] - u_mean) * u_fac
        else:
            cen[m] = dy_s[m]
    contrib[gs] += s * cen
    if k_c >= 2:
        cc = (dy_c - dy_c.mean()) * np.sqrt(k_c / (k_c - 1))
    elif k_u >= 2:
        cc = (dy_c - u_mean) * u_fac
    else:
        cc = dy_c
    contrib[ctrl] -= s.sum() / n_c * cc


def _estimate(Y, D, d1, F, S, keep, first, L, Lp, normalized, cl_ids):
    """Point estimates and unit-level influence functions (estimate − truth ≈ column sums)."""
    n, T = Y.shape
    eff = np.full(L, np.nan)
    dd = np.full(L, np.nan)
    dd_now = np.full(L, np.nan)
    n_sw = np.zeros(L, int)
    n_obs = np.zeros(L, int)
    IF_e = np.zeros((n, L))
    plc = np.full(Lp, np.nan)
    n_sw_p = np.zeros(Lp, int)
    n_obs_p = np.zeros(Lp, int)
    IF_p = np.zeros((n, Lp))
    sw = np.where(keep & (F < T))[0]
    # cohort cells (baseline, F)
    cells: dict[tuple, np.ndarray] = {}
    for g in sw:
        cells.setdefault((d1[g], F[g]), []).append(g)
    cells = {k: np.array(v) for k, v in cells.items()}
    base_of = {}
    for b in np.unique(d1[keep]):
        base_of[b] = np.where(keep & (d1 == b))[0]
    raw_num = np.zeros(L)
    for ell in range(1, L + 1):
        num = 0.0
        dsum = 0.0
        dnow = 0.0
        nl = 0
        contrib = np.zeros(n)
        obs_cells = 0
        pl_parts = []
        for (b, f), gs in cells.items():
            t = f - 1 + ell
            if t >= T or f - 1 < 0:
                continue
            pool = base_of[b]
            ctrl = pool[(F[pool] > t) & np.isfinite(Y[pool, t]) & np.isfinite(Y[pool, f - 1])
                        & (first[pool] <= f - 1)]
            gs_ok = gs[np.isfinite(Y[gs, t]) & np.isfinite(Y[gs, f - 1])]
            if len(ctrl) == 0 or len(gs_ok) == 0:
                continue
            s, dy_s, dy_c, cell_num = _cell_did(Y, S, gs_ok, ctrl, t, f - 1)
            num += cell_num
            cum = (D[gs_ok, f:t + 1] - d1[gs_ok, None]).sum(axis=1)
            dsum += float(np.sum(s * cum))
            dnow += float(np.sum(s * (D[gs_ok, t] - d1[gs_ok])))
            nl += len(gs_ok)
            obs_cells += len(gs_ok) + len(ctrl)
            _centred(contrib, gs_ok, ctrl, s, dy_s, dy_c, D[gs_ok, f], cl_ids)
            pl_parts.append((b, f, gs_ok, ctrl))
        if nl == 0:
            continue
        n_sw[ell - 1] = nl
        n_obs[ell - 1] = obs_cells
        dd[ell - 1] = dsum / nl
        dd_now[ell - 1] = dnow / nl
        raw_num[ell - 1] = num / nl
        scale = nl * (dd[ell - 1] if normalized else 1.0)
        eff[ell - 1] = num / scale
        IF_e[:, ell - 1] = contrib / scale
        # placebo with the same switchers and controls
        if ell <= Lp:
            pnum, pn, pobs = 0.0, 0, 0
            pcontrib = np.zeros(n)
            pdsum = 0.0
            for _b, f, gs_ok, ctrl in pl_parts:
                tp = f - 1 - ell
                if tp < 0:
                    continue
                g2 = gs_ok[np.isfinite(Y[gs_ok, tp]) & (first[gs_ok] <= tp)]
                c2 = ctrl[np.isfinite(Y[ctrl, tp]) & (first[ctrl] <= tp)]
                if len(g2) == 0 or len(c2) == 0:
                    continue
                s, dy_s, dy_c, cell_num = _cell_did(Y, S, g2, c2, tp, f - 1)
                pnum += cell_num
                pdsum += float(np.sum(s * (D[g2, f:f + ell] - d1[g2, None]).sum(axis=1)))
                pn += len(g2)
                pobs += len(g2) + len(c2)
                _centred(pcontrib, g2, c2, s, dy_s, dy_c, D[g2, f], cl_ids)
            if pn:
                pscale = pn * (pdsum / pn if normalized else 1.0)
                plc[ell - 1] = pnum / pscale
                IF_p[:, ell - 1] = pcontrib / pscale
                n_sw_p[ell - 1] = pn
                n_obs_p[ell - 1] = pobs
    ok = np.isfinite(eff)
    w = n_sw[ok] / n_sw[ok].sum() if ok.any() else np.array([])
    denom = float(np.sum(w * dd_now[ok])) if ok.any() else np.nan
    ate = float(np.sum(w * raw_num[ok]) / denom) if ok.any() and denom != 0 else np.nan
    # IF of the average total effect from the raw (unnormalised) effect IFs
    raw_IF = IF_e[:, ok] * (dd[ok] if normalized else 1.0)
    IF_a = raw_IF @ w / denom if ok.any() else np.zeros(n)
    return dict(effects=eff, placebos=plc, IF_e=IF_e, IF_p=IF_p, IF_a=IF_a, ate=ate,
                n_sw=n_sw, n_obs=n_obs, delta_d=dd, n_sw_p=n_sw_p, n_obs_p=n_obs_p)


def _bootstrap(Y, D, d1, F, S, keep, first, L, Lp, normalized, cl, B, seed):
    rng = np.random.default_rng(seed)
    n = Y.shape[0]
    ids = np.arange(n) if cl is None else pd.factorize(cl)[0]
    G = ids.max() + 1
    members = [np.where(ids == g)[0] for g in range(G)]
    draws_e, draws_p, draws_a = [], [], []
    for _ in range(B):
        pick = rng.integers(0, G, G)
        rows = np.concatenate([members[g] for g in pick])
        r = _estimate(Y[rows], D[rows], d1[rows], F[rows], S[rows], keep[rows], first[rows], L,
                      Lp, normalized, np.arange(len(rows)))
        draws_e.append(r["effects"])
        draws_p.append(r["placebos"])
        draws_a.append(r["ate"])
    de, dp, da = np.array(draws_e), np.array(draws_p), np.array(draws_a)

    def _cov(M):
        M = M[np.isfinite(M).all(axis=1)] if M.ndim == 2 else M[np.isfinite(M)]
        if len(M) < 2:
            raise DesignError("Too few bootstrap replications produced estimates.")
        return np.atleast_2d(np.cov(M, rowvar=False))

    cov_p = _cov(dp) if Lp else np.zeros((0, 0))
    # effect-placebo covariance from the replications where every effect and placebo estimated
    # is finite (columns never estimated, all NaN, are left out of the row filter)
    both = np.column_stack([de, dp]) if Lp else de
    cols = np.isfinite(both).any(axis=0)
    rows = np.isfinite(both[:, cols]).all(axis=1)
    cov_ep = np.full((L, Lp), np.nan)
    if Lp and rows.sum() >= 2:
        joint = np.atleast_2d(np.cov(np.nan_to_num(both[rows]), rowvar=False))
        cov_ep = joint[:L, L:]
    return (_cov(de), cov_p, float(_cov(da)[0, 0]), cov_ep,
            f"cluster bootstrap standard errors ({B} replications, seed {seed})")


def _adjust_controls(df, Y, units, times, unit, time, controls, d1, F, keep, ui, ti):
    """Subtract X'θ_b, θ_b from first differences among not-yet-switched units of baseline b."""
    n, T = Y.shape
    X = np.full((n, T, len(controls)), np.nan)
    check_numeric_complete(df, controls)
    X[ui, ti, :] = df[controls].to_numpy(float)
    Yadj = Y.copy()
    tt = np.arange(T)
    for b in np.unique(d1[keep]):
        grp = np.where(keep & (d1 == b))[0]
        dY = Y[grp, 1:] - Y[grp, :-1]
        dX = X[grp, 1:, :] - X[grp, :-1, :]
        stay = (tt[None, 1:] < F[grp, None])
        ok = stay & np.isfinite(dY) & np.isfinite(dX).all(axis=2)
        if ok.sum() <= len(controls) + T:
            raise DesignError(
                f"Too few not-yet-switched observations with baseline treatment {b:g} to estimate "
                f"the covariate adjustment for {controls}.")
        rows, cols = np.where(ok)
        yv = dY[rows, cols]
        xv = dX[rows, cols, :]
        dummies = np.zeros((len(rows), T - 1))
        dummies[np.arange(len(rows)), cols] = 1.0
        Z = np.column_stack([xv, dummies])
        coef, *_ = np.linalg.lstsq(Z, yv, rcond=None)
        theta = coef[: len(controls)]
        Yadj[grp] = Y[grp] - np.nan_to_num(X[grp] @ theta)
    return Yadj

