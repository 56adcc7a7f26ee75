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

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline

from .._shared.exceptions import (
    DesignError,
    EvalkitError,
    EvalkitWarning,
    ExcludedUnitsWarning,
    NoControlUnitsError,
    PanelDataError,
)
from .._shared.future import warn_renamed
from .._shared.inputs import panel_input
from .._shared.validation import (
    check_columns,
    check_numeric_complete,
    check_option,
    check_unique_panel,
)
from .._shared.vocabulary import DEFAULT_SEED, keywords
from .._summary import Summary
from ..inference.covariance import compute as compute_cov
from ..inference.design import LinearDesign
from ..inference.precision import not_estimable_reason, warn_not_estimable
from ..results import EffectVector, ScalarEffect, TidyVector
from ._common import unit_clusters

__all__ = ["ContinuousResult", "DoseCurve", "continuous", "twfe_weights"]

#: Quantile rule of the sup-t critical value (numpy's default, linear interpolation).
_BAND_QUANTILE = "linear"

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


_LABELS = {
    "en": {"dose": "Dose", "ATT(d)": "ATT(d)", "ACRT(d)": "ACRT(d)", "pw": "pointwise CI",
           "unif": "uniform band", "truth": "truth"},
    "zh": {"dose": "补贴强度", "ATT(d)": "平均处理效应 ATT(d)", "ACRT(d)": "平均因果响应 ACRT(d)",
           "pw": "逐点置信区间", "unif": "一致置信带", "truth": "真实值"},
}


def _plot_curve(curve: DoseCurve, ax=None, level=0.95, uniform=True, language=None, truth=None,
                xlabel=None, ylabel=None, color="C0"):
    import matplotlib.pyplot as plt

    from ..report.style import plot_language

    lab = _LABELS[plot_language(language)]
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


# --------------------------------------------------------------------------------------------
# dose bases
# --------------------------------------------------------------------------------------------
def _knot_vector(doses: np.ndarray, degree: int, knots) -> np.ndarray:
    lo, hi = float(doses.min()), float(doses.max())
    if isinstance(knots, (int, np.integer)):
        if knots < 0:
            raise EvalkitError(f"knots must be >= 0 (number of interior knots), got {knots}.")
        interior = np.quantile(doses, np.linspace(0, 1, int(knots) + 2)[1:-1]) if knots else []
    else:
        interior = np.sort(np.asarray(knots, dtype=float))
        if interior.size and (interior.min() <= lo or interior.max() >= hi):
            raise EvalkitError(
                f"Interior knots must lie strictly inside the treated dose range ({lo:g}, {hi:g}); "
                f"got {interior.tolist()}. Pass an integer number of quantile knots instead."
            )
    return np.concatenate([np.repeat(lo, degree + 1), interior, np.repeat(hi, degree + 1)])


class _SplineBasis:
    """Clamped B-spline basis (partition of unity, so it spans the intercept)."""

    def __init__(self, t: np.ndarray, degree: int):
        self.t = t
        self.k = degree
        nb = len(t) - degree - 1
        self.spl = BSpline(t, np.eye(nb), degree, extrapolate=True)
        self.dspl = self.spl.derivative() if degree > 0 else None
        self.size = nb

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.atleast_2d(self.spl(np.asarray(x, dtype=float)))

    def deriv(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.dspl is None:
            return np.zeros((len(x), self.size))
        return np.atleast_2d(self.dspl(x))


class _BinBasis:
    """Dose-bin indicators; ACRT by finite differences between bin mean doses (0 → first bin)."""

    def __init__(self, edges: np.ndarray, centers: np.ndarray):
        self.edges = edges
        self.centers = centers
        self.size = len(centers)

    def index(self, x: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.edges[1:-1], np.asarray(x, dtype=float), side="right")
        return np.clip(idx, 0, self.size - 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), self.size))
        out[np.arange(len(x)), self.index(x)] = 1.0
        return out

    def diff_matrix(self) -> np.ndarray:
        """Rows map bin effects to ACRT_j = (ATT_j − ATT_{j−1}) / (c_j − c_{j−1}), ATT_0 = 0."""
        J = self.size
        D = np.zeros((J, J))
        prev = 0.0
        for j in range(J):
            h = self.centers[j] - prev
            D[j, j] = 1.0 / h
            if j > 0:
                D[j, j - 1] = -1.0 / h
            prev = self.centers[j]
        return D

    def deriv(self, x: np.ndarray) -> np.ndarray:
        return self.diff_matrix()[self.index(x)]


# --------------------------------------------------------------------------------------------
# data preparation
# --------------------------------------------------------------------------------------------
def _prepare(data, outcome, unit, time, dose, cohort, cluster):
    check_columns(data, {"outcome": outcome, "unit": unit, "time": time, "dose": dose,
                         "cohort": cohort, "cluster": cluster})
    df = data[[c for c in dict.fromkeys([unit, time, outcome, dose, cohort, cluster]) if c]].copy()
    check_numeric_complete(df, [outcome, dose, cohort, time])
    check_unique_panel(df, unit, time)
    neg = df.index[df[dose] < 0]
    if len(neg):
        units = pd.unique(df.loc[neg, unit])[:10]
        raise PanelDataError(
            [f"column {dose!r} has {len(neg)} negative value(s) (units {', '.join(map(str, units))};"
             f" rows {', '.join(map(str, neg[:10]))}): a dose is an amount >= 0; fix or drop them"],
            header="Invalid dose",
        )
    coh_nuniq = df.groupby(unit)[cohort].nunique()
    bad = coh_nuniq.index[coh_nuniq > 1]
    if len(bad):
        raise PanelDataError(
            [f"column {cohort!r} varies within unit(s) {', '.join(map(str, bad[:10]))}: the cohort "
             "(first treated period, 0 = never) must be one value per unit"],
            header="Invalid cohort",
        )
    times = np.sort(df[time].unique())
    counts = df.groupby(unit)[time].count()
    unbal = counts.index[counts < len(times)]
    if len(unbal):
        raise PanelDataError(
            [f"{len(unbal)} unit(s) lack some of the {len(times)} periods "
             f"({', '.join(map(str, unbal[:10]))}): the continuous-dose estimator needs a balanced "
             "panel; drop those units or restrict the periods"],
            header="Unbalanced panel",
        )
    df = df.sort_values([unit, time])
    units = df[unit].drop_duplicates().to_numpy()
    n, T = len(units), len(times)
    Y = df[outcome].to_numpy(float).reshape(n, T)
    Dm = df[dose].to_numpy(float).reshape(n, T)
    G = df[cohort].to_numpy(float).reshape(n, T)[:, 0]
    # dose fixed from adoption on
    post = (G[:, None] > 0) & (times[None, :] >= G[:, None])
    Dpost = np.where(post, Dm, np.nan)
    dmin, dmax = np.nanmin(np.where(post, Dm, np.inf), axis=1), np.nanmax(np.where(post, Dm, -np.inf),
                                                                          axis=1)
    changing = (G > 0) & (G <= times[-1]) & ~np.isclose(dmin, dmax, rtol=1e-9, atol=1e-12)
    if changing.any():
        bad = units[changing]
        raise PanelDataError(
            [f"the dose {dose!r} changes after adoption for {changing.sum()} unit(s): "
             f"{', '.join(map(str, bad[:10]))}. The CGBS estimator needs a dose fixed from the "
             "first treated period on; use did.dcdh for doses that change over time, or define "
             "the dose as the first-year intensity"],
            header="Dose not fixed after adoption",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d_unit = np.where(G > 0, np.nanmax(np.where(np.isnan(Dpost), -np.inf, Dpost), axis=1), 0.0)
    d_unit[~np.isfinite(d_unit)] = 0.0
    never_pos = (G == 0) & (np.abs(Dm).max(axis=1) > 0)
    if never_pos.any():
        raise PanelDataError(
            [f"{never_pos.sum()} unit(s) have cohort 0 (never treated) but a positive {dose!r}: "
             f"{', '.join(map(str, units[never_pos][:10]))}. Give them their first treated period "
             "or set their dose to 0"],
            header="Dose and cohort disagree",
        )
    zero_treated = (G > 0) & (G <= times[-1]) & (d_unit == 0)
    if zero_treated.any():
        raise PanelDataError(
            [f"{zero_treated.sum()} unit(s) have a cohort but dose 0 after adoption: "
             f"{', '.join(map(str, units[zero_treated][:10]))}. Set their cohort to 0 (never "
             "treated) or give their dose"],
            header="Dose and cohort disagree",
        )
    cl = unit_clusters(df, unit, cluster, units)
    return units, times, Y, Dm, G, d_unit, cl, df


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
    bootstrap, n_bootstrap = n_draws > 0, int(n_draws)
    units, times, Y, Dm, G, d_unit, cl, df = _prepare(data, outcome, unit, time, dose, cohort,
                                                      cluster)
    n, T = Y.shape
    tpos = {t: i for i, t in enumerate(times)}
    # cohorts treated in the first period have no pre-period: excluded
    early = (G > 0) & (G <= times[0])
    if early.any():
        warnings.warn(
            f"{early.sum()} unit(s) are treated from the first period ({times[0]}) and have no "
            f"pre-treatment period; they are excluded: {', '.join(map(str, units[early][:10]))}",
            ExcludedUnitsWarning, stacklevel=2)
    late = G > times[-1]
    if late.any():
        # treated after the sample ends: never treated within the sample
        G = np.where(late, 0.0, G)
        d_unit = np.where(late, 0.0, d_unit)
    never = G == 0
    if never.sum() == 0:
        raise NoControlUnitsError(
            f"No zero-dose units: every unit in {cohort!r} is treated in the sample. The CGBS "
            "estimator compares dosed units with untreated (dose 0) units; add never-treated "
            "units (cohort 0) or restrict to periods before the last cohort is treated.")
    if control_group == "never_treated" and never.sum() < 2:
        raise NoControlUnitsError(
            f"Only {never.sum()} never-treated unit(s); at least 2 zero-dose units are needed.")
    cohorts = np.sort(np.unique(G[(G > 0) & ~early]))
    treated_all = np.isin(G, cohorts)
    tdoses = d_unit[treated_all]
    if len(tdoses) == 0:
        raise DesignError(f"No treated units with a pre-treatment period in {cohort!r}.")

    # ---- dose basis ---------------------------------------------------------------------
    if method == "spline":
        kv = _knot_vector(tdoses, int(degree), knots)
        basis = _SplineBasis(kv, int(degree))
        if dose_grid is None:
            grid = np.quantile(tdoses, np.arange(0.10, 0.99 + 1e-9, 0.01))
        else:
            grid = np.asarray(dose_grid, dtype=float)
        Pg, dPg = basis(grid), basis.deriv(grid)
    else:
        edges = np.quantile(tdoses, np.linspace(0, 1, n_bins + 1))
        edges = np.unique(edges)
        if len(edges) - 1 < n_bins:
            warnings.warn(f"Only {len(edges) - 1} distinct dose bins could be formed.",
                          EvalkitWarning, stacklevel=2)
        if len(edges) < 2:
            edges = np.array([tdoses.min(), tdoses.max() + 1.0])
        tmp = _BinBasis(edges, np.zeros(len(edges) - 1))
        idx = tmp.index(tdoses)
        centers = np.array([tdoses[idx == j].mean() for j in range(tmp.size)])
        basis = _BinBasis(edges, centers)
        grid = centers
        kv = edges
        Pg, dPg = np.eye(basis.size), basis.diff_matrix()
    K = basis.size
    ngrid = len(grid)
    P = 2 * ngrid + 2  # att(d) grid, acrt(d) grid, att_o, acrt_o

    # ---- cells --------------------------------------------------------------------------
    cells = []  # (g, t, est[P], avail[P], IF rows (idx, values n_i x P), n_t, n_c)
    for g in cohorts:
        tr = np.where(G == g)[0]
        dg = d_unit[tr]
        Psi = basis(dg)
        dPsi = basis.deriv(dg)
        if method == "binned":
            avail_bins = Psi.sum(axis=0) > 0
        else:
            avail_bins = np.ones(K, bool)
        PtP = Psi.T @ Psi
        rank = np.linalg.matrix_rank(PtP)
        if method == "spline" and rank < K:
            warnings.warn(
                f"Cohort {g:g}: its {len(tr)} dose value(s) do not identify all {K} spline "
                "coefficients; a minimum-norm fit is used (consider fewer knots or a lower degree).",
                EvalkitWarning, stacklevel=2)
        bread = np.linalg.pinv(PtP)
        M = bread @ Psi.T  # K x n_g
        gi = tpos[g]
        base_post = gi - 1
        for ti, t in enumerate(times):
            if ti == 0:
                continue
            is_post = t >= g
            bi = base_post if is_post else ti - 1
            if control_group == "never_treated":
                ctrl = np.where(never)[0]
            else:
                ctrl = np.where(never | ((G > max(t, times[bi])) & (G != g)))[0]
            if len(ctrl) == 0:
                if is_post:
                    warnings.warn(f"No comparison units for cohort {g:g} in period {t}; cell "
                                  "skipped.", EvalkitWarning, stacklevel=2)
                continue
            dy = Y[tr, ti] - Y[tr, bi]
            dyc = Y[ctrl, ti] - Y[ctrl, bi]
            mu0 = dyc.mean()
            beta = M @ dy
            resid = dy - Psi @ beta
            att_grid = Pg @ beta - mu0
            # slopes of ATT(d) = psi(d)'beta - mu0 with ATT(0) = 0: the dose-0 anchor matters for
            # the first bin's finite difference (for splines dPsi rows sum to 0, so mu0 drops out)
            acrt_grid = dPg @ (beta - mu0)
            att_o = dy.mean() - mu0
            slopes = dPsi @ (beta - mu0)
            acrt_o = slopes.mean()
            est = np.concatenate([att_grid, acrt_grid, [att_o, acrt_o]])
            if method == "binned":
                # a bin with no unit in this cohort: its ATT and the ACRTs using it are missing
                a_att = avail_bins.copy()
                a_acrt = avail_bins & np.concatenate([[True], avail_bins[:-1]])
                avail = np.concatenate([a_att, a_acrt, [True, True]])
            else:
                avail = np.ones(P, bool)
            # influence functions (estimate - truth ≈ sum of rows)
            lin = M.T * resid[:, None]  # n_g x K: (X'X)^-1 x_i e_i
            if_t = np.empty((len(tr), P))
            if_t[:, :ngrid] = lin @ Pg.T
            if_t[:, ngrid:2 * ngrid] = lin @ dPg.T
            if_t[:, -2] = (dy - dy.mean()) / len(tr)
            if_t[:, -1] = lin @ dPsi.mean(axis=0) + (slopes - acrt_o) / len(tr)
            # control rows: outer(cdev, pattern) (the comparison mean enters every ATT linearly)
            cdev = -(dyc - mu0) / len(ctrl)
            pat = np.concatenate([np.ones(ngrid), dPg.sum(axis=1), [1.0, dPsi.sum(axis=1).mean()]])
            cells.append(dict(g=g, t=t, est=est, avail=avail, tr=tr, ctrl=ctrl, if_t=if_t,
                              cdev=cdev, pat=pat, n_t=len(tr), n_c=len(ctrl), post=is_post,
                              att_o=att_o, acrt_o=acrt_o))
    post_cells = [c for c in cells if c["post"]]
    if not post_cells:
        raise NoControlUnitsError(
            "No post-treatment cohort-period cell has comparison units; with "
            "control_group='not_yet_treated' the last cohort needs never-treated units.")

    # ---- aggregation weights: P(G=g | treated), equal over the cohort's post periods ---------
    n_by_g = {g: (G == g).sum() for g in cohorts}
    post_per_g: dict[float, int] = {}
    for c in post_cells:
        post_per_g[c["g"]] = post_per_g.get(c["g"], 0) + 1
    tot = sum(n_by_g[g] for g in post_per_g)
    W = np.array([n_by_g[c["g"]] / tot / post_per_g[c["g"]] for c in post_cells])
    A = np.array([c["avail"] for c in post_cells], dtype=float)  # cells x P
    Wp = W[:, None] * A
    Wp = Wp / Wp.sum(axis=0, keepdims=True)
    est_mat = np.array([np.where(c["avail"], c["est"], 0.0) for c in post_cells])
    theta = (Wp * est_mat).sum(axis=0)
    IF = np.zeros((n, P))
    for k, c in enumerate(post_cells):
        # unit indices are unique within a cell, so fancy-index accumulation is exact
        IF[c["tr"]] += c["if_t"] * Wp[k]
        IF[c["ctrl"]] += np.outer(c["cdev"], c["pat"] * Wp[k])
    # clusters
    if cl is not None:
        codes, uniq = pd.factorize(cl)
        IFc = np.zeros((len(uniq), P))
        np.add.at(IFc, codes, IF)
        n_cl = len(uniq)
    else:
        IFc = IF
        n_cl = n
    cov = IFc.T @ IFc
    reason = not_estimable_reason(n_cl)
    if reason is not None:  # no false precision with one or two clusters
        warn_not_estimable("continuous", reason)
        cov = np.full_like(cov, np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))

    # ---- multiplier bootstrap for sup-t bands -------------------------------------------
    crit_att = crit_acrt = None
    maxes = np.full((0, 2), np.nan)
    boot_desc = "analytic (influence-function) standard errors"
    if bootstrap and reason is None:
        rng = np.random.default_rng(seed)
        crit_att = np.empty(1)
        sl_att, sl_acrt = slice(0, ngrid), slice(ngrid, 2 * ngrid)
        maxes = np.empty((n_bootstrap, 2))
        chunk = max(1, int(4e7 // max(1, IFc.shape[0])))  # Rademacher matrix <= ~320 MB
        for s in range(0, n_bootstrap, chunk):
            b = min(chunk, n_bootstrap - s)
            xi = rng.integers(0, 2, size=(b, IFc.shape[0]), dtype=np.int8).astype(np.float64)
            xi *= 2.0
            xi -= 1.0
            draws = xi @ IFc
            with np.errstate(divide="ignore", invalid="ignore"):
                tz = np.abs(draws) / se
            tz[:, se == 0] = 0.0
            maxes[s:s + b, 0] = tz[:, sl_att].max(axis=1)
            maxes[s:s + b, 1] = tz[:, sl_acrt].max(axis=1)
        crit_att = float(np.quantile(maxes[:, 0], level, method=_BAND_QUANTILE))
        crit_acrt = float(np.quantile(maxes[:, 1], level, method=_BAND_QUANTILE))
        boot_desc = (f"analytic (influence-function) standard errors; simultaneous bands by "
                     f"multiplier bootstrap ({n_bootstrap} Rademacher draws, seed {seed})")
    unit_word = f"{n_cl} clusters" if cl is not None else f"{n} units"
    inference = f"{boot_desc}; clustered by {'column ' + repr(cluster) if cluster else 'unit'} ({unit_word})"

    notes = list(_ASSUMPTIONS)
    notes.append("Cells are averaged with weights P(G=g | treated) split equally over each "
                 "cohort's post-treatment periods; standard errors treat these weights as fixed.")
    if data.attrs.get("synthetic"):
        notes.append("Synthetic demo data, not real statistics.")

    def _curve(sl, name, crit, quantity, sup):
        lab = [f"{name}[d={v:.4g}]" for v in grid]
        return DoseCurve(
            params=pd.Series(theta[sl], index=lab), cov=pd.DataFrame(cov[sl, sl], index=lab,
                                                                     columns=lab),
            inference=inference, uniform_crit=crit, uniform_level=level,
            uniform_draws=sup if bootstrap else None, uniform_quantile=_BAND_QUANTILE,
            title=f"{quantity} ({method})", nobs=n * T, notes=notes, dose=grid.copy(),
            quantity=quantity)

    att_curve = _curve(slice(0, ngrid), "ATT", crit_att, "ATT(d)", maxes[:, 0])
    acrt_curve = _curve(slice(ngrid, 2 * ngrid), "ACRT", crit_acrt, "ACRT(d)", maxes[:, 1])
    att_o = ScalarEffect(float(theta[-2]), float(se[-2]), inference=inference, term="ATT_o",
                         title="Average treatment effect on the treated (ATT^o)", nobs=n * T,
                         notes=notes[:1])
    acrt_o = ScalarEffect(float(theta[-1]), float(se[-1]), inference=inference, term="ACRT_o",
                          title="Average causal response on the treated (ACRT^o)", nobs=n * T,
                          notes=notes[1:2])

    # ---- cell table and binarised event study -------------------------------------------
    wmap = {(c["g"], c["t"]): W[k] for k, c in enumerate(post_cells)}
    att_gt = pd.DataFrame({
        "group": [c["g"] for c in cells], "time": [c["t"] for c in cells],
        "event_time": [c["t"] - c["g"] for c in cells],
        "n_treated": [c["n_t"] for c in cells], "n_control": [c["n_c"] for c in cells],
        "att_o": [c["att_o"] for c in cells], "acrt_o": [c["acrt_o"] for c in cells],
        "weight": [wmap.get((c["g"], c["t"]), 0.0) for c in cells],
    })
    es, pretrend = _event_study(cells, n, cl, n_by_g, inference, n * T, reason)

    tw = wts = None
    if twfe:
        tw, wts = _twfe_dose(df, units, times, Y, G, d_unit, cl, outcome, cluster, reason)
    return ContinuousResult(
        att_d=att_curve, acrt_d=acrt_curve, att_overall=att_o, acrt_overall=acrt_o,
        event_study=es, twfe=tw, twfe_weights=wts, att_gt=att_gt, method=method,
        control_group=control_group, knots=kv, nobs=n * T, n_units=n,
        n_treated_units=int(treated_all.sum()), n_control_units=int(never.sum()),
        _pretrend=pretrend, notes=notes,
        extra={"influence": IF, "cell_weights": W, "basis_size": K, "dose_by_unit":
               pd.Series(d_unit, index=units)},
    )


def _event_study(cells, n, cl, n_by_g, inference, nobs, reason=None):
    """Binarised event study of ATT^o(g,t), cohorts weighted by size within each event time."""
    if not cells:
        return None, None
    by_e: dict[float, list] = {}
    for c in cells:
        by_e.setdefault(c["t"] - c["g"], []).append(c)
    es_keys = sorted(by_e)
    est = np.empty(len(es_keys))
    IF = np.zeros((n, len(es_keys)))
    for j, e in enumerate(es_keys):
        cs = by_e[e]
        w = np.array([n_by_g[c["g"]] for c in cs], float)
        w /= w.sum()
        est[j] = sum(wk * c["att_o"] for wk, c in zip(w, cs, strict=True))
        for wk, c in zip(w, cs, strict=True):
            IF[c["tr"], j] += wk * c["if_t"][:, -2]
            IF[c["ctrl"], j] += wk * c["cdev"]
    if cl is not None:
        codes, uniq = pd.factorize(cl)
        IFc = np.zeros((len(uniq), len(es_keys)))
        np.add.at(IFc, codes, IF)
    else:
        IFc = IF
    cov = IFc.T @ IFc
    if reason is not None:
        cov = np.full_like(cov, np.nan)
    lab = [f"e={int(e)}" for e in es_keys]
    ev = EffectVector(params=pd.Series(est, index=lab), cov=pd.DataFrame(cov, index=lab, columns=lab),
                      inference=inference,
                      labels=pd.DataFrame({"event_time": np.array(es_keys, float)}),
                      title="Event study of ATT^o (binarised dose)", nobs=nobs)
    pre = [lbl for lbl, e in zip(lab, es_keys, strict=True) if e < 0]
    pretrend = None
    if pre and reason is None:
        pretrend = ev.wald_test(pre)
    return ev, pretrend


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
    eps = _two_way_resid(np.asarray(treat, float), unit_codes, time_codes)
    denom = float(eps @ treat)
    if abs(denom) < 1e-14:
        raise DesignError("The treatment has no variation left after unit and period effects.")
    return eps * treat / denom


def _two_way_resid(x: np.ndarray, ui: np.ndarray, ti: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Residual of ``x`` on unit and period dummies (alternating projections; exact if balanced)."""
    r = x.astype(float).copy()
    nu, nt = ui.max() + 1, ti.max() + 1
    cu, ct = np.bincount(ui, minlength=nu), np.bincount(ti, minlength=nt)
    for _ in range(10_000):
        r -= (np.bincount(ui, r, nu) / cu)[ui]
        m = np.bincount(ti, r, nt) / ct
        r -= m[ti]
        if np.abs(m).max() < tol * (1 + np.abs(x).max()):
            break
    return r


def _twfe_dose(df, units, times, Y, G, d_unit, cl, outcome, cluster, reason=None):
    n, T = Y.shape
    ui = np.repeat(np.arange(n), T)
    ti = np.tile(np.arange(T), n)
    post = (G[:, None] > 0) & (times[None, :] >= G[:, None])
    treat = (post * d_unit[:, None]).ravel()
    y = Y.ravel()
    xr = _two_way_resid(treat, ui, ti)
    yr = _two_way_resid(y, ui, ti)
    sxx = float(xr @ xr)
    if sxx < 1e-14:
        return None, None
    b = float(xr @ yr) / sxx
    resid = yr - b * xr
    clusters = np.repeat(cl, T) if cl is not None else ui
    design = LinearDesign(X=xr[:, None], resid=resid, beta=np.array([b]), names=["dose_post"],
                          y=yr, clusters=clusters, df_absorbed=n + T - 1,
                          fe_nested_in_cluster=True, extra={"fe_codes": np.column_stack([ui, ti])})
    if reason is None:
        cr = compute_cov(design, "clustered")
        se, desc, dof = float(np.sqrt(cr.cov[0, 0])), cr.description, cr.dof
    else:  # already warned: variance not estimable
        se, desc, dof = float("nan"), f"variance not estimable ({reason})", None
    tw = ScalarEffect(b, se, inference=desc, dof=dof, term="TWFE dose×post",
                      title="TWFE with the continuous treatment", nobs=n * T,
                      notes=["Two-way fixed effects on dose×post; under heterogeneous effects it is "
                             "a weighted sum of cell effects with possibly negative weights "
                             "(de Chaisemartin and D'Haultfœuille 2020)."],
                      extra={"design": design})
    w = xr * treat / float(xr @ treat)
    keep = treat != 0
    wts = pd.DataFrame({"unit": np.repeat(units, T)[keep], "time": np.tile(times, n)[keep],
                        "dose": treat[keep], "weight": w[keep]})
    tw.extra["negative_weights"] = {"n_negative": int((wts["weight"] < 0).sum()),
                                    "sum_negative": float(wts.loc[wts["weight"] < 0, "weight"].sum())}
    return tw, wts

