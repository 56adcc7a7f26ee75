"""Conditional and hybrid moment-inequality tests (Andrews, Roth and Pakes 2023) for HonestDiD.

For a polyhedral restriction :math:`\\Delta = \\{\\delta: A\\delta \\le d\\}` and a target
:math:`\\theta = l'\\tau_{post}`, the null :math:`\\theta = \\bar\\theta` holds iff there is a nuisance
:math:`\\tilde\\tau` with :math:`E[Y(\\bar\\theta)] - X\\tilde\\tau \\le 0`, where
:math:`Y(\\bar\\theta) = A\\hat\\beta - d - a\\bar\\theta` (Rambachan and Roth 2023, Sec. 3). The
statistic is

.. math::

    \\hat\\eta = \\min_{\\eta, \\tilde\\tau} \\eta \\quad \\text{s.t.}\\quad Y - X\\tilde\\tau \\le
    \\eta\\, \\sigma_Y = \\max_{\\gamma \\ge 0,\\; W'\\gamma = e_1} \\gamma' Y,
    \\qquad W = [\\sigma_Y, X].

The dual feasible set is a fixed polytope, so we enumerate its vertices once per restriction and
evaluate :math:`\\hat\\eta`, the optimal vertex :math:`\\gamma^*`, and the exact truncation interval
:math:`[V^{lo}, V^{up}]` of :math:`\\gamma^{*\\prime} Y` given
:math:`S = Y - \\Sigma\\gamma^*(\\gamma^{*\\prime}\\Sigma\\gamma^*)^{-1}\\gamma^{*\\prime}Y` in closed form
for a whole grid of :math:`\\bar\\theta` at once. The conditional test compares
:math:`\\hat\\eta/\\sigma_B` with the :math:`1-\\alpha` quantile of a standard normal truncated to
:math:`[V^{lo}, V^{up}]/\\sigma_B`; the hybrid ("C-LF", the HonestDiD default) first rejects when
:math:`\\hat\\eta` exceeds the least-favourable critical value :math:`c_{LF}` (the
:math:`1-\\kappa` quantile of :math:`\\hat\\eta` at :math:`E[Y]=0`, :math:`\\kappa=\\alpha/10`),
and otherwise runs the conditional test at size :math:`(\\alpha-\\kappa)/(1-\\kappa)` with
:math:`V^{up}` capped at :math:`c_{LF}`.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
from scipy import stats

from .._shared.exceptions import EvalkitError

MAX_VERTEX_SUBSETS = 500_000


def dual_vertices(W: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Vertices of ``{gamma >= 0 : W' gamma = e1}`` (rows of the returned array)."""
    M, k1 = W.shape
    n_sub = comb(M, k1)
    if n_sub > MAX_VERTEX_SUBSETS:
        raise EvalkitError(
            f"The relative-magnitudes test would enumerate {n_sub} vertex candidates (too many "
            "post-treatment periods for the exact method). Use fewer post-periods (e.g. bin or "
            "average them with l_vec) or restriction='smoothness'."
        )
    combos = np.array(list(combinations(range(M), k1)), dtype=np.int64)  # (nsub, k1)
    WB = np.transpose(W[combos], (0, 2, 1))  # W_B' for every subset: (nsub, k1, k1)
    scale = np.abs(W).max() ** k1
    det = np.linalg.det(WB)
    ok = np.abs(det) > 1e-12 * max(scale, 1e-300)
    combos, WB = combos[ok], WB[ok]
    e1 = np.zeros((len(combos), k1, 1))
    e1[:, 0, 0] = 1.0
    g = np.linalg.solve(WB, e1)[:, :, 0] if len(combos) else np.zeros((0, k1))
    feas = np.all(g >= -tol, axis=1)
    out = np.zeros((int(feas.sum()), M))
    np.put_along_axis(out, combos[feas], np.clip(g[feas], 0, None), axis=1)
    if out.shape[0] == 0:
        raise EvalkitError("The moment-inequality problem has no feasible dual vertex.")
    V = np.unique(np.round(out, 12), axis=0)
    return V


_DRAWS: dict = {}


def _normal_draws(n: int, dim: int, seed: int) -> np.ndarray:
    """Standard normal draws, shared by every restriction of one analysis (same seed, as in R)."""
    key = (n, dim, seed)
    if key not in _DRAWS:
        if len(_DRAWS) > 8:
            _DRAWS.clear()
        _DRAWS[key] = np.random.default_rng(seed).standard_normal((n, dim))
    return _DRAWS[key]


class ConditionalTest:
    """The ARP conditional / hybrid test for one polyhedral restriction, vectorised over a grid.

    Parameters
    ----------
    Y0 : ndarray, shape (M,)
        ``A betahat - d`` restricted to the moments used.
    a : ndarray, shape (M,)
        Loading of the target parameter: ``Y(theta) = Y0 - a * theta``.
    X : ndarray, shape (M, k)
        Loadings of the nuisance parameters (``k`` may be 0).
    sigma_Y : ndarray, shape (M, M)
        Covariance of ``Y``.
    alpha : float
        Size.
    hybrid : {"LF", "ARP"}
        Least-favourable hybrid (HonestDiD's "C-LF") or the pure conditional test.
    kappa : float
        First-stage size of the hybrid.
    lf_sims : int
        Gaussian draws for the least-favourable critical value.
    seed : int
        Seed of those draws.
    """

    def __init__(self, Y0, a, X, sigma_Y, alpha=0.05, hybrid="LF", kappa=None, lf_sims=20_000,
                 seed=0):
        self.Y0 = np.asarray(Y0, float)
        self.a = np.asarray(a, float)
        self.S = np.asarray(sigma_Y, float)
        sd = np.sqrt(np.clip(np.diag(self.S), 0, None))
        if np.any(sd <= 0):
            raise EvalkitError("A moment has zero variance; cannot standardise the test statistic.")
        X = np.zeros((len(self.Y0), 0)) if X is None else np.asarray(X, float).reshape(len(self.Y0), -1)
        self.W = np.column_stack([sd, X])
        self.V = dual_vertices(self.W)  # (nv, M)
        self.alpha = alpha
        self.hybrid = hybrid
        self.kappa = alpha / 10 if kappa is None else kappa
        self.lf_cv = np.inf
        if hybrid == "LF":
            L = np.linalg.cholesky(self.S + 1e-14 * np.eye(len(sd)) * sd.max() ** 2)
            xi = _normal_draws(lf_sims, len(sd), seed) @ L.T
            eta = (xi @ self.V.T).max(axis=1)
            self.lf_cv = float(np.quantile(eta, 1 - self.kappa))

    def accept(self, theta: np.ndarray) -> np.ndarray:
        """Boolean array: is each ``theta`` in the confidence set?"""
        theta = np.atleast_1d(np.asarray(theta, float))
        Y = self.Y0[None, :] - theta[:, None] * self.a[None, :]  # (G, M)
        vals = Y @ self.V.T  # (G, nv)
        jstar = np.argmax(vals, axis=1)
        eta = vals[np.arange(len(theta)), jstar]
        gstar = self.V[jstar]  # (G, M)
        Sg = gstar @ self.S  # (G, M)  (S symmetric)
        s2 = np.einsum("gm,gm->g", Sg, gstar)
        reject = np.zeros(len(theta), dtype=bool)
        if self.hybrid == "LF":
            size = (self.alpha - self.kappa) / (1 - self.kappa)
            first = eta > self.lf_cv
            reject |= first
        else:
            size = self.alpha
            first = np.zeros(len(theta), dtype=bool)
        tiny = s2 < np.finfo(float).eps
        reject |= tiny & (eta > 0) & ~first
        ok = ~first & ~tiny
        if ok.any():
            idx = np.where(ok)[0]
            b = Sg[idx] / s2[idx, None]  # (g, M)
            Sres = Y[idx] - b * eta[idx, None]  # residual given gamma* ' Y
            av = Sres @ self.V.T  # (g, nv)
            bv = b @ self.V.T  # (g, nv)
            one_m = 1.0 - bv
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = av / one_m
            lo_mask = one_m > 1e-10
            up_mask = one_m < -1e-10
            vlo = np.where(lo_mask, ratio, -np.inf).max(axis=1)
            vup = np.where(up_mask, ratio, np.inf).min(axis=1)
            if self.hybrid == "LF":
                vup = np.minimum(vup, self.lf_cv)
            sB = np.sqrt(s2[idx])
            zlo, zup, stat = vlo / sB, vup / sB, eta[idx] / sB
            inside = (zlo <= stat + 1e-12) & (stat <= zup + 1e-12)
            cval = np.zeros(len(idx))
            if inside.any():
                lo_i = zlo[inside]
                up_i = np.maximum(zup[inside], lo_i + 1e-12)
                q = stats.truncnorm.ppf(1 - size, lo_i, up_i)
                cval[inside] = np.maximum(0.0, q)
            reject[idx] = inside & (stat > cval)
        return ~reject
