"""Scenarios side by side: allocate under several specs and compare amounts and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError, SpecError
from . import _units
from ._allocation_spec import AllocationSpec
from .engine import Allocation, allocate
from .factors import as_table
from .metrics import metrics


@dataclass
class Comparison:
    """Scenarios side by side.

    Attributes
    ----------
    amounts : DataFrame
        Unit rows (``unit_code, name_zh``) and one amount column per scenario, plus a ``合计`` row.
    metrics : DataFrame
        Metric rows × scenario columns.
    allocations : dict
        ``{scenario: Allocation}``.
    """

    amounts: pd.DataFrame
    metrics: pd.DataFrame
    allocations: dict[str, Allocation]

    def differences(self, reference: str | None = None) -> pd.DataFrame:
        """Each scenario against a reference: amounts, B−A and % per unit, 小计 and 合计.

        Parameters
        ----------
        reference : str, optional
            Label of scenario A (default the first).

        Returns
        -------
        DataFrame
            Rows: counties, ``县（市、区）小计``, development zones, ``开发区小计``, ``合计``
            (column ``row_kind``: unit / subtotal / total). Columns ``unit_code, name_zh``, the
            reference amount, then for every other scenario B its amount, ``<B>−<A>`` (万元)
            and ``<B>−<A> %`` (percent of A; NaN where A is 0).
        """
        labels = list(self.allocations)
        ref = labels[0] if reference is None else reference
        if ref not in labels:
            raise EvalkitError(f"reference {ref!r} is not a scenario; scenarios: {labels}.")
        body = self.amounts[self.amounts["unit_code"] != "合计"].copy()
        body["group"] = [_units.group_of(c) for c in body["unit_code"]]
        parts = []
        for grp, label in ((_units.COUNTY, "县（市、区）小计"), (_units.ZONE, "开发区小计")):
            g = body[body["group"] == grp].sort_values("unit_code", kind="mergesort")
            if g.empty:
                continue
            parts.append(g.assign(row_kind="unit"))
            sub = {"unit_code": "", "name_zh": label, "row_kind": "subtotal",
                   **{lab: int(g[lab].sum()) for lab in labels}}
            parts.append(pd.DataFrame([sub]))
        tot = {"unit_code": "合计", "name_zh": "合计", "row_kind": "total",
               **{lab: int(body[lab].sum()) for lab in labels}}
        parts.append(pd.DataFrame([tot]))
        df = pd.concat(parts, ignore_index=True)
        out = df[["unit_code", "name_zh", "row_kind", ref]].copy()
        a = df[ref].astype(float)
        for lab in labels:
            if lab == ref:
                continue
            b = df[lab].astype(float)
            out[lab] = df[lab].astype("int64")
            out[f"{lab}−{ref}"] = (b - a).astype("int64")
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{lab}−{ref} %"] = np.where(a != 0, (b - a) / a * 100, np.nan)
        return out


def _spec_label(s: Any, labels: list[str]) -> str:
    stem = str(s.source).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    base = s.name if s.name != s.fund or s.source.startswith("<") else stem
    lab, j = base, 2
    while lab in labels:
        lab, j = f"{base} ({j})", j + 1
    return lab


def compare(specs: Sequence[Any], factors: Any, last_year: Any = None,
            names: Sequence[str] | None = None, *, recipients: Any = None) -> Comparison:
    """Allocate under several specs and compare amounts and metrics.

    Every spec is checked before anything is compared: the error lists the problems of all bad
    specs at once, each under its file name.

    Parameters
    ----------
    specs : sequence of AllocationSpec or paths
    factors : FactorTable, DataFrame or path
    last_year : optional
        As in :func:`~evalkit.allocation.allocate`.
    names : sequence of str, optional
        Scenario labels (default the spec ``name``, made unique).
    recipients : sequence of str, optional
        As in :func:`~evalkit.allocation.allocate`.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from evalkit import allocation
    >>> d = "data_raw/demo/allocation/"
    >>> cmp = allocation.compare([d + "spec_2024.yaml", d + "spec_2025.yaml"], d + "factors.csv",
    ...                          names=["A", "B"])
    >>> diff = cmp.differences()  # A, B, B-A and % per unit, 小计 and 合计
    >>> diff.columns.tolist()[:4]
    ['unit_code', 'name_zh', 'row_kind', 'A']
    """
    if not specs:
        raise EvalkitError("compare needs at least one spec.")
    if names is not None and len(names) != len(specs):
        raise EvalkitError("names must have one label per spec.")
    table = as_table(factors)
    allocs_list: list[Allocation | None] = []
    problems: list[str] = []
    for j, s in enumerate(specs):
        src = s.source if isinstance(s, AllocationSpec) else str(s)
        try:
            result = allocate(s, table, last_year, recipients=recipients)
        except SpecError as exc:
            allocs_list.append(None)
            problems.append(f"方案 {j + 1}（{src}）/ spec {j + 1} ({src}):")
            problems += [f"    {p}" for p in exc.problems]
            continue
        if not isinstance(result, Allocation):  # a spec with separate pools
            allocs_list.append(None)
            problems.append(
                f"方案 {j + 1}（{src}）分设资金池，暂不能参与方案比较：请把各池写成单独的方案后分别比较 / "
                f"spec {j + 1} ({src}) has separate pools, which compare does not support yet: "
                "write each pool as a spec of its own and compare those."
            )
            continue
        allocs_list.append(result)
    if problems:
        n_bad = sum(a is None for a in allocs_list)
        raise SpecError(problems, header=f"{n_bad} 个方案有问题，未比较也未写出任何文件 / {n_bad} spec(s) "
                        "have problems; nothing was compared or written")
    done = [a for a in allocs_list if a is not None]
    labels: list[str] = list(names) if names is not None else []
    if not labels:
        for a in done:
            labels.append(_spec_label(a.spec, labels))
    allocs = dict(zip(labels, done, strict=True))
    codes = sorted({c for a in allocs.values() for c in a.table["unit_code"] if c != "合计"})
    first = next(iter(allocs.values()))
    df = pd.DataFrame({"unit_code": codes, "name_zh": [first.name(c) for c in codes]})
    for lab, a in allocs.items():
        df[lab] = [int(a.amounts.get(c, 0)) for c in codes]
    total = {"unit_code": "合计", "name_zh": "合计", **{lab: int(df[lab].sum()) for lab in allocs}}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    met = pd.DataFrame({lab: metrics(a)["this_year"] for lab, a in allocs.items()})
    return Comparison(amounts=df, metrics=met, allocations=allocs)
