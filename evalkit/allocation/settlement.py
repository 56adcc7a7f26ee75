"""Advance and settlement (预拨与清算).

Early in the year a share of the money is paid on preliminary data; at year end the allocation
is recomputed on the final data and each unit receives (or returns) the difference::

    advance:
      share: 0.7        # 预拨比例: 70 % of each unit's allocation on the preliminary data

* advance_i = the spec's full allocation on the **preliminary** data × share, rounded to the
  spec's unit by largest remainder so the advances add up exactly to share × T_alloc;
* final_i = the spec's full allocation on the **final** data (floors, caps, awards all apply);
* settlement_i = final_i − advance_i (positive: paid at settlement; negative: recovered).

So advance + settlement = final for every unit, and the year's total is T_alloc whatever the
preliminary data said. A spec with separate pools (``pools``) is advanced and settled pool by pool
(:class:`PooledSettlement`), each pool at its own share.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from .._shared.exceptions import SpecError
from ._format import TOTAL_LABEL, amount_text, money_cell, percent_text
from .engine import Allocation, allocate
from .pools import PooledAllocation, PooledSpec
from .rounding import largest_remainder
from .spec import AllocationSpec, load_spec


@dataclass
class Settlement:
    """An advance on preliminary data and its settlement on final data.

    Attributes
    ----------
    preliminary : Allocation
        The full allocation on the preliminary data (the basis of the advance).
    final : Allocation
        The full allocation on the final data.
    advance, settlement : dict
        ``{unit_code: 万元}``; ``settlement`` is negative where money is recovered.

    Examples
    --------
    >>> from evalkit.allocation import settle
    >>> d = "data_raw/demo/allocation/"
    >>> s = settle(d + "formula_advance.yaml", d + "formula_advance_preliminary.csv", d + "factors.csv")
    >>> type(s).__name__, len(s.advance) == len(s.settlement)
    ('Settlement', True)
    """

    preliminary: Allocation
    final: Allocation
    advance: dict[str, int | Fraction]
    settlement: dict[str, int | Fraction]

    @property
    def table(self) -> pd.DataFrame:
        """One row per unit (advance, final, settlement) and a 合计 row."""
        rows = [{"unit_code": c, "name_zh": self.final.name(c),
                 "advance_wan": money_cell(self.advance[c]),
                 "final_wan": money_cell(self.final.amounts[c]),
                 "settlement_wan": money_cell(self.settlement[c])} for c in self.final.codes]
        rows.append({"unit_code": TOTAL_LABEL, "name_zh": TOTAL_LABEL,
                     "advance_wan": money_cell(sum(self.advance.values())),
                     "final_wan": money_cell(sum(self.final.amounts.values())),
                     "settlement_wan": money_cell(sum(self.settlement.values()))})
        return pd.DataFrame(rows)

    def method_sheet(self, language: str = "zh") -> str:
        """The final 测算说明 with a section on the advance and the settlement."""
        sp = self.final.spec
        text = self.final.method_sheet(language).rstrip("\n").split("\n")
        adv_tot = sum(self.advance.values())
        if language == "zh":
            sec = ["", "预拨与清算",
                   f"  年初按初步数据测算全年分配额，预拨其中 {percent_text(sp.advance_share * 100)}，合计 "
                   f"{amount_text(adv_tot)} 万元（按最大余额法取整到 {amount_text(sp.rounding_unit)} 万元）；年终按最终数据"
                   f"重新测算全年分配额，清算额 = 全年分配额 − 预拨额（正数为补拨，负数为收回）。全年合计仍为 "
                   f"{amount_text(sp.t_alloc)} 万元。"]
        else:
            sec = ["", "Advance and settlement",
                   f"  {percent_text(sp.advance_share * 100)} of each unit's allocation on preliminary data "
                   f"was advanced ({amount_text(adv_tot)} 万元); settlement = final − advance; the year's "
                   f"total stays {amount_text(sp.t_alloc)} 万元."]
        sec += self.unit_lines(language)
        return "\n".join(text[:-2] + sec + text[-2:]) + "\n"

    def unit_lines(self, language: str = "zh", indent: str = "  ") -> list[str]:
        """One line per unit: advance, final amount and settlement (signed)."""
        out = []
        for c in self.final.codes:
            st = self.settlement[c]
            if language == "zh":
                out.append(f"{indent}{self.final.name(c)}：预拨 {amount_text(self.advance[c])}，全年 "
                           f"{amount_text(self.final.amounts[c])}，清算 {'+' if st > 0 else ''}{amount_text(st)} 万元。")
            else:
                out.append(f"{indent}{c}: advance {amount_text(self.advance[c])}, final "
                           f"{amount_text(self.final.amounts[c])}, settlement {amount_text(st)}")
        return out

    def check(self) -> None:
        """advance + settlement = final per unit, and Σ final = T_alloc (raises otherwise)."""
        bad = [c for c in self.final.codes
               if self.advance[c] + self.settlement[c] != self.final.amounts[c]]
        if bad or sum(self.final.amounts.values()) != self.final.spec.t_alloc:
            raise SpecError([f"advance + settlement != final for {bad}"],
                            header="Settlement invariants violated (engine bug)")


@dataclass
class PooledSettlement:
    r"""Advance and settlement of a spec with separate pools: one :class:`Settlement` per pool.

    Attributes
    ----------
    spec : PooledSpec
    pools : list of (str, str, Settlement)
        ``(pool id, pool name, settlement)`` in spec order.

    Examples
    --------
    >>> from evalkit.allocation import load_spec, settle
    >>> d = "data_raw/demo/allocation/"
    >>> text = open(d + "formula_pools.yaml", encoding="utf-8").read()
    >>> spec = load_spec(text.replace("pools:", "advance: {share: 0.5}\npools:"))
    >>> s = settle(spec, d + "formula_advance_preliminary.csv", d + "factors.csv")
    >>> type(s).__name__, [pool_id for pool_id, _, _ in s.pools]
    ('PooledSettlement', ['county', 'zone'])
    >>> print(s.table.tail(1)[["advance_wan", "final_wan"]].to_string(index=False))
     advance_wan  final_wan
           21750      43500
    """

    spec: PooledSpec
    pools: list[tuple[str, str, Settlement]]

    @property
    def preliminary(self) -> PooledAllocation:
        """Every pool's full allocation on the preliminary data."""
        return PooledAllocation(self.spec, [(p, n, s.preliminary) for p, n, s in self.pools])

    @property
    def final(self) -> PooledAllocation:
        """Every pool's full allocation on the final data."""
        return PooledAllocation(self.spec, [(p, n, s.final) for p, n, s in self.pools])

    @property
    def advance(self) -> dict[str, int | Fraction]:
        """``{unit_code: 万元}`` advanced, over all pools."""
        return {c: v for _, _, s in self.pools for c, v in s.advance.items()}

    @property
    def settlement(self) -> dict[str, int | Fraction]:
        """``{unit_code: 万元}`` paid (negative: recovered) at settlement, over all pools."""
        return {c: v for _, _, s in self.pools for c, v in s.settlement.items()}

    @property
    def table(self) -> pd.DataFrame:
        """Every pool's rows, a 小计 row after each pool and a final 合计 row."""
        from .pools import SUBTOTAL_LABEL
        money = ("advance_wan", "final_wan", "settlement_wan")
        parts, totals = [], dict.fromkeys(money, Fraction(0))
        for pid, pname, s in self.pools:
            body = s.table[s.table["unit_code"] != TOTAL_LABEL].copy()
            body.insert(0, "pool", pid)
            body.insert(1, "pool_name", pname)
            sums = {"advance_wan": sum(s.advance.values()),
                    "final_wan": sum(s.final.amounts.values()),
                    "settlement_wan": sum(s.settlement.values())}
            sub = {"pool": pid, "pool_name": pname, "unit_code": SUBTOTAL_LABEL,
                   "name_zh": f"{pname}{SUBTOTAL_LABEL}",
                   **{k: money_cell(v) for k, v in sums.items()}}
            totals = {k: totals[k] + Fraction(sums[k]) for k in money}
            parts += [body, pd.DataFrame([sub])]
        tot = {"pool": "", "pool_name": "", "unit_code": TOTAL_LABEL, "name_zh": TOTAL_LABEL,
               **{k: money_cell(v) for k, v in totals.items()}}
        return pd.concat(parts + [pd.DataFrame([tot])], ignore_index=True, sort=False)

    def method_sheet(self, language: str = "zh") -> str:
        """The pooled 测算说明 with a section on each pool's advance and settlement."""
        text = self.final.method_sheet(language).rstrip("\n").split("\n")
        zh = language == "zh"
        if zh:
            sec = ["", "预拨与清算",
                   "  年初按初步数据测算各资金池全年分配额，按各资金池的预拨比例预拨（按最大余额法取整）；年终按"
                   "最终数据重新测算，清算额 = 全年分配额 − 预拨额（正数为补拨，负数为收回）。各资金池全年合计不变。"]
        else:
            sec = ["", "Advance and settlement",
                   "  Each pool advances its share of every unit's allocation on preliminary data "
                   "(largest remainder); settlement = final − advance; every pool's total is "
                   "unchanged."]
        for _, pname, s in self.pools:
            sp = s.final.spec
            adv = sum(s.advance.values())
            if zh:
                sec.append(f"  {pname}：预拨其中 {percent_text(sp.advance_share * 100)}，合计 {amount_text(adv)} 万元"
                           f"（取整到 {amount_text(sp.rounding_unit)} 万元）；全年 {amount_text(sp.t_alloc)} 万元。")
            else:
                sec.append(f"  {pname}: {percent_text(sp.advance_share * 100)} advanced ({amount_text(adv)} 万元); "
                           f"the year's total {amount_text(sp.t_alloc)} 万元.")
            sec += s.unit_lines(language, indent="    ")
        t = self.table.iloc[-1]
        sec.append(f"  合计：预拨 {amount_text(t['advance_wan'])}，全年 {amount_text(t['final_wan'])}，清算 "
                   f"{amount_text(t['settlement_wan'])} 万元。" if zh else
                   f"  Total: advance {amount_text(t['advance_wan'])}, final {amount_text(t['final_wan'])}, "
                   f"settlement {amount_text(t['settlement_wan'])} 万元.")
        return "\n".join(text + sec) + "\n"

    def check(self) -> None:
        """Every pool's invariants (advance + settlement = final, Σ final = the pool's T_alloc)."""
        for _, _, s in self.pools:
            s.check()


def settle(spec: AllocationSpec | PooledSpec | str | Path, preliminary: Any, final: Any,
           last_year: Any = None, *, recipients: Any = None) -> Settlement | PooledSettlement:
    """Advance on preliminary data and settle on final data (预拨与清算).

    Parameters
    ----------
    spec : AllocationSpec, PooledSpec or path
        A spec with ``advance: {share: ...}``. With separate pools (``pools``) every pool is
        advanced and settled on its own, each at its own share (the top-level ``advance`` or
        the pool's).
    preliminary, final : FactorTable, DataFrame or path
        Factor tables with the preliminary (初步) and the final (最终) data.
    last_year, recipients
        As :func:`evalkit.allocation.allocate`.

    Returns
    -------
    Settlement or PooledSettlement
        :class:`PooledSettlement` for a spec with pools.

    Examples
    --------
    >>> from evalkit.allocation import settle
    >>> d = "data_raw/demo/allocation/"
    >>> s = settle(d + "formula_advance.yaml", d + "formula_advance_preliminary.csv", d + "factors.csv")
    >>> round(sum(s.advance.values()) + sum(s.settlement.values()), 6) == round(float(s.final.continuous_series().sum()), 6)
    True
    """
    sp = spec if isinstance(spec, (AllocationSpec, PooledSpec)) else load_spec(spec)
    pooled = isinstance(sp, PooledSpec)
    if not has_advance(sp):
        raise SpecError([f"{getattr(sp, 'source', spec)}: 方案没有 advance: {{share: ...}}（预拨比例）/ the "
                         "spec has no advance: {share: ...} block; add one to advance and settle"],
                        header="不能预拨与清算 / Cannot advance and settle")
    problems: list[str] = []
    done = []
    for label, data in (("初步数据 / preliminary data", preliminary), ("最终数据 / final data", final)):
        try:
            done.append(allocate(sp, data, last_year, recipients=recipients))
        except SpecError as exc:
            problems += [f"[{label}] {p}" for p in exc.problems]
    if problems:
        raise SpecError(problems, header=f"预拨与清算的输入有 {len(problems)} 个问题 / The advance and "
                        f"settlement inputs have {len(problems)} problem(s)")
    pre, fin = done
    if not pooled:
        return _settle_one(sp, pre, fin)
    parts, problems = [], []
    for (pid, pname, pspec), (_, _, p_pre), (_, _, p_fin) in zip(sp.pools, pre.pools, fin.pools,
                                                               strict=True):
        try:
            parts.append((pid, pname, _settle_one(pspec, p_pre, p_fin)))
        except SpecError as exc:
            problems += [f"[资金池/pool {pid}] {p}" for p in exc.problems]
    if problems:
        raise SpecError(problems, header="不能清算 / Cannot settle")
    out = PooledSettlement(spec=sp, pools=parts)
    out.check()
    return out


def has_advance(spec: AllocationSpec | PooledSpec) -> bool:
    """Whether the spec (any of its pools) advances money on preliminary data.

    Examples
    --------
    >>> from evalkit.allocation import load_spec
    >>> from evalkit.allocation.settlement import has_advance
    >>> has_advance(load_spec("data_raw/demo/allocation/formula_advance.yaml"))
    True
    """
    if isinstance(spec, PooledSpec):
        return any(s.advance_share is not None for _, _, s in spec.pools)
    return getattr(spec, "advance_share", None) is not None


def _settle_one(sp: AllocationSpec, pre: Allocation, fin: Allocation) -> Settlement:
    """Advance share × the preliminary allocation (largest remainder), settle against the final."""
    if pre.codes != fin.codes:
        raise SpecError([f"初步数据的单位 {pre.codes} 与最终数据的单位 {fin.codes} 不同 / the preliminary and "
                         "final data cover different units; settle the same units"],
                        header="不能清算 / Cannot settle")
    u = Fraction(sp.rounding_unit)
    target = sp.advance_share * Fraction(sp.t_alloc)
    quotas = [sp.advance_share * Fraction(a) / u for a in pre.core.amounts]
    r = largest_remainder(quotas, int(target / u), pre.codes)
    adv = {c: _exact(k * u) for c, k in zip(pre.codes, r.amounts, strict=True)}
    st = {c: _exact(Fraction(fin.amounts[c]) - Fraction(adv[c])) for c in fin.codes}
    out = Settlement(preliminary=pre, final=fin, advance=adv, settlement=st)
    out.check()
    return out


def _exact(x: Fraction) -> int | Fraction:
    return int(x) if x.denominator == 1 else x


__all__ = ["PooledSettlement", "Settlement", "has_advance", "settle"]
