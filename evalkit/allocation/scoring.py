"""亩产效益 (per-mu output) evaluation of firms with the allocation's weighted-factor engine.

The same spec vocabulary (factors with weights in %, direction, transform, missing rules) scores
firms on indicators such as 亩均税收, 亩均营业收入, 单位能耗增加值 and R&D 强度. The composite share
``c_i = Σ_k w_k z_ik`` is turned into an index ``score_i = 100 · n · c_i`` (the average firm scores
100), and firms are classed A/B/C/D either by score thresholds or by quantile shares (class sizes
by largest remainder, ties by firm id). A scoring spec looks like::

    evaluation: 亩产效益综合评价
    year: 2025                      # data year defaults to year - 1, as for allocations
    factors:
      - {id: tax_mu, name: 亩均税收, weight: 40, direction: +, transform: minmax_shift}
      - {id: rev_mu, name: 亩均营业收入, weight: 20, direction: +, transform: minmax_shift}
      - {id: va_energy, name: 单位能耗增加值, weight: 20, direction: +, transform: minmax_shift}
      - {id: rd, name: R&D经费投入强度, weight: 20, direction: +, transform: minmax_shift}
    classes: {method: quantile, shares: {A: 0.2, B: 0.5, C: 0.2, D: 0.1}}
    # or     {method: threshold, thresholds: {A: 120, B: 100, C: 80}}   (else D)
    missing: {default: error, rd: zero}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from .._shared.exceptions import SpecError
from ..data.reader import read_raw_table, read_text
from ._allocation_spec import AllocationSpec, parse_factors
from ._format import evalkit_version
from ._inputs import Problems, check_unknown_keys, parse_number
from ._prepare import prepare
from ._yaml import LinedDocument, load_with_lines
from .factors import FactorTable, read_factors
from .formula import transform
from .rounding import largest_remainder

CLASSES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class ScoringSpec:
    """A validated 亩产效益 scoring spec (see the module docstring for the YAML)."""

    evaluation: str
    year: int
    data_year: int
    method: str
    shares: dict[str, Fraction]
    thresholds: dict[str, Fraction]
    engine_spec: AllocationSpec


def load_scoring_spec(path: str | Path | Mapping[str, Any]) -> ScoringSpec:
    """Read and validate a 亩产效益 scoring spec.

    Parameters
    ----------
    path : str, Path or mapping
        YAML file, YAML text with a newline, or a parsed mapping.

    Returns
    -------
    ScoringSpec

    Raises
    ------
    SpecError
        Every problem at once, with file, line and field (Chinese and English).

    Examples
    --------
    >>> from evalkit.allocation import load_scoring_spec
    >>> spec = load_scoring_spec({"evaluation": "亩产效益", "year": 2025,
    ...     "factors": [{"id": "tax_mu", "name": "亩均税收", "weight": 60, "direction": "+", "transform": "share"},
    ...                 {"id": "rev_mu", "name": "亩均营收", "weight": 40, "direction": "+", "transform": "share"}],
    ...     "classes": {"method": "quantile", "shares": {"A": 0.5, "B": 0.5}}})
    >>> spec.method, [f.id for f in spec.engine_spec.factors]
    ('quantile', ['tax_mu', 'rev_mu'])
    """
    if isinstance(path, Mapping):
        import json
        doc = load_with_lines(json.dumps(path, ensure_ascii=False, default=str), "<dict>")
        doc.lines = {}
    elif isinstance(path, str) and "\n" in path:
        doc = load_with_lines(path, "<spec text>")
    else:
        p = Path(path)
        if not p.is_file():
            raise SpecError([f"找不到评价方案 / scoring spec not found: {p}"])
        doc = load_with_lines(read_text(p), p.name)
    return _scoring_from_document(doc)


def _scoring_from_document(doc: LinedDocument) -> ScoringSpec:
    data = doc.data if isinstance(doc.data, Mapping) else {}
    pr = Problems(doc)
    check_unknown_keys(pr, (), data, ["evaluation", "year", "data_year", "groups", "factors", "classes",
                                 "missing", "notes"])
    for req in ("evaluation", "year", "factors", "classes"):
        if req not in data:
            pr.add((), f"缺少必填字段 `{req}`", f"required field `{req}` is missing")
    y = parse_number(pr, ("year",), data.get("year", 2000), lo=Fraction(1900), hi=Fraction(2200),
             integer=True)
    year = int(y) if y is not None else 0
    dy = year - 1
    if "data_year" in data:
        d = parse_number(pr, ("data_year",), data["data_year"], integer=True)
        dy = int(d) if d is not None else dy
    factors, _, _ = parse_factors(pr, data)
    cl = data.get("classes") or {}
    method = cl.get("method", "quantile") if isinstance(cl, Mapping) else None
    shares: dict[str, Fraction] = {}
    thresholds: dict[str, Fraction] = {}
    if method == "quantile":
        sh = cl.get("shares") or {}
        for k in CLASSES:
            v = parse_number(pr, ("classes", "shares", k), sh.get(k, 0), lo=Fraction(0), hi=Fraction(1))
            shares[k] = v if v is not None else Fraction(0)
        if sum(shares.values()) != 1:
            pr.add(("classes", "shares"), f"A/B/C/D 比例之和为 {float(sum(shares.values()))}，应为 1",
                   f"class shares sum to {float(sum(shares.values()))}; they must sum to 1")
    elif method == "threshold":
        th = cl.get("thresholds") or {}
        prev = None
        for k in CLASSES[:3]:
            if k not in th:
                pr.add(("classes", "thresholds"), f"缺少 {k} 类门槛", f"threshold for class {k} missing")
                continue
            v = parse_number(pr, ("classes", "thresholds", k), th[k], lo=Fraction(0))
            if v is not None:
                if prev is not None and v >= prev:
                    pr.add(("classes", "thresholds", k), "门槛应按 A > B > C 递减",
                           "thresholds must decrease A > B > C")
                thresholds[k] = v
                prev = v
    else:
        pr.add(("classes", "method"), f"分类方法 {method!r} 无效；允许：quantile, threshold",
               f"invalid classes.method {method!r}; allowed: quantile, threshold")
    if pr.items:
        raise SpecError(pr.items, header=f"评价方案 {doc.source} 有 {len(pr.items)} 个问题 / The scoring "
                        f"spec {doc.source} has {len(pr.items)} problem(s)")
    eng = AllocationSpec(
        fund=str(data["evaluation"]), name=str(data["evaluation"]), year=year, data_year=dy,
        total_wan=0, reserve_wan=0, base_share=Fraction(0), factors=tuple(factors),
        performance=None, floor_default=None, floor_units={}, cap_default=None, cap_units={},
        cap_share=None, hold_harmless=Fraction(0), rounding_unit=1,
        rounding_method="largest_remainder", tie_break="code", include=(), exclude=(),
        unit_names={}, notes=tuple(doc.notes), text_notes=(), source=doc.source, document=doc)
    return ScoringSpec(evaluation=str(data["evaluation"]), year=year, data_year=dy,
                       method=method, shares=shares, thresholds=thresholds, engine_spec=eng)


@dataclass
class ScoringResult:
    """Firm scores and classes.

    Attributes
    ----------
    table : DataFrame
        One row per firm: ``firm_id, name, <factor>_value/_share/_contrib, composite, score,
        rank, class``.
    audit : dict
        Log of missing-data rules, notes, inputs hash and evalkit version.
    counts : dict
        Firms per class.
    """

    table: pd.DataFrame
    audit: dict[str, Any]
    counts: dict[str, int]


def score_firms(data: pd.DataFrame | str | Path | FactorTable, spec: ScoringSpec | str | Path, *,
                id_col: str = "firm_id", name_col: str | None = "name") -> ScoringResult:
    """Score firms (亩产效益) and assign classes A/B/C/D.

    Parameters
    ----------
    data : DataFrame, path or FactorTable
        Wide (one row per firm, one column per factor id, optional ``year``) or long
        (``year, unit_code, factor_id, value, ...``) firm data.
    spec : ScoringSpec or path
    id_col : str
        Firm id column of a wide table (treated as the unit code).
    name_col : str, optional
        Firm name column of a wide table.

    Returns
    -------
    ScoringResult

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.allocation import load_scoring_spec, score_firms
    >>> spec = load_scoring_spec({"evaluation": "亩产效益", "year": 2025,
    ...     "factors": [{"id": "tax_mu", "name": "亩均税收", "weight": 60, "direction": "+", "transform": "share"},
    ...                 {"id": "rev_mu", "name": "亩均营收", "weight": 40, "direction": "+", "transform": "share"}],
    ...     "classes": {"method": "quantile", "shares": {"A": 0.5, "B": 0.5}}})
    >>> firms = pd.DataFrame({"firm_id": ["F1", "F2", "F3", "F4"], "tax_mu": [10, 20, 30, 40],
    ...                       "rev_mu": [100, 120, 90, 200]})
    >>> r = score_firms(firms, spec, id_col="firm_id")
    >>> print(r.table[["firm_id", "rank", "class"]].to_string(index=False))
    firm_id  rank class
         F4     1     A
         F3     2     A
         F2     3     B
         F1     4     B
    """
    sp = spec if isinstance(spec, ScoringSpec) else load_scoring_spec(spec)
    if isinstance(data, FactorTable):
        table = data
    else:
        if isinstance(data, (str, Path)):
            p = Path(data)
            data = read_raw_table(p, is_known={id_col, name_col or id_col, "year", "factor_id"})
        frame = data.rename(columns={id_col: "unit_code"})
        if name_col and name_col in frame.columns:
            frame = frame.rename(columns={name_col: "name_zh"})
        if "factor_id" not in frame.columns and "year" not in frame.columns:
            frame = frame.assign(year=sp.data_year)
        table = read_factors(frame)
    es = sp.engine_spec
    inp = prepare(es, table, {}, recipients=sorted(set(table.data["unit_code"])))  # firms
    n = len(inp.codes)
    z = {f.id: transform(f, inp.values[f.id], inp.population.get(f.population_factor))
         for f in es.factors}
    comp = [Fraction(0)] * n
    contrib = {}
    for f in es.factors:
        contrib[f.id] = [f.weight / 100 * v for v in z[f.id]]
        comp = [a + b for a, b in zip(comp, contrib[f.id], strict=True)]
    score = [c * n * 100 for c in comp]
    order = sorted(range(n), key=lambda i: (-score[i], inp.codes[i]))
    rank = [0] * n
    for r, i in enumerate(order, start=1):
        rank[i] = r
    cls = [""] * n
    if sp.method == "quantile":
        counts = largest_remainder([sp.shares[k] * n for k in CLASSES], n, list(CLASSES)).amounts
        pos = 0
        for k, cnt in zip(CLASSES, counts, strict=True):
            for i in order[pos:pos + cnt]:
                cls[i] = k
            pos += cnt
    else:
        for i in range(n):
            cls[i] = next((k for k in CLASSES[:3] if score[i] >= sp.thresholds[k]), "D")
    rows = []
    for i, c in enumerate(inp.codes):
        row: dict[str, Any] = {"firm_id": c, "name": table.names.get(c, "")}
        for f in es.factors:
            row[f"{f.id}_value"] = float(inp.values[f.id][i])
            row[f"{f.id}_share"] = float(z[f.id][i])
            row[f"{f.id}_contrib"] = float(contrib[f.id][i])
        row.update({"composite": float(comp[i]), "score": float(score[i]), "rank": rank[i],
                    "class": cls[i]})
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("rank", kind="mergesort").reset_index(drop=True)
    h = hashlib.sha256((es.canonical() + "\n" + table.canonical_csv()).encode("utf-8"))
    audit = {"log": pd.DataFrame(inp.log, columns=["kind", "unit_code", "factor_id", "detail"]),
             "excluded": dict(inp.excluded), "notes": list(es.notes) + list(table.notes),
             "inputs_sha256": h.hexdigest(), "evalkit_version": evalkit_version(),
             "exact_scores": dict(zip(inp.codes, score, strict=True))}
    return ScoringResult(table=out, audit=audit,
                         counts={k: int((out["class"] == k).sum()) for k in CLASSES})
