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

    def min_bias_given_h(self, h, v_start):
        """Smallest worst-case bias (per unit of M) among estimators with s.d. <= h."""
        P, K = self.P, len(self.g)
        u0 = np.abs(self.g + self.C @ v_start) + 1e-9
        x0 = np.concatenate([v_start, u0])
        scale = max(h**2, 1e-300)
        cons = [
            {"type": "eq", "fun": lambda x: np.array([self.a_eq @ x[:P] - self.b_eq]),
             "jac": lambda x: np.concatenate([self.a_eq, np.zeros(K)])[None, :]},
            {"type": "ineq", "fun": lambda x: x[P:] - (self.g + self.C @ x[:P]),
             "jac": lambda x: np.hstack([-self.C, np.eye(K)])},
            {"type": "ineq", "fun": lambda x: x[P:] + (self.g + self.C @ x[:P]),
             "jac": lambda x: np.hstack([self.C, np.eye(K)])},
            {"type": "ineq", "fun": lambda x: np.array([(h**2 - self.var(x[:P])) / scale]),
             "jac": lambda x: np.concatenate(
                 [-(2 * self.Spp @ x[:P] + 2 * self.Spq_l) / scale, np.zeros(K)])[None, :]},
        ]
        res = optimize.minimize(
            lambda x: x[P:].sum(), x0, jac=lambda x: np.concatenate([np.zeros(P), np.ones(K)]),
            constraints=cons, method="SLSQP", options={"maxiter": 500, "ftol": 1e-13},
        )
        v = res.x[:P]
        return self.bias(v), v


def optimal_flci(betahat, sigma, P, Q, l_vec, M, alpha=0.05):
    """Optimal FLCI for ``theta = l' tau_post`` under Delta^SD(M).

    Returns
    -------
    dict
        ``lower``, ``upper``, ``half_length``, ``weights`` (the full affine weight vector),
        ``max_bias``, ``sd``.
    """
    prob = _FLCIProblem(np.asarray(sigma, float), np.asarray(l_vec, float), P, Q)
    p = 1 - alpha
    v_min = prob.min_variance()
    h_min = np.sqrt(prob.var(v_min))
    v_ext = prob.extrapolation_weights()
    h0 = np.sqrt(prob.var(v_ext))
    if M == 0 or h0 <= h_min * (1 + 1e-10):
        v = v_min
        b = prob.bias(v)
        hl = folded_normal_quantile(p, M * b / h_min) * h_min
    else:
        cache = {}

        def half_length(h):
            key = float(h)
            if key not in cache:
                start = v_min if h < (h_min + h0) / 2 else v_ext
                b, v = prob.min_bias_given_h(h, start)
                cache[key] = (folded_normal_quantile(p, M * b / h) * h, v)
            return cache[key][0]

        res = optimize.minimize_scalar(half_length, bounds=(h_min, h0), method="bounded",
                                       options={"xatol": 1e-10 * h0})
        cands = [(half_length(h), h) for h in (h_min * (1 + 1e-9), h0, res.x)]
        hl, hstar = min(cands)
        v = cache[float(hstar)][1]
        b = prob.bias(v)
    weights = np.concatenate([v, prob.l_vec])
    centre = float(weights @ betahat)
    return {
        "lower": centre - hl, "upper": centre + hl, "half_length": hl, "weights": weights,
        "max_bias": M * b, "sd": np.sqrt(prob.var(v)),
    }
