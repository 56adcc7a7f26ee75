"""Checked reading of spec fields: numbers, codes, ids, money, with bilingual problem lists.

Every parser of a spec document (one spec, a spec with pools, a scoring spec) records problems in
one :class:`Problems` list (file, line, field, what was found, what is allowed; Chinese and English)
and keeps going, so a user sees every problem at once. Numbers become exact
:class:`fractions.Fraction` values built from the text the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..data.reader import read_text
from ._yaml import LinedDocument, load_with_lines

ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def exact_text(x: Fraction) -> Any:
    """An int, or the exact decimal text of a Fraction, or ``"p/q"`` when it has no decimal form."""
    if x.denominator == 1:
        return int(x)
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    digits = 0
    while (x * 10 ** digits).denominator != 1:
        digits += 1
    n = x.numerator * 10 ** digits // x.denominator
    sign = "-" if n < 0 else ""
    n = abs(n)
    return f"{sign}{n // 10 ** digits}.{n % 10 ** digits:0{digits}d}"


#: Smallest money step: 0.01 万元 (100 元).
MIN_UNIT_WAN = Fraction(1, 100)


def money_value(x: Fraction) -> int | Fraction:
    """An amount in 万元: ``int`` when whole (the usual case), else the exact Fraction."""
    return int(x) if x.denominator == 1 else x


def check_cents(pr: Any, path: tuple, v: Fraction | None) -> Fraction | None:
    """Check an amount has at most two decimals (multiples of 0.01 万元 = 100 元)."""
    if v is not None and (v / MIN_UNIT_WAN).denominator != 1:
        pr.add(path, f"金额 {float(v)} 最多保留两位小数（0.01 万元 = 100 元）",
               f"amount {float(v)} has more than two decimals; 万元 amounts go down to 0.01 "
               "(100 元)")
        return None
    return v


def plain_number(x: Any) -> Any:
    """A Fraction as an ``int`` when whole, else a float; anything else unchanged."""
    if isinstance(x, Fraction):
        return float(x) if x.denominator != 1 else int(x)
    return x


#: Largest accepted fund total (万元, i.e. 10 trillion yuan): a larger figure is a unit slip (元 as 万元).
MAX_TOTAL_WAN = Fraction(10**9)
TOO_BIG = "（金额以万元计，是否误按元填写？/ amounts are in 万元: was it written in 元?）"


def load_document(p: Path) -> LinedDocument:
    """Parse a spec file read by the shared reader (UTF-8, BOM, GB18030/GBK); the encoding is noted."""
    enc_notes: list[str] = []
    doc = load_with_lines(read_text(p, notes=enc_notes), p.name)
    doc.notes.extend(enc_notes)
    return doc


def plain_tree(obj: Any, path: tuple, doc: LinedDocument) -> Any:
    """Copy a mapping tree with text keys (numeric keys become text, with a note)."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if isinstance(k, (int, float)) and not isinstance(k, bool):
                doc.notes.append(f"{doc.where(*path)}: 键 {k} 为数字，已按文本 \"{k}\" 处理 / key {k} is a "
                                 f"number; kept as the text \"{k}\"")
            key = k if isinstance(k, str) else str(k)
            out[key] = plain_tree(v, path + (key,), doc)
        return out
    if isinstance(obj, (list, tuple)):
        return [plain_tree(v, path + (i,), doc) for i, v in enumerate(obj)]
    if isinstance(obj, Fraction):
        return float(obj) if obj.denominator != 1 else int(obj)
    if hasattr(obj, "item") and not isinstance(obj, str):
        return obj.item()
    return obj


class Problems:
    """The problems found in one document; ``add(path, zh, en)`` names the field and its line."""

    def __init__(self, doc: LinedDocument):
        self.doc = doc
        self.items: list[str] = []

    def add(self, path: tuple, zh: str, en: str) -> None:
        self.items.append(f"{self.doc.where(*path)}: {zh} / {en}")


def parse_number(pr: Problems, path: tuple, value: Any, *, lo: Fraction | None = None,
         hi: Fraction | None = None, integer: bool = False, what: str = "") -> Fraction | None:
    """Convert to Fraction, checking type and range; record a problem and return None if bad."""
    allowed = ("整数 / an integer" if integer else "数字 / a number")
    rng = ""
    if lo is not None or hi is not None:
        rng = f" 范围/range [{'' if lo is None else lo}, {'' if hi is None else hi}]"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        pr.add(path, f"应为{allowed}{rng}，实际为 {value!r}", f"expected {allowed}{rng}, got {value!r}")
        return None
    try:
        raw = pr.doc.raw.get(path)
        v = Fraction(raw.replace("_", "")) if raw is not None and isinstance(value, (int, float)) \
            and re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", raw.replace("_", "")) \
            else Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        pr.add(path, f"应为{allowed}{rng}，实际为 {value!r}", f"expected {allowed}{rng}, got {value!r}")
        return None
    if integer and v.denominator != 1:
        pr.add(path, f"应为整数（万元），实际为 {value!r}",
               f"expected an integer (万元), got {value!r}; round it in the spec")
        return None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        pr.add(path, f"取值 {value!r} 超出范围{rng}{what}", f"value {value!r} is outside{rng}{what}")
        return None
    return v


def parse_code(pr: Problems, path: tuple, value: Any) -> str | None:
    """A unit code as text; numbers that YAML parsed are turned back into their typed text."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        raw = pr.doc.raw.get(path, str(value))
        pr.doc.notes.append(
            f"{pr.doc.where(*path)}: 单位代码 {raw} 被 YAML 读作数字，已按文本 \"{raw}\" 处理（建议加引号）"
            f" / unit code {raw} was read by YAML as a number; kept as the text \"{raw}\" "
            "(quote it to be explicit)"
        )
        return raw
    pr.add(path, f"单位代码应为文本，如 \"370702\" 或 \"WF-Z-GXQ\"，实际为 {value!r}",
           f"a unit code must be text such as \"370702\" or \"WF-Z-GXQ\", got {value!r}")
    return None


def check_unknown_keys(pr: Problems, path: tuple, obj: Mapping, allowed: Any) -> None:
    """Record every key of ``obj`` that is not in ``allowed``."""
    for k in obj:
        if k not in allowed:
            pr.add(path + (k,), f"未知字段 `{k}`；允许的字段：{', '.join(map(str, allowed))}",
                   f"unknown field `{k}`; allowed: {', '.join(map(str, allowed))}")


def check_unique_id(pr: Problems, path: tuple, value: Any, seen: set[str], *, kind_zh: str,
               kind_en: str, fallback: str) -> str:
    """The ``id`` of one item of a list (award, pool): an identifier not used before in ``seen``.

    A bad or repeated id is reported and ``fallback`` stands in, so later checks still run.
    """
    if not isinstance(value, str) or not ID_RE.match(value) or value in seen:
        pr.add(path + ("id",), f"{kind_zh}代码应为不重复的标识符（字母开头），实际为 {value!r}",
               f"{kind_en} id must be a unique identifier starting with a letter, got {value!r}")
        value = fallback
    seen.add(value)
    return value


def parse_per_unit(pr: Problems, path: tuple, value: Any, *, what: str
              ) -> tuple[Fraction | None, dict[str, Fraction]]:
    """``200`` or ``{default: 200, "370772": 300}`` → (default, {code: value})."""
    if value is None:
        return None, {}
    if not isinstance(value, Mapping):
        return parse_number(pr, path, value, lo=Fraction(0), what=what), {}
    default = None
    units: dict[str, Fraction] = {}
    for k, v in value.items():
        if k == "default":
            default = parse_number(pr, path + (k,), v, lo=Fraction(0), what=what)
            continue
        code = k if isinstance(k, str) else str(k)
        n = parse_number(pr, path + (k,), v, lo=Fraction(0), what=what)
        if n is not None:
            units[code] = n
    return default, units


def mapping_items(pr: Problems, key: str, items: list, allowed: Any, not_mapping_zh: str,
                  not_mapping_en: str):
    """Yield ``(i, path, item)`` for every item of the list ``key``, checking its keys.

    An item that is not a mapping is reported with the given words and yielded as ``None`` (the
    caller skips it); a mapping's unknown keys are reported (:func:`check_unknown_keys`).
    """
    for i, item in enumerate(items):
        path = (key, i)
        if not isinstance(item, Mapping):
            pr.add(path, not_mapping_zh, not_mapping_en)
            yield i, path, None
            continue
        check_unknown_keys(pr, path, item, allowed)
        yield i, path, item


def check_identifier(pr: Problems, path: tuple, value: Any, kind_zh: str, kind_en: str) -> bool:
    """Whether ``value`` is an identifier (a letter first); if not, record it at ``path + ("id",)``."""
    if isinstance(value, str) and ID_RE.match(value):
        return True
    pr.add(path + ("id",), f"{kind_zh}代码应为字母开头的标识符，实际为 {value!r}",
           f"{kind_en} id must be an identifier starting with a letter, got {value!r}")
    return False
