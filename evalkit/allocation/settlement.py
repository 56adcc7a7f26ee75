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
preliminary data said.
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
            for c in self.final.codes:
                st = self.settlement[c]
                sec.append(f"  {self.final.name(c)}：预拨 {amount_text(self.advance[c])}，全年 "
                           f"{amount_text(self.final.amounts[c])}，清算 {'+' if st > 0 else ''}{amount_text(st)} 万元。")
        else:
            sec = ["", "Advance and settlement",
                   f"  {percent_text(sp.advance_share * 100)} of each unit's allocation on preliminary data "
                   f"was advanced ({amount_text(adv_tot)} 万元); settlement = final − advance; the year's "
                   f"total stays {amount_text(sp.t_alloc)} 万元."]
            for c in self.final.codes:
                sec.append(f"  {c}: advance {amount_text(self.advance[c])}, final "
                           f"{amount_text(self.final.amounts[c])}, settlement {amount_text(self.settlement[c])}")
        return "\n".join(text[:-2] + sec + text[-2:]) + "\n"

    def check(self) -> None:
        """advance + settlement = final per unit, and Σ final = T_alloc (raises otherwise)."""
        bad = [c for c in self.final.codes
               if self.advance[c] + self.settlement[c] != self.final.amounts[c]]
        if bad or sum(self.final.amounts.values()) != self.final.spec.t_alloc:
            raise SpecError([f"advance + settlement != final for {bad}"],
                            header="Settlement invariants violated (engine bug)")


def settle(spec: AllocationSpec | str | Path, preliminary: Any, final: Any, last_year: Any = None,
           *, recipients: Any = None) -> Settlement:
    """Advance on preliminary data and settle on final data (预拨与清算).

    Parameters
    ----------
    spec : AllocationSpec or path
        A spec with ``advance: {share: ...}``.
    preliminary, final : FactorTable, DataFrame or path
        Factor tables with the preliminary (初步) and the final (最终) data.
    last_year, recipients
        As :func:`evalkit.allocation.allocate`.

    Returns
    -------
    Settlement

    Examples
    --------
    >>> from evalkit.allocation import settle
    >>> d = "data_raw/demo/allocation/"
    >>> s = settle(d + "formula_advance.yaml", d + "formula_advance_preliminary.csv", d + "factors.csv")
    >>> round(sum(s.advance.values()) + sum(s.settlement.values()), 6) == round(float(s.final.continuous_series().sum()), 6)
    True
    """
    sp = spec if isinstance(spec, AllocationSpec) else load_spec(spec)
    if not isinstance(sp, AllocationSpec) or sp.advance_share is None:
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


__all__ = ["Settlement", "settle"]
