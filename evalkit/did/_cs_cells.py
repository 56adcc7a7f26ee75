"""ATT(g,t) cells of :func:`evalkit.did.callaway_santanna`: which periods and comparison units each
cell uses (R did's rules) and the estimation of every cell with its influence function."""

from __future__ import annotations

import warnings

import numpy as np

from .._shared.exceptions import EvalkitError, EvalkitWarning, SingularDesignError
from ._cs_data import CSData
from ._cs_estimators import CellFailure, ipt, logit, panel_2x2, panel_2x2_improved, rc_2x2


def period_text(v: float) -> str:
    """A period or cohort as short text (``2004``, ``2004.5``)."""
    return f"{v:g}"


def _cells(times: np.ndarray, g: float, anticipation: int, base_period: str):
    """(current index, base index) pairs for cohort ``g``, R did's rules."""
    T = len(times)
    pre_idx = np.nonzero(times + anticipation < g)[0]
    b_post = int(pre_idx[-1])
    out = []
    if base_period == "varying":
        for c in range(1, T):
            b = b_post if g <= times[c] else c - 1
            out.append((c, b))
    else:
        for c in range(T):
            out.append((c, b_post))
    return out


def _control_mask(G, g, thr, control_group):
    if control_group == "never_treated":
        return G == 0
    return (G == 0) | ((G > thr) & (G != g))


def _what(g, t, covariates, method):
    cov_txt = ", ".join(covariates) if covariates else "(intercept only)"
    ps = (
        f"the propensity score of cohort {period_text(g)} (period {period_text(t)}) on covariates [{cov_txt}] "
        "cannot be estimated: the cohort has too few units for these covariates, or a covariate "
        "separates it perfectly or is collinear. Drop or coarsen covariates, merge small cohorts, "
        "or use method='reg'."
    )
    orr = (
        f"the outcome regression for cohort {period_text(g)} (period {period_text(t)}) on covariates [{cov_txt}] "
        "is singular: too few comparison units for these covariates or collinear covariates. "
        "Drop collinear covariates or use fewer covariates."
    )
    return ps, orr


def estimate_cells(d: CSData, *, method, control_group, anticipation, base_period, covariates):
    """Estimate every ATT(g,t) and write its influence function into a unit x column basis.

    Returns cell cohorts, periods, estimates and an ``n x (K + n_cohorts)`` array whose first ``K``
    columns are the cells' influence functions (the rest is left for the cohort-share columns).
    Without covariates in a balanced panel all periods of a cohort are done at once (vectorised
    over units and periods); otherwise one small 2x2 estimation per cell (vectorised over units).
    """
    times, G, w, n = d.times, d.G, d.w, d.n
    plan = [(g, _cells(times, g, anticipation, base_period)) for g in d.groups]
    n_cells = sum(len(p) for _, p in plan)
    basis = np.zeros((n, n_cells + len(d.groups)), order="F")
    cell_g, cell_t, atts = [], [], []
    fast = d.layout == "balanced" and d.X is None
    rows_cache: dict = {}
    ps_cache: dict = {}
    j = 0
    for g, pairs in plan:
        tr = G == g
        if fast:
            m = len(pairs)
            cur = np.array([c for c, _ in pairs])
            base = np.array([b for _, b in pairs])
            thr = times[np.maximum(cur, base)] + anticipation
            if control_group == "never_treated":
                ctrl = G == 0
            else:  # units ever usable as controls for some period of this cohort
                ctrl = _control_mask(G, g, thr.min(), control_group)
            rows = np.nonzero(tr | ctrl)[0]  # other units have zero influence in these cells
            Ysub = d.Y[rows]
            dy = Ysub[:, cur] - Ysub[:, base]
            ws, Gs = w[rows], G[rows]
            a = ws * tr[rows]
            st = a.sum()
            a *= n / st  # n w_i D_i / sum(w D)
            eta_t = (a @ dy) / n
            if control_group == "never_treated":
                b = ws * ctrl[rows]
                sc = np.full(m, b.sum())
            else:
                b = ws[:, None] * _control_mask(Gs[:, None], g, thr[None, :], control_group)
                sc = b.sum(axis=0)
            if np.any(sc == 0):
                bad = times[cur[sc == 0]]
                raise EvalkitError(
                    f"No comparison units for cohort {period_text(g)} in period(s) {', '.join(map(period_text, bad))}."
                )
            if method != "reg" and np.any(st / (st + sc) >= 0.995):
                raise SingularDesignError(_what(g, times[cur[0]], covariates, method)[0])
            if b.ndim == 1:
                b *= n / sc[0]
                eta_c = (b @ dy) / n
                out = dy * (a - b)[:, None]
                out -= np.multiply.outer(a, eta_t)
                out += np.multiply.outer(b, eta_c)
            else:
                b *= n / sc
                eta_c = np.einsum("ij,ij->j", b, dy) / n
                out = dy * (a[:, None] - b)
                out -= np.multiply.outer(a, eta_t)
                out += b * eta_c
            same = cur == base
            out[:, same] = 0.0
            basis[rows, j : j + m] = out
            att = eta_t - eta_c
            att[same] = 0.0
            cell_g += [g] * m
            cell_t += list(times[cur])
            atts += list(att)
            j += m
            continue
        for c, b in pairs:
            t = times[c]
            cell_g.append(g)
            cell_t.append(t)
            col = basis[:, j]
            j += 1
            if c == b:
                atts.append(0.0)
                continue
            thr_c = times[max(c, b)] + anticipation
            ctrl = _control_mask(G, g, thr_c, control_group)
            what = _what(g, t, covariates, method)
            try:
                if d.layout == "balanced":
                    # cells sharing cohort, comparison set and covariate period share the
                    # propensity-score fit (fitted once, on first use)
                    ckey = (g, None if control_group == "never_treated" else thr_c)
                    xper = None if d.x_invariant else min(b, c)
                    if ckey not in rows_cache:
                        rows_cache[ckey] = np.nonzero(tr | ctrl)[0]
                    rows = rows_cache[ckey]
                    dy = d.Y[rows, c] - d.Y[rows, b]
                    x = d.X[min(b, c)][rows]
                    dd = tr[rows].astype(float)
                    wr = w[rows]
                    pkey = (ckey, xper)

                    def fit_ps(pkey=pkey, dd=dd, x=x, wr=wr, what=what):
                        if pkey not in ps_cache:
                            f = ipt if method == "dr_improved" else logit
                            ps_cache[pkey] = f(dd, x, wr / wr.mean(), what[0])
                        return ps_cache[pkey]

                    if method == "dr_improved":
                        att, psi = panel_2x2_improved(dy, dd, x, wr, what, ps_fit=fit_ps)
                    else:
                        att, psi = panel_2x2(dy, dd, x, wr, method, what, ps_fit=fit_ps)
                    col[rows] = psi * (n / len(rows))
                else:
                    unit_sel = tr | ctrl
                    rows = ((d.row_t == c) | (d.row_t == b)) & unit_sel[d.row_unit]
                    post = (d.row_t[rows] == c).astype(float)
                    dd = tr[d.row_unit[rows]].astype(float)
                    missing = [
                        lab
                        for lab, msk in (
                            ("treated units in the current period", (dd == 1) & (post == 1)),
                            ("treated units in the base period", (dd == 1) & (post == 0)),
                            ("comparison units in the current period", (dd == 0) & (post == 1)),
                            ("comparison units in the base period", (dd == 0) & (post == 0)),
                        )
                        if not msk.any()
                    ]
                    if missing:
                        warnings.warn(
                            f"ATT({period_text(g)},{period_text(t)}) not estimated: no {', '.join(missing)} "
                            f"(base period {period_text(times[b])}).",
                            EvalkitWarning,
                            stacklevel=3,
                        )
                        atts.append(np.nan)
                        continue
                    att, psi = rc_2x2(
                        d.row_y[rows], post, dd, d.row_X[rows], d.row_w[rows], method, what
                    )
                    col[:] = np.bincount(d.row_unit[rows], weights=psi * (n / rows.sum()), minlength=n)
            except CellFailure as exc:
                raise SingularDesignError(str(exc)) from None
            atts.append(att)
    return np.asarray(cell_g, float), np.asarray(cell_t, float), np.asarray(atts, float), basis
