"""The acceptance conclusion document: the sections an acceptance review expects, from records.

:func:`build_conclusion` assembles, from the evaluation pages' saved headline records, the
scorecard's saved results and the data folder, the sections of the conclusion page
(``notebooks/90_acceptance_summary``):

1. 综合结论 — overall conclusion (:func:`overall_text`);
2. 政策措施成效 — one row per evaluation, mapped to the plan's measure and section numbers, with a
   plain sentence, p-value, verdict and credibility rating (:func:`evalkit.report.summary.acceptance_table`);
3. 问题与建议 — problems and suggestions drawn from the evidence (:func:`problems_and_suggestions`):
   targets not met, weak or mixed evidence, data gaps;
4. 数据来源与口径 — every input file, what is used from it and its coverage (:func:`data_sources`);
5. 术语表 — glossary for readers who are not statisticians;

plus numbered footnotes with the method details and the thresholds of the rules. The same
:class:`Conclusion` is rendered as HTML (:meth:`Conclusion.to_html`) and as a Word document
(:meth:`Conclusion.to_docx`). Nothing here is typed text about results: every sentence about a
result is generated from the records.

Examples
--------
>>> c = build_conclusion({}, None, year=2025, language="en")
>>> c.title
'Acceptance evaluation: conclusions (2025)'
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .context import resolve_language
from .labels import join_list, t
from .summary import acceptance_table
from .verdict import thresholds_text

SCORECARD_NOTEBOOK = "60_targets_scorecard"
#: Glossary entries (label keys ``term_<k>`` and ``gloss_<k>``).
GLOSSARY_KEYS = ("ci", "p", "pretrend", "power", "parallel", "sc", "sdid", "breakdown", "iv", "f",
                 "ar", "cluster", "spillover", "credibility")
#: Panel columns the evaluation pages use (shown by their labels in 数据来源与口径).
PANEL_COLUMNS_USED = ("revenue_wan", "pilot_zone", "first_unit_year", "tech_subsidy_wan",
                      "factor_fund_wan")
#: Suggestion for the first flagged credibility check (label keys).
SUGGESTION_BY_CHECK = {"instrument": "suggest_instrument", "pretrend": "suggest_pretrend",
                       "power": "suggest_power", "breakdown": "suggest_breakdown",
                       "agreement": "suggest_agreement", "clusters": "suggest_clusters",
                       "spillover": "suggest_spillover"}
MISSED_STATUSES = ("not_met", "off_track")


@dataclass
class Conclusion:
    """Everything on the conclusion page, already in the report language.

    Attributes
    ----------
    title : str
    language : str
    synthetic : bool
        Whether the data are the synthetic demo (a notice is shown).
    overall : list of str
        Paragraphs of 综合结论.
    table : DataFrame
        :func:`evalkit.report.summary.acceptance_table`.
    problems : list of str
        Bullets of 问题与建议.
    sources : DataFrame
        Columns ``file, content, coverage``.
    glossary : list of (term, explanation)
    thresholds : str
        The rules' thresholds in words.
    """

    title: str
    language: str
    synthetic: bool
    overall: list[str]
    table: pd.DataFrame
    problems: list[str]
    sources: pd.DataFrame
    glossary: list[tuple[str, str]] = field(default_factory=list)
    thresholds: str = ""

    def headers(self) -> dict[str, str]:
        """Section titles and table headers in the report language."""
        keys = ("sec_overall", "sec_measures", "sec_problems", "sec_sources", "sec_glossary",
                "sec_notes", "col_section", "col_evaluation", "col_finding", "col_p", "col_verdict",
                "col_credibility", "col_file", "col_content", "col_coverage", "col_term",
                "col_meaning", "assumption_label", "synthetic_notice")
        return {k: t(k, self.language) for k in keys}

    def measure_rows(self) -> list[list[str]]:
        """Rows of the 政策措施成效 table: section, evaluation, finding (with footnote mark), p,
        verdict, credibility with reasons."""
        h = self.headers()
        rows = []
        for i, r in enumerate(self.table.to_dict("records"), start=1):
            finding = t("finding_with_note", self.language).format(
                sentence=r["sentence"], n=i, label=h["assumption_label"], assumption=r["assumption"])
            # the reasons that lowered the rating; a rating nothing lowered shows what held
            reasons = r.get("credibility_flagged") or r.get("credibility_reasons") or []
            cred = (r["credibility"] + t("label_colon", self.language)
                    + t("clause_separator", self.language).join(reasons)) if reasons else r["credibility"]
            rows.append([r["section"], r["evaluation"], finding, r["p_value"],
                         r["verdict_sentence"], cred])
        return rows

    def footnotes(self) -> list[str]:
        """Numbered method notes, one per evaluation."""
        return [f"[{i}] {r['footnote']}" for i, r in enumerate(self.table.to_dict("records"), start=1)]

    # -- HTML -------------------------------------------------------------------------------
    def to_html(self) -> str:
        """The conclusion page body as HTML (tables with the print-friendly class ``ek-doc``)."""
        h = self.headers()
        esc = html.escape
        parts = [f'<div class="ek-doc" lang="{self.language}">']
        if self.synthetic:
            parts.append(f'<p class="ek-notice">{esc(h["synthetic_notice"])}</p>')
        parts.append(f"<h2>{esc(h['sec_overall'])}</h2>")
        parts += [f"<p>{esc(p)}</p>" for p in self.overall]
        parts.append(f"<h2>{esc(h['sec_measures'])}</h2>")
        parts.append(_html_table(
            [h["col_section"], h["col_evaluation"], h["col_finding"], h["col_p"], h["col_verdict"],
             h["col_credibility"]], self.measure_rows(), widths=(7, 9, 30, 7, 26, 21)))
        parts.append(f'<p class="ek-small">{esc(self.thresholds)}</p>')
        parts.append(f"<h2>{esc(h['sec_problems'])}</h2><ol>")
        parts += [f"<li>{esc(p)}</li>" for p in self.problems]
        parts.append("</ol>")
        parts.append(f"<h2>{esc(h['sec_sources'])}</h2>")
        parts.append(_html_table([h["col_file"], h["col_content"], h["col_coverage"]],
                                 self.sources.values.tolist(), widths=(22, 48, 30)))
        parts.append(f"<h2>{esc(h['sec_glossary'])}</h2>")
        parts.append(_html_table([h["col_term"], h["col_meaning"]],
                                 [list(g) for g in self.glossary], widths=(18, 82)))
        parts.append(f"<h2>{esc(h['sec_notes'])}</h2>")
        parts += [f'<p class="ek-small">{esc(n)}</p>' for n in self.footnotes()]
        parts.append("</div>")
        return "\n".join(parts)

    # -- Word -------------------------------------------------------------------------------
    def to_docx(self, path: str | os.PathLike) -> Path:
        """Write the conclusion as a Word document (A4), atomically; return the path."""
        from .docx_writer import write_conclusion_docx

        return write_conclusion_docx(self, path)


def _html_table(headers: list[str], rows: list[list[Any]], widths: tuple[int, ...]) -> str:
    esc = html.escape
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    head = "".join(f"<th>{esc(str(c))}</th>" for c in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="ek-table"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def overall_text(table: pd.DataFrame, scorecard: Mapping[str, Any] | None, language: str | None = None) -> list[str]:
    """Paragraphs of 综合结论 from the acceptance table and the scorecard's saved counts."""
    lang = resolve_language(language)
    groups: dict[str, list[str]] = {}
    for r in table.to_dict("records"):
        groups.setdefault(r["verdict_kind"], []).append(
            t("name_with_note", lang).format(name=r["evaluation"], note=r["credibility"]))
    parts = []
    for kind in ("supports_positive", "supports_negative", "mixed", "inconclusive", "no_result"):
        if groups.get(kind):
            parts.append(t(f"overall_{kind}", lang).format(n=len(groups[kind]),
                                                           names=join_list(groups[kind], lang)))
    first = (t("overall_intro", lang).format(n=len(table)) + t("clause_separator", lang).join(parts)
             + t("sentence_end", lang))
    out = [first + t("overall_credibility_note", lang)]
    if scorecard and scorecard.get("counts"):
        c = scorecard["counts"]
        total = sum(int(v) for v in c.values())
        out.append(t("overall_scorecard", lang).format(
            total=total, met=int(c.get("met", 0)) + int(c.get("on_track", 0)),
            missed=int(c.get("not_met", 0)) + int(c.get("off_track", 0)),
            other=int(c.get("pending", 0)) + int(c.get("no_data", 0))))
    return out


def problems_and_suggestions(table: pd.DataFrame, scorecard: Mapping[str, Any] | None,
                             sources: pd.DataFrame | None = None, language: str | None = None) -> list[str]:
    """Bullets of 问题与建议: targets not met, weak or mixed evidence, data gaps — from records."""
    lang = resolve_language(language)
    out = []
    card = list((scorecard or {}).get("card") or [])
    items = target_shortfalls(card, lang)
    if items:
        out.append(t("problem_targets", lang).format(n=len(items), items=join_list(items, lang)))
    no_data = [r for r in card if r.get("status") == "no_data"]
    if no_data:
        out.append(t("problem_target_no_data", lang).format(
            items=join_list((r.get(f"name_{lang}") for r in no_data), lang)))
    if not card:
        out.append(t("problem_no_scorecard", lang))
    for r in table.to_dict("records"):
        if r["verdict_kind"] in ("supports_positive", "supports_negative") and r.get("credibility_rating") == "high":
            continue
        if r["verdict_kind"] == "no_result":
            out.append(t("problem_no_result", lang).format(evaluation=r["evaluation"]))
            continue
        reasons = [x for x in (r.get("credibility_reasons") or [])]
        why = r["caveat"] or (reasons[0] if reasons else "")
        suggestion = _suggestion(r, lang)
        out.append(t("problem_evidence", lang).format(
            evaluation=r["evaluation"], verdict=r["verdict"], credibility=r["credibility"], why=why,
            suggestion=suggestion))
    out.append(t("problem_unevaluated_measure", lang))
    if sources is not None and len(sources):
        missing = sources[sources["coverage"] == t("source_missing", lang)]
        if len(missing):
            out.append(t("problem_missing_files", lang).format(files=join_list(missing["file"], lang)))
    return out


def _suggestion(row: Mapping[str, Any], lang: str) -> str:
    key = SUGGESTION_BY_CHECK.get(str(row.get("caveat_check")))
    if key is None:
        key = "suggest_more_years" if row.get("verdict_kind") == "inconclusive" else "suggest_review"
    return t(key, lang)


def target_shortfalls(card: Sequence[Mapping[str, Any]], language: str | None = None) -> list[str]:
    """The targets not met or behind schedule, each as "name (actual/target)" in ``language``.

    Parameters
    ----------
    card : sequence of dict
        Scorecard rows (:func:`evalkit.targets.scorecard` as records, or the ``card`` the scorecard
        page saves with its headlines).
    language : {"zh", "en"}, optional

    Examples
    --------
    >>> from evalkit.report.conclusion import target_shortfalls
    >>> card = [{"name_en": "New firms", "status": "not_met", "value": 277.0, "target_value": 300.0},
    ...         {"name_en": "Platforms", "status": "met", "value": 12.0, "target_value": 10.0}]
    >>> target_shortfalls(card, "en")
    ['New firms (277/300)']
    """
    lang = resolve_language(language)
    return [t("name_with_note", lang).format(
        name=r.get(f"name_{lang}"), note=f"{_num_text(r.get('value'))}/{_num_text(r.get('target_value'))}")
        for r in card if r.get("status") in MISSED_STATUSES]


def _num_text(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    if x != x:
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"


def data_sources(data_dir: str | os.PathLike | None, year: int, language: str | None = None) -> pd.DataFrame:
    """数据来源与口径: every input file of the data folder, what is used from it, its coverage.

    Returns
    -------
    DataFrame
        Columns ``file`` (path relative to the data folder), ``content`` (what is used, in words),
        ``coverage`` (units, years, missing cells).
    """
    lang = resolve_language(language)
    rows = []
    if not data_dir or not Path(data_dir).is_dir():
        return pd.DataFrame([{"file": "—", "content": t("source_no_folder", lang), "coverage": "—"}])
    root = Path(data_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in
                   {".csv", ".xlsx", ".xls", ".parquet", ".yaml", ".yml", ".json"})
    for path in files:
        rel = path.relative_to(root).as_posix()
        rows.append({"file": rel, **_describe(path, year, lang)})
    if not any(r["file"].startswith("county_panel") for r in rows):
        rows.insert(0, {"file": "county_panel.csv", "content": t("source_panel", lang).format(
            columns="—"), "coverage": t("source_missing", lang)})
    return _merge_same_content(pd.DataFrame(rows, columns=["file", "content", "coverage"]), lang)


def _merge_same_content(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One row per kind of file (e.g. every yearly allocation rule), files and coverage joined."""
    merged = frame.groupby("content", sort=False).agg(
        file=("file", lambda f: join_list(f, lang)),
        coverage=("coverage", lambda c: join_list(dict.fromkeys(c), lang)),
        n=("file", "size"))
    # files the evaluation does not use are counted, not listed (their names only lengthen the page)
    other = merged.index == t("source_other", lang)
    merged.loc[other, "file"] = [t("source_other_count", lang).format(n=int(n)) for n in merged.loc[other, "n"]]
    merged = pd.concat([merged[~other], merged[other]])  # and go last
    return merged.reset_index()[["file", "content", "coverage"]]


def _describe(path: Path, year: int, lang: str) -> dict[str, str]:
    name = path.name
    try:
        if name.startswith("county_panel"):
            from ..data import load_panel

            df = load_panel(path.parent)
            used = [t(c, lang) for c in PANEL_COLUMNS_USED if c in df.columns]
            df = df[df["year"] <= year]
            n_missing = int(df[[c for c in PANEL_COLUMNS_USED if c in df.columns]].isna().sum().sum())
            return {"content": t("source_panel", lang).format(columns=join_list(used, lang)),
                    "coverage": t("coverage_panel", lang).format(
                        units=df["unit_code"].nunique(), y0=int(df["year"].min()), y1=int(df["year"].max()),
                        missing=n_missing)}
        if name == "city_indicators.csv":
            from ..data import load_city_indicators

            df = load_city_indicators(path)
            df = df[df["year"] <= year]
            return {"content": t("source_indicators", lang),
                    "coverage": t("coverage_indicators", lang).format(
                        n=df["indicator_id"].nunique(), y0=int(df["year"].min()), y1=int(df["year"].max()))}
        if name == "factors.csv":
            from ..data.reader import read_raw_table

            df = read_raw_table(path)  # the long factor table (canonical headers), any encoding
            df["year"] = pd.to_numeric(df["year"])
            return {"content": t("source_factors", lang),
                    "coverage": t("coverage_factors", lang).format(
                        n=df["factor_id"].nunique(), units=df["unit_code"].nunique(),
                        y0=int(df["year"].min()), y1=int(df["year"].max()))}
        if name.startswith("spec"):
            year_text = name.split("_")[-1].split(".")[0] if "_" in name else ""
            return {"content": t("source_spec", lang),
                    "coverage": (t("coverage_spec", lang).format(year=year_text) if year_text
                                 else t("coverage_default", lang))}
        if name in ("truth.json", "true_effects.csv"):
            return {"content": t("source_truth", lang), "coverage": t("coverage_synthetic", lang)}
    except Exception:  # a description must not break the page: say that this file failed, in words
        return {"content": t("source_unreadable", lang), "coverage": t("coverage_unreadable", lang)}
    return {"content": t("source_other", lang), "coverage": "—"}


def build_conclusion(headlines: Mapping[str, Any], data_dir: str | os.PathLike | None, *, year: int,
                     language: str | None = None, synthetic: bool = False) -> Conclusion:
    """Assemble the conclusion from saved headlines (``report.load_headlines(pack)``) and the data.

    Parameters
    ----------
    headlines : mapping
        ``{notebook: payload}`` as returned by :func:`evalkit.report.load_headlines`.
    data_dir : path or None
        The data folder the pack was built from (for 数据来源与口径).
    year : int
        Evaluation year.
    language : {"zh", "en"}, optional
    synthetic : bool
        Whether the data are the synthetic demo.
    """
    lang = resolve_language(language)
    table = acceptance_table(dict(headlines), lang)
    scorecard = (headlines.get(SCORECARD_NOTEBOOK) or {}).get("extra")
    sources = data_sources(data_dir, year, lang)
    return Conclusion(
        title=t("conclusion_title", lang).format(year=year),
        language=lang,
        synthetic=bool(synthetic),
        overall=overall_text(table, scorecard, lang),
        table=table,
        problems=problems_and_suggestions(table, scorecard, sources, lang),
        sources=sources,
        glossary=[(t(f"term_{k}", lang), t(f"gloss_{k}", lang)) for k in GLOSSARY_KEYS],
        thresholds=thresholds_text(lang),
    )
