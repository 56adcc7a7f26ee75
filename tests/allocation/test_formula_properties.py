"""Invariants of allocation.md §3, restated for the richer formulas (issue 15), over random specs.

Random specs use first-level groups, the ``ratio_to_mean`` and ``zscore`` transforms, per-point
awards and deductions, separate pools and rounding units. Checked for every pool: every amount is
a multiple of the rounding unit, amounts add up exactly to the pool's total less its reserve,
floors and caps hold, awards and deductions stay within their own caps, and a grouped spec
allocates exactly as the flat spec with its effective weights.

Tolerances: none (exact integers and ``Fraction``). Examples per test: ``EVALKIT_ALLOC_EXAMPLES``
(default 40), kept modest so the file runs in seconds.
"""

from __future__ import annotations

import os
from fractions import Fraction

import pandas as pd
from conftest import make_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.allocation import allocate, read_factors, spec_from_dict

N = int(os.environ.get("EVALKIT_ALLOC_EXAMPLES", "40"))
FAST = settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POOL = ["370702", "370703", "370704", "370705", "370724", "370725", "370781", "370782",
        "370783", "370772", "WF-Z-GXQ", "WF-Z-XSQ"]
TRANSFORMS = ("share", "inverse_share", "minmax_shift", "zscore_shift", "zscore", "ratio_to_mean")


def _split(draw, k: int) -> list[int]:
    """k non-negative integer weights summing to 100."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=k - 1, max_size=k - 1)))
    return [b - a for a, b in zip([0] + cuts, cuts + [100], strict=True)]


def _dec(x: Fraction) -> int | str:
    """An amount as an int, or its exact two-decimal text."""
    return int(x) if x.denominator == 1 else f"{float(x):.2f}"


def _factor(draw, j: int, n: int, values: dict) -> dict:
    t = draw(st.sampled_from(TRANSFORMS))
    f = {"id": f"f{j}", "name": f"f{j}", "transform": t, "direction": "+"}
    if t in ("share", "ratio_to_mean"):
        v = draw(st.lists(st.integers(1, 10**5), min_size=n, max_size=n))
        if t == "ratio_to_mean" and draw(st.booleans()):
            f["bounds"] = [0.5, 1.5]
    elif t == "inverse_share":
        v = draw(st.lists(st.integers(1, 10**5), min_size=n, max_size=n))
        f["direction"] = "-"
    else:
        v = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
        f["direction"] = draw(st.sampled_from("+-"))
    values[f["id"]] = v
    return f


@st.composite
def pool_block(draw, codes: list[str], values: dict, offset: int):
    """One pool's data: total, reserve, factors (maybe grouped), awards, floor."""
    n = len(codes)
    k = draw(st.integers(1, 4))
    factors = [_factor(draw, offset + j, n, values) for j in range(k)]
    if k >= 2 and draw(st.booleans()):  # two first-level groups
        cut = draw(st.integers(1, k - 1))
        gw = _split(draw, 2)
        groups = [{"id": "g1", "weight": gw[0]}, {"id": "g2", "weight": gw[1]}]
        for members, gid in ((factors[:cut], "g1"), (factors[cut:], "g2")):
            for f, w in zip(members, _split(draw, len(members)), strict=True):
                f.update(group=gid, weight=w)
    else:
        groups = None
        for f, w in zip(factors, _split(draw, k), strict=True):
            f["weight"] = w
    unit = draw(st.sampled_from([1, 1, 5, "0.01"]))  # 0.01 万元: non-integer totals too
    u = Fraction(unit)
    k_total = draw(st.integers(n, 10_000))
    total = u * k_total
    reserve = u * draw(st.integers(0, k_total // 10))
    k_alloc = int((total - reserve) / u)  # T_alloc in rounding units
    block = {"total_wan": _dec(total), "reserve_wan": _dec(reserve), "factors": factors,
             "rounding": {"unit_wan": unit}}
    if groups:
        block["groups"] = groups
    floor = u * draw(st.integers(0, k_alloc // (2 * n)))
    if floor:
        block["constraints"] = {"floor_wan": _dec(floor)}
    if draw(st.booleans()):
        values[f"a{offset}"] = draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n))
        cap = _dec(u * (k_alloc // (4 * n)))  # awards add up to at most T_alloc / 2
        block["awards"] = [
            {"id": f"up{offset}", "factor": f"a{offset}", "kind": "award",
             "threshold": draw(st.integers(-50, 50)), "per_point_wan": draw(st.integers(0, 50)),
             "cap_wan": cap},
            {"id": f"down{offset}", "factor": f"a{offset}", "kind": "deduction",
             "threshold": draw(st.integers(-50, 50)), "per_point_wan": draw(st.integers(0, 50)),
             "cap_wan": cap}]
    return block


@st.composite
def cases(draw):
    """A random spec (maybe pooled) with values for every unit, feasible by construction."""
    n = draw(st.integers(2, 8))
    codes = draw(st.permutations(POOL))[:n]
    values: dict[str, list] = {}
    spec: dict = {"fund": "prop", "year": 2025}
    if n >= 4 and draw(st.booleans()):
        cut = draw(st.integers(2, n - 2))
        pools = []
        for i, part in enumerate((codes[:cut], codes[cut:])):
            b = draw(pool_block(list(part), values, offset=10 * i))
            pools.append({"id": f"p{i}", "units": list(part), **b})
        spec["pools"] = pools
    else:
        spec.update(draw(pool_block(list(codes), values, offset=0)))
    return spec, values, list(codes)


def _table(values: dict, codes: list[str]):
    """Long table; factors of a pool are blank (dropped) for the other pool's units."""
    full = {fid: (v + [None] * (len(codes) - len(v))) if len(v) < len(codes) else v
            for fid, v in values.items()}
    t = make_table(full, codes)
    return read_factors(pd.DataFrame(t[t["value"].notna()]))


def _pools(spec: dict, codes: list[str]):
    if "pools" in spec:
        return [(p, p["units"]) for p in spec["pools"]]
    return [(spec, codes)]


def _align(spec: dict, values: dict, codes: list[str]) -> dict:
    """Place each pool's values on its own units (values were drawn per pool, in pool order)."""
    out: dict[str, list] = {}
    for block, units in _pools(spec, codes):
        fids = [f["id"] for f in block["factors"]] + [a["factor"] for a in block.get("awards", [])]
        for fid in dict.fromkeys(fids):
            col = out.setdefault(fid, [None] * len(codes))
            for c, v in zip(units, values[fid], strict=True):
                col[codes.index(c)] = v
    return out


@FAST
@given(cases())
def test_invariants_hold_per_pool(case):
    spec, values, codes = case
    res = allocate(spec_from_dict(spec), _table(_align(spec, values, codes), codes))
    parts = res.pools if "pools" in spec else [("", "", res)]
    for (block, units), (_, _, a) in zip(_pools(spec, codes), parts, strict=True):
        u = Fraction(block["rounding"]["unit_wan"])
        assert sorted(a.codes) == sorted(units)
        # amounts are multiples of the unit and add up exactly to the pool's total less reserve
        assert all(x % u == 0 and x >= 0 for x in a.core.amounts)
        assert sum(a.core.amounts) == Fraction(block["total_wan"]) - Fraction(block["reserve_wan"])
        # floors and caps per pool
        for x, lo, hi in zip(a.core.amounts, a.core.lo, a.core.hi, strict=True):
            assert x >= lo and (hi is None or x <= hi)
        floor = Fraction(block.get("constraints", {}).get("floor_wan", 0))
        assert all(x >= floor for x in a.core.amounts)
        # awards and deductions respect their own caps
        for aw in block.get("awards", []):
            got = a.core.awards[aw["id"]]
            if aw["kind"] == "award":
                assert all(0 <= v <= Fraction(aw["cap_wan"]) for v in got)
            else:
                assert all(-Fraction(aw["cap_wan"]) <= v <= 0 for v in got)
        # continuity: within one rounding unit of the continuous amount
        for x, c in zip(a.core.amounts, a.core.continuous, strict=True):
            assert abs(x - c) < u
    if "pools" in spec:
        t = res.table
        assert Fraction(str(t.iloc[-1]["amount_wan"])) == sum(
            Fraction(p["total_wan"]) - Fraction(p["reserve_wan"]) for p in spec["pools"])


@FAST
@given(cases())
def test_grouped_spec_equals_flat_with_effective_weights(case):
    spec, values, codes = case
    sp = spec_from_dict(spec)
    if "pools" in spec or not sp.groups:
        return
    table = _table(_align(spec, values, codes), codes)
    flat = spec_from_dict(sp.flat_data())
    assert [f.weight for f in flat.factors] == [f.weight for f in sp.factors]
    assert sum((f.weight for f in sp.factors), Fraction(0)) == 100
    assert allocate(sp, table).core.amounts == allocate(flat, table).core.amounts


@FAST
@given(cases(), st.integers(1, 9), st.data())
def test_advance_plus_settlement_equals_final(case, tenths, data):
    from evalkit.allocation import settle

    spec, values, codes = case
    if "pools" in spec:
        return
    u = Fraction(spec["rounding"]["unit_wan"])
    k_alloc = (Fraction(spec["total_wan"]) - Fraction(spec["reserve_wan"])) / u
    share = Fraction(tenths, 10)
    if (share * k_alloc).denominator != 1:
        return  # the spec would refuse this share (advance not a whole number of units)
    spec = {**spec, "advance": {"share": f"0.{tenths}"}}
    final = _align(spec, values, codes)
    prelim = {fid: list(v) for fid, v in final.items()}
    j = data.draw(st.integers(0, len(codes) - 1))
    for fid, col in prelim.items():  # preliminary data differ for one unit
        if col[j] is not None and fid.startswith("f"):
            col[j] = col[j] + data.draw(st.integers(0, 5))
    s = settle(spec_from_dict(spec), _table(prelim, codes), _table(final, codes))
    t_alloc = Fraction(spec["total_wan"]) - Fraction(spec["reserve_wan"])
    assert sum(s.advance.values()) == share * t_alloc
    assert sum(s.final.amounts.values()) == t_alloc
    for c in codes:
        assert s.advance[c] + s.settlement[c] == s.final.amounts[c]
        assert (Fraction(s.advance[c]) / u).denominator == 1
