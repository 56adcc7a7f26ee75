"""The allocation engine (docs/allocation.md §2), in exact rational arithmetic.

Steps: validate the data against the spec (one error listing every problem) → apply the
missing-data rules (logged) → transform each factor to a share vector → composite share →
performance coefficient and renormalisation → base plus factor increment → floors, caps and
hold-harmless by water-filling → rounding to whole 万元 → table and audit trail.

Every number is a :class:`fractions.Fraction` built from the decimal text of the input, so the
result does not depend on the platform, the row order or floating-point noise. Units are always
processed in unit-code order.

Monotonicity (docs/allocation.md §3 invariant 4) holds for ``share``, ``inverse_share``,
``per_capita`` and ``ratio_to_mean`` factors with any performance coefficients, and for
``minmax_shift`` / ``zscore_shift`` / ``zscore`` factors when every coefficient is equal and no floor or cap binds: raising the
minimum of a min-max factor lowers the other units' scores unevenly, and unequal coefficients, or
a unit pushed onto its floor, can then move money away from the raised unit (counterexamples of
both are kept in the tests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .._shared.exceptions import PanelDataError, SpecError
from ..data.reader import read_raw_table
from . import _units
from ._allocation_spec import AllocationSpec
from ._format import TOTAL_LABEL, evalkit_version, exact_fraction, money_cell
from ._prepare import prepare
from .factors import FactorTable, as_table
from .formula import Core, Inputs, compute
from .pools import PooledAllocation, PooledSpec
from .spec import load_spec_collecting


def read_last_year(obj: Any) -> dict[str, Fraction]:
    """Last year's amounts as ``{unit_code: Fraction 万元}``.

    Parameters
    ----------
    obj : Allocation, mapping, Series, DataFrame or path
        A previous :class:`Allocation`; ``{code: amount}``; a Series indexed by code; a frame or a
        CSV/XLSX with ``unit_code`` and ``amount_wan`` (or ``last_year_wan`` / 金额) columns. A
        ``合计`` row is ignored.

    Examples
    --------
    >>> from evalkit.allocation import read_last_year
    >>> last = read_last_year({"370702": 1200, "370703": 800.5})
    >>> {code: str(v) for code, v in last.items()}
    {'370702': '1200', '370703': '1601/2'}
    """
    if obj is None:
        return {}
    if isinstance(obj, Allocation):
        return {c: Fraction(a) for c, a in obj.amounts.items()}
    if isinstance(obj, Mapping):
        return {str(k): exact_fraction(v) for k, v in obj.items()}
    if isinstance(obj, pd.Series):
        return {str(k): exact_fraction(v) for k, v in obj.items() if str(k) != TOTAL_LABEL and pd.notna(v)}
    if isinstance(obj, (str, Path)):
        p = Path(obj)
        if not p.is_file():
            raise SpecError([f"找不到上年分配文件 / last-year file not found: {p}"],
                            header="上年分配数据无法读取 / Last year's amounts cannot be read")
        obj = read_raw_table(p, is_known={"unit_code", "单位代码", "amount_wan", "分配金额(万元)",
                                          "分配金额", "金额", "amount", "last_year_wan"})
    if isinstance(obj, pd.DataFrame):
        df = obj.rename(columns={"单位代码": "unit_code"})
        if "amount_wan" not in df.columns:
            for alt in ("分配金额(万元)", "分配金额", "金额", "amount", "last_year_wan"):
                if alt in df.columns:
                    df = df.rename(columns={alt: "amount_wan"})
                    break
        if not {"unit_code", "amount_wan"} <= set(df.columns):
            raise SpecError(["上年分配表需要 unit_code 和 amount_wan 两列 / last year's table needs the "
                             f"columns unit_code and amount_wan; found {list(df.columns)}"],
                            header="上年分配数据无法读取 / Last year's amounts cannot be read")
        out = {}
        bad = []
        for c, a in zip(df["unit_code"], df["amount_wan"], strict=True):
            c = str(c).strip()
            if c.endswith(".0") and c[:-2].isdigit():
                c = c[:-2]
            if c in (TOTAL_LABEL, "total", "nan") or pd.isna(a):
                continue
            try:
                out[c] = exact_fraction(a)
            except (TypeError, ValueError):
                bad.append(f"{c}={a!r}")
        if bad:
            raise SpecError([f"上年分配金额不是数字 / last year's amounts are not numbers: "
                             f"{', '.join(bad[:10])}"],
                            header="上年分配数据无法读取 / Last year's amounts cannot be read")
        return out
    raise SpecError([f"无法识别的上年分配数据类型 / unsupported last_year type {type(obj).__name__}"])


def allocate(spec: AllocationSpec | str | Path, factors: FactorTable | pd.DataFrame | str | Path,
             last_year: Any = None, *, recipients: Any = None) -> Allocation:
    """Allocate a fund by the factor method (因素法).

    Parameters
    ----------
    spec : AllocationSpec or path
        The formula spec (see :func:`~evalkit.allocation.load_spec`).
    factors : FactorTable, DataFrame or path
        The factor table (see :func:`~evalkit.allocation.read_factors`).
    last_year : Allocation, mapping, Series, DataFrame or path, optional
        Last year's amounts (万元) for the base part, hold-harmless and the change columns.
    recipients : sequence of str, optional
        Who may receive money. Default: the unit master's units active in the spec year
        (:func:`evalkit.allocation.recipients`). Give a list to allocate among other units
        (another city, a research setting). Aggregate rows (合计, 小计, codes ending 00) are
        refused either way.

    Returns
    -------
    Allocation

    Raises
    ------
    SpecError
        One error listing every problem of the spec, the data and the constraints.

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> print(a.table.tail(1)[["unit_code", "amount_wan"]].to_string(index=False))
    unit_code  amount_wan
           合计       43500
    """
    spec_obj, problems = load_spec_collecting(spec)
    loaded: list[Any] = []
    for fn, arg in ((as_table, factors), (read_last_year, last_year)):
        try:
            loaded.append(fn(arg))
        except (SpecError, PanelDataError) as exc:  # collect every file's problems first
            problems += exc.problems
            loaded.append(None)
    table, last = loaded
    if problems:
        # check the data against a usable (provisional) spec too, so all problems come at once
        if isinstance(spec_obj, AllocationSpec) and table is not None and last is not None:
            try:
                prepare(spec_obj, table, last, recipients)
            except SpecError as exc:
                problems += exc.problems
        raise SpecError(problems, header=f"分配输入有 {len(problems)} 个问题，未计算也未写出任何文件 / "
                        f"The allocation inputs have {len(problems)} problem(s); nothing was "
                        "computed or written")
    spec = spec_obj
    if not isinstance(spec, AllocationSpec):  # a spec with pools: each pool on its own
        return allocate_pools(spec, table, last, recipients)
    inp = prepare(spec, table, last, None if recipients is None else list(recipients))
    core = compute(spec, inp)
    return Allocation(spec=spec, factors=table, inputs=inp, core=core, last_year_input=last)


def allocate_pools(spec: PooledSpec, table: Any, last: Any, recipients: Any) -> PooledAllocation:
    """Allocate every pool with the ordinary engine; every pool's problems in one error."""
    out, problems = [], []
    for pid, pname, sp in spec.pools:
        try:
            out.append((pid, pname, allocate(sp, table, last, recipients=recipients)))
        except SpecError as exc:
            problems += [f"[资金池/pool {pid}] {p}" for p in exc.problems]
    if problems:
        raise SpecError(problems, header=f"分配输入有 {len(problems)} 个问题，未计算也未写出任何文件 / "
                        f"The allocation inputs have {len(problems)} problem(s); nothing was "
                        "computed or written")
    return PooledAllocation(spec, out)


# ------------------------------------------------------------------------------------------
# result


def _f(x: Fraction | None) -> float:
    return float("nan") if x is None else float(x)


class Allocation:
    """An allocation with its audit trail.

    Attributes
    ----------
    spec : AllocationSpec
    factors : FactorTable
    inputs : Inputs
    core : Core
        Exact intermediate vectors.
    amounts : dict
        ``{unit_code: int 万元}`` (included units; excluded units get 0 in the table).
    table : DataFrame
        The allocation table (docs/allocation.md §6.1) with a final ``合计`` row.
    audit : dict
        Every intermediate vector, the log and the provenance (inputs hash, evalkit version).
    inputs_hash : str
        SHA-256 of the canonical spec, factor table and last-year amounts.

    Examples
    --------
    >>> from evalkit import allocation
    >>> a = allocation.allocate("data_raw/demo/allocation/spec.yaml",
    ...                         "data_raw/demo/allocation/factors.csv")
    >>> a.check()  # re-check the invariants of docs/allocation.md §3
    >>> s = a.continuous_series()
    >>> len(s), round(float(s.sum()))
    (16, 43500)
    """

    def __init__(self, spec: AllocationSpec, factors: FactorTable, inputs: Inputs, core: Core,
                 last_year_input: dict[str, Fraction]):
        self.spec = spec
        self.factors = factors
        self.inputs = inputs
        self.core = core
        self.last_year_input = last_year_input
        self.amounts = dict(zip(inputs.codes, core.amounts, strict=True))
        self.evalkit_version = evalkit_version()

    @cached_property
    def inputs_hash(self) -> str:
        """SHA-256 of the canonical spec, factor table and last-year amounts."""
        h = hashlib.sha256()
        h.update(self.spec.canonical().encode("utf-8"))
        h.update(b"\n--factors--\n")
        h.update(self.factors.canonical_csv().encode("utf-8"))
        h.update(b"\n--last_year--\n")
        for c in sorted(self.last_year_input):
            h.update(f"{c},{self.last_year_input[c]}\n".encode())
        return h.hexdigest()

    @cached_property
    def table(self) -> pd.DataFrame:
        """The allocation table (docs/allocation.md §6.1) with a final ``合计`` row."""
        return self._table()

    @cached_property
    def audit(self) -> dict[str, Any]:
        """Every intermediate vector, the log and the provenance."""
        return self._audit()

    # -- names ---------------------------------------------------------------------------
    def name(self, code: str) -> str:
        """Chinese name of a unit (spec names, then factor table, then the unit master)."""
        return self.spec.unit_names.get(code) or self.factors.names.get(code) or \
            _units.name_of(code)

    @property
    def codes(self) -> list[str]:
        """Included unit codes (code order)."""
        return list(self.inputs.codes)

    def amount_series(self) -> pd.Series:
        """Final amounts (万元; int, or float with a rounding unit below 1) by unit code."""
        if isinstance(self.spec.rounding_unit, int):
            return pd.Series(self.amounts, name="amount_wan", dtype="int64")
        return pd.Series({c: float(v) for c, v in self.amounts.items()}, name="amount_wan",
                         dtype="float64")

    def continuous_series(self) -> pd.Series:
        """Continuous (pre-rounding) amounts as floats, indexed by unit code."""
        return pd.Series({c: float(v) for c, v in zip(self.codes, self.core.continuous,
                                                      strict=True)}, name="continuous_wan")

    # -- table ---------------------------------------------------------------------------
    def _table(self) -> pd.DataFrame:
        inp, core, spec = self.inputs, self.core, self.spec
        rows = []
        for i, c in enumerate(inp.codes):
            ly = inp.last_year[i] if inp.last_year[i] is not None else self.last_year_input.get(c)
            amt = core.amounts[i]
            row: dict[str, Any] = {
                "unit_code": c, "name_zh": self.name(c), "group": _units.group_of(c),
                "amount_wan": money_cell(amt),
                "last_year_wan": None if ly is None else _f(ly),
                "change_wan": None if ly is None else _f(amt - ly),
                "change_pct": None if ly is None or ly == 0 else round(
                    float((amt - ly) / ly * 100), 2),
            }
            for f in spec.factors:
                v = inp.raw[f.id][i]
                row[f"{f.id}_value"] = _f(inp.values[f.id][i]) if v is None else _f(v)
                row[f"{f.id}_status"] = inp.status[f.id][i]
                row[f"{f.id}_share"] = _f(core.z[f.id][i])
                row[f"{f.id}_contrib"] = _f(core.contrib[f.id][i])
            row.update({
                "composite": _f(core.composite[i]), "grade": inp.grade[i] or "",
                "coefficient": _f(inp.coefficient[i]), "share": _f(core.s[i]),
                "base_wan": _f(core.base[i]), "floor_wan": _f(core.lo[i]),
                "cap_wan": _f(core.hi[i]), "bound": core.bound[i],
                "continuous_wan": _f(core.continuous[i]),
                "rounding_wan": money_cell(core.plus[i]),
            })
            for aid, vals in core.awards.items():  # 奖补 (deductions negative)
                row[f"{aid}_wan"] = _f(vals[i])
            rows.append(row)
        for c, why in sorted(self.inputs.excluded.items()):
            ly = self.last_year_input.get(c)
            rows.append({"unit_code": c, "name_zh": self.name(c), "group": _units.group_of(c),
                         "amount_wan": 0, "last_year_wan": None if ly is None else _f(ly),
                         "change_wan": None if ly is None else _f(-ly),
                         "change_pct": None if not ly else -100.0, "bound": "excluded",
                         "note": why})
        df = pd.DataFrame(rows)
        lys = [r.get("last_year_wan") for r in rows]
        ly_tot = None if any(v is None for v in lys) else sum(Fraction(repr(v)) for v in lys)
        total = {"unit_code": TOTAL_LABEL, "name_zh": TOTAL_LABEL, "group": "",
                 "amount_wan": money_cell(sum(core.amounts)),
                 "last_year_wan": None if ly_tot is None else float(ly_tot),
                 "change_wan": None if ly_tot is None else float(sum(core.amounts) - ly_tot),
                 "change_pct": None if not ly_tot else round(
                     float((sum(core.amounts) - ly_tot) / ly_tot * 100), 2),
                 "share": 1.0, "continuous_wan": float(sum(core.continuous, Fraction(0))),
                 "base_wan": float(sum(core.base, Fraction(0)))}
        df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
        df["amount_wan"] = df["amount_wan"].astype(
            "int64" if isinstance(spec.rounding_unit, int) else "float64")
        for col in ("last_year_wan", "change_wan", "change_pct"):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        if "note" not in df.columns:
            df["note"] = ""
        df["note"] = df["note"].fillna("")
        return df

    def summary_table(self, language: str = "zh") -> pd.DataFrame:
        """The compact publication table: code, name, amount, last year, change, change %."""
        cols = ["unit_code", "name_zh", "amount_wan", "last_year_wan", "change_wan", "change_pct"]
        df = self.table[cols].copy()
        if language == "zh":
            df.columns = ["单位代码", "单位名称", "分配金额(万元)", "上年金额(万元)", "增减(万元)", "增减(%)"]
        return df

    # -- audit ---------------------------------------------------------------------------
    def _audit(self) -> dict[str, Any]:
        inp, core = self.inputs, self.core
        idx = pd.Index(inp.codes, name="unit_code")
        vec = pd.DataFrame({
            "composite": [_f(v) for v in core.composite],
            "coefficient": [_f(v) for v in inp.coefficient],
            "adjusted": [_f(v) for v in core.adjusted],
            "share": [_f(v) for v in core.s],
            "last_year": [_f(v) for v in inp.last_year],
            "base": [_f(v) for v in core.base],
            "floor": [_f(v) for v in core.lo],
            "cap": [_f(v) for v in core.hi],
            "continuous": [_f(v) for v in core.continuous],
            "bound": core.bound,
            "quota": [_f(v) for v in core.quota],
            "rounded_down": core.floor_units,
            "remainder": [_f(v) for v in core.remainder],
            "remainder_rank": core.order,
            "rounding_added": core.plus,
            "amount": core.amounts,
        }, index=idx)
        return {
            "raw_values": pd.DataFrame({k: [_f(v) for v in vals] for k, vals in inp.raw.items()},
                                       index=idx),
            "values": pd.DataFrame({k: [_f(v) for v in vals] for k, vals in inp.values.items()},
                                   index=idx),
            "status": pd.DataFrame(inp.status, index=idx),
            "shares": pd.DataFrame({k: [_f(v) for v in vals] for k, vals in core.z.items()},
                                   index=idx),
            "contributions": pd.DataFrame({k: [_f(v) for v in vals]
                                           for k, vals in core.contrib.items()}, index=idx),
            "vectors": vec,
            "lambda": _f(core.lam),
            "t_alloc": core.t_alloc,
            "reserve_wan": self.spec.reserve_wan,
            "total_wan": self.spec.total_wan,
            "log": pd.DataFrame(inp.log, columns=["kind", "unit_code", "factor_id", "detail"]),
            "excluded": dict(inp.excluded),
            "notes": list(self.spec.notes) + list(self.factors.notes) + [
                f"单位主表中的 {c}（{self.name(c)}）在因素表中没有 {self.spec.data_year} 年数据，未参与分配 / "
                f"{c} is a recipient but has no {self.spec.data_year} rows in the factor table: "
                "not in this run" for c in self.inputs.absent],
            "inputs_sha256": self.inputs_hash,
            "spec_sha256": self.spec.sha256(),
            "factors_sha256": self.factors.sha256(),
            "evalkit_version": self.evalkit_version,
        }

    @property
    def bound_units(self) -> dict[str, list[str]]:
        """Units bound at a floor or at a cap: ``{"floor": [...], "cap": [...]}``."""
        out: dict[str, list[str]] = {"floor": [], "cap": []}
        for c, b in zip(self.codes, self.core.bound, strict=True):
            if b:
                out[b].append(c)
        return out

    def check(self) -> None:
        """Re-check the invariants of docs/allocation.md §3 on this result (raises on violation)."""
        core = self.core
        problems = []
        if sum(core.amounts) != core.t_alloc:
            problems.append(f"sum {sum(core.amounts)} != T_alloc {core.t_alloc}")
        for c, a, lo, hi in zip(self.codes, core.amounts, core.lo, core.hi, strict=True):
            if a < 0 or a < lo or (hi is not None and a > hi):
                problems.append(f"{c}: {a} outside [{lo}, {hi}]")
        if problems:  # pragma: no cover - would be an engine bug
            raise SpecError(problems, header="Allocation invariants violated (engine bug)")

    # -- outputs (implemented in export.py / charts.py) -----------------------------------
    def method_sheet(self, language: str = "zh") -> str:
        """The method sheet (测算说明) text, ready to publish.

        Parameters
        ----------
        language : {"zh", "en"}
        """
        from .export import method_sheet
        return method_sheet(self, language=language)

    def to_excel(self, path: str | Path, *, sensitivity: bool = True, **options: Any) -> Path:
        """Write the 测算表 workbook; options as :func:`evalkit.allocation.export.to_excel`
        (``n_draws``, ``stage``, ``date``, ``public``)."""
        from .export import to_excel
        return to_excel(self, path, sensitivity=sensitivity, **options)

    def to_csv(self, path: str | Path) -> Path:
        """Write the allocation table as UTF-8 CSV (with BOM for Excel)."""
        from .export import to_csv
        return to_csv(self, path)

    def to_json(self, path: str | Path | None = None) -> str:
        """Return (and optionally write) the allocation and audit trail as JSON."""
        from .export import to_json
        return to_json(self, path)

    def plot_waterfall(self, unit: str, *, change: Any = None, language: str = "zh", ax=None,
                       heading: str | None = None):
        """Waterfall chart for one unit (see :func:`evalkit.allocation.charts.plot_waterfall`)."""
        from .charts import plot_waterfall
        return plot_waterfall(self, unit, change=change, language=language, ax=ax,
                              heading=heading)

    def plot_attribution(self, *, shapley_result: Any = None, language: str = "zh", ax=None,
                         heading: str | None = None):
        """Factor-attribution bar chart (Shapley) for every unit."""
        from .charts import plot_attribution
        return plot_attribution(self, shapley_result=shapley_result, language=language, ax=ax,
                                heading=heading)

    def map(self, *, value: str = "amount_wan", language: str = "zh"):
        """Map of amounts (zones in a side table) via ``evalkit.report.unit_map``."""
        from .charts import plot_map
        return plot_map(self, value=value, language=language)

    def summary(self) -> str:
        """A short text summary."""
        b = self.bound_units
        return (f"{self.spec.fund} {self.spec.year}: T_alloc={self.core.t_alloc} 万元 over "
                f"{len(self.codes)} units; floor-bound {b['floor']}, cap-bound {b['cap']}; "
                f"inputs sha256 {self.inputs_hash[:12]}")

    def __repr__(self) -> str:
        return f"<Allocation {self.summary()}>"

    def _repr_html_(self) -> str:
        return self.summary_table().to_html(index=False)
