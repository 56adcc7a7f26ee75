"""HonestDiD sensitivity analysis (Rambachan and Roth 2023) for any evalkit event-study result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from .._shared.blas import single_threaded_blas
from .._shared.exceptions import EvalkitError, InferenceError
from .._shared.validation import check_option
from .._shared.vocabulary import DEFAULT_SEED, keywords
from .._summary import Summary
from ..results import TIDY_COLUMNS, TidyVector
from ._extract import EventStudyInput, extract
from .arp import ConditionalTest
from .flci import optimal_flci

RESTRICTIONS = ("relative_magnitude", "smoothness")


def _target(es: EventStudyInput, event_time, l_vec) -> np.ndarray:
    if l_vec is not None:
        l_vec = np.asarray(l_vec, dtype=float).ravel()
        if len(l_vec) != es.Q:
            raise EvalkitError(
                f"l_vec has {len(l_vec)} entries but the event study has {es.Q} post-treatment "
                f"coefficients (event times {list(es.post_times)}); give one weight per post period."
            )
        if not np.isfinite(l_vec).all():
            raise EvalkitError(f"l_vec must hold finite weights, got {l_vec.tolist()}.")
        if not np.any(l_vec != 0):
            raise EvalkitError(
                "l_vec is all zero: the target l_vec' * (post coefficients) would be zero by "
                "construction. Give a non-zero weight to at least one post period (e.g. equal "
                "weights for the average effect)."
            )
        return l_vec
    if isinstance(event_time, bool) or not float(event_time).is_integer():
        raise EvalkitError(
            f"event_time must be an integer event time, got {event_time!r} (available: "
            f"{list(es.post_times)})."
        )
    e = int(event_time)
    if e not in set(es.post_times.tolist()):
        raise EvalkitError(
            f"event_time={e} is not a post-treatment event time of this result (available: "
            f"{list(es.post_times)}). Choose one of them or pass l_vec."
        )
    out = np.zeros(es.Q)
    out[list(es.post_times).index(e)] = 1.0
    return out


def _m_values(m, default) -> np.ndarray:
    ms = np.asarray(default if m is None else m, dtype=float)
    if ms.ndim > 1:
        raise EvalkitError(f"m must be a number or a flat sequence of numbers, got shape {ms.shape}.")
    ms = np.atleast_1d(ms)
    if ms.size == 0:
        raise EvalkitError("m is empty: give at least one value (e.g. m=[0, 0.5, 1]).")
    if not np.isfinite(ms).all() or np.any(ms < 0):
        raise EvalkitError(f"m values must be finite and non-negative, got {ms.tolist()}.")
    return ms


def _gamma_inverse(l_vec: np.ndarray) -> np.ndarray:
    """``Gamma^{-1}`` for ``Gamma = [l'; N']`` with ``N`` an orthonormal basis of ``l``'s complement."""
    Q = len(l_vec)
    if Q == 1:
        return np.array([[1.0 / l_vec[0]]])
    _, _, vt = np.linalg.svd(l_vec[None, :])
    N = vt[1:].T  # (Q, Q-1)
    return np.column_stack([l_vec / (l_vec @ l_vec), N])


def rm_constraints(P: int, Q: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows ``A`` of the polyhedron of Delta^RM(mbar) where pre-period difference ``s`` is the max.

    Columns: the P+Q non-reference periods. Every consecutive difference, pre and post, is bounded
    by the (signed) pre-period difference ending at ``s`` (``s = 0`` is the difference into the
    reference period); post differences may be ``mbar`` times as large.
    """
    n = P + Q + 1
    At = np.zeros((P + Q, n))
    for r in range(P + Q):
        At[r, r], At[r, r + 1] = -1.0, 1.0
    vmax = np.zeros(n)
    vmax[P + s - 1], vmax[P + s] = -1.0, 1.0
    if not positive:
        vmax = -vmax
    UB = np.vstack([np.repeat(vmax[None, :], P, axis=0), np.repeat(mbar * vmax[None, :], Q, axis=0)])
    A = np.vstack([At - UB, -At - UB])
    A = A[(A**2).sum(axis=1) > 1e-10]
    return np.delete(A, P, axis=1)


def _rm_tests(es: EventStudyInput, l_vec, mbar, alpha, hybrid, post_moments_only, seed):
    P, Q = es.P, es.Q
    ginv = _gamma_inverse(l_vec)
    tests = []
    for s in range(-(P - 1), 1):
        for positive in (True, False):
            A = rm_constraints(P, Q, mbar, s, positive)
            if post_moments_only:
                A = A[np.abs(A[:, P:]).sum(axis=1) > 0]
            if A.shape[0] == 0:
                continue
            AG = A[:, P:] @ ginv
            Y0 = A @ es.betahat
            SY = A @ es.sigma @ A.T
            tests.append(ConditionalTest(Y0, AG[:, 0], AG[:, 1:], SY, alpha=alpha, hybrid=hybrid,
                                         seed=seed))
    return tests


def _union_accept(tests, theta):
    acc = np.zeros(np.size(theta), dtype=bool)
    for t in tests:
        acc |= t.accept(theta)
    return acc


def _rm_grid(theta_hat: float, sd_theta: float) -> tuple[float, float]:
    """First grid of the test inversion: R HonestDiD's ``[-20, 20]`` s.e. when it holds the estimate.

    Every Delta^RM(Mbar) confidence set contains the point estimate ``l' betahat_post``
    (``delta_post = 0`` satisfies every relative-magnitude restriction, so the statistic there is
    at most zero and the test accepts). R's grid is centred on zero and misses the whole set when
    the estimate lies more than 20 standard errors from zero; the grid is then centred on the
    estimate instead.
    """
    lo, hi = -20 * sd_theta, 20 * sd_theta
    if not lo < theta_hat < hi:
        lo, hi = theta_hat - 20 * sd_theta, theta_hat + 20 * sd_theta
    return lo, hi


def _rm_interval(es, l_vec, mbar, alpha, hybrid, grid_points, post_moments_only, seed, refine):
    tests = _rm_tests(es, l_vec, mbar, alpha, hybrid, post_moments_only, seed)
    sd_theta = float(np.sqrt(l_vec @ es.sigma[es.P :, es.P :] @ l_vec))
    theta_hat = float(l_vec @ es.betahat[es.P :])
    lo, hi = _rm_grid(theta_hat, sd_theta)  # widened below while the set reaches an end
    for _ in range(6):
        # the estimate itself is a grid point: the set is never missed between two grid points
        grid = np.union1d(np.linspace(lo, hi, grid_points), [theta_hat])
        acc = _union_accept(tests, grid)
        if not acc.any():
            raise InferenceError(
                f"The relative-magnitudes test rejects every value of the target at Mbar={mbar:g}, "
                f"even the point estimate {theta_hat:.6g}, which every Delta^RM set contains: a "
                "numerical failure (check that the covariance matrix is positive definite and "
                "well scaled)."
            )
        if acc[0] or acc[-1]:
            width = hi - lo
            lo, hi = (lo - width if acc[0] else lo), (hi + width if acc[-1] else hi)
            continue
        break
    else:
        return (-np.inf if acc[0] else grid[acc][0]), (np.inf if acc[-1] else grid[acc][-1])
    i0, i1 = np.argmax(acc), len(acc) - 1 - np.argmax(acc[::-1])
    lower, upper = grid[i0], grid[i1]
    if refine:
        def zoom(a_in, b_out):
            # three rounds of a 100-point sub-grid between an accepted and a rejected point
            for _ in range(3):
                sub = np.linspace(a_in, b_out, 101)
                ok = _union_accept(tests, sub)
                j = int(np.argmin(ok)) if not ok.all() else len(sub) - 1
                a_in, b_out = sub[max(j - 1, 0)], sub[j]
            return a_in

        lower = zoom(grid[i0], grid[i0 - 1])
        upper = zoom(grid[i1], grid[i1 + 1])
    return float(lower), float(upper)


@dataclass(repr=False)
class HonestDiDResult(TidyVector):
    """Robust confidence sets for one target parameter over a range of restrictions.

    A vector result of the results protocol whose entries are the rows of ``to_frame()``: the
    original interval, then one robust interval per ``m``. ``params`` repeats the target's
    estimate; ``conf_int()`` holds the intervals at the ``level`` of the call (another level
    needs ``honest_did(..., level=...)``); ``summary()``, ``plot()``, ``breakdown()``.

    Attributes
    ----------
    table : DataFrame
        One row per ``m``: ``m``, ``lower``, ``upper``, ``method``, ``restriction``.
    original : dict
        The conventional interval (``estimate``, ``std_error``, ``lower``, ``upper``).
    restriction : str
        ``"relative_magnitude"`` (M-bar) or ``"smoothness"`` (M).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.sensitivity import honest_did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2014, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 20, 2019, 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= 2019)) + rng.normal(0, 0.1, len(df))
    >>> es = did.event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=4, lags=2)
    >>> h = honest_did(es, restriction="smoothness", m=[0.05])
    >>> h.restriction, h.level
    ('smoothness', 0.95)
    >>> h.conf_int().index.tolist()
    ['original', 'smoothness(m=0.05)']
    """

    rerun_hint: ClassVar[str] = "call honest_did(..., level=...) again"
    inference_fixed: ClassVar[str] = (
        "its intervals come from the event study it was given; call with_inference() on that "
        "event study and honest_did() again"
    )

    table: pd.DataFrame
    original: dict
    restriction: str
    l_vec: np.ndarray
    level: float
    method: str
    title: str = "Sensitivity to parallel-trend violations (Rambachan-Roth)"
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _compute: Any = None

    def _fixed_level(self) -> float:
        return float(self.level)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: the original interval, then one row per ``m`` (extra column ``m``)."""
        est = self.original["estimate"]
        rows = [{"term": "original", "estimate": est, "std_error": self.original["std_error"],
                 "conf_low": self.original["lower"], "conf_high": self.original["upper"],
                 "m": np.nan}]
        for r in self.table.itertuples(index=False):
            rows.append({"term": f"{self.restriction}(m={r.m:g})", "estimate": est,
                         "std_error": np.nan, "conf_low": r.lower, "conf_high": r.upper, "m": r.m})
        out = pd.DataFrame(rows)
        for c in TIDY_COLUMNS:
            if c not in out:
                out[c] = np.nan
        return out[TIDY_COLUMNS + ["m"]]

    def summary(self) -> Summary:
        """Readable text summary."""
        lab = "Mbar" if self.restriction == "relative_magnitude" else "M"
        o = self.original
        lines = [
            self.title, "=" * len(self.title),
            f"Restriction: {self.restriction} ({lab}); method {self.method}; level {self.level:g}",
            f"Original: estimate {o['estimate']:.6g}, CI [{o['lower']:.6g}, {o['upper']:.6g}]",
            self.table.to_string(index=False, float_format=lambda x: f"{x:.6g}"),
        ]
        lines += [f"Note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def breakdown(self, tol: float | None = None, m_max: float | None = None) -> float:
        """Largest ``m`` at which the robust interval still excludes zero.

        Found by bisection on ``m`` (the interval widens with ``m``). Returns 0.0 when even the
        ``m = 0`` interval contains zero and ``inf`` when no ``m`` up to ``m_max`` reaches zero.

        Parameters
        ----------
        tol : float, optional
            Bisection tolerance on ``m`` (default 1e-3 of the starting scale).
        m_max : float, optional
            Largest ``m`` tried (default: 100 times the largest ``m`` of the table).
        """
        def excludes_zero(m):
            lo, hi = self._compute(m)
            return bool(lo > 0 or hi < 0)

        if not excludes_zero(0.0):
            return 0.0
        top = float(np.nanmax(self.table["m"])) if len(self.table) else 1.0
        top = top if top > 0 else 1.0
        m_max = 100 * top if m_max is None else m_max
        tol = 1e-3 * top if tol is None else tol
        lo, hi = 0.0, top
        while excludes_zero(hi):
            lo, hi = hi, 2 * hi
            if hi > m_max:
                return float("inf")
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            if excludes_zero(mid):
                lo = mid
            else:
                hi = mid
        return float(lo)

    def plot(self, ax=None, language: str | None = None):
        """Intervals against ``m`` with the original interval on the left.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.
        language : {"en", "zh"}, optional
            Label language (default: the one set by ``report.use()``, else English).

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
            fig, ax = plt.subplots(figsize=(6.5, 4))
            mark_synthetic(fig)
        tb = self.table
        ms = tb["m"].to_numpy(dtype=float)
        step = (ms.max() - ms.min()) / max(len(ms) - 1, 1) if len(ms) > 1 else 1.0
        x0 = ms.min() - step
        o = self.original
        ax.errorbar([x0], [0.5 * (o["lower"] + o["upper"])],
                    yerr=[[0.5 * (o["upper"] - o["lower"])]], fmt="o", color="C3", capsize=4,
                    label=t("original_interval", language))
        mid = 0.5 * (tb["lower"] + tb["upper"])
        half = 0.5 * (tb["upper"] - tb["lower"])
        ax.errorbar(ms, mid, yerr=half, fmt="none", ecolor="C0", capsize=4,
                    label=self.method)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_xticks([x0] + list(ms))
        ax.set_xticklabels([t("original_short", language)] + [f"{v:.3g}" for v in ms])
        lab = r"$\bar{M}$" if self.restriction == "relative_magnitude" else "M"
        ax.set_xlabel(lab)
        ax.set_ylabel(t("honest_ci", language).format(level=self.level))
        ax.set_title(t("honest_title", language).format(title=self.title))
        ax.legend(frameon=False)
        return ax


def _event_study_of(result: Any, reference: Any, leads: int | None):
    """The event study of ``result`` (an imputation result's with ``leads``; a dCDH result's
    ``event_study()``) as the arrays HonestDiD works on."""
    from ..did.imputation import ImputationResult

    if isinstance(result, ImputationResult):
        result = result.event_study(leads=leads)
    elif leads is not None:
        raise EvalkitError(
            "leads applies only to imputation results (evalkit.did.imputation); other event "
            "studies fix their leads when estimated."
        )
    return extract(result, reference)  # a dCDH result becomes its event_study() there


def _target_estimate(es: Any, lv: np.ndarray) -> tuple[float, float]:
    """Estimate and standard error of the target ``lv' * (post coefficients)``; a target
    without positive variance is refused."""
    theta = float(lv @ es.betahat[es.P :])
    var = float(lv @ es.sigma[es.P :, es.P :] @ lv)
    if not var > 0:
        raise EvalkitError(
            f"The target (weights {lv.tolist()} on post event times {list(es.post_times)}) has "
            f"variance {var:.3g} in the result's covariance matrix; robust bounds need a positive "
            "variance. Check the result's inference (a non-estimable or all-zero covariance) or "
            "choose another event_time / l_vec."
        )
    return theta, float(np.sqrt(var))


@keywords
def honest_did(
    result,
    *,
    restriction: str = "relative_magnitude",
    m=None,
    event_time: int | None = None,
    l_vec=None,
    level: float = 0.95,
    method: str | None = None,
    reference: int | None = None,
    grid_points: int = 1000,
    post_moments_only: bool = True,
    refine: bool = True,
    seed: int = DEFAULT_SEED,
    leads: int | None = None,
) -> HonestDiDResult:
    """Robust confidence sets under violations of parallel trends (Rambachan and Roth 2023).

    Parameters
    ----------
    result : EffectVector-like
        An event-study result (TWFE event study, Callaway-Sant'Anna dynamic aggregation,
        Sun-Abraham...) with ``params``, ``cov`` and event-time labels, normalised at one
        reference period (default -1). Pre-period coefficients must be consecutive. A
        Borusyak-Jaravel-Spiess imputation result (``evalkit.did.imputation``) is converted with
        its ``event_study(leads=leads)``: pre-trend leads (reference -1) and horizons with a joint
        cluster-robust covariance (see ``ImputationResult.event_study``). A dCDH result
        (``evalkit.did.dcdh`` with ``placebo >= 1``) is converted with its ``event_study()``:
        placebos at negative event times, effects at ``ℓ = 1, 2, ...``, reference 0, with the
        joint covariance of placebos and effects.
    restriction : {"relative_magnitude", "smoothness"}
        Delta^RM(Mbar): post-treatment changes in the trend difference are at most ``Mbar`` times
        the largest pre-treatment change. Delta^SD(M): the slope of the trend difference changes by
        at most ``M`` between consecutive periods.
    m : sequence of float, optional
        Values of Mbar (default 0, 0.5, 1, 1.5, 2) or M (default 10 points from 0 to the standard
        error of the target).
    event_time : int, optional
        Post-treatment event time of the target. Default: the first treated period -- event
        time 0 of an event study normalised before treatment, effect ``ℓ = 1`` of a dCDH result
        (whose reference, the period before the switch, is event time 0).
    l_vec : sequence of float, optional
        Weights over all post-treatment coefficients (e.g. equal weights for the average effect);
        overrides ``event_time``.
    level : float
        Confidence level.
    method : str, optional
        ``"C-LF"`` (default for relative magnitudes: conditional-least-favourable hybrid) or
        ``"conditional"``; ``"FLCI"`` (the only and default choice for smoothness: the optimal
        fixed-length interval).
    reference : int, optional
        Normalised event time (default: the result's, else -1).
    grid_points : int
        Grid of the test inversion (relative magnitudes), as R's ``gridPoints``: R's default
        range, +-20 standard errors of the target around zero, when it holds the point
        estimate, else +-20 standard errors around the estimate (R's range misses the whole
        set of an effect further than 20 standard errors from zero); widened while the set
        reaches an end.
    post_moments_only : bool
        Use only the moments that involve post-treatment periods (R's default).
    refine : bool
        Refine the interval end points between grid points (three rounds of 100-point sub-grids:
        exact to 1e-6 of the grid step); ``False`` reports grid points like R.
    seed : int
        Seed of the least-favourable critical value simulation (default
        :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    leads : int, optional
        Imputation results only: lead window ``[-leads, -1]`` of ``result.event_study`` (default
        every observed lead; ``leads < 2`` leaves no pre-period coefficient and raises).

    Returns
    -------
    HonestDiDResult
        ``to_frame()`` (original row + one row per m), ``table``, ``breakdown()``, ``plot()``.

    References
    ----------
    Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends. Review of
    Economic Studies 90(5), 2555-2591. Andrews, I., Roth, J. and Pakes, A. (2023). Inference for
    linear conditional moment inequalities. Review of Economic Studies 90(6), 2763-2791.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.sensitivity import honest_did
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2014, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 20, 2019, 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= 2019)) + rng.normal(0, 0.1, len(df))
    >>> es = did.event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=4, lags=2)
    >>> h = honest_did(es, restriction="smoothness", m=[0.0, 0.05])
    >>> print(h.table.round(2).to_string(index=False))
       m  lower  upper method restriction
    0.00   1.00   1.18   FLCI  smoothness
    0.05   0.92   1.25   FLCI  smoothness
    >>> h = honest_did(es, restriction="relative_magnitude", m=[0, 1])
    >>> print(h.table.round(2).to_string(index=False))
      m  lower  upper method        restriction
    0.0   0.99   1.15   C-LF relative_magnitude
    1.0   0.89   1.25   C-LF relative_magnitude
    """
    check_option("restriction", restriction, RESTRICTIONS)
    if not 0 < level < 1:
        raise EvalkitError(f"level must be between 0 and 1, got {level!r}.")
    es = _event_study_of(result, reference, leads)
    if event_time is None:  # the first treated period: e = 0 (reference -1), l = 1 for dCDH
        event_time = 0 if 0 in set(es.post_times.tolist()) else int(es.post_times[0])
    lv = _target(es, event_time, l_vec)
    alpha = 1 - level
    theta, se = _target_estimate(es, lv)
    z = stats.norm.ppf(1 - alpha / 2)
    original = {"estimate": theta, "std_error": se, "lower": theta - z * se, "upper": theta + z * se}
    notes = []
    if restriction == "smoothness":
        method = "FLCI" if method is None else method
        check_option("method", method, ("FLCI",))
        ms = _m_values(m, np.linspace(0, se, 10))

        def compute(mm):
            with single_threaded_blas():
                r = optimal_flci(es.betahat, es.sigma, es.P, es.Q, lv, float(mm), alpha)
            return r["lower"], r["upper"]
    else:
        method = "C-LF" if method is None else method
        check_option("method", method, ("C-LF", "conditional"))
        ms = _m_values(m, [0, 0.5, 1, 1.5, 2.0])
        hybrid = "LF" if method == "C-LF" else "ARP"

        def compute(mm):
            with single_threaded_blas():
                return _rm_interval(es, lv, float(mm), alpha, hybrid, grid_points,
                                    post_moments_only, seed, refine)

    rows = []
    for mm in ms:
        lo, hi = compute(mm)
        rows.append({"m": float(mm), "lower": lo, "upper": hi, "method": method,
                     "restriction": restriction})
    table = pd.DataFrame(rows)
    if not np.isfinite(table[["lower", "upper"]].to_numpy()).all():
        notes.append("Unbounded confidence set at some m: the data do not bound the target there "
                     "(the grid was widened six times and the set still reached its end).")
    return HonestDiDResult(
        table=table, original=original, restriction=restriction, l_vec=lv, level=level,
        method=method, notes=notes,
        extra={"pre_times": es.pre_times, "post_times": es.post_times,
               "reference": es.reference},
        _compute=compute,
    )
