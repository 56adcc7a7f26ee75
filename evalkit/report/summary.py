"""The acceptance summary, built from the headline records the evaluation pages saved.

One row per evaluation: the plan's measure and section, a plain sentence with the effect in the
indicator's own terms (log points as %, money effects per 1,000 万元 in 万元 of revenue), the
p-value, the verdict (:func:`evalkit.report.verdict.verdict`), the credibility rating with its
reasons, the assumption it rests on and a numbered footnote with the method details. Nothing is
recomputed: every number comes from a page's saved records, and the summary's row is always the
page's preferred record.

Examples
--------
>>> rows = [{"estimator": "SDID", "estimate": 0.0737, "conf_low": 0.045, "conf_high": 0.102,
...          "p_value": 1e-6, "assumption": "synthetic_comparison", "preferred": True,
...          "outcome": "log_revenue"}]
>>> effect_sentence(rows[0], "pilot_zone", "en")[:56]
"Weifang's units: above-scale industrial revenue up about"
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .context import resolve_language
from .labels import join_list, t
from .verdict import (
    ASSUMPTIONS,
    assumption_words,
    credibility,
    num,
    preferred_interval,
    preferred_record,
    verdict,
)

__all__ = ["EVALUATIONS", "PLAN_MEASURES", "acceptance_table", "effect_sentence", "format_p_value",
           "inference_words", "verdict"]

# notebook -> evaluation key (label key "eval_<key>")
EVALUATIONS = {
    "10_pilot_zone": "pilot_zone",
    "20_tech_upgrade_subsidies": "tech_subsidy",
    "30_first_unit_insurance": "first_unit",
    "40_fund_allocation_effects": "factor_fund",
}
#: The plan's measure behind each evaluation and its section numbers (总体方案, 2021; see the
#: project's plan reading guide). 亩产效益 (三(五)1) has no evaluation page yet.
PLAN_MEASURES = {
    "pilot_zone": {"zh": "一、四", "en": "I, IV"},
    "tech_subsidy": {"zh": "三(一)1、三(六)4", "en": "III(1)1, III(6)4"},
    "first_unit": {"zh": "三(二)3", "en": "III(2)3"},
    "factor_fund": {"zh": "三(六)4", "en": "III(6)4"},
}
#: Log outcomes: the effect b becomes 100 (e^b − 1) %.
LOG_OUTCOMES = {"log_revenue", "log_value_added"}


def format_p_value(p: Any) -> str:
    """p-value as text: "<0.001", three decimals, or "—" when missing."""
    v = num(p)
    if not math.isfinite(v):
        return "—"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def _minus(text: str) -> str:
    return text.replace("-", "−")


def _pct(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    v = 100 * math.expm1(x)
    return _minus(f"{v:.1f}%" if abs(v) >= 1 else f"{v:.2f}%")


def _pct_abs(x: float) -> str:
    return _pct(x).lstrip("−")


def _money(v: float) -> str:
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return _minus(f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}")


def _plain(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return _minus(f"{x:.3g}")


def _to(lang: str) -> str:
    return t("range_to", lang)


def interval_in_terms(row: Mapping[str, Any], lo: float, hi: float, language: str | None = None) -> str:
    """An interval of the record's effect written in the indicator's own terms."""
    lang = resolve_language(language)
    if row.get("outcome") in LOG_OUTCOMES:
        mean = num(row.get("outcome_mean"))
        if num(row.get("effect_scale")) > 0 and math.isfinite(mean):
            return (f"{_money(mean * math.expm1(lo))}{_to(lang)}{_money(mean * math.expm1(hi))} "
                    + t("money_wan", lang))
        return f"{_pct(lo)}{_to(lang)}{_pct(hi)}"
    return f"{_plain(lo)}{_to(lang)}{_plain(hi)}"


def effect_sentence(row: Mapping[str, Any], evaluation: str, language: str | None = None) -> str:
    """One plain sentence: the preferred effect in the indicator's own terms with its interval.

    Log outcomes are shown as % (100 (e^b − 1)); an effect per ``effect_scale`` 万元 of money is
    also shown in 万元 of the outcome at the sample mean ``outcome_mean``. With a weak instrument
    the interval is the Anderson–Rubin set.
    """
    lang = resolve_language(language)
    est = num(row.get("estimate"))
    if not math.isfinite(est):
        return t("verdict_no_result", lang)
    lo, hi, kind = preferred_interval(row)
    ci_name = t(f"interval_{kind}", lang)
    outcome = row.get("outcome")
    indicator = t(f"indicator_{outcome}", lang) if f"indicator_{outcome}" in _known() else (
        t(outcome, lang) if outcome in _known() else t("indicator_outcome", lang))
    up = est >= 0
    p = format_p_value(row.get("p_value"))
    p_text = f"p{p}" if p.startswith("<") else f"p = {p}"
    ci = interval_in_terms(row, lo, hi, lang) if math.isfinite(lo) or math.isfinite(hi) else "—"
    if outcome in LOG_OUTCOMES:
        amount = _pct_abs(est)
        scale = num(row.get("effect_scale"))
        mean = num(row.get("outcome_mean"))
        if scale > 0 and math.isfinite(mean):
            money = _money(abs(mean * math.expm1(est)))
            template = "sentence_money"
            return t(template, lang).format(
                scale=f"{scale:,.0f}", indicator=indicator, dir=t("up" if up else "down", lang),
                pct=amount, money=money, ci_name=ci_name, ci=ci, p=p_text,
                subject=t(f"subject_{evaluation}", lang))
    else:
        amount = _plain(abs(est))
    return t("sentence_effect", lang).format(
        subject=t(f"subject_{evaluation}", lang), indicator=indicator,
        dir=t("up" if up else "down", lang), amount=amount, ci_name=ci_name, ci=ci, p=p_text)


def _known() -> set[str]:
    from .labels import LABELS

    return set(LABELS)


INFERENCE_WORDS = (  # (keyword in the estimator's inference text, label key), first match wins
    ("anderson", "inference_ar"),
    ("placebo", "inference_placebo"),
    ("wild", "inference_wild"),
    ("separate error variances", "inference_cr2_groups"),
    ("cr2", "inference_cr2"),
    ("multiplier", "inference_multiplier"),
    ("influence", "inference_analytic"),
    ("analytic", "inference_analytic"),
    ("cluster", "inference_cluster"),
    ("bootstrap", "inference_bootstrap"),
)


def inference_words(text: Any, language: str | None = None) -> str:
    """An estimator's inference description in the report language (by keyword)."""
    lang = resolve_language(language)
    low = str(text or "").lower()
    for key, label in INFERENCE_WORDS:
        if key in low:
            return t(label, lang)
    return t("inference_see_page", lang)


def footnote(records: Sequence[Mapping[str, Any]], notebook: str, language: str | None = None) -> str:
    """Method details of an evaluation's preferred estimate, for a numbered footnote."""
    lang = resolve_language(language)
    main = preferred_record(records)
    if main is None:
        return t("verdict_no_result", lang)
    others = [str(r.get("estimator")) for r in records if r is not main]
    return t("footnote", lang).format(
        estimator=main.get("estimator"), inference=inference_words(main.get("inference"), lang),
        others=join_list(others, lang) if others else "—", page=f"{notebook}.html")


def acceptance_table(headlines: dict[str, dict], language: str | None = None) -> pd.DataFrame:
    """One row per evaluation from saved headlines (``report.load_headlines(pack)``).

    Columns: ``notebook, key, evaluation, section, sentence, p_value, verdict_kind, verdict,
    verdict_sentence, credibility, credibility_reasons, caveat, assumption, footnote, estimate,
    conf_low, conf_high`` (the last three raw, for checks). Evaluations whose page saved nothing
    appear with the verdict "no result".
    """
    lang = resolve_language(language)
    rows = []
    for notebook, key in EVALUATIONS.items():
        records = ((headlines.get(notebook) or {}).get("headlines")) or []
        base = {"notebook": notebook, "key": key, "evaluation": t(f"eval_{key}", lang),
                "section": PLAN_MEASURES[key][lang]}
        main = preferred_record(records)
        if main is None:
            rows.append({**base, "verdict_kind": "no_result", "verdict": t("verdict_short_no_result", lang),
                         "sentence": t("verdict_no_result", lang), "p_value": "—", "credibility": "—",
                         "credibility_reasons": [], "credibility_flagged": [], "caveat": "", "assumption": "—", "footnote": "",
                         "verdict_sentence": t("verdict_no_result", lang)})
            continue
        v = verdict(records, lang, interval_text=lambda lo, hi, m=main: interval_in_terms(m, lo, hi, lang))
        cred = credibility(records, lang)
        flagged = cred.flagged()
        rows.append({
            **base,
            "sentence": effect_sentence(main, key, lang),
            "p_value": format_p_value(main.get("p_value")),
            "verdict_kind": v.kind,
            "verdict": t(f"verdict_short_{v.kind}", lang),
            "verdict_sentence": v.sentence,
            "credibility": cred.label(lang),
            "credibility_rating": cred.rating,
            "credibility_reasons": cred.reasons(),
            "credibility_flagged": [c.reason for c in flagged],
            "caveat": flagged[0].reason if flagged else "",
            "caveat_check": flagged[0].name if flagged else "",
            "assumption": (assumption_words(main["assumption"], lang)
                           if main.get("assumption") in ASSUMPTIONS else "—"),
            "footnote": footnote(records, notebook, lang),
            "estimate": num(main.get("estimate")),
            "conf_low": num(main.get("conf_low")),
            "conf_high": num(main.get("conf_high")),
        })
    return pd.DataFrame(rows)


def conclusion_box_html(records: Sequence[Mapping[str, Any]], evaluation: str,
                        language: str | None = None) -> str:
    """The conclusion box at the top of an evaluation page, as HTML.

    Shows the preferred estimate in the indicator's own terms with its interval and p-value, the
    verdict with its reasons, the credibility rating and the main caveat, and the assumption it
    rests on — all from the page's headline records.
    """
    import html

    lang = resolve_language(language)
    main = preferred_record(records)
    if main is None:
        return f'<div class="ek-box"><p>{html.escape(t("verdict_no_result", lang))}</p></div>'
    v = verdict(records, lang, interval_text=lambda lo, hi: interval_in_terms(main, lo, hi, lang))
    cred = credibility(records, lang)
    flagged = cred.flagged()
    caveat = flagged[0].reason if flagged else t("box_no_caveat", lang)
    rows = [
        (t("box_finding", lang), effect_sentence(main, evaluation, lang)),
        (t("box_verdict", lang), v.sentence),
        (t("box_credibility", lang), cred.label(lang)),
        (t("box_caveat", lang), caveat),
        (t("assumption_label", lang).rstrip("：: "), assumption_words(main["assumption"], lang)
         if main.get("assumption") in ASSUMPTIONS else "—"),
        (t("box_method", lang), footnote(records, "", lang).split(t("box_see", lang))[0].rstrip("；; ")),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(x))}</td></tr>" for k, x in rows)
    return (f'<div class="ek-box"><h2>{html.escape(t("box_title", lang))}</h2>'
            f'<table class="ek-table ek-box-table"><colgroup><col style="width:14%"><col style="width:86%">'
            f"</colgroup><tbody>{body}</tbody></table>"
            f'<p class="ek-small">{html.escape(t("box_appendix_note", lang))}</p></div>')


def conclusion_box(records: Sequence[Mapping[str, Any]], evaluation: str, language: str | None = None):
    """:func:`conclusion_box_html` as an IPython ``HTML`` object for ``display``/``update``.

    Examples
    --------
    >>> from evalkit.report import conclusion_box, headline
    >>> from evalkit.results import ScalarEffect
    >>> rec = headline("pilot_zone", "DiD", ScalarEffect(0.08, 0.02), assumption="parallel_trends",
    ...                language="en", preferred=True)
    >>> box = conclusion_box([rec], "pilot_zone", language="en")
    >>> type(box).__name__, box.data.startswith("<")
    ('HTML', True)
    """
    from IPython.display import HTML

    return HTML(conclusion_box_html(records, evaluation, language))


def key_facts_box(lines: Sequence[str], language: str | None = None):
    """The box at the top of a page that is not an evaluation (data audit, allocation, scorecard,
    method validation): its key facts first, as the evaluation pages open with their conclusion.

    Parameters
    ----------
    lines : sequence of str
        The facts, one sentence each (already in the page's language).
    language : {"zh", "en"}, optional

    Returns
    -------
    IPython.display.HTML
        For ``display``/``update`` (the page shows an empty placeholder first and fills it once the
        facts are computed, so the box stands above the details).

    Examples
    --------
    >>> from evalkit.report import key_facts_box
    >>> box = key_facts_box(["37 / 37 checks agree with the published results"], "en")
    >>> "Key facts" in box.data and "<li>37 / 37" in box.data
    True
    """
    import html

    from IPython.display import HTML

    lang = resolve_language(language)
    items = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    return HTML(f'<div class="ek-box"><h2>{html.escape(t("key_facts_title", lang))}</h2>'
                f'<ul class="ek-facts">{items}</ul>'
                f'<p class="ek-small">{html.escape(t("key_facts_note", lang))}</p></div>')
