"""The machinery of :func:`evalkit.did.continuous`: data layout, dose bases, cohort-period cells,
their aggregation with influence functions, the sup-t bands, the binarised event study and the
TWFE comparison (Callaway, Goodman-Bacon and Sant'Anna 2024)."""

from __future__ import annotations

import warnings
from typing import Any

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
from .._shared.kernels import TwoWayAbsorber, label_sums, multiplier_draws
from .._shared.validation import check_columns, check_numeric_complete, check_unique_panel
from ..inference.covariance import compute as compute_cov
from ..inference.design import LinearDesign
from ..results import EffectVector, ScalarEffect
from ._common import unit_clusters

#: Quantile rule of the sup-t critical value (numpy's default, linear interpolation).
BAND_QUANTILE = "linear"


# --------------------------------------------------------------------------------------------
# dose bases
# --------------------------------------------------------------------------------------------
def knot_vector(doses: np.ndarray, degree: int, knots) -> np.ndarray:
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


class SplineBasis:
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


class BinBasis:
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
def prepare_dose_panel(data, outcome, unit, time, dose, cohort, cluster):
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


def dose_basis(method: str, tdoses: np.ndarray, degree: int, knots, dose_grid, n_bins: int):
    """The dose basis (splines or bins), the dose grid, the knots (bin edges) and the basis and its
    derivative on the grid."""
    if method == "spline":
        kv = knot_vector(tdoses, int(degree), knots)
        basis = SplineBasis(kv, int(degree))
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
                          EvalkitWarning, stacklevel=3)
        if len(edges) < 2:
            edges = np.array([tdoses.min(), tdoses.max() + 1.0])
        tmp = BinBasis(edges, np.zeros(len(edges) - 1))
        idx = tmp.index(tdoses)
        centers = np.array([tdoses[idx == j].mean() for j in range(tmp.size)])
        basis = BinBasis(edges, centers)
        grid = centers
        kv = edges
        Pg, dPg = np.eye(basis.size), basis.diff_matrix()
    return basis, grid, kv, Pg, dPg


def estimate_dose_cells(Y, G, d_unit, never, cohorts, times, basis, Pg, dPg, method: str,
                    control_group: str) -> list[dict[str, Any]]:
    """Every cohort-period cell: the ATT(d)/ACRT(d) grid, ATT^o, ACRT^o and their influence rows."""
    tpos = {t: i for i, t in enumerate(times)}
    K = basis.size
    ngrid = len(Pg)
    P = 2 * ngrid + 2  # att(d) grid, acrt(d) grid, att_o, acrt_o
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
                EvalkitWarning, stacklevel=3)
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
                                  "skipped.", EvalkitWarning, stacklevel=3)
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
    return cells


def aggregate_cells(cells, G, cohorts, n: int, P: int):
    """Aggregate the post-treatment cells with weights P(G=g | treated), split equally over each
    cohort's post periods: the cells, weights, estimates, unit-level influence functions and
    cohort sizes."""
    post_cells = [c for c in cells if c["post"]]
    if not post_cells:
        raise NoControlUnitsError(
            "No post-treatment cohort-period cell has comparison units; with "
            "control_group='not_yet_treated' the last cohort needs never-treated units.")
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
    return post_cells, W, theta, IF, n_by_g


def sup_t_bands(IFc, se, ngrid: int, bootstrap: bool, reason, n_bootstrap: int, seed, level: float):
    """Sup-t critical values of the ATT(d) and ACRT(d) bands by multiplier bootstrap."""
    crit_att = crit_acrt = None
    maxes = np.full((0, 2), np.nan)
    boot_desc = "analytic (influence-function) standard errors"
    if bootstrap and reason is None:
        chunk = max(1, int(4e7 // max(1, IFc.shape[0])))  # Rademacher matrix <= ~320 MB
        draws = multiplier_draws(IFc, 1, n_bootstrap, seed, "rademacher", chunk_rows=chunk,
                                 dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            tz = np.abs(draws) / se
        tz[:, se == 0] = 0.0
        maxes = np.column_stack([tz[:, :ngrid].max(axis=1), tz[:, ngrid:2 * ngrid].max(axis=1)])
        crit_att = float(np.quantile(maxes[:, 0], level, method=BAND_QUANTILE))
        crit_acrt = float(np.quantile(maxes[:, 1], level, method=BAND_QUANTILE))
        boot_desc = (f"analytic (influence-function) standard errors; simultaneous bands by "
                     f"multiplier bootstrap ({n_bootstrap} Rademacher draws, seed {seed})")
    return crit_att, crit_acrt, maxes, boot_desc


def treated_sample(G, d_unit, units, times, cohort: str, control_group: str):
    """Cohorts with a pre-period (earlier ones excluded with a warning; later ones never treated),
    the zero-dose comparison units, and the doses of the treated units."""
    # cohorts treated in the first period have no pre-period: excluded
    early = (G > 0) & (G <= times[0])
    if early.any():
        warnings.warn(
            f"{early.sum()} unit(s) are treated from the first period ({times[0]}) and have no "
            f"pre-treatment period; they are excluded: {', '.join(map(str, units[early][:10]))}",
            ExcludedUnitsWarning, stacklevel=3)
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
    return G, d_unit, never, cohorts, treated_all, tdoses


def cell_table(cells, post_cells, W) -> pd.DataFrame:
    """One row per cohort-period cell: sizes, ATT^o, ACRT^o and its aggregation weight."""
    wmap = {(c["g"], c["t"]): W[k] for k, c in enumerate(post_cells)}
    att_gt = pd.DataFrame({
        "group": [c["g"] for c in cells], "time": [c["t"] for c in cells],
        "event_time": [c["t"] - c["g"] for c in cells],
        "n_treated": [c["n_t"] for c in cells], "n_control": [c["n_c"] for c in cells],
        "att_o": [c["att_o"] for c in cells], "acrt_o": [c["acrt_o"] for c in cells],
        "weight": [wmap.get((c["g"], c["t"]), 0.0) for c in cells],
    })
    return att_gt


def binarised_event_study(cells, n, cl, n_by_g, inference, nobs, reason=None):
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
        IFc, _ = label_sums(IF, cl)
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


def twfe_dose(df, units, times, Y, G, d_unit, cl, outcome, cluster, reason=None):
    """TWFE of the outcome on dose×post with its de Chaisemartin–D'Haultfœuille weights."""
    n, T = Y.shape
    ui = np.repeat(np.arange(n), T)
    ti = np.tile(np.arange(T), n)
    post = (G[:, None] > 0) & (times[None, :] >= G[:, None])
    treat = (post * d_unit[:, None]).ravel()
    y = Y.ravel()
    absorber = TwoWayAbsorber(ui, ti)
    xr = absorber.absorb(treat)
    yr = absorber.absorb(y)
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
