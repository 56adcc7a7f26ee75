"""Synthetic control: outcome-based SC and Abadie-Diamond-Hainmueller predictor matching.

Two ways to choose the donor weights :math:`w \\in \\Delta^{J-1}`:

* ``method="outcomes"`` -- the SC estimator of Arkhangelsky et al. (2021): weights fit the treated
  pre-period outcome path with a vanishing ridge penalty (:math:`\\zeta = 10^{-6}\\hat\\sigma`), no
  intercept, by Frank--Wolfe with two-step sparsification; Table 1 of the paper reproduces.
* ``method="adh"`` -- Abadie, Diamond and Hainmueller (2010): standardised predictors
  :math:`X_1, X_0`; for predictor weights :math:`V` (diagonal, summing to one) the donor weights
  solve :math:`\\min_w (X_1 - X_0 w)'V(X_1 - X_0 w)`; :math:`V` minimises the pre-period mean
  squared prediction error of the outcome (nested optimisation, Nelder--Mead on the simplex).

Inference is by in-space placebos (Abadie et al. 2010, 2015): every donor in turn is treated as if
treated and synthesised from the other donors; the p-value is the rank of the treated unit's ratio
of post- to pre-treatment root mean squared prediction error (RMSPE) among all units. An in-time
placebo moves the treatment date back into the pre-period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from .._shared.blas import single_threaded_blas
from .._shared.exceptions import DesignError, EvalkitError, PanelDataError
from .._shared.validation import check_columns, check_option
from .._shared.vocabulary import DEFAULT_SEED, keywords
from . import _sdid_core as core
from ._panel import BlockPanel, block_panel
from .results import SynthResult, plot_label

# ---------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------


def _outcome_weights(Y, idx_c, idx_t, T0, opts) -> np.ndarray:
    R, n0 = idx_c.shape
    om0 = np.full((R, n0), 1.0 / n0)
    la0 = np.zeros((R, T0))
    om, _ = core.batch_weights(Y, idx_c, idx_t, T0, opts, om0, la0)
    return om


def _simplex_ls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||A w - b||`` over the unit simplex (NNLS with a heavily weighted sum row)."""
    scale = max(float(np.abs(A).max()), float(np.abs(b).max()), 1e-12)
    rho = 1e4 * scale
    Aa = np.vstack([A, rho * np.ones((1, A.shape[1]))])
    ba = np.append(b, rho)
    w, _ = optimize.nnls(Aa, ba, maxiter=50 * A.shape[1])
    s = w.sum()
    return w / s if s > 0 else np.full(A.shape[1], 1.0 / A.shape[1])


def _adh_weights(X1, X0, Z1, Z0, maxiter=None):
    """Nested ADH optimisation; returns donor weights ``w`` and predictor weights ``v``."""
    k = X1.shape[0]
    sd = np.std(np.column_stack([X1, X0]), axis=1, ddof=1)
    sd[sd == 0] = 1.0
    X1s, X0s = X1 / sd, X0 / sd[:, None]

    def inner(v):
        r = np.sqrt(v)
        return _simplex_ls(r[:, None] * X0s, r * X1s)

    def v_of(u):
        e = np.exp(np.append(0.0, u) - np.max(np.append(0.0, u)))
        return e / e.sum()

    def loss(u):
        w = inner(v_of(u))
        return float(np.mean((Z1 - Z0 @ w) ** 2))

    if k == 1:
        v = np.ones(1)
    else:
        starts = [np.zeros(k - 1)]
        best = None
        for u0 in starts:
            res = optimize.minimize(loss, u0, method="Nelder-Mead",
                                    options={"maxiter": maxiter or 200 * k, "xatol": 1e-4,
                                             "fatol": 1e-10})
            if best is None or res.fun < best.fun:
                best = res
        v = v_of(best.x)
    return inner(v), v


# ---------------------------------------------------------------------------------------------
# predictors
# ---------------------------------------------------------------------------------------------


def _predictor_matrix(data, bp: BlockPanel, unit, time, predictors) -> tuple[np.ndarray, list[str]]:
    """Predictor values (k x N) in the block panel's unit order."""
    pre_times = list(bp.times[: bp.T0])
    if predictors is None:
        predictors = [(bp.outcome, [t]) for t in pre_times]
    specs = []
    for p in predictors:
        if isinstance(p, str):
            specs.append((p, pre_times, f"{p} (pre-period mean)"))
        elif isinstance(p, tuple) and len(p) == 2:
            col, periods = p
            periods = [periods] if np.isscalar(periods) else list(periods)
            bad = [t for t in periods if t not in pre_times]
            if bad:
                raise EvalkitError(
                    f"Predictor {col!r} uses periods {bad} that are not pre-treatment periods "
                    f"({pre_times[0]}..{pre_times[-1]})."
                )
            label = f"{col} ({periods[0]})" if len(periods) == 1 else f"{col} ({periods[0]}-{periods[-1]})"
            specs.append((col, periods, label))
        else:
            raise EvalkitError(
                f"Invalid predictor {p!r}: give a column name (pre-period mean) or a tuple "
                "(column, period or list of periods)."
            )
    check_columns(data, {"predictors": sorted({s[0] for s in specs})})
    rows, labels = [], []
    units = list(bp.units)
    for col, periods, label in specs:
        sub = data.loc[data[time].isin(periods) & data[unit].isin(units), [unit, col]]
        vals = pd.to_numeric(sub[col], errors="coerce")
        if vals.isna().any():
            bad = sub.index[vals.isna()]
            raise PanelDataError(
                [f"predictor {col!r} is missing or non-numeric in rows {list(bad[:10])}: fill "
                 "them or choose other predictors"]
            )
        means = vals.groupby(sub[unit]).mean().reindex(units)
        if means.isna().any():
            miss = list(means.index[means.isna()][:10])
            raise PanelDataError([f"predictor {col!r} has no value for units {miss} in {periods}"])
        rows.append(means.to_numpy(dtype=float))
        labels.append(label)
    return np.vstack(rows), labels


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)
class SCResult(SynthResult):
    """Synthetic control result with placebo inference.

    A scalar result of the results protocol (see :class:`SynthResult`). Its p-value is the
    in-space placebo rank; the method gives no standard error, so ``std_error`` and
    ``conf_int()`` are ``nan``. ``plot(kind=...)`` adds ``"spaghetti"`` and ``"rmspe"``.

    Attributes
    ----------
    per_unit : DataFrame
        One row per treated unit: ``unit``, ``estimate`` (mean post-period gap), ``pre_rmspe``,
        ``post_rmspe``, ``ratio``, ``p_value`` (in-space placebo rank).
    placebo_gaps : DataFrame or None
        Gap paths of the placebo (donor) units, one column per donor.
    placebo_table : DataFrame or None
        RMSPE ratios of every unit (treated and donors) used for the p-values.
    predictor_weights : Series or None
        ADH predictor weights ``V``.
    balance : DataFrame or None
        ADH predictor balance: treated, synthetic, donor average.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit.synth import synthetic_control
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(10) for t in range(2010, 2021)], columns=["unit", "year"])
    >>> df["y"] = 1.0 + 0.2 * df.unit + 0.1 * (df.year - 2010) * (1 + df.unit / 10) + rng.normal(0, 0.02, len(df))
    >>> df["treated"] = ((df.unit == 4) & (df.year >= 2017)).astype(int)
    >>> df.loc[df.treated == 1, "y"] += 1.0
    >>> r = synthetic_control(df, outcome="y", unit="unit", time="year", treatment="treated")
    >>> print(r.per_unit[["unit", "estimate"]].round(1).to_string(index=False))
    unit  estimate
       4       1.0
    >>> r.placebo_table is not None
    True
    >>> bool(np.isnan(r.std_error)), 0 < r.pvalue <= 1
    (True, True)
    """

    per_unit: pd.DataFrame | None = None
    placebo_gaps: pd.DataFrame | None = None
    placebo_table: pd.DataFrame | None = None
    predictor_weights: pd.Series | None = None
    balance: pd.DataFrame | None = None
    unit_gaps: pd.DataFrame | None = None
    _refit: object = field(default=None, repr=False)

    def per_unit_frame(self) -> pd.DataFrame:
        """Tidy table of the per-unit effects (``group`` = unit, p-values from placebos)."""
        pu = self.per_unit
        out = pd.DataFrame({
            "term": "ATT", "group": pu["unit"], "time": np.nan, "event_time": np.nan,
            "estimate": pu["estimate"], "std_error": np.nan, "statistic": pu["ratio"],
            "p_value": pu["p_value"], "conf_low": np.nan, "conf_high": np.nan,
        })
        return out.reset_index(drop=True)

    def in_time_placebo(self, fake_start) -> SCResult:
        """Re-estimate with treatment moved back to ``fake_start`` using pre-treatment data only.

        A large "effect" before the real treatment date signals a poor design.

        Parameters
        ----------
        fake_start : period label
            A pre-treatment period with at least two pre-periods before it.
        """
        return self._refit(fake_start)

    def _extra_kinds(self):
        return ("spaghetti", "rmspe")

    def _plot_extra(self, kind, ax, language, **kwargs):
        if self.placebo_gaps is None:
            raise EvalkitError("No placebo fits: estimate with placebo=True.")
        if kind == "spaghetti":
            pg = self.placebo_gaps
            keep = kwargs.get("max_pre_rmspe_ratio", None)
            cols = pg.columns
            if keep is not None:
                pre = self.placebo_table.set_index("unit")["pre_rmspe"]
                cols = [c for c in cols if pre.get(c, np.inf) <= keep * self.extra["pre_rmspe"]]
            for c in cols:
                ax.plot(pg.index, pg[c], color="0.75", lw=0.8)
            ax.plot([], [], color="0.75", lw=0.8, label=plot_label("placebo", language))
            ax.plot(self.trajectories.index, self.trajectories["gap"], color="C3", lw=2.2,
                    label=plot_label("treated", language))
            ax.axhline(0, color="0.3", lw=0.8)
            self._vline(ax, language)
            ax.set_ylabel(plot_label("gap", language))
            ax.set_title(self._plot_title(language))
            ax.legend(frameon=False)
            return ax
        tb = self.placebo_table.sort_values("ratio")
        colors = ["C3" if t else "0.7" for t in tb["treated"]]
        ax.barh(tb["unit"].astype(str), tb["ratio"], color=colors)
        ax.set_xlabel(plot_label("ratio", language))
        ax.tick_params(axis="y", labelsize=6)
        ax.set_title(self._plot_title(language))
        return ax


# ---------------------------------------------------------------------------------------------
# estimator
# ---------------------------------------------------------------------------------------------


def _gaps(Y, idx_c, idx_t, omega):
    return Y[idx_t].mean(axis=1) - np.einsum("rn,rnt->rt", omega, Y[idx_c])


def _rmspe(g, T0):
    pre = np.sqrt(np.mean(g[..., :T0] ** 2, axis=-1))
    post = np.sqrt(np.mean(g[..., T0:] ** 2, axis=-1))
    return pre, post


@keywords(n_placebo="n_draws")
def synthetic_control(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    method: str = "outcomes",
    predictors: list | None = None,
    pooling: str = "average",
    placebo: bool = True,
    n_draws: int = 200,
    seed: int | None = DEFAULT_SEED,
    statistic: str = "ratio",
    level: float = 0.95,
) -> SCResult:
    """Synthetic control estimate with in-space placebo inference.

    Parameters
    ----------
    data : DataFrame
        Balanced long panel.
    outcome, unit, time, treatment : str
        Column names; ``treatment`` is 0/1, absorbing, starting in one period for all treated units.
    method : {"outcomes", "adh"}
        Donor weights from pre-period outcomes (Arkhangelsky et al. 2021's SC) or ADH predictor
        matching with predictor weights chosen by pre-period fit.
    predictors : list, optional
        ADH predictors: column names (averaged over the pre-period) or tuples
        ``(column, period)`` / ``(column, [periods])``. Default: the outcome in every pre-period.
    pooling : {"average", "per_unit"}
        With several treated units: synthesise their average (default; Arkhangelsky et al.) or
        synthesise each unit and average the unit effects. Per-unit fits are always reported in
        ``per_unit``.
    placebo : bool
        Run the in-space placebo fits (every donor as if treated).
    n_draws : int
        With several treated units (outcome weights): number of random placebo groups of as many
        donors as treated units, against which the pooled RMSPE ratio is ranked.
    seed : int or None
        Seed of the placebo groups.
    statistic : {"ratio", "estimate"}
        Placebo test statistic: the post/pre RMSPE ratio (Abadie et al. 2010) or the absolute mean
        post-period gap. The ratio is ill-conditioned when placebo fits are near perfect (averaged
        placebo groups): then prefer ``"estimate"``. Both p-values are in ``extra``.
    level : float
        Not used for the placebo p-value; kept for the results interface.

    Returns
    -------
    SCResult
        ``estimate`` (mean post-period gap), ``pvalue`` (placebo rank of the post/pre RMSPE ratio,
        ``std_error`` is ``nan``), ``weights``, ``per_unit``, ``placebo_table``, ``trajectories``,
        ``in_time_placebo()``, ``plot(kind="trajectories" | "gap" | "weights" | "placebo" |
        "spaghetti" | "rmspe")``.

    References
    ----------
    Abadie, A., Diamond, A., Hainmueller, J. (2010). JASA 105(490), 493-505. Abadie, A. (2021).
    Using synthetic controls. JEL 59(2), 391-425. Arkhangelsky, D. et al. (2021). AER 111(12).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit.synth import synthetic_control
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(10) for t in range(2010, 2021)], columns=["unit", "year"])
    >>> df["y"] = 1.0 + 0.2 * df.unit + 0.1 * (df.year - 2010) * (1 + df.unit / 10) + rng.normal(0, 0.02, len(df))
    >>> df["treated"] = ((df.unit == 4) & (df.year >= 2017)).astype(int)
    >>> df.loc[df.treated == 1, "y"] += 1.0
    >>> r = synthetic_control(df, outcome="y", unit="unit", time="year", treatment="treated")
    >>> print(f"{r.estimate:.1f}, placebo p = {r.pvalue:.2f}")
    1.0, placebo p = 0.10
    """
    check_option("method", method, ("outcomes", "adh"))
    check_option("pooling", pooling, ("average", "per_unit"))
    check_option("statistic", statistic, ("ratio", "estimate"))
    if not isinstance(n_draws, (int, np.integer)) or n_draws < 10:
        raise EvalkitError(f"n_draws must be an integer >= 10, got {n_draws!r}.")
    bp = block_panel(data, outcome=outcome, unit=unit, time=time, treatment=treatment)
    with single_threaded_blas():
        return _fit(data, bp, unit, time, method, predictors, pooling, placebo, n_draws, seed,
                    statistic)


def _group_placebos(Y, N0, N1, T0, opts, pooling, n_placebo, seed, pre_r, post_r, ratio, estimate,
                    bp: BlockPanel, time, stat_name):
    """Placebo groups of ``N1`` random donors, for a pooled effect of several treated units."""
    # the pooled effect averages N1 units: compare it with placebo groups of N1 donors
    # (averaging smooths the path and lowers the pre-period RMSPE, so single donors are
    # not a fair reference for the pooled ratio)
    if N0 - N1 < 2:
        raise DesignError(
            f"Group placebos need at least {N1 + 2} donors for {N1} treated units."
        )
    rng = np.random.default_rng(seed)
    perms = np.argsort(rng.random((n_placebo, N0)), axis=1)
    g_t, g_c = perms[:, N0 - N1:], np.sort(perms[:, : N0 - N1], axis=1)
    if pooling == "average":
        gw = _outcome_weights(Y, g_c, g_t, T0, opts)
        ggap = _gaps(Y, g_c, g_t, gw)
    else:
        rep_c = np.repeat(g_c, N1, axis=0)
        rep_t = g_t.reshape(-1, 1)
        gw = _outcome_weights(Y, rep_c, rep_t, T0, opts)
        ggap = _gaps(Y, rep_c, rep_t, gw).reshape(n_placebo, N1, -1).mean(axis=1)
    g_pre, g_post = _rmspe(ggap, T0)
    g_ratio = np.divide(g_post, g_pre, out=np.full(n_placebo, np.inf), where=g_pre > 0)
    placebo_est = ggap[:, T0:].mean(axis=1)
    p_by = {"ratio": float((1 + np.sum(g_ratio >= ratio)) / (1 + n_placebo)),
            "estimate": float((1 + np.sum(np.abs(placebo_est) >= abs(estimate)))
                              / (1 + n_placebo))}
    labels = [f"placebo group {i + 1}" for i in range(n_placebo)]
    placebo_gaps = pd.DataFrame(ggap.T, index=pd.Index(bp.times, name=time), columns=labels)
    placebo_table = pd.DataFrame({
        "unit": labels + ["(treated)"],
        "pre_rmspe": np.append(g_pre, pre_r), "post_rmspe": np.append(g_post, post_r),
        "ratio": np.append(g_ratio, ratio), "treated": [False] * n_placebo + [True],
        "estimate": np.append(placebo_est, estimate),
    })
    inference = (f"in-space placebo: rank of {stat_name} among {n_placebo} random "
                 f"groups of {N1} donors (seed {seed}); per-unit p-values from single "
                 "donors")
    return p_by, placebo_est, placebo_gaps, placebo_table, inference


def _placebo_inference(Y, bp: BlockPanel, N0, N1, T0, opts, method, Xall, pooling, n_placebo, seed,
                       statistic, pre_r, post_r, ratio, estimate, per_unit, time, notes):
    """In-space placebo inference: every donor as a fake treated unit (or random donor groups for a
    pooled effect); p-values by the rank of the statistic, placebo gaps and their table."""
    ctrl = np.arange(N0)
    if N0 < 3:
        raise DesignError(
            f"In-space placebo inference needs at least 3 donor units, got {N0}. Add donors "
            "or use placebo=False."
        )
    pidx_t = ctrl[:, None]
    pidx_c = np.array([np.delete(ctrl, j) for j in range(N0)])
    if method == "adh":
        pw = np.vstack([
            _adh_weights(Xall[:, j], Xall[:, pidx_c[j]], Y[j, :T0], Y[pidx_c[j], :T0].T)[0]
            for j in range(N0)
        ])
    else:
        pw = _outcome_weights(Y, pidx_c, pidx_t, T0, opts)
    pg = _gaps(Y, pidx_c, pidx_t, pw)  # (N0, T)
    p_pre, p_post = _rmspe(pg, T0)
    p_ratio = np.divide(p_post, p_pre, out=np.full(N0, np.inf), where=p_pre > 0)
    p_by = {"ratio": float((1 + np.sum(p_ratio >= ratio)) / (1 + N0)),
            "estimate": float((1 + np.sum(np.abs(pg[:, T0:].mean(axis=1)) >= abs(estimate)))
                              / (1 + N0))}
    per_unit["p_value"] = [(1 + np.sum(p_ratio >= r)) / (1 + N0) for r in per_unit["ratio"]]
    placebo_gaps = pd.DataFrame(pg.T, index=pd.Index(bp.times, name=time),
                                columns=list(bp.control_units))
    placebo_table = pd.DataFrame({
        "unit": list(bp.control_units) + ["(treated)"],
        "pre_rmspe": np.append(p_pre, pre_r), "post_rmspe": np.append(p_post, post_r),
        "ratio": np.append(p_ratio, ratio), "treated": [False] * N0 + [True],
        "estimate": np.append(pg[:, T0:].mean(axis=1), estimate),
    })
    placebo_est = pg[:, T0:].mean(axis=1)
    stat_name = "post/pre RMSPE ratio" if statistic == "ratio" else "|mean post gap|"
    inference = (f"in-space placebo: rank of {stat_name} among {N0} donors "
                 f"(smallest attainable p = {1 / (1 + N0):.3g})")
    if N1 > 1 and method == "outcomes":
        p_by, placebo_est, placebo_gaps, placebo_table, inference = _group_placebos(
            Y, N0, N1, T0, opts, pooling, n_placebo, seed, pre_r, post_r, ratio, estimate, bp,
            time, stat_name)
    pval = p_by[statistic]
    notes.append(f"Placebo p-values: RMSPE ratio {p_by['ratio']:.3g}, |mean post gap| "
                 f"{p_by['estimate']:.3g}.")
    if N1 > 1 and method == "adh":
        notes.append("ADH with several treated units: the pooled p-value ranks against single "
                     "donors (group placebos would need an ADH fit per group).")
    return p_by, placebo_est, placebo_gaps, placebo_table, inference, pval


def _fit(data, bp: BlockPanel, unit, time, method, predictors, pooling, placebo, n_placebo=200,
         seed=DEFAULT_SEED, statistic="ratio") -> SCResult:
    Y, N0, T0, N1 = bp.Y, bp.N0, bp.T0, bp.N1
    N = N0 + N1
    opts, *_ = core.default_setup(Y, N0, T0, "sc")
    treated_idx = np.arange(N0, N)
    ctrl = np.arange(N0)
    V = None
    balance = None
    if method == "adh":
        Xall, plabels = _predictor_matrix(data, bp, unit, time, predictors)

        def fit_adh(tr_rows, donor_rows):
            X1 = Xall[:, tr_rows].mean(axis=1)
            Z1 = Y[tr_rows, :T0].mean(axis=0)
            return _adh_weights(X1, Xall[:, donor_rows], Z1, Y[donor_rows, :T0].T)

        w_pool, V = fit_adh(treated_idx, ctrl)
        per_w = (np.vstack([fit_adh(np.array([i]), ctrl)[0] for i in treated_idx])
                 if N1 > 1 else w_pool[None, :])
        X1 = Xall[:, treated_idx].mean(axis=1)
        balance = pd.DataFrame({"treated": X1, "synthetic": Xall[:, ctrl] @ w_pool,
                                "donor_mean": Xall[:, ctrl].mean(axis=1)},
                               index=pd.Index(plabels, name="predictor"))
        V = pd.Series(V, index=pd.Index(plabels, name="predictor"), name="weight")
    else:
        w_pool = _outcome_weights(Y, ctrl[None, :], treated_idx[None, :], T0, opts)[0]
        per_w = (_outcome_weights(Y, np.repeat(ctrl[None, :], N1, 0), treated_idx[:, None], T0, opts)
                 if N1 > 1 else w_pool[None, :])
    # per-unit and pooled gaps
    unit_g = _gaps(Y, np.repeat(ctrl[None, :], N1, 0), treated_idx[:, None], per_w)  # (N1, T)
    pooled_g = _gaps(Y, ctrl[None, :], treated_idx[None, :], w_pool[None, :])[0]
    if pooling == "per_unit":
        gap = unit_g.mean(axis=0)
    else:
        gap = pooled_g
    estimate = float(gap[T0:].mean())
    pre_r, post_r = _rmspe(gap, T0)
    u_pre, u_post = _rmspe(unit_g, T0)
    per_unit = pd.DataFrame({
        "unit": bp.treated_units, "estimate": unit_g[:, T0:].mean(axis=1), "pre_rmspe": u_pre,
        "post_rmspe": u_post,
        "ratio": np.divide(u_post, u_pre, out=np.full(N1, np.inf), where=u_pre > 0),
    })
    notes = []
    pval = None
    placebo_gaps = placebo_table = None
    ratio = post_r / pre_r if pre_r > 0 else np.inf
    if placebo:
        p_by, placebo_est, placebo_gaps, placebo_table, inference, pval = _placebo_inference(
            Y, bp, N0, N1, T0, opts, method, Xall if method == "adh" else None, pooling, n_placebo,
            seed, statistic, pre_r, post_r, ratio, estimate, per_unit, time, notes)
    else:
        p_by = {}
        placebo_est = None
        per_unit["p_value"] = np.nan
        inference = "none (placebo=False)"
    ytr = Y[treated_idx].mean(axis=0)
    traj = pd.DataFrame({"treated": ytr, "synthetic": ytr - gap, "gap": gap},
                        index=pd.Index(bp.times, name=time))
    title = ("Synthetic control (outcome weights, Arkhangelsky et al. 2021)" if method == "outcomes"
             else "Synthetic control (Abadie-Diamond-Hainmueller)")
    if N1 > 1:
        notes.append(f"{N1} treated units; pooling={pooling!r}.")
    if pre_r > 0.5 * np.std(Y[treated_idx, :T0]):
        notes.append("Pre-treatment fit is poor relative to the outcome's variation "
                     f"(pre RMSPE {pre_r:.4g}); interpret the estimate with care.")

    def refit(fake_start):
        times = list(bp.times)
        if fake_start not in times[:T0]:
            raise EvalkitError(
                f"fake_start={fake_start!r} must be a pre-treatment period ({times[0]}..{times[T0 - 1]})."
            )
        k = times.index(fake_start)
        if k < 2:
            raise DesignError("The in-time placebo needs at least two periods before fake_start.")
        sub = BlockPanel(Y=Y[:, :T0], X=None, units=bp.units, times=bp.times[:T0], N0=N0, T0=k,
                         outcome=bp.outcome, covariates=[])
        res = _fit(data, sub, unit, time, method, predictors if method == "outcomes" else
                   _restrict_predictors(predictors, bp, k), pooling, placebo, n_placebo, seed,
                   statistic)
        res.title = f"In-time placebo (treatment moved to {fake_start})"
        return res

    return SCResult(
        estimate=estimate, std_error=float("nan"), inference=inference, term="ATT", title=title,
        nobs=int(Y.size), pvalue_override=pval, notes=notes,
        extra={"pre_rmspe": pre_r, "post_rmspe": post_r, "ratio": ratio, "method": method,
               "p_ratio": p_by.get("ratio"), "p_estimate": p_by.get("estimate"),
               "N0": N0, "N1": N1, "T0": T0},
        estimator=f"sc_{method}",
        unit_weights=pd.Series(w_pool, index=pd.Index(bp.control_units, name=unit), name="weight"),
        time_weights=None, trajectories=traj, placebo_estimates=placebo_est,
        treated_units=list(bp.treated_units), first_treated=bp.first_treated, outcome=bp.outcome,
        per_unit=per_unit, placebo_gaps=placebo_gaps, placebo_table=placebo_table,
        predictor_weights=V, balance=balance,
        unit_gaps=pd.DataFrame(unit_g.T, index=pd.Index(bp.times, name=time),
                               columns=list(bp.treated_units)),
        _refit=refit,
    )


def _restrict_predictors(predictors, bp: BlockPanel, k: int):
    """Predictors for an in-time placebo: only periods before the fake start."""
    keep = list(bp.times[:k])
    if predictors is None:
        return [(bp.outcome, [t]) for t in keep]
    out = []
    for p in predictors:
        if isinstance(p, str):
            out.append((p, keep))
        else:
            col, periods = p
            periods = [periods] if np.isscalar(periods) else list(periods)
            periods = [t for t in periods if t in keep]
            if periods:
                out.append((col, periods))
    if not out:
        raise DesignError("No predictor periods remain before the in-time placebo date.")
    return out
