"""Separate pools in one spec (分池分配): e.g. counties and development zones.

A spec with a ``pools`` list splits the fund into pools, each with its own total, reserve,
units and, where the pool says so, its own factors, groups, constraints, performance,
base, missing and rounding rules; everything a pool does not name comes from the top level::

    fund: 试验区因素法资金
    year: 2025
    total_wan: 44000                 # optional; if given it must equal the pools' totals
    factors: [...]                   # shared by the pools that do not give their own
    pools:
      - id: county
        name: 县市区
        total_wan: 30000
        reserve_wan: 500
        units: ["370702", "370703", ...]
        constraints: {floor_wan: 1000}
      - id: zone
        name: 功能区
        total_wan: 14000
        units: ["370772", "WF-Z-GXQ", ...]
        factors: [...]               # the zones' own factors

Each pool is allocated on its own by the ordinary engine (so every invariant holds per pool:
amounts are multiples of the pool's rounding unit and add up to the pool's total less its
reserve, its floors and caps hold); the results are reported together with a 小计 row per pool
and a 合计 row.

Advance and settlement (预拨与清算, ``advance: {share: 0.7}``) combine with pools: written at the
top level the share applies to every pool, and a pool may give its own; each pool is advanced
and settled on its own (:func:`evalkit.allocation.settle`), so every pool's advances add up to
its share of the pool's amount. A spec where some pools have an advance and others none is
refused (say ``advance: {share: 0}`` for a pool paid only at settlement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from .._shared.exceptions import SpecError
from ._allocation_spec import AllocationSpec, from_document
from ._format import amount_text, money_cell
from ._inputs import (
    MAX_TOTAL_WAN,
    TOO_BIG,
    Problems,
    check_unique_id,
    mapping_items,
    parse_number,
)
from ._spec_model import STAGES
from ._yaml import LinedDocument, path_text

#: Keys a pool may set; the ones after ``units`` override the top level.
POOL_KEYS = ("id", "name", "total_wan", "reserve_wan", "units", "factors", "groups",
             "constraints", "performance", "base", "missing", "rounding", "awards", "advance")
_OVERRIDES = POOL_KEYS[2:]
_SHARED = ("fund", "name", "year", "data_year", "factors", "groups", "performance", "constraints",
           "missing", "rounding", "base", "notes", "stage", "awards", "advance")
SUBTOTAL_LABEL = "小计"
TOTAL_LABEL = "合计"


@dataclass
class _PoolDocument(LinedDocument):
    """The merged data of one pool, with line numbers and field names of the original file."""

    prefix: tuple = ()
    own: frozenset = frozenset()

    def where(self, *path: Any) -> str:
        full = self.prefix + tuple(path) if path and path[0] in self.own else tuple(path)
        ln = self.line(*path)
        loc = f"{self.source}:{ln}" if ln is not None else self.source
        return f"{loc} 字段/field `{path_text(full)}`"


@dataclass(frozen=True)
class PooledSpec:
    """A spec split into pools (资金池); each pool is a full :class:`AllocationSpec`.

    Attributes
    ----------
    fund, name : str
    year, data_year : int
    pools : tuple of (str, str, AllocationSpec)
        ``(pool id, pool name, spec)`` in spec order.
    stage : str or None
    text_notes : tuple of str
    source : str
    document : LinedDocument

    Examples
    --------
    >>> from evalkit.allocation import PooledSpec, load_spec
    >>> ps = load_spec("data_raw/demo/allocation/formula_pools.yaml")
    >>> isinstance(ps, PooledSpec), [pool_id for pool_id, _, _ in ps.pools]
    (True, ['county', 'zone'])
    """

    fund: str
    name: str
    year: int
    data_year: int
    pools: tuple[tuple[str, str, AllocationSpec], ...]
    stage: str | None
    text_notes: tuple[str, ...]
    source: str
    document: LinedDocument = field(repr=False, compare=False)

    @property
    def total_wan(self) -> Fraction:
        """Sum of the pools' totals (万元)."""
        return sum((Fraction(s.total_wan) for _, _, s in self.pools), Fraction(0))

    @property
    def reserve_wan(self) -> Fraction:
        """Sum of the pools' reserves (万元)."""
        return sum((Fraction(s.reserve_wan) for _, _, s in self.pools), Fraction(0))

    @property
    def t_alloc(self) -> Fraction:
        """Amount allocated now over all pools (万元)."""
        return self.total_wan - self.reserve_wan

    @property
    def notes(self) -> tuple[str, ...]:
        """Loading notes of the file."""
        return tuple(self.document.notes)

    def canonical(self) -> str:
        """Canonical JSON of the spec data (sorted keys): the spec part of the inputs hash."""
        return json.dumps(self.document.data, sort_keys=True, ensure_ascii=False, default=str,
                          separators=(",", ":"))

    def sha256(self) -> str:
        """SHA-256 of :meth:`canonical`."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def pooled_from_document(doc: LinedDocument) -> PooledSpec:
    """Validate a spec with ``pools``: the pool list, then every pool as a full spec.

    Every problem of every pool is collected into one :class:`SpecError` (with the file's line
    numbers and the full field path, e.g. ``pools[1].factors[0].weight``).
    """
    data = doc.data
    pr = Problems(doc)
    problems: list[str] = []
    plist = data.get("pools")
    if not isinstance(plist, list) or not plist:
        pr.add(("pools",), "应为非空列表，每项如 {id: county, name: 县市区, total_wan: 30000, units: [...]}",
               "expected a non-empty list of items like "
               "{id: county, name: 县市区, total_wan: 30000, units: [...]}")
        plist = []
    if "units" in data:
        pr.add(("units",), "分池方案请在每个资金池中写 units，不要写在顶层",
               "a pooled spec names its units in each pool (pools[i].units), not at the top level")
    pools: list[tuple[str, str, AllocationSpec]] = []
    seen_ids: set[str] = set()
    owner: dict[str, str] = {}
    totals: list[tuple[str, Any]] = []
    for i, path, p in mapping_items(pr, "pools", plist, POOL_KEYS,
                                    "每个资金池应为映射 {id, name, total_wan, units, ...}",
                                    "each pool must be a mapping {id, name, total_wan, units, ...}"):
        if p is None:
            continue
        pid = check_unique_id(pr, path, p.get("id"), seen_ids, kind_zh="资金池", kind_en="a pool",
                         fallback=f"pool{i + 1}")
        for req in ("total_wan", "units"):
            if req not in p:
                pr.add(path, f"资金池 `{pid}` 缺少 `{req}`", f"pool `{pid}` needs `{req}`")
        if "factors" not in p and "factors" not in data:
            pr.add(path, f"资金池 `{pid}` 没有 factors，顶层也没有",
                   f"pool `{pid}` has no factors and neither has the top level")
        units = p.get("units")
        units = units.get("include") if isinstance(units, Mapping) else units
        for c in units if isinstance(units, list) else []:
            c = str(c)
            if c in owner:
                pr.add(path + ("units",), f"单位 {c} 同时属于资金池 `{owner[c]}` 和 `{pid}`",
                       f"unit {c} is in both pool `{owner[c]}` and pool `{pid}`")
            owner.setdefault(c, pid)
        totals.append((pid, p.get("total_wan")))
        sub = _pool_document(doc, data, p, i)
        try:
            spec = from_document(sub)
        except SpecError as exc:
            problems += [f"[资金池/pool {pid}] {q}" for q in exc.problems]
            continue
        pools.append((pid, str(p.get("name") or pid), spec))
    _check_total(pr, data, totals)
    _check_advance(pr, data, plist)
    if "reserve_wan" in data:
        pr.add(("reserve_wan",), "分池方案请在每个资金池中写 reserve_wan",
               "a pooled spec gives reserve_wan per pool (pools[i].reserve_wan)")
    problems = pr.items + problems
    if problems:
        raise SpecError(problems, header=(f"规则文件 {doc.source} 有 {len(problems)} 个问题 / "
                                          f"The spec {doc.source} has {len(problems)} problem(s)"))
    first = pools[0][2]
    nt = data.get("notes")
    notes = (nt,) if isinstance(nt, str) else tuple(str(x) for x in nt) if isinstance(nt, list) \
        else ()
    stage = data.get("stage")
    return PooledSpec(fund=str(data.get("fund", "")), name=str(data.get("name") or data.get("fund", "")), year=first.year, data_year=first.data_year,
                      pools=tuple(pools), stage=str(stage) if stage in STAGES else None,
                      text_notes=notes, source=doc.source, document=doc)


def _check_total(pr: Problems, data: Mapping[str, Any], totals: list[tuple[str, Any]]) -> None:
    """A top-level ``total_wan`` must equal the sum of the pools' totals."""
    if "total_wan" not in data or not totals:
        return
    top = parse_number(pr, ("total_wan",), data["total_wan"], lo=Fraction(0), hi=MAX_TOTAL_WAN,
               what=TOO_BIG)
    try:
        tot = sum((Fraction(str(v)) for _, v in totals), Fraction(0))
    except (ValueError, TypeError):
        return  # a pool total is not a number: reported with that pool
    if top is not None and top != tot:
        listed = " + ".join(f"{pid}:{v}" for pid, v in totals)
        pr.add(("total_wan",), f"资金总额 {data['total_wan']} 与各资金池合计 {_txt(tot)} 不一致（{listed}）",
               f"total_wan {data['total_wan']} differs from the pools' sum {_txt(tot)} "
               f"({listed}); fix one of them or drop the top-level total_wan")


def _check_advance(pr: Problems, data: Mapping[str, Any], plist: list[Any]) -> None:
    """Advance and settlement apply to every pool or to none (预拨与清算须各池一致).

    ``advance`` at the top level applies to every pool; a pool may set its own share. A pool
    left without one while another pool has one would be settled on a rule nobody wrote, so it
    is an error naming that pool and the two ways to fix it.
    """
    if "advance" in data:
        return
    ids = [str(p.get("id") or f"pool{i + 1}") if isinstance(p, Mapping) else f"pool{i + 1}"
           for i, p in enumerate(plist)]
    has = [isinstance(p, Mapping) and "advance" in p for p in plist]
    if not any(has) or all(has):
        return
    with_adv = "、".join(f"`{pid}`" for pid, h in zip(ids, has, strict=True) if h)
    with_en = ", ".join(f"`{pid}`" for pid, h in zip(ids, has, strict=True) if h)
    one = sum(has) == 1
    for i, (pid, h) in enumerate(zip(ids, has, strict=True)):
        if h:
            continue
        pr.add(("pools", i),
               f"资金池 `{pid}` 没有 advance（预拨比例），而资金池 {with_adv} 有：预拨与清算须对每个资金池都"
               "作出规定。请把 advance 写在顶层（各资金池共用，资金池可另写自己的比例），或在该资金池中写 "
               "advance: {share: ...}；不预拨的资金池写 advance: {share: 0}（全部在清算时拨付）",
               f"pool `{pid}` has no advance while pool{'' if one else 's'} {with_en} "
               f"{'has one' if one else 'have one'}: advance and settlement must be stated for "
               "every pool. Write advance at the top level (shared by every pool; a pool may "
               "still give its own share) or give this pool advance: {share: ...}; a pool paid "
               "only at settlement takes advance: {share: 0}")


def _txt(x: Fraction) -> str:
    return str(int(x)) if x.denominator == 1 else str(float(x))


def _pool_document(doc: LinedDocument, data: Mapping[str, Any], pool: Mapping[str, Any],
                   i: int) -> _PoolDocument:
    """Merge the top level and pool ``i`` into one spec document with the original lines."""
    own = frozenset(k for k in _OVERRIDES if k in pool)
    merged = {k: data[k] for k in _SHARED if k in data and k not in own}
    merged.update({k: pool[k] for k in own})
    merged.setdefault("total_wan", 0)
    if "fund" in data:  # each pool's workbook and method sheet name the pool
        merged["fund"] = f"{data['fund']}（{pool.get('name') or pool.get('id')}）"
    if "groups" in pool and "factors" not in pool:
        merged.pop("factors", None)  # the pool's own groups need its own factors
    prefix = ("pools", i)
    lines: dict[tuple, int] = {}
    raw: dict[tuple, str] = {}
    for src, dst in ((doc.lines, lines), (doc.raw, raw)):
        for p, v in src.items():
            if p[:2] == prefix and len(p) > 2 and p[2] in own:
                dst[p[2:]] = v
            elif p and p[0] in merged and p[0] not in own:
                dst[p] = v
    lines.setdefault((), doc.lines.get(prefix, doc.lines.get((), 1)))
    return _PoolDocument(data=merged, lines=lines, notes=list(doc.notes), source=doc.source,
                         raw=raw, prefix=prefix, own=own)


# ------------------------------------------------------------------------------------------
# result


class PooledAllocation:
    """The allocations of every pool, reported together (小计 per pool, 合计).

    Attributes
    ----------
    spec : PooledSpec
    pools : list of (str, str, Allocation)
        ``(pool id, pool name, allocation)`` in spec order.

    Examples
    --------
    >>> from evalkit import allocation
    >>> pa = allocation.allocate("data_raw/demo/allocation/formula_pools.yaml",
    ...                          "data_raw/demo/allocation/factors.csv")
    >>> type(pa).__name__, [pool_id for pool_id, _, _ in pa.pools]
    ('PooledAllocation', ['county', 'zone'])
    """

    def __init__(self, spec: PooledSpec, pools: list[tuple[str, str, Any]]):
        self.spec = spec
        self.pools = pools

    @property
    def codes(self) -> list[str]:
        """Included unit codes, pool by pool."""
        return [c for _, _, a in self.pools for c in a.codes]

    @property
    def amounts(self) -> dict[str, int | Fraction]:
        """``{unit_code: amount}`` over all pools."""
        return {c: v for _, _, a in self.pools for c, v in a.amounts.items()}

    def amount_series(self) -> pd.Series:
        """Final amounts (万元) of every pool's units, indexed by unit code."""
        return pd.concat([a.amount_series() for _, _, a in self.pools]).rename("amount_wan")

    def continuous_series(self) -> pd.Series:
        """Continuous (pre-rounding) amounts of every pool's units, indexed by unit code."""
        return pd.concat([a.continuous_series() for _, _, a in self.pools]).rename(
            "continuous_wan")

    @property
    def inputs_hash(self) -> str:
        """SHA-256 over the spec and the pools' inputs hashes."""
        h = hashlib.sha256(self.spec.canonical().encode("utf-8"))
        for _, _, a in self.pools:
            h.update(a.inputs_hash.encode())
        return h.hexdigest()

    @property
    def evalkit_version(self) -> str:
        """evalkit version that computed the pools."""
        return self.pools[0][2].evalkit_version

    @property
    def audit(self) -> dict[str, Any]:
        """Notes of every pool (prefixed by the pool id) and the inputs hash."""
        notes = []
        for pid, _, a in self.pools:
            notes += [f"[{pid}] {n}" for n in a.audit["notes"]]
        return {"notes": list(dict.fromkeys(notes)), "inputs_sha256": self.inputs_hash}

    @property
    def table(self) -> pd.DataFrame:
        """Every pool's rows, a 小计 row after each pool and a final 合计 row."""
        parts = []
        money = ["amount_wan", "continuous_wan", "last_year_wan", "change_wan", "base_wan"]
        for pid, pname, a in self.pools:
            t = a.table
            body = t[t["unit_code"] != TOTAL_LABEL].copy()
            body.insert(0, "pool", pid)
            body.insert(1, "pool_name", pname)
            sub = {"pool": pid, "pool_name": pname, "unit_code": SUBTOTAL_LABEL,
                   "name_zh": f"{pname}{SUBTOTAL_LABEL}"}
            for c in money:
                if c in body.columns and body[c].notna().any():
                    sub[c] = round(float(body[c].sum()), 6)
            sub["amount_wan"] = money_cell(sum(a.core.amounts))  # exact, not a float sum
            parts += [body, pd.DataFrame([sub])]
        df = pd.concat(parts, ignore_index=True, sort=False)
        subs = df[df["unit_code"] == SUBTOTAL_LABEL]
        tot = {"pool": "", "pool_name": "", "unit_code": TOTAL_LABEL, "name_zh": TOTAL_LABEL}
        for c in money:
            if c in subs.columns and subs[c].notna().any():
                tot[c] = round(float(subs[c].sum()), 6)
        tot["amount_wan"] = money_cell(sum((Fraction(v) for _, _, a in self.pools
                                             for v in a.core.amounts), Fraction(0)))
        return pd.concat([df, pd.DataFrame([tot])], ignore_index=True, sort=False)

    def check(self) -> None:
        """Re-check every pool's invariants (raises on violation)."""
        for _, _, a in self.pools:
            a.check()

    def summary(self) -> str:
        """A short text summary with each pool's total."""
        parts = "; ".join(f"{pid} {a.core.t_alloc} 万元 over {len(a.codes)} units"
                          for pid, _, a in self.pools)
        return (f"{self.spec.fund} {self.spec.year}: {len(self.pools)} pools ({parts}); "
                f"inputs sha256 {self.inputs_hash[:12]}")

    def method_sheet(self, language: str = "zh") -> str:
        """The combined 测算说明: the pools, then each pool's own method sheet, then 小计/合计."""
        zh = language == "zh"
        s = self.spec
        L = [f"{s.fund}{s.year}年度分配测算说明" if zh else f"{s.fund} {s.year}: method of allocation",
             ""]
        if zh:
            L.append(f"资金分为 {len(self.pools)} 个资金池分别测算，各池有各自的资金规模、参与单位、因素和保底上限，"
                     "互不调剂：")
            for pid, pname, a in self.pools:
                L.append(f"  {pname}（{pid}）：资金 {amount_text(a.spec.total_wan)} 万元，预留 "
                         f"{amount_text(a.spec.reserve_wan)} 万元，分配 {amount_text(a.core.t_alloc)} 万元，"
                         f"{len(a.codes)} 个单位。")
            L.append(f"  合计资金 {amount_text(s.total_wan)} 万元，分配 {amount_text(s.t_alloc)} 万元。")
        else:
            L.append(f"The fund is split into {len(self.pools)} pools, each allocated on its own:")
            for pid, pname, a in self.pools:
                L.append(f"  {pname} ({pid}): total {amount_text(a.spec.total_wan)} 万元, reserve "
                         f"{amount_text(a.spec.reserve_wan)}, allocated {amount_text(a.core.t_alloc)} 万元, "
                         f"{len(a.codes)} units.")
        for j, (pid, pname, a) in enumerate(self.pools, start=1):
            L.append("")
            L.append(f"第{j}部分 {pname}（{pid}）" if zh else f"Part {j}: {pname} ({pid})")
            body = a.method_sheet(language).rstrip("\n").split("\n")[2:]  # drop the title
            L += body
        L.append("")
        L.append("分配结果汇总（万元）" if zh else "Summary (万元)")
        for _, pname, a in self.pools:
            for c in a.codes:
                L.append(f"  {a.name(c)}（{c}）：{amount_text(a.amounts[c])}")
            L.append(f"  {pname}{SUBTOTAL_LABEL}：{amount_text(a.core.t_alloc)}")
        L.append(f"  {TOTAL_LABEL}：{amount_text(s.t_alloc)}")
        return "\n".join(L) + "\n"

    def to_csv(self, path: str | Path) -> Path:
        """Write the combined table (小计 and 合计 rows) as UTF-8 CSV with BOM."""
        p = Path(path)
        p.write_bytes(self.table.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
        return p

    def to_json(self, path: str | Path | None = None) -> str:
        """The pools' JSON documents in one object ``{"pools": [...], "total": ...}``."""
        doc = {"fund": self.spec.fund, "year": self.spec.year,
               "inputs_sha256": self.inputs_hash,
               "total_wan": float(self.spec.total_wan), "t_alloc_wan": float(self.spec.t_alloc),
               "pools": [{"id": pid, "name": pname, **json.loads(a.to_json())}
                         for pid, pname, a in self.pools]}
        text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        return f"<PooledAllocation {self.summary()}>"


__all__ = ["PooledAllocation", "PooledSpec", "pooled_from_document"]
