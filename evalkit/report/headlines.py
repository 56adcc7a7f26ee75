"""Headline numbers that a notebook saves for the index page and the acceptance summary.

Each detailed notebook saves its preferred estimates with :func:`save_headlines`; the acceptance
summary reads them back with :func:`load_headlines`, so its table is drawn from the detailed
notebooks' results, never retyped.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._shared.exceptions import EvalkitError
from .._shared.files import atomic_write_text
from .context import resolve_language
from .verdict import annotate_agreement, assumption_words, check_assumption

HEADLINE_FIELDS = (
    "evaluation",
    "estimator",
    "estimate",
    "conf_low",
    "conf_high",
    "p_value",
    "inference",
    "pretrend_p",
    "breakdown",
    "truth",
    "note",
    # what the verdict and credibility rules read (evalkit/report/verdict.py)
    "preferred",
    "assumption",
    "assumption_text",
    "outcome",
    "effect_scale",
    "outcome_mean",
    "f_eff",
    "f_critical",
    "ar_intervals",
    "n_clusters",
    "n_treated",
    "pretrend_power_bias",
    "spillover_estimate",
    "agrees_with",
    "disagrees_with",
)
RESULTS_SUBDIR = "results"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def headline(
    evaluation: str,
    estimator: str,
    result: Any,
    *,
    assumption: str,
    preferred: bool = False,
    language: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One headline record from a scalar result, with the fields the verdict rules read.

    Parameters
    ----------
    evaluation : str
        Evaluation key (``"pilot_zone"``, ``"tech_subsidy"``, ``"first_unit"``, ``"factor_fund"``).
    estimator : str
        Method name as shown (method names may stay as written in either language).
    result : ScalarEffect-like or mapping
        Has ``estimate``, ``pvalue``, ``inference`` and ``conf_int()``; or a mapping (a row of a
        comparison table) with ``estimate, conf_low, conf_high, p_value`` and optionally
        ``inference``.
    assumption : str
        Key of the identifying assumption the estimate rests on
        (:data:`evalkit.report.verdict.ASSUMPTIONS`); its words go into ``assumption_text``.
    preferred : bool
        Whether this is the page's preferred estimate (exactly one per page).
    language : {"zh", "en"}, optional
        Language of ``assumption_text``.
    **fields
        Any other :data:`HEADLINE_FIELDS` (``pretrend_p``, ``breakdown``, ``f_eff``, ...).

    Returns
    -------
    dict
        The record.

    Examples
    --------
    >>> from evalkit.results import ScalarEffect
    >>> r = headline("pilot_zone", "DiD", ScalarEffect(0.08, 0.02), assumption="parallel_trends",
    ...              language="en")
    >>> round(r["conf_low"], 3), r["assumption"]
    (0.041, 'parallel_trends')
    """
    if isinstance(result, Mapping):
        numbers = {k: result.get(k) for k in ("estimate", "conf_low", "conf_high", "p_value", "inference")}
    else:
        lo, hi = result.conf_int()
        numbers = {"estimate": result.estimate, "conf_low": lo, "conf_high": hi, "p_value": result.pvalue,
                   "inference": result.inference}
    record = {
        "evaluation": evaluation,
        "estimator": estimator,
        **numbers,
        "assumption": check_assumption(assumption),
        "assumption_text": assumption_words(assumption, resolve_language(language)),
        "preferred": bool(preferred),
    }
    unknown = sorted(set(fields) - set(HEADLINE_FIELDS) - {"term", "sample"})
    if unknown:
        raise EvalkitError(f"Unknown headline field(s) {unknown}; known: {list(HEADLINE_FIELDS)}.")
    record.update(fields)
    return record


def save_headlines(
    output_dir: str | os.PathLike | None,
    notebook: str,
    records: list[dict[str, Any]],
    *,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path | None:
    """Write ``records`` to ``<output_dir>/results/<notebook>.json`` atomically.

    Parameters
    ----------
    output_dir : path or None
        The evidence pack folder; empty or ``None`` means "do not save" (interactive runs).
    notebook : str
        Notebook name, e.g. ``"30_first_unit_insurance"``.
    records : list of dict
        Headline rows; keys from :data:`HEADLINE_FIELDS` (others are kept too). The preferred
        row gets ``agrees_with`` / ``disagrees_with`` filled from the others
        (:func:`evalkit.report.verdict.annotate_agreement`).
    title : str, optional
        Human title of the notebook for the index page.
    extra : dict, optional
        Anything else to keep (e.g. the scorecard summary).

    Returns
    -------
    Path or None
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from evalkit.report import headline, load_headlines, save_headlines
    >>> from evalkit.results import ScalarEffect
    >>> rec = headline("pilot_zone", "DiD", ScalarEffect(0.08, 0.02), assumption="parallel_trends",
    ...                language="en", preferred=True)
    >>> with tempfile.TemporaryDirectory() as pack:
    ...     path = save_headlines(pack, "20_pilot_zone", [rec])
    ...     print(path.name, list(load_headlines(pack)))
    ...
    20_pilot_zone.json ['20_pilot_zone']
    """
    if not output_dir:
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise EvalkitError("records must be a list of dicts (one per headline estimate).")
    rows = [{k: _clean(v) for k, v in r.items()} for r in records]
    for row in rows:
        for k in HEADLINE_FIELDS:
            row.setdefault(k, None)
    annotate_agreement(rows)
    payload = {"notebook": notebook, "title": title, "headlines": rows}
    if extra:
        payload["extra"] = {k: _clean(v) for k, v in extra.items()}
    target = Path(output_dir) / RESULTS_SUBDIR / f"{notebook}.json"
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True, default=_clean)
    return atomic_write_text(target, text)


def load_headlines(output_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Read every saved headline file of a pack: ``{notebook: payload}``.

    Examples
    --------
    >>> import tempfile
    >>> from evalkit.report import load_headlines
    >>> with tempfile.TemporaryDirectory() as pack:
    ...     print(load_headlines(pack))
    ...
    {}
    """
    folder = Path(output_dir) / RESULTS_SUBDIR
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        with open(path, encoding="utf-8") as fh:
            payload = json.load(fh)
        out[payload.get("notebook", path.stem)] = payload
    return out
