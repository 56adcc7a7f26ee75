"""Read event-study coefficients (pre and post) from any evalkit vector result."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._shared.exceptions import DesignError, EvalkitError


@dataclass
class EventStudyInput:
    """Coefficients in the layout of Rambachan and Roth (2023).

    ``betahat = (pre..., post...)`` with pre event times ``ref-P .. ref-1`` and post event times
    ``ref+1 .. ref+Q`` (the reference event time ``ref``, usually -1, is normalised to zero), and
    their covariance ``sigma``.
    """

    betahat: np.ndarray
    sigma: np.ndarray
    pre_times: np.ndarray
    post_times: np.ndarray
    reference: int

    @property
    def P(self) -> int:
        return len(self.pre_times)

    @property
    def Q(self) -> int:
        return len(self.post_times)


def _event_times(result) -> np.ndarray:
    labels = getattr(result, "labels", None)
    if isinstance(labels, pd.DataFrame) and "event_time" in labels.columns:
        et = pd.to_numeric(labels["event_time"], errors="coerce").to_numpy()
        if np.isfinite(et).all():
            return et
    try:
        return np.array([float(str(t).split("::")[-1]) for t in result.params.index])
    except ValueError:
        raise EvalkitError(
            "Cannot read event times from the result: it needs labels with an 'event_time' column "
            "(as evalkit event-study results have) or params indexed by event time."
        ) from None


def extract(result, reference: int | None = None) -> EventStudyInput:
    """Extract pre/post coefficients and covariance from an event-study style result.

    Parameters
    ----------
    result : EffectVector-like
        Has ``params`` (Series), ``cov`` (DataFrame or array) and event-time labels; ``reference``
        is taken from ``result.reference`` when not given (default -1). Imputation and dCDH
        results are read through their ``event_study()``.
    reference : int, optional
        The normalised event time.
    """
    from ..did.dcdh import DCDHResult

    if callable(getattr(result, "pretrends", None)) and callable(getattr(result, "event_study", None)):
        # imputation (BJS) results: leads and horizons with their joint covariance
        result = result.event_study()
    elif isinstance(result, DCDHResult):
        if result.placebos is None:
            raise DesignError(
                "Sensitivity analysis needs pre-treatment estimates, and this dCDH result has no "
                "placebos: call dcdh(..., placebo=k) with k >= 1 (placebo l' sits at event time "
                "-l'; the period before the switch is the reference, event time 0)."
            )
        # placebos and effects with their joint covariance, reference event time 0
        result = result.event_study()
    if not hasattr(result, "params") or not hasattr(result, "cov"):
        raise EvalkitError(
            f"honest_did needs an event-study result with params and cov, got {type(result).__name__}."
        )
    params = np.asarray(result.params, dtype=float)
    cov = result.cov.to_numpy() if isinstance(result.cov, pd.DataFrame) else np.asarray(result.cov)
    cov = np.asarray(cov, dtype=float)
    et = _event_times(result)
    if np.any(et != np.round(et)):
        raise EvalkitError("Event times must be integers.")
    et = et.astype(int)
    if reference is None:
        refs = list(getattr(result, "reference", []) or [])
        if len(refs) > 1:
            raise DesignError(
                f"The event study normalises several event times {refs}; Rambachan-Roth bounds "
                "need one reference period just before treatment. Re-estimate with reference=-1."
            )
        reference = int(refs[0]) if refs else -1
    keep = et != reference  # a reported zero reference row is dropped
    if np.any(~keep):
        ref_rows = np.where(~keep)[0]
        if np.any(np.abs(params[ref_rows]) > 1e-12):
            raise DesignError(
                f"The coefficient of the reference event time {reference} is not zero: this event "
                "study has no normalised period (e.g. Callaway-Sant'Anna with base_period='varying' "
                "compares each pre-period with the one before). Re-estimate with a common reference "
                "(callaway_santanna(..., base_period='universal')) or pass reference= the period "
                "that is normalised to zero."
            )
    params, cov, et = params[keep], cov[np.ix_(keep, keep)], et[keep]
    order = np.argsort(et)
    params, cov, et = params[order], cov[np.ix_(order, order)], et[order]
    bad = ~np.isfinite(params) | ~np.isfinite(cov).all(axis=0)
    if bad.any():
        raise EvalkitError(
            f"The event study has a missing or infinite coefficient or variance at event time(s) "
            f"{et[bad].tolist()}; bounds need every coefficient of the window and their "
            "covariance. Re-estimate with a window that leaves them out (leads=/lags=) or with an "
            "inference method whose variance exists there."
        )
    pre = et[et < reference]
    post = et[et > reference]
    if len(pre) == 0:
        raise DesignError(
            "The event study has no pre-treatment coefficients; sensitivity bounds need at least one "
            "(estimate leads, e.g. event_study(..., leads=3))."
        )
    if len(post) == 0:
        raise DesignError("The event study has no post-treatment coefficients.")
    expected_pre = np.arange(reference - len(pre), reference)
    expected_post = np.arange(reference + 1, reference + 1 + len(post))
    if not (np.array_equal(pre, expected_pre) and np.array_equal(post, expected_post)):
        raise DesignError(
            f"Event times must be consecutive around the reference {reference} (got pre "
            f"{list(pre)}, post {list(post)}). Estimate every event time in the window or bin the "
            "end points."
        )
    if not np.allclose(cov, cov.T, atol=1e-12 * max(1.0, np.abs(cov).max())):
        raise EvalkitError("The covariance matrix of the result is not symmetric.")
    return EventStudyInput(params, (cov + cov.T) / 2, pre, post, reference)
