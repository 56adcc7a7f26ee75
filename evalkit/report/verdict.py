"""Verdict and credibility rules for the acceptance summary, written once.

Every evaluation page saves headline records (:data:`evalkit.report.HEADLINE_FIELDS`); the page's
*preferred* record is the estimate under the identifying assumption the page argues for. From
those records alone (never from today's numbers) this module decides

* the **verdict** (:func:`verdict`): "supports a positive (negative) effect" only when the
  preferred interval excludes zero *and* every other estimate resting on the same assumption
  agrees with it; otherwise "mixed" (the preferred interval excludes zero but an estimate under
  the same assumption disagrees) or "inconclusive" (the preferred interval includes zero, or there
  is no usable interval), each with the reasons in words;
* the **credibility rating** 高/中/低 (:func:`credibility`) from written checks: pre-trend test
  and its power, HonestDiD breakdown value, agreement across estimators, instrument strength,
  number of clusters and, where measured, spillovers to neighbouring counties.

When the preferred record is an instrumental-variable estimate with a weak instrument (effective
F below its critical value) its interval is replaced by the Anderson–Rubin set, which keeps its
coverage whatever the instrument's strength.

The thresholds are module constants and are printed on the conclusion page
(:func:`thresholds_text`).

Examples
--------
>>> rows = [
...     {"estimator": "IV recentred", "estimate": 0.0057, "conf_low": -0.0024, "conf_high": 0.0139,
...      "p_value": 0.155, "assumption": "shock_exogeneity", "preferred": True,
...      "f_eff": 14.5, "f_critical": 23.1, "ar_intervals": [[-0.004, 0.02]]},
...     {"estimator": "IV formula", "estimate": 0.0111, "conf_low": 0.0047, "conf_high": 0.0176,
...      "p_value": 0.001, "assumption": "formula_exogeneity"},
... ]
>>> verdict(rows).kind
'inconclusive'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._shared.exceptions import EvalkitError
from .context import resolve_language
from .labels import join_list, t

#: Pre-trend tests "pass" at this level (p >= 0.10); below 0.05 the test is a problem.
PRETREND_ALPHA = 0.10
PRETREND_ALPHA_STRICT = 0.05
#: A linear pre-trend the pre-test detects with 80 % power must bias the estimate by less than
#: this share of the estimate, otherwise the pre-test has too little power to be reassuring.
POWER_BIAS_SHARE = 0.5
#: HonestDiD relative-magnitude breakdown value M-bar: >= 1 fine, [0.5, 1) caution, < 0.5 problem.
BREAKDOWN_OK = 1.0
BREAKDOWN_LOW = 0.5
#: Clusters below which inference rests on few-cluster corrections (caution, not a problem).
CLUSTERS_OK = 40
TREATED_OK = 10
#: Dropping the counties bordering Weifang may move the estimate by at most this share.
SPILLOVER_SHARE = 0.25
#: this many cautions (each a weak or an unchecked diagnostic) rate the evidence low, as a problem
#: does: an estimate whose assumption could not be checked is not more credible than one that was
#: checked and found wanting
CAUTIONS_LOW = 3

#: Identifying assumptions: key -> design family (which checks apply).
ASSUMPTIONS: dict[str, str] = {
    "synthetic_comparison": "did",
    "parallel_trends": "did",
    "parallel_trends_homogeneous": "did",
    "strong_parallel_trends": "did",
    "shock_exogeneity": "iv",
    "shock_exogeneity_weights": "iv",
    "shock_exogeneity_total": "iv",
    "formula_exogeneity": "iv",
    "no_selection": "ols",
}

VERDICT_KINDS = ("supports_positive", "supports_negative", "mixed", "inconclusive", "no_result")
CHECK_STATUS = ("ok", "caution", "problem")


def num(value: Any) -> float:
    """``value`` as a float; ``nan`` for ``None``, text or anything not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _finite(value: Any) -> bool:
    return math.isfinite(num(value))


def check_assumption(key: Any) -> str:
    """Return ``key`` if it names a known identifying assumption, else raise.

    Raises
    ------
    EvalkitError
        Naming the unknown key and the known ones.
    """
    if key not in ASSUMPTIONS:
        raise EvalkitError(
            f"Unknown identifying assumption {key!r} in a headline record; use one of "
            f"{sorted(ASSUMPTIONS)} (evalkit/report/verdict.py ASSUMPTIONS)."
        )
    return str(key)


def assumption_words(key: Any, language: str | None = None) -> str:
    """The identifying assumption ``key`` in words, in the report language."""
    return t(f"assumption_{check_assumption(key)}", language)


def shock_assumption(attrs: Mapping[str, Any], language: str | None = None) -> tuple[str, str]:
    """The identifying assumption of a recentred formula instrument, as a headline key and in words.

    Parameters
    ----------
    attrs : mapping
        ``attrs`` of :func:`evalkit.iv.recentred_instrument` / :func:`evalkit.iv.expected_instrument`
        (``iv_shocks``: which parts of the rule are the random shocks; ``iv_expectation``: how the
        expectation was taken).
    language : {"zh", "en"}, optional

    Returns
    -------
    key : str
        ``"shock_exogeneity"`` (weights and totals), ``"shock_exogeneity_weights"`` or
        ``"shock_exogeneity_total"``: the ``assumption`` of the headline record.
    words : str
        The assumption and how the expectation was taken, one sentence without the final stop.

    Examples
    --------
    >>> from evalkit.report.verdict import shock_assumption
    >>> attrs = {"iv_shocks": ["weights"], "iv_expectation": {"method": "permute", "n_draws": 4}}
    >>> key, words = shock_assumption(attrs, "en")
    >>> key
    'shock_exogeneity_weights'
    >>> words.endswith("the exact average over the 4 combinations of the observed yearly shocks")
    True
    """
    lang = resolve_language(language)
    shocks = set(attrs.get("iv_shocks") or ())
    if not shocks <= {"weights", "total"} or not shocks:
        raise EvalkitError(f"attrs['iv_shocks'] must name 'weights' and/or 'total', got {sorted(shocks)}; "
                           "pass the attrs of evalkit.iv.recentred_instrument")
    key = "shock_exogeneity" if len(shocks) == 2 else f"shock_exogeneity_{shocks.pop()}"
    words = assumption_words(key, lang)
    how = attrs.get("iv_expectation") or {}
    if how.get("method") in ("permute", "dirichlet"):
        words += t("clause_separator", lang) + t(f"expectation_{how['method']}", lang).format(
            n=how.get("n_draws"), concentration=how.get("concentration") or 0.0)
    return key, words


def preferred_record(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The record flagged ``preferred`` (else the first); ``None`` for no records.

    Raises
    ------
    EvalkitError
        When more than one record is flagged preferred.
    """
    if not records:
        return None
    flagged = [r for r in records if r.get("preferred")]
    if len(flagged) > 1:
        names = [r.get("estimator") for r in flagged]
        raise EvalkitError(f"More than one headline record is flagged preferred: {names}; flag one.")
    return flagged[0] if flagged else records[0]


def weak_instrument(row: Mapping[str, Any]) -> bool:
    """Whether the record is an IV estimate whose effective F is below its critical value."""
    f, crit = num(row.get("f_eff")), num(row.get("f_critical"))
    return math.isfinite(f) and math.isfinite(crit) and f < crit


def _ar_bounds(row: Mapping[str, Any]) -> tuple[float, float] | None:
    """The Anderson–Rubin set's hull (``-inf``/``inf`` for unbounded); ``None`` if absent or empty."""
    sets = row.get("ar_intervals")
    if not sets:
        return None
    lows = [-math.inf if (s[0] is None) else num(s[0]) for s in sets]
    highs = [math.inf if (s[1] is None) else num(s[1]) for s in sets]
    return min(lows), max(highs)


def preferred_interval(row: Mapping[str, Any]) -> tuple[float, float, str]:
    """The interval the verdict uses: ``(low, high, kind)`` with kind ``"wald"`` or ``"ar"``.

    For a weak instrument the Anderson–Rubin set (its hull, possibly unbounded) replaces the
    Wald interval. Missing bounds come back as ``nan``.
    """
    if weak_instrument(row):
        ar = _ar_bounds(row)
        if ar is not None:
            return ar[0], ar[1], "ar"
        return math.nan, math.nan, "ar"
    return num(row.get("conf_low")), num(row.get("conf_high")), "wald"


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def agrees(preferred: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether ``other`` agrees with ``preferred``: same sign and, when both have intervals,
    overlapping intervals."""
    pe, oe = num(preferred.get("estimate")), num(other.get("estimate"))
    if not (math.isfinite(pe) and math.isfinite(oe)) or _sign(pe) != _sign(oe):
        return False
    plo, phi, _ = preferred_interval(preferred)
    olo, ohi = num(other.get("conf_low")), num(other.get("conf_high"))
    if any(math.isnan(v) for v in (plo, phi, olo, ohi)):
        return True
    return olo <= phi and plo <= ohi


@dataclass
class Agreement:
    """Estimates that rest on the preferred record's assumption, split by agreement.

    Attributes
    ----------
    agree, disagree : list of str
        Estimator names of the other records under the same assumption.
    other_assumption : list of dict
        Records resting on a different assumption (shown, not counted).
    """

    agree: list[str] = field(default_factory=list)
    disagree: list[str] = field(default_factory=list)
    other_assumption: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``"agree"``, ``"disagree"`` or ``"single"`` (no other estimate under the assumption)."""
        if self.disagree:
            return "disagree"
        return "agree" if self.agree else "single"


def agreement(records: Sequence[Mapping[str, Any]]) -> Agreement:
    """Compare the preferred record with the others resting on the same assumption."""
    main = preferred_record(records)
    out = Agreement()
    if main is None:
        return out
    for r in records:
        if r is main or not _finite(r.get("estimate")):
            continue
        if r.get("assumption") == main.get("assumption"):
            (out.agree if agrees(main, r) else out.disagree).append(str(r.get("estimator")))
        else:
            out.other_assumption.append(r)
    return out


def annotate_agreement(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill ``agrees_with`` / ``disagrees_with`` of the preferred record in place; return records."""
    main = preferred_record(records)
    if main is None or "assumption" not in main or main.get("assumption") is None:
        return records
    ag = agreement(records)
    main["agrees_with"] = ag.agree  # type: ignore[index]
    main["disagrees_with"] = ag.disagree  # type: ignore[index]
    return records


@dataclass
class Verdict:
    """A verdict: its kind and the sentence that says it, with the reasons."""

    kind: str
    sentence: str
    reasons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.sentence


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.4g}".replace("-", "−")


def _interval_text(lo: float, hi: float) -> str:
    return f"[{_fmt(lo)}, {_fmt(hi)}]"


def verdict(records: Sequence[Mapping[str, Any]], language: str | None = None,
            interval_text=None) -> Verdict:
    """The verdict on one evaluation from its headline records.

    Parameters
    ----------
    records : sequence of dict
        The evaluation's headline records; the preferred one is flagged ``preferred``.
    language : {"zh", "en"}, optional
        Language of the sentence.
    interval_text : callable, optional
        ``f(low, high) -> str`` writing an interval in the indicator's own terms (default: the
        raw numbers).

    Returns
    -------
    Verdict
        ``kind`` is one of :data:`VERDICT_KINDS`.
    """
    lang = resolve_language(language)
    fmt = interval_text or _interval_text
    main = preferred_record(records)
    if main is None:
        return Verdict("no_result", t("verdict_no_result", lang))
    lo, hi, kind = preferred_interval(main)
    reasons: list[str] = []
    if kind == "ar":
        reasons.append(t("reason_weak_iv_ar", lang).format(
            f=num(main.get("f_eff")), crit=num(main.get("f_critical"))))
    what = t(f"interval_{kind}", lang)
    ag = agreement(records)
    if math.isnan(lo) or math.isnan(hi):
        reasons.insert(0, t("reason_no_interval", lang))
        return Verdict("inconclusive", _join(t("verdict_inconclusive", lang), reasons, lang), reasons)
    excludes = lo > 0 or hi < 0
    if not excludes:
        reasons.append(t("reason_interval_spans_zero", lang).format(what=what, ci=fmt(lo, hi)))
        reasons += _other_assumption_reasons(ag, lang, fmt)
        return Verdict("inconclusive", _join(t("verdict_inconclusive", lang), reasons, lang), reasons)
    if ag.disagree:
        reasons.append(t("reason_interval_excludes_zero", lang).format(what=what, ci=fmt(lo, hi)))
        reasons.append(t("reason_disagree", lang).format(names=join_list(ag.disagree, lang)))
        return Verdict("mixed", _join(t("verdict_mixed", lang), reasons, lang), reasons)
    reasons.append(t("reason_interval_excludes_zero", lang).format(what=what, ci=fmt(lo, hi)))
    if ag.agree:
        reasons.append(t("reason_agree", lang).format(
            names=join_list(ag.agree, lang)))
    else:
        reasons.append(t("reason_single", lang))
    reasons += _other_assumption_reasons(ag, lang, fmt, spanning_zero=True)
    key = "supports_positive" if lo > 0 else "supports_negative"
    return Verdict(key, _join(t(f"verdict_{key}", lang), reasons, lang), reasons)


def _other_assumption_reasons(ag: Agreement, lang: str, fmt, spanning_zero: bool = False) -> list[str]:
    """The first estimate under a different assumption whose interval excludes zero (when the
    verdict is inconclusive) or includes zero (when the verdict supports an effect, with
    ``spanning_zero``): it does not count towards the verdict, but the reader should know it, e.g.
    that a dose response is not supported while the effect of receiving the policy is."""
    out: list[str] = []
    key = "reason_other_assumption_null" if spanning_zero else "reason_other_assumption"
    for r in ag.other_assumption:
        if out:
            break
        lo, hi = num(r.get("conf_low")), num(r.get("conf_high"))
        if _finite(lo) and _finite(hi) and ((lo <= 0 <= hi) if spanning_zero else (lo > 0 or hi < 0)):
            out.append(t(key, lang).format(
                name=r.get("estimator"), ci=fmt(lo, hi),
                assumption=assumption_words(r["assumption"], lang) if r.get("assumption") in ASSUMPTIONS
                else "—"))
    return out


def _join(head: str, reasons: list[str], lang: str) -> str:
    return head + t("label_colon", lang) + t("clause_separator", lang).join(reasons) + t("sentence_end", lang)


# ---------------------------------------------------------------------------------------------
# credibility
# ---------------------------------------------------------------------------------------------
@dataclass
class Check:
    """One credibility check: its name, status (ok / caution / problem) and the reason."""

    name: str
    status: str
    reason: str


@dataclass
class Credibility:
    """Credibility rating 高/中/低 (high/medium/low) with the checks behind it."""

    rating: str
    checks: list[Check]

    def label(self, language: str | None = None) -> str:
        """The rating as shown (高/中/低 or High/Medium/Low)."""
        return t(f"credibility_{self.rating}", language)

    def flagged(self) -> list[Check]:
        """The checks that are not ok, problems first."""
        return [c for s in ("problem", "caution") for c in self.checks if c.status == s]

    def reasons(self, statuses: Sequence[str] = ("problem", "caution", "ok")) -> list[str]:
        """Reasons of the checks with the given statuses, problems first."""
        order = {s: i for i, s in enumerate(statuses)}
        keep = [c for c in self.checks if c.status in order]
        return [c.reason for c in sorted(keep, key=lambda c: order[c.status])]


def _pretrend_check(row, lang) -> Check:
    p = num(row.get("pretrend_p"))
    if not math.isfinite(p):
        return Check("pretrend", "caution", t("check_pretrend_missing", lang))
    if p >= PRETREND_ALPHA:
        return Check("pretrend", "ok", t("check_pretrend_pass", lang).format(p=_p(p)))
    status = "caution" if p >= PRETREND_ALPHA_STRICT else "problem"
    return Check("pretrend", status, t("check_pretrend_fail", lang).format(p=_p(p)))


def _power_check(row, lang) -> Check:
    bias, est = num(row.get("pretrend_power_bias")), num(row.get("estimate"))
    if not (math.isfinite(bias) and math.isfinite(est)) or est == 0:
        return Check("power", "caution", t("check_power_missing", lang))
    share = abs(bias) / abs(est)
    status = "ok" if share < POWER_BIAS_SHARE else "caution"
    return Check("power", status, t(f"check_power_{status}", lang).format(share=share))


def _breakdown_check(row, lang) -> Check:
    m = num(row.get("breakdown"))
    if not math.isfinite(m):
        return Check("breakdown", "caution", t("check_breakdown_missing", lang))
    status = "ok" if m >= BREAKDOWN_OK else "caution" if m >= BREAKDOWN_LOW else "problem"
    return Check("breakdown", status, t(f"check_breakdown_{status}", lang).format(m=m))


def _instrument_check(row, lang) -> Check:
    f, crit = num(row.get("f_eff")), num(row.get("f_critical"))
    if not (math.isfinite(f) and math.isfinite(crit)):
        return Check("instrument", "caution", t("check_instrument_missing", lang))
    status = "ok" if f >= crit else "problem"
    return Check("instrument", status, t(f"check_instrument_{status}", lang).format(f=f, crit=crit))


def _agreement_check(records, lang) -> Check:
    ag = agreement(records)
    if ag.status == "disagree":
        return Check("agreement", "problem", t("check_agreement_problem", lang).format(
            names=join_list(ag.disagree, lang)))
    if ag.status == "single":
        return Check("agreement", "caution", t("check_agreement_single", lang))
    return Check("agreement", "ok", t("check_agreement_ok", lang).format(names=join_list(ag.agree, lang)))


def _cluster_check(row, lang) -> Check | None:
    g, g1 = num(row.get("n_clusters")), num(row.get("n_treated"))
    if not math.isfinite(g):
        return None
    few = g < CLUSTERS_OK or (math.isfinite(g1) and g1 < TREATED_OK)
    treated = (t("check_clusters_treated", lang).format(g1=int(g1)) if math.isfinite(g1) else "")
    return Check("clusters", "caution" if few else "ok",
                 t("check_clusters_caution" if few else "check_clusters_ok", lang).format(
                     g=int(g), treated=treated))


def _spillover_check(row, lang) -> Check | None:
    alt, est = num(row.get("spillover_estimate")), num(row.get("estimate"))
    if not math.isfinite(alt) or not math.isfinite(est) or est == 0:
        return None
    share = abs(alt - est) / abs(est)
    ok = share <= SPILLOVER_SHARE and _sign(alt) == _sign(est)
    return Check("spillover", "ok" if ok else "caution",
                 t("check_spillover_ok" if ok else "check_spillover_caution", lang).format(
                     share=share, alt=_fmt(alt)))


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def credibility(records: Sequence[Mapping[str, Any]], language: str | None = None) -> Credibility | None:
    """Rate how far the preferred estimate can be trusted: 高 (high), 中 (medium) or 低 (low).

    Rules (thresholds are the module constants): each applicable check is *ok*, *caution* or
    *problem*; a missing diagnostic the design calls for is a caution. Any problem, or
    ``CAUTIONS_LOW`` (3) or more cautions, gives 低; otherwise two cautions give 中; otherwise 高. Checks by design family of the preferred
    record's assumption: difference-in-differences / synthetic comparison — pre-trend test, its
    power, HonestDiD breakdown value; instrumental variables — instrument strength; all — agreement
    of the estimates under the same assumption, number of clusters (when recorded), spillovers
    (when recorded).

    Returns
    -------
    Credibility or None
        ``None`` when there are no records.
    """
    lang = resolve_language(language)
    main = preferred_record(records)
    if main is None:
        return None
    family = ASSUMPTIONS.get(main.get("assumption"), "did")
    checks: list[Check] = []
    if family == "did":
        checks += [_pretrend_check(main, lang), _power_check(main, lang), _breakdown_check(main, lang)]
    if family == "iv":
        checks.append(_instrument_check(main, lang))
    checks.append(_agreement_check(records, lang))
    checks += [c for c in (_cluster_check(main, lang), _spillover_check(main, lang)) if c is not None]
    statuses = [c.status for c in checks]
    if "problem" in statuses or statuses.count("caution") >= CAUTIONS_LOW:
        rating = "low"
    elif statuses.count("caution") >= 2:
        rating = "medium"
    else:
        rating = "high"
    return Credibility(rating, checks)


def thresholds_text(language: str | None = None) -> str:
    """The thresholds of the rules in one sentence (printed on the conclusion page)."""
    return t("thresholds", language).format(
        a=int(PRETREND_ALPHA * 100), a2=int(PRETREND_ALPHA_STRICT * 100), share=POWER_BIAS_SHARE,
        m_ok=BREAKDOWN_OK, m_low=BREAKDOWN_LOW, g=CLUSTERS_OK, g1=TREATED_OK, s=SPILLOVER_SHARE,
        c_low=CAUTIONS_LOW)
