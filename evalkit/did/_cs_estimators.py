"""Two-group, two-period DiD estimators used for each ATT(g,t) cell of Callaway--Sant'Anna.

Each function returns the point estimate and its influence function on the observations it was
given, scaled so that ``att - att_true ~ mean(influence)`` (Sant'Anna and Zhao 2020, JoE 219(1)).

Panel data (one row per unit, outcome change ``dy = y_t - y_base``):

* ``reg``: outcome regression (Heckman, Ichimura and Todd 1997), Sant'Anna--Zhao eq. (2.2);
* ``ipw``: normalised (Hajek) inverse probability weighting (Abadie 2005), eq. (2.4);
* ``dr``:  the doubly robust estimator of eq. (3.1) with a logit propensity score fitted by
  maximum likelihood and linear outcome regression for the comparison group (R DRDID's
  ``drdid_panel``, which R did's ``att_gt(est_method = "dr")`` uses).

Repeated cross-sections (rows of the two periods with a ``post`` flag): the same three, the
doubly robust one being the locally efficient estimator of eq. (3.4) (R DRDID ``drdid_rc``).

Propensity scores are clipped to ``[1e-6, 1 - 1e-6]`` and comparison observations with a score of
0.995 or more get zero weight, as in R DRDID. ``X`` always holds an intercept column first.
"""

from __future__ import annotations

import numpy as np

TRIM_LEVEL = 0.995


class CellFailure(Exception):
    """A nuisance model of one cell cannot be fitted (the caller names the cell and columns)."""


def solve_sym(a: np.ndarray, b: np.ndarray, what: str) -> np.ndarray:
    """Solve ``a x = b`` for a symmetric positive (semi)definite ``a``, refusing singular ones."""
    s = np.linalg.svd(a, compute_uv=False)
    if s[-1] <= s[0] * 1e-12 or not np.isfinite(s).all():
        raise CellFailure(what)
    return np.linalg.solve(a, b)


def wls(y: np.ndarray, x: np.ndarray, w: np.ndarray, what: str) -> np.ndarray:
    """Weighted least squares coefficients of ``y`` on ``x`` (weights ``w``)."""
    xw = x * w[:, None]
    return solve_sym(xw.T @ x, xw.T @ y, what)


def logit(d: np.ndarray, x: np.ndarray, w: np.ndarray, what: str) -> np.ndarray:
    """Weighted logistic regression by Newton--Raphson; returns fitted probabilities.

    Raises :class:`CellFailure` when the maximum likelihood estimate does not exist (perfect
    separation, for instance fewer treated units than parameters) or the information matrix is
    singular (collinear covariates).
    """
    k = x.shape[1]
    if x.shape[1] == 1:  # intercept only: closed form
        p = np.sum(w * d) / np.sum(w)
        if not 0 < p < 1:
            raise CellFailure(what)
        return np.full(d.shape[0], p)
    # start from the intercept-only fit
    p0 = np.sum(w * d) / np.sum(w)
    beta = np.zeros(k)
    beta[0] = np.log(p0 / (1 - p0))
    converged = False
    for _ in range(100):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        wt = w * p * (1 - p)
        score = x.T @ (w * (d - p))
        info = (x * wt[:, None]).T @ x
        step = solve_sym(info, score, what)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-11 * (1 + np.max(np.abs(beta))):
            converged = True
            break
    p = 1.0 / (1.0 + np.exp(-(x @ beta)))
    if not converged or np.max(np.abs(beta)) > 50:
        raise CellFailure(what)
    return p


def ipt(d: np.ndarray, x: np.ndarray, w: np.ndarray, what: str) -> np.ndarray:
    """Inverse-probability-tilting propensity score for the ATT (Graham, Pinto and Egel 2012).

    Maximises the concave objective ``sum w [D x'g - (1 - D) exp(x'g)]`` by Newton steps from the
    logit fit; the solution balances covariates: ``sum_{D=1} w x = sum_{D=0} w exp(x'g) x``.
    Returns ``expit(x'g)``. Raises :class:`CellFailure` when no balancing solution exists.
    """
    p0 = np.clip(logit(d, x, w, what), 1e-12, 1 - 1e-12)
    gam = np.linalg.lstsq(x, np.log(p0 / (1 - p0)), rcond=None)[0]
    ctrl = 1.0 - d
    for _ in range(100):
        e = np.exp(np.clip(x @ gam, -700, 700))
        grad = x.T @ (w * (d - ctrl * e))
        hess = (x * (w * ctrl * e)[:, None]).T @ x
        step = solve_sym(hess, grad, what)
        # damped Newton: halve until the objective increases
        obj = np.sum(w * (d * (x @ gam) - ctrl * e))
        t = 1.0
        for _ in range(40):
            cand = gam + t * step
            eta = x @ cand
            val = np.sum(w * (d * eta - ctrl * np.exp(np.clip(eta, -700, 700))))
            if val >= obj - 1e-12 * abs(obj):
                break
            t /= 2
        gam = cand
        if np.max(np.abs(t * step)) < 1e-11 * (1 + np.max(np.abs(gam))):
            break
    else:
        raise CellFailure(what)
    if not np.all(np.isfinite(gam)) or np.max(np.abs(gam)) > 50:
        raise CellFailure(what)
    return 1.0 / (1.0 + np.exp(-(x @ gam)))


def panel_2x2_improved(dy, d, x, w, what=("", ""), ps_fit=None):
    """Improved, locally efficient doubly robust DiD for panel data (Sant'Anna--Zhao 2020, eq. 3.1
    with the IPT propensity score and odds-weighted least squares; R DRDID ``drdid_imp_panel``).

    With these nuisance estimators the estimation effects cancel, so the influence function is the
    leading term alone. Parameters as :func:`panel_2x2`.
    """
    w = w / w.mean()
    ps_what, or_what = what
    raw = ps_fit() if ps_fit is not None else ipt(d, x, w, ps_what)
    ps = np.clip(raw, 1e-6, 1 - 1e-6)
    trim = np.ones(d.shape[0])
    ctrl = d == 0
    trim[ctrl] = ps[ctrl] < TRIM_LEVEL
    odds = ps / (1 - ps)
    beta = wls(dy[ctrl], x[ctrl], (w * odds)[ctrl], or_what)
    r = dy - x @ beta
    summand = trim * (1 - (1 - d) / (1 - ps)) * r
    mdw = np.mean(d * w)
    att = np.mean(w * summand) / mdw
    return float(att), w * trim * (summand - d * att) / mdw


def _ps(d, x, w, what, ps_fit=None):
    raw = ps_fit() if ps_fit is not None else logit(d, x, w, what)
    ps = np.clip(raw, 1e-6, 1 - 1e-6)
    trim = np.ones(d.shape[0], dtype=bool)
    ctrl = d == 0
    trim[ctrl] = ps[ctrl] < TRIM_LEVEL
    return ps, trim


def _ps_linrep(d, x, w, ps, what):
    """Return a function v -> asymptotic linear representation of the logit times ``v``."""
    n = d.shape[0]
    info = (x * (w * ps * (1 - ps))[:, None]).T @ x
    score_r = w * (d - ps)

    def apply(v):
        return score_r * (x @ solve_sym(info, v, what)) * n

    return apply


def _ols_linrep(resid, x, wsub, what):
    """Function v -> linear representation of a (sub-sample) WLS fit times ``v``."""
    n = x.shape[0]
    gram = (x * wsub[:, None]).T @ x / n
    r = wsub * resid

    def apply(v):
        return r * (x @ solve_sym(gram, v, what))

    return apply


def panel_2x2(dy, d, x, w, method, what=("", ""), ps_fit=None):
    """ATT and influence function for panel data.

    Parameters
    ----------
    dy : ndarray
        Outcome change ``y_t - y_base`` per unit.
    d : ndarray
        1 for the treated cohort, 0 for comparison units.
    x : ndarray
        Covariates with a leading intercept column (``n x k``).
    w : ndarray
        Sampling weights (normalised inside to mean one).
    method : {"dr", "ipw", "reg"}
    what : tuple of str
        Descriptions of the propensity-score and outcome models used in error messages.
    ps_fit : callable, optional
        Returns the fitted logit propensity score for these ``(d, x, w)``; lets the caller reuse
        one fit across cells that share the sample and covariates.

    Returns
    -------
    att : float
    infl : ndarray
    """
    n = dy.shape[0]
    w = w / w.mean()
    ps_what, or_what = what
    if method == "reg":
        ctrl = d == 0
        beta = wls(dy[ctrl], x[ctrl], w[ctrl], or_what)
        out = x @ beta
        w_t = w * d
        eta_t = np.sum(w_t * dy) / np.sum(w_t)
        eta_c = np.sum(w_t * out) / np.sum(w_t)
        att = eta_t - eta_c
        mw = w_t.mean()
        inf_treat = w_t * (dy - eta_t) / mw
        lin = _ols_linrep(dy - out, x, w * (1 - d), or_what)
        inf_cont = (w_t * (out - eta_c) + lin(np.mean(w_t[:, None] * x, axis=0))) / mw
        return float(att), inf_treat - inf_cont
    ps, trim = _ps(d, x, w, ps_what, ps_fit)
    w_t = trim * w * d
    w_c = trim * w * ps * (1 - d) / (1 - ps)
    mw_t, mw_c = w_t.mean(), w_c.mean()
    if mw_c == 0:
        raise CellFailure(ps_what)
    ps_lin = _ps_linrep(d, x, w, ps, ps_what)
    if method == "ipw":
        eta_t = np.mean(w_t * dy) / mw_t
        eta_c = np.mean(w_c * dy) / mw_c
        inf_treat = w_t * (dy - eta_t) / mw_t
        m2 = np.mean((w_c * (dy - eta_c))[:, None] * x, axis=0)
        inf_cont = (w_c * (dy - eta_c) + ps_lin(m2)) / mw_c
        return float(eta_t - eta_c), inf_treat - inf_cont
    # doubly robust
    ctrl = d == 0
    beta = wls(dy[ctrl], x[ctrl], w[ctrl], or_what)
    out = x @ beta
    r = dy - out
    eta_t = np.mean(w_t * r) / mw_t
    eta_c = np.mean(w_c * r) / mw_c
    lin = _ols_linrep(r, x, w * (1 - d), or_what)
    inf_treat = (w_t * (r - eta_t) - lin(np.mean(w_t[:, None] * x, axis=0))) / mw_t
    a = w_c * (r - eta_c)
    inf_cont = (a + ps_lin(np.mean(a[:, None] * x, axis=0)) - lin(np.mean(w_c[:, None] * x, axis=0))) / mw_c
    del n
    return float(eta_t - eta_c), inf_treat - inf_cont


def rc_2x2(y, post, d, x, w, method, what=("", "")):
    """ATT and influence function for repeated cross-sections (or unbalanced panels).

    Parameters
    ----------
    y : ndarray
        Outcome of each row (rows of the base and the current period).
    post : ndarray
        1 for rows of the current period, 0 for the base period.
    d, x, w, method, what : see :func:`panel_2x2`.
    """
    w = w / w.mean()
    ps_what, or_what = what
    pre = 1 - post

    def fit(mask_w):
        sel = mask_w > 0
        beta = wls(y[sel], x[sel], w[sel], or_what)
        out = x @ beta
        return out, _ols_linrep(y - out, x, w * mask_w, or_what)

    if method == "reg":
        out_pre, lin_pre = fit((1 - d) * pre)
        out_post, lin_post = fit((1 - d) * post)
        w_tpre, w_tpost, w_c = w * d * pre, w * d * post, w * d
        eta_tpre = np.sum(w_tpre * y) / np.sum(w_tpre)
        eta_tpost = np.sum(w_tpost * y) / np.sum(w_tpost)
        dc = out_post - out_pre
        eta_c = np.sum(w_c * dc) / np.sum(w_c)
        att = (eta_tpost - eta_tpre) - eta_c
        inf_tpre = w_tpre * (y - eta_tpre) / w_tpre.mean()
        inf_tpost = w_tpost * (y - eta_tpost) / w_tpost.mean()
        m1 = np.mean(w_c[:, None] * x, axis=0)
        inf_c = (w_c * (dc - eta_c) + lin_post(m1) - lin_pre(m1)) / w_c.mean()
        return float(att), (inf_tpost - inf_tpre) - inf_c

    ps, trim = _ps(d, x, w, ps_what)
    ps_lin = _ps_linrep(d, x, w, ps, ps_what)
    odds = ps / (1 - ps)
    w_tpre = trim * w * d * pre
    w_tpost = trim * w * d * post
    w_cpre = trim * w * odds * (1 - d) * pre
    w_cpost = trim * w * odds * (1 - d) * post
    for arr in (w_cpre, w_cpost):
        if arr.sum() == 0:
            raise CellFailure(ps_what)

    def lead(wv, v):
        m = wv.mean()
        eta = np.mean(wv * v) / m
        return eta, wv * (v - eta) / m

    if method == "ipw":
        a_tpre, i_tpre = lead(w_tpre, y)
        a_tpost, i_tpost = lead(w_tpost, y)
        a_cpre, i_cpre = lead(w_cpre, y)
        a_cpost, i_cpost = lead(w_cpost, y)
        att = (a_tpost - a_tpre) - (a_cpost - a_cpre)
        m2_pre = np.mean((w_cpre * (y - a_cpre))[:, None] * x, axis=0) / w_cpre.mean()
        m2_post = np.mean((w_cpost * (y - a_cpost))[:, None] * x, axis=0) / w_cpost.mean()
        inf_c = (i_cpost - i_cpre) + ps_lin(m2_post - m2_pre)
        return float(att), (i_tpost - i_tpre) - inf_c

    # locally efficient doubly robust
    out_cpre, lin_cpre = fit((1 - d) * pre)
    out_cpost, lin_cpost = fit((1 - d) * post)
    out_tpre, lin_tpre = fit(d * pre)
    out_tpost, lin_tpost = fit(d * post)
    out_c = post * out_cpost + pre * out_cpre
    w_d = trim * w * d
    r = y - out_c
    a_tpre, i_tpre = lead(w_tpre, r)
    a_tpost, i_tpost = lead(w_tpost, r)
    a_cpre, i_cpre = lead(w_cpre, r)
    a_cpost, i_cpost = lead(w_cpost, r)
    a_dpost, i_dpost = lead(w_d, out_tpost - out_cpost)
    a_dt1, i_dt1 = lead(w_tpost, out_tpost - out_cpost)
    a_dpre, i_dpre = lead(w_d, out_tpre - out_cpre)
    a_dt0, i_dt0 = lead(w_tpre, out_tpre - out_cpre)
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre) + (a_dpost - a_dt1) - (a_dpre - a_dt0)

    def colmean(v):
        return np.mean(v[:, None] * x, axis=0)

    inf_treat = (
        i_tpost
        - i_tpre
        + lin_cpost(-colmean(w_tpost) / w_tpost.mean())
        + lin_cpre(-colmean(w_tpre) / w_tpre.mean())
    )
    m2_pre = colmean(w_cpre * (r - a_cpre)) / w_cpre.mean()
    m2_post = colmean(w_cpost * (r - a_cpost)) / w_cpost.mean()
    inf_cont = (
        i_cpost
        - i_cpre
        + ps_lin(m2_post - m2_pre)
        + lin_cpost(-colmean(w_cpost) / w_cpost.mean())
        + lin_cpre(-colmean(w_cpre) / w_cpre.mean())
    )
    inf_eff = (i_dpost - i_dt1) - (i_dpre - i_dt0)
    mom_post = colmean(w_d / w_d.mean() - w_tpost / w_tpost.mean())
    mom_pre = colmean(w_d / w_d.mean() - w_tpre / w_tpre.mean())
    inf_or = (lin_tpost(mom_post) - lin_cpost(mom_post)) - (lin_tpre(mom_pre) - lin_cpre(mom_pre))
    return float(att), inf_treat - inf_cont + inf_eff + inf_or
