"""The formula spec (分配方案): schema, YAML loading and validation.

A spec is one YAML file per fund and year that a finance officer edits (format in
``docs/allocation.md`` §1). :func:`load_spec` reads it, checks every field against the schema and
raises one :class:`~evalkit._shared.exceptions.SpecError` that lists **all** problems, each naming
the file, the line, the field, what was found and what is allowed, in Chinese and English.

Numbers that matter for exactness (weights, shares, coefficients) are kept as
:class:`fractions.Fraction` built from the text the user wrote, so ``0.1`` is exactly 1/10.

The spec's parts live in :mod:`._spec_model`, :class:`AllocationSpec` and the validation of one
document in :mod:`._allocation_spec`, the validation of a spec with pools in :mod:`.pools`; this
module is the front door that reads a file and sends it to the right one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._shared.exceptions import SpecError
from ._allocation_spec import AllocationSpec, ProvisionalSpecError, from_document
from ._inputs import ID_RE, MAX_TOTAL_WAN, MIN_UNIT_WAN, load_document, plain_tree
from ._spec_model import (
    AWARD_KINDS,
    DIRECTIONS,
    MISSING_RULES,
    ROUNDING_ALIASES,
    ROUNDING_METHODS,
    STAGES,
    TIE_BREAKS,
    TRANSFORMS,
    AwardSpec,
    FactorSpec,
    GroupSpec,
    PerformanceSpec,
)
from ._yaml import LinedDocument, load_with_lines
from .pools import PooledSpec, pooled_from_document

__all__ = [
    "AWARD_KINDS", "DIRECTIONS", "MAX_TOTAL_WAN", "MIN_UNIT_WAN", "MISSING_RULES",
    "ROUNDING_METHODS", "STAGES", "TIE_BREAKS", "TRANSFORMS", "AllocationSpec", "AwardSpec",
    "FactorSpec", "GroupSpec", "PerformanceSpec", "load_spec", "load_spec_collecting",
    "redraw_blockers", "require_redrawable", "spec_from_dict", "spec_schema",
]


def _document_spec(doc: LinedDocument, lenient: bool = False) -> AllocationSpec | PooledSpec:
    """Validate a parsed document: a spec with ``pools`` by :mod:`.pools`, any other by
    :func:`~evalkit.allocation._allocation_spec.from_document`."""
    if isinstance(doc.data, Mapping) and "pools" in doc.data:
        return pooled_from_document(doc)
    return from_document(doc, lenient=lenient)


def load_spec(path: str | Path | Mapping[str, Any]) -> AllocationSpec:
    """Read and validate a formula spec (分配方案) YAML file.

    Parameters
    ----------
    path : str, Path or mapping
        A YAML file, a YAML string containing a newline, or an already parsed mapping.

    Returns
    -------
    AllocationSpec

    Raises
    ------
    SpecError
        Listing every problem at once, each with file, line and field, what was found and what
        is allowed (Chinese and English).

    Examples
    --------
    >>> from evalkit.allocation import load_spec
    >>> spec = load_spec("data_raw/demo/allocation/spec.yaml")
    >>> spec.year, len(spec.factors) > 0
    (2025, True)
    """
    if isinstance(path, Mapping):
        return spec_from_dict(path)
    text_in = str(path)
    if isinstance(path, str) and "\n" in path:
        return _document_spec(load_with_lines(path, "<spec text>"))
    p = Path(text_in)
    if not p.is_file():
        raise SpecError(
            [f"找不到规则文件 / spec file not found: {p}. 请检查路径 / check the path."],
            header="规则文件无法读取 / The spec file cannot be read",
        )
    return _document_spec(load_document(p))


def spec_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> AllocationSpec:
    """Validate an already parsed spec mapping (no line numbers available).

    Parameters
    ----------
    data : mapping
        Same structure as the YAML file.
    source : str
        Name used in messages.

    Returns
    -------
    AllocationSpec

    Examples
    --------
    >>> from evalkit.allocation import spec_from_dict
    >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 100,
    ...                      "factors": [{"id": "a", "weight": 100}]})
    >>> sp.fund, sp.year
    ('f', 2025)
    """
    doc = LinedDocument(data=None, source=source)
    doc.data = plain_tree(data, (), doc)
    return _document_spec(doc)


def redraw_blockers(spec: Any) -> list[str]:
    """Features of ``spec`` that tools redrawing weights and totals cannot handle.

    The recentred formula instrument (:mod:`evalkit.iv`) recomputes a spec with other factor
    weights and totals. First-level groups are folded into effective weights
    (:meth:`AllocationSpec.flat_data`) and new transforms are recomputed as they are; a spec
    with separate pools has no single weight vector or total, so it is refused.

    Returns
    -------
    list of str
        One bilingual line per unsupported feature (empty when the spec can be redrawn).
    """
    out = []
    if not isinstance(spec, AllocationSpec):
        out.append("资金池 pools（各池有各自的总额和因素，没有统一的权重向量）/ separate pools "
                   "(each pool has its own total and factors, so there is no single weight vector)")
    return out


def require_redrawable(spec: Any, what: str) -> None:
    """Raise :class:`SpecError` naming every feature of ``spec`` that ``what`` cannot redraw.

    Examples
    --------
    >>> sp = spec_from_dict({"fund": "f", "year": 2025, "total_wan": 10,
    ...                      "factors": [{"id": "a", "weight": 100}]})
    >>> require_redrawable(sp, "the recentred instrument")  # nothing to refuse
    """
    blockers = redraw_blockers(spec)
    if blockers:
        raise SpecError(blockers, header=(
            f"{what} 不支持方案 {getattr(spec, 'source', '')} 使用的以下功能 / {what} does not "
            "support these features of the spec; use a spec without them for the instrument"))


def load_spec_collecting(path: Any) -> tuple[AllocationSpec | None, list[str]]:
    """Load a spec and return ``(spec_or_provisional, problems)`` instead of raising.

    When the spec has problems but its structure is usable (e.g. only the weights do not sum to
    100), a provisional spec is returned with the problems so the factor data can be checked
    against it and every problem reported at once. Callers must not allocate with it.
    """
    if isinstance(path, (AllocationSpec, PooledSpec)):
        return path, []
    try:
        if isinstance(path, Mapping):
            doc = LinedDocument(data=None, source="<dict>")
            doc.data = plain_tree(path, (), doc)
        elif isinstance(path, str) and "\n" in path:
            doc = load_with_lines(path, "<spec text>")
        else:
            p = Path(str(path))
            if not p.is_file():
                return None, [f"找不到规则文件 / spec file not found: {p}. 请检查路径 / check the path."]
            doc = load_document(p)
        return _document_spec(doc, lenient=True), []
    except ProvisionalSpecError as exc:
        return exc.spec, list(exc.problems)
    except SpecError as exc:
        return None, list(exc.problems)


def spec_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec file, for editors and external tooling.

    :func:`load_spec` is the authority (it also checks cross-field rules such as weights summing
    to 100 and gives bilingual messages with line numbers); this schema describes the same
    fields and allowed values so an editor can offer completion and early warnings.

    Returns
    -------
    dict

    Examples
    --------
    >>> from evalkit.allocation import spec_schema
    >>> schema = spec_schema()
    >>> schema["type"], "factors" in schema["properties"]
    ('object', True)
    """
    num = {"type": "number"}
    per_unit = {"oneOf": [{"type": "number", "minimum": 0},
                          {"type": "object", "additionalProperties": {"type": "number",
                                                                       "minimum": 0}}]}
    factor = {
        "type": "object", "additionalProperties": False, "required": ["id", "weight"],
        "properties": {
            "id": {"type": "string", "pattern": ID_RE.pattern}, "name": {"type": "string"},
            "weight": {"type": "number", "minimum": 0, "maximum": 100},
            "direction": {"enum": list(DIRECTIONS) + ["positive", "negative", "正向", "逆向"]},
            "transform": {"enum": list(TRANSFORMS)},
            "unit_of_measure": {"type": "string"},
            "convert": {"type": "object", "additionalProperties": {"type": "number",
                                                                   "exclusiveMinimum": 0}},
            "shift": {"type": "number", "minimum": 0},
            "population_factor": {"type": "string"}, "source": {"type": "string"},
            "group": {"type": "string", "pattern": ID_RE.pattern},
            "bounds": {"type": "array", "items": {"type": "number", "minimum": 0},
                       "minItems": 2, "maxItems": 2},
            "score_base": {"type": "number"},
            "score_scale": {"type": "number", "exclusiveMinimum": 0},
        },
    }
    group = {"type": "object", "additionalProperties": False, "required": ["id", "weight"],
             "properties": {"id": {"type": "string", "pattern": ID_RE.pattern},
                            "name": {"type": "string"},
                            "weight": {"type": "number", "minimum": 0, "maximum": 100}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "evalkit allocation spec (因素法分配方案)",
        "type": "object", "additionalProperties": False,
        "required": ["fund", "year"],  # total_wan and factors: top level or per pool
        "properties": {
            "fund": {"type": "string"}, "name": {"type": "string"},
            "year": {"type": "integer", "minimum": 1900, "maximum": 2200},
            "data_year": {"type": "integer", "minimum": 1900, "maximum": 2200},
            "total_wan": {"type": "number", "minimum": 0, "multipleOf": 0.01},
            "reserve_wan": {"type": "number", "minimum": 0, "multipleOf": 0.01},
            "base": {"type": "object", "additionalProperties": False, "properties": {
                "share_of_last_year": {"type": "number", "minimum": 0, "maximum": 1}}},
            "groups": {"type": "array", "minItems": 1, "items": group},
            "awards": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "factor", "threshold", "per_point_wan"],
                "properties": {"id": {"type": "string", "pattern": ID_RE.pattern},
                               "name": {"type": "string"},
                               "factor": {"type": "string", "pattern": ID_RE.pattern},
                               "kind": {"enum": list(AWARD_KINDS) + ["奖励", "扣减"]},
                               "threshold": num, "per_point_wan": {"type": "number", "minimum": 0},
                               "point": {"type": "number", "exclusiveMinimum": 0},
                               "min_wan": {"type": "number", "minimum": 0},
                               "cap_wan": {"type": "number", "minimum": 0}}}},
            "pools": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["id", "total_wan", "units"],
                "properties": {"id": {"type": "string", "pattern": ID_RE.pattern},
                               "name": {"type": "string"},
                               "total_wan": {"type": "number", "minimum": 0},
                               "reserve_wan": {"type": "number", "minimum": 0}}}},
            "factors": {"type": "array", "minItems": 1, "items": factor},
            "performance": {"type": "object", "additionalProperties": False,
                            "required": ["map"], "properties": {
                                "source_factor": {"type": "string"},
                                "grades": {"type": "object",
                                           "additionalProperties": {"type": "string"}},
                                "map": {"type": "object", "additionalProperties": num},
                                "default": {"type": "string"}}},
            "constraints": {"type": "object", "additionalProperties": False, "properties": {
                "floor_wan": per_unit, "cap_wan": per_unit,
                "cap_share": {"type": "number", "minimum": 0, "maximum": 1},
                "hold_harmless": {"type": "number", "minimum": 0, "maximum": 1}}},
            "missing": {"type": "object",
                        "additionalProperties": {"enum": list(MISSING_RULES)}},
            "rounding": {"type": "object", "additionalProperties": False, "properties": {
                "unit_wan": {"type": "number", "minimum": 0.01},
                "method": {"enum": list(ROUNDING_METHODS) + list(ROUNDING_ALIASES)},
                "tie_break": {"enum": list(TIE_BREAKS)}}},
            "units": {"oneOf": [
                {"type": "array", "items": {"type": ["string", "integer"]}},
                {"type": "object", "additionalProperties": False, "properties": {
                    "include": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "exclude": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "names": {"type": "object", "additionalProperties": {"type": "string"}}}}]},
            "stage": {"enum": list(STAGES)},
            "notes": {"oneOf": [{"type": "string"},
                                {"type": "array", "items": {"type": "string"}}]},
        },
    }
