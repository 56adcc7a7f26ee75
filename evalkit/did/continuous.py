"""Difference-in-differences with a continuous dose (Callaway, Goodman-Bacon and Sant'Anna 2024).

Setting: units adopt a treatment at staggered dates (``cohort`` = first treated period, ``0`` =
never) and, from adoption on, receive a fixed dose ``d > 0``; never-treated units have dose 0.
For every cohort ``g`` and period ``t`` the long difference ``ΔY = Y_t − Y_base`` of the cohort's
units is regressed on a basis ``ψ(d)`` of their dose (a B-spline sieve or dose bins) and the mean
long difference of the comparison units (never treated, or not yet treated) is subtracted:

.. math::

    \\widehat{ATT}_{g,t}(d) = \\psi(d)'\\hat\\beta_{g,t} - \\overline{\\Delta Y}_{\\text{control}},
    \\qquad \\widehat{ACRT}_{g,t}(d) = \\psi'(d)'\\hat\\beta_{g,t}.

Post-treatment cells are averaged with cohort weights ``P(G=g | treated)`` split equally over
the cohort's post-treatment periods (the convention of the authors' R package ``contdid``).
The overall averages are ``ATT^o`` (the binarised DiD: mean ΔY of treated minus control) and
``ACRT^o`` (the average derivative at the treated units' own doses).

Identification (CGBS 2024, Section 3): ``ATT(d)`` is identified under parallel trends of the
untreated potential outcome across all doses. Reading ``ACRT(d)`` (or differences of ``ATT``
across doses) causally requires *strong* parallel trends — no selection on gains across doses;
under plain parallel trends those comparisons also contain selection bias.

Inference uses the influence function of every estimate (unit-level, or summed within clusters):
analytic standard errors, and a multiplier bootstrap (Rademacher weights) for simultaneous
(sup-t) bands over the dose grid.

Beside the dose response, :func:`continuous` fits the two-way fixed-effects regression of the
outcome on ``dose × post`` and reports the de Chaisemartin–D'Haultfœuille (2020) weights that
this coefficient attaches to the cell-level effects per unit of dose (number and sum of negative
weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import (
    DesignError,
    EvalkitError,
)
from .._shared.future import warn_renamed
from .._shared.inputs import panel_input
from .._shared.kernels import TwoWayAbsorber, label_sums
from .._shared.validation import (
    check_option,
)
from .._shared.vocabulary import DEFAULT_SEED, keywords
from .._summary import Summary
from ..inference.precision import not_estimable_reason, warn_not_estimable
from ..results import EffectVector, ScalarEffect, TidyVector
from ._dose import (
    BAND_QUANTILE,
    aggregate_cells,
    binarised_event_study,
    cell_table,
    dose_basis,
    estimate_dose_cells,
    prepare_dose_panel,
    sup_t_bands,
    treated_sample,
    twfe_dose,
)

__all__ = ["ContinuousResult", "DoseCurve", "continuous", "twfe_weights"]


_ASSUMPTIONS = [
    "ATT(d) is identified under parallel trends: absent treatment, units at every dose would "
    "have followed the same outcome trend as the comparison (zero-dose) units.",
    "ACRT(d), and comparisons of ATT across doses, have a causal reading only under STRONG "
    "parallel trends (no selection on gains across dose levels; CGBS 2024, Assumption SPT); "
    "under plain parallel trends they mix causal responses with selection bias.",
]


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass(repr=False)
class DoseCurve(EffectVector):
    """A curve of effects over a dose grid (``ATT(d)`` or ``ACRT(d)``).

    An :class:`~evalkit.results.EffectVector` whose ``to_frame()`` has the tidy columns plus a
    ``dose`` column (the evaluation point of each row).

    Parameters
    ----------
    dose : ndarray
        Dose of each term (same order as ``params``).
    quantity : str
        ``"ATT(d)"`` or ``"ACRT(d)"``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(60) for t in range(2016, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 40, 2019, 0)
    >>> df["dose"] = np.where(df.cohort > 0, 1 + (df.unit % 40) / 10, 0.0)
    >>> df["y"] = 0.1 * df.unit + 0.5 * df.dose * (df.year >= 2019) + rng.normal(0, 0.1, len(df))
    >>> r = did.continuous(df, outcome="y", unit="unit", time="year", dose="dose",
    ...                    cohort="cohort", degree=1)
    >>> curve = r.acrt_d
    >>> curve.quantity, float(curve.to_frame()["dose"].iloc[0]), curve.result_kind
    ('ACRT(d)', 1.39, 'vector')
    """

    inference_fixed: ClassVar[str] = (
        "its standard errors come from influence functions and its bands from a multiplier "
        "bootstrap, chosen at the call; call continuous(..., cluster=, bootstrap=) again"
    )
    dose: np.ndarray = field(default_factory=lambda: np.array([]))
    quantity: str = "ATT(d)"

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table with the usual columns, ``conf_*_uniform`` and a ``dose`` column."""
        out = super().to_frame(level)
        out.insert(1, "dose", np.asarray(self.dose, dtype=float))
        return out

    def plot(self, ax=None, level: float = 0.95, uniform: bool = True, language: str | None = None,
             **kwargs):
        """Draw the curve against the dose with pointwise and (optionally) uniform bands.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (a new figure otherwise).
        level : float
            Coverage of the bands.
        uniform : bool
            Also draw the simultaneous (sup-t) band.
        language : {"en", "zh"}, optional
            Axis-label language (default: the one set by ``report.use()``, else English).
        **kwargs
            ``xlabel``, ``ylabel``, ``color``, ``truth`` (callable ``d -> value`` drawn dashed).
        """
        return _plot_curve(self, ax=ax, level=level, uniform=uniform, language=language, **kwargs)


@dataclass(repr=False)
class ContinuousResult(TidyVector):
    """Output of :func:`continuous`.

    A vector result of the results protocol whose entries are the rows of ``to_frame()``: the
    ``ATT(d)`` and ``ACRT(d)`` curves, ``ATT_o``, ``ACRT_o`` and the TWFE coefficient
    (``params``, ``std_errors``, ``pvalues``, ``conf_int(level)``); ``summary()``, ``plot()``
    (both curves), ``pretrend_test()`` (the binarised event study's pre-periods).

    Attributes
    ----------
    att_d, acrt_d : DoseCurve
        Aggregated ``ATT(d)`` and ``ACRT(d)`` over the dose grid.
    att_overall, acrt_overall : ScalarEffect
        ``ATT^o`` (average effect among treated units) and ``ACRT^o`` (average causal response).
    event_study : EffectVector
        Binarised event study of ``ATT^o(g, t)`` by event time (pre-periods are placebo tests).
    twfe : ScalarEffect
        TWFE coefficient on ``dose × post`` (unit and period effects, clustered by unit/cluster).
    twfe_weights : DataFrame
        de Chaisemartin–D'Haultfœuille (2020) weights of the TWFE coefficient, one row per treated
        (unit, period) cell.
    att_gt : DataFrame
        Cell-level estimates (group, time, n_treated, n_control, att_o, acrt_o, weight).
    notes : list of str
        Assumptions and caveats (printed in ``summary()``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(60) for t in range(2016, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 40, 2019, 0)
    >>> df["dose"] = np.where(df.cohort > 0, 1 + (df.unit % 40) / 10, 0.0)
    >>> df["y"] = 0.1 * df.unit + 0.5 * df.dose * (df.year >= 2019) + rng.normal(0, 0.1, len(df))
    >>> r = did.continuous(df, outcome="y", unit="unit", time="year", dose="dose",
    ...                    cohort="cohort", degree=1)
    >>> r.params[["ATT_o", "ACRT_o"]].round(2).tolist()
    [1.48, 0.52]
    >>> 0 <= r.pretrend_test()["p_value"] <= 1
    True
    """

    inference_fixed: ClassVar[str] = DoseCurve.inference_fixed
    att_d: DoseCurve
    acrt_d: DoseCurve
    att_overall: ScalarEffect
    acrt_overall: ScalarEffect
    event_study: EffectVector | None
    twfe: ScalarEffect | None
    twfe_weights: pd.DataFrame | None
    att_gt: pd.DataFrame
    method: str
    control_group: str
    knots: np.ndarray
    nobs: int
    n_units: int
    n_treated_units: int
    n_control_units: int
    _pretrend: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    title: str = "Continuous-dose DiD (Callaway, Goodman-Bacon and Sant'Anna 2024)"

    def pretrend_test(self) -> dict[str, float]:
        """Joint Wald test that the binarised event study's pre-treatment effects are zero.

        Returns
        -------
        dict
            ``statistic``, ``df``, ``p_value`` (chi-square).

        Raises
        ------
        DesignError
            No cohort has a pre-treatment period with a comparison.
        """
        if self._pretrend is None:
            raise DesignError(
                "No pre-treatment event times in the binarised event study (no cohort has a "
                "period before its treatment with a comparison), so there is no pre-trend test."
            )
        return dict(self._pretrend)

    @property
    def pretrend(self) -> dict[str, float] | None:
        """Deprecated: use :meth:`pretrend_test` (removed in 0.3.0)."""
        warn_renamed("ContinuousResult.pretrend", "ContinuousResult.pretrend_test()")
        return None if self._pretrend is None else dict(self._pretrend)

    @property
    def twfe_negative_weights(self) -> dict[str, float]:
        """Number, share and sum of negative TWFE weights (dCDH 2020)."""
        w = self.twfe_weights
        if w is None or w.empty:
            return {"n_cells": 0, "n_negative": 0, "share_negative": np.nan, "sum_negative": np.nan}
        neg = w["weight"] < 0
        return {
            "n_cells": int(len(w)),
            "n_negative": int(neg.sum()),
            "share_negative": float(neg.mean()),
            "sum_negative": float(w.loc[neg, "weight"].sum()),
        }

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One tidy table: the two curves, the two averages and the TWFE coefficient.

        Columns are the tidy columns plus ``dose`` (missing for scalars) and the uniform bands.
        """
        parts = []
        for curve in (self.att_d, self.acrt_d):
            parts.append(curve.to_frame(level))
        for sc in (self.att_overall, self.acrt_overall) + ((self.twfe,) if self.twfe else ()):
            f = sc.to_frame(level)
            f.insert(1, "dose", np.nan)
            parts.append(f)
        return pd.concat(parts, ignore_index=True)

    def summary(self, level: float = 0.95) -> Summary:
        """Readable text summary with assumptions and the TWFE weight diagnosis."""
        lines = [self.title, "=" * len(self.title)]
        lines.append(
            f"Units: {self.n_units} ({self.n_treated_units} treated, {self.n_control_units} "
            f"zero-dose); observations: {self.nobs}; method: {self.method}; "
            f"comparison: {self.control_group}"
        )
        for sc in (self.att_overall, self.acrt_overall):
            lo, hi = sc.conf_int(level)
            lines.append(
                f"{sc.term}: {sc.estimate:.5g} (s.e. {sc.std_error:.4g}), "
                f"{int(level * 100)}% CI [{lo:.5g}, {hi:.5g}], p = {sc.pvalue:.3g}"
            )
        lines.append(f"Inference: {self.att_d.inference}")
        if self._pretrend is not None:
            pt = self._pretrend
            lines.append(
                f"Pre-trend Wald test (event times < 0): chi2({pt['df']}) = "
                f"{pt['statistic']:.3f}, p = {pt['p_value']:.3g}"
            )
        if self.twfe is not None:
            nw = self.twfe_negative_weights
            lines.append(
                f"TWFE on dose×post: {self.twfe.estimate:.5g} (s.e. {self.twfe.std_error:.4g}); "
                f"dCDH (2020) weights: {nw['n_negative']} of {nw['n_cells']} treated cells "
                f"negative (share {nw['share_negative']:.3f}, sum {nw['sum_negative']:.4f})"
            )
        lines.append("ATT(d) curve:")
        fr = self.att_d.to_frame(level)[["dose", "estimate", "std_error", "conf_low", "conf_high"]]
        step = max(1, len(fr) // 10)
        lines.append(fr.iloc[::step].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def __repr__(self) -> str:
        return f"<ContinuousResult: {self.method}, {len(self.att_d.params)} dose points>"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def plot(self, axes=None, level: float = 0.95, uniform: bool = True, language: str | None = None,
             truth_att=None, truth_acrt=None):
        """Two panels: ``ATT(d)`` and ``ACRT(d)`` with pointwise and uniform bands.

        Parameters
        ----------
        axes : sequence of two Axes, optional
            Where to draw (a new 1×2 figure otherwise).
        level : float
            Band coverage.
        uniform : bool
            Draw simultaneous bands too.
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).
        truth_att, truth_acrt : callable, optional
            True curves ``d -> value`` drawn dashed (simulations and the demo panel).

        Returns
        -------
        matplotlib Figure
        """
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        else:
            fig = axes[0].figure
        self.att_d.plot(ax=axes[0], level=level, uniform=uniform, language=language, truth=truth_att)
        self.acrt_d.plot(ax=axes[1], level=level, uniform=uniform, language=language,
                         truth=truth_acrt)
        fig.tight_layout()
        return fig


#: report label keys of the dose-curve plot's words
_CURVE_LABELS = {"dose": "curve_dose", "ATT(d)": "curve_att", "ACRT(d)": "curve_acrt", "pw": "curve_pointwise",
                 "unif": "curve_uniform", "truth": "curve_truth"}


def _plot_curve(curve: DoseCurve, ax=None, level=0.95, uniform=True, language=None, truth=None,
                xlabel=None, ylabel=None, color="C0"):
    import matplotlib.pyplot as plt

    from ..report.labels import t
    from ..report.style import plot_language

    language = plot_language(language)
    lab = {name: t(key, language) for name, key in _CURVE_LABELS.items()}
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    fr = curve.to_frame(level)
    x = fr["dose"].to_numpy()
    if uniform:
        ax.fill_between(x, fr["conf_low_uniform"], fr["conf_high_uniform"], color=color,
                        alpha=0.15, lw=0, label=lab["unif"])
    ax.fill_between(x, fr["conf_low"], fr["conf_high"], color=color, alpha=0.3, lw=0,
                    label=lab["pw"])
    style = "o-" if len(x) <= 12 else "-"
    ax.plot(x, fr["estimate"], style, color=color, lw=1.8, label=curve.quantity)
    if truth is not None:
        ax.plot(x, [truth(v) for v in x], "--", color="k", lw=1.2, label=lab["truth"])
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(xlabel or lab["dose"])
    ax.set_ylabel(ylabel or lab.get(curve.quantity, curve.quantity))
    ax.legend(frameon=False, fontsize=8)
    return ax


def _effects(theta, cov, se, grid, ngrid: int, inference: str, notes: list[str], crit_att, crit_acrt,
             maxes, bootstrap: bool, level: float, method: str, nobs: int):
    """The ATT(d) and ACRT(d) curves (with their sup-t bands) and the two overall effects."""

    def _curve(sl, name, crit, quantity, sup):
        lab = [f"{name}[d={v:.4g}]" for v in grid]
        return DoseCurve(
            params=pd.Series(theta[sl], index=lab), cov=pd.DataFrame(cov[sl, sl], index=lab,
                                                                     columns=lab),
            inference=inference, uniform_crit=crit, uniform_level=level,
            uniform_draws=sup if bootstrap else None, uniform_quantile=BAND_QUANTILE,
            title=f"{quantity} ({method})", nobs=nobs, notes=notes, dose=grid.copy(),
            quantity=quantity)

    att_curve = _curve(slice(0, ngrid), "ATT", crit_att, "ATT(d)", maxes[:, 0])
    acrt_curve = _curve(slice(ngrid, 2 * ngrid), "ACRT", crit_acrt, "ACRT(d)", maxes[:, 1])
    att_o = ScalarEffect(float(theta[-2]), float(se[-2]), inference=inference, term="ATT_o",
                         title="Average treatment effect on the treated (ATT^o)", nobs=nobs,
                         notes=notes[:1])
    acrt_o = ScalarEffect(float(theta[-1]), float(se[-1]), inference=inference, term="ACRT_o",
                          title="Average causal response on the treated (ACRT^o)", nobs=nobs,
                          notes=notes[1:2])
    return att_curve, acrt_curve, att_o, acrt_o


def _check_options(method, control_group, degree, n_bins, n_draws) -> None:
    """Refuse option values :func:`continuous` cannot use, saying what it needs."""
    check_option("method", method, ("spline", "binned"))
    check_option("control_group", control_group, ("never_treated", "not_yet_treated"))
    if not isinstance(degree, (int, np.integer)) or degree < 0:
        raise EvalkitError(f"degree must be a non-negative integer, got {degree!r}.")
    if method == "binned" and (not isinstance(n_bins, (int, np.integer)) or n_bins < 1):
        raise EvalkitError(f"n_bins must be a positive integer, got {n_bins!r}.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or 0 < n_draws < 99 \
            or n_draws < 0:
        raise EvalkitError(
            f"n_draws={n_draws!r}: use 0 (no simultaneous bands) or at least 99 bootstrap draws "
            "(999 by default)."
        )


# --------------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------------
def _retired_bootstrap(old: dict) -> dict:
    """``bootstrap=True/False`` and ``n_bootstrap=`` (retired) as ``n_draws`` (0 = no bands)."""
    return {"n_draws": int(old.get("n_bootstrap", 999)) if old.get("bootstrap", True) else 0}


@keywords(bootstrap="n_draws", n_bootstrap="n_draws", convert=_retired_bootstrap)
@panel_input
def continuous(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    dose: str,
    cohort: str,
    method: Literal["spline", "binned"] = "spline",
    degree: int = 3,
    knots: int | list[float] = 0,
    n_bins: int = 4,
    dose_grid: np.ndarray | None = None,
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated",
    n_draws: int = 999,
    seed: int | None = DEFAULT_SEED,
    cluster: str | None = None,
    level: float = 0.95,
    twfe: bool = True,
) -> ContinuousResult:
    """Dose-response DiD: ``ATT(d)``, ``ACRT(d)`` and their averages, with staggered timing.

    Parameters
    ----------
    data : DataFrame
        Balanced panel, one row per unit and period.
    outcome, unit, time : str
        Column names.
    dose : str
        Dose column (``>= 0``). For treated units it must be constant from the cohort period on
        (values before adoption are ignored); never-treated units must have dose 0.
    cohort : str
        First treated period (``0`` = never treated).
    method : {"spline", "binned"}
        B-spline sieve (``degree``, ``knots``) or dose bins (``n_bins`` quantile bins; ``ATT``
        per bin and ``ACRT`` as finite differences between bin mean doses, from dose 0).
    degree : int
        B-spline degree (3 = cubic).
    knots : int or list of float
        Number of interior knots at dose quantiles, or their positions.
    n_bins : int
        Number of quantile bins for ``method="binned"``.
    dose_grid : array, optional
        Doses at which the spline curves are reported (default: the 10th..99th percentiles of
        treated doses in steps of 1 percentile, as R ``contdid``).
    control_group : {"never_treated", "not_yet_treated"}
        Comparison units for each cohort-period cell.
    n_draws : int
        Multiplier bootstrap (Rademacher) draws for the critical value of the simultaneous bands
        (at least 99; default 999). 0: no bands (pointwise analytic intervals only). Standard
        errors are analytic either way.
    seed : int or None
        Bootstrap seed (default :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    cluster : str, optional
        Column with cluster labels (containing whole units); influence functions are summed within
        clusters. Default: units.
    level : float
        Coverage of the simultaneous band computed by the bootstrap.
    twfe : bool
        Also fit the TWFE regression on ``dose × post`` and its dCDH (2020) weights.

    Returns
    -------
    ContinuousResult

    Raises
    ------
    PanelDataError
        Negative doses, a dose that changes after adoption, unbalanced panel, cohort/dose mismatch.
    NoControlUnitsError
        No zero-dose (never-treated) units, or no comparison units for any cell.

    Notes
    -----
    ``ATT(d)`` needs parallel trends; the causal reading of ``ACRT(d)`` needs strong parallel
    trends (Callaway, Goodman-Bacon and Sant'Anna 2024, "Difference-in-differences with a
    continuous treatment", NBER WP 32117). Standard errors treat the aggregation weights as fixed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(60) for t in range(2016, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 40, 2019, 0)
    >>> df["dose"] = np.where(df.cohort > 0, 1 + (df.unit % 40) / 10, 0.0)
    >>> df["y"] = 0.1 * df.unit + 0.5 * df.dose * (df.year >= 2019) + rng.normal(0, 0.1, len(df))
    >>> r = did.continuous(df, outcome="y", unit="unit", time="year", dose="dose",
    ...                    cohort="cohort", degree=1, n_draws=0)
    >>> print(f"{r.acrt_overall.estimate:.2f} {r.att_overall.estimate:.2f}")
    0.52 1.48
    """
    _check_options(method, control_group, degree, n_bins, n_draws)
    bootstrap, n_bootstrap = n_draws > 0, int(n_draws)
    units, times, Y, Dm, G, d_unit, cl, df = prepare_dose_panel(data, outcome, unit, time, dose, cohort,
                                                      cluster)
    n, T = Y.shape
    G, d_unit, never, cohorts, treated_all, tdoses = treated_sample(G, d_unit, units, times, cohort,
                                                                     control_group)

    basis, grid, kv, Pg, dPg = dose_basis(method, tdoses, degree, knots, dose_grid, n_bins)
    K = basis.size
    ngrid = len(grid)
    P = 2 * ngrid + 2  # att(d) grid, acrt(d) grid, att_o, acrt_o

    cells = estimate_dose_cells(Y, G, d_unit, never, cohorts, times, basis, Pg, dPg, method,
                            control_group)
    post_cells, W, theta, IF, n_by_g = aggregate_cells(cells, G, cohorts, n, P)
    IFc, n_cl = label_sums(IF, cl) if cl is not None else (IF, n)  # influence summed by cluster
    cov = IFc.T @ IFc
    reason = not_estimable_reason(n_cl)
    if reason is not None:  # no false precision with one or two clusters
        warn_not_estimable("continuous", reason)
        cov = np.full_like(cov, np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))

    crit_att, crit_acrt, maxes, boot_desc = sup_t_bands(IFc, se, ngrid, bootstrap, reason,
                                                         n_bootstrap, seed, level)
    unit_word = f"{n_cl} clusters" if cl is not None else f"{n} units"
    inference = f"{boot_desc}; clustered by {'column ' + repr(cluster) if cluster else 'unit'} ({unit_word})"

    notes = list(_ASSUMPTIONS)
    notes.append("Cells are averaged with weights P(G=g | treated) split equally over each "
                 "cohort's post-treatment periods; standard errors treat these weights as fixed.")
    if data.attrs.get("synthetic"):
        notes.append("Synthetic demo data, not real statistics.")

    att_curve, acrt_curve, att_o, acrt_o = _effects(theta, cov, se, grid, ngrid, inference, notes,
                                                    crit_att, crit_acrt, maxes, bootstrap, level,
                                                    method, n * T)

    att_gt = cell_table(cells, post_cells, W)
    es, pretrend = binarised_event_study(cells, n, cl, n_by_g, inference, n * T, reason)

    tw = wts = None
    if twfe:
        tw, wts = twfe_dose(df, units, times, Y, G, d_unit, cl, outcome, cluster, reason)
    return ContinuousResult(
        att_d=att_curve, acrt_d=acrt_curve, att_overall=att_o, acrt_overall=acrt_o,
        event_study=es, twfe=tw, twfe_weights=wts, att_gt=att_gt, method=method,
        control_group=control_group, knots=kv, nobs=n * T, n_units=n,
        n_treated_units=int(treated_all.sum()), n_control_units=int(never.sum()),
        _pretrend=pretrend, notes=notes,
        extra={"influence": IF, "cell_weights": W, "basis_size": K, "dose_by_unit":
               pd.Series(d_unit, index=units)},
    )


def twfe_weights(treat: np.ndarray, unit_codes: np.ndarray, time_codes: np.ndarray) -> np.ndarray:
    """de Chaisemartin–D'Haultfœuille (2020) weights of a TWFE coefficient, per observation.

    With ``ε`` the residual of the treatment on unit and period effects, the TWFE coefficient is
    ``β = Σ w_{it} Δ_{it}`` over treated cells, where ``Δ_{it}`` is the effect per unit of
    treatment and ``w_{it} = ε_{it} D_{it} / Σ ε D`` (weights sum to one; some can be negative).

    Parameters
    ----------
    treat : ndarray
        Treatment (dose) per observation.
    unit_codes, time_codes : ndarray of int
        Integer codes of units and periods.

    Returns
    -------
    ndarray
        Weight of each observation (zero where ``treat == 0``).
    """
    eps = TwoWayAbsorber(unit_codes, time_codes).absorb(np.asarray(treat, float))
    denom = float(eps @ treat)
    if abs(denom) < 1e-14:
        raise DesignError("The treatment has no variation left after unit and period effects.")
    return eps * treat / denom
