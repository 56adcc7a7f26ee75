"""Numerical core of synthetic difference-in-differences (Arkhangelsky et al., 2021).

Matrix-level functions, written from the paper's Algorithm 1 and the documented behaviour of the
R package ``synthdid`` (defaults, regularisation, sparsification, stopping rule), so that the
paper's Table 1 reproduces:

* unit weights :math:`\\omega` solve a ridge-penalised, intercept-adjusted fit of the treated
  units' average pre-period path, :math:`\\zeta_\\omega = (N_1 T_1)^{1/4}\\hat\\sigma`, where
  :math:`\\hat\\sigma` is the standard deviation of the control units' pre-period first
  differences;
* time weights :math:`\\lambda` fit the controls' average post-period outcome on their pre-period
  outcomes with :math:`\\zeta_\\lambda = 10^{-6}\\hat\\sigma`;
* both by Frank--Wolfe: 100 iterations, sparsify (drop weights <= max/4), then to convergence
  (decrease < :math:`(10^{-5}\\hat\\sigma)^2` or 10,000 iterations);
* SC: :math:`\\lambda = 0`, no intercept, :math:`\\zeta_\\omega = 10^{-6}\\hat\\sigma`;
  DiD: uniform weights.

All placebo draws are solved together as one batch (see :mod:`._frankwolfe`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._frankwolfe import SharedGram, StackedGram, solve, sparsify, sum_normalize


@dataclass(frozen=True)
class Options:
    """Estimator options (the analogue of R ``synthdid``'s ``opts``)."""

    zeta_omega: float
    zeta_lambda: float
    omega_intercept: bool = True
    lambda_intercept: bool = True
    update_omega: bool = True
    update_lambda: bool = True
    min_decrease: float = 1e-5
    max_iter: int = 10_000
    max_iter_pre_sparsify: int = 100
    sparsify: bool = True


def noise_level(Y: np.ndarray, N0: int, T0: int) -> float:
    """Standard deviation of the control units' pre-period first differences."""
    d = np.diff(Y[:N0, :T0], axis=1)
    if d.size < 2:
        return 0.0
    return float(np.std(d, ddof=1))


def default_setup(Y: np.ndarray, N0: int, T0: int, estimator: str):
    """Options and starting weights of ``estimator`` in {"sdid", "sc", "did"}."""
    N, T = Y.shape
    N1, T1 = N - N0, T - T0
    sigma = noise_level(Y, N0, T0)
    md = 1e-5 * sigma
    if estimator == "sdid":
        eta_omega = (N1 * T1) ** 0.25
        opts = Options(zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma, min_decrease=md)
        omega0 = np.full(N0, 1.0 / N0)
        lambda0 = np.full(T0, 1.0 / T0)
    elif estimator == "sc":
        opts = Options(
            zeta_omega=1e-6 * sigma, zeta_lambda=1e-6 * sigma, omega_intercept=False,
            update_lambda=False, min_decrease=md,
        )
        omega0 = np.full(N0, 1.0 / N0)
        lambda0 = np.zeros(T0)
    elif estimator == "did":
        opts = Options(
            zeta_omega=0.0, zeta_lambda=0.0, update_omega=False, update_lambda=False,
            min_decrease=md,
        )
        omega0 = np.full(N0, 1.0 / N0)
        lambda0 = np.full(T0, 1.0 / T0)
    else:  # pragma: no cover - validated by callers
        raise ValueError(estimator)
    return opts, omega0, lambda0, sigma


def _fw_sparse(access, c, bb, x0, zeta, nrow, opts: Options) -> np.ndarray:
    kw = dict(zeta2=zeta**2, nrow=nrow, min_decrease=opts.min_decrease)
    if opts.sparsify:
        x, _, _ = solve(access, c, bb, x0, max_iter=opts.max_iter_pre_sparsify, **kw)
        x = sparsify(x)
    else:
        x = x0
    x, _, _ = solve(access, c, bb, x, max_iter=opts.max_iter, **kw)
    return x


def batch_weights(
    Y: np.ndarray,
    idx_c: np.ndarray,
    idx_t: np.ndarray,
    T0: int,
    opts: Options,
    omega0: np.ndarray,
    lambda0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit and time weights for a batch of (controls, treated) splits of the rows of ``Y``.

    Parameters
    ----------
    Y : ndarray, shape (M, T)
        Outcomes of every unit that appears in the batch.
    idx_c : ndarray of int, shape (R, n0)
        Control rows of each batch member.
    idx_t : ndarray of int, shape (R, n1)
        Treated rows of each batch member.
    T0 : int
        Number of pre-treatment periods.
    opts : Options
        Regularisation and solver options.
    omega0 : ndarray, shape (R, n0)
        Starting (or fixed) unit weights.
    lambda0 : ndarray, shape (R, T0)
        Starting (or fixed) time weights.

    Returns
    -------
    omega : ndarray, shape (R, n0)
    lam : ndarray, shape (R, T0)
    """
    R, n0 = idx_c.shape
    omega = np.array(omega0, dtype=float)
    lam = np.array(lambda0, dtype=float)
    if opts.update_lambda:
        Z = Y[idx_c]  # (R, n0, T)
        Zc = np.concatenate([Z[:, :, :T0], Z[:, :, T0:].mean(axis=2, keepdims=True)], axis=2)
        if opts.lambda_intercept:
            Zc = Zc - Zc.mean(axis=1, keepdims=True)
        A, b = Zc[:, :, :T0], Zc[:, :, T0]
        G = np.einsum("rna,rnb->rab", A, A)
        c = np.einsum("rna,rn->ra", A, b)
        bb = np.einsum("rn,rn->r", b, b)
        lam = _fw_sparse(StackedGram(G), c, bb, lam, opts.zeta_lambda, n0, opts)
    if opts.update_omega:
        D = Y[:, :T0]
        if opts.omega_intercept:
            D = D - D.mean(axis=1, keepdims=True)
        gram = D @ D.T
        c = gram[idx_c[:, :, None], idx_t[:, None, :]].mean(axis=2)
        bb = gram[idx_t[:, :, None], idx_t[:, None, :]].mean(axis=(1, 2))
        omega = _fw_sparse(SharedGram(gram, idx_c), c, bb, omega, opts.zeta_omega, T0, opts)
    return omega, lam


def batch_estimate(Y, idx_c, idx_t, T0, omega, lam) -> np.ndarray:
    """Weighted double difference for every batch member."""
    ytr = Y[idx_t].mean(axis=1)
    ysc = np.einsum("rn,rnt->rt", omega, Y[idx_c])
    diff = ytr - ysc
    return diff[:, T0:].mean(axis=1) - np.einsum("rt,rt->r", diff[:, :T0], lam)


# --------------------------------------------------------------------------------------------
# covariates: joint descent on the coefficients and Frank-Wolfe on the weights (R synthdid's X)
# --------------------------------------------------------------------------------------------


def _collapse(M: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """Collapsed form: controls x pre-periods, plus the treated mean row and post mean column."""
    top = np.column_stack([M[:N0, :T0], M[:N0, T0:].mean(axis=1)])
    bottom = np.append(M[N0:, :T0].mean(axis=0), M[N0:, T0:].mean())
    return np.vstack([top, bottom])


def _fw_step_plain(A, x, b, eta):
    ax = A @ x
    half_grad = A.T @ (ax - b) + eta * x
    i = int(np.argmin(half_grad))
    if x[i] == 1.0:
        return x  # already the vertex e_i (the direction is zero)
    dx = -x.copy()
    dx[i] = 1.0 - x[i]
    derr = A[:, i] - ax
    denom = derr @ derr + eta * (dx @ dx)
    if denom <= 0:
        return x
    step = -(half_grad @ dx) / denom
    step = min(1.0, max(0.0, step))
    return x + step * dx


def _cov_loop(Yc, Xc, N0, T0, zl2, zo2, lam_int, om_int, upd_l, upd_o, tol, max_iter, lam, omega):
    K = Xc.shape[2]
    beta = np.zeros(K)

    def update(Yb, lam, omega):
        Yl = Yb[:N0, :].copy()
        if lam_int:
            for j in range(Yl.shape[1]):
                Yl[:, j] -= Yl[:, j].mean()
        if upd_l:
            lam = _fw_step_plain(Yl[:, :T0].copy(), lam, Yl[:, T0].copy(), N0 * zl2)
        err_l = np.ascontiguousarray(Yl[:, :T0]) @ lam - Yl[:, T0]
        Yo = Yb[:, :T0].T.copy()
        if om_int:
            for j in range(Yo.shape[1]):
                Yo[:, j] -= Yo[:, j].mean()
        if upd_o:
            omega = _fw_step_plain(Yo[:, :N0].copy(), omega, Yo[:, N0].copy(), T0 * zo2)
        err_o = np.ascontiguousarray(Yo[:, :N0]) @ omega - Yo[:, N0]
        val = (zo2 * (omega @ omega) + zl2 * (lam @ lam) + (err_o @ err_o) / T0
               + (err_l @ err_l) / N0)
        return val, lam, omega, err_l, err_o

    val, lam, omega, err_l, err_o = update(Yc, lam, omega)
    prev2 = np.inf
    prev1 = np.inf
    t = 0
    while t < max_iter and (t < 2 or prev2 - prev1 > tol):
        t += 1
        la1 = np.append(lam, -1.0)
        om1 = np.append(omega, -1.0)
        for k in range(K):
            Xi = Xc[:, :, k]
            g = ((err_l @ (np.ascontiguousarray(Xi[:N0, :]) @ la1)) / N0
                 + (err_o @ (np.ascontiguousarray(Xi[:, :T0].T) @ om1)) / T0)
            beta[k] = beta[k] + g / t
        Yb = Yc.copy()
        for k in range(K):
            Yb -= beta[k] * Xc[:, :, k]
        val, lam, omega, err_l, err_o = update(Yb, lam, omega)
        prev2 = prev1
        prev1 = val
    return omega, lam, beta


try:
    import numba as _numba

    _fw_step_plain = _numba.njit(cache=True)(_fw_step_plain)
    _cov_loop_fast = _numba.njit(cache=True)(_cov_loop)
except ImportError:  # pragma: no cover - numba is optional
    _cov_loop_fast = _cov_loop


def covariate_weights(Y, X, N0, T0, opts: Options, omega0, lambda0, engine="auto"):
    """Weights and covariate coefficients with time-varying covariates.

    Alternates one Frank--Wolfe step on each weight vector with a gradient step (step size
    ``1/t``) on the coefficients of the covariates, on the collapsed panel, until the joint
    objective decreases by less than ``min_decrease**2`` (Arkhangelsky et al. 2021, Sec. 4 /
    footnote on covariates; R ``synthdid``'s handling of ``X``). ``engine="python"`` runs the
    same loop uncompiled (tests compare the two).
    """
    Yc = _collapse(Y, N0, T0)
    K = X.shape[2]
    Xc = np.ascontiguousarray(np.stack([_collapse(X[:, :, k], N0, T0) for k in range(K)], axis=2))
    loop = _cov_loop if engine == "python" else _cov_loop_fast
    return loop(
        np.ascontiguousarray(Yc), Xc, int(N0), int(T0), float(opts.zeta_lambda**2),
        float(opts.zeta_omega**2), bool(opts.lambda_intercept), bool(opts.omega_intercept),
        bool(opts.update_lambda), bool(opts.update_omega), float(opts.min_decrease**2),
        int(opts.max_iter), np.array(lambda0, dtype=float), np.array(omega0, dtype=float),
    )


def fit(Y, N0, T0, opts: Options, omega0, lambda0, X=None):
    """One estimate: returns ``(tau, omega, lambda, beta)``."""
    N = Y.shape[0]
    if X is not None and X.shape[2] > 0:
        omega, lam, beta = covariate_weights(Y, X, N0, T0, opts, omega0, lambda0)
        Yadj = Y - X @ beta
    else:
        idx_c = np.arange(N0)[None, :]
        idx_t = np.arange(N0, N)[None, :]
        om, la = batch_weights(Y, idx_c, idx_t, T0, opts, omega0[None, :], lambda0[None, :])
        omega, lam, beta, Yadj = om[0], la[0], np.zeros(0), Y
    tau = batch_estimate(
        Yadj, np.arange(N0)[None, :], np.arange(N0, N)[None, :], T0, omega[None, :], lam[None, :]
    )[0]
    return float(tau), omega, lam, beta


#: Re-fits per executor chunk: each re-fit with covariates costs tens of milliseconds, so ten of
#: them outweigh shipping the panel to a worker. The draws are made before chunking, so the
#: chunk size never changes the results.
REFIT_CHUNK = 10


def _refit_chunk(chunk, Y, X, T0, opts: Options, rows, n0s, om0s, lam) -> np.ndarray:
    """Estimates of re-fits ``chunk.start .. chunk.stop - 1`` (rows, donor count, start weights)."""
    out = np.empty(chunk.size)
    for j, r in enumerate(range(chunk.start, chunk.stop)):
        Xr = None if X is None else X[rows[r]]
        out[j] = fit(Y[rows[r]], int(n0s[r]), T0, opts, om0s[r], lam.copy(), Xr)[0]
    return out


def refit_draws(Y, X, T0, opts: Options, rows, n0s, om0s, lam, executor=None) -> np.ndarray:
    """Re-fit the estimator on ``Y[rows[r]]`` for every prepared draw ``r``, on an executor.

    Parameters
    ----------
    Y, X : ndarray
        Outcomes ``(N, T)`` and covariates ``(N, T, K)`` or ``None``.
    T0 : int
        Pre-periods.
    opts : Options
        Solver options of the original fit.
    rows : sequence of ndarray
        Rows of each draw's panel, donors first.
    n0s : sequence of int
        Donors in each draw's panel.
    om0s : sequence of ndarray
        Starting donor weights of each draw.
    lam : ndarray
        Starting time weights (shared).
    executor : Executor, str, dict or None
        Where the re-fits run (:func:`evalkit.inference.executor.get_executor`); every backend
        gives the same estimates, since the draws are fixed before they are split into chunks.

    Returns
    -------
    ndarray
        One estimate per draw.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Y = rng.normal(size=(8, 6)); N0, T0 = 6, 4
    >>> opts, om, la, _ = default_setup(Y, N0, T0, "sdid")
    >>> rows = [np.r_[np.delete(np.arange(N0), i), i] for i in range(3)]
    >>> refit_draws(Y, None, T0, opts, rows, [N0 - 1] * 3, [np.full(N0 - 1, 1 / 5)] * 3,
    ...             la).shape
    (3,)
    """
    from ..inference.executor import get_executor

    ex = get_executor(executor)
    parts = ex.map(_refit_chunk, len(rows), seed=0, args=(Y, X, T0, opts, rows, n0s, om0s, lam),
                   chunk_size=REFIT_CHUNK, desc="re-fits")
    return np.concatenate(parts)


def placebo_draws(Y, N0, T0, opts: Options, omega, lam, n_reps, rng, X=None, executor=None) -> np.ndarray:
    """Placebo estimates: reassign the treated label to random control units (same count).

    Without covariates all draws are solved as one batch in this process; with covariates each
    draw is a separate re-fit, run on ``executor`` (see :func:`refit_draws`).
    """
    N1 = Y.shape[0] - N0
    Yc = Y[:N0]
    perms = np.argsort(rng.random((n_reps, N0)), axis=1)
    idx_c, idx_t = perms[:, : N0 - N1], perms[:, N0 - N1 :]
    om0 = sum_normalize(omega[idx_c])
    if X is not None and X.shape[2] > 0:
        rows = np.concatenate([idx_c, idx_t], axis=1)
        return refit_draws(Yc, X[:N0], T0, opts, rows, [N0 - N1] * n_reps, om0, lam, executor)
    la0 = np.repeat(lam[None, :], n_reps, axis=0)
    om, la = batch_weights(Yc, idx_c, idx_t, T0, opts, om0, la0)
    return batch_estimate(Yc, idx_c, idx_t, T0, om, la)


def bootstrap_draws(Y, N0, T0, opts: Options, omega, lam, n_reps, rng, X=None, executor=None) -> np.ndarray:
    """Unit-bootstrap estimates (draws with only controls or only treated units are redrawn).

    The resampled units are all drawn first, in order, from ``rng``; the re-fits then run on
    ``executor`` (see :func:`refit_draws`).
    """
    N = Y.shape[0]
    rows, n0s, om0s = [], [], []
    while len(rows) < n_reps:
        ind = np.sort(rng.integers(0, N, N))
        n0 = int((ind < N0).sum())
        if n0 == 0 or n0 == N:
            continue
        rows.append(ind)
        n0s.append(n0)
        om0s.append(sum_normalize(omega[ind[:n0]]))
    return refit_draws(Y, X, T0, opts, np.array(rows), n0s, om0s, lam, executor)


def jackknife_draws(Y, N0, T0, opts: Options, omega, lam, X=None) -> np.ndarray:
    """Leave-one-unit-out estimates with the weights held fixed (renormalised)."""
    N = Y.shape[0]
    fixed = replace(opts, update_omega=False, update_lambda=False)
    out = np.empty(N)
    for i in range(N):
        keep = np.delete(np.arange(N), i)
        n0 = N0 - (1 if i < N0 else 0)
        om = sum_normalize(np.delete(omega, i) if i < N0 else omega)
        Xj = None if X is None else X[keep]
        out[i] = fit(Y[keep], n0, T0, fixed, om, lam.copy(), Xj)[0]
    return out
