"""Optimal fixed-length confidence intervals under smoothness restrictions (Delta^SD(M)).

Armstrong and Kolesar (2018, 2020) affine estimators as used by Rambachan and Roth (2023,
Sec. 4.1): the interval is :math:`v'\\hat\\beta \\pm \\chi`, where the affine weights ``v`` put the
target weights ``l`` on the post-period coefficients and free weights on the pre-period ones, and
:math:`\\chi = \\mathrm{cv}_\\alpha(\\bar b / s)\\, s` with ``s`` the standard deviation of
:math:`v'\\hat\\beta`, :math:`\\bar b` its worst-case bias over

.. math::

    \\Delta^{SD}(M) = \\{\\delta : |(\\delta_{t+1} - \\delta_t) - (\\delta_t - \\delta_{t-1})| \\le M\\},
    \\quad \\delta_{\\text{reference}} = 0,

and :math:`\\mathrm{cv}_\\alpha(b)` the :math:`1-\\alpha` quantile of :math:`|N(b, 1)|`.

Worst-case bias. Writing :math:`\\delta` through its slope just after the reference period and its
second differences ``s`` (a linear bijection), the bias :math:`v'\\delta` is finite only if it does
not load on the slope (the estimator is exact for linear trends), and then equals
:math:`M \\lVert c(v) \\rVert_1` where ``c(v)`` are the loadings on the second differences. For each
standard deviation bound ``h`` the smallest worst-case bias is a small convex programme (solved by
SLSQP); the half length is convex in ``h`` and minimised over
``[h_min, h_0]`` (``h_min``: the least-variance exact-for-linear-trends estimator; ``h_0``: the
estimator that extrapolates the last pre-period linearly, as in R HonestDiD).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats


def folded_normal_quantile(p: float, mu: float) -> float:
    """``p`` quantile of ``|N(mu, 1)|`` (exact, by root finding)."""
    mu = abs(float(mu))

    def f(q):
        return stats.norm.cdf(q - mu) - stats.norm.cdf(-q - mu) - p

    hi = mu + stats.norm.ppf(p) + 10
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-14))


def _second_difference_map(P: int, Q: int) -> np.ndarray:
    """Matrix ``L`` with ``delta = L @ (slope, s)`` over the P+Q non-reference periods."""
    n = P + Q + 1  # periods -P..Q in delta-tilde units, reference at index P
    rows = []
    e = np.eye(n)
    rows.append(e[P])
    rows.append(e[P + 1] - e[P])
    for t in range(1, n - 1):
        rows.append(e[t + 1] - 2 * e[t] + e[t - 1])
    Mfull = np.vstack(rows)
    inv = np.linalg.inv(Mfull)
    L = np.delete(inv[:, 1:], P, axis=0)
    return L


@dataclass
class _FLCIProblem:
    sigma: np.ndarray
    l_vec: np.ndarray
    P: int
    Q: int

    def __post_init__(self):
        L = _second_difference_map(self.P, self.Q)
        Lpre, Lpost = L[: self.P], L[self.P :]
        g = Lpost.T @ self.l_vec  # loadings of the fixed post weights
        C = Lpre.T  # loadings per unit of pre weight
        self.a_eq, self.b_eq = C[0], -g[0]  # slope loading must vanish
        self.g, self.C = g[1:], C[1:]
        S = self.sigma
        P = self.P
        self.Spp = S[:P, :P]
        self.Spq_l = S[:P, P:] @ self.l_vec
        self.lSl = float(self.l_vec @ S[P:, P:] @ self.l_vec)

    def var(self, v):
        return float(v @ self.Spp @ v + 2 * v @ self.Spq_l + self.lSl)

    def bias(self, v):
        return float(np.abs(self.g + self.C @ v).sum())

    def min_variance(self):
        """Least-variance pre weights subject to exactness for linear trends."""
        Spp, a = self.Spp, self.a_eq
        # KKT: [2Spp a; a' 0] [v; mu] = [-2 Spq_l; b]
        P = self.P
        K = np.zeros((P + 1, P + 1))
        K[:P, :P] = 2 * Spp
        K[:P, P] = a
        K[P, :P] = a
        rhs = np.append(-2 * self.Spq_l, self.b_eq)
        sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
        return sol[:P]

    def extrapolation_weights(self):
        """R HonestDiD's minimum-bias starting point: last pre-period times sum_t t*l_t."""
        v = np.zeros(self.P)
        v[-1] = float(np.arange(1, self.Q + 1) @ self.l_vec)
        return v

    def _reduced(self):
        """Eliminate the equality: ``v = v0 + N z``, ``var = (z - zc)' H (z - zc) + h_min^2``."""
        if not hasattr(self, "_red"):
            a = self.a_eq
            v0 = a * self.b_eq / (a @ a)
            _, _, vt = np.linalg.svd(a[None, :])
            N = vt[1:].T
            H = N.T @ self.Spp @ N
            q = N.T @ (self.Spp @ v0 + self.Spq_l)
            Hinv = np.linalg.pinv(H)
            zc = -Hinv @ q
            gp = self.g + self.C @ (v0 + N @ zc)
            Cp = self.C @ N
            K = Cp @ Hinv @ Cp.T
            self._red = (v0, N, zc, gp, Cp, Hinv, K)
        return self._red

    def min_bias_given_h(self, h, v_start=None):
        """Smallest worst-case bias (per unit of M) among estimators with s.d. <= h.

        Solved through its dual: with ``v = v0 + N (zc + y)`` and ``y' H y <= r^2``
        (``r^2 = h^2 - h_min^2``), ``min_y ||g' + C' y||_1 = max_{|lam| <= 1} lam'g' -
        r ||lam' C'||_{H^{-1}}``, a smooth concave problem on a box (L-BFGS-B); the primal
        solution is ``y = -r H^{-1} C'^T lam / ||lam' C'||_{H^{-1}}``.
        """
        v0, N, zc, gp, Cp, Hinv, K = self._reduced()
        vc = v0 + N @ zc
        r2 = h**2 - self.var(vc)
        if N.shape[1] == 0 or r2 <= 0:
            return self.bias(vc), vc
        r = np.sqrt(r2)

        def negdual(lam):
            Kl = K @ lam
            nrm = np.sqrt(max(lam @ Kl, 1e-300))
            return -(lam @ gp - r * nrm), -(gp - r * Kl / nrm)

        lam0 = np.sign(gp)
        lam0[lam0 == 0] = 1.0
        res = optimize.minimize(negdual, lam0, jac=True, method="L-BFGS-B",
                                bounds=[(-1.0, 1.0)] * len(gp),
                                options={"ftol": 1e-13, "gtol": 1e-11, "maxiter": 2000})
        lam = res.x
        Kl = K @ lam
        nrm = np.sqrt(lam @ Kl)
        y = -r * (Hinv @ Cp.T @ lam) / nrm if nrm > 0 else np.zeros(N.shape[1])
        v = vc + N @ y
        return self.bias(v), v


_PROBLEMS: dict = {}


def _problem(sigma, l_vec, P, Q) -> _FLCIProblem:
    """One problem object per (sigma, l, P, Q): its bias-given-h solutions are cached across M."""
    key = (P, Q, np.asarray(sigma, float).tobytes(), np.asarray(l_vec, float).tobytes())
    if key not in _PROBLEMS:
        if len(_PROBLEMS) > 16:
            _PROBLEMS.clear()
        prob = _FLCIProblem(np.asarray(sigma, float), np.asarray(l_vec, float), P, Q)
        prob.cache = {}
        _PROBLEMS[key] = prob
    return _PROBLEMS[key]


def _bias_at(prob: _FLCIProblem, h: float):
    """Cached smallest worst-case bias at s.d. bound ``h``, warm-started from the nearest h."""
    key = float(h)
    if key not in prob.cache:
        if prob.cache:
            near = min(prob.cache, key=lambda k: abs(k - key))
            start = prob.cache[near][1]
            if prob.var(start) > key**2:
                start = prob.v_min
        else:
            start = prob.v_min
        prob.cache[key] = prob.min_bias_given_h(key, start)
    return prob.cache[key]


def optimal_flci(betahat, sigma, P, Q, l_vec, M, alpha=0.05):
    """Optimal FLCI for ``theta = l' tau_post`` under Delta^SD(M).

    Returns
    -------
    dict
        ``lower``, ``upper``, ``half_length``, ``weights`` (the full affine weight vector),
        ``max_bias``, ``sd``.
    """
    prob = _problem(sigma, l_vec, P, Q)
    p = 1 - alpha
    if not hasattr(prob, "v_min"):
        prob.v_min = prob.min_variance()
        prob.h_min = np.sqrt(prob.var(prob.v_min))
        prob.v_ext = prob.extrapolation_weights()
        prob.h0 = np.sqrt(prob.var(prob.v_ext))
    v_min, h_min, h0 = prob.v_min, prob.h_min, prob.h0
    if M == 0 or h0 <= h_min * (1 + 1e-10):
        v = v_min
        b = prob.bias(v)
        hl = folded_normal_quantile(p, M * b / h_min) * h_min
    else:
        def half_length(h):
            b, _ = _bias_at(prob, h)
            return folded_normal_quantile(p, M * b / h) * h

        res = optimize.minimize_scalar(half_length, bounds=(h_min, h0), method="bounded",
                                       options={"xatol": 1e-5 * (h0 - h_min)})
        cands = [(half_length(h), h) for h in (h_min * (1 + 1e-9), h0, res.x)]
        hl, hstar = min(cands)
        v = _bias_at(prob, hstar)[1]
        b = prob.bias(v)
    weights = np.concatenate([v, prob.l_vec])
    centre = float(weights @ betahat)
    return {
        "lower": centre - hl, "upper": centre + hl, "half_length": hl, "weights": weights,
        "max_bias": M * b, "sd": np.sqrt(prob.var(v)),
    }
