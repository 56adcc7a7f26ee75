"""The ``index.html`` page of an evidence pack (self-contained, no script, UTF-8)."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from ..report.labels import LABELS, label_or_name, t

#: the page's words by language: the report dictionary's ``index_*`` entries without the prefix
TEXT = {lang: {key.removeprefix("index_"): text[lang] for key, text in LABELS.items() if key.startswith("index_")}
        for lang in ("zh", "en")}

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei","PingFang SC",
"Helvetica Neue",Arial,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#1a1a1a}
h1{font-size:1.5em;margin-bottom:.3em}
.synthetic{background:#fff3cd;border:2px solid #d39e00;color:#6b4e00;padding:.8em 1em;
font-weight:bold;margin:1em 0;border-radius:4px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;font-size:.9em}
dl.meta dt{color:#555}dl.meta dd{margin:0;font-family:monospace}
table{border-collapse:collapse;width:100%;margin-top:1em;font-size:.92em}
th,td{border-bottom:1px solid #ddd;padding:.45em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f7}
.status{font-weight:bold;padding:.1em .5em;border-radius:3px;white-space:nowrap}
.s-ok{background:#d4edda;color:#155724}.s-failed{background:#f8d7da;color:#721c24}
.s-skipped{background:#e2e3e5;color:#383d41}.s-not-run{background:#e2e3e5;color:#383d41}
.reason{color:#555;font-size:.9em}.nbname{color:#777;font-family:monospace;font-size:.85em}
ul.hl{margin:0;padding-left:1.1em}td.num,td.links,th{white-space:nowrap}td.num{text-align:right}
footer{margin-top:2em;color:#666;font-size:.85em}
@page{size:A4 portrait;margin:12mm;@bottom-center{content:counter(page) " / " counter(pages);font-size:8pt;color:#555}}
@media print{body{margin:0;max-width:none;font-size:9pt}tr{break-inside:avoid}}
"""


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) >= 1):
        return f"{int(x):,}"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1e5 else f"{x:,.0f}"
    return str(x)


def headline_lines(
    payload: dict[str, Any] | None, limit: int = 4, language: str | None = None
) -> list[str]:
    """Format a notebook's saved headlines as short lines ``evaluation: estimate [lo, hi], p``.

    A notebook that saves no estimate rows (scorecard, allocation lab, summary) may save
    ``extra={"summary": [...]}``: those lines are shown instead.

    Parameters
    ----------
    payload : dict or None
        What :func:`evalkit.report.save_headlines` wrote for the notebook.
    limit : int
        At most this many lines.
    language : {"zh", "en"}, optional
        Name evaluations by their label in this language (``pilot_zone`` -> 试验区); without
        it, as saved.

    Returns
    -------
    list of str
        Plain-text lines (escaped later).
    """
    if not payload:
        return []
    lines = []
    for rec in payload.get("headlines", [])[:limit]:
        names = [_evaluation_label(rec["evaluation"], language) if rec.get("evaluation") else None,
                 rec.get("estimator")]
        label = " · ".join(str(n) for n in names if n)
        text = _fmt(rec.get("estimate"))
        if rec.get("conf_low") is not None and rec.get("conf_high") is not None:
            text += f" [{_fmt(rec['conf_low'])}, {_fmt(rec['conf_high'])}]"
        p = rec.get("p_value")
        if isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p):
            text += ", p < 0.001" if p < 0.001 else f", p = {p:.3f}".rstrip("0").rstrip(".")
        if not text.strip() and rec.get("note"):
            text = str(rec["note"])
        colon = t("label_colon", language) if language else ": "
        lines.append(f"{label}{colon}{text}" if label else text)
    if not lines:
        summary = (payload.get("extra") or {}).get("summary") or []
        lines = [str(x) for x in summary[:limit]]
    return lines


def _evaluation_label(key: Any, language: str | None) -> str:
    """An evaluation key in the pack's language where the label dictionary holds it."""
    if language is None:
        return str(key)
    return label_or_name(str(key), language)


def verdict_lines(headlines: dict[str, dict[str, Any]], language: str) -> dict[str, list[str]]:
    """For each evaluation page that saved estimates: its verdict with the credibility rating, and
    the finding in the indicator's own terms, worded as on the page and the acceptance summary.

    Parameters
    ----------
    headlines : dict
        ``{notebook: payload}`` from :func:`evalkit.report.load_headlines`.
    language : {"zh", "en"}

    Returns
    -------
    dict
        ``{notebook: [verdict line, finding]}``; pages without estimate records are left out.
    """
    from ..report.summary import acceptance_table

    if not any((p or {}).get("headlines") for p in headlines.values()):
        return {}
    table = acceptance_table(headlines, language)
    return {row["notebook"]: [t("index_verdict_line", language).format(verdict=row["verdict"],
                                                                        credibility=row["credibility"]),
                              row["sentence"]]
            for row in table.to_dict("records") if row["verdict_kind"] != "no_result"}


def _load_headlines(pack: Path) -> dict[str, dict[str, Any]]:
    from ..report.headlines import load_headlines

    return load_headlines(pack)


def _attachments(pack: Path, language: str) -> str:
    """Links to the files the allocation notebook wrote into ``allocation/`` (empty when none)."""
    folder = pack / "allocation"
    if not folder.is_dir():
        return ""
    items = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        key = f"attachment_{path.suffix.lower().lstrip('.')}"
        kind = t(key if key in LABELS else "attachment_other", language)
        if t("attachment_method_note", "zh") in path.name:  # the bureau names its 测算说明 files so
            kind = t("attachment_method_note", language)
        items.append(f'<li><a href="allocation/{html.escape(path.name)}">{html.escape(path.name)}</a> · {kind}</li>')
    if not items:
        return ""
    return f'<h2>{html.escape(t("index_attachments", language))}</h2><ul class="attachments">{"".join(items)}</ul>'


def write_index(pack: Path, runs: list, meta: dict[str, Any]) -> Path:
    """Write ``index.html`` of a pack.

    Parameters
    ----------
    pack : Path
        The pack folder being built (holds the HTML pages and ``results/``).
    runs : list of NotebookRun
        Outcome of every notebook.
    meta : dict
        ``year, language, data_dir, synthetic, evalkit_version, git, finished_at, seconds``.

    Returns
    -------
    Path
        The page written.
    """
    lang = meta["language"] if meta["language"] in TEXT else "en"
    tx = TEXT[lang]
    esc = html.escape
    headlines = _load_headlines(pack)
    verdicts = verdict_lines(headlines, lang)
    git = meta.get("git")
    commit = tx["none"]
    if git:
        commit = git["commit"][:12] + (f" {tx['uncommitted']}" if git.get("dirty") else "")
    rows = []
    for run in runs:
        payload = headlines.get(run.name)
        title = (payload or {}).get("title") or run.title or run.name
        status_cls = "s-" + run.status.replace(" ", "-")
        status = f'<span class="status {status_cls}">{esc(tx.get(run.status.replace(" ", "_"), run.status))}</span>'
        if run.reason and run.status != "ok":
            status += f'<div class="reason">{esc(run.reason)}</div>'
        hl = verdicts.get(run.name) or headline_lines(payload, language=lang)
        hl_html = (
            '<ul class="hl">' + "".join(f"<li>{esc(h)}</li>" for h in hl) + "</ul>"
            if hl
            else tx["none"]
        )
        links = []
        for suffix, label in ((".html", "report"), (".code.html", "code")):
            if (pack / f"{run.name}{suffix}").exists():
                links.append(f'<a href="{esc(run.name + suffix)}">{esc(tx[label])}</a>')
        if (pack / "notebooks" / f"{run.name}.ipynb").exists():
            links.append(f'<a href="notebooks/{esc(run.name)}.ipynb">{tx["ipynb"]}</a>')
        rows.append(
            "<tr>"
            f'<td>{esc(str(title))}<div class="nbname">{esc(run.name)}</div></td>'
            f"<td>{status}</td>"
            f'<td class="num">{run.seconds:.1f} s</td>'
            f"<td>{hl_html}</td>"
            f'<td class="links">{" · ".join(links) or tx["none"]}</td>'
            "</tr>"
        )
    banner = f'<div class="synthetic" role="alert">{esc(tx["synthetic"])}</div>'
    page = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(tx["title"])} {meta["year"]}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{esc(tx["title"])} · {meta["year"]}</h1>
{banner if meta.get("synthetic") else ""}
<dl class="meta">
<dt>{tx["year"]}</dt><dd>{meta["year"]}</dd>
<dt>{tx["data"]}</dt><dd>{esc(Path(str(meta["data_dir"])).name)}</dd>
<dt>{tx["version"]}</dt><dd>{esc(str(meta.get("evalkit_version")))}</dd>
<dt>{tx["commit"]}</dt><dd>{esc(commit)}</dd>
<dt>{tx["generated"]}</dt><dd>{esc(str(meta.get("finished_at")))}</dd>
<dt>{tx["runtime"]}</dt><dd>{meta.get("seconds", 0):.1f} s</dd>
</dl>
<table>
<thead><tr><th>{tx["col_nb"]}</th><th>{tx["col_status"]}</th><th>{tx["col_time"]}</th>
<th>{tx["col_headlines"]}</th><th>{tx["col_links"]}</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{_attachments(pack, lang)}
<footer>{esc(tx["verify"])}</footer>
</body>
</html>
"""
    path = pack / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
