"""Goodman-Bacon (2021) decomposition of the static TWFE coefficient.

With a binary, absorbing treatment adopted at different times in a balanced panel, the TWFE
coefficient is a weighted average of every 2x2 DiD comparing one timing group with another
(Goodman-Bacon 2021, Theorem 1):

* "Treated vs Untreated": a timing group against never-treated units, over all periods;
* "Earlier vs Later Treated": an earlier group against a later one, before the later is treated;
* "Later vs Earlier Treated": a later group against an earlier one, after the earlier is treated
  (the comparison whose "controls" are already treated);
* "Later vs Always Treated": a timing group against units treated in every period.

Each weight is proportional to the squared share of the 2x2 subsample (units and periods) times
the variance of the two-way demeaned treatment inside it, divided by the variance of the
demeaned treatment in the full panel, so the weights sum to one and ``sum(weight * estimate)``
equals the TWFE coefficient exactly. Labels follow R ``bacondecomp``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from .._shared.exceptions import DesignError, PanelDataError
from .._shared.inputs import panel_input
from .._shared.kernels import TwoWayAbsorber, codes_of, segment_sums
from .._shared.vocabulary import keywords
from .._summary import Summary
from ..results import TIDY_COLUMNS, TidyVector
from ._common import prepare_panel

TYPE_ORDER = [
    "Earlier vs Later Treated",
    "Later vs Earlier Treated",
    "Treated vs Untreated",
    "Later vs Always Treated",
]
#: plot label (a key of ``evalkit.report.LABELS``) and marker of each kind of comparison
TYPE_LABELS = dict(zip(TYPE_ORDER, ["bacon_earlier_vs_later", "bacon_later_vs_earlier",
                                    "bacon_treated_vs_untreated", "bacon_later_vs_always"], strict=True))
TYPE_MARKERS = dict(zip(TYPE_ORDER, "oXs^", strict=True))


@dataclass(repr=False)
class BaconResult(TidyVector):
    """Every 2x2 comparison of the Goodman-Bacon decomposition.

    A vector result of the results protocol with one entry per comparison type (the rows of
    ``to_frame()``): ``params`` are the weight-averaged 2x2 estimates; ``std_errors``,
    ``pvalues`` and ``conf_int()`` are missing (``nan``) at every level, because a
    decomposition of a point estimate has no sampling distribution of its own (the TWFE
    coefficient's inference comes from :func:`evalkit.did.twfe`). ``summary()``, ``plot()``.

    Attributes
    ----------
    two_by_twos : DataFrame
        One row per comparison: ``treated`` and ``control`` (first treated period; ``inf`` for
        never treated), ``type``, ``estimate``, ``weight``.
    twfe_estimate : float
        The TWFE coefficient of the outcome on the treatment with unit and time effects.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2023)], columns=["unit", "year"])
    >>> cohort = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["treated"] = ((cohort > 0) & (df.year >= cohort)).astype(int)
    >>> df["y"] = 0.1 * df.unit + df.treated * (1 + 0.5 * (df.year - cohort))
    >>> r = did.bacon_decomposition(df, outcome="y", unit="unit", time="year", treatment="treated")
    >>> r.params.round(2).to_dict()
    {'Earlier vs Later Treated': 1.25, 'Later vs Earlier Treated': 0.25, 'Treated vs Untreated': 1.75}
    >>> bool(r.std_errors.isna().all())
    True
    """

    inference_fixed: ClassVar[str] = (
        "a decomposition of the TWFE point estimate has no inference of its own; for the TWFE "
        "coefficient's standard error use evalkit.did.twfe(...) (which has with_inference)"
    )

    two_by_twos: pd.DataFrame
    twfe_estimate: float
    nobs: int = 0
    title: str = "Goodman-Bacon decomposition of the TWFE coefficient"
    notes: list[str] = field(default_factory=list)

    @property
    def by_type(self) -> pd.DataFrame:
        """Total weight and weight-averaged 2x2 estimate per comparison type (``type, weight, avg_estimate``)."""
        d = self.two_by_twos
        rows = []
        for t in TYPE_ORDER:
            sub = d.loc[d["type"] == t]
            if sub.empty:
                continue
            w = sub["weight"].sum()
            rows.append({"type": t, "weight": w, "avg_estimate": float((sub["weight"] * sub["estimate"]).sum() / w)})
        return pd.DataFrame(rows)

    @property
    def decomposition_sum(self) -> float:
        """``sum(weight * estimate)`` over all comparisons (equals ``twfe_estimate``)."""
        d = self.two_by_twos
        return float((d["weight"] * d["estimate"]).sum())

    def to_frame(self, detail: bool = False) -> pd.DataFrame:
        """Tidy table: one row per comparison type (or per 2x2 with ``detail=True``).

        The TIDY columns hold ``term`` (type), ``group`` (treated cohort, detail only), ``time``
        (control cohort, detail only) and ``estimate``; standard errors do not apply (missing);
        an extra ``weight`` column holds the weights.
        """
        if detail:
            d = self.two_by_twos
            out = pd.DataFrame({"term": d["type"], "group": d["treated"], "time": d["control"],
                                "estimate": d["estimate"], "weight": d["weight"]})
        else:
            b = self.by_type
            out = pd.DataFrame({"term": b["type"], "estimate": b["avg_estimate"], "weight": b["weight"]})
        for c in TIDY_COLUMNS:
            if c not in out.columns:
                out[c] = np.nan
        return out[TIDY_COLUMNS + ["weight"]].reset_index(drop=True)

    def _frame(self, level: float = 0.95) -> pd.DataFrame:
        return self.to_frame()

    def summary(self) -> Summary:
        """Readable text summary."""
        lines = [self.title, "=" * len(self.title), f"TWFE estimate: {self.twfe_estimate:.6g}",
                 f"Weighted sum of the 2x2 estimates: {self.decomposition_sum:.6g}",
                 self.by_type.to_string(index=False, float_format=lambda x: f"{x:.5g}")]
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def plot(self, ax=None, language: str | None = None):
        """Scatter of each 2x2 estimate against its weight, by type, with the TWFE line.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        language : {"en", "zh"}, optional
            Axis text language (default: the one set by ``report.use()``, else English).

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
            fig, ax = plt.subplots(figsize=(7, 4.5))
            mark_synthetic(fig)
        d = self.two_by_twos
        for i, kind in enumerate(TYPE_ORDER):
            sub = d.loc[d["type"] == kind]
            if sub.empty:
                continue
            ax.scatter(sub["weight"], sub["estimate"], marker=TYPE_MARKERS[kind], s=45, color=f"C{i}",
                       label=t(TYPE_LABELS[kind], language), alpha=0.85)
        ax.axhline(self.twfe_estimate, color="firebrick", lw=1.2, ls="--",
                   label=t("twfe_estimate_line", language).format(value=self.twfe_estimate))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(t("weight", language))
        ax.set_ylabel(t("two_by_two_estimate", language))
        ax.set_title(t("bacon", language))
        ax.legend(fontsize=8, frameon=False)
        return ax


@keywords
@panel_input
def bacon_decomposition(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
) -> BaconResult:
    """Goodman-Bacon (2021) decomposition of the TWFE coefficient into 2x2 comparisons.

    Parameters
    ----------
    data : DataFrame
        Balanced panel, one row per unit and period.
    outcome, unit, time : str
        Column names.
    treatment : str
        0/1 absorbing treatment indicator (once 1, stays 1 within a unit).

    Returns
    -------
    BaconResult
        ``two_by_twos``, ``by_type``, ``twfe_estimate``, ``plot()``, ``to_frame()``.

    Raises
    ------
    PanelDataError
        Unbalanced panel (names units with missing periods), a non-binary or switching-off
        treatment (names the units).
    DesignError
        No variation in treatment timing to decompose.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> df = pd.DataFrame([(u, t) for u in range(30) for t in range(2015, 2023)], columns=["unit", "year"])
    >>> cohort = np.select([df.unit < 10, df.unit < 20], [2018, 2020], 0)
    >>> df["treated"] = ((cohort > 0) & (df.year >= cohort)).astype(int)
    >>> df["y"] = 0.1 * df.unit + df.treated * (1 + 0.5 * (df.year - cohort))
    >>> r = did.bacon_decomposition(df, outcome="y", unit="unit", time="year", treatment="treated")
    >>> print(round(r.twfe_estimate, 3))
    1.464
    >>> print(round(float((r.two_by_twos["estimate"] * r.two_by_twos["weight"]).sum()), 3))
    1.464
    """
    df = prepare_panel(data, outcome=outcome, unit=unit, time=time, numeric=[treatment],
                       extra={"treatment": treatment})
    d = df[treatment].to_numpy(float)
    if not np.isin(d, (0.0, 1.0)).all():
        rows = list(df.index[~np.isin(d, (0.0, 1.0))][:10])
        raise PanelDataError(f"treatment {treatment!r} must be 0/1 for the Bacon decomposition; rows {rows} are not.")
    u, units = codes_of(df[unit])
    t, periods = codes_of(df[time])
    n_u, n_t = len(units), len(periods)
    counts = np.bincount(u, minlength=n_u)
    if (counts != n_t).any() or len(df) != n_u * n_t:
        bad = [units[i] for i in np.nonzero(counts != n_t)[0][:10]]
        raise PanelDataError(
            f"the Bacon decomposition needs a balanced panel; unit(s) {bad} do not have all {n_t} "
            "periods. Keep the units observed in every period (or fill the gaps)."
        )
    # data sorted by unit then time: reshape to N x T
    dm = d.reshape(n_u, n_t)
    ym = df[outcome].to_numpy(float).reshape(n_u, n_t)
    switch_off = np.nonzero((np.diff(dm, axis=1) < 0).any(axis=1))[0]
    if len(switch_off):
        raise PanelDataError(
            f"treatment {treatment!r} switches off in unit(s) {[units[i] for i in switch_off[:10]]}; the "
            "Bacon decomposition needs an absorbing treatment (use dcdh for on/off treatments)."
        )
    start = np.where(dm.any(axis=1), dm.argmax(axis=1), n_t)  # index of first treated period; T = never
    groups, inv = np.unique(start, return_inverse=True)
    if len(groups) < 2 or (len(groups) == 2 and groups[0] == 0 and groups[1] == n_t):
        raise DesignError("No variation in treatment timing: every unit is treated at the same time (or never).")
    ng = np.bincount(inv).astype(float)
    ymean = segment_sums(ym, inv, len(groups)) / ng[:, None]
    share = ng / n_u
    dbar = (n_t - groups) / n_t

    absorber = TwoWayAbsorber(u, t)
    dt = absorber.absorb(d)
    vd = float(dt @ dt) / len(d)
    if vd <= 0:
        raise DesignError(f"treatment {treatment!r} is absorbed by the unit and time effects.")
    twfe_b = float(dt @ df[outcome].to_numpy(float) / (dt @ dt))

    def mean_span(gi, a, b):
        return ymean[gi, a:b].mean()

    label = {g: (np.inf if g == n_t else periods[g] if g < n_t else np.inf) for g in groups}
    rows = []
    never = [i for i, g in enumerate(groups) if g == n_t]
    timing = [i for i, g in enumerate(groups) if 0 < g < n_t]
    always = [i for i, g in enumerate(groups) if g == 0]
    for k in timing:
        sk = groups[k]
        for un in never:
            nk = share[k] / (share[k] + share[un])
            v = nk * (1 - nk) * dbar[k] * (1 - dbar[k])
            w = (share[k] + share[un]) ** 2 * v / vd
            est = (mean_span(k, sk, n_t) - mean_span(k, 0, sk)) - (mean_span(un, sk, n_t) - mean_span(un, 0, sk))
            rows.append((label[groups[k]], np.inf, "Treated vs Untreated", est, w))
        for ll in timing + always:
            sl = groups[ll]
            if sl == sk:
                continue
            nkl = share[k] / (share[k] + share[ll])
            pair = (share[k] + share[ll]) ** 2 * nkl * (1 - nkl)
            if sk < sl:
                # k earlier, l later control, window [0, sl)
                p = (sl - sk) / sl
                w = pair * (sl / n_t) ** 2 * p * (1 - p) / vd
                est = (mean_span(k, sk, sl) - mean_span(k, 0, sk)) - (mean_span(ll, sk, sl) - mean_span(ll, 0, sk))
                rows.append((label[sk], label[sl], "Earlier vs Later Treated", est, w))
            else:
                # k later, l earlier (already treated) control, window [sl, T)
                p = (n_t - sk) / (n_t - sl)
                w = pair * ((n_t - sl) / n_t) ** 2 * p * (1 - p) / vd
                est = (mean_span(k, sk, n_t) - mean_span(k, sl, sk)) - (mean_span(ll, sk, n_t) - mean_span(ll, sl, sk))
                kind = "Later vs Always Treated" if sl == 0 else "Later vs Earlier Treated"
                rows.append((label[sk], label[sl], kind, est, w))
    table = pd.DataFrame(rows, columns=["treated", "control", "type", "estimate", "weight"])
    notes = []
    if always:
        notes.append(f"{int(ng[always[0]])} unit(s) are treated in every period and serve only as controls")
    gap = abs(float((table["weight"] * table["estimate"]).sum()) - twfe_b)
    if gap > 1e-8 * max(1.0, abs(twfe_b)):
        notes.append(f"the weighted 2x2 estimates differ from the TWFE coefficient by {gap:.3g}")
    return BaconResult(two_by_twos=table, twfe_estimate=twfe_b, nobs=len(df), notes=notes)
