"""Power of pre-trend tests against linear violations (Roth 2022)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._shared.blas import single_threaded_blas
from .._shared.exceptions import EvalkitError
from .._shared.vocabulary import keywords
from ._extract import extract


def _no_reject_prob(slope, t_pre, sigma_pre, crit):
    se = np.sqrt(np.diag(sigma_pre))
    mean = slope * t_pre
    if len(t_pre) == 1:
        z_hi = (crit * se[0] - mean[0]) / se[0]
        z_lo = (-crit * se[0] - mean[0]) / se[0]
        return float(stats.norm.cdf(z_hi) - stats.norm.cdf(z_lo))
    mvn = stats.multivariate_normal(mean=mean, cov=sigma_pre, allow_singular=True,
                                    seed=20220101, maxpts=10_000 * len(t_pre), abseps=1e-5,
                                    releps=1e-5)
    return float(mvn.cdf(crit * se, lower_limit=-crit * se))


@keywords
def pretrend_power(result, power=(0.5, 0.8), *, level: float = 0.95,
                   reference: int | None = None) -> pd.DataFrame:
    """Linear pre-trend slope that a conventional pre-test detects with the given power.

    The pre-test rejects when any pre-treatment event-study coefficient is individually
    significant at ``1 - level`` (Roth 2022, Sec. 3). Under a linear violation
    :math:`\\delta_e = \\gamma (e - e_{ref})` the pre-period coefficients are
    :math:`N(\\gamma\\, t_{pre}, \\Sigma_{pre})`; the function solves
    :math:`\\Pr(\\text{reject}) = p` for :math:`\\gamma > 0` with the exact Gaussian rectangle
    probability.

    Parameters
    ----------
    result : EffectVector-like
        Event-study result (``params``, ``cov``, event-time labels, reference period).
    power : sequence of float
        Target powers in (1 - level, 1).
    level : float
        The pre-test rejects a coefficient outside its ``level`` confidence interval.
    reference : int, optional
        Normalised event time (default: the result's, else -1).

    Returns
    -------
    DataFrame
        Columns ``power``, ``slope`` (per event-time unit) and ``bias_e<k>`` for every
        post-treatment event time: the bias of that coefficient under the detected trend, which
        is the violation a passed pre-test does not rule out with that power.

    References
    ----------
    Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
    trends. American Economic Review: Insights 4(3), 305-322.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evalkit import did
    >>> from evalkit.sensitivity import pretrend_power
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame([(u, t) for u in range(40) for t in range(2014, 2022)], columns=["unit", "year"])
    >>> df["cohort"] = np.where(df.unit < 20, 2019, 0)
    >>> df["y"] = 0.1 * df.unit + ((df.cohort > 0) & (df.year >= 2019)) + rng.normal(0, 0.1, len(df))
    >>> es = did.event_study(df, outcome="y", unit="unit", time="year", cohort="cohort", leads=4, lags=2)
    >>> print(pretrend_power(es)[["power", "slope"]].round(3).to_string(index=False))
     power  slope
       0.5  0.026
       0.8  0.039
    """
    es = extract(result, reference)
    crit = stats.norm.ppf(0.5 + level / 2)
    t_pre = (es.pre_times - es.reference).astype(float)
    t_post = (es.post_times - es.reference).astype(float)
    sig = es.sigma[: es.P, : es.P]
    size = 1 - _no_reject_prob(0.0, t_pre, sig, crit)
    rows = []
    scale = float(np.sqrt(np.diag(sig)).max())
    for p in np.atleast_1d(power):
        p = float(p)
        if not size < p < 1:
            raise EvalkitError(
                f"power={p} must lie between the pre-test's size ({size:.3f}) and 1."
            )

        def f(g, p=p):
            return 1 - _no_reject_prob(g, t_pre, sig, crit) - p

        hi = scale
        while f(hi) < 0:
            hi *= 2
            if hi > 1e6 * scale:
                raise EvalkitError("Could not bracket the slope with the requested power.")
        with single_threaded_blas():
            g = optimize.brentq(f, 0.0, hi, xtol=1e-10 * scale)
        row = {"power": p, "slope": g}
        for e, t in zip(es.post_times, t_post, strict=True):
            row[f"bias_e{int(e)}"] = g * t
        rows.append(row)
    return pd.DataFrame(rows)
